/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 page tables, targeted cases: geometry (start level, concatenated roots, VTCR/VTTBR), the
 * exact descriptor bits, block-or-page choice, what each change owes and flushes, the batched split
 * (one bbm flush, a DSB ISHST before every table is linked), table contents visible before they are
 * published (checked at every barrier), the generic walker's contract, DBM collection, errors, and
 * s2_destroy giving back every page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "mm/s2.h"
#include "s2_fixture.h"

#define RAM 0x40000000ULL
#define PA0 0x8000000000ULL

static int bbm_calls;
static struct s2_flush bbm_last;
static void (*bbm_hook)(void);
static void bbm(void *ctx, ipa_t start, u64 pages, int level)
{
	(void)ctx;
	bbm_calls++;
	bbm_last = (struct s2_flush){ start, pages, level };
	if (bbm_hook)
		bbm_hook();
}

static struct s2_pgtable *cur;

static void setup(struct s2_pgtable *pgt, unsigned ia_bits)
{
	s2_fixture_reset();
	s2fx.fail_at = -1;
	bbm_calls = 0;
	bbm_hook = NULL;
	fake_arch_reset();
	cur = pgt;
	assert_int_equal(s2_init_concat(pgt, ia_bits, 9, &s2fx_mm, &s2fx_root_ops, NULL, bbm, NULL),
			 0);
}

static void teardown(struct s2_pgtable *pgt)
{
	s2_destroy(pgt);
	assert_int_equal(s2fx.nlive, 0);
	assert_int_equal(pgt->tables, 0);
	assert_null(pgt->root);
}

static int level_of(struct s2_pgtable *pgt, u64 ipa)
{
	pa_t pa;
	unsigned prot;
	int level;

	return s2_lookup(pgt, ipa_init(ipa), &pa, &prot, &level) ? -1 : level;
}

static u64 pa_of(struct s2_pgtable *pgt, u64 ipa)
{
	pa_t pa;
	unsigned prot;
	int level;

	assert_int_equal(s2_lookup(pgt, ipa_init(ipa), &pa, &prot, &level), 0);
	return pa_addr(pa);
}

static unsigned prot_of(struct s2_pgtable *pgt, u64 ipa)
{
	pa_t pa;
	unsigned prot;
	int level;

	assert_int_equal(s2_lookup(pgt, ipa_init(ipa), &pa, &prot, &level), 0);
	return prot;
}

/* The raw descriptor of the leaf translating ipa. */
static u64 raw_leaf(struct s2_pgtable *pgt, u64 ipa)
{
	u64 *t = pgt->root, idx_mask = 512ULL * pgt->root_pages - 1;

	for (int l = (int)pgt->start_level; l <= 3; l++, idx_mask = 511) {
		u64 d = t[(ipa >> s2_level_shift(l)) & idx_mask];

		if (!s2_desc_is_table(d, l))
			return d;
		t = s2fx_p2v(d & S2_DESC_ADDR);
	}
	return 0;
}

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
		setup(&pgt, ia);
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
		teardown(&pgt);
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
	setup(&pgt, 39);
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
	teardown(&pgt);
}

static void test_block_or_page(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	setup(&pgt, 39);
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
	teardown(&pgt);
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
		teardown(&pgt);
	}
}

/* ---- what changes owe ---- */

static void test_partial_unmap_of_1g_block(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	(void)state;
	setup(&pgt, 39);
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
	teardown(&pgt);
}

static void test_protect_owes(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	size_t log;
	(void)state;
	setup(&pgt, 39);
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
	teardown(&pgt);
}

static void test_map_over_live(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	size_t log;
	long a;
	(void)state;
	setup(&pgt, 39);
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
	teardown(&pgt);
}

/* ---- the batched split, and tables visible before they are published ---- */

/* At every barrier, bbm flush and at the end of an operation: every table a walker can reach now
 * and could not at the last DSB ISHST existed then, with the same contents. So no walker can see
 * a linked table whose contents (or zeroing) were not made visible first. */
struct seen {
	void *p;
	bool reachable;
	u64 hash;
};
static struct seen seen[S2FX_MAX_LIVE];
static long nseen;

static u64 page_hash(const void *p)
{
	const u64 *w = p;
	u64 h = 1469598103934665603ULL;

	for (int i = 0; i < 512; i++)
		h = (h ^ w[i]) * 1099511628211ULL;
	return h;
}

