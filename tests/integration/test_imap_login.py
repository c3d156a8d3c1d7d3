"""IMAP before login end to end: the real loft-master, loft-auth,
loft-imap-login and loft-mailstore with a passwd-file user, driven by raw
sockets and Python's imaplib. Covers the greeting and CAPABILITY on imap and
imaps, ID/NOOP/LOGOUT, STARTTLS (and injection), LOGIN with quoted strings
and literals, AUTHENTICATE with SASL-IR and continuations, parser errors,
limits, plaintext refusal without the loopback exemption, the handoff (the
IMAP session in mailstore answers the login tag) and, as root, imap-login's
privileges."""

import base64
import imaplib
import os
import pwd
import re
import socket
import unittest

import lofttest

MAIL_UID = 5000 if lofttest.is_root() else os.getuid()
MAIL_GID = 5000 if lofttest.is_root() else os.getgid()
CAPS_PLAIN = (b"* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ STARTTLS "
              b"AUTH=PLAIN AUTH=LOGIN] Loft ready.")
CAPS_TLS = (b"* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ "
            b"AUTH=PLAIN AUTH=LOGIN] Loft ready.")
PRIVACY = (b" NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
           b"non-secure (SSL/TLS) connections.")
AUTH_FAILED = b" NO [AUTHENTICATIONFAILED] Authentication failed."
UNKNOWN = b" BAD Error in IMAP command received by server."


class Raw(lofttest.LineClient):
    """A line-oriented client on a plain or TLS socket."""

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()


class ImapBase(unittest.TestCase):
    protocols = ["imap", "imaps"]
    extra = {}

    @classmethod
    def setUpClass(cls):
        cls.s = lofttest.Suite(protocols=cls.protocols)
        lofttest.start_suite(cls.s, cls.prepare, r"imap-login\[\d+\]: serving")

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s)

    @classmethod
    def prepare(cls, s):
        cls.mail, users = lofttest.mail_users(s, ("alice", "bob"), MAIL_UID, MAIL_GID)
        extra = {"passdb": "passwd-file:" + users,
                 "mail_location": "maildir:%s/%%u/Maildir" % cls.mail,
                 "auth_failure_delay": "100ms",
                 "auth_failure_delay_max": "200ms"}
        extra.update(cls.extra)
        s.write_config(**extra)

    def raw(self, proto="imap", greeting=CAPS_PLAIN):
        sock = socket.create_connection(("127.0.0.1", self.s.port(proto)),
                                        timeout=10)
        if proto == "imaps":
            sock = lofttest.tls_ctx().wrap_socket(sock, server_hostname="localhost")
        r = Raw(sock)
        self.addCleanup(r.close)
        if greeting is not None:
            self.assertEqual(r.line(), greeting)
        return r

    def assert_logged_in(self, r, tag):
        """The login went through the handoff: the session answers the tag."""
        self.assertRegex(r.line(), rb"^%s OK \[CAPABILITY IMAP4rev1[^\]]*\] Logged in"
                         % re.escape(tag.encode()))


