/* SPDX-License-Identifier: Apache-2.0 */
/* Dirty logging's start in one walk: every 2 MiB of a range becomes 512 pages with the given
 * permissions, whether it was a 2 MiB block (split into a new table built with the final
 * permissions) or already a table of pages (permissions changed in place). The generic engine
 * (s2_change.c) gets the same result from s2_split then s2_protect, at about 400 EL2 instructions
 * per page (two operations, each counting then applying, through the visitor walker); this loop
 * touches each page's descriptor once.
 *
 * The guarantees are the engine's:
 *   - all or nothing: every table the split needs is allocated before anything changes
 *     (FERRY_ENOMEM leaves the tables as they were);
 *   - break-before-make for every block: the new table is filled off-line, the block entry is made
 *     invalid (keeping the new table's address in the bits hardware ignores), ONE bbm flush covers
 *     every broken block, every page downgraded in place and what the caller owed on entry, then
 *     DSB ISHST and the table links;
 *   - a page downgraded in place is a compare-and-swap, and a block is broken with an exchange:
 *     the hardware may set a descriptor's access flag (VTCR_EL2.HA) or, with DBM, its write
 *     permission at any moment, and neither may be lost. A migration reads the access flag to know
 *     which RAM the guest never touched (docs/migration.md, "Round 0"): a flag dropped by a plain
 *     store here would hide a write made just before the arming, through the old entry.
 * Shapes it does not handle (a range not 2 MiB aligned, a 1 GiB block, a table not mapped at its
 * physical address) return FERRY_ENOTSUP before anything changes: the caller uses the engine. */
#include "arch/arch.h"
#include "mm/s2.h"

#define STASH_NEW_TABLE BIT(58) /* in an invalid level-2 entry: the table the make links */
#define SZ_2M_PAGES 512u

