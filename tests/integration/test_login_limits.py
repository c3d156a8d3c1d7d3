"""Login starvation and per-address limits (issue 18), end to end on the
real suite over loopback (Linux routes all of 127/8 to lo, so client
sockets bound to 127.0.0.2 .. 127.0.0.x are distinct source addresses):

- a flood of wrong passwords from many addresses, more failed logins in
  their failure delay than one auth connection has request slots (1024),
  does not keep a correct login from another address from succeeding at
  once, and the failures are still answered only after the delay;
- 40 IMAP and 40 SMTP connections from one address (not in mynetworks)
  are all greeted; the 51st is refused with a line saying why;
- smtpd's connection child waits out auth's failure delay itself;
- half-open TLS handshakes (imaps, SMTP 465, IMAP STARTTLS, SMTP STARTTLS)
  are closed after ssl_handshake_timeout, and login_max_clients /
  smtpd_max_clients refuse the next client with a clear line."""

import base64
import os
import resource
import selectors
import socket
import time
import unittest

import lofttest

MAIL_UID = 5000 if lofttest.is_root() else os.getuid()
MAIL_GID = 5000 if lofttest.is_root() else os.getgid()
FLOOD_ADDRS = 105  # x FLOOD_PER_ADDR failing logins > the 1024 auth slots
FLOOD_PER_ADDR = 10
FAILED = b"a NO [AUTHENTICATIONFAILED] Authentication failed."


