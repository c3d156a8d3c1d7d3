"""test_cli: the `loft` control command end to end -- start/status/reload/
restart/stop against a real loft-master running test services, `loft config`
(-n, -a, KEY, --check with errors across an !include), enable/disable of SysV
rc links under a temp root, `loft setup`, and the install rules of dist/."""

import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

import lofttest

LOFT = os.path.join(lofttest.BIN_DIR, "loft")


def run_loft(suite_or_conf, *args, env=None, timeout=60):
    conf = getattr(suite_or_conf, "conf", suite_or_conf)
    cmd = [LOFT]
    if conf is not None:
        cmd += ["-c", conf]
    return subprocess.run(cmd + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.s = lofttest.Suite(protocols=["imap", "pop3"])
        self.addCleanup(self.s.cleanup)
        self.s.use_testsvc()

    def status(self):
        return run_loft(self.s, "status")

    def test_start_status_reload_restart_stop(self):
        s = self.s
        r = self.status()
        self.assertEqual(r.returncode, 3, r)
        self.assertIn("loft is not running", r.stdout)

        r = run_loft(s, "start")
        self.assertEqual(r.returncode, 0, r)
        m = re.search(r"loft started \(pid (\d+)\)", r.stdout)
        self.assertTrue(m, r.stdout)
        pid = int(m.group(1))
        self.assertEqual(pid, s.read_pid())
        st = s.wait_running()

        r = self.status()
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("loft is running (pid %d, generation %d, config %s"
                      % (pid, st["master"]["generation"], s.conf), r.stdout)
        for name in s.expected_services():
            svc = s.service(name)
            self.assertRegex(r.stdout, r"(?m)^%s\s+%d\s+running\s+0\b"
                             % (re.escape(name), svc["pid"]))
        for proto in ("imap", "pop3"):
            self.assertIn("%s=127.0.0.1:%d" % (proto, s.port(proto)), r.stdout)

        # a second start is refused and names the running master
        r = run_loft(s, "start")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("already running (pid %d)" % pid, r.stderr)
        self.assertEqual(s.read_pid(), pid)

        gen = st["master"]["generation"]
        r = run_loft(s, "reload")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("generation %d" % (gen + 1), r.stdout)
        s.wait_running(generation=gen + 1)

        r = run_loft(s, "restart")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("loft stopped", r.stdout)
        m = re.search(r"loft started \(pid (\d+)\)", r.stdout)
        self.assertTrue(m, r.stdout)
        pid2 = int(m.group(1))
        self.assertNotEqual(pid2, pid)
        self.assertFalse(lofttest.pid_alive(pid))
        st = s.wait_running()
        children = [c["pid"] for c in st["services"] if c["pid"] > 0]

        r = run_loft(s, "stop")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("loft stopped", r.stdout)
        self.assertFalse(lofttest.pid_alive(pid2))
        for c in children:
            self.assertFalse(lofttest.pid_alive(c), "child %d survived" % c)
        self.assertEqual(s.leftover_pids(), [])
        s.master_pid = None

        r = self.status()
        self.assertEqual(r.returncode, 3, r)
        # stop is idempotent, reload needs a running server
        r = run_loft(s, "stop")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("not running", r.stdout)
        r = run_loft(s, "reload")
        self.assertEqual(r.returncode, 1, r)

    def test_editing_protocols_line_and_restart(self):
        """The administrator's way to turn POP3 on: edit the protocols line
        of loft.conf, then `loft restart`; the ports follow."""
        s = self.s
        s.write_config(protocols=["imap"])
        self.assertEqual(run_loft(s, "start").returncode, 0)
        s.wait_running()
        self.assertTrue(s.connect("imap").greeting.startswith("* OK"))
        for proto in ("pop3", "pop3s"):
            self.assertRaises(ConnectionRefusedError, s.connect, proto, tls=False)
        text = s.read_config()
        self.assertRegex(text, r"(?m)^protocols = imap$")
        s.write_raw_config(re.sub(r"(?m)^protocols = imap$",
                                  "protocols = imap pop3 pop3s", text))
        s.protocols = ["imap", "pop3", "pop3s"]
        r = run_loft(s, "restart")
        self.assertEqual(r.returncode, 0, r)
        s.wait_running()
        for proto in ("imap", "pop3", "pop3s"):
            sock = s.connect(proto, tls=False)
            self.assertIn("service=", sock.greeting, proto)
            sock.close()
        # and back off again
        s.write_raw_config(re.sub(r"(?m)^protocols = .*$", "protocols = imap",
                                  s.read_config()))
        s.protocols = ["imap"]
        self.assertEqual(run_loft(s, "restart").returncode, 0)
        s.wait_running()
        self.assertRaises(ConnectionRefusedError, s.connect, "pop3", tls=False)

    def test_reload_with_broken_config_is_refused(self):
        s = self.s
        self.assertEqual(run_loft(s, "start").returncode, 0)
        st = s.wait_running()
        with open(s.conf) as f:
            good = f.read()
        s.write_raw_config(good + "log_level = loud\n")
        r = run_loft(s, "reload")
        self.assertEqual(r.returncode, 1, r)
        self.assertRegex(r.stderr, r"loft\.conf:\d+: .*log_level")
        self.assertIn("has errors", r.stderr)
        # the master kept serving the old generation
        self.assertEqual(s.status()["master"]["generation"],
                         st["master"]["generation"])
        s.write_raw_config(good)

    def test_start_failure_is_reported(self):
        s = self.s
        empty = os.path.join(s.tmpdir, "nothing-here")
        os.mkdir(empty)
        s.write_config(libexec_dir=empty)
        r = run_loft(s, "start")
        self.assertNotEqual(r.returncode, 0, r)
        self.assertRegex(r.stderr, r"loft-(auth|imap-login)")
        self.assertNotIn("loft started", r.stdout)
        self.assertEqual(self.status().returncode, 3)

    def test_unknown_command_and_help(self):
        r = run_loft(None, "frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command", r.stderr)
        self.assertIn("usage:", r.stderr)
        r = run_loft(None, "--help")
        self.assertEqual(r.returncode, 0)
        for verb in ("start", "stop", "status", "config", "enable", "setup"):
            self.assertIn(verb, r.stdout)
        r = run_loft(None, "--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^loft \d+\.\d+")

    def test_config_from_environment(self):
        env = dict(os.environ, LOFT_CONF=self.s.conf)
        r = run_loft(None, "config", "base_dir", env=env)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "base_dir = %s\n" % self.s.base_dir)


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="loftcli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.conf = os.path.join(self.tmp, "loft.conf")

    def write(self, name, text):
        with open(os.path.join(self.tmp, name), "w") as f:
            f.write(text)

    def test_non_defaults_only(self):
        self.write("loft.conf",
                   "# a comment\n"
                   "protocols = imap pop3\n"
                   "base_dir = %s/run\n"
                   "mail_location = maildir:~/Maildir\n"  # the default
                   "message_size_limit = 20M\n" % self.tmp)
        r = run_loft(self.conf, "config")
        self.assertEqual(r.returncode, 0, r)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("#") and self.conf in lines[0],
                        lines[0])
        # schema order: protocols and base_dir come before the size limit
        self.assertEqual(lines[1:], [
            "protocols = imap pop3",
            "base_dir = %s/run" % self.tmp,
            "message_size_limit = 20M"])

    def test_all_settings(self):
        self.write("loft.conf", "protocols = imap\n")
        r = run_loft(self.conf, "config", "-a")
        self.assertEqual(r.returncode, 0, r)
        keys = [l.split(" =")[0] for l in r.stdout.splitlines()
                if not l.startswith("#")]
        self.assertGreater(len(keys), 40)
        self.assertEqual(len(keys), len(set(keys)))
        self.assertIn("protocols = imap", r.stdout)
        self.assertIn("mail_location = maildir:~/Maildir", r.stdout)
        self.assertIn("disable_plaintext_auth = yes", r.stdout)

    def test_chosen_keys(self):
        self.write("loft.conf", "protocols = pop3\n")
        r = run_loft(self.conf, "config", "protocols", "queue_lifetime")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "protocols = pop3\nqueue_lifetime = 5d\n")
        r = run_loft(self.conf, "config", "-h", "protocols")
        self.assertEqual(r.stdout, "pop3\n")
        r = run_loft(self.conf, "config", "no_such_key")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown setting 'no_such_key'", r.stderr)

    def test_check_reports_every_error(self):
        libexec = os.path.join(self.tmp, "libexec")
        os.mkdir(libexec)
        self.write("loft.conf",
                   "protocols = imap\n"
                   "libexec_dir = %s\n"
                   "disable_plaintext_auth = perhaps\n"
                   "!include extra.conf\n" % libexec)
        self.write("extra.conf",
                   "# included\n"
                   "no_such_setting = 1\n"
                   "\n"
                   "message_size_limit = huge\n")
        r = run_loft(self.conf, "config", "--check")
        self.assertEqual(r.returncode, 1, r)
        errs = [l for l in r.stderr.splitlines() if re.search(r":\d+: ", l)]
        self.assertEqual(len(errs), 3, r.stderr)
        self.assertRegex(errs[0], r"^%s:3: .*disable_plaintext_auth"
                         % re.escape(self.conf))
        self.assertRegex(r.stderr, r"(?m)^\S*extra\.conf:2: .*no_such_setting")
        self.assertRegex(r.stderr, r"(?m)^\S*extra\.conf:4: .*message_size_limit")
        self.assertNotIn("config OK", r.stdout)

    def test_check_ok_and_missing_daemons(self):
        libexec = os.path.join(self.tmp, "libexec")
        os.mkdir(libexec)
        self.write("loft.conf", "protocols = imap pop3\nlibexec_dir = %s\n"
                   % libexec)
        r = run_loft(self.conf, "config", "--check")
        self.assertEqual(r.returncode, 1, r)
        self.assertRegex(r.stderr, r"%s:2: .*loft-imap-login.*loft-pop3-login"
                         % re.escape(self.conf))
        self.assertNotIn("loft-smtpd", r.stderr)
        for exe in ("loft-auth", "loft-imap-login", "loft-pop3-login",
                    "loft-mailstore"):
            path = os.path.join(libexec, exe)
            with open(path, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(path, 0o755)
        r = run_loft(self.conf, "config", "--check")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "config OK: %s\n" % self.conf)


class EnableTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="loftroot-")
        self.addCleanup(shutil.rmtree, self.root, True)
        os.makedirs(os.path.join(self.root, "etc", "init.d"))
        shutil.copy(os.path.join(lofttest.SOURCE_DIR, "dist", "loft.init"),
                    os.path.join(self.root, "etc", "init.d", "loft"))

    def links(self):
        out = {}
        for lv in "0123456S":
            d = os.path.join(self.root, "etc", "rc%s.d" % lv)
            if not os.path.isdir(d):
                continue
            for n in os.listdir(d):
                p = os.path.join(d, n)
                out["rc%s.d/%s" % (lv, n)] = os.readlink(p) \
                    if os.path.islink(p) else None
        return out

    def test_sysv_enable_disable(self):
        # a stale link of ours and someone else's link
        os.makedirs(os.path.join(self.root, "etc", "rc2.d"))
        os.symlink("../init.d/loft",
                   os.path.join(self.root, "etc", "rc2.d", "S10loft"))
        os.symlink("../init.d/other",
                   os.path.join(self.root, "etc", "rc2.d", "S20other"))
        want = {"rc%d.d/S80loft" % n: "../init.d/loft" for n in (2, 3, 4, 5)}
        want.update({"rc%d.d/K30loft" % n: "../init.d/loft" for n in (0, 1, 6)})
        for _ in range(2):  # idempotent
            r = run_loft(None, "enable", "--root", self.root, "--sysv")
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("enabled via SysV rc links", r.stdout)
            got = self.links()
            self.assertEqual(got.pop("rc2.d/S20other"), "../init.d/other")
            self.assertEqual(got, want)
        r = run_loft(None, "disable", "--root", self.root, "--sysv")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.links(), {"rc2.d/S20other": "../init.d/other"})

    def test_lsb_header_without_chkconfig(self):
        with open(os.path.join(self.root, "etc", "init.d", "loft"), "w") as f:
            f.write("#!/bin/sh\n### BEGIN INIT INFO\n# Provides: loft\n"
                    "# Default-Start: 3 5\n# Default-Stop: 0 6\n"
                    "### END INIT INFO\nexit 0\n")
        r = run_loft(None, "enable", "--root", self.root)  # no systemd here
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(sorted(self.links()),
                         ["rc0.d/K30loft", "rc3.d/S80loft", "rc5.d/S80loft",
                          "rc6.d/K30loft"])

    def test_missing_init_script(self):
        os.unlink(os.path.join(self.root, "etc", "init.d", "loft"))
        r = run_loft(None, "enable", "--root", self.root, "--sysv")
        self.assertEqual(r.returncode, 1)
        self.assertIn("init.d/loft", r.stderr)
        self.assertEqual(self.links(), {})


