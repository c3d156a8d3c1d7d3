#!/usr/bin/env python3
"""bench/imap/idle_memory.py: memory per idle logged-in IMAP session (issue
16), for an operator to run by hand as root (never part of ctest). See
bench/README.md, "imap/idle_memory.py".

For each INBOX size (default 1,000 and 10,000 messages) one user gets a
fresh seeded Maildir; N sessions (default 100) log in as that user (LOGIN
only, no SELECT) and stay idle. Printed per size and server: the PSS of the
whole process tree after minus before, divided by N; the mean PSS and
Private_Dirty of the post-login processes; and, for one Loft worker, where
its memory is (smaps grouped by mapping: heap, stack, anonymous, each
library's private pages). Dovecot (default and high-performance mode) is
measured too when it is installed; this script never installs it.
"""

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import (PASSWORD, SRC, Server, build_loft,  # noqa: E402
                      dovecot_pair, ensure_system_users, fresh_copies, log,
                      make_seed_maildir, start_dovecot, start_loft, versions,
                      write_users)

LOFT_EXES = ["loft-master", "loft-auth", "loft-imap-login", "loft-mailstore"]
SEED = 3501
POST_LOGIN = {"loft": "loft-mailstore", "dovecot": "imap", "dovecot-hp": "imap"}
DOVECOT_EXTRA = "mail_max_userip_connections = 1000\n"


def login(port, user):
    """A raw connection logged in as user; the reply is read to its end."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(4096)
    s.sendall(b"a LOGIN %s %s\r\n" % (user.encode(), PASSWORD.encode()))
    buf = b""
    while not (buf.startswith(b"a ") or b"\r\na " in buf) or not buf.endswith(b"\r\n"):
        data = s.recv(4096)
        if not data:
            raise RuntimeError("closed after LOGIN: %r" % buf[:200])
        buf += data
    if b"a OK" not in buf:
        raise RuntimeError("LOGIN %s: %r" % (user, buf[:200]))
    return s


def smaps_fields(pid, keys=("Pss", "Private_Dirty", "Rss")):
    out = dict.fromkeys(keys, 0)
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k = line.split(":")[0]
                if k in out:
                    out[k] = int(line.split()[1])
    except OSError:
        pass
    return out


def smaps_by_mapping(pid):
    """{mapping name: [Pss, Private_Dirty, Private_Clean] KiB}: the
    process's smaps summed per mapped file or kind."""
    groups, name = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                path = head[5] if len(head) > 5 else "[anon]"
                name = os.path.basename(path) if path.startswith("/") else path
                groups.setdefault(name, [0, 0, 0])
            elif head[0] in ("Pss:", "Private_Dirty:", "Private_Clean:"):
                i = ("Pss:", "Private_Dirty:", "Private_Clean:").index(head[0])
                groups[name][i] += int(head[1])
    return groups


def idle_run(srv, user, n):
    time.sleep(0.5)
    before = srv.pss_kib()
    old = set(srv.comm_pids(POST_LOGIN[srv.name]))
    conns = []
    try:
        for _ in range(n):
            conns.append(login(srv.port, user))
        time.sleep(1.0)
        after = srv.pss_kib()
        procs = srv.comm_pids(POST_LOGIN[srv.name])
        if srv.name == "loft":
            procs = [p for p in procs if p not in old]  # the session workers
        fields = [smaps_fields(p) for p in procs]
        breakdown = smaps_by_mapping(procs[-1]) if srv.name == "loft" and procs else None
    finally:
        for c in conns:
            try:
                c.sendall(b"z LOGOUT\r\n")
                c.close()
            except OSError:
                pass
    k = max(1, len(fields))
    return {"tree": (after - before) / n,
            "pss": sum(f["Pss"] for f in fields) / k,
            "dirty": sum(f["Private_Dirty"] for f in fields) / k,
            "nproc": len(fields), "breakdown": breakdown}


