"""lofttest: the shared harness for Loft integration tests.

A Suite is one throw-away installation: a temp dir holding loft.conf, base_dir,
state_dir, login_chroot and the log, with every listener on 127.0.0.1 (imap
also on [::1]) at free ports. It starts and stops the real loft-master and
cleans up every process it started, even when a test fails.

    s = lofttest.Suite(protocols=["imap"])
    self.addCleanup(s.cleanup)
    s.use_testsvc()          # optional: every daemon is tests/support/loft-testsvc
    s.start()
    sock = s.connect("imap") # greeting already read: sock.greeting
"""

import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

# smtplib's SMTP and LMTP name themselves in EHLO/LHLO with socket.getfqdn(),
# which asks DNS for this machine's name when /etc/hosts lacks it (a fresh
# debootstrap does): a packet to the machine's resolver per connection, and
# seconds each when it does not answer. Tests never use that resolver, so
# the harness answers with a fixed name instead.
socket.getfqdn = lambda name="": "client.loft.test" if name in ("", "0.0.0.0") else name

SOURCE_DIR = os.environ.get(
    "LOFT_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("LOFT_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
BIN_DIR = os.path.join(BUILD_DIR, "bin")


def _reachable_by_others(path):
    """True when every directory above path lets other users through."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _public_bin_dir():
    """Tests run daemons as loft-login, nobody and other users. When the build
    tree sits below a private directory (a clone under /root, say), those
    users could not exec or even stat the binaries, so the test process uses a
    world-readable copy of bin/ in /tmp, removed when the process exits."""
    if os.geteuid() != 0 or not os.path.isdir(BIN_DIR) or _reachable_by_others(BIN_DIR):
        return BIN_DIR
    import atexit
    copy = tempfile.mkdtemp(prefix="lofttest-bin-", dir="/tmp")
    os.chmod(copy, 0o755)
    for name in os.listdir(BIN_DIR):
        src = os.path.join(BIN_DIR, name)
        if os.path.isfile(src):
            shutil.copy2(src, os.path.join(copy, name))
    atexit.register(shutil.rmtree, copy, True)
    return copy


BIN_DIR = _public_bin_dir()

ALL_PROTOCOLS = ["imap", "imaps", "pop3", "pop3s", "smtp", "submission",
                 "submissions", "lmtp"]
TLS_PROTOCOLS = {"imaps", "pop3s", "submissions"}
SMTP_PROTOCOLS = {"smtp", "submission", "submissions", "lmtp"}

# service -> (executable, protocols that enable it); mirrors
# master/master-services.c and docs/architecture.md.
SERVICES = {
    "auth": ("loft-auth", {"imap", "imaps", "pop3", "pop3s", "lmtp", "smtp",
                           "submission", "submissions"}),
    "imap-login": ("loft-imap-login", {"imap", "imaps"}),
    "pop3-login": ("loft-pop3-login", {"pop3", "pop3s"}),
    "mailstore": ("loft-mailstore", {"imap", "imaps", "pop3", "pop3s", "lmtp",
                                     "smtp", "submission", "submissions"}),
    "smtpd": ("loft-smtpd", {"smtp", "submission", "submissions"}),
    "queue": ("loft-queue", {"smtp", "submission", "submissions"}),
    "relay": ("loft-relay", {"smtp", "submission", "submissions"}),
}

SYSTEM_USERS = ["loft-login", "loft-smtp", "loft-queue"]


def is_root():
    return os.geteuid() == 0


def free_port(family=socket.AF_INET):
    """A TCP port that was free a moment ago on loopback."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def ensure_system_users():
    """Create loft-login, loft-smtp and loft-queue if missing (root only).
    Idempotent and safe when several tests race to do it."""
    for name in SYSTEM_USERS:
        for _ in range(20):
            try:
                pwd.getpwnam(name)
                break
            except KeyError:
                pass
            r = subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell",
                 "/usr/sbin/nologin", "--user-group", name],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode in (0, 9):  # 9 = already exists
                break
            time.sleep(0.2)  # passwd file locked by a concurrent useradd
        pwd.getpwnam(name)