static bool mark[S2FX_MAX_LIVE];

static int visit_mark(const struct s2_visit_ctx *ctx)
{
	void *t = s2fx_p2v(ctx->desc & S2_DESC_ADDR);

	for (long i = 0; i < nseen; i++)
		if (seen[i].p == t)
			mark[i] = true;
	return 0;
}

/* mark[j]: seen[j] is reachable from the root now */
static void reachable_now(void)
{
	const struct s2_walker w = { visit_mark, S2_WALK_TABLE_PRE, NULL };

	memset(mark, 0, sizeof(mark));
	assert_int_equal(s2_walk(cur, ipa_init(0), 1ULL << cur->ia_bits, &w), 0);
}

static long publish_checks;

static void check_published_if(bool check)
{
	long i, j;

	/* Pages allocated since the last barrier join, as unreachable then with no contents
	 * made visible: reachable already means linked without a DSB ISHST in between. */
	for (i = 0; i < s2fx.nlive; i++) {
		for (j = 0; j < nseen; j++)
			if (seen[j].p == s2fx_live[i])
				break;
		if (j == nseen)
			seen[nseen++] = (struct seen){ s2fx_live[i], false, ~0ULL };
	}
	reachable_now();
	for (j = 0; j < nseen && check; j++)
		if (mark[j] && !seen[j].reachable) {
			assert_int_equal(page_hash(seen[j].p), seen[j].hash);
			publish_checks++;
		}
}

static void check_published(void) { check_published_if(true); }

/* check: false for the baseline taken before an operation */
static void record_barrier(bool check)
{
	/* forget freed pages */
	for (long j = 0; j < nseen;) {
		bool alive = false;

		for (long i = 0; i < s2fx.nlive; i++)
			alive |= s2fx_live[i] == seen[j].p;
		if (!alive)
			seen[j] = seen[--nseen];
		else
			j++;
	}
	check_published_if(check);
	for (long j = 0; j < nseen; j++) {
		seen[j].reachable = mark[j];
		seen[j].hash = page_hash(seen[j].p);
	}
}

static void observer(const struct fake_arch_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->kind == FAKE_DSB_ISHST)
		record_barrier(true);
}

static void watch_start(void)
{
	nseen = 0;
	record_barrier(false); /* what exists before the operation counts as published */
	fake_arch_observer = observer;
	bbm_hook = check_published;
}

static void watch_end(void)
{
	check_published();
	fake_arch_observer = NULL;
	bbm_hook = NULL;
}

static struct s2_pgtable *split_pgt;
static void bbm_all_broken(void)
{
	/* At the flush every block of the range is already invalid: one flush for all. */
	for (u64 a = RAM; a < RAM + SZ_1G + 16 * SZ_2M; a += SZ_2M)
		assert_int_equal(level_of(split_pgt, a), -1);
	check_published();
}

static void test_split_batched(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	size_t dsb = 0;
	(void)state;
	setup(&pgt, 39);
	/* one 1 GiB block and 16 2 MiB blocks */
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), SZ_1G + 16 * SZ_2M,
				S2_PROT_R | S2_PROT_W, &owed),
			 0);
	assert_int_equal(level_of(&pgt, RAM), 1);
	fake_arch_reset();
	bbm_calls = 0;
	split_pgt = &pgt;
	nseen = 0;
	record_barrier(false);
	fake_arch_observer = observer;
	bbm_hook = bbm_all_broken;
	assert_int_equal(s2_split(&pgt, ipa_init(RAM), SZ_1G + 16 * SZ_2M, &owed), 0);
	watch_end();
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(ipa_addr(bbm_last.start), RAM);
	assert_int_equal(bbm_last.pages, (SZ_1G + 16 * SZ_2M) >> 12);
	assert_int_equal(bbm_last.level, -1); /* level 1 and level 2 blocks */
	assert_int_equal(owed.pages, 0);
	/* one DSB ISHST before each of the 17 links, nothing else */
	for (size_t i = 0; i < fake_arch_log_len; i++)
		dsb += fake_arch_log[i].kind == FAKE_DSB_ISHST;
	assert_int_equal(dsb, 17);
	assert_int_equal(fake_arch_log_len, 17);
	/* 1 (level-2) + 512 + 16 level-3 tables */
	assert_int_equal(pgt.tables, 1 + 1 + 1 + 512 + 16);
	for (u64 a = RAM; a < RAM + SZ_1G + 16 * SZ_2M; a += 4096 * 97) {
		assert_int_equal(level_of(&pgt, a), 3);
		assert_int_equal(pa_of(&pgt, a), PA0 + (a - RAM));
		assert_int_equal(prot_of(&pgt, a), S2_PROT_R | S2_PROT_W);
	}
	/* Again: nothing to break. */
	assert_int_equal(s2_split(&pgt, ipa_init(RAM), SZ_1G + 16 * SZ_2M, &owed), 0);
	assert_int_equal(bbm_calls, 1);
	teardown(&pgt);
}

