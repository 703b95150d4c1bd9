/* A vCPU's EL1 context to and from struct mig_vcpu_state, on the physical CPU the vCPU owns: its EL1
 * system registers, FP/SIMD and timers live in that CPU's hardware (exits never switch them), so
 * only that CPU can read or write them. */
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/core.h"
#include "migrate/mig.h"

void fpsimd_save(u64 *buf);
void fpsimd_load(const u64 *buf);

#define FP_WORDS 66 /* V0..V31 as 64 words, FPCR, FPSR */

void vcpu_ctx_save(const struct vcpu *v, struct mig_vcpu_state *s)
{
	u64 fp[FP_WORDS], *r = s->r;

	for (int i = 0; i < 31; i++)
		r[MIG_R_X0 + i] = v->regs.x[i];
	r[MIG_R_PC] = v->regs.elr;
	r[MIG_R_PSTATE] = v->regs.spsr;
	r[MIG_R_SP_EL0] = sysreg_read(sp_el0);
	r[MIG_R_SP_EL1] = sysreg_read(sp_el1);
	r[MIG_R_ELR_EL1] = sysreg_read(elr_el1);
	r[MIG_R_SPSR_EL1] = sysreg_read(spsr_el1);
	r[MIG_R_SCTLR_EL1] = sysreg_read(sctlr_el1);
	r[MIG_R_CPACR_EL1] = sysreg_read(cpacr_el1);
	r[MIG_R_TTBR0_EL1] = sysreg_read(ttbr0_el1);
	r[MIG_R_TTBR1_EL1] = sysreg_read(ttbr1_el1);
	r[MIG_R_TCR_EL1] = sysreg_read(tcr_el1);
	r[MIG_R_ESR_EL1] = sysreg_read(esr_el1);
	r[MIG_R_AFSR0_EL1] = sysreg_read(afsr0_el1);
	r[MIG_R_AFSR1_EL1] = sysreg_read(afsr1_el1);
	r[MIG_R_FAR_EL1] = sysreg_read(far_el1);
	r[MIG_R_MAIR_EL1] = sysreg_read(mair_el1);
	r[MIG_R_AMAIR_EL1] = sysreg_read(amair_el1);
	r[MIG_R_VBAR_EL1] = sysreg_read(vbar_el1);
	r[MIG_R_CONTEXTIDR_EL1] = sysreg_read(contextidr_el1);
	r[MIG_R_TPIDR_EL1] = sysreg_read(tpidr_el1);
	r[MIG_R_TPIDR_EL0] = sysreg_read(tpidr_el0);
	r[MIG_R_TPIDRRO_EL0] = sysreg_read(tpidrro_el0);
	r[MIG_R_CNTKCTL_EL1] = sysreg_read(cntkctl_el1);
	r[MIG_R_PAR_EL1] = sysreg_read(par_el1);
	r[MIG_R_CSSELR_EL1] = sysreg_read(csselr_el1);
	r[MIG_R_MDSCR_EL1] = sysreg_read(mdscr_el1);
	/* At EL2 without VHE the *_EL0 timer names reach the EL1 timers. */
	r[MIG_R_CNTV_CTL] = sysreg_read(cntv_ctl_el0);
	r[MIG_R_CNTV_CVAL] = sysreg_read(cntv_cval_el0);
	r[MIG_R_CNTP_CTL] = sysreg_read(cntp_ctl_el0);
	r[MIG_R_CNTP_CVAL_REL] = sysreg_read(cntp_cval_el0) - sysreg_read(cntpct_el0);
	fpsimd_save(fp);
	memcpy(&r[MIG_R_V0], fp, 64 * sizeof(u64));
	r[MIG_R_FPCR] = fp[64];
	r[MIG_R_FPSR] = fp[65];
}

void vcpu_ctx_load(struct vcpu *v, const struct mig_vcpu_state *s)
{
	u64 fp[FP_WORDS];
	const u64 *r = s->r;

	for (int i = 0; i < 31; i++)
		v->regs.x[i] = r[MIG_R_X0 + i];
	v->regs.elr = r[MIG_R_PC];
	v->regs.spsr = r[MIG_R_PSTATE];
	sysreg_write(sp_el0, r[MIG_R_SP_EL0]);
	sysreg_write(sp_el1, r[MIG_R_SP_EL1]);
	sysreg_write(elr_el1, r[MIG_R_ELR_EL1]);
	sysreg_write(spsr_el1, r[MIG_R_SPSR_EL1]);
	sysreg_write(sctlr_el1, r[MIG_R_SCTLR_EL1]);
	sysreg_write(cpacr_el1, r[MIG_R_CPACR_EL1]);
	sysreg_write(ttbr0_el1, r[MIG_R_TTBR0_EL1]);
	sysreg_write(ttbr1_el1, r[MIG_R_TTBR1_EL1]);
	sysreg_write(tcr_el1, r[MIG_R_TCR_EL1]);
	sysreg_write(esr_el1, r[MIG_R_ESR_EL1]);
	sysreg_write(afsr0_el1, r[MIG_R_AFSR0_EL1]);
	sysreg_write(afsr1_el1, r[MIG_R_AFSR1_EL1]);
	sysreg_write(far_el1, r[MIG_R_FAR_EL1]);
	sysreg_write(mair_el1, r[MIG_R_MAIR_EL1]);
	sysreg_write(amair_el1, r[MIG_R_AMAIR_EL1]);
	sysreg_write(vbar_el1, r[MIG_R_VBAR_EL1]);
	sysreg_write(contextidr_el1, r[MIG_R_CONTEXTIDR_EL1]);
	sysreg_write(tpidr_el1, r[MIG_R_TPIDR_EL1]);
	sysreg_write(tpidr_el0, r[MIG_R_TPIDR_EL0]);
	sysreg_write(tpidrro_el0, r[MIG_R_TPIDRRO_EL0]);
	sysreg_write(cntkctl_el1, r[MIG_R_CNTKCTL_EL1]);
	sysreg_write(par_el1, r[MIG_R_PAR_EL1]);
	sysreg_write(csselr_el1, r[MIG_R_CSSELR_EL1]);
	sysreg_write(mdscr_el1, r[MIG_R_MDSCR_EL1]);
	/* Compare values before the enables, so a timer never fires on a stale value. */
	sysreg_write(cntv_cval_el0, r[MIG_R_CNTV_CVAL]);
	sysreg_write(cntv_ctl_el0, r[MIG_R_CNTV_CTL]);
	sysreg_write(cntp_cval_el0, sysreg_read(cntpct_el0) + r[MIG_R_CNTP_CVAL_REL]);
	sysreg_write(cntp_ctl_el0, r[MIG_R_CNTP_CTL]);
	memcpy(fp, &r[MIG_R_V0], 64 * sizeof(u64));
	fp[64] = r[MIG_R_FPCR];
	fp[65] = r[MIG_R_FPSR];
	fpsimd_load(fp);
	isb();
}