/* The level-3 table of 512 pages with perms: in place, owing what loses a permission. */
static bool protect_table(u64 *t, u64 perms)
{
	bool downgraded = false;

	for (unsigned i = 0; i < SZ_2M_PAGES; i++) {
		u64 d = __atomic_load_n(&t[i], __ATOMIC_RELAXED);
		u64 n = (d & ~S2_DESC_PERMS) | perms;

		if (!(d & S2_DESC_VALID) || n == d)
			continue;
		/* Losing R, W or X, or DBM (the hardware may have made the page writable meanwhile),
		 * leaves a more permissive entry cached somewhere. */
		downgraded = downgraded ||
			     (d & ~n & (S2_DESC_S2AP_R | S2_DESC_S2AP_W | S2_DESC_DBM)) ||
			     (n & ~d & S2_DESC_XN);
		while (!__atomic_compare_exchange_n(&t[i], &d, (d & ~S2_DESC_PERMS) | perms, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	return downgraded;
}

/* A new table of 512 pages for block v (never linked yet: plain stores). */
static void fill_table(u64 *t, u64 v, u64 perms)
{
	u64 d = (v & S2_DESC_ADDR) | (v & (GENMASK(11, 2) | BIT(53)) & ~S2_DESC_PERMS) | perms |
		S2_DESC_VALID | S2_DESC_TABLE;

	for (unsigned i = 0; i < SZ_2M_PAGES; i += 2, d += 2 * PAGE_SIZE) {
		t[i] = d;
		t[i + 1] = d + PAGE_SIZE;
	}
}

int s2_split_protect(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot,
		     struct s2_flush *owed)
{
	const u64 start = ipa_addr(ipa), end = start + size, perms = s2_prot_perm_bits(prot);
	const u64 step = 1ULL << 21;
	u64 *pool = NULL, blocks = 0, broken = 0, changed_lo = end, changed_hi = start;
	bool hole, in_place = false;
	int err = 0;

	if (prot & ~(S2_PROT_RWX | S2_PROT_DBM))
		return FERRY_EINVAL;
	if (!pgt->root || !pgt->mm->identity || !IS_ALIGNED(start, step) ||
	    !IS_ALIGNED(size, step) || end < start || end > (1ULL << pgt->ia_bits))
		return FERRY_ENOTSUP;
	/* Count: what each 2 MiB is, and how many tables the split takes. */
	for (u64 a = start; a < end; a += step) {
		u64 *slot = s2_l2_slot(pgt, a, &hole);

		if (!slot && !hole)
			return FERRY_ENOTSUP;
		if (slot) {
			u64 d = __atomic_load_n(slot, __ATOMIC_RELAXED);

			blocks += (d & (S2_DESC_VALID | S2_DESC_TABLE)) == S2_DESC_VALID;
		}
	}
	/* Allocate them all, linked through their first word, before anything changes. */
	for (u64 i = 0; i < blocks; i++) {
		u64 *t = pgt->mm->zalloc_page(pgt->mm_ctx);

		if (!t) {
			err = FERRY_ENOMEM;
			break;
		}
		t[0] = (u64)(uintptr_t)pool;
		pool = t;
	}
	if (err) {
		while (pool) {
			u64 *next = (u64 *)(uintptr_t)pool[0];

			pgt->mm->free_page(pgt->mm_ctx, pool);
			pool = next;
		}
		return err;
	}
	/* Break and protect: one pass over the range. */
	for (u64 a = start; a < end; a += step) {
		u64 *slot = s2_l2_slot(pgt, a, &hole);

		if (!slot)
			continue;
		u64 d = __atomic_load_n(slot, __ATOMIC_RELAXED);

		if (!(d & S2_DESC_VALID))
			continue;
		if (d & S2_DESC_TABLE) {
			if (!protect_table((u64 *)(uintptr_t)(d & S2_DESC_ADDR), perms))
				continue;
			in_place = true;
		} else {
			u64 *t = pool;

			pool = (u64 *)(uintptr_t)pool[0];
			/* The break first, by exchange: the table is filled from the block's last
			 * value, with the access flag the hardware may have set since the load. */
			d = __atomic_exchange_n(slot, (u64)(uintptr_t)t | STASH_NEW_TABLE,
						__ATOMIC_RELAXED);
			fill_table(t, d, perms);
			broken++;
		}
		changed_lo = MIN(changed_lo, a);
		changed_hi = MAX(changed_hi, a + step);
	}
	if (changed_lo >= changed_hi)
		return 0;
	u64 pages = (changed_hi - changed_lo) >> PAGE_SHIFT;

	/* No block broken: the in-place downgrades are the caller's to flush, as s2_protect's are.
	 * Otherwise ONE flush, before the make, covers the broken blocks and the downgrades (a
	 * covering range: invalidating more of the VM's IPAs than changed is always allowed). */
	if (!broken) {
		s2_flush_add(owed, ipa_init(changed_lo), pages, 3);
		return 0;
	}
	/* The level of what may be cached: the broken 2 MiB blocks, and pages if some were
	 * downgraded in place (mixed: no hint). What the caller already owed on entry (a dirty-log
	 * collection's re-protected pages) rides on the same flush: it is needed now anyway, and a
	 * second broadcast TLBI sequence is what the collection avoids (docs/dirty-logging.md). */
	struct s2_flush all = *owed;

	s2_flush_add(&all, ipa_init(changed_lo), pages, in_place ? -1 : 2);
	if (pgt->bbm) {
		pgt->bbm(pgt->bbm_ctx, all.start, all.pages, all.level);
		*owed = (struct s2_flush){ 0 };
	}
	/* Make: the new tables' contents before the links that publish them (Arm ARM D8, "Ordering
	 * of memory accesses from translation table walks"). */
	arch_dsb_ishst();
	for (u64 a = changed_lo; a < changed_hi; a += step) {
		u64 *slot = s2_l2_slot(pgt, a, &hole);
		u64 d = slot ? __atomic_load_n(slot, __ATOMIC_RELAXED) : 0;

		if ((d & (STASH_NEW_TABLE | S2_DESC_VALID)) != STASH_NEW_TABLE)
			continue;
		__atomic_store_n(slot, (d & S2_DESC_ADDR) | S2_DESC_VALID | S2_DESC_TABLE,
				 __ATOMIC_RELAXED);
		pgt->tables++;
	}
	return 0;
}