def print_breakdown(groups, top=12):
    rows = sorted(groups.items(), key=lambda kv: -kv[1][0])
    print("| mapping | Pss KiB | Private_Dirty KiB | Private_Clean KiB |")
    print("| --- | ---: | ---: | ---: |")
    for name, (pss, dirty, clean) in rows[:top]:
        print("| %s | %d | %d | %d |" % (name, pss, dirty, clean))
    rest = rows[top:]
    if rest:
        print("| (%d more) | %d | %d | %d |" % (
            len(rest), sum(v[0] for _, v in rest), sum(v[1] for _, v in rest),
            sum(v[2] for _, v in rest)))
    tot = [sum(v[i] for v in groups.values()) for i in range(3)]
    print("| total | %d | %d | %d |" % tuple(tot))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(SRC, "build", "bench"))
    ap.add_argument("--sizes", default="1000,10000",
                    help="INBOX sizes, one user each")
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-dovecot", action="store_true")
    ap.add_argument("--keep-tmp", action="store_true")
    ap.add_argument("--loft-set", action="append", default=[],
                    metavar="KEY=VALUE",
                    help="one more Loft config key (e.g. seccomp=no), repeatable")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/imap/idle_memory.py: run as root")
    sizes = [int(x) for x in args.sizes.split(",") if x]
    build_dir = os.path.abspath(args.build_dir)
    if not args.no_build:
        build_loft(build_dir, LOFT_EXES)
    ensure_system_users()
    have_dovecot = (not args.no_dovecot and shutil.which("dovecot") is not None
                    and os.path.exists("/usr/lib/dovecot/imap"))
    if not have_dovecot and not args.no_dovecot:
        log("dovecot not installed: measuring Loft only (this script "
            "installs nothing)")
    tmp = tempfile.mkdtemp(prefix="loft-bench-idle-", dir="/tmp")
    os.chmod(tmp, 0o755)
    servers = [Server("loft", tmp)]
    if have_dovecot:
        servers += list(dovecot_pair(tmp))
    users = ["idle%d" % n for n in sizes]
    res = {}
    load = [os.getloadavg()[0]]
    try:
        seeds = {}
        for n in sizes:
            seeds[n] = os.path.join(tmp, "seed%d" % n, "Maildir")
            make_seed_maildir(seeds[n], n, SEED)
        for s in servers:
            write_users(s.users, s.mail, users)
            for n, u in zip(sizes, users):
                fresh_copies(seeds[n], s.mail, [u])
        start_loft(servers[0], build_dir, "imap", LOFT_EXES,
                   extra=dict(kv.split("=", 1) for kv in args.loft_set))
        for s in servers[1:]:
            start_dovecot(s, "imap", hp=s.name == "dovecot-hp", extra=DOVECOT_EXTRA)
        for n, u in zip(sizes, users):
            for s in servers:
                # one session first: the first login creates the folders
                login(s.port, u).close()
                log("%s, INBOX %d: %d idle sessions ..." % (s.name, n, args.sessions))
                res[(s.name, n)] = idle_run(s, u, args.sessions)
        load.append(os.getloadavg()[0])
        vinfo = versions(build_dir) if have_dovecot else None
    finally:
        for s in servers:
            s.stop()
        if args.keep_tmp:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    import subprocess
    commit = subprocess.run(["git", "-C", SRC, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print("\nLoft %s, %s, nproc %d, load %.1f -> %.1f, %d sessions per size"
          % (commit, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             os.cpu_count(), load[0], load[-1], args.sessions))
    if vinfo:
        print("Dovecot " + vinfo["dovecot"])
    print("\n| server | INBOX messages | PSS KiB per session (tree delta / N) "
          "| PSS KiB per post-login process | Private_Dirty KiB per "
          "post-login process | post-login processes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        for s in servers:
            r = res[(s.name, n)]
            print("| %s | %d | %.0f | %.0f | %.0f | %d |" % (
                s.name, n, r["tree"], r["pss"], r["dirty"], r["nproc"]))
    for n in sizes:
        b = res[("loft", n)]["breakdown"]
        if b:
            print("\nOne Loft worker, INBOX %d, smaps by mapping:\n" % n)
            print_breakdown(b)


if __name__ == "__main__":
    main()
