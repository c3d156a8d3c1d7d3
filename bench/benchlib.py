"""bench/benchlib.py: what the side-by-side benchmarks under bench/ share
(bench/pop3/run.py, bench/imap/run.py, bench/smtp/run.py): installing
Dovecot's and Postfix's packages without starting their services, building
Loft, the system users, the seeded message
generator and Maildir copies, starting and stopping both servers from temp
dirs on free loopback ports, sampling their CPU time and summed RSS, and the
result table. Run by hand as root, never part of ctest; see bench/README.md.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MAIL_UID = MAIL_GID = 5000  # the virtual mail user of both servers
PASSWORD = "bench-secret"
LOFT_SYSTEM_USERS = ["loft-login", "loft-smtp", "loft-queue"]


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# -- setup: packages, build, users -------------------------------------------


def ensure_dovecot(proto):
    """Install Dovecot's server for proto ("pop3", "imap" or "lmtp") from
    Debian if missing. If this run installed it, the system service is
    stopped and disabled, so nothing is left listening on 110/143/993/995."""
    if shutil.which("dovecot") and os.path.exists("/usr/lib/dovecot/" + proto):
        return
    install_packages(["dovecot-core", "dovecot-%sd" % proto], "bench/%s" % proto)
    stop_system_service("dovecot", ["dovecot.socket", "dovecot.service"])


def ensure_postfix():
    """Install Postfix from Debian if missing, with debconf told "No
    configuration" (no /etc/postfix/main.cf written, nothing set up); the
    system service is stopped and disabled afterwards. The benchmark runs
    its own instance from a private config directory."""
    if shutil.which("postfix") and shutil.which("postconf"):
        return
    install_packages(["postfix"], "bench/smtp", preseed=[
        "postfix postfix/main_mailer_type select No configuration"])
    stop_system_service("postfix", ["postfix.service"])


def install_packages(pkgs, who, preseed=()):
    """apt-get install pkgs non-interactively (apt-get update and a retry
    when the first attempt fails). A temporary /usr/sbin/policy-rc.d (exit
    101) keeps the packages' own services from starting; an existing one is
    left alone and used as is. preseed: debconf-set-selections lines."""
    guard = "/usr/sbin/policy-rc.d"
    made_guard = not os.path.exists(guard)
    if made_guard:
        with open(guard, "w") as f:
            f.write("#!/bin/sh\n# written by loft %s/run.py\nexit 101\n" % who)
        os.chmod(guard, 0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        if preseed:
            run(["debconf-set-selections"], input="\n".join(preseed) + "\n",
                text=True, env=env)
        log("installing " + " ".join(pkgs))
        r = subprocess.run(["apt-get", "install", "-y"] + pkgs, env=env)
        if r.returncode != 0:
            run(["apt-get", "update"], env=env)
            run(["apt-get", "install", "-y"] + pkgs, env=env)
    finally:
        if made_guard:
            os.unlink(guard)


def stop_system_service(name, units):
    """Stop and disable a package's system service (systemd units, else its
    init script), after an install that policy-rc.d kept from starting it."""
    if os.path.isdir("/run/systemd/system") and shutil.which("systemctl"):
        for unit in units:
            subprocess.run(["systemctl", "disable", "--now", unit],
                           stderr=subprocess.DEVNULL)
    elif os.path.exists("/etc/init.d/" + name):
        subprocess.run(["/etc/init.d/" + name, "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def build_loft(build_dir, exes):
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        run(["cmake", "-S", SRC, "-B", build_dir,
             "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], stdout=subprocess.DEVNULL)
    log("building Loft in " + build_dir)
    run(["cmake", "--build", build_dir, "-j%d" % (os.cpu_count() or 2),
         "--target"] + exes, stdout=subprocess.DEVNULL)


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


# -- the messages and Maildirs ------------------------------------------------

WORDS = ("the of and to in is that for it as with was on be by this are from "
         "at or an have not which but all were when we there can more if "
         "mail server queue message delivery header body folder index lock "
         "session login client network report meeting budget draft review "
         "release schedule invoice quarterly update proposal deadline").split()
NAMES = ["Alice Martin", "Bob Chen", "Carol Diaz", "Dave Okafor", "Erin Smith",
         "Frank Novak", "Grace Kim", "Heidi Larsen", "Ivan Petrov", "Judy Ng"]
MAILDIR_EPOCH = 1735689600  # 2025-01-01: the first message's date


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


def messages(count, seed):
    """(index, arrival time, bytes) of count generated messages: the same
    seed gives the same messages."""
    rng = random.Random(seed)
    for i in range(count):
        when = MAILDIR_EPOCH + 60 * i
        yield i, when, make_message(rng, i, when)


def make_seed_maildir(path, count, seed):
    """count messages in new/, names and mtimes increasing with the index,
    so both servers number them in the same order. Returns the total size."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub))
    total = 0
    for i, when, data in messages(count, seed):
        total += len(data)
        # S= and W= (size with CRLF line ends) as Dovecot's and Loft's own
        # deliveries write them, so neither server has to read a file to
        # learn its size
        name = "%d.M%06dP1.bench.example.org,S=%d,W=%d" % (
            when, i, len(data), len(data) + data.count(b"\n"))
        f = os.path.join(path, "new", name)
        with open(f, "wb") as fh:
            fh.write(data)
        os.utime(f, (when, when))
    return total


