/* Stage-2 page tables, 4K granule. One recursive walker visits every entry overlapping a range; the
 * operations (map, unmap, protect, split, DBM collection) are visitors over it. */
#include "arch/arch.h"
#include "mm/s2.h"

#define DESC_VALID BIT(0)
#define DESC_TABLE BIT(1) /* at levels 0-2: table; at level 3: page */
#define DESC_ADDR GENMASK(47, 12)
#define DESC_MEMATTR_NORMAL (0xfULL << 2) /* Normal, inner/outer write-back (FWB off) */
#define DESC_MEMATTR_DEVICE (0x1ULL << 2) /* Device-nGnRE */
#define DESC_S2AP_R BIT(6)
#define DESC_S2AP_W BIT(7)
#define DESC_SH_INNER (3ULL << 8)
#define DESC_AF BIT(10)
#define DESC_DBM BIT(51)
#define DESC_XN BIT(54) /* XN[1:0] = 0b10: not executable at EL1 or EL0 */
#define DESC_ATTRS (GENMASK(11, 2) | DESC_DBM | GENMASK(54, 53))

static unsigned level_shift(int level) { return (unsigned)(12 + 9 * (3 - level)); }
static u64 level_size(int level) { return 1ULL << level_shift(level); }

static void write_desc(u64 *ptep, u64 v) { __atomic_store_n(ptep, v, __ATOMIC_RELAXED); }
static u64 read_desc(const u64 *ptep) { return __atomic_load_n(ptep, __ATOMIC_RELAXED); }

static bool is_table(u64 d, int level) { return level < 3 && (d & 3) == 3; }
static bool is_leaf(u64 d, int level) { return (d & DESC_VALID) && !is_table(d, level); }

/* Each permission and the descriptor bit that carries it (XN carries "not executable"). */
static const struct {
	unsigned prot;
	u64 desc;
	bool inverted;
} prot_bits[] = {
	{ S2_PROT_R, DESC_S2AP_R, false },
	{ S2_PROT_W, DESC_S2AP_W, false },
	{ S2_PROT_X, DESC_XN, true },
	{ S2_PROT_DBM, DESC_DBM, false },
};

static u64 prot_to_attrs(unsigned prot)
{
	u64 a = DESC_AF;

	a |= (prot & S2_PROT_DEVICE) ? DESC_MEMATTR_DEVICE : DESC_MEMATTR_NORMAL | DESC_SH_INNER;
	for (size_t i = 0; i < ARRAY_SIZE(prot_bits); i++)
		if (!(prot & prot_bits[i].prot) == prot_bits[i].inverted)
			a |= prot_bits[i].desc;
	return a;
}

static unsigned attrs_to_prot(u64 d)
{
	unsigned p = (d & GENMASK(5, 2)) == DESC_MEMATTR_DEVICE ? S2_PROT_DEVICE : 0;

	for (size_t i = 0; i < ARRAY_SIZE(prot_bits); i++)
		if (!(d & prot_bits[i].desc) == prot_bits[i].inverted)
			p |= prot_bits[i].prot;
	return p;
}

static u64 leaf_desc(u64 pa, unsigned prot, int level)
{
	return (pa & DESC_ADDR) | prot_to_attrs(prot) | DESC_VALID | (level == 3 ? DESC_TABLE : 0);
}

static u64 *table_va(const struct s2_pgtable *pgt, u64 d) { return pgt->mm->phys_to_virt(d & DESC_ADDR); }

static void owe(struct s2_flush *owed, u64 ipa, u64 size, int level)
{
	u64 start, end;

	if (!owed)
		return;
	if (!owed->pages) {
		*owed = (struct s2_flush){ ipa_init(ipa), size >> PAGE_SHIFT, level };
		return;
	}
	start = MIN(ipa_addr(owed->start), ipa);
	end = MAX(ipa_addr(owed->start) + (owed->pages << PAGE_SHIFT), ipa + size);
	owed->start = ipa_init(start);
	owed->pages = (end - start) >> PAGE_SHIFT;
	if (owed->level != level)
		owed->level = -1;
}

