/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 page tables against the reference TLB (tests/unit/tlb_model.c) and the TLBI sanitizer,
 * end to end: before every random operation the TLB caches every leaf of the window at its real
 * level (stage-2-only and combined entries); the bbm hook and the caller's flush of *owed go through
 * the real planner and emitter (tlbi_flush_s2_range). Afterwards no page whose translation, leaf
 * size or permissions were reduced may still be cached, and the sanitizer has nothing pending. This
 * checks the level hints (TTL) the page-table code reports, not only the ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "mm/s2.h"
#include "mm/tlbi.h"
#include "s2_fixture.h"
#include "tlb_model.h"

#define VMID 1
#define PA0 0x8000000000ULL

static struct tlb_model model;
static struct tlbi_caps caps;
static long bbm_flushes, owed_flushes;

/* What the EL2 core does (hyp/core/vm.c): tell the sanitizer, then flush. */
static void flush(ipa_t start, u64 pages, int level)
{
	tlb_model_write_tables(&model);
	tlbi_san_downgrade(VMID, start, pages);
	assert_int_equal(tlbi_flush_s2_range(&caps, VMID, start, pages, level), 0);
}

static void bbm(void *ctx, ipa_t start, u64 pages, int level)
{
	(void)ctx;
	bbm_flushes++;
	flush(start, pages, level);
}

struct pg {
	u64 pa;
	u8 prot;
	int8_t level;
};
static u64 win_base, win_pages;
static struct pg *before, *after;
static bool *cached;

static int visit_fill(const struct s2_visit_ctx *ctx)
{
	u64 size = s2_level_size(ctx->level);

	/* A guest touched every mapped page: the TLB holds each leaf at its level, and combined
	 * stage-1+2 entries for its pages. */
	tlb_model_fill_s2(&model, VMID, ctx->ipa >> 12, size >> 12, ctx->level);
	tlb_model_fill_combined(&model, VMID, ctx->ipa >> 12, size >> 12);
	return 0;
}

static int visit_snapshot(const struct s2_visit_ctx *ctx)
{
	struct pg *out = ctx->arg;
	u64 first = MAX(ctx->ipa, win_base);
	u64 last = MIN(ctx->ipa + s2_level_size(ctx->level), win_base + win_pages * 4096);

	for (u64 a = first; a < last; a += 4096)
		out[(a - win_base) >> 12] =
			(struct pg){ (ctx->desc & S2_DESC_ADDR) + (a - ctx->ipa),
				     (u8)s2_desc_prot(ctx->desc), (int8_t)ctx->level };
	return 0;
}

static void snapshot(struct s2_pgtable *pgt, struct pg *out)
{
	const struct s2_walker w = { visit_snapshot, S2_WALK_LEAF, out };

	for (u64 i = 0; i < win_pages; i++)
		out[i] = (struct pg){ 0, 0, -1 };
	assert_int_equal(s2_walk(pgt, ipa_init(win_base), win_pages * 4096, &w), 0);
}

static bool reduced(const struct pg *b, const struct pg *a)
{
	unsigned lost;

	if (b->level < 0)
		return false;
	if (a->level < 0 || a->pa != b->pa || a->level != b->level ||
	    ((a->prot ^ b->prot) & S2_PROT_DEVICE))
		return true;
	lost = b->prot & ~a->prot;
	return (lost & S2_PROT_RWX) || ((lost & S2_PROT_DBM) && !(a->prot & S2_PROT_W));
}

static u64 rnd(u64 n) { return (u64)random() % n; }

