/* SPDX-License-Identifier: Apache-2.0 */
/* Dirty logging's gradual start (hyp/mm/dirty.c, dirty_log_start_gradual) against a page model with
 * a reference TLB (tests/unit/tlb_model.c): a "guest" writes random pages, through whatever its TLB
 * still holds, taking write faults (wp) or letting the "hardware" set the write permission (dbm),
 * while collections report and arm chunk after chunk. Every page written before a collection must
 * be reported by it (or by an earlier one after the write); a collection issues at most one
 * planned flush; the TLBI sanitizer has nothing pending afterwards; the tables keep every page's
 * translation, armed pages read-only and unarmed ones as they were. The same run with the
 * collections' flushes hidden from the TLB must miss writes: the model can catch a missing flush. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "lib/bitmap.h"
#include "mm/dirty.h"
#include "mm/s2.h"
#include "mm/tlbi.h"
#include "s2_fixture.h"
#include "tlb_model.h"

#define VMID 3
#define IPA_BASE 0x40000000ULL
#define PA_BASE 0x80000000ULL
#define WIN_PAGES 8192u /* 32 MiB mapped */

static struct tlb_model tlb;
static struct tlbi_caps caps;
static long bbm_calls;

/* What hyp/core/vm.c's bbm hook does: tell the sanitizer, then flush. */
static void bbm(void *ctx, ipa_t start, u64 pages, int level)
{
	(void)ctx;
	bbm_calls++;
	tlbi_san_downgrade(VMID, start, pages);
	assert_int_equal(tlbi_flush_s2_range(&caps, VMID, start, pages, level), 0);
}

static u64 seed;
static u64 rnd(u64 n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed % n;
}

struct world {
	struct s2_pgtable pgt;
	struct dirty_log dl;
	enum dirty_mode mode;
	u64 first;  /* the log's first page in the window */
	u64 npages; /* pages logged */
	u64 *bits, *out;
	bool *pending;   /* written and not yet reported (log page index) */
	bool *cached_w;  /* what the TLB's entry for the page allows (when it holds one) */
	bool fast;       /* write faults through the fast path first */
	bool hide_flush; /* collections' TLBIs never reach the TLB model */
	u64 recent[16];  /* pages written last: rewritten through live TLB entries */
	unsigned nrecent;
	u64 writes, faults, missed, max_flushes;
};

static u64 log_ipa(const struct world *w, u64 p) { return IPA_BASE + ((w->first + p) << 12); }

static bool tlb_holds(const struct world *w, u64 p)
{
	u64 g = log_ipa(w, p) >> 12;
	size_t n;

	return tlb_model_stale_s2(&tlb, VMID, g, 1, NULL, 0, &n) ||
	       tlb_model_stale_combined(&tlb, VMID, g, 1);
}

/* A walk: the leaf's entry goes into the TLB at its level, with what it allows. */
static void tlb_fill(struct world *w, u64 p, u64 desc, int level)
{
	u64 lp = s2_level_size(level) >> 12, g = log_ipa(w, p) >> 12, g0 = g & ~(lp - 1);

	tlb_model_fill_s2(&tlb, VMID, g0, lp, level);
	tlb_model_fill_combined(&tlb, VMID, g, 1);
	for (u64 q = g0; q < g0 + lp; q++) {
		u64 i = q - (IPA_BASE >> 12);

		if (i >= w->first && i - w->first < w->npages)
			w->cached_w[i - w->first] = desc & S2_DESC_S2AP_W;
	}
}

static void take_fault(struct world *w, u64 p)
{
	u64 ipa = log_ipa(w, p) + rnd(4096);

	w->faults++;
	if (w->fast && dirty_log_fast_fault(&w->dl, &w->pgt, ipa) == 0)
		return;
	if (dirty_log_handle_fault(&w->dl, &w->pgt, ipa_init(ipa)) == 0)
		return;
	/* Not logging's (dbm mode, a read-only entry left cached): EL2 retries when the tables allow
	 * the write now (hyp/core/vcpu.c); they must. */
	int level = 0;
	u64 d = 0;

	assert_non_null(s2_leaf_ptr(&w->pgt, ipa, &level, &d));
	assert_true((d & S2_DESC_S2AP_W) || (d & S2_DESC_DBM));
}