static void test_publish_random(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	srandom(77);
	setup(&pgt, 39);
	publish_checks = 0;
	for (int k = 0; k < 3000; k++) {
		u64 first = (u64)random() % 4096, n = 1 + (u64)random() % MIN(4096 - first, 1500);
		u64 ipa = RAM + first * 4096;
		struct s2_flush owed = { 0 };
		int r = (int)(random() % 4);

		if (random() % 3 == 0) { /* aligned to 2 MiB */
			ipa = ALIGN_DOWN(ipa, SZ_2M);
			n = ALIGN_UP(n, 512);
			if (ipa + n * 4096 > RAM + 4096 * 4096)
				n = (RAM + 4096 * 4096 - ipa) >> 12;
		}
		watch_start();
		switch (r) {
		case 0:
			assert_int_equal(s2_map(&pgt, ipa_init(ipa),
						pa_init(PA0 + (ipa - RAM) + (random() % 2) * 4096),
						n * 4096, S2_PROT_R, &owed),
					 0);
			break;
		case 1:
			assert_int_equal(s2_unmap(&pgt, ipa_init(ipa), n * 4096, &owed), 0);
			break;
		case 2:
			assert_int_equal(s2_protect(&pgt, ipa_init(ipa), n * 4096,
						    (unsigned)(random() % 8), &owed),
					 0);
			break;
		default:
			assert_int_equal(s2_split(&pgt, ipa_init(ipa), n * 4096, &owed), 0);
			break;
		}
		watch_end();
	}
	assert_true(publish_checks > 200); /* tables really were published under watch (307) */
	teardown(&pgt);
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
	setup(&pgt, 39);
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
	teardown(&pgt);
}

/* ---- hardware dirty state ---- */

/* What the hardware does on a write to a DBM page: S2AP write set, atomically. */
static int visit_hw_write(const struct s2_visit_ctx *ctx)
{
	if (ctx->desc & S2_DESC_DBM)
		__atomic_fetch_or(ctx->ptep, S2_DESC_S2AP_W, __ATOMIC_RELAXED);
	return 0;
}

static void hw_write(struct s2_pgtable *pgt, u64 ipa)
{
	const struct s2_walker w = { visit_hw_write, S2_WALK_LEAF, NULL };

	assert_int_equal(s2_walk(pgt, ipa_init(ALIGN_DOWN(ipa, 4096)), 4096, &w), 0);
}

