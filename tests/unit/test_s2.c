/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 page tables (hyp/mm/s2_*.c) against a reference model (page → PA, prot), through many
 * random map/unmap/protect/split operations with fixed seeds, on several IPA sizes (concatenated
 * roots, start levels 0, 1 and 2). After every operation: the tree equals the model; a map used the
 * largest leaves it could; every page whose translation or size changed was invalid when the bbm
 * flush ran; every page that lost a permission is covered by what the call owes or by that flush;
 * for unmap/protect/split what is owed and flushed is exactly what the tree's leaves require;
 * tables are counted exactly (none allocated and freed unused); random allocation failures leave
 * the tree, *owed and the barrier log untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "mm/s2.h"
#include "s2_fixture.h"

/* ---- the world under test ---- */

struct pg {
	u64 pa;
	u8 prot;
	int8_t level; /* -1: unmapped */
};

static u64 win_base, win_pages;
static struct pg *model, *before, *after, *at_bbm;
static int bbm_calls;
static struct s2_flush bbm_range;
static bool bbm_snapshot;
static struct s2_pgtable *cur;

static int visit_snapshot(const struct s2_visit_ctx *ctx)
{
	struct pg *out = ctx->arg;
	u64 size = s2_level_size(ctx->level);
	u64 first = MAX(ctx->ipa, win_base),
	    last = MIN(ctx->ipa + size, win_base + win_pages * 4096);
	unsigned prot = s2_desc_prot(ctx->desc);

	for (u64 a = first; a < last; a += 4096)
		out[(a - win_base) >> 12] =
			(struct pg){ (ctx->desc & S2_DESC_ADDR) + (a - ctx->ipa), (u8)prot,
				     (int8_t)ctx->level };
	return 0;
}

static void snapshot(struct s2_pgtable *pgt, struct pg *out)
{
	const struct s2_walker w = { visit_snapshot, S2_WALK_LEAF, out };

	for (u64 i = 0; i < win_pages; i++)
		out[i] = (struct pg){ 0, 0, -1 };
	assert_int_equal(s2_walk(pgt, ipa_init(win_base), win_pages * 4096, &w), 0);
}

static void bbm(void *ctx, ipa_t start, u64 pages, int level)
{
	(void)ctx;
	bbm_calls++;
	bbm_range = (struct s2_flush){ start, pages, level };
	if (bbm_snapshot)
		snapshot(cur, at_bbm);
}

static void world_init(struct s2_pgtable *pgt, unsigned ia_bits, u64 base, u64 pages)
{
	win_base = base;
	win_pages = pages;
	model = calloc(pages, sizeof(*model));
	before = calloc(pages, sizeof(*model));
	after = calloc(pages, sizeof(*model));
	at_bbm = calloc(pages, sizeof(*model));
	assert_true(model && before && after && at_bbm);
	for (u64 i = 0; i < pages; i++)
		model[i].level = -1;
	s2_fixture_reset();
	fake_arch_reset();
	cur = pgt;
	assert_int_equal(s2_init_concat(pgt, ia_bits, 3, &s2fx_mm, &s2fx_root_ops, NULL, bbm, NULL),
			 0);
}

static void world_end(struct s2_pgtable *pgt)
{
	s2_destroy(pgt);
	assert_int_equal(s2fx.nlive, 0);
	assert_int_equal(pgt->tables, 0);
	free(model);
	free(before);
	free(after);
	free(at_bbm);
}

/* ---- one operation, checked ---- */

enum op {
	OP_MAP,
	OP_UNMAP,
	OP_PROTECT,
	OP_SPLIT
};

struct opdesc {
	enum op op;
	u64 first, n; /* pages, relative to win_base */
	u64 pa;
	unsigned prot;
};