int s2_init(struct s2_pgtable *pgt, unsigned ia_bits, u16 vmid, const struct s2_mm_ops *mm,
	    void *mm_ctx, s2_bbm_flush_fn bbm, void *bbm_ctx)
{
	int level;
	u64 *root;

	if (ia_bits < 32 || ia_bits > 48)
		return FERRY_EINVAL;
	/* The deepest start level whose top table(s) cover ia_bits with at most 16 concatenated
	 * tables (Arm ARM D8.2.7: 4K granule, stage 2). */
	for (level = 2; level >= 0; level--)
		if (ia_bits - level_shift(level) <= 9 + 4)
			break;
	*pgt = (struct s2_pgtable){ .ia_bits = ia_bits, .start_level = (unsigned)level, .vmid = vmid,
				    .mm = mm, .mm_ctx = mm_ctx, .bbm = bbm, .bbm_ctx = bbm_ctx };
	pgt->root_pages = ia_bits - level_shift(level) > 9 ? 1u << (ia_bits - level_shift(level) - 9) : 1;
	/* This implementation keeps a single root table (no concatenation): 39-bit IPA at level 1. */
	if (pgt->root_pages != 1)
		return FERRY_ENOTSUP;
	root = mm->zalloc_page(mm_ctx);
	if (!root)
		return FERRY_ENOMEM;
	pgt->root = root;
	return 0;
}

static void free_table(struct s2_pgtable *pgt, u64 *table, int level)
{
	for (int i = 0; i < 512 && level < 3; i++)
		if (is_table(table[i], level))
			free_table(pgt, table_va(pgt, table[i]), level + 1);
	pgt->mm->free_page(pgt->mm_ctx, table);
}

void s2_destroy(struct s2_pgtable *pgt)
{
	if (pgt->root)
		free_table(pgt, pgt->root, (int)pgt->start_level);
	pgt->root = NULL;
	pgt->mm = NULL;
}

u64 s2_vttbr(const struct s2_pgtable *pgt)
{
	return pgt->mm->virt_to_phys(pgt->root) | ((u64)pgt->vmid << 48);
}

/* VTCR_EL2 (Arm ARM D19.2.179): T0SZ, SL0, inner/outer write-back, inner shareable, 4K, PS. VS (16-bit
 * VMIDs) when the VMID needs it; RES1 bit 31. */
u64 s2_vtcr(const struct s2_pgtable *pgt, unsigned pa_range_field)
{
	u64 sl0 = 2 - pgt->start_level; /* 4K: SL0 0 = level 2, 1 = level 1, 2 = level 0 */

	return BIT(31) | ((u64)MIN(pa_range_field, 6u) << 16) | (pgt->vmid > 255 ? BIT(19) : 0) |
	       (0ULL << 14) | (3ULL << 12) | (1ULL << 10) | (1ULL << 8) | (sl0 << 6) |
	       (64 - pgt->ia_bits);
}

/* ---- the walker ---- */
struct s2_walk;
/* Called for every entry that overlaps the range (valid or not), at the deepest level the visitor
 * lets the walk reach. Returns 0 to go on, S2_DESCEND to walk into the (now) table entry, or an
 * error. */
#define S2_DESCEND 1
typedef int (*s2_visit_fn)(struct s2_walk *w, u64 *ptep, int level, u64 ipa);
struct s2_walk {
	struct s2_pgtable *pgt;
	u64 start, end;
	s2_visit_fn visit;
	struct s2_flush *owed;
	u64 pa;          /* map: PA of w->start */
	unsigned prot;
	u64 *bitmap;     /* DBM collection */
	u64 base;
};

