"""test_seccomp: the seccomp filters on a running suite (issue 18). As root,
with every protocol on: each unprivileged process under the master --
login daemons, auth, smtpd and its session child, queue, relay, and the
mailstore worker of a logged-in IMAP and POP3 session -- shows `Seccomp: 2`
(filter mode) in /proc, and so does loft-auth, which keeps uid 0 by default
(auth_user = root, for PAM and /etc/shadow). Only the master and the
mailstore dispatcher, which start processes as other users, run unfiltered. Then a forbidden system call is injected into the
running IMAP login daemon with ptrace (execve, which no login daemon needs):
the filter kills it with SIGSYS, its handler logs the call, the master logs
the death and starts a new login daemon that serves again."""

import ctypes
import ctypes.util
import imaplib
import os
import platform
import poplib
import re
import signal
import socket
import time
import unittest

import lofttest

UID, GID = 4242, 4343
NR_EXECVE = 59  # x86_64

PTRACE_ATTACH, PTRACE_DETACH = 16, 17
PTRACE_GETREGS, PTRACE_SETREGS = 12, 13


class UserRegs(ctypes.Structure):
    """struct user_regs_struct on x86_64 (sys/user.h)."""
    _fields_ = [(n, ctypes.c_ulonglong) for n in (
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
        "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
        "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs")]


def descendants(root):
    """Live pids below root (any depth), with their /proc/<pid>/comm."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        if rest[0] != "Z":
            parent[int(d)] = int(rest[1])
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        for pid, pp in parent.items():
            if pp == p and pid not in out:
                try:
                    with open("/proc/%d/comm" % pid) as f:
                        out[pid] = f.read().strip()
                except OSError:
                    continue
                todo.append(pid)
    return out


def inject_syscall(pid, nr):
    """Make pid execute system call nr as its next instruction: stop it
    with ptrace, point its instruction pointer at the `syscall` instruction
    it is blocked behind (epoll_wait) with rax = nr, and let it go."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                            ctypes.c_void_p]
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        raise OSError(ctypes.get_errno(), "PTRACE_ATTACH")
    try:
        _, status = os.waitpid(pid, 0)
        if not os.WIFSTOPPED(status):
            raise AssertionError("login daemon did not stop: %#x" % status)
        regs = UserRegs()
        if libc.ptrace(PTRACE_GETREGS, pid, None, ctypes.byref(regs)) != 0:
            raise OSError(ctypes.get_errno(), "PTRACE_GETREGS")
        with open("/proc/%d/mem" % pid, "rb") as mem:
            mem.seek(regs.rip - 2)
            insn = mem.read(2)
        if insn != b"\x0f\x05":
            raise AssertionError("not stopped behind a syscall: %r" % insn)
        regs.rip -= 2
        regs.rax = nr
        regs.orig_rax = (1 << 64) - 1  # not in a system call: no restart
        regs.rdi = regs.rsi = regs.rdx = 0
        if libc.ptrace(PTRACE_SETREGS, pid, None, ctypes.byref(regs)) != 0:
            raise OSError(ctypes.get_errno(), "PTRACE_SETREGS")
    finally:
        libc.ptrace(PTRACE_DETACH, pid, None, None)


@unittest.skipUnless(lofttest.is_root(), "seccomp is checked on the root-run suite")
class TestSeccomp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = lofttest.Suite(protocols=["imap", "pop3", "smtp", "lmtp"])
        lofttest.start_suite(cls.s, cls.prepare, r"imap-login\[\d+\]: serving")

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s)

    @classmethod
    def prepare(cls, s):
        _, users = lofttest.mail_users(s, ["bob"], UID, GID)
        mail = os.path.join(s.tmpdir, "mail")
        s.write_config(**{"passdb": "passwd-file:" + users,
                          "mail_location": "maildir:%s/%%u/Maildir" % mail,
                          "mydomains": "example.org"})

    def test_every_unprivileged_process_is_filtered(self):
        for svc in ("imap-login", "pop3-login", "smtpd", "queue", "relay"):
            self.s.wait_log(r"%s\[\d+\]: serving" % svc)
        imap = imaplib.IMAP4("127.0.0.1", self.s.port("imap"), timeout=10)
        self.addCleanup(imap.logout)
        self.assertEqual(imap.login("bob", "secret-bob")[0], "OK")
        self.assertEqual(imap.select("INBOX")[0], "OK")
        pop = poplib.POP3("127.0.0.1", self.s.port("pop3"), timeout=10)
        self.addCleanup(pop.quit)
        pop.user("bob")
        pop.pass_("secret-bob")
        smtp = socket.create_connection(("127.0.0.1", self.s.port("smtp")), timeout=10)
        self.addCleanup(smtp.close)
        self.assertTrue(lofttest.read_line(smtp).startswith("220"))

        procs = descendants(self.s.read_pid())
        filtered, unfiltered = {}, []
        for pid, comm in procs.items():
            try:
                st = lofttest.proc_status(pid)
            except OSError:
                continue  # exited meanwhile
            uids = [int(u) for u in st["Uid"].split()]
            if comm == "loft-mailstore" and uids == [0, 0, 0, 0]:
                # the dispatcher stays root to start each worker as its
                # user, like the master; it runs no session code
                unfiltered.append(pid)
                continue
            self.assertEqual(st["Seccomp"], "2",
                             "%s[%d] (uid %s) runs without a filter" % (comm, pid, uids))
            filtered.setdefault(comm, []).append(pid)
        self.assertEqual(len(unfiltered), 1, procs)
        for comm in ("loft-imap-login", "loft-pop3-login", "loft-auth",
                     "loft-smtpd", "loft-queue", "loft-relay"):
            self.assertIn(comm, filtered, "no %s found: %s" % (comm, procs))
        # smtpd's session child, and one mailstore worker per logged-in
        # session, running as the mail user
        self.assertGreaterEqual(len(filtered["loft-smtpd"]), 2, procs)
        workers = [p for p in filtered.get("loft-mailstore", [])
                   if lofttest.proc_status(p)["Uid"].split()[0] == str(UID)]
        self.assertGreaterEqual(len(workers), 2, procs)

    @unittest.skipUnless(platform.machine() == "x86_64", "injection is x86_64 only")
    def test_forbidden_syscall_kills_and_is_logged(self):
        self.s.wait_log(r"imap-login\[\d+\]: serving")
        logins = [p for p, c in descendants(self.s.read_pid()).items()
                  if c == "loft-imap-login"]
        self.assertEqual(len(logins), 1, logins)
        pid = logins[0]
        start = len(self.s.log())
        inject_syscall(pid, NR_EXECVE)
        deadline = time.time() + 10
        while lofttest.pid_alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(lofttest.pid_alive(pid), "the login daemon survived execve")
        self.s.wait_log(r"imap-login\[%d\]: seccomp: system call %d is outside its filter"
                        % (pid, NR_EXECVE), start=start)
        self.s.wait_log(r"service imap-login \(pid %d\) killed by signal %d"
                        % (pid, signal.SIGSYS), start=start)
        # the master starts a new one, which serves
        self.s.wait_log(r"imap-login\[(?!%d\])\d+\]: serving" % pid, start=start, timeout=15)
        c = socket.create_connection(("127.0.0.1", self.s.port("imap")), timeout=10)
        try:
            self.assertTrue(lofttest.read_line(c).startswith("* OK"))
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
