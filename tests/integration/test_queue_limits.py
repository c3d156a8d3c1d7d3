"""test_queue_limits: issue 18 in the real suite (master, auth, mailstore,
smtpd, loft-queue, relay). A process running as nobody that opens more
pickup connections than pickup_max_connections_per_uid and leaves them idle
gets the extra ones refused with FAIL temp 4.7.0 and the rest closed after
pickup_idle_timeout, while SMTP DATA still gets 250 and is delivered (the
queue socket has its own limit); a full pickup socket refuses root too, with
4.3.2; sendmail reports either refusal with exit 75 and the reason; smtpd's
idle queue connection is closed after queue_idle_timeout and smtpd
reconnects by itself; a full queue socket (queue_max_connections) makes
DATA 451 until it has room again. System accounts (uid below first_valid_uid, uid 0,
gid 0) get 550 5.1.1 at RCPT, a normal user and postmaster are delivered,
and mail to a system account that came in by pickup bounces at once instead
of waiting in the queue."""

import json
import os
import pwd
import select
import smtplib
import socket
import subprocess
import time
import unittest

import lofttest

UID, GID = 4256, 4357
NEEDED = ["loft-master", "loft-auth", "loft-mailstore", "loft-smtpd", "loft-queue",
          "loft-relay", "sendmail"]
PER_UID, PICKUP_MAX = 4, 6
PICKUP_IDLE, QUEUE_IDLE = 5.0, 3.0
EX_TEMPFAIL = 75


def built():
    return all(os.path.exists(os.path.join(lofttest.BIN_DIR, n)) for n in NEEDED)


def version_reply(sock):
    """Send the QUEUE version line; the reply's fields (str), [] on EOF."""
    sock.sendall(lofttest.wire_line("VERSION", "QUEUE", "1", "0"))
    buf = b""
    while not buf.endswith(b"\n"):
        c = sock.recv(4096)
        if not c:
            return []
        buf += c
    return [f.decode() for f in lofttest.wire_fields(buf)]


class IdleHolder:
    """A forked child that switched to user, opened n pickup connections,
    did the version handshake on each and then sits idle on them. It reports
    (JSON lines on a pipe) every reply, then, for each connection that was
    accepted, how long after its handshake the server closed it."""

    def __init__(self, user, path, n, wait):
        pw = pwd.getpwnam(user)
        rfd, wfd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns into unittest
            code = 1
            try:
                os.close(rfd)
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
                self._run(wfd, path, n, wait)
                code = 0
            except BaseException as e:  # reported to the parent
                os.write(wfd, (json.dumps({"error": repr(e)}) + "\n").encode())
            os._exit(code)
        os.close(wfd)
        self.r = os.fdopen(rfd, "r")

    @staticmethod
    def _run(wfd, path, n, wait):
        socks, replies = [], []
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            replies.append(version_reply(s))
            socks.append(s)
        opened = time.monotonic()
        os.write(wfd, (json.dumps({"replies": replies}) + "\n").encode())
        live = {s.fileno(): s for s, r in zip(socks, replies) if r[:1] == ["VERSION"]}
        for s in socks:
            if s.fileno() not in live:
                s.close()
        closed = {}
        deadline = opened + wait
        while live and time.monotonic() < deadline:
            ready, _, _ = select.select(list(live), [], [], 0.2)
            for fd in ready:
                if live[fd].recv(4096) == b"":  # EOF: the server closed it
                    closed[fd] = time.monotonic() - opened
                    live.pop(fd).close()
        os.write(wfd, (json.dumps({"closed_after": sorted(closed.values()),
                                   "still_open": len(live)}) + "\n").encode())

    def report(self, testcase):
        line = self.r.readline()
        testcase.assertTrue(line, "the holder child died")
        got = json.loads(line)
        testcase.assertNotIn("error", got)
        return got

    def finish(self):
        self.r.close()
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


