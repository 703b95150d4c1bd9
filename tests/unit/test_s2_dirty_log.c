/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 page tables and dirty logging: DBM collection of the hardware's dirty state (and its
 * table scan against a page-by-page model), the start in one pass (s2_split_protect) against the
 * engine's split and protect, and the stop (s2_protect_collapse). */
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
	pgt_setup(&pgt, 39);
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
	pgt_teardown(&pgt);
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
	pgt_setup(&pgt, 39);
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
	pgt_teardown(&pgt);
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
	pgt_setup(&pgt, 39);
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), SZ_2M, S2_PROT_RWX, &owed), 0);
	assert_int_equal(s2_split_protect(&pgt, ipa_init(RAM), SZ_2M, S2_PROT_R, &owed),
			 FERRY_ENOTSUP);
	pgt_teardown(&pgt);
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

/* ---- the access flag: what a migration's round 0 reads to skip RAM never touched ---- */

static u64 desc_at(struct s2_pgtable *pgt, u64 ipa, int *level)
{
	u64 d = 0;

	assert_non_null(s2_leaf_ptr(pgt, ipa, level, &d));
	return d;
}

/* What the hardware does on any access with VTCR_EL2.HA (or ferry on an access flag fault). */
static void touch(struct s2_pgtable *pgt, u64 ipa)
{
	int level;
	u64 d;

	__atomic_fetch_or(s2_leaf_ptr(pgt, ipa, &level, &d), S2_DESC_AF, __ATOMIC_RELAXED);
}

/* RAM mapped untouched keeps a clear access flag through the dirty-log start (one pass, and the
 * engine's split for a 1 GiB block) wherever nothing touched it, and has it wherever something did,
 * before or after the split; the stop rebuilds blocks whatever their pages' flags, each with the
 * flag when any of its pages had it. */
static void test_access_flag_kept(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	const unsigned rx = S2_PROT_R | S2_PROT_X;
	u64 blocks;
	int level;
	(void)state;

	for (int dbm = 0; dbm < 2; dbm++) {
		sp_setup(&pgt);
		assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), 4 * SZ_2M,
					S2_PROT_RWX | S2_PROT_UNTOUCHED, &owed),
				 0);
		assert_false(desc_at(&pgt, RAM, &level) & S2_DESC_AF);
		assert_int_equal(level, 2);
		touch(&pgt, RAM + SZ_2M + 7 * 4096); /* block 1, before the start */
		assert_int_equal(s2_split_protect(&pgt, ipa_init(RAM), 4 * SZ_2M,
						  rx | (dbm ? S2_PROT_DBM : 0), &owed),
				 0);
		for (u64 q = 0; q < 4 * 512; q++) {
			u64 d = desc_at(&pgt, RAM + q * 4096, &level);

			assert_int_equal(level, 3);
			assert_int_equal(!!(d & S2_DESC_AF), q / 512 == 1);
		}
		touch(&pgt, RAM + 2 * SZ_2M + 5 * 4096); /* block 2, one page, after it */
		assert_int_equal(s2_protect_collapse(&pgt, ipa_init(RAM), 4 * SZ_2M, S2_PROT_RWX,
						     &owed, &blocks),
				 0);
		assert_int_equal(blocks, 4);
		for (u64 b = 0; b < 4; b++) {
			u64 d = desc_at(&pgt, RAM + b * SZ_2M + 4096, &level);

			assert_int_equal(level, 2);
			assert_int_equal(!!(d & S2_DESC_AF), b == 1 || b == 2);
		}
		s2_destroy(&pgt);
	}
	/* The engine (a 1 GiB block, which the one pass leaves to it): the pages inherit the flag. */
	sp_setup(&pgt);
	assert_int_equal(s2_map(&pgt, ipa_init(4 * SZ_1G), pa_init(4 * SZ_1G), SZ_1G,
				S2_PROT_RWX | S2_PROT_UNTOUCHED, &owed),
			 0);
	assert_false(desc_at(&pgt, 4 * SZ_1G, &level) & S2_DESC_AF);
	assert_int_equal(level, 1);
	assert_int_equal(s2_split(&pgt, ipa_init(4 * SZ_1G), SZ_2M, &owed), 0);
	assert_int_equal(s2_protect(&pgt, ipa_init(4 * SZ_1G), SZ_2M, rx, &owed), 0);
	assert_false(desc_at(&pgt, 4 * SZ_1G + 4096, &level) & S2_DESC_AF);
	assert_int_equal(level, 3);
	assert_false(desc_at(&pgt, 4 * SZ_1G + SZ_2M, &level) & S2_DESC_AF);
	/* Without the flag asked for, mapped RAM has it, as before. */
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), SZ_2M, S2_PROT_RWX, &owed), 0);
	assert_true(desc_at(&pgt, RAM, &level) & S2_DESC_AF);
	s2_destroy(&pgt);
	assert_int_equal(s2fx.nlive, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dbm_collect),
		cmocka_unit_test(test_dbm_collect_scan_random),
		cmocka_unit_test(test_split_protect_matches_engine),
		cmocka_unit_test(test_split_protect_carries_owed),
		cmocka_unit_test(test_split_protect_refusals),
		cmocka_unit_test(test_protect_collapse),
		cmocka_unit_test(test_access_flag_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
