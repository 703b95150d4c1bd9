/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's EL1 state in the CPU's registers (vcpu_ctx.c), to and from a migration register file
 * (u64 r[MIG_R_NR], indexed by enum mig_vcpu_reg) and the virtual CPU interface's registers. Only
 * on the physical CPU the vCPU owns: exits never switch these, so only that CPU holds them. The
 * core puts the pieces together (hyp/core/vcpu_ctx.c). */
#ifndef FERRY_ARCH_VCPU_CTX_H
#define FERRY_ARCH_VCPU_CTX_H

#include "types.h"

struct vgic_cpu_hw;

/* EL1 system registers and the EL1 timers (MIG_R_SP_EL0 .. MIG_R_CNTP_CVAL_REL). */
void arch_el1_save(u64 *r);
void arch_el1_load(const u64 *r);
/* Pointer authentication keys (0 and ignored without FEAT_PAuth). */
void arch_pauth_save(u64 *r);
void arch_pauth_load(const u64 *r);
/* ICH_VMCR_EL2 and the active-priority registers. */
void arch_gic_hw_save(struct vgic_cpu_hw *hw);
void arch_gic_hw_load(const struct vgic_cpu_hw *hw);

#endif
