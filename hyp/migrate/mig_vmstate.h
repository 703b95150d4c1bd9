/* SPDX-License-Identifier: Apache-2.0 */
/* ferry's VM state blobs (mig_vmstate.c). */
#ifndef FERRY_MIGRATE_MIG_VMSTATE_H
#define FERRY_MIGRATE_MIG_VMSTATE_H

#include "migrate/mig_vcpu.h"
#include "types.h"

/* ---------------------------------------------------------------------------------------------- */
/* VM state blobs (docs/migration-protocol.md, "State blobs"). The protocol moves opaque blobs; these
 * are ferry's, in this order: one MIG_BLOB_VM, one MIG_BLOB_VCPU per vCPU (index order), then one
 * per emulated device (MIG_BLOB_UART, MIG_BLOB_VGIC, then MIG_BLOB_RTC), the SVE blobs, the ITS's. Each starts with a u32 magic (its tag) and a u16 version;
 * all fields little-endian. A decoder refuses any other magic, version, length or a value no
 * register can hold, so a malformed blob aborts the migration instead of resuming a broken guest. */

#define MIG_BLOB_VM 0x4d56u   /* "VM" */
#define MIG_BLOB_VCPU 0x5043u /* "CP" */
#define MIG_BLOB_UART 0x5455u /* "UT" */
#define MIG_BLOB_VGIC 0x4947u /* "GI": hyp/vgic's own versioned blob (docs/vgic.md) */
#define MIG_BLOB_RTC 0x5452u  /* "RT": the PL031's own blob (hyp/vdev/vpl031.c), after the vGIC's */
#define MIG_BLOB_ITS 0x5449u  /* "IT": hyp/vgic/its_save.c's blob (docs/vgic.md), the last one */
#define MIG_VMSTATE_VERSION 2u /* 2: the debug registers */

struct mig_vm_state {
	u32 nvcpus;
	u64 cntfrq; /* counter frequency: a guest's time would run at another speed otherwise */
	u64 vcount; /* the guest's virtual count (CNTVCT) at the pause */
	u64 ram_base, ram_size;
};

#define MIG_VCPU_BLOB_LEN (16u + 8u * MIG_R_NR)
#define MIG_VM_BLOB_LEN 48u

const char *mig_vcpu_reg_name(u32 reg);
/* Encoders return the blob length, or FERRY_EINVAL when it does not fit in cap. Decoders return 0,
 * or FERRY_EINVAL with the reason in why (for the console). */
int mig_vcpu_encode(u8 *buf, size_t cap, const struct mig_vcpu_state *s);
int mig_vcpu_decode(const u8 *buf, size_t len, struct mig_vcpu_state *s, const char **why);
int mig_vm_encode(u8 *buf, size_t cap, const struct mig_vm_state *s);
int mig_vm_decode(const u8 *buf, size_t len, struct mig_vm_state *s, const char **why);

#endif
