/*
 * r1resolve.c - resolved's lookups on D-Bus (see r1resolve.h).  What a
 * call asks and what its answers mean are vlresolve.c's (shared with
 * varlink); this file reads the D-Bus arguments and writes the D-Bus
 * replies.
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>

#include "r1resolve.h"

#ifndef HAVE_SYSTEMD

enum stub_err
r1resolve_new(const struct r1resolve_env *env, struct resolve1 *bus, struct r1resolve **out,
    char *why, size_t whylen)
{
	(void)env;
	(void)bus;
	*out = NULL;
	snprintf(why, whylen, "dbus: stubd was built without D-Bus support (libsystemd)");
	return STUB_EINVAL;
}

bool
r1resolve_answer(struct r1resolve *o, const struct client_ref *ref, const uint8_t *buf, size_t len,
    const struct reply_info *ri)
{
	(void)o;
	(void)buf;
	(void)len;
	(void)ri;
	return (ref->ctl & R1_REF_TAG) != 0;
}

void
r1resolve_free(struct r1resolve *o)
{
	(void)o;
}

#else

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "rand.h"
#include "resolve1.h"
#include "vlglue.h"
#include "vlresolve.h"
#include "wire.h"

#define R1_IFACE "org.freedesktop.resolve1.Manager"
#define R1_ERR "org.freedesktop.resolve1."
#define R1Q_MAX 1024   /* calls waiting at once */
#define R1Q_TARGETS 16 /* SRV records (and targets looked up) per service */
#define R1Q_GEN 0x3fffffffu

/* resolved's input flags (sd-resolve) that callers may pass */
#define F_PROTOCOLS UINT64_C(0x1f)
#define F_NO_CNAME (UINT64_C(1) << 5)
#define F_NO_TXT (UINT64_C(1) << 6)
#define F_NO_ADDRESS (UINT64_C(1) << 7)
#define F_NO_SEARCH (UINT64_C(1) << 8)
#define F_NO_ANY (UINT64_C(0xfc00)) /* NO_VALIDATE ... NO_NETWORK */

/* One SRV record of a service and the lookup of its target. */
struct r1target {
	uint16_t prio, weight, port;
	uint8_t owner[WIRE_NAME_MAX]; /* the SRV's owner (the service name) */
	struct vlr_req req;           /* its target's addresses */
	struct vlr_ans ans[VLR_MAXQ];
	uint8_t *buf[VLR_MAXQ];
};

struct r1call {
	struct r1resolve *o;
	sd_bus_message *msg; /* the call (a reference), answered once */
	sd_bus_track *track; /* its caller on the bus */
	unsigned slot;
	uint32_t gen;
	uint64_t flags;  /* the caller's */
	size_t pending;  /* questions not answered yet */
	bool submitting; /* inside submit: answers may come at once */
	char what[300];  /* the name or address, for errors */
	struct vlr_req req;
	struct vlr_ans ans[VLR_MAXQ];
	uint8_t *buf[VLR_MAXQ];
	/* ResolveService: its SRV records; the targets asked from the loop */
	struct r1target *t;
	size_t nt;
	bool root_only;
	struct event *next;
};

struct r1resolve {
	struct r1resolve_env env;
	struct resolve1 *bus;
	sd_bus_slot *slot;
	size_t ncalls;
	struct r1call *calls[R1Q_MAX];
	uint32_t gens[R1Q_MAX];
};

/* ---------------- calls ---------------- */

static void
call_free(struct r1call *c)
{
	size_t i, k;

	if (!c)
		return;
	c->o->calls[c->slot] = NULL;
	c->o->ncalls--;
	for (i = 0; i < VLR_MAXQ; i++)
		free(c->buf[i]);
	for (i = 0; i < c->nt; i++)
		for (k = 0; k < VLR_MAXQ; k++)
			free(c->t[i].buf[k]);
	free(c->t);
	if (c->next)
		event_free(c->next);
	sd_bus_track_unref(c->track);
	sd_bus_message_unref(c->msg);
	free(c);
}

/* The caller left the bus: nobody to answer. */
static int
caller_gone(sd_bus_track *t, void *userdata)
{
	struct r1call *c = userdata;

	(void)t;
	log_debug("dbus: a caller left; its lookup dropped");
	call_free(c);
	return 0;
}

/* A call of this kind, its name (wire form, NULL for none) and what
 * errors call it; NULL with error set. */
