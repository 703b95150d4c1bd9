/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's RAM as the device models see it: the guest-physical window [ipa, ipa + size) and where its
 * bytes are in this address space (at EL2 the RAM's PA, identity-mapped; in the host tests a buffer).
 * The interrupt translation service and the LPI tables live in guest memory that the guest names
 * with hostile addresses, so every access goes through gmem_read/gmem_write, which check the whole
 * range against the window without any sum that could wrap.
 *
 * During a post-copy migration (docs/migration.md, "Post-copy") some pages are not here yet:
 * `absent` marks them (bit i: the page at ipa + i * 4 KiB; read with acquire order, cleared only
 * once the page is written). An access touching one calls `fetch`, which waits until the pages have
 * arrived (0) or says they cannot (an error); without `fetch`, or when it fails, the access is
 * refused with FERRY_EAGAIN and nothing is copied: never the bytes of a page not yet here.
 *
 * A migration must see these writes like the guest's own: `wrote` is called after each one that
 * succeeded (gmem_write, gmem_write64, gmem_store16_release), with the range written. */
#ifndef FERRY_GMEM_H
#define FERRY_GMEM_H

#include "types.h"

struct gmem {
	u64 ipa;                                   /* first guest-physical address of the RAM */
	u64 size;                                  /* its length in bytes */
	u8 *host;                                  /* where byte ipa is */
	const u64 *absent;                         /* NULL: every page is here */
	int (*fetch)(void *ctx, u64 ipa, u64 len); /* optional: wait for absent pages */
	void *fetch_ctx;
	/* Optional: told of every write, after its bytes are in place (dirty logging records it:
	 * these writes go through no stage-2 fault). */
	void (*wrote)(void *ctx, u64 ipa, u64 len);
	void *wrote_ctx;
};

/* FERRY_ERANGE (nothing copied) unless [ipa, ipa + len) lies inside the RAM; m may be NULL (no RAM:
 * every access fails). FERRY_EAGAIN: a page of the range has not arrived (post-copy). */
int gmem_read(const struct gmem *m, u64 ipa, void *buf, u64 len);
int gmem_write(const struct gmem *m, u64 ipa, const void *buf, u64 len);
/* Little-endian 64-bit words, as the ITS tables and commands are laid out. */
int gmem_read64(const struct gmem *m, u64 ipa, u64 *val);
int gmem_write64(const struct gmem *m, u64 ipa, u64 val);
/* Whether any page of [ipa, ipa + len) (inside the window) is absent. */
bool gmem_absent(const struct gmem *m, u64 ipa, u64 len);

/* One 16-bit index of a ring the guest updates while ferry reads it (a virtqueue's avail->idx, used->idx):
 * a single aligned access, so it is never torn between an old and a new value, with acquire (load)
 * or release (store) order against the ring entries around it. FERRY_ERANGE for an address outside
 * the RAM or not 2-byte aligned. */
int gmem_load16_acquire(const struct gmem *m, u64 ipa, u16 *val);
int gmem_store16_release(const struct gmem *m, u64 ipa, u16 val);

#endif
