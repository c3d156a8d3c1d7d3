"""test_queue: loft-queue with the real master, loft-auth and loft-mailstore
(loft-smtpd and loft-relay are the harness's testsvc: this test is about the
queue manager). A python client speaks QUEUE on base_dir/pickup; mail for
passwd-file users must land in their Maildir byte for byte; failures must
come back as DSNs; LMTP outages are retried; queue_lifetime bounces; a
SIGKILLed queue manager loses and duplicates nothing it acknowledged; the
administration verbs are root's; and loft-queue runs as loft-queue with no
capabilities, owning a 0700 spool."""

import os
import pwd
import re
import signal
import stat
import threading
import time
import unittest

import lofttest

UID, GID = 4252, 4353
NEEDED = ["loft-master", "loft-auth", "loft-mailstore", "loft-queue", "loft-testsvc"]


def message(subject, body=b"Hello\r\n.leading dot\r\n..two dots\r\n\r\nlast line\r\n"):
    return (b"From: Alice <alice@example.org>\r\nTo: bob@example.org\r\n"
            b"Subject: " + subject.encode() + b"\r\n\r\n" + body)


def stored(msg, sender, rcpt):
    """The Maildir file mailstore writes for msg delivered over LMTP."""
    return (b"Return-Path: <%s>\nDelivered-To: <%s>\n" % (sender.encode(), rcpt.encode())
            + msg.replace(b"\r\n", b"\n"))


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED),
                     "daemons not built")
