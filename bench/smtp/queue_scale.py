#!/usr/bin/env python3
"""bench/smtp/queue_scale.py: Loft's queue with a large backlog of deferred
mail, for an operator to run by hand as root (never part of ctest). See
bench/README.md for what it measures and how to run it.

Steps: build Loft (and its test helper loft-spoolwrite), start the suite
(smtpd, queue, relay, mailstore) with its relayhost on a closed loopback
port, time local mail with the queue empty (accepted/s, delivered/s), stop
it, put --count deferred messages for remote recipients into its spool (the
record format of docs/queue.md, checked byte for byte against what
loft-spoolwrite writes), start it again and time until it has recovered
them and delivers again, then time the same local mail with the backlog
sitting there, and `loft queue list` and `mailq` printing it. Prints a
table, stops everything and removes the temp dir.
"""

import argparse
import importlib.util
import multiprocessing
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from benchlib import (SRC, Server, build_loft, ensure_system_users,  # noqa: E402
                      fresh_copies, free_port, log, start_loft, versions,
                      write_users)

_spec = importlib.util.spec_from_file_location("smtp_run",
                                               os.path.join(HERE, "run.py"))
smtp_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(smtp_run)

LOFT_EXES = smtp_run.LOFT_EXES + ["loft", "sendmail"]
DOMAIN = smtp_run.DOMAIN
SENDER = smtp_run.SENDER


# -- the spool format (docs/queue.md, smtpd/queue-record.c) -------------------

VERSION, ID, ARRIVAL, SNDR, RCPT, BODY, RSTATE, END = 1, 2, 3, 4, 9, 11, 12, 127
DEFERRED = 3


def rec(t, payload):
    return struct.pack(">BI", t, len(payload)) + payload


def with_end(data):
    return data + rec(END, struct.pack(">I", zlib.crc32(data) & 0xffffffff))


def spool_file(qid, arrival, sender, rcpt, body):
    out = (rec(VERSION, struct.pack(">I", 1)) + rec(ID, qid.encode())
           + rec(ARRIVAL, struct.pack(">q", arrival))
           + rec(SNDR, sender.encode()) + rec(RCPT, rcpt.encode()))
    for k in range(0, len(body), 65536):
        out += rec(BODY, body[k:k + 65536])
    return with_end(out)


def state_file(qid, attempts, last, nxt, error):
    v = struct.pack(">IBIqq", 0, DEFERRED, attempts, last, nxt)
    return with_end(rec(VERSION, struct.pack(">I", 1)) + rec(ID, qid.encode())
                    + rec(RSTATE, v + error.encode()))


def check_encoder(spoolwrite, body, workdir):
    """Write one message with loft-spoolwrite (the real queue_writer_*) and
    the same one with spool_file(): the run stops unless the bytes match."""
    d = os.path.join(workdir, "spoolcheck")
    os.makedirs(d)
    r = subprocess.run([spoolwrite, d, SENDER, "user0@remote.test"],
                       input=body, capture_output=True, check=True)
    qid, path = r.stdout.decode().split()
    with open(path, "rb") as f:
        real = f.read()
    # ARRIVAL is the third record: 5 + 4 (VERSION), 5 + 24 (ID), 5 header
    arrival = struct.unpack(">q", real[43:51])[0]
    mine = spool_file(qid, arrival, SENDER, "user0@remote.test", body)
    shutil.rmtree(d)
    if mine != real:
        raise RuntimeError("this script's spool encoder does not match "
                           "loft-spoolwrite (docs/queue.md changed?)")
    log("spool encoder checked against loft-spoolwrite (%d bytes)" % len(real))


def fill_worker(queue_dir, start, count, bodies, now, uid, gid):
    """Messages start..start+count-1 (their index picks id, recipient and
    body)."""
    rng = random.Random(start)
    us = now * 1000000
    for k in range(start, start + count):
        # ids sort in arrival order, as queue_id_new makes them
        qid = "%014x%04x%06x" % (us - 3600 * 1000000 + k, k & 0xffff,
                                 rng.getrandbits(24))
        body = bodies[k % len(bodies)]
        for sub, data in (
                ("deferred", spool_file(qid, now - 3600, SENDER,
                                        "user%d@remote.test" % (k % 1000),
                                        body)),
                ("state", state_file(qid, 1, now - 3600, now + 7200,
                                     "4.4.1 connection refused (bench)"))):
            p = os.path.join(queue_dir, sub, qid)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.fchown(fd, uid, gid)
            os.close(fd)


