#!/usr/bin/env python3
"""bench/imap/run.py: IMAP, Loft against Dovecot's imap on the same data, for
an operator to run by hand as root (never part of ctest). See
bench/README.md for what it measures and how to run it.

Steps: install dovecot-core + dovecot-imapd if missing (services kept from
starting), build Loft, write one seeded 10,000-message Maildir and give each
server a fresh copy, start both servers from temp dirs on free loopback
ports, check they serve the same count and bytes, warm both, then time
SELECT INBOX, FETCH 1:* (FLAGS), FETCH 1:* (ENVELOPE) and a UID FETCH of 100
full bodies, each on a fresh connection after login, alternating between the
servers, while counting their CPU time and sampling their summed RSS; then,
when imaptest is at hand, run its stress mode against each server on fresh
mailboxes. Prints tables, stops everything and removes the temp dir.
"""

import argparse
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import (NAMES3, PASSWORD, SRC, PeakRss, Server,  # noqa: E402
                      build_loft, dovecot_pair, ensure_dovecot,
                      ensure_system_users, fresh_copies, interleave, log,
                      make_seed_maildir, messages, start_dovecot, start_loft,
                      table_n, versions, write_users)

LOFT_EXES = ["loft-master", "loft-auth", "loft-imap-login", "loft-mailstore"]
SEED = 3501  # RFC 3501: the message generator's fixed seed
BIG_USER = "bench0"  # owns the big folder of part 1
SPREAD = 100  # full bodies fetched by the last operation of part 1
HDR_USER = "hdr"  # owns the 1,000-message folder of the session loop
HDR_MESSAGES = 1000
HDR_FETCH = "FETCH 1:* (FLAGS RFC822.SIZE BODY.PEEK[HEADER])"
# Dovecot allows 10 sessions per user and client address by default; the
# idle-session and session-loop parts open more for one user
DOVECOT_EXTRA = "mail_max_userip_connections = 1000\n"


# -- the client ---------------------------------------------------------------

LITERAL = re.compile(rb"\{(\d+)\}\r\n")