static struct r1call *
call_new(struct r1resolve *o, sd_bus_message *m, enum vlr_kind kind, int32_t ifindex,
    uint64_t flags, const uint8_t *qname, size_t qlen, const char *what, sd_bus_error *error)
{
	struct r1call *c;
	unsigned i;

	if (o->ncalls >= R1Q_MAX) {
		sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "Too many queries");
		return NULL;
	}
	for (i = 0; i < R1Q_MAX && o->calls[i]; i++)
		;
	c = calloc(1, sizeof(*c));
	if (!c || sd_bus_track_new(sd_bus_message_get_bus(m), &c->track, caller_gone, c) < 0 ||
	    sd_bus_track_add_sender(c->track, m) < 0) {
		if (c)
			sd_bus_track_unref(c->track);
		free(c);
		sd_bus_error_set_errno(error, ENOMEM);
		return NULL;
	}
	c->o = o;
	c->msg = sd_bus_message_ref(m);
	c->flags = flags;
	c->req.kind = kind;
	c->req.ifindex = ifindex;
	c->req.qclass = CLASS_IN;
	if (qname)
		memcpy(c->req.qname, qname, qlen);
	c->req.qlen = qlen;
	snprintf(c->what, sizeof(c->what), "%s", what);
	c->slot = i;
	c->gen = o->gens[i] = (o->gens[i] + 1) & R1Q_GEN;
	o->calls[i] = c;
	o->ncalls++;
	return c;
}

/* question sub of the call: 0..VLR_MAXQ-1 its own, then its targets' */
static uint64_t
make_id(const struct r1call *c, size_t sub)
{
	return R1_REF_TAG | (uint64_t)c->gen << 32 | (uint64_t)c->slot << 8 | sub;
}

/* Ask req's questions; each answer counts down c->pending. */
static void
submit(struct r1call *c, const struct vlr_req *req, struct vlr_ans *ans, size_t base)
{
	struct r1resolve *o = c->o;
	size_t i;

	for (i = 0; i < req->nq; i++) {
		uint8_t pkt[WIRE_HDR_LEN + WIRE_NAME_MAX + 4 + 16];
		size_t n = vlr_query_packet(req, i, rand_u16(), pkt, sizeof(pkt));

		ans[i].source = SRC_LOCAL;
		if (!n || vlglue_ask(*o->env.res, make_id(c, base + i), pkt, n) != 0)
			c->pending--; /* answered as dropped */
	}
}

static bool
no_servers(const struct r1resolve *o)
{
	const struct cfg *cfg = o->env.cfg(o->env.arg);

	return !cfg || cfg->nservers == 0;
}

/* ---------------- replies ---------------- */

static void
name_text(const uint8_t *name, char *out, size_t outsz)
{
	size_t len = 0;

	while (len < WIRE_NAME_MAX && name[len])
		len += (size_t)name[len] + 1;
	if (!wire_name_to_text(name, len + 1, out, outsz))
		snprintf(out, outsz, "%s", "");
}

static int
no_such_rr(sd_bus_message *m, enum vlr_kind meth, const char *what)
{
	static const char *const pre[] = { [VLR_ADDRESS] = "Address ", [VLR_RECORD] = "Name " };
	const char *the = meth == VLR_ADDRESS ? "" : "the ";

	return sd_bus_reply_method_errorf(m, R1_ERR "NoSuchRR",
	    "%s'%s' does not have any RR of %srequested type", pre[meth] ? pre[meth] : "", what,
	    the);
}

/* resolved's error when nothing matched (meth: the wording of NoSuchRR). */
static int
reply_failure(sd_bus_message *m, bool none, const struct vlr_req *req, const struct vlr_ans *a,
    const char *what, enum vlr_kind meth)
{
	unsigned rcode;
	char name[64], buf[16];

	switch (vlr_failure(req, a, none, &rcode)) {
	case VLR_FAIL_NO_RR: return no_such_rr(m, meth, what);
	case VLR_FAIL_RCODE:
		if (rcode == RCODE_NXDOMAIN)
			return sd_bus_reply_method_errorf(m, R1_ERR "DnsError.NXDOMAIN",
			    "'%s' not found", what);
		snprintf(name, sizeof(name), R1_ERR "DnsError.%s", wire_rcode_name(rcode, buf));
		return sd_bus_reply_method_errorf(m, name,
		    "Could not resolve '%s', server or network returned error %s", what,
		    wire_rcode_name(rcode, buf));
	case VLR_FAIL_NO_SERVERS:
		return sd_bus_reply_method_errorf(m, R1_ERR "NoNameServers",
		    "No appropriate name servers or networks for name found");
	case VLR_FAIL_TIMED_OUT:
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_TIMEOUT, "Query timed out");
	case VLR_FAIL_ABORTED: break;
	}
	return sd_bus_reply_method_errorf(m, R1_ERR "QueryAborted", "Query aborted");
}

/* What the record callbacks write into. */
struct put {
	sd_bus_message *reply;
	int ifindex;
	int rc; /* the first sd-bus error */
	char canon[1024];
	bool have_canon;
	bool count_only;
};

static bool
put_ok(struct put *p, int rc)
{
	if (rc < 0 && p->rc >= 0)
		p->rc = rc;
	return rc >= 0;
}

