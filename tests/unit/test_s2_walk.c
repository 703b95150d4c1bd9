/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 page tables, targeted cases: geometry (start level, concatenated roots, VTCR/VTTBR), the
 * exact descriptor bits, block-or-page choice, what each change owes and flushes, the generic
 * walker's contract, errors, and s2_destroy giving back every page. The batched split and
 * publication are in test_s2_publish.c, hardware dirty state and dirty logging's start and stop
 * in test_s2_dirty_log.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "mm/s2.h"
#include "s2_walk_fixture.h"

/* ---- geometry ---- */

static void test_geometry(void **state)
{
	(void)state;
	for (unsigned ia = 32; ia <= 48; ia++) {
		/* Independently: SL0 ranges of the 4K granule (level 2 for 25..34 bits, level 1
		 * for 35..43, level 0 for 44..48) and the extra bits at the initial level. */
		int want_level = ia <= 34 ? 2 : ia <= 43 ? 1 : 0;
		unsigned top = ia - (12 + 9 * (3 - (unsigned)want_level));
		unsigned want_pages = top > 9 ? 1u << (top - 9) : 1;
		struct s2_pgtable pgt;
		u64 vtcr;

		assert_int_equal(s2_start_level(ia), want_level);
		assert_int_equal(s2_root_pages(ia), want_pages);
		if (want_pages > 1) {
			struct s2_pgtable no;

			assert_int_equal(s2_init(&no, ia, 1, &s2fx_mm, NULL, bbm, NULL),
					 FERRY_ENOTSUP);
		}
		pgt_setup(&pgt, ia);
		assert_int_equal(pgt.root_pages, want_pages);
		assert_true(IS_ALIGNED(s2fx_v2p(pgt.root), 4096ULL * want_pages));
		vtcr = s2_vtcr(&pgt, 2);
		assert_int_equal(FIELD_GET(vtcr, 5, 0), 64 - ia);        /* T0SZ */
		assert_int_equal(FIELD_GET(vtcr, 7, 6), 2 - want_level); /* SL0 */
		assert_int_equal(FIELD_GET(vtcr, 9, 8), 1);              /* IRGN0 WBWA */
		assert_int_equal(FIELD_GET(vtcr, 11, 10), 1);            /* ORGN0 WBWA */
		assert_int_equal(FIELD_GET(vtcr, 13, 12), 3);            /* SH0 inner */
		assert_int_equal(FIELD_GET(vtcr, 15, 14), 0);            /* TG0 4K */
		assert_int_equal(FIELD_GET(vtcr, 18, 16), 2);            /* PS 40 bits */
		assert_int_equal(FIELD_GET(vtcr, 19, 19), 0);            /* 8-bit VMID 9 */
		assert_int_equal(FIELD_GET(vtcr, 31, 31), 1);            /* RES1 */
		assert_int_equal(FIELD_GET(vtcr, 22, 21), 0);            /* HA/HD: not ours */
		/* PARange 52 bits: capped at 48, the most a 4K descriptor holds without LPA2. */
		assert_int_equal(FIELD_GET(s2_vtcr(&pgt, 6), 18, 16), 5);
		assert_int_equal(s2_vttbr(&pgt), s2fx_v2p(pgt.root) | (9ULL << 48));
		/* The highest and the lowest page of the IPA space. */
		assert_int_equal(s2_map(&pgt, ipa_init((1ULL << ia) - 4096), pa_init(PA0), 4096,
					S2_PROT_R, NULL),
				 0);
		assert_int_equal(
			s2_map(&pgt, ipa_init(0), pa_init(PA0 + 4096), 4096, S2_PROT_R, NULL), 0);
		assert_int_equal(pa_of(&pgt, (1ULL << ia) - 4096), PA0);
		assert_int_equal(pa_of(&pgt, 0), PA0 + 4096);
		if (want_pages > 1) /* the top page's walk starts in the last concatenated table */
			assert_true(pgt.root[512 * want_pages - 1] & S2_DESC_VALID);
		assert_int_equal(
			s2_map(&pgt, ipa_init(1ULL << ia), pa_init(PA0), 4096, S2_PROT_R, NULL),
			FERRY_ERANGE);
		assert_int_equal(level_of(&pgt, 1ULL << ia), -1);
		pgt_teardown(&pgt);
	}
	{
		struct s2_pgtable pgt;

		assert_int_equal(s2_init(&pgt, 31, 1, &s2fx_mm, NULL, bbm, NULL), FERRY_EINVAL);
		assert_int_equal(s2_init(&pgt, 49, 1, &s2fx_mm, NULL, bbm, NULL), FERRY_EINVAL);
		assert_int_equal(s2_init(&pgt, 39, 300, &s2fx_mm, NULL, bbm, NULL), 0);
		assert_int_equal(FIELD_GET(s2_vtcr(&pgt, 5), 19, 19), 1); /* VS: 16-bit VMID */
		assert_int_equal(s2_vttbr(&pgt) >> 48, 300);
		s2_destroy(&pgt);
	}
}

