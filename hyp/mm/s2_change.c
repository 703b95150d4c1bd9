/* SPDX-License-Identifier: Apache-2.0 */
/* The operations that change stage-2 mappings: map, unmap, protect, split. All four are one engine,
 * three walks over the generic walker (s2_walk.c) with a per-operation rule for each entry:
 *
 *   count   decide what every entry in the range becomes and count the tables that takes;
 *           allocate them all (FERRY_ENOMEM here: nothing changed yet);
 *   break   change in place what may change in place (permissions, removal: owed to the caller),
 *           and make invalid every live entry that needs break-before-make (a new output address,
 *           a block to split, a table to collapse), keeping in the invalid entry what the make
 *           needs (hardware ignores bits [63:1] of an invalid descriptor: Arm ARM D8,
 *           "Translation table descriptor formats");
 *   flush   ONE bbm flush covering every broken entry (Arm ARM D8, "Using break-before-make when
 *           updating translation table entries": the old entry must be gone from every TLB before
 *           a different one for the same IPA, or one of another size, is written);
 *   make    build each new subtree off-line from the prepared tables, DSB ISHST, link it.
 *
 * The caller holds the VM's stage-2 lock, so only hardware (DBM setting S2AP write) changes entries
 * concurrently; every read-modify-write of a live leaf is atomic, and a leaf the hardware dirties
 * between the count and the break is handled in visit_break(). */
#include "arch/arch.h"
#include "lib/check.h"
#include "mm/s2.h"

/* Software bits of invalid entries left by the break walk. */
#define STASH_LEAF BIT(56)  /* the old leaf, VALID cleared: the make rebuilds what stays of it */
#define STASH_TABLE BIT(57) /* the address of a table replaced by a block: freed by the make */
#define LEAF_ATTRS (GENMASK(11, 2) | S2_DESC_DBM | GENMASK(54, 53))

enum change_kind {
	CH_MAP,
	CH_UNMAP,
	CH_PROTECT,
	CH_SPLIT
};

struct change {
	struct s2_pgtable *pgt;
	enum change_kind kind;
	u64 start, end;
	u64 pa;    /* map: output address of start */
	u64 attrs; /* map: leaf attributes; protect: permission bits (S2_DESC_PERMS) */
	u64 *pool; /* prepared zeroed tables, linked through their first word */
	u64 pool_len;
	u64 needed;   /* tables the count found */
	u64 reserved; /* tables the breaks so far will take in the make */
	struct s2_flush broken;
	struct s2_flush *owed;
};

enum fate {
	KEEP,
	IN_PLACE,
	BREAK,
	BREAK_STASH
};

static u64 level_bits(int level) { return S2_DESC_VALID | (level == 3 ? S2_DESC_TABLE : 0); }

/* The descriptor for the part [a, a + size(level)) of leaf v, which starts at v_ipa. */
static u64 leaf_piece(u64 v, u64 v_ipa, u64 a, int level)
{
	return (((v & S2_DESC_ADDR) + (a - v_ipa)) & S2_DESC_ADDR) | (v & LEAF_ATTRS) |
	       level_bits(level);
}

static bool overlaps(const struct change *ch, u64 a, int level)
{
	return a < ch->end && a + s2_level_size(level) > ch->start;
}

static bool inside(const struct change *ch, u64 a, int level)
{
	return a >= ch->start && a + s2_level_size(level) <= ch->end;
}

/* What the entry [a, a+size(level)), wholly inside the range and holding v (a leaf for exactly this
 * extent, or 0), becomes if one leaf (or nothing) can express it: true and *d, or false when it
 * needs a table. */
static bool leaf_for(const struct change *ch, u64 v, u64 a, int level, u64 *d)
{
	u64 out;

	switch (ch->kind) {
	case CH_MAP:
		out = ch->pa + (a - ch->start);
		/* Blocks exist at levels 1 and 2 only with the 4K granule (no FEAT_LPA2). */
		if (level == 0 || !IS_ALIGNED(out, s2_level_size(level)))
			return false;
		*d = out | ch->attrs | level_bits(level);
		return true;
	case CH_UNMAP:
		*d = 0;
		return true;
	case CH_PROTECT:
		*d = s2_desc_valid(v) ? (v & ~S2_DESC_PERMS) | ch->attrs : 0;
		return true;
	case CH_SPLIT:
		*d = v;
		return level == 3 || !s2_desc_valid(v);
	}
	return false;
}

/* Losing R, X or W, or DBM on a page that stays read-only (the hardware could have made it
 * writable), leaves cached entries more permissive than the descriptor. */
