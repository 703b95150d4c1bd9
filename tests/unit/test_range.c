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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_edges),
		cmocka_unit_test(test_within_edges),
		cmocka_unit_test(test_overlaps_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
