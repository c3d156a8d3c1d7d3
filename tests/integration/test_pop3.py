"""POP3 end to end: the real loft-master, loft-auth, loft-pop3-login and
loft-mailstore, with a passwd-file user, driven by Python's poplib, raw
sockets, curl and fetchmail. Covers pre-login behaviour (CAPA, STLS, USER/PASS,
AUTH with continuations and initial responses, limits), the handoff with
pipelined bytes (plain and TLS), the session commands, STARTTLS injection,
plaintext refusal without the loopback exemption, the seed scenario of turning
POP3 on with the protocols line, and (as root) the processes' privileges."""

import base64
import os
import poplib
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

import lofttest

PLAINTEXT_REFUSED = (b"-ERR [AUTH] Plaintext authentication disallowed on "
                     b"non-secure (SSL/TLS) connections.")
MAIL_UID = 5000 if lofttest.is_root() else os.getuid()
MAIL_GID = 5000 if lofttest.is_root() else os.getgid()


class Raw(lofttest.LineClient):
    """A line-oriented POP3 client on a plain or TLS socket."""

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multi(self):
        out = []
        while True:
            ln = self.line()
            if ln == b".":
                return out
            out.append(ln[1:] if ln.startswith(b"..") else ln)


class Pop3Base(unittest.TestCase):
    protocols = ["pop3", "pop3s"]
    extra = {}

    user = None  # run the master as this user (unprivileged mode)
    uid, gid = MAIL_UID, MAIL_GID

    @classmethod
    def setUpClass(cls):
        if cls.user is not None:
            if not lofttest.is_root():
                raise unittest.SkipTest("needs root to switch users")
            pw = pwd.getpwnam(cls.user)
            cls.uid, cls.gid = pw.pw_uid, pw.pw_gid
        cls.s = lofttest.Suite(protocols=cls.protocols, user=cls.user)
        lofttest.start_suite(cls.s, cls.prepare, r"pop3-login\[\d+\]: serving")

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s)

    @classmethod
    def prepare(cls, s):
        cls.mail, users = lofttest.mail_users(s, ("alice", "bob", "carol", "dave"),
                                              cls.uid, cls.gid)
        extra = {"passdb": "passwd-file:" + users,
                 "mail_location": "maildir:%s/%%u/Maildir" % cls.mail,
                 "auth_failure_delay": "100ms",
                 "auth_failure_delay_max": "200ms"}
        extra.update(cls.extra)
        s.write_config(**extra)

    # -- helpers -----------------------------------------------------------

    def maildir(self, user):
        return os.path.join(self.mail, user, "Maildir")

    def reset_maildir(self, user):
        shutil.rmtree(self.maildir(user), ignore_errors=True)

    def put_message(self, user, text):
        """Deliver by writing the Maildir layout directly (tmp/ then new/)."""
        md = self.maildir(user)
        for sub in ("", "cur", "new", "tmp"):
            d = os.path.join(md, sub)
            os.makedirs(d, exist_ok=True)
            os.chown(d, self.uid, self.gid)
            os.chmod(d, 0o700)
        self._seq = getattr(self, "_seq", 0) + 1
        name = "%d.M%dP%d_%d.test" % (time.time(), self._seq, os.getpid(),
                                      self._seq)
        tmp = os.path.join(md, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(text)
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, os.path.join(md, "new", name))

    def raw(self, proto="pop3"):
        sock = socket.create_connection(("127.0.0.1", self.s.port(proto)),
                                        timeout=10)
        if proto == "pop3s":
            sock = lofttest.tls_ctx().wrap_socket(sock, server_hostname="localhost")
        r = Raw(sock)
        self.addCleanup(r.close)
        self.assertEqual(r.line(), b"+OK Loft ready.")
        return r

    def pop(self, user, proto="pop3"):
        if proto == "pop3s":
            p = poplib.POP3_SSL("127.0.0.1", self.s.port("pop3s"),
                                context=lofttest.tls_ctx(), timeout=10)
        else:
            p = poplib.POP3("127.0.0.1", self.s.port("pop3"), timeout=10)
        self.addCleanup(p.close)
        p.user(user)
        self.assertEqual(p.pass_("secret-" + user), b"+OK Logged in.")
        return p


MSG1 = (b"From: Someone <someone@example.org>\r\nTo: alice@example.org\r\n"
        b"Subject: first\r\n\r\nHello Alice.\r\n.leading dot line\r\n"
        b"last line\r\n")
