#!/usr/bin/env python3
"""soak.py - the failover soak's fake upstreams and its timed client.

  soak.py serve PORTFILE SPEC...
      SPEC is live:ADDR or dead:ADDR.  Binds a UDP socket on ADDR port 0
      for each; writes "ADDR PORT" lines to PORTFILE once all are bound,
      then serves until SIGTERM and writes every query it got to
      PORTFILE.log ("EPOCH-SECONDS ADDR PEER NAME QTYPE").  A live server
      answers at once: first label starting with "n" -> NXDOMAIN + SOA;
      any other name: A -> one A record (TTL 300), other types -> NODATA
      + SOA.  A dead server is a bound socket that never answers.

  soak.py load TARGET --probe UPSTREAM [options]
      Asks TARGET (ADDR:PORT) for QPS mixed names for DURATION seconds
      and times every query on its own (send time to the kernel's
      receive timestamp of the answer).  See --help.
"""
import argparse
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux
ZONE = "soak.test"
T_A, T_AAAA, T_SOA, T_OPT = 1, 28, 6, 41


# ---- wire helpers -------------------------------------------------------

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(pkt):
    """(id, flags, qname bytes as on the wire, name str, qtype, end offset)"""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if qd != 1:
        return None
    i, labels = 12, []
    while i < len(pkt):
        n = pkt[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 4 > len(pkt):
        return None
    qtype, _ = struct.unpack("!HH", pkt[i:i + 4])
    return qid, flags, pkt[12:i], ".".join(labels), qtype, i + 4


def soa_rr():
    rdata = (encode_name("ns." + ZONE) + encode_name("host." + ZONE) +
             struct.pack("!IIIII", 1, 3600, 600, 86400, 300))
    return encode_name(ZONE) + struct.pack("!HHIH", T_SOA, 1, 300, len(rdata)) + rdata


def answer(pkt):
    q = parse_question(pkt)
    if not q or q[1] & 0x8000:
        return None
    qid, flags, qname, name, qtype, end = q
    has_opt = struct.unpack("!H", pkt[10:12])[0] > 0
    first = name.split(".")[0].lower()
    rflags = 0x8000 | 0x0400 | (flags & 0x0100)  # QR AA RD
    an, ns = [], []
    if first.startswith("n"):
        rflags |= 3
        ns.append(soa_rr())
    elif qtype == T_A:
        h = sum(name.lower().encode()) % 250 + 1
        an.append(b"\xc0\x0c" + struct.pack("!HHIH", T_A, 1, 300, 4) + bytes([192, 0, 2, h]))
    else:
        ns.append(soa_rr())
    ar = [b"\0" + struct.pack("!HHIH", T_OPT, 1232, 0, 0)] if has_opt else []
    hdr = struct.pack("!HHHHHH", qid, rflags, 1, len(an), len(ns), len(ar))
    return hdr + pkt[12:end] + b"".join(an + ns + ar)


def make_query(qid, name, qtype):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", qtype, 1)


# ---- serve ---------------------------------------------------------------

def serve(args):
    socks, lines, log = {}, [], []
    for spec in args.spec:
        kind, addr = spec.split(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((addr, 0))
        socks[s.fileno()] = (s, kind == "live", addr)
        lines.append("%s %d %s\n" % (addr, s.getsockname()[1], kind))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    tmp = args.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.rename(tmp, args.portfile)
    poll = select.poll()
    for fd in socks:
        poll.register(fd, select.POLLIN)
    deadline = time.monotonic() + args.max_time
    while not stop and time.monotonic() < deadline:
        try:
            ready = poll.poll(200)
        except InterruptedError:
            continue
        for fd, _ in ready:
            s, live, addr = socks[fd]
            while True:
                try:
                    pkt, peer = s.recvfrom(4096, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    break
                q = parse_question(pkt)
                if live:
                    r = answer(pkt)
                    if r:
                        s.sendto(r, peer)
                if q:
                    log.append("%.6f %s %s:%d %s %d\n" % (time.time(), addr, peer[0], peer[1],
                                                        q[3], q[4]))
    with open(args.portfile + ".log", "w") as f:
        f.writelines(log)


# ---- load ----------------------------------------------------------------

def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = max(0, min(len(sorted_ms) - 1, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def hostport(s):
    a, p = s.rsplit(":", 1)
    return a, int(p)


class Stream:
    """One UDP socket toward one server; queries matched by ID."""

    def __init__(self, target):
        self.addr = hostport(target)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.setblocking(False)
        self.pending = {}
        self.done = []
        self.ids = list(range(1, 65536))
        random.Random(os.getpid() ^ id(self)).shuffle(self.ids)

    def send(self, name, qtype, kind):
        qid = self.ids.pop()
        pkt = make_query(qid, name, qtype)
        t0 = time.time_ns()
        self.sock.sendto(pkt, self.addr)
        t1 = time.time_ns()
        self.pending[qid] = {"name": name, "qtype": qtype, "kind": kind, "t0": t0, "t1": t1}

    def receive(self):
        while True:
            try:
                pkt, anc, _, _ = self.sock.recvmsg(4096, 64)
            except (BlockingIOError, InterruptedError):
                return
            trx = None
            for lvl, typ, data in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(data) >= 16:
                    sec, nsec = struct.unpack("qq", data[:16])
                    trx = sec * 1000000000 + nsec
            if trx is None:
                trx = time.time_ns()
            if len(pkt) < 12:
                continue
            qid, flags, _, an = struct.unpack("!HHHH", pkt[:8])
            q = self.pending.get(qid)
            pq = parse_question(pkt)
            if not q or not pq or pq[3].lower() != q["name"].lower() or pq[4] != q["qtype"]:
                continue
            del self.pending[qid]
            q["trx"] = trx
            q["ms"] = (trx - q["t0"]) / 1e6
            q["rcode"] = flags & 0xF
            q["ancount"] = an
            self.done.append(q)


def expected_ok(q):
    if q["kind"] == "nx":
        return q["rcode"] == 3
    if q["kind"] == "nodata":
        return q["rcode"] == 0 and q["ancount"] == 0
    return q["rcode"] == 0 and q["ancount"] >= 1


def wait_one(stream, name, qtype, kind, timeout):
    stream.send(name, qtype, kind)
    end = time.monotonic() + timeout
    while stream.pending and time.monotonic() < end:
        select.select([stream.sock], [], [], 0.05)
        stream.receive()
    if stream.pending:
        stream.pending.clear()
        return None
    return stream.done.pop()


def load(args):
    import gc
    gc.disable()  # no collector pauses inside the timed loop
    tok = "%x%x" % (os.getpid() & 0xFFFF, int(time.time()) & 0xFFFFF)
    main = Stream(args.target)
    cache = Stream(args.target)
    probe = Stream(args.probe) if args.probe else None
    streams = [s for s in (main, cache, probe) if s]

    # the first search: may take phases (nothing is excluded yet); not timed
    warm = []
    for name, qt, kind in (("warm-%s.%s" % (tok, ZONE), T_A, "pos"),
                           ("cached-%s.%s" % (tok, ZONE), T_A, "pos")):
        r = wait_one(main, name, qt, kind, args.timeout)
        warm.append(None if r is None else round(r["ms"], 1))
    main.done.clear()
    cached_name = "cached-%s.%s" % (tok, ZONE)

    rnd = random.Random(args.seed)
    recent = []
    interval = 1.0 / args.qps
    t_start = time.monotonic()
    # a warm-up of load (untimed, the same for every server) lets a peer
    # that learns its servers' speed from traffic settle first
    window = [time.time() + args.warmup, time.time() + args.warmup + args.duration]
    nxt = {"main": t_start, "cache": t_start, "probe": t_start}
    step = {"main": interval, "cache": 1.0 / args.cache_qps, "probe": 1.0 / args.probe_qps}
    n = 0
    lateness = []
    while True:
        now = time.monotonic()
        if now - t_start >= args.warmup + args.duration:
            break
        due = min(nxt.values())
        if now >= due:
            if nxt["main"] <= now:
                lateness.append((now - nxt["main"]) * 1000)
                nxt["main"] += interval
                n += 1
                x = rnd.random()
                if x < args.repeat and recent:
                    name, qt, kind = rnd.choice(recent)
                else:
                    # fresh names: half positive, a quarter NXDOMAIN, a
                    # quarter NODATA (AAAA of a name that has only A)
                    y = (x - args.repeat) / (1 - args.repeat) if args.repeat < 1 else x
                    serial = "%s-%d" % (tok, n)
                    if y < 0.5:
                        name, qt, kind = "p" + serial + "." + ZONE, T_A, "pos"
                    elif y < 0.75:
                        name, qt, kind = "n" + serial + "." + ZONE, T_A, "nx"
                    else:
                        name, qt, kind = "p" + serial + "." + ZONE, T_AAAA, "nodata"
                    recent.append((name, qt, kind))
                    del recent[:-50]
                main.send(name, qt, kind)
            if nxt["cache"] <= now:
                nxt["cache"] += step["cache"]
                cache.send(cached_name, T_A, "pos")
            if probe and nxt["probe"] <= now:
                nxt["probe"] += step["probe"]
                probe.send("p-probe-%s-%d.%s" % (tok, n, ZONE), T_A, "pos")
            continue
        r, _, _ = select.select([s.sock for s in streams], [], [], max(0.0, due - now))
        for s in streams:
            s.receive()
    # the last answers
    end = time.monotonic() + args.timeout
    while any(s.pending for s in streams) and time.monotonic() < end:
        select.select([s.sock for s in streams], [], [], 0.05)
        for s in streams:
            s.receive()
    wall = time.monotonic() - t_start
    w0 = int(window[0] * 1e9)
    warmup = [q for q in main.done if q["t0"] < w0]
    warm.append({"n": len(warmup) + sum(1 for q in main.pending.values() if q["t0"] < w0),
                 "max": max((q["ms"] for q in warmup), default=0)})
    for st in streams:
        st.done = [q for q in st.done if q["t0"] >= w0]
        st.pending = {k: q for k, q in st.pending.items() if q["t0"] >= w0}
    return report(args, main, cache, probe, warm, lateness, wall, window)


def stats(qs):
    ms = sorted(q["ms"] for q in qs)
    return {"n": len(ms), "p50": pct(ms, 50), "p99": pct(ms, 99), "max": ms[-1] if ms else float("nan")}


def report(args, main, cache, probe, warm, lateness, wall, window):
    res = {"target": args.target, "label": args.label, "duration": args.duration, "qps": args.qps,
           "wall": round(wall, 1), "first_search_ms": warm[:2], "window": window,
           "warmup": {"seconds": args.warmup, "queries": warm[2]["n"],
                      "max_ms": round(warm[2]["max"], 1)}}
    sent = len(main.done) + len(main.pending)
    res["sent"] = sent
    res["answered"] = len(main.done)
    res["lost"] = len(main.pending)
    res["wrong_rcode"] = sum(1 for q in main.done if not expected_ok(q))
    res["all"] = stats(main.done)
    for kind in ("pos", "nx", "nodata"):
        res[kind] = stats([q for q in main.done if q["kind"] == kind])
    res["cache_probe"] = stats(cache.done)
    res["upstream_probe"] = stats(probe.done) if probe else None
    lat = sorted(lateness)
    res["client_send_lateness"] = {"p99": pct(lat, 99), "max": lat[-1] if lat else 0}

    # an answer slower than the limit is put down to the machine, not to
    # the server under test, only when the machine was stalled as long at
    # that moment: a query to the same server answered from its cache, or
    # one straight to the live upstream, in flight at the same time and
    # itself slow by nearly as much (within SLACK ms), or the client
    # stalled while sending it.
    slack = args.slack
    probes = list(cache.done) + (list(probe.done) if probe else [])
    slow, excused = [], []
    for q in main.done:
        if q["ms"] <= args.limit:
            continue
        stall = (q["t1"] - q["t0"]) / 1e6
        for p in probes:
            if p["t0"] < q["trx"] and p["trx"] > q["t0"]:
                stall = max(stall, p["ms"])
        rec = {"name": q["name"], "qtype": q["qtype"], "ms": round(q["ms"], 1),
               "at_s": round(q["t0"] / 1e9 - window[0], 2),
               "machine_stall_ms": round(stall, 1)}
        (excused if stall >= q["ms"] - slack else slow).append(rec)
    # the slowest answers, with what else was in flight at that moment
    # (the probes' worst time then), to tell where a tail comes from
    tail = []
    for q in sorted(main.done, key=lambda q: -q["ms"])[:args.tail]:
        near = [p["ms"] for p in probes if p["t0"] < q["trx"] and p["trx"] > q["t0"]]
        tail.append({"at_s": round(q["t0"] / 1e9 - window[0], 3), "kind": q["kind"],
                     "ms": round(q["ms"], 2), "send_ms": round((q["t1"] - q["t0"]) / 1e6, 2),
                     "probes_in_flight_max_ms": round(max(near), 2) if near else None})
    res["tail"] = tail
    if args.samples:
        # every timed answer (ms), to pool runs: bench/failover.sh
        res["samples"] = {"all": [round(q["ms"], 3) for q in main.done],
                          "probe": [round(q["ms"], 3) for q in probe.done] if probe else []}
    res["limit_ms"] = args.limit
    res["slow"] = slow
    res["excused"] = excused
    json.dump(res, sys.stdout if args.json == "-" else open(args.json, "w"), indent=1)
    if args.json != "-":
        summary(res)
    if args.check:
        bad = []
        if res["lost"]:
            bad.append("%d queries not answered within %g s" % (res["lost"], args.timeout))
        if res["wrong_rcode"]:
            bad.append("%d answers with a wrong rcode or record count" % res["wrong_rcode"])
        if slow:
            bad.append("%d answers slower than %g ms (max %.1f ms)"
                       % (len(slow), args.limit, max(r["ms"] for r in slow)))
        allowed = max(10, sent * 5 // 100)
        if len(excused) > allowed:
            bad.append("the machine stalled %d times (more than %d): too noisy to judge"
                       % (len(excused), allowed))
        for b in bad:
            print("FAIL: %s: %s" % (res["label"], b))
        if not bad:
            print("ok: %s: %d of %d answered, rcodes right, none slower than %g ms"
                  % (res["label"], res["answered"], sent, args.limit))
        sys.exit(1 if bad else 0)
    return res


def fmt(s):
    return "p50 %.1f ms  p99 %.1f ms  max %.1f ms  (n=%d)" % (s["p50"], s["p99"], s["max"], s["n"])


def summary(res):
    print("%s: %d queries sent in %.0f s, %d answered, %d lost, %d with a wrong rcode"
          % (res["label"], res["sent"], res["duration"], res["answered"], res["lost"],
             res["wrong_rcode"]))
    print("  first search (not timed): %s ms" % res["first_search_ms"])
    if res["warmup"]["seconds"]:
        print("  warm-up (not timed): %g s, %d queries, slowest %.1f ms"
              % (res["warmup"]["seconds"], res["warmup"]["queries"], res["warmup"]["max_ms"]))
    print("  all answers    " + fmt(res["all"]))
    for kind, what in (("pos", "positive"), ("nx", "NXDOMAIN"), ("nodata", "NODATA")):
        print("  %-14s " % what + fmt(res[kind]))
    print("  noise: cache hits " + fmt(res["cache_probe"]))
    if res["upstream_probe"]:
        print("  noise: upstream   " + fmt(res["upstream_probe"]))
    print("  noise: client send lateness p99 %.1f ms max %.1f ms"
          % (res["client_send_lateness"]["p99"], res["client_send_lateness"]["max"]))
    print("  slower than %g ms: %d (put down to machine stalls: %d)"
          % (res["limit_ms"], len(res["slow"]), len(res["excused"])))
    for r in sorted(res["slow"], key=lambda r: -r["ms"])[:10]:
        print("    SLOW %s type %d: %.1f ms at %.2f s (machine stall then: %.1f ms)"
              % (r["name"], r["qtype"], r["ms"], r["at_s"], r["machine_stall_ms"]))
    for r in res["excused"][:5]:
        print("    stall %s: %.1f ms (machine stall %.1f ms)" % (r["name"], r["ms"],
                                                              r["machine_stall_ms"]))


def bursts(args):
    """How many times the server at ADDR was tried again inside the soak's
    window: queries to it in bursts, a new burst after GAP s of silence
    (each burst is a search after an exclusion ran out)."""
    window = json.load(open(args.result))["window"]
    times = []
    for line in open(args.log):
        f = line.split()
        t = float(f[0])
        if f[1] == args.addr and window[0] <= t <= window[1]:
            times.append(t)
    n, last = 0, None
    for t in times:
        if last is None or t - last > args.gap:
            n += 1
        last = t
    # queries, bursts, seconds from the window's start to the first and the last
    print(len(times), n, round(times[0] - window[0], 1) if times else -1,
          round(times[-1] - window[0], 1) if times else -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("portfile")
    s.add_argument("spec", nargs="+")
    s.add_argument("--max-time", type=float, default=900, help="stop after this many seconds")
    l = sub.add_parser("load")
    l.add_argument("target", help="ADDR:PORT of the server under test")
    l.add_argument("--probe", help="ADDR:PORT of a live upstream, timed as the noise floor")
    l.add_argument("--qps", type=float, default=50)
    l.add_argument("--duration", type=float, default=30, help="seconds timed")
    l.add_argument("--warmup", type=float, default=0,
                   help="seconds of load before the timed part (not timed)")
    l.add_argument("--cache-qps", type=float, default=20, help="cache-hit probe rate")
    l.add_argument("--probe-qps", type=float, default=10, help="upstream probe rate")
    l.add_argument("--repeat", type=float, default=0.1, help="share of repeated names")
    l.add_argument("--timeout", type=float, default=12, help="seconds to wait for an answer")
    l.add_argument("--limit", type=float, default=100, help="ms an answer may take")
    l.add_argument("--slack", type=float, default=60,
                   help="ms by which a machine stall may fall short of a slow answer")
    l.add_argument("--seed", type=int, default=21)
    l.add_argument("--tail", type=int, default=30, help="slowest answers kept in the result")
    l.add_argument("--samples", action="store_true", help="keep every answer time in the result")
    l.add_argument("--label", default="soak")
    l.add_argument("--check", action="store_true",
                   help="exit 1 unless all answered, rcodes right and none slower than LIMIT")
    l.add_argument("--json", default="-", help="write the result here (and a summary to stdout)")
    b = sub.add_parser("bursts")
    b.add_argument("log", help="the serve command's PORTFILE.log")
    b.add_argument("addr")
    b.add_argument("result", help="the load command's --json file (its window)")
    b.add_argument("--gap", type=float, default=2)
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a)
    elif a.cmd == "bursts":
        bursts(a)
    else:
        load(a)


if __name__ == "__main__":
    main()
