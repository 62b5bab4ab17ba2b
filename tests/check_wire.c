/*
 * check_wire.c - the bounds-checked reader/writer, names, RFC 9267.
 */
#include "auto-config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "err.h"
#include "wire.h"

START_TEST(test_read_ints)
{
	static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_uint_eq(wire_u8(&r), 0x01);
	ck_assert_uint_eq(wire_u16(&r), 0x0203);
	ck_assert_uint_eq(wire_u32(&r), 0x04050607);
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(wire_left(&r), 0);
	/* past the end: sticky error, value 0, cursor unchanged */
	ck_assert_uint_eq(wire_u16(&r), 0);
	ck_assert_int_eq(r.err, STUB_ESHORT);
	ck_assert_uint_eq(r.pos, 7);
	ck_assert_uint_eq(wire_u8(&r), 0);
}
END_TEST

START_TEST(test_read_short_u32)
{
	static const uint8_t b[] = { 1, 2, 3 };
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_uint_eq(wire_u32(&r), 0);
	ck_assert_int_eq(r.err, STUB_ESHORT);
	ck_assert_uint_eq(r.pos, 0);
	ck_assert_ptr_null(wire_bytes(&r, 1));
}
END_TEST

START_TEST(test_bytes_seek)
{
	static const uint8_t b[] = { 9, 8, 7, 6 };
	struct wire_rd r;
	const uint8_t *p;

	wire_rd_init(&r, b, sizeof(b));
	p = wire_bytes(&r, 2);
	ck_assert_ptr_eq(p, b);
	wire_seek(&r, 3);
	ck_assert_uint_eq(wire_u8(&r), 6);
	wire_seek(&r, 5);
	ck_assert_int_ne(r.err, 0);
}
END_TEST

START_TEST(test_name_plain)
{
	static const uint8_t b[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c',
		'o', 'm', 0, 0xaa };
	uint8_t out[WIRE_NAME_MAX];
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_uint_eq(wire_name(&r, out), 17);
	ck_assert_uint_eq(r.pos, 17);
	ck_assert_mem_eq(out, b, 17);
	ck_assert_uint_eq(wire_u8(&r), 0xaa);
}
END_TEST

START_TEST(test_name_compressed)
{
	/* 12-byte header, offset 12: "example.com", offset 25: "www" + pointer to 12 */
	static const uint8_t b[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p',
		'l', 'e', 3, 'c', 'o', 'm', 0, 3, 'w', 'w', 'w', 0xc0, 12, 0x55 };
	static const uint8_t want[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
		'c', 'o', 'm', 0 };
	uint8_t out[WIRE_NAME_MAX];
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	wire_seek(&r, 25);
	ck_assert_uint_eq(wire_name(&r, out), sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
	/* the cursor moves past the pointer, not past the target */
	ck_assert_uint_eq(r.pos, 31);
	ck_assert_uint_eq(wire_u8(&r), 0x55);
}
END_TEST

/* a pointer into the header is malformed (found by fuzzing: the header is
 * rewritten when an answer is served, which would change the name) */
START_TEST(test_pointer_into_header)
{
	static const uint8_t b[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 0x00 };
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	wire_seek(&r, 12);
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_eq(r.err, STUB_EFORMAT);
}
END_TEST

START_TEST(test_writer)
{
	uint8_t buf[6];
	struct wire_wr w;

	wire_wr_init(&w, buf, sizeof(buf));
	wire_put_u16(&w, 0x1234);
	wire_put_u32(&w, 0xdeadbeef);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.len, 6);
	ck_assert_uint_eq(buf[0], 0x12);
	ck_assert_uint_eq(buf[5], 0xef);
	wire_put_u8(&w, 1);
	ck_assert_int_eq(w.err, STUB_ESHORT);
	ck_assert_uint_eq(w.len, 6);
	wire_put_u16(&w, 1);
	ck_assert_uint_eq(w.len, 6);
}
END_TEST

START_TEST(test_at_accessors)
{
	uint8_t b[4] = { 0 };
	uint16_t v16;
	uint32_t v32;

	ck_assert(wire_set16_at(b, 4, 2, 0xabcd));
	ck_assert(wire_get16_at(b, 4, 2, &v16));
	ck_assert_uint_eq(v16, 0xabcd);
	ck_assert(!wire_set16_at(b, 4, 3, 1));
	ck_assert(!wire_get32_at(b, 4, 1, &v32));
	ck_assert(wire_set32_at(b, 4, 0, 0x01020304));
	ck_assert(wire_get32_at(b, 4, 0, &v32));
	ck_assert_uint_eq(v32, 0x01020304);
	ck_assert(!wire_get16_at(b, 4, (size_t)-1, &v16));
}
END_TEST