static void test_dbm_collect(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	static u64 bits[(8 * 512) / 64];
	const u64 rodbm = S2_PROT_R | S2_PROT_X | S2_PROT_DBM;
	u64 n;
	(void)state;
	setup(&pgt, 39);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 8 * SZ_2M, S2_PROT_RWX, &owed),
			 0);
	/* dirty logging's start: pages, read-only + DBM */
	assert_int_equal(s2_split(&pgt, ipa_init(RAM), 4 * SZ_2M, &owed), 0);
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM), 8 * SZ_2M, (unsigned)rodbm, &owed), 0);
	assert_int_equal(owed.pages, 8 * 512); /* W lost everywhere */
	hw_write(&pgt, RAM + 5 * 4096);
	hw_write(&pgt, RAM + 5 * 4096 + 8);
	hw_write(&pgt, RAM + 2047 * 4096);
	assert_int_equal(prot_of(&pgt, RAM + 5 * 4096), rodbm | S2_PROT_W);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(s2_collect_dbm_dirty(&pgt, ipa_init(RAM), 4 * SZ_2M, bits, RAM), 0);
	n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		n += (u64)__builtin_popcountll(bits[i]);
	assert_int_equal(n, 2);
	assert_true(bits[0] & BIT(5));
	assert_true(bits[2047 / 64] & BIT(2047 % 64));
	assert_int_equal(prot_of(&pgt, RAM + 5 * 4096), rodbm); /* cleaned, DBM kept */
	memset(bits, 0, sizeof(bits));
	assert_int_equal(s2_collect_dbm_dirty(&pgt, ipa_init(RAM), 4 * SZ_2M, bits, RAM), 0);
	assert_int_equal(bits[0] | bits[31], 0);
	/* A dirty block collected over part of it: its pages in range are reported, the block
	 * stays dirty (pages outside must not be lost); over all of it: cleaned. */
	hw_write(&pgt, RAM + 5 * SZ_2M + 100 * 4096);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(s2_collect_dbm_dirty(&pgt, ipa_init(RAM + 5 * SZ_2M + 64 * 4096),
					      64 * 4096, bits, RAM),
			 0);
	assert_int_equal(bits[(5 * 512 + 64) / 64], ~0ULL);
	assert_int_equal(bits[(5 * 512 + 128) / 64], 0);
	assert_int_equal(bits[(5 * 512) / 64], 0);
	assert_int_equal(prot_of(&pgt, RAM + 5 * SZ_2M), rodbm | S2_PROT_W);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(
		s2_collect_dbm_dirty(&pgt, ipa_init(RAM + 4 * SZ_2M), 4 * SZ_2M, bits, RAM), 0);
	for (u64 p = 4 * 512; p < 8 * 512; p++)
		assert_int_equal((bits[p / 64] >> (p % 64)) & 1, p / 512 == 5);
	assert_int_equal(prot_of(&pgt, RAM + 5 * SZ_2M), rodbm);
	assert_int_equal(s2_collect_dbm_dirty(&pgt, ipa_init(RAM), 4096, bits, RAM + 4096),
			 FERRY_EINVAL);
	/* A split keeps a dirty block's state on every page (nothing is lost). */
	hw_write(&pgt, RAM + 6 * SZ_2M);
	assert_int_equal(s2_split(&pgt, ipa_init(RAM + 6 * SZ_2M), 4096, &owed), 0);
	assert_int_equal(prot_of(&pgt, RAM + 6 * SZ_2M + 511 * 4096), rodbm | S2_PROT_W);
	teardown(&pgt);
}

/* The table scan (four descriptors per test) against a page-by-page model: random hardware writes
 * (including runs of four, and the first and last entries of a table), random ranges that cover
 * whole tables, parts of tables, and a 2 MiB block; every dirty page in range reported and cleaned,
 * nothing else reported, pages outside the range left dirty. */
static void dbm_scan_random(u64 off)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	enum {
		PAGES = 8 * 512
	};
	static u64 bits[PAGES / 64 + 2];
	static bool dirty[PAGES];
	const u64 rodbm = S2_PROT_R | S2_PROT_X | S2_PROT_DBM;
	u64 x = 0x9e3779b97f4a7c15ULL;
	setup(&pgt, 39);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 8 * SZ_2M, S2_PROT_RWX, &owed),
			 0);
	assert_int_equal(s2_split(&pgt, ipa_init(RAM), 7 * SZ_2M, &owed), 0); /* block 7 stays */
	assert_int_equal(s2_protect(&pgt, ipa_init(RAM), 8 * SZ_2M, (unsigned)rodbm, &owed), 0);
	memset(dirty, 0, sizeof(dirty));
	for (int round = 0; round < 300; round++) {
		for (int k = 0; k < 40; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			u64 p = x % (7 * 512), n = k % 5 == 0 ? 4 : 1;

			if (k == 1)
				p = (x % 7) * 512 + (x & 1 ? 511 : 0);
			for (u64 q = p; q < MIN(p + n, 7 * 512); q++) {
				hw_write(&pgt, RAM + q * 4096);
				dirty[q] = true;
			}
		}
		u64 first = (x >> 20) % 7 * 512, count = 512 * (1 + (x >> 30) % 3);

		if (round % 3 == 1) { /* a range that cuts tables */
			first += (x >> 40) % 300;
			count -= (x >> 50) % 200;
		}
		count = MIN(count, 7 * 512 - first);
		memset(bits, 0, sizeof(bits));
		assert_int_equal(s2_collect_dbm_dirty(&pgt, ipa_init(RAM + first * 4096),
						      count * 4096, bits, RAM - off * 4096),
				 0);
		for (u64 q = 0; q < 7 * 512; q++) {
			bool in = q >= first && q < first + count;
			bool got = (bits[(q + off) / 64] >> ((q + off) % 64)) & 1;

			assert_int_equal(got, in && dirty[q]);
			if (in)
				dirty[q] = false;
			assert_int_equal(prot_of(&pgt, RAM + q * 4096),
					 dirty[q] ? rodbm | S2_PROT_W : rodbm);
		}
	}
	/* The block: written, collected whole, cleaned. */
	hw_write(&pgt, RAM + 7 * SZ_2M + 4096);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(
		s2_collect_dbm_dirty(&pgt, ipa_init(RAM), 8 * SZ_2M, bits, RAM - off * 4096), 0);
	for (u64 q = 7 * 512; q < 8 * 512; q++)
		assert_true((bits[(q + off) / 64] >> ((q + off) % 64)) & 1);
	assert_int_equal(prot_of(&pgt, RAM + 7 * SZ_2M), rodbm);
	teardown(&pgt);
}

