#!/usr/bin/env python3
"""bench/smtp/run.py: SMTP messages per second, Loft against Postfix (local
delivery through Dovecot's LMTP), for an operator to run by hand as root
(never part of ctest). See bench/README.md for what it measures and how to
run it.

Steps: install postfix and dovecot-core + dovecot-lmtpd if missing (services
kept from starting), build Loft, start a local SMTP sink, Loft (smtpd, queue,
relay, mailstore's LMTP) and Postfix from a private config directory
delivering local mail to a Dovecot LMTP instance, both relaying remote mail
to the sink through relayhost; check one message of each kind arrives on
both; then time submissions of ~4 KB messages with 1 and 10 clients (one
connection per client, or a new connection per message) until the last
message is in the Maildir or at the sink, alternating slices between the
servers, while counting their CPU time and sampling their summed RSS. Prints
a table, stops everything and removes the temp dir.
"""

import argparse
import multiprocessing
import os
import shutil
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import (SRC, PeakRss, Server, build_loft,  # noqa: E402
                      ensure_dovecot, ensure_postfix, ensure_system_users,
                      fresh_copies, free_port, log, messages, start_loft, table, versions,
                      write_users)

LOFT_EXES = ["loft-master", "loft-auth", "loft-mailstore", "loft-smtpd",
             "loft-queue", "loft-relay"]
SEED = 5321  # RFC 5321: the message generator's fixed seed
DOMAIN = "bench.test"  # local on both servers
REMOTE = "remote.test"  # relayed to the sink
SENDER = "sender@client.test"


# -- the messages ---------------------------------------------------------------


def message_pool(n, seed):
    """n generated messages of about 4 KB (3.5-4.7 KB), as DATA payloads:
    CRLF line ends, dot-stuffed, without the final dot line. Also returns the
    first one as a Maildir holds it (LF line ends, not stuffed)."""
    pool, plain = [], None
    for _, _, data in messages(20 * n, seed):
        # the generator writes Maildir files: their Return-Path is the
        # delivering server's to add (Postfix drops one sent in a message)
        if data.startswith(b"Return-Path:"):
            data = data[data.index(b"\n") + 1:]
        if not 3500 <= len(data) <= 4700:
            continue
        if plain is None:
            plain = data
        lines = data.split(b"\n")[:-1]
        stuffed = [b"." + x if x.startswith(b".") else x for x in lines]
        pool.append(b"\r\n".join(stuffed) + b"\r\n")
        if len(pool) == n:
            return pool, plain
    raise RuntimeError("the generator gave too few ~4 KB messages")


# -- the client -------------------------------------------------------------------