/* The guest writes page p: through a cached writable entry without a trace, else a walk of the
 * tables, which faults on a read-only page (wp) or has the hardware set the write permission (dbm,
 * VTCR_EL2.HD). */
static void guest_write(struct world *w, u64 p)
{
	w->writes++;
	for (int tries = 0;; tries++) {
		int level = 0;
		u64 d = 0, *ptep;

		assert_true(tries < 4);
		if (tlb_holds(w, p)) {
			if (w->cached_w[p])
				break;
			take_fault(w, p); /* a permission fault from the cached read-only entry */
		}
		ptep = s2_leaf_ptr(&w->pgt, log_ipa(w, p), &level, &d);
		assert_non_null(ptep);
		assert_true(s2_desc_is_leaf(d, level));
		if (!(d & S2_DESC_S2AP_W) && (d & S2_DESC_DBM)) {
			assert_int_equal(w->mode, DIRTY_DBM);
			d = __atomic_or_fetch(ptep, S2_DESC_S2AP_W, __ATOMIC_RELAXED);
		}
		if (d & S2_DESC_S2AP_W) {
			tlb_fill(w, p, d, level);
			break;
		}
		take_fault(w, p);
	}
	w->pending[p] = true;
	w->recent[w->nrecent++ % ARRAY_SIZE(w->recent)] = p;
}

/* One collection of the whole log, checked: every pending page reported, one flush at most, the
 * sanitizer clear, every armed page read-only again, every page's translation kept. */
static s64 collect(struct world *w)
{
	long bbm0 = bbm_calls;
	u64 fl0 = w->dl.flushes;

	memset(w->out, 0, BITMAP_WORDS(w->npages) * 8);
	fake_arch_reset();
	if (!w->hide_flush) {
		fake_arch_observer = tlb_model_observer;
		fake_arch_observer_ctx = &tlb;
	}
	tlb_model_write_tables(&tlb); /* the descriptor writes come first: a TLBI before a DSB is
				       * an ordering violation */
	s64 n = dirty_log_collect(&w->dl, &w->pgt, 0, w->npages, w->out);
	/* Each planned flush (tlbi_flush_s2_range) ends with one TLBI VMALLE1IS: count them. */
	u64 flushes = 0;

	for (size_t i = 0; i < fake_arch_log_len; i++)
		flushes += fake_arch_log[i].kind == TLBI_VMALLE1IS;
	fake_arch_reset();
	assert_true(n >= 0);
	assert_int_equal(tlb.ordering_violations, 0);
	assert_int_equal(tlb.unpredictable_ops, 0);
	assert_false(tlbi_san_pending(VMID));
	/* `dirtylog stats` counts them all, the split's break-before-make flush included. */
	assert_int_equal(w->dl.flushes - fl0, flushes);
	assert_true((u64)(bbm_calls - bbm0) <= flushes);
	w->max_flushes = MAX(w->max_flushes, flushes);
	assert_int_equal(bitmap_weight(w->out, w->npages), (u64)n);
	for (u64 p = 0; p < w->npages; p++) {
		pa_t pa;
		unsigned prot;
		int level;

		if (w->pending[p] && !bitmap_test(w->out, p))
			w->missed++;
		if (bitmap_test(w->out, p))
			w->pending[p] = false;
		/* Unarmed pages report as dirty, every time. */
		if (p >= w->dl.armed)
			assert_true(bitmap_test(w->out, p));
		assert_int_equal(s2_lookup(&w->pgt, ipa_init(log_ipa(w, p)), &pa, &prot, &level),
				 0);
		assert_true(pa_addr(pa) == PA_BASE + ((w->first + p) << 12));
		if (p < w->dl.armed) {
			assert_int_equal(level, 3);
			assert_int_equal(prot, S2_PROT_R | S2_PROT_X |
						       (w->mode == DIRTY_DBM ? S2_PROT_DBM : 0));
		} else {
			assert_int_equal(prot, S2_PROT_R | S2_PROT_W | S2_PROT_X);
		}
	}
	return n;
}

