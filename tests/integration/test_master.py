"""test_master: the real loft-master driving loft-testsvc in place of every
daemon -- start and status, listeners on IPv4 and IPv6, stop without
leftovers, crash restarts with back-off, SIGHUP reloads (good and broken
configs), the pid file lock, start-up errors, privileges of the children in
root and unprivileged mode."""

import os
import pwd
import re
import signal
import socket
import time
import unittest

import lofttest
from lofttest import Suite

ALL = lofttest.ALL_PROTOCOLS


def refused(port, host="127.0.0.1"):
    """True when nothing listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def line_of(text, needle):
    """1-based line number of the first line of text containing needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in config" % needle)


class MasterTest(unittest.TestCase):
    def suite(self, protocols=("imap",), **kw):
        s = Suite(protocols=list(protocols), **kw)
        self.addCleanup(s.cleanup)
        s.use_testsvc()
        return s

    def assertGreets(self, s, proto, service, gen=1, v6=False):
        sock = s.connect(proto, v6=v6)
        try:
            self.assertRegex(sock.greeting,
                             r"^\* OK loft-testsvc service=%s proto=%s pid=\d+ "
                             r"gen=%d\r\n$" % (service, proto, gen))
            self.assertEqual(s.send_line(sock, "ping %s" % proto),
                             "echo ping %s\r\n" % proto)
        finally:
            sock.close()

    def assertAllGone(self, s):
        deadline = time.time() + 10
        while s.leftover_pids() and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(s.leftover_pids(), [])

    # -- start, status, stop ----------------------------------------------

    def test_start_status_and_stop(self):
        s = self.suite(ALL)
        s.start()
        st = s.status()
        self.assertEqual(st["master"]["generation"], 1)
        self.assertEqual(st["master"]["config"], s.conf)
        self.assertEqual(st["master"]["mode"],
                         "root" if lofttest.is_root() else "unprivileged")
        self.assertEqual(st["master"]["pid"], s.read_pid())
        names = sorted(c["name"] for c in st["services"])
        self.assertEqual(names, sorted(lofttest.SERVICES))
        for c in st["services"]:
            self.assertEqual(c["state"], "running")
            self.assertTrue(lofttest.pid_alive(c["pid"]), c)
            self.assertEqual(c["restarts"], 0)
        imap = s.service("imap-login")
        self.assertIn("imap=127.0.0.1:%d" % s.port("imap"), imap["listeners"])
        auth = s.service("auth")
        self.assertIn("auth-login=unix:%s/auth-login" % s.base_dir,
                      auth["listeners"])
        owner = {"imap": "imap-login", "imaps": "imap-login",
                 "pop3": "pop3-login", "pop3s": "pop3-login",
                 "smtp": "smtpd", "submission": "smtpd",
                 "submissions": "smtpd", "lmtp": "mailstore"}
        for proto in ALL:
            self.assertGreets(s, proto, owner[proto])
        if "imap" in s.ports6:
            self.assertGreets(s, "imap", "imap-login", v6=True)
        # unix sockets carry the table's modes
        for name, mode in [("auth-login", 0o600), ("pickup", 0o666),
                           ("handoff", 0o600), ("queue", 0o600)]:
            st_ = os.stat(os.path.join(s.base_dir, name))
            self.assertEqual(st_.st_mode & 0o777, mode, name)
        if lofttest.is_root():
            login = pwd.getpwnam("loft-login")
            self.assertEqual(os.stat(os.path.join(s.base_dir,
                                                  "auth-login")).st_uid,
                             login.pw_uid)
        # children read the generation's config snapshot, not loft.conf
        snap = os.path.join(s.base_dir, "config.1")
        with open("/proc/%d/cmdline" % imap["pid"], "rb") as f:
            argv = f.read().split(b"\0")
        self.assertEqual(argv[1:3], [b"-c", snap.encode()])
        with open("/proc/%d/environ" % imap["pid"], "rb") as f:
            env = f.read().split(b"\0")
        self.assertIn(b"LOFT_CONF=" + snap.encode(), env)
        self.assertIn(b"LOFT_SERVICE=imap-login", env)
        self.assertIn(b"LOFT_GENERATION=1", env)
        self.assertIsNone(s.stop())
        self.assertAllGone(s)
        self.assertEqual(os.listdir(s.base_dir), [])
        for proto in ALL:
            self.assertTrue(refused(s.port(proto)), proto)
        log = s.log()
        self.assertIn("master[%d]: started" % st["master"]["pid"], log)
        self.assertRegex(log, r"spawned service imap-login \(pid \d+")
        self.assertIn("stopped", log)

    def test_foreground(self):
        # Also walks restart and both reload paths in a master whose exit
        # status we see: under LOFT_SANITIZE a leak or error fails it here.
        s = self.suite(["pop3"])
        s.start(foreground=True)
        self.assertEqual(s.status()["master"]["pid"], s.proc.pid)
        self.assertGreets(s, "pop3", "pop3-login")
        os.kill(s.service("pop3-login")["pid"], signal.SIGKILL)
        s.wait_log(r"service pop3-login restarting in 1s")
        s.wait_running()
        s.write_config(protocols=["pop3", "imap"])
        s.reload()
        s.wait_running(generation=2)
        s.write_raw_config(s.read_config() + "bogus\n")
        s.reload()
        s.wait_log(r"reload failed: ")
        self.assertGreets(s, "imap", "imap-login", gen=2)
        self.assertEqual(s.stop(), 0, s._stderr_text())
        self.assertAllGone(s)

    def test_stop_kills_stuck_child(self):
        s = self.suite(["imap"], extra={"shutdown_timeout": "1s"})
        s.start()
        stuck = s.service("imap-login")["pid"]
        # only once it handles SIGTERM: a default SIGTERM kills even a
        # stopped process
        s.wait_log(r"imap-login\[%d\]: started" % stuck)
        os.kill(stuck, signal.SIGSTOP)  # SIGTERM stays pending
        t0 = time.time()
        s.stop()
        self.assertGreaterEqual(time.time() - t0, 0.8)
        self.assertRegex(s.log(), r"service imap-login \(pid %d\) did not stop "
                         r"in time; killing it" % stuck)
        self.assertRegex(s.log(), r"service imap-login \(pid %d, generation 1\) "
                         r"killed by signal 9" % stuck)
        self.assertAllGone(s)
        self.assertEqual(os.listdir(s.base_dir), [])

    def test_env_conf(self):
        s = self.suite(["imap"])
        r = lofttest.subprocess.run(
            [os.path.join(lofttest.BIN_DIR, "loft-master")],
            env=dict(os.environ, LOFT_CONF=s.conf),
            stdout=lofttest.subprocess.PIPE, stderr=lofttest.subprocess.PIPE,
            text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        s.wait_running()
        self.assertGreets(s, "imap", "imap-login")

    # -- supervision ----------------------------------------------------

    def test_killed_child_restarted(self):
        s = self.suite(["imap"])
        s.start()
        old = s.service("imap-login")["pid"]
        os.kill(old, signal.SIGKILL)
        s.wait_log(r"service imap-login \(pid %d\) killed by signal 9" % old)
        s.wait_log(r"service imap-login restarting in 1s")
        deadline = time.time() + 10
        while time.time() < deadline:
            c = s.service("imap-login")
            if c and c["pid"] != old and lofttest.pid_alive(c["pid"]):
                break
            time.sleep(0.05)
        else:
            self.fail("imap-login not restarted: %r" % s.status())
        self.assertEqual(c["restarts"], 1)
        self.assertGreets(s, "imap", "imap-login")

    def test_serving_child_restarted_at_once(self):
        # Issue 18: a child that was serving (up longer than the 2s start-up
        # window) comes back at once, every time, with no back-off growing.
        s = self.suite(["imap"], extra={"master_restart_delay_max": "30s"})
        s.start()
        for i in range(3):
            c = s.wait_running()
            old = [x for x in c["services"] if x["name"] == "imap-login"][0]["pid"]
            time.sleep(2.3)  # past the start-up window: it was serving
            t0 = time.time()
            os.kill(old, signal.SIGKILL)
            s.wait_log(r"service imap-login restarting now \(restart %d\)" % (i + 1))
            deadline = t0 + 10
            while time.time() < deadline:
                n = s.service("imap-login")
                if n and n["pid"] not in (0, old) and lofttest.pid_alive(n["pid"]):
                    break
                time.sleep(0.02)
            else:
                self.fail("imap-login not restarted: %r" % s.status())
            # a back-off would have waited at least 1s
            self.assertLess(time.time() - t0, 0.9)
            self.assertEqual(n["restarts"], i + 1)
            self.assertGreets(s, "imap", "imap-login")
        self.assertNotRegex(s.log(), r"service imap-login restarting in ")

    def test_crash_backoff_grows(self):
        # a child that dies during start-up (killed as soon as it runs)
        # keeps backing off
        s = self.suite(["imap"], extra={"master_restart_delay_max": "2s"})
        s.start()
        delays = []
        for i in range(3):
            c = s.wait_running()
            pid = [x for x in c["services"] if x["name"] == "imap-login"][0]
            os.kill(pid["pid"], signal.SIGKILL)
            m = s.wait_log(r"service imap-login restarting in (\d+)s "
                           r"\(restart %d\)" % (i + 1))
            delays.append(int(m.group(1)))
            t0 = time.time()
            s.wait_running(timeout=10)
            # the restart really waited (minus scheduling slack)
            self.assertGreaterEqual(time.time() - t0, delays[-1] - 0.6)
        self.assertEqual(delays, [1, 2, 2])

    # -- reload ---------------------------------------------------------

    def test_reload_new_generation_keeps_old_sessions(self):
        s = self.suite(["imap", "pop3"])
        s.start()
        old_conn = s.connect("imap")
        self.assertIn("gen=1", old_conn.greeting)
        old_pid = s.service("imap-login")["pid"]
        s.write_config(protocols=["imap", "smtp"])
        s.reload()
        st = s.wait_running(generation=2)
        s.wait_log(r"reloaded .*generation 2")
        # the old session still works against the draining old child
        self.assertEqual(s.send_line(old_conn, "still here"),
                         "echo still here\r\n")
        draining = [c for c in st["services"] if c["state"] == "draining"]
        self.assertIn(old_pid, [c["pid"] for c in draining])
        # until the old child has handled SIGQUIT it may still accept on the
        # shared socket; after that only generation 2 answers
        s.wait_log(r"imap-login\[%d\]: draining on SIGQUIT" % old_pid)
        self.assertGreets(s, "imap", "imap-login", gen=2)
        self.assertGreets(s, "smtp", "smtpd", gen=2)
        self.assertTrue(refused(s.port("pop3")))
        # closing the last session lets the old child go
        old_conn.close()
        s.wait_log(r"service imap-login \(pid %d, generation 1\) exited "
                   r"with status 0" % old_pid)
        deadline = time.time() + 10
        while time.time() < deadline and old_pid in [
                c["pid"] for c in s.status()["services"]]:
            time.sleep(0.05)
        self.assertNotIn(old_pid, [c["pid"] for c in s.status()["services"]])
        self.assertFalse(lofttest.pid_alive(old_pid))
        # generation 1's config snapshot goes with its last child
        deadline = time.time() + 10
        while time.time() < deadline and os.path.exists(
                os.path.join(s.base_dir, "config.1")):
            time.sleep(0.05)
        self.assertFalse(os.path.exists(os.path.join(s.base_dir, "config.1")))
        self.assertTrue(os.path.exists(os.path.join(s.base_dir, "config.2")))
        s.stop()
        self.assertAllGone(s)

    def test_reload_broken_config_keeps_serving(self):
        s = self.suite(["imap"])
        s.start()
        text = s.read_config()
        text += "log_level = debug\nno_such_key = 1\n"
        s.write_raw_config(text)
        bad = line_of(text, "no_such_key")
        pid = s.service("imap-login")["pid"]
        s.reload()
        s.wait_log(r"reload failed: %s:%d: " % (re.escape(s.conf), bad))
        time.sleep(0.3)
        st = s.status()
        self.assertEqual(st["master"]["generation"], 1)
        self.assertEqual(s.service("imap-login")["pid"], pid)
        self.assertGreets(s, "imap", "imap-login", gen=1)

    def test_reload_missing_executable_keeps_serving(self):
        s = self.suite(["imap"])
        s.start()
        os.unlink(os.path.join(s.tmpdir, "libexec", "loft-pop3-login"))
        s.write_config(protocols=["imap", "pop3"])
        s.reload()
        s.wait_log(r"reload failed: protocol pop3 needs loft-pop3-login, "
                   r"which is not in ")
        self.assertEqual(s.status()["master"]["generation"], 1)
        self.assertGreets(s, "imap", "imap-login", gen=1)
        self.assertTrue(refused(s.port("pop3")))

    # -- start-up errors ----------------------------------------------

    def test_second_master_refused(self):
        s = self.suite(["imap"])
        s.start()
        pid = s.read_pid()
        r = s.run_master()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("loft-master: already running (pid %d)" % pid, r.stderr)
        self.assertEqual(s.read_pid(), pid)
        self.assertGreets(s, "imap", "imap-login")
        r = s.run_master("-F")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already running (pid %d)" % pid, r.stderr)
        self.assertGreets(s, "imap", "imap-login")

    def test_missing_executable_is_an_error(self):
        s = self.suite(["imap", "pop3"])
        libexec = os.path.join(s.tmpdir, "libexec")
        os.unlink(os.path.join(libexec, "loft-pop3-login"))
        r = s.start(check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("protocol pop3 needs loft-pop3-login, which is not in %s"
                      % libexec, r.stderr)
        self.assertAllGone(s)
        self.assertFalse(os.path.exists(s.pid_path))
        self.assertTrue(refused(s.port("imap")))

    def test_unknown_protocol_names_file_and_line(self):
        s = self.suite(["imap"])
        text = s.read_config().replace("protocols = imap",
                                           "protocols = imap gopher")
        s.write_raw_config(text)
        r = s.start(check=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"%s:%d: .*gopher" % (
            re.escape(s.conf), line_of(text, "gopher")))
        self.assertAllGone(s)

    def test_bind_failure_names_address(self):
        s = self.suite(["imap"])
        blocker = socket.socket()
        self.addCleanup(blocker.close)
        blocker.bind(("127.0.0.1", s.port("imap")))
        blocker.listen()
        r = s.start(check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("127.0.0.1:%d" % s.port("imap"), r.stderr)
        self.assertIn("Address already in use", r.stderr)
        self.assertAllGone(s)
        self.assertFalse(os.path.exists(s.pid_path))

    def test_protocols_change_across_restart(self):
        s = self.suite(["imap"])
        s.start()
        self.assertGreets(s, "imap", "imap-login")
        self.assertTrue(refused(s.port("pop3")))
        s.stop()
        s.write_config(protocols=["pop3", "pop3s"])
        s.start()
        self.assertGreets(s, "pop3", "pop3-login")
        self.assertGreets(s, "pop3s", "pop3-login")
        self.assertTrue(refused(s.port("imap")))
        self.assertIsNone(s.service("imap-login"))

    # -- privileges -----------------------------------------------------

    @unittest.skipUnless(lofttest.is_root(), "needs root")
    def test_root_login_service_confined(self):
        s = self.suite(["imap"])
        s.start()
        pid = s.service("imap-login")["pid"]
        login = pwd.getpwnam("loft-login")
        # the testsvc drops after start-up; wait for it
        deadline = time.time() + 5
        while time.time() < deadline:
            ps = lofttest.proc_status(pid)
            if ps["Uid"].split()[0] == str(login.pw_uid):
                break
            time.sleep(0.05)
        self.assertEqual(ps["Uid"].split(), [str(login.pw_uid)] * 4)
        self.assertEqual(ps["Gid"].split(), [str(login.pw_gid)] * 4)
        self.assertEqual(int(ps["CapEff"], 16), 0)
        self.assertEqual(int(ps["CapBnd"], 16), 0)
        self.assertEqual(ps["NoNewPrivs"], "1")
        self.assertEqual(os.readlink("/proc/%d/root" % pid), s.login_chroot)
        # the master itself stays root, and the chroot is root's and empty
        self.assertEqual(lofttest.proc_status(s.master_pid)["Uid"].split()[0],
                         "0")
        st = os.stat(s.login_chroot)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o755))
        self.assertEqual(os.listdir(s.login_chroot), [])
        self.assertGreets(s, "imap", "imap-login")

    @unittest.skipUnless(lofttest.is_root(), "needs root to switch user")
    def test_unprivileged_mode(self):
        s = self.suite(["imap", "smtp"], user="nobody")
        nobody = pwd.getpwnam("nobody")
        s.start()
        st = s.status()
        self.assertEqual(st["master"]["mode"], "unprivileged")
        pids = [st["master"]["pid"]] + [c["pid"] for c in st["services"]]
        for pid in pids:
            ps = lofttest.proc_status(pid)
            self.assertEqual(ps["Uid"].split(), [str(nobody.pw_uid)] * 4)
            self.assertEqual(os.readlink("/proc/%d/root" % pid), "/")
        for name in ["auth-login", "handoff", "queue", "pickup"]:
            self.assertEqual(os.stat(os.path.join(s.base_dir, name)).st_uid,
                             nobody.pw_uid, name)
        self.assertGreets(s, "imap", "imap-login")
        self.assertGreets(s, "smtp", "smtpd")
        s.stop()
        self.assertAllGone(s)
        self.assertEqual(os.listdir(s.base_dir), [])

    def test_refuses_base_dir_writable_by_others(self):
        s = self.suite(["imap"])
        os.makedirs(s.base_dir)
        os.chmod(s.base_dir, 0o777)
        r = s.start(check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("base_dir %s is writable by others" % s.base_dir,
                      r.stderr)
        self.assertAllGone(s)


if __name__ == "__main__":
    unittest.main()
