#!/usr/bin/env python3
"""bench/prefetch-model.py - the Zipf workload of bench/prefetch.sh, and a
replay of it under two sets of cache rules, to tell what the measured gap
between stubd and unbound comes from.

  prefetch-model.py queries NAMES      the query file dnsperf reads
  prefetch-model.py model NAMES RATE DURATION
                                       a markdown table: the share of queries
                                       that miss the cache under each rule set

The replay sends the queries of the file in order, evenly spaced at RATE
per second, to a cache with an upstream that answers every name with TTL 30
after 0.3 ms.  The rule sets:

  SPEC 14       time in milliseconds; an answer lives exactly its TTL; a hit
                in the last tenth of the TTL on an answer hit at least twice
                refreshes it (stubd; the hit count survives a refresh, not an
                expiry).
  unbound 1.17  time in whole seconds, as its worker.c: an answer stored in
                second s with TTL 30 is served while now <= s + 30 (so until
                the end of second s + 30, with TTL 0 in the last one), and a
                hit from second s + 27 on refreshes it, whatever its hits.
  one-hit       SPEC 14's clock with unbound's one-hit rule.

It is a model, not a measurement: it does not know dnsperf's timing.
"""
import bisect
import heapq
import math
import random
import sys

TTL = 30.0
RTT = 0.0003
QUERIES = 500000


def zipf_names(n):
    """The name numbers of the query file: Zipf, s = 1, seed 42."""
    random.seed(42)
    cum, s = [], 0.0
    for k in range(n):
        s += 1.0 / (k + 1)
        cum.append(s)
    return [bisect.bisect_left(cum, random.random() * s) for _ in range(QUERIES)]


def replay(names, rate, whole_seconds, hits_needed):
    """Return (misses, prefetches) for this rule set."""
    cache = {}       # name -> [stored, hits, prefetching]
    arrivals = []    # (time, name) of refreshes under way
    misses = prefetches = 0
    for i, k in enumerate(names):
        t = i / rate
        while arrivals and arrivals[0][0] <= t:
            at, name = heapq.heappop(arrivals)
            old = cache.get(name)
            cache[name] = [at, old[1] if old else 0, False]
        e = cache.get(k)
        if e is None:
            fresh = False
        elif whole_seconds:
            fresh = math.floor(t) <= math.floor(e[0]) + TTL
        else:
            fresh = t < e[0] + TTL
        if not fresh:
            misses += 1
            cache[k] = [t + RTT, 0, False]
            continue
        e[1] += 1
        if whole_seconds:
            due = math.floor(t) >= math.floor(e[0]) + TTL * 0.9
        else:
            due = e[0] + TTL - t <= TTL / 10
        if due and e[1] >= hits_needed and not e[2]:
            e[2] = True
            prefetches += 1
            heapq.heappush(arrivals, (t + RTT, k))
    return misses, prefetches


def main(argv):
    if len(argv) == 3 and argv[1] == "queries":
        out = sys.stdout
        for k in zipf_names(int(argv[2])):
            out.write("n%d.bench.test A\n" % k)
        return 0
    if len(argv) == 5 and argv[1] == "model":
        n, rate, duration = int(argv[2]), float(argv[3]), float(argv[4])
        names = zipf_names(n)[:int(rate * duration)]
        print("| rules (model) | queries | missed the cache | share | prefetches |")
        print("|---|---|---|---|---|")
        for label, whole, hits in (("SPEC 14 (stubd)", False, 2),
                                   ("unbound 1.17", True, 1),
                                   ("one-hit, exact TTL", False, 1)):
            m, p = replay(names, rate, whole, hits)
            print("| %s | %d | %d | %.3f %% | %d |" % (label, len(names), m,
                                                     100.0 * m / len(names), p))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
