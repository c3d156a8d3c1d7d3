#!/usr/bin/env python3
"""bench/pop3/run.py: POP3 sessions per second, Loft against Dovecot's pop3 on
the same 1,000-message Maildir, for an operator to run by hand as root (never
part of ctest). See bench/README.md for what it measures and how to run it.

Steps: install dovecot-core + dovecot-pop3d if missing (services kept from
starting), build Loft, write one seeded Maildir, give each server and each
client user its own fresh copy, start both servers from temp dirs on free
loopback ports, check they serve identical bytes, time sessions
(USER/PASS, STAT, RETR every message, QUIT) with 1 and 8 clients, count the
servers' CPU time and sample their summed RSS, print a table, stop
everything and remove the temp dir.
"""

import argparse
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAIL_UID = MAIL_GID = 5000  # the virtual mail user of both servers
PASSWORD = "bench-secret"
LOFT_EXES = ["loft-master", "loft-auth", "loft-pop3-login", "loft-mailstore"]
LOFT_SYSTEM_USERS = ["loft-login", "loft-smtp", "loft-queue"]
SEED = 1939  # RFC 1939: the message generator's fixed seed


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# -- setup: packages, build, users -------------------------------------------


def ensure_dovecot():
    """Install Dovecot's pop3 from Debian if missing. A temporary policy-rc.d
    (exit 101) keeps the package's own service from starting; if this run
    installed it, the system service is also stopped and disabled, so nothing
    is left listening on 110/143/993/995."""
    if shutil.which("dovecot") and os.path.exists("/usr/lib/dovecot/pop3"):
        return
    guard = "/usr/sbin/policy-rc.d"
    made_guard = not os.path.exists(guard)
    if made_guard:
        with open(guard, "w") as f:
            f.write("#!/bin/sh\n# written by loft bench/pop3/run.py\nexit 101\n")
        os.chmod(guard, 0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    pkgs = ["dovecot-core", "dovecot-pop3d"]
    try:
        log("installing " + " ".join(pkgs))
        r = subprocess.run(["apt-get", "install", "-y"] + pkgs, env=env)
        if r.returncode != 0:
            run(["apt-get", "update"], env=env)
            run(["apt-get", "install", "-y"] + pkgs, env=env)
    finally:
        if made_guard:
            os.unlink(guard)
    stop_system_dovecot()


def stop_system_dovecot():
    if os.path.isdir("/run/systemd/system") and shutil.which("systemctl"):
        for unit in ("dovecot.socket", "dovecot.service"):
            subprocess.run(["systemctl", "disable", "--now", unit],
                           stderr=subprocess.DEVNULL)
    elif os.path.exists("/etc/init.d/dovecot"):
        subprocess.run(["/etc/init.d/dovecot", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def build_loft(build_dir):
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        run(["cmake", "-S", SRC, "-B", build_dir,
             "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], stdout=subprocess.DEVNULL)
    log("building Loft in " + build_dir)
    run(["cmake", "--build", build_dir, "-j%d" % (os.cpu_count() or 2),
         "--target"] + LOFT_EXES, stdout=subprocess.DEVNULL)


def ensure_system_users():
    """The users Loft's master expects (as its dist/ install creates)."""
    import pwd
    for name in LOFT_SYSTEM_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            log("creating system user " + name)
            run(["useradd", "--system", "--no-create-home", "--shell",
                 "/usr/sbin/nologin", "--user-group", name])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the Maildir --------------------------------------------------------------

WORDS = ("the of and to in is that for it as with was on be by this are from "
         "at or an have not which but all were when we there can more if "
         "mail server queue message delivery header body folder index lock "
         "session login client network report meeting budget draft review "
         "release schedule invoice quarterly update proposal deadline").split()
NAMES = ["Alice Martin", "Bob Chen", "Carol Diaz", "Dave Okafor", "Erin Smith",
         "Frank Novak", "Grace Kim", "Heidi Larsen", "Ivan Petrov", "Judy Ng"]


def _para(rng, lines):
    out = []
    for _ in range(lines):
        words, n = [], 0
        while n < 68:
            w = rng.choice(WORDS)
            words.append(w)
            n += len(w) + 1
        out.append(" ".join(words))
    return out


def make_message(rng, i, when):
    """One message of a few KB, LF line ends as Maildir files have them:
    Received chain, the usual headers, a text body (some lines start with a
    dot, to exercise dot-stuffing) and for every fifth message a base64
    attachment in a multipart/mixed body."""
    sender, rcpt = rng.sample(NAMES, 2)
    addr = lambda n: n.split()[0].lower() + "@example.org"
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))
    hdr = [
        "Return-Path: <%s>" % addr(sender),
        "Received: from mx.example.net (mx.example.net [192.0.2.%d])\n"
        "\tby mail.example.org with ESMTPS id %08X\n\tfor <%s>; %s"
        % (i % 250 + 1, rng.getrandbits(32), addr(rcpt), date),
        "Received: from client.example.net ([198.51.100.%d])\n"
        "\tby mx.example.net with ESMTPSA; %s" % (i % 250 + 1, date),
        "Date: " + date,
        "From: %s <%s>" % (sender, addr(sender)),
        "To: %s <%s>" % (rcpt, addr(rcpt)),
        "Subject: " + subject.capitalize(),
        "Message-ID: <%d.%08x@example.net>" % (i, rng.getrandbits(32)),
        "MIME-Version: 1.0",
    ]
    text = []
    for _ in range(rng.randint(2, 8)):
        text += _para(rng, rng.randint(2, 9)) + [""]
    for _ in range(rng.randint(0, 2)):
        text.insert(rng.randrange(len(text)), "." + rng.choice(WORDS))
    if i % 5:
        hdr.append("Content-Type: text/plain; charset=us-ascii")
        body = text
    else:
        import base64
        blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(1500, 4000)))
        b64 = base64.encodebytes(blob).decode().splitlines()
        bnd = "=_bench_%08x" % rng.getrandbits(32)
        hdr.append('Content-Type: multipart/mixed; boundary="%s"' % bnd)
        body = (["This is a multi-part message in MIME format.", "",
                 "--" + bnd, "Content-Type: text/plain; charset=us-ascii", ""]
                + text + ["--" + bnd,
                          "Content-Type: application/octet-stream",
                          'Content-Disposition: attachment; filename="d%d.bin"'
                          % i, "Content-Transfer-Encoding: base64", ""]
                + b64 + ["--" + bnd + "--"])
    return ("\n".join(hdr) + "\n\n" + "\n".join(body) + "\n").encode()


def make_seed_maildir(path, count):
    """count messages in new/, names and mtimes increasing with the index,
    so both servers number them in the same order."""
    rng = random.Random(SEED)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub))
    base = 1735689600  # 2025-01-01
    total = 0
    for i in range(count):
        when = base + 60 * i
        data = make_message(rng, i, when)
        total += len(data)
        # S= and W= (size with CRLF line ends) as Dovecot's and Loft's own
        # deliveries write them, so neither server has to read a file to
        # learn its POP3 size
        name = "%d.M%06dP1.bench.example.org,S=%d,W=%d" % (
            when, i, len(data), len(data) + data.count(b"\n"))
        f = os.path.join(path, "new", name)
        with open(f, "wb") as fh:
            fh.write(data)
        os.utime(f, (when, when))
    return total