/* (iiay): an interface index, a family, 4 or 16 bytes */
static int
append_address(sd_bus_message *reply, int ifindex, int family, const void *addr)
{
	int rc = sd_bus_message_open_container(reply, 'r', "iiay");

	if (rc >= 0)
		rc = sd_bus_message_append(reply, "ii", ifindex, family);
	if (rc >= 0)
		rc = sd_bus_message_append_array(reply, 'y', addr, family == AF_INET ? 4 : 16);
	if (rc >= 0)
		rc = sd_bus_message_close_container(reply);
	return rc;
}

/* an A or AAAA record; the first one's owner is the canonical name */
static bool
put_address(void *arg, const struct vlr_req *req, const struct vlr_rr *x)
{
	struct put *p = arg;

	(void)req;
	if (!vlr_rr_is_address(x->rr, x->qtype))
		return false;
	if (!p->have_canon) {
		name_text(x->owner, p->canon, sizeof(p->canon));
		p->have_canon = true;
	}
	if (p->count_only)
		return true;
	return put_ok(p,
	    append_address(p->reply, x->ifindex ? (int)x->ifindex : p->ifindex,
	        x->qtype == TYPE_A ? AF_INET : AF_INET6, x->msg + x->rr->rd_off));
}

/* (is): a PTR record's target */
static bool
put_ptr(void *arg, const struct vlr_req *req, const struct vlr_rr *x)
{
	struct put *p = arg;
	uint8_t target[WIRE_NAME_MAX];
	char text[1024];
	struct wire_rd d;

	(void)req;
	if (x->rr->type != TYPE_PTR || x->rr->rclass != CLASS_IN)
		return false;
	wire_rd_init(&d, x->msg, x->rr->rd_off + x->rr->rdlen);
	wire_seek(&d, x->rr->rd_off);
	if (!wire_name(&d, target))
		return false;
	name_text(target, text, sizeof(text));
	return put_ok(p, sd_bus_message_append(p->reply, "(is)", p->ifindex, text));
}

/* (iqqay): a record of the type and class asked (or ANY), uncompressed */
static bool
put_record(void *arg, const struct vlr_req *req, const struct vlr_rr *x)
{
	struct put *p = arg;
	size_t n;
	uint8_t *raw;
	int rc;

	if ((x->qtype != TYPE_ANY && x->rr->type != x->qtype) ||
	    (req->qclass != TYPE_ANY && x->rr->rclass != req->qclass))
		return false;
	raw = vlr_rr_raw_dup(x->msg, x->len, x->rr, &n);
	if (!raw)
		return !put_ok(p, -ENOMEM);
	if (!n) {
		free(raw);
		return false;
	}
	rc = sd_bus_message_open_container(p->reply, 'r', "iqqay");
	if (rc >= 0)
		rc = sd_bus_message_append(p->reply, "iqq",
		    x->ifindex ? (int)x->ifindex : p->ifindex, x->rr->rclass, x->rr->type);
	if (rc >= 0)
		rc = sd_bus_message_append_array(p->reply, 'y', raw, n);
	if (rc >= 0)
		rc = sd_bus_message_close_container(p->reply);
	free(raw);
	return put_ok(p, rc);
}

/* The reply of a lookup of one kind: the records, then its trailer. */
static void
finish_simple(struct r1call *c)
{
	static const char *const
	    sig[] = { [VLR_HOSTNAME] = "(iiay)", [VLR_ADDRESS] = "(is)", [VLR_RECORD] = "(iqqay)" };
	static const vlr_rr_fn fn[] = { [VLR_HOSTNAME] = put_address,
		[VLR_ADDRESS] = put_ptr,
		[VLR_RECORD] = put_record };
	sd_bus_message *reply = NULL;
	struct put p;
	size_t n = 0;
	bool oom = false;
	int rc;

	memset(&p, 0, sizeof(p));
	p.ifindex = c->req.ifindex;
	rc = sd_bus_message_new_method_return(c->msg, &reply);
	if (rc >= 0)
		rc = sd_bus_message_open_container(reply, 'a', sig[c->req.kind]);
	if (rc >= 0) {
		p.reply = reply;
		n = vlr_each_rr(&c->req, c->ans, fn[c->req.kind], &p, &oom);
		rc = oom ? -ENOMEM : p.rc;
	}
	if (rc >= 0 && n == 0) {
		rc = reply_failure(c->msg, no_servers(c->o), &c->req, c->ans, c->what, c->req.kind);
		goto out;
	}
	if (rc >= 0)
		rc = sd_bus_message_close_container(reply);
	if (rc >= 0 && c->req.kind == VLR_HOSTNAME)
		rc = sd_bus_message_append(reply, "s", p.have_canon ? p.canon : c->what);
	if (rc >= 0)
		rc = sd_bus_message_append(reply, "t", vlr_flags(&c->req, c->ans));
	if (rc >= 0)
		rc = sd_bus_send(NULL, reply, NULL);
out:
	if (rc < 0) {
		log_err("dbus: cannot reply to %s: %s", sd_bus_message_get_member(c->msg),
		    strerror(-rc));
		sd_bus_reply_method_errno(c->msg, -rc, NULL);
	}
	sd_bus_message_unref(reply);
}

