/* SPDX-License-Identifier: Apache-2.0 */
/* The flush's sanitizer and ring against the reference TLB model (tests/unit/tlb_model.c): the two
 * historical Linux bugs with the pages each leaves stale and what the sanitizer reports of them,
 * the sanitizer's own rules, and the per-VMID ring dump. */
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

/* ---- the historical bugs ---- */

static void test_seed_linux_6_6(void **state)
{
	struct tlb_model_range r[4];
	size_t n;
	struct tlbi_san_state st;
	(void)state;

	u64 stale = write_protect(TLBI_ALGO_LINUX_6_6, &caps_range, SEED_IPA, SEED_PAGES, -1, 3, r,
				  4, &n);
	/* One op: SCALE 4 ORed onto TG; the hardware reads SCALE 0 NUM 0 = 2 pages. */
	assert_int_equal(fake_arch_log_len, 6);
	assert_event(1, TLBI_RIPAS2E1IS, VMID, 0x400000040000ULL);
	assert_true(stale == SEED_PAGES - 2);
	assert_int_equal(n, 1);
	assert_true(r[0].start == 0x40002 && r[0].end == 0x240000);
	/* The sanitizer sees exactly what the model sees. */
	assert_true(tlbi_san_pending(VMID));
	tlbi_san_query(VMID, &st);
	assert_true(st.stale_pages == SEED_PAGES - 2);
	assert_int_equal(st.stale_ranges, 1);
	assert_false(st.combined_stale);
	tlbi_san_report(VMID, capture, NULL);
	assert_true(
		captured("VMID 1: stale after a stage-2 downgrade: 2097150 page(s) in 1 range(s)"));
	assert_true(captured("stale IPA 0x40002000-0x23fffffff (2097150 pages)"));
	assert_true(captured("RIPAS2E1IS 0x400000040000 SCALE 0 NUM 0 TTL 0: "
			     "IPA 0x40000000-0x40001fff (2 pages)"));
	assert_true(captured("ops issued since the downgrade: 2"));
}

static void test_seed_linux_6_8(void **state)
{
	struct tlb_model_range r[4];
	size_t n;
	struct tlbi_san_state st;
	(void)state;

	u64 stale = write_protect(TLBI_ALGO_LINUX_6_8, &caps_range, SEED_IPA, SEED_PAGES, -1, 3, r,
				  4, &n);
	/* One op: SCALE -9 sign-extended over [63:44]; read as SCALE 3 NUM 1 = 512 MiB. */
	assert_int_equal(fake_arch_log_len, 6);
	assert_event(1, TLBI_RIPAS2E1IS, VMID, 0xffff708000040000ULL);
	assert_true(stale == SEED_PAGES - (2ULL << 16));
	assert_int_equal(n, 1);
	assert_true(r[0].start == 0x60000 && r[0].end == 0x240000);
	tlbi_san_query(VMID, &st);
	assert_true(st.stale_pages == 1966080);
	tlbi_san_report(VMID, capture, NULL);
	assert_true(captured("stale IPA 0x60000000-0x23fffffff (1966080 pages)"));
	assert_true(captured("RIPAS2E1IS 0xffff708000040000 SCALE 3 NUM 1"));
}

static void test_seed_ferry(void **state)
{
	struct tlb_model_range r[4];
	size_t n;
	(void)state;

	assert_true(write_protect(TLBI_ALGO_FERRY, &caps_range, SEED_IPA, SEED_PAGES, -1, 3, r, 4,
				  &n) == 0);
	assert_int_equal(fake_arch_log_len, 6);
	assert_event(1, TLBI_RIPAS2E1IS, VMID, 0x7f8000040000ULL);
	assert_false(tlbi_san_pending(VMID));
	tlbi_san_report(VMID, capture, NULL);
	assert_true(captured("VMID 1: no stale stage-2 entries pending"));
	/* The 16 GiB case: two full chunks, each one op, each exactly right. */
	assert_true(write_protect(TLBI_ALGO_FERRY, &caps_range, SEED_IPA, 2 * SEED_PAGES, -1, 3, r,
				  4, &n) == 0);
	assert_event(2, TLBI_RIPAS2E1IS, VMID, 0x7f8000240000ULL);
	/* The historical planners fail per full chunk: two stale runs. */
	assert_true(write_protect(TLBI_ALGO_LINUX_6_8, &caps_range, SEED_IPA, 2 * SEED_PAGES, -1, 3,
				  r, 4, &n) == 2 * 1966080);
	assert_int_equal(n, 2);
	tlbi_flush_s2_vmid(VMID);
	assert_false(tlbi_san_pending(VMID));
}

