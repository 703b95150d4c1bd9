/* SPDX-License-Identifier: Apache-2.0 */
/* The vGIC host tests' VM: one struct vgic, the kicks it sends each vCPU, and 4-, 1- and any-size
 * register accesses that must succeed. Shared by the register-frame and the list-register tests. */
#ifndef FERRY_VGIC_FIXTURE_H
#define FERRY_VGIC_FIXTURE_H

#include "vgic/vgic.h"

#define GICD(off) (VGIC_GICD_BASE_VIRT + (off))
#define GICR(v, off) (VGIC_GICR_BASE_VIRT + (u64)(v)*VGIC_GICR_STRIDE + (off))
#define SGIB(v, off) GICR(v, VGIC_GICR_SGI_OFFSET + (off))

extern struct vgic G;
extern u32 kicks[VGIC_MAX_VCPUS];
/* Counts kicks; the vgic's context must be &G. */
extern const struct vgic_ops ops;

/* vgic_init with nr_lrs list registers and &G as the ops' context; kicks zeroed. */
void setup_map(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs, const u64 *mpidr);

/* Accesses that must succeed. */
u64 rd(u64 ipa, u32 size);
void wr(u64 ipa, u32 size, u64 v);
u32 rd32(u64 ipa);
void wr32(u64 ipa, u32 v);
void wr8(u64 ipa, u8 v);

#endif