/* ---------------- ResolveService ---------------- */

/* The SRV answer: its records (at most R1Q_TARGETS), each with the
 * question of its target's addresses. */
static bool
take_srv(void *arg, const struct vlr_req *req, const struct vlr_rr *x)
{
	struct r1call *c = arg;
	struct r1target *t;
	struct wire_rd d;
	uint8_t target[WIRE_NAME_MAX];
	size_t len = 0;

	(void)req;
	if (x->qtype != TYPE_SRV || x->rr->type != TYPE_SRV || x->rr->rclass != CLASS_IN ||
	    c->nt == R1Q_TARGETS)
		return false;
	wire_rd_init(&d, x->msg, x->rr->rd_off + x->rr->rdlen);
	wire_seek(&d, x->rr->rd_off);
	t = &c->t[c->nt];
	t->prio = wire_u16(&d);
	t->weight = wire_u16(&d);
	t->port = wire_u16(&d);
	if (!wire_name(&d, target) || d.err)
		return false;
	if (target[0] == 0) { /* "." : the service is not offered (RFC 2782) */
		c->root_only = true;
		return false;
	}
	memcpy(t->owner, x->owner, x->owner_len);
	while (target[len])
		len += (size_t)target[len] + 1;
	/* the target's addresses: A and AAAA, as ResolveHostname asks */
	t->req.kind = VLR_HOSTNAME;
	t->req.family = c->req.family;
	t->req.ifindex = c->req.ifindex;
	t->req.qclass = CLASS_IN;
	t->req.qlen = len + 1;
	memcpy(t->req.qname, target, len + 1);
	if (c->req.family != AF_INET6)
		t->req.qtype[t->req.nq++] = TYPE_A;
	if (c->req.family != AF_INET)
		t->req.qtype[t->req.nq++] = TYPE_AAAA;
	c->nt++;
	return true;
}

/* TXT strings of the service name, each a byte array */
static bool
put_txt(void *arg, const struct vlr_req *req, const struct vlr_rr *x)
{
	struct put *p = arg;
	struct wire_rd d;

	(void)req;
	if (x->qtype != TYPE_TXT || x->rr->type != TYPE_TXT)
		return false;
	wire_rd_init(&d, x->msg, x->rr->rd_off + x->rr->rdlen);
	wire_seek(&d, x->rr->rd_off);
	while (wire_left(&d) > 0 && !d.err) {
		uint8_t n = wire_u8(&d);
		const uint8_t *s = wire_bytes(&d, n);

		if (!d.err && n > 0 && !put_ok(p, sd_bus_message_append_array(p->reply, 'y', s, n)))
			return false;
	}
	return true;
}

/* A label as text, unescaped (DNS-SD instance names are UTF-8 with
 * spaces and dots). */
static void
label_text(const uint8_t *label, char *out, size_t outsz)
{
	size_t n = label[0] < outsz ? label[0] : outsz - 1;

	memcpy(out, label + 1, n);
	out[n] = '\0';
}

/* resolved's split of a service name: [instance.]_type._proto.domain */
static void
split_service(const uint8_t *owner, char *name, char *type, char *domain, size_t sz)
{
	const uint8_t *p = owner, *q = owner[0] ? owner + 1 + owner[0] : owner;
	bool u0 = p[0] && p[1] == '_', u1 = q[0] && q[1] == '_';
	bool u2 = u1 && q[1 + q[0]] && q[2 + q[0]] == '_';

	name[0] = type[0] = '\0';
	if (p[0] && !u0 && u2) { /* instance._type._proto.domain */
		label_text(p, name, sz);
		p = q;
	}
	if ((p == q && u2) || (p == owner && u0 && u1)) {
		char a[64], b[64];

		label_text(p, a, sizeof(a));
		p += 1 + p[0];
		label_text(p, b, sizeof(b));
		p += 1 + p[0];
		snprintf(type, sz, "%s.%s", a, b);
	}
	name_text(p, domain, sz);
}

/* The target's addresses into an SRV's a(iiay); or only counted. */
static size_t
target_addresses(struct r1target *t, struct put *p)
{
	bool oom;
	size_t n = vlr_each_rr(&t->req, t->ans, put_address, p, &oom);

	if (oom)
		put_ok(p, -ENOMEM);
	return n;
}

