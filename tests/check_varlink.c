/*
 * check_varlink.c - the varlink framing and calls (varlink.c) and
 * io.systemd.Resolve's calls and answers (vlresolve.c), without sockets.
 */
#include "auto-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checkmain.h"
#include "resolve.h"
#include "varlink.h"
#include "vlresolve.h"
#include "wire.h"

/* A reply as the peer reads it: ends with its NUL, parses, is an object. */
static struct jval *
parse_msg(char *out, size_t len)
{
	char err[80];
	struct jval *v;

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_gt(len, 1);
	ck_assert_int_eq(out[len - 1], '\0');
	ck_assert_uint_eq(strlen(out), len - 1);
	v = jsonp_parse(out, len - 1, err, sizeof(err));
	ck_assert_msg(v != NULL, "%s: %s", err, out);
	ck_assert_int_eq(v->type, J_OBJ);
	free(out);
	return v;
}

static const char *
error_of(const struct jval *v)
{
	const struct jval *e = jsonp_get(v, "error");

	return e && e->type == J_STR ? e->str : "";
}

static const struct jval *
param(const struct jval *v, const char *key)
{
	const struct jval *p = jsonp_get(v, "parameters");

	ck_assert_ptr_nonnull(p);
	return jsonp_get(p, key);
}

START_TEST(test_framer)
{
	struct vl_framer f;
	const char *m;
	size_t len;
	char *big;

	vl_framer_init(&f);
	ck_assert_uint_eq(vl_framer_room(&f), VL_MSG_MAX);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), 0);
	/* two messages and the start of a third in one read */
	ck_assert_int_eq(vl_framer_feed(&f, "{\"a\":1}\0{}\0{\"b\"", 15), STUB_OK);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), 1);
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(m, "{\"a\":1}", 7) == 0);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), 1);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), 0);
	ck_assert_uint_eq(vl_framer_pending(&f), 4);
	/* the rest of it later */
	ck_assert_int_eq(vl_framer_feed(&f, ":2}", 4), STUB_OK);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), 1);
	ck_assert_str_eq(m, "{\"b\":2}");
	ck_assert_uint_eq(vl_framer_pending(&f), 0);
	/* a message may not pass VL_MSG_MAX: no room, and then an error */
	big = malloc(VL_MSG_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', VL_MSG_MAX + 1);
	ck_assert_int_eq(vl_framer_feed(&f, big, VL_MSG_MAX + 1), STUB_EINVAL);
	ck_assert_int_eq(vl_framer_feed(&f, big, VL_MSG_MAX - 1), STUB_OK);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), 0);
	ck_assert_uint_eq(vl_framer_room(&f), 1);
	ck_assert_int_eq(vl_framer_feed(&f, big, 1), STUB_OK);
	ck_assert_uint_eq(vl_framer_room(&f), 0);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), -1);
	free(big);
	vl_framer_fini(&f);
	/* exactly VL_MSG_MAX bytes with the NUL is one message */
	vl_framer_init(&f);
	big = malloc(VL_MSG_MAX);
	memset(big, ' ', VL_MSG_MAX);
	big[VL_MSG_MAX - 1] = '\0';
	ck_assert_int_eq(vl_framer_feed(&f, big, VL_MSG_MAX), STUB_OK);
	ck_assert_int_eq(vl_framer_next(&f, &m, &len), 1);
	ck_assert_uint_eq(len, VL_MSG_MAX - 1);
	free(big);
	vl_framer_fini(&f);
}
END_TEST

START_TEST(test_call_parse)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"method\":5}",
		"{\"method\":\"\"}",
		"{\"method\":\"a.b\",\"parameters\":[]}",
		"{\"method\":\"a.b\",\"more\":1}",
		"{\"method\":\"a.b\",\"more\":true,\"oneway\":true}",
		"{\"method\":\"a.b\"",
		"{\"method\":\"a.b\"} x",
	};
	struct vl_call c;
	size_t i;
	const char *s;
	const char *ok = "{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                 "\"parameters\":{\"name\":\"x\"},\"more\":true}";

	ck_assert_int_eq(vl_call_parse(ok, strlen(ok), &c), STUB_OK);
	ck_assert_str_eq(c.method, "io.systemd.Resolve.ResolveHostname");
	ck_assert_str_eq(jsonp_get(c.params, "name")->str, "x");
	ck_assert(c.more);
	ck_assert(!c.oneway);
	vl_call_free(&c);
	/* no parameters: an empty object */
	s = "{\"method\":\"a.b\",\"oneway\":true}";
	ck_assert_int_eq(vl_call_parse(s, strlen(s), &c), STUB_OK);
	ck_assert_int_eq(c.params->type, J_OBJ);
	ck_assert_uint_eq(c.params->n, 0);
	ck_assert(c.oneway);
	vl_call_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(vl_call_parse(bad[i], strlen(bad[i]), &c) == STUB_EINVAL, "%s",
		    bad[i]);
		ck_assert_ptr_null(c.root);
	}
}
END_TEST