/* ---- descriptors and the block/page choice ---- */

static void test_descriptor_bits(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	pgt_setup(&pgt, 39);
	assert_int_equal(
		s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 4096, S2_PROT_R | S2_PROT_W, NULL), 0);
	/* page (0b11), MemAttr 0b1111, S2AP 0b11, SH 0b11, AF, XN 0b10 */
	assert_int_equal(raw_leaf(&pgt, RAM), PA0 | 0x3 | 0x3c | 0xc0 | 0x300 | 0x400 | BIT(54));
	assert_int_equal(s2_map(&pgt, ipa_init(RAM + SZ_2M), pa_init(PA0 + SZ_2M), SZ_2M,
				S2_PROT_RWX | S2_PROT_DBM, NULL),
			 0);
	/* block (0b01), executable, DBM */
	assert_int_equal(raw_leaf(&pgt, RAM + SZ_2M),
			 (PA0 + SZ_2M) | 0x1 | 0x3c | 0xc0 | 0x300 | 0x400 | BIT(51));
	assert_int_equal(s2_map(&pgt, ipa_init(0x09000000), pa_init(0x09000000), 4096,
				S2_PROT_R | S2_PROT_W | S2_PROT_DEVICE, NULL),
			 0);
	/* Device-nGnRE (0b0001), no shareability bits, XN */
	assert_int_equal(raw_leaf(&pgt, 0x09000000),
			 0x09000000 | 0x3 | 0x4 | 0xc0 | 0x400 | BIT(54));
	assert_int_equal(prot_of(&pgt, 0x09000000), S2_PROT_R | S2_PROT_W | S2_PROT_DEVICE);
	/* protect keeps the memory type, changes only permissions */
	assert_int_equal(s2_protect(&pgt, ipa_init(0x09000000), 4096, S2_PROT_R, NULL), 0);
	assert_int_equal(raw_leaf(&pgt, 0x09000000),
			 0x09000000 | 0x3 | 0x4 | 0x40 | 0x400 | BIT(54));
	pgt_teardown(&pgt);
}