def fresh_copies(seed, mail_root, users):
    """Replace each user's Maildir under mail_root with a copy of seed."""
    for u in users:
        home = os.path.join(mail_root, u)
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)
        shutil.copytree(seed, os.path.join(home, "Maildir"))
        for root, dirs, files in os.walk(home):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, MAIL_UID, MAIL_GID)
        os.chmod(home, 0o700)


def write_users(path, mail_root, users):
    with open(path, "w") as f:
        for u in users:
            f.write("%s:{PLAIN}%s:%d:%d::%s/%s::\n"
                    % (u, PASSWORD, MAIL_UID, MAIL_GID, mail_root, u))
    os.chmod(path, 0o644)


# -- the servers --------------------------------------------------------------


class Server:
    """One server under test: its temp dir, port, mail root and the Popen of
    its master running in the foreground in its own session."""

    def __init__(self, name, tmp):
        self.name = name
        self.dir = os.path.join(tmp, name)
        self.mail = os.path.join(self.dir, "mail")
        self.users = os.path.join(self.dir, "users")
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")
        os.makedirs(self.mail)
        os.chmod(self.dir, 0o755)
        os.chmod(self.mail, 0o755)

    def start(self, cmd):
        out = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=out, start_new_session=True)
        out.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), 2) as s:
                    if s.recv(512).startswith(b"+OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("%s did not start; its log:\n%s"
                           % (self.name, self.log_tail()))

    def log_tail(self):
        text = ""
        for p in (os.path.join(self.dir, "stdout.log"), self.log_path):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()[-3000:]
            except OSError:
                pass
        return text

    def pids(self):
        """The master and every process below it."""
        if self.proc is None:
            return []
        children = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            ppid = int(st[st.rfind(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(d))
        out, pending = [], [self.proc.pid]
        while pending:
            p = pending.pop()
            out.append(p)
            pending += children.get(p, [])
        return out

    def rss_kib(self):
        total = 0
        for p in self.pids():
            try:
                with open("/proc/%d/status" % p) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def cpu_secs(self):
        """utime+stime of the live processes of the tree plus cutime+cstime
        (what they got from children they reaped): CPU spent by the server,
        which load on a shared machine hardly changes."""
        ticks = 0
        for p in self.pids():
            try:
                with open("/proc/%d/stat" % p) as f:
                    st = f.read()
            except OSError:
                continue
            ticks += sum(int(x) for x in st[st.rfind(")") + 2:].split()[11:15])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc is None:
            return
        pids = self.pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        for p in pids:  # anything that outlived its master
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        self.proc = None


def start_loft(srv, build_dir):
    """Loft as root (privileged mode, as installed): pop3 only, no TLS,
    passwd-file, Maildir under the server's mail root."""
    bin_dir = os.path.join(srv.dir, "bin")  # loft-login must reach the binaries
    os.makedirs(bin_dir)
    for exe in LOFT_EXES:
        shutil.copy2(os.path.join(build_dir, "bin", exe), bin_dir)
    os.chmod(bin_dir, 0o755)
    for d in ("run", "state", "empty"):
        os.makedirs(os.path.join(srv.dir, d))
    conf = os.path.join(srv.dir, "loft.conf")
    with open(conf, "w") as f:
        f.write("""# written by bench/pop3/run.py
protocols = pop3
base_dir = {d}/run
state_dir = {d}/state
login_chroot = {d}/empty
libexec_dir = {d}/bin
log_path = {log}
log_level = info
ssl = no
passdb = passwd-file:{users}
mail_location = maildir:~/Maildir
disable_plaintext_auth = no
login_max_connections_per_ip = 1000
pop3_listen = 127.0.0.1:{port}
""".format(d=srv.dir, log=srv.log_path, users=srv.users, port=srv.port))
    srv.start([os.path.join(bin_dir, "loft-master"), "-F", "-c", conf])


def start_dovecot(srv):
    """Dovecot as root with its shipped defaults except what the test setup
    needs: pop3 only on a free loopback port, no TLS, plaintext allowed,
    passwd-file, state and sockets in the temp dir."""
    for d in ("run", "state"):
        os.makedirs(os.path.join(srv.dir, d))
    conf = os.path.join(srv.dir, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""# written by bench/pop3/run.py
protocols = pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = loft-bench-dovecot
log_path = {log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""".format(d=srv.dir, log=srv.log_path, users=srv.users, port=srv.port))
    srv.start(["dovecot", "-F", "-c", conf])


# -- the client ---------------------------------------------------------------


class Pop3:
    """A minimal, fast POP3 client over a raw socket (the client must not be
    the bottleneck: RETR reads in 64 KiB chunks and looks for the end)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.expect_ok(self.line())

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 2:]
                return out
            self.recv()

    def recv(self):
        data = self.s.recv(65536)
        if not data:
            raise RuntimeError("connection closed")
        self.buf += data

    @staticmethod
    def expect_ok(line):
        if not line.startswith(b"+OK"):
            raise RuntimeError("server said %r" % line[:200])
        return line

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.expect_ok(self.line())

    def multi(self, text):
        """A multi-line reply: (status line, body as sent, dot-stuffed)."""
        self.s.sendall(text.encode() + b"\r\n")
        first = self.expect_ok(self.line())
        if self.buf.startswith(b".\r\n"):
            self.buf = self.buf[3:]
            return first, b""
        pos = 0
        while True:
            i = self.buf.find(b"\r\n.\r\n", pos)
            if i >= 0:
                body, self.buf = self.buf[:i + 2], self.buf[i + 5:]
                return first, body
            pos = max(0, len(self.buf) - 4)
            self.recv()

    def close(self):
        self.s.close()


def session(port, user, keep=False):
    """login, STAT, RETR every message, QUIT; returns (bytes read, bodies)."""
    c = Pop3(port)
    try:
        c.cmd("USER " + user)
        c.cmd("PASS " + PASSWORD)
        count = int(c.cmd("STAT").split()[1])
        total, bodies = 0, []
        for n in range(1, count + 1):
            _, body = c.multi("RETR %d" % n)
            total += len(body)
            if keep:
                bodies.append(body)
        c.cmd("QUIT")
        # A session ends when the server closes the connection: the next
        # session of the same user must not race the end of this one.
        while c.s.recv(65536):
            pass
        return total, bodies
    finally:
        c.close()


def worker(port, user, start, deadline, results):
    """Sessions back to back from start until deadline (the last one that
    started before the deadline runs to its end)."""
    time.sleep(max(0.0, start - time.time()))
    done, nbytes, err = 0, 0, None
    try:
        while time.time() < deadline:
            nbytes += session(port, user)[0]
            done += 1
    except Exception as e:  # reported by the parent, which aborts the run
        err = "%s: %s" % (user, e)
    results.put((done, nbytes, time.time(), err))


def measure(srv, clients, duration):
    """One timed slice: sessions, bytes, seconds and peak summed RSS."""
    results = multiprocessing.Queue()
    start = time.time() + 0.5
    deadline = start + duration
    procs = [multiprocessing.Process(
        target=worker, args=(srv.port, "bench%d" % (k + 1), start, deadline,
                             results)) for k in range(clients)]
    for p in procs:
        p.start()
    cpu0 = srv.cpu_secs()
    peak = [srv.rss_kib()]
    stop = threading.Event()

    def sample():  # 5 Hz: cheap enough not to disturb a 2-core machine
        while not stop.wait(0.2):
            peak[0] = max(peak[0], srv.rss_kib())

    t = threading.Thread(target=sample)
    t.start()
    out = [results.get() for _ in procs]
    stop.set()
    t.join()
    for p in procs:
        p.join()
    time.sleep(0.2)  # let the last session's processes exit and be reaped
    cpu = srv.cpu_secs() - cpu0
    errs = [r[3] for r in out if r[3]]
    if errs:
        raise RuntimeError("%s: %s" % (srv.name, "; ".join(errs)))
    sessions = sum(r[0] for r in out)
    elapsed = max(r[2] for r in out) - start
    return {"sessions": sessions, "bytes": sum(r[1] for r in out),
            "secs": elapsed, "rss": peak[0] / 1024.0, "cpu": cpu}


def measure_interleaved(servers, clients, duration, rounds):
    """duration seconds per server, cut into rounds slices that alternate
    between the servers (order flipped each round), so a change in the load
    of a shared machine hits both alike. Returns per server: sessions/s,
    MB/s and the peak RSS over all slices."""
    tot = {s.name: {"sessions": 0, "bytes": 0, "secs": 0.0, "rss": 0.0,
                    "cpu": 0.0} for s in servers}
    for r in range(rounds):
        for s in (servers if r % 2 == 0 else servers[::-1]):
            m = measure(s, clients, duration / rounds)
            t = tot[s.name]
            for k in ("sessions", "bytes", "secs", "cpu"):
                t[k] += m[k]
            t["rss"] = max(t["rss"], m["rss"])
    return {name: {"sps": t["sessions"] / t["secs"],
                   "mbps": t["bytes"] / t["secs"] / 1e6, "rss": t["rss"],
                   "sessions": t["sessions"],
                   "cpu_ms": 1000.0 * t["cpu"] / max(1, t["sessions"])}
            for name, t in tot.items()}


# -- the run ------------------------------------------------------------------


def verify_same_bytes(servers):
    """Both servers must serve the same maildrop: RETR 1 byte-identical (the
    run stops otherwise); also counts how many of all messages match."""
    got = [session(s.port, "bench1", keep=True)[1] for s in servers]
    if len(got[0]) != len(got[1]):
        raise RuntimeError("message counts differ: %d vs %d"
                           % (len(got[0]), len(got[1])))
    if not got[0] or got[0][0] != got[1][0]:
        raise RuntimeError("RETR 1 differs between the servers")
    same = sum(1 for a, b in zip(*got) if a == b)
    log("RETR 1 byte-identical (%d bytes); %d of %d messages identical"
        % (len(got[0][0]), same, len(got[0])))
    return same, len(got[0])


def versions(build_dir):
    dv = subprocess.run(["dovecot", "--version"], capture_output=True,
                        text=True).stdout.strip()
    git = ["git", "-C", SRC]
    commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"dovecot": dv, "loft": commit + (" (+local changes)" if dirty else ""),
            "cpu": cpu, "nproc": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def table(rows):
    out = ["| metric | Loft | Dovecot | ratio Loft/Dovecot |",
           "| --- | ---: | ---: | ---: |"]
    for name, a, b, fmt in rows:
        out.append("| %s | %s | %s | %.2f |"
                   % (name, fmt % a, fmt % b, a / b if b else float("nan")))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(SRC, "build", "bench"))
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=25.0,
                    help="seconds of sessions per server and client count")
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternating slices each duration is cut into")
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--keep-tmp", action="store_true",
                    help="keep the temp dir (configs, logs) for inspection")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/pop3: run as root (installs packages, runs both "
                 "servers in their privileged mode)")
    counts = [int(x) for x in args.clients.split(",")]
    users = ["bench%d" % (k + 1) for k in range(max(counts))]
    build_dir = os.path.abspath(args.build_dir)
    if not args.no_install:
        ensure_dovecot()
    if not args.no_build:
        build_loft(build_dir)
    ensure_system_users()
    tmp = tempfile.mkdtemp(prefix="loft-bench-pop3-", dir="/tmp")
    os.chmod(tmp, 0o755)
    loft, dove = Server("loft", tmp), Server("dovecot", tmp)
    servers = [loft, dove]
    try:
        seed = os.path.join(tmp, "seed", "Maildir")
        size = make_seed_maildir(seed, args.messages)
        log("maildrop: %d messages, %d bytes" % (args.messages, size))
        for s in servers:
            write_users(s.users, s.mail, users)
            fresh_copies(seed, s.mail, users)
        start_loft(loft, build_dir)
        start_dovecot(dove)
        same = verify_same_bytes(servers)
        idle = [s.rss_kib() / 1024.0 for s in servers]
        res = {}
        load = [os.getloadavg()[0]]
        for n in counts:
            # fresh copies, then one untimed session per user: both servers
            # then time the same steady state (cur/, \Seen set, their own
            # index files written)
            for s in servers:
                fresh_copies(seed, s.mail, users[:n])
                for u in users[:n]:
                    session(s.port, u)
            log("%d client(s): %gs per server in %d alternating slices ..."
                % (n, args.duration, args.rounds))
            m = measure_interleaved(servers, n, args.duration, args.rounds)
            for s in servers:
                res[s.name, n] = m[s.name]
                log("  %s: %.2f sessions/s (%d sessions)"
                    % (s.name, m[s.name]["sps"], m[s.name]["sessions"]))
        load.append(os.getloadavg()[0])
        info = versions(build_dir)
    finally:
        for s in servers:
            s.stop()
        if args.keep_tmp:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for n in counts:
        rows.append(("sessions/s, %d client%s" % (n, "s" if n > 1 else ""),
                     res["loft", n]["sps"], res["dovecot", n]["sps"], "%.2f"))
    for n in counts:
        rows.append(("RETR MB/s, %d client%s" % (n, "s" if n > 1 else ""),
                     res["loft", n]["mbps"], res["dovecot", n]["mbps"], "%.1f"))
    for n in counts:
        rows.append(("server CPU ms per session, %d client%s"
                     % (n, "s" if n > 1 else ""), res["loft", n]["cpu_ms"],
                     res["dovecot", n]["cpu_ms"], "%.1f"))
    rows.append(("RSS MiB, idle after first session", idle[0], idle[1], "%.1f"))
    for n in counts:
        rows.append(("peak RSS MiB, %d client%s" % (n, "s" if n > 1 else ""),
                     res["loft", n]["rss"], res["dovecot", n]["rss"], "%.1f"))
    print("\nPOP3 benchmark, %s" % info["date"])
    print("machine: %s CPU(s), %s; 1-min load average %.1f at the start, "
          "%.1f at the end" % (info["nproc"], info["cpu"], load[0], load[1]))
    print("Loft %s, Dovecot %s" % (info["loft"], info["dovecot"]))
    print("maildrop: %d messages, %d bytes; %d of %d identical over RETR; "
          "%gs per server and client count in %d slices\n"
          % (args.messages, size, same[0], same[1], args.duration,
             args.rounds))
    print(table(rows))
    print("\nsessions/s and MB/s: ratio > 1 means Loft is faster; CPU and "
          "RSS: ratio > 1 means Loft uses more.")


if __name__ == "__main__":
    main()
