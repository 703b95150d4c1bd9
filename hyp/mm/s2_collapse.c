/* SPDX-License-Identifier: Apache-2.0 */
/* Dirty logging's stop in one pass: every 2 MiB of a range gets the given permissions, and a table
 * of 512 pages that maps one 2 MiB-aligned, contiguous run of PA with identical attributes becomes a
 * 2 MiB block again, so a finished or cancelled migration does not leave the guest on 4 KiB pages
 * for good. Tables that are not uniform keep their pages, with the permissions changed in place.
 *
 * Collapsing changes a live entry's leaf size, so it is break-before-make: the table entries are
 * made invalid (keeping the old table's address in the bits hardware ignores), ONE bbm flush
 * covers them and the pages downgraded in place (IPA invalidation also drops the walk-cache
 * entries of the old tables), then each block is written and the old table freed; nothing is
 * allocated, so nothing can fail half-way. Without a block to rebuild, downgrades are owed to
 * the caller as s2_protect's are. Shapes it does not handle (a range not 2 MiB aligned, 1 GiB
 * blocks, tables not at their physical address) return FERRY_ENOTSUP with nothing changed. */
#include "arch/arch.h"
#include "mm/s2.h"

#define STASH_OLD_TABLE BIT(59) /* in an invalid level-2 entry: the table the make frees */
#define PAGE_ATTRS (GENMASK(11, 2) | BIT(53))

/* The block that can replace table t, with perms, or 0 when its pages are not uniform. The access
 * flag may differ from page to page (the hardware sets it, or ferry on an access flag fault): the
 * block has it when any page has it. That is read again at the make, after the flush, when no
 * walk can set it any more (a migration's round 0 must never see a touched page as untouched). */
static u64 uniform_block(const u64 *t, u64 perms)
{
	u64 d0 = __atomic_load_n(&t[0], __ATOMIC_RELAXED);
	/* Address, type and attributes must line up; permissions may differ (they are replaced). */
	u64 keep = (S2_DESC_ADDR | PAGE_ATTRS | S2_DESC_VALID | S2_DESC_TABLE) &
		   ~(S2_DESC_PERMS | S2_DESC_AF);
	u64 want = d0 & keep, af = d0 & S2_DESC_AF;

	if ((d0 & 3) != 3 || !IS_ALIGNED(d0 & S2_DESC_ADDR, 1ULL << 21))
		return 0;
	for (unsigned i = 1; i < 512; i++) {
		want += PAGE_SIZE;
		u64 d = __atomic_load_n(&t[i], __ATOMIC_RELAXED);

		if ((d & keep) != want)
			return 0;
		af |= d & S2_DESC_AF;
	}
	return (d0 & (S2_DESC_ADDR | PAGE_ATTRS) & ~(S2_DESC_PERMS | S2_DESC_AF)) | perms | af |
	       S2_DESC_VALID;
}

/* Permissions in place (as s2_protect): true when one was lost. */
static bool protect_pages(u64 *t, u64 perms)
{
	bool downgraded = false;

	for (unsigned i = 0; i < 512; i++) {
		u64 d = __atomic_load_n(&t[i], __ATOMIC_RELAXED), n;

		do {
			n = (d & ~S2_DESC_PERMS) | perms;
			if (!(d & S2_DESC_VALID) || n == d)
				break;
		} while (!__atomic_compare_exchange_n(&t[i], &d, n, false, __ATOMIC_RELAXED,
						      __ATOMIC_RELAXED));
		if (!(d & S2_DESC_VALID) || n == d)
			continue;
		/* R, W or X lost, or DBM taken from a page that stays read-only. */
		downgraded = downgraded || (d & ~n & (S2_DESC_S2AP_R | S2_DESC_S2AP_W)) ||
			     (n & ~d & S2_DESC_XN) ||
			     ((d & ~n & S2_DESC_DBM) && !(n & S2_DESC_S2AP_W));
	}
	return downgraded;
}