/* One SRV with its addresses: (qqqsa(iiay)s) */
static int
append_srv(sd_bus_message *reply, struct r1target *t, struct put *p, bool addresses)
{
	char target[1024];
	int rc;

	name_text(t->req.qname, target, sizeof(target));
	p->count_only = false;
	p->have_canon = false;
	rc = sd_bus_message_open_container(reply, 'r', "qqqsa(iiay)s");
	if (rc >= 0)
		rc = sd_bus_message_append(reply, "qqqs", t->prio, t->weight, t->port, target);
	if (rc >= 0)
		rc = sd_bus_message_open_container(reply, 'a', "(iiay)");
	if (rc >= 0 && addresses) {
		target_addresses(t, p);
		rc = p->rc;
	}
	if (rc >= 0)
		rc = sd_bus_message_close_container(reply);
	if (rc >= 0)
		rc = sd_bus_message_append(reply, "s", p->have_canon ? p->canon : target);
	if (rc >= 0)
		rc = sd_bus_message_close_container(reply);
	return rc;
}

static void
finish_service(struct r1call *c)
{
	bool addresses = !(c->flags & F_NO_ADDRESS), some_ok = false;
	struct r1target *bad = NULL;
	sd_bus_message *reply = NULL;
	uint64_t flags = vlr_flags(&c->req, c->ans);
	const uint8_t *canon = NULL;
	char name[256], type[256], domain[1024], text[1024];
	struct put p;
	size_t i;
	unsigned rcode;
	bool oom;
	int rc;

	for (i = 0; addresses && i < c->nt; i++) {
		struct r1target *t = &c->t[i];

		if (vlr_failure(&t->req, t->ans, false, &rcode) == VLR_FAIL_NO_RR)
			some_ok = true; /* a NOERROR answer (with or without addresses) */
		else
			bad = t;
		flags = vlr_flags_merge(flags, vlr_flags(&t->req, t->ans));
	}
	if (addresses && !some_ok && bad) { /* resolved: the last target's error */
		name_text(bad->req.qname, text, sizeof(text));
		rc = reply_failure(c->msg, no_servers(c->o), &bad->req, bad->ans, text,
		    VLR_SERVICE);
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.ifindex = c->req.ifindex;
	rc = sd_bus_message_new_method_return(c->msg, &reply);
	p.reply = reply;
	if (rc >= 0)
		rc = sd_bus_message_open_container(reply, 'a', "(qqqsa(iiay)s)");
	for (i = 0; rc >= 0 && i < c->nt; i++) {
		/* an SRV whose target has no address is left out, as resolved does */
		p.count_only = true;
		if (addresses && target_addresses(&c->t[i], &p) == 0)
			continue;
		rc = append_srv(reply, &c->t[i], &p, addresses);
		if (!canon)
			canon = c->t[i].owner;
	}
	if (rc >= 0 && !canon) {
		rc = no_such_rr(c->msg, VLR_SERVICE, c->what);
		goto out;
	}
	if (rc >= 0)
		rc = sd_bus_message_close_container(reply);
	if (rc >= 0)
		rc = sd_bus_message_open_container(reply, 'a', "ay");
	if (rc >= 0) {
		vlr_each_rr(&c->req, c->ans, put_txt, &p, &oom);
		rc = oom ? -ENOMEM : p.rc;
	}
	if (rc >= 0)
		rc = sd_bus_message_close_container(reply);
	if (rc >= 0) {
		split_service(canon, name, type, domain, sizeof(name));
		rc = sd_bus_message_append(reply, "ssst", name, type, domain, flags);
	}
	if (rc >= 0)
		rc = sd_bus_send(NULL, reply, NULL);
out:
	if (rc < 0) {
		log_err("dbus: cannot reply to ResolveService: %s", strerror(-rc));
		sd_bus_reply_method_errno(c->msg, -rc, NULL);
	}
	sd_bus_message_unref(reply);
}

static void finish(struct r1call *c);

/* From the loop (not from inside the pipeline's reply): the targets'
 * addresses asked. */
static void
ask_targets(evutil_socket_t fd, short what, void *arg)
{
	struct r1call *c = arg;
	size_t i;

	(void)fd;
	(void)what;
	c->submitting = true;
	for (i = 0; i < c->nt; i++)
		submit(c, &c->t[i].req, c->t[i].ans, VLR_MAXQ * (i + 1));
	c->submitting = false;
	if (c->pending == 0)
		finish(c);
}

/* The SRV answer is in: true when the targets are to be asked; false when
 * the call is to be finished now (replied with an error, or NO_ADDRESS). */
static bool
service_next(struct r1call *c)
{
	struct vlr_req srv = c->req;
	size_t i;
	bool oom;

	srv.nq = 1; /* the SRV question decides; TXT only adds */
	c->t = calloc(R1Q_TARGETS, sizeof(*c->t));
	if (!c->t) {
		sd_bus_reply_method_errno(c->msg, ENOMEM, NULL);
		return false;
	}
	vlr_each_rr(&srv, c->ans, take_srv, c, &oom);
	if (c->nt == 0 && c->root_only) {
		sd_bus_reply_method_errorf(c->msg, R1_ERR "NoSuchService",
		    "'%s' does not provide the requested service", c->what);
		return false;
	}
	if (c->nt == 0) {
		reply_failure(c->msg, no_servers(c->o), &srv, c->ans, c->what, VLR_SERVICE);
		return false;
	}
	if (c->flags & F_NO_ADDRESS) {
		finish_service(c);
		return false;
	}
	c->next = event_new(c->o->env.base, -1, 0, ask_targets, c);
	if (!c->next) {
		sd_bus_reply_method_errno(c->msg, ENOMEM, NULL);
		return false;
	}
	for (i = 0; i < c->nt; i++)
		c->pending += c->t[i].req.nq;
	event_active(c->next, EV_TIMEOUT, 1);
	return true;
}

/* Every question asked so far is answered: reply, or ask the next. */
static void
finish(struct r1call *c)
{
	struct r1resolve *o = c->o;

	if (c->req.kind != VLR_SERVICE)
		finish_simple(c);
	else if (!c->t) {
		if (service_next(c))
			return; /* the targets are asked from the loop */
	} else {
		finish_service(c);
	}
	call_free(c);
	resolve1_flush(o->bus);
}

bool
r1resolve_answer(struct r1resolve *o, const struct client_ref *ref, const uint8_t *buf, size_t len,
    const struct reply_info *ri)
{
	unsigned slot;
	size_t sub;
	struct r1call *c;
	struct vlr_ans *a;
	uint8_t **store;

	if (!o || !(ref->ctl & R1_REF_TAG) || (ref->ctl & (UINT64_C(1) << 63)))
		return false;
	slot = (unsigned)(ref->ctl >> 8) & 0xffffffu;
	sub = ref->ctl & 0xff;
	if (slot >= R1Q_MAX)
		return true;
	c = o->calls[slot];
	if (!c || c->gen != (uint32_t)((ref->ctl >> 32) & R1Q_GEN) || !c->pending)
		return true;
	if (sub < VLR_MAXQ) {
		if (sub >= c->req.nq)
			return true;
		a = &c->ans[sub];
		store = &c->buf[sub];
	} else {
		size_t t = sub / VLR_MAXQ - 1, k = sub % VLR_MAXQ;

		if (t >= c->nt || k >= c->t[t].req.nq)
			return true;
		a = &c->t[t].ans[k];
		store = &c->t[t].buf[k];
	}
	if (a->msg || *store)
		return true;
	vlr_ans_take(a, store, buf, len, ri);
	if (--c->pending == 0 && !c->submitting)
		finish(c);
	return true;
}

/* ---------------- methods ---------------- */

/* SPEC 16: served only under resolved-compat yes */
static int
compat(struct r1resolve *o, sd_bus_message *m, sd_bus_error *error)
{
	const struct cfg *cfg = o->env.cfg(o->env.arg);

	if (!cfg || !cfg->resolved_compat)
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_METHOD,
		    "Unknown method %s or interface %s.", sd_bus_message_get_member(m), R1_IFACE);
	return 0;
}