def raise_nofile(want):
    """The flood needs more descriptors than a default soft limit; daemons
    started afterwards inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return
    if hard < want and lofttest.is_root():
        hard = want
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def connect_from(src, port, timeout=10):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((src, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def make_suite(extra):
    s = lofttest.Suite(protocols=["imap", "imaps", "smtp", "submissions"])
    _, users = lofttest.mail_users(s, ("alice",), MAIL_UID, MAIL_GID)
    cfg = {"passdb": "passwd-file:" + users,
           "mail_location": "maildir:%s/%%u/Maildir" % os.path.join(s.tmpdir, "mail"),
           "myhostname": "mx.test", "mydomains": "example.org",
           # Loopback must not be exempt from the per-address limits here.
           "mynetworks": "192.0.2.0/24"}
    cfg.update(extra)
    s.write_config(**cfg)
    return s


class Base(unittest.TestCase):
    extra = {}

    @classmethod
    def setUpClass(cls):
        raise_nofile(8192)
        cls.s = make_suite(cls.extra)
        lofttest.start_suite(cls.s, lambda s: None, r"imap-login\[\d+\]: serving")

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s)

    def closed_after(self, sock, limit):
        """Seconds until the server closes sock (EOF or reset), at most limit."""
        t0 = time.monotonic()
        sock.settimeout(limit)
        try:
            while sock.recv(4096):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            self.fail("still open after %.1f s" % limit)
        return time.monotonic() - t0


@unittest.skipUnless(lofttest.is_root(), "needs root (binds 127.0.0.x, system users)")
class FloodTest(Base):
    # Failure delays as shipped (2 s doubling to 15 s): the flood's logins
    # stay in their delay for the whole test.
    extra = {"auth_failure_delay": "2s", "auth_failure_delay_max": "15s",
             "login_max_clients": "5000"}

    def test_correct_login_during_wrong_password_flood(self):
        port = self.s.port("imap")
        sel = selectors.DefaultSelector()
        conns = {}
        self.addCleanup(lambda: [c.close() for c in conns])
        # Connect and greet every flood client first, so their LOGINs go
        # out together.
        for a in range(FLOOD_ADDRS):
            src = "127.0.%d.%d" % (2 + a // 200, 2 + a % 200)
            for _ in range(FLOOD_PER_ADDR):
                sock = connect_from(src, port)
                self.assertTrue(lofttest.read_line(sock).startswith("* OK "))
                conns[sock] = {"buf": b"", "sent": None, "reply": None}
        t_flood = time.monotonic()
        for sock, st in conns.items():
            sock.sendall(b"a LOGIN alice wrong\r\n")
            st["sent"] = time.monotonic()
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ, st)
        sent_all = time.monotonic()
        # Let auth see them all (and, before the fix, fill its table).
        time.sleep(1.0)
        early = self.pump(sel, 0)
        good = connect_from("127.0.1.250", port)
        self.addCleanup(good.close)
        self.assertTrue(lofttest.read_line(good).startswith("* OK "))
        t0 = time.monotonic()
        good.sendall(b"b LOGIN alice secret-alice\r\n")
        line = lofttest.read_line(good)
        took = time.monotonic() - t0
        self.assertRegex(line, r"^b OK \[CAPABILITY IMAP4rev1[^\]]*\] Logged in", line)
        self.assertLess(took, 3.0, "correct login took %.1f s during the flood" % took)
        # Still in the flood: most of its logins wait out 4..15 s delays.
        pending = sum(1 for st in conns.values() if st["reply"] is None)
        self.assertGreater(pending, 1024 - FLOOD_ADDRS,
                           "the flood was over before the correct login")
        # Every flood login is answered as a plain failure, and none before
        # the base delay: the throttle still works, only the slot moved.
        self.pump(sel, 30, want=len(conns))
        replies = [st["reply"] for st in conns.values()]
        self.assertEqual(replies.count(FAILED), len(conns), set(replies))
        first = min(st["answered"] - st["sent"] for st in conns.values())
        self.assertGreaterEqual(first, 1.9)
        self.assertEqual(early, 0, "failures answered within the first second")
        slowest = max(st["answered"] - st["sent"] for st in conns.values())
        self.assertGreaterEqual(slowest, 14.0)  # ... up to auth_failure_delay_max
        self.assertLess(sent_all - t_flood, 30)
        log = self.s.log()
        self.assertNotIn("Temporary authentication failure", log)
        self.assertGreaterEqual(log.count("auth failed: service=imap user=<alice>"), len(conns))

    def pump(self, sel, timeout, want=None):
        """Read replies for up to timeout s (until want are in); count of
        replies read now."""
        got = 0
        deadline = time.monotonic() + timeout
        while True:
            done = want - len(sel.get_map()) if want is not None else 0
            if want is not None and done >= want:
                return got
            left = deadline - time.monotonic()
            if left <= 0 and want is not None:
                self.fail("only %d of %d flood logins answered" % (done, want))
            for key, _ in sel.select(max(left, 0)):
                st = key.data
                try:
                    data = key.fileobj.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    data = b""
                st["buf"] += data
                if st["reply"] is None and (b"\r\n" in st["buf"] or not data):
                    st["reply"] = st["buf"].split(b"\r\n")[0]
                    st["answered"] = time.monotonic()
                    got += 1
                    sel.unregister(key.fileobj)
            if left <= 0:
                return got


@unittest.skipUnless(lofttest.is_root(), "needs root (system users)")
class OneAddressTest(Base):
    def test_40_imap_and_40_smtp_from_one_address(self):
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(40):
            sock = connect_from("127.0.0.1", self.s.port("imap"))
            socks.append(sock)
            self.assertTrue(lofttest.read_line(sock).startswith("* OK [CAPABILITY"))
        for _ in range(40):
            sock = connect_from("127.0.0.1", self.s.port("smtp"))
            socks.append(sock)
            self.assertTrue(lofttest.read_line(sock).startswith("220 mx.test ESMTP"))
        # and all of them are served, not just greeted
        for sock in socks[:40]:
            sock.sendall(b"x NOOP\r\n")
            self.assertEqual(lofttest.read_line(sock), "x OK NOOP completed.\r\n")
        for sock in socks[40:]:
            sock.sendall(b"NOOP\r\n")
            self.assertTrue(lofttest.read_line(sock).startswith("250 "))

    def test_per_address_limit_is_50_and_says_why(self):
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for proto, greeting in (("imap", "* OK "), ("smtp", "220 ")):
            for _ in range(50):
                sock = connect_from("127.0.4.1", self.s.port(proto))
                socks.append(sock)
                self.assertTrue(lofttest.read_line(sock).startswith(greeting), proto)
        sock = connect_from("127.0.4.1", self.s.port("imap"))
        socks.append(sock)
        self.assertEqual(lofttest.read_line(sock),
                         "* BYE [UNAVAILABLE] Too many connections from your address.\r\n")
        self.closed_after(sock, 5)  # and closed
        sock = connect_from("127.0.4.1", self.s.port("smtp"))
        socks.append(sock)
        self.assertEqual(lofttest.read_line(sock),
                         "421 4.7.0 mx.test Error: too many connections from 127.0.4.1\r\n")
        # another address is not affected
        sock = connect_from("127.0.4.2", self.s.port("imap"))
        socks.append(sock)
        self.assertTrue(lofttest.read_line(sock).startswith("* OK "))

    def test_smtp_auth_failure_waits_out_the_delay_in_smtpd(self):
        # auth answers at once with delay=; the connection child waits it out.
        sock = connect_from("127.0.5.1", self.s.port("smtp"))
        self.addCleanup(sock.close)
        self.assertTrue(lofttest.read_line(sock).startswith("220 "))
        sock.sendall(b"EHLO client.test\r\n")
        while not lofttest.read_line(sock).startswith("250 "):
            pass
        t0 = time.monotonic()
        sock.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0alice\0wrong") + b"\r\n")
        self.assertTrue(lofttest.read_line(sock).startswith("535 "))
        self.assertGreaterEqual(time.monotonic() - t0, 1.9)  # auth_failure_delay 2s
        t0 = time.monotonic()
        sock.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0alice\0secret-alice") + b"\r\n")
        self.assertTrue(lofttest.read_line(sock).startswith("235 "))
        self.assertLess(time.monotonic() - t0, 1.0)  # successes are never delayed
        self.s.wait_log(r"auth failed: service=smtp user=<alice> rip=127\.0\.5\.1: "
                        r"unknown user or wrong password \(answer in 2000 ms\)")


@unittest.skipUnless(lofttest.is_root(), "needs root (system users)")
class HandshakeAndCapsTest(Base):
    extra = {"ssl_handshake_timeout": "1s", "login_max_clients": "3",
             "smtpd_max_clients": "3"}

    def wait_no_clients(self):
        # Earlier tests' connections must be gone before counting again.
        time.sleep(1.5)

    def test_half_open_implicit_tls_closed(self):
        self.wait_no_clients()
        for proto in ("imaps", "submissions"):
            sock = connect_from("127.0.0.1", self.s.port(proto))
            self.addCleanup(sock.close)
            # Half a ClientHello: a record header promising more bytes.
            sock.sendall(b"\x16\x03\x01\x02\x00\x01")
            took = self.closed_after(sock, 6)
            self.assertGreater(took, 0.7, proto)
            self.assertLess(took, 3.0, proto)
        self.s.wait_log(r"imap-login\[\d+\]: sess=\S+: TLS handshake timed out: rip=127\.0\.0\.1")
        self.s.wait_log(r"TLS handshake failed: handshake timed out after 1000 ms")

    def test_half_open_starttls_closed(self):
        self.wait_no_clients()
        sock = connect_from("127.0.0.1", self.s.port("imap"))
        self.addCleanup(sock.close)
        lofttest.read_line(sock)
        sock.sendall(b"s STARTTLS\r\n")
        self.assertEqual(lofttest.read_line(sock), "s OK Begin TLS negotiation now.\r\n")
        took = self.closed_after(sock, 6)
        self.assertTrue(0.7 < took < 3.0, took)
        sock = connect_from("127.0.0.1", self.s.port("smtp"))
        self.addCleanup(sock.close)
        self.assertTrue(lofttest.read_line(sock).startswith("220 "))
        sock.sendall(b"EHLO client.test\r\n")
        while not lofttest.read_line(sock).startswith("250 "):
            pass
        sock.sendall(b"STARTTLS\r\n")
        self.assertTrue(lofttest.read_line(sock).startswith("220 "))
        took = self.closed_after(sock, 6)
        self.assertTrue(0.7 < took < 3.0, took)
        self.s.wait_log(r"STARTTLS failed: handshake timed out after 1000 ms")

    def test_global_caps_refuse_with_a_line(self):
        self.wait_no_clients()
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for i in range(3):  # different addresses: only the global cap applies
            sock = connect_from("127.0.0.%d" % (10 + i), self.s.port("imap"))
            socks.append(sock)
            self.assertTrue(lofttest.read_line(sock).startswith("* OK "))
        sock = connect_from("127.0.0.20", self.s.port("imap"))
        socks.append(sock)
        self.assertEqual(lofttest.read_line(sock),
                         "* BYE [UNAVAILABLE] Server busy, too many connections; "
                         "try again later.\r\n")
        self.closed_after(sock, 5)
        self.s.wait_log(r"login_max_clients \(3\) reached")
        for i in range(3):
            sock = connect_from("127.0.0.%d" % (10 + i), self.s.port("smtp"))
            socks.append(sock)
            self.assertTrue(lofttest.read_line(sock).startswith("220 mx.test"))
        sock = connect_from("127.0.0.20", self.s.port("smtp"))
        socks.append(sock)
        self.assertEqual(lofttest.read_line(sock),
                         "421 4.3.2 mx.test Service busy, too many connections; "
                         "try again later\r\n")
        self.closed_after(sock, 5)
        self.s.wait_log(r"smtpd_max_clients \(3\) reached; refused 127\.0\.0\.20")


if __name__ == "__main__":
    unittest.main()
