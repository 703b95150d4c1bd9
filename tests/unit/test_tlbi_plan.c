/* SPDX-License-Identifier: Apache-2.0 */
/* The planner, exhaustively: every page count 1 .. 2^21 + 4096 at several alignments, with and
 * without FEAT_TLBIRANGE. Coverage is checked analytically (the ops must tile [start, start + pages)
 * exactly, in ascending order), which keeps the whole sweep linear; test_tlbi_model.c replays
 * selected sizes through the entry-level TLB model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mm/tlbi.h"

#define SWEEP_MAX (TLBI_RANGE_MAX_PAGES + 4096)

static const struct tlbi_caps with_range = { .range = true, .ttl = false };
static const struct tlbi_caps no_range = { .range = false, .ttl = false };
static const u64 alignments[] = { 0x40000000ULL, 0x1000ULL, 0x3ff000ULL, 0x123456789000ULL, 0 };

static struct tlbi_plan plan;

/* The ops tile [first, first + pages) exactly: each starts where the previous ended. */
static void assert_exact_tiling(u64 first, u64 pages)
{
	u64 next = first;

	for (size_t i = 0; i < plan.n; i++) {
		struct tlbi_cover c;

		tlbi_op_cover(plan.op[i].kind, plan.op[i].operand, &c);
		tlbi_cover_widen(&c, plan.level);
		assert_false(c.unpredictable);
		assert_true(c.start_page == next);
		assert_true(c.pages > 0);
		next += c.pages;
	}
	assert_true(next == first + pages);
}

/* With range ops: ops never straddle an 8 GiB chunk; within a chunk at most one op per SCALE, in
 * descending SCALE order, then at most one single-page op, which ends the chunk: <= 5 per chunk. */
static void assert_range_shape(u64 first, u64 pages)
{
	u64 chunks = (pages + TLBI_RANGE_MAX_PAGES - 1) / TLBI_RANGE_MAX_PAGES;
	u64 next = first, end = first + pages;
	size_t i = 0;

	assert_true(plan.n <= TLBI_RANGE_OPS_PER_CHUNK * chunks);
	assert_true(plan.n <= pages / TLBI_RANGE_MAX_PAGES + TLBI_RANGE_OPS_PER_CHUNK);
	while (i < plan.n) {
		u64 chunk_end = next + MIN(end - next, TLBI_RANGE_MAX_PAGES);
		u32 last_scale = 4;
		size_t ops = 0;

		while (i < plan.n && next < chunk_end) {
			struct tlbi_cover c;

			tlbi_op_cover(plan.op[i].kind, plan.op[i].operand, &c);
			if (plan.op[i].kind == TLBI_IPAS2E1IS) {
				assert_true(next + 1 == chunk_end);
			} else {
				struct tlbi_range_fields f;

				assert_int_equal(plan.op[i].kind, TLBI_RIPAS2E1IS);
				tlbi_range_decode(plan.op[i].operand, &f);
				assert_int_equal(f.tg, TLBI_TG_4K);
				assert_int_equal(f.high, 0);
				assert_true(f.scale < last_scale);
				last_scale = f.scale;
			}
			next += c.pages;
			i++;
			ops++;
		}
		assert_true(next == chunk_end);
		assert_true(ops <= TLBI_RANGE_OPS_PER_CHUNK);
	}
	assert_true(next == end);
}

static void sweep_range(u64 addr)
{
	u64 first = addr >> PAGE_SHIFT;

	for (u64 pages = 1; pages <= SWEEP_MAX; pages++) {
		assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(addr),
						    pages, -1, &plan),
				 0);
		assert_exact_tiling(first, pages);
		assert_range_shape(first, pages);
	}
}

