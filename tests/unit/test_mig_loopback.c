/* SPDX-License-Identifier: Apache-2.0 */
/* The loopback migration ferry runs at boot (hyp/migrate/mig_loopback.c): it completes, pre-copy
 * and post-copy, at both frame sizes, with a clock that moves or not, and refuses a workspace it
 * cannot use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "migrate/mig_loopback.h"
#include "migrate/mig_wire.h"

static u64 clock_ns;
static u64 step_ns;

static u64 fake_now(void *ctx)
{
	(void)ctx;
	clock_ns += step_ns;
	return clock_ns;
}

static int run_at(u32 frame_max, bool postcopy, u64 step, size_t shrink)
{
	size_t len = mig_loopback_workspace_size(frame_max);
	void *ws = aligned_alloc(64, ALIGN_UP(len, 64));
	char why[96] = "";
	int rc;

	assert_non_null(ws);
	clock_ns = 1000000000ULL;
	step_ns = step;
	rc = mig_loopback_run(ws, len - shrink, frame_max, postcopy, fake_now, why, sizeof(why));
	if (rc)
		print_message("loopback: %s (%d)\n", why, rc);
	free(ws);
	return rc;
}

static void test_completes_64k_frames(void **state)
{
	(void)state;
	assert_int_equal(run_at(MIG_FRAME_MAX, false, 1000, 0), 0);
}

/* The switch right after round 0, and the rest of the pages streamed after it. */
static void test_completes_postcopy(void **state)
{
	(void)state;
	assert_int_equal(run_at(MIG_FRAME_MAX, true, 1000, 0), 0);
	assert_int_equal(run_at(MIG_FRAME_MIN, true, 1000, 0), 0);
}

static void test_completes_ethernet_frames(void **state)
{
	(void)state;
	assert_int_equal(run_at(MIG_FRAME_MIN, false, 1000, 0), 0);
}

/* A clock that stands still (no timer ever fires) or races (every poll looks late) changes
 * nothing: on this link no frame is lost, so no retransmission is needed either way. */
static void test_clock_does_not_matter(void **state)
{
	(void)state;
	assert_int_equal(run_at(MIG_FRAME_MAX, false, 0, 0), 0);
	assert_int_equal(run_at(MIG_FRAME_MAX, false, 5000000, 0), 0);
}

static void test_refuses_a_short_workspace(void **state)
{
	char why[96];

	(void)state;
	assert_int_equal(run_at(MIG_FRAME_MAX, false, 1000, 1), FERRY_EINVAL);
	assert_int_equal(mig_loopback_run(NULL, 0, 100, false, fake_now, why, sizeof(why)),
			 FERRY_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completes_64k_frames),
		cmocka_unit_test(test_completes_postcopy),
		cmocka_unit_test(test_completes_ethernet_frames),
		cmocka_unit_test(test_clock_does_not_matter),
		cmocka_unit_test(test_refuses_a_short_workspace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