MSG2 = (b"From: b@example.org\nSubject: second (LF only)\n\nline one\n"
        b"line two\n")


class PreLoginTest(Pop3Base):
    def test_greeting_and_capa_plain_loopback(self):
        r = self.raw()
        r.send("CAPA\r\n")
        self.assertEqual(r.line(), b"+OK")
        caps = r.multi()
        for c in (b"CAPA", b"TOP", b"UIDL", b"RESP-CODES", b"PIPELINING",
                  b"AUTH-RESP-CODE", b"STLS", b"USER", b"SASL PLAIN LOGIN"):
            self.assertIn(c, caps)
        self.assertEqual(r.cmd("QUIT"), b"+OK Logging out.")
        self.assertTrue(r.closed())

    def test_capa_on_pop3s_has_no_stls(self):
        r = self.raw("pop3s")
        r.send("CAPA\r\n")
        self.assertEqual(r.line(), b"+OK")
        caps = r.multi()
        self.assertNotIn(b"STLS", caps)
        self.assertIn(b"USER", caps)
        self.assertEqual(r.cmd("STLS"), b"-ERR TLS is already active.")

    def test_wrong_state_and_unknown_commands(self):
        r = self.raw()
        for c in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "NOOP", "XYZZY"):
            self.assertEqual(r.cmd(c), b"-ERR Unknown command.", c)
        self.assertEqual(r.cmd("PASS x"), b"-ERR No username given.")
        self.assertEqual(r.cmd("AUTH NOSUCH"),
                         b"-ERR Unsupported authentication mechanism.")
        # 10 bad commands in all: the tenth gets its reply, then disconnect
        self.assertEqual(r.cmd("FOO"), b"-ERR Unknown command.")
        self.assertTrue(r.closed())

    def test_auth_list_and_bad_base64(self):
        r = self.raw()
        r.send("AUTH\r\n")
        self.assertEqual(r.line(), b"+OK")
        self.assertEqual(r.multi(), [b"PLAIN", b"LOGIN"])
        self.assertEqual(r.cmd("AUTH PLAIN !!!!"),
                         b"-ERR Invalid base64 data in initial response.")

    def test_wrong_password(self):
        r = self.raw()
        self.assertEqual(r.cmd("USER alice"), b"+OK")
        self.assertEqual(r.cmd("PASS Wr0ngPw"),
                         b"-ERR [AUTH] Authentication failed.")
        ir = base64.b64encode(b"\0alice\0Wr0ngPw").decode()
        self.assertEqual(r.cmd("AUTH PLAIN " + ir),
                         b"-ERR [AUTH] Authentication failed.")
        # still usable afterwards
        self.assertEqual(r.cmd("USER alice"), b"+OK")
        self.assertEqual(r.cmd("PASS secret-alice"), b"+OK Logged in.")
        self.assertEqual(r.cmd("QUIT"), b"+OK Logging out.")
        # a client that gives up: the log names the last user it tried
        r2 = self.raw()
        self.assertEqual(r2.cmd("USER carol"), b"+OK")
        self.assertTrue(r2.cmd("PASS Wr0ngPw").startswith(b"-ERR [AUTH]"))
        ir = base64.b64encode(b"\0bob\0Wr0ngPw").decode()
        self.assertTrue(r2.cmd("AUTH PLAIN " + ir).startswith(b"-ERR [AUTH]"))
        self.assertEqual(r2.cmd("QUIT"), b"+OK Logging out.")
        self.s.wait_log(r"Disconnected \(auth failed, 2 attempts in \d+ secs\): "
                        r"user=<bob>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, "
                        r"session=<")
        log = self.s.log()
        self.assertNotIn("secret-alice", log)
        self.assertNotIn("Wr0ngPw", log)

    def test_ten_failed_logins_disconnect(self):
        r = self.raw()
        ir = base64.b64encode(b"\0dave\0nope").decode()
        for _ in range(9):
            self.assertEqual(r.cmd("AUTH PLAIN " + ir), b"-ERR [AUTH] Authentication failed.")
        self.assertEqual(r.cmd("AUTH PLAIN " + ir), b"-ERR [AUTH] Authentication failed.")
        self.assertTrue(r.closed(timeout=10))
        self.s.wait_log(r"Disconnected \(Too many invalid commands\): user=<dave>")

    def test_line_too_long(self):
        r = self.raw()
        # over the parser's POP3 line limit but under login_max_line_length
        self.assertEqual(r.cmd("USER " + "a" * 600), b"-ERR Input line too long.")
        # over login_max_line_length (8k): reply, then disconnect
        r.send("X" * 9000)
        self.assertEqual(r.line(), b"-ERR Input line too long.")
        self.assertTrue(r.closed())
        self.s.wait_log(r"pop3-login\[\d+\]: Disconnected \(Input line too long\)")