class Imap:
    """A minimal IMAP client over a raw socket that reads a response as fast
    as Python allows: it looks only for literals (skipped by their length)
    and the tagged line, so neither server is timed with a slow client."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = bytearray()
        self.tags = 0
        while b"\r\n" not in self.buf:
            self._recv()
        if not self.buf.startswith(b"* OK"):
            raise RuntimeError("greeting %r" % bytes(self.buf[:200]))
        del self.buf[:self.buf.find(b"\r\n") + 2]

    def _recv(self):
        data = self.s.recv(262144)
        if not data:
            raise RuntimeError("connection closed")
        self.buf += data

    def command(self, text):
        """Send one command and read its whole response; returns it (every
        untagged line and literal, then the tagged line) if the tagged line
        says OK, raises otherwise."""
        self.tags += 1
        tag = b"a%d" % self.tags
        self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        # Outside literals, "{n}" CRLF always starts a literal and CRLF tag SP
        # always starts the tagged line (quoted strings hold no CRLF).
        find = re.compile(rb"\{(\d+)\}\r\n|\r\n" + re.escape(tag) + rb" ")
        pos, start = 0, None
        while start is None:
            if pos == 0 and len(self.buf) <= len(tag):
                self._recv()
                continue
            if pos == 0 and self.buf.startswith(tag + b" "):
                start = 0
                break
            m = find.search(self.buf, pos)
            if m is None:
                pos = max(pos, len(self.buf) - 32)  # a match may straddle
                self._recv()
            elif m.group(1) is not None:
                pos = m.end() + int(m.group(1))
                while len(self.buf) < pos:
                    self._recv()
            else:
                start = m.start() + 2
        while True:
            end = self.buf.find(b"\r\n", start)
            if end >= 0:
                break
            self._recv()
        resp = bytes(self.buf[:end + 2])
        del self.buf[:end + 2]
        status = resp[start:end].split(b" ", 2)
        if len(status) < 2 or status[1] != b"OK":
            raise RuntimeError("%s -> %r" % (text[:60], resp[start:end][:300]))
        return resp

    def logout(self):
        """LOGOUT, then wait for the server to close the connection: the next
        connection of the same user must not race the end of this one."""
        try:
            self.command("LOGOUT")
            self.s.settimeout(10)
            while self.s.recv(65536):
                pass
        finally:
            self.s.close()


def login(port, user):
    c = Imap(port)
    c.command("LOGIN %s %s" % (user, PASSWORD))
    return c


def fetch_uids(resp):
    return [int(u) for u in re.findall(
        rb"\* \d+ FETCH \([^)]*?UID (\d+)", resp)]


def fetch_bodies(resp):
    """{sequence number: bytes} of the BODY[] literals in a FETCH response."""
    out, pos = {}, 0
    while True:
        m = LITERAL.search(resp, pos)
        if m is None:
            return out
        nl = resp.rfind(b"\r\n", pos, m.start())
        line = pos if nl < 0 else nl + 2
        h = re.match(rb"\* (\d+) FETCH \(.*BODY\[\] $", resp[line:m.start()])
        end = m.end() + int(m.group(1))
        if h:
            out[int(h.group(1))] = resp[m.end():end]
        pos = end


# -- part 1: operations on the big folder -------------------------------------

OPS = [  # (name, command; None: the UID FETCH of the spread messages)
    ("SELECT INBOX", "SELECT INBOX"),
    ("FETCH 1:* (FLAGS)", "FETCH 1:* (FLAGS)"),
    ("FETCH 1:* (ENVELOPE)", "FETCH 1:* (ENVELOPE)"),
    ("UID FETCH %d spread (BODY.PEEK[])" % SPREAD, None),
]


def inspect(srv):
    """Count, UIDs and the spread messages' bodies of the big folder."""
    c = login(srv.port, BIG_USER)
    try:
        sel = c.command("SELECT INBOX")
        m = re.search(rb"\* (\d+) EXISTS", sel)
        count = int(m.group(1)) if m else 0
        uids = fetch_uids(c.command("FETCH 1:* (UID)")) if count else []
        if len(uids) != count:
            raise RuntimeError("%s: %d UIDs for %d messages"
                               % (srv.name, len(uids), count))
        n = min(SPREAD, count)
        seqs = [1 + k * count // n for k in range(n)]
        uidset = ",".join(str(uids[q - 1]) for q in seqs)
        bodies = fetch_bodies(c.command("UID FETCH %s (BODY.PEEK[])" % uidset))
    finally:
        c.logout()
    return {"count": count, "seqs": seqs, "uidset": uidset, "bodies": bodies}


def verify_same(servers, info):
    """All servers must show the same count and serve the spread messages
    byte-identical (the run stops otherwise)."""
    a = info[servers[0].name]
    for s in servers[1:]:
        b = info[s.name]
        if a["count"] != b["count"] or a["seqs"] != b["seqs"]:
            raise RuntimeError("message counts differ: %d vs %d (%s)"
                               % (a["count"], b["count"], s.name))
        for q in a["seqs"]:
            if q not in a["bodies"] or a["bodies"].get(q) != b["bodies"].get(q):
                raise RuntimeError("BODY[] of message %d differs between %s "
                                   "and %s (or is missing)"
                                   % (q, servers[0].name, s.name))
    size = sum(len(x) for x in a["bodies"].values())
    log("%d messages on all; the %d spread messages byte-identical "
        "(%d bytes)" % (a["count"], len(a["seqs"]), size))
    return len(a["seqs"])


def one_op(srv, op, uidset):
    """One operation on a fresh connection after login (and SELECT, for the
    FETCHes); returns (seconds for the command, response bytes)."""
    name, cmd = OPS[op]
    if cmd is None:
        cmd = "UID FETCH %s (BODY.PEEK[])" % uidset
    c = login(srv.port, BIG_USER)
    try:
        if op > 0:
            c.command("SELECT INBOX")
        t0 = time.perf_counter()
        resp = c.command(cmd)
        secs = time.perf_counter() - t0
    finally:
        c.logout()
    return secs, len(resp)


def part1(servers, info, reps):
    """reps repetitions of every operation per server, the servers
    alternating (benchlib.interleave); CPU and peak RSS over all of it. Returns per server: median ms per op, bytes per op, CPU s, peak
    RSS MiB."""
    times = {(s.name, op): [] for s in servers for op in range(len(OPS))}
    nbytes = {}
    cpu0 = {s.name: s.cpu_secs() for s in servers}
    sampler = PeakRss(servers)
    try:
        for r in range(reps):
            for s in interleave(servers, r):
                for op in range(len(OPS)):
                    secs, n = one_op(s, op, info[s.name]["uidset"])
                    times[s.name, op].append(secs)
                    nbytes[s.name, op] = n
    finally:
        peak = sampler.stop()
    time.sleep(0.2)  # let the last session's processes exit and be reaped
    out = {}
    for s in servers:
        out[s.name] = {
            "ms": [1000.0 * statistics.median(times[s.name, op])
                   for op in range(len(OPS))],
            "bytes": [nbytes[s.name, op] for op in range(len(OPS))],
            "cpu": s.cpu_secs() - cpu0[s.name],
            "rss": peak[s.name] / 1024.0}
    return out


# -- the session loop and idle sessions (1,000-message folder) ---------------


def hdr_session(port):
    """login + EXAMINE + FETCH 1:* (FLAGS RFC822.SIZE BODY.PEEK[HEADER]) +
    LOGOUT (and the server's close); returns the FETCH response's size."""
    c = login(port, HDR_USER)
    try:
        c.command("EXAMINE INBOX")
        n = len(c.command(HDR_FETCH))
    finally:
        c.logout()
    return n


def hdr_worker(port, start, deadline, results):
    time.sleep(max(0.0, start - time.time()))
    done, err = 0, None
    try:
        while time.time() < deadline:
            hdr_session(port)
            done += 1
    except Exception as e:  # reported by the parent, which aborts the run
        err = str(e)
    results.put((done, time.time(), err))


def hdr_slice(srv, clients, secs):
    results = multiprocessing.Queue()
    start = time.time() + 0.3
    procs = [multiprocessing.Process(target=hdr_worker, args=(
        srv.port, start, start + secs, results)) for _ in range(clients)]
    for p in procs:
        p.start()
    cpu0 = srv.cpu_secs()
    out = [results.get() for _ in procs]
    for p in procs:
        p.join()
    time.sleep(0.2)
    errs = [r[2] for r in out if r[2]]
    if errs:
        raise RuntimeError("%s: %s" % (srv.name, "; ".join(errs[:3])))
    return (sum(r[0] for r in out), max(r[1] for r in out) - start,
            srv.cpu_secs() - cpu0)


def hdr_sessions(servers, clients, secs, rounds):
    """secs seconds of back-to-back header-fetch sessions per server, in
    rounds alternating slices; returns {name: (sessions/s, CPU ms per
    session)}."""
    tot = {s.name: [0, 0.0, 0.0] for s in servers}
    for r in range(rounds):
        for s in interleave(servers, r):
            n, t, cpu = hdr_slice(s, clients, secs / rounds)
            tot[s.name][0] += n
            tot[s.name][1] += t
            tot[s.name][2] += cpu
    return {k: (v[0] / v[1], 1000.0 * v[2] / max(1, v[0]))
            for k, v in tot.items()}


POST_LOGIN = {"loft": "loft-mailstore", "dovecot": "imap", "dovecot-hp": "imap"}


def idle_pss(srv, n):
    """n sessions of HDR_USER logged in (LOGIN only, no SELECT) and left
    idle: (PSS KiB per session as the delta of the whole tree / n, mean
    PSS KiB of the post-login processes that appeared or served them)."""
    time.sleep(0.5)
    before = srv.pss_kib()
    old = set(srv.comm_pids(POST_LOGIN[srv.name]))
    conns = []
    try:
        for _ in range(n):
            conns.append(login(srv.port, HDR_USER))
        time.sleep(1.0)
        after = srv.pss_kib()
        procs = srv.comm_pids(POST_LOGIN[srv.name])
        if srv.name == "loft":
            procs = [p for p in procs if p not in old]  # the session workers
        per_proc = srv.pss_kib(procs) / max(1, len(procs))
        nproc = len(procs)
    finally:
        for c in conns:
            try:
                c.logout()
            except Exception:
                pass
    log("  %s: %d idle sessions, tree PSS %d -> %d KiB, %d %s process(es)"
        % (srv.name, n, before, after, nproc, POST_LOGIN[srv.name]))
    return (after - before) / n, per_proc, nproc


# -- part 2: imaptest stress --------------------------------------------------


def find_imaptest(path):
    for p in ([path] if path else
              [shutil.which("imaptest"), "/tmp/imaptest-src/src/imaptest"]):
        if p and os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def write_mbox(path, count, seed):
    """The first count messages of the generator as an mbox for imaptest's
    APPENDs (no body line starts with "From ", so none needs quoting)."""
    with open(path, "wb") as f:
        for _, when, data in messages(count, seed):
            if data.startswith(b"From ") or b"\nFrom " in data:
                raise RuntimeError("message would need From-quoting")
            f.write(b"From bench@example.org %s\n"
                    % time.asctime(time.gmtime(when)).encode())
            f.write(data + b"\n")


# imaptest's state names (client-state.c), short as in its Totals: full
IMAPTEST_NAMES = dict(x.split("=") for x in (
    "Auth=AUTHENTICATE Logi=LOGIN List=LIST MCre=MCREATE MDel=MDELETE "
    "MSub=MSUBS Stat=STATUS Sele=SELECT UIDF=UIDFETCH Fetc=FETCH Fet2=FETCH2 "
    "Sear=SEARCH Sort=SORT Thre=THREAD Copy=COPY Stor=STORE Dele=DELETE "
    "Expu=EXPUNGE Appe=APPEND Noop=NOOP Chec=CHECK Logo=LOGOUT").split())


def parse_imaptest(stdout, results):
    """Per command (imaptest's state names): total count from the Totals
    lines of its stdout, average ms from the per-second rows of its output=
    file (count, timed count and msecs summed for each state shown in the
    Totals, in that order; the file's header line may name more states)."""
    lines = stdout.splitlines()
    try:
        i = lines.index("Totals:")
    except ValueError:
        raise RuntimeError("imaptest printed no Totals")
    short = lines[i + 1].split()
    counts = [int(x) for x in [l for l in lines[i + 2:] if l.strip()][-1].split()]
    if len(counts) != len(short):
        raise RuntimeError("cannot read imaptest's Totals")
    timed = [0] * len(short)
    msecs = [0] * len(short)
    with open(results) as f:
        for row in f.read().splitlines()[1:]:
            v = [int(x) for x in row.split("\t") if x != ""]
            if len(v) != 3 * len(short):
                raise RuntimeError("imaptest's output file does not match "
                                   "its Totals")
            for k in range(len(short)):
                timed[k] += v[3 * k + 1]
                msecs[k] += v[3 * k + 2]
    return [(IMAPTEST_NAMES.get(short[k], short[k]), counts[k],
             msecs[k] / timed[k] if timed[k] else None)
            for k in range(len(short))]


def stress(srv, imaptest, mbox, args, workdir):
    """One imaptest run against srv; its counts, errors, CPU and peak RSS."""
    results = os.path.join(workdir, "imaptest-%s.tsv" % srv.name)
    cmd = [imaptest, "host=127.0.0.1", "port=%d" % srv.port,
           "user=bench%d", "users=1-%d" % args.stress_users,
           "pass=" + PASSWORD, "mbox=" + mbox,
           "clients=%d" % args.stress_clients, "secs=%d" % args.stress_secs,
           "seed=%d" % SEED, "output=" + results]
    cmd += args.stress_extra.split()
    log("%s: %s" % (srv.name, " ".join(cmd[1:])))
    # an imaptest built against Debian's dovecot-dev finds libdovecot.so in
    # Dovecot's private library dir only when told
    env = dict(os.environ)
    if os.path.isdir("/usr/lib/dovecot"):
        env["LD_LIBRARY_PATH"] = ":".join(
            x for x in (env.get("LD_LIBRARY_PATH"), "/usr/lib/dovecot") if x)
    cpu0 = srv.cpu_secs()
    sampler = PeakRss([srv])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           errors="replace", cwd=workdir,
                           timeout=args.stress_secs + 120)
    finally:
        peak = sampler.stop()[srv.name]
    time.sleep(0.2)
    cpu = srv.cpu_secs() - cpu0
    for ext, text in (("out", p.stdout), ("err", p.stderr)):
        with open(os.path.join(workdir, "imaptest-%s.%s" % (srv.name, ext)),
                  "w") as f:
            f.write(text)
    # imaptest logs what it finds wrong through Dovecot's lib: "Error: ...",
    # "Fatal: ...", "Panic: ..." on stderr; stalled clients on stdout
    errors = [l for l in p.stderr.splitlines()
              if re.match(r"(Error|Fatal|Panic): ", l)]
    errors += [l.strip() for l in p.stdout.splitlines()
               if re.match(r" - \d+ stalled for ", l)]
    if p.returncode != 0:
        errors.append("imaptest exited with status %d" % p.returncode)
    try:
        cmds = parse_imaptest(p.stdout, results)
    except (RuntimeError, OSError, ValueError, IndexError) as e:
        cmds = []
        errors.append("%s; its stderr ends: %s" % (e, p.stderr[-500:].strip()))
    return {"cmds": cmds, "total": sum(c[1] for c in cmds),
            "errors": errors, "cpu": cpu, "rss": peak / 1024.0}


