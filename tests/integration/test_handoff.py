"""test_handoff: the login handoff into loft-mailstore with the real master,
loft-auth and loft-mailstore (pop3-login is the harness's testsvc: this test
plays the login daemon itself). As root: a token from auth-login plus one end
of a socketpair handed over on base_dir/handoff gives a worker running as the
user with no capabilities, which speaks POP3 on the socketpair; forged and
replayed tokens are refused, logged, and start no session and no Maildir."""

import base64
import os
import pwd
import signal
import socket
import stat
import time
import unittest

import lofttest

SECRET_HASH = ("{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0"
               "S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1")  # "secret"
UID, GID = 4242, 4343
NEEDED = ["loft-master", "loft-auth", "loft-mailstore", "loft-testsvc"]


def escape(b):
    return (b.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n")
            .replace(b"\r", b"\\r").replace(b"\0", b"\\0"))


class Lines:
    """A wire-protocol connection on a UNIX socket (lines of TAB fields)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(15)
        self.sock.connect(path)
        self.buf = b""

    def send(self, *fields, fds=None):
        line = b"\t".join(escape(f if isinstance(f, bytes) else f.encode())
                          for f in fields) + b"\n"
        if fds:
            socket.send_fds(self.sock, [line], fds)
        else:
            self.sock.sendall(line)

    def recv(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode().split("\t")

    def close(self):
        self.sock.close()


def children(pid):
    """Pids whose parent is pid (zombies excluded)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        if int(rest[1]) == pid and rest[0] != "Z":
            out.append(int(d))
    return out


@unittest.skipUnless(lofttest.is_root(), "the handoff test needs root")
@unittest.skipUnless(all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED),
                     "daemons not built")
