#!/usr/bin/env python3
"""fwdtime.py PCAP FRONT-ADDR NAME=PORT... [NAME@START-END...] - each forwarder's own share of
its answer times, from a loopback capture (bench/failover.sh).

A client query to FRONT-ADDR:PORT is followed through the capture: the
forwarder's queries upstream, the upstream's answer, the answer to the
client.  The forwarder's own time is the answer time less the one
upstream round trip that gave the answer (from the last query to that
server to its answer): time spent on the forwarder's side, waiting on a
server that does not answer included.  Queries asked more than once (a
cache hit for the second) are left out; with NAME@START-END (epoch
seconds, repeatable) only NAME's queries sent in those windows count.  Prints JSON: per forwarder the
number followed and p50/p99/max of the own time and of the whole answer
time, all in ms, by the kernel's capture timestamps.
"""
import json
import struct
import sys


def question(udp):
    i, labels = 12, []
    while i < len(udp):
        n = udp[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        labels.append(udp[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    if i + 2 > len(udp):
        return None
    return ".".join(labels), struct.unpack("!H", udp[i:i + 2])[0]


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        scale = 1e-9 if magic == 0xA1B23C4D else 1e-6
        link = struct.unpack("<I", head[20:24])[0]
        skip = {1: 14, 113: 16, 276: 20}.get(link, 0)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, caplen, _ = struct.unpack("<IIII", h)
            d = f.read(caplen)
            ip = d[skip:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 15) * 4
            src = ".".join(map(str, ip[12:16]))
            dst = ".".join(map(str, ip[16:20]))
            sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
            udp = ip[ihl + 8:]
            if len(udp) >= 12:
                yield sec + frac * scale, src, sport, dst, dport, udp


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return round(xs[k], 3)


def main():
    path, front = sys.argv[1], sys.argv[2]
    ports, windows = {}, {}
    for a in sys.argv[3:]:
        if "@" in a:
            name, span = a.split("@")
            start, end = span.split("-")
            windows.setdefault(name, []).append((float(start), float(end)))
            continue
        name, port = a.split("=")
        ports[int(port)] = name
    q = {}
    for t, src, sport, dst, dport, udp in packets(path):
        key = question(udp)
        if key is None:
            continue
        is_answer = udp[2] & 0x80
        if not is_answer and dst == front and dport in ports:
            v = q.get(key)
            if v is None:
                q[key] = {"fwd": ports[dport], "c0": t, "sends": [], "up": None}
            else:
                v["repeat"] = True
            continue
        v = q.get(key)
        if v is None or "c1" in v:
            continue
        if is_answer and src == front and sport in ports:
            v["c1"] = t
        elif not is_answer and dst != front:
            v["sends"].append((t, dst))
        elif is_answer and src != front and v["up"] is None:
            v["up"] = (t, src)
    out = {}
    for v in q.values():
        if v.get("repeat") or "c1" not in v or v["up"] is None:
            continue
        if v["fwd"] in windows and not any(a <= v["c0"] < b for a, b in windows[v["fwd"]]):
            continue
        t1, server = v["up"]
        before = [t for t, d in v["sends"] if d == server and t <= t1]
        if not before:
            continue
        total = (v["c1"] - v["c0"]) * 1e3
        own = total - (t1 - before[-1]) * 1e3
        r = out.setdefault(v["fwd"], {"own": [], "total": []})
        r["own"].append(own)
        r["total"].append(total)
    res = {}
    for name, r in out.items():
        res[name] = {"n": len(r["own"]),
                     "own": {"p50": pct(r["own"], 50), "p99": pct(r["own"], 99),
                             "max": round(max(r["own"]), 3)},
                     "total": {"p50": pct(r["total"], 50), "p99": pct(r["total"], 99),
                               "max": round(max(r["total"]), 3)}}
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