@unittest.skipUnless(lofttest.is_root(), "setuid to nobody and delivery need root")
@unittest.skipUnless(built(), "daemons not built")
class TestQueueLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = lofttest.Suite(protocols=["smtp", "lmtp"])
        cls.mail, cls.users = cls.s.tmpdir + "/mail", cls.s.tmpdir + "/users"

        def prepare(s):
            os.mkdir(cls.mail, 0o755)
            os.chown(cls.mail, UID, GID)
            with open(cls.users, "w") as f:
                for u in ("alice", "bob"):
                    f.write("%s::%d:%d::%s/%s::\n" % (u, UID, GID, cls.mail, u))
                # found in the userdb, but system accounts (first_valid_uid 1000)
                f.write("sysd::1:1::%s/sysd::\n" % cls.mail)
                f.write("root::0:0::%s/root::\n" % cls.mail)
                f.write("wheel::%d:0::%s/wheel::\n" % (UID, cls.mail))
            os.chmod(cls.users, 0o644)
            s.write_config(passdb="passwd-file:" + cls.users,
                           mail_location="maildir:%s/%%u/Maildir" % cls.mail,
                           myhostname="mx.test", mydomains="example.org",
                           postmaster_user="bob", queue_retry_min="1s",
                           pickup_max_connections=PICKUP_MAX,
                           pickup_max_connections_per_uid=PER_UID,
                           pickup_idle_timeout="%dms" % (PICKUP_IDLE * 1000),
                           queue_idle_timeout="%dms" % (QUEUE_IDLE * 1000))
            os.chmod(s.conf, 0o644)  # sendmail run as nobody reads it
        lofttest.start_suite(cls.s, prepare, r"queue\[\d+\]: serving")
        cls.pickup = os.path.join(cls.s.base_dir, "pickup")

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s)

    # -- helpers -----------------------------------------------------------

    def files(self, user):
        d = os.path.join(self.mail, user, "Maildir", "new")
        return sorted(os.path.join(d, n) for n in os.listdir(d)) if os.path.isdir(d) else []

    def wait_mail(self, user, needle, timeout=20):
        """The bytes of the first message of user's containing needle."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for p in self.files(user):
                with open(p, "rb") as f:
                    data = f.read()
                if needle in data:
                    return data
            time.sleep(0.1)
        self.fail("no mail with %r for %s; log:\n%s" % (needle, user, self.s.log()[-4000:]))

    def sendmail(self, rcpt, subject, user=None, sender=None):
        cmd = [os.path.join(lofttest.BIN_DIR, "sendmail"), "-i"]
        cmd += (["-f", sender] if sender else []) + [rcpt]
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                   "--clear-groups"] + cmd
        msg = b"Subject: " + subject.encode() + b"\n\nbody\n"
        return subprocess.run(cmd, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=dict(os.environ, LOFT_CONF=self.s.conf), timeout=60)

    def smtp(self):
        c = smtplib.SMTP("127.0.0.1", self.s.port("smtp"), timeout=20)
        self.addCleanup(c.close)
        c.ehlo("client.test")
        return c

    def raw_pickup(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        self.addCleanup(s.close)
        s.connect(self.pickup)
        return s

    # -- connection limits -------------------------------------------------

    def test_idle_pickup_flood_does_not_starve_smtp(self):
        start = len(self.s.log())
        nobody = pwd.getpwnam("nobody").pw_uid
        holder = IdleHolder("nobody", self.pickup, PER_UID + 6, wait=PICKUP_IDLE + 10)
        self.addCleanup(holder.finish)
        replies = holder.report(self)["replies"]
        accepted = [r for r in replies if r[:1] == ["VERSION"]]
        refused = [r for r in replies if r[:1] == ["FAIL"]]
        self.assertEqual(len(accepted), PER_UID, replies)
        self.assertEqual(accepted[0], ["VERSION", "QUEUE", "1", "0"])
        self.assertEqual(len(refused), 6, replies)
        for r in refused:
            self.assertEqual(r[:2], ["FAIL", "temp"])
            self.assertRegex(r[2], r"^4\.7\.0 too many connections from uid %d to the pickup "
                                   r"socket \(pickup_max_connections_per_uid %d\)"
                             % (nobody, PER_UID))
        self.s.wait_log(r"queue\[\d+\]: refused a pickup connection from uid %d: 4\.7\.0 too "
                        r"many connections" % nobody, start=start)

        # sendmail as that user: exit 75 with the reason, nothing queued
        r = self.sendmail("alice@example.org", "from nobody over the limit", user="nobody")
        self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)
        self.assertIn(b"message not queued: the queue refused the connection: 4.7.0 too many "
                      b"connections from uid %d" % nobody, r.stderr)

        # root is free of the per-uid cap, not of the socket's: two more fit
        roots = [self.raw_pickup() for _ in range(PICKUP_MAX - PER_UID)]
        for s in roots:
            self.assertEqual(version_reply(s), ["VERSION", "QUEUE", "1", "0"])
        full = version_reply(self.raw_pickup())
        self.assertEqual(full[:2], ["FAIL", "temp"], full)
        self.assertRegex(full[2], r"^4\.3\.2 too many connections to the pickup socket "
                                  r"\(pickup_max_connections %d\)" % PICKUP_MAX)
        # a refused client that sends nothing gets the same line within a second, then EOF
        silent, t0, got = self.raw_pickup(), time.monotonic(), b""
        while True:
            chunk = silent.recv(4096)
            if not chunk:
                break
            got += chunk
        self.assertLess(time.monotonic() - t0, 3)
        self.assertTrue(got.startswith(b"FAIL\ttemp\t4.3.2 too many connections"), got)
        r = self.sendmail("alice@example.org", "root while pickup is full")
        self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)
        self.assertIn(b"4.3.2 too many connections to the pickup socket", r.stderr)

        # the queue socket is counted apart: SMTP DATA still gets 250
        c = self.smtp()
        self.assertEqual(c.mail("carol@remote.test")[0], 250)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        code, text = c.data(b"Subject: while pickup is full\r\n\r\nstill here\r\n")
        self.assertEqual(code, 250, text)
        c.quit()
        self.wait_mail("alice", b"Subject: while pickup is full")

        # root's slots back: root's sendmail goes through (nobody still holds 4)
        for s in roots:
            s.close()
        deadline = time.time() + 5
        while True:
            r = self.sendmail("bob@example.org", "root after the flood")
            if r.returncode == 0 or time.time() > deadline:
                break
            time.sleep(0.1)  # the server may not have seen the closes yet
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_mail("bob", b"Subject: root after the flood")

        # the idle connections are closed after pickup_idle_timeout, not before
        done = holder.report(self)
        self.assertEqual(done["still_open"], 0, done)
        self.assertEqual(len(done["closed_after"]), PER_UID, done)
        for t in done["closed_after"]:
            self.assertGreaterEqual(t, PICKUP_IDLE - 0.5, done)
            self.assertLess(t, PICKUP_IDLE + 5, done)
        self.s.wait_log(r"queue\[\d+\]: pickup connection \(uid %d\) idle for %dms: closed"
                        % (nobody, PICKUP_IDLE * 1000), start=start)
        # and nobody may submit again
        r = self.sendmail("alice@example.org", "from nobody after the timeout", user="nobody")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_mail("alice", b"Subject: from nobody after the timeout")

    def test_smtpd_reconnects_after_queue_idle_timeout(self):
        start = len(self.s.log())
        smtp_uid = pwd.getpwnam("loft-smtp").pw_uid
        c = self.smtp()
        c.sendmail("carol@remote.test", ["bob@example.org"],
                   b"Subject: first of two\r\n\r\none\r\n")
        # smtpd keeps its queue connection for the session's next message;
        # loft-queue closes it once it has been silent for queue_idle_timeout
        self.s.wait_log(r"queue\[\d+\]: queue connection \(uid %d\) idle for %dms: closed"
                        % (smtp_uid, QUEUE_IDLE * 1000), timeout=QUEUE_IDLE + 10, start=start)
        self.assertEqual(c.sendmail("carol@remote.test", ["bob@example.org"],
                                    b"Subject: second of two\r\n\r\ntwo\r\n"), {})
        self.wait_mail("bob", b"Subject: first of two")
        self.wait_mail("bob", b"Subject: second of two")

    # -- system accounts -------------------------------------------------

    def test_system_accounts_refused_at_rcpt(self):
        start = len(self.s.log())
        c = self.smtp()
        self.assertEqual(c.mail("carol@remote.test")[0], 250)
        for u in ("sysd", "root", "wheel"):
            code, text = c.rcpt("%s@example.org" % u)
            self.assertEqual(code, 550, (u, text))
            self.assertTrue(text.startswith(b"5.1.1 <%s@example.org>: Recipient address "
                                            b"rejected" % u.encode()), text)
        # refused by the uid rule, not for being absent from the userdb
        for u, why in (("sysd", r"uid is below first_valid_uid"),
                       ("root", r"uid 0 \(root\) may not be a mail user"),
                       ("wheel", r"gid 0 \(root's group\)")):
            self.s.wait_log(r"auth\[\d+\]: LOOKUP %s \(uid \d+, gid \d+\): %s" % (u, why),
                            start=start)
        self.assertEqual(c.rcpt("alice@example.org")[0], 250)
        self.assertEqual(c.rcpt("postmaster@example.org")[0], 250)
        code, text = c.data(b"Subject: to people, not daemons\r\n\r\nhi\r\n")
        self.assertEqual(code, 250, text)
        c.quit()
        self.wait_mail("alice", b"Subject: to people, not daemons")
        self.wait_mail("bob", b"Subject: to people, not daemons")  # postmaster_user
        for u in ("sysd", "root", "wheel"):
            self.assertEqual(self.files(u), [])

    def test_system_account_by_pickup_bounces_at_once(self):
        # pickup takes any recipient; the mailstore refuses the system
        # account at LMTP RCPT (5.7.1): a DSN now, not 5 days of retries
        start = len(self.s.log())
        r = self.sendmail("sysd@example.org", "for a daemon", sender="alice@example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.s.wait_log(r"to=<sysd@example.org>, relay=lmtp, delay=\d+, status=bounced "
                        r"\(550 5\.7\.1", timeout=20, start=start)
        dsn = self.wait_mail("alice", b"sysd@example.org")
        self.assertIn(b"Subject: for a daemon", dsn)  # the original comes back with it
        self.assertEqual(self.files("sysd"), [])


@unittest.skipUnless(lofttest.is_root(), "the queue socket is smtp_user's; delivery needs root")
@unittest.skipUnless(built(), "daemons not built")
class TestQueueSocketLimit(unittest.TestCase):
    """queue_max_connections = 1: while another client holds the queue
    socket, smtpd's DATA gets 451 with the queue's reason (4.3.2) and
    loft-queue logs the refusal; once it is free, DATA gets 250 again and the message is delivered."""

    def setUp(self):
        self.s = lofttest.Suite(protocols=["smtp", "lmtp"])
        self.addCleanup(self.s.cleanup)
        mail = self.s.tmpdir + "/mail"
        users = self.s.tmpdir + "/users"

        def prepare(s):
            os.mkdir(mail, 0o755)
            os.chown(mail, UID, GID)
            with open(users, "w") as f:
                f.write("alice::%d:%d::%s/alice::\n" % (UID, GID, mail))
            s.write_config(passdb="passwd-file:" + users,
                           mail_location="maildir:%s/%%u/Maildir" % mail,
                           myhostname="mx.test", mydomains="example.org",
                           queue_max_connections=1)
        lofttest.start_suite(self.s, prepare, r"queue\[\d+\]: serving")
        self.maildir = os.path.join(mail, "alice", "Maildir", "new")

    def data(self, subject):
        c = smtplib.SMTP("127.0.0.1", self.s.port("smtp"), timeout=20)
        try:
            c.ehlo("client.test")
            c.mail("carol@remote.test")
            c.rcpt("alice@example.org")
            return c.data(b"Subject: " + subject + b"\r\n\r\nx\r\n")
        except smtplib.SMTPDataError as e:  # DATA itself refused: smtpd opens the queue there
            return e.smtp_code, e.smtp_error
        finally:
            c.close()

    def test_queue_socket_full(self):
        hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # root may connect
        hog.settimeout(10)
        hog.connect(os.path.join(self.s.base_dir, "queue"))
        self.assertEqual(version_reply(hog), ["VERSION", "QUEUE", "1", "0"])
        code, text = self.data(b"while full")
        self.assertEqual((code, text[:5]), (451, b"4.3.2"), text)  # the queue's own code
        self.assertIn(b"too many", text)
        smtp_uid = pwd.getpwnam("loft-smtp").pw_uid
        self.s.wait_log(r"queue\[\d+\]: refused a queue connection from uid %d: 4\.3\.2 too "
                        r"many connections to the queue socket \(queue_max_connections 1\)"
                        % smtp_uid)
        hog.close()
        deadline = time.time() + 5
        while True:
            code, text = self.data(b"once free")
            if code == 250 or time.time() > deadline:
                break
            time.sleep(0.2)  # loft-queue may not have seen the close yet
        self.assertEqual(code, 250, text)
        deadline = time.time() + 20
        while not (os.path.isdir(self.maildir) and os.listdir(self.maildir)):
            self.assertLess(time.time(), deadline, self.s.log()[-3000:])
            time.sleep(0.1)
        names = os.listdir(self.maildir)
        self.assertEqual(len(names), 1)
        with open(os.path.join(self.maildir, names[0]), "rb") as f:
            self.assertIn(b"Subject: once free", f.read())


if __name__ == "__main__":
    unittest.main()
