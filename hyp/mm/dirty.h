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
	u64 base;       /* IPA of page 0 */
	u64 npages;
	u64 *bitmap;    /* BITMAP_WORDS(npages) words of hypervisor memory: set by write faults */
	u16 vmid;
	struct tlbi_caps caps;
	/* statistics */
	u64 faults;         /* write faults taken (WP mode) */
	u64 spurious;       /* faults on a page already writable or already dirty */
	u64 collections;
	u64 pages_reported;
	u64 flushes;        /* planned flushes issued (one per run of re-protected pages) */
};

const char *dirty_mode_name(enum dirty_mode mode);

/* Splits every block of [base, base + npages pages) into 4K pages (one planned flush for the whole
 * split) and write-protects all of it (one more planned flush). bitmap must be zeroed. */
int dirty_log_start(struct dirty_log *dl, struct s2_pgtable *s2, const struct tlbi_caps *caps,
		    u16 vmid, enum dirty_mode mode, u64 base, u64 npages, u64 *bitmap);

/* A stage-2 permission fault on a write at ipa. Returns 0 when the fault was dirty logging's (the
 * page is now logged and writable: return to the guest), FERRY_ENOENT when it is not (a real guest
 * error). */
int dirty_log_handle_fault(struct dirty_log *dl, struct s2_pgtable *s2, u64 ipa);

/* Atomically takes the dirty state of pages [first, first + count) (page indices relative to base),
 * re-arms tracking for exactly the pages taken, flushes, and ORs them into out (a bitmap indexed like
 * dl->bitmap). Returns the number of pages taken, or a negative error. */
s64 dirty_log_collect(struct dirty_log *dl, struct s2_pgtable *s2, u64 first, u64 count, u64 *out);

/* Gives every page back its write permission and clears DBM. Pages stay 4K (see the doc). */
int dirty_log_stop(struct dirty_log *dl, struct s2_pgtable *s2);

#endif
