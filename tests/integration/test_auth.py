"""test_auth.py: loft-auth on its own (not via the master): a temp config,
three listening UNIX sockets passed like the master does, and the auth line
protocol spoken from Python. Covers passwd-file logins (PLAIN, LOGIN),
failure delays, tokens, per-socket permissions, pipelining, bad input,
passwd-file reloads, PAM through libpam-wrapper and, as root, real PAM."""
import base64
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("LOFT_BUILD_DIR", "")
SRC = os.environ.get("LOFT_SOURCE_DIR", "")
AUTH = os.path.join(BUILD, "bin", "loft-auth")
PAM_WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
PAM_MATRIX = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so"
# SHA512-CRYPT of "secret" with salt "saltsalt" (openssl passwd -6).
SECRET_HASH = ("{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0"
               "S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1")


def sanitized_build():
    """ASan cannot run libpam_wrapper's RTLD_DEEPBIND dlopen of libpam."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            cache = f.read()
    except OSError:
        return False
    return "LOFT_SANITIZE:BOOL=ON" in cache or "LOFT_FUZZ:BOOL=ON" in cache


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def escape(field):
    return (field.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


class Client:
    """One connection to an auth socket, after the VERSION/MECH/DONE greeting."""

    def __init__(self, path, handshake=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buf = b""
        self.mechs = []
        if handshake:
            self.send("VERSION", "auth", "1", "0")
            first = self.recv()
            assert first[:3] == ["VERSION", "auth", "1"], first
            while True:
                line = self.recv()
                if line[0] == "DONE":
                    break
                self.mechs.append(line[1:])

    def send(self, *fields):
        self.sock.sendall(("\t".join(escape(f) for f in fields) + "\n").encode())

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self, timeout=30):
        """Next line as a list of fields; None at EOF."""
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return [f.replace("\\t", "\t").replace("\\\\", "\\") for f in line.decode().split("\t")]

    def close(self):
        self.sock.close()


def proc_status(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return dict((k, v.strip()) for k, v in
                        (line.split(":", 1) for line in f if ":" in line))
    except OSError:
        return {}


def kv(fields):
    return dict(f.split("=", 1) for f in fields if "=" in f)


class AuthDaemon:
    """loft-auth with its own config, sockets and log file in a temp dir."""

    def __init__(self, tmp, conf, env=None):
        self.tmp = tmp
        self.log = os.path.join(tmp, "auth.log")
        conf_path = os.path.join(tmp, "loft.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        self.paths = {}
        socks = []
        for name in ("auth-login", "auth-smtp", "auth-master"):
            path = os.path.join(tmp, name)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(64)
            socks.append((name, s))
            self.paths[name] = path
        full_env = dict(os.environ)
        full_env["LOFT_LISTEN_FDS"] = " ".join("%s:%d" % (n, s.fileno()) for n, s in socks)
        full_env.update(env or {})
        with open(self.log, "w") as logf:
            self.proc = subprocess.Popen([AUTH, "-c", conf_path], env=full_env,
                                         pass_fds=[s.fileno() for _, s in socks],
                                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        for _, s in socks:
            s.close()

    def client(self, name="auth-login"):
        return Client(self.paths[name])

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM; then the exit status must be 0 and the log free of
        sanitizer reports (leaks show up here in ASan builds)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        text = self.log_text()
        if "Sanitizer" in text or "runtime error" in text or self.proc.returncode != 0:
            raise AssertionError("loft-auth exited %s:\n%s" % (self.proc.returncode, text))


def base_conf(tmp, passdb, extra=""):
    return ("base_dir = %s\nstate_dir = %s\npassdb = %s\nauth_failure_delay = 1s\n"
            "auth_failure_delay_max = 3s\nauth_token_lifetime = 1s\nauth_worker_count = 2\n"
            "log_level = debug\n%s" % (tmp, tmp, passdb, extra))


def plain(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


class AuthTestBase(unittest.TestCase):
    rip_counter = 0

    def rip(self):
        """A fresh client address per use, so throttling does not leak between tests."""
        AuthTestBase.rip_counter += 1
        return "192.0.2.%d" % AuthTestBase.rip_counter

    def auth_plain(self, c, rid, user, password, service="imap", rip=None):
        c.send("AUTH", str(rid), "PLAIN", "service=" + service, "rip=" + (rip or self.rip()),
               "lip=127.0.0.1", "secured", "resp=" + plain(user, password))
        return c.recv()


@unittest.skipUnless(os.path.exists(AUTH), "loft-auth not built")
class TestPasswdFile(AuthTestBase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="loft-auth-")
        cls.users = os.path.join(cls.tmp, "users")
        with open(cls.users, "w") as f:
            f.write("alice:%s:1000:1000::/home/alice::\n" % SECRET_HASH)
            f.write("# a comment\n")
            f.write("broken:{SHA512-CRYPT}xyz:notanumber:1000::/home/broken::\n")
            f.write("carol:{PLAIN}pw2:1001:1001::/home/carol::userdb_mail=maildir:/srv/carol\n")
            # system accounts (uid below first_valid_uid, gid 0): LOOKUP says NOTFOUND as root
            f.write("sysd:{PLAIN}pw3:1:1::/home/sysd::\n")
            f.write("wheel:{PLAIN}pw4:1002:0::/home/wheel::\n")
        cls.d = AuthDaemon(cls.tmp, base_conf(cls.tmp, "passwd-file:" + cls.users))
        time.sleep(0.3)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def redeem(self, token, service="imap"):
        m = self.d.client("auth-master")
        m.send("REDEEM", "7", token, "service=" + service)
        r = m.recv()
        m.close()
        return r

    def test_privileges_after_start(self):
        status = proc_status(self.d.proc.pid)
        self.assertEqual(status["CapEff"], "0000000000000000")
        self.assertEqual(status["CapPrm"], "0000000000000000")
        self.assertEqual(status["NoNewPrivs"], "1")
        if os.geteuid() == 0:
            # auth_user = root: uid 0 kept for pam_unix, but no capability can return.
            self.assertEqual(status["CapBnd"], "0000000000000000")
            self.assertEqual(status["Uid"].split()[:3], ["0", "0", "0"])
            self.assertEqual(status["Groups"], "")

    def test_greeting_lists_mechanisms(self):
        c = self.d.client()
        self.assertIn(["PLAIN", "plaintext"], c.mechs)
        self.assertIn(["LOGIN", "plaintext"], c.mechs)
        c.close()

    def test_plain_initial_response_and_redeem(self):
        c = self.d.client()
        r = self.auth_plain(c, 1, "Alice", "secret")
        self.assertEqual(r[:2], ["OK", "1"])
        info = kv(r)
        self.assertEqual(info["user"], "alice")  # %Lu lowercases
        self.assertGreaterEqual(len(info["token"]), 32)
        got = self.redeem(info["token"])
        self.assertEqual(got[:2], ["OK", "7"])
        self.assertEqual(kv(got), {"user": "alice", "uid": "1000", "gid": "1000",
                                   "home": "/home/alice", "mail": "maildir:/home/alice/Maildir"})
        # Single use.
        self.assertEqual(self.redeem(info["token"])[0], "FAIL")
        c.close()

    def test_plain_via_cont_and_extra_mail(self):
        c = self.d.client("auth-smtp")
        c.send("AUTH", "5", "PLAIN", "service=smtp", "rip=" + self.rip(), "secured")
        self.assertEqual(c.recv(), ["CONT", "5", ""])
        c.send("CONT", "5", plain("carol", "pw2"))
        r = c.recv()
        self.assertEqual(r[:2], ["OK", "5"])
        got = self.redeem(kv(r)["token"], "smtp")
        self.assertEqual(kv(got)["mail"], "maildir:/srv/carol")
        c.close()

    def test_login_mechanism(self):
        c = self.d.client()
        c.send("AUTH", "9", "LOGIN", "service=imap", "rip=" + self.rip(), "secured")
        self.assertEqual(c.recv(), ["CONT", "9", b64("Username:")])
        c.send("CONT", "9", b64("alice"))
        self.assertEqual(c.recv(), ["CONT", "9", b64("Password:")])
        c.send("CONT", "9", b64("secret"))
        self.assertEqual(c.recv()[:2], ["OK", "9"])
        # LOGIN with the user name as initial response.
        c.send("AUTH", "10", "LOGIN", "service=imap", "rip=" + self.rip(), "secured",
               "resp=" + b64("alice"))
        self.assertEqual(c.recv(), ["CONT", "10", b64("Password:")])
        c.send("CONT", "10", b64("secret"))
        self.assertEqual(c.recv()[:2], ["OK", "10"])
        c.close()

    def test_failure_delay_grows_and_correct_password_still_works(self):
        c = self.d.client()
        rip = self.rip()
        t0 = time.monotonic()
        r = self.auth_plain(c, 1, "alice", "wrong", rip=rip)
        t1 = time.monotonic()
        self.assertEqual(r, ["FAIL", "1", "reason=authentication failed"])
        self.assertGreaterEqual(t1 - t0, 0.95)
        r = self.auth_plain(c, 2, "nosuchuser", "wrong", rip=rip)
        t2 = time.monotonic()
        # Same text for an unknown user: replies do not reveal existence.
        self.assertEqual(r, ["FAIL", "2", "reason=authentication failed"])
        self.assertGreaterEqual(t2 - t1, 1.95)
        r = self.auth_plain(c, 3, "alice", "secret", rip=rip)
        self.assertEqual(r[:2], ["OK", "3"])
        self.assertLess(time.monotonic() - t2, 0.9)
        c.close()

    def test_client_delay_failures_answered_at_once_with_the_delay(self):
        # client-delay: the FAIL comes at once with delay=<ms> (the throttle
        # still grows per address) and the request is gone from auth's table.
        c = self.d.client()
        rip = self.rip()
        delays = []
        t0 = time.monotonic()
        for i in range(1, 4):
            c.send("AUTH", str(i), "PLAIN", "service=imap", "rip=" + rip, "secured",
                   "client-delay", "resp=" + plain("alice", "wrong"))
            r = c.recv()
            self.assertEqual(r[:3], ["FAIL", str(i), "reason=authentication failed"])
            delays.append(kv(r)["delay"])
        self.assertLess(time.monotonic() - t0, 0.9)
        self.assertEqual(delays, ["1000", "2000", "3000"])  # capped at 3s (max)
        # More failed logins than one connection may have in flight: none
        # waits in auth, so the connection is not dropped and still works.
        burst = self.rip()
        for i in range(100, 100 + 1100):
            c.send("AUTH", str(i), "PLAIN", "service=imap", "rip=" + burst, "secured",
                   "client-delay", "resp=" + plain("alice", "bad"))
        for i in range(100, 100 + 1100):
            self.assertEqual(c.recv()[:2], ["FAIL", str(i)])
        r = self.auth_plain(c, 5000, "alice", "secret")
        self.assertEqual(r[:2], ["OK", "5000"])
        c.close()

    def test_token_expires(self):
        c = self.d.client()
        r = self.auth_plain(c, 1, "alice", "secret")
        time.sleep(1.3)
        self.assertEqual(self.redeem(kv(r)["token"])[0], "FAIL")
        c.close()

    def test_token_bound_to_service_and_unknown_token(self):
        c = self.d.client()
        token = kv(self.auth_plain(c, 1, "alice", "secret", service="imap"))["token"]
        self.assertEqual(self.redeem(token, "pop3")[0], "FAIL")
        self.assertEqual(self.redeem(token, "imap")[0], "FAIL")  # consumed by the try
        self.assertEqual(self.redeem("00" * 32)[0], "FAIL")
        c.close()

    def test_user_lookup_on_master(self):
        m = self.d.client("auth-master")
        m.send("USER", "3", "ALICE")
        r = m.recv()
        self.assertEqual(r[:2], ["USER", "3"])
        self.assertEqual(kv(r)["uid"], "1000")
        m.send("USER", "4", "nobody-here")
        self.assertEqual(m.recv(), ["NOTFOUND", "4"])
        m.close()

    def test_user_and_redeem_refused_on_login_and_smtp(self):
        for name in ("auth-login", "auth-smtp"):
            c = self.d.client(name)
            c.send("USER", "1", "alice")
            self.assertEqual(c.recv(), ["FAIL", "1", "reason=not allowed on this socket"])
            self.assertIsNone(c.recv(5))  # and the connection is closed
            c.close()
            c = self.d.client(name)
            c.send("REDEEM", "1", "ab" * 32, "service=imap")
            self.assertEqual(c.recv()[0], "FAIL")
            self.assertIsNone(c.recv(5))
            c.close()

    def test_lookup_on_smtp_and_master(self):
        # smtpd's recipient check: existence only, normalised like a login.
        for name in ("auth-smtp", "auth-master"):
            c = self.d.client(name)
            c.send("LOOKUP", "1", "ALICE")
            self.assertEqual(c.recv(), ["OK", "1"])
            c.send("LOOKUP", "2", "nobody-here")
            self.assertEqual(c.recv(), ["NOTFOUND", "2"])
            c.send("LOOKUP", "3", "carol")
            self.assertEqual(c.recv(), ["OK", "3"])
            c.close()
        c = self.d.client("auth-login")
        c.send("LOOKUP", "1", "alice")
        self.assertEqual(c.recv(), ["FAIL", "1", "reason=not allowed on this socket"])
        self.assertIsNone(c.recv(5))
        c.close()

    def test_lookup_refuses_system_accounts(self):
        # As root mail is delivered as the user's uid, so smtpd must refuse a
        # system account at RCPT: LOOKUP answers NOTFOUND (issue 18). USER
        # still answers (the mailstore refuses with its own, clearer reason).
        root = os.geteuid() == 0
        c = self.d.client("auth-smtp")
        c.send("LOOKUP", "1", "sysd")
        self.assertEqual(c.recv(), ["NOTFOUND" if root else "OK", "1"])
        c.send("LOOKUP", "2", "wheel")
        self.assertEqual(c.recv(), ["NOTFOUND" if root else "OK", "2"])
        c.send("LOOKUP", "3", "alice")
        self.assertEqual(c.recv(), ["OK", "3"])
        c.close()
        m = self.d.client("auth-master")
        m.send("USER", "4", "sysd")
        r = m.recv()
        self.assertEqual(r[:2], ["USER", "4"])
        self.assertEqual(kv(r)["uid"], "1")
        m.close()
        if root:
            self.assertRegex(self.d.log_text(), r"LOOKUP sysd \(uid 1, gid 1\): uid is below "
                                           r"first_valid_uid \(a system account\); answered NOTFOUND")

    def test_plaintext_refused_without_secured(self):
        c = self.d.client()
        c.send("AUTH", "1", "PLAIN", "service=imap", "rip=" + self.rip(),
               "resp=" + plain("alice", "secret"))
        self.assertEqual(c.recv(), ["FAIL", "1", "reason=plaintext authentication disallowed"])
        c.close()

    def test_authzid_and_bad_base64(self):
        c = self.d.client()
        rip = self.rip()
        c.send("AUTH", "1", "PLAIN", "service=imap", "rip=" + rip, "secured",
               "resp=" + plain("alice", "secret", authzid="alice"))
        self.assertEqual(c.recv()[:2], ["OK", "1"])
        c.send("AUTH", "2", "PLAIN", "service=imap", "rip=" + rip, "secured",
               "resp=" + plain("alice", "secret", authzid="carol"))
        self.assertEqual(c.recv()[:2], ["FAIL", "2"])
        c.send("AUTH", "3", "PLAIN", "service=imap", "rip=" + rip, "secured", "resp=AB=C")
        self.assertEqual(c.recv()[:2], ["FAIL", "3"])
        c.close()

    def test_many_requests_in_flight(self):
        c = self.d.client()
        rip_bad = self.rip()
        # Interleave: bad ones (delayed) first, then multi-step and one-shot good ones.
        for i in range(1, 6):
            c.send("AUTH", str(100 + i), "PLAIN", "service=imap", "rip=" + rip_bad, "secured",
                   "resp=" + plain("alice", "bad%d" % i))
        for i in range(1, 11):
            c.send("AUTH", str(200 + i), "LOGIN", "service=imap", "rip=" + self.rip(), "secured")
        for i in range(1, 11):
            c.send("AUTH", str(300 + i), "PLAIN", "service=imap", "rip=" + self.rip(),
                   "secured", "resp=" + plain("alice", "secret"))
        replies = {}
        pending_login = {}
        while len(replies) < 25:
            r = c.recv()
            self.assertIsNotNone(r)
            rid = int(r[1])
            if r[0] == "CONT":
                step = pending_login.get(rid, 0) + 1
                pending_login[rid] = step
                c.send("CONT", str(rid), b64("alice" if step == 1 else "secret"))
                continue
            self.assertNotIn(rid, replies)
            replies[rid] = r[0]
            if r[0] == "FAIL":
                # Every good login was answered before the first delayed failure.
                self.assertEqual(sum(1 for v in replies.values() if v == "OK"), 20)
        self.assertEqual(sorted(k for k, v in replies.items() if v == "FAIL"),
                         list(range(101, 106)))
        c.close()

    def test_malformed_and_oversized_lines_drop_only_that_client(self):
        good = self.d.client()
        bad = self.d.client()
        bad.send("AUTH", "notanumber", "PLAIN")
        self.assertIsNone(bad.recv(5))
        bad.close()
        big = self.d.client()
        try:
            big.send_raw(b"AUTH\t1\tPLAIN\t" + b"A" * 70000 + b"\n")
        except OSError:
            pass
        self.assertIsNone(big.recv(5))
        big.close()
        noversion = Client(self.d.paths["auth-login"], handshake=False)
        noversion.send("AUTH", "1", "PLAIN", "service=imap", "secured")
        lines = []
        while True:
            r = noversion.recv(5)
            if r is None:
                break
            lines.append(r[0])
        self.assertNotIn("CONT", lines)
        noversion.close()
        self.assertEqual(self.auth_plain(good, 1, "alice", "secret")[0], "OK")
        good.close()
        self.assertIsNone(self.d.proc.poll())

    def test_pw_subcommand_hashes_log_in(self):
        c = self.d.client()
        for i, scheme in enumerate(["SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "YESCRYPT"]):
            out = subprocess.run([AUTH, "pw", "-s", scheme], input=b"pw word\n",
                                 capture_output=True, check=True).stdout.decode().strip()
            self.assertTrue(out.startswith("{%s}$" % scheme), out)
            with open(self.users, "a") as f:
                f.write("pwuser%d:%s:1003:1003::/home/p::\n" % (i, out))
            r = self.auth_plain(c, 1, "pwuser%d" % i, "pw word")
            self.assertEqual(r[:2], ["OK", "1"], scheme)
        bad = subprocess.run([AUTH, "pw", "-s", "MD5"], input=b"x\n", capture_output=True)
        self.assertNotEqual(bad.returncode, 0)
        c.close()

    def test_passwd_file_reread_and_bad_line_logged(self):
        self.assertIn("line 3", self.d.log_text())
        c = self.d.client()
        self.assertEqual(self.auth_plain(c, 1, "dave", "pw3")[0], "FAIL")
        with open(self.users, "a") as f:
            f.write("dave:{PLAIN}pw3:1002:1002::/home/dave::\n")
        self.assertEqual(self.auth_plain(c, 2, "dave", "pw3")[:2], ["OK", "2"])
        c.close()
        self.assertNotIn("secret", self.d.log_text())
        self.assertNotIn("pw3", self.d.log_text())


@unittest.skipUnless(os.path.exists(AUTH), "loft-auth not built")
class TestSignals(AuthTestBase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="loft-auth-sig-")
        users = os.path.join(self.tmp, "users")
        with open(users, "w") as f:
            f.write("alice:%s:1000:1000::/home/alice::\n" % SECRET_HASH)
        self.d = AuthDaemon(self.tmp, base_conf(self.tmp, "passwd-file:" + users))
        time.sleep(0.3)

    def tearDown(self):
        self.d.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_sigquit_finishes_open_requests(self):
        c = self.d.client()
        c.send("AUTH", "1", "PLAIN", "service=imap", "rip=" + self.rip(), "secured",
               "resp=" + plain("alice", "wrong"))
        time.sleep(0.2)
        self.d.proc.send_signal(signal.SIGQUIT)
        # The delayed failure is still answered, then the daemon exits.
        self.assertEqual(c.recv(), ["FAIL", "1", "reason=authentication failed"])
        self.assertEqual(self.d.proc.wait(10), 0)
        # The listeners were closed: no new clients.
        with self.assertRaises(OSError):
            self.d.client()
        c.close()

    def test_sigterm_exits_at_once(self):
        c = self.d.client()
        c.send("AUTH", "1", "PLAIN", "service=imap", "rip=" + self.rip(), "secured",
               "resp=" + plain("alice", "wrong"))
        time.sleep(0.2)
        t0 = time.monotonic()
        self.d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.d.proc.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 0.8)
        c.close()


@unittest.skipUnless(os.path.exists(AUTH), "loft-auth not built")
@unittest.skipUnless(os.path.exists(PAM_WRAPPER) and os.path.exists(PAM_MATRIX),
                     "libpam-wrapper not installed")
@unittest.skipIf(sanitized_build(), "libpam_wrapper uses RTLD_DEEPBIND, which ASan refuses")
class TestPamWrapper(AuthTestBase):
    """passdb = pam through libpam-wrapper's pam_matrix: runs without root."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="loft-auth-pamw-")
        os.chmod(cls.tmp, 0o755)
        cls.user = pwd.getpwuid(os.getuid()).pw_name
        matrix = os.path.join(cls.tmp, "matrix")
        with open(matrix, "w") as f:
            f.write("%s:wrapped-pw:loft\n" % cls.user)
        svcdir = os.path.join(cls.tmp, "pam.d")
        os.mkdir(svcdir)
        with open(os.path.join(svcdir, "loft"), "w") as f:
            f.write("auth required %s passdb=%s\n" % (PAM_MATRIX, matrix))
            f.write("account required %s passdb=%s\n" % (PAM_MATRIX, matrix))
        env = {"LD_PRELOAD": PAM_WRAPPER, "PAM_WRAPPER": "1",
               "PAM_WRAPPER_SERVICE_DIR": svcdir, "PAM_MATRIX_PASSWD": matrix}
        cls.d = AuthDaemon(cls.tmp, base_conf(cls.tmp, "pam"), env)
        time.sleep(0.5)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_pam_ok_and_wrong(self):
        c = self.d.client()
        r = self.auth_plain(c, 1, self.user, "wrapped-pw")
        self.assertEqual(r[:2], ["OK", "1"], self.d.log_text())
        self.assertEqual(kv(r)["user"], self.user)
        m = self.d.client("auth-master")
        m.send("REDEEM", "2", kv(r)["token"], "service=imap")
        got = kv(m.recv())
        self.assertEqual(got["uid"], str(os.getuid()))
        m.close()
        t0 = time.monotonic()
        self.assertEqual(self.auth_plain(c, 3, self.user, "nope")[0], "FAIL")
        self.assertGreaterEqual(time.monotonic() - t0, 0.95)
        c.close()


    def test_dead_worker_is_restarted(self):
        def workers():
            return [int(p) for p in os.listdir("/proc") if p.isdigit()
                    and proc_status(int(p)).get("PPid") == str(self.d.proc.pid)]
        before = workers()
        self.assertEqual(len(before), 2)  # auth_worker_count = 2
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            now = workers()
            if len(now) == 2 and before[0] not in now:
                break
            time.sleep(0.1)
        self.assertEqual(len(workers()), 2)
        self.assertNotIn(before[0], workers())
        self.assertIn("restarting it", self.d.log_text())
        c = self.d.client()
        for i in range(1, 5):
            self.assertEqual(self.auth_plain(c, i, self.user, "wrapped-pw")[0], "OK")
        c.close()


