"""LMTP memory bound (issue 18) with the real master, loft-auth and
loft-mailstore: lmtp_max_sessions concurrent TCP sessions each hold a 32 MB
DATA in flight at once. Every session child spools it to an unnamed file in
<state_dir>/lmtp-spool (its descriptor points there and the file already
holds all but the last chunk sent, and no memfd is open) while its peak resident memory
(VmHWM) stays under 24 MB; the dispatcher's too. One more connection is
answered 421 4.3.2; a session cut off mid-DATA delivers nothing, the others
are stored byte for byte, and nothing is left in the spool directory."""

import os
import re
import socket
import time
import unittest

import lofttest

UID, GID = 4252, 4353
SESSIONS = 6
LINE = b"x" * 998 + b"\r\n"  # stored as 999 bytes
LINES = 32 * 1024           # 32 MB per message
HWM_MAX_KB = 24 * 1024


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rfind(")") + 2:].split()
        if int(fields[1]) == ppid and fields[0] != "Z":
            out.append(int(d))
    return out


def kb(status, key):
    return int(re.match(r"(\d+) kB", status[key]).group(1))


@unittest.skipUnless(lofttest.is_root(), "delivery as the mail user needs root")
class TestLmtpMemory(unittest.TestCase):
    def setUp(self):
        self.s = lofttest.Suite(protocols=["lmtp", "pop3"], tls=False)
        self.addCleanup(self.s.cleanup)
        tmp = self.s.tmpdir
        users = os.path.join(tmp, "users")
        with open(users, "w") as f:
            f.write("alice::%d:%d::%s/home/alice::\n" % (UID, GID, tmp))
        self.mail = os.path.join(tmp, "mail")
        os.mkdir(self.mail, 0o755)
        os.chown(self.mail, UID, GID)
        libexec = os.path.join(tmp, "libexec")
        os.mkdir(libexec)
        for exe in ("loft-auth", "loft-mailstore"):
            os.symlink(os.path.join(lofttest.BIN_DIR, exe), os.path.join(libexec, exe))
        os.symlink(os.path.join(lofttest.BIN_DIR, "loft-testsvc"),
                   os.path.join(libexec, "loft-pop3-login"))
        self.s.write_config(libexec_dir=libexec, passdb="passwd-file:" + users,
                            mail_location="maildir:%s/%%u/Maildir" % self.mail,
                            myhostname="lmtp.test", lmtp_max_sessions=str(SESSIONS))
        self.s.start()
        self.spool = os.path.join(self.s.state_dir, "lmtp-spool")

    def open_session(self):
        sock = self.s.connect("lmtp", timeout=60)
        self.addCleanup(sock.close)
        self.assertTrue(sock.greeting.startswith("220 "), sock.greeting)
        sock.sendall(b"LHLO c\r\nMAIL FROM:<s@example.org>\r\n"
                     b"RCPT TO:<alice@example.org>\r\nDATA\r\n")
        got = []
        while len(got) < 4:
            line = lofttest.read_line(sock)
            self.assertTrue(line, got)
            if line[3:4] != "-":
                got.append(line[:3])
        self.assertEqual(got, ["250", "250", "250", "354"])
        return sock

    def spool_files(self, pid):
        """{fd path: size} of pid's open files in the spool directory; the
        paths of its memfds under the key "memfd"."""
        out = {}
        fd_dir = "/proc/%d/fd" % pid
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
                size = os.stat(os.path.join(fd_dir, fd)).st_size
            except OSError:
                continue
            if target.startswith("/memfd:"):
                out.setdefault("memfd", []).append(target)
            elif target.startswith(self.spool + "/"):
                out[target] = size
        return out

    def test_concurrent_big_data_spooled_to_disk(self):
        mailstore = self.s.service("mailstore")["pid"]
        body = b"Subject: big\r\n\r\n"
        socks = [self.open_session() for _ in range(SESSIONS)]
        # one more is over lmtp_max_sessions
        extra = self.s.connect("lmtp")
        self.addCleanup(extra.close)
        self.assertEqual(extra.greeting,
                         "421 4.3.2 Too many LMTP sessions, try again later\r\n")
        chunk = LINE * 256
        for sock in socks:
            sock.sendall(body)
            for _ in range(LINES // 256):
                sock.sendall(chunk)
        want = len(b"Subject: big\n\n") + LINES * (len(LINE) - 1)
        sessions = children(mailstore)
        self.assertEqual(len(sessions), SESSIONS)
        # every session's message is on disk before its final dot (but for
        # the last bytes in the session's 64 KB write chunk and input buffer)
        deadline = time.monotonic() + 60
        while True:
            files = {pid: self.spool_files(pid) for pid in sessions}
            if all("memfd" not in f and len(f) == 1
                   and want - 512 * 1024 <= min(f.values()) <= want
                   for f in files.values()):
                break
            self.assertLess(time.monotonic(), deadline, files)
            time.sleep(0.2)
        for pid in sessions:
            st = lofttest.proc_status(pid)
            self.assertLess(kb(st, "VmHWM"), HWM_MAX_KB, "session %d: %s" % (pid, st["VmHWM"]))
        st = lofttest.proc_status(mailstore)
        self.assertLess(kb(st, "VmHWM"), HWM_MAX_KB, "dispatcher: %s" % st["VmHWM"])
        # the last session is cut off before its dot: nothing of it is stored
        socks.pop().close()
        for sock in socks:
            sock.sendall(b".\r\nQUIT\r\n")
        for sock in socks:
            self.assertEqual(lofttest.read_line(sock),
                             "250 2.0.0 <alice@example.org> Saved\r\n")
            self.assertTrue(lofttest.read_line(sock).startswith("221 "))
        new = os.path.join(self.mail, "alice", "Maildir", "new")
        names = os.listdir(new)
        self.assertEqual(len(names), SESSIONS - 1)
        head = b"Return-Path: <s@example.org>\nDelivered-To: <alice@example.org>\n"
        for n in names:
            path = os.path.join(new, n)
            self.assertEqual(os.path.getsize(path), len(head) + want)
            with open(path, "rb") as f:
                self.assertEqual(f.read(len(head) + 14), head + b"Subject: big\n\n")
        self.assertEqual(os.listdir(os.path.join(self.mail, "alice", "Maildir", "tmp")), [])
        # the spool keeps nothing once the sessions are gone
        deadline = time.monotonic() + 10
        while children(mailstore):
            self.assertLess(time.monotonic(), deadline, "LMTP sessions still running")
            time.sleep(0.1)
        self.assertEqual(os.listdir(self.spool), [])
        st = os.stat(self.spool)
        self.assertEqual(st.st_mode & 0o7777, 0o700)
        # and sessions are taken again
        sock = self.open_session()
        sock.sendall(b"small\r\n.\r\nQUIT\r\n")
        self.assertEqual(lofttest.read_line(sock), "250 2.0.0 <alice@example.org> Saved\r\n")


if __name__ == "__main__":
    unittest.main()