static int run_op(struct s2_pgtable *pgt, const struct opdesc *o, struct s2_flush *owed)
{
	ipa_t ipa = ipa_init(win_base + o->first * 4096);

	switch (o->op) {
	case OP_MAP:
		return s2_map(pgt, ipa, pa_init(o->pa), o->n * 4096, o->prot, owed);
	case OP_UNMAP:
		return s2_unmap(pgt, ipa, o->n * 4096, owed);
	case OP_PROTECT:
		return s2_protect(pgt, ipa, o->n * 4096, o->prot, owed);
	default:
		return s2_split(pgt, ipa, o->n * 4096, owed);
	}
}

static void model_apply(const struct opdesc *o)
{
	for (u64 i = o->first; i < o->first + o->n; i++) {
		struct pg *m = &model[i];

		switch (o->op) {
		case OP_MAP:
			*m = (struct pg){ o->pa + (i - o->first) * 4096, (u8)o->prot, 0 };
			break;
		case OP_UNMAP:
			m->level = -1;
			break;
		case OP_PROTECT:
			if (m->level >= 0)
				m->prot = (u8)((m->prot & S2_PROT_DEVICE) | o->prot);
			break;
		default:
			break;
		}
	}
}

static bool prot_downgrade(unsigned old, unsigned new)
{
	unsigned lost = old & ~new;

	return (lost & S2_PROT_RWX) || ((lost & S2_PROT_DBM) && !(new &S2_PROT_W));
}

static bool in_flush(const struct s2_flush *f, u64 ipa)
{
	return f->pages && ipa >= ipa_addr(f->start) && ipa < ipa_addr(f->start) + f->pages * 4096;
}

static u64 leaf_base(u64 i, const struct pg *p)
{
	return ALIGN_DOWN(win_base + i * 4096, s2_level_size(p->level));
}

/* The largest level a map of [first, first+n) at pa may use for page i. */
static int best_level(const struct opdesc *o, u64 i)
{
	u64 ipa = win_base + i * 4096, pa = o->pa + (i - o->first) * 4096;
	u64 s = win_base + o->first * 4096, e = s + o->n * 4096;

	for (int l = 1; l <= 2; l++) {
		u64 sz = s2_level_size(l), b = ALIGN_DOWN(ipa, sz);

		if (b >= s && b + sz <= e && IS_ALIGNED(pa - (ipa - b), sz))
			return l;
	}
	return 3;
}

