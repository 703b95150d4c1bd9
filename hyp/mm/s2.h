/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 page tables, 4 KiB granule: one generic walker with visitor callbacks; map, unmap,
 * protect, split, lookup and DBM dirty collection are small visitors over it. Pure code: hardware
 * only through arch/arch.h, so tests/unit builds it for the host. docs/stage2.md explains the
 * format and the rules.
 *
 * Concurrency: the caller serializes every call for one table (the VM's stage-2 lock). Other CPUs'
 * hardware walkers (and DBM/AF updates) run concurrently: every descriptor write is one 64-bit
 * single-copy-atomic store or atomic read-modify-write. */
#ifndef FERRY_S2_H
#define FERRY_S2_H

#include "types.h"

struct s2_mm_ops {
	void *(*zalloc_page)(void *ctx); /* a zeroed 4 KiB page, or NULL */
	void (*free_page)(void *ctx, void *page);
	u64 (*virt_to_phys)(void *va); /* at EL2 identity; on the host the pointer value */
	void *(*phys_to_virt)(u64 pa);
	/* phys_to_virt(pa) == pa (ferry's EL2 map): s2_leaf_ptr, on the write fault's fast path,
	 * works only then (it follows table addresses without a call). */
	bool identity;
};

/* A concatenated root (Arm ARM D8, "Concatenated translation tables": up to 16 tables side by side
 * at the initial stage-2 level) is npages (2..16, a power of two) contiguous zeroed pages aligned
 * to npages * 4 KiB. Needed when ia_bits is 32..34 (start level 2: 4, 8, 16 pages) or 40..43
 * (start level 1: 2, 4, 8, 16 pages). */
struct s2_root_ops {
	void *(*zalloc_pages)(void *ctx, unsigned npages);
	void (*free_pages)(void *ctx, void *pages, unsigned npages);
};

enum s2_prot_bits {
	S2_PROT_R = 1,
	S2_PROT_W = 2,
	S2_PROT_X = 4,
	S2_PROT_DEVICE = 8, /* Device-nGnRE, else Normal write-back */
	S2_PROT_DBM = 16,   /* descriptor DBM bit 51 (FEAT_HAFDBS): hardware may set S2AP write */
	/* s2_map only: the access flag clear, so that the first access sets it (the hardware with
	 * VTCR_EL2.HA, else ferry on the access flag fault). A leaf without it was never accessed
	 * since it was mapped: a migration skips such RAM in round 0 (docs/migration.md). */
	S2_PROT_UNTOUCHED = 32,
};
#define S2_PROT_RWX (S2_PROT_R | S2_PROT_W | S2_PROT_X)

/* The TLB maintenance a caller owes after a change: the IPA range whose cached entries are stale
 * and the level of the changed entries (-1 if mixed or unknown, e.g. a table entry). pages == 0:
 * nothing owed. Changing functions accumulate into it, merging into one covering range. */
struct s2_flush {
	ipa_t start;
	u64 pages;
	int level;
};
void s2_flush_add(struct s2_flush *owed, ipa_t start, u64 pages, int level);

/* Break-before-make: an invalidation (and its completion) between the break and the make. The page
 * table code calls it with the range of the entries it broke; the EL2 core plugs in
 * tlbi_flush_s2_range(). NULL means no CPU can be using the tables (not yet installed). */
typedef void (*s2_bbm_flush_fn)(void *ctx, ipa_t start, u64 pages, int level);

struct s2_pgtable {
	u64 *root;            /* root_pages concatenated tables at start_level */
	unsigned ia_bits;     /* IPA size: 32..48 */
	unsigned start_level; /* 0..2 */
	unsigned root_pages;  /* 1..16 */
	u16 vmid;
	const struct s2_mm_ops *mm;
	const struct s2_root_ops *root_ops; /* NULL unless root_pages > 1 */
	void *mm_ctx;
	s2_bbm_flush_fn bbm;
	void *bbm_ctx;
	u64 tables; /* table pages currently held, root included (statistics) */
};

/* Start level and root size for an IPA size: the deepest level whose initial lookup needs at most
 * 16 concatenated tables. 39 bits: level 1, 1 page; 40: level 1, 2 pages; 48: level 0, 1 page. */
int s2_start_level(unsigned ia_bits);
unsigned s2_root_pages(unsigned ia_bits);

/* An empty table for an IPA space of ia_bits (32..48). FERRY_ENOTSUP when the root must be
 * concatenated and root_ops is NULL (s2_init passes NULL). */
int s2_init(struct s2_pgtable *pgt, unsigned ia_bits, u16 vmid, const struct s2_mm_ops *mm,
	    void *mm_ctx, s2_bbm_flush_fn bbm, void *bbm_ctx);
int s2_init_concat(struct s2_pgtable *pgt, unsigned ia_bits, u16 vmid, const struct s2_mm_ops *mm,
		   const struct s2_root_ops *root_ops, void *mm_ctx, s2_bbm_flush_fn bbm,
		   void *bbm_ctx);
/* Frees every table. The caller first makes sure no CPU uses them (VMID flushed, VTTBR changed). */
void s2_destroy(struct s2_pgtable *pgt);
u64 s2_vttbr(const struct s2_pgtable *pgt); /* BADDR | VMID << 48 */
/* T0SZ, SL0, IRGN0/ORGN0 write-back write-allocate, SH0 inner, TG0 4K, PS (from PARange, capped at
 * 48 bits: 4K descriptors without FEAT_LPA2 hold 48-bit addresses), VS when vmid > 255, RES1
 * bit 31. HA/HD are the dirty-log code's. */
u64 s2_vtcr(const struct s2_pgtable *pgt, unsigned pa_range_field);

/* All ranges: ipa and size 4 KiB aligned, inside [0, 2^ia_bits) (else FERRY_EINVAL / FERRY_ERANGE);
 * size 0 changes nothing. Every changing call is all-or-nothing: tables are counted and allocated
 * first, so FERRY_ENOMEM leaves the tree (and *owed) exactly as it was. */

/* Maps [ipa, ipa+size) to [pa, pa+size), largest leaves first (1 GiB at level 1, 2 MiB at level 2,
 * where IPA, PA and size allow), collapsing existing tables a block replaces. Live entries it
 * changes go through break-before-make (one bbm flush for all of them), so it never adds to *owed.
 * S2_PROT_DEVICE with S2_PROT_X is refused (speculative instruction fetch from a device). */
int s2_map(struct s2_pgtable *pgt, ipa_t ipa, pa_t pa, u64 size, unsigned prot,
	   struct s2_flush *owed);
/* Removes every mapping in the range (a block only partly inside is split first, under BBM). The
 * removed leaves are owed. Empty tables stay linked (freeing them would need the caller's flush
 * first); s2_map reuses or collapses them, s2_destroy frees them. */
int s2_unmap(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed);
/* Sets the permissions (R, W, X, DBM; the memory type stays: S2_PROT_DEVICE is refused) of every
 * mapped leaf in the range, splitting a block only if the range covers part of it. A downgrade
 * (losing R, X or W, or DBM on a page that stays read-only) adds to *owed; a relaxation adds
 * nothing: a stale stricter TLB entry costs at most one more permission fault. */
int s2_protect(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot, struct s2_flush *owed);
/* Makes every mapping in the range a 4 KiB page with the same output and attributes. Batched: all
 * tables allocated first, then every block broken, ONE bbm flush for all of them, then the tables
 * linked. The translation is unchanged, so nothing is owed afterwards. */
int s2_split(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed);
/* s2_split then s2_protect(prot) in one pass (s2_split_protect.c): for dirty logging's start and
 * its gradual collections. The result, the all-or-nothing rule and the flushes are theirs (one bbm
 * flush covering the broken blocks and the pages downgraded in place when a block was split, else
 * the downgrades owed). When that bbm flush runs it also covers what *owed held on entry and empties
 * it: a caller's earlier downgrades need no flush of their own.
 * FERRY_ENOTSUP, with nothing changed, for shapes it leaves to them: a range not 2 MiB aligned, a
 * 1 GiB block, tables not mapped at their physical address (mm->identity). */
int s2_split_protect(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot,
		     struct s2_flush *owed);
/* s2_protect(prot) for dirty logging's stop, in one pass (s2_collapse.c), that also turns every
 * table of 512 pages mapping one 2 MiB-aligned contiguous PA run with equal attributes back into a
 * 2 MiB block (break-before-make: one bbm flush for all of them and the pages downgraded in place;
 * the old tables freed after it); *blocks counts them. Nothing is allocated. FERRY_ENOTSUP, with
 * nothing changed, for the shapes s2_split_protect leaves to the engine. */
int s2_protect_collapse(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot,
			struct s2_flush *owed, u64 *blocks);
/* pa of ipa (with the offset inside the leaf), its prot and the leaf's level; FERRY_ENOENT if
 * unmapped. */
int s2_lookup(const struct s2_pgtable *pgt, ipa_t ipa, pa_t *pa, unsigned *prot, int *level);
/* s2_leaf_ptr(), the leaf descriptor that maps an IPA, is defined with the descriptor helpers below:
 * inline, because the dirty-log write fault's fast path calls it from the exception vector. */

/* ---- the generic walker ----
 * s2_walk() visits, in IPA order, every entry that overlaps [ipa, ipa+size), descending table
 * entries. Which entries reach the callback is chosen by flags:
 *   S2_WALK_LEAF        valid block or page descriptors
 *   S2_WALK_INVALID     invalid entries, at the level where the walk meets them
 *   S2_WALK_TABLE_PRE   a table entry, before its table is walked
 *   S2_WALK_TABLE_POST  a table entry, after its table was walked
 * The callback returns 0 to go on, S2_WALK_SKIP to not walk into the entry's table (if it is one,
 * or became one in the callback: only the s2 operations link tables), or a negative error that ends
 * the walk and is returned.
 *
 * Rules for a visitor given to s2_walk() (the internal operations follow stricter ones of their
 * own):
 *  - it may change the permission bits of a leaf (S2AP, XN, DBM: s2_desc_update,
 *    s2_desc_clear_bits) or make a leaf invalid (s2_desc_write(ctx, 0)); it owes the TLB
 *    maintenance for what it downgraded (s2_flush_add with the leaf's range and level);
 *  - it must not change a valid leaf's output address, memory type, shareability or size, link or
 *    unlink tables, or free anything: those need break-before-make and the allocation discipline of
 *    s2_map/s2_unmap/s2_split;
 *  - a leaf may extend beyond the walked range (a block): ctx->ipa/ctx->level give its extent;
 *    s2_visit_inside() says whether it lies wholly in the range. Split first (s2_split) when a
 *    change must stop at the range's edge;
 *  - a leaf may be changed concurrently by the hardware (DBM sets S2AP write, never the reverse):
 *    read-modify-write only with s2_desc_update/s2_desc_clear_bits, which are atomic. */
enum s2_walk_flags {
	S2_WALK_LEAF = 1,
	S2_WALK_INVALID = 2,
	S2_WALK_TABLE_PRE = 4,
	S2_WALK_TABLE_POST = 8,
};
#define S2_WALK_SKIP 1

struct s2_visit_ctx {
	struct s2_pgtable *pgt;
	u64 *ptep; /* the entry */
	u64 desc;  /* its value when the walker read it */
	u64 ipa;   /* first IPA the entry translates (aligned to its size) */
	int level;
	enum s2_walk_flags why; /* which of the flags this call is for */
	u64 start, end;         /* the walked range */
	void *arg;
};
typedef int (*s2_visit_fn)(const struct s2_visit_ctx *ctx);
struct s2_walker {
	s2_visit_fn visit;
	unsigned flags; /* enum s2_walk_flags */
	void *arg;
};
int s2_walk(struct s2_pgtable *pgt, ipa_t ipa, u64 size, const struct s2_walker *w);

/* Descriptor format (Arm ARM D8, "Translation table descriptor formats" and "Stage 2 memory type
 * and Cacheability attributes"; 4K granule, FEAT_S2FWB and FEAT_LPA2 off). */
#define S2_DESC_VALID BIT(0)
#define S2_DESC_TABLE BIT(1) /* levels 0-2: table (else block); level 3: must be 1 (page) */
#define S2_DESC_ADDR GENMASK(47, 12)
#define S2_DESC_MEMATTR GENMASK(5, 2)
#define S2_DESC_MEMATTR_NORMAL_WB (0xfULL << 2) /* outer WB, inner WB */
#define S2_DESC_MEMATTR_DEVICE_NGNRE (0x1ULL << 2)
#define S2_DESC_S2AP_R BIT(6)
#define S2_DESC_S2AP_W BIT(7)
#define S2_DESC_SH_INNER (3ULL << 8)
#define S2_DESC_AF BIT(10)
#define S2_DESC_DBM BIT(51)
#define S2_DESC_XN BIT(54) /* XN[1:0] (bits 54:53) = 0b10: no execution at EL1 or EL0 */
#define S2_DESC_PERMS (S2_DESC_S2AP_R | S2_DESC_S2AP_W | S2_DESC_XN | S2_DESC_DBM)

static inline unsigned s2_level_shift(int level) { return (unsigned)(12 + 9 * (3 - level)); }
static inline u64 s2_level_size(int level) { return 1ULL << s2_level_shift(level); }
static inline bool s2_desc_valid(u64 d) { return d & S2_DESC_VALID; }
static inline bool s2_desc_is_table(u64 d, int level) { return level < 3 && (d & 3) == 3; }
static inline bool s2_desc_is_leaf(u64 d, int level)
{
	return s2_desc_valid(d) && !s2_desc_is_table(d, level);
}
static inline bool s2_visit_inside(const struct s2_visit_ctx *ctx)
{
	return ctx->ipa >= ctx->start && ctx->ipa + s2_level_size(ctx->level) <= ctx->end;
}
/* The leaf entry that maps ipa: its address, level and the descriptor read from it, or NULL when no
 * valid table leads to it. A level-3 entry is returned whatever it holds, even invalid: the caller
 * checks the valid and type bits along with the permission bits it wants. For callers that change
 * only permission bits of that leaf with an atomic update under the stage-2 lock: the dirty-log
 * write fault's fast path, called from the exception vector. So it is inline, unrolled from the
 * start level (every shift a constant), and calls nothing: it needs tables mapped at their
 * physical address (mm->identity), and returns NULL otherwise (callers then take their generic
 * path). */
static inline u64 *s2_leaf_ptr(const struct s2_pgtable *pgt, u64 ipa, int *level, u64 *desc)
{
	u64 *t = pgt->root, *p;
	u64 mask = 512ULL * pgt->root_pages - 1, d;

	if (!t || !pgt->mm->identity || ipa >> pgt->ia_bits)
		return NULL;
	switch (pgt->start_level) {
	case 0:
		d = __atomic_load_n(&t[(ipa >> 39) & mask], __ATOMIC_RELAXED);
		if ((d & 3) != 3)
			return NULL;
		t = (u64 *)(uintptr_t)(d & S2_DESC_ADDR);
		mask = 511;
		/* fallthrough */
	case 1:
		p = &t[(ipa >> 30) & mask];
		d = __atomic_load_n(p, __ATOMIC_RELAXED);
		if (!(d & S2_DESC_VALID))
			return NULL;
		if (!(d & S2_DESC_TABLE)) {
			*level = 1;
			*desc = d;
			return p;
		}
		t = (u64 *)(uintptr_t)(d & S2_DESC_ADDR);
		mask = 511;
		/* fallthrough */
	case 2:
		p = &t[(ipa >> 21) & mask];
		d = __atomic_load_n(p, __ATOMIC_RELAXED);
		if (!(d & S2_DESC_VALID))
			return NULL;
		if (!(d & S2_DESC_TABLE)) {
			*level = 2;
			*desc = d;
			return p;
		}
		t = (u64 *)(uintptr_t)(d & S2_DESC_ADDR);
		mask = 511;
		/* fallthrough */
	default:
		p = &t[(ipa >> 12) & mask];
		*level = 3;
		*desc = __atomic_load_n(p, __ATOMIC_RELAXED);
		return p;
	}
}

/* prot of a valid leaf, and the permission bits (S2_DESC_PERMS) for a prot. */
unsigned s2_desc_prot(u64 desc);
u64 s2_prot_perm_bits(unsigned prot);

/* Descriptor access for visitors: one 64-bit store; an atomic compare-and-swap from *old (false
 * when the entry changed meanwhile, e.g. the hardware set S2AP write: *old then holds the current
 * value, decide again); an atomic clear returning the value it replaced. */
void s2_desc_write(const struct s2_visit_ctx *ctx, u64 desc);
bool s2_desc_update(const struct s2_visit_ctx *ctx, u64 *old, u64 desc);
u64 s2_desc_clear_bits(const struct s2_visit_ctx *ctx, u64 bits);

/* ---- hardware dirty state (FEAT_HAFDBS), for dirty logging ----
 * A leaf with DBM set and S2AP write set was made writable by a write since it was cleaned. For
 * every such leaf in [ipa, ipa+size): clear S2AP write atomically (a concurrent hardware update is
 * never lost) and set the bits of its pages in bitmap (bit n = page base + n*4K, atomic OR). A
 * dirty block reports every page of it inside the range and is cleaned only when it lies wholly
 * inside (so pages outside the range are never lost, only reported again). The caller owes a flush
 * for every page reported before trusting the next collection (a cached writable entry bypasses
 * DBM). Returns 0 or an error (ipa below base: FERRY_EINVAL). */
int s2_collect_dbm_dirty(struct s2_pgtable *pgt, ipa_t ipa, u64 size, u64 *bitmap, u64 base);

/* For the one-pass engines (s2_split_protect.c, s2_collapse.c), on tables whose physical addresses
 * are their own (mm->identity): the level-2 entry covering a (2 MiB aligned), or NULL with *hole
 * set when nothing is mapped above it, or NULL with *hole clear for a level-0/1 block. */
u64 *s2_l2_slot(const struct s2_pgtable *pgt, u64 a, bool *hole);

#endif