static bool downgrade(u64 old, u64 new)
{
	u64 lost = old & ~new;

	return (lost & (S2_DESC_S2AP_R | S2_DESC_S2AP_W)) || ((new & ~old) & S2_DESC_XN) ||
	       ((lost & S2_DESC_DBM) && !(new &S2_DESC_S2AP_W));
}

/* The fate of a valid leaf old at [a, a+size(level)) in the range. */
static enum fate leaf_fate(const struct change *ch, u64 old, u64 a, int level, u64 *new)
{
	if (inside(ch, a, level) && leaf_for(ch, old, a, level, new)) {
		if (*new == old)
			return KEEP;
		if (ch->kind == CH_UNMAP || ch->kind == CH_PROTECT)
			return IN_PLACE;
		return BREAK; /* map: a different leaf in the make; the old content is not needed */
	}
	if (ch->kind == CH_MAP) {
		/* Already this translation over the whole overlap: nothing to do. */
		if ((old & LEAF_ATTRS) == ch->attrs &&
		    (old & S2_DESC_ADDR) - a == ch->pa - ch->start)
			return KEEP;
		return inside(ch, a, level) ? BREAK : BREAK_STASH;
	}
	if (ch->kind == CH_PROTECT && ((old & ~S2_DESC_PERMS) | ch->attrs) == old)
		return KEEP; /* part of a block, but the permissions already match */
	return BREAK_STASH;
}

/* ---- tables: the pool prepared by the count, linking, freeing ---- */

static u64 *pool_take(struct change *ch)
{
	u64 *t = ch->pool;

	if (!t)
		return NULL;
	ch->pool = (u64 *)(uintptr_t)t[0];
	t[0] = 0;
	ch->pool_len--;
	ch->pgt->tables++;
	return t;
}

static void pool_release(struct change *ch)
{
	while (ch->pool) {
		u64 *t = ch->pool;

		ch->pool = (u64 *)(uintptr_t)t[0];
		t[0] = 0;
		ch->pgt->mm->free_page(ch->pgt->mm_ctx, t);
	}
	ch->pool_len = 0;
}

static void free_subtree(struct s2_pgtable *pgt, u64 *table, int level)
{
	for (int i = 0; i < 512 && level < 3; i++)
		if (s2_desc_is_table(table[i], level))
			free_subtree(pgt, pgt->mm->phys_to_virt(table[i] & S2_DESC_ADDR),
				     level + 1);
	pgt->mm->free_page(pgt->mm_ctx, table);
	pgt->tables--;
}

static void store_desc(u64 *ptep, u64 d) { __atomic_store_n(ptep, d, __ATOMIC_RELAXED); }
static u64 xchg_desc(u64 *ptep, u64 d) { return __atomic_exchange_n(ptep, d, __ATOMIC_RELAXED); }

/* ---- building a subtree (and counting what it takes) ----
 * v is what the entry [a, a+size(level)) translated before (a leaf for exactly this extent, or 0).
 * Entries outside the range keep v's translation; entries inside get the operation's. */

static u64 child_piece(u64 v, u64 a, int level, u64 i)
{
	return s2_desc_valid(v) ? leaf_piece(v, a, a + i * s2_level_size(level + 1), level + 1) : 0;
}

/* Whether the entry needs a table; if not, *d is what it becomes. */
static bool needs_table(const struct change *ch, u64 v, u64 a, int level, u64 *d)
{
	*d = v;
	if (!overlaps(ch, a, level))
		return false; /* outside the range: keeps its translation */
	if (inside(ch, a, level))
		return !leaf_for(ch, v, a, level, d);
	/* Partly inside: a table, unless there was nothing and nothing is being mapped. */
	*d = 0;
	return s2_desc_valid(v) || ch->kind == CH_MAP;
}

static u64 count_build(const struct change *ch, u64 v, u64 a, int level)
{
	u64 d, n = 1, inside_count = 0, cs = s2_level_size(level + 1);
	bool have_inside = false;

	if (!needs_table(ch, v, a, level, &d))
		return 0;
	for (u64 i = 0; i < 512; i++) {
		u64 ca = a + i * cs;

		if (!inside(ch, ca, level + 1)) {
			n += count_build(ch, child_piece(v, a, level, i), ca, level + 1);
		} else {
			/* Every child inside the range has the same shape (the offset between IPA
			 * and output, and v's attributes, are the same for all): count one. */
			if (!have_inside)
				inside_count =
					count_build(ch, child_piece(v, a, level, i), ca, level + 1);
			have_inside = true;
			n += inside_count;
		}
	}
	return n;
}

static u64 build(struct change *ch, u64 v, u64 a, int level)
{
	u64 d, *t, cs = s2_level_size(level + 1);

	if (!needs_table(ch, v, a, level, &d))
		return d;
	t = pool_take(ch);
	CHECK(t); /* every break reserved what its make takes */
	for (u64 i = 0; i < 512; i++)
		t[i] = build(ch, child_piece(v, a, level, i), a + i * cs, level + 1);
	return ch->pgt->mm->virt_to_phys(t) | S2_DESC_VALID | S2_DESC_TABLE;
}

