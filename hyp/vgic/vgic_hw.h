/* SPDX-License-Identifier: Apache-2.0 */
/* The hardware's part of a vCPU's virtual CPU interface, which the glue reads and writes (the arch
 * layer, hyp/arch/aarch64/vcpu_ctx.c) and the vGIC's blob carries (vgic_save.c). */
#ifndef FERRY_VGIC_HW_H
#define FERRY_VGIC_HW_H

#include "types.h"

/* The hardware's part of a vCPU's virtual CPU interface, which the glue reads and writes. */
struct vgic_cpu_hw {
	u64 vmcr;    /* ICH_VMCR_EL2 */
	u32 ap0r[4]; /* ICH_AP0R<n>_EL2 (unimplemented ones 0) */
	u32 ap1r[4]; /* ICH_AP1R<n>_EL2 */
};

#endif