def part2(servers, imaptest, mbox, args, workdir):
    for s in servers:
        fresh_copies(None, s.mail, ["bench%d" % (k + 1)
                                    for k in range(args.stress_users)])
    out = {}
    for s in servers:
        out[s.name] = stress(s, imaptest, mbox, args, workdir)
        log("  %s: %d commands, %d error line(s)"
            % (s.name, out[s.name]["total"], len(out[s.name]["errors"])))
    return out


def stress_tables(res, secs, servers):
    rs = [res[s.name] for s in servers]
    logins = lambda r: sum(c[1] for c in r["cmds"] if c[0] == "LOGIN")  # noqa: E731
    rows = [("imaptest commands/s (all commands)",
             [r["total"] / secs for r in rs], "%.1f"),
            ("imaptest logins/s", [logins(r) / secs for r in rs], "%.1f"),
            ("errors printed by imaptest", [len(r["errors"]) for r in rs],
             "%d"),
            ("server CPU ms per 100 commands",
             [100000.0 * r["cpu"] / max(1, r["total"]) for r in rs], "%.1f"),
            ("peak RSS MiB during stress", [r["rss"] for r in rs], "%.1f")]
    out = [table_n(rows, NAMES3), "",
           "| imaptest command | %s | %s |" % (
               " | ".join(n + " count" for n in NAMES3),
               " | ".join(n + " ms/cmd" for n in NAMES3)),
           "| --- |" + " ---: |" * (2 * len(rs))]
    idx = [{c[0]: c for c in r["cmds"]} for r in rs]
    ms = lambda v: "-" if v is None else "%.1f" % v  # noqa: E731
    for name, _, _ in rs[0]["cmds"]:
        got = [d.get(name, (name, 0, None)) for d in idx]
        out.append("| %s | %s | %s |" % (
            name, " | ".join("%d" % g[1] for g in got),
            " | ".join(ms(g[2]) for g in got)))
    return "\n".join(out)