class PreLoginTest(ImapBase):
    def test_greeting_capability_noop_id_logout(self):
        r = self.raw()
        self.assertEqual(r.cmd("a CAPABILITY"), b"* CAPABILITY" + CAPS_PLAIN[16:-13])
        self.assertEqual(r.line(), b"a OK Pre-login capabilities listed, "
                         b"post-login capabilities have more.")
        self.assertEqual(r.cmd("b NOOP"), b"b OK NOOP completed.")
        self.assertEqual(r.cmd('c ID ("name" "test" "version" NIL)'),
                         b'* ID ("name" "Loft")')
        self.assertEqual(r.line(), b"c OK ID completed.")
        self.assertEqual(r.cmd("d ID NIL"), b'* ID ("name" "Loft")')
        self.assertEqual(r.line(), b"d OK ID completed.")
        self.assertEqual(r.cmd('e ID ("odd")'), b"e BAD Invalid ID parameters.")
        self.assertEqual(r.cmd("f NOOP x"), b"f BAD Unexpected arguments.")
        self.assertEqual(r.cmd("g LOGOUT"), b"* BYE Logging out")
        self.assertEqual(r.line(), b"g OK Logout completed.")
        self.assertTrue(r.closed())

    def test_imaps_greeting_has_no_starttls(self):
        r = self.raw("imaps", CAPS_TLS)
        self.assertEqual(r.cmd("a STARTTLS"), b"a BAD TLS is already active.")
        self.assertEqual(r.cmd("b CAPABILITY"), b"* CAPABILITY" + CAPS_TLS[16:-13])

    def test_imaplib_capability_and_noop(self):
        m = imaplib.IMAP4("127.0.0.1", self.s.port("imap"), timeout=10)
        self.addCleanup(m.sock.close)
        self.assertIn("STARTTLS", m.capabilities)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        self.assertEqual(m.noop()[0], "OK")
        self.assertEqual(m.logout()[0], "BYE")

    def test_unknown_and_wrong_state_commands(self):
        r = self.raw()
        for i, c in enumerate(("SELECT INBOX", "LIST \"\" *", "FETCH 1 FLAGS",
                               "XYZZY", "ENABLE UTF8=ACCEPT")):
            self.assertEqual(r.cmd("t%d %s" % (i, c)), b"t%d" % i + UNKNOWN)
        self.assertEqual(r.cmd("u AUTHENTICATE NOSUCH"),
                         b"u NO Unsupported authentication mechanism.")
        self.assertEqual(r.cmd("v AUTHENTICATE PLAIN !!!!"),
                         b"v BAD Invalid base64 data in initial response.")
        self.assertEqual(r.cmd("w LOGIN onlyone"), b"w BAD Invalid arguments.")
        self.assertEqual(r.cmd("x NOOP"), b"x OK NOOP completed.")
        # ten invalid commands in all: the tenth gets its reply, then BYE
        self.assertEqual(r.cmd("y FOO"), b"y" + UNKNOWN)
        self.assertEqual(r.cmd("z FOO"), b"z" + UNKNOWN)
        self.assertEqual(r.line(), b"* BYE Too many invalid IMAP commands.")
        self.assertTrue(r.closed())

    def test_nul_in_quoted_string_is_bad_and_connection_usable(self):
        r = self.raw()
        r.send(b'a LOGIN "ali\x00ce" "pw"\r\n')
        ln = r.line()
        self.assertTrue(ln.startswith(b"a BAD "), ln)
        self.assertEqual(r.cmd("b NOOP"), b"b OK NOOP completed.")

    def test_long_lines(self):
        r = self.raw()
        # an ID at RFC 2971's maxima (30 pairs, 1024-octet values): ~32k
        pairs = " ".join('"k%02d" "%s"' % (i, "v" * 1024) for i in range(30))
        self.assertEqual(r.cmd("a ID (" + pairs + ")"), b'* ID ("name" "Loft")')
        self.assertEqual(r.line(), b"a OK ID completed.")
        # over the parser's argument limit: BAD, and the connection goes on
        self.assertEqual(r.cmd("b LOGIN" + " x" * 70), b"b BAD Too many arguments")
        self.assertEqual(r.cmd("c NOOP"), b"c OK NOOP completed.")
        # over login_max_line_length (64k): BYE and disconnect
        r.send("d NOOP " + "x" * 70000 + "\r\n")
        self.assertEqual(r.line(), b"* BYE Input line too long.")
        self.assertTrue(r.closed())

    def test_literal_too_large(self):
        r = self.raw()
        ln = r.cmd("a LOGIN {2000}")
        self.assertTrue(ln.startswith(b"a BAD "), ln)
        self.assertEqual(r.cmd("b NOOP"), b"b OK NOOP completed.")

    def test_wrong_password_then_login(self):
        r = self.raw()
        self.assertEqual(r.cmd("a LOGIN alice wrong"), b"a" + AUTH_FAILED)
        ir = base64.b64encode(b"\0alice\0wrong").decode()
        self.assertEqual(r.cmd("b AUTHENTICATE PLAIN " + ir), b"b" + AUTH_FAILED)
        self.assertEqual(r.cmd("c NOOP"), b"c OK NOOP completed.")
        r.send('d LOGIN "alice" "secret-alice"\r\n')
        self.assert_logged_in(r, "d")

    def test_login_with_literals(self):
        r = self.raw()
        self.assertEqual(r.cmd("a LOGIN {5}"), b"+ Ready for literal data")
        self.assertEqual(r.cmd("alice {12}"), b"+ Ready for literal data")
        r.send("secret-alice\r\n")
        self.assert_logged_in(r, "a")

    def test_login_with_nonsync_literals(self):
        r = self.raw()
        r.send("a LOGIN {5+}\r\nalice {12+}\r\nsecret-alice\r\n")
        self.assert_logged_in(r, "a")

    def test_authenticate_plain_sasl_ir(self):
        r = self.raw()
        ir = base64.b64encode(b"\0alice\0secret-alice").decode()
        r.send("a AUTHENTICATE PLAIN %s\r\n" % ir)
        self.assert_logged_in(r, "a")
        self.s.wait_log(r"Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1")

    def test_login_pipelined_commands_reach_the_session(self):
        r = self.raw()
        r.send("a LOGIN alice secret-alice\r\nb NOOP\r\nc LOGOUT\r\n")
        self.assert_logged_in(r, "a")
        self.assertEqual(r.line(), b"b OK NOOP completed.")
        self.assertEqual(r.line(), b"* BYE Logging out")
        self.assertTrue(r.line().startswith(b"c OK"))
        self.assertTrue(r.closed())

    def test_login_over_imaps(self):
        r = self.raw("imaps", CAPS_TLS)
        r.send("a1 LOGIN bob secret-bob\r\na2 NOOP\r\n")
        self.assert_logged_in(r, "a1")
        self.assertEqual(r.line(), b"a2 OK NOOP completed.")
        self.s.wait_log(r"Login: user=<bob>, method=PLAIN, rip=127\.0\.0\.1, "
                        r"lip=127\.0\.0\.1, TLS,")

    def test_authenticate_plain_continuation_and_cancel(self):
        r = self.raw()
        self.assertEqual(r.cmd("a AUTHENTICATE PLAIN"), b"+ ")
        self.assertEqual(r.cmd("*"), b"a BAD Authentication aborted by client.")
        self.assertEqual(r.cmd("b AUTHENTICATE PLAIN"), b"+ ")
        self.assertEqual(r.cmd("!!!"),
                         b"b BAD Invalid base64 data in continued response.")
        self.assertEqual(r.cmd("c AUTHENTICATE PLAIN"), b"+ ")
        r.send(base64.b64encode(b"\0alice\0secret-alice") + b"\r\n")
        self.assert_logged_in(r, "c")

    def test_authenticate_login(self):
        r = self.raw()
        self.assertTrue(r.cmd("a AUTHENTICATE LOGIN").startswith(b"+ "))
        self.assertTrue(r.cmd(base64.b64encode(b"alice").decode()).startswith(b"+ "))
        r.send(base64.b64encode(b"secret-alice") + b"\r\n")
        self.assert_logged_in(r, "a")

    def test_starttls_injection_discarded(self):
        sock = socket.create_connection(("127.0.0.1", self.s.port("imap")), timeout=10)
        r = Raw(sock)
        self.addCleanup(r.close)
        self.assertEqual(r.line(), CAPS_PLAIN)
        r.send("a STARTTLS\r\nb CAPABILITY\r\n")  # b rides in plaintext
        self.assertEqual(r.line(), b"a OK Begin TLS negotiation now.")
        self.assertEqual(r.buf, b"")
        t = Raw(lofttest.tls_ctx().wrap_socket(sock, server_hostname="localhost"))
        self.addCleanup(t.close)
        # the first reply over TLS is c's, not the injected b's
        self.assertEqual(t.cmd("c NOOP"), b"c OK NOOP completed.")
        self.assertEqual(t.cmd("d STARTTLS"), b"d BAD TLS is already active.")
        self.s.wait_log(r"discarded 14 bytes sent before the TLS handshake")

    def test_privileges(self):
        if not lofttest.is_root():
            self.skipTest("needs root")
        self.raw()
        pid = self.s.service("imap-login")["pid"]
        st = lofttest.proc_status(pid)
        login = pwd.getpwnam("loft-login")
        self.assertEqual(st["Uid"].split(), [str(login.pw_uid)] * 4)
        self.assertEqual(st["Gid"].split(), [str(login.pw_gid)] * 4)
        for k in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
            self.assertEqual(int(st[k], 16), 0, k)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(os.readlink("/proc/%d/root" % pid),
                         os.path.realpath(self.s.login_chroot))