static void test_block_or_page(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	pgt_setup(&pgt, 39);
	/* 1 GiB-aligned IPA and PA, 1 GiB + 2 MiB + 4 KiB: a level-1 block, a level-2 block, a
	 * page */
	assert_int_equal(s2_map(&pgt, ipa_init(SZ_1G), pa_init(PA0), SZ_1G + SZ_2M + 4096,
				S2_PROT_RWX, NULL),
			 0);
	assert_int_equal(level_of(&pgt, SZ_1G), 1);
	assert_int_equal(level_of(&pgt, 2 * SZ_1G - 4096), 1);
	assert_int_equal(level_of(&pgt, 2 * SZ_1G), 2);
	assert_int_equal(level_of(&pgt, 2 * SZ_1G + SZ_2M), 3);
	assert_int_equal(level_of(&pgt, 2 * SZ_1G + SZ_2M + 4096), -1);
	assert_int_equal(pgt.tables, 3); /* root, one level-2 table, one level-3 table */
	/* PA only 2 MiB aligned: 2 MiB blocks across a whole GiB */
	assert_int_equal(
		s2_map(&pgt, ipa_init(4 * SZ_1G), pa_init(PA0 + SZ_2M), SZ_1G, S2_PROT_R, NULL), 0);
	assert_int_equal(level_of(&pgt, 4 * SZ_1G), 2);
	assert_int_equal(level_of(&pgt, 5 * SZ_1G - 4096), 2);
	/* PA 4 KiB off: pages only */
	assert_int_equal(
		s2_map(&pgt, ipa_init(6 * SZ_1G), pa_init(PA0 + 4096), 2 * SZ_2M, S2_PROT_R, NULL),
		0);
	assert_int_equal(level_of(&pgt, 6 * SZ_1G), 3);
	assert_int_equal(level_of(&pgt, 6 * SZ_1G + SZ_2M), 3);
	/* A range from 4 KiB below a 2 MiB boundary to 4 KiB above the next: page, block, page */
	assert_int_equal(s2_map(&pgt, ipa_init(7 * SZ_1G + SZ_2M - 4096),
				pa_init(PA0 + SZ_2M - 4096), SZ_2M + 8192, S2_PROT_R, NULL),
			 0);
	assert_int_equal(level_of(&pgt, 7 * SZ_1G + SZ_2M - 4096), 3);
	assert_int_equal(level_of(&pgt, 7 * SZ_1G + SZ_2M), 2);
	assert_int_equal(level_of(&pgt, 7 * SZ_1G + 2 * SZ_2M), 3);
	assert_int_equal(level_of(&pgt, 7 * SZ_1G + 2 * SZ_2M + 4096), -1);
	assert_int_equal(bbm_calls, 0); /* nothing live was replaced */
	pgt_teardown(&pgt);
}

/* s2_leaf_ptr (the write fault's fast path walk, unrolled per start level) agrees with s2_lookup
 * on every IPA size: same leaf level, a descriptor with the same output address, NULL where
 * nothing is mapped, beyond the IPA size, and without an identity map; level-3 entries come back
 * even when invalid (the caller checks the type bits). */
static void test_leaf_ptr(void **state)
{
	static const unsigned sizes[] = { 32, 34, 36, 39, 40, 44, 48 };
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct s2_pgtable pgt;
		unsigned bits = sizes[i];
		u64 top = 1ULL << bits, x = 0x243f6a8885a308d3ULL;

		s2_fixture_reset();
		s2fx.fail_at = -1;
		fake_arch_reset();
		assert_int_equal(s2_init_concat(&pgt, bits, 9, &s2fx_mm_identity, &s2fx_root_ops,
						NULL, bbm, NULL),
				 0);
		/* A 1 GiB block, 2 MiB blocks and pages, near the bottom and the top of the space. */
		assert_int_equal(s2_map(&pgt, ipa_init(SZ_1G), pa_init(PA0), SZ_1G + SZ_2M + 4096,
					S2_PROT_RWX, NULL),
				 0);
		assert_int_equal(s2_map(&pgt, ipa_init(top - SZ_2M - 8192), pa_init(PA0 + 4096),
					SZ_2M + 8192, S2_PROT_R, NULL),
				 0);
		for (int k = 0; k < 20000; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			u64 ipa = k & 1 ? (x % (SZ_1G + SZ_2M + 8192)) + SZ_1G
					: top - (x % (SZ_2M + 16384)) - 1;
			pa_t pa;
			unsigned prot;
			int level = -1, lvl = -1;
			u64 d = 0;
			u64 *p = s2_leaf_ptr(&pgt, ipa & ~0xfffULL, &lvl, &d);

			if (s2_lookup(&pgt, ipa_init(ipa), &pa, &prot, &level)) {
				assert_true(!p || (lvl == 3 && !(d & S2_DESC_VALID)));
				continue;
			}
			assert_non_null(p);
			assert_int_equal(lvl, level);
			assert_true(d == *p);
			assert_true((d & S2_DESC_ADDR) ==
				    (pa_addr(pa) & ~(s2_level_size(level) - 1)));
		}
		int lvl;
		u64 d;

		assert_null(s2_leaf_ptr(&pgt, top, &lvl, &d));
		assert_null(s2_leaf_ptr(&pgt, ~0ULL << 12, &lvl, &d));
		struct s2_mm_ops other = s2fx_mm;
		struct s2_pgtable copy = pgt;

		copy.mm = &other;
		assert_null(s2_leaf_ptr(&copy, SZ_1G, &lvl, &d));
		pgt_teardown(&pgt);
	}
}