class SessionTest(Pop3Base):
    def setUp(self):
        self.reset_maildir("alice")

    def test_user_pass_every_command(self):
        self.put_message("alice", MSG1)
        self.put_message("alice", MSG2)
        p = self.pop("alice")
        crlf2 = MSG2.replace(b"\n", b"\r\n")
        self.assertEqual(p.stat(), (2, len(MSG1) + len(crlf2)))
        resp, lines, _ = p.list()
        self.assertEqual(resp, b"+OK 2 messages:")
        self.assertEqual(lines, [b"1 %d" % len(MSG1), b"2 %d" % len(crlf2)])
        self.assertEqual(p.list(2), b"+OK 2 %d" % len(crlf2))
        uidl = p.uidl()[1]
        self.assertEqual(len(uidl), 2)
        self.assertEqual(p.uidl(1), b"+OK " + uidl[0])
        resp, lines, octets = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", MSG1)
        resp, lines, _ = p.top(2, 0)
        self.assertEqual(lines, [b"From: b@example.org", b"Subject: second (LF only)", b""])
        self.assertEqual(p.noop(), b"+OK")
        self.assertTrue(p.dele(1).startswith(b"+OK"))
        with self.assertRaises(poplib.error_proto) as cm:
            p.retr(1)
        self.assertIn(b"deleted", cm.exception.args[0])
        p.rset()
        self.assertEqual(p.stat()[0], 2)
        with self.assertRaises(poplib.error_proto):
            p.retr(3)
        with self.assertRaises(poplib.error_proto):
            p.user("bob")  # not valid after login
        p.dele(2)
        self.assertTrue(p.quit().startswith(b"+OK"))
        p2 = self.pop("alice")
        self.assertEqual(p2.stat()[0], 1)
        self.assertEqual(p2.uidl()[1], [uidl[0]])  # UIDLs stable
        p2.quit()

    def test_dropped_connection_keeps_deleted(self):
        self.put_message("alice", MSG1)
        self.put_message("alice", MSG1)
        r = self.raw()
        self.assertEqual(r.cmd("USER alice"), b"+OK")
        self.assertEqual(r.cmd("PASS secret-alice"), b"+OK Logged in.")
        self.assertTrue(r.cmd("DELE 1").startswith(b"+OK"))
        r.close()
        deadline = time.time() + 10
        while True:  # the old worker must let go of the maildrop first
            try:
                p = self.pop("alice")
                break
            except poplib.error_proto:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    def test_second_session_in_use(self):
        p = self.pop("alice")
        r = self.raw()
        self.assertEqual(r.cmd("USER alice"), b"+OK")
        reply = r.cmd("PASS secret-alice")
        self.assertTrue(reply.startswith(b"-ERR [IN-USE]"), reply)
        p.quit()

    def test_auth_plain_initial_response_and_pipelining(self):
        self.put_message("alice", MSG1)
        r = self.raw()
        ir = base64.b64encode(b"\0alice\0secret-alice").decode()
        # the commands after AUTH travel with the handoff
        r.send("AUTH PLAIN %s\r\nSTAT\r\nUIDL 1\r\nQUIT\r\n" % ir)
        self.assertEqual(r.line(), b"+OK Logged in.")
        self.assertEqual(r.line(), b"+OK 1 %d" % len(MSG1))
        self.assertTrue(r.line().startswith(b"+OK 1 "))
        self.assertTrue(r.line().startswith(b"+OK Logging out"))

    def test_user_pass_pipelined_over_tls(self):
        self.put_message("alice", MSG1)
        r = self.raw("pop3s")
        r.send("USER alice\r\nPASS secret-alice\r\nSTAT\r\nRETR 1\r\nQUIT\r\n")
        self.assertEqual(r.line(), b"+OK")
        self.assertEqual(r.line(), b"+OK Logged in.")
        self.assertEqual(r.line(), b"+OK 1 %d" % len(MSG1))
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertEqual(b"\r\n".join(r.multi()) + b"\r\n", MSG1)
        self.assertTrue(r.line().startswith(b"+OK Logging out"))
        self.assertTrue(r.closed())

    def test_auth_plain_continuation_and_login(self):
        r = self.raw()
        self.assertEqual(r.cmd("AUTH PLAIN"), b"+ ")
        self.assertEqual(r.cmd("*"), b"-ERR [AUTH] Authentication aborted by client.")
        self.assertEqual(r.cmd("AUTH LOGIN"), b"+ " + base64.b64encode(b"Username:"))
        self.assertEqual(r.cmd(base64.b64encode(b"alice").decode()),
                         b"+ " + base64.b64encode(b"Password:"))
        self.assertEqual(r.cmd(base64.b64encode(b"secret-alice").decode()),
                         b"+OK Logged in.")
        self.assertTrue(r.cmd("QUIT").startswith(b"+OK"))

    def test_auth_plain_over_stls(self):
        p = poplib.POP3("127.0.0.1", self.s.port("pop3"), timeout=10)
        self.addCleanup(p.close)
        self.assertEqual(p.stls(lofttest.tls_ctx()), b"+OK Begin TLS negotiation now.")
        self.assertNotIn("STLS", p.capa())
        p.user("alice")
        self.assertEqual(p.pass_("secret-alice"), b"+OK Logged in.")
        self.assertEqual(p.stat()[0], 0)
        p.quit()
        self.s.wait_log(r"Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, "
                        r"lip=127\.0\.0\.1, TLS, session=<")

    def test_starttls_injection_discarded(self):
        sock = socket.create_connection(("127.0.0.1", self.s.port("pop3")), timeout=10)
        r = Raw(sock)
        self.addCleanup(r.close)
        self.assertEqual(r.line(), b"+OK Loft ready.")
        r.send("STLS\r\nCAPA\r\n")  # CAPA rides in plaintext after STLS
        self.assertEqual(r.line(), b"+OK Begin TLS negotiation now.")
        self.assertEqual(r.buf, b"")
        t = Raw(lofttest.tls_ctx().wrap_socket(sock, server_hostname="localhost"))
        self.addCleanup(t.close)
        # the first reply over TLS is QUIT's, not the injected CAPA's
        self.assertEqual(t.cmd("QUIT"), b"+OK Logging out.")
        self.s.wait_log(r"discarded 6 bytes sent before the TLS handshake")

    def test_privileges_while_session_open(self):
        if not lofttest.is_root():
            self.skipTest("needs root")
        p = self.pop("alice")
        st = lofttest.proc_status(self.s.service("pop3-login")["pid"])
        login = pwd.getpwnam("loft-login")
        pid = self.s.service("pop3-login")["pid"]
        self.assertEqual(st["Uid"].split(), [str(login.pw_uid)] * 4)
        self.assertEqual(st["Gid"].split(), [str(login.pw_gid)] * 4)
        for k in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
            self.assertEqual(int(st[k], 16), 0, k)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(os.readlink("/proc/%d/root" % pid),
                         os.path.realpath(self.s.login_chroot))
        # the session's worker: a child of mailstore running as the mail user
        start = len(self.s.log()) - 20000
        sid = None
        for m in re.finditer(r"Login: user=<alice>, .*session=<([^>]+)>", self.s.log()):
            sid = m.group(1)
        self.assertIsNotNone(sid)
        worker = int(self.s.wait_log(r"sess=%s: worker (\d+)" % re.escape(sid),
                                     start=max(start, 0)).group(1))
        ms = self.s.service("mailstore")["pid"]
        with open("/proc/%d/task/%d/children" % (ms, ms)) as f:
            self.assertIn(worker, [int(x) for x in f.read().split()])
        wst = lofttest.proc_status(worker)
        self.assertEqual(wst["Uid"].split(), [str(MAIL_UID)] * 4)
        self.assertEqual(wst["Gid"].split()[0], str(MAIL_GID))
        self.assertEqual(int(wst["CapEff"], 16), 0)
        p.quit()