static void sweep_no_range(u64 addr)
{
	u64 first = addr >> PAGE_SHIFT;

	for (u64 pages = 1; pages <= SWEEP_MAX; pages++) {
		assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &no_range, ipa_init(addr),
						    pages, -1, &plan),
				 0);
		if (pages <= TLBI_MAX_DVM_OPS) {
			assert_true(plan.n == pages);
			for (size_t i = 0; i < plan.n; i++)
				assert_int_equal(plan.op[i].kind, TLBI_IPAS2E1IS);
			assert_exact_tiling(first, pages);
		} else {
			assert_true(plan.n == 1);
			assert_int_equal(plan.op[0].kind, TLBI_VMALLS12E1IS);
		}
	}
}

static void test_exhaustive_range(void **state)
{
	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(alignments); a++)
		sweep_range(alignments[a]);
}

static void test_exhaustive_no_range(void **state)
{
	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(alignments); a++)
		sweep_no_range(alignments[a]);
}

/* ---- ferry-over: may invalidate more than the range, never less ---- */

/* What the plan covers, checked without the planner's help: the union of every op's span (in any
 * order) must contain [first, first + pages); returns the pages of the union outside it. */
static u64 assert_covers(u64 first, u64 pages)
{
	u64 s[TLBI_PLAN_MAX_OPS], e[TLBI_PLAN_MAX_OPS];
	size_t n = 0;

	for (size_t i = 0; i < plan.n; i++) {
		struct tlbi_cover c;

		tlbi_op_cover(plan.op[i].kind, plan.op[i].operand, &c);
		tlbi_cover_widen(&c, plan.level);
		assert_false(c.unpredictable);
		assert_false(c.all_stage2);
		assert_true(c.pages > 0);
		assert_true(c.start_page + c.pages <= BIT(37)); /* within BaseADDR's reach */
		/* insertion sort by start: plans are tiny */
		size_t k = n++;

		while (k && s[k - 1] > c.start_page) {
			s[k] = s[k - 1];
			e[k] = e[k - 1];
			k--;
		}
		s[k] = c.start_page;
		e[k] = c.start_page + c.pages;
	}
	u64 covered_to = first, over = 0, end = first + pages, reach = 0;

	for (size_t i = 0; i < n; i++) {
		assert_true(s[i] <= covered_to || covered_to >= end); /* no hole inside the range */
		if (e[i] > covered_to && s[i] <= covered_to)
			covered_to = e[i];
		/* pages of this op outside [first, end) not already counted */
		u64 lo = MAX(s[i], reach);

		if (lo < first)
			over += MIN(e[i], first) - lo;
		if (e[i] > end)
			over += e[i] - MAX(lo, end);
		reach = MAX(reach, e[i]);
	}
	assert_true(covered_to >= end);
	return over;
}

static void check_over(u64 addr, u64 pages, const struct tlbi_caps *caps,
		       const struct tlbi_cost *cost)
{
	static struct tlbi_plan exact;
	u64 first = addr >> PAGE_SHIFT;
	u64 full = pages > TLBI_RANGE_MAX_PAGES ? (pages - 1) / TLBI_RANGE_MAX_PAGES : 0;

	assert_int_equal(tlbi_plan_s2_range_cost(TLBI_ALGO_FERRY_OVER, caps, ipa_init(addr), pages,
						 -1, cost, &plan),
			 0);
	assert_true(assert_covers(first, pages) == plan.over_pages);
	/* At most 2 ops for any range up to 8 GiB; beyond, one per further full chunk. */
	assert_true(plan.n <= 2 + full);
	assert_true(plan.cost == plan.n * cost->op + plan.over_pages * cost->refill);
	/* Never dearer than the exact cover by the model's own price. */
	assert_int_equal(tlbi_plan_s2_range_cost(TLBI_ALGO_FERRY, caps, ipa_init(addr), pages, -1,
						 cost, &exact),
			 0);
	assert_true(plan.cost <= exact.cost);
	assert_true(plan.n <= exact.n);
}

static void test_over_exhaustive(void **state)
{
	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(alignments); a++)
		for (u64 pages = 1; pages <= SWEEP_MAX; pages++)
			check_over(alignments[a], pages, &with_range, &tlbi_cost_default);
}

