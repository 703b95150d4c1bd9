/* SPDX-License-Identifier: Apache-2.0 */
/* The flush against the reference TLB model (tests/unit/tlb_model.c): the model's own rules, the exact
 * barrier/TLBI sequence of a flush, and write-protects replayed through the model for selected
 * sizes and every planner, ferry-over included. The historical bugs, the sanitizer and the ring
 * are in test_tlbi_sanitizer.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "mm/tlbi.h"
#include "tlbi_fixture.h"

/* ---- the model's own rules ---- */

static void test_model_ipa_ops_spare_combined_entries(void **state)
{
	(void)state;
	tlb_model_fill_s2(&model, VMID, 0x40000, 16, 3);
	tlb_model_fill_combined(&model, VMID, 0x40000, 16);
	model_op(TLBI_IPAS2E1IS, VMID, 0x40001);
	assert_true(stale_s2(VMID, 0x40000, 16) == 16); /* not complete before a DSB ISH */
	model_op(FAKE_DSB_ISHST, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 16) == 16); /* DSB ISHST does not complete a TLBI */
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 16) == 15);
	assert_true(tlb_model_stale_combined(&model, VMID, 0x40000, 16) == 16);
	model_op(TLBI_RIPAS2E1IS, VMID, 1ULL << 46 | 6ULL << 39 | 0x40002); /* 14 pages */
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 16) == 1);
	assert_true(tlb_model_stale_combined(&model, VMID, 0x40000, 16) == 16);
	model_op(TLBI_VMALLE1IS, VMID, 0);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(tlb_model_stale_combined(&model, VMID, 0x40000, 16) == 0);
	assert_true(stale_s2(VMID, 0x40000, 16) == 1); /* VMALLE1IS leaves stage-2-only entries */
	model_op(TLBI_VMALLS12E1IS, VMID, 0);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 16) == 0);
}

static void test_model_levels_granule_vmid(void **state)
{
	(void)state;
	/* A 2 MiB block goes with an op for any page inside it. */
	tlb_model_fill_s2(&model, VMID, 0x40000, 512, 2);
	model_op(TLBI_IPAS2E1IS, VMID, 0x40123);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 512) == 0);
	/* A TTL hint of level 2 does not reach level-3 entries. */
	tlb_model_fill_s2(&model, VMID, 0x40000, 512, 3);
	model_op(TLBI_RIPAS2E1IS, VMID,
		 1ULL << 46 | 2ULL << 37 | 7ULL << 39 | 1ULL << 44 | 0x40000);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 512) == 512);
	/* TG = 64K names another granule: nothing goes. */
	model_op(TLBI_RIPAS2E1IS, VMID, 3ULL << 46 | 7ULL << 39 | 1ULL << 44 | 0x40000);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 512) == 512);
	/* Another VMID's op changes nothing here. */
	tlb_model_fill_s2(&model, 2, 0x40000, 512, 3);
	model_op(TLBI_VMALLS12E1IS, 2, 0);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 512) == 512);
	assert_true(stale_s2(2, 0x40000, 512) == 0);
	/* An unaligned base with TTL 2 is UNPREDICTABLE: the model credits nothing. */
	model_op(TLBI_RIPAS2E1IS, VMID,
		 1ULL << 46 | 3ULL << 37 | 7ULL << 39 | 1ULL << 44 | 0x40000);
	model_op(TLBI_RIPAS2E1IS, VMID, 1ULL << 46 | 2ULL << 37 | 0x40001);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 512) == 0);
	assert_true(model.unpredictable_ops == 1);
}

static void test_model_ordering(void **state)
{
	(void)state;
	/* A TLBI before the descriptor writes are ordered by a DSB can be undone by a walk. */
	tlb_model_fill_s2(&model, VMID, 0x40000, 1, 3);
	tlb_model_write_tables(&model);
	model_op(TLBI_IPAS2E1IS, VMID, 0x40000);
	model_op(FAKE_DSB_ISH, 0, 0);
	assert_true(stale_s2(VMID, 0x40000, 1) == 1);
	assert_true(model.ordering_violations == 1);
}

/* ---- the exact sequence a flush emits ---- */

