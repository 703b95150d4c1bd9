/* SPDX-License-Identifier: Apache-2.0 */
/* Optimality: ferry's greedy range plan uses the minimum number of exact-cover ops.
 *
 * Independent of the planner's reasoning, a dynamic program over page counts finds the fewest ops
 * whose sizes add up to N, where an op is one page (IPAS2E1IS) or any RIPAS2E1IS size
 * (NUM + 1) * 2^(5 * SCALE + 1), NUM 0..31, SCALE 0..3. With a 4K granule and no LPA2 a range op
 * needs no base alignment, so any order of such sizes tiles [start, start + N) exactly, and the DP's
 * minimum is the true minimum of exact covers. Checked for every N up to 2^23 (four 8 GiB chunks),
 * which includes the "every N up to 2^16" requirement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mm/tlbi.h"

#define DP_MAX (1u << 23)

static u8 *dp;
static u32 coins[160];
static size_t ncoins;

static void add_coin(u32 c)
{
	for (size_t i = 0; i < ncoins; i++)
		if (coins[i] == c)
			return;
	coins[ncoins++] = c;
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int setup(void **state)
{
	(void)state;
	add_coin(1);
	for (u32 scale = 0; scale <= 3; scale++)
		for (u32 num = 0; num <= 31; num++)
			add_coin((num + 1) << (5 * scale + 1));
	qsort(coins, ncoins, sizeof(coins[0]), cmp_u32);
	dp = malloc(DP_MAX + 1);
	if (!dp)
		return -1;
	dp[0] = 0;
	for (u32 n = 1; n <= DP_MAX; n++) {
		u8 best = 255;

		for (size_t i = 0; i < ncoins && coins[i] <= n; i++)
			if (dp[n - coins[i]] < best)
				best = dp[n - coins[i]];
		dp[n] = (u8)(best + 1);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(dp);
	return 0;
}

static void test_coin_set(void **state)
{
	(void)state;
	/* 1, the 32 even sizes up to 64, and the distinct multiples at the higher scales. */
	assert_int_equal(coins[0], 1);
	assert_int_equal(coins[ncoins - 1], TLBI_RANGE_MAX_PAGES);
	assert_int_equal(ncoins, 1 + 32 + 31 + 31 + 31);
}

static void check_range(u32 lo, u32 hi, u32 step)
{
	const struct tlbi_caps caps = { .range = true };
	static struct tlbi_plan plan;

	for (u32 n = lo; n <= hi; n += step) {
		assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &caps, ipa_init(0x40000000ULL),
						    n, -1, &plan),
				 0);
		if (plan.n != dp[n])
			fail_msg("N=%u pages: planner %zu ops, minimum %u", n, plan.n, dp[n]);
	}
}

static void test_every_n_to_2_16(void **state)
{
	(void)state;
	check_range(1, 1u << 16, 1);
}

static void test_every_n_to_2_23(void **state)
{
	(void)state;
	check_range((1u << 16) + 1, DP_MAX, 1);
}

/* The bound the docs quote: at most 5 ops for any N in one 8 GiB chunk, reached e.g. by
 * 2^21 - 1 = 31*2^16 + 31*2^11 + 31*2^6 + 31*2 + 1. */
static void test_worst_case_per_chunk(void **state)
{
	u8 worst = 0;
	(void)state;

	for (u32 n = 1; n <= TLBI_RANGE_MAX_PAGES; n++)
		worst = MAX(worst, dp[n]);
	assert_int_equal(worst, TLBI_RANGE_OPS_PER_CHUNK);
	assert_int_equal(dp[TLBI_RANGE_MAX_PAGES - 1], 5);
	assert_int_equal(dp[TLBI_RANGE_MAX_PAGES], 1);
	assert_int_equal(dp[TLBI_RANGE_MAX_PAGES + 1], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coin_set),
		cmocka_unit_test(test_worst_case_per_chunk),
		cmocka_unit_test(test_every_n_to_2_16),
		cmocka_unit_test(test_every_n_to_2_23),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
