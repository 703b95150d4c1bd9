/* SPDX-License-Identifier: Apache-2.0 */
/* One vCPU's SVE state as a migration blob (tag MIG_BLOB_SVE, one per vCPU after the PL031's):
 * Z0-Z31, P0-P15 and FFR at the vector length EL2 saved them with (the CPU's largest, so whatever
 * length the guest chose is inside), and ZCR_EL1. docs/migration-protocol.md gives the bytes. */
#ifndef FERRY_MIGRATE_MIG_SVE_H
#define FERRY_MIGRATE_MIG_SVE_H

#include "types.h"

#define MIG_BLOB_SVE 0x5653u /* "SV" */
#define MIG_SVE_VL_MAX 256u  /* bytes: 2048 bits, the architecture's largest */
#define MIG_SVE_HDR 32u
/* Z regs (32 x VL), P regs (16 x VL/8), FFR (VL/8). */
#define MIG_SVE_REGS_BYTES(vl) (32u * (vl) + 17u * ((vl) / 8u))

struct mig_sve_state {
	u32 vl; /* bytes */
	u64 zcr_el1;
	u8 regs[MIG_SVE_REGS_BYTES(MIG_SVE_VL_MAX)] __attribute__((aligned(16)));
};

u32 mig_sve_blob_len(u32 vl);
/* Returns the length, or FERRY_EINVAL (bad vl, cap too small). */
int mig_sve_encode(const struct mig_sve_state *s, u32 vcpu, u8 *buf, size_t cap);
/* Checks everything (length, magic, version, CRC, vCPU index, the vector length against `vl`, the
 * destination's own, ZCR_EL1's reserved bits) before writing *out; FERRY_EINVAL and *why. */
int mig_sve_decode(const u8 *buf, size_t len, u32 vcpu, u32 vl, struct mig_sve_state *out,
		   const char **why);

#endif
