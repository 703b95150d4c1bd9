/* SPDX-License-Identifier: Apache-2.0 */
#include "mm/dirty.h"

#include "lib/bitmap.h"
#include "lib/range.h"

#ifndef FERRY_DIRTY_SKIP_COLLECT_FLUSH
#define FERRY_DIRTY_SKIP_COLLECT_FLUSH 0
#endif

#define PROT_RX (S2_PROT_R | S2_PROT_X)
#define PROT_RWX (S2_PROT_R | S2_PROT_W | S2_PROT_X)

const char *dirty_mode_name(enum dirty_mode mode)
{
	switch (mode) {
	case DIRTY_WP:
		return "wp";
	case DIRTY_DBM:
		return "dbm";
	default:
		return "off";
	}
}

/* Everything a downgrade left stale goes to the sanitizer first, then one planned flush. */
static void flush_owed(struct dirty_log *dl, const struct s2_flush *owed)
{
	if (!owed->pages)
		return;
	tlbi_san_downgrade(dl->vmid, owed->start, owed->pages);
	tlbi_flush_s2_range(&dl->caps, dl->vmid, owed->start, owed->pages, owed->level);
	dl->flushes++;
}

/* Arms pages [from, from + n) (write-protect, with DBM in hardware mode): split and protect in one
 * pass when the range allows (its one bbm flush also covers what *owed held), else the engine: split
 * first, so every later change is per page, then protect. */
static int arm_range(struct dirty_log *dl, struct s2_pgtable *s2, u64 from, u64 n,
		     struct s2_flush *owed)
{
	ipa_t ipa = ipa_init(dl->base + (from << PAGE_SHIFT));
	u64 size = n << PAGE_SHIFT;
	unsigned prot = dl->mode == DIRTY_DBM ? PROT_RX | S2_PROT_DBM : PROT_RX;
	u64 tables = s2->tables;
	int err = s2_split_protect(s2, ipa, size, prot, owed);

	if (err == FERRY_ENOTSUP) {
		err = s2_split(s2, ipa, size, owed);
		if (!err)
			err = s2_protect(s2, ipa, size, prot, owed);
	}
	/* A table linked means a block was broken: its break-before-make flush ran. */
	if (s2->tables != tables)
		dl->flushes++;
	return err;
}

/* A fresh log of npages from base, nothing armed and nothing owed yet. */
static void dirty_log_init(struct dirty_log *dl, const struct tlbi_caps *caps, u16 vmid,
			   enum dirty_mode mode, u64 base, u64 npages, u64 *bitmap)
{
	*dl = (struct dirty_log){ .mode = mode,
				  .base = base,
				  .npages = npages,
				  .bitmap = bitmap,
				  .vmid = vmid,
				  .caps = *caps };
}

int dirty_log_start(struct dirty_log *dl, struct s2_pgtable *s2, const struct tlbi_caps *caps,
		    u16 vmid, enum dirty_mode mode, u64 base, u64 npages, u64 *bitmap)
{
	struct s2_flush owed = { 0 };
	int err;

	if (mode != DIRTY_WP && mode != DIRTY_DBM)
		return FERRY_EINVAL;
	dirty_log_init(dl, caps, vmid, mode, base, npages, bitmap);
	dl->armed = npages;
	/* All of RAM in one pass (one bbm flush covering the split and the downgrades when a block
	 * was split), unless its shape sends it to the engine. */
	err = arm_range(dl, s2, 0, npages, &owed);
	flush_owed(dl, &owed);
	if (err)
		dl->mode = DIRTY_OFF;
	return err;
}

int dirty_log_start_gradual(struct dirty_log *dl, const struct tlbi_caps *caps, u16 vmid,
			    enum dirty_mode mode, u64 base, u64 npages, u64 *bitmap, u64 chunk)
{
	if ((mode != DIRTY_WP && mode != DIRTY_DBM) || !chunk)
		return FERRY_EINVAL;
	/* Nothing is protected, so nothing is owed: the guest keeps its writable mappings (and its
	 * 2 MiB blocks) until a collection arms their chunk. */
	dirty_log_init(dl, caps, vmid, mode, base, npages, bitmap);
	dl->chunk = chunk;
	return 0;
}

int dirty_log_handle_fault(struct dirty_log *dl, struct s2_pgtable *s2, ipa_t at)
{
	u64 ipa = ipa_addr(at);
	struct s2_flush owed = { 0 };
	u64 page;
	int err;

	if (dl->mode != DIRTY_WP || ipa < dl->base || ipa - dl->base >= dl->npages << PAGE_SHIFT)
		return FERRY_ENOENT;
	page = (ipa - dl->base) >> PAGE_SHIFT;
	dl->faults++;
	/* Another vCPU may have faulted on the same page first: the bit is set once, and making a
	 * writable page writable again changes nothing. */
	if (bitmap_set_atomic(dl->bitmap, page))
		dl->spurious++;
	err = s2_protect(s2, ipa_init(ALIGN_DOWN(ipa, PAGE_SIZE)), PAGE_SIZE, PROT_RWX, &owed);
	/* A pure relaxation owes nothing: a stale read-only entry costs at most one more fault, which
	 * lands here again and changes nothing. */
	return err;
}