START_TEST(test_writers)
{
	struct json j;
	struct jval *v;
	size_t len;
	char *s;

	vl_reply_begin(&j);
	json_key(&j, "x");
	json_u64(&j, 1);
	s = vl_end(&j, true, &len);
	v = parse_msg(s, len);
	ck_assert(jsonp_get(v, "continues")->b);
	ck_assert_int_eq((int)param(v, "x")->num, 1);
	jsonp_free(v);
	s = vl_error("org.varlink.service.MethodNotFound", "method", "a.b", &len);
	v = parse_msg(s, len);
	ck_assert_str_eq(error_of(v), "org.varlink.service.MethodNotFound");
	ck_assert_str_eq(param(v, "method")->str, "a.b");
	ck_assert_ptr_null(jsonp_get(v, "continues"));
	jsonp_free(v);
}
END_TEST

/* vlr_call on a call given as text */
static enum vlr_verdict
call(const char *text, struct vlr_req *req, struct jval **reply)
{
	struct vl_call c;
	enum vlr_verdict v;
	char *out;
	size_t len;

	ck_assert_int_eq(vl_call_parse(text, strlen(text), &c), STUB_OK);
	v = vlr_call(&c, "1.0", req, &out, &len);
	vl_call_free(&c);
	*reply = NULL;
	if (v == VLR_REPLY)
		*reply = parse_msg(out, len);
	else
		ck_assert_ptr_null(out);
	return v;
}

static void
expect_invalid(const char *text, const char *parameter)
{
	struct vlr_req req;
	struct jval *r;

	ck_assert_int_eq(call(text, &req, &r), VLR_REPLY);
	ck_assert_str_eq(error_of(r), "org.varlink.service.InvalidParameter");
	ck_assert_str_eq(param(r, "parameter")->str, parameter);
	jsonp_free(r);
}

START_TEST(test_calls)
{
	struct vlr_req req;
	struct jval *r;
	char name[256];

	ck_assert_int_eq(call("{\"method\":\"org.varlink.service.GetInfo\"}", &req, &r), VLR_REPLY);
	ck_assert_str_eq(param(r, "vendor")->str, "stubd");
	ck_assert_str_eq(param(r, "interfaces")->items[1]->str, "io.systemd.Resolve");
	jsonp_free(r);
	ck_assert_int_eq(call("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	                      "\"parameters\":{\"interface\":\"io.systemd.Resolve\"}}",
	                     &req, &r),
	    VLR_REPLY);
	ck_assert_ptr_nonnull(strstr(param(r, "description")->str, "method ResolveHostname("));
	jsonp_free(r);
	ck_assert_int_eq(call("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
	                      "\"parameters\":{\"interface\":\"x.y\"}}",
	                     &req, &r),
	    VLR_REPLY);
	ck_assert_str_eq(error_of(r), "org.varlink.service.InterfaceNotFound");
	jsonp_free(r);
	ck_assert_int_eq(call("{\"method\":\"io.systemd.Resolve.Nope\"}", &req, &r), VLR_REPLY);
	ck_assert_str_eq(error_of(r), "org.varlink.service.MethodNotFound");
	ck_assert_str_eq(param(r, "method")->str, "io.systemd.Resolve.Nope");
	jsonp_free(r);

	/* ResolveHostname: family 0 asks A and AAAA */
	ck_assert_int_eq(call("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                      "\"parameters\":{\"name\":\"www.Example.com\",\"flags\":0}}",
	                     &req, &r),
	    VLR_QUERY);
	ck_assert_int_eq(req.kind, VLR_HOSTNAME);
	ck_assert_uint_eq(req.nq, 2);
	ck_assert_uint_eq(req.qtype[0], TYPE_A);
	ck_assert_uint_eq(req.qtype[1], TYPE_AAAA);
	ck_assert(wire_name_to_text(req.qname, req.qlen, name, sizeof(name)));
	ck_assert_str_eq(name, "www.Example.com");
	ck_assert_int_eq(
	    call("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	         "\"parameters\":{\"name\":\"x.example\",\"family\":10,\"ifindex\":3}}",
	        &req, &r),
	    VLR_QUERY);
	ck_assert_uint_eq(req.nq, 1);
	ck_assert_uint_eq(req.qtype[0], TYPE_AAAA);
	ck_assert_int_eq(req.ifindex, 3);
	/* a literal address is answered at once, synthesized */
	ck_assert_int_eq(call("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                      "\"parameters\":{\"name\":\"192.0.2.1\"}}",
	                     &req, &r),
	    VLR_REPLY);
	ck_assert_uint_eq(param(r, "addresses")->n, 1);
	ck_assert_int_eq((int)param(r, "addresses")->items[0]->items[0]->num, AF_INET);
	ck_assert((uint64_t)param(r, "flags")->num & VLR_F_SYNTHETIC);
	jsonp_free(r);
	ck_assert_int_eq(call("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                      "\"parameters\":{\"name\":\"192.0.2.1\",\"family\":10}}",
	                     &req, &r),
	    VLR_REPLY);
	ck_assert_str_eq(error_of(r), "io.systemd.Resolve.NoSuchResourceRecord");
	jsonp_free(r);

	/* ResolveAddress: the reverse name */
	ck_assert_int_eq(call("{\"method\":\"io.systemd.Resolve.ResolveAddress\","
	                      "\"parameters\":{\"family\":2,\"address\":[192,0,2,7]}}",
	                     &req, &r),
	    VLR_QUERY);
	ck_assert_uint_eq(req.qtype[0], TYPE_PTR);
	ck_assert(wire_name_to_text(req.qname, req.qlen, name, sizeof(name)));
	ck_assert_str_eq(name, "7.2.0.192.in-addr.arpa");
	ck_assert_int_eq(call("{\"method\":\"io.systemd.Resolve.ResolveAddress\",\"parameters\":"
	                      "{\"family\":10,\"address\":[32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1]}}",
	                     &req, &r),
	    VLR_QUERY);
	ck_assert(wire_name_to_text(req.qname, req.qlen, name, sizeof(name)));
	ck_assert_str_eq(name,
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");

	/* ResolveRecord */
	ck_assert_int_eq(call("{\"method\":\"io.systemd.Resolve.ResolveRecord\","
	                      "\"parameters\":{\"name\":\"example.com\",\"type\":15}}",
	                     &req, &r),
	    VLR_QUERY);
	ck_assert_uint_eq(req.qtype[0], TYPE_MX);
	ck_assert_uint_eq(req.qclass, CLASS_IN);

	/* what is not a valid call */
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveHostname\"}", "name");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	               "\"parameters\":{\"name\":\"\"}}",
	    "name");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	               "\"parameters\":{\"name\":\"a..b\"}}",
	    "name");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	               "\"parameters\":{\"name\":\"a\",\"family\":3}}",
	    "family");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	               "\"parameters\":{\"name\":\"a\",\"ifindex\":-1}}",
	    "ifindex");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	               "\"parameters\":{\"name\":\"a\",\"flags\":0.5}}",
	    "flags");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveAddress\","
	               "\"parameters\":{\"family\":2,\"address\":[1,2,3]}}",
	    "address");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveAddress\","
	               "\"parameters\":{\"family\":2,\"address\":[1,2,3,256]}}",
	    "address");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveAddress\","
	               "\"parameters\":{\"address\":[1,2,3,4]}}",
	    "family");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveRecord\","
	               "\"parameters\":{\"name\":\"a\"}}",
	    "type");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveRecord\","
	               "\"parameters\":{\"name\":\"a\",\"type\":41}}",
	    "type");
	expect_invalid("{\"method\":\"io.systemd.Resolve.ResolveRecord\","
	               "\"parameters\":{\"name\":\"a\",\"type\":1,\"class\":0}}",
	    "class");
}
END_TEST