class PlaintextRefusedTest(ImapBase):
    extra = {"auth_loopback_secure": "no"}

    def test_logindisabled_then_starttls(self):
        r = self.raw(greeting=b"* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ "
                     b"STARTTLS LOGINDISABLED] Loft ready.")
        self.assertEqual(r.cmd("a LOGIN alice secret-alice"), b"a" + PRIVACY)
        ir = base64.b64encode(b"\0alice\0secret-alice").decode()
        self.assertEqual(r.cmd("b AUTHENTICATE PLAIN " + ir), b"b" + PRIVACY)
        self.assertEqual(r.cmd("c STARTTLS"), b"c OK Begin TLS negotiation now.")
        t = Raw(lofttest.tls_ctx().wrap_socket(r.sock, server_hostname="localhost"))
        self.addCleanup(t.close)
        self.assertEqual(t.cmd("d CAPABILITY"), b"* CAPABILITY" + CAPS_TLS[16:-13])
        self.assertEqual(t.line(), b"d OK Pre-login capabilities listed, "
                         b"post-login capabilities have more.")
        t.send("e LOGIN alice secret-alice\r\n")
        self.assert_logged_in(t, "e")


class LimitsTest(ImapBase):
    extra = {"login_idle_timeout": "1s"}

    def test_idle_timeout(self):
        r = self.raw()
        self.assertEqual(r.line(), b"* BYE Disconnected for inactivity.")
        self.assertTrue(r.closed())


if __name__ == "__main__":
    unittest.main()