/* The scan's bitmap words at every alignment of the log's base against its tables. */
static void test_dbm_collect_scan_random(void **state)
{
	(void)state;
	dbm_scan_random(0);
	dbm_scan_random(3);
	dbm_scan_random(61);
}

/* ---- dirty logging's start in one pass ---- */

enum {
	SP_WIN = 16
}; /* a 32 MiB window: 16 x 2 MiB */

/* The same mappings in two tables: 2 MiB blocks, pages (a PA off the 2 MiB grid), a hole, a
 * read-only and a DBM-dirty page, chosen by seed. */
static void sp_build(struct s2_pgtable *pgt, u64 seed)
{
	struct s2_flush owed = { 0 };
	u64 x = seed;

	for (u64 b = 0; b < SP_WIN; b++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		u64 ipa = RAM + b * SZ_2M;

		switch ((x >> 33) % 4) {
		case 0: /* a block */
			assert_int_equal(s2_map(pgt, ipa_init(ipa), pa_init(PA0 + b * SZ_2M), SZ_2M,
						S2_PROT_RWX, &owed),
					 0);
			break;
		case 1: /* pages, some read-only, one dirty DBM */
			assert_int_equal(s2_map(pgt, ipa_init(ipa), pa_init(PA0 + b * SZ_2M + 4096),
						SZ_2M, S2_PROT_RWX, &owed),
					 0);
			assert_int_equal(s2_protect(pgt, ipa_init(ipa + 4096 * ((x >> 40) % 500)),
						    4096 * 5, S2_PROT_R, &owed),
					 0);
			assert_int_equal(s2_protect(pgt, ipa_init(ipa + 4096 * 511), 4096,
						    S2_PROT_RWX | S2_PROT_DBM, &owed),
					 0);
			break;
		case 2: /* a block made read-only */
			assert_int_equal(s2_map(pgt, ipa_init(ipa), pa_init(PA0 + b * SZ_2M), SZ_2M,
						S2_PROT_R | S2_PROT_X, &owed),
					 0);
			break;
		default: /* nothing */
			break;
		}
	}
}

static void sp_setup(struct s2_pgtable *pgt)
{
	s2fx.fail_at = -1;
	bbm_calls = 0;
	bbm_hook = NULL;
	fake_arch_reset();
	assert_int_equal(
		s2_init_concat(pgt, 39, 9, &s2fx_mm_identity, &s2fx_root_ops, NULL, bbm, NULL), 0);
}

static void sp_assert_same(struct s2_pgtable *a, struct s2_pgtable *b)
{
	for (u64 q = 0; q < SP_WIN * 512; q++) {
		pa_t pa1, pa2;
		unsigned p1, p2;
		int l1, l2;
		int e1 = s2_lookup(a, ipa_init(RAM + q * 4096), &pa1, &p1, &l1);
		int e2 = s2_lookup(b, ipa_init(RAM + q * 4096), &pa2, &p2, &l2);

		assert_int_equal(e1, e2);
		if (e1)
			continue;
		assert_true(pa_addr(pa1) == pa_addr(pa2));
		assert_int_equal(p1, p2);
		assert_int_equal(l1, l2);
	}
}

