"""test_lmtp: LMTP delivery with the real master, loft-auth and loft-mailstore
(pop3-login is the harness's testsvc; pop3 is on only so that auth runs).
Python's smtplib.LMTP (TCP and the UNIX socket base_dir/lmtp), swaks in LMTP
mode and raw sockets deliver to passwd-file users; files are checked byte for
byte (CRLF stored as LF, Return-Path and Delivered-To prepended, see
docs/lmtp.md); plus `loft-deliver` exit codes."""

import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

import lofttest

UID, GID = 4252, 4353
NEEDED = ["loft-master", "loft-auth", "loft-mailstore", "loft-testsvc"]
MSG = (b"From: Sender <s@example.org>\r\nTo: alice@example.org\r\nSubject: test\r\n\r\n"
       b"Hello \xc3\xa4 8bit\r\n.leading dot\r\n\r\nlast line\r\n")


def stored(msg, sender, rcpt):
    """What the Maildir file must hold for msg sent over LMTP."""
    return (b"Return-Path: <%s>\nDelivered-To: <%s>\n" % (sender.encode(), rcpt.encode())
            + msg.replace(b"\r\n", b"\n"))


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
@unittest.skipUnless(all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED),
                     "daemons not built")
class TestLmtp(unittest.TestCase):
    def setUp(self):
        self.s = lofttest.Suite(protocols=["lmtp", "pop3"], tls=False)
        self.addCleanup(self.s.cleanup)
        tmp = self.s.tmpdir
        self.users = os.path.join(tmp, "users")
        with open(self.users, "w") as f:
            for u in ("alice", "bob"):
                f.write("%s::%d:%d::%s/home/%s::\n" % (u, UID, GID, tmp, u))
            # a system account (daemon, uid 1) and one in root's group:
            # refused at RCPT (issue 18)
            f.write("sysd::1:1::%s/home/sysd::\n" % tmp)
            f.write("rootgrp::%d:0::%s/home/rootgrp::\n" % (UID, tmp))
        self.mail = os.path.join(tmp, "mail")
        os.mkdir(self.mail, 0o755)
        os.chown(self.mail, UID, GID)
        libexec = os.path.join(tmp, "libexec")
        os.mkdir(libexec)
        for exe in ("loft-auth", "loft-mailstore"):
            os.symlink(os.path.join(lofttest.BIN_DIR, exe), os.path.join(libexec, exe))
        os.symlink(os.path.join(lofttest.BIN_DIR, "loft-testsvc"),
                   os.path.join(libexec, "loft-pop3-login"))
        self.s.write_config(libexec_dir=libexec, passdb="passwd-file:" + self.users,
                            mail_location="maildir:%s/%%u/Maildir" % self.mail,
                            message_size_limit="20k", myhostname="lmtp.test")
        self.s.start()

    # -- helpers ---------------------------------------------------------

    def files(self, user, sub="new"):
        d = os.path.join(self.mail, user, "Maildir", sub)
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def only_file(self, user):
        fs = self.files(user)
        self.assertEqual(len(fs), 1, fs)
        st = os.stat(fs[0])
        self.assertEqual((st.st_uid, st.st_gid), (UID, GID))
        with open(fs[0], "rb") as f:
            return f.read()

    def lmtp(self):
        c = smtplib.LMTP("127.0.0.1", self.s.port("lmtp"), timeout=15)
        self.addCleanup(c.close)
        code, _ = c.ehlo("client.test")
        self.assertEqual(code, 250)
        return c

    def raw(self):
        sock = self.s.connect("lmtp")
        self.addCleanup(sock.close)
        self.assertTrue(sock.greeting.startswith("220 "), sock.greeting)
        return sock

    def read_replies(self, sock, n):
        """n final reply lines (multi-line continuations skipped)."""
        out = []
        while len(out) < n:
            line = lofttest.read_line(sock)
            self.assertTrue(line, "connection closed; got %r" % out)
            if line[3:4] != "-":
                out.append(line.rstrip("\r\n"))
        return out

    # -- tests -----------------------------------------------------------

    def test_smtplib_tcp_one_recipient(self):
        c = self.lmtp()
        self.assertIn("pipelining", c.esmtp_features)
        self.assertIn("8bitmime", c.esmtp_features)
        self.assertIn("enhancedstatuscodes", c.esmtp_features)
        self.assertEqual(c.esmtp_features.get("size"), str(20 * 1024))
        self.assertEqual(c.sendmail("s@example.org", ["alice@example.org"], MSG), {})
        c.quit()
        self.assertEqual(self.only_file("alice"), stored(MSG, "s@example.org", "alice@example.org"))
        self.assertEqual(self.files("alice", "tmp"), [])
        mode = os.stat(os.path.join(self.mail, "alice", "Maildir")).st_mode & 0o777
        self.assertEqual(mode, 0o700)

    def test_system_uid_and_gid0_refused_at_rcpt(self):
        c = self.lmtp()
        self.assertEqual(c.mail("s@example.org")[0], 250)
        for u in ("sysd", "rootgrp"):
            code, text = c.rcpt("%s@example.org" % u)
            self.assertEqual(code, 550, text)
            self.assertIn(b"5.7.1", text)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        self.assertEqual(c.data(MSG)[0], 250)
        c.quit()
        self.assertEqual(self.only_file("alice"), stored(MSG, "s@example.org", "alice@example.org"))
        self.assertEqual(self.files("sysd") + self.files("rootgrp"), [])
        log = self.s.log()
        self.assertRegex(log, r"user sysd \(uid 1, gid 1\): uid is below first_valid_uid")
        self.assertRegex(log, r"user rootgrp \(uid %d, gid 0\): gid 0" % UID)

    def test_unix_socket_several_recipients(self):
        path = os.path.join(self.s.base_dir, "lmtp")
        c = smtplib.LMTP(path, timeout=15)
        self.addCleanup(c.close)
        c.ehlo("client.test")
        self.assertEqual(c.mail("s@example.org")[0], 250)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        self.assertEqual(c.rcpt("bob")[0], 250)
        code, _ = c.data(MSG)
        self.assertEqual(code, 250)
        code2, text2 = c.getreply()  # LMTP: one reply per recipient
        self.assertEqual(code2, 250, text2)
        c.quit()
        self.assertEqual(self.only_file("alice"), stored(MSG, "s@example.org", "alice@example.org"))
        self.assertEqual(self.only_file("bob"), stored(MSG, "s@example.org", "bob"))

    def test_mixed_recipients(self):
        c = self.lmtp()
        self.assertEqual(c.mail("")[0], 250)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        code, text = c.rcpt("nosuchuser@example.org")
        self.assertEqual(code, 550)
        self.assertIn(b"5.1.1 <nosuchuser@example.org>... User unknown", text)
        self.assertEqual(c.rcpt("bob@example.org")[0], 250)
        code, _ = c.data(MSG)
        self.assertEqual(code, 250)
        self.assertEqual(c.getreply()[0], 250)
        c.quit()
        self.assertEqual(self.only_file("alice"), stored(MSG, "", "alice@example.org"))
        self.assertEqual(self.only_file("bob"), stored(MSG, "", "bob@example.org"))
        self.assertFalse(os.path.exists(os.path.join(self.mail, "nosuchuser")))
        self.s.wait_log(r"nosuchuser@example.org>: user unknown")

    def test_swaks(self):
        if shutil.which("swaks") is None:
            self.skipTest("swaks not installed")
        r = subprocess.run(
            ["swaks", "--protocol", "LMTP", "--server", "127.0.0.1",
             "--port", str(self.s.port("lmtp")), "--from", "sw@example.org",
             "--to", "alice@example.org,bob@example.org", "--header", "Subject: swaks",
             "--body", "swaks body\n..two dots\n", "--timeout", "15"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out)
        self.assertEqual(out.count("250 2.0.0"), 2, out)
        for u in ("alice", "bob"):
            data = self.only_file(u)
            self.assertTrue(data.startswith(b"Return-Path: <sw@example.org>\nDelivered-To: <%s@"
                                            b"example.org>\n" % u.encode()), data[:200])
            self.assertIn(b"\nSubject: swaks\n", data)
            self.assertIn(b"\n..two dots\n", data)  # swaks stuffed it, we unstuffed
            self.assertNotIn(b"\r", data)

    def test_size_limit(self):
        big = b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * 400  # 32 KB > 20k
        c = self.lmtp()
        code, _ = c.mail("s@example.org", ["SIZE=%d" % len(big)])
        self.assertEqual(code, 552)
        self.assertEqual(c.mail("s@example.org")[0], 250)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        self.assertEqual(c.rcpt("bob@example.org")[0], 250)
        code, text = c.data(big)
        self.assertEqual(code, 552, text)
        self.assertIn(b"5.3.4", text)
        self.assertEqual(c.getreply()[0], 552)
        self.assertEqual(c.noop()[0], 250)
        c.quit()
        for u in ("alice", "bob"):
            self.assertEqual(self.files(u, "new"), [])
            self.assertEqual(self.files(u, "tmp"), [])

    def test_pipelining_dots_and_smuggling(self):
        sock = self.raw()
        sock.sendall(b"LHLO c\r\nMAIL FROM:<p@example.org>\r\nRCPT TO:<alice@example.org>\r\n"
                     b"RCPT TO:<ghost@example.org>\r\nDATA\r\n"
                     b"Subject: pipe\r\n\r\n..stuffed\r\nsmuggle\n.\r\n"
                     b"MAIL FROM:<evil@example.org>\r\n.\r\nNOOP\r\nQUIT\r\n")
        r = self.read_replies(sock, 8)
        self.assertTrue(r[0].startswith("250 "), r)
        self.assertTrue(r[1].startswith("250 2.1.0"), r)
        self.assertTrue(r[2].startswith("250 2.1.5"), r)
        self.assertTrue(r[3].startswith("550 5.1.1"), r)
        self.assertTrue(r[4].startswith("354"), r)
        self.assertTrue(r[5].startswith("250 2.0.0 <alice@example.org>"), r)
        self.assertTrue(r[6].startswith("250"), r)
        self.assertTrue(r[7].startswith("221"), r)
        self.assertEqual(self.only_file("alice"),
                         b"Return-Path: <p@example.org>\nDelivered-To: <alice@example.org>\n"
                         b"Subject: pipe\n\n.stuffed\nsmuggle\n.\nMAIL FROM:<evil@example.org>\n")

    def test_bad_commands(self):
        sock = self.raw()
        sock.sendall(b"A" * 3000 + b"\r\nLHLO c\r\nMAIL FROM:<;sleep 66;@example.org>\r\n"
                     b"RCPT TO:<alice@example.org>\r\nQUIT\r\n")
        r = self.read_replies(sock, 5)
        self.assertTrue(r[0].startswith("500 5.5.2"), r)
        self.assertTrue(r[2].startswith("501 5.1.7"), r)
        self.assertTrue(r[3].startswith("503 5.5.1"), r)

    def test_queue_id_delivers_once(self):
        """X-LOFT-QID (docs/lmtp.md): a repeated delivery of the same queue
        id, sender, recipient and content is answered "Already delivered",
        also once the file was moved to cur/ with flags; anything else
        with that id is mail of its own."""
        qid = "05f1a2b3c4d5e60001abcdef"
        sock = self.raw()
        sock.sendall(b"LHLO c\r\n")
        caps = []
        while True:
            line = lofttest.read_line(sock)
            self.assertTrue(line)
            caps.append(line[4:].strip().upper())
            if line[3:4] != "-":
                break
        self.assertIn("X-LOFT-QID", caps)

        def send(sender, rcpts, body=MSG):
            cmds = b"MAIL FROM:<%s> X-LOFT-QID=%s\r\n" % (sender.encode(), qid.encode())
            cmds += b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts)
            sock.sendall(cmds + b"DATA\r\n" + body.replace(b"\r\n.", b"\r\n..") + b".\r\n")
            r = self.read_replies(sock, 2 + 2 * len(rcpts))
            self.assertTrue(r[0].startswith("250 2.1.0"), r)
            self.assertTrue(r[1 + len(rcpts)].startswith("354"), r)
            return r[2 + len(rcpts):]

        first = send("s@example.org", ["alice@example.org", "bob@example.org"])
        self.assertEqual(first, ["250 2.0.0 <alice@example.org> Saved",
                                 "250 2.0.0 <bob@example.org> Saved"])
        self.assertEqual(send("s@example.org", ["alice@example.org", "bob@example.org"]),
                         ["250 2.0.0 <alice@example.org> Already delivered",
                          "250 2.0.0 <bob@example.org> Already delivered"])
        self.assertEqual(self.only_file("alice"),
                         stored(MSG, "s@example.org", "alice@example.org"))
        name = os.path.basename(self.files("alice")[0])
        # the arrival time the id encodes, then the id
        self.assertTrue(name.startswith("1673055986.M570726L%sH" % qid), name)
        self.assertIn("already delivered", self.s.log())
        # read by an IMAP client meanwhile: cur/ with flags
        cur = os.path.join(self.mail, "alice", "Maildir", "cur", name + ":2,S")
        os.rename(self.files("alice")[0], cur)
        self.assertEqual(send("s@example.org", ["alice@example.org"]),
                         ["250 2.0.0 <alice@example.org> Already delivered"])
        self.assertEqual(self.files("alice"), [])
        # another sender or another content under the same id: stored
        self.assertEqual(send("evil@example.org", ["alice@example.org"]),
                         ["250 2.0.0 <alice@example.org> Saved"])
        self.assertEqual(send("s@example.org", ["alice@example.org"], MSG + b"more\r\n"),
                         ["250 2.0.0 <alice@example.org> Saved"])
        self.assertEqual(len(self.files("alice")), 2)
        self.assertEqual(self.files("alice", "tmp"), [])
        # a malformed id is refused
        sock.sendall(b"MAIL FROM:<s@example.org> X-LOFT-QID=%s\r\n" % qid.upper().encode())
        self.assertTrue(self.read_replies(sock, 1)[0].startswith("555 5.5.4"))

    # -- loft-deliver ----------------------------------------------------

    def deliver(self, *args, data=MSG):
        exe = os.path.join(lofttest.BIN_DIR, "loft-deliver")
        if not os.path.exists(exe):
            self.skipTest("loft-deliver not built")
        return subprocess.run([exe, "-c", self.s.conf] + list(args), input=data,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)

    def test_deliver(self):
        r = self.deliver("-u", "alice", "-f", "d@example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.only_file("alice"), stored(MSG, "d@example.org", "alice"))
        r = self.deliver("-u", "bob", "-a", "bob@example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.only_file("bob"), stored(MSG, "", "bob@example.org"))
        # the same through `loft deliver` (libexec_dir from the config)
        shutil.copy(os.path.join(lofttest.BIN_DIR, "loft-deliver"),
                    os.path.join(self.s.tmpdir, "libexec", "loft-deliver"))
        r = subprocess.run([os.path.join(lofttest.BIN_DIR, "loft"), "-c", self.s.conf, "deliver",
                            "-u", "alice", "-f", "cli@example.org"], input=MSG,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.files("alice")), 2)
        r = subprocess.run([os.path.join(lofttest.BIN_DIR, "loft"), "-c", self.s.conf, "deliver",
                            "-u", "nosuchuser"], input=MSG,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 67, r.stderr)

    def test_deliver_exit_codes(self):
        self.assertEqual(self.deliver("-u", "nosuchuser").returncode, 67)  # EX_NOUSER
        self.assertEqual(self.deliver("-x").returncode, 64)                # EX_USAGE
        self.assertEqual(self.deliver().returncode, 64)                    # root needs -u
        self.assertEqual(self.deliver("-u", "alice", "-f", ";sleep 66;@x").returncode, 64)
        big = b"Subject: big\n\n" + b"y" * (30 * 1024)
        self.assertEqual(self.deliver("-u", "alice", data=big).returncode, 65)  # EX_DATAERR
        self.assertEqual(self.files("alice", "new"), [])
        self.assertEqual(self.files("alice", "tmp"), [])
        # auth unreachable -> EX_TEMPFAIL
        self.s.stop()
        self.assertEqual(self.deliver("-u", "alice").returncode, 75)


@unittest.skipUnless(lofttest.is_root(), "switching to the unprivileged user needs root")
@unittest.skipUnless(all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED),
                     "daemons not built")
