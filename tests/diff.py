#!/usr/bin/env python3
"""diff.py - the comparator of tests/differential.sh.

Every probe (NAME x TYPE of the probe list x UDP/TCP x EDNS off/512/1232/
4096 x DO x CD x lower/mixed case, and RD=0 once per NAME x TYPE) is sent
to the authoritative server, then twice to stubd (miss, then hit).  Each
stubd answer is compared field by field with the authoritative's; the
only differences allowed are those SPEC 5c and 7 prescribe:

* flags: AA clear, RA set, RD and CD the client's, AD clear (the
  authoritative is not a trust-ad server), TC only as below;
* question: the client's spelling, byte for byte (0x20);
* TTLs: lower or equal to the authoritative's, the hit's lower or equal
  to the miss's;
* OPT: present iff the query had one, version 0, DO echoed, the same
  options; its UDP size is stubd's own;
* truncation: the reference is the authoritative's whole answer (over
  TCP; stubd asks with its own 1232-byte buffer, not the client's); over
  UDP an answer larger than the client's limit (512 without EDNS, its
  size otherwise, at most 1232) comes with TC and no more than fits,
  anything else whole; within 16 bytes of the limit either is taken (the
  OPT sizes differ); an answer over 1232 bytes may lack additional
  records (RFC 2181 9: the authoritative omits them at that size);
* a referral is no answer: SERVFAIL with empty sections;
* locally served names (localhost, single labels) are answered by stubd.

Sections are compared as sets of records (owner name case-insensitive,
type, class, canonical rdata).  Then the probes marked 'proxy', asked of
a stubd whose upstream is a proxy (diff.py --proxy) answering with the
question upper-cased and OPT first; the CD cases against a validating
unbound; the negative CNAME chain after a change of the zone; the error
answers to queries with OPT.  diff.py --selftest checks the comparator.  Prints identical/total by category
and the first failures; exit status 0 only when every probe is identical.
"""

import argparse
import concurrent.futures
import os
import signal
import socket
import struct
import sys
import threading
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.renderer

TIMEOUT = 4.0          # over stubd's scaled schedule (3.4 s)
# Answered at once (SPEC 5c): locally served names without asking anyone,
# a referral as SERVFAIL as soon as its only server is done (SPEC 5).
# They get a shorter wait and fewer variants, so that a stubd that
# waits out its schedule for them keeps the test bounded.
QUICK = {"local": 0.5, "referral": 1.0}
REDUCED = ((False, None, False, False, False), (False, 1232, True, False, True),
           (True, 1232, False, True, False), (False, 4096, False, True, True),
           (True, None, False, False, True), (False, 512, True, True, False))
MAX_LISTED = 40
MARGIN = 16            # bytes around a size limit where TC may go either way
SPEC_UDP_MAX = 1232    # SPEC 7: UDP answers at most 1232 by default

F_QR, F_AA, F_TC, F_RD, F_RA, F_AD, F_CD = (dns.flags.QR, dns.flags.AA, dns.flags.TC,
                                             dns.flags.RD, dns.flags.RA, dns.flags.AD,
                                             dns.flags.CD)


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


# ---------------------------------------------------------------- transport

def xchg_udp(addr, wire, qid, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.connect(addr)
        s.send(wire)
        end = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, end - time.monotonic()))
            data = s.recv(65535)
            if len(data) >= 2 and struct.unpack("!H", data[:2])[0] == qid:
                return data
    finally:
        s.close()