/* s2_split_protect gives exactly s2_split + s2_protect's tables, for read-only and read-only+DBM
 * (the two dirty-log modes) over random shapes and windows; one bbm flush when it split a block
 * (covering every page downgraded too), else the downgrades owed; the new tables published after a
 * DSB ISHST. */
static void test_split_protect_matches_engine(void **state)
{
	static const unsigned prots[] = { S2_PROT_R | S2_PROT_X,
					  S2_PROT_R | S2_PROT_X | S2_PROT_DBM };
	int split = 0, in_place = 0;
	(void)state;

	for (u64 seed = 1; seed <= 60; seed++) {
		struct s2_pgtable ref, fast;
		struct s2_flush owed_ref = { 0 }, owed_fast = { 0 };
		unsigned prot = prots[seed % 2];
		u64 first = seed % 3, count = SP_WIN - first - (seed % 5 == 0 ? 2 : 0);
		ipa_t start = ipa_init(RAM + first * SZ_2M);

		sp_setup(&ref);
		sp_build(&ref, seed);
		assert_int_equal(s2_split(&ref, start, count * SZ_2M, &owed_ref), 0);
		assert_int_equal(s2_protect(&ref, start, count * SZ_2M, prot, &owed_ref), 0);
		u64 ref_tables = ref.tables;
		struct s2_pgtable keep = ref;

		sp_setup(&fast);
		sp_build(&fast, seed);
		u64 blocks_before = fast.tables;

		bbm_calls = 0;
		fake_arch_reset();
		assert_int_equal(s2_split_protect(&fast, start, count * SZ_2M, prot, &owed_fast),
				 0);
		sp_assert_same(&keep, &fast);
		assert_true(fast.tables == ref_tables);
		if (fast.tables > blocks_before) {
			/* split something: one bbm flush that covered everything, nothing owed */
			assert_int_equal(bbm_calls, 1);
			assert_int_equal(owed_fast.pages, 0);
			assert_true(ipa_addr(bbm_last.start) <= ipa_addr(owed_ref.start) &&
				    ipa_addr(bbm_last.start) + bbm_last.pages * 4096 >=
					    ipa_addr(owed_ref.start) + owed_ref.pages * 4096);
			bool dsb = false;

			for (size_t i = 0; i < fake_arch_log_len; i++)
				dsb = dsb || fake_arch_log[i].kind == FAKE_DSB_ISHST;
			assert_true(dsb);
			split++;
		} else {
			assert_int_equal(bbm_calls, 0);
			assert_true(owed_fast.pages >= owed_ref.pages);
			in_place++;
		}
		/* Again with the other mode's permissions: only pages now, changed in place (DBM
		 * removed is a downgrade: owed), no bbm flush. */
		struct s2_flush o1 = { 0 }, o2 = { 0 };
		unsigned other = prots[(seed + 1) % 2];

		bbm_calls = 0;
		assert_int_equal(s2_protect(&ref, start, count * SZ_2M, other, &o1), 0);
		assert_int_equal(s2_split_protect(&fast, start, count * SZ_2M, other, &o2), 0);
		sp_assert_same(&ref, &fast);
		assert_int_equal(bbm_calls, 0);
		assert_true(!o1.pages || (ipa_addr(o2.start) <= ipa_addr(o1.start) &&
					  ipa_addr(o2.start) + o2.pages * 4096 >=
						  ipa_addr(o1.start) + o1.pages * 4096));
		in_place++;
		s2_destroy(&fast);
		assert_int_equal(fast.tables, 0);
		s2_destroy(&ref);
		assert_int_equal(s2fx.nlive, 0);
	}
	assert_true(split > 0 && in_place > 0);
}

/* What the caller owed on entry (a dirty-log collection's re-protected pages) rides on the split's
 * one bbm flush, which then covers both, with no level hint when the levels differ, and *owed is
 * emptied; with no block to split it stays owed, merged with the in-place downgrades. */