@unittest.skipUnless(lofttest.is_root(), "setup creates users: needs root")
class SetupTest(unittest.TestCase):
    def test_setup_is_idempotent(self):
        s = lofttest.Suite(protocols=["imap"], tls=False)
        self.addCleanup(s.cleanup)
        chroot = os.path.join(s.tmpdir, "var", "empty")
        s.write_config(login_chroot=chroot)
        for d in (s.base_dir, s.state_dir):
            shutil.rmtree(d, ignore_errors=True)
        r = run_loft(s, "setup")
        self.assertEqual(r.returncode, 0, r)
        for key, d in (("base_dir", s.base_dir), ("state_dir", s.state_dir),
                       ("login_chroot", chroot)):
            self.assertIn("created %s %s" % (key, d), r.stdout)
            st = os.stat(d)
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o755)
        st = os.stat(chroot)
        self.assertEqual((st.st_uid, st.st_gid), (0, 0))
        self.assertEqual(os.listdir(chroot), [])
        for key in ("login_user", "smtp_user", "queue_user"):
            name = run_loft(s, "config", "-h", key).stdout.strip()
            pwd.getpwnam(name)  # raises if setup did not make it
        r = run_loft(s, "setup")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("nothing to do", r.stdout)
        self.assertNotIn("created", r.stdout)
        # a planted file in the chroot is refused, not ignored
        open(os.path.join(chroot, "planted"), "w").close()
        r = run_loft(s, "setup")
        self.assertEqual(r.returncode, 1)
        self.assertIn("must be empty", r.stderr)


