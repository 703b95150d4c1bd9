/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's whole context to and from struct mig_vcpu_state, for migration: its general-purpose
 * registers from the core's copy, the rest from the hardware of the physical CPU it owns
 * (arch/aarch64/vcpu_ctx.c, fpsimd.S, core/sve.c). So only that CPU may call these. */
#include "core/vcpu_ctx.h"

#include <string.h>

#include "arch/aarch64/debug_ctx.h"
#include "arch/aarch64/fpsimd.h"
#include "arch/aarch64/sysreg.h"
#include "arch/aarch64/vcpu_ctx.h"
#include "core/sve.h"
#include "core/vm.h"
#include "migrate/mig_vcpu.h"

void vcpu_ctx_save(struct vcpu *v, struct mig_vcpu_state *s)
{
	u64 fp[FPSIMD_WORDS], *r = s->r;

	for (int i = 0; i < 31; i++)
		r[MIG_R_X0 + i] = v->regs.x[i];
	r[MIG_R_PC] = v->regs.elr;
	r[MIG_R_PSTATE] = v->regs.spsr;
	arch_el1_save(r);
	fpsimd_save(fp);
	sve_ctx_save(
		v); /* Z0-Z31 hold V0-V31 in their low bits: saved together, loaded after them */
	memcpy(&r[MIG_R_V0], fp, 64 * sizeof(u64));
	r[MIG_R_FPCR] = fp[64];
	r[MIG_R_FPSR] = fp[65];
	arch_pauth_save(r);
	debug_ctx_save(r);
	/* The list registers are already back in the vGIC model (synced after the last exit). */
	arch_gic_hw_save(&v->gic_hw);
}

void vcpu_ctx_load(struct vcpu *v, const struct mig_vcpu_state *s)
{
	u64 fp[FPSIMD_WORDS];
	const u64 *r = s->r;

	for (int i = 0; i < 31; i++)
		v->regs.x[i] = r[MIG_R_X0 + i];
	v->regs.elr = r[MIG_R_PC];
	v->regs.spsr = r[MIG_R_PSTATE];
	arch_el1_load(r);
	memcpy(fp, &r[MIG_R_V0], 64 * sizeof(u64));
	fp[64] = r[MIG_R_FPCR];
	fp[65] = r[MIG_R_FPSR];
	fpsimd_load(fp);
	sve_ctx_load(v);
	arch_pauth_load(r);
	debug_ctx_load(r);
	arch_gic_hw_load(&v->gic_hw);
	isb();
}