/* resolved's check of the interface index and the input flags: the
 * protocols, the NO_* it knows and those of the method (extra).  stubd
 * asks only DNS and takes the NO_* as hints it may ignore. */
static int
check_flags(int32_t ifindex, uint64_t flags, uint64_t extra, sd_bus_error *error)
{
	if (ifindex < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Invalid interface index");
	if (flags & ~(F_PROTOCOLS | F_NO_CNAME | F_NO_ANY | extra))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Invalid flags parameter");
	return 0;
}

/* Ask the call's questions; reply now when all are answered already. */
static int
start(struct r1call *c)
{
	c->pending = c->req.nq;
	c->submitting = true;
	submit(c, &c->req, c->ans, 0);
	c->submitting = false;
	if (c->pending == 0)
		finish(c);
	return 1;
}

/* A host name that is an address ("192.0.2.1", "fe80::1%eth0"): itself,
 * with no lookup, as resolved answers it.  *done: it was one. */
static int
literal(sd_bus_message *m, int32_t ifindex, const char *name, int32_t family, bool *done)
{
	char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], *pct;
	uint8_t a[16];
	int fam, scope = 0, rc;
	sd_bus_message *reply = NULL;

	*done = false;
	snprintf(text, sizeof(text), "%s", name);
	pct = strchr(text, '%');
	if (pct) {
		*pct++ = '\0';
		scope = (int)if_nametoindex(pct);
		if (!scope)
			scope = atoi(pct);
	}
	if (inet_pton(AF_INET, text, a) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, text, a) == 1)
		fam = AF_INET6;
	else
		return 0;
	*done = true;
	if (family != AF_UNSPEC && family != fam)
		return sd_bus_reply_method_errorf(m, R1_ERR "NoSuchRR",
		    "The specified address is not of the requested family.");
	if (ifindex > 0 && scope > 0 && scope != ifindex)
		return sd_bus_reply_method_errorf(m, R1_ERR "NoSuchRR",
		    "The specified address interface index does not match requested interface.");
	if (scope > 0)
		ifindex = scope;
	inet_ntop(fam, a, text, sizeof(text));
	rc = sd_bus_message_new_method_return(m, &reply);
	if (rc >= 0)
		rc = sd_bus_message_open_container(reply, 'a', "(iiay)");
	if (rc >= 0)
		rc = append_address(reply, ifindex, fam, a);
	if (rc >= 0)
		rc = sd_bus_message_close_container(reply);
	if (rc >= 0)
		rc = sd_bus_message_append(reply, "st", text,
		    VLR_F_DNS | VLR_F_SYNTHETIC | VLR_F_AUTHENTICATED | VLR_F_CONFIDENTIAL);
	if (rc >= 0)
		rc = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return rc;
}