# -- the run ------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(SRC, "build", "bench"))
    ap.add_argument("--messages", type=int, default=10000,
                    help="messages in the folder of part 1")
    ap.add_argument("--reps", type=int, default=20,
                    help="timed repetitions of each operation per server")
    ap.add_argument("--hdr-clients", default="1,4",
                    help="client counts of the header-fetch session loop")
    ap.add_argument("--hdr-secs", type=float, default=10.0,
                    help="seconds of the session loop per server and count")
    ap.add_argument("--hdr-rounds", type=int, default=2,
                    help="alternating slices those seconds are cut into")
    ap.add_argument("--idle-sessions", type=int, default=100,
                    help="idle logged-in sessions for the PSS row")
    ap.add_argument("--imaptest", default=None,
                    help="imaptest binary (default: $PATH, then "
                    "/tmp/imaptest-src/src/imaptest)")
    ap.add_argument("--stress-secs", type=int, default=30)
    ap.add_argument("--stress-clients", type=int, default=10)
    ap.add_argument("--stress-users", type=int, default=10)
    ap.add_argument("--stress-mbox", type=int, default=1000,
                    help="messages in the mbox imaptest APPENDs from")
    ap.add_argument("--stress-extra", default="",
                    help="more imaptest arguments, e.g. no_pipelining")
    ap.add_argument("--no-stress", action="store_true",
                    help="skip part 2 (imaptest)")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--keep-tmp", action="store_true",
                    help="keep the temp dir (configs, logs) for inspection")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/imap: run as root (installs packages, runs the "
                 "servers in their privileged mode)")
    imaptest = None if args.no_stress else find_imaptest(args.imaptest)
    if imaptest is None and not args.no_stress:
        log("imaptest not found (%s): the stress part is skipped. Build it "
            "from https://github.com/dovecot/imaptest against dovecot-dev "
            "and pass --imaptest PATH"
            % (args.imaptest or "$PATH, /tmp/imaptest-src/src/imaptest"))
    hdr_counts = [int(x) for x in args.hdr_clients.split(",") if x]
    build_dir = os.path.abspath(args.build_dir)
    if not args.no_install:
        ensure_dovecot("imap")
    if not args.no_build:
        build_loft(build_dir, LOFT_EXES)
    ensure_system_users()
    tmp = tempfile.mkdtemp(prefix="loft-bench-imap-", dir="/tmp")
    os.chmod(tmp, 0o755)
    loft = Server("loft", tmp)
    dove, dove_hp = dovecot_pair(tmp)
    servers = [loft, dove, dove_hp]
    users = [BIG_USER, HDR_USER] + ["bench%d" % (k + 1)
                                    for k in range(args.stress_users)]
    sres = None
    try:
        seed = os.path.join(tmp, "seed", "Maildir")
        log("writing %d messages ..." % args.messages)
        size = make_seed_maildir(seed, args.messages, SEED)
        log("folder: %d messages, %d bytes" % (args.messages, size))
        hseed = os.path.join(tmp, "seed-hdr", "Maildir")
        hsize = make_seed_maildir(hseed, HDR_MESSAGES, SEED)
        for s in servers:
            write_users(s.users, s.mail, users)
            fresh_copies(seed, s.mail, [BIG_USER])
            fresh_copies(hseed, s.mail, [HDR_USER])
        start_loft(loft, build_dir, "imap", LOFT_EXES)
        start_dovecot(dove, "imap", extra=DOVECOT_EXTRA)
        start_dovecot(dove_hp, "imap", hp=True, extra=DOVECOT_EXTRA)
        info = {s.name: inspect(s) for s in servers}
        same = verify_same(servers, info)
        # one untimed pass: all then time the same steady state (messages
        # in cur/, each server's own index and cache files written)
        for s in servers:
            for op in range(len(OPS)):
                one_op(s, op, info[s.name]["uidset"])
            for _ in range(3):
                hdr_bytes = hdr_session(s.port)
        idle = [s.rss_kib() / 1024.0 for s in servers]
        load = [os.getloadavg()[0]]
        log("part 1: %d repetitions of %d operations per server ..."
            % (args.reps, len(OPS)))
        res = part1(servers, info, args.reps)
        for s in servers:
            log("  %s: %s ms" % (s.name, ", ".join(
                "%.1f" % x for x in res[s.name]["ms"])))
        hdr = {}
        for n in hdr_counts:
            log("header-fetch sessions, %d client(s): %gs per server ..."
                % (n, args.hdr_secs))
            hdr[n] = hdr_sessions(servers, n, args.hdr_secs, args.hdr_rounds)
            for s in servers:
                log("  %s: %.2f sessions/s" % (s.name, hdr[n][s.name][0]))
        log("%d idle sessions per server ..." % args.idle_sessions)
        pss = {s.name: idle_pss(s, args.idle_sessions) for s in servers}
        if imaptest:
            mbox = os.path.join(tmp, "append.mbox")
            write_mbox(mbox, args.stress_mbox, SEED)
            log("part 2: imaptest, %ds per server ..." % args.stress_secs)
            sres = part2(servers, imaptest, mbox, args, tmp)
        load.append(os.getloadavg()[0])
        vinfo = versions(build_dir)
    finally:
        for s in servers:
            s.stop()
        if args.keep_tmp:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    col = lambda f: [f(res[s.name]) for s in servers]  # noqa: E731
    rows = [("%s, median ms" % OPS[op][0], col(lambda r: r["ms"][op]), "%.1f")
            for op in range(len(OPS))]
    rows += [("server CPU s over part 1", col(lambda r: r["cpu"]), "%.2f"),
             ("RSS MiB, idle after warm-up", idle, "%.1f"),
             ("peak RSS MiB over part 1", col(lambda r: r["rss"]), "%.1f")]
    hrows = []
    for n in hdr_counts:
        pl = "%d client%s" % (n, "s" if n > 1 else "")
        hrows.append(("header-fetch sessions/s, " + pl,
                      [hdr[n][s.name][0] for s in servers], "%.2f"))
        hrows.append(("server CPU ms per session, " + pl,
                      [hdr[n][s.name][1] for s in servers], "%.1f"))
    hrows.append(("PSS KiB per idle session (tree delta / %d)"
                  % args.idle_sessions,
                  [pss["loft"][0], pss["dovecot"][0], None], "%.0f"))
    hrows.append(("PSS KiB per post-login process (Loft worker, Dovecot "
                  "imap)", [pss[s.name][1] for s in servers], "%.0f"))
    hrows.append(("post-login processes with %d sessions"
                  % args.idle_sessions, [pss[s.name][2] for s in servers],
                  "%d"))
    print("\nIMAP benchmark, %s" % vinfo["date"])
    print("machine: %s CPU(s), %s; 1-min load average %.1f at the start, "
          "%.1f at the end" % (vinfo["nproc"], vinfo["cpu"], load[0], load[1]))
    print("Loft %s, Dovecot %s (default mode, and high-performance mode as "
          "Dovecot HP); SHA512-CRYPT passwords on all"
          % (vinfo["loft"], vinfo["dovecot"]))
    print("part 1 folder: %d messages, %d bytes; same count on all, %d spread "
          "messages byte-identical; %d repetitions per operation and server, "
          "each on a fresh connection\n" % (args.messages, size, same,
                                              args.reps))
    print(table_n(rows, NAMES3))
    print("\nresponse bytes per operation (%s): " % " / ".join(NAMES3)
          + "; ".join("%s %s" % (OPS[op][0], " / ".join(
              "%d" % res[s.name]["bytes"][op] for s in servers))
              for op in range(len(OPS))))
    print("\nsession loop (LOGIN, EXAMINE, %s, LOGOUT) on a %d-message "
          "folder (%d bytes, FETCH response %d bytes), %gs per server and "
          "client count in %d slices; %d idle sessions logged in (no "
          "SELECT) on the same folder\n"
          % (HDR_FETCH, HDR_MESSAGES, hsize, hdr_bytes, args.hdr_secs,
             args.hdr_rounds, args.idle_sessions))
    print(table_n(hrows, NAMES3))
    print("\nms, CPU, PSS: ratio < 1 means Loft is faster / uses less; "
          "sessions/s: ratio > 1 means Loft is faster.")
    if sres is None:
        print("\nimaptest stress: skipped (%s)" % (
            "--no-stress" if args.no_stress else "imaptest not found"))
        return
    print("\nimaptest stress: %d clients, users bench1..bench%d (fresh, "
          "empty), %ds per server, APPENDs from a %d-message mbox, seed %d%s\n"
          % (args.stress_clients, args.stress_users, args.stress_secs,
             args.stress_mbox, SEED, (", " + args.stress_extra)
             if args.stress_extra else ""))
    print(stress_tables(sres, args.stress_secs, servers))
    print("\ncommands/s and counts: ratio > 1 means Loft did more.")
    for s in servers:
        errs = sres[s.name]["errors"]
        if errs:
            print("\n%s: imaptest printed %d error line(s), the first ones:"
                  % (s.name, len(errs)))
            for line in errs[:15]:
                print("  " + line[:300])


if __name__ == "__main__":
    main()