/* ---- what changes owe ---- */

static void test_partial_unmap_of_1g_block(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	(void)state;
	pgt_setup(&pgt, 39);
	assert_int_equal(s2_map(&pgt, ipa_init(SZ_1G), pa_init(PA0), SZ_1G, S2_PROT_RWX, &owed), 0);
	assert_int_equal(pgt.tables, 1);
	assert_int_equal(s2_unmap(&pgt, ipa_init(SZ_1G + 5 * SZ_2M + 7 * 4096), 4096, &owed), 0);
	/* The block was broken and flushed once; the removed page went with it: nothing owed. */
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(ipa_addr(bbm_last.start), SZ_1G);
	assert_int_equal(bbm_last.pages, SZ_1G >> 12);
	assert_int_equal(bbm_last.level, 1);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(pgt.tables, 3); /* + a level-2 and a level-3 table */
	assert_int_equal(level_of(&pgt, SZ_1G), 2);
	assert_int_equal(level_of(&pgt, SZ_1G + 5 * SZ_2M), 3);
	assert_int_equal(level_of(&pgt, SZ_1G + 5 * SZ_2M + 7 * 4096), -1);
	assert_int_equal(pa_of(&pgt, SZ_1G + 5 * SZ_2M + 8 * 4096), PA0 + 5 * SZ_2M + 8 * 4096);
	assert_int_equal(pa_of(&pgt, 2 * SZ_1G - 4096), PA0 + SZ_1G - 4096);
	/* Unmapping whole leaves owes them, exactly, with their level. */
	assert_int_equal(s2_unmap(&pgt, ipa_init(SZ_1G + 5 * SZ_2M), 4096, &owed), 0);
	assert_int_equal(ipa_addr(owed.start), SZ_1G + 5 * SZ_2M);
	assert_int_equal(owed.pages, 1);
	assert_int_equal(owed.level, 3);
	assert_int_equal(s2_unmap(&pgt, ipa_init(SZ_1G + 6 * SZ_2M), SZ_2M, &owed), 0);
	assert_int_equal(ipa_addr(owed.start), SZ_1G + 5 * SZ_2M);
	assert_int_equal(owed.pages, 2 * 512);
	assert_int_equal(owed.level, -1); /* a page and a block */
	assert_int_equal(bbm_calls, 1);
	pgt_teardown(&pgt);
}