/* planted: what *owed held before the call (the result must be it merged with the call's own). */
static void check_op(const struct opdesc *o, const struct s2_flush *owed,
		     const struct s2_flush *planted)
{
	u64 s = win_base + o->first * 4096, e = s + o->n * 4096;
	struct s2_flush want_owed = *planted, want_bbm = { 0 };
	u64 last_leaf = ~0ULL;

	snapshot(cur, after);
	for (u64 i = 0; i < win_pages; i++) {
		const struct pg *b = &before[i], *a = &after[i], *m = &model[i];
		u64 ipa = win_base + i * 4096;
		bool changed;

		/* The tree is the model. */
		assert_int_equal(a->level >= 0, m->level >= 0);
		if (m->level >= 0) {
			if (a->pa != m->pa || a->prot != m->prot)
				fail_msg("page %#llx: pa %#llx prot %u, model %#llx %u",
					 (unsigned long long)ipa, (unsigned long long)a->pa,
					 a->prot, (unsigned long long)m->pa, m->prot);
		}
		/* Largest leaves, unless a larger one already had this very translation. */
		if (o->op == OP_MAP && ipa >= s && ipa < e && a->level != best_level(o, i))
			assert_true(a->level < best_level(o, i) && b->level == a->level &&
				    b->pa == a->pa && b->prot == a->prot);
		if (o->op == OP_SPLIT && ipa >= s && ipa < e && a->level >= 0)
			assert_int_equal(a->level, 3);
		if (b->level < 0)
			continue;
		/* Break-before-make: a page whose output, memory type or leaf size changed was
		 * invalid when the one bbm flush ran, inside its range. */
		changed = a->level >= 0 && (a->pa != b->pa || a->level != b->level ||
					    ((a->prot ^ b->prot) & S2_PROT_DEVICE));
		if (changed) {
			assert_int_equal(bbm_calls, 1);
			assert_true(at_bbm[i].level < 0);
			assert_true(in_flush(&bbm_range, ipa));
		}
		/* Nothing is broken needlessly. */
		if (bbm_calls && at_bbm[i].level < 0)
			assert_true(changed || a->level < 0 || b->prot != a->prot);
		/* Every lost permission is owed or was flushed. */
		if ((a->level < 0 || changed || prot_downgrade(b->prot, a->prot)) &&
		    !(in_flush(owed, ipa) ||
		      (bbm_calls && at_bbm[i].level < 0 && in_flush(&bbm_range, ipa))))
			fail_msg(
				"op %d [%#llx, %#llx) pa %#llx prot %u: page %#llx lost permission "
				"(%u/%d -> %u/%d) and is neither owed nor flushed",
				o->op, (unsigned long long)s, (unsigned long long)e,
				(unsigned long long)o->pa, o->prot, (unsigned long long)ipa,
				b->prot, b->level, a->prot, a->level);
		/* What exactly unmap/protect/split owe and flush, leaf by leaf. */
		if (ipa < s || ipa >= e || leaf_base(i, b) == last_leaf)
			continue;
		last_leaf = leaf_base(i, b);
		{
			u64 lb = last_leaf, lsz = s2_level_size(b->level);
			bool whole = lb >= s && lb + lsz <= e;

			switch (o->op) {
			case OP_UNMAP:
				s2_flush_add(whole ? &want_owed : &want_bbm, ipa_init(lb),
					     lsz >> 12, b->level);
				break;
			case OP_PROTECT:
				if (whole &&
				    prot_downgrade(b->prot, o->prot | (b->prot & S2_PROT_DEVICE)))
					s2_flush_add(&want_owed, ipa_init(lb), lsz >> 12, b->level);
				if (!whole && (b->prot & ~S2_PROT_DEVICE) != o->prot)
					s2_flush_add(&want_bbm, ipa_init(lb), lsz >> 12, b->level);
				break;
			case OP_SPLIT:
				if (b->level < 3)
					s2_flush_add(&want_bbm, ipa_init(lb), lsz >> 12, b->level);
				break;
			default:
				break;
			}
		}
	}
	if (o->op == OP_MAP || o->op == OP_SPLIT)
		assert_memory_equal(owed, planted, sizeof(*owed));
	if (o->op != OP_MAP) {
		assert_int_equal(owed->pages, want_owed.pages);
		if (want_owed.pages) {
			assert_int_equal(ipa_addr(owed->start), ipa_addr(want_owed.start));
			assert_int_equal(owed->level, want_owed.level);
		}
		assert_int_equal(bbm_calls, want_bbm.pages ? 1 : 0);
		if (want_bbm.pages) {
			assert_int_equal(ipa_addr(bbm_range.start), ipa_addr(want_bbm.start));
			assert_int_equal(bbm_range.pages, want_bbm.pages);
			assert_int_equal(bbm_range.level, want_bbm.level);
		}
	} else {
		assert_true(bbm_calls <= 1);
	}
	/* Tables: counted exactly, and the tree holds all that is allocated. */
	assert_int_equal(s2fx.wasted, 0);
	assert_int_equal(cur->tables, s2fx.nlive + cur->root_pages - 1);
	memcpy(before, after, win_pages * sizeof(*before));
}

/* ---- random operations ---- */

static u64 rnd(u64 n) { return n ? (u64)random() % n : 0; }

static void random_range(u64 *first, u64 *n)
{
	u64 align, count;

	switch (rnd(10)) {
	case 0:
	case 1:
		align = SZ_1G >> 12;
		break;
	case 2:
	case 3:
	case 4:
		align = SZ_2M >> 12;
		break;
	default:
		align = 1;
		break;
	}
	if (align >= win_pages)
		align = SZ_2M >> 12;
	*first = rnd(win_pages / align) * align;
	if (rnd(4) == 0 && align > 1) /* just off an aligned edge */
		*first = MIN(*first + 1, win_pages - 1);
	count = 1 + rnd(MIN(4 * align, win_pages - *first));
	if (rnd(2) && align > 1)
		count = MAX(ALIGN_DOWN(count, align), MIN(align, win_pages - *first));
	*n = MIN(count, win_pages - *first);
}