class LmtpTest(Pop3Base):
    protocols = ["pop3", "pop3s", "lmtp"]

    def test_lmtp_message_byte_exact(self):
        msg = (b"From: x@example.org\r\nTo: bob@localhost\r\nSubject: via lmtp\r\n"
               b"\r\nbody line\r\n.dot line\r\n\r\nend\r\n")
        try:
            with smtplib.LMTP("127.0.0.1", self.s.port("lmtp"), timeout=10) as l:
                l.sendmail("x@example.org", ["bob"], msg)
        except (smtplib.SMTPException, OSError) as e:
            self.fail("LMTP delivery failed: %s\n%s" % (e, self.s.log()[-2000:]))
        p = self.pop("bob")
        self.assertEqual(p.stat()[0], 1)
        lines = p.retr(1)[1]
        got = b"\r\n".join(lines) + b"\r\n"
        self.assertTrue(got.endswith(msg), got)  # delivery may prepend trace headers
        top = p.top(1, 0)[1]
        self.assertEqual(top[-1], b"")
        self.assertNotIn(b"body line", b"\r\n".join(top))
        self.assertIn(b"Subject: via lmtp", top)
        p.quit()


class ClientsTest(Pop3Base):
    def setUp(self):
        self.reset_maildir("carol")

    def curl(self, *args):
        r = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=40)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout

    def test_curl(self):
        self.put_message("carol", MSG1)
        port, sport = self.s.port("pop3"), self.s.port("pop3s")
        auth = "carol:secret-carol"
        listing = self.curl("pop3://%s@127.0.0.1:%d/" % (auth, port))
        self.assertEqual(listing, b"1 %d\r\n" % len(MSG1))
        self.assertEqual(self.curl("pop3://%s@127.0.0.1:%d/1" % (auth, port)), MSG1)
        self.assertEqual(self.curl("-k", "pop3s://%s@127.0.0.1:%d/1" % (auth, sport)), MSG1)
        self.assertEqual(self.curl("-k", "--ssl-reqd",
                                   "pop3://%s@127.0.0.1:%d/1" % (auth, port)), MSG1)
        self.s.wait_log(r"Login: user=<carol>, method=PLAIN, .*TLS, session=")

    def fetchmail(self, keep):
        if shutil.which("fetchmail") is None:
            self.skipTest("fetchmail not installed (apt-get install fetchmail)")
        d = tempfile.mkdtemp(prefix="fetchmail-")
        self.addCleanup(shutil.rmtree, d, True)
        out = os.path.join(d, "out")
        rc = os.path.join(d, "fetchmailrc")
        with open(rc, "w") as f:
            f.write("set no syslog\npoll 127.0.0.1 with protocol pop3 port %d\n"
                    "  user carol there with password \"secret-carol\" is carol here\n"
                    "  %s sslproto '' mda \"/bin/sh -c 'cat >> %s'\"\n"
                    % (self.s.port("pop3"), "keep" if keep else "nokeep", out))
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=d, FETCHMAILHOME=d)
        r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stdout.decode())
        with open(out, "rb") as f:
            return f.read(), r.returncode

    def count(self):
        p = self.pop("carol")
        n = p.stat()[0]
        p.quit()
        return n

    def test_fetchmail_keep_and_nokeep(self):
        self.put_message("carol", MSG1)
        self.put_message("carol", MSG2)
        got, rc = self.fetchmail(keep=True)
        self.assertEqual(rc, 0)
        self.assertIn(b"Subject: first", got)
        self.assertIn(b"Subject: second (LF only)", got)
        self.assertEqual(self.count(), 2)
        got, rc = self.fetchmail(keep=False)
        self.assertIn(b"Subject: first", got)
        self.assertEqual(self.count(), 0)