START_TEST(test_name_text)
{
	uint8_t n[WIRE_NAME_MAX];
	char t[WIRE_NAME_TEXT];
	size_t l;

	l = wire_name_from_text("WWW.Example.COM.", n);
	ck_assert_uint_eq(l, 17);
	ck_assert_uint_eq(wire_name_to_text(n, l, t, sizeof(t)), 15);
	ck_assert_str_eq(t, "WWW.Example.COM");
	wire_name_lower(n, l);
	wire_name_to_text(n, l, t, sizeof(t));
	ck_assert_str_eq(t, "www.example.com");
	ck_assert_uint_eq(wire_name_from_text(".", n), 1);
	wire_name_to_text(n, 1, t, sizeof(t));
	ck_assert_str_eq(t, ".");
	/* escapes both ways */
	l = wire_name_from_text("a\\.b.c\\032d", n);
	ck_assert_uint_eq(l, 1 + 3 + 1 + 3 + 1);
	ck_assert_uint_eq(n[0], 3);
	ck_assert_uint_eq(n[2], '.');
	wire_name_to_text(n, l, t, sizeof(t));
	ck_assert_str_eq(t, "a\\.b.c\\032d");
	/* invalid */
	ck_assert_uint_eq(wire_name_from_text("", n), 0);
	ck_assert_uint_eq(wire_name_from_text("a..b", n), 0);
	ck_assert_uint_eq(wire_name_from_text("..", n), 0);
	ck_assert_uint_eq(wire_name_from_text("a\\", n), 0);
	ck_assert_uint_eq(wire_name_from_text("a\\25", n), 0);
	ck_assert_uint_eq(wire_name_from_text("a\\999", n), 0);
}
END_TEST

/* "a{63}.a{63}..." with nlabels labels, the last one lastlen long */
static void
make_long_name(char *out, int nlabels, int lastlen)
{
	int i, o = 0;

	for (i = 0; i < nlabels; i++) {
		int l = i == nlabels - 1 ? lastlen : 63;

		if (i)
			out[o++] = '.';
		memset(out + o, 'a', (size_t)l);
		o += l;
	}
	out[o] = 0;
}

START_TEST(test_name_limits_text)
{
	char name[400];
	uint8_t n[WIRE_NAME_MAX];

	make_long_name(name, 1, 63);
	ck_assert_uint_eq(wire_name_from_text(name, n), 65);
	make_long_name(name, 1, 64);
	ck_assert_uint_eq(wire_name_from_text(name, n), 0);
	/* 4 x 63-byte labels = 257 bytes in wire form: too long */
	make_long_name(name, 4, 63);
	ck_assert_uint_eq(wire_name_from_text(name, n), 0);
	/* 3 x 63 + one of 61 = 255 exactly */
	make_long_name(name, 4, 61);
	ck_assert_uint_eq(wire_name_from_text(name, n), 255);
	make_long_name(name, 4, 62);
	ck_assert_uint_eq(wire_name_from_text(name, n), 0);
}
END_TEST

/* the host-name encoder of lists: lower-cased, host characters only, no
 * escapes, the same limits */