/* ---- answers ---- */

struct rec {
	const char *owner; /* NULL: a pointer to the question's name */
	uint16_t type;
	const uint8_t *rdata; /* as is (may hold a pointer to offset 12) */
	size_t rdlen;
};

/* An answer to (qname, qtype) with these records; rcode, AD. */
static size_t
answer(uint8_t *buf, size_t cap, const char *qname, uint16_t qtype, unsigned rcode, bool ad,
    const struct rec *rr, size_t n)
{
	struct wire_wr w;
	struct wire_hdr h = { 0x1234, (uint16_t)(0x8180 | rcode | (ad ? WIRE_AD : 0)), 1,
		(uint16_t)n, 0, 0 };
	uint8_t name[WIRE_NAME_MAX];
	size_t i, len = wire_name_from_text(qname, name);

	wire_wr_init(&w, buf, cap);
	wire_put_hdr(&w, &h);
	wire_put_name(&w, name, len);
	wire_put_u16(&w, qtype);
	wire_put_u16(&w, CLASS_IN);
	for (i = 0; i < n; i++) {
		if (rr[i].owner) {
			len = wire_name_from_text(rr[i].owner, name);
			wire_put_name(&w, name, len);
		} else {
			wire_put_u16(&w, 0xc00c);
		}
		wire_put_u16(&w, rr[i].type);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, 300);
		wire_put_u16(&w, (uint16_t)rr[i].rdlen);
		wire_put_bytes(&w, rr[i].rdata, rr[i].rdlen);
	}
	ck_assert_int_eq(w.err, 0);
	return w.len;
}

static struct vlr_req
req_for(const char *text)
{
	struct vlr_req req;
	struct jval *r;

	ck_assert_int_eq(call(text, &req, &r), VLR_QUERY);
	return req;
}

static struct jval *
reply(const struct vlr_req *req, const struct vlr_ans *a, bool no_servers)
{
	size_t len;
	char *out = vlr_answer(req, a, no_servers, &len);

	return parse_msg(out, len);
}

static const uint8_t a7[] = { 192, 0, 2, 7 };
static const uint8_t aaaa7[] = { 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };

START_TEST(test_hostname_answers)
{
	struct vlr_req req = req_for("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                             "\"parameters\":{\"name\":\"alias.example.com\"}}");
	/* alias CNAME www (its target compressed), www A / AAAA */
	static const uint8_t cname[] = { 3, 'w', 'w', 'w', 0xc0, 18 };
	struct rec ra[] = { { NULL, TYPE_CNAME, cname, sizeof(cname) },
		{ "www.example.com", TYPE_A, a7, 4 } };
	struct rec r6[] = { { NULL, TYPE_CNAME, cname, sizeof(cname) },
		{ "www.example.com", TYPE_AAAA, aaaa7, 16 },
		{ "other.example.com", TYPE_AAAA, aaaa7, 16 } };
	uint8_t b4[512], b6[512];
	struct vlr_ans a[2];
	struct jval *r;
	const struct jval *addr;

	memset(a, 0, sizeof(a));
	a[0].msg = b4;
	a[0].len = answer(b4, sizeof(b4), "alias.example.com", TYPE_A, 0, false, ra, 2);
	a[0].source = SRC_UPSTREAM;
	a[1].msg = b6;
	a[1].len = answer(b6, sizeof(b6), "alias.example.com", TYPE_AAAA, 0, false, r6, 3);
	a[1].source = SRC_CACHE;
	r = reply(&req, a, false);
	ck_assert_str_eq(error_of(r), "");
	addr = param(r, "addresses");
	/* the record of another name is not among them */
	ck_assert_uint_eq(addr->n, 2);
	ck_assert_int_eq((int)jsonp_get(addr->items[0], "family")->num, AF_INET);
	ck_assert_uint_eq(jsonp_get(addr->items[0], "address")->n, 4);
	ck_assert_int_eq((int)jsonp_get(addr->items[0], "address")->items[0]->num, 192);
	ck_assert_int_eq((int)jsonp_get(addr->items[1], "family")->num, AF_INET6);
	ck_assert_uint_eq(jsonp_get(addr->items[1], "address")->n, 16);
	ck_assert_ptr_null(jsonp_get(addr->items[0], "ifindex"));
	ck_assert_str_eq(param(r, "name")->str, "www.example.com");
	ck_assert_uint_eq((uint64_t)param(r, "flags")->num,
	    VLR_F_DNS | VLR_F_FROM_NETWORK | VLR_F_FROM_CACHE);
	jsonp_free(r);

	/* hosts: synthetic (and authenticated, confidential, as resolved's) */
	a[0].source = a[1].source = SRC_HOSTS;
	r = reply(&req, a, false);
	ck_assert_uint_eq((uint64_t)param(r, "flags")->num,
	    VLR_F_DNS | VLR_F_SYNTHETIC | VLR_F_AUTHENTICATED | VLR_F_CONFIDENTIAL);
	jsonp_free(r);

	/* AD in both, every packet encrypted */
	a[0].len = answer(b4, sizeof(b4), "alias.example.com", TYPE_A, 0, true, ra, 2);
	a[1].len = answer(b6, sizeof(b6), "alias.example.com", TYPE_AAAA, 0, true, r6, 3);
	a[0].source = a[1].source = SRC_UPSTREAM;
	a[0].traced = a[1].traced = a[0].encrypted = a[1].encrypted = true;
	r = reply(&req, a, false);
	ck_assert_uint_eq((uint64_t)param(r, "flags")->num,
	    VLR_F_DNS | VLR_F_FROM_NETWORK | VLR_F_AUTHENTICATED | VLR_F_CONFIDENTIAL);
	jsonp_free(r);
	/* one of them in clear text, one without AD: neither flag */
	a[1].encrypted = false;
	a[0].len = answer(b4, sizeof(b4), "alias.example.com", TYPE_A, 0, false, ra, 2);
	r = reply(&req, a, false);
	ck_assert_uint_eq((uint64_t)param(r, "flags")->num, VLR_F_DNS | VLR_F_FROM_NETWORK);
	jsonp_free(r);
}
END_TEST

static void
expect_error(const struct vlr_req *req, const struct vlr_ans *a, bool no_servers, const char *error,
    int rcode)
{
	struct jval *r = reply(req, a, no_servers);

	ck_assert_str_eq(error_of(r), error);
	if (rcode >= 0)
		ck_assert_int_eq((int)param(r, "rcode")->num, rcode);
	jsonp_free(r);
}

START_TEST(test_failures)
{
	struct vlr_req req = req_for("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                             "\"parameters\":{\"name\":\"x.example.com\"}}");
	uint8_t b4[512], b6[512];
	struct vlr_ans a[2];
	struct up_trace t;

	memset(a, 0, sizeof(a));
	a[0].msg = b4;
	a[1].msg = b6;
	/* NXDOMAIN */
	a[0].len = answer(b4, sizeof(b4), "x.example.com", TYPE_A, RCODE_NXDOMAIN, false, NULL, 0);
	a[1].len = answer(b6, sizeof(b6), "x.example.com", TYPE_AAAA, RCODE_NXDOMAIN, false, NULL,
	    0);
	expect_error(&req, a, false, "io.systemd.Resolve.DNSError", 3);
	/* NODATA (for one family the name exists) */
	a[1].len = answer(b6, sizeof(b6), "x.example.com", TYPE_AAAA, 0, false, NULL, 0);
	expect_error(&req, a, false, "io.systemd.Resolve.NoSuchResourceRecord", -1);
	/* a positive answer with only other records is NODATA too */
	{
		struct rec other = { "y.example.com", TYPE_A, a7, 4 };

		a[0].len = answer(b4, sizeof(b4), "x.example.com", TYPE_A, 0, false, &other, 1);
		expect_error(&req, a, false, "io.systemd.Resolve.NoSuchResourceRecord", -1);
	}
	/* SERVFAIL: no server configured, nobody replied, a server said so */
	a[0].len = answer(b4, sizeof(b4), "x.example.com", TYPE_A, RCODE_SERVFAIL, false, NULL, 0);
	a[1].len = answer(b6, sizeof(b6), "x.example.com", TYPE_AAAA, RCODE_SERVFAIL, false, NULL,
	    0);
	expect_error(&req, a, true, "io.systemd.Resolve.NoNameServers", -1);
	memset(&t, 0, sizeof(t));
	t.n = 2;
	strcpy(t.ev[0].transport, "udp");
	t.ev[0].sent_ms = 0;
	t.ev[0].result = TR_TIMEOUT;
	strcpy(t.ev[1].transport, "udp");
	t.ev[1].sent_ms = 200;
	t.ev[1].result = TR_FAILED;
	vlr_ans_trace(&a[0], &t);
	vlr_ans_trace(&a[1], &t);
	ck_assert(a[0].traced);
	ck_assert(!a[0].replied);
	ck_assert(!a[0].encrypted);
	expect_error(&req, a, false, "io.systemd.Resolve.QueryTimedOut", -1);
	t.ev[1].result = TR_SERVFAIL;
	vlr_ans_trace(&a[1], &t);
	ck_assert(a[1].replied);
	expect_error(&req, a, false, "io.systemd.Resolve.DNSError", 2);
	/* not traced (it joined a search under way): a DNSError */
	a[0].traced = a[1].traced = false;
	expect_error(&req, a, false, "io.systemd.Resolve.DNSError", 2);
	/* REFUSED said by stubd itself */
	a[0].len = answer(b4, sizeof(b4), "x.example.com", TYPE_A, RCODE_REFUSED, false, NULL, 0);
	expect_error(&req, a, false, "io.systemd.Resolve.DNSError", 5);
	/* dropped */
	a[0].msg = a[1].msg = NULL;
	expect_error(&req, a, false, "io.systemd.Resolve.QueryAborted", -1);
}
END_TEST

