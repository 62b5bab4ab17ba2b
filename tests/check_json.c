/*
 * check_json.c - the JSON writer and the strict parser stubctl uses.
 */
#include "auto-config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "json.h"
#include "jsonp.h"

START_TEST(test_writer)
{
	struct json j;
	char *s;

	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_u64(&j, 1);
	json_key(&j, "b");
	json_arr_begin(&j);
	json_str(&j, "x\"y\\z\n\x01");
	json_bool(&j, true);
	json_null(&j);
	json_double(&j, 12.25, 1);
	json_i64(&j, -3);
	json_arr_end(&j);
	json_key(&j, "c");
	json_obj_begin(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	s = json_take(&j, NULL);
	ck_assert_str_eq(s,
	    "{\"a\":1,\"b\":[\"x\\\"y\\\\z\\n\\u0001\",true,null,12.2,-3],\"c\":{}}");
	free(s);
}
END_TEST

START_TEST(test_writer_utf8)
{
	struct json j;
	char *s;

	json_init(&j);
	json_arr_begin(&j);
	json_str(&j, "caf\xc3\xa9");  /* valid UTF-8 kept */
	json_strn(&j, "\xff\xfe", 2); /* invalid bytes escaped */
	json_arr_end(&j);
	s = json_take(&j, NULL);
	ck_assert_str_eq(s, "[\"caf\xc3\xa9\",\"\\u00ff\\u00fe\"]");
	free(s);
}
END_TEST

START_TEST(test_writer_misuse)
{
	struct json j;

	json_init(&j);
	json_obj_begin(&j);
	ck_assert_ptr_null(json_take(&j, NULL)); /* unbalanced */
	json_init(&j);
	json_arr_end(&j);
	ck_assert_ptr_null(json_take(&j, NULL));
	json_free(&j);
}
END_TEST

START_TEST(test_parse_ok)
{
	char err[128];
	const char *t = " {\"a\": [1, -2.5e3, true, false, null, \"s\\u00e9\\ud83d\\ude00\"],"
	                " \"b\": {\"c\": \"\"}} ";
	struct jval *v = jsonp_parse(t, strlen(t), err, sizeof(err));
	const struct jval *a;

	ck_assert_ptr_nonnull(v);
	a = jsonp_get(v, "a");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->type, J_ARR);
	ck_assert_uint_eq(a->n, 6);
	ck_assert(a->items[1]->num == -2500.0);
	ck_assert(a->items[2]->b);
	ck_assert(!a->items[3]->b);
	ck_assert_int_eq(a->items[4]->type, J_NULL);
	ck_assert_str_eq(a->items[5]->str, "s\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_str_eq(jsonp_get(jsonp_get(v, "b"), "c")->str, "");
	ck_assert_ptr_null(jsonp_get(v, "zz"));
	jsonp_free(v);
}
END_TEST

START_TEST(test_parse_bad)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"a\"}",
		"{\"a\":}",
		"[1,]",
		"[01]",
		"[1.]",
		"[-]",
		"\"\\x\"",
		"\"a",
		"[\"\x01\"]",
		"{} x",
		"[\"\\ud800\"]",
		"[\"\\u0000\"]",
		"tru",
		"{1:2}",
		"[1e]",
		"nul",
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jval *v = jsonp_parse(bad[i], strlen(bad[i]), err, sizeof(err));

		ck_assert_msg(v == NULL, "accepted: %s", bad[i]);
	}
}
END_TEST

START_TEST(test_parse_depth)
{
	char buf[300], err[64];
	int i;

	for (i = 0; i < 200; i++)
		buf[i] = '[';
	buf[200] = 0;
	ck_assert_ptr_null(jsonp_parse(buf, 200, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "deep"));
}
END_TEST

START_TEST(test_roundtrip)
{
	struct json j;
	char *s, err[64];
	struct jval *v;

	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "k\"ey");
	json_str(&j, "tab\there");
	json_obj_end(&j);
	s = json_take(&j, NULL);
	v = jsonp_parse(s, strlen(s), err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(jsonp_get(v, "k\"ey")->str, "tab\there");
	jsonp_free(v);
	free(s);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *b = tcase_create("basic"), *m = tcase_create("misuse");

	tcase_add_test(b, test_writer);
	tcase_add_test(b, test_writer_utf8);
	tcase_add_test(b, test_parse_ok);
	tcase_add_test(b, test_roundtrip);
	tcase_add_test(m, test_writer_misuse);
	tcase_add_test(m, test_parse_bad);
	tcase_add_test(m, test_parse_depth);
	suite_add_tcase(s, b);
	suite_add_tcase(s, m);
	return s;
}

int
main(void)
{
	return check_main(json_suite());
}