static void test_split_protect_carries_owed(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed;
	(void)state;

	sp_setup(&pgt);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 4 * SZ_2M, S2_PROT_RWX, &owed),
			 0);
	bbm_calls = 0;
	owed = (struct s2_flush){ ipa_init(RAM + 3 * SZ_2M + 5 * 4096), 2, 3 };
	assert_int_equal(
		s2_split_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R | S2_PROT_DBM, &owed), 0);
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(owed.pages, 0);
	assert_true(ipa_addr(bbm_last.start) == RAM);
	assert_int_equal(bbm_last.pages, 3 * 512 + 7);
	assert_int_equal(bbm_last.level, -1); /* a 2 MiB block and level-3 pages */
	/* Pages only now: nothing broken, the in-place downgrade (DBM taken from read-only pages)
	 * joins what was owed. */
	bbm_calls = 0;
	owed = (struct s2_flush){ ipa_init(RAM + 3 * SZ_2M), 1, 3 };
	assert_int_equal(s2_split_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R, &owed), 0);
	assert_int_equal(bbm_calls, 0);
	assert_true(ipa_addr(owed.start) == RAM);
	assert_int_equal(owed.pages, 3 * 512 + 1);
	assert_int_equal(owed.level, 3);
	s2_destroy(&pgt);
	assert_int_equal(s2fx.nlive, 0);
}

/* All or nothing, and shapes left to the engine: nothing changes. */
static void test_split_protect_refusals(void **state)
{
	struct s2_pgtable pgt, ref;
	struct s2_flush owed = { 0 };
	(void)state;

	long enomem = 0;

	for (long fail = 1; fail < 12; fail++) {
		sp_setup(&ref);
		sp_build(&ref, 7);
		sp_setup(&pgt);
		sp_build(&pgt, 7);
		u64 tables = pgt.tables;

		s2fx.fail_at = s2fx.allocs + fail;
		int err = s2_split_protect(&pgt, ipa_init(RAM), SP_WIN * SZ_2M, S2_PROT_R, &owed);

		s2fx.fail_at = -1;
		if (err == 0) {
			s2_destroy(&pgt);
			s2_destroy(&ref);
			break;
		}
		assert_int_equal(err, FERRY_ENOMEM);
		enomem++;
		assert_true(pgt.tables == tables);
		sp_assert_same(&ref, &pgt);
		assert_int_equal(bbm_calls, 0);
		s2_destroy(&pgt);
		s2_destroy(&ref);
		assert_int_equal(s2fx.nlive, 0);
	}
	assert_true(enomem >= 2); /* seed 7 has blocks to split: every allocation failed in turn */
	sp_setup(&pgt);
	sp_build(&pgt, 7);
	assert_int_equal(s2_split_protect(&pgt, ipa_init(RAM + 4096), SZ_2M, S2_PROT_R, &owed),
			 FERRY_ENOTSUP);
	assert_int_equal(s2_split_protect(&pgt, ipa_init(RAM), SZ_2M + 4096, S2_PROT_R, &owed),
			 FERRY_ENOTSUP);
	assert_int_equal(s2_split_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R | 0x100, &owed),
			 FERRY_EINVAL);
	/* a 1 GiB block */
	assert_int_equal(
		s2_map(&pgt, ipa_init(4 * SZ_1G), pa_init(4 * SZ_1G), SZ_1G, S2_PROT_RWX, &owed),
		0);
	assert_int_equal(s2_split_protect(&pgt, ipa_init(4 * SZ_1G), SZ_2M, S2_PROT_R, &owed),
			 FERRY_ENOTSUP);
	assert_int_equal(level_of(&pgt, 4 * SZ_1G), 1);
	s2_destroy(&pgt);
	assert_int_equal(s2fx.nlive, 0);
	/* tables not mapped at their physical address */
	setup(&pgt, 39);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), SZ_2M, S2_PROT_RWX, &owed), 0);
	assert_int_equal(s2_split_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R, &owed),
			 FERRY_ENOTSUP);
	teardown(&pgt);
}

/* Dirty logging's stop: s2_protect_collapse gives every page s2_protect's translation and
 * permissions, and a 2 MiB block wherever the 512 pages are one aligned contiguous run with equal
 * attributes (whatever their permissions were); pages kept where one is unmapped or maps elsewhere
 * or the run is not 2 MiB aligned in PA; one bbm flush for the rebuilt blocks, the old tables
 * freed. */