class PlaintextRefusedTest(Pop3Base):
    extra = {"auth_loopback_secure": "no"}

    def test_refused_before_stls_accepted_after(self):
        r = self.raw()
        r.send("CAPA\r\n")
        self.assertEqual(r.line(), b"+OK")
        caps = r.multi()
        self.assertIn(b"STLS", caps)
        self.assertNotIn(b"USER", caps)
        self.assertFalse([c for c in caps if c.startswith(b"SASL")], caps)
        self.assertEqual(r.cmd("USER alice"), PLAINTEXT_REFUSED)
        self.assertEqual(r.cmd("PASS secret-alice"), PLAINTEXT_REFUSED)
        self.assertEqual(r.cmd("AUTH PLAIN"), PLAINTEXT_REFUSED)
        p = poplib.POP3("127.0.0.1", self.s.port("pop3"), timeout=10)
        self.addCleanup(p.close)
        with self.assertRaises(poplib.error_proto) as cm:
            p.user("alice")
        self.assertEqual(cm.exception.args[0], PLAINTEXT_REFUSED)
        p.stls(lofttest.tls_ctx())
        caps = p.capa()
        self.assertIn("USER", caps)
        self.assertEqual(caps["SASL"], ["PLAIN", "LOGIN"])
        p.user("alice")
        self.assertEqual(p.pass_("secret-alice"), b"+OK Logged in.")
        p.quit()