class TestQueue(unittest.TestCase):
    def start(self, **extra):
        self.s = lofttest.Suite(protocols=["lmtp", "smtp"], tls=False)
        self.addCleanup(self.s.cleanup)
        tmp = self.s.tmpdir
        self.users = os.path.join(tmp, "users")
        with open(self.users, "w") as f:
            for u in ("alice", "bob"):
                f.write("%s::%d:%d::%s/home/%s::\n" % (u, UID, GID, tmp, u))
        self.mail = os.path.join(tmp, "mail")
        os.mkdir(self.mail, 0o755)
        os.chown(self.mail, UID, GID)
        lofttest.libexec_mixed(self.s, ["loft-auth", "loft-mailstore", "loft-queue"],
                               ["loft-smtpd", "loft-relay"])
        cfg = dict(passdb="passwd-file:" + self.users,
                   mail_location="maildir:%s/%%u/Maildir" % self.mail,
                   mydomains="example.org", myhostname="queue.test",
                   postmaster_user="alice", queue_retry_min="1s", queue_retry_max="2s")
        cfg.update(extra)
        self.s.write_config(**cfg)
        self.s.start()
        self.s.wait_log(r"queue\[\d+\]: serving")
        self.pickup = os.path.join(self.s.base_dir, "pickup")
        self.spool = os.path.join(self.s.state_dir, "queue")

    def client(self):
        c = lofttest.QueueClient(self.pickup)
        self.addCleanup(c.close)
        return c

    def submit(self, sender, rcpts, msg):
        r = self.client().submit(sender, rcpts, msg)
        self.assertEqual(r[0], "OK", r)
        self.assertRegex(r[1], r"^[0-9a-f]{24}$")
        return r[1]

    def files(self, user):
        d = os.path.join(self.mail, user, "Maildir", "new")
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def wait_files(self, user, n, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            fs = self.files(user)
            if len(fs) >= n:
                return fs
            time.sleep(0.05)
        self.fail("%s has %d of %d messages; log:\n%s"
                  % (user, len(self.files(user)), n, self.s.log()[-4000:]))

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def spool_ids(self, folder):
        return sorted(os.listdir(os.path.join(self.spool, folder)))

    def lmtp_down(self):
        sock = os.path.join(self.s.base_dir, "lmtp")
        os.rename(sock, sock + ".off")
        return lambda: os.rename(sock + ".off", sock)

    # -- tests -----------------------------------------------------------

    def test_local_delivery_byte_exact(self):
        self.start()
        msg = message("one", b"8bit \xc3\xa4\r\n.\r\n.x\r\nbare\nLF and bare\rCR\r\nend")
        qid = self.submit("alice@example.org", ["bob@example.org", "Postmaster"], msg)
        self.s.wait_log(r"%s: client=local uid=0, from=<alice@example.org>" % qid)
        bob = self.wait_files("bob", 1)
        # The body did not end in CRLF: the LMTP client had to add one.
        self.assertEqual(self.read(bob[0]),
                         stored(msg + b"\r\n", "alice@example.org", "bob@example.org"))
        alice = self.wait_files("alice", 1)  # postmaster -> postmaster_user
        self.assertEqual(self.read(alice[0]),
                         stored(msg + b"\r\n", "alice@example.org", "alice"))
        self.s.wait_log(r"%s: to=<bob@example.org>, relay=lmtp, delay=\d+, status=sent "
                        r"\(250 2\.0\.0" % qid)
        self.s.wait_log(r"%s: removed" % qid)
        for folder in ("active", "deferred", "incoming", "state"):
            self.assertEqual(self.spool_ids(folder), [], folder)

    def test_unknown_user_bounces_to_sender(self):
        self.start()
        msg = message("to nobody")
        qid = self.submit("alice@example.org", ["nosuch@example.org", "bob@example.org"], msg)
        self.wait_files("bob", 1)
        self.s.wait_log(r"%s: to=<nosuch@example.org>, relay=lmtp, delay=\d+, "
                        r"status=bounced \(550 5\.1\.1" % qid)
        dsn = self.read(self.wait_files("alice", 1)[0])
        self.assertTrue(dsn.startswith(b"Return-Path: <>\nDelivered-To: <alice@example.org>\n"),
                        dsn[:200])
        self.assertIn(b"multipart/report", dsn)
        self.assertIn(b"Final-Recipient: rfc822; nosuch@example.org", dsn)
        self.assertIn(b"Status: 5.1.1", dsn)
        self.assertIn(b"Subject: to nobody", dsn)  # original headers attached
        self.assertNotIn(b"bob@example.org>... ", dsn)
        self.s.wait_log(r"%s: removed" % qid)

    def test_double_bounce_discarded(self):
        self.start()
        qid = self.submit("", ["nosuch@example.org"], message("bounce of a bounce"))
        self.s.wait_log(r"%s: discarding double bounce" % qid)
        self.s.wait_log(r"%s: removed" % qid)
        self.assertEqual(self.files("alice"), [])

    def test_lmtp_down_deferred_then_delivered(self):
        self.start()
        restore = self.lmtp_down()
        msg = message("later")
        qid = self.submit("alice@example.org", ["bob@example.org"], msg)
        self.s.wait_log(r"%s: to=<bob@example.org>, relay=lmtp, delay=\d+, status=deferred "
                        r"\(4\.3\.0 lmtp unavailable" % qid)
        deadline = time.time() + 10
        while self.spool_ids("deferred") != [qid] and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.spool_ids("deferred"), [qid])
        self.assertEqual(self.files("bob"), [])
        restore()
        bob = self.wait_files("bob", 1)
        self.assertEqual(self.read(bob[0]), stored(msg, "alice@example.org", "bob@example.org"))
        self.s.wait_log(r"%s: removed" % qid)
        self.assertEqual(len(self.files("bob")), 1)

    def test_lifetime_expiry_bounces(self):
        self.start(queue_lifetime="3s")
        # loft-relay is testsvc here: the remote domain is never reachable.
        t0 = time.time()
        qid = self.submit("alice@example.org", ["carol@remote.example"], message("far away"))
        self.s.wait_log(r"%s: to=<carol@remote\.example>, relay=smtp:remote\.example, "
                        r"delay=\d+, status=deferred \(4\.3\.0 relay unavailable\)" % qid)
        self.s.wait_log(r"%s: to=<carol@remote\.example>, .*status=bounced \(4\.4\.7 "
                        r"delivery time expired \(4\.3\.0 relay unavailable\)\)" % qid)
        self.assertGreaterEqual(time.time() - t0, 1.9)  # arrival is in whole seconds
        dsn = self.read(self.wait_files("alice", 1)[0])
        self.assertIn(b"Final-Recipient: rfc822; carol@remote.example", dsn)
        self.assertIn(b"Status: 4.4.7", dsn)
        self.assertIn(b"expired", dsn)
        self.s.wait_log(r"%s: removed" % qid)

    def test_sigkill_loses_and_duplicates_nothing(self):
        self.start()
        # Phase 1: delivered messages stay delivered across a restart.
        first = [self.submit("alice@example.org", ["bob@example.org"], message("first %d" % i))
                 for i in range(8)]
        self.wait_files("bob", 8)
        for qid in first:
            self.s.wait_log(r"%s: removed" % qid)
        # Phase 2: a batch being submitted while loft-queue is SIGKILLed.
        restore = self.lmtp_down()
        old = self.s.service("queue")["pid"]
        acked = []
        stop = threading.Event()

        def submitter():
            c = lofttest.QueueClient(self.pickup)
            try:
                for i in range(200):
                    if stop.is_set():
                        break
                    r = c.submit("alice@example.org", ["bob@example.org"],
                                 message("batch %d" % i, b"x" * 70000 + b"\r\n"))
                    if r[0] == "OK":
                        acked.append(i)
            except (OSError, EOFError):
                pass
            finally:
                c.close()

        t = threading.Thread(target=submitter)
        t.start()
        deadline = time.time() + 20
        while len(acked) < 10 and time.time() < deadline:
            time.sleep(0.01)
        os.kill(old, signal.SIGKILL)
        t.join(20)
        stop.set()
        self.assertGreaterEqual(len(acked), 10)
        deadline = time.time() + 20
        while time.time() < deadline:
            svc = self.s.service("queue")
            if svc and svc["pid"] != old:
                break
            time.sleep(0.05)
        else:
            self.fail("loft-queue was not restarted")
        self.s.wait_log(r"queue\[%d\]: recovery: " % svc["pid"])
        self.assertEqual(self.spool_ids("incoming"), [])
        restore()
        fs = self.wait_files("bob", 8 + len(acked), timeout=40)
        time.sleep(1)  # a duplicate would arrive at the latest with the same retry
        fs = self.files("bob")
        subjects = [re.search(rb"Subject: ([^\n]*)", self.read(f)).group(1).decode()
                    for f in fs]
        self.assertEqual(sorted(subjects), sorted(set(subjects)), "a message came twice")
        for i in range(8):
            self.assertIn("first %d" % i, subjects)
        for i in acked:
            self.assertIn("batch %d" % i, subjects)
        # Anything else delivered was committed just before the kill, its
        # OK lost with the connection: at most one such message.
        self.assertLessEqual(len(subjects) - 8 - len(acked), 1)

    def test_admin_verbs(self):
        self.start()
        restore = self.lmtp_down()
        self.addCleanup(lambda: os.path.exists(os.path.join(self.s.base_dir, "lmtp.off"))
                        and restore())
        qid = self.submit("alice@example.org", ["bob@example.org"], message("held"))
        self.s.wait_log(r"%s: to=<bob@example.org>, .*status=deferred" % qid)
        c = self.client()
        r = c.request(("LIST",))
        self.assertEqual(r[0], "LIST")
        self.assertIn(qid, r[1])
        self.assertIn("<alice@example.org>", r[1])
        self.assertIn("lmtp unavailable", r[1])
        self.assertEqual(c.reply(), ["OK"])
        self.assertEqual(c.request(("HOLD", qid)), ["OK"])
        self.assertEqual(self.spool_ids("hold"), [qid])
        self.assertEqual(c.request(("FLUSH",)), ["OK"])
        restore()
        time.sleep(1.5)  # held: never attempted, even with LMTP back
        self.assertEqual(self.files("bob"), [])
        self.assertEqual(self.spool_ids("hold"), [qid])
        # Not root: refused, but submitting works and is recorded by uid.
        nobody = pwd.getpwnam("nobody").pw_uid
        pickup = self.pickup

        def as_nobody():
            q = lofttest.QueueClient(pickup)
            out = [q.request(("LIST",)), q.request(("RELEASE", qid)),
                   q.request(("DELETE", qid)), q.request(("FLUSH",))]
            out.append(q.submit("nobody@example.org", ["bob@example.org"],
                                message("from nobody"), ["addr=10.9.9.9", "auth=root"]))
            q.close()
            return out

        out = lofttest.run_as_user("nobody", as_nobody)
        for r in out[:4]:
            self.assertEqual(r, ["FAIL", "perm", "permission denied"])
        self.assertEqual(out[4][0], "OK")
        self.s.wait_log(r"%s: client=local uid=%d, from=<nobody@example.org>"
                        % (out[4][1], nobody))
        self.wait_files("bob", 1)
        self.assertEqual(self.spool_ids("hold"), [qid])
        # Root: release delivers it; delete of a gone message fails.
        self.assertEqual(c.request(("RELEASE", qid)), ["OK"])
        self.wait_files("bob", 2)
        self.s.wait_log(r"%s: removed" % qid)
        self.assertEqual(c.request(("DELETE", qid)), ["FAIL", "perm", "no such message"])
        # DELETE of a deferred message.
        restore = self.lmtp_down()
        qid2 = self.submit("alice@example.org", ["bob@example.org"], message("doomed"))
        self.s.wait_log(r"%s: to=<bob@example.org>, .*status=deferred" % qid2)
        self.assertEqual(c.request(("DELETE", qid2)), ["OK"])
        restore()
        self.assertEqual(c.request(("FLUSH",)), ["OK"])
        r = c.request(("LIST",))
        self.assertNotIn(qid2, r[1])
        self.assertEqual(c.reply(), ["OK"])
        self.assertEqual(len(self.files("bob")), 2)
        # Malformed input: FAIL perm and the connection is closed.
        self.assertEqual(c.request(("HOLD", "../../etc/passwd"))[:2], ["FAIL", "perm"])
        self.assertRaises((EOFError, OSError), c.reply)

    def test_protocol_errors(self):
        self.start()
        c = self.client()
        c.send("MAIL", "alice@example.org")
        self.assertEqual(c.request(("DATA",))[:2], ["FAIL", "perm"])  # no RCPT
        self.assertRaises((EOFError, OSError), c.reply)
        c = self.client()
        self.assertEqual(c.request(("RCPT", "bob@example.org"))[:2], ["FAIL", "perm"])
        c = self.client()
        c.send("MAIL", "alice@example.org")
        self.assertEqual(c.request(("RCPT", ";sleep 66;@example.org"))[:2], ["FAIL", "perm"])
        # An open message is aborted when the client goes away.
        c = self.client()
        c.send("MAIL", "alice@example.org")
        c.send("RCPT", "bob@example.org")
        r = c.request(("DATA",))
        self.assertEqual(r[0], "OK")
        c.send("BODY", "Subject: x\r\n\r\n")
        c.close()
        deadline = time.time() + 5
        while self.spool_ids("incoming") and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.spool_ids("incoming"), [])
        # ABORT answers OK and leaves nothing.
        c = self.client()
        c.send("MAIL", "alice@example.org")
        c.send("RCPT", "bob@example.org")
        self.assertEqual(c.request(("DATA",))[0], "OK")
        self.assertEqual(c.request(("ABORT",)), ["OK"])
        self.assertEqual(self.spool_ids("incoming") + self.spool_ids("active"), [])
        self.assertEqual(self.files("bob"), [])

    def test_privileges(self):
        self.start()
        pid = self.s.service("queue")["pid"]
        pw = pwd.getpwnam("loft-queue")
        st = lofttest.proc_status(pid)
        self.assertEqual(st["Uid"].split(), [str(pw.pw_uid)] * 4)
        self.assertEqual(st["Gid"].split(), [str(pw.pw_gid)] * 4)
        self.assertEqual(st["Groups"].split(), [str(pw.pw_gid)])
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(int(st["CapPrm"], 16), 0)
        self.assertEqual(int(st["CapBnd"], 16), 0)
        self.assertEqual(st["NoNewPrivs"], "1")
        for sub in ("", "active", "deferred", "hold", "incoming", "corrupt", "state"):
            s = os.stat(os.path.join(self.spool, sub))
            self.assertEqual((s.st_uid, s.st_gid), (pw.pw_uid, pw.pw_gid), sub)
            self.assertEqual(stat.S_IMODE(s.st_mode), 0o700, sub)
        qid = self.submit("alice@example.org", ["bob@example.org"], message("owned"))
        self.wait_files("bob", 1)
        self.s.wait_log(r"%s: removed" % qid)


if __name__ == "__main__":
    unittest.main()