static void round_of_writes(struct world *w)
{
	u64 n = rnd(120);

	/* Rewrite the pages written last first (their writable entries are the likeliest to live
	 * on in the TLB, as memstress's rewrite=N does), then random ones, clustered sometimes. */
	for (unsigned i = 0; i < MIN(w->nrecent, ARRAY_SIZE(w->recent)); i++)
		guest_write(w, w->recent[i]);
	for (u64 i = 0; i < n; i++) {
		u64 p = rnd(w->npages);

		guest_write(w, p);
		if (rnd(4) == 0)
			for (u64 q = p + 1; q < MIN(p + 1 + rnd(40), w->npages); q++)
				guest_write(w, q);
	}
}

struct scenario {
	enum dirty_mode mode;
	u64 first, npages, chunk;
	bool split_some; /* some 2 MiB already tables before the start (armed in place) */
	bool hide_flush;
	bool enomem; /* one chunk's tables cannot be allocated: retried next time */
	struct tlbi_caps caps;
	u64 seed;
};

static struct world *run(const struct scenario *s)
{
	static struct world w;
	struct s2_flush owed = { 0 };

	memset(&w, 0, sizeof(w));
	w.mode = s->mode;
	w.first = s->first;
	w.npages = s->npages;
	w.fast = s->seed % 2;
	w.hide_flush = s->hide_flush;
	seed = s->seed * 0x9e3779b97f4a7c15ULL | 1;
	caps = s->caps;
	tlb_model_init(&tlb);
	tlbi_state_reset();
	fake_arch_reset();
	w.bits = calloc(BITMAP_WORDS(w.npages), 8);
	w.out = calloc(BITMAP_WORDS(w.npages), 8);
	w.pending = calloc(w.npages, sizeof(bool));
	w.cached_w = calloc(w.npages, sizeof(bool));
	assert_true(w.bits && w.out && w.pending && w.cached_w);
	assert_int_equal(s2_init(&w.pgt, 39, VMID, &s2fx_mm_identity, NULL, bbm, NULL), 0);
	assert_int_equal(s2_map(&w.pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), WIN_PAGES * 4096ULL,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed),
			 0);
	if (s->split_some)
		for (int i = 0; i < 5; i++)
			assert_int_equal(s2_split(&w.pgt,
						  ipa_init(IPA_BASE + rnd(WIN_PAGES) * 4096),
						  4096 * (1 + rnd(900)), &owed),
					 0);
	/* The guest ran before logging: its TLB holds writable entries. */
	for (int i = 0; i < 400; i++)
		guest_write(&w, rnd(w.npages));
	memset(w.pending, 0, w.npages * sizeof(bool));
	w.writes = 0;

	long tables = s2fx.nlive;

	fake_arch_reset();
	assert_int_equal(dirty_log_start_gradual(&w.dl, &caps, VMID, w.mode, log_ipa(&w, 0),
						 w.npages, w.bits, s->chunk),
			 0);
	/* O(1): no table touched, none allocated, no barrier or TLBI. */
	assert_int_equal(s2fx.nlive, tables);
	assert_int_equal(fake_arch_log_len, 0);
	assert_int_equal(w.dl.armed, 0);

	u64 armed_at = 0, quiet_checked = 0;

	for (int r = 0; r < 400; r++) {
		round_of_writes(&w);
		if (s->enomem && r == 2)
			s2fx.fail_at = s2fx.allocs; /* every allocation from here fails */
		u64 armed0 = w.dl.armed;
		s64 n = collect(&w);

		if (s2fx.fail_at >= 0) {
			s2fx.fail_at = -1;
			/* Nothing armed, everything unarmed still reported; the next one arms. */
			assert_int_equal(w.dl.chunk_enomem, 1);
			assert_int_equal(w.dl.armed, armed0);
		} else if (armed0 < w.npages) {
			assert_int_equal(w.dl.armed, MIN(w.npages, armed0 + s->chunk));
		}
		assert_true((u64)n >= w.npages - armed0);
		if (w.dl.armed == w.npages && !armed_at)
			armed_at = (u64)r + 1;
		/* Once everything is armed, a collection with no write in between reports nothing
		 * (the log is exact, not just safe), and that one again. */
		if (armed_at && r == (int)armed_at + 3 && !s->hide_flush) {
			assert_int_equal(collect(&w), 0);
			quiet_checked++;
		}
		if (armed_at && r >= (int)armed_at + 8)
			break;
	}
	assert_true(armed_at > 0);
	assert_true(s->hide_flush || quiet_checked == 1);
	assert_true(w.writes > 1000);
	assert_int_equal(dirty_log_stop(&w.dl, &w.pgt), 0);
	/* Stop gives every page its write permission back. */
	for (u64 p = 0; p < w.npages; p += 7) {
		pa_t pa;
		unsigned prot;
		int level;

		assert_int_equal(s2_lookup(&w.pgt, ipa_init(log_ipa(&w, p)), &pa, &prot, &level),
				 0);
		assert_int_equal(prot, S2_PROT_R | S2_PROT_W | S2_PROT_X);
	}
	s2_destroy(&w.pgt);
	assert_int_equal(s2fx.nlive, 0);
	tlb_model_free(&tlb);
	free(w.bits);
	free(w.out);
	free(w.pending);
	free(w.cached_w);
	return &w;
}