/* ---- the sanitizer ---- */

struct san_probe {
	size_t tlbi_seen, dsb_seen;
	bool pending_at_first_op, s2_pending_at_vmalle1is, combined_at_vmalle1is;
};

static void san_probe_observer(const struct fake_arch_event *ev, void *ctx)
{
	struct san_probe *p = ctx;
	struct tlbi_san_state st;

	tlbi_san_query(VMID, &st);
	if (ev->kind == TLBI_RIPAS2E1IS && !p->tlbi_seen++)
		p->pending_at_first_op = st.stale_pages == SEED_PAGES;
	if (ev->kind == TLBI_VMALLE1IS) {
		p->s2_pending_at_vmalle1is = st.stale_pages != 0;
		p->combined_at_vmalle1is = st.combined_stale;
	}
}

static void test_sanitizer_clears_only_on_dsb(void **state)
{
	struct san_probe probe = { 0 };
	(void)state;

	tlbi_san_downgrade(VMID, ipa_init(SEED_IPA), SEED_PAGES);
	assert_true(tlbi_san_pending(VMID));
	fake_arch_observer = san_probe_observer;
	fake_arch_observer_ctx = &probe;
	tlbi_flush_s2_range_algo(TLBI_ALGO_FERRY, &caps_range, VMID, ipa_init(SEED_IPA), SEED_PAGES,
				 -1);
	fake_arch_observer = NULL;
	/* At the RIPAS2E1IS: still all pending (not yet completed). At VMALLE1IS: the first DSB ISH
	 * cleared the IPAs; combined entries are pending until the second DSB ISH. */
	assert_true(probe.pending_at_first_op);
	assert_false(probe.s2_pending_at_vmalle1is);
	assert_true(probe.combined_at_vmalle1is);
	assert_false(tlbi_san_pending(VMID));
}

static void test_sanitizer_precise_intervals(void **state)
{
	struct tlbi_san_state st;
	(void)state;

	/* Downgrade 2^21 + 5 pages, flush a hole in the middle: two precise leftovers. */
	tlbi_san_downgrade(VMID, ipa_init(SEED_IPA), SEED_PAGES + 5);
	tlbi_flush_s2_range(&caps_range, VMID, ipa_init(SEED_IPA + 0x100000), 0x1000, -1);
	tlbi_san_query(VMID, &st);
	assert_int_equal(st.stale_ranges, 2);
	assert_true(st.stale_pages == SEED_PAGES + 5 - 0x1000);
	assert_false(st.combined_stale);
	tlbi_san_report(VMID, capture, NULL);
	assert_true(captured("stale IPA 0x40000000-0x400fffff (256 pages)"));
	assert_true(captured("stale IPA 0x41100000-0x240004fff (2092805 pages)"));
	/* Overlapping and adjacent downgrades merge. */
	tlbi_san_downgrade(VMID, ipa_init(SEED_IPA + 0x100000), 0x1000);
	tlbi_san_query(VMID, &st);
	assert_int_equal(st.stale_ranges, 1);
	assert_true(st.combined_stale);
	/* Another VMID is independent. */
	assert_false(tlbi_san_pending(2));
	tlbi_flush_s2_vmid(2);
	assert_true(tlbi_san_pending(VMID));
	tlbi_flush_s2_vmid(VMID);
	assert_false(tlbi_san_pending(VMID));

	/* 40 disjoint downgrades overflow the 32-interval table: over-approximated, never lost. */
	for (u64 i = 0; i < 40; i++)
		tlbi_san_downgrade(VMID, ipa_init(SEED_IPA + i * 0x10000), 1);
	tlbi_san_query(VMID, &st);
	assert_true(st.imprecise);
	assert_true(st.stale_pages >= 40);
	assert_true(st.stale_ranges <= 32);
	for (u64 i = 0; i < 39; i++)
		tlbi_flush_s2_range(&caps_range, VMID, ipa_init(SEED_IPA + i * 0x10000), 1, -1);
	assert_true(tlbi_san_pending(VMID));
	tlbi_flush_s2_range(&caps_range, VMID, ipa_init(SEED_IPA), 40 * 0x10, -1);
	assert_false(tlbi_san_pending(VMID));
}