def recv_all(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def xchg_tcp(addr, wire, qid, timeout):
    s = socket.create_connection(addr, timeout=timeout)
    try:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        n = struct.unpack("!H", recv_all(s, 2))[0]
        return recv_all(s, n)
    finally:
        s.close()


def exchange(addr, wire, tcp, timeout=TIMEOUT):
    """Raw answer bytes, or an exception text."""
    qid = struct.unpack("!H", wire[:2])[0]
    try:
        return (xchg_tcp if tcp else xchg_udp)(addr, wire, qid, timeout)
    except (OSError, EOFError) as e:
        return "no answer (%s)" % (e.__class__.__name__,)


def parse(raw):
    if isinstance(raw, str):
        return None, raw
    try:
        return dns.message.from_wire(raw), None
    except (dns.exception.DNSException, ValueError) as e:
        return None, "unparseable (%s)" % e.__class__.__name__


# ---------------------------------------------------------------- queries

def mixed_case(name, salt):
    """0x20 variant: every other letter upper case (pattern shifted by salt)."""
    labels = []
    k = salt
    for lab in name.labels:
        out = bytearray()
        for b in lab:
            if 0x61 <= b <= 0x7a or 0x41 <= b <= 0x5a:
                out.append((b & ~0x20) if k % 2 == 0 else (b | 0x20))
                k += 1
            else:
                out.append(b)
        labels.append(bytes(out))
    return dns.name.Name(labels)


class Probe:
    def __init__(self, name, cat, rdtype, tcp, edns, do, cd, case, rd=True):
        self.name, self.cat, self.rdtype = name, cat, rdtype
        self.tcp, self.edns, self.do, self.cd, self.case, self.rd = tcp, edns, do, cd, case, rd
        self.mangled = False    # asked of the stubd behind the mangling proxy

    def tags(self):
        t = [self.cat, "tcp" if self.tcp else "udp"]
        if self.edns is not None:
            t.append("edns")
        if self.do:
            t.append("do")
        if self.cd:
            t.append("cd")
        if self.case:
            t.append("case")
        if not self.rd:
            t.append("rd0")
        if self.mangled:
            t.append("mangled")
        return t

    def label(self):
        return "%s/%s %s edns=%s do=%d cd=%d%s%s" % (
            self.qname.to_text(), dns.rdatatype.to_text(self.rdtype),
            "tcp" if self.tcp else "udp", "off" if self.edns is None else self.edns,
            self.do, self.cd, " 0x20" if self.case else "", " rd=0" if not self.rd else "") + (
                " via proxy" if self.mangled else "")

    def make(self, salt):
        self.qname = mixed_case(self.name, salt) if self.case else self.name
        q = dns.message.make_query(self.qname, self.rdtype, use_edns=False)
        q.flags = (F_RD if self.rd else 0) | (F_CD if self.cd else 0)
        if self.edns is not None:
            q.use_edns(0, dns.flags.DO if self.do else 0, self.edns)
        return q

    def limit(self):
        """The client's UDP limit as stubd applies it (SPEC 7)."""
        if self.tcp:
            return 65535
        if self.edns is None:
            return 512
        return min(max(self.edns, 512), SPEC_UDP_MAX)


def wire_of(q, qid):
    q.id = qid
    return q.to_wire()


# ---------------------------------------------------------------- comparing

def records(msg, section):
    """{key: ttl} of a section, OPT left out; key case-insensitive."""
    out = {}
    for rrset in section:
        if rrset.rdtype == dns.rdatatype.OPT:
            continue
        for rd in rrset:
            key = (rrset.name.canonicalize().to_text(), rrset.rdclass, rrset.rdtype,
                   rrset.covers, rd.to_digestable())
            out[key] = min(out.get(key, rrset.ttl), rrset.ttl)
    return out


def keytext(key):
    name, rdclass, rdtype, covers, _ = key
    t = dns.rdatatype.to_text(rdtype)
    if rdtype == dns.rdatatype.RRSIG:
        t += "(%s)" % dns.rdatatype.to_text(covers)
    return "%s %s" % (name, t)


def sections(msg):
    return [records(msg, s) for s in (msg.answer, msg.authority, msg.additional)]


SECNAMES = ("answer", "authority", "additional")


def check_common(p, q, r, raw, problems):
    """What every stubd answer owes the client whatever its content."""
    if r.id != q.id:
        problems.append("id")
    if r.opcode() != dns.opcode.QUERY:
        problems.append("opcode")
    want = F_QR | F_RA | (q.flags & (F_RD | F_CD))
    for bit, text in ((F_QR, "QR"), (F_AA, "AA"), (F_RD, "RD"), (F_RA, "RA"),
                      (F_CD, "CD"), (F_AD, "AD")):
        if (r.flags & bit) != (want & bit):
            problems.append("flag %s %s%s" % (text, "set" if r.flags & bit else "clear",
                                              " (not the client's)" if bit & (F_RD | F_CD)
                                              else ""))
    if len(r.question) != 1:
        problems.append("qdcount %d" % len(r.question))
    else:
        rq = r.question[0]
        if rq.name.to_wire() != q.question[0].name.to_wire():
            problems.append("question spelled %s" % rq.name.to_text())
        if rq.rdtype != q.question[0].rdtype or rq.rdclass != q.question[0].rdclass:
            problems.append("question type/class")
    if q.edns < 0:
        if r.edns >= 0:
            problems.append("OPT to a query without")
    elif r.edns < 0:
        problems.append("no OPT")
    else:
        if r.edns != 0:
            problems.append("EDNS version %d" % r.edns)
        if (r.ednsflags & dns.flags.DO) != (q.ednsflags & dns.flags.DO):
            problems.append("DO not echoed")
    if not p.tcp and len(raw) > p.limit():
        problems.append("%d bytes over the limit %d" % (len(raw), p.limit()))


def compare(p, q, ref, ref_size, r, raw, prev, problems):
    """stubd's answer r (raw bytes raw) to q against the authoritative's ref.
    prev: stubd's earlier answer (the miss) when r is the hit."""
    check_common(p, q, r, raw, problems)
    if r.rcode() != ref.rcode():
        problems.append("rcode %s want %s" % (dns.rcode.to_text(r.rcode()),
                                             dns.rcode.to_text(ref.rcode())))
    if q.edns >= 0 and r.edns >= 0 and ref.edns >= 0:
        if sorted(o.to_wire() for o in r.options) != sorted(o.to_wire() for o in ref.options):
            problems.append("EDNS options")
    limit = p.limit()
    # over stubd's own upstream buffer (1232) the authoritative may omit
    # additional records without TC (RFC 2181 9) and stubd relays that
    over_upstream = ref_size > SPEC_UDP_MAX + MARGIN
    must_tc = ref_size > limit + MARGIN and not over_upstream
    may_tc = ref_size > limit - MARGIN
    tc = bool(r.flags & F_TC)
    if tc and not may_tc:
        problems.append("TC (%d bytes fit %d)" % (ref_size, limit))
    if not tc and must_tc:
        problems.append("no TC (%d bytes over %d)" % (ref_size, limit))
    want = sections(ref)
    got = sections(r)
    for i, sec in enumerate(SECNAMES):
        extra = [k for k in got[i] if k not in want[i]]
        missing = [k for k in want[i] if k not in got[i]]
        if extra:
            problems.append("%s extra %s" % (sec, keytext(extra[0])))
        if missing and not tc and not (sec == "additional" and over_upstream):
            problems.append("%s missing %s" % (sec, keytext(missing[0])))
        for k in got[i]:
            if k in want[i] and got[i][k] > want[i][k]:
                problems.append("%s TTL %d > authoritative %d (%s)" % (
                    sec, got[i][k], want[i][k], keytext(k)))
                break
        if prev is not None:
            before = sections(prev)[i]
            for k in got[i]:
                if k in before and got[i][k] > before[k]:
                    problems.append("%s TTL rose %d -> %d (%s)" % (
                        sec, before[k], got[i][k], keytext(k)))
                    break


def compare_fixed(p, q, r, raw, rcode, answer, problems):
    """stubd's answer against a fixed expectation: rcode and answer rdata
    (texts); empty authority for SERVFAIL."""
    check_common(p, q, r, raw, problems)
    if r.flags & F_TC:
        problems.append("TC")
    if r.rcode() != rcode:
        problems.append("rcode %s want %s" % (dns.rcode.to_text(r.rcode()),
                                             dns.rcode.to_text(rcode)))
    got = sorted(rd.to_text() for rrset in r.answer for rd in rrset)
    if answer is not None and got != sorted(answer):
        problems.append("answer %s want %s" % (got, sorted(answer)))
    if rcode == dns.rcode.SERVFAIL and (r.answer or r.authority or
                                        [x for x in r.additional
                                         if x.rdtype != dns.rdatatype.OPT]):
        problems.append("SERVFAIL with records")


LOCAL = {
    ("localhost.", dns.rdatatype.A): (dns.rcode.NOERROR, ["127.0.0.1"]),
    ("localhost.", dns.rdatatype.AAAA): (dns.rcode.NOERROR, ["::1"]),
    ("foo.localhost.", dns.rdatatype.A): (dns.rcode.NOERROR, ["127.0.0.1"]),
}


def local_expect(name, rdtype):
    key = (name.canonicalize().to_text(), rdtype)
    if key in LOCAL:
        return LOCAL[key]
    if len(name.labels) == 2:           # a single label and the root
        return dns.rcode.NXDOMAIN, []
    raise SystemExit("probe list: no local expectation for %s" % key[0])


# ---------------------------------------------------------------- the run

class Tally:
    def __init__(self):
        self.by_tag = {}
        self.fails = []
        self.kinds = {}
        self.lock = threading.Lock()
        self.only_flags = 0     # probes whose only differences are flag bits

    def add(self, tags, label, problems):
        with self.lock:
            self._add(tags, label, problems)

    def _add(self, tags, label, problems):
        for t in tags:
            ok, tot = self.by_tag.get(t, (0, 0))
            self.by_tag[t] = (ok + (0 if problems else 1), tot + 1)
        ok, tot = self.by_tag.get("ALL", (0, 0))
        self.by_tag["ALL"] = (ok + (0 if problems else 1), tot + 1)
        if problems and all(x.split(": ", 1)[-1].startswith("flag ") for x in problems):
            self.only_flags += 1
        if problems:
            self.fails.append("%s: %s" % (label, "; ".join(problems)))
            for pr in set(problems):
                kind = pr.split(" (")[0].replace("miss: ", "").replace("hit: ", "")
                kind = " ".join(w for w in kind.split() if not any(c.isdigit() for c in w))
                n, cats, ex = self.kinds.get(kind, (0, set(), label))
                cats.add(tags[0] + ("/proxy" if "mangled" in tags else ""))
                self.kinds[kind] = (n + 1, cats, ex)


SLOW = []


def ask(addr, q, tcp, qid, timeout=TIMEOUT):
    wire = wire_of(q, qid)
    t0 = time.monotonic()
    raw = exchange(addr, wire, tcp, timeout)
    dt = time.monotonic() - t0
    if dt > 0.1:
        SLOW.append((dt, "%s:%d %s %s%s" % (addr[0], addr[1], q.question[0].name,
                                           dns.rdatatype.to_text(q.question[0].rdtype),
                                           " tcp" if tcp else "")))
    msg, err = parse(raw)
    return raw, msg, err


def run_probe(args, p, tally, seq):
    q = p.make(seq)
    tags = p.tags()
    problems = []
    ref = None
    ref_size = 0
    if p.cat not in ("local",):
        # the authoritative's whole answer: what stubd relays, truncated
        # at the client's limit (stubd asks with its own buffer size)
        raw, ref, err = ask(args.auth, q, True, (seq * 7) & 0xffff)
        if ref is None:
            tally.add(tags, p.label(), ["authoritative: " + err])
            return
        ref_size = len(raw) - (11 if q.edns < 0 and ref.edns >= 0 else 0)
        if not p.tcp and ref_size > p.limit():
            tags.append("truncation")
    prev = None
    for n, which in ((0, "miss"), (1, "hit")):
        qid = (seq * 7 + 2 + n) & 0xffff
        # QUICK names and the proxied stubd get a shorter wait (see there)
        raw, r, err = ask(args.mangled_stubd if p.mangled else args.stubd, q, p.tcp, qid,
                          PROXIED_TIMEOUT if p.mangled else QUICK.get(p.cat, TIMEOUT))
        q.id = qid
        pr = []
        if r is None:
            problems.append("%s: %s" % (which, err))
            break           # no second wait for the same silence
        elif p.cat == "referral":
            compare_fixed(p, q, r, raw, dns.rcode.SERVFAIL, [], pr)
        elif p.cat == "local":
            rc, ans = local_expect(p.name, p.rdtype)
            compare_fixed(p, q, r, raw, rc, ans, pr)
        else:
            compare(p, q, ref, ref_size, r, raw, prev, pr)
        problems += ["%s: %s" % (which, x) for x in pr]
        prev = r
    tally.add(tags, p.label(), problems)


def load_probes(path):
    """(entries, proxied entries): lines NAME CATEGORY TYPE..., and
    'proxy NAME CATEGORY TYPE...' for the stubd behind the proxy."""
    out, proxied = [], []
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            to = out
            if line[0] == "proxy":
                to, line = proxied, line[1:]
            name = dns.name.from_text(line[0])
            for t in line[2:]:
                to.append((name, line[1], dns.rdatatype.from_text(t)))
    return out, proxied


# a stubd that rejects the proxy's answers waits out its schedule: these
# probes run side by side and wait 1 s at most (NSD answers at once)
PROXIED_TIMEOUT = 1.0
PROXIED_PARALLEL = 8
MANGLED = ((False, 1232, False, False, False), (False, 1232, True, False, True),
           (True, None, False, False, True), (False, 4096, False, True, False))


def probes_of(entries):
    ps = []
    for name, cat, rdtype in entries:
        if cat in QUICK:
            # answered at once without data from upstream: a few variants
            for tcp, edns, do, cd, case in REDUCED:
                ps.append(Probe(name, cat, rdtype, tcp, edns, do, cd, case))
            continue
        for case in (False, True):
            for tcp in (False, True):
                for edns in (None, 512, 1232, 4096):
                    for do in ((False,) if edns is None else (False, True)):
                        for cd in (False, True):
                            ps.append(Probe(name, cat, rdtype, tcp, edns, do, cd, case))
    for name, cat, rdtype in entries:
        if cat not in QUICK:
            ps.append(Probe(name, cat, rdtype, False, 1232, False, False, False, rd=False))
    return ps


def proxied_probes_of(entries):
    """Through the proxy that upper-cases the question and puts OPT first."""
    ps = []
    for name, cat, rdtype in entries:
        for tcp, edns, do, cd, case in MANGLED:
            p = Probe(name, cat, rdtype, tcp, edns, do, cd, case)
            p.mangled = True
            ps.append(p)
    return ps


# ---------------------------------------------------------------- CD cases

def cd_cases(args, tally):
    """stubd in front of a validating unbound (RFC 4035 3.2.2, RFC 6840 5.9):
    the CD bit is the client's and part of the cache key."""
    seq = [0x4000]

    def q_of(name, cd, do):
        q = dns.message.make_query(name, "A", use_edns=0, payload=1232,
                                   want_dnssec=do)
        q.flags = F_RD | (F_CD if cd else 0)
        return q

    def one(label, addr, name, cd, do, want_rcode, want_addr, extra_tags=()):
        seq[0] += 1
        q = q_of(name, cd, do)
        raw, r, err = ask(addr, q, False, seq[0])
        q.id = seq[0]
        pr = []
        p = Probe(dns.name.from_text(name), "cd", dns.rdatatype.A, False, 1232, do, cd, False)
        if r is None:
            pr.append(err)
        else:
            check_common(p, q, r, raw, pr)
            if r.rcode() != want_rcode:
                pr.append("rcode %s want %s" % (dns.rcode.to_text(r.rcode()),
                                                dns.rcode.to_text(want_rcode)))
            got = [rd.to_text() for rrset in r.answer
                   if rrset.rdtype == dns.rdatatype.A for rd in rrset]
            if want_addr is not None and got != [want_addr]:
                pr.append("answer %s want %s" % (got, [want_addr]))
        tally.add(("cd",) + tuple(extra_tags), "%s (%s cd=%d do=%d)" % (label, name, cd, do), pr)
        return r

    v, s = args.validator, args.cd_stubd
    # the set-up itself: unbound refuses the bogus data without CD
    r = one("validator sanity", v, "bogus.sig.test.", False, False, dns.rcode.SERVFAIL, None)
    if r is None or r.rcode() != dns.rcode.SERVFAIL:
        print("FAIL: the validating unbound does not refuse bogus.sig.test; set-up broken")
        return False
    one("validator sanity", v, "www.sig.test.", False, False, dns.rcode.NOERROR, "192.0.2.90")
    for do in (False, True):
        one("bogus, no CD", s, "bogus.sig.test.", False, do, dns.rcode.SERVFAIL, None)
        one("bogus, CD gets the data", s, "bogus.sig.test.", True, do, dns.rcode.NOERROR,
            "192.0.2.99")
        one("bogus, no CD after a CD query", s, "bogus.sig.test.", False, do,
            dns.rcode.SERVFAIL, None, ("cd-bypass",))
        # CD first, on a name nobody asked for yet
        one("bogus2, CD first", s, "bogus2.sig.test.", True, do, dns.rcode.NOERROR, "192.0.2.98")
        one("bogus2, no CD after CD", s, "bogus2.sig.test.", False, do, dns.rcode.SERVFAIL,
            None, ("cd-bypass",))
        # valid data with and without CD
        one("valid, no CD", s, "www.sig.test.", False, do, dns.rcode.NOERROR, "192.0.2.90")
        one("valid, CD", s, "www.sig.test.", True, do, dns.rcode.NOERROR, "192.0.2.90")
    # a CD query arriving while a no-CD search for the same name runs
    for do in (False, True):
        qs = []
        socks = []
        for cd in (False, True):
            seq[0] += 1
            q = q_of("bogus3.sig.test.", cd, do)
            q.id = seq[0]
            sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sk.connect(s)
            sk.send(q.to_wire())
            qs.append(q)
            socks.append(sk)
        for cd, (q, sk) in enumerate(zip(qs, socks)):
            pr = []
            sk.settimeout(TIMEOUT)
            t0 = time.monotonic()
            try:
                raw = sk.recv(65535)
                r, err = parse(raw)
            except OSError as e:
                r, err = None, "no answer (%s)" % e.__class__.__name__
            sk.close()
            p = Probe(q.question[0].name, "cd", dns.rdatatype.A, False, 1232, do, bool(cd), False)
            want_rc = dns.rcode.NOERROR if cd else dns.rcode.SERVFAIL
            if r is None:
                pr.append(err)
            else:
                check_common(p, q, r, raw, pr)
                if r.rcode() != want_rc:
                    pr.append("rcode %s want %s" % (dns.rcode.to_text(r.rcode()),
                                                    dns.rcode.to_text(want_rc)))
            if time.monotonic() - t0 > 1.0:
                pr.append("slow (%.1f s)" % (time.monotonic() - t0))
            tally.add(("cd", "cd-concurrent"),
                      "concurrent (bogus3.sig.test cd=%d do=%d)" % (cd, do), pr)
    return True


# ---------------------------------------------------------------- the rest

def dyn_case(args, tally):
    """A CNAME chain ending in NODATA is a negative answer (SPEC 5c): its
    lifetime is the negative one (1 s here), not the CNAME's 3600 s."""
    name = dns.name.from_text("alias.dyn.test.")
    p = Probe(name, "cname-nodata-change", dns.rdatatype.TXT, False, 1232, False, False, False)
    q = p.make(0)
    _, ref, err = ask(args.auth, q, False, 0x6000)
    raw, r, err2 = ask(args.stubd, q, False, 0x6001)
    pr = []
    if ref is None or r is None:
        pr.append(err or err2)
    elif ref.answer and any(x.rdtype == dns.rdatatype.TXT for x in ref.answer):
        pr.append("set-up: TXT already there")
    else:
        q.id = 0x6001
        compare(p, q, ref, len(raw), r, raw, None, pr)
        with open(args.dyn_zone, "a", encoding="ascii") as f:
            f.write('target\t300\tIN\tTXT\t"added"\n')
        with open(args.dyn_zone, encoding="ascii") as f:
            text = f.read()
        with open(args.dyn_zone, "w", encoding="ascii") as f:
            f.write(text.replace(" 1 3600 900 604800 1", " 2 3600 900 604800 1"))
        os.kill(args.nsd_pid, signal.SIGHUP)
        end = time.monotonic() + 5
        seen = False
        while time.monotonic() < end and not seen:
            time.sleep(0.2)
            _, ref, _ = ask(args.auth, q, False, 0x6002)
            seen = ref is not None and any(x.rdtype == dns.rdatatype.TXT for x in ref.answer)
        if not seen:
            pr.append("set-up: NSD did not load the change")
        else:
            time.sleep(1.6)        # past the 1 s negative lifetime
            raw, r, err = ask(args.stubd, q, False, 0x6003)
            q.id = 0x6003
            if r is None:
                pr.append(err)
            else:
                compare(p, q, ref, len(raw), r, raw, None, pr)
    tally.add(("cname-nodata-change",), "alias.dyn.test/TXT after the target got TXT", pr)


def error_cases(args, tally):
    """An error answer to a query with OPT carries OPT (SPEC 7, RFC 6891)."""
    opt = struct.pack("!BHHIH", 0, 41, 1232, 0, 0)
    cases = [
        ("QDCOUNT 0 + OPT", struct.pack("!HHHHHH", 0x7001, 0x0100, 0, 0, 0, 1) + opt,
         dns.rcode.FORMERR),
        ("QDCOUNT 2 + OPT", struct.pack("!HHHHHH", 0x7002, 0x0100, 2, 0, 0, 1) +
         b"\x01a\x00\x00\x01\x00\x01\x01b\x00\x00\x01\x00\x01" + opt, dns.rcode.FORMERR),
        ("opcode STATUS + OPT", struct.pack("!HHHHHH", 0x7003, 0x1100, 1, 0, 0, 1) +
         b"\x01a\x00\x00\x01\x00\x01" + opt, dns.rcode.NOTIMP),
    ]
    for label, wire, rc in cases:
        pr = []
        for tcp in (False, True):
            raw = exchange(args.stubd, wire, tcp)
            if isinstance(raw, str):
                pr.append("%s: %s" % ("tcp" if tcp else "udp", raw))
                continue
            try:
                r = dns.message.from_wire(raw, question_only=False)
                rcode, has_opt = r.rcode(), r.edns >= 0
            except dns.exception.DNSException:
                # header and OPT by hand: the question may be absent
                flags, qd, an, ns, ar = struct.unpack("!HHHHH", raw[2:12])
                rcode, has_opt = flags & 0xf, ar > 0
            if rcode != rc:
                pr.append("rcode %s want %s" % (dns.rcode.to_text(rcode), dns.rcode.to_text(rc)))
            if not has_opt:
                pr.append("no OPT")
        tally.add(("error",), label, pr)


# ---------------------------------------------------------------- self-test

def selftest():
    """The comparator itself: what SPEC allows passes, each single
    departure from it is caught.  Returns the number of mistakes."""
    import copy
    import dns.rrset

    def rrs(*texts):
        return [dns.rrset.from_text(*t) for t in texts]

    p = Probe(dns.name.from_text("a.diff.test."), "plain", dns.rdatatype.A,
              False, 1232, True, True, True)
    q = p.make(1)
    q.id = 77
    ref = dns.message.make_response(copy.deepcopy(q))
    ref.flags = F_QR | F_AA | F_RD | F_CD
    ref.question[0].name = dns.name.from_text("a.diff.test.")
    ref.answer = rrs(("a.diff.test.", 300, "IN", "A", "192.0.2.1"))
    ref.authority = rrs(("diff.test.", 3600, "IN", "NS", "ns.diff.test."))
    ref.additional = rrs(("ns.diff.test.", 3600, "IN", "A", "127.0.0.171"))
    ref.use_edns(0, dns.flags.DO, 1232)
    good = copy.deepcopy(ref)
    good.question[0].name = q.question[0].name
    good.flags = F_QR | F_RD | F_RA | F_CD
    good.answer = rrs(("A.DIFF.test.", 290, "IN", "A", "192.0.2.1"))
    good.use_edns(0, dns.flags.DO, 4096)
    mistakes = 0

    def run(label, r, want_ok, ref_size=200, prev=None, probe=p, query=q):
        nonlocal mistakes
        pr = []
        raw = r.to_wire() if r is not None else b""
        compare(probe, query, ref, ref_size, r, raw, prev, pr)
        if bool(pr) == want_ok:
            mistakes += 1
            print("selftest: %s: %s" % (label, pr or "not caught"))

    def bad(label, change, **kw):
        r = copy.deepcopy(good)
        change(r)
        run(label, r, False, **kw)

    run("SPEC-normalised answer", good, True)
    run("hit lower than miss", good, True, prev=good)
    tcr = copy.deepcopy(good)
    tcr.flags |= F_TC
    tcr.answer, tcr.authority, tcr.additional = [], [], []
    run("TC over the limit", tcr, True, ref_size=1300)
    noglue = copy.deepcopy(good)
    noglue.additional = []
    run("glue left out over 1232", noglue, True, ref_size=1400)
    bad("AA", lambda r: setattr(r, "flags", r.flags | F_AA))
    bad("RA", lambda r: setattr(r, "flags", r.flags & ~F_RA))
    bad("CD", lambda r: setattr(r, "flags", r.flags & ~F_CD))
    bad("RD", lambda r: setattr(r, "flags", r.flags & ~F_RD))
    bad("AD", lambda r: setattr(r, "flags", r.flags | F_AD))
    bad("TC that fits", lambda r: setattr(r, "flags", r.flags | F_TC))
    p512 = copy.copy(p)
    p512.edns = 512
    bad("no TC over the limit", lambda r: None, ref_size=700, probe=p512)
    bad("id", lambda r: setattr(r, "id", 78))
    bad("rcode", lambda r: r.set_rcode(dns.rcode.NXDOMAIN))
    bad("question case", lambda r: setattr(r.question[0], "name",
                                           dns.name.from_text("a.diff.test.")))
    bad("question type", lambda r: setattr(r.question[0], "rdtype", dns.rdatatype.AAAA))
    bad("TTL over the authoritative", lambda r: setattr(r.answer[0], "ttl", 301))
    higher = copy.deepcopy(good)
    higher.answer[0].ttl = 200
    bad("TTL rose on the hit", lambda r: None, prev=higher)
    bad("record missing", lambda r: setattr(r, "authority", []))
    bad("glue missing", lambda r: setattr(r, "additional", []))
    bad("record extra", lambda r: r.answer.append(
        dns.rrset.from_text("b.diff.test.", 300, "IN", "A", "192.0.2.2")))
    bad("rdata changed", lambda r: setattr(r, "answer", rrs(
        ("a.diff.test.", 300, "IN", "A", "192.0.2.9"))))
    bad("no OPT", lambda r: r.use_edns(False))
    bad("DO not echoed", lambda r: r.use_edns(0, 0, 1232))
    bad("EDNS version", lambda r: r.use_edns(1, dns.flags.DO, 1232))
    q0 = copy.deepcopy(q)
    q0.use_edns(False)
    p0 = copy.copy(p)
    p0.edns, p0.do = None, False
    bad("OPT without", lambda r: None, probe=p0, query=q0)
    return mistakes


# ---------------------------------------------------------------- proxy

def mangle(raw):
    """An upstream answer as some forwarders send it: the question in upper
    case (SPEC 5c: matched case-insensitively) and OPT first in the
    additional section (SPEC 7: records after OPT are kept).  MX answers
    keep the question's case, so that their glue after OPT is tested
    alone."""
    m = dns.message.from_wire(raw)
    if not m.question:
        return raw
    qn = m.question[0].name
    if m.question[0].rdtype != dns.rdatatype.MX:
        qn = dns.name.Name([bytes(lab).upper() for lab in qn.labels])
    out = dns.renderer.Renderer(m.id, m.flags, 65535)
    out.add_question(qn, m.question[0].rdtype, m.question[0].rdclass)
    for rrset in m.answer:
        out.add_rrset(dns.renderer.ANSWER, rrset)
    for rrset in m.authority:
        out.add_rrset(dns.renderer.AUTHORITY, rrset)
    if m.edns >= 0:
        out.add_edns(m.edns, m.ednsflags, m.payload, m.options)
    for rrset in m.additional:
        out.add_rrset(dns.renderer.ADDITIONAL, rrset)
    out.write_header()
    return out.get_wire()


def proxy(listen, upstream):
    """UDP and TCP on listen, each query relayed to upstream and its answer
    mangled; runs until killed."""
    import socketserver

    class TCPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                while True:
                    n = struct.unpack("!H", recv_all(self.request, 2))[0]
                    wire = recv_all(self.request, n)
                    raw = exchange(upstream, wire, True)
                    if isinstance(raw, str):
                        return
                    raw = mangle(raw)
                    self.request.sendall(struct.pack("!H", len(raw)) + raw)
            except (OSError, EOFError, dns.exception.DNSException):
                return

    class TCPServer(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    tcp = TCPServer(listen, TCPHandler)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(listen)
    print("ready", flush=True)
    while True:
        wire, peer = udp.recvfrom(65535)
        raw = exchange(upstream, wire, False)
        if isinstance(raw, str):
            continue
        try:
            udp.sendto(mangle(raw), peer)
        except dns.exception.DNSException:
            continue


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--selftest":
        n = selftest()
        print("selftest: %s" % ("comparator ok" if n == 0 else "%d mistakes" % n))
        return 1 if n else 0
    if len(sys.argv) == 4 and sys.argv[1] == "--proxy":
        proxy(hostport(sys.argv[2]), hostport(sys.argv[3]))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--auth", type=hostport, required=True)
    ap.add_argument("--stubd", type=hostport, required=True)
    ap.add_argument("--validator", type=hostport, required=True)
    ap.add_argument("--cd-stubd", type=hostport, required=True)
    ap.add_argument("--mangled-stubd", type=hostport, required=True)
    ap.add_argument("--probes", required=True)
    ap.add_argument("--dyn-zone", required=True)
    ap.add_argument("--nsd-pid", type=int, required=True)
    ap.add_argument("--budget", type=float, default=100.0)
    args = ap.parse_args()

    tally = Tally()
    start = time.monotonic()
    entries, proxied = load_probes(args.probes)
    ps = probes_of(entries)
    done = 0
    for i, p in enumerate(ps):
        if time.monotonic() - start > args.budget:
            break
        run_probe(args, p, tally, i + 1)
        done += 1
    pps = proxied_probes_of(proxied)
    with concurrent.futures.ThreadPoolExecutor(PROXIED_PARALLEL) as pool:
        list(pool.map(lambda ip: run_probe(args, ip[1], tally, 0x8000 + ip[0]),
                      enumerate(pps)))
    setup_ok = cd_cases(args, tally)
    dyn_case(args, tally)
    error_cases(args, tally)
    secs = time.monotonic() - start

    ok, tot = tally.by_tag["ALL"]
    print("differential: %d/%d probes identical (%d queries each; %.1f s)" % (
        ok, tot, 3, secs))
    if tally.only_flags:
        print("  (%d more differ in header flag bits only)" % tally.only_flags)
    for tag in sorted(tally.by_tag):
        if tag != "ALL":
            print("  %-22s %5d/%d" % (tag, *tally.by_tag[tag]))
    if SLOW:
        print("%d queries took over 0.1 s; the slowest:" % len(SLOW))
        for dt, what in sorted(SLOW, reverse=True)[:int(os.environ.get("DIFF_SLOW", "5"))]:
            print("  %.2f s  %s" % (dt, what))
    if tally.kinds:
        print("failure kinds (probes):")
        for kind, (n, cats, ex) in sorted(tally.kinds.items(), key=lambda x: -x[1][0]):
            print("  %5d  %s  [%s]\n         e.g. %s" % (n, kind, " ".join(sorted(cats)), ex))
    for f in tally.fails[:MAX_LISTED]:
        print("FAIL: " + f)
    if len(tally.fails) > MAX_LISTED:
        print("... and %d more" % (len(tally.fails) - MAX_LISTED))
    good = True
    if done < len(ps):
        print("FAIL: budget of %.0f s spent after %d of %d probes" % (args.budget, done, len(ps)))
        good = False
    if not setup_ok or ok != tot:
        good = False
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