static void random_op(struct opdesc *o)
{
	static const unsigned prots[] = {
		S2_PROT_R,
		S2_PROT_R | S2_PROT_W,
		S2_PROT_RWX,
		S2_PROT_R | S2_PROT_X,
		0,
		S2_PROT_R | S2_PROT_X | S2_PROT_DBM,
		S2_PROT_RWX | S2_PROT_DBM,
		S2_PROT_W,
	};

	random_range(&o->first, &o->n);
	o->prot = prots[rnd(ARRAY_SIZE(prots))];
	switch (rnd(10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		o->op = OP_MAP;
		/* Output the same modulo 1 GiB (blocks possible), modulo 2 MiB, or anything. */
		o->pa = 0x8000000000ULL + o->first * 4096 + (rnd(2) ? 0 : rnd(3) * SZ_1G) +
			(rnd(3) == 0 ? rnd(512) * SZ_2M : 0) + (rnd(4) == 0 ? rnd(512) * 4096 : 0);
		if (rnd(8) == 0) {
			o->prot |= S2_PROT_DEVICE;
			o->prot &= ~(unsigned)S2_PROT_X;
		}
		break;
	case 4:
	case 5:
		o->op = OP_UNMAP;
		break;
	case 6:
	case 7:
	case 8:
		o->op = OP_PROTECT;
		break;
	default:
		o->op = OP_SPLIT;
		break;
	}
}

static void run_random(unsigned ia_bits, u64 base, u64 pages, unsigned seed, int ops)
{
	struct s2_pgtable pgt;

	srandom(seed);
	world_init(&pgt, ia_bits, base, pages);
	bbm_snapshot = true;
	snapshot(&pgt, before);
	for (int k = 0; k < ops; k++) {
		struct opdesc o;
		struct s2_flush owed = { 0 }, keep;
		int err;

		random_op(&o);
		/* Sometimes *owed already holds earlier work: the call must merge into it. */
		if (rnd(8) == 0)
			owed = (struct s2_flush){ ipa_init(win_base), 1, 3 };
		keep = owed;
		s2fx.op_gen++;
		if (rnd(5) == 0) {
			size_t log = fake_arch_log_len;

			s2fx.fail_at = s2fx.allocs + (long)rnd(3);
			bbm_calls = 0;
			err = run_op(&pgt, &o, &owed);
			s2fx.fail_at = -1;
			if (err == FERRY_ENOMEM) {
				/* All or nothing: tree, owed, flushes and barriers untouched. */
				snapshot(&pgt, after);
				assert_memory_equal(after, before, win_pages * sizeof(*after));
				assert_memory_equal(&owed, &keep, sizeof(owed));
				assert_int_equal(bbm_calls, 0);
				assert_int_equal(fake_arch_log_len, log);
				assert_int_equal(pgt.tables, s2fx.nlive + pgt.root_pages - 1);
				s2fx.wasted = 0;
				s2fx.op_gen++;
				err = run_op(&pgt, &o, &owed);
			}
		} else {
			bbm_calls = 0;
			err = run_op(&pgt, &o, &owed);
		}
		assert_int_equal(err, 0);
		model_apply(&o);
		check_op(&o, &owed, &keep);
		fake_arch_reset();
	}
	bbm_snapshot = false;
	world_end(&pgt);
}

/* 16 MiB + 24 KiB at 1 GiB: 2 MiB blocks and pages, 39-bit IPA (level 1, one root page). */
static void test_random_2m(void **state)
{
	(void)state;
	run_random(39, 0x40000000ULL, 4096 + 6, 1, 12000);
}

/* 1 GiB + 4 MiB: 1 GiB blocks too. */
static void test_random_1g(void **state)
{
	(void)state;
	run_random(39, 0x40000000ULL, (SZ_1G >> 12) + 1024, 2, 700);
}

/* 40-bit IPA: two concatenated root tables; the window crosses from the first into the second. */
static void test_random_concat_40(void **state)
{
	(void)state;
	run_random(40, (1ULL << 39) - 8 * SZ_2M, 16 * 512, 3, 4000);
}

/* 48-bit IPA: start level 0; the window crosses a level-0 entry (512 GiB). */
static void test_random_level0_48(void **state)
{
	(void)state;
	run_random(48, (1ULL << 39) - 8 * SZ_2M, 16 * 512, 4, 4000);
}

/* 32-bit IPA: start level 2 with four concatenated tables; the window crosses root pages. */
static void test_random_level2_32(void **state)
{
	(void)state;
	run_random(32, SZ_1G - 8 * SZ_2M, 16 * 512, 5, 4000);
}

/* ---- every allocation failing in turn ---- */

static void test_enomem_at_every_allocation(void **state)
{
	struct s2_pgtable pgt;
	static const struct opdesc ops[] = {
		/* over nothing, misaligned output across a 1 GiB boundary: many tables */
		{ OP_MAP, 262144 - 700, 1500, 0x8000001000ULL, S2_PROT_RWX },
		/* punch one page out of a 1 GiB block: two tables */
		{ OP_MAP, 0, 262144, 0x8040000000ULL, S2_PROT_RWX },
		{ OP_UNMAP, 1000, 1, 0, 0 },
		{ OP_PROTECT, 5000, 3, 0, S2_PROT_R },
		{ OP_SPLIT, 0, 262144 + 2048, 0, 0 },
		{ OP_MAP, 3, 262144 + 1000, 0x9000003000ULL, S2_PROT_R },
	};
	(void)state;
	world_init(&pgt, 39, 0x40000000ULL, 2 * 262144);
	snapshot(&pgt, before);
	bbm_snapshot = true;
	for (size_t k = 0; k < ARRAY_SIZE(ops); k++) {
		long need, start;
		struct s2_flush owed = { 0 };

		/* Learn how many allocations the operation takes on a copy of the world: run it
		 * with failures from 0 up until it succeeds. */
		for (need = 0;; need++) {
			size_t log = fake_arch_log_len;
			int err;

			s2fx.op_gen++;
			start = s2fx.allocs;
			s2fx.fail_at = s2fx.allocs + need;
			bbm_calls = 0;
			err = run_op(&pgt, &ops[k], &owed);
			s2fx.fail_at = -1;
			if (!err)
				break;
			assert_int_equal(err, FERRY_ENOMEM);
			snapshot(&pgt, after);
			assert_memory_equal(after, before, win_pages * sizeof(*after));
			assert_int_equal(owed.pages, 0);
			assert_int_equal(bbm_calls, 0);
			assert_int_equal(fake_arch_log_len, log);
			assert_int_equal(pgt.tables, s2fx.nlive + pgt.root_pages - 1);
			assert_true(need < 2000);
			s2fx.wasted = 0;
		}
		assert_int_equal(s2fx.allocs - start, need);
		model_apply(&ops[k]);
		check_op(&ops[k], &owed, &(struct s2_flush){ 0 });
		fake_arch_reset();
	}
	bbm_snapshot = false;
	/* s2_init fails cleanly too. */
	{
		struct s2_pgtable p2;

		s2fx.fail_at = s2fx.allocs;
		assert_int_equal(
			s2_init_concat(&p2, 40, 1, &s2fx_mm, &s2fx_root_ops, NULL, bbm, NULL),
			FERRY_ENOMEM);
		assert_int_equal(s2_init(&p2, 39, 1, &s2fx_mm, NULL, bbm, NULL), FERRY_ENOMEM);
		s2fx.fail_at = -1;
	}
	world_end(&pgt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_2m),
		cmocka_unit_test(test_random_1g),
		cmocka_unit_test(test_random_concat_40),
		cmocka_unit_test(test_random_level0_48),
		cmocka_unit_test(test_random_level2_32),
		cmocka_unit_test(test_enomem_at_every_allocation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
