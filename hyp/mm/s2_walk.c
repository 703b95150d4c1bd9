/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 tables: geometry (start level, concatenated root), VTTBR/VTCR, descriptor helpers, the
 * generic walker and the visitors that need no allocation (destroy, lookup, DBM collection). The
 * operations that change the shape of the tree are in s2_change.c. */
#include "arch/arch.h"
#include "lib/bitmap.h"
#include "mm/s2.h"

static u64 read_desc(const u64 *ptep) { return __atomic_load_n(ptep, __ATOMIC_RELAXED); }

void s2_desc_write(const struct s2_visit_ctx *ctx, u64 desc)
{
	/* One 64-bit store: a hardware walker on another CPU sees the old or the new descriptor,
	 * never a mix (Arm ARM B2, "Single-copy atomicity": aligned 64-bit accesses). */
	__atomic_store_n(ctx->ptep, desc, __ATOMIC_RELAXED);
}

bool s2_desc_update(const struct s2_visit_ctx *ctx, u64 *old, u64 desc)
{
	return __atomic_compare_exchange_n(ctx->ptep, old, desc, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

u64 s2_desc_clear_bits(const struct s2_visit_ctx *ctx, u64 bits)
{
	return __atomic_fetch_and(ctx->ptep, ~bits, __ATOMIC_RELAXED);
}

unsigned s2_desc_prot(u64 d)
{
	unsigned p = 0;

	if ((d & S2_DESC_MEMATTR) == S2_DESC_MEMATTR_DEVICE_NGNRE)
		p |= S2_PROT_DEVICE;
	if (d & S2_DESC_S2AP_R)
		p |= S2_PROT_R;
	if (d & S2_DESC_S2AP_W)
		p |= S2_PROT_W;
	if (!(d & S2_DESC_XN))
		p |= S2_PROT_X;
	if (d & S2_DESC_DBM)
		p |= S2_PROT_DBM;
	return p;
}

u64 s2_prot_perm_bits(unsigned prot)
{
	return ((prot & S2_PROT_R) ? S2_DESC_S2AP_R : 0) |
	       ((prot & S2_PROT_W) ? S2_DESC_S2AP_W : 0) | ((prot & S2_PROT_X) ? 0 : S2_DESC_XN) |
	       ((prot & S2_PROT_DBM) ? S2_DESC_DBM : 0);
}

void s2_flush_add(struct s2_flush *owed, ipa_t start, u64 pages, int level)
{
	u64 s, e;

	if (!owed || !pages)
		return;
	if (!owed->pages) {
		*owed = (struct s2_flush){ start, pages, level };
		return;
	}
	s = MIN(ipa_addr(owed->start), ipa_addr(start));
	e = MAX(ipa_addr(owed->start) + (owed->pages << PAGE_SHIFT),
		ipa_addr(start) + (pages << PAGE_SHIFT));
	owed->start = ipa_init(s);
	owed->pages = (e - s) >> PAGE_SHIFT;
	if (owed->level != level)
		owed->level = -1;
}

/* ---- geometry ---- */

int s2_start_level(unsigned ia_bits)
{
	int level;

	/* Arm ARM D8 ("Concatenated translation tables") allows concatenation only at the initial
	 * stage-2 level, up to 16 tables (4 more bits). Deeper is better: one level fewer per TLB
	 * miss. The 4K granule cannot start at level 3 without FEAT_TTST, hence level 2 at most. */
	for (level = 2; level > 0; level--)
		if (ia_bits - s2_level_shift(level) <= 9 + 4)
			break;
	return level;
}

unsigned s2_root_pages(unsigned ia_bits)
{
	unsigned root_bits = ia_bits - s2_level_shift(s2_start_level(ia_bits));

	return root_bits > 9 ? 1u << (root_bits - 9) : 1;
}

int s2_init_concat(struct s2_pgtable *pgt, unsigned ia_bits, u16 vmid, const struct s2_mm_ops *mm,
		   const struct s2_root_ops *root_ops, void *mm_ctx, s2_bbm_flush_fn bbm,
		   void *bbm_ctx)
{
	u64 *root;

	*pgt = (struct s2_pgtable){ 0 };
	if (ia_bits < 32 || ia_bits > 48 || !mm || !mm->zalloc_page || !mm->free_page ||
	    !mm->virt_to_phys || !mm->phys_to_virt)
		return FERRY_EINVAL;
	pgt->ia_bits = ia_bits;
	pgt->start_level = (unsigned)s2_start_level(ia_bits);
	pgt->root_pages = s2_root_pages(ia_bits);
	pgt->vmid = vmid;
	pgt->mm = mm;
	pgt->mm_ctx = mm_ctx;
	pgt->bbm = bbm;
	pgt->bbm_ctx = bbm_ctx;
	if (pgt->root_pages == 1) {
		root = mm->zalloc_page(mm_ctx);
	} else {
		/* Concatenated tables: contiguous and aligned to their total size, as VTTBR_EL2's
		 * BADDR requires. */
		if (!root_ops || !root_ops->zalloc_pages || !root_ops->free_pages) {
			pgt->mm = NULL;
			return FERRY_ENOTSUP;
		}
		pgt->root_ops = root_ops;
		root = root_ops->zalloc_pages(mm_ctx, pgt->root_pages);
		if (root && !IS_ALIGNED(mm->virt_to_phys(root), pgt->root_pages * PAGE_SIZE)) {
			root_ops->free_pages(mm_ctx, root, pgt->root_pages);
			pgt->mm = NULL;
			return FERRY_EINVAL;
		}
	}
	if (!root) {
		pgt->mm = NULL;
		return FERRY_ENOMEM;
	}
	pgt->root = root;
	pgt->tables = pgt->root_pages;
	return 0;
}

int s2_init(struct s2_pgtable *pgt, unsigned ia_bits, u16 vmid, const struct s2_mm_ops *mm,
	    void *mm_ctx, s2_bbm_flush_fn bbm, void *bbm_ctx)
{
	return s2_init_concat(pgt, ia_bits, vmid, mm, NULL, mm_ctx, bbm, bbm_ctx);
}

u64 s2_vttbr(const struct s2_pgtable *pgt)
{
	return (pgt->mm->virt_to_phys(pgt->root) & GENMASK(47, 1)) | ((u64)pgt->vmid << 48);
}

/* VTCR_EL2 (Arm ARM D19, the register's description). The caller keeps ia_bits within the PA size:
 * a stage-2 input larger than the output range is not a configuration the architecture promises to
 * translate. */
u64 s2_vtcr(const struct s2_pgtable *pgt, unsigned pa_range_field)
{
	u64 sl0 = 2 - pgt->start_level; /* 4K granule: SL0 0 = level 2, 1 = level 1, 2 = level 0 */
	u64 ps = MIN(pa_range_field, 5u);

	return BIT(31) /* RES1 */ | (pgt->vmid > 255 ? BIT(19) : 0) /* VS: 16-bit VMID */ |
	       (ps << 16) | (0ULL << 14) /* TG0 4K */ | (3ULL << 12) /* SH0 inner */ |
	       (1ULL << 10) /* ORGN0 WBWA */ | (1ULL << 8) /* IRGN0 WBWA */ | (sl0 << 6) |
	       (64 - pgt->ia_bits) /* T0SZ */;
}

/* ---- the walker ---- */

struct walk_state {
	struct s2_pgtable *pgt;
	const struct s2_walker *w;
	u64 start, end;
};

static u64 *table_va(const struct s2_pgtable *pgt, u64 d)
{
	return pgt->mm->phys_to_virt(d & S2_DESC_ADDR);
}

static int walk_table(const struct walk_state *ws, u64 *table, u64 nentries, int level,
		      u64 table_ipa)
{
	const struct s2_walker *w = ws->w;
	unsigned shift = s2_level_shift(level);
	u64 size = s2_level_size(level);
	u64 last = MIN(ws->end, table_ipa + nentries * size);

	for (u64 ipa = ALIGN_DOWN(MAX(ws->start, table_ipa), size); ipa < last; ipa += size) {
		struct s2_visit_ctx ctx = { .pgt = ws->pgt,
					    .ptep = &table[(ipa - table_ipa) >> shift],
					    .ipa = ipa,
					    .level = level,
					    .start = ws->start,
					    .end = ws->end,
					    .arg = w->arg };
		bool is_table;
		int r;

		ctx.desc = read_desc(ctx.ptep);
		is_table = s2_desc_is_table(ctx.desc, level);
		ctx.why = is_table                  ? S2_WALK_TABLE_PRE
			  : s2_desc_valid(ctx.desc) ? S2_WALK_LEAF
						    : S2_WALK_INVALID;
		if (w->flags & ctx.why) {
			r = w->visit(&ctx);
			if (r < 0)
				return r;
			/* The s2 operations may turn an entry into a table here, or a table into a
			 * block; the walk goes on inside a table unless they say otherwise. */
			ctx.desc = read_desc(ctx.ptep);
			if (r == S2_WALK_SKIP || !s2_desc_is_table(ctx.desc, level))
				continue;
		} else if (!is_table) {
			continue;
		}
		r = walk_table(ws, table_va(ws->pgt, ctx.desc), 512, level + 1, ipa);
		if (r < 0)
			return r;
		if (w->flags & S2_WALK_TABLE_POST) {
			ctx.why = S2_WALK_TABLE_POST;
			ctx.desc = read_desc(ctx.ptep);
			r = w->visit(&ctx);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int s2_walk(struct s2_pgtable *pgt, ipa_t ipa, u64 size, const struct s2_walker *w)
{
	struct walk_state ws = { pgt, w, ipa_addr(ipa), ipa_addr(ipa) + size };

	if (!pgt->root)
		return FERRY_EINVAL;
	if (!IS_ALIGNED(ws.start | size, PAGE_SIZE))
		return FERRY_EINVAL;
	if (ws.end < ws.start || ws.end > (1ULL << pgt->ia_bits))
		return FERRY_ERANGE;
	if (!size)
		return 0;
	return walk_table(&ws, pgt->root, 512ULL * pgt->root_pages, (int)pgt->start_level, 0);
}

/* ---- destroy: free each table after its entries were walked ---- */

static int visit_free_table(const struct s2_visit_ctx *ctx)
{
	struct s2_pgtable *pgt = ctx->pgt;

	pgt->mm->free_page(pgt->mm_ctx, table_va(pgt, ctx->desc));
	pgt->tables--;
	return 0;
}

void s2_destroy(struct s2_pgtable *pgt)
{
	const struct s2_walker w = { visit_free_table, S2_WALK_TABLE_POST, NULL };

	if (!pgt->root)
		return;
	(void)s2_walk(pgt, ipa_init(0), 1ULL << pgt->ia_bits, &w);
	if (pgt->root_pages == 1)
		pgt->mm->free_page(pgt->mm_ctx, pgt->root);
	else
		pgt->root_ops->free_pages(pgt->mm_ctx, pgt->root, pgt->root_pages);
	pgt->tables -= pgt->root_pages;
	pgt->root = NULL;
	pgt->mm = NULL;
}

/* ---- lookup ---- */

int s2_lookup(const struct s2_pgtable *pgt, ipa_t ipa, pa_t *pa, unsigned *prot, int *level)
{
	const u64 *table = pgt->root;
	u64 a = ipa_addr(ipa);
	u64 index_mask = 512ULL * pgt->root_pages - 1;

	if (!table || a >= (1ULL << pgt->ia_bits))
		return FERRY_ENOENT;
	for (int l = (int)pgt->start_level; l <= 3; l++, index_mask = 511) {
		u64 d = read_desc(&table[(a >> s2_level_shift(l)) & index_mask]);

		if (!s2_desc_valid(d))
			return FERRY_ENOENT;
		if (s2_desc_is_table(d, l)) {
			table = table_va(pgt, d);
			continue;
		}
		*pa = pa_init((d & S2_DESC_ADDR) + (a & (s2_level_size(l) - 1)));
		*prot = s2_desc_prot(d);
		*level = l;
		return 0;
	}
	return FERRY_ENOENT;
}

/* ---- hardware dirty state: an example of a visitor over s2_walk ---- */

struct dbm_collect {
	u64 *bitmap;
	u64 base;
};

static int visit_dbm_collect(const struct s2_visit_ctx *ctx)
{
	const struct dbm_collect *c = ctx->arg;
	u64 first, last;

	if ((ctx->desc & (S2_DESC_DBM | S2_DESC_S2AP_W)) != (S2_DESC_DBM | S2_DESC_S2AP_W))
		return 0;
	/* Cleaning a block partly outside the range would lose the dirty state of its pages
	 * outside; left dirty, those in range are only reported again next time. */
	if (s2_visit_inside(ctx))
		(void)s2_desc_clear_bits(ctx, S2_DESC_S2AP_W);
	first = MAX(ctx->ipa, ctx->start);
	last = MIN(ctx->ipa + s2_level_size(ctx->level), ctx->end);
	/* Atomically: write faults of the other dirty-log mode share the bitmap code. */
	bitmap_fill_range_atomic(c->bitmap, (first - c->base) >> PAGE_SHIFT,
				 (last - first) >> PAGE_SHIFT);
	return 0;
}

/* A dirty log's level-3 table wholly inside the collected range, scanned without the walker: eight
 * descriptors per step, one test of their OR for S2AP write (a clean page, read-only, never has
 * it), so a clean page costs a little over two instructions. In a step with a write bit, each of
 * the eight (already in registers) goes through visit_dbm_collect's rule: valid page, DBM and
 * write set: cleaned atomically and reported; the step's bits reach the bitmap in one atomic OR. */
#define DBM_DIRTY (S2_DESC_VALID | S2_DESC_TABLE | S2_DESC_DBM | S2_DESC_S2AP_W)
#define DBM_LANE(k)                                                                             \
	do {                                                                                    \
		if ((v##k & DBM_DIRTY) == DBM_DIRTY) {                                          \
			(void)__atomic_fetch_and(&t[i + k], ~S2_DESC_S2AP_W, __ATOMIC_RELAXED); \
			mask |= 1ULL << k;                                                      \
		}                                                                               \
	} while (0)

static void dbm_scan_table(u64 *t, u64 ipa, const struct dbm_collect *c)
{
	u64 first = (ipa - c->base) >> PAGE_SHIFT;

	for (unsigned i = 0; i < 512; i += 8) {
		u64 v0 = __atomic_load_n(&t[i], __ATOMIC_RELAXED);
		u64 v1 = __atomic_load_n(&t[i + 1], __ATOMIC_RELAXED);
		u64 v2 = __atomic_load_n(&t[i + 2], __ATOMIC_RELAXED);
		u64 v3 = __atomic_load_n(&t[i + 3], __ATOMIC_RELAXED);
		u64 v4 = __atomic_load_n(&t[i + 4], __ATOMIC_RELAXED);
		u64 v5 = __atomic_load_n(&t[i + 5], __ATOMIC_RELAXED);
		u64 v6 = __atomic_load_n(&t[i + 6], __ATOMIC_RELAXED);
		u64 v7 = __atomic_load_n(&t[i + 7], __ATOMIC_RELAXED);
		u64 mask = 0;

		if (!((v0 | v1 | v2 | v3 | v4 | v5 | v6 | v7) & S2_DESC_S2AP_W))
			continue;
		DBM_LANE(0);
		DBM_LANE(1);
		DBM_LANE(2);
		DBM_LANE(3);
		DBM_LANE(4);
		DBM_LANE(5);
		DBM_LANE(6);
		DBM_LANE(7);
		if (!mask)
			continue;
		/* Eight bits from page first + i: in one word unless they straddle two. */
		u64 p = first + i, sh = p % 64;

		__atomic_fetch_or(&c->bitmap[p / 64], mask << sh, __ATOMIC_RELAXED);
		if (sh > 56)
			__atomic_fetch_or(&c->bitmap[p / 64 + 1], mask >> (64 - sh),
					  __ATOMIC_RELAXED);
	}
}

static int visit_dbm_table(const struct s2_visit_ctx *ctx)
{
	if (ctx->why == S2_WALK_LEAF)
		return visit_dbm_collect(ctx);
	if (ctx->level != 2 || !s2_visit_inside(ctx))
		return 0; /* walk into it */
	dbm_scan_table(table_va(ctx->pgt, ctx->desc), ctx->ipa, ctx->arg);
	return S2_WALK_SKIP;
}

int s2_collect_dbm_dirty(struct s2_pgtable *pgt, ipa_t ipa, u64 size, u64 *bitmap, u64 base)
{
	struct dbm_collect c = { bitmap, base };
	const struct s2_walker w = { visit_dbm_table, S2_WALK_LEAF | S2_WALK_TABLE_PRE, &c };

	if (ipa_addr(ipa) < base)
		return FERRY_EINVAL;
	return s2_walk(pgt, ipa, size, &w);
}

u64 *s2_l2_slot(const struct s2_pgtable *pgt, u64 a, bool *hole)
{
	u64 *t = pgt->root;
	u64 mask = 512ULL * pgt->root_pages - 1;

	*hole = false;
	for (int l = (int)pgt->start_level; l < 2; l++, mask = 511) {
		u64 d = __atomic_load_n(&t[(a >> s2_level_shift(l)) & mask], __ATOMIC_RELAXED);

		if (!(d & S2_DESC_VALID)) {
			*hole = true;
			return NULL;
		}
		if (!(d & S2_DESC_TABLE))
			return NULL;
		t = (u64 *)(uintptr_t)(d & S2_DESC_ADDR);
	}
	return &t[(a >> 21) & mask];
}