/* vlr_each_rr's visitor: counts, and keeps the owners' first bytes */
struct seen {
	size_t n;
	uint16_t types[8];
};

static bool
see(void *arg, const struct vlr_req *req, const struct vlr_rr *x)
{
	struct seen *s = arg;

	(void)req;
	if (s->n < 8)
		s->types[s->n] = x->rr->type;
	s->n++;
	return x->rr->type == x->qtype;
}

/* The pieces the D-Bus front end (r1resolve.c) shares with varlink. */
START_TEST(test_shared_for_dbus)
{
	static const uint8_t v6[16] = { 0x20, 1, 0x0d, 0xb8, [15] = 0x7 };
	static const uint8_t cname[] = { 1, 'y', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
		'm', 0 };
	const uint64_t ac = VLR_F_AUTHENTICATED | VLR_F_CONFIDENTIAL;
	struct vlr_req req;
	struct vlr_ans a[2];
	uint8_t b[512];
	char text[300];
	struct seen s;
	unsigned rc;
	bool oom;

	/* reverse names of both families; a wrong length is refused */
	memset(&req, 0, sizeof(req));
	ck_assert(vlr_req_reverse(&req, AF_INET6, v6, 16));
	ck_assert(wire_name_to_text(req.qname, req.qlen, text, sizeof(text)));
	ck_assert_str_eq(text,
	    "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	ck_assert_uint_eq(req.nq, 1);
	ck_assert_uint_eq(req.qtype[0], TYPE_PTR);
	ck_assert(!vlr_req_reverse(&req, AF_INET, v6, 16));
	/* merged flags: sources add up, authenticated/confidential only when both */
	ck_assert_uint_eq(vlr_flags_merge(VLR_F_FROM_CACHE | ac, VLR_F_FROM_NETWORK | ac),
	    VLR_F_FROM_CACHE | VLR_F_FROM_NETWORK | ac);
	ck_assert_uint_eq(vlr_flags_merge(VLR_F_SYNTHETIC | ac, VLR_F_FROM_NETWORK),
	    VLR_F_SYNTHETIC | VLR_F_FROM_NETWORK);
	/* every record about the name, CNAME targets included, others not */
	req = req_for("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	              "\"parameters\":{\"name\":\"x.example.com\",\"family\":2}}");
	{
		struct rec r[] = { { NULL, TYPE_CNAME, cname, sizeof(cname) },
			{ "y.example.com", TYPE_A, a7, 4 }, { "z.example.com", TYPE_A, a7, 4 } };

		memset(a, 0, sizeof(a));
		a[0].msg = b;
		a[0].len = answer(b, sizeof(b), "x.example.com", TYPE_A, 0, false, r, 3);
	}
	memset(&s, 0, sizeof(s));
	ck_assert_uint_eq(vlr_each_rr(&req, a, see, &s, &oom), 1);
	ck_assert(!oom);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.types[0], TYPE_CNAME);
	ck_assert_uint_eq(s.types[1], TYPE_A);
	ck_assert_int_eq(vlr_failure(&req, a, false, &rc), VLR_FAIL_NO_RR);
	a[0].len = answer(b, sizeof(b), "x.example.com", TYPE_A, RCODE_NXDOMAIN, false, NULL, 0);
	memset(&s, 0, sizeof(s));
	ck_assert_uint_eq(vlr_each_rr(&req, a, see, &s, &oom), 0);
	ck_assert_int_eq(vlr_failure(&req, a, false, &rc), VLR_FAIL_RCODE);
	ck_assert_uint_eq(rc, RCODE_NXDOMAIN);
}
END_TEST