START_TEST(test_name_text_lc)
{
	static const uint8_t want[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', '-', 'a', 'm', '_', 'p', 3,
		'c', 'o', 'm', 0 };
	char name[400];
	uint8_t n[WIRE_NAME_MAX];
	bool alpha = false;

	ck_assert_uint_eq(wire_name_from_text_lc("WWW.Ex-Am_P.COM", n, &alpha), sizeof(want));
	ck_assert_mem_eq(n, want, sizeof(want));
	ck_assert(alpha);
	ck_assert_uint_eq(wire_name_from_text_lc("www.ex-am_p.com.", n, NULL), sizeof(want));
	ck_assert_mem_eq(n, want, sizeof(want));
	/* all digits: a name, told apart by alpha */
	ck_assert_uint_eq(wire_name_from_text_lc("192.0.2.1", n, &alpha), 11);
	ck_assert(!alpha);
	ck_assert_uint_eq(wire_name_from_text_lc("1.example", n, &alpha), 11);
	ck_assert(alpha);
	/* no escapes, no other characters, no empty labels, no root alone */
	ck_assert_uint_eq(wire_name_from_text_lc("a\\.b", n, &alpha), 0);
	ck_assert(!alpha);
	ck_assert_uint_eq(wire_name_from_text_lc("a\\032b", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc("a b", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc("a*.b", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc("caf\xc3\xa9.test", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc("", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc(".", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc(".a", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc("a..b", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc("a.b..", n, NULL), 0);
	ck_assert_uint_eq(wire_name_from_text_lc(NULL, n, NULL), 0);
	/* 63 / 255 as wire_name_from_text */
	make_long_name(name, 1, 63);
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 65);
	make_long_name(name, 1, 64);
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 0);
	make_long_name(name, 2, 64);
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 0);
	make_long_name(name, 4, 63);
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 0);
	make_long_name(name, 4, 61);
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 255);
	ck_assert_uint_eq(wire_name_from_text(name, n), 255);
	strcat(name, ".");
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 255);
	make_long_name(name, 4, 62);
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 0);
	/* a label of one byte over: 3 x 63 + 61, then ".b" */
	make_long_name(name, 4, 61);
	strcat(name, ".b");
	ck_assert_uint_eq(wire_name_from_text_lc(name, n, NULL), 0);
}
END_TEST

START_TEST(test_name_under)
{
	uint8_t a[WIRE_NAME_MAX], d[WIRE_NAME_MAX];
	size_t al = wire_name_from_text("www.Corp.Example", a);
	size_t dl = wire_name_from_text("corp.example", d);

	ck_assert(wire_name_under(a, al, d, dl));
	ck_assert(wire_name_under(d, dl, d, dl));
	dl = wire_name_from_text("rp.example", d);
	ck_assert(!wire_name_under(a, al, d, dl));
	dl = wire_name_from_text(".", d);
	ck_assert(wire_name_under(a, al, d, dl));
	ck_assert_uint_eq(wire_name_labels(a, al), 3);
	ck_assert(wire_name_eq_ci(a, al, a, al));
}
END_TEST

START_TEST(test_types)
{
	char b[16];

	ck_assert_str_eq(wire_type_name(TYPE_AAAA, b), "AAAA");
	ck_assert_str_eq(wire_type_name(999, b), "TYPE999");
	ck_assert_uint_eq(wire_type_from_name("mx"), TYPE_MX);
	ck_assert_uint_eq(wire_type_from_name("TYPE65"), 65);
	ck_assert_uint_eq(wire_type_from_name("TYPE0"), 0);
	ck_assert_uint_eq(wire_type_from_name("bogus"), 0);
	ck_assert_str_eq(wire_rcode_name(3, b), "NXDOMAIN");
	ck_assert_str_eq(wire_rcode_name(9, b), "RCODE9");
}
END_TEST

/* ---- misuse ---- */

START_TEST(test_misuse)
{
	struct wire_rd r;
	struct wire_wr w;
	uint8_t out[WIRE_NAME_MAX];
	char t[4];

	wire_rd_init(&r, NULL, 100);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_uint_eq(wire_u8(&r), 0);
	ck_assert_int_ne(r.err, 0);
	wire_rd_init(&r, out, 0);
	ck_assert_uint_eq(wire_name(&r, out), 0);
	ck_assert_int_ne(r.err, 0);
	wire_wr_init(&w, NULL, 100);
	wire_put_u8(&w, 1);
	ck_assert_int_ne(w.err, 0);
	wire_wr_init(&w, out, sizeof(out));
	wire_put_name(&w, out, 0);
	ck_assert_int_ne(w.err, 0);
	ck_assert_uint_eq(wire_name_from_text(NULL, out), 0);
	out[0] = 0;
	ck_assert_uint_eq(wire_name_to_text(out, 1, t, 1), 0);
	ck_assert_uint_eq(wire_name_to_text(out, 0, t, sizeof(t)), 0);
}
END_TEST

/* ---- RFC 9267 anti-patterns ---- */

/* 2. Compression pointer and offset validation: pointer past the end */
START_TEST(test_9267_pointer_out_of_bounds)
{
	static const uint8_t b[] = { 1, 'a', 0xc0, 0x40 };
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_ne(r.err, 0);
}
END_TEST

/* 2. a pointer must point strictly backwards: forward pointer rejected */
START_TEST(test_9267_forward_pointer)
{
	static const uint8_t b[] = { 0xc0, 0x03, 0, 1, 'a', 0 };
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_eq(r.err, STUB_EFORMAT);
}
END_TEST

/* 3. Label and name length validation: a name over 255 bytes via pointers */
START_TEST(test_9267_name_too_long)
{
	uint8_t b[600];
	size_t pos = 0, i;
	struct wire_rd r;

	/* a header, then four 63-byte labels, each followed by a pointer to the
	 * previous one: from the second, 2 labels; third 3; fourth 4 = 257 */
	memset(b, 0, 12);
	pos = 12;
	b[pos++] = 63;
	memset(b + pos, 'a', 63);
	pos += 63;
	b[pos++] = 0; /* 12 */
	b[pos++] = 63;
	memset(b + pos, 'b', 63);
	pos += 63;
	b[pos++] = 0xc0;
	b[pos++] = 12;
	b[pos++] = 63;
	memset(b + pos, 'c', 63);
	pos += 63;
	b[pos++] = 0xc0;
	b[pos++] = 77;
	i = pos;
	b[pos++] = 63;
	memset(b + pos, 'd', 63);
	pos += 63;
	b[pos++] = 0xc0;
	b[pos++] = 143;
	wire_rd_init(&r, b, pos);
	wire_seek(&r, 143);
	ck_assert_uint_eq(wire_name(&r, NULL), 3 * 64 + 1);
	wire_rd_init(&r, b, pos);
	wire_seek(&r, i);
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_eq(r.err, STUB_EFORMAT);
}
END_TEST

/* 3. label types 01 and 10 (extended, reserved) are rejected */
START_TEST(test_9267_bad_label_type)
{
	static const uint8_t b1[] = { 0x40, 'a', 0 };
	static const uint8_t b2[] = { 0x80, 'a', 0 };
	struct wire_rd r;

	wire_rd_init(&r, b1, sizeof(b1));
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	wire_rd_init(&r, b2, sizeof(b2));
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
}
END_TEST

/* 4. Null-terminating names: a name that runs off the end */
START_TEST(test_9267_unterminated)
{
	static const uint8_t b[] = { 3, 'w', 'w', 'w', 3, 'c', 'o' };
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_eq(r.err, STUB_ESHORT);
}
END_TEST

/* 6. Pointer loops: self pointer and a two-pointer cycle */
START_TEST(test_9267_pointer_loops)
{
	static const uint8_t self[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 12 };
	static const uint8_t cyc[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 16, 1, 'b',
		0xc0, 12 };
	struct wire_rd r;

	wire_rd_init(&r, self, sizeof(self));
	wire_seek(&r, 12);
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_ne(r.err, 0);
	wire_rd_init(&r, cyc, sizeof(cyc));
	wire_seek(&r, 16);
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_ne(r.err, 0);
}
END_TEST

/* 5. Record count validation and RDLENGTH: an RR whose RDATA runs past the end */
START_TEST(test_9267_rdlength)
{
	static const uint8_t b[] = { 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 10, 1, 2, 3 };
	struct wire_rd r;
	struct wire_rr rr;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_int_ne(wire_rr(&r, &rr), 0);
}
END_TEST

/* 2/3. The pointer may only be reached within bounds: a truncated pointer */
START_TEST(test_9267_truncated_pointer)
{
	static const uint8_t b[] = { 1, 'a', 0xc0 };
	struct wire_rd r;

	wire_rd_init(&r, b, sizeof(b));
	ck_assert_uint_eq(wire_name(&r, NULL), 0);
	ck_assert_int_eq(r.err, STUB_ESHORT);
}
END_TEST

static Suite *
wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *b = tcase_create("basic"), *m = tcase_create("misuse"), *r = tcase_create("rfc9267");

	tcase_add_test(b, test_read_ints);
	tcase_add_test(b, test_read_short_u32);
	tcase_add_test(b, test_bytes_seek);
	tcase_add_test(b, test_name_plain);
	tcase_add_test(b, test_name_compressed);
	tcase_add_test(r, test_pointer_into_header);
	tcase_add_test(b, test_writer);
	tcase_add_test(b, test_at_accessors);
	tcase_add_test(b, test_name_text);
	tcase_add_test(b, test_name_limits_text);
	tcase_add_test(b, test_name_text_lc);
	tcase_add_test(b, test_name_under);
	tcase_add_test(b, test_types);
	tcase_add_test(m, test_misuse);
	tcase_add_test(r, test_9267_pointer_out_of_bounds);
	tcase_add_test(r, test_9267_forward_pointer);
	tcase_add_test(r, test_9267_name_too_long);
	tcase_add_test(r, test_9267_bad_label_type);
	tcase_add_test(r, test_9267_unterminated);
	tcase_add_test(r, test_9267_pointer_loops);
	tcase_add_test(r, test_9267_rdlength);
	tcase_add_test(r, test_9267_truncated_pointer);
	suite_add_tcase(s, b);
	suite_add_tcase(s, m);
	suite_add_tcase(s, r);
	return s;
}

int
main(void)
{
	return check_main(wire_suite());
}
