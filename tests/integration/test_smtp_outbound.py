"""test_smtp_outbound: outbound mail end to end, all on loopback. The real
suite (master, auth, mailstore, smtpd, queue, relay) takes mail from Python's
smtplib (587 with AUTH, or 25 from mynetworks) for a remote test domain;
dnsstub.py serves its MX records (10 -> mxa at 127.0.0.2, 20 -> mxb at
127.0.0.3, both sinks on the one smtp_remote_port, since that port applies to
every MX host) and smtpsink.py plays the remote servers. Covered: preferred
MX, fallback MX, 4xx deferral then delivery, 5xx -> RFC 3464 DSN in the local
sender's Maildir, queue_lifetime expiry -> DSN, relayhost without DNS, and
messages queued during an outage leaving over one connection."""

import email
import email.policy
import os
import re
import shutil
import smtplib
import socket
import time
import unittest

import lofttest
from dnsstub import DnsStub
from smtpsink import SmtpSink

UID, GID = 4252, 4353
NEEDED = ["loft-master", "loft-auth", "loft-mailstore", "loft-smtpd", "loft-queue",
          "loft-relay"]
USERS = {"alice": "secret-alice", "bob": "secret-bob"}
DOMAIN = "dest.test"


def built():
    return all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED)


def message(token, extra=b""):
    return (b"From: Alice <alice@example.org>\r\nTo: <someone@dest.test>\r\n"
            b"Subject: outbound " + token.encode() + b"\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
            b"Message-ID: <" + token.encode() + b"@example.org>\r\n\r\n"
            b"Hello " + token.encode() + b".\r\n.leading dot\r\n..two dots\r\n"
            b"8bit \xc3\xa4\r\n" + extra + b"last line\r\n")


def make_suite(extra):
    s = lofttest.Suite(protocols=["smtp", "submission", "submissions", "lmtp"])
    mail = os.path.join(s.tmpdir, "mail")
    os.mkdir(mail, 0o755)
    os.chown(mail, UID, GID)
    users = os.path.join(s.tmpdir, "users")
    with open(users, "w") as f:
        for u, pw in USERS.items():
            f.write("%s:{PLAIN}%s:%d:%d::%s/%s::\n" % (u, pw, UID, GID, mail, u))
    cfg = {"passdb": "passwd-file:" + users,
           "mail_location": "maildir:%s/%%u/Maildir" % mail,
           "myhostname": "mx.example.org", "mydomains": "example.org",
           "postmaster_user": "bob", "queue_retry_min": "1s", "queue_retry_max": "2s"}
    cfg.update(extra)
    s.write_config(**cfg)
    s.mail = mail
    return s