START_TEST(test_trace)
{
	struct up_trace t;
	struct vlr_ans a;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	t.n = 3;
	strcpy(t.ev[0].transport, "tls");
	t.ev[0].result = TR_TIMEOUT;
	strcpy(t.ev[1].transport, "https");
	t.ev[1].result = TR_ANSWER;
	strcpy(t.ev[2].transport, "udp");
	t.ev[2].sent_ms = -1; /* never sent: does not count */
	t.ev[2].result = TR_EXCLUDED;
	vlr_ans_trace(&a, &t);
	ck_assert(a.traced && a.replied && a.encrypted);
	t.ev[2].sent_ms = 5;
	vlr_ans_trace(&a, &t);
	ck_assert(!a.encrypted);
	/* nothing sent at all is not "encrypted" */
	t.n = 0;
	vlr_ans_trace(&a, &t);
	ck_assert(!a.encrypted && !a.replied);
}
END_TEST

START_TEST(test_record_and_address_answers)
{
	struct vlr_req req = req_for("{\"method\":\"io.systemd.Resolve.ResolveRecord\","
	                             "\"parameters\":{\"name\":\"example.com\",\"type\":15}}");
	/* MX 10 mail.<pointer to example.com> */
	static const uint8_t mx[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 12 };
	static const uint8_t ptr[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
		'c', 'o', 'm', 0 };
	struct rec r = { NULL, TYPE_MX, mx, sizeof(mx) };
	struct rec p = { NULL, TYPE_PTR, ptr, sizeof(ptr) };
	uint8_t b[512];
	struct vlr_ans a;
	struct jval *v;
	const struct jval *rr;

	memset(&a, 0, sizeof(a));
	a.msg = b;
	a.len = answer(b, sizeof(b), "example.com", TYPE_MX, 0, false, &r, 1);
	a.source = SRC_UPSTREAM;
	v = reply(&req, &a, false);
	ck_assert_uint_eq(param(v, "rrs")->n, 1);
	rr = param(v, "rrs")->items[0];
	/* the record uncompressed: owner, type, class, TTL, RDLENGTH 20, RDATA */
	ck_assert_str_eq(jsonp_get(rr, "raw")->str,
	    "B2V4YW1wbGUDY29tAAAPAAEAAAEsABQACgRtYWlsB2V4YW1wbGUDY29tAA==");
	rr = jsonp_get(rr, "rr");
	ck_assert_int_eq((int)jsonp_get(jsonp_get(rr, "key"), "type")->num, TYPE_MX);
	ck_assert_str_eq(jsonp_get(jsonp_get(rr, "key"), "name")->str, "example.com");
	jsonp_free(v);
	/* an RDATA whose name runs past it is left out: NODATA */
	{
		static const uint8_t badmx[] = { 0, 10, 4, 'm', 'a', 'i', 'l' };
		struct rec rb = { NULL, TYPE_MX, badmx, sizeof(badmx) };

		a.len = answer(b, sizeof(b), "example.com", TYPE_MX, 0, false, &rb, 1);
		expect_error(&req, &a, false, "io.systemd.Resolve.NoSuchResourceRecord", -1);
	}

	req = req_for("{\"method\":\"io.systemd.Resolve.ResolveAddress\","
	              "\"parameters\":{\"family\":2,\"address\":[192,0,2,7],\"ifindex\":2}}");
	a.len = answer(b, sizeof(b), "7.2.0.192.in-addr.arpa", TYPE_PTR, 0, false, &p, 1);
	v = reply(&req, &a, false);
	ck_assert_uint_eq(param(v, "names")->n, 1);
	ck_assert_str_eq(jsonp_get(param(v, "names")->items[0], "name")->str, "www.example.com");
	ck_assert_int_eq((int)jsonp_get(param(v, "names")->items[0], "ifindex")->num, 2);
	jsonp_free(v);
}
END_TEST

START_TEST(test_query_packet)
{
	struct vlr_req req = req_for("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                             "\"parameters\":{\"name\":\"www.example.com\"}}");
	uint8_t pkt[512];
	size_t n = vlr_query_packet(&req, 1, 7, pkt, sizeof(pkt));
	struct wire_rd r;
	struct wire_hdr h;

	ck_assert_uint_gt(n, 0);
	wire_rd_init(&r, pkt, n);
	ck_assert_int_eq(wire_hdr(&r, &h), 0);
	ck_assert_uint_eq(h.id, 7);
	ck_assert(h.flags & WIRE_RD);
	ck_assert_uint_eq(h.qdcount, 1);
	ck_assert_uint_eq(h.arcount, 1); /* EDNS */
	wire_name(&r, NULL);
	ck_assert_uint_eq(wire_u16(&r), TYPE_AAAA);
	ck_assert_uint_eq(vlr_query_packet(&req, 2, 7, pkt, sizeof(pkt)), 0);
}
END_TEST