u64 dirty_log_note_write(struct dirty_log *dl, u64 ipa, u64 len)
{
	u64 first, last;

	if (dl->mode == DIRTY_OFF ||
	    !range_granules(dl->base, dl->npages, PAGE_SHIFT, ipa, len, &first, &last))
		return 0;
	/* Release: whoever takes a bit (a collection, then the migration's read of the page) must
	 * find the bytes written before it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	bitmap_fill_range_atomic(dl->bitmap, first, last - first + 1);
	dl->noted += last - first + 1;
	return last - first + 1;
}

/* Adds [start, start + pages) to what a collection owes, as one covering range. */
static void owe_range(struct s2_flush *owed, u64 start, u64 pages)
{
	u64 end = start + (pages << PAGE_SHIFT);

	if (owed->pages) {
		u64 s0 = ipa_addr(owed->start), e0 = s0 + (owed->pages << PAGE_SHIFT);

		start = MIN(start, s0);
		end = MAX(end, e0);
	}
	*owed = (struct s2_flush){ ipa_init(start), (end - start) >> PAGE_SHIFT, 3 };
}

s64 dirty_log_collect(struct dirty_log *dl, struct s2_pgtable *s2, u64 first, u64 count, u64 *out)
{
	struct s2_flush owed = { 0 };
	u64 end, tracked, taken = 0, p;
	int err = 0;

	if (dl->mode == DIRTY_OFF)
		return FERRY_EINVAL;
	if (first > dl->npages || count > dl->npages - first)
		return FERRY_ERANGE;
	end = first + count;
	/* [first, tracked): armed pages, whose writes the bits (or the descriptors) recorded. */
	tracked = MAX(first, MIN(end, dl->armed));
	if (dl->mode == DIRTY_DBM && tracked > first) {
		/* The hardware recorded writes in the descriptors: move them into the bitmap, making
		 * those descriptors read-only again in the same walk. */
		u64 t0 = dl->clock ? dl->clock() : 0;

		err = s2_collect_dbm_dirty(s2, ipa_init(dl->base + (first << PAGE_SHIFT)),
					   (tracked - first) << PAGE_SHIFT, dl->bitmap, dl->base);
		if (dl->clock)
			dl->scan_insns += dl->clock() - t0;
		dl->scan_pages += tracked - first;
		if (err)
			return err;
	}
	/* Take the bits run by run and write-protect each run again (DBM: the scan already did).
	 * A write after the take and before the flush below goes to a page reported now; a write
	 * after the flush faults (or, with DBM, is seen by the next scan). */
	for (p = bitmap_next_set(dl->bitmap, tracked, first); p < tracked && !err;) {
		u64 q = bitmap_next_clear(dl->bitmap, tracked, p);

		taken += bitmap_take_range(dl->bitmap, out, p, q - p);
		if (dl->mode == DIRTY_WP)
			err = s2_protect(s2, ipa_init(dl->base + (p << PAGE_SHIFT)),
					 (q - p) << PAGE_SHIFT, PROT_RX, &owed);
		else
			owe_range(&owed, dl->base + (p << PAGE_SHIFT), q - p);
		p = bitmap_next_set(dl->bitmap, tracked, q);
	}
	/* After a gradual start: pages never armed are all reported (any of them may have been
	 * written: nothing recorded it), and the next chunk of them is armed now. A write to a page
	 * of that chunk before the flush below is in this report; after it, the page is tracked. The
	 * chunk's own flush is the one below, or the split's break-before-make flush, which then
	 * covers everything this collection owes (s2_split_protect): one flush either way. */
	if (!err && tracked < end) {
		/* Bits set there (a write fault through a read-only entry left cached by an earlier
		 * logging session) are taken too: the pages are reported anyway. */
		(void)bitmap_take_range(dl->bitmap, out, tracked, end - tracked);
		bitmap_fill_range(out, tracked, end - tracked);
		taken += end - tracked;
		if (tracked == dl->armed) {
			u64 n = MIN(dl->chunk, end - tracked), t0 = dl->clock ? dl->clock() : 0;

			err = arm_range(dl, s2, tracked, n, &owed);
			if (dl->clock)
				dl->arm_insns += dl->clock() - t0;
			if (!err) {
				dl->armed += n;
			} else if (err == FERRY_ENOMEM) {
				/* Nothing changed: the chunk stays unarmed, reported again next time. */
				dl->chunk_enomem++;
				err = 0;
			}
		}
	}
	/* One planned flush covering every run, before anything is reported. Runs of a collection
	 * are scattered (a guest writes here and there): flushing run by run costs one broadcast TLBI
	 * sequence per run, which on QEMU stops every vCPU each time (a 512 MiB VM writing 8192
	 * random pages spent seconds per collection); the covering range is at most 5 range ops, or
	 * MAX_DVM_OPS per-page ops, or one VMID flush. Over-invalidating is always allowed. */
#if !FERRY_DIRTY_SKIP_COLLECT_FLUSH
	flush_owed(dl, &owed);
#else
	(void)flush_owed; /* test builds only (ferry-noflush): show that the dirty-log test can fail */
#endif
	if (err)
		return err;
	dl->collections++;
	dl->pages_reported += taken;
	return (s64)taken;
}

int dirty_log_stop(struct dirty_log *dl, struct s2_pgtable *s2)
{
	struct s2_flush owed = { 0 };
	int err;

	if (dl->mode == DIRTY_OFF)
		return 0;
	/* Read-only → writable and DBM cleared: relaxations only, nothing owed. Where a 2 MiB run of
	 * pages is uniform again it becomes a block (its own break-before-make flush), so the guest
	 * does not stay on 4 KiB pages; other shapes go through s2_protect. */
	err = s2_protect_collapse(s2, ipa_init(dl->base), dl->npages << PAGE_SHIFT, PROT_RWX, &owed,
				  &dl->blocks_rebuilt);
	if (err == FERRY_ENOTSUP)
		err = s2_protect(s2, ipa_init(dl->base), dl->npages << PAGE_SHIFT, PROT_RWX, &owed);
	flush_owed(dl, &owed);
	dl->mode = DIRTY_OFF;
	return err;
}
