#!/usr/bin/env python3
"""bench/pop3/run.py: POP3 sessions per second, Loft against Dovecot's pop3 on
the same 1,000-message Maildir, for an operator to run by hand as root (never
part of ctest). See bench/README.md for what it measures and how to run it.

Steps: install dovecot-core + dovecot-pop3d if missing (services kept from
starting), build Loft, write one seeded Maildir, give each server and each
client user its own fresh copy, start Loft and two Dovecots (its default
high-security mode and its high-performance mode) from temp dirs on free
loopback ports, check they serve identical bytes, time sessions
(USER/PASS, STAT, RETR every message, QUIT) with 1 and 8 clients, count the
servers' CPU time and sample their summed RSS, print a table, stop
everything and remove the temp dir.
"""

import argparse
import multiprocessing
import os
import shutil
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import (NAMES3, PASSWORD, SRC, PeakRss, Server,  # noqa: E402
                      build_loft, dovecot_pair, ensure_dovecot,
                      ensure_system_users, fresh_copies, interleave, log,
                      make_seed_maildir, start_dovecot, start_loft, table_n,
                      versions, write_users)

LOFT_EXES = ["loft-master", "loft-auth", "loft-pop3-login", "loft-mailstore"]
SEED = 1939  # RFC 1939: the message generator's fixed seed


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
    sampler = PeakRss([srv])
    out = [results.get() for _ in procs]
    peak = sampler.stop()[srv.name]
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
            "secs": elapsed, "rss": peak / 1024.0, "cpu": cpu}


def measure_interleaved(servers, clients, duration, rounds):
    """duration seconds per server, cut into rounds slices that alternate
    between the servers (benchlib.interleave), so a change in the load of a
    shared machine hits all alike. Returns per server: sessions/s, MB/s and
    the peak RSS over all slices."""
    tot = {s.name: {"sessions": 0, "bytes": 0, "secs": 0.0, "rss": 0.0,
                    "cpu": 0.0} for s in servers}
    for r in range(rounds):
        for s in interleave(servers, r):
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
    """All servers must serve the same maildrop: RETR 1 byte-identical (the
    run stops otherwise); also counts how many of all messages match on
    all of them."""
    got = [session(s.port, "bench1", keep=True)[1] for s in servers]
    if len(set(len(g) for g in got)) != 1:
        raise RuntimeError("message counts differ: %s"
                           % " vs ".join(str(len(g)) for g in got))
    if not got[0] or any(g[0] != got[0][0] for g in got[1:]):
        raise RuntimeError("RETR 1 differs between the servers")
    same = sum(1 for t in zip(*got) if all(x == t[0] for x in t[1:]))
    log("RETR 1 byte-identical (%d bytes); %d of %d messages identical"
        % (len(got[0][0]), same, len(got[0])))
    return same, len(got[0])


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
        ensure_dovecot("pop3")
    if not args.no_build:
        build_loft(build_dir, LOFT_EXES)
    ensure_system_users()
    tmp = tempfile.mkdtemp(prefix="loft-bench-pop3-", dir="/tmp")
    os.chmod(tmp, 0o755)
    loft = Server("loft", tmp)
    dove, dove_hp = dovecot_pair(tmp)
    servers = [loft, dove, dove_hp]
    try:
        seed = os.path.join(tmp, "seed", "Maildir")
        size = make_seed_maildir(seed, args.messages, SEED)
        log("maildrop: %d messages, %d bytes" % (args.messages, size))
        for s in servers:
            write_users(s.users, s.mail, users)
            fresh_copies(seed, s.mail, users)
        start_loft(loft, build_dir, "pop3", LOFT_EXES)
        start_dovecot(dove, "pop3")
        start_dovecot(dove_hp, "pop3", hp=True)
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
    pl = lambda n: "%d client%s" % (n, "s" if n > 1 else "")  # noqa: E731
    col = lambda n, k: [res[s.name, n][k] for s in servers]  # noqa: E731
    for n in counts:
        rows.append(("sessions/s, " + pl(n), col(n, "sps"), "%.2f"))
    for n in counts:
        rows.append(("RETR MB/s, " + pl(n), col(n, "mbps"), "%.1f"))
    for n in counts:
        rows.append(("server CPU ms per session, " + pl(n), col(n, "cpu_ms"),
                     "%.1f"))
    rows.append(("RSS MiB, idle after first session", idle, "%.1f"))
    for n in counts:
        rows.append(("peak RSS MiB, " + pl(n), col(n, "rss"), "%.1f"))
    print("\nPOP3 benchmark, %s" % info["date"])
    print("machine: %s CPU(s), %s; 1-min load average %.1f at the start, "
          "%.1f at the end" % (info["nproc"], info["cpu"], load[0], load[1]))
    print("Loft %s, Dovecot %s" % (info["loft"], info["dovecot"]))
    print("maildrop: %d messages, %d bytes; %d of %d identical over RETR; "
          "%gs per server and client count in %d slices\n"
          % (args.messages, size, same[0], same[1], args.duration,
             args.rounds))
    print(table_n(rows, NAMES3))
    print("\nsessions/s and MB/s: ratio > 1 means Loft is faster; CPU and "
          "RSS: ratio > 1 means Loft uses more.")


if __name__ == "__main__":
    main()