static const struct tlbi_caps caps_all = { .range = true, .ttl = true };
static const struct tlbi_caps caps_none = { 0 };

/* 2 MiB-aligned chunks: the one-pass split, one flush per collection in every mode and shape. */
static void test_gradual_aligned_chunks(void **state)
{
	static const u64 chunks[] = { 512, 1024, 1536 };
	(void)state;

	for (u64 k = 0; k < 12; k++) {
		struct scenario s = {
			.mode = k % 2 ? DIRTY_DBM : DIRTY_WP,
			.first = 0,
			.npages = WIN_PAGES,
			.chunk = chunks[k % 3],
			.split_some = k % 4 >= 2,
			.caps = k % 3 == 1 ? caps_none : caps_all,
			.seed = 100 + k,
		};
		struct world *w = run(&s);

		assert_int_equal(w->missed, 0);
		assert_int_equal(w->max_flushes, 1);
		if (s.mode == DIRTY_WP)
			assert_true(w->faults > 100);
	}
}

/* Chunks and logs that are not 2 MiB aligned go through the engine (its split has a bbm flush of
 * its own): still nothing missed. */
static void test_gradual_unaligned(void **state)
{
	(void)state;
	for (u64 k = 0; k < 4; k++) {
		struct scenario s = {
			.mode = k % 2 ? DIRTY_DBM : DIRTY_WP,
			.first = k < 2 ? 0 : 3,
			.npages = k < 2 ? WIN_PAGES : WIN_PAGES - 5,
			.chunk = k < 2 ? 700 : 512,
			.split_some = k == 3,
			.caps = caps_all,
			.seed = 200 + k,
		};
		struct world *w = run(&s);

		assert_int_equal(w->missed, 0);
		assert_true(w->max_flushes <= 2);
	}
}

/* A chunk whose tables cannot be allocated stays unarmed and reported; nothing is missed. */
static void test_gradual_enomem(void **state)
{
	(void)state;
	for (u64 k = 0; k < 2; k++) {
		struct scenario s = { .mode = k ? DIRTY_DBM : DIRTY_WP,
				      .npages = WIN_PAGES,
				      .chunk = 1024,
				      .enomem = true,
				      .caps = caps_all,
				      .seed = 300 + k };

		assert_int_equal(run(&s)->missed, 0);
	}
}

/* The check can fail: the same runs with the collections' TLBIs hidden from the TLB (as the
 * ferry-noflush build skips them) miss writes in both modes. */
static void test_hidden_flush_misses(void **state)
{
	(void)state;
	for (u64 k = 0; k < 2; k++) {
		struct scenario s = { .mode = k ? DIRTY_DBM : DIRTY_WP,
				      .npages = WIN_PAGES,
				      .chunk = 1024,
				      .hide_flush = true,
				      .caps = caps_all,
				      .seed = 400 + k };

		assert_true(run(&s)->missed > 0);
	}
}