class Smtp:
    """A minimal SMTP client over a raw socket, one command at a time (no
    pipelining, as most submitting clients)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        self.reply(b"220")
        self.cmd(b"EHLO client.test", b"250")

    def reply(self, want):
        """Read one (possibly multi-line) reply; it must start with want."""
        while True:
            i = self.buf.find(b"\r\n")
            if i < 0:
                data = self.s.recv(65536)
                if not data:
                    raise RuntimeError("connection closed")
                self.buf += data
                continue
            line, self.buf = self.buf[:i], self.buf[i + 2:]
            if not line.startswith(want):
                raise RuntimeError("server said %r" % line[:200])
            if line[3:4] != b"-":
                return line

    def cmd(self, text, want):
        self.s.sendall(text + b"\r\n")
        return self.reply(want)

    def send(self, rcpt, payload):
        self.cmd(b"MAIL FROM:<%s>" % SENDER.encode(), b"250")
        self.cmd(b"RCPT TO:<%s>" % rcpt.encode(), b"250")
        self.cmd(b"DATA", b"354")
        self.s.sendall(payload + b".\r\n")
        self.reply(b"250")

    def quit(self):
        try:
            self.cmd(b"QUIT", b"221")
        finally:
            self.s.close()


def client(port, rcpt, payloads, per_message, start, results):
    """Send payloads to rcpt, on one connection or a new one per message;
    report (messages accepted, time of the last 250, error)."""
    time.sleep(max(0.0, start - time.time()))
    done, err, c = 0, None, None
    try:
        for p in payloads:
            if c is None:
                c = Smtp(port)
            c.send(rcpt, p)
            done += 1
            if per_message:
                c.quit()
                c = None
        if c is not None:
            c.quit()
    except Exception as e:  # reported by the parent, which aborts the run
        err = "%s: %s" % (rcpt, e)
    results.put((done, time.time(), err))


# -- the sink ---------------------------------------------------------------------


class SinkHandler(socketserver.StreamRequestHandler):
    """An SMTP server that accepts everything and counts messages; it
    advertises PIPELINING (and answers pipelined commands in order)."""

    def handle(self):
        w = self.wfile
        w.write(b"220 sink.test ESMTP\r\n")  # wfile is unbuffered
        rf = self.rfile
        while True:
            line = rf.readline(4096)
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                w.write(b"250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                        b"250-SIZE 52428800\r\n250 ENHANCEDSTATUSCODES\r\n")
            elif verb == b"DATA":
                w.write(b"354 go ahead\r\n")
                while True:
                    body = rf.readline(65536)
                    if not body:
                        return
                    if body == b".\r\n":
                        break
                with self.server.count.get_lock():
                    self.server.count.value += 1
                w.write(b"250 2.0.0 Ok: queued\r\n")
            elif verb == b"QUIT":
                w.write(b"221 2.0.0 Bye\r\n")
                return
            else:
                w.write(b"250 2.0.0 Ok\r\n")


class Sink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def run_sink(port, count, ready):
    srv = Sink(("127.0.0.1", port), SinkHandler)
    srv.count = count
    ready.set()
    srv.serve_forever()


# -- the servers ------------------------------------------------------------------


class Postfix(Server):
    """Postfix from a private config directory, started with `postfix -c
    DIR start` (its master puts itself in the background: the tree is
    found from its pid file) and stopped with `postfix -c DIR stop`."""

    def __init__(self, tmp):
        Server.__init__(self, "postfix", tmp)
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.master = None

    def root_pid(self):
        return self.master

    def start_postfix(self, lmtp_socket, sink_port):
        os.makedirs(self.conf)
        os.makedirs(self.queue)  # root-owned; postfix makes what is below
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN.format(d=self.dir, q=self.queue, domain=DOMAIN,
                                        lmtp=lmtp_socket, sink=sink_port,
                                        log=self.log_path))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER.format(port=self.port))
        out = open(os.path.join(self.dir, "stdout.log"), "w")
        r = subprocess.run(["postfix", "-c", self.conf, "start"],
                           stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        out.close()
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        deadline = time.time() + 20
        while r.returncode == 0 and time.time() < deadline:
            try:
                with open(pidfile) as f:
                    self.master = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
            if self.master and self.answers(b"220 "):
                return
            time.sleep(0.1)
        raise RuntimeError("postfix did not start; its log:\n" + self.log_tail())

    def stop(self):
        if self.master is None:
            return
        pids = self.pids()
        subprocess.run(["postfix", "-c", self.conf, "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline and os.path.exists("/proc/%d" % self.master):
            time.sleep(0.1)
        for p in pids:  # anything that outlived its master
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        self.master = None


POSTFIX_MAIN = """# written by bench/smtp/run.py
compatibility_level = 3.6
queue_directory = {q}
data_directory = {d}/data
maillog_file = {log}
maillog_file_prefixes = {d}
myhostname = mx.{domain}
mydomain = {domain}
myorigin = $mydomain
mydestination = {domain}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
relayhost = [127.0.0.1]:{sink}
local_recipient_maps =
alias_maps =
alias_database =
mailbox_transport = lmtp:unix:{lmtp}
biff = no
append_dot_mydomain = no
"""

# Postfix's shipped master.cf services, none chrooted (the private instance
# has no copy of /etc in its queue directory), smtpd on the benchmark's port.
POSTFIX_MASTER = """# written by bench/smtp/run.py
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60  1 pickup
cleanup   unix  n - n -   0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -   - trivial-rewrite
bounce    unix  - - n -   0 bounce
defer     unix  - - n -   0 bounce
trace     unix  - - n -   0 bounce
verify    unix  - - n -   1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -   - proxymap
proxywrite unix - - n -   1 proxymap
smtp      unix  - - n -   - smtp
relay     unix  - - n -   - smtp
showq     unix  n - n -   - showq
error     unix  - - n -   - error
retry     unix  - - n -   - error
discard   unix  - - n -   - discard
local     unix  - n n -   - local
lmtp      unix  - - n -   - lmtp
anvil     unix  - - n -   1 anvil
scache    unix  - - n -   1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def start_dovecot_lmtp(srv):
    """Dovecot's LMTP alone, shipped defaults except what the setup needs:
    passwd-file users (the address's domain stripped), the LMTP socket in
    the temp dir open to Postfix's lmtp client, no inet listener."""
    for d in ("run", "state"):
        os.makedirs(os.path.join(srv.dir, d))
    conf = os.path.join(srv.dir, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""# written by bench/smtp/run.py
protocols = lmtp
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = loft-bench-dovecot-lmtp
log_path = {log}
ssl = no
first_valid_uid = 1
mail_location = maildir:~/Maildir
postmaster_address = postmaster@{domain}
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%n {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {users}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
""".format(d=srv.dir, log=srv.log_path, users=srv.users, domain=DOMAIN))
    sock = os.path.join(srv.dir, "run", "lmtp")
    srv.start(["dovecot", "-F", "-c", conf], b"220 ", unix=sock)
    return sock


class Side:
    """What is measured for one side: several servers whose CPU and RSS are
    summed (Postfix + Dovecot), the SMTP port of the first."""

    def __init__(self, name, servers):
        self.name = name
        self.servers = servers
        self.port = servers[0].port
        self.mail = servers[-1].mail

    def rss_kib(self):
        return sum(s.rss_kib() for s in self.servers)

    def cpu_secs(self):
        return sum(s.cpu_secs() for s in self.servers)


# -- measuring ----------------------------------------------------------------------


def maildir_count(mail, users):
    n = 0
    for u in users:
        try:
            n += len(os.listdir(os.path.join(mail, u, "Maildir", "new")))
        except FileNotFoundError:
            pass
    return n


def clear_maildirs(mail, users):
    for u in users:
        d = os.path.join(mail, u, "Maildir", "new")
        for n in os.listdir(d) if os.path.isdir(d) else []:
            os.unlink(os.path.join(d, n))


def measure(side, sc, per_client, pool, sink_count, timeout):
    """One timed slice of scenario sc: clients send per_client messages
    each; returns messages, seconds to the last 250 and to the last
    delivery, CPU seconds and peak RSS."""
    users = ["bench%d" % (k + 1) for k in range(sc["clients"])]
    total = per_client * sc["clients"]
    if sc["relay"]:
        with sink_count.get_lock():
            sink_count.value = 0
        delivered = lambda: sink_count.value  # noqa: E731
    else:
        clear_maildirs(side.mail, users)
        delivered = lambda: maildir_count(side.mail, users)  # noqa: E731
    results = multiprocessing.Queue()
    start = time.time() + 0.3
    procs = []
    for k, u in enumerate(users):
        rcpt = "%s@%s" % (u if not sc["relay"] else "user%d" % (k + 1),
                          REMOTE if sc["relay"] else DOMAIN)
        payloads = [pool[(k * per_client + i) % len(pool)]
                    for i in range(per_client)]
        procs.append(multiprocessing.Process(target=client, args=(
            side.port, rcpt, payloads, sc["per_message"], start, results)))
    for p in procs:
        p.start()
    cpu0 = side.cpu_secs()
    sampler = PeakRss([side])
    try:
        time.sleep(max(0.0, start - time.time()))
        deadline = start + timeout
        while delivered() < total and time.time() < deadline:
            time.sleep(0.01)
        t_delivered = time.time()
        out = [results.get(timeout=max(1.0, deadline - time.time()))
               for _ in procs]
    finally:
        peak = sampler.stop()[side.name]
        for p in procs:
            p.join(timeout=5)
    errs = [r[2] for r in out if r[2]]
    if errs:
        raise RuntimeError("%s: %s" % (side.name, "; ".join(errs[:3])))
    got = delivered()
    if got != total:
        raise RuntimeError("%s: %d of %d messages delivered after %ds"
                           % (side.name, got, total, timeout))
    time.sleep(0.2)  # let the last processes exit and be reaped
    return {"n": total, "acc_secs": max(r[1] for r in out) - start,
            "del_secs": t_delivered - start, "cpu": side.cpu_secs() - cpu0,
            "rss": peak / 1024.0}


def measure_interleaved(sides, sc, per_client, rounds, pool, sink_count,
                        timeout):
    tot = {s.name: {"n": 0, "acc_secs": 0.0, "del_secs": 0.0, "cpu": 0.0,
                    "rss": 0.0} for s in sides}
    for r in range(rounds):
        for s in (sides if r % 2 == 0 else sides[::-1]):
            m = measure(s, sc, per_client, pool, sink_count, timeout)
            t = tot[s.name]
            for k in ("n", "acc_secs", "del_secs", "cpu"):
                t[k] += m[k]
            t["rss"] = max(t["rss"], m["rss"])
    return {name: {"acc": t["n"] / t["acc_secs"], "del": t["n"] / t["del_secs"],
                   "cpu_ms": 1000.0 * t["cpu"] / t["n"], "cpu": t["cpu"],
                   "rss": t["rss"], "n": t["n"]}
            for name, t in tot.items()}


def check_delivery(side, plain, pool, sink_count):
    """One local and one relayed message through side: the local one must
    be in bench1's Maildir ending with the message as sent (the servers add
    their trace headers in front), the relayed one must reach the sink."""
    users = ["bench1"]
    clear_maildirs(side.mail, users)
    with sink_count.get_lock():
        sink_count.value = 0
    c = Smtp(side.port)
    c.send("bench1@" + DOMAIN, pool[0])
    c.send("user1@" + REMOTE, pool[0])
    c.quit()
    deadline = time.time() + 30
    while time.time() < deadline and (maildir_count(side.mail, users) < 1
                                      or sink_count.value < 1):
        time.sleep(0.05)
    if maildir_count(side.mail, users) != 1 or sink_count.value != 1:
        raise RuntimeError("%s: test message not delivered (Maildir %d, "
                           "sink %d)" % (side.name, maildir_count(
                               side.mail, users), sink_count.value))
    d = os.path.join(side.mail, "bench1", "Maildir", "new")
    with open(os.path.join(d, os.listdir(d)[0]), "rb") as f:
        stored = f.read()
    if not stored.endswith(plain):
        raise RuntimeError("%s: the stored message does not end with the "
                           "message sent:\n%r" % (side.name, stored[:600]))
    added = stored[:len(stored) - len(plain)]
    clear_maildirs(side.mail, users)
    return len(added)


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.9 * len(xs)))]


def postfix_version():
    r = subprocess.run(["postconf", "-d", "-h", "mail_version"],
                       capture_output=True, text=True)
    return r.stdout.strip()


# -- the run --------------------------------------------------------------------------

SCENARIOS = [
    {"name": "local, %d client%s, many messages per connection",
     "relay": False, "per_message": False},
    {"name": "local, %d client%s, one message per connection",
     "relay": False, "per_message": True},
    {"name": "relayed to sink, %d client%s, many messages per connection",
     "relay": True, "per_message": False},
    {"name": "relayed to sink, %d client%s, one message per connection",
     "relay": True, "per_message": True},
]

# what the strace part counts (rename: any of its three system calls)
SYSCALLS = ["fsync", "fdatasync", "rename", "renameat", "renameat2"]


def latency(side, pool, n):
    """n local messages one at a time (1 client, one connection): for each,
    the time from the 250 after its dot until its file is in bench1's
    Maildir new/ (polled every 0.5 ms); the next is sent only then. Returns
    the latencies in ms."""
    users = ["bench1"]
    clear_maildirs(side.mail, users)
    new = os.path.join(side.mail, "bench1", "Maildir", "new")
    c = Smtp(side.port)
    out = []
    try:
        for k in range(n):
            c.send("bench1@" + DOMAIN, pool[k % len(pool)])
            t0 = time.perf_counter()
            deadline = time.time() + 30
            while len(os.listdir(new)) <= k:
                if time.time() > deadline:
                    raise RuntimeError("%s: message %d not in the Maildir "
                                       "after 30 s" % (side.name, k + 1))
                time.sleep(0.0005)
            out.append(1000.0 * (time.perf_counter() - t0))
    finally:
        c.quit()
    clear_maildirs(side.mail, users)
    return out


def strace_counts(side, sc, n, pool, sink_count, workdir):
    """strace -c -f on every process of side (and what they fork) while
    one client sends n messages of scenario sc on one connection and they
    are delivered; returns {syscall: calls per message}."""
    pids = [p for srv in side.servers for p in srv.pids()]
    out = os.path.join(workdir, "strace-%s-%s.txt"
                       % (side.name, "relay" if sc["relay"] else "local"))
    cmd = ["strace", "-c", "-f", "-o", out,
           "-e", "trace=" + ",".join(SYSCALLS)]
    for p in pids:
        cmd += ["-p", str(p)]
    st = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    time.sleep(1.0 + 0.01 * len(pids))  # let strace attach to all of them
    try:
        measure(side, dict(sc, clients=1), n, pool, sink_count, 120)
        time.sleep(0.5)  # the queue's last bookkeeping after the delivery
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(timeout=30)
    calls = {k: 0 for k in SYSCALLS}
    with open(out) as f:
        for line in f:
            v = line.split()
            if len(v) >= 5 and v[-1] in calls and v[3].isdigit():
                calls[v[-1]] += int(v[3])
    return {k: x / n for k, x in calls.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(SRC, "build", "bench"))
    ap.add_argument("--messages", type=int, default=200,
                    help="messages per slice (split among the clients)")
    ap.add_argument("--rounds", type=int, default=4,
                    help="alternating slices per server and scenario")
    ap.add_argument("--clients", default="1,10")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds a slice may take before the run fails")
    ap.add_argument("--latency-messages", type=int, default=50,
                    help="messages sent one at a time for the latency rows")
    ap.add_argument("--strace-messages", type=int, default=50,
                    help="messages of the strace runs (0: skip them)")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--keep-tmp", action="store_true",
                    help="keep the temp dir (configs, logs) for inspection")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/smtp: run as root (installs packages, runs the "
                 "servers in their privileged mode)")
    counts = [int(x) for x in args.clients.split(",")]
    users = ["bench%d" % (k + 1) for k in range(max(counts))]
    build_dir = os.path.abspath(args.build_dir)
    if not args.no_install:
        ensure_postfix()
        ensure_dovecot("lmtp")
    if not args.no_build:
        build_loft(build_dir, LOFT_EXES)
    ensure_system_users()
    pool, plain = message_pool(100, SEED)
    tmp = tempfile.mkdtemp(prefix="loft-bench-smtp-", dir="/tmp")
    os.chmod(tmp, 0o755)
    loft = Server("loft", tmp)
    postfix = Postfix(tmp)
    dove = Server("dovecot", tmp)
    sides = [Side("loft", [loft]), Side("postfix", [postfix, dove])]
    sink_count = multiprocessing.Value("l", 0)
    sink_port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink,
                                   args=(sink_port, sink_count, ready))
    sink.start()
    try:
        if not ready.wait(10):
            raise RuntimeError("the sink did not start")
        for s in (loft, dove):
            write_users(s.users, s.mail, users)
            fresh_copies(None, s.mail, users)  # empty homes of the mail user
        start_loft(loft, build_dir, "smtp", LOFT_EXES, extra={
            "myhostname": "mx." + DOMAIN, "mydomains": DOMAIN,
            "mynetworks": "127.0.0.0/8", "postmaster_user": "bench1",
            "relayhost": "[127.0.0.1]:%d" % sink_port,
            "smtpd_max_connections_per_ip": 1000})
        lmtp = start_dovecot_lmtp(dove)
        postfix.start_postfix(lmtp, sink_port)
        added = {s.name: check_delivery(s, plain, pool, sink_count)
                 for s in sides}
        log("test messages delivered by both; header bytes added in the "
            "Maildir: loft %d, postfix+dovecot %d"
            % (added["loft"], added["postfix"]))
        idle = [s.rss_kib() / 1024.0 for s in sides]
        load = [os.getloadavg()[0]]
        lat = {s.name: [] for s in sides}
        log("latency: %d messages one at a time per side ..."
            % args.latency_messages)
        for r in range(2):  # two halves, alternating
            for s in (sides if r == 0 else sides[::-1]):
                lat[s.name] += latency(s, pool, args.latency_messages // 2)
        for s in sides:
            log("  %s: median %.1f ms, p90 %.1f ms"
                % (s.name, statistics.median(lat[s.name]), p90(lat[s.name])))
        counts_sc = {}
        if args.strace_messages and shutil.which("strace"):
            for sc in (SCENARIOS[0], SCENARIOS[2]):
                for s in sides:
                    log("strace: %s, %s, %d messages ..."
                        % (s.name, "relayed" if sc["relay"] else "local",
                           args.strace_messages))
                    counts_sc[s.name, sc["relay"]] = strace_counts(
                        s, sc, args.strace_messages, pool, sink_count, tmp)
        elif args.strace_messages:
            log("strace not found: the system call rows are skipped")
        res = []
        for sc in SCENARIOS:
            for n in counts:
                name = sc["name"] % (n, "s" if n > 1 else "")
                per_client = max(1, args.messages // n)
                log("%s: %d messages per slice, %d slice(s) per server ..."
                    % (name, per_client * n, args.rounds))
                m = measure_interleaved(sides, dict(sc, clients=n), per_client,
                                        args.rounds, pool, sink_count,
                                        args.timeout)
                for s in sides:
                    log("  %s: %.1f accepted/s, %.1f delivered/s"
                        % (s.name, m[s.name]["acc"], m[s.name]["del"]))
                res.append((name, m))
        load.append(os.getloadavg()[0])
        info = versions(build_dir)
    finally:
        for s in (postfix, dove, loft):
            try:
                s.stop()
            except Exception as e:  # stop the others all the same
                log("stopping %s: %s" % (s.name, e))
        sink.terminate()
        sink.join()
        if args.keep_tmp:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for name, m in res:
        a, b = m["loft"], m["postfix"]
        rows += [("%s: accepted/s" % name, a["acc"], b["acc"], "%.1f"),
                 ("%s: delivered/s" % name, a["del"], b["del"], "%.1f")]
    for name, m in res:
        rows.append(("%s: server CPU ms per message" % name,
                     m["loft"]["cpu_ms"], m["postfix"]["cpu_ms"], "%.2f"))
    rows.append(("server CPU s, all timed slices",
                 sum(m["loft"]["cpu"] for _, m in res),
                 sum(m["postfix"]["cpu"] for _, m in res), "%.2f"))
    rows.append(("accept-to-Maildir latency, median ms (%d messages, one at "
                 "a time)" % len(lat["loft"]), statistics.median(lat["loft"]),
                 statistics.median(lat["postfix"]), "%.1f"))
    rows.append(("accept-to-Maildir latency, p90 ms", p90(lat["loft"]),
                 p90(lat["postfix"]), "%.1f"))
    for relay in (False, True):
        if ("loft", relay) not in counts_sc:
            continue
        a, b = counts_sc["loft", relay], counts_sc["postfix", relay]
        where = "relayed" if relay else "local"
        for k in ("fsync", "fdatasync"):
            rows.append(("%s per message, %s" % (k, where), a[k], b[k],
                         "%.2f"))
        ren = lambda c: c["rename"] + c["renameat"] + c["renameat2"]  # noqa: E731
        rows.append(("rename/renameat/renameat2 per message, %s" % where,
                     ren(a), ren(b), "%.2f"))
    rows.append(("RSS MiB, idle after the test messages", idle[0], idle[1],
                 "%.1f"))
    for name, m in res:
        rows.append(("%s: peak RSS MiB" % name, m["loft"]["rss"],
                     m["postfix"]["rss"], "%.1f"))
    print("\nSMTP benchmark, %s" % info["date"])
    print("machine: %s CPU(s), %s; 1-min load average %.1f at the start, "
          "%.1f at the end" % (info["nproc"], info["cpu"], load[0], load[1]))
    print("Loft %s; Postfix %s with Dovecot %s (LMTP)"
          % (info["loft"], postfix_version(), info["dovecot"]))
    print("messages: ~4 KB (%d-%d bytes), %d per slice, %d slices per server "
          "and scenario; Postfix+Dovecot counted together\n"
          % (min(len(p) for p in pool), max(len(p) for p in pool),
             args.messages, args.rounds))
    print(table(rows, ("Loft", "Postfix")))
    print("\naccepted/s and delivered/s: ratio > 1 means Loft is faster; CPU "
          "and RSS: ratio > 1 means Loft uses more.")


if __name__ == "__main__":
    main()