static void test_flush_sequence(void **state)
{
	(void)state;
	assert_int_equal(tlbi_flush_s2_range_algo(TLBI_ALGO_FERRY, &caps_range, 3,
						  ipa_init(SEED_IPA), SEED_PAGES, -1),
			 0);
	assert_int_equal(fake_arch_log_len, 6);
	assert_event(0, FAKE_DSB_ISHST, 0, 0);
	assert_event(1, TLBI_RIPAS2E1IS, 3, 0x7f8000040000ULL);
	assert_event(2, FAKE_DSB_ISH, 0, 0);
	assert_event(3, TLBI_VMALLE1IS, 3, 0);
	assert_event(4, FAKE_DSB_ISH, 0, 0);
	assert_event(5, FAKE_ISB, 0, 0);

	/* Without range ops: 3 pages, 3 IPAS2E1IS, same brackets. */
	fake_arch_reset();
	assert_int_equal(tlbi_flush_s2_range(&caps_none, 3, ipa_init(SEED_IPA + 0x5000), 3, -1), 0);
	assert_int_equal(fake_arch_log_len, 8);
	assert_event(0, FAKE_DSB_ISHST, 0, 0);
	for (size_t i = 0; i < 3; i++)
		assert_event(1 + i, TLBI_IPAS2E1IS, 3, 0x40005 + i);
	assert_event(4, FAKE_DSB_ISH, 0, 0);
	assert_event(5, TLBI_VMALLE1IS, 3, 0);
	assert_event(6, FAKE_DSB_ISH, 0, 0);
	assert_event(7, FAKE_ISB, 0, 0);

	fake_arch_reset();
	tlbi_flush_s2_vmid(7);
	assert_int_equal(fake_arch_log_len, 4);
	assert_event(0, FAKE_DSB_ISHST, 0, 0);
	assert_event(1, TLBI_VMALLS12E1IS, 7, 0);
	assert_event(2, FAKE_DSB_ISH, 0, 0);
	assert_event(3, FAKE_ISB, 0, 0);

	/* Empty: nothing emitted. A bad request still flushes (the whole VMID) and reports. */
	fake_arch_reset();
	assert_int_equal(tlbi_flush_s2_range(&caps_range, 3, ipa_init(SEED_IPA), 0, -1), 0);
	assert_int_equal(fake_arch_log_len, 0);
	assert_int_equal(tlbi_flush_s2_range(&caps_range, 3, ipa_init(SEED_IPA + 1), 1, -1),
			 FERRY_EINVAL);
	assert_event(1, TLBI_VMALLS12E1IS, 3, 0);
}

/* ---- write-protect through the model ---- */

static void assert_neighbours_kept(u64 addr, u64 pages, bool whole_vmid)
{
	u64 first = addr >> PAGE_SHIFT;
	u64 expect = whole_vmid ? 0 : 512;

	assert_true(stale_s2(VMID, first - 512, 512) == expect);
	assert_true(stale_s2(VMID, first + pages, 512) == expect);
}

static const u64 selected[] = {
	1,
	2,
	3,
	31,
	32,
	33,
	63,
	64,
	65,
	511,
	512,
	513,
	2047,
	2048,
	2049,
	65535,
	65536,
	65537,
	1000001,
	SEED_PAGES - 1,
	SEED_PAGES,
	SEED_PAGES + 1,
	SEED_PAGES + 4095,
	SEED_PAGES + 4096,
	2 * SEED_PAGES + 3,
	5 * SEED_PAGES - 1,
};