class TestHandoff(unittest.TestCase):
    run_as = None  # unprivileged mode: the master's user
    token_lifetime = "30s"

    def setUp(self):
        self.s = lofttest.Suite(protocols=["pop3"], tls=False, user=self.run_as)
        self.addCleanup(self.s.cleanup)
        tmp = self.s.tmpdir
        users = os.path.join(tmp, "users")
        with open(users, "w") as f:
            for u in ("alice", "bob"):
                f.write("%s:%s:%d:%d::%s/home/%s::\n" % (u, SECRET_HASH, UID, GID, tmp, u))
        self.mail = os.path.join(tmp, "mail")
        os.mkdir(self.mail, 0o755)
        os.chown(self.mail, UID, GID)
        # Real auth and mailstore; pop3-login is not under test here.
        libexec = os.path.join(tmp, "libexec")
        os.mkdir(libexec)
        for exe in ("loft-auth", "loft-mailstore"):
            os.symlink(os.path.join(lofttest.BIN_DIR, exe), os.path.join(libexec, exe))
        os.symlink(os.path.join(lofttest.BIN_DIR, "loft-testsvc"),
                   os.path.join(libexec, "loft-pop3-login"))
        self.s.write_config(libexec_dir=libexec, passdb="passwd-file:" + users,
                            mail_location="maildir:%s/%%u/Maildir" % self.mail,
                            auth_token_lifetime=self.token_lifetime)
        self.s.start()
        self.ms_pid = self.s.service("mailstore")["pid"]
        self.next_id = 0

    def token(self, user):
        c = Lines(os.path.join(self.s.base_dir, "auth-login"))
        try:
            c.send("VERSION", "auth", "1", "0")
            while c.recv()[0] != "DONE":
                pass
            resp = base64.b64encode(b"\0" + user.encode() + b"\0secret").decode()
            c.send("AUTH", "1", "PLAIN", "service=pop3", "rip=127.0.0.1", "lip=127.0.0.1",
                   "secured", "resp=" + resp)
            r = c.recv()
            self.assertEqual(r[0], "OK", r)
            return dict(f.split("=", 1) for f in r[2:])["token"]
        finally:
            c.close()

    def handoff(self, token, user, data=b""):
        """Hand one socketpair end over; returns (reply fields, our end)."""
        h = Lines(os.path.join(self.s.base_dir, "handoff"))
        self.addCleanup(h.close)
        h.send("VERSION", "handoff", "1", "0")
        self.assertEqual(h.recv()[:3], ["VERSION", "handoff", "1"])
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        ours.settimeout(15)
        self.next_id += 1
        h.send("SESSION", str(self.next_id), "proto=pop3", "token=" + token, "user=" + user,
               "rip=192.0.2.9", "rport=40000", "lip=127.0.0.1", "lport=110",
               "session=hx%d" % self.next_id, b"data=" + data, fds=[theirs.fileno()])
        theirs.close()
        reply = h.recv()
        self.assertEqual(reply[1], str(self.next_id), reply)
        return reply, ours

    def wait_no_workers(self, timeout=5):
        deadline = time.time() + timeout
        while children(self.ms_pid) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(children(self.ms_pid), [])

    def test_worker_is_the_user_and_speaks_pop3(self):
        reply, ours = self.handoff(self.token("alice"), "alice")
        self.assertEqual(reply[0], "OK", reply)
        kids = children(self.ms_pid)
        self.assertEqual(len(kids), 1, kids)
        st = lofttest.proc_status(kids[0])
        self.assertEqual(st["Uid"].split(), [str(UID)] * 4)
        self.assertEqual(st["Gid"].split(), [str(GID)] * 4)
        self.assertIn(st["Groups"].split(), ([], [str(GID)]))
        for cap in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
            self.assertEqual(int(st[cap], 16), 0, cap)
        self.assertEqual(st["NoNewPrivs"], "1")
        greeting = lofttest.read_line(ours)
        self.assertTrue(greeting.startswith("+OK"), greeting)
        # Nothing of the dispatcher's leaks into the session: once it serves
        # (the greeting comes after the dispatcher's GO, whose socket the
        # worker then closes), the one socket is the client.
        links = [os.readlink("/proc/%d/fd/%s" % (kids[0], fd))
                 for fd in os.listdir("/proc/%d/fd" % kids[0])]
        self.assertEqual(len([x for x in links if x.startswith("socket:")]), 1, links)
        # The Maildir root was made by the user, private.
        root = os.path.join(self.mail, "alice", "Maildir")
        sb = os.stat(root)
        self.assertEqual((sb.st_uid, sb.st_gid), (UID, GID))
        self.assertEqual(stat.S_IMODE(sb.st_mode), 0o700)
        ours.sendall(b"QUIT\r\n")
        self.assertTrue(lofttest.read_line(ours).startswith("+OK"))
        self.wait_no_workers()
        self.s.wait_log(r"mailstore.*hx1.*pop3 session for alice")

    def test_preread_bytes_reach_the_session(self):
        reply, ours = self.handoff(self.token("alice"), "alice", data=b"NOOP\r\nQUIT\r\n")
        self.assertEqual(reply[0], "OK", reply)
        lines = [lofttest.read_line(ours) for _ in range(3)]
        self.assertTrue(all(x.startswith("+OK") for x in lines), lines)
        self.wait_no_workers()

    def test_forged_and_replayed_tokens_are_refused(self):
        start = len(self.s.log())
        reply, ours = self.handoff("ab" * 32, "bob")
        self.assertEqual(reply[0], "FAIL")
        self.assertEqual(reply[2], "reason=invalid token")
        self.assertEqual(ours.recv(100), b"")  # connection closed, nothing said
        self.s.wait_log(r"mailstore.*hx1.*handoff refused: invalid token.*rip=192\.0\.2\.9",
                        start=start)

        # A token already redeemed (here: by a first session) is refused.
        tok = self.token("alice")
        reply, ours = self.handoff(tok, "alice")
        self.assertEqual(reply[0], "OK")
        ours.sendall(b"QUIT\r\n")
        self.wait_no_workers()
        reply, ours = self.handoff(tok, "alice")
        self.assertEqual(reply[0], "FAIL")
        self.assertEqual(ours.recv(100), b"")
        self.s.wait_log(r"hx3.*handoff refused: invalid token", start=start)

        # bob's token redeemed elsewhere first: his handoff fails, no Maildir.
        tok = self.token("bob")
        m = Lines(os.path.join(self.s.base_dir, "auth-master"))
        m.send("VERSION", "auth", "1", "0")
        while m.recv()[0] != "DONE":
            pass
        m.send("REDEEM", "5", tok, "service=pop3")
        self.assertEqual(m.recv()[0], "OK")
        m.close()
        reply, ours = self.handoff(tok, "bob")
        self.assertEqual(reply[0], "FAIL")
        self.wait_no_workers()
        self.assertFalse(os.path.exists(os.path.join(self.mail, "bob")))

    def test_unknown_proto_and_garbage(self):
        h = Lines(os.path.join(self.s.base_dir, "handoff"))
        self.addCleanup(h.close)
        h.send("VERSION", "handoff", "1", "0")
        h.recv()
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        h.send("SESSION", "9", "proto=gopher", "token=ab", "user=x", "rip=", "rport=1",
               "lip=", "lport=2", "session=s9", "data=", fds=[b.fileno()])
        b.close()
        self.assertEqual(h.recv(), ["FAIL", "9", "reason=unknown protocol"])
        self.assertEqual(children(self.ms_pid), [])
        # A SESSION without a descriptor drops the connection.
        h.send("SESSION", "10", "proto=pop3", "token=ab", "user=x", "rip=", "rport=1",
               "lip=", "lport=2", "session=s10", "data=")
        self.assertIsNone(h.recv())
        self.s.wait_log(r"SESSION without a descriptor")
        self.assertEqual(self.s.service("mailstore")["pid"], self.ms_pid)

    def test_sigquit_waits_for_the_session(self):
        reply, ours = self.handoff(self.token("alice"), "alice")
        self.assertEqual(reply[0], "OK")
        self.assertTrue(lofttest.read_line(ours).startswith("+OK"))
        os.kill(self.ms_pid, signal.SIGQUIT)
        self.s.wait_log(r"SIGQUIT: no new sessions")
        time.sleep(0.3)
        self.assertTrue(lofttest.pid_alive(self.ms_pid))
        ours.sendall(b"QUIT\r\n")
        self.assertTrue(lofttest.read_line(ours).startswith("+OK"))
        deadline = time.time() + 10
        while lofttest.pid_alive(self.ms_pid) and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(lofttest.pid_alive(self.ms_pid))
        self.s.wait_log(r"no sessions left; exiting")

    def test_sigterm_stops_the_workers_too(self):
        reply, ours = self.handoff(self.token("alice"), "alice")
        self.assertEqual(reply[0], "OK")
        self.assertTrue(lofttest.read_line(ours).startswith("+OK"))
        worker = children(self.ms_pid)[0]
        os.kill(self.ms_pid, signal.SIGTERM)
        deadline = time.time() + 10
        while (lofttest.pid_alive(worker) or lofttest.pid_alive(self.ms_pid)) and \
                time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(lofttest.pid_alive(worker))
        self.assertFalse(lofttest.pid_alive(self.ms_pid))
        self.assertEqual(ours.recv(100), b"")