static void run(unsigned ia_bits, u64 base, u64 pages, struct tlbi_caps c, unsigned seed, int ops)
{
	static const unsigned prots[] = { S2_PROT_R,
					  S2_PROT_RWX,
					  S2_PROT_R | S2_PROT_X,
					  S2_PROT_R | S2_PROT_X | S2_PROT_DBM,
					  S2_PROT_RWX | S2_PROT_DBM,
					  0 };
	struct s2_pgtable pgt;
	struct tlb_model_range *stale = calloc(pages + 1, sizeof(*stale));
	long checked = 0, one_pass = 0, rebuilt = 0;

	srandom(seed);
	caps = c;
	bbm_flushes = owed_flushes = 0;
	win_base = base;
	win_pages = pages;
	before = calloc(pages, sizeof(*before));
	after = calloc(pages, sizeof(*after));
	cached = calloc(pages, sizeof(*cached));
	assert_true(stale && before && after && cached);
	tlbi_state_reset();
	fake_arch_reset();
	assert_int_equal(s2_init(&pgt, ia_bits, VMID, &s2fx_mm_identity, NULL, bbm, NULL), 0);
	for (int k = 0; k < ops; k++) {
		const struct s2_walker fill = { visit_fill, S2_WALK_LEAF, NULL };
		u64 align = rnd(3) == 0 ? 512 : rnd(6) == 0 && pages >= 262144 ? 262144 : 1;
		u64 first = rnd(pages / align) * align, n, nstale;
		ipa_t ipa;
		unsigned prot = prots[rnd(ARRAY_SIZE(prots))];
		struct s2_flush owed = { 0 };
		size_t nr;

		n = 1 + rnd(MIN(pages - first, 3 * align));
		if (align > 1 && rnd(2))
			n = MIN(ALIGN_UP(n, align), pages - first);
		ipa = ipa_init(base + first * 4096);
		snapshot(&pgt, before);
		tlb_model_free(&model);
		tlb_model_init(&model);
		assert_int_equal(s2_walk(&pgt, ipa_init(base), pages * 4096, &fill), 0);
		fake_arch_observer = tlb_model_observer;
		fake_arch_observer_ctx = &model;
		u64 blocks;
		int err;

		switch (rnd(6)) {
		case 0:
			assert_int_equal(
				s2_map(&pgt, ipa,
				       pa_init(PA0 + first * 4096 + rnd(3) * SZ_2M + rnd(2) * 4096),
				       n * 4096, prot, &owed),
				0);
			break;
		case 1:
			assert_int_equal(s2_unmap(&pgt, ipa, n * 4096, &owed), 0);
			break;
		case 2:
			assert_int_equal(s2_protect(&pgt, ipa, n * 4096, prot, &owed), 0);
			break;
		case 3:
			assert_int_equal(s2_split(&pgt, ipa, n * 4096, &owed), 0);
			break;
		case 4: /* dirty logging's start: 2 MiB-aligned ranges (others are refused) */
			err = s2_split_protect(&pgt, ipa, n * 4096, prot, &owed);
			assert_true(err == 0 || err == FERRY_ENOTSUP);
			one_pass += !err;
			break;
		default: /* its stop: blocks rebuilt where uniform */
			err = s2_protect_collapse(&pgt, ipa, n * 4096, prot, &owed, &blocks);
			assert_true(err == 0 || err == FERRY_ENOTSUP);
			one_pass += !err;
			rebuilt += err ? 0 : blocks;
			break;
		}
		if (owed.pages) {
			owed_flushes++;
			flush(owed.start, owed.pages, owed.level);
		}
		fake_arch_observer = NULL;
		fake_arch_observer_ctx = NULL;
		assert_false(tlbi_san_pending(VMID));
		assert_int_equal(model.ordering_violations, 0);
		assert_int_equal(model.unpredictable_ops, 0);
		snapshot(&pgt, after);
		memset(cached, 0, pages * sizeof(*cached));
		tlb_model_stale_s2(&model, VMID, base >> 12, pages, stale, pages + 1, &nr);
		for (size_t r = 0; r < nr; r++)
			for (u64 p = stale[r].start; p < stale[r].end; p++)
				cached[p - (base >> 12)] = true;
		for (u64 i = 0; i < pages; i++) {
			if (!reduced(&before[i], &after[i]))
				continue;
			checked++;
			if (cached[i])
				fail_msg(
					"op %d: page %#llx reduced (%u/%d -> %u/%d) but still cached",
					k, (unsigned long long)(base + i * 4096), before[i].prot,
					before[i].level, after[i].prot, after[i].level);
			nstale = tlb_model_stale_combined(&model, VMID, (base >> 12) + i, 1);
			assert_int_equal(nstale, 0);
		}
		fake_arch_reset();
	}
	assert_true(checked > 1000);                      /* the checks really ran */
	assert_true(one_pass > ops / 100 && rebuilt > 0); /* and the one-pass start/stop ran too */
	assert_true(bbm_flushes > ops / 30 && owed_flushes > ops / 30);
	s2_destroy(&pgt);
	tlb_model_free(&model);
	free(stale);
	free(before);
	free(after);
	free(cached);
}

static void test_tlb_range_ttl(void **state)
{
	(void)state;
	run(39, 0x40000000ULL, 4096 + 3, (struct tlbi_caps){ .range = true, .ttl = true }, 11,
	    3000);
}

static void test_tlb_per_page(void **state)
{
	(void)state;
	run(39, 0x40000000ULL, 4096 + 3, (struct tlbi_caps){ .range = false, .ttl = false }, 12,
	    3000);
}

static void test_tlb_1g_blocks(void **state)
{
	(void)state;
	run(39, SZ_1G, 2 * 262144, (struct tlbi_caps){ .range = true, .ttl = true }, 13, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlb_range_ttl),
		cmocka_unit_test(test_tlb_per_page),
		cmocka_unit_test(test_tlb_1g_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