static int walk_table(struct s2_walk *w, u64 *table, int level, u64 table_ipa)
{
	u64 size = level_size(level);
	u64 first = MAX(w->start, table_ipa), last = MIN(w->end, table_ipa + 512 * size * (level == (int)w->pgt->start_level ? w->pgt->root_pages : 1));

	for (u64 ipa = ALIGN_DOWN(first, size); ipa < last; ipa += size) {
		u64 *ptep = &table[(ipa - table_ipa) >> level_shift(level)];
		int r = w->visit(w, ptep, level, ipa);

		if (r < 0)
			return r;
		if (r == S2_DESCEND && is_table(read_desc(ptep), level)) {
			r = walk_table(w, table_va(w->pgt, read_desc(ptep)), level + 1, ipa);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int walk(struct s2_walk *w)
{
	if (w->end <= w->start)
		return 0;
	if (w->end > (1ULL << w->pgt->ia_bits) || !IS_ALIGNED(w->start | w->end, PAGE_SIZE))
		return FERRY_ERANGE;
	return walk_table(w, w->pgt->root, (int)w->pgt->start_level, 0);
}

static bool covers(const struct s2_walk *w, u64 ipa, int level)
{
	return ipa >= w->start && ipa + level_size(level) <= w->end;
}

/* A new table of 512 entries that reproduces the block at *ptep (or stays empty for an invalid
 * entry), made visible before it is linked. */
static int new_table(struct s2_walk *w, u64 *ptep, int level, u64 **out)
{
	u64 d = read_desc(ptep), *t = w->pgt->mm->zalloc_page(w->pgt->mm_ctx);

	if (!t)
		return FERRY_ENOMEM;
	if (is_leaf(d, level)) {
		u64 step = level_size(level + 1), attrs = d & DESC_ATTRS & ~DESC_TABLE;

		for (u64 i = 0; i < 512; i++)
			t[i] = ((d & DESC_ADDR) + i * step) | attrs | DESC_VALID |
			       (level + 1 == 3 ? DESC_TABLE : 0);
	}
	/* The table's contents must be visible to walkers before the entry that points at it. */
	arch_dsb_ishst();
	*out = t;
	return 0;
}

/* Replaces a valid block by a table with the same mapping: break (invalid), flush, make. */
static int split_entry(struct s2_walk *w, u64 *ptep, int level, u64 ipa)
{
	u64 *t;
	int err = new_table(w, ptep, level, &t);

	if (err)
		return err;
	if (read_desc(ptep) & DESC_VALID) {
		write_desc(ptep, 0);
		if (w->pgt->bbm)
			w->pgt->bbm(w->pgt->bbm_ctx, ipa_init(ipa), level_size(level) >> PAGE_SHIFT, level);
	}
	write_desc(ptep, w->pgt->mm->virt_to_phys(t) | 3);
	return 0;
}

static int visit_map(struct s2_walk *w, u64 *ptep, int level, u64 ipa)
{
	u64 d = read_desc(ptep), pa = w->pa + (ipa - w->start);

	if (level >= 1 && covers(w, ipa, level) && IS_ALIGNED(pa, level_size(level))) {
		if (is_table(d, level))
			return S2_DESCEND; /* finer mappings there: remap each of them */
		if (d & DESC_VALID) {
			/* Changing a live mapping: break-before-make (Arm ARM D8.14.1). */
			write_desc(ptep, 0);
			if (w->pgt->bbm)
				w->pgt->bbm(w->pgt->bbm_ctx, ipa_init(ipa), level_size(level) >> PAGE_SHIFT,
					    level);
		}
		write_desc(ptep, leaf_desc(pa, w->prot, level));
		return 0;
	}
	if (!is_table(d, level)) {
		u64 *t;
		int err = d & DESC_VALID ? split_entry(w, ptep, level, ipa) : new_table(w, ptep, level, &t);

		if (err)
			return err;
		if (!(d & DESC_VALID))
			write_desc(ptep, w->pgt->mm->virt_to_phys(t) | 3);
	}
	return S2_DESCEND;
}

int s2_map(struct s2_pgtable *pgt, ipa_t ipa, pa_t pa, u64 size, unsigned prot, struct s2_flush *owed)
{
	struct s2_walk w = { .pgt = pgt, .start = ipa_addr(ipa), .end = ipa_addr(ipa) + size,
			     .visit = visit_map, .owed = owed, .pa = pa_addr(pa), .prot = prot };

	if (!IS_ALIGNED(pa_addr(pa), PAGE_SIZE))
		return FERRY_EINVAL;
	return walk(&w);
}

static int visit_unmap(struct s2_walk *w, u64 *ptep, int level, u64 ipa)
{
	u64 d = read_desc(ptep);

	if (!(d & DESC_VALID))
		return 0;
	if (is_table(d, level))
		return S2_DESCEND;
	if (!covers(w, ipa, level)) {
		int err = split_entry(w, ptep, level, ipa);

		return err ? err : S2_DESCEND;
	}
	write_desc(ptep, 0);
	owe(w->owed, ipa, level_size(level), level);
	return 0;
}

int s2_unmap(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed)
{
	struct s2_walk w = { .pgt = pgt, .start = ipa_addr(ipa), .end = ipa_addr(ipa) + size,
			     .visit = visit_unmap, .owed = owed };

	return walk(&w);
}

static int visit_protect(struct s2_walk *w, u64 *ptep, int level, u64 ipa)
{
	u64 d = read_desc(ptep), nd;
	unsigned old;

	if (!(d & DESC_VALID))
		return 0;
	if (is_table(d, level))
		return S2_DESCEND;
	if (!covers(w, ipa, level)) {
		int err = split_entry(w, ptep, level, ipa);

		return err ? err : S2_DESCEND;
	}
	old = attrs_to_prot(d);
	nd = leaf_desc(d & DESC_ADDR, (w->prot & ~S2_PROT_DEVICE) | (old & S2_PROT_DEVICE), level);
	if (nd == d)
		return 0;
	write_desc(ptep, nd);
	/* Removing a permission is a downgrade: cached entries may still allow it. Adding one (and DBM,
	 * which only lets the hardware add W) is not. */
	if (old & ~w->prot & (S2_PROT_R | S2_PROT_W | S2_PROT_X))
		owe(w->owed, ipa, level_size(level), level);
	return 0;
}

int s2_protect(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot, struct s2_flush *owed)
{
	struct s2_walk w = { .pgt = pgt, .start = ipa_addr(ipa), .end = ipa_addr(ipa) + size,
			     .visit = visit_protect, .owed = owed, .prot = prot };

	return walk(&w);
}

/* ---- split: batched break-before-make ----
 * Pass 1 builds, for every block in the range, a complete tree of 4K page tables with the same
 * mapping, and breaks the block: the invalid entry keeps the new table's address and a software
 * marker (hardware ignores every other bit of an invalid descriptor). One flush then covers every
 * broken block. Pass 2 turns each marked entry into a table entry. */
#define DESC_SW_STASHED BIT(55)

static int build_pages(struct s2_walk *w, u64 d, int level, u64 *table_pa)
{
	u64 *t = w->pgt->mm->zalloc_page(w->pgt->mm_ctx), step = level_size(level + 1);
	u64 attrs = d & DESC_ATTRS & ~DESC_TABLE;

	if (!t)
		return FERRY_ENOMEM;
	for (u64 i = 0; i < 512; i++) {
		u64 pa = (d & DESC_ADDR) + i * step;

		if (level + 1 == 3) {
			t[i] = pa | attrs | DESC_VALID | DESC_TABLE;
		} else {
			u64 sub;
			int err = build_pages(w, pa | attrs | DESC_VALID, level + 1, &sub);

			if (err) {
				/* Free what this table already holds; the block stays as it is. */
				for (u64 j = 0; j < i; j++)
					free_table(w->pgt, table_va(w->pgt, t[j]), level + 2);
				w->pgt->mm->free_page(w->pgt->mm_ctx, t);
				return err;
			}
			t[i] = sub | 3;
		}
	}
	*table_pa = w->pgt->mm->virt_to_phys(t);
	return 0;
}

static int visit_split_break(struct s2_walk *w, u64 *ptep, int level, u64 ipa)
{
	u64 d = read_desc(ptep), table_pa;
	int err;

	if (is_table(d, level))
		return S2_DESCEND;
	if (!is_leaf(d, level) || level == 3)
		return 0;
	err = build_pages(w, d, level, &table_pa);
	if (err)
		return err;
	arch_dsb_ishst(); /* the new tables are complete in memory before anything can point at them */
	write_desc(ptep, table_pa | DESC_SW_STASHED);
	owe(w->owed, ipa, level_size(level), level);
	return 0;
}

static int visit_split_make(struct s2_walk *w, u64 *ptep, int level, u64 ipa)
{
	u64 d = read_desc(ptep);

	(void)w;
	(void)ipa;
	if (is_table(d, level))
		return S2_DESCEND;
	if (!(d & DESC_VALID) && (d & DESC_SW_STASHED))
		write_desc(ptep, (d & DESC_ADDR) | 3);
	return 0;
}

int s2_split(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed)
{
	struct s2_flush broken = { 0 };
	struct s2_walk w = { .pgt = pgt, .start = ipa_addr(ipa), .end = ipa_addr(ipa) + size,
			     .visit = visit_split_break, .owed = &broken };
	int err = walk(&w), err2;

	(void)owed; /* the mapping is unchanged once made again: the BBM flush is all that is owed */
	if (broken.pages && pgt->bbm)
		pgt->bbm(pgt->bbm_ctx, broken.start, broken.pages, broken.level);
	/* Even after an error, every block broken so far is made again (as tables). */
	w.visit = visit_split_make;
	w.start = ipa_addr(broken.start);
	w.end = w.start + (broken.pages << PAGE_SHIFT);
	err2 = broken.pages ? walk(&w) : 0;
	return err ? err : err2;
}

/* ---- lookup ---- */
int s2_lookup(const struct s2_pgtable *pgt, ipa_t ipa, pa_t *pa, unsigned *prot, int *level)
{
	const u64 *table = pgt->root;
	u64 a = ipa_addr(ipa);

	if (!table || a >= (1ULL << pgt->ia_bits))
		return FERRY_ENOENT;
	for (int l = (int)pgt->start_level; l <= 3; l++) {
		u64 d = read_desc(&table[(a >> level_shift(l)) & (l == (int)pgt->start_level ?
								   512 * pgt->root_pages - 1 : 511)]);

		if (!(d & DESC_VALID))
			return FERRY_ENOENT;
		if (is_table(d, l)) {
			table = table_va(pgt, d);
			continue;
		}
		*pa = pa_init((d & DESC_ADDR) + (a & (level_size(l) - 1)));
		*prot = attrs_to_prot(d);
		*level = l;
		return 0;
	}
	return FERRY_ENOENT;
}

/* ---- hardware dirty state (FEAT_HAFDBS) ----
 * A descriptor with DBM set and S2AP[1] (write) set was made writable by the hardware on a write:
 * the page is dirty. Taking it means clearing the write permission again; the caller flushes. */
static int visit_dbm(struct s2_walk *w, u64 *ptep, int level, u64 ipa)
{
	u64 d = read_desc(ptep);

	if (is_table(d, level))
		return S2_DESCEND;
	if (!is_leaf(d, level) || !(d & DESC_DBM) || !(d & DESC_S2AP_W))
		return 0;
	if (level != 3)
		return FERRY_EINVAL; /* dirty logging splits everything to pages first */
	/* Atomically, so a concurrent hardware update of the same descriptor is never lost. */
	__atomic_fetch_and(ptep, ~DESC_S2AP_W, __ATOMIC_RELAXED);
	{
		u64 page = (ipa - w->base) >> PAGE_SHIFT;

		__atomic_fetch_or(&w->bitmap[page / 64], 1ULL << (page % 64), __ATOMIC_RELAXED);
	}
	return 0;
}

int s2_collect_dbm_dirty(struct s2_pgtable *pgt, ipa_t ipa, u64 size, u64 *bitmap, u64 base)
{
	struct s2_walk w = { .pgt = pgt, .start = ipa_addr(ipa), .end = ipa_addr(ipa) + size,
			     .visit = visit_dbm, .bitmap = bitmap, .base = base };

	return walk(&w);
}
