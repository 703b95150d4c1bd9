/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/lib/range: the edges where a naive `base + size` wraps: 0, 2^64 - 1, one past the end, size 0,
 * and the wrap-around ranges guests have sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/range.h"

#define MAX64 (~0ULL)

static void test_valid_edges(void **state)
{
	(void)state;
	assert_true(range_valid(0, 0));
	assert_true(range_valid(0, MAX64));  /* bytes 0 .. 2^64-2 */
	assert_true(range_valid(1, MAX64));  /* bytes 1 .. 2^64-1: ends exactly at 2^64 */
	assert_false(range_valid(2, MAX64)); /* wraps by one */
	assert_true(range_valid(MAX64, 1));  /* the last byte */
	assert_false(range_valid(MAX64, 2)); /* wraps by one */
	assert_true(range_valid(MAX64, 0));  /* empty, anywhere */
	assert_false(range_valid(0xfffffffffffffff8ULL, 16));
	assert_true(range_valid(0xfffffffffffffff8ULL, 8));
}

/* The region of a 64 MiB VM at 0x40000000. */
#define LO 0x40000000ULL
#define LEN 0x4000000ULL

static void test_within_edges(void **state)
{
	(void)state;
	assert_true(range_within(LO, LEN, LO, LEN));
	assert_true(range_within(LO, 1, LO, LEN));
	assert_true(range_within(LO + LEN - 1, 1, LO, LEN));
	assert_false(range_within(LO + LEN - 1, 2, LO, LEN)); /* one byte past the end */
	assert_false(range_within(LO - 1, 1, LO, LEN));       /* one byte below */
	assert_false(range_within(LO, LEN + 1, LO, LEN));
	assert_false(range_within(LO + LEN, 1, LO, LEN));
	/* size 0: inside when the base is in [lo, lo + len] */
	assert_true(range_within(LO, 0, LO, LEN));
	assert_true(range_within(LO + LEN, 0, LO, LEN));
	assert_false(range_within(LO + LEN + 1, 0, LO, LEN));
	assert_false(range_within(LO - 1, 0, LO, LEN));
	assert_false(range_within(0, 0, LO, LEN));
	/* The dirty-round hypercall's wrap: base + 8 == 0 <= LO + LEN passed the old check. */
	assert_false(range_within(0xfffffffffffffff8ULL, 8, LO, LEN));
	assert_false(range_within(MAX64, 1, LO, LEN));
	assert_false(range_within(MAX64, MAX64, LO, LEN));
	assert_false(range_within(LO, MAX64, LO, LEN));
	assert_false(range_within(LO + 8, MAX64 - 7, LO, LEN)); /* size wraps back to LO */
	/* Regions at the top of the address space and the whole space. */
	assert_true(range_within(MAX64, 1, MAX64, 1));
	assert_false(range_within(MAX64, 2, MAX64, 1));
	assert_true(range_within(0, MAX64, 0, MAX64));
	assert_true(range_within(MAX64 - 1, 1, 0, MAX64));
	assert_false(range_within(MAX64 - 1, 2, 0, MAX64));
	/* An invalid region holds nothing. */
	assert_false(range_within(MAX64, 1, MAX64, 2));
	/* Empty region. */
	assert_true(range_within(LO, 0, LO, 0));
	assert_false(range_within(LO, 1, LO, 0));
}

static void test_overlaps_edges(void **state)
{
	(void)state;
	assert_true(range_overlaps(0, 10, 9, 1));
	assert_false(range_overlaps(0, 10, 10, 1));
	assert_false(range_overlaps(10, 1, 0, 10));
	assert_true(range_overlaps(9, 1, 0, 10));
	assert_false(range_overlaps(0, 0, 0, 10)); /* empty */
	assert_false(range_overlaps(5, 10, 7, 0));
	/* Near 2^64, where `a < b + blen` wrapped. */
	assert_true(range_overlaps(MAX64, 1, MAX64 - 4, 5));
	assert_false(range_overlaps(MAX64, 1, MAX64 - 4, 4));
	assert_true(range_overlaps(0, MAX64, MAX64 - 1, 1));
	assert_false(range_overlaps(0, MAX64, MAX64, 1));
	assert_true(range_overlaps(0xfffffffffffff000ULL, 0x1000, 0xfffffffffffff800ULL, 0x800));
}

/* range_granules against a 128-bit reference: 4 KiB and 2 MiB granules, regions at 0, in the
 * middle and ending at 2^64, ranges from before the region to past it, lengths up to 2^64 - 1. */
static void test_granules(void **state)
{
	const unsigned shifts[] = { 12, 21 };
	(void)state;

	for (unsigned si = 0; si < 2; si++) {
		const unsigned sh = shifts[si];
		const u64 g = 1ULL << sh, n = 5;
		const u64 bases[] = { 0, 0x40000000ULL, 0 - n * g };
		const u64 lens[] = { 0,     1,     2,         g - 1,     g,         g + 1,
				     3 * g, n * g, n * g + 1, ~0ULL / 2, ~0ULL - 1, ~0ULL };

		for (unsigned b = 0; b < 3; b++)
			for (u64 off = 0; off < (n + 6) * g; off += g / 2 - 1)
				for (unsigned l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
					u64 at = bases[b] - 3 * g + off, len = lens[l], f = 0,
					    z = 0;
					unsigned __int128 lo = at, hi = lo + len;
					bool any = false,
					     got = range_granules(bases[b], n, sh, at, len, &f, &z);
					u64 wf = 0, wl = 0;

					for (u64 k = 0; k < n; k++) {
						unsigned __int128 s0 =
							(unsigned __int128)bases[b] + k * g;

						if (len && lo < s0 + g && s0 < hi) {
							wf = any ? wf : k;
							wl = k;
							any = true;
						}
					}
					assert_int_equal(got, any);
					if (any) {
						assert_int_equal(f, wf);
						assert_int_equal(z, wl);
					}
				}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_edges),
		cmocka_unit_test(test_within_edges),
		cmocka_unit_test(test_overlaps_edges),
		cmocka_unit_test(test_granules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