def services_for(protocols):
    """The service names the master runs for a protocols list."""
    return [name for name, (_, protos) in SERVICES.items()
            if protos & set(protocols)]


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def pids_with_arg(text):
    """Pids of processes whose command line contains text."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmd and int(d) != os.getpid() and pid_alive(int(d)):
            out.append(int(d))
    return out


def proc_status(pid):
    """/proc/<pid>/status as a dict of strings."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def read_line(sock, limit=65536):
    """One line (bytes up to and including LF) from a blocking socket."""
    data = b""
    while not data.endswith(b"\n"):
        c = sock.recv(1)
        if not c:
            break
        data += c
        if len(data) > limit:
            raise AssertionError("line too long: %r" % data[:80])
    return data.decode("utf-8", "replace")


class _Sock(socket.socket):
    """A socket that can carry .greeting."""


class StartResult:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class Suite:
    def __init__(self, protocols=None, extra=None, libexec=None, tls=True,
                 user=None):
        """protocols: list of protocol words (default imap).
        extra: more config keys (values: str, int or list).
        libexec: directory of the daemons (default: the build's bin/).
        tls: write a self-signed ssl_cert/ssl_key into the temp dir.
        user: run the master as this user (unprivileged mode; needs root to
        switch; the temp dir is handed to that user)."""
        self.tmpdir = tempfile.mkdtemp(prefix="lofttest-", dir="/tmp")
        os.chmod(self.tmpdir, 0o755)
        self.conf = os.path.join(self.tmpdir, "loft.conf")
        self.base_dir = os.path.join(self.tmpdir, "run")
        self.state_dir = os.path.join(self.tmpdir, "state")
        self.login_chroot = os.path.join(self.tmpdir, "chroot")
        self.log_path = os.path.join(self.tmpdir, "loft.log")
        self.status_path = os.path.join(self.base_dir, "status")
        self.pid_path = os.path.join(self.base_dir, "master.pid")
        self.protocols = list(protocols if protocols is not None else ["imap"])
        self.libexec = libexec or BIN_DIR
        self.testsvc = False
        self.user = user
        self.proc = None  # Popen of a foreground master
        self.master_pid = None
        self.ports = {p: free_port() for p in ALL_PROTOCOLS}
        self.ports6 = {}
        if have_ipv6():
            self.ports6["imap"] = free_port(socket.AF_INET6)
        self.extra = {}
        if tls:
            self._make_cert()
        self.extra.update(extra or {})
        if is_root() and user is None:
            ensure_system_users()
        self.write_config()

    # -- configuration ---------------------------------------------------

    def _make_cert(self):
        cert = os.path.join(self.tmpdir, "cert.pem")
        key = os.path.join(self.tmpdir, "key.pem")
        r = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext",
             "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", key, "-out", cert],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("openssl req failed: %s" % r.stderr.decode())
        os.chmod(key, 0o600)
        self.extra["ssl_cert"] = cert
        self.extra["ssl_key"] = key
        self.cert_path = cert

    def listen_value(self, proto):
        v = "127.0.0.1:%d" % self.ports[proto]
        if proto in self.ports6:
            v += " [::1]:%d" % self.ports6[proto]
        return v

    def config_text(self):
        keys = {
            "protocols": " ".join(self.protocols),
            "base_dir": self.base_dir,
            "state_dir": self.state_dir,
            "login_chroot": self.login_chroot,
            "log_path": self.log_path,
            "log_level": "debug",
            "libexec_dir": self.libexec,
        }
        for p in ALL_PROTOCOLS:
            keys["%s_listen" % p] = self.listen_value(p)
        keys.update(self.extra)
        lines = ["# written by tests/integration/lofttest.py"]
        for k, v in keys.items():
            if v is None:
                continue
            if isinstance(v, (list, tuple)):
                v = " ".join(str(x) for x in v)
            lines.append("%s = %s" % (k, v))
        return "\n".join(lines) + "\n"

    def write_config(self, **changes):
        """Rewrite loft.conf; changes are config keys (None removes an extra
        key). protocols= also changes which services are expected."""
        for k, v in changes.items():
            if k == "protocols":
                self.protocols = list(v.split() if isinstance(v, str) else v)
            elif k == "libexec_dir":
                self.libexec = v
            elif v is None:
                self.extra.pop(k, None)
            else:
                self.extra[k] = v
        with open(self.conf + ".tmp", "w") as f:
            f.write(self.config_text())
        os.rename(self.conf + ".tmp", self.conf)
        self._hand_over()

    def read_config(self):
        """The current loft.conf text."""
        with open(self.conf) as f:
            return f.read()

    def write_raw_config(self, text):
        """Replace loft.conf with text as-is (for error tests). Atomic, so a
        daemon starting right now never reads half a file."""
        with open(self.conf + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.conf + ".tmp", self.conf)
        self._hand_over()

    def use_testsvc(self):
        """Point libexec_dir at tmpdir/libexec where every daemon name is a
        symlink to the built loft-testsvc."""
        d = os.path.join(self.tmpdir, "libexec")
        os.makedirs(d, exist_ok=True)
        target = os.path.join(BIN_DIR, "loft-testsvc")
        for exe, _ in SERVICES.values():
            link = os.path.join(d, exe)
            if not os.path.lexists(link):
                os.symlink(target, link)
        self.testsvc = True
        self.write_config(libexec_dir=d)
        return d

    def _hand_over(self):
        """In unprivileged mode the temp dir belongs to the master's user."""
        if self.user is None or not is_root():
            return
        pw = pwd.getpwnam(self.user)
        for root, dirs, files in os.walk(self.tmpdir):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, pw.pw_uid, pw.pw_gid)

    def port(self, proto, v6=False):
        return self.ports6[proto] if v6 else self.ports[proto]

    def expected_services(self):
        return services_for(self.protocols)

    # -- running ---------------------------------------------------------

    def _cmd(self, foreground):
        cmd = [os.path.join(BIN_DIR, "loft-master"), "-c", self.conf]
        if foreground:
            cmd.append("-F")
        if self.user is not None and is_root():
            pw = pwd.getpwnam(self.user)
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid,
                   "--regid=%d" % pw.pw_gid, "--clear-groups"] + cmd
        return cmd

    def run_master(self, *args, timeout=30):
        """Run loft-master with extra args (e.g. a second instance) and
        return the CompletedProcess (text)."""
        cmd = self._cmd(False) + list(args)
        return subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout)

    def start(self, foreground=False, check=True, wait=True, timeout=15):
        """Start loft-master. Daemonising (default): returns once the parent
        exits. Foreground: -F under a Popen kept in self.proc. With check,
        a non-zero exit raises; with wait, blocks until the status file lists
        every expected service running. Returns a StartResult."""
        self._hand_over()
        if foreground:
            errf = open(os.path.join(self.tmpdir, "master.stderr"), "w+")
            self.proc = subprocess.Popen(
                self._cmd(True), stdin=subprocess.DEVNULL,
                stdout=errf, stderr=errf, start_new_session=True)
            res = StartResult(None, "", "")
            self._errf = errf
        else:
            r = subprocess.run(self._cmd(False), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=timeout)
            res = StartResult(r.returncode, r.stdout, r.stderr)
            if r.returncode != 0:
                if check:
                    raise AssertionError(
                        "loft-master exited %d: %s\nlog:\n%s"
                        % (r.returncode, r.stderr, self.log()[-3000:]))
                return res
        if wait:
            self.wait_running(timeout=timeout)
        return res

    def wait_running(self, services=None, timeout=15, generation=None):
        """Wait until the status file shows the master and every expected
        service running (and, if given, the master at generation)."""
        want = services if services is not None else self.expected_services()
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("foreground master exited %d: %s"
                                     % (self.proc.returncode,
                                        self._stderr_text()))
            try:
                st = self.status()
            except (OSError, ValueError):
                st = None
            if st and st["master"]:
                self.master_pid = st["master"]["pid"]
                ok = generation is None or \
                    st["master"]["generation"] == generation
                for name in want:
                    if not any(c["name"] == name and c["state"] == "running"
                               and c["pid"] > 0 and pid_alive(c["pid"])
                               for c in st["services"]):
                        ok = False
                if ok:
                    return st
            time.sleep(0.05)
        raise AssertionError("services %s not running after %ss; status=%r\n"
                             "log:\n%s" % (want, timeout, st,
                                           self.log()[-3000:]))

    def _stderr_text(self):
        try:
            with open(os.path.join(self.tmpdir, "master.stderr")) as f:
                return f.read()
        except OSError:
            return ""

    def read_pid(self):
        """The master's pid from its pid file, or None."""
        try:
            with open(self.pid_path) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def signal_master(self, sig):
        pid = self.master_pid or self.read_pid()
        if pid is None:
            raise AssertionError("no master pid known")
        os.kill(pid, sig)

    def reload(self):
        """SIGHUP the master."""
        self.signal_master(signal.SIGHUP)

    def stop(self, timeout=20):
        """SIGTERM the master and wait until it is gone. Returns its exit
        status when it runs in the foreground (else None)."""
        pid = self.master_pid or self.read_pid()
        if pid is None and self.proc is None:
            return None
        if self.proc is not None:
            pid = self.proc.pid
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        rc = None
        deadline = time.time() + timeout
        if self.proc is not None:
            try:
                rc = self.proc.wait(timeout=timeout)
            finally:
                self.proc = None
                self._errf.close()
        else:
            while pid_alive(pid) and time.time() < deadline:
                time.sleep(0.05)
            if pid_alive(pid):
                raise AssertionError("master %d still running after %ss"
                                     % (pid, timeout))
        self.master_pid = None
        return rc

    def leftover_pids(self):
        """Pids of any process still running with a path of our temp dir on
        its command line (the master's -c, its children's config snapshot)."""
        return pids_with_arg(self.tmpdir + "/")

    def cleanup(self):
        """Stop everything started from this suite and remove the temp dir.
        Never raises; meant for addCleanup/tearDown."""
        try:
            self.stop(timeout=15)
        except Exception:
            pass
        pids = set(self.leftover_pids())
        try:
            st = self.status()
            if st["master"]:
                pids.add(st["master"]["pid"])
            pids.update(c["pid"] for c in st["services"] if c["pid"] > 0)
        except Exception:
            pass
        if self.proc is not None:
            pids.add(self.proc.pid)
        for pid in pids:
            try:
                with open("/proc/%d/cmdline" % pid) as f:
                    mine = (self.tmpdir + "/") in f.read()
                if mine:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except Exception:
                pass
            self.proc = None
        deadline = time.time() + 5
        while any(pid_alive(p) for p in pids) and time.time() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    # -- observing -------------------------------------------------------

    def status(self):
        """Parse base_dir/status: {"master": {pid, generation, config, mode}
        or None, "services": [{name, pid, state, restarts, listeners}]}."""
        out = {"master": None, "services": []}
        with open(self.status_path) as f:
            for line in f.read().splitlines():
                f = line.split("\t")
                if f[0] == "master" and len(f) >= 5:
                    out["master"] = {"pid": int(f[1]),
                                     "generation": int(f[2]),
                                     "config": f[3], "mode": f[4]}
                elif f[0] == "service" and len(f) >= 6:
                    out["services"].append({
                        "name": f[1], "pid": int(f[2]), "state": f[3],
                        "restarts": int(f[4]),
                        "listeners": f[5].split() if f[5] else []})
        return out

    def service(self, name):
        """The running entry for a service (or None)."""
        for c in self.status()["services"]:
            if c["name"] == name and c["state"] == "running":
                return c
        return None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, regex, timeout=10, start=0):
        """Wait until the log (from character offset start) matches regex;
        returns the match."""
        rx = re.compile(regex, re.M)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.log(), start)
            if m:
                return m
            if time.time() > deadline:
                raise AssertionError("log never matched %r; log tail:\n%s"
                                     % (regex, self.log()[-3000:]))
            time.sleep(0.05)

    def connect(self, proto, v6=False, tls=None, timeout=10, read_greeting=True):
        """Connect to proto's listener and read its greeting (sock.greeting).
        tls defaults to on for implicit-TLS protocols unless running
        testsvc."""
        family = socket.AF_INET6 if v6 else socket.AF_INET
        host = "::1" if v6 else "127.0.0.1"
        sock = _Sock(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect((host, self.port(proto, v6)))
        if tls is None:
            tls = proto in TLS_PROTOCOLS and not self.testsvc
        if tls:
            raw = sock
            sock = tls_ctx().wrap_socket(raw, server_hostname="localhost")
        greeting = ""
        if read_greeting:
            greeting = read_line(sock)
            if proto in SMTP_PROTOCOLS and not self.testsvc:
                while re.match(r"^\d{3}-", greeting.splitlines()[-1] if
                               greeting else ""):
                    greeting += read_line(sock)
        try:
            sock.greeting = greeting
        except AttributeError:
            pass  # an SSLSocket: greeting kept on the suite only
        self.last_greeting = greeting
        return sock

    def send_line(self, sock, text):
        """Send text + CRLF and return the next line read."""
        sock.sendall(text.encode() + b"\r\n")
        return read_line(sock)


# -- helpers for the SMTP side (appended) --------------------------------

def libexec_mixed(suite, real, fake=()):
    """Point suite's libexec_dir at tmpdir/libexec-mixed holding symlinks to
    the built daemons named in real and to loft-testsvc for those in fake
    (so a test needs only the daemons it is about). Returns the dir."""
    d = os.path.join(suite.tmpdir, "libexec-mixed")
    os.makedirs(d, exist_ok=True)
    for exe in real:
        os.symlink(os.path.join(BIN_DIR, exe), os.path.join(d, exe))
    for exe in fake:
        os.symlink(os.path.join(BIN_DIR, "loft-testsvc"), os.path.join(d, exe))
    suite.write_config(libexec_dir=d)
    return d


_WIRE_ESC = {b"\t": b"\\t", b"\n": b"\\n", b"\r": b"\\r", b"\0": b"\\0",
             b"\\": b"\\\\"}
_WIRE_UNESC = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"0": b"\0", b"\\": b"\\"}


