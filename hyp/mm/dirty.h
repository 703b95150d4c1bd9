/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 dirty logging: which guest pages were written since the last look, exactly.
 *
 * Two modes (docs/dirty-logging.md):
 *  - write-fault (DIRTY_WP): every page is mapped read-only; the first write faults, ferry sets the
 *    page's bit and makes it writable again (a relaxation: no broadcast TLBI, see tlbi.h);
 *  - hardware (DIRTY_DBM, FEAT_HAFDBS with VTCR_EL2.HD=1): pages are read-only with the DBM bit set;
 *    the hardware makes a page writable on its first write without a fault, and collection finds those
 *    descriptors.
 * In both modes collection takes the dirty pages and write-protects exactly those again, followed by
 * one planned flush per run of pages before the pages are reported: a stale writable TLB entry would
 * let the next write through without a trace (measured on QEMU 7.2, docs/qemu-facts.md).
 *
 * Pure code; the caller serializes calls for one VM (its stage-2 lock). */
#ifndef FERRY_DIRTY_H
#define FERRY_DIRTY_H

#include "lib/bitmap.h"
#include "mm/s2.h"
#include "mm/tlbi.h"
#include "types.h"

enum dirty_mode {
	DIRTY_OFF = 0,
	DIRTY_WP,  /* write faults */
	DIRTY_DBM, /* hardware dirty state */
};

struct dirty_log {
	enum dirty_mode mode;
	u64 base; /* IPA of page 0 */
	u64 npages;
	u64 *bitmap; /* BITMAP_WORDS(npages) words of hypervisor memory: set by write faults */
	u16 vmid;
	struct tlbi_caps caps;
	/* statistics */
	u64 faults;   /* write faults taken (WP mode) */
	u64 spurious; /* faults on a page already writable or already dirty */
	u64 collections;
	u64 pages_reported;
	u64 flushes; /* planned flushes issued: the start's, one per collection that
			     * re-protected pages (its own, or the split's when it armed blocks) */
	/* DBM mode: the descriptor scan of each collection, timed by `clock` when the caller sets
	 * one (EL2: its instruction counter) after dirty_log_start; scan_pages counts every page. */
	u64 (*clock)(void);
	u64 scan_insns;
	u64 scan_pages;
	u64 blocks_rebuilt; /* 2 MiB blocks the last stop made from uniform pages */
	/* Gradual start (KVM's KVM_DIRTY_LOG_INITIALLY_SET with chunked clearing): pages [0, armed)
	 * are write-protected (or DBM-armed) and tracked; pages [armed, npages) never were, so every
	 * one of them counts as dirty until a collection arms it. Each whole-range collection arms
	 * the next `chunk` pages in the same walk that reports them. Eager start: armed = npages. */
	u64 chunk; /* pages armed per collection; 0 after an eager start */
	u64 armed;
	u64 chunk_enomem; /* collections that could not allocate a chunk's tables (retried) */
	u64 arm_insns;    /* the collections' arming of chunks, timed by `clock` as the scan */
	u64 noted;        /* pages marked for ferry's own writes (dirty_log_note_write) */
};

const char *dirty_mode_name(enum dirty_mode mode);

/* Splits every block of [base, base + npages pages) into 4K pages and write-protects all of it, in
 * one pass when the range is 2 MiB aligned (s2_split_protect: one planned flush in all), else with
 * s2_split then s2_protect (one planned flush each). bitmap must be zeroed. */
int dirty_log_start(struct dirty_log *dl, struct s2_pgtable *s2, const struct tlbi_caps *caps,
		    u16 vmid, enum dirty_mode mode, u64 base, u64 npages, u64 *bitmap);

/* The gradual start: O(1), nothing in the tables changes and nothing is flushed. Every page counts
 * as dirty; each later collection whose range starts at or before the first unarmed page reports
 * every unarmed page in its range, and arms the next `chunk` pages (split and write-protect,
 * s2_split_protect) under the collection's one flush. chunk: pages, at least 1 (a multiple of 512
 * keeps every chunk 2 MiB aligned when base is: the one-pass split; others use the engine). */
