/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/lib/bitmap: every range operation checked against a bit-by-bit reference, at every start and
 * length around word edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/bitmap.h"

#define NBITS 300

static void ref_fill(unsigned char *ref, u64 first, u64 count)
{
	for (u64 i = first; i < first + count; i++)
		ref[i] = 1;
}

static void check_equal(const u64 *map, const unsigned char *ref)
{
	for (u64 i = 0; i < NBITS; i++)
		assert_int_equal(bitmap_test(map, i), ref[i]);
}

static void test_fill_and_weight_all_ranges(void **state)
{
	u64 map[BITMAP_WORDS(NBITS)];
	unsigned char ref[NBITS];
	(void)state;
	for (u64 first = 0; first < 200; first++)
		for (u64 count = 0; first + count <= NBITS; count++) {
			bitmap_zero(map, NBITS);
			memset(ref, 0, sizeof(ref));
			bitmap_fill_range(map, first, count);
			ref_fill(ref, first, count);
			check_equal(map, ref);
			bitmap_zero(map, NBITS);
			bitmap_fill_range_atomic(map, first, count);
			check_equal(map, ref);
			assert_int_equal(bitmap_weight(map, NBITS), count);
			assert_int_equal(bitmap_weight_range(map, first, count), count);
			if (first)
				assert_int_equal(bitmap_weight_range(map, 0, first), 0);
			assert_int_equal(bitmap_next_set(map, NBITS, 0), count ? first : NBITS);
			assert_int_equal(bitmap_next_clear(map, NBITS, first),
					 first + count < NBITS ? first + count : NBITS);
		}
}

static void test_take_range(void **state)
{
	u64 src[BITMAP_WORDS(NBITS)], dst[BITMAP_WORDS(NBITS)];
	unsigned char ref[NBITS];
	(void)state;
	srand(7);
	for (int iter = 0; iter < 3000; iter++) {
		u64 first = (u64)rand() % NBITS, count = (u64)rand() % (NBITS - first + 1), n = 0;

		bitmap_zero(src, NBITS);
		bitmap_zero(dst, NBITS);
		for (u64 i = 0; i < NBITS; i++) {
			ref[i] = (unsigned char)(rand() & 1);
			if (ref[i])
				bitmap_set(src, i);
		}
		for (u64 i = first; i < first + count; i++)
			n += ref[i];
		assert_int_equal(bitmap_take_range(src, dst, first, count), n);
		for (u64 i = 0; i < NBITS; i++) {
			bool inside = i >= first && i < first + count;

			assert_int_equal(bitmap_test(dst, i), inside && ref[i]);
			assert_int_equal(bitmap_test(src, i), !inside && ref[i]);
		}
	}
}

static void test_set_atomic_reports_previous(void **state)
{
	u64 map[2] = { 0, 0 };
	(void)state;
	assert_false(bitmap_set_atomic(map, 70));
	assert_true(bitmap_set_atomic(map, 70));
	assert_int_equal(map[1], 1ULL << 6);
	bitmap_clear(map, 70);
	assert_int_equal(map[1], 0);
	assert_int_equal(bitmap_next_set(map, 128, 0), 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_weight_all_ranges),
		cmocka_unit_test(test_take_range),
		cmocka_unit_test(test_set_atomic_reports_previous),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