int s2_protect_collapse(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot,
			struct s2_flush *owed, u64 *blocks)
{
	const u64 start = ipa_addr(ipa), end = start + size, perms = s2_prot_perm_bits(prot);
	const u64 step = 1ULL << 21;
	u64 lo = end, hi = start, broken = 0;
	bool hole, blocks_owed = false,
		   pages_owed = false; /* which leaf levels lost a permission */

	*blocks = 0;
	if (prot & ~(S2_PROT_RWX | S2_PROT_DBM))
		return FERRY_EINVAL;
	if (!pgt->root || !pgt->mm->identity || !IS_ALIGNED(start, step) ||
	    !IS_ALIGNED(size, step) || end < start || end > (1ULL << pgt->ia_bits))
		return FERRY_ENOTSUP;
	for (u64 a = start; a < end; a += step)
		if (!s2_l2_slot(pgt, a, &hole) && !hole)
			return FERRY_ENOTSUP;
	/* Break the uniform tables, change the rest in place. */
	for (u64 a = start; a < end; a += step) {
		u64 *slot = s2_l2_slot(pgt, a, &hole);
		u64 d = slot ? __atomic_load_n(slot, __ATOMIC_RELAXED) : 0;

		if (!(d & S2_DESC_VALID))
			continue;
		if (!(d & S2_DESC_TABLE)) { /* a block already: its permissions, in place */
			u64 n = (d & ~S2_DESC_PERMS) | perms;

			while (n != d &&
			       !__atomic_compare_exchange_n(slot, &d, n, false, __ATOMIC_RELAXED,
							    __ATOMIC_RELAXED))
				n = (d & ~S2_DESC_PERMS) | perms;
			if (n != d && ((d & ~n & (S2_DESC_S2AP_R | S2_DESC_S2AP_W | S2_DESC_DBM)) ||
				       (n & ~d & S2_DESC_XN))) {
				lo = MIN(lo, a);
				hi = MAX(hi, a + step);
				blocks_owed = true;
			}
			continue;
		}
		u64 *t = (u64 *)(uintptr_t)(d & S2_DESC_ADDR);

		if (uniform_block(t, perms)) {
			__atomic_store_n(slot, (d & S2_DESC_ADDR) | STASH_OLD_TABLE,
					 __ATOMIC_RELAXED);
			broken++;
		} else if (!protect_pages(t, perms)) {
			continue;
		} else {
			pages_owed = true;
		}
		lo = MIN(lo, a);
		hi = MAX(hi, a + step);
	}
	if (lo >= hi)
		return 0;
	if (!broken) {
		/* The level hint must match every leaf that lost a permission: a TTL of 3 would
		 * leave a downgraded 2 MiB block cached. */
		s2_flush_add(owed, ipa_init(lo), (hi - lo) >> PAGE_SHIFT,
			     blocks_owed && pages_owed ? -1
			     : blocks_owed             ? 2
						       : 3);
		return 0;
	}
	if (pgt->bbm)
		pgt->bbm(pgt->bbm_ctx, ipa_init(lo), (hi - lo) >> PAGE_SHIFT, -1);
	/* Make: each block from its old table's pages (still intact: only the entry pointing at it
	 * was broken), then the old table goes. */
	for (u64 a = lo; a < hi; a += step) {
		u64 *slot = s2_l2_slot(pgt, a, &hole);
		u64 d = slot ? __atomic_load_n(slot, __ATOMIC_RELAXED) : 0;

		if ((d & (STASH_OLD_TABLE | S2_DESC_VALID)) != STASH_OLD_TABLE)
			continue;
		u64 *t = (u64 *)(uintptr_t)(d & S2_DESC_ADDR);

		__atomic_store_n(slot, uniform_block(t, perms), __ATOMIC_RELAXED);
		pgt->mm->free_page(pgt->mm_ctx, t);
		pgt->tables--;
		(*blocks)++;
	}
	return 0;
}