class TestHandoffUnprivileged(TestHandoff):
    """The whole suite run by nobody: the worker stays nobody (auth's uid is
    not applied), still without capabilities and with NoNewPrivs."""
    run_as = "nobody"

    def test_worker_is_the_user_and_speaks_pop3(self):
        reply, ours = self.handoff(self.token("alice"), "alice")
        self.assertEqual(reply[0], "OK", reply)
        kids = children(self.ms_pid)
        self.assertEqual(len(kids), 1, kids)
        st = lofttest.proc_status(kids[0])
        nobody = pwd.getpwnam("nobody")
        self.assertEqual(st["Uid"].split(), [str(nobody.pw_uid)] * 4)
        self.assertEqual(st["Gid"].split(), [str(nobody.pw_gid)] * 4)
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertTrue(lofttest.read_line(ours).startswith("+OK"))
        self.assertEqual(os.stat(os.path.join(self.mail, "alice", "Maildir")).st_uid,
                         nobody.pw_uid)
        ours.sendall(b"QUIT\r\n")
        self.assertTrue(lofttest.read_line(ours).startswith("+OK"))
        self.wait_no_workers()

    # The remaining tests behave the same either way; run the refusals too.
    test_preread_bytes_reach_the_session = None
    test_unknown_proto_and_garbage = None
    test_sigquit_waits_for_the_session = None
    test_sigterm_stops_the_workers_too = None


class TestHandoffExpiry(TestHandoff):
    """A token handed over after auth_token_lifetime is refused."""
    token_lifetime = "1s"

    def test_expired_token_is_refused(self):
        tok = self.token("alice")
        time.sleep(1.6)
        start = len(self.s.log())
        reply, ours = self.handoff(tok, "alice")
        self.assertEqual(reply[0], "FAIL")
        self.assertEqual(reply[2], "reason=invalid token")
        self.assertEqual(ours.recv(100), b"")
        self.s.wait_log(r"hx1.*handoff refused: invalid token", start=start)
        self.wait_no_workers()
        self.assertFalse(os.path.exists(os.path.join(self.mail, "alice")))

    test_worker_is_the_user_and_speaks_pop3 = None
    test_preread_bytes_reach_the_session = None
    test_unknown_proto_and_garbage = None
    test_sigquit_waits_for_the_session = None
    test_forged_and_replayed_tokens_are_refused = None
    test_sigterm_stops_the_workers_too = None


if __name__ == "__main__":
    unittest.main()