class TestLmtpUnprivileged(unittest.TestCase):
    """Master as `nobody`: no privilege drop, mail written as that user."""

    def setUp(self):
        self.pw = pwd.getpwnam("nobody")
        self.s = lofttest.Suite(protocols=["lmtp", "pop3"], tls=False, user="nobody")
        self.addCleanup(self.s.cleanup)
        tmp = self.s.tmpdir
        users = os.path.join(tmp, "users")
        with open(users, "w") as f:
            f.write("alice::%d:%d::%s/home/alice::\n" % (self.pw.pw_uid, self.pw.pw_gid, tmp))
        self.mail = os.path.join(tmp, "mail")
        os.mkdir(self.mail, 0o755)
        libexec = os.path.join(tmp, "libexec")
        os.mkdir(libexec)
        for exe in ("loft-auth", "loft-mailstore", "loft-deliver"):
            os.symlink(os.path.join(lofttest.BIN_DIR, exe), os.path.join(libexec, exe))
        os.symlink(os.path.join(lofttest.BIN_DIR, "loft-testsvc"),
                   os.path.join(libexec, "loft-pop3-login"))
        self.s.write_config(libexec_dir=libexec, passdb="passwd-file:" + users,
                            mail_location="maildir:%s/%%u/Maildir" % self.mail)
        self.s.start()

    def new_files(self, user):
        d = os.path.join(self.mail, user, "Maildir", "new")
        return [os.path.join(d, n) for n in os.listdir(d)] if os.path.isdir(d) else []

    def test_lmtp_and_deliver_as_invoking_user(self):
        c = smtplib.LMTP("127.0.0.1", self.s.port("lmtp"), timeout=15)
        self.addCleanup(c.close)
        self.assertEqual(c.sendmail("s@example.org", ["alice@example.org"], MSG), {})
        c.quit()
        (path,) = self.new_files("alice")
        self.assertEqual(os.stat(path).st_uid, self.pw.pw_uid)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), stored(MSG, "s@example.org", "alice@example.org"))
        # loft-deliver not as root: only for the invoking user
        cmd = ["setpriv", "--reuid=%d" % self.pw.pw_uid, "--regid=%d" % self.pw.pw_gid,
               "--clear-groups", os.path.join(lofttest.BIN_DIR, "loft-deliver"),
               "-c", self.s.conf]
        r = subprocess.run(cmd, input=MSG, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        (path,) = self.new_files("nobody")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), stored(MSG, "", "nobody"))
        r = subprocess.run(cmd + ["-u", "alice"], input=MSG, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 77, r.stderr)  # EX_NOPERM


if __name__ == "__main__":
    unittest.main()