/* Ranges that end at the top of BaseADDR's reach: an op past the end would not encode, so the
 * over-covering op ends at the range's end instead. Every alignment of the end, counts 1..4096
 * and every 2 MiB up to 8 GiB. */
static void test_over_at_reach_limit(void **state)
{
	(void)state;
	for (u64 pages = 1; pages <= 4096; pages++)
		check_over((BIT(37) - pages) << PAGE_SHIFT, pages, &with_range, &tlbi_cost_default);
	for (u64 pages = 512; pages <= TLBI_RANGE_MAX_PAGES; pages += 512)
		check_over((BIT(37) - pages) << PAGE_SHIFT, pages - 1, &with_range,
			   &tlbi_cost_default);
}

/* Random ranges up to 64 GiB at random page addresses, under random cost models (including
 * refills priced at 0 and ops priced like one refill). */
static void test_over_randomized(void **state)
{
	u64 x = 0x9e3779b97f4a7c15ULL;
	(void)state;

	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		u64 pages = 1 + (x >> 40) % (8 * TLBI_RANGE_MAX_PAGES);
		u64 first = (x & (BIT(36) - 1)) % (BIT(37) - pages + 1);
		struct tlbi_cost cost = { .op = (u32)(x >> 20) % 4096,
					  .refill = (u32)(x >> 8) % 8 };

		if (i % 4 == 0)
			cost = tlbi_cost_default;
		check_over(first << PAGE_SHIFT, pages, &with_range, &cost);
	}
}

/* The cost model's choices at the defaults (one op = 64 refills). */
static void test_over_choices(void **state)
{
	(void)state;
	/* 3 pages: one 4-page op (1 extra page) beats 2 exact ops. */
	check_over(0x40000000ULL, 3, &with_range, &tlbi_cost_default);
	assert_int_equal(plan.n, 1);
	assert_true(plan.over_pages == 1);
	assert_true(plan.op[0].operand == 0x408000040000ULL);
	/* 2 MiB - 4 KiB: 1 extra page for 1 op instead of 3. */
	check_over(0x40000000ULL, 511, &with_range, &tlbi_cost_default);
	assert_int_equal(plan.n, 1);
	assert_true(plan.over_pages == 1);
	/* 8 GiB - 4 KiB: exact takes 5; the single op would waste a page; 1 op + 1 page wins. */
	check_over(0x40000000ULL, TLBI_RANGE_MAX_PAGES - 1, &with_range, &tlbi_cost_default);
	assert_int_equal(plan.n, 1);
	/* 1 GiB + 4 KiB: one op would drop 65535 unchanged pages; two overlapping ops drop none. */
	check_over(0x40000000ULL, 262145, &with_range, &tlbi_cost_default);
	assert_int_equal(plan.n, 2);
	assert_true(plan.over_pages == 0);
	/* Exact sizes stay one exact op; the seed case is unchanged. */
	check_over(0x40000000ULL, TLBI_RANGE_MAX_PAGES, &with_range, &tlbi_cost_default);
	assert_int_equal(plan.n, 1);
	assert_true(plan.op[0].operand == 0x7f8000040000ULL);
	/* Refills priced at 0: always one op when it fits. Ops free: the exact cover is as cheap. */
	const struct tlbi_cost free_refill = { 1, 0 }, dear_refill = { 1, 1000 };

	check_over(0x40000000ULL, 262145, &with_range, &free_refill);
	assert_int_equal(plan.n, 1);
	check_over(0x40000000ULL, 3, &with_range, &dear_refill);
	assert_int_equal(plan.n, 2);
	assert_true(plan.over_pages == 0);
	/* Without range ops the mode is the exact per-page plan. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY_OVER, &no_range,
					    ipa_init(0x40000000ULL), 3, -1, &plan),
			 0);
	assert_int_equal(plan.n, 3);
	assert_int_equal(plan.op[0].kind, TLBI_IPAS2E1IS);
}

/* With a known block level and FEAT_TTL: ops keep the hint only where their base is on the block
 * grid (else the range would be UNPREDICTABLE), and still cover every block. */
static void test_over_level_hints(void **state)
{
	const struct tlbi_caps r_ttl = { .range = true, .ttl = true };
	(void)state;

	for (int level = 1; level <= 3; level++) {
		u64 bs = 1ULL << (9 * (3 - level));

		for (u64 blocks = 1; blocks * bs <= 3 * TLBI_RANGE_MAX_PAGES;
		     blocks += blocks < 600 ? 1 : 97) {
			u64 pages = blocks * bs;

			assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY_OVER, &r_ttl,
							    ipa_init(0x40000000ULL), pages, level,
							    &plan),
					 0);
			assert_int_equal(plan.level, level);
			assert_covers(0x40000, pages);
		}
	}
}

