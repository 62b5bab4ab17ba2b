/*
 * checkmain.h - the main() every Check suite shares: run all, report,
 * exit non-zero on any failure.
 */
#ifndef STUBD_CHECKMAIN_H
#define STUBD_CHECKMAIN_H

#include <check.h>
#include <stdlib.h>

static inline int
check_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
