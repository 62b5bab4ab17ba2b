#!/usr/bin/env python3
"""Generate realistic block lists of N names in the five formats of SPEC 18
(hosts, domains, wildcard, adblock, rpz) plus the same names as dnsmasq
(address=/x/) and unbound (local-zone) configuration, for the list
benchmark (issue 25).  Names look like the public lists': 2-5 labels,
tracker-ish words, shared parent domains, digits and hyphens.

usage: genlists.py N OUTDIR [SEED]
"""
import os
import random
import sys

WORDS = ("ads track metrics pixel stat analytics tag cdn img static beacon "
         "log collect sync click banner promo telemetry adserver counter "
         "media srv api edge px rtb bid").split()
TLDS = "com net org io info biz co.uk de fr ru cn xyz top online site".split()


def names(n, rnd):
    seen = set()
    parents = []
    while len(seen) < n:
        if parents and rnd.random() < 0.6:
            base = rnd.choice(parents)
        else:
            base = "%s%s%d.%s" % (rnd.choice(WORDS), rnd.choice(("", "-")),
                                  rnd.randrange(100000), rnd.choice(TLDS))
            base = base.replace("-.", ".")
            parents.append(base)
        k = rnd.randrange(0, 3)
        labels = [rnd.choice(WORDS) + (str(rnd.randrange(100)) if rnd.random() < .5 else "")
                  for _ in range(k)]
        name = ".".join(labels + [base])
        if name not in seen:
            seen.add(name)
            yield name


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 25)
    os.makedirs(out, exist_ok=True)
    lst = list(names(n, rnd))
    fmt = {
        "hosts": ("# generated\n127.0.0.1 localhost\n", "0.0.0.0 %s\n"),
        "domains": ("# generated\n", "%s\n"),
        "wildcard": ("# generated\n", "*.%s\n"),
        "adblock": ("[Adblock Plus 2.0]\n! generated\n", "||%s^\n"),
        "rpz": ("$TTL 300\n@ SOA localhost. root.localhost. 1 43200 3600 86400 300\n"
                "  NS localhost.\n", "%s CNAME .\n"),
        "dnsmasq.conf": ("", "address=/%s/\n"),
        "unbound.conf": ("server:\n", "  local-zone: \"%s\" always_nxdomain\n"),
    }
    for f, (head, line) in fmt.items():
        with open(os.path.join(out, f if "." in f else f + ".txt"), "w") as fh:
            fh.write(head)
            fh.writelines(line % x for x in lst)
    with open(os.path.join(out, "names.txt"), "w") as fh:
        fh.writelines("%s A\n" % x for x in lst)


if __name__ == "__main__":
    main()