def fresh_copies(seed, mail_root, users):
    """Replace each user's home under mail_root with a copy of the seed
    Maildir (seed None: an empty home, the server creates the Maildir)."""
    for u in users:
        home = os.path.join(mail_root, u)
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)
        if seed is not None:
            shutil.copytree(seed, os.path.join(home, "Maildir"))
        for root, dirs, files in os.walk(home):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, MAIL_UID, MAIL_GID)
        os.chmod(home, 0o700)


def password_hash():
    """PASSWORD as a {SHA512-CRYPT} hash ($6$, crypt(3)'s default 5,000
    rounds, a fresh salt): what both servers check at every login, so
    neither gets the cheaper {PLAIN} comparison."""
    out = subprocess.run(["openssl", "passwd", "-6", "-stdin"], check=True,
                         input=PASSWORD + "\n", capture_output=True,
                         text=True).stdout.strip()
    if not out.startswith("$6$"):
        raise RuntimeError("openssl passwd -6 gave %r" % out)
    return "{SHA512-CRYPT}" + out


def write_users(path, mail_root, users):
    """A passwd-file both servers read: SHA512-CRYPT passwords (one salt
    per user), uid/gid 5000, home under mail_root."""
    with open(path, "w") as f:
        for u in users:
            f.write("%s:%s:%d:%d::%s/%s::\n"
                    % (u, password_hash(), MAIL_UID, MAIL_GID, mail_root, u))
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

    def start(self, cmd, greeting, unix=None):
        """Run cmd and wait until the port (or the UNIX socket unix) answers
        with greeting."""
        out = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=out, start_new_session=True)
        out.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            if self.answers(greeting, unix):
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not start; its log:\n%s"
                           % (self.name, self.log_tail()))

    def answers(self, greeting, unix=None):
        """True if a connection to the port (or to unix) gets greeting."""
        try:
            if unix:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(2)
                s.connect(unix)
            else:
                s = socket.create_connection(("127.0.0.1", self.port), 2)
            with s:
                return s.recv(512).startswith(greeting)
        except OSError:
            return False

    def log_tail(self):
        text = ""
        for p in (os.path.join(self.dir, "stdout.log"), self.log_path):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()[-3000:]
            except OSError:
                pass
        return text

    def root_pid(self):
        """The server's master process (None when it is not running)."""
        return self.proc.pid if self.proc is not None else None

    def pids(self):
        """The master and every process below it."""
        root = self.root_pid()
        if root is None:
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
        out, pending = [], [root]
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

    def pss_kib(self, pids=None):
        """Summed PSS (/proc/PID/smaps_rollup) of pids, default the whole
        tree: a page shared by n processes counts 1/n for each, so the sum
        is the memory the tree really holds."""
        total = 0
        for p in self.pids() if pids is None else pids:
            try:
                with open("/proc/%d/smaps_rollup" % p) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
            except OSError:
                pass
        return total

    def comm_pids(self, comm):
        """The tree's processes whose /proc/PID/comm is comm."""
        out = []
        for p in self.pids():
            try:
                with open("/proc/%d/comm" % p) as f:
                    if f.read().strip() == comm:
                        out.append(p)
            except OSError:
                pass
        return out

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


class PeakRss:
    """Samples the summed RSS of some servers 5 times a second (cheap enough
    not to disturb a 2-core machine) from its creation until stop();
    peak[name] is the highest sum seen, in KiB."""

    def __init__(self, servers):
        self.servers = list(servers)
        self.peak = {s.name: s.rss_kib() for s in self.servers}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.2):
            for s in self.servers:
                self.peak[s.name] = max(self.peak[s.name], s.rss_kib())

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


GREETING = {"pop3": b"+OK", "imap": b"* OK", "smtp": b"220 "}


