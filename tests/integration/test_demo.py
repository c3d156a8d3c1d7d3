"""The README's run command: scripts/demo.sh builds and then runs
scripts/demo-run.sh, which writes the demo config (mkcert certificate,
passwd-file user demo/demo) and runs loft-master in the foreground. Here the
run step is driven on the test build; `loft status` must show it running, in
unprivileged mode, and SIGTERM must leave nothing behind."""

import imaplib
import os
import poplib
import re
import smtplib
import ssl
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import lofttest

LOFT = os.path.join(lofttest.BIN_DIR, "loft")


class DemoTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="loft-demo-")
        os.chmod(self.tmp, 0o755)
        self.demo = os.path.join(self.tmp, "demo")
        self.conf = os.path.join(self.demo, "loft.conf")
        self.proc = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def status(self):
        return subprocess.run([LOFT, "-c", self.conf, "status"], capture_output=True,
                              text=True, timeout=30)

    def test_demo_runs_and_status_shows_it(self):
        out = open(os.path.join(self.tmp, "demo.out"), "w+")
        self.addCleanup(out.close)
        self.proc = subprocess.Popen(
            ["sh", os.path.join(lofttest.SOURCE_DIR, "scripts", "demo-run.sh"),
             lofttest.BIN_DIR, self.demo],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        status_file = os.path.join(self.demo, "run", "status")
        deadline = time.time() + 60
        while True:
            st = self.status() if os.path.exists(self.conf) else None
            if st is not None and st.returncode == 0 and os.path.exists(status_file):
                break
            if self.proc.poll() is not None or time.time() > deadline:
                out.seek(0)
                self.fail("demo did not come up:\n" + out.read())
            time.sleep(0.3)
        self.assertIn("loft is running", st.stdout)
        with open(status_file) as f:
            self.assertIn("unprivileged", f.read())
        out.seek(0)
        text = out.read()
        self.assertIn("user demo / password demo", text)
        # the certificate came from mkcert.sh and the key is private
        key = os.path.join(self.demo, "private", "loft.pem")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        subprocess.run(["openssl", "x509", "-noout", "-in",
                        os.path.join(self.demo, "certs", "loft.pem")], check=True)
        with open(os.path.join(self.demo, "run", "master.pid")) as f:
            master = int(f.read())
        on = re.search(r"protocols on:(.*)", text).group(1).split()
        # every daemon is built, so the demo offers every protocol
        self.assertEqual(sorted(on), sorted(["imap", "imaps", "pop3", "pop3s", "smtp",
                                             "submission", "submissions", "lmtp"]))
        if "pop3" in on:
            self.deliver_and_fetch()
        if "imap" in on:
            self.imap_fetch()
        if "smtp" in on:
            self.smtp_round_trip()
        if lofttest.is_root():
            # as root the demo runs as loft-demo, never as root
            with open("/proc/%d/status" % master) as f:
                uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
            self.assertEqual(pwd.getpwuid(int(uid)).pw_name, "loft-demo")
        os.kill(master, signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.assertEqual(self.proc.returncode, 0)
        self.assertEqual(self.status().returncode, 3)
        self.assertFalse(lofttest.pid_alive(master))


    def deliver_and_fetch(self):
        """What the demo prints works: LMTP delivers to demo@localhost, and
        POP3 (plain with the loopback exemption, and pop3s) logs in as
        demo/demo and returns the message."""
        msg = b"From: a@example.org\r\nSubject: demo\r\n\r\nhello demo\r\n"
        with smtplib.LMTP("127.0.0.1", 10024, timeout=30) as l:
            self.assertEqual(l.sendmail("a@example.org", ["demo@localhost"], msg), {})
        p = poplib.POP3("127.0.0.1", 10110, timeout=30)
        p.user("demo")
        p.pass_("demo")
        self.assertEqual(p.stat()[0], 1)
        body = b"\r\n".join(p.retr(1)[1])
        self.assertIn(b"hello demo", body)
        p.quit()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        p = poplib.POP3_SSL("127.0.0.1", 10995, context=ctx, timeout=30)
        p.user("demo")
        p.pass_("demo")
        self.assertEqual(p.stat()[0], 1)
        p.quit()


    def imap_fetch(self):
        """The demo's IMAP and IMAPS: demo/demo logs in, INBOX holds the
        message the POP3 check delivered (or one delivered here), and the
        body comes back."""
        msg = b"From: b@example.org\r\nSubject: imap demo\r\n\r\nhello imap\r\n"
        with smtplib.LMTP("127.0.0.1", 10024, timeout=30) as l:
            self.assertEqual(l.sendmail("b@example.org", ["demo@localhost"], msg), {})
        for imap in (imaplib.IMAP4("127.0.0.1", 10143, timeout=30),
                     imaplib.IMAP4_SSL("127.0.0.1", 10993, ssl_context=self.insecure(),
                                       timeout=30)):
            self.assertEqual(imap.login("demo", "demo")[0], "OK")
            typ, data = imap.select("INBOX")
            self.assertEqual(typ, "OK")
            n = int(data[0])
            self.assertGreaterEqual(n, 1)
            typ, data = imap.fetch(str(n), "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            self.assertIn(b"hello imap", data[0][1])
            imap.logout()

    def smtp_round_trip(self):
        """The demo's SMTP line: mail to demo@localhost on 10025 goes
        through the queue into the Maildir, where IMAP finds it."""
        msg = b"From: c@example.org\r\nSubject: smtp demo\r\n\r\nhello smtp\r\n"
        with smtplib.SMTP("127.0.0.1", 10025, timeout=30) as c:
            self.assertEqual(c.sendmail("c@example.org", ["demo@localhost"], msg), {})
        deadline = time.time() + 30
        while True:
            imap = imaplib.IMAP4("127.0.0.1", 10143, timeout=30)
            imap.login("demo", "demo")
            imap.select("INBOX")
            typ, data = imap.search(None, "SUBJECT", '"smtp demo"')
            imap.logout()
            if data[0] or time.time() > deadline:
                break
            time.sleep(0.3)
        self.assertTrue(data[0], "the SMTP message never reached the Maildir")

    @staticmethod
    def insecure():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx


if __name__ == "__main__":
    unittest.main()