START_TEST(test_monitor_event)
{
	static const uint8_t ptr[] = { 3, 'w', 'w', 'w', 0xc0, 12 };
	struct rec p = { NULL, TYPE_PTR, ptr, sizeof(ptr) };
	uint8_t b[512];
	size_t n = answer(b, sizeof(b), "example.com", TYPE_PTR, 0, false, &p, 1), len;
	struct jval *v;
	const struct jval *a;
	char *s;

	s = vlr_monitor_event(b, n, &len);
	v = parse_msg(s, len);
	ck_assert(jsonp_get(v, "continues")->b);
	ck_assert_str_eq(param(v, "state")->str, "success");
	ck_assert_str_eq(jsonp_get(param(v, "question")->items[0], "name")->str, "example.com");
	a = param(v, "answer");
	ck_assert_uint_eq(a->n, 1);
	ck_assert_int_eq(
	    (int)jsonp_get(jsonp_get(jsonp_get(a->items[0], "rr"), "key"), "type")->num, TYPE_PTR);
	/* owner, PTR, IN, TTL 300, RDLENGTH 17, www.example.com uncompressed */
	ck_assert_str_eq(jsonp_get(a->items[0], "raw")->str,
	    "B2V4YW1wbGUDY29tAAAMAAEAAAEsABEDd3d3B2V4YW1wbGUDY29tAA==");
	jsonp_free(v);
	n = answer(b, sizeof(b), "nx.example", TYPE_A, RCODE_NXDOMAIN, false, NULL, 0);
	s = vlr_monitor_event(b, n, &len);
	v = parse_msg(s, len);
	ck_assert_str_eq(param(v, "state")->str, "rcode-failure");
	ck_assert_int_eq((int)param(v, "rcode")->num, 3);
	jsonp_free(v);
	ck_assert_ptr_null(vlr_monitor_event(b, 5, &len));
}
END_TEST

/* An answer's interface (mDNS, a link-local scope) goes on its addresses;
 * without one, the ifindex the caller asked about (if any). */
START_TEST(test_answer_ifindex)
{
	static const uint8_t ll[] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 };
	struct vlr_req req = req_for("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	                             "\"parameters\":{\"name\":\"p.local\",\"family\":10}}");
	struct rec r6 = { NULL, TYPE_AAAA, ll, 16 };
	uint8_t b6[512];
	struct vlr_ans a[2];
	struct jval *r;

	memset(a, 0, sizeof(a));
	a[0].msg = b6;
	a[0].len = answer(b6, sizeof(b6), "p.local", TYPE_AAAA, 0, false, &r6, 1);
	a[0].source = SRC_CACHE;
	a[0].ifindex = 7;
	r = reply(&req, a, false);
	ck_assert_int_eq((int)jsonp_get(param(r, "addresses")->items[0], "ifindex")->num, 7);
	jsonp_free(r);
	a[0].ifindex = 0;
	r = reply(&req, a, false);
	ck_assert_ptr_null(jsonp_get(param(r, "addresses")->items[0], "ifindex"));
	jsonp_free(r);
	req = req_for("{\"method\":\"io.systemd.Resolve.ResolveHostname\","
	              "\"parameters\":{\"name\":\"p.local\",\"family\":10,\"ifindex\":3}}");
	r = reply(&req, a, false);
	ck_assert_int_eq((int)jsonp_get(param(r, "addresses")->items[0], "ifindex")->num, 3);
	jsonp_free(r);
}
END_TEST

static struct jval *
json_doc(struct json *j)
{
	char err[80], *s;
	size_t len;
	struct jval *v;

	s = json_take(j, &len);
	ck_assert_ptr_nonnull(s);
	v = jsonp_parse(s, len, err, sizeof(err));
	ck_assert_msg(v != NULL, "%s: %s", err, s);
	free(s);
	return v;
}

/* DumpCache's CacheEntry: positive (every answer record, the CNAME too,
 * with rr and raw), NODATA (rrs []), NXDOMAIN (type); until in µs. */