class SslRequiredTest(Pop3Base):
    extra = {"ssl": "required", "disable_plaintext_auth": "no"}

    def test_login_only_over_tls(self):
        r = self.raw()
        r.send("CAPA\r\n")
        self.assertEqual(r.line(), b"+OK")
        caps = r.multi()
        self.assertIn(b"STLS", caps)
        self.assertNotIn(b"USER", caps)  # even from loopback
        self.assertEqual(r.cmd("USER alice"), PLAINTEXT_REFUSED)
        p = self.pop("alice", "pop3s")
        p.quit()


class LimitsTest(Pop3Base):
    # mynetworks is exempt from the per-address limit: keep loopback out of it.
    extra = {"login_idle_timeout": "1s", "login_max_connections_per_ip": "2",
             "mynetworks": "192.0.2.0/24"}

    def test_idle_timeout(self):
        deadline = time.time() + 5
        while True:  # another test's clients may still hold the 2 slots
            try:
                r = self.raw()
                break
            except (EOFError, ConnectionResetError, AssertionError):
                # refused: "-ERR [SYS/TEMP] Too many connections ..."
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.assertEqual(r.line(), b"-ERR Disconnected for inactivity.")
        self.assertTrue(r.closed())

    def test_connections_per_ip(self):
        a, b = self.raw(), self.raw()
        sock = socket.create_connection(("127.0.0.1", self.s.port("pop3")), timeout=5)
        self.addCleanup(sock.close)
        third = Raw(sock)  # told why, then closed at once
        self.assertEqual(third.line(), b"-ERR [SYS/TEMP] Too many connections from your address.")
        self.assertTrue(third.closed())
        a.cmd("QUIT")
        self.assertTrue(a.closed())
        self.raw()  # a slot is free again
        b.close()


class NoTlsTest(Pop3Base):
    extra = {"ssl": "no"}

    def test_no_stls_and_pop3s_closed(self):
        r = self.raw()
        r.send("CAPA\r\n")
        self.assertEqual(r.line(), b"+OK")
        self.assertNotIn(b"STLS", r.multi())
        self.assertEqual(r.cmd("STLS"), b"-ERR TLS support isn't enabled.")
        sock = socket.create_connection(("127.0.0.1", self.s.port("pop3s")), timeout=5)
        self.addCleanup(sock.close)
        self.assertEqual(sock.recv(100), b"")
        self.s.wait_log(r"listener pop3s needs TLS but ssl = no")


class LifecycleTest(Pop3Base):
    """Reload drains the old pop3-login without cutting a proxied TLS session;
    losing mailstore or auth (unreachable from the chroot) restarts it."""

    def pop3_login_pid(self):
        svc = self.s.service("pop3-login")
        return svc["pid"] if svc else None

    def login_eventually(self, user, timeout=15):
        deadline = time.time() + timeout
        while True:
            p = None
            try:
                p = poplib.POP3("127.0.0.1", self.s.port("pop3"), timeout=5)
                p.user(user)
                p.pass_("secret-" + user)
                return p
            except (poplib.error_proto, OSError, EOFError):
                if p is not None:
                    p.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def test_reload_keeps_tls_session(self):
        old = self.pop3_login_pid()
        r = self.raw("pop3s")
        self.assertEqual(r.cmd("USER dave"), b"+OK")
        self.assertEqual(r.cmd("PASS secret-dave"), b"+OK Logged in.")
        gen = self.s.status()["master"]["generation"]
        self.s.reload()
        self.s.wait_running(generation=gen + 1)
        deadline = time.time() + 10
        while self.pop3_login_pid() in (old, None) and time.time() < deadline:
            time.sleep(0.05)
        self.assertNotEqual(self.pop3_login_pid(), old)
        self.assertTrue(lofttest.pid_alive(old))  # draining: still proxying
        self.assertTrue(r.cmd("STAT").startswith(b"+OK 0 "))
        self.assertTrue(r.cmd("QUIT").startswith(b"+OK"))
        self.assertTrue(r.closed())
        deadline = time.time() + 10
        while lofttest.pid_alive(old) and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(lofttest.pid_alive(old))
        self.login_eventually("dave").quit()

    def test_mailstore_restart_restarts_login(self):
        old = self.pop3_login_pid()
        os.kill(self.s.service("mailstore")["pid"], 9)
        self.s.wait_log(r"connection to mailstore's handoff socket lost")
        deadline = time.time() + 15
        while self.pop3_login_pid() in (old, None) and time.time() < deadline:
            time.sleep(0.1)
        self.assertNotEqual(self.pop3_login_pid(), old)
        self.s.wait_running(timeout=15)
        self.login_eventually("dave").quit()

    def test_auth_restart(self):
        self.login_eventually("dave").quit()  # pop3-login is connected to auth
        os.kill(self.s.service("auth")["pid"], 9)
        time.sleep(0.2)
        self.s.wait_running(timeout=15)
        # the first attempt may find pop3-login on its way out (chrooted, it
        # cannot reach auth again); the master restarts it and logins work
        self.login_eventually("dave").quit()
        if lofttest.is_root():
            self.s.wait_log(r"connection to loft-auth lost")


