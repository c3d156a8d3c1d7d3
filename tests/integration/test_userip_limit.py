"""mail_max_userip_connections (issue 18) end to end: with the limit at 3,
the 4th logged-in IMAP session of alice from 127.0.0.1 is refused with
Dovecot's NO [LIMIT] line (on the login command's tag) and closed, while bob
from the same address and alice from 127.0.0.2 are still served; a session
that logs out, and one whose worker is killed, frees its slot. POP3 is
counted apart from IMAP. A POP3 session holds its maildrop's lock, so one
user never has two running POP3 sessions: the POP3 scenario runs with the
limit at 1, where the second session gets -ERR [IN-USE] with the limit's
text (the check comes before the lock). Over implicit TLS the refusal goes
through the login daemon's proxy. Linux routes all of 127/8 to lo, so a
client socket bound to 127.0.0.2 is another address."""

import os
import re
import signal
import socket
import time
import unittest

import lofttest

MAIL_UID = 5000 if lofttest.is_root() else os.getuid()
MAIL_GID = 5000 if lofttest.is_root() else os.getgid()
LOCKED = b"-ERR [IN-USE] Mailbox is locked by another POP3 session"


def refusal(proto, limit):
    text = (b"Maximum number of connections from user+IP exceeded "
            b"(mail_max_userip_connections=%d)" % limit)
    return (b"a NO [LIMIT] " if proto.startswith("imap") else b"-ERR [IN-USE] ") + text


class Client(lofttest.LineClient):
    def line(self, timeout=10):
        return super().line(timeout)


def connect(suite, proto, src="127.0.0.1"):
    port = suite.port(proto)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.bind((src, 0))
    sock.connect(("127.0.0.1", port))
    if proto in ("imaps", "pop3s"):
        sock = lofttest.tls_ctx().wrap_socket(sock, server_hostname="localhost")
    c = Client(sock)
    greeting = c.line()
    assert greeting.startswith(b"* OK" if proto.startswith("imap") else b"+OK"), greeting
    return c


class UseripBase(unittest.TestCase):
    limit = 3

    @classmethod
    def setUpClass(cls):
        cls.s = lofttest.Suite(protocols=["imap", "imaps", "pop3", "pop3s"])

        def prepare(s):
            _, users = lofttest.mail_users(s, ("alice", "bob"), MAIL_UID, MAIL_GID)
            s.write_config(
                passdb="passwd-file:" + users,
                mail_location="maildir:%s/%%u/Maildir" % os.path.join(s.tmpdir, "mail"),
                mail_max_userip_connections=str(cls.limit))
        lofttest.start_suite(cls.s, prepare, r"pop3-login\[\d+\]: serving")

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s)

    def setUp(self):
        self.clients = []
        self.addCleanup(lambda: [c.close() for c in self.clients])

    def login(self, proto, user, src="127.0.0.1"):
        """(client, the reply to the login command)."""
        c = connect(self.s, proto, src)
        self.clients.append(c)
        if proto.startswith("imap"):
            c.send("a LOGIN %s secret-%s\r\n" % (user, user))
        else:
            c.send("USER %s\r\n" % user)
            self.assertTrue(c.line().startswith(b"+OK"))
            c.send("PASS secret-%s\r\n" % user)
        return c, c.line()

    def served(self, proto, user, src="127.0.0.1"):
        c, reply = self.login(proto, user, src)
        if proto.startswith("imap"):
            self.assertRegex(reply, rb"^a OK \[CAPABILITY [^\]]*\] Logged in")
            c.send("b NOOP\r\n")
            self.assertEqual(c.line(), b"b OK NOOP completed.")
        else:
            self.assertTrue(reply.startswith(b"+OK"), reply)
            c.send("STAT\r\n")
            self.assertTrue(c.line().startswith(b"+OK 0 0"))
        return c

    def refused(self, proto, user, src="127.0.0.1"):
        c, reply = self.login(proto, user, src)
        self.assertEqual(reply, refusal(proto, self.limit))
        self.assertTrue(c.closed(), "still open after the refusal")
        return c

    def served_again(self, proto, user, timeout=5):
        """A slot frees when the dispatcher reaps the worker, a moment after
        the client saw the end; until then the only answer is the refusal."""
        deadline = time.monotonic() + timeout
        while True:
            c, reply = self.login(proto, user)
            if reply != refusal(proto, self.limit):
                break
            self.assertLess(time.monotonic(), deadline, "the slot never came back")
            time.sleep(0.1)
        if proto.startswith("imap"):
            self.assertRegex(reply, rb"^a OK \[CAPABILITY [^\]]*\] Logged in")
        else:
            self.assertTrue(reply.startswith(b"+OK"), reply)
        return c

    def worker_pid(self, proto, user, src, start):
        """The pid of the newest worker since start serving user's proto
        session from src (its log line "<proto> session for <user> ... from
        <src>")."""
        rx = re.compile(r"mailstore\[(\d+)\]: .*%s session for %s \(uid \d+\) from %s$"
                        % (proto, user, re.escape(src)), re.M)
        self.s.wait_log(rx.pattern, start=start)
        return int(rx.findall(self.s.log(), start)[-1])

    def limit_scenario(self, proto, logout):
        mark = len(self.s.log())
        alice = [self.served(proto, "alice") for _ in range(self.limit)]
        self.refused(proto, "alice")
        self.s.wait_log(r"mailstore\[\d+\]: .*%s session of user=<alice> from 127\.0\.0\.1 "
                        r"refused: maximum number of connections from user\+IP exceeded "
                        r"\(mail_max_userip_connections=%d\)" % (proto, self.limit), start=mark)
        # another user from the same address, the same user from another one
        self.served(proto, "bob")
        if proto == "imap":
            self.served(proto, "alice", "127.0.0.2")
        else:
            # not the user+IP limit but the maildrop lock, which is per user
            self.assertEqual(self.login(proto, "alice", "127.0.0.2")[1], LOCKED)
        # still full for alice from 127.0.0.1
        self.refused(proto, "alice")
        # a session that ends frees its slot ...
        c = alice.pop(0)
        c.send(logout)
        self.assertTrue(c.closed())
        newest = len(self.s.log())
        alice.append(self.served_again(proto, "alice"))
        self.refused(proto, "alice")
        # ... and so does one whose worker crashed (the newest one)
        pid0 = self.worker_pid(proto, "alice", "127.0.0.1", newest)
        os.kill(pid0, signal.SIGKILL)
        self.assertTrue(alice[-1].closed())
        self.s.wait_log(r"worker %d killed by signal 9" % pid0, start=mark)
        alice.append(self.served_again(proto, "alice"))
        self.refused(proto, "alice")


