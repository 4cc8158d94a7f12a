/*
 * check-main.c - the one main() of every unit test program: runs the
 * suite its test file defines (vs_test_suite) and fails when a test does.
 * Check's summary line ("NN%: Checks: N, Failures: F, Errors: E") is what
 * scripts/check.sh counts.
 */
#include "config.h"

#include "testutil.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(vs_test_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