/* ---- the three walks ---- */

static bool map_collapses(const struct change *ch, const struct s2_visit_ctx *ctx)
{
	u64 d;

	return ch->kind == CH_MAP && inside(ch, ctx->ipa, ctx->level) &&
	       leaf_for(ch, 0, ctx->ipa, ctx->level, &d);
}

static int visit_count(const struct s2_visit_ctx *ctx)
{
	struct change *ch = ctx->arg;
	u64 new;
	enum fate f;

	switch (ctx->why) {
	case S2_WALK_TABLE_PRE:
		return map_collapses(ch, ctx) ? S2_WALK_SKIP : 0;
	case S2_WALK_INVALID:
		ch->needed += count_build(ch, 0, ctx->ipa, ctx->level);
		return 0;
	default:
		break;
	}
	f = leaf_fate(ch, ctx->desc, ctx->ipa, ctx->level, &new);
	if (f == BREAK || f == BREAK_STASH)
		ch->needed +=
			count_build(ch, f == BREAK_STASH ? ctx->desc : 0, ctx->ipa, ctx->level);
	return 0;
}

static int visit_break(const struct s2_visit_ctx *ctx)
{
	struct change *ch = ctx->arg;
	u64 old = ctx->desc, new, need;
	u64 pages = s2_level_size(ctx->level) >> PAGE_SHIFT;
	enum fate f;

	if (ctx->why == S2_WALK_TABLE_PRE) {
		if (!map_collapses(ch, ctx))
			return 0;
		/* The table's walk-cache entries and every leaf below it are flushed (level
		 * unknown: leaves of several levels may hang below). */
		store_desc(ctx->ptep, (old & S2_DESC_ADDR) | STASH_TABLE);
		s2_flush_add(&ch->broken, ipa_init(ctx->ipa), pages, -1);
		return S2_WALK_SKIP;
	}
	for (;;) {
		f = leaf_fate(ch, old, ctx->ipa, ctx->level, &new);
		if (f == KEEP)
			return 0;
		if (f != IN_PLACE)
			break;
		if (s2_desc_update(ctx, &old, new)) {
			if (!s2_desc_valid(new) || downgrade(old, new))
				s2_flush_add(ch->owed, ipa_init(ctx->ipa), pages, ctx->level);
			return 0;
		}
		/* The hardware changed the leaf (DBM): decide again from what it holds now. */
	}
	need = count_build(ch, f == BREAK_STASH ? old : 0, ctx->ipa, ctx->level);
	if (ch->reserved + need > ch->pool_len) {
		/* The count found nothing to do here, and since then the hardware set S2AP write
		 * on this DBM leaf. Leaving it is the same as that write coming just after this
		 * operation, which it may: the caller's lock does not order the hardware. */
		if ((old & S2_DESC_DBM) &&
		    leaf_fate(ch, old & ~S2_DESC_S2AP_W, ctx->ipa, ctx->level, &new) == KEEP)
			return 0;
		CHECK(ch->reserved + need <= ch->pool_len); /* the count fell short: a bug here */
	}
	ch->reserved += need;
	old = xchg_desc(ctx->ptep, f == BREAK_STASH ? STASH_LEAF : 0);
	if (f == BREAK_STASH) /* the exact last value, hardware updates included */
		store_desc(ctx->ptep, (old & ~S2_DESC_VALID) | STASH_LEAF);
	s2_flush_add(&ch->broken, ipa_init(ctx->ipa), pages, ctx->level);
	return 0;
}

static int visit_make(const struct s2_visit_ctx *ctx)
{
	struct change *ch = ctx->arg;
	u64 d = ctx->desc, v = 0, new;

	if (d & STASH_TABLE)
		free_subtree(ch->pgt, ch->pgt->mm->phys_to_virt(d & S2_DESC_ADDR), ctx->level + 1);
	else if (d & STASH_LEAF)
		v = (d & ~STASH_LEAF) | S2_DESC_VALID;
	else if (ch->kind != CH_MAP)
		return 0; /* an entry that was invalid stays so */
	new = build(ch, v, ctx->ipa, ctx->level);
	if (s2_desc_is_table(new, ctx->level))
		/* The new tables' contents (and their zeroing by the allocator) must be visible to
		 * every walker before the entry that leads to them (Arm ARM D8, "Ordering of memory
		 * accesses from translation table walks"): DSB ISHST, then the one store that
		 * publishes. */
		arch_dsb_ishst();
	if (new != d)
		store_desc(ctx->ptep, new);
	return S2_WALK_SKIP; /* what build() made is complete */
}