def wire_line(*fields):
    """One lib/core/wire.h line: fields (str or bytes) escaped, TAB-joined, LF."""
    out = []
    for f in fields:
        if isinstance(f, str):
            f = f.encode()
        out.append(b"".join(_WIRE_ESC.get(f[i:i + 1], f[i:i + 1])
                            for i in range(len(f))))
    return b"\t".join(out) + b"\n"


def wire_fields(line):
    """Decode one wire line (bytes, with or without LF) into bytes fields."""
    line = line.rstrip(b"\n")
    fields, cur, i = [], b"", 0
    while i < len(line):
        c = line[i:i + 1]
        if c == b"\\":
            cur += _WIRE_UNESC[line[i + 1:i + 2]]
            i += 2
            continue
        if c == b"\t":
            fields.append(cur)
            cur = b""
        else:
            cur += c
        i += 1
    fields.append(cur)
    return fields


class QueueClient:
    """A client of loft-queue's QUEUE protocol (docs/queue-protocol.md) on
    a unix socket, e.g. base_dir/pickup. Replies come back as lists of str."""

    def __init__(self, path, timeout=15):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        r = self.request(("VERSION", "QUEUE", "1", "0"))
        if r[:3] != ["VERSION", "QUEUE", "1"]:
            raise AssertionError("bad version reply %r" % r)

    def close(self):
        self.sock.close()

    def send(self, *fields):
        self.sock.sendall(wire_line(*fields))

    def reply(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("loft-queue closed the connection")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return [f.decode("utf-8", "replace") for f in wire_fields(line)]

    def request(self, fields):
        self.send(*fields)
        return self.reply()

    def submit(self, sender, rcpts, data, params=()):
        """MAIL/RCPT/DATA/BODY/COMMIT; returns the COMMIT (or failing DATA)
        reply, e.g. ["OK", id]."""
        self.send("MAIL", sender, *params)
        for r in rcpts:
            self.send("RCPT", r)
        r = self.request(("DATA",))
        if r[0] != "OK":
            return r
        for i in range(0, len(data), 16384):
            self.send("BODY", data[i:i + 16384])
        return self.request(("COMMIT",))


def run_as_user(user, fn):
    """Run fn() in a forked child that switched to user (root only); return
    its result (anything repr/eval-able) or raise what it raised, as text."""
    pw = pwd.getpwnam(user)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            out = "ok:" + repr(fn())
        except BaseException as e:  # reported to the parent
            out = "err:" + repr(e)
        os.write(wfd, out.encode())
        os._exit(0)
    os.close(wfd)
    data = b""
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rfd)
    os.waitpid(pid, 0)
    text = data.decode()
    if not text.startswith("ok:"):
        raise AssertionError("as %s: %s" % (user, text))
    import ast
    return ast.literal_eval(text[3:])