class Base(unittest.TestCase):
    """One suite per class; sinks and the DNS stub per class, sinks reset
    (restarted when a test stopped one) before each test."""
    extra = {}
    use_dns = True

    @classmethod
    def setUpClass(cls):
        cls.s, cls.sinks = None, []
        if not built():
            return
        cls.port = lofttest.free_port()
        cls.dns = DnsStub({
            DOMAIN: {"MX": [(20, "mxb.dest.test"), (10, "mxa.dest.test")]},
            "mxa.dest.test": {"A": ["127.0.0.2"]},
            "mxb.dest.test": {"A": ["127.0.0.3"]},
        }).start()
        cls.mxa = SmtpSink("127.0.0.2", cls.port, "mxa.dest.test")
        cls.mxb = SmtpSink("127.0.0.3", cls.port, "mxb.dest.test")
        cls.sinks = [cls.mxa, cls.mxb]
        extra = {"smtp_dns_server": cls.dns.server, "smtp_remote_port": cls.port}
        extra.update(cls.extra_for(cls))
        cls.s = make_suite(extra)
        try:
            cls.s.start()
            cls.s.wait_log(r"queue\[\d+\]: serving")
        except Exception:
            cls.tearDownClass()
            raise

    def extra_for(cls):
        return dict(cls.extra)

    @classmethod
    def tearDownClass(cls):
        for k in cls.sinks:
            k.stop()
        if getattr(cls, "dns", None) is not None:
            cls.dns.stop()
        if cls.s is None:
            return
        log = cls.s.log()
        cls.s.cleanup()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if bad in log:
                raise AssertionError("%s in the log:\n%s" % (bad, log[-5000:]))

    def setUp(self):
        if not built():
            self.skipTest("daemons not built")
        if not lofttest.is_root():
            self.skipTest("delivery as the mail user needs root")
        for k in self.sinks:
            k.stop()
            k.reset()
            k.start()
        with self.dns.lock:
            self.dns.queries.clear()
        for u in USERS:
            shutil.rmtree(os.path.join(self.s.mail, u, "Maildir"), ignore_errors=True)
        self.log_start = len(self.s.log())

    # -- helpers -----------------------------------------------------------

    def submit(self, rcpts, msg, sender="alice@example.org", port="submission"):
        """One message over smtplib: 587 with AUTH as alice, or 25 from
        mynetworks (127.0.0.1). Returns the queue id from the 250 reply."""
        c = smtplib.SMTP("127.0.0.1", self.s.port(port), timeout=30)
        try:
            c.ehlo("client.example.org")
            if port == "submission":
                c.login("alice", USERS["alice"])
            code, text = c.mail(sender)
            self.assertEqual(code, 250, text)
            for r in rcpts:
                code, text = c.rcpt(r)
                self.assertEqual(code, 250, text)
            code, text = c.data(msg)
            self.assertEqual(code, 250, text)
            m = re.search(rb"queued as ([0-9a-f]{24})", text)
            self.assertIsNotNone(m, text)
            c.quit()
        finally:
            c.close()
        return m.group(1).decode()

    def wait_log(self, regex, timeout=30):
        return self.s.wait_log(regex, timeout=timeout, start=self.log_start)

    def maildir(self, user):
        d = os.path.join(self.s.mail, user, "Maildir", "new")
        return sorted(os.path.join(d, n) for n in os.listdir(d)) if os.path.isdir(d) else []

    def wait_mail(self, user, n, timeout=30):
        deadline = time.time() + timeout
        while len(self.maildir(user)) < n and time.time() < deadline:
            time.sleep(0.05)
        fs = self.maildir(user)
        self.assertEqual(len(fs), n, "log tail:\n" + self.s.log()[-3000:])
        out = []
        for p in fs:
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def assert_relayed_exactly(self, got, msg):
        """got (what the sink received) == our Received header + msg."""
        self.assertTrue(got.endswith(msg), got[:800])
        added = got[:len(got) - len(msg)]
        self.assertRegex(added, rb"^Received: from client\.example\.org \(")
        # only one header field added (continuation lines start with blanks)
        self.assertEqual(re.findall(rb"^[^ \t][^:\r\n]*:", added, re.M), [b"Received:"], added)
        self.assertIn(b"by mx.example.org", added)
        self.assertTrue(added.endswith(b"\r\n"))

    def dsn(self, raw):
        """Parse a DSN stored by LMTP (LF line ends) and return its parts:
        (message, human part, [delivery-status field groups], headers part)."""
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        self.assertEqual(m.get_content_type(), "multipart/report")
        self.assertEqual(m.get_param("report-type"), "delivery-status")
        self.assertEqual(m["From"].split()[0], "MAILER-DAEMON@mx.example.org")
        self.assertEqual(m["To"], "alice@example.org")
        self.assertEqual(m["Auto-Submitted"], "auto-replied")
        parts = m.get_payload()
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "message/delivery-status", "text/rfc822-headers"])
        groups = [dict(g.items()) for g in parts[1].get_payload()]
        return m, parts[0].get_payload(), groups, parts[2].get_payload()


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(built(), "daemons not built")
class TestOutbound(Base):

    def test_preferred_mx_gets_it_byte_exact(self):
        msg = message("pref")
        qid = self.submit(["Someone@dest.test", "other@DEST.test"], msg)
        got = self.mxa.wait_messages(1)
        self.assertEqual(len(got), 1)
        m = got[0]
        self.assertEqual(m["mail_from"], "alice@example.org")
        self.assertEqual(m["rcpts"], ["Someone@dest.test", "other@dest.test"])  # domain lowercased
        self.assertIn("BODY=8BITMIME", m["mail_params"])
        self.assert_relayed_exactly(m["data"], msg)
        self.wait_log(r"%s: to=<Someone@dest\.test>, relay=smtp:dest\.test, delay=\d+, "
                      r"status=sent \(mxa\.dest\.test\[127\.0\.0\.2\] said: 250 " % qid)
        self.wait_log(r"%s: removed" % qid)
        self.assertEqual(self.mxb.connections, [])
        self.assertIn(("dest.test", "MX"), self.dns.queries)

    def test_from_mynetworks_on_port_25(self):
        msg = message("port25")
        qid = self.submit(["x@dest.test"], msg, sender="bob@example.org", port="smtp")
        m = self.mxa.wait_messages(1)[0]
        self.assertEqual((m["mail_from"], m["rcpts"]), ("bob@example.org", ["x@dest.test"]))
        self.assert_relayed_exactly(m["data"], msg)
        self.wait_log(r"%s: removed" % qid)

    def _raw_transaction(self, sock, rcpt, body):
        """MAIL/RCPT/DATA on an open port-25 socket, body sent byte for byte
        (smtplib would fix its line ends); returns the reply after it."""
        f = sock.makefile("rb")
        for cmd, code in ((b"MAIL FROM:<bob@example.org>", b"250"),
                          (b"RCPT TO:<" + rcpt + b">", b"250"), (b"DATA", b"354")):
            sock.sendall(cmd + b"\r\n")
            self.assertTrue(f.readline().startswith(code))
        sock.sendall(body)
        return f.readline()

    def test_smuggling_never_reaches_the_next_hop(self):
        # Issue 18: <CR>.<CR><LF> and <LF>.<CR><LF> followed by a second
        # transaction. Loft refuses the bare CR one and normalises the bare
        # LF one; the next hop sees one message, only CRLF, and no "."
        # line inside it.
        smuggled = (b"\r\nMAIL FROM:<evil@dest.test>\r\nRCPT TO:<victim@dest.test>\r\n"
                    b"DATA\r\nFrom: ceo@dest.test\r\n\r\nsmuggled\r\n")
        head = b"From: <bob@example.org>\r\nSubject: smuggle\r\n\r\nbody"
        sock = socket.create_connection(("127.0.0.1", self.s.port("smtp")), timeout=30)
        try:
            f = sock.makefile("rb")
            self.assertTrue(f.readline().startswith(b"220"))
            sock.sendall(b"EHLO client.example.org\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            reply = self._raw_transaction(sock, b"cr@dest.test",
                                          head + b"\r." + smuggled + b".\r\n")
            self.assertTrue(reply.startswith(b"554 5.6.0 "), reply)
            reply = self._raw_transaction(sock, b"lf@dest.test",
                                          head + b"\n." + smuggled + b".\r\n")
            self.assertTrue(reply.startswith(b"250 "), reply)
            sock.sendall(b"QUIT\r\n")
        finally:
            sock.close()
        got = self.mxa.wait_messages(1)
        time.sleep(1)  # a second message would come on the same connection
        got = list(self.mxa.messages)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["rcpts"], ["lf@dest.test"])
        mails = [c for conn in self.mxa.connections for c in conn["commands"]
                 if c.upper().startswith("MAIL")]
        self.assertEqual(len(mails), 1, mails)
        raw = got[0]["raw"]
        self.assertIsNone(re.search(rb"\r(?!\n)|(?<!\r)\n", raw), raw)
        self.assertEqual(raw.count(b"\r\n.\r\n"), 1, raw)  # the real end only
        self.assertTrue(raw.endswith(b"\r\n.\r\n"))
        self.assertIn(b"body\r\n..\r\nMAIL FROM:<evil@dest.test>\r\n", raw)
        self.assertIn(b"body\r\n.\r\nMAIL FROM:<evil@dest.test>\r\n", got[0]["data"])

    def test_preferred_down_second_mx(self):
        self.mxa.stop()
        msg = message("fallback")
        qid = self.submit(["y@dest.test"], msg)
        m = self.mxb.wait_messages(1)[0]
        self.assertEqual(m["rcpts"], ["y@dest.test"])
        self.assert_relayed_exactly(m["data"], msg)
        self.wait_log(r"%s: to=<y@dest\.test>, .*status=sent \(mxb\.dest\.test"
                      r"\[127\.0\.0\.3\] said: 250 " % qid)
        self.wait_log(r"%s: removed" % qid)

    def _deferred_then_delivered(self, token, block, unblock, expect):
        msg = message(token)
        rcpt = "%s@dest.test" % token
        block(rcpt)
        qid = self.submit([rcpt], msg)
        self.wait_log(r"%s: to=<%s>, relay=smtp:dest\.test, delay=\d+, status=deferred "
                      r"\(mxa\.dest\.test\[127\.0\.0\.2\] said: %s" % (qid, rcpt, expect))
        deadline = time.time() + 10
        spool = os.path.join(self.s.state_dir, "queue", "deferred")
        while qid not in os.listdir(spool) and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn(qid, os.listdir(spool))
        self.assertEqual(self.mxa.messages, [])
        unblock(rcpt)
        m = self.mxa.wait_messages(1)[0]
        self.assertEqual(m["rcpts"], [rcpt])
        self.assert_relayed_exactly(m["data"], msg)
        self.wait_log(r"%s: to=<%s>, .*status=sent" % (qid, rcpt))
        self.wait_log(r"%s: removed" % qid)
        # a 4xx from the preferred MX is final for the attempt: no fallback
        self.assertEqual(self.mxb.connections, [])
        self.assertEqual(len(self.mxa.messages), 1)

    def test_451_at_rcpt_deferred_then_delivered(self):
        def block(r):
            self.mxa.rcpt_replies[r] = "451 4.3.0 <%s>: try again later" % r

        def unblock(r):
            del self.mxa.rcpt_replies[r]

        self._deferred_then_delivered("rcpt451", block, unblock, r"451 4\.3\.0 ")

    def test_451_at_data_deferred_then_delivered(self):
        def block(r):
            self.mxa.data_reply = "451 4.3.0 data later"

        def unblock(r):
            self.mxa.data_reply = "250 2.0.0 Ok: queued by mxa"

        self._deferred_then_delivered("data451", block, unblock, r"451 4\.3\.0 data later")

    def test_550_bounces_with_dsn(self):
        rcpt = "nosuch@dest.test"
        self.mxa.rcpt_replies[rcpt] = "550 5.1.1 <%s>: no such user" % rcpt
        msg = message("bounce550")
        qid = self.submit([rcpt, "fine@dest.test"], msg)
        self.wait_log(r"%s: to=<nosuch@dest\.test>, .*status=bounced \(mxa\.dest\.test"
                      r"\[127\.0\.0\.2\] said: 550 5\.1\.1 " % qid)
        got = self.mxa.wait_messages(1)
        self.assertEqual(got[0]["rcpts"], ["fine@dest.test"])
        raw = self.wait_mail("alice", 1)[0]
        self.assertTrue(raw.startswith(b"Return-Path: <>\n"), raw[:200])
        m, text, groups, headers = self.dsn(raw)
        self.assertIn("nosuch@dest.test", text)
        self.assertIn("permanent", text)
        self.assertEqual(groups[0]["Reporting-MTA"], "dns; mx.example.org")
        self.assertEqual(len(groups), 2, groups)  # per-message + one recipient
        r = groups[1]
        self.assertEqual(r["Final-Recipient"], "rfc822; nosuch@dest.test")
        self.assertEqual(r["Action"], "failed")
        self.assertEqual(r["Status"], "5.1.1")
        self.assertRegex(r["Diagnostic-Code"], r"^smtp; ")
        self.assertIn("550 5.1.1 <nosuch@dest.test>: no such user",
                      re.sub(r"\s+", " ", r["Diagnostic-Code"]))
        self.assertIn("Subject: outbound bounce550", headers)
        self.assertIn("Message-ID: <bounce550@example.org>", headers)
        self.assertNotIn("Hello bounce550", raw.decode("utf-8", "replace"))
        self.wait_log(r"%s: sender non-delivery notification: [0-9a-f]{24}" % qid)
        self.wait_log(r"%s: removed" % qid)
        self.assertEqual(self.wait_mail("alice", 1), [raw])  # one DSN only


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(built(), "daemons not built")
class TestOutageFlush(Base):
    """queue_retry_min = 1h: after the first failure only the flush makes
    the messages due, so the test sees the scheduler's grouping alone."""
    extra = {"queue_retry_min": "1h", "queue_retry_max": "1h"}

    def test_outage_then_one_connection(self):
        self.mxa.stop()
        self.mxb.stop()
        qids = [self.submit(["batch%d@dest.test" % i], message("batch%d" % i))
                for i in range(5)]
        for qid in qids:
            self.wait_log(r"%s: to=<batch\d@dest\.test>, .*status=deferred \(4\.4\.1 " % qid)
        self.mxa.start()
        # The queue retries by message, each on its own back-off; an
        # administrator's flush (`loft queue flush`) makes them all due now,
        # and loft-queue groups a destination's due messages into one job.
        c = lofttest.QueueClient(os.path.join(self.s.base_dir, "pickup"))
        self.addCleanup(c.close)
        self.assertEqual(c.request(("FLUSH",)), ["OK"])
        got = self.mxa.wait_messages(5)
        for qid in qids:
            self.wait_log(r"%s: removed" % qid)
        self.assertEqual(sorted(m["rcpts"][0] for m in got),
                         ["batch%d@dest.test" % i for i in range(5)])
        self.assertEqual(len(self.mxa.connections), 1,
                         [c["commands"] for c in self.mxa.connections])
        self.assertEqual(self.mxa.connections[0]["commands"].count("DATA"), 5)


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(built(), "daemons not built")
class TestLifetime(Base):
    extra = {"queue_lifetime": "3s"}

    def test_always_451_expires_with_dsn(self):
        self.mxa.data_reply = "451 4.3.0 always later"
        t0 = time.time()
        msg = message("expire")
        qid = self.submit(["late@dest.test"], msg)
        self.wait_log(r"%s: to=<late@dest\.test>, .*status=deferred \(mxa\.dest\.test"
                      r"\[127\.0\.0\.2\] said: 451 4\.3\.0 always later\)" % qid)
        self.wait_log(r"%s: to=<late@dest\.test>, .*status=bounced \(4\.4\.7 delivery time "
                      r"expired \(mxa\.dest\.test\[127\.0\.0\.2\] said: 451 4\.3\.0 always "
                      r"later\)\)" % qid)
        self.assertGreaterEqual(time.time() - t0, 1.9)
        self.assertGreaterEqual(len(self.mxa.connections), 2)  # it was retried
        raw = self.wait_mail("alice", 1)[0]
        m, text, groups, headers = self.dsn(raw)
        self.assertIn("queue lifetime has", text.replace("\r\n", " ").replace("\n", " "))
        r = groups[1]
        self.assertEqual(r["Final-Recipient"], "rfc822; late@dest.test")
        self.assertEqual(r["Action"], "failed")
        self.assertEqual(r["Status"], "4.4.7")
        self.assertIn("delivery time expired", re.sub(r"\s+", " ", r["Diagnostic-Code"]))
        self.assertIn("Subject: outbound expire", headers)
        self.wait_log(r"%s: removed" % qid)
        self.assertEqual(self.mxa.messages, [])


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(built(), "daemons not built")
class TestRelayhost(Base):
    """relayhost = [127.0.0.1]:<sink port>: no DNS query at all. The MX
    sinks stay up to show they are not used."""

    @classmethod
    def setUpClass(cls):
        cls.smarthost = SmtpSink("127.0.0.1", 0, "smarthost").start()
        super().setUpClass()
        cls.sinks.append(cls.smarthost)

    def extra_for(cls):
        return {"relayhost": "[127.0.0.1]:%d" % cls.smarthost.port}

    def test_relayhost_without_dns(self):
        msg = message("smart")
        qid = self.submit(["z@dest.test", "w@elsewhere.test"], msg)
        got = self.smarthost.wait_messages(2)
        self.wait_log(r"%s: removed" % qid)
        self.assertEqual(sorted(r for m in got for r in m["rcpts"]),
                         ["w@elsewhere.test", "z@dest.test"])
        for m in got:
            self.assert_relayed_exactly(m["data"], msg)
        self.wait_log(r"%s: to=<z@dest\.test>, relay=smtp:dest\.test, .*status=sent "
                      r"\(127\.0\.0\.1\[127\.0\.0\.1\] said: 250 " % qid)
        self.assertEqual(self.dns.queries, [])
        self.assertEqual(self.mxa.connections + self.mxb.connections, [])


if __name__ == "__main__":
    unittest.main()