def start_loft(srv, build_dir, proto, exes, extra=None):
    """Loft as root (privileged mode, as installed): proto only, no TLS,
    passwd-file, Maildir under the server's mail root; extra: more config
    keys."""
    bin_dir = os.path.join(srv.dir, "bin")  # loft-login must reach the binaries
    os.makedirs(bin_dir)
    for exe in exes:
        shutil.copy2(os.path.join(build_dir, "bin", exe), bin_dir)
    os.chmod(bin_dir, 0o755)
    for d in ("run", "state", "empty"):
        os.makedirs(os.path.join(srv.dir, d))
    conf = os.path.join(srv.dir, "loft.conf")
    with open(conf, "w") as f:
        extra = dict(extra or {})
        f.write("protocols = %s\n" % extra.pop("protocols", proto))
        f.write("""# written by bench/{proto}/run.py
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
{proto}_listen = 127.0.0.1:{port}
""".format(d=srv.dir, log=srv.log_path, users=srv.users, port=srv.port,
           proto=proto))
        for k, v in (extra or {}).items():
            f.write("%s = %s\n" % (k, v))
    srv.start([os.path.join(bin_dir, "loft-master"), "-F", "-c", conf],
              GREETING[proto])


# Dovecot's documented high-performance mode (its wiki, "Login processes"):
# login processes serve many connections each and two wait ready; an imap or
# pop3 process serves up to 100 sessions, one after the other.
DOVECOT_HP = """service {proto}-login {{
  service_count = 0
  process_min_avail = 2
}}
service {proto} {{
  service_count = 100
}}
"""


def start_dovecot(srv, proto, hp=False, extra=""):
    """Dovecot as root with its shipped defaults except what the test setup
    needs: proto only on a free loopback port, no TLS, plaintext allowed,
    passwd-file (SHA512-CRYPT), state and sockets in the temp dir. hp: its
    high-performance mode (DOVECOT_HP) instead of the default
    high-security one (a new login process per connection). extra: more
    config text."""
    for d in ("run", "state"):
        os.makedirs(os.path.join(srv.dir, d))
    conf = os.path.join(srv.dir, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""# written by bench/{proto}/run.py
protocols = {proto}
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = loft-bench-{name}
log_path = {log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
service {proto}-login {{
  inet_listener {proto} {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener {proto}s {{
    port = 0
  }}
}}
""".format(d=srv.dir, log=srv.log_path, users=srv.users, port=srv.port,
           proto=proto, name=srv.name))
        if hp:
            f.write(DOVECOT_HP.format(proto=proto))
        f.write(extra)
    srv.start(["dovecot", "-F", "-c", conf], GREETING[proto])


# -- the report ---------------------------------------------------------------


def versions(build_dir):
    dv = subprocess.run(["dovecot", "--version"], capture_output=True,
                        text=True).stdout.strip()
    git = ["git", "-C", SRC]
    commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    # the last commit that changed Loft itself (anything outside bench/):
    # the benchmark scripts' own commits do not change what is measured
    code = subprocess.run(git + ["log", "-1", "--format=%h", "--", ".",
                                 ":(exclude)bench"],
                          capture_output=True, text=True).stdout.strip()
    code_dirty = subprocess.run(git + ["status", "--porcelain",
                                       "--untracked-files=no", "--", ".",
                                       ":(exclude)bench"],
                                capture_output=True, text=True).stdout.strip()
    if code != commit:
        commit += ", Loft's code as of %s%s" % (
            code, " plus local changes" if code_dirty else "")
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"dovecot": dv, "loft": commit + (" (+local changes)" if dirty else ""),
            "cpu": cpu, "nproc": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def table(rows, names=("Loft", "Dovecot")):
    out = ["| metric | %s | %s | ratio %s/%s |" % (names + names),
           "| --- | ---: | ---: | ---: |"]
    for name, a, b, fmt in rows:
        out.append("| %s | %s | %s | %.2f |"
                   % (name, fmt % a, fmt % b, a / b if b else float("nan")))
    return "\n".join(out)


def table_n(rows, names):
    """A table of one value per server and the ratio of the first server
    (Loft) to each other one: rows are (metric, [values], fmt); a value of
    None prints as "-" (not measured) and has no ratio."""
    others = names[1:]
    out = ["| metric | %s | %s |" % (" | ".join(names), " | ".join(
        "ratio %s/%s" % (names[0], o) for o in others)),
        "| --- |" + " ---: |" * (len(names) + len(others))]
    for name, vals, fmt in rows:
        cells = ["-" if v is None else fmt % v for v in vals]
        ratios = ["%.2f" % (vals[0] / v) if vals[0] is not None and v
                  else "-" for v in vals[1:]]
        out.append("| %s | %s | %s |" % (name, " | ".join(cells),
                                         " | ".join(ratios)))
    return "\n".join(out)


def interleave(servers, r):
    """The order of servers in round r: rotated by r and reversed every
    other pass, so each server goes first, last and in between equally
    often and a change in the load of a shared machine hits all alike."""
    n = len(servers)
    order = servers[r % n:] + servers[:r % n]
    return order[::-1] if (r // n) % 2 else order


def dovecot_pair(tmp):
    """The two Dovecot setups every comparison runs: Dovecot's default
    (high-security) mode and its high-performance mode."""
    return Server("dovecot", tmp), Server("dovecot-hp", tmp)


NAMES3 = ("Loft", "Dovecot", "Dovecot HP")