static void test_write_protect_selected_sizes(void **state)
{
	static const u64 addrs[] = { SEED_IPA, SEED_IPA + 0x3000, 0x80000000ULL - 0x1000 };
	struct tlb_model_range r[4];
	size_t n;
	(void)state;

	for (size_t a = 0; a < ARRAY_SIZE(addrs); a++)
		for (size_t i = 0; i < ARRAY_SIZE(selected); i++) {
			u64 pages = selected[i];
			bool whole = pages > TLBI_MAX_DVM_OPS;

			assert_true(write_protect(TLBI_ALGO_FERRY, &caps_range, addrs[a], pages, -1,
						  3, r, 4, &n) == 0);
			assert_neighbours_kept(addrs[a], pages, false);
			assert_false(tlbi_san_pending(VMID));
			assert_true(write_protect(TLBI_ALGO_FERRY, &caps_none, addrs[a], pages, -1,
						  3, r, 4, &n) == 0);
			assert_neighbours_kept(addrs[a], pages, whole);
			assert_false(tlbi_san_pending(VMID));
			assert_true(write_protect(TLBI_ALGO_LINUX_FIXED, &caps_range, addrs[a],
						  pages, -1, 3, r, 4, &n) == 0);
			assert_false(tlbi_san_pending(VMID));
		}
}

/* Block mappings with the level known: per-block ops (or TTL-hinted range ops) remove them all. */
static void test_write_protect_blocks(void **state)
{
	struct tlb_model_range r[4];
	size_t n;
	(void)state;

	for (u64 blocks = 1; blocks <= 1100; blocks += 37) {
		u64 pages = blocks * 512;

		assert_true(write_protect(TLBI_ALGO_FERRY, &caps_none_ttl, SEED_IPA, pages, 2, 2, r,
					  4, &n) == 0);
		assert_neighbours_kept(SEED_IPA, pages, blocks > TLBI_MAX_DVM_OPS);
		assert_false(tlbi_san_pending(VMID));
		/* Without FEAT_TTL the per-block ops carry no hint and still remove the blocks. */
		assert_true(write_protect(TLBI_ALGO_FERRY, &caps_none, SEED_IPA, pages, 2, 2, r, 4,
					  &n) == 0);
		assert_false(tlbi_san_pending(VMID));
		assert_true(write_protect(TLBI_ALGO_FERRY, &caps_range_ttl, SEED_IPA, pages, 2, 2,
					  r, 4, &n) == 0);
		assert_neighbours_kept(SEED_IPA, pages, false);
		assert_false(tlbi_san_pending(VMID));
	}
	assert_true(write_protect(TLBI_ALGO_FERRY, &caps_none_ttl, SEED_IPA, SEED_PAGES, 1, 1, r, 4,
				  &n) == 0);
	assert_true(fake_arch_log_len == 8 + 5); /* 8 x 1 GiB ops */
	/* Had the caller claimed level 2 for page mappings, the TTL hint would leave them: the
	 * model catches a wrong hint (the planner can only check alignment). */
	assert_true(write_protect(TLBI_ALGO_FERRY, &caps_range_ttl, SEED_IPA, 512, 2, 3, r, 4,
				  &n) == 512);
	tlbi_flush_s2_vmid(VMID);
}

/* ---- ferry-over through the model ---- */

/* Wide neighbours on both sides (an over-covering op reaches at most 65535 pages past the range),
 * a write-protect flushed by ferry-over, then: nothing of the range is stale, the sanitizer is
 * clear, and the neighbour pages lost are exactly the over-coverage the plan claims. */
#define OVER_MARGIN (1ULL << 17)