def tls_ctx():
    """A client TLS context that accepts the suites' self-signed certificates."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class LineClient:
    """A CRLF line client on a plain or TLS socket, for the protocol tests;
    each protocol's test file adds its command helpers in a subclass."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self, timeout=None):
        """The next line without CRLF; timeout (s), if given, applies to the socket."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            c = self.sock.recv(65536)
            if not c:
                raise EOFError("connection closed; got %r" % self.buf)
            self.buf += c
        ln, _, self.buf = self.buf.partition(b"\r\n")
        return ln

    def closed(self, timeout=5):
        """True when the server closes the connection (EOF) in time."""
        self.sock.settimeout(timeout)
        try:
            while True:
                c = self.sock.recv(65536)
                if not c:
                    return True
                self.buf += c
        except ConnectionResetError:
            return True  # closed with our unread bytes pending: a reset
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def start_suite(suite, prepare, serving):
    """prepare(suite), start it and wait for the log line matching serving;
    on any failure clean the suite up before raising (for setUpClass)."""
    try:
        prepare(suite)
        suite.start()
        suite.wait_log(serving)
    except Exception:
        suite.cleanup()
        raise


def finish_suite(suite, stop=True):
    """Stop (if stop) and clean up a suite, then fail if a sanitizer build's
    daemon reported anything in the log (for tearDownClass)."""
    if stop:
        try:
            suite.stop()
        except Exception:
            pass
    log = suite.log()
    suite.cleanup()
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        if bad in log:
            raise AssertionError("%s in the log:\n%s" % (bad, log[-5000:]))


def mail_users(suite, names, uid, gid):
    """A passwd-file in the suite's temp dir for names (password
    "secret-<name>", home <tmpdir>/mail/<name>, made and owned by uid:gid):
    (the mail dir, the passwd-file's path)."""
    mail = os.path.join(suite.tmpdir, "mail")
    users = os.path.join(suite.tmpdir, "users")
    with open(users, "w") as f:
        for name in names:
            f.write("%s:{PLAIN}secret-%s:%d:%d::%s/%s::\n"
                    % (name, name, uid, gid, mail, name))
            home = os.path.join(mail, name)
            os.makedirs(home)
            os.chown(home, uid, gid)
    os.chmod(mail, 0o755)
    return mail, users