static void test_sanitizer_many_vmids(void **state)
{
	(void)state;
	/* Any u16 VMID works; pending state is never evicted to make room for a ring. */
	tlbi_san_downgrade(0xbeef, ipa_init(SEED_IPA), 1);
	for (u16 v = 100; v < 140; v++)
		tlbi_flush_s2_vmid(v);
	assert_true(tlbi_san_pending(0xbeef));
	tlbi_flush_s2_range(&caps_range, 0xbeef, ipa_init(SEED_IPA), 1, -1);
	assert_false(tlbi_san_pending(0xbeef));
	/* The IPAS2E1IS op and a report through another VMID's slot. */
	tlbi_san_report(139, capture, NULL);
	assert_true(captured("VMID 139: no stale stage-2 entries pending"));
}

/* ---- the ring ---- */

static void test_ring_dump(void **state)
{
	(void)state;
	tlbi_ring_dump(VMID, capture, NULL);
	assert_true(captured("VMID 1: no TLBI issued"));
	nlines = 0;
	tlbi_flush_s2_range_algo(TLBI_ALGO_FERRY, &caps_range, VMID, ipa_init(SEED_IPA),
				 SEED_PAGES + 3, -1);
	tlbi_ring_dump(VMID, capture, NULL);
	assert_int_equal(nlines, 5);
	assert_string_equal(lines[0], "VMID 1: last 4 of 4 TLBI ops, oldest first");
	assert_string_equal(lines[1], "  #1 RIPAS2E1IS 0x7f8000040000 SCALE 3 NUM 31 TTL 0: "
				      "IPA 0x40000000-0x23fffffff (2097152 pages)");
	assert_string_equal(lines[2], "  #2 RIPAS2E1IS 0x400000240000 SCALE 0 NUM 0 TTL 0: "
				      "IPA 0x240000000-0x240001fff (2 pages)");
	assert_string_equal(lines[3],
			    "  #3 IPAS2E1IS 0x240002: IPA 0x240002000-0x240002fff (1 page)");
	assert_true(strstr(lines[4], "#4 VMALLE1IS") != NULL);
	for (int i = 0; i < 40; i++)
		tlbi_flush_s2_vmid(VMID);
	nlines = 0;
	tlbi_ring_dump(VMID, capture, NULL);
	assert_int_equal(nlines, 1 + TLBI_RING_LEN);
	assert_string_equal(lines[0], "VMID 1: last 32 of 44 TLBI ops, oldest first");
	assert_string_equal(lines[1], "  #13 VMALLS12E1IS: every stage-1, stage-2 and combined "
				      "entry of the VMID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seed_linux_6_6, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_seed_linux_6_8, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_seed_ferry, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_sanitizer_clears_only_on_dsb, setup_each,
						teardown_each),
		cmocka_unit_test_setup_teardown(test_sanitizer_precise_intervals, setup_each,
						teardown_each),
		cmocka_unit_test_setup_teardown(test_sanitizer_many_vmids, setup_each,
						teardown_each),
		cmocka_unit_test_setup_teardown(test_ring_dump, setup_each, teardown_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
