"""test_initscript: dist/loft.init, the SysV init script, driving a real
loft-master (with test services) through the built `loft` CLI: LSB exit
codes, a new master pid on restart, a new generation on reload, nothing left
running after stop, and settings taken from the /etc/default file."""

import os
import subprocess
import unittest

import lofttest

SCRIPT = os.path.join(lofttest.SOURCE_DIR, "dist", "loft.init")
LOFT = os.path.join(lofttest.BIN_DIR, "loft")


class InitScriptTest(unittest.TestCase):
    def setUp(self):
        self.s = lofttest.Suite(protocols=["imap", "smtp"])
        self.addCleanup(self.s.cleanup)
        self.s.use_testsvc()
        self.defaults = os.path.join(self.s.tmpdir, "default-loft")
        with open(self.defaults, "w") as f:
            f.write("# empty defaults file\n")

    def init(self, action, conf_env=True):
        env = dict(os.environ, LOFT_BIN=LOFT, LOFT_DEFAULTS=self.defaults)
        env.pop("LOFT_CONF", None)
        if conf_env:
            env["LOFT_CONF"] = self.s.conf
        return subprocess.run(["/bin/sh", SCRIPT, action], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)

    def test_lifecycle(self):
        s = self.s
        r = self.init("status")
        self.assertEqual(r.returncode, 3, r)
        r = self.init("reload")
        self.assertEqual(r.returncode, 7, r)  # LSB: program is not running

        r = self.init("start")
        self.assertEqual(r.returncode, 0, r)
        st = s.wait_running()
        pid = st["master"]["pid"]
        self.assertEqual(s.read_pid(), pid)
        r = self.init("status")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("running (pid %d" % pid, r.stdout)
        # LSB: starting a running service is success, and changes nothing
        r = self.init("start")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(s.read_pid(), pid)

        gen = st["master"]["generation"]
        r = self.init("reload")
        self.assertEqual(r.returncode, 0, r)
        s.wait_running(generation=gen + 1)
        self.assertEqual(s.read_pid(), pid)

        r = self.init("restart")
        self.assertEqual(r.returncode, 0, r)
        st = s.wait_running()
        pid2 = st["master"]["pid"]
        self.assertNotEqual(pid2, pid)
        self.assertFalse(lofttest.pid_alive(pid))
        children = [c["pid"] for c in st["services"] if c["pid"] > 0]
        self.assertTrue(children)

        r = self.init("stop")
        self.assertEqual(r.returncode, 0, r)
        for p in [pid2] + children:
            self.assertFalse(lofttest.pid_alive(p), "pid %d survived" % p)
        self.assertEqual(s.leftover_pids(), [])
        s.master_pid = None
        r = self.init("status")
        self.assertEqual(r.returncode, 3, r)
        r = self.init("stop")  # stopping a stopped service is success
        self.assertEqual(r.returncode, 0, r)

    def test_defaults_file_and_bad_action(self):
        with open(self.defaults, "w") as f:
            f.write("LOFT_CONF=%s\n" % self.s.conf)
        r = self.init("force-reload", conf_env=False)  # not running: starts
        self.assertEqual(r.returncode, 0, r)
        pid = self.s.wait_running()["master"]["pid"]
        r = self.init("try-restart", conf_env=False)
        self.assertEqual(r.returncode, 0, r)
        self.assertNotEqual(self.s.wait_running()["master"]["pid"], pid)
        r = self.init("stop", conf_env=False)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.init("status", conf_env=False).returncode, 3)
        r = self.init("bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)

    def test_missing_binary(self):
        env = dict(os.environ, LOFT_BIN="/nonexistent/loft",
                   LOFT_DEFAULTS=self.defaults)
        r = subprocess.run(["/bin/sh", SCRIPT, "start"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 5)  # LSB: program is not installed
        r = subprocess.run(["/bin/sh", SCRIPT, "status"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 3)


if __name__ == "__main__":
    unittest.main()