class InstallTest(unittest.TestCase):
    def cache(self, name):
        with open(os.path.join(lofttest.BUILD_DIR, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
        raise AssertionError("%s not in CMakeCache.txt" % name)

    def install(self, destdir):
        env = dict(os.environ, DESTDIR=destdir)
        r = subprocess.run(["cmake", "--install", lofttest.BUILD_DIR],
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_install_keeps_edited_config(self):
        dest = tempfile.mkdtemp(prefix="loftinst-")
        self.addCleanup(shutil.rmtree, dest, True)
        conf = dest + self.cache("LOFT_SYSCONFDIR") + "/loft.conf"
        defaults = dest + self.cache("LOFT_DEFAULTSDIR") + "/loft"
        init = dest + self.cache("LOFT_INITDIR") + "/loft"
        pam = dest + self.cache("LOFT_PAMDIR") + "/loft"
        self.install(dest)
        for p in (conf, defaults, init, pam):
            self.assertTrue(os.path.isfile(p), p)
        self.assertEqual(stat.S_IMODE(os.stat(init).st_mode), 0o755)
        with open(os.path.join(lofttest.SOURCE_DIR, "dist", "loft.conf")) as f:
            with open(conf) as g:
                self.assertEqual(g.read(), f.read())
        units = []
        for root, _, files in os.walk(dest):
            units += [os.path.join(root, f) for f in files if f == "loft.service"]
        self.assertEqual(len(units), 1, units)
        self.assertIn("systemd/system", units[0])
        with open(units[0]) as f:
            self.assertRegex(f.read(), r"(?m)^ExecStart=/\S*/loft-master")
        # the admin edits both files; a reinstall (upgrade) keeps the edits
        for p in (conf, defaults):
            with open(p, "a") as f:
                f.write("# edited by the admin\n")
        time.sleep(1.1)  # a newer mtime must not matter either
        self.install(dest)
        for p in (conf, defaults):
            with open(p) as f:
                self.assertTrue(f.read().endswith("# edited by the admin\n"), p)


if __name__ == "__main__":
    unittest.main()
