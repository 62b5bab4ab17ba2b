/*
 * checkmain.h - the main() every Check suite shares: run all, report,
 * exit non-zero on any failure.
 */
#ifndef STUBD_CHECKMAIN_H
#define STUBD_CHECKMAIN_H

#include <check.h>
#include <stdlib.h>

#include "testutil.h"

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

/*
 * Integration suites (a real stubd): STUBD and STUBCTL default to the
 * build tree's; a temporary directory holds the run (base, len >= 64) and
 * is kept when a test failed; setup (may be NULL) runs first with it.
 */
static inline int
check_daemon_main(Suite *s, char *base, size_t len, int (*setup)(const char *base))
{
	int rc;

	if (tu_tmp_begin(base, len) != 0 || (setup && setup(base) != 0))
		return EXIT_FAILURE;
	if (!getenv("STUBD"))
		setenv("STUBD", "./stubd", 0);
	if (!getenv("STUBCTL"))
		setenv("STUBCTL", "./stubctl", 0);
	rc = check_main(s);
	if (rc == EXIT_SUCCESS)
		tu_tmp_end(base); /* kept for a look when something failed */
	return rc;
}

#endif