static int change_run(struct change *ch)
{
	struct s2_pgtable *pgt = ch->pgt;
	ipa_t ipa = ipa_init(ch->start);
	u64 size = ch->end - ch->start;
	const struct s2_walker count = {
		visit_count,
		S2_WALK_LEAF | (ch->kind == CH_MAP ? S2_WALK_INVALID | S2_WALK_TABLE_PRE : 0), ch
	};
	const struct s2_walker brk = { visit_break,
				       S2_WALK_LEAF | (ch->kind == CH_MAP ? S2_WALK_TABLE_PRE : 0),
				       ch };
	const struct s2_walker make = { visit_make, S2_WALK_INVALID, ch };
	int err;

	if (!pgt->root)
		return FERRY_EINVAL;
	if (!IS_ALIGNED(ch->start | size, PAGE_SIZE))
		return FERRY_EINVAL;
	if (ch->end < ch->start || ch->end > (1ULL << pgt->ia_bits))
		return FERRY_ERANGE;
	if (!size)
		return 0;
	err = s2_walk(pgt, ipa, size, &count);
	if (err)
		return err;
	while (ch->pool_len < ch->needed) {
		u64 *t = pgt->mm->zalloc_page(pgt->mm_ctx);

		if (!t) {
			pool_release(ch);
			return FERRY_ENOMEM;
		}
		t[0] = (u64)(uintptr_t)ch->pool;
		ch->pool = t;
		ch->pool_len++;
	}
	/* From here on nothing can fail: the tables are in hand (a miscount is a CHECK). */
	err = s2_walk(pgt, ipa, size, &brk);
	if (ch->broken.pages && pgt->bbm)
		pgt->bbm(pgt->bbm_ctx, ch->broken.start, ch->broken.pages, ch->broken.level);
	if (ch->broken.pages || (ch->kind == CH_MAP && !err))
		(void)s2_walk(pgt, ipa, size, &make);
	pool_release(ch);
	return err;
}

/* ---- the public operations ---- */

int s2_map(struct s2_pgtable *pgt, ipa_t ipa, pa_t pa, u64 size, unsigned prot,
	   struct s2_flush *owed)
{
	struct change ch = { .pgt = pgt,
			     .kind = CH_MAP,
			     .start = ipa_addr(ipa),
			     .end = ipa_addr(ipa) + size,
			     .pa = pa_addr(pa),
			     .owed = owed };

	if (!IS_ALIGNED(pa_addr(pa), PAGE_SIZE) ||
	    (prot & ~(S2_PROT_RWX | S2_PROT_DEVICE | S2_PROT_DBM | S2_PROT_UNTOUCHED)))
		return FERRY_EINVAL;
	/* Output addresses are 48 bits with the 4K granule and no FEAT_LPA2. */
	if (size && (pa_addr(pa) + size < pa_addr(pa) || pa_addr(pa) + size - 1 > GENMASK(47, 0)))
		return FERRY_ERANGE;
	if ((prot & S2_PROT_DEVICE) && (prot & S2_PROT_X))
		return FERRY_EINVAL;
	ch.attrs = ((prot & S2_PROT_UNTOUCHED) ? 0 : S2_DESC_AF) | s2_prot_perm_bits(prot) |
		   ((prot & S2_PROT_DEVICE) ? S2_DESC_MEMATTR_DEVICE_NGNRE
					    : S2_DESC_MEMATTR_NORMAL_WB | S2_DESC_SH_INNER);
	return change_run(&ch);
}

/* A change that needs no attributes: an unmap or a split. */
static int change_range(struct s2_pgtable *pgt, enum change_kind kind, ipa_t ipa, u64 size,
			struct s2_flush *owed)
{
	struct change ch = { .pgt = pgt,
			     .kind = kind,
			     .start = ipa_addr(ipa),
			     .end = ipa_addr(ipa) + size,
			     .owed = owed };

	return change_run(&ch);
}

int s2_unmap(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed)
{
	return change_range(pgt, CH_UNMAP, ipa, size, owed);
}

int s2_protect(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot, struct s2_flush *owed)
{
	struct change ch = { .pgt = pgt,
			     .kind = CH_PROTECT,
			     .start = ipa_addr(ipa),
			     .end = ipa_addr(ipa) + size,
			     .attrs = s2_prot_perm_bits(prot),
			     .owed = owed };

	if (prot & ~(S2_PROT_RWX | S2_PROT_DBM))
		return FERRY_EINVAL;
	return change_run(&ch);
}

int s2_split(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed)
{
	return change_range(pgt, CH_SPLIT, ipa, size, owed);
}
