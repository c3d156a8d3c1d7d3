"""test_smtpd: loft-smtpd in the real suite (master, auth, mailstore,
loft-queue, loft-relay), driven by Python's smtplib, raw sockets, swaks and
curl on smtp (25), submission (587, STARTTLS) and submissions (465, implicit
TLS). Mail to passwd-file users is checked in their Maildir, delivered by
loft-queue over LMTP: byte-exact apart from the headers added on the way
(Return-Path, Delivered-To by LMTP, Received by smtpd; LMTP stores CRLF as
LF, docs/lmtp.md). Also: relay refusal on all ports, AUTH rules, limits,
STARTTLS injection, SMTP smuggling, the log, and as root the privileges of
the daemon and of a connection child."""

import base64
import os
import pwd
import re
import select
import shutil
import socket
import smtplib
import subprocess
import time
import unittest

import lofttest

UID, GID = (4252, 4353) if lofttest.is_root() else (os.getuid(), os.getgid())
NEEDED = ["loft-master", "loft-auth", "loft-mailstore", "loft-smtpd", "loft-queue",
          "loft-relay"]
USERS = {"alice": "secret-alice", "bob": "secret-bob"}


def built():
    return all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED)


def replies(sock, n):
    """n complete replies (a multi-line one counts once), as lists of lines."""
    out = []
    while len(out) < n:
        lines = []
        while True:
            line = lofttest.read_line(sock)
            if not line:
                raise AssertionError("connection closed after %r" % out)
            lines.append(line.rstrip("\r\n"))
            if line[3:4] != "-":
                break
        out.append(lines)
    return out


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
           "myhostname": "mx.test", "mydomains": "example.org",
           "postmaster_user": "bob",
           "auth_failure_delay": "100ms", "auth_failure_delay_max": "200ms",
           "queue_retry_min": "1s"}
    cfg.update(extra)
    s.write_config(**cfg)
    s.mail = mail
    return s