def have_root_tools():
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("useradd", "chpasswd",
                                                                "usermod", "userdel"))


@unittest.skipUnless(os.path.exists(AUTH), "loft-auth not built")
@unittest.skipUnless(have_root_tools(), "needs root and the shadow tools")
class TestRealPam(AuthTestBase):
    """passdb = pam with the system's pam_unix via /etc/pam.d/loft and a real user."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="loft-auth-pam-")
        self.user = "lofttest%d" % (os.getpid() % 100000)
        self.created_pamd = False
        self.d = None
        if not os.path.exists("/etc/pam.d/loft"):
            src = os.path.join(SRC, "dist", "pam.d", "loft")
            if os.path.exists(src):
                shutil.copy(src, "/etc/pam.d/loft")
            else:
                with open("/etc/pam.d/loft", "w") as f:
                    f.write("@include common-auth\n@include common-account\n")
            self.created_pamd = True
        subprocess.run(["userdel", "-r", self.user], stderr=subprocess.DEVNULL)
        subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                        self.user], check=True)
        subprocess.run(["chpasswd"], input=("%s:Real-pw-1\n" % self.user).encode(), check=True)
        self.d = AuthDaemon(self.tmp, base_conf(self.tmp, "pam"))
        time.sleep(0.5)

    def tearDown(self):
        if self.d is not None:
            self.d.stop()
        subprocess.run(["userdel", "-f", self.user], stderr=subprocess.DEVNULL)
        if self.created_pamd:
            os.unlink("/etc/pam.d/loft")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_real_pam_ok_wrong_and_locked(self):
        c = self.d.client()
        r = self.auth_plain(c, 1, self.user, "Real-pw-1")
        self.assertEqual(r[:2], ["OK", "1"], self.d.log_text())
        self.assertEqual(self.auth_plain(c, 2, self.user, "wrong")[0], "FAIL")
        subprocess.run(["usermod", "-L", self.user], check=True)
        self.assertEqual(self.auth_plain(c, 3, self.user, "Real-pw-1")[0], "FAIL")
        c.close()
        self.assertNotIn("Real-pw-1", self.d.log_text())

    def test_workers_hold_no_capabilities(self):
        kids = [pid for pid in os.listdir("/proc") if pid.isdigit()
                and proc_status(int(pid)).get("PPid") == str(self.d.proc.pid)]
        self.assertEqual(len(kids), 2)  # auth_worker_count = 2
        for pid in kids:
            status = proc_status(int(pid))
            self.assertEqual(status["CapEff"], "0000000000000000")
            self.assertEqual(status["CapBnd"], "0000000000000000")
            self.assertEqual(status["NoNewPrivs"], "1")


if __name__ == "__main__":
    unittest.main()