/* ResolveHostname (isit) -> a(iiay)st */
static int
m_resolve_hostname(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct r1resolve *o = userdata;
	const char *name;
	int32_t ifindex, family;
	uint64_t flags;
	struct r1call *c;
	uint8_t qname[WIRE_NAME_MAX];
	size_t qlen;
	bool done;
	int rc;

	if ((rc = compat(o, m, error)) < 0)
		return rc;
	if ((rc = sd_bus_message_read(m, "isit", &ifindex, &name, &family, &flags)) < 0)
		return rc;
	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Unknown address family %i", (int)family);
	if ((rc = check_flags(ifindex, flags, F_NO_SEARCH, error)) < 0)
		return rc;
	rc = literal(m, ifindex, name, family, &done);
	if (done)
		return rc;
	if (!(qlen = name[0] ? wire_name_from_text(name, qname) : 0))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid hostname '%s'",
		    name);
	if (!(c = call_new(o, m, VLR_HOSTNAME, ifindex, flags, qname, qlen, name, error)))
		return -EBUSY;
	c->req.family = family;
	if (family != AF_INET6)
		c->req.qtype[c->req.nq++] = TYPE_A;
	if (family != AF_INET)
		c->req.qtype[c->req.nq++] = TYPE_AAAA;
	return start(c);
}

/* ResolveAddress (iiayt) -> a(is)t */
static int
m_resolve_address(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct r1resolve *o = userdata;
	int32_t ifindex, family;
	const void *addr;
	char text[INET6_ADDRSTRLEN];
	size_t sz;
	uint64_t flags;
	struct r1call *c;
	int rc;

	if ((rc = compat(o, m, error)) < 0)
		return rc;
	if ((rc = sd_bus_message_read(m, "ii", &ifindex, &family)) < 0 ||
	    (rc = sd_bus_message_read_array(m, 'y', &addr, &sz)) < 0 ||
	    (rc = sd_bus_message_read(m, "t", &flags)) < 0)
		return rc;
	if (family != AF_INET && family != AF_INET6)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Unknown address family %i", (int)family);
	if (sz != (family == AF_INET ? 4u : 16u))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid address size");
	if ((rc = check_flags(ifindex, flags, 0, error)) < 0)
		return rc;
	inet_ntop(family, addr, text, sizeof(text));
	if (!(c = call_new(o, m, VLR_ADDRESS, ifindex, flags, NULL, 0, text, error)))
		return -EBUSY;
	vlr_req_reverse(&c->req, family, addr, sz);
	return start(c);
}

/* ResolveRecord (isqqt) -> a(iqqay)t */
static int
m_resolve_record(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct r1resolve *o = userdata;
	const char *name;
	int32_t ifindex;
	uint16_t qclass, qtype;
	uint64_t flags;
	uint8_t qname[WIRE_NAME_MAX];
	size_t qlen;
	struct r1call *c;
	int rc;

	if ((rc = compat(o, m, error)) < 0)
		return rc;
	if ((rc = sd_bus_message_read(m, "isqqt", &ifindex, &name, &qclass, &qtype, &flags)) < 0)
		return rc;
	if ((rc = check_flags(ifindex, flags, 0, error)) < 0)
		return rc;
	if (qtype == 0 || qtype == TYPE_OPT || qtype == 249 || qtype == 250) /* TKEY, TSIG */
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Specified resource record type %u may not be used in a query.", qtype);
	if (qtype == 251 || qtype == 252) /* IXFR, AXFR */
		return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
		    "Zone transfers not permitted via this programming interface.");
	if (!(qlen = name[0] ? wire_name_from_text(name, qname) : 0))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid name '%s'",
		    name);
	if (!(c = call_new(o, m, VLR_RECORD, ifindex, flags, qname, qlen, name, error)))
		return -EBUSY;
	c->req.qclass = qclass;
	c->req.qtype[c->req.nq++] = qtype;
	return start(c);
}