static void test_protect_collapse(void **state)
{
	struct s2_pgtable ref, fast;
	struct s2_flush o1 = { 0 }, o2 = { 0 };
	const unsigned rx = S2_PROT_R | S2_PROT_X;
	u64 blocks;
	(void)state;

	for (u64 seed = 1; seed <= 40; seed++) {
		struct s2_pgtable *both[2] = { &ref, &fast };

		for (int k = 0; k < 2; k++) {
			sp_setup(both[k]);
			sp_build(both[k], seed);
			assert_int_equal(s2_split_protect(both[k], ipa_init(RAM), SP_WIN * SZ_2M,
							  rx | (seed % 2 ? S2_PROT_DBM : 0), &o1),
					 0);
			/* some pages made writable again (write faults), one hole, one page moved */
			assert_int_equal(s2_protect(both[k],
						    ipa_init(RAM + (seed % SP_WIN) * SZ_2M),
						    8 * 4096, S2_PROT_RWX, &o1),
					 0);
			assert_int_equal(
				s2_unmap(both[k], ipa_init(RAM + 3 * SZ_2M + 4096), 4096, &o1), 0);
			assert_int_equal(s2_map(both[k], ipa_init(RAM + 5 * SZ_2M + 8192),
						pa_init(PA0 + 64 * SZ_2M), 4096, rx, &o1),
					 0);
		}
		u64 tables = fast.tables;

		assert_int_equal(s2_protect(&ref, ipa_init(RAM), SP_WIN * SZ_2M, S2_PROT_RWX, &o1),
				 0);
		bbm_calls = 0;
		assert_int_equal(s2_protect_collapse(&fast, ipa_init(RAM), SP_WIN * SZ_2M,
						     S2_PROT_RWX, &o2, &blocks),
				 0);
		for (u64 q = 0; q < SP_WIN * 512; q++) {
			pa_t pa1, pa2;
			unsigned p1, p2;
			int l1, l2;
			int e1 = s2_lookup(&ref, ipa_init(RAM + q * 4096), &pa1, &p1, &l1);
			int e2 = s2_lookup(&fast, ipa_init(RAM + q * 4096), &pa2, &p2, &l2);
			u64 b = q / 512;

			assert_int_equal(e1, e2);
			if (e1)
				continue;
			assert_true(pa_addr(pa1) == pa_addr(pa2));
			assert_int_equal(p1, p2);
			/* blocks 3 and 5 are not uniform; pages off the 2 MiB PA grid stay pages */
			if (b == 3 || b == 5 || (pa_addr(pa1) - PA0) % SZ_2M != (q % 512) * 4096)
				assert_int_equal(l2, 3);
			else
				assert_int_equal(l2, 2);
		}
		assert_true(blocks > 0);
		assert_true(fast.tables == tables - blocks);
		assert_int_equal(bbm_calls, 1);
		s2_destroy(&fast);
		s2_destroy(&ref);
		assert_int_equal(s2fx.nlive, 0);
	}
	sp_setup(&fast);
	sp_build(&fast, 3);
	assert_int_equal(
		s2_protect_collapse(&fast, ipa_init(RAM + 4096), SZ_2M, S2_PROT_RWX, &o2, &blocks),
		FERRY_ENOTSUP);
	assert_int_equal(
		s2_map(&fast, ipa_init(4 * SZ_1G), pa_init(4 * SZ_1G), SZ_1G, S2_PROT_R, &o2), 0);
	assert_int_equal(
		s2_protect_collapse(&fast, ipa_init(4 * SZ_1G), SZ_2M, S2_PROT_RWX, &o2, &blocks),
		FERRY_ENOTSUP);
	assert_int_equal(prot_of(&fast, 4 * SZ_1G), S2_PROT_R);
	s2_destroy(&fast);
	assert_int_equal(s2fx.nlive, 0);
}

/* ---- errors, and destroy ---- */

static void test_errors(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	(void)state;
	setup(&pgt, 39);
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
	teardown(&pgt);
}

static void test_destroy_frees_everything(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	setup(&pgt, 40);
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
		cmocka_unit_test(test_split_batched),
		cmocka_unit_test(test_publish_random),
		cmocka_unit_test(test_walker),
		cmocka_unit_test(test_dbm_collect),
		cmocka_unit_test(test_dbm_collect_scan_random),
		cmocka_unit_test(test_split_protect_matches_engine),
		cmocka_unit_test(test_split_protect_carries_owed),
		cmocka_unit_test(test_split_protect_refusals),
		cmocka_unit_test(test_protect_collapse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_destroy_frees_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