/* The seed: 8 GiB at 0x40000000 is exactly one op, SCALE 3 NUM 31. */
static void test_seed_case_one_op(void **state)
{
	(void)state;
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0x40000000ULL),
					    0x200000, -1, &plan),
			 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.op[0].kind, TLBI_RIPAS2E1IS);
	assert_true(plan.op[0].operand == 0x7f8000040000ULL);
}

/* Known block level: one op per block without range ops, TTL hints with FEAT_TTL, and a hint that
 * does not match the alignment is dropped rather than obeyed. */
static void test_level_hints(void **state)
{
	const struct tlbi_caps nr_ttl = { .range = false, .ttl = true };
	const struct tlbi_caps r_ttl = { .range = true, .ttl = true };
	(void)state;

	/* 512 x 2 MiB = 1 GiB at level 2, no range: 512 ops, 2 MiB apart, TTL 0b0110. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &nr_ttl, ipa_init(0x40000000ULL),
					    512 * 512, 2, &plan),
			 0);
	assert_int_equal(plan.n, 512);
	assert_int_equal(plan.level, 2);
	for (size_t i = 0; i < plan.n; i++)
		assert_true(plan.op[i].operand == ((0x40000ULL + i * 512) | 0x6ULL << 44));
	assert_exact_tiling(0x40000, 512 * 512);
	/* 513 blocks: over MAX_DVM_OPS, so the whole VMID. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &nr_ttl, ipa_init(0x40000000ULL),
					    513 * 512, 2, &plan),
			 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.op[0].kind, TLBI_VMALLS12E1IS);
	/* Level 1: 8 GiB = 8 ops of 1 GiB. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &nr_ttl, ipa_init(0x40000000ULL),
					    0x200000, 1, &plan),
			 0);
	assert_int_equal(plan.n, 8);
	assert_true(plan.op[7].operand == ((0x40000ULL + 7 * 0x40000) | 0x5ULL << 44));
	/* Unaligned for level 2: hint dropped, per page. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &nr_ttl, ipa_init(0x40001000ULL), 512,
					    2, &plan),
			 0);
	assert_int_equal(plan.level, -1);
	assert_int_equal(plan.n, 512);
	assert_true(plan.op[0].operand == 0x40001ULL);
	/* Range ops carry TTL in [38:37] with FEAT_TTL; the bases stay block-aligned. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &r_ttl, ipa_init(0x40000000ULL),
					    0x200000 - 512, 2, &plan),
			 0);
	for (size_t i = 0; i < plan.n; i++) {
		struct tlbi_cover c;

		tlbi_op_cover(plan.op[i].kind, plan.op[i].operand, &c);
		assert_int_equal(c.level, 2);
		assert_false(c.unpredictable);
	}
	assert_exact_tiling(0x40000, 0x200000 - 512);
	/* Without FEAT_TTL no hint is encoded. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0x40000000ULL),
					    0x200000, 2, &plan),
			 0);
	assert_true(plan.op[0].operand == 0x7f8000040000ULL);
}

static void test_bad_requests(void **state)
{
	(void)state;
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0x40000800ULL),
					    1, -1, &plan),
			 FERRY_EINVAL);
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0x40000000ULL),
					    1, 0, &plan),
			 FERRY_EINVAL);
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0x40000000ULL),
					    1, 4, &plan),
			 FERRY_EINVAL);
	assert_int_equal(tlbi_plan_s2_range((enum tlbi_algo)99, &with_range,
					    ipa_init(0x40000000ULL), 1, -1, &plan),
			 FERRY_EINVAL);
	/* Beyond BaseADDR's 37 bits (IPA 2^49): refused, not wrapped. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(1ULL << 49), 1,
					    -1, &plan),
			 FERRY_EINVAL);
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range,
					    ipa_init((1ULL << 49) - 0x1000), 2, -1, &plan),
			 FERRY_EINVAL);
	assert_int_equal(plan.n, 0);
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range,
					    ipa_init((1ULL << 49) - 0x1000), 1, -1, &plan),
			 0);
	assert_int_equal(plan.n, 1);
	/* Empty range: empty plan. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0x40000000ULL),
					    0, -1, &plan),
			 0);
	assert_int_equal(plan.n, 0);
}

/* Large ranges: one op per full chunk up to the plan bound, then one VMID flush. */
static void test_large_ranges(void **state)
{
	(void)state;
	/* 1 TiB + 3 pages = 128 chunks + (2 + 1): 130 ops. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0x40000000ULL),
					    (1ULL << 28) + 3, -1, &plan),
			 0);
	assert_int_equal(plan.n, 130);
	assert_exact_tiling(0x40000, (1ULL << 28) + 3);
	/* 640 full chunks no longer fit the bound: whole VMID. */
	assert_int_equal(tlbi_plan_s2_range(TLBI_ALGO_FERRY, &with_range, ipa_init(0),
					    640 * TLBI_RANGE_MAX_PAGES + 1, -1, &plan),
			 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.op[0].kind, TLBI_VMALLS12E1IS);
}

/* Both historical planners tile every count below 2^21 correctly (they only fail at exactly a full
 * chunk); the sweep shows it, and that they do fail at 2^21. */
static void sweep_historical(enum tlbi_algo algo, u64 addr)
{
	bool outside;

	for (u64 pages = 1; pages < TLBI_RANGE_MAX_PAGES; pages++) {
		assert_int_equal(
			tlbi_plan_s2_range(algo, &with_range, ipa_init(addr), pages, -1, &plan), 0);
		assert_true(tlbi_plan_stale_pages(&plan, ipa_init(addr), pages, &outside) == 0);
		assert_false(outside);
		assert_true(plan.n <= TLBI_RANGE_OPS_PER_CHUNK);
	}
	assert_int_equal(tlbi_plan_s2_range(algo, &with_range, ipa_init(addr), TLBI_RANGE_MAX_PAGES,
					    -1, &plan),
			 0);
	assert_true(tlbi_plan_stale_pages(&plan, ipa_init(addr), TLBI_RANGE_MAX_PAGES, &outside) >
		    0);
}

static void test_historical_correct_below_2_21(void **state)
{
	(void)state;
	sweep_historical(TLBI_ALGO_LINUX_6_6, 0x40000000ULL);
	sweep_historical(TLBI_ALGO_LINUX_6_8, 0x40000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_case_one_op),
		cmocka_unit_test(test_level_hints),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_large_ranges),
		cmocka_unit_test(test_exhaustive_range),
		cmocka_unit_test(test_exhaustive_no_range),
		cmocka_unit_test(test_historical_correct_below_2_21),
		cmocka_unit_test(test_over_choices),
		cmocka_unit_test(test_over_level_hints),
		cmocka_unit_test(test_over_at_reach_limit),
		cmocka_unit_test(test_over_randomized),
		cmocka_unit_test(test_over_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
