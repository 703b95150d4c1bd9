/* SPDX-License-Identifier: Apache-2.0 */
/* The EL1 identity map every guest runs on: one level-1 table of 1 GiB blocks, fixed at build time
 * so no vCPU ever writes a translation table (no coherency question between a table written with
 * the MMU off and walks that are cacheable, and nothing for the secondaries to wait for).
 *
 * GiB 0 (QEMU virt and ferry: flash, GIC, PL011, virtio-mmio) is Device-nGnRE; GiB 1..511 are Normal
 * write-back, so RAM anywhere from 0x40000000 is covered without knowing its size. Addresses past
 * the end of RAM are mapped too, on purpose: a wild write must leave the guest with a valid stage-1
 * translation so that it reaches stage 2 (ferry stops the VM) or the bus (QEMU reports an external
 * abort), rather than ending in the guest's own translation fault. Only GiB 1, where the image
 * lives, is executable. With the MMU on, the TLB holds combined stage-1+2 entries under a
 * hypervisor: the entries ferry's TLB maintenance has to reach (TLBI VMALLE1IS after IPA ops). */
#include "guest.h"

#define DESC_BLOCK 1ULL
#define DESC_ATTR(index) ((u64)(index) << 2) /* MAIR_EL1 attribute index (head.S) */
#define DESC_SH_INNER (3ULL << 8)
#define DESC_AF (1ULL << 10) /* set up front: no Access flag faults */
#define DESC_PXN (1ULL << 53)
#define DESC_UXN (1ULL << 54)
#define ATTR_DEVICE 0
#define ATTR_NORMAL_WB 1

#define DEVICE(gib) \
	(((u64)(gib) << 30) | DESC_BLOCK | DESC_ATTR(ATTR_DEVICE) | DESC_AF | DESC_PXN | DESC_UXN)
#define RAM_EXEC(gib)                                                                            \
	(((u64)(gib) << 30) | DESC_BLOCK | DESC_ATTR(ATTR_NORMAL_WB) | DESC_SH_INNER | DESC_AF | \
	 DESC_UXN)
#define RAM(gib) (RAM_EXEC(gib) | DESC_PXN)
#define RAM4(g) RAM(g), RAM((g) + 1), RAM((g) + 2), RAM((g) + 3)
#define RAM16(g) RAM4(g), RAM4((g) + 4), RAM4((g) + 8), RAM4((g) + 12)
#define RAM64(g) RAM16(g), RAM16((g) + 16), RAM16((g) + 32), RAM16((g) + 48)

extern const u64 guest_idmap_l1[512];
const u64 guest_idmap_l1[512] __attribute__((aligned(4096))) = {
	DEVICE(0),  RAM_EXEC(1), RAM(2),     RAM(3),     RAM4(4),    RAM4(8),
	RAM4(12),   RAM16(16),   RAM16(32),  RAM16(48),  RAM64(64),  RAM64(128),
	RAM64(192), RAM64(256),  RAM64(320), RAM64(384), RAM64(448),
};
_Static_assert(4 + 3 * 4 + 3 * 16 + 7 * 64 == 512, "the table covers 512 GiB exactly");