@unittest.skipUnless(lofttest.is_root(), "needs root (mail users, binds 127.0.0.x)")
class ImapTest(UseripBase):
    def test_imap(self):
        self.limit_scenario("imap", "z LOGOUT\r\n")

    def test_imaps_and_pop3_counted_apart(self):
        mark = len(self.s.log())
        imap = [self.served("imap", "bob", "127.0.0.3") for _ in range(self.limit)]
        # over TLS the refusal goes through the login daemon's proxy, and
        # the implicit-TLS listener counts with its plaintext sibling
        self.refused("imaps", "bob", "127.0.0.3")
        # POP3 sessions of the same user and address are not IMAP's
        pop3 = self.served("pop3", "bob", "127.0.0.3")
        # and the next POP3 one meets the maildrop lock, not the limit
        self.assertEqual(self.login("pop3", "bob", "127.0.0.3")[1], LOCKED)
        self.s.wait_log(r"session of user=<bob> from 127\.0\.0\.3 refused", start=mark)
        log = self.s.log()[mark:]
        self.assertEqual(len(re.findall(r"session of user=<bob> from 127\.0\.0\.3 refused",
                                        log)), 1)
        self.assertEqual(len(imap), self.limit)
        pop3.send("QUIT\r\n")
        self.assertTrue(pop3.line().startswith(b"+OK"))


@unittest.skipUnless(lofttest.is_root(), "needs root (mail users, binds 127.0.0.x)")
class Pop3Test(UseripBase):
    limit = 1

    def test_pop3(self):
        self.limit_scenario("pop3", "QUIT\r\n")

    def test_pop3s(self):
        c = self.served("pop3", "bob", "127.0.0.4")
        self.refused("pop3s", "bob", "127.0.0.4")
        # IMAP is counted apart
        self.served("imap", "bob", "127.0.0.4")
        self.refused("imaps", "bob", "127.0.0.4")
        c.send("QUIT\r\n")
        self.assertTrue(c.line().startswith(b"+OK"))


if __name__ == "__main__":
    unittest.main()