static void test_protect_owes(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	size_t log;
	(void)state;
	pgt_setup(&pgt, 39);
	assert_int_equal(
		s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 8 * SZ_2M, S2_PROT_R | S2_PROT_X, &owed),
		0);
	/* Read-only → read-only + DBM is a relaxation (the hardware may then add W). */
	log = fake_arch_log_len;
	assert_int_equal(
		s2_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R | S2_PROT_X | S2_PROT_DBM, &owed),
		0);
	assert_int_equal(owed.pages, 0);
	/* Relaxing owes nothing and issues nothing. */
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM), 8 * SZ_2M, S2_PROT_RWX, &owed), 0);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(bbm_calls, 0);
	assert_int_equal(fake_arch_log_len, log);
	/* Whole blocks downgraded in place: owed exactly, at level 2, no split. */
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM + 2 * SZ_2M), 3 * SZ_2M, S2_PROT_R, &owed),
			 0);
	assert_int_equal(ipa_addr(owed.start), RAM + 2 * SZ_2M);
	assert_int_equal(owed.pages, 3 * 512);
	assert_int_equal(owed.level, 2);
	assert_int_equal(bbm_calls, 0);
	assert_int_equal(pgt.tables, 2);
	/* The same permissions over part of a block: nothing to split, nothing owed. */
	owed = (struct s2_flush){ 0 };
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM + 2 * SZ_2M + 4096), 4096, S2_PROT_R, &owed),
			 0);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(bbm_calls, 0);
	/* Different permissions over part of a block: only that block is split (one flush); the
	 * pages keep their output, the covered one gets the new permissions. */
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM + 7 * SZ_2M + 4096), 4096, S2_PROT_R, &owed),
			 0);
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(ipa_addr(bbm_last.start), RAM + 7 * SZ_2M);
	assert_int_equal(bbm_last.pages, 512);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(prot_of(&pgt, RAM + 7 * SZ_2M + 4096), S2_PROT_R);
	assert_int_equal(prot_of(&pgt, RAM + 7 * SZ_2M), S2_PROT_RWX);
	assert_int_equal(level_of(&pgt, RAM + 6 * SZ_2M), 2);
	/* DBM rules: dirty (W set by hardware) → clean read-only DBM owes; DBM dropped on a
	 * read-only page owes; read-only DBM → writable without DBM does not. */
	assert_int_equal(
		s2_protect(&pgt, ipa_init(RAM), 4096 * 0 + SZ_2M, S2_PROT_RWX | S2_PROT_DBM, &owed),
		0);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(
		s2_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R | S2_PROT_X | S2_PROT_DBM, &owed),
		0);
	assert_int_equal(owed.pages, 512);
	owed = (struct s2_flush){ 0 };
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R | S2_PROT_X, &owed), 0);
	assert_int_equal(owed.pages, 512);
	owed = (struct s2_flush){ 0 };
	assert_int_equal(
		s2_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R | S2_PROT_X | S2_PROT_DBM, &owed),
		0);
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_RWX, &owed), 0);
	assert_int_equal(owed.pages, 0);
	pgt_teardown(&pgt);
}

static void test_map_over_live(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	size_t log;
	long a;
	(void)state;
	pgt_setup(&pgt, 39);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 4 * SZ_2M, S2_PROT_RWX, &owed),
			 0);
	/* The same mapping again: nothing allocated, broken or issued. */
	a = s2fx.allocs;
	log = fake_arch_log_len;
	assert_int_equal(s2_map(&pgt, ipa_init(RAM + 4096), pa_init(PA0 + 4096), 3 * SZ_2M,
				S2_PROT_RWX, &owed),
			 0);
	assert_int_equal(s2fx.allocs, a);
	assert_int_equal(fake_arch_log_len, log);
	assert_int_equal(bbm_calls, 0);
	assert_int_equal(level_of(&pgt, RAM), 2);
	/* A new output for one live block: break, one flush, make; never owed. */
	assert_int_equal(s2_map(&pgt, ipa_init(RAM + SZ_2M), pa_init(PA0 + 16 * SZ_2M), SZ_2M,
				S2_PROT_RWX, &owed),
			 0);
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(bbm_last.level, 2);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(pa_of(&pgt, RAM + SZ_2M + 8192), PA0 + 16 * SZ_2M + 8192);
	/* Pages, then a block over them: the table is collapsed (flushed at an unknown level,
	 * since leaves of any depth hang below) and freed. */
	assert_int_equal(s2_split(&pgt, ipa_init(RAM + 2 * SZ_2M), SZ_2M, &owed), 0);
	assert_int_equal(pgt.tables, 3);
	bbm_calls = 0;
	a = s2fx.frees;
	assert_int_equal(s2_map(&pgt, ipa_init(RAM + 2 * SZ_2M), pa_init(PA0 + 2 * SZ_2M), SZ_2M,
				S2_PROT_R, &owed),
			 0);
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(bbm_last.level, -1);
	assert_int_equal(s2fx.frees - a, 1);
	assert_int_equal(pgt.tables, 2);
	assert_int_equal(level_of(&pgt, RAM + 2 * SZ_2M), 2);
	assert_int_equal(owed.pages, 0);
	pgt_teardown(&pgt);
}

