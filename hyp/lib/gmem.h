/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's RAM as the device models see it: the guest-physical window [ipa, ipa + size) and where its
 * bytes are in this address space (at EL2 the RAM's PA, identity-mapped; in the host tests a buffer).
 * The interrupt translation service and the LPI tables live in guest memory that the guest names
 * with hostile addresses, so every access goes through gmem_read/gmem_write, which check the whole
 * range against the window without any sum that could wrap. */
#ifndef FERRY_GMEM_H
#define FERRY_GMEM_H

#include "types.h"

struct gmem {
	u64 ipa;  /* first guest-physical address of the RAM */
	u64 size; /* its length in bytes */
	u8 *host; /* where byte ipa is */
};

/* FERRY_ERANGE (nothing copied) unless [ipa, ipa + len) lies inside the RAM; m may be NULL (no RAM:
 * every access fails). */
int gmem_read(const struct gmem *m, u64 ipa, void *buf, u64 len);
int gmem_write(const struct gmem *m, u64 ipa, const void *buf, u64 len);
/* Little-endian 64-bit words, as the ITS tables and commands are laid out. */
int gmem_read64(const struct gmem *m, u64 ipa, u64 *val);
int gmem_write64(const struct gmem *m, u64 ipa, u64 val);

/* One 16-bit index of a ring the guest updates while ferry reads it (a virtqueue's avail->idx, used->idx):
 * a single aligned access, so it is never torn between an old and a new value, with acquire (load)
 * or release (store) order against the ring entries around it. FERRY_ERANGE for an address outside
 * the RAM or not 2-byte aligned. */
int gmem_load16_acquire(const struct gmem *m, u64 ipa, u16 *val);
int gmem_store16_release(const struct gmem *m, u64 ipa, u16 val);

#endif