START_TEST(test_cache_entry)
{
	static const uint8_t cname[] = { 3, 'w', 'w', 'w', 0xc0, 18 };
	struct rec ra[] = { { NULL, TYPE_CNAME, cname, sizeof(cname) },
		{ "www.example.com", TYPE_A, a7, 4 } };
	uint8_t b[512], key[WIRE_NAME_MAX];
	struct cache_info ci;
	struct json j;
	struct jval *v;
	const struct jval *rrs, *rr;

	memset(&ci, 0, sizeof(ci));
	ci.namelen = wire_name_from_text("alias.example.com", key);
	ci.name = key;
	ci.qtype = TYPE_A;
	ci.qclass = CLASS_IN;
	ci.msg = b;
	ci.msglen = answer(b, sizeof(b), "alias.example.com", TYPE_A, 0, false, ra, 2);
	ci.expire_ms = 123456;
	json_init(&j);
	vlr_cache_entry(&j, &ci);
	v = json_doc(&j);
	ck_assert_str_eq(jsonp_get(jsonp_get(v, "key"), "name")->str, "alias.example.com");
	ck_assert_int_eq((int)jsonp_get(jsonp_get(v, "key"), "type")->num, TYPE_A);
	ck_assert_int_eq((int)jsonp_get(jsonp_get(v, "key"), "class")->num, CLASS_IN);
	ck_assert_uint_eq((uint64_t)jsonp_get(v, "until")->num, 123456000);
	ck_assert_ptr_null(jsonp_get(v, "type"));
	rrs = jsonp_get(v, "rrs");
	ck_assert_uint_eq(rrs->n, 2);
	rr = jsonp_get(rrs->items[0], "rr");
	ck_assert_int_eq((int)jsonp_get(jsonp_get(rr, "key"), "type")->num, TYPE_CNAME);
	ck_assert_str_eq(jsonp_get(rr, "name")->str, "www.example.com");
	rr = jsonp_get(rrs->items[1], "rr");
	ck_assert_str_eq(jsonp_get(jsonp_get(rr, "key"), "name")->str, "www.example.com");
	ck_assert_int_eq((int)jsonp_get(rr, "address")->items[3]->num, 7);
	/* www.example.com A IN 300 4 192.0.2.7 */
	ck_assert_str_eq(jsonp_get(rrs->items[1], "raw")->str,
	    "A3d3dwdleGFtcGxlA2NvbQAAAQABAAABLAAEwAACBw==");
	jsonp_free(v);

	ci.status = CST_NODATA;
	ci.msglen = answer(b, sizeof(b), "alias.example.com", TYPE_A, 0, false, NULL, 0);
	json_init(&j);
	vlr_cache_entry(&j, &ci);
	v = json_doc(&j);
	ck_assert_int_eq(jsonp_get(v, "rrs")->type, J_ARR);
	ck_assert_uint_eq(jsonp_get(v, "rrs")->n, 0);
	ck_assert_ptr_null(jsonp_get(v, "type"));
	jsonp_free(v);

	ci.status = CST_NXDOMAIN;
	ci.msglen = answer(b, sizeof(b), "alias.example.com", TYPE_A, RCODE_NXDOMAIN, false, NULL,
	    0);
	json_init(&j);
	vlr_cache_entry(&j, &ci);
	v = json_doc(&j);
	ck_assert_str_eq(jsonp_get(v, "type")->str, "NXDOMAIN");
	ck_assert_ptr_null(jsonp_get(v, "rrs"));
	jsonp_free(v);
}
END_TEST

/* DumpServerState's ServerState, every field resolved's IDL requires. */
START_TEST(test_server_state)
{
	static const char *const req[] = { "Server", "Type", "VerifiedFeatureLevel",
		"PossibleFeatureLevel", "DNSSECMode", "DNSSECSupported", "ReceivedUDPFragmentMax",
		"FailedUDPAttempts", "FailedTCPAttempts", "PacketTruncated", "PacketBadOpt",
		"PacketRRSIGMissing", "PacketInvalid", "PacketDoOff" };
	struct json j;
	struct jval *v;
	size_t i;

	json_init(&j);
	vlr_server_state(&j,
	    &(struct vlr_server){ .server = "192.0.2.1", .type = "system", .timeouts = 4 });
	v = json_doc(&j);
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		ck_assert_msg(jsonp_get(v, req[i]) != NULL, "no %s", req[i]);
	ck_assert_str_eq(jsonp_get(v, "Server")->str, "192.0.2.1");
	ck_assert_str_eq(jsonp_get(v, "VerifiedFeatureLevel")->str, "n/a");
	ck_assert_str_eq(jsonp_get(v, "PossibleFeatureLevel")->str, "UDP+EDNS0");
	ck_assert_int_eq((int)jsonp_get(v, "FailedUDPAttempts")->num, 4);
	ck_assert_int_eq((int)jsonp_get(v, "FailedTCPAttempts")->num, 0);
	ck_assert_ptr_null(jsonp_get(v, "Interface"));
	ck_assert_ptr_null(jsonp_get(v, "InterfaceIndex"));
	jsonp_free(v);
	json_init(&j);
	vlr_server_state(&j,
	    &(struct vlr_server){ .server = "192.0.2.1:853#dns.example",
	        .type = "link",
	        .ifname = "wlan0",
	        .ifindex = 3,
	        .encrypted = true,
	        .answered = true,
	        .timeouts = 2 });
	v = json_doc(&j);
	ck_assert_str_eq(jsonp_get(v, "Type")->str, "link");
	ck_assert_str_eq(jsonp_get(v, "Interface")->str, "wlan0");
	ck_assert_int_eq((int)jsonp_get(v, "InterfaceIndex")->num, 3);
	ck_assert_str_eq(jsonp_get(v, "VerifiedFeatureLevel")->str, "TLS+EDNS0");
	ck_assert_int_eq((int)jsonp_get(v, "FailedUDPAttempts")->num, 0);
	ck_assert_int_eq((int)jsonp_get(v, "FailedTCPAttempts")->num, 2);
	jsonp_free(v);
}
END_TEST

static Suite *
varlink_suite(void)
{
	Suite *s = suite_create("varlink");
	TCase *b = tcase_create("basic");

	tcase_add_test(b, test_framer);
	tcase_add_test(b, test_call_parse);
	tcase_add_test(b, test_writers);
	tcase_add_test(b, test_calls);
	tcase_add_test(b, test_hostname_answers);
	tcase_add_test(b, test_failures);
	tcase_add_test(b, test_trace);
	tcase_add_test(b, test_record_and_address_answers);
	tcase_add_test(b, test_query_packet);
	tcase_add_test(b, test_monitor_event);
	tcase_add_test(b, test_answer_ifindex);
	tcase_add_test(b, test_cache_entry);
	tcase_add_test(b, test_server_state);
	tcase_add_test(b, test_shared_for_dbus);
	suite_add_tcase(s, b);
	return s;
}

int
main(void)
{
	return check_main(varlink_suite());
}