/* Arguments refused; the eager start arms everything at once. */
static void test_gradual_args(void **state)
{
	struct dirty_log dl;
	static u64 bits[BITMAP_WORDS(64)];
	(void)state;

	assert_int_equal(
		dirty_log_start_gradual(&dl, &caps_all, VMID, DIRTY_WP, IPA_BASE, 64, bits, 0),
		FERRY_EINVAL);
	assert_int_equal(
		dirty_log_start_gradual(&dl, &caps_all, VMID, DIRTY_OFF, IPA_BASE, 64, bits, 512),
		FERRY_EINVAL);
	assert_int_equal(
		dirty_log_start_gradual(&dl, &caps_all, VMID, DIRTY_DBM, IPA_BASE, 64, bits, 512),
		0);
	assert_int_equal(dl.armed, 0);
	assert_int_equal(dl.chunk, 512);
}

/* Collections of part of the log: one that starts above the first unarmed page reports its range
 * whole and arms nothing (arming stays contiguous from page 0: one number); one that covers the
 * first unarmed page arms from there, at most to its own end. */
static void test_gradual_partial_ranges(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	struct dirty_log dl;
	static u64 bits[BITMAP_WORDS(WIN_PAGES)], out[BITMAP_WORDS(WIN_PAGES)];
	pa_t pa;
	unsigned prot;
	int level;
	(void)state;

	caps = caps_all;
	tlbi_state_reset();
	fake_arch_reset();
	assert_int_equal(s2_init(&pgt, 39, VMID, &s2fx_mm_identity, NULL, bbm, NULL), 0);
	assert_int_equal(s2_map(&pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), WIN_PAGES * 4096ULL,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed),
			 0);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(
		dirty_log_start_gradual(&dl, &caps, VMID, DIRTY_WP, IPA_BASE, WIN_PAGES, bits, 512),
		0);
	memset(out, 0, sizeof(out));
	assert_int_equal(dirty_log_collect(&dl, &pgt, 1000, 100, out), 100);
	assert_int_equal(bitmap_weight(out, WIN_PAGES), 100);
	assert_true(bitmap_test(out, 1000) && bitmap_test(out, 1099) && !bitmap_test(out, 1100));
	assert_int_equal(dl.armed, 0);
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 1000 * 4096), &pa, &prot, &level), 0);
	assert_true(prot & S2_PROT_W);
	/* [0, 300): arms [0, 300) only (not the whole 512-page chunk: past the range's end). */
	memset(out, 0, sizeof(out));
	assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 300, out), 300);
	assert_int_equal(dl.armed, 300);
	assert_false(tlbi_san_pending(VMID));
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 299 * 4096), &pa, &prot, &level), 0);
	assert_int_equal(prot, S2_PROT_R | S2_PROT_X);
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 300 * 4096), &pa, &prot, &level), 0);
	assert_true(prot & S2_PROT_W);
	/* A write fault on an armed page; then the whole log: the fault's page, and every unarmed
	 * page; [300, 812) armed now. */
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, ipa_init(IPA_BASE + 7 * 4096)), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(dirty_log_collect(&dl, &pgt, 0, WIN_PAGES, out), 1 + WIN_PAGES - 300);
	assert_true(bitmap_test(out, 7) && !bitmap_test(out, 8) && bitmap_test(out, 300));
	assert_int_equal(dl.armed, 812);
	assert_false(tlbi_san_pending(VMID));
	assert_int_equal(dirty_log_stop(&dl, &pgt), 0);
	s2_destroy(&pgt);
	assert_int_equal(s2fx.nlive, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gradual_args),
		cmocka_unit_test(test_gradual_partial_ranges),
		cmocka_unit_test(test_gradual_aligned_chunks),
		cmocka_unit_test(test_gradual_unaligned),
		cmocka_unit_test(test_gradual_enomem),
		cmocka_unit_test(test_hidden_flush_misses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