def fill(queue_dir, first, count, bodies, procs=4):
    """count deferred messages from index first on (one remote recipient
    each, first attempt an hour ago, next one in two hours) written straight
    into deferred/ and state/ with the queue stopped, no fsync; returns
    seconds."""
    st = os.stat(os.path.join(queue_dir, "deferred"))
    now = int(time.time())
    t0 = time.perf_counter()
    share = [count // procs + (1 if k < count % procs else 0)
             for k in range(procs)]
    ps, at = [], first
    for n in share:
        ps.append(multiprocessing.Process(target=fill_worker, args=(
            queue_dir, at, n, bodies, now, st.st_uid, st.st_gid)))
        at += n
    for p in ps:
        p.start()
    for p in ps:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError("writing the spool failed")
    subprocess.run(["sync"])
    return time.perf_counter() - t0


# -- measuring ----------------------------------------------------------------


def local_mail(side, pool, n, clients, sink_count):
    """n local messages from clients clients, one connection each: accepted/s
    and delivered/s (smtp/run.py's measure)."""
    m = smtp_run.measure(side, {"clients": clients, "relay": False,
                                "per_message": False},
                         max(1, n // clients), pool, sink_count, 600)
    return m["n"] / m["acc_secs"], m["n"] / m["del_secs"]


def timed_cmd(cmd):
    """(seconds, queue ids printed, bytes printed, error or None) of cmd."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=1800)
    secs = time.perf_counter() - t0
    err = None
    if p.returncode != 0:
        err = "exit %d: %s" % (p.returncode, p.stderr.decode(
            errors="replace").strip()[-200:])
        log("%s: %s" % (" ".join(os.path.basename(x) for x in cmd[:1])
                        + " " + " ".join(cmd[-2:]), err))
    return secs, queued_ids(p.stdout), len(p.stdout), err


def queued_ids(listing):
    return len(set(re.findall(rb"\b[0-9a-f]{24}\b", listing)))


def wait_log(srv, pattern, deadline):
    rx = re.compile(pattern)
    while time.time() < deadline:
        try:
            with open(srv.log_path, errors="replace") as f:
                m = rx.search(f.read())
            if m:
                return m
        except OSError:
            pass
        time.sleep(0.05)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(SRC, "build", "bench"))
    ap.add_argument("--count", type=int, default=100000,
                    help="deferred messages put into the queue")
    ap.add_argument("--messages", type=int, default=200,
                    help="local messages per measurement")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--probe", type=int, default=200,
                    help="deferred messages of a first, small listing")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--keep-tmp", action="store_true",
                    help="keep the temp dir (configs, logs) for inspection")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/smtp/queue_scale.py: run as root")
    build_dir = os.path.abspath(args.build_dir)
    if not args.no_build:
        build_loft(build_dir, LOFT_EXES + ["loft-spoolwrite"])
    ensure_system_users()
    users = ["bench%d" % (k + 1) for k in range(args.clients)]
    pool, _ = smtp_run.message_pool(100, smtp_run.SEED)
    tmp = tempfile.mkdtemp(prefix="loft-bench-qscale-", dir="/tmp")
    os.chmod(tmp, 0o755)
    loft = Server("loft", tmp)
    side = smtp_run.Side("loft", [loft])
    sink_count = multiprocessing.Value("l", 0)
    closed = free_port()  # nothing listens there: every relay attempt fails
    conf = os.path.join(loft.dir, "loft.conf")
    loft_cmd = lambda: [os.path.join(loft.dir, "bin", "loft"), "-c", conf]  # noqa: E731
    res = {}
    t_start = time.time()
    try:
        write_users(loft.users, loft.mail, users)
        fresh_copies(None, loft.mail, users)
        start_loft(loft, build_dir, "smtp", LOFT_EXES, extra={
            "myhostname": "mx." + DOMAIN, "mydomains": DOMAIN,
            "mynetworks": "127.0.0.0/8", "postmaster_user": "bench1",
            "relayhost": "[127.0.0.1]:%d" % closed,
            "smtpd_max_connections_per_ip": 1000})
        log("empty queue: %d local messages, %d clients ..."
            % (args.messages, args.clients))
        local_mail(side, pool, args.clients, args.clients, sink_count)  # warm
        res["empty"] = local_mail(side, pool, args.messages, args.clients,
                                  sink_count)
        res["list_empty"] = timed_cmd(loft_cmd() + ["queue", "list"])
        loft.stop()
        qdir = os.path.join(loft.dir, "state", "queue")
        bodies = [p[:-2].replace(b"\r\n..", b"\r\n.") + b"\r\n"
                  for p in pool[:20]]  # DATA payloads unstuffed, as spooled
        check_encoder(os.path.join(build_dir, "bin", "loft-spoolwrite"),
                      bodies[0], tmp)
        probe = min(args.probe, args.count)
        log("probe: %d deferred messages, then `loft queue list` ..." % probe)
        fill(qdir, 0, probe, bodies)
        start = lambda: loft.start([os.path.join(  # noqa: E731
            loft.dir, "bin", "loft-master"), "-F", "-c", conf], b"220 ")
        start()
        res["list_probe"] = timed_cmd(loft_cmd() + ["queue", "list"])
        loft.stop()
        log("writing %d more deferred messages into the spool ..."
            % (args.count - probe))
        res["fill"] = fill(qdir, probe, args.count - probe, bodies)
        log("  %.1f s" % res["fill"])
        # restart: until recovery is logged, until SMTP answers, until a
        # local message goes through (the scheduler has run over them all)
        with open(loft.log_path, "a") as f:
            f.write("--- bench: restart with %d deferred ---\n" % args.count)
        t0 = time.time()
        start()
        t_smtp = time.time() - t0
        m = wait_log(loft, r"--- bench: restart[^\n]*\n(?:.*\n)*?.*recovery: "
                     r"(\d+) messages", t0 + 1800)
        t_recovered = time.time() - t0
        res["recovered_n"] = int(m.group(1)) if m else None
        c = smtp_run.Smtp(loft.port)
        smtp_run.clear_maildirs(loft.mail, users[:1])
        c.send("bench1@" + DOMAIN, pool[0])
        c.quit()
        while smtp_run.maildir_count(loft.mail, users[:1]) < 1:
            if time.time() - t0 > 1800:
                raise RuntimeError("no local delivery 30 min after restart")
            time.sleep(0.01)
        res["restart"] = (t_recovered, t_smtp, time.time() - t0)
        log("  restart: recovery logged %.1f s, SMTP %.1f s, first local "
            "delivery %.1f s" % res["restart"])
        res["list"] = timed_cmd(loft_cmd() + ["queue", "list"])
        res["mailq"] = timed_cmd([os.path.join(loft.dir, "bin", "sendmail"),
                                  "-C", conf, "-bp"])
        log("full queue: %d local messages, %d clients ..."
            % (args.messages, args.clients))
        res["full"] = local_mail(side, pool, args.messages, args.clients,
                                 sink_count)
        vinfo = versions(build_dir)
        cpu = loft.cpu_secs()
    finally:
        loft.stop()
        if args.keep_tmp:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    n = "{:,}".format(args.count)
    print("\nLoft queue with %s deferred messages, %s (%.0f s)"
          % (n, vinfo["date"], time.time() - t_start))
    print("machine: %s CPU(s), %s" % (vinfo["nproc"], vinfo["cpu"]))
    print("Loft %s; relayhost on a closed loopback port; %d local messages "
          "per measurement from %d clients (one connection each); spool "
          "written in %.1f s; Loft CPU s at the end %.1f\n"
          % (vinfo["loft"], args.messages, args.clients, res["fill"], cpu))

    def listing(r):
        secs, ids, nbytes, err = r
        if err:
            return "fails after %.2f s (%s)" % (secs, err)
        return "%.2f s, %d ids, %d bytes" % (secs, ids, nbytes)

    print("| metric | empty queue | %s deferred | ratio |" % n)
    print("| --- | ---: | ---: | ---: |")
    for k, label in ((0, "local mail accepted/s"),
                     (1, "local mail delivered/s")):
        a, b = res["empty"][k], res["full"][k]
        print("| %s | %.1f | %.1f | %.2f |" % (label, a, b, b / a))
    print("| `loft queue list` | %s | %s | |"
          % (listing(res["list_empty"]), listing(res["list"])))
    print("| `mailq` (sendmail -bp) | | %s | |" % listing(res["mailq"]))
    print("| restart: until `recovery: N messages` is logged, s | | %.1f "
          "(N = %s) | |" % (res["restart"][0], res["recovered_n"]))
    print("| restart: until SMTP answers, s | | %.1f | |" % res["restart"][1])
    print("| restart: until a new local message is delivered, s | | %.1f | |"
          % res["restart"][2])
    print("\n`loft queue list` with %d deferred messages (the probe): %s"
          % (probe, listing(res["list_probe"])))


if __name__ == "__main__":
    main()
