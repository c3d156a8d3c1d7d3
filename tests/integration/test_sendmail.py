"""test_sendmail: the sendmail/mailq CLI and `loft queue` against the real
suite (smtp + lmtp: loft-smtpd, loft-queue, loft-relay, loft-auth,
loft-mailstore). Messages submitted with `sendmail` over base_dir/pickup end
up in a passwd-file user's Maildir; options -t, -f, -F, -i and the "." line
are checked in the delivered files; mailq and `loft queue` manage a message
kept in the queue by a relayhost that refuses connections; exit codes follow
sysexits.h (docs/sendmail.md)."""

import os
import pwd
import re
import socket
import subprocess
import time
import unittest

import lofttest

UID, GID = 4254, 4355
NEEDED = ["loft-master", "loft-auth", "loft-mailstore", "loft-smtpd", "loft-queue",
          "loft-relay", "sendmail", "loft"]
EX_USAGE, EX_NOUSER, EX_TEMPFAIL, EX_NOPERM = 64, 67, 75, 77
QID_RE = re.compile(r"queued as ([0-9a-f]{24})")


def closed_port():
    """A loopback port with nothing listening (bound once, then released)."""
    return lofttest.free_port()


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED),
                     "daemons not built")
class TestSendmail(unittest.TestCase):
    def setUp(self):
        self.s = lofttest.Suite(protocols=["smtp", "lmtp"])  # smtpd needs a certificate
        self.addCleanup(self.s.cleanup)
        tmp = self.s.tmpdir
        self.users = os.path.join(tmp, "users")
        with open(self.users, "w") as f:
            for u in ("alice", "bob"):
                f.write("%s::%d:%d::%s/home/%s::\n" % (u, UID, GID, tmp, u))
        os.chmod(self.users, 0o644)
        self.mail = os.path.join(tmp, "mail")
        os.mkdir(self.mail, 0o755)
        os.chown(self.mail, UID, GID)
        # remote mail goes to a relayhost nobody listens on: it stays deferred
        self.s.write_config(passdb="passwd-file:" + self.users,
                            mail_location="maildir:%s/%%u/Maildir" % self.mail,
                            mydomains="example.org", myhostname="mail.example.org",
                            relayhost="[127.0.0.1]:%d" % closed_port())
        os.chmod(self.s.conf, 0o644)
        self.s.start()

    # -- helpers ---------------------------------------------------------

    def sendmail(self, args, data=b"", user=None, prog="sendmail"):
        exe = os.path.join(lofttest.BIN_DIR, "sendmail")
        if prog == "mailq":  # the installed symlink: the name selects -bp
            exe = os.path.join(self.s.tmpdir, "mailq")
            if not os.path.lexists(exe):
                os.symlink(os.path.join(lofttest.BIN_DIR, "sendmail"), exe)
        cmd = [exe] + list(args)
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                   "--clear-groups"] + cmd
        env = dict(os.environ, LOFT_CONF=self.s.conf)
        return subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, timeout=60)

    def loft(self, *args, user=None):
        cmd = [os.path.join(lofttest.BIN_DIR, "loft"), "-c", self.s.conf] + list(args)
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                   "--clear-groups"] + cmd
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60)

    def files(self, user):
        d = os.path.join(self.mail, user, "Maildir", "new")
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def wait_mail(self, user, count=1, timeout=20):
        """Poll the Maildir until count messages arrived; return their bytes."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            fs = self.files(user)
            if len(fs) >= count:
                out = []
                for p in fs:
                    with open(p, "rb") as f:
                        out.append(f.read())
                return out
            time.sleep(0.05)
        self.fail("no mail for %s after %ss; log:\n%s" % (user, timeout, self.s.log()[-3000:]))

    def header(self, msg, name):
        head = msg.split(b"\n\n", 1)[0]
        m = re.search(rb"^" + name.encode() + rb": (.*)$", head, re.M | re.I)
        return m.group(1).decode() if m else None

    def queued_id(self, r):
        m = QID_RE.search(r.stderr.decode())
        self.assertIsNotNone(m, r.stderr)
        return m.group(1)

    def mailq(self):
        r = self.sendmail([], prog="mailq")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode()

    def wait_listing(self, qid, word, present=True, timeout=20):
        """Poll `loft queue list` until qid's line shows word (or qid is gone)."""
        deadline = time.time() + timeout
        text = ""
        while time.time() < deadline:
            r = self.loft("queue", "list")
            self.assertEqual(r.returncode, 0, r.stderr)
            text = r.stdout
            line = next((ln for ln in text.splitlines() if ln.startswith(qid)), None)
            if not present and line is None:
                return text
            if present and line is not None and word in line.split():
                return text
            time.sleep(0.1)
        self.fail("queue listing never showed %s %s: %r" % (qid, word, text))

    # -- delivery --------------------------------------------------------

    def test_t_extracts_recipients_and_drops_bcc(self):
        msg = (b"From: Carol <carol@example.org>\n"
               b"To: Alice <alice@example.org>,\n"
               b"\tnobody-group: ;\n"
               b"Bcc: bob@example.org (hidden)\n"
               b"Subject: with -t\n"
               b"\n"
               b"Hello from sendmail -t\n")
        r = self.sendmail(["-t", "-i"], msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        alice = self.wait_mail("alice")[0]
        bob = self.wait_mail("bob")[0]
        for got in (alice, bob):
            self.assertIn(b"Subject: with -t\n", got)
            self.assertIn(b"\nHello from sendmail -t\n", got)
            self.assertNotIn(b"Bcc", got)
            self.assertNotIn(b"\r", got)  # LF input was stored as CRLF, delivered as LF
            self.assertEqual(self.header(got, "From"), "Carol <carol@example.org>")
            self.assertIsNotNone(self.header(got, "Date"))
            self.assertRegex(self.header(got, "Message-ID"), r"^<\d{14}\.[0-9a-f]{24}@mail\.example\.org>$")
            # the default envelope sender: login @ myhostname
            self.assertEqual(self.header(got, "Return-Path"), "<root@mail.example.org>")

    def test_args_sender_fullname(self):
        msg = b"Subject: args\n\nbody\n"
        r = self.sendmail(["-f", "bounces@example.org", "-F", "Joe Q. User", "alice@example.org"],
                          msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.wait_mail("alice")[0]
        self.assertEqual(self.header(got, "Return-Path"), "<bounces@example.org>")
        self.assertEqual(self.header(got, "From"), '"Joe Q. User" <bounces@example.org>')
        self.assertTrue(got.endswith(b"\n\nbody\n"), got)

    def test_dot_ends_input_without_i(self):
        r = self.sendmail(["alice@example.org"], b"Subject: dot\n\nbefore\n.\nafter\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.wait_mail("alice")[0]
        self.assertIn(b"before\n", got)
        self.assertNotIn(b"after", got)
        r = self.sendmail(["-oi", "bob@example.org"], b"Subject: dot\n\nbefore\n.\nafter\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.wait_mail("bob")[0]
        self.assertTrue(got.endswith(b"before\n.\nafter\n"), got)

    def test_bs_smtp_on_stdio(self):
        session = (b"EHLO client.test\r\nMAIL FROM:<carol@example.org>\r\n"
                   b"RCPT TO:<alice@example.org>\r\nDATA\r\n"
                   b"Subject: bs\r\n\r\n..dot stuffed\r\n.\r\nQUIT\r\n")
        r = self.sendmail(["-bs"], session)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(out.startswith("220 "), out)
        self.assertRegex(out, r"\n250 2\.0\.0 Ok: queued as ")
        self.assertIn("\n221 ", out)
        got = self.wait_mail("alice")[0]
        self.assertEqual(self.header(got, "Return-Path"), "<carol@example.org>")
        self.assertIn(b"\n.dot stuffed\n", got)

    # -- errors ----------------------------------------------------------

    def test_exit_codes(self):
        r = self.sendmail(["bad@@example.org"], b"Subject: x\n\nx\n")
        self.assertEqual(r.returncode, EX_NOUSER, r.stderr)
        self.assertIn(b"bad recipient address", r.stderr)
        r = self.sendmail(["-t"], b"To: \"unterminated@example.org\n\nx\n")
        self.assertIn(r.returncode, (EX_NOUSER, EX_USAGE), r.stderr)
        r = self.sendmail([], b"Subject: x\n\nx\n")
        self.assertEqual(r.returncode, EX_USAGE, r.stderr)
        r = self.sendmail(["-Z"], b"")
        self.assertEqual(r.returncode, EX_USAGE, r.stderr)
        self.assertEqual(self.files("alice"), [])

    def test_queue_down_is_tempfail(self):
        # the same config, but a base_dir where no queue listens
        conf = os.path.join(self.s.tmpdir, "down.conf")
        empty = os.path.join(self.s.tmpdir, "empty-run")
        os.mkdir(empty)
        with open(conf, "w") as f:
            f.write(self.s.read_config().replace(self.s.base_dir, empty))
        r = self.sendmail(["-C", conf, "alice@example.org"], b"Subject: x\n\nx\n")
        self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)
        self.assertIn(b"not queued", r.stderr)
        # and the real queue stopped
        self.s.stop()
        r = self.sendmail(["alice@example.org"], b"Subject: x\n\nx\n")
        self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)

    # -- queue administration -------------------------------------------

    def test_mailq_and_loft_queue(self):
        r = self.sendmail(["-v", "-f", "carol@example.org", "someone@remote.example"],
                          b"Subject: stays\n\nqueued\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        qid = self.queued_id(r)
        # the relayhost refuses: the message is deferred, mailq shows it
        self.wait_listing(qid, "deferred")
        text = self.mailq()
        self.assertIn(qid, text)
        self.assertIn("<carol@example.org>", text)
        self.assertIn("<someone@remote.example>", text)
        self.assertEqual(self.sendmail(["-bp"]).stdout.decode().count(qid), 1)

        self.assertEqual(self.loft("queue", "hold", qid).returncode, 0)
        self.wait_listing(qid, "hold")
        r = self.loft("queue", "release", qid)
        self.assertEqual(r.returncode, 0, r.stderr)
        listing = self.loft("queue", "list").stdout
        line = next(ln for ln in listing.splitlines() if ln.startswith(qid))
        self.assertNotIn("hold", line.split())
        self.assertEqual(self.loft("queue", "flush").returncode, 0)
        r = self.loft("queue", "delete", qid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_listing(qid, None, present=False)
        self.assertNotIn(qid, self.mailq())
        # a message that is gone, and ids that are no ids
        r = self.loft("queue", "delete", qid)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such message", r.stderr)
        r = self.loft("queue", "hold", "../../etc/passwd")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a queue id", r.stderr)
        self.assertEqual(self.loft("queue", "bogus").returncode, 2)

    def test_non_root_refused(self):
        r = self.sendmail([], prog="mailq", user="nobody")
        self.assertEqual(r.returncode, EX_NOPERM, r.stderr)
        self.assertIn(b"permission denied", r.stderr)
        r = self.loft("queue", "list", user="nobody")
        self.assertEqual(r.returncode, 1)
        self.assertIn("permission denied", r.stderr)
        # the queue itself refuses a non-root admin verb on pickup, too
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)  # a queue that never answers fails the test, not hangs it
        self.addCleanup(sock.close)
        pw = pwd.getpwnam("nobody")
        pid = os.fork()
        if pid == 0:  # the child talks to pickup as nobody
            try:
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
                sock.connect(os.path.join(self.s.base_dir, "pickup"))
                f = sock.makefile("rb")
                sock.sendall(b"VERSION\tQUEUE\t1\t0\n")
                ok = f.readline().startswith(b"VERSION\tQUEUE\t1")
                sock.sendall(b"LIST\n")
                ok = ok and f.readline().startswith(b"FAIL\tperm\t")
                os._exit(0 if ok else 1)
            except Exception:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        # a non-root user may still send mail
        r = self.sendmail(["alice@example.org"], b"Subject: from nobody\n\nhi\n", user="nobody")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.wait_mail("alice")[0]
        self.assertEqual(self.header(got, "Return-Path"), "<nobody@mail.example.org>")
        self.assertEqual(self.header(got, "From"), "nobody@mail.example.org")


if __name__ == "__main__":
    unittest.main()