int dirty_log_start_gradual(struct dirty_log *dl, const struct tlbi_caps *caps, u16 vmid,
			    enum dirty_mode mode, u64 base, u64 npages, u64 *bitmap, u64 chunk);

/* A stage-2 permission fault on a write at ipa. Returns 0 when the fault was dirty logging's (the
 * page is now logged and writable: return to the guest), FERRY_ENOENT when it is not (a real guest
 * error). */
int dirty_log_handle_fault(struct dirty_log *dl, struct s2_pgtable *s2, ipa_t ipa);

/* The write fault's fast path (called from the exception vector, under the stage-2 lock): if ipa is
 * a page of a WP-mode log, mapped by a level-3 descriptor that is valid, readable, not writable and
 * not DBM (i.e. one dirty logging protected), sets its bit and its write permission with atomic
 * updates and returns 0. Anything else returns FERRY_ENOENT and changes nothing: the generic path
 * (dirty_log_handle_fault, then the abort handler) decides. A relaxation: owes no TLB maintenance
 * to other CPUs (docs/stage2.md). Inline: the exception vector calls it, and every call and stack
 * frame is on that path. */
static inline int dirty_log_fast_fault(struct dirty_log *dl, struct s2_pgtable *s2, u64 ipa)
{
	const u64 want = S2_DESC_VALID | S2_DESC_TABLE | S2_DESC_S2AP_R;
	const u64 mask = want | S2_DESC_S2AP_W | S2_DESC_DBM;
	u64 off = ipa - dl->base, page = off >> PAGE_SHIFT;
	int level;

	/* One unsigned compare covers an IPA below base too (it wraps above npages). */
	if (dl->mode != DIRTY_WP || page >= dl->npages)
		return FERRY_ENOENT;
	u64 d;
	u64 *ptep = s2_leaf_ptr(s2, ipa, &level, &d);

	if (!ptep || level != 3 || (d & mask) != want)
		return FERRY_ENOENT;
	/* Bit first, then the permission, as the generic path does: under the stage-2 lock no
	 * collection can run in between, and the guest's write retries only after both. The
	 * descriptor changes with a compare-and-swap so a concurrent change (none is expected
	 * under the lock) sends the fault to the generic path instead of being overwritten. */
	if (bitmap_set_atomic(dl->bitmap, page))
		dl->spurious++;
	if (!__atomic_compare_exchange_n(ptep, &d, d | S2_DESC_S2AP_W, false, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		return FERRY_ENOENT;
	dl->faults++;
	return 0;
}

/* ferry itself wrote guest memory at [ipa, ipa + len) (the ITS's tables, an LPI pending table: EL2
 * writes through RAM's own mapping, which no stage-2 fault or DBM sees). Sets the bits of every
 * logged page the range touches, so that the next collection reports them; nothing when logging is
 * off or the range misses the log. The caller has finished the write: a collection that takes the
 * bit before the write completes would let the reader see the old bytes and report nothing later.
 * Any ipa and len: the range is clipped without an overflowing sum. Returns the pages marked. */
u64 dirty_log_note_write(struct dirty_log *dl, u64 ipa, u64 len);

/* Atomically takes the dirty state of pages [first, first + count) (page indices relative to base),
 * re-arms tracking for exactly the pages taken, flushes, and ORs them into out (a bitmap indexed like
 * dl->bitmap). After a gradual start the pages not armed yet are all taken, and the next chunk of
 * them is armed in the same walk, under the same one flush. Returns the number of pages taken, or a
 * negative error. */
s64 dirty_log_collect(struct dirty_log *dl, struct s2_pgtable *s2, u64 first, u64 count, u64 *out);

/* Gives every page back its write permission and clears DBM; every 2 MiB whose pages map one
 * aligned contiguous run with equal attributes becomes a block again (s2_protect_collapse). */
int dirty_log_stop(struct dirty_log *dl, struct s2_pgtable *s2);

#endif
