"""loft-auth under the real loft-master: spawned when a protocol needs it,
its three sockets bound by the master with the owners and modes of the
service table, serving SASL on auth-login and tokens on auth-master, and
restarted after a crash. The other daemons are the test service."""

import os
import pwd
import signal
import stat
import subprocess
import time
import unittest
import warnings

import lofttest
from test_auth import SECRET_HASH, Client, kv, plain

AUTH = os.path.join(lofttest.BIN_DIR, "loft-auth")


@unittest.skipUnless(os.path.exists(AUTH), "loft-auth not built")
class AuthSupervisedTest(unittest.TestCase):
    def setUp(self):
        self.s = lofttest.Suite(protocols=["imap"])
        self.addCleanup(self.s.cleanup)
        libexec = self.s.use_testsvc()
        os.unlink(os.path.join(libexec, "loft-auth"))
        os.symlink(AUTH, os.path.join(libexec, "loft-auth"))
        users = os.path.join(self.s.tmpdir, "users")
        with open(users, "w") as f:
            f.write("alice:%s:1000:1000::/home/alice::\n" % SECRET_HASH)
        self.s.write_config(passdb="passwd-file:" + users, auth_failure_delay="1s")
        self.s.start()

    def sock(self, name):
        return os.path.join(self.s.base_dir, name)

    def login(self, rid=1):
        c = Client(self.sock("auth-login"))
        self.assertIn(["PLAIN", "plaintext"], c.mechs)
        c.send("AUTH", str(rid), "PLAIN", "service=imap", "rip=127.0.0.1",
               "lip=127.0.0.1", "secured", "resp=" + plain("alice", "secret"))
        r = c.recv()
        c.close()
        return r

    def test_socket_owners_and_modes(self):
        want = {"auth-login": "loft-login", "auth-master": "root"}
        for name, owner in want.items():
            st = os.stat(self.sock(name))
            self.assertTrue(stat.S_ISSOCK(st.st_mode), name)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, name)
            if lofttest.is_root():
                self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, owner, name)
            else:
                self.assertEqual(st.st_uid, os.getuid(), name)

    def test_login_then_redeem_on_master_socket(self):
        r = self.login()
        self.assertEqual(r[:2], ["OK", "1"], r)
        f = kv(r)
        self.assertEqual(f["user"], "alice")
        m = Client(self.sock("auth-master"))
        m.send("REDEEM", "2", f["token"], "service=imap")
        got = m.recv()
        self.assertEqual(got[:2], ["OK", "2"], got)
        self.assertEqual(kv(got)["uid"], "1000")
        self.assertEqual(kv(got)["home"], "/home/alice")
        # single use
        m.send("REDEEM", "3", f["token"], "service=imap")
        self.assertEqual(m.recv()[:2], ["FAIL", "3"])
        m.close()

    def test_crashed_auth_is_restarted_and_serves_again(self):
        old = self.s.service("auth")["pid"]
        os.kill(old, signal.SIGKILL)
        self.s.wait_log(r"auth.*killed by signal 9", timeout=10)
        deadline = time.time() + 15
        while time.time() < deadline:
            svc = self.s.service("auth")
            if svc is not None and svc["pid"] not in (0, old):
                break
            time.sleep(0.2)
        else:
            self.fail("auth was not restarted: %r" % self.s.service("auth"))
        # The master kept the listening socket, so a client just connects.
        for _ in range(50):
            try:
                r = self.login(rid=9)
                break
            except (ConnectionError, OSError):
                time.sleep(0.1)
        self.assertEqual(r[:2], ["OK", "9"], r)

    def test_loft_pw_runs_the_auth_hasher(self):
        out = subprocess.run([os.path.join(lofttest.BIN_DIR, "loft"), "-c", self.s.conf,
                              "pw", "-p", "secret"], capture_output=True, text=True,
                             check=True).stdout.strip()
        self.assertTrue(out.startswith("{SHA512-CRYPT}$6$"), out)
        with warnings.catch_warnings():  # crypt is deprecated in 3.11, still there
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        hashed = out[len("{SHA512-CRYPT}"):]
        self.assertEqual(crypt.crypt("secret", hashed), hashed)
        self.assertNotEqual(crypt.crypt("wrong", hashed), hashed)


if __name__ == "__main__":
    unittest.main()