class UnprivilegedTest(Pop3Base):
    """The master started as an ordinary user: no chroot, same behaviour
    (and, in sanitizer builds, pop3-login's leak check runs at its exit)."""
    user = "nobody"

    def setUp(self):
        self.reset_maildir("alice")

    def test_login_plain_and_tls(self):
        self.put_message("alice", MSG1)
        svc = self.s.service("pop3-login")
        st = lofttest.proc_status(svc["pid"])
        self.assertEqual(st["Uid"].split()[0], str(self.uid))
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(os.readlink("/proc/%d/root" % svc["pid"]), "/")
        p = self.pop("alice")
        self.assertEqual(p.retr(1)[1][-1], b"last line")
        p.quit()
        p = self.pop("alice", "pop3s")
        self.assertEqual(p.stat()[0], 1)
        p.quit()


class SeedScenarioTest(unittest.TestCase):
    """Default protocols: no POP3. Add pop3 pop3s, `loft restart`: both work."""

    def test_enable_pop3_with_protocols_line(self):
        s = lofttest.Suite(protocols=["imap", "imaps", "smtp", "submission",
                                      "submissions"])
        self.addCleanup(s.cleanup)
        # daemons of other issues may not be built yet: stand-ins for them
        libexec = os.path.join(s.tmpdir, "libexec")
        os.makedirs(libexec)
        for exe, _ in lofttest.SERVICES.values():
            real = os.path.join(lofttest.BIN_DIR, exe)
            os.symlink(real if os.path.exists(real) else
                       os.path.join(lofttest.BIN_DIR, "loft-testsvc"),
                       os.path.join(libexec, exe))
        users = os.path.join(s.tmpdir, "users")
        home = os.path.join(s.tmpdir, "home")
        os.makedirs(home)
        os.chown(home, MAIL_UID, MAIL_GID)
        with open(users, "w") as f:
            f.write("alice:{PLAIN}pw:%d:%d::%s::\n" % (MAIL_UID, MAIL_GID, home))
        s.write_config(libexec_dir=libexec, passdb="passwd-file:" + users,
                       mail_location="maildir:~/Maildir")
        s.start()
        for proto in ("pop3", "pop3s"):
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", s.port(proto)), timeout=5)
        text = s.read_config().replace(
            "protocols = imap imaps smtp submission submissions",
            "protocols = imap imaps smtp submission submissions pop3 pop3s")
        s.write_raw_config(text)
        s.protocols += ["pop3", "pop3s"]
        r = subprocess.run([os.path.join(lofttest.BIN_DIR, "loft"), "-c", s.conf, "restart"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        s.master_pid = None
        s.wait_running()
        p = poplib.POP3("127.0.0.1", s.port("pop3"), timeout=10)
        p.user("alice")
        self.assertEqual(p.pass_("pw"), b"+OK Logged in.")
        p.quit()
        p = poplib.POP3_SSL("127.0.0.1", s.port("pop3s"), context=lofttest.tls_ctx(), timeout=10)
        p.user("alice")
        self.assertEqual(p.pass_("pw"), b"+OK Logged in.")
        p.quit()


if __name__ == "__main__":
    unittest.main()