class Base(unittest.TestCase):
    extra = {}

    @classmethod
    def setUpClass(cls):
        cls.s = make_suite(cls.extra)
        try:
            cls.s.start()
        except Exception:
            cls.s.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s, stop=False)

    # -- helpers -----------------------------------------------------------

    def smtp(self, proto="smtp"):
        if proto == "submissions":
            c = smtplib.SMTP_SSL("127.0.0.1", self.s.port(proto), timeout=20,
                                 context=lofttest.tls_ctx())
        else:
            c = smtplib.SMTP("127.0.0.1", self.s.port(proto), timeout=20)
        self.addCleanup(c.close)
        c.ehlo("client.test")
        return c

    def raw(self, proto="smtp"):
        sock = self.s.connect(proto, timeout=20)
        self.addCleanup(sock.close)
        self.assertTrue(self.s.last_greeting.startswith("220 mx.test ESMTP"),
                        self.s.last_greeting)
        return sock

    def maildir_files(self, user):
        d = os.path.join(self.s.mail, user, "Maildir", "new")
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def wait_mail(self, user, n, timeout=20):
        """Wait until user's Maildir/new holds n messages; return their bytes."""
        deadline = time.time() + timeout
        while True:
            fs = self.maildir_files(user)
            if len(fs) >= n or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(fs), n, "log tail:\n" + self.s.log()[-3000:])
        out = []
        for p in fs:
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def clear_mail(self, user):
        shutil.rmtree(os.path.join(self.s.mail, user, "Maildir"), ignore_errors=True)

    def assert_delivered_exactly(self, stored, msg):
        """stored == the added header lines + msg (CRLF stored as LF)."""
        body = msg.replace(b"\r\n", b"\n")
        self.assertTrue(stored.endswith(body), stored[:600])
        added = stored[:len(stored) - len(body)]
        names = re.findall(rb"^([A-Za-z-]+):", added, re.M)
        self.assertTrue(names, added)
        self.assertTrue(set(names) <= {b"Return-Path", b"Delivered-To", b"Received"},
                        added)
        return added


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(built(), "daemons not built")
class TestSmtpd(Base):
    extra = {"mynetworks": "192.0.2.0/24", "message_size_limit": "64k"}

    def setUp(self):
        for u in USERS:
            self.clear_mail(u)

    # -- commands and extensions ---------------------------------------------

    def test_ehlo_keywords(self):
        c = self.smtp()
        for kw in ("pipelining", "starttls", "enhancedstatuscodes", "8bitmime", "smtputf8"):
            self.assertIn(kw, c.esmtp_features)
        self.assertEqual(c.esmtp_features["size"], str(64 * 1024))
        self.assertEqual(c.esmtp_features["auth"].split(), ["PLAIN", "LOGIN"])
        self.assertNotIn("chunking", c.esmtp_features)
        c.starttls(context=lofttest.tls_ctx())
        c.ehlo("client.test")
        self.assertNotIn("starttls", c.esmtp_features)

    def test_commands(self):
        sock = self.raw()
        want = [("HELO client.test", "250 mx.test"),
                ("VRFY alice", "252 2.0.0 "),
                ("HELP", "214 2.0.0 "),
                ("NOOP", "250 2.0.0 Ok"),
                ("RSET", "250 2.0.0 Ok"),
                ("EXPN staff", "502 5.5.1 "),
                ("BDAT 10 LAST", "502 5.5.1 "),
                ("FROBNICATE", "500 5.5.2 "),
                ("RCPT TO:<alice@example.org>", "503 5.5.1 "),
                ("EHLO client.test", "250-mx.test"),
                ("QUIT", "221 2.0.0 ")]
        for cmd, reply in want:
            got = self.s.send_line(sock, cmd)
            self.assertTrue(got.startswith(reply), (cmd, got))
            if cmd.startswith("EHLO"):
                while got[3:4] == "-":
                    got = lofttest.read_line(sock)
        self.assertEqual(sock.recv(100), b"")  # closed after QUIT

    # -- relaying and AUTH -------------------------------------------------

    def test_no_open_relay_on_any_port(self):
        c = self.smtp("smtp")
        self.assertEqual(c.mail("someone@remote.test")[0], 250)
        code, text = c.rcpt("victim@elsewhere.test")
        self.assertEqual(code, 554)
        self.assertIn(b"5.7.1", text)
        self.assertIn(b"Relay access denied", text)
        # local recipients are fine on 25
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        c.rset()
        for proto in ("submission", "submissions"):
            c = self.smtp(proto)
            if proto == "submission":
                c.starttls(context=lofttest.tls_ctx())
                c.ehlo("client.test")
            code, text = c.mail("someone@remote.test")
            self.assertEqual((code, text[:5]), (530, b"5.7.0"), proto)
            code, _ = c.rcpt("victim@elsewhere.test")
            self.assertEqual(code, 503, proto)

    def test_submission_refuses_mail_before_auth(self):
        sock = self.raw("submission")
        sock.sendall(b"EHLO client.test\r\n")
        replies(sock, 1)
        got = self.s.send_line(sock, "MAIL FROM:<alice@example.org>")
        self.assertTrue(got.startswith("530 5.7.0 Authentication required"), got)

    def test_starttls_then_auth_plain_and_login(self):
        for mech in ("PLAIN", "LOGIN"):
            c = self.smtp("submission")
            c.starttls(context=lofttest.tls_ctx())
            c.ehlo("client.test")
            self.assertEqual(c.esmtp_features["auth"].split(), ["PLAIN", "LOGIN"])
            c.user, c.password = "alice", USERS["alice"]
            meth = c.auth_plain if mech == "PLAIN" else c.auth_login
            code, _ = c.auth(mech, meth)
            self.assertEqual(code, 235)
            # authenticated: relaying is allowed (the recipient is accepted)
            self.assertEqual(c.mail("alice@example.org")[0], 250)
            self.assertEqual(c.rcpt("friend@elsewhere.test")[0], 250)
            c.rset()
            msg = b"Subject: via %s\r\n\r\nhello\r\n" % mech.encode()
            self.assertEqual(c.sendmail("alice@example.org", ["bob@example.org"], msg), {})
            c.quit()
        got = self.wait_mail("bob", 2)
        for m in got:
            self.assertIn(b"with ESMTPSA id", m)
            self.assertIn(b"(Authenticated sender: alice)", m)
            self.assertIn(b"using TLS", m)
            self.assertIn(b"Message-ID: <", m)  # submission completes the header
        self.assertRegex(self.s.log(), r"sasl_method=PLAIN, sasl_username=alice")

    def test_auth_wrong_password_and_bad_base64(self):
        c = self.smtp("submission")
        c.starttls(context=lofttest.tls_ctx())
        c.ehlo("client.test")
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            c.login("alice", "wrong")
        self.assertEqual(cm.exception.smtp_code, 535)
        code, _ = c.docmd("AUTH", "PLAIN !!notbase64")
        self.assertEqual(code, 535)
        # the connection to loft-auth survived: a right password works
        c.login("alice", USERS["alice"])

    def test_submissions_implicit_tls(self):
        c = self.smtp("submissions")
        self.assertNotIn("starttls", c.esmtp_features)
        c.login("bob", USERS["bob"])
        msg = b"From: bob@example.org\r\nSubject: 465\r\n\r\nover implicit TLS\r\n"
        self.assertEqual(c.sendmail("bob@example.org", ["alice@example.org"], msg), {})
        c.quit()
        stored = self.wait_mail("alice", 1)[0]
        self.assertRegex(stored, rb"\(using TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)\)")
        self.assertIn(b"from client.test (unknown [127.0.0.1])", stored)

    # -- messages ------------------------------------------------------------

    def test_size_limit(self):
        c = self.smtp()
        code, text = c.mail("s@remote.test", ["SIZE=%d" % (65 * 1024)])
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        # no SIZE= announced: the limit is found while reading DATA
        self.assertEqual(c.mail("s@remote.test")[0], 250)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        code, text = c.data(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 70)
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        # the session goes on
        self.assertEqual(c.sendmail("s@remote.test", ["alice@example.org"],
                                    b"Subject: small\r\n\r\nok\r\n"), {})
        self.assertEqual(len(self.wait_mail("alice", 1)), 1)

    def test_queue_refusal_is_permanent_with_its_text(self):
        # Just under message_size_limit for smtpd, over it for loft-queue,
        # which also counts the Received line smtpd adds: the queue's
        # FAIL perm must reach the client as a 5xx with its code and text
        # (it used to become a 451 with the text lost, issue 17).
        c = self.smtp()
        head = b"Subject: just under the limit\r\n\r\n"
        line = b"y" * 98 + b"\r\n"
        size = 64 * 1024 - 20
        body = line * ((size - len(head)) // len(line))
        body += b"z" * (size - len(head) - len(body) - 2) + b"\r\n"
        msg = head + body
        self.assertEqual(len(msg), size)
        self.assertEqual(c.mail("s@remote.test", ["SIZE=%d" % size])[0], 250)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        code, text = c.data(msg)
        self.assertEqual((code, text), (552, b"5.3.4 message too big"))
        self.s.wait_log(r"smtpd\[\d+\]: [0-9a-f]{24}: queue: 5\.3\.4 message too big")
        # the session and its queue connection go on; only this one arrives
        self.assertEqual(c.sendmail("s@remote.test", ["alice@example.org"],
                                    b"Subject: after\r\n\r\nsmall\r\n"), {})
        got = self.wait_mail("alice", 1)
        self.assertIn(b"Subject: after", got[0])
        time.sleep(1)
        self.assertEqual(len(self.maildir_files("alice")), 1)

    def test_pipelining_dot_stuffing_8bit(self):
        msg = (b"From: Sender <s@remote.test>\r\nTo: alice@example.org\r\n"
               b"Subject: pipelined\r\n\r\n\xc3\xa4\xff 8bit bytes\r\n"
               b".leading dot\r\n..two dots\r\n.\tdot tab\r\n\r\nlast line\r\n")
        stuffed = msg.replace(b"\r\n.", b"\r\n..")
        sock = self.raw()
        sock.sendall(b"EHLO client.test\r\nMAIL FROM:<s@remote.test> BODY=8BITMIME\r\n"
                     b"RCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
                     b"DATA\r\n")
        got = replies(sock, 5)
        self.assertEqual([r[-1][:3] for r in got], ["250", "250", "250", "550", "354"])
        sock.sendall(stuffed + b".\r\nQUIT\r\n")
        got = replies(sock, 2)
        self.assertTrue(got[0][0].startswith("250 2.0.0 Ok: queued as "), got)
        self.assertTrue(got[1][0].startswith("221"), got)
        stored = self.wait_mail("alice", 1)[0]
        added = self.assert_delivered_exactly(stored, msg)
        self.assertIn(b"Received: from client.test (unknown [127.0.0.1])", added)
        self.assertIn(b"by mx.test (Loft) with ESMTP id", added)
        self.assertIn(b"for <alice@example.org>", added)
        qid = got[0][0].split()[-1]
        self.s.wait_log(r"queued as %s from=<s@remote.test> nrcpt=1 size=\d+" % qid)
        self.s.wait_log(r"reject: from unknown\[127\.0\.0\.1\]: 550 5\.1\.1 "
                        r"<nobody@example\.org>")

    def test_several_recipients(self):
        msg = b"Subject: both\r\n\r\nto two users\r\n"
        c = self.smtp()
        self.assertEqual(c.sendmail("s@remote.test", ["alice@example.org", "BOB@Example.ORG"],
                                    msg), {})
        for u in ("alice", "bob"):
            stored = self.wait_mail(u, 1)[0]
            added = self.assert_delivered_exactly(stored, msg)
            self.assertNotIn(b"for <", added)  # only with one recipient

    def test_twenty_messages_on_one_connection(self):
        c = self.smtp()
        for i in range(20):
            msg = b"Subject: n%d\r\n\r\nmessage %d\r\n" % (i, i)
            self.assertEqual(c.sendmail("s@remote.test", ["bob@example.org"], msg), {})
        c.quit()
        got = self.wait_mail("bob", 20, timeout=60)
        subjects = sorted(int(re.search(rb"Subject: n(\d+)", m).group(1)) for m in got)
        self.assertEqual(subjects, list(range(20)))

    def test_unknown_user_and_postmaster(self):
        c = self.smtp()
        self.assertEqual(c.mail("s@remote.test")[0], 250)
        code, text = c.rcpt("nobody@example.org")
        self.assertEqual(code, 550)
        self.assertTrue(text.startswith(b"5.1.1"), text)
        self.assertEqual(c.rcpt("Postmaster@example.org")[0], 250)
        self.assertEqual(c.rcpt("postmaster")[0], 250)
        code, _ = c.data(b"Subject: to the postmaster\r\n\r\nhi\r\n")
        self.assertEqual(code, 250)
        c.quit()
        # postmaster_user = bob; the two recipients are one user
        got = self.wait_mail("bob", 1, timeout=20)
        self.assertIn(b"to the postmaster", got[0])

    def test_starttls_injection(self):
        sock = self.raw()
        self.s.send_line(sock, "EHLO client.test")
        while lofttest.read_line(sock)[3:4] == "-":
            pass
        sock.sendall(b"STARTTLS\r\nRSET\r\n")
        self.assertTrue(lofttest.read_line(sock).startswith("220 2.0.0"))
        # nothing else came in clear text
        self.assertEqual(select.select([sock], [], [], 0.5)[0], [])
        tls = lofttest.tls_ctx().wrap_socket(sock, server_hostname="localhost")
        tls.sendall(b"NOOP\r\n")
        # the first answer after the handshake is the NOOP's, not the RSET's
        self.assertEqual(lofttest.read_line(tls), "250 2.0.0 Ok\r\n")
        tls.sendall(b"MAIL FROM:<a@remote.test>\r\n")
        self.assertTrue(lofttest.read_line(tls).startswith("503"))  # EHLO forgotten
        tls.close()

    def test_smtp_smuggling(self):
        # <LF>.<CR><LF> is content (the bare LF normalised); a bare CR, as in
        # <CR>.<CR>, refuses the whole message (issue 18, docs/smtpd.md).
        smuggled = (b"Subject: one\r\n\r\nbefore\n.\r\nMAIL FROM:<evil@remote.test>\r\n"
                    b"RCPT TO:<bob@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\n"
                    b"still content\r\n")
        sock = self.raw()
        sock.sendall(b"EHLO client.test\r\nMAIL FROM:<s@remote.test>\r\n"
                     b"RCPT TO:<alice@example.org>\r\nDATA\r\n")
        got = replies(sock, 4)
        self.assertEqual(got[3][0][:3], "354")
        sock.sendall(smuggled + b".\r\nMAIL FROM:<s@remote.test>\r\n"
                     b"RCPT TO:<alice@example.org>\r\nDATA\r\n")
        got = replies(sock, 4)
        self.assertTrue(got[0][0].startswith("250 2.0.0 Ok: queued as"), got)
        self.assertEqual(got[3][0][:3], "354", got)
        sock.sendall(b"Subject: two\r\n\r\nx\r.\rMAIL FROM:<evil@remote.test>\r\n"
                     b".\r\nQUIT\r\n")
        got = replies(sock, 2)
        self.assertEqual(got[0][0], "554 5.6.0 Message contains bare CR", got)
        self.assertTrue(got[1][0].startswith("221"), got)
        stored = self.wait_mail("alice", 1)[0]
        self.assertIn(b"before\n.\nMAIL FROM:<evil@remote.test>", stored.replace(b"\r\n", b"\n"))
        self.assertIn(b"Subject: smuggled", stored)
        self.assertNotIn(b"\r", stored.replace(b"\r\n", b""))
        time.sleep(1)  # a smuggled second message would have arrived by now
        self.assertEqual(self.maildir_files("bob"), [])
        self.assertEqual(len(self.maildir_files("alice")), 1)

    # -- other clients -------------------------------------------------------

    def test_swaks(self):
        if shutil.which("swaks") is None:
            self.skipTest("swaks not installed")
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                            str(self.s.port("submission")), "--tls", "--auth", "LOGIN",
                            "--auth-user", "alice", "--auth-password", USERS["alice"],
                            "--from", "alice@example.org", "--to", "bob@example.org",
                            "--header", "Subject: from swaks", "--body", "swaks body"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("235 2.7.0", out)
        self.assertIn(b"swaks body", self.wait_mail("bob", 1)[0])

    def test_curl_smtp_and_smtps(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        msg = os.path.join(self.s.tmpdir, "curl.eml")
        with open(msg, "wb") as f:
            f.write(b"From: alice@example.org\r\nSubject: from curl\r\n\r\ncurl body\r\n")
        urls = [("smtp://127.0.0.1:%d/client.test" % self.s.port("smtp"), []),
                ("smtps://127.0.0.1:%d/client.test" % self.s.port("submissions"),
                 ["-k", "--user", "alice:" + USERS["alice"]])]
        for url, opts in urls:
            r = subprocess.run(["curl", "-sS", "--max-time", "30", url,
                                "--mail-from", "alice@example.org",
                                "--mail-rcpt", "bob@example.org", "--upload-file", msg] + opts,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout)
        got = self.wait_mail("bob", 2)
        self.assertTrue(all(b"curl body" in m for m in got))

    # -- privileges ----------------------------------------------------------

    def test_log_lines(self):
        c = self.smtp()
        c.quit()
        self.s.wait_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.1\] on smtp")
        self.s.wait_log(r"smtpd\[\d+\]: disconnect from unknown\[127\.0\.0\.1\]")

    def test_privileges(self):
        parent = self.s.service("smtpd")["pid"]
        sock = self.raw()
        child = None
        deadline = time.time() + 10
        while child is None and time.time() < deadline:
            for d in os.listdir("/proc"):
                try:
                    if d.isdigit() and lofttest.proc_status(int(d)).get("PPid") == str(parent):
                        child = int(d)
                except OSError:
                    pass  # gone meanwhile
            time.sleep(0.05)
        self.assertIsNotNone(child)
        smtp_uid = pwd.getpwnam("loft-smtp").pw_uid
        for pid in (parent, child):
            st = lofttest.proc_status(pid)
            self.assertEqual(st["Uid"].split(), [str(smtp_uid)] * 4, pid)
            for cap in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"):
                self.assertEqual(int(st[cap], 16), 0, (pid, cap))
            self.assertEqual(st["NoNewPrivs"], "1")
            self.assertEqual(os.readlink("/proc/%d/root" % pid), self.s.base_dir)
        sock.close()


@unittest.skipUnless(built(), "daemons not built")
class TestSmtpdLimits(Base):
    """Small limits, loopback not trusted for plaintext AUTH; mynetworks is
    127.0.0.2 only, so 127.0.0.1 is held to the per-address limit."""
    extra = {"smtpd_max_connections_per_ip": "2", "smtpd_timeout": "2s",
             "auth_loopback_secure": "no", "mynetworks": "127.0.0.2/32"}

    def smtp(self, proto="smtp"):
        # With 2 slots per IP, an earlier test's connections may still be
        # held until smtpd reaps their children: wait for a free slot.
        deadline = time.time() + 10
        while True:
            try:
                return super().smtp(proto)
            except smtplib.SMTPConnectError as e:
                if e.smtp_code != 421 or time.time() > deadline:
                    raise
                time.sleep(0.1)

    def raw(self, proto="smtp"):
        deadline = time.time() + 10
        while True:
            sock = self.s.connect(proto, timeout=20)
            if not self.s.last_greeting.startswith("421 ") or time.time() > deadline:
                break
            sock.close()
            time.sleep(0.1)
        self.addCleanup(sock.close)
        self.assertTrue(self.s.last_greeting.startswith("220 mx.test ESMTP"),
                        self.s.last_greeting)
        return sock

    def test_too_many_connections_per_ip(self):
        a = self.raw()
        b = self.raw()
        sock = self.s.connect("smtp", read_greeting=False)
        self.addCleanup(sock.close)
        line = lofttest.read_line(sock)
        self.assertEqual(line, "421 4.7.0 mx.test Error: too many connections from "
                               "127.0.0.1\r\n")
        self.assertEqual(sock.recv(10), b"")
        self.s.wait_log(r"too many connections from 127\.0\.0\.1")
        a.close()
        b.close()
        # the slots come back once the children are reaped
        deadline = time.time() + 10
        while True:
            s = self.s.connect("smtp", read_greeting=False)
            line = lofttest.read_line(s)
            s.close()
            if line.startswith("220 ") or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(line.startswith("220 mx.test"), line)

    def test_timeout(self):
        sock = self.raw()
        t0 = time.time()
        line = lofttest.read_line(sock)
        self.assertEqual(line, "421 4.4.2 mx.test Error: timeout exceeded\r\n")
        self.assertGreater(time.time() - t0, 1.5)
        self.assertEqual(sock.recv(10), b"")

    def test_no_plaintext_auth_when_loopback_not_secure(self):
        sock = self.raw("submission")
        sock.sendall(b"EHLO client.test\r\n")
        ehlo = "\n".join(replies(sock, 1)[0])
        self.assertNotIn("AUTH", ehlo)
        self.assertIn("STARTTLS", ehlo)
        self.assertTrue(self.s.send_line(sock, "AUTH PLAIN " + base64.b64encode(
            b"\0alice\0" + USERS["alice"].encode()).decode()).startswith("503 5.5.1"))
        # after STARTTLS it is offered and works
        c = self.smtp("submission")
        c.starttls(context=lofttest.tls_ctx())
        c.ehlo("client.test")
        self.assertIn("auth", c.esmtp_features)
        c.login("alice", USERS["alice"])

    def test_relay_from_mynetworks(self):
        # 127.0.0.2 is in mynetworks: relaying is allowed on 25
        c = smtplib.SMTP("127.0.0.1", self.s.port("smtp"), timeout=20,
                         source_address=("127.0.0.2", 0))
        self.addCleanup(c.close)
        c.ehlo("client.test")
        self.assertEqual(c.mail("s@example.org")[0], 250)
        self.assertEqual(c.rcpt("someone@elsewhere.test")[0], 250)
        c.rset()

    def test_mynetworks_exempt_from_per_ip_limit(self):
        socks = []
        for _ in range(4):  # twice the limit of 2
            sock = socket.create_connection(("127.0.0.1", self.s.port("smtp")), timeout=20,
                                            source_address=("127.0.0.2", 0))
            socks.append(sock)
            self.addCleanup(sock.close)
            self.assertTrue(lofttest.read_line(sock).startswith("220 mx.test ESMTP"))


if __name__ == "__main__":
    unittest.main()