/* ---- the walker ---- */

struct trace {
	int n;
	u64 ipa[64];
	int level[64];
	unsigned why[64];
	int stop_at;
};

static int visit_trace(const struct s2_visit_ctx *ctx)
{
	struct trace *t = ctx->arg;

	if (t->n < 64) {
		t->ipa[t->n] = ctx->ipa;
		t->level[t->n] = ctx->level;
		t->why[t->n] = ctx->why;
	}
	t->n++;
	if (t->n == t->stop_at)
		return FERRY_EBUSY;
	if (ctx->why == S2_WALK_TABLE_PRE && ctx->level == 1 && t->stop_at == -1)
		return S2_WALK_SKIP;
	return 0;
}

static void test_walker(void **state)
{
	struct s2_pgtable pgt;
	struct trace t = { 0 };
	struct s2_walker w = { visit_trace, S2_WALK_LEAF, &t };
	(void)state;
	pgt_setup(&pgt, 39);
	/* [RAM, +2M) block, [RAM+2M, +4K) page, RAM+2M+4K.. invalid */
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), SZ_2M + 4096, S2_PROT_R, NULL),
			 0);
	/* leaves overlapping a range starting inside the block: the whole block is visited */
	assert_int_equal(s2_walk(&pgt, ipa_init(RAM + 4096), SZ_2M + 8192, &w), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.ipa[0], RAM);
	assert_int_equal(t.level[0], 2);
	assert_int_equal(t.ipa[1], RAM + SZ_2M);
	assert_int_equal(t.level[1], 3);
	assert_int_equal(t.why[1], S2_WALK_LEAF);
	/* pre and post around a table, in IPA order; invalid entries at the level met */
	t = (struct trace){ 0 };
	w.flags = S2_WALK_LEAF | S2_WALK_TABLE_PRE | S2_WALK_TABLE_POST | S2_WALK_INVALID;
	assert_int_equal(s2_walk(&pgt, ipa_init(RAM + SZ_2M), 3 * 4096, &w), 0);
	/* L1 table pre, L2 table pre, L3 page, L3 invalid x2, L2 post, L1 post */
	assert_int_equal(t.n, 7);
	assert_int_equal(t.why[0], S2_WALK_TABLE_PRE);
	assert_int_equal(t.level[0], 1);
	assert_int_equal(t.why[1], S2_WALK_TABLE_PRE);
	assert_int_equal(t.level[1], 2);
	assert_int_equal(t.why[2], S2_WALK_LEAF);
	assert_int_equal(t.why[3], S2_WALK_INVALID);
	assert_int_equal(t.ipa[4], RAM + SZ_2M + 8192);
	assert_int_equal(t.why[5], S2_WALK_TABLE_POST);
	assert_int_equal(t.level[5], 2);
	assert_int_equal(t.why[6], S2_WALK_TABLE_POST);
	assert_int_equal(t.level[6], 1);
	/* an invalid level-1 entry is met at level 1 */
	t = (struct trace){ 0 };
	w.flags = S2_WALK_INVALID;
	assert_int_equal(s2_walk(&pgt, ipa_init(5 * SZ_1G), 4096, &w), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.level[0], 1);
	/* SKIP from table-pre: nothing below */
	t = (struct trace){ .stop_at = -1 };
	w.flags = S2_WALK_LEAF | S2_WALK_TABLE_PRE;
	assert_int_equal(s2_walk(&pgt, ipa_init(RAM), SZ_2M + 4096, &w), 0);
	assert_int_equal(t.n, 1);
	/* an error ends the walk and comes back */
	t = (struct trace){ .stop_at = 2 };
	assert_int_equal(s2_walk(&pgt, ipa_init(RAM), SZ_2M + 4096, &w), FERRY_EBUSY);
	assert_int_equal(t.n, 2);
	/* range errors */
	assert_int_equal(s2_walk(&pgt, ipa_init(RAM + 1), 4096, &w), FERRY_EINVAL);
	assert_int_equal(s2_walk(&pgt, ipa_init(RAM), 100, &w), FERRY_EINVAL);
	assert_int_equal(s2_walk(&pgt, ipa_init((1ULL << 39) - 4096), 8192, &w), FERRY_ERANGE);
	assert_int_equal(s2_walk(&pgt, ipa_init(RAM), 0, &w), 0);
	pgt_teardown(&pgt);
}