/* "_http._tcp": two labels, each starting with '_' */
static bool
srv_type_ok(const char *type)
{
	const char *dot = strchr(type, '.');

	return type[0] == '_' && dot && dot - type > 1 && dot[1] == '_' && dot[2] != '\0' &&
	    !strchr(dot + 1, '.');
}

/* The service's name in wire form: [instance.]type.domain, or domain. */
static bool
service_name(const char *name, const char *type, const char *domain, uint8_t *out, size_t *len)
{
	char text[1024];
	uint8_t rest[WIRE_NAME_MAX];
	size_t n = strlen(name), off = 0;

	*len = 0;
	if (name[0]) { /* the instance label, as it is (UTF-8, spaces, dots) */
		if (n > 63)
			return false;
		out[0] = (uint8_t)n;
		memcpy(out + 1, name, n);
		off = n + 1;
	}
	if (type[0])
		snprintf(text, sizeof(text), "%s.%s", type, domain);
	else
		snprintf(text, sizeof(text), "%s", domain);
	n = wire_name_from_text(text, rest);
	if (!n || off + n > WIRE_NAME_MAX)
		return false;
	memcpy(out + off, rest, n);
	*len = off + n;
	return true;
}

/* ResolveService (isssit) -> a(qqqsa(iiay)s)aayssst */
static int
m_resolve_service(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct r1resolve *o = userdata;
	const char *name, *type, *domain;
	int32_t ifindex, family;
	uint64_t flags;
	uint8_t wire[WIRE_NAME_MAX];
	char text[1024];
	size_t wlen;
	struct r1call *c;
	int rc;

	if ((rc = compat(o, m, error)) < 0)
		return rc;
	if ((rc = sd_bus_message_read(m, "isssit", &ifindex, &name, &type, &domain, &family,
	         &flags)) < 0)
		return rc;
	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Unknown address family %i", (int)family);
	if (type[0] && !srv_type_ok(type))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Invalid SRV service type '%s'", type);
	if (name[0] && !type[0])
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
		    "Service name cannot be specified without service type.");
	if (!domain[0] || !service_name(name, type, domain, wire, &wlen))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid domain '%s'",
		    domain);
	if ((rc = check_flags(ifindex, flags, F_NO_TXT | F_NO_ADDRESS, error)) < 0)
		return rc;
	name_text(wire, text, sizeof(text));
	if (!(c = call_new(o, m, VLR_SERVICE, ifindex, flags, wire, wlen, text, error)))
		return -EBUSY;
	c->req.family = family;
	c->req.qtype[c->req.nq++] = TYPE_SRV;
	if (!(flags & F_NO_TXT))
		c->req.qtype[c->req.nq++] = TYPE_TXT;
	return start(c);
}

/* ResetStatistics (): the caller checked as for FlushCaches (SPEC 11) */
static int
m_reset_statistics(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct r1resolve *o = userdata;
	int rc;

	if ((rc = compat(o, m, error)) < 0)
		return rc;
	if ((rc = resolve1_check_caller(o->bus, m, error)) < 0)
		return rc;
	o->env.reset_stats(o->env.arg);
	log_info("dbus: ResetStatistics");
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable r1resolve_vtable[] = { SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("ResolveHostname", "isit", "a(iiay)st", m_resolve_hostname,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ResolveAddress", "iiayt", "a(is)t", m_resolve_address,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ResolveRecord", "isqqt", "a(iqqay)t", m_resolve_record,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ResolveService", "isssit", "a(qqqsa(iiay)s)aayssst", m_resolve_service,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ResetStatistics", "", "", m_reset_statistics, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END };

enum stub_err
r1resolve_new(const struct r1resolve_env *env, struct resolve1 *bus, struct r1resolve **out,
    char *why, size_t whylen)
{
	struct r1resolve *o = calloc(1, sizeof(*o));

	*out = NULL;
	if (!o) {
		snprintf(why, whylen, "dbus: out of memory");
		return STUB_ENOMEM;
	}
	o->env = *env;
	o->bus = bus;
	if (resolve1_add_methods(bus, r1resolve_vtable, o, &o->slot) != STUB_OK) {
		snprintf(why, whylen, "dbus: cannot add the Resolve methods");
		free(o);
		return STUB_EIO;
	}
	*out = o;
	return STUB_OK;
}

void
r1resolve_free(struct r1resolve *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < R1Q_MAX; i++)
		call_free(o->calls[i]);
	sd_bus_slot_unref(o->slot);
	free(o);
}

#endif