static void over_write_protect(const struct tlbi_caps *caps, u64 addr, u64 pages, int level,
			       int fill_level)
{
	static struct tlbi_plan p;
	u64 first = addr >> PAGE_SHIFT;
	struct tlb_model_range r[4];
	size_t n;

	assert_int_equal(
		tlbi_plan_s2_range(TLBI_ALGO_FERRY_OVER, caps, ipa_init(addr), pages, level, &p),
		0);
	tlb_model_free(&model);
	tlb_model_init(&model);
	fake_arch_reset();
	tlbi_state_reset();
	fake_arch_observer = tlb_model_observer;
	fake_arch_observer_ctx = &model;
	tlb_model_fill_s2(&model, VMID, first - OVER_MARGIN, OVER_MARGIN, 3);
	tlb_model_fill_s2(&model, VMID, first, pages, fill_level);
	tlb_model_fill_s2(&model, VMID, first + pages, OVER_MARGIN, 3);
	tlb_model_fill_combined(&model, VMID, first, pages);
	/* Another VMID caching the same IPAs must not lose a thing. */
	tlb_model_fill_s2(&model, 2, first - OVER_MARGIN, pages + 2 * OVER_MARGIN, 3);
	tlb_model_write_tables(&model);
	tlbi_san_downgrade(VMID, ipa_init(addr), pages);
	assert_int_equal(tlbi_flush_s2_range_algo(TLBI_ALGO_FERRY_OVER, caps, VMID, ipa_init(addr),
						  pages, level),
			 0);
	fake_arch_observer = NULL;
	assert_true(model.ordering_violations == 0);
	assert_true(model.unpredictable_ops == 0);
	assert_true(tlb_model_stale_combined(&model, VMID, first, pages) == 0);
	assert_true(tlb_model_stale_s2(&model, VMID, first, pages, r, 4, &n) == 0);
	assert_false(tlbi_san_pending(VMID));
	u64 kept = stale_s2(VMID, first - OVER_MARGIN, OVER_MARGIN) +
		   stale_s2(VMID, first + pages, OVER_MARGIN);

	assert_true(2 * OVER_MARGIN - kept == p.over_pages);
	assert_true(stale_s2(2, first - OVER_MARGIN, pages + 2 * OVER_MARGIN) ==
		    pages + 2 * OVER_MARGIN);
	assert_true(p.n <= 2 + (pages > SEED_PAGES ? (pages - 1) / SEED_PAGES : 0));
}

/* Every page count 1..2100 at eight alignments, all through the entry-level model. */
static void test_over_model_exhaustive_small(void **state)
{
	static const u64 addrs[] = {
		SEED_IPA,           SEED_IPA + 0x1000,       SEED_IPA + 0x3000,
		SEED_IPA + 0x3f000, SEED_IPA + 0x1ff000,     0x80000000ULL - 0x1000,
		0x123456789000ULL,  0x40000000ULL + 0x7e000,
	};
	(void)state;

	for (size_t a = 0; a < ARRAY_SIZE(addrs); a++)
		for (u64 pages = 1; pages <= 2100; pages++)
			over_write_protect(&caps_range, addrs[a], pages, -1, 3);
}

/* Beyond: the selected sizes at three alignments and random sizes up to five 8 GiB chunks at random
 * page addresses; block mappings with known levels (TTL hints kept only on block-aligned bases). */
static void test_over_model_randomized(void **state)
{
	static const u64 addrs[] = { SEED_IPA, SEED_IPA + 0x3000, 0x80000000ULL - 0x1000 };
	u64 x = 0x2545f4914f6cdd1dULL;
	(void)state;

	for (size_t a = 0; a < ARRAY_SIZE(addrs); a++)
		for (size_t i = 0; i < ARRAY_SIZE(selected); i++)
			over_write_protect(&caps_range, addrs[a], selected[i], -1, 3);
	for (int i = 0; i < 3000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		u64 pages = 1 + (x >> 20) % (i % 3 ? 3 * SEED_PAGES : 70000);
		u64 first = OVER_MARGIN + (x & (BIT(30) - 1));

		over_write_protect(&caps_range, first << PAGE_SHIFT, pages, -1, 3);
	}
	for (u64 blocks = 1; blocks <= 1100; blocks += 7) {
		over_write_protect(&caps_range_ttl, SEED_IPA, blocks * 512, 2, 2);
		over_write_protect(&caps_range_ttl, SEED_IPA + 0x3000, blocks * 512, -1, 3);
	}
	for (u64 blocks = 1; blocks <= 20; blocks++)
		over_write_protect(&caps_range_ttl, SEED_IPA, blocks * 262144, 1, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_ipa_ops_spare_combined_entries,
						setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_model_levels_granule_vmid, setup_each,
						teardown_each),
		cmocka_unit_test_setup_teardown(test_model_ordering, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_flush_sequence, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_write_protect_selected_sizes, setup_each,
						teardown_each),
		cmocka_unit_test_setup_teardown(test_write_protect_blocks, setup_each,
						teardown_each),
		cmocka_unit_test_setup_teardown(test_over_model_exhaustive_small, setup_each,
						teardown_each),
		cmocka_unit_test_setup_teardown(test_over_model_randomized, setup_each,
						teardown_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
