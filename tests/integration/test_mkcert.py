"""test_mkcert.py: certs/mkcert.sh makes a usable self-signed certificate.

Runs the script from the source tree into temp dirs and reads every result
back with the openssl command line tool.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

SOURCE_DIR = os.environ.get("LOFT_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(SOURCE_DIR, "certs", "mkcert.sh")
CNF = os.path.join(SOURCE_DIR, "certs", "loft-openssl.cnf")


def openssl(*args, check=True):
    return subprocess.run(["openssl", *args], capture_output=True, text=True,
                          check=check)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class MkcertTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="loft-mkcert-")
        self.env = dict(os.environ)
        # No stray config or cnf from the machine: the one beside the script.
        self.env["LOFT_CONF"] = os.path.join(self.tmp, "absent.conf")
        self.env["LOFT_CN"] = "mail.loft.test"
        self.env.pop("LOFT_CERT_DAYS", None)
        self.cert = os.path.join(self.tmp, "certs", "loft.pem")
        self.key = os.path.join(self.tmp, "private", "loft.pem")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_mkcert(self, *args, env=None):
        return subprocess.run(["sh", SCRIPT, *args], capture_output=True,
                              text=True, env=env or self.env, timeout=120)

    def make(self, *args, env=None):
        res = self.run_mkcert(*args, env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res

    def subject(self, cert):
        return openssl("x509", "-noout", "-subject", "-in", cert).stdout

    def assert_valid_pair(self, cert, key):
        self.assertEqual(openssl("x509", "-noout", "-checkend", "0", "-in",
                                 cert, check=False).returncode, 0)
        check = openssl("pkey", "-check", "-noout", "-in", key, check=False)
        self.assertEqual(check.returncode, 0, check.stderr)
        cert_pub = openssl("x509", "-noout", "-pubkey", "-in", cert).stdout
        key_pub = openssl("pkey", "-pubout", "-in", key).stdout
        self.assertIn("BEGIN PUBLIC KEY", cert_pub)
        self.assertEqual(cert_pub, key_pub)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(cert).st_mode), 0o644)

    def test_explicit_paths(self):
        res = self.make(self.cert, self.key)
        self.assert_valid_pair(self.cert, self.key)
        subj = self.subject(self.cert)
        for part in ("CN = mail.loft.test", "O = Loft mail server",
                     "OU = Self-signed certificate",
                     "emailAddress = postmaster@example.org"):
            self.assertIn(part, subj)
        san = openssl("x509", "-noout", "-ext", "subjectAltName", "-in",
                      self.cert).stdout
        self.assertIn("DNS:mail.loft.test", san)
        text = openssl("x509", "-noout", "-text", "-in", self.cert).stdout
        self.assertIn("(3072 bit)", text)
        keydir = os.path.dirname(self.key)
        self.assertEqual(stat.S_IMODE(os.stat(keydir).st_mode), 0o750)
        # The printed fingerprint is the certificate's SHA-256 one.
        fp = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in",
                     self.cert).stdout.strip()
        self.assertRegex(fp, r"=([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        self.assertIn(fp, res.stdout)
        self.assertIn("notAfter=", res.stdout)
        self.assertIn("CN = mail.loft.test", res.stdout)

    def test_paths_from_config(self):
        conf = os.path.join(self.tmp, "loft.conf")
        cert = os.path.join(self.tmp, "conf", "c", "server.pem")
        key = os.path.join(self.tmp, "conf", "k", "server.key")
        with open(conf, "w") as f:
            f.write("# test config\n"
                    "#ssl_cert = /nonexistent/commented.pem\n"
                    "protocols = imap\n"
                    f"ssl_cert = {cert}   # the certificate\n"
                    f"  ssl_key={key}\n")
        self.make("-c", conf)
        self.assert_valid_pair(cert, key)
        self.assertFalse(os.path.exists("/nonexistent/commented.pem"))
        # LOFT_CONF names the config when -c is not given.
        os.unlink(cert)
        os.unlink(key)
        env = dict(self.env, LOFT_CONF=conf)
        self.make(env=env)
        self.assert_valid_pair(cert, key)

    def test_missing_config_file_for_c(self):
        res = self.run_mkcert("-c", os.path.join(self.tmp, "nope.conf"))
        self.assertEqual(res.returncode, 1)
        self.assertIn("not found", res.stderr)

    def test_refuses_overwrite_without_force(self):
        self.make(self.cert, self.key)
        before = (read_bytes(self.cert), read_bytes(self.key))
        res = self.run_mkcert(self.cert, self.key)
        self.assertEqual(res.returncode, 1)
        self.assertIn("--force", res.stderr)
        self.assertEqual((read_bytes(self.cert), read_bytes(self.key)), before)
        # Either file alone existing is enough to refuse.
        os.unlink(self.cert)
        res = self.run_mkcert(self.cert, self.key)
        self.assertEqual(res.returncode, 1)
        self.assertFalse(os.path.exists(self.cert))
        self.assertEqual(read_bytes(self.key), before[1])

    def test_force_replaces(self):
        self.make(self.cert, self.key)
        before = (read_bytes(self.cert), read_bytes(self.key))
        self.make("--force", self.cert, self.key)
        self.assertNotEqual(read_bytes(self.cert), before[0])
        self.assertNotEqual(read_bytes(self.key), before[1])
        self.assert_valid_pair(self.cert, self.key)
        leftovers = [n for d in ("certs", "private")
                     for n in os.listdir(os.path.join(self.tmp, d))
                     if n.startswith(".")]
        self.assertEqual(leftovers, [])

    def test_edited_cnf_changes_subject(self):
        with open(CNF) as f:
            text = f.read()
        text = re.sub(r"(?m)^CN = .*$", "CN = imap.edited.test", text)
        text = re.sub(r"(?m)^O = .*$", "O = Edited Org", text)
        text = re.sub(r"(?m)^emailAddress = .*$",
                      "emailAddress = admin@edited.test", text)
        cnf = os.path.join(self.tmp, "edited.cnf")
        with open(cnf, "w") as f:
            f.write(text)
        self.make("-o", cnf, self.cert, self.key)
        subj = self.subject(self.cert)
        # A CN written out is used as is: LOFT_CN only fills the placeholder.
        self.assertIn("CN = imap.edited.test", subj)
        self.assertIn("O = Edited Org", subj)
        self.assertIn("emailAddress = admin@edited.test", subj)
        self.assertNotIn("mail.loft.test", subj)
        san = openssl("x509", "-noout", "-ext", "subjectAltName", "-in",
                      self.cert).stdout
        self.assertIn("DNS:imap.edited.test", san)

    def test_days(self):
        env = dict(self.env, LOFT_CERT_DAYS="10")
        self.make(self.cert, self.key, env=env)

        def valid_for(seconds):
            return openssl("x509", "-noout", "-checkend", str(seconds), "-in",
                           self.cert, check=False).returncode == 0

        self.assertTrue(valid_for(9 * 86400))
        self.assertFalse(valid_for(11 * 86400))
        env["LOFT_CERT_DAYS"] = "ten"
        res = self.run_mkcert("--force", self.cert, self.key, env=env)
        self.assertEqual(res.returncode, 1)
        self.assertIn("LOFT_CERT_DAYS", res.stderr)

    def test_default_validity_is_a_year(self):
        self.make(self.cert, self.key)
        ok = openssl("x509", "-noout", "-checkend", str(364 * 86400), "-in",
                     self.cert, check=False)
        late = openssl("x509", "-noout", "-checkend", str(366 * 86400), "-in",
                       self.cert, check=False)
        self.assertEqual((ok.returncode, late.returncode), (0, 1))

    def test_bad_cn_refused(self):
        env = dict(self.env, LOFT_CN="bad/name;rm")
        res = self.run_mkcert(self.cert, self.key, env=env)
        self.assertEqual(res.returncode, 1)
        self.assertIn("LOFT_CN", res.stderr)
        self.assertFalse(os.path.exists(self.cert))
        self.assertFalse(os.path.exists(self.key))


if __name__ == "__main__":
    unittest.main()