/* ---- errors, and destroy ---- */

static void test_errors(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	(void)state;
	pgt_setup(&pgt, 39);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM + 8), pa_init(PA0), 4096, S2_PROT_R, &owed),
			 FERRY_EINVAL);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0 + 8), 4096, S2_PROT_R, &owed),
			 FERRY_EINVAL);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 4095, S2_PROT_R, &owed),
			 FERRY_EINVAL);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 4096, 64, &owed), FERRY_EINVAL);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(0x9000000), 4096,
				S2_PROT_R | S2_PROT_X | S2_PROT_DEVICE, &owed),
			 FERRY_EINVAL);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(1ULL << 48), 4096, S2_PROT_R, &owed),
			 FERRY_ERANGE);
	assert_int_equal(s2_map(&pgt, ipa_init(~0ULL << 12), pa_init(PA0), 8192, S2_PROT_R, &owed),
			 FERRY_ERANGE);
	assert_int_equal(s2_unmap(&pgt, ipa_init(1ULL << 39), 4096, &owed), FERRY_ERANGE);
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM), 4096, S2_PROT_R | S2_PROT_DEVICE, &owed),
			 FERRY_EINVAL);
	assert_int_equal(s2_split(&pgt, ipa_init(RAM), 100, &owed), FERRY_EINVAL);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 0, S2_PROT_R, &owed), 0);
	assert_int_equal(level_of(&pgt, RAM), -1);
	assert_int_equal(pgt.tables, 1);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(bbm_calls, 0);
	pgt_teardown(&pgt);
}

static void test_destroy_frees_everything(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	pgt_setup(&pgt, 40);
	/* pages across both concatenated root tables, and a 1 GiB block */
	assert_int_equal(s2_map(&pgt, ipa_init((1ULL << 39) - SZ_2M - 4096), pa_init(PA0 + 4096),
				2 * SZ_2M, S2_PROT_R, NULL),
			 0);
	assert_int_equal(s2_map(&pgt, ipa_init(SZ_1G), pa_init(PA0), SZ_1G, S2_PROT_R, NULL), 0);
	assert_int_equal(s2_split(&pgt, ipa_init(SZ_1G), SZ_2M, NULL), 0);
	assert_true(pgt.tables > 6);
	assert_int_equal(pgt.tables, s2fx.nlive + 1); /* the 2-page root is one allocation */
	s2_destroy(&pgt);
	assert_int_equal(s2fx.nlive, 0);
	assert_int_equal(s2fx.frees, s2fx.allocs);
	assert_int_equal(pgt.tables, 0);
	s2_destroy(&pgt); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_descriptor_bits),
		cmocka_unit_test(test_block_or_page),
		cmocka_unit_test(test_leaf_ptr),
		cmocka_unit_test(test_partial_unmap_of_1g_block),
		cmocka_unit_test(test_protect_owes),
		cmocka_unit_test(test_map_over_live),
		cmocka_unit_test(test_walker),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_destroy_frees_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
