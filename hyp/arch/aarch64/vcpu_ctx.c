/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's EL1 context to and from a migration register file, on the physical CPU the vCPU owns: its
 * EL1 system registers, FP/SIMD and timers live in that CPU's hardware (exits never switch them), so
 * only that CPU can read or write them. hyp/core/vcpu_ctx.c puts the pieces together. */
#include "arch/aarch64/vcpu_ctx.h"

#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "migrate/mig_vcpu.h"
#include "vgic/vgic_hw.h"

/* ICH_AP0R<n>/AP1R<n>: one register per 32 preemption levels the CPU interface implements
 * (ICH_VTR_EL2.PREbits + 1 bits: 5 → 1 register, 6 → 2, 7 → 4). */
static u32 nr_apr(void)
{
	u32 prebits = (u32)FIELD_GET(sysreg_read(ich_vtr_el2), 28, 26) + 1;

	return prebits >= 7 ? 4 : prebits == 6 ? 2 : 1;
}

void arch_gic_hw_save(struct vgic_cpu_hw *hw)
{
	u32 n = nr_apr();

	memset(hw, 0, sizeof(*hw));
	hw->vmcr = sysreg_read(ich_vmcr_el2);
	hw->ap0r[0] = (u32)sysreg_read(ich_ap0r0_el2);
	hw->ap1r[0] = (u32)sysreg_read(ich_ap1r0_el2);
	if (n >= 2) {
		hw->ap0r[1] = (u32)sysreg_read(ich_ap0r1_el2);
		hw->ap1r[1] = (u32)sysreg_read(ich_ap1r1_el2);
	}
	if (n >= 4) {
		hw->ap0r[2] = (u32)sysreg_read(ich_ap0r2_el2);
		hw->ap1r[2] = (u32)sysreg_read(ich_ap1r2_el2);
		hw->ap0r[3] = (u32)sysreg_read(ich_ap0r3_el2);
		hw->ap1r[3] = (u32)sysreg_read(ich_ap1r3_el2);
	}
}

void arch_gic_hw_load(const struct vgic_cpu_hw *hw)
{
	u32 n = nr_apr();

	sysreg_write(icc_sre_el1, 7); /* as virq_vcpu_reset: system registers only */
	sysreg_write(ich_vmcr_el2, hw->vmcr);
	sysreg_write(ich_ap0r0_el2, hw->ap0r[0]);
	sysreg_write(ich_ap1r0_el2, hw->ap1r[0]);
	if (n >= 2) {
		sysreg_write(ich_ap0r1_el2, hw->ap0r[1]);
		sysreg_write(ich_ap1r1_el2, hw->ap1r[1]);
	}
	if (n >= 4) {
		sysreg_write(ich_ap0r2_el2, hw->ap0r[2]);
		sysreg_write(ich_ap1r2_el2, hw->ap1r[2]);
		sysreg_write(ich_ap0r3_el2, hw->ap0r[3]);
		sysreg_write(ich_ap1r3_el2, hw->ap1r[3]);
	}
}

/* FEAT_PAuth: any address or generic authentication algorithm (ID_AA64ISAR1_EL1 APA, API, GPA,
 * GPI; ID_AA64ISAR2_EL1 APA3, GPA3). Without it the key registers do not exist (UNDEFINED). */
static bool has_pauth(void)
{
	u64 isar1 = sysreg_read(id_aa64isar1_el1), isar2 = sysreg_read(s3_0_c0_c6_2);

	return FIELD_GET(isar1, 7, 4) || FIELD_GET(isar1, 11, 8) || FIELD_GET(isar1, 27, 24) ||
	       FIELD_GET(isar1, 31, 28) || FIELD_GET(isar2, 11, 8) || FIELD_GET(isar2, 15, 12);
}

/* The key registers by encoding (S3_0_C2_C1..C3_n): no -march=+pauth needed to name them. */
void arch_pauth_save(u64 *r)
{
	if (!has_pauth())
		return;
	r[MIG_R_APIAKEYLO] = sysreg_read(s3_0_c2_c1_0);
	r[MIG_R_APIAKEYHI] = sysreg_read(s3_0_c2_c1_1);
	r[MIG_R_APIBKEYLO] = sysreg_read(s3_0_c2_c1_2);
	r[MIG_R_APIBKEYHI] = sysreg_read(s3_0_c2_c1_3);
	r[MIG_R_APDAKEYLO] = sysreg_read(s3_0_c2_c2_0);
	r[MIG_R_APDAKEYHI] = sysreg_read(s3_0_c2_c2_1);
	r[MIG_R_APDBKEYLO] = sysreg_read(s3_0_c2_c2_2);
	r[MIG_R_APDBKEYHI] = sysreg_read(s3_0_c2_c2_3);
	r[MIG_R_APGAKEYLO] = sysreg_read(s3_0_c2_c3_0);
	r[MIG_R_APGAKEYHI] = sysreg_read(s3_0_c2_c3_1);
}

void arch_pauth_load(const u64 *r)
{
	if (!has_pauth())
		return;
	sysreg_write(s3_0_c2_c1_0, r[MIG_R_APIAKEYLO]);
	sysreg_write(s3_0_c2_c1_1, r[MIG_R_APIAKEYHI]);
	sysreg_write(s3_0_c2_c1_2, r[MIG_R_APIBKEYLO]);
	sysreg_write(s3_0_c2_c1_3, r[MIG_R_APIBKEYHI]);
	sysreg_write(s3_0_c2_c2_0, r[MIG_R_APDAKEYLO]);
	sysreg_write(s3_0_c2_c2_1, r[MIG_R_APDAKEYHI]);
	sysreg_write(s3_0_c2_c2_2, r[MIG_R_APDBKEYLO]);
	sysreg_write(s3_0_c2_c2_3, r[MIG_R_APDBKEYHI]);
	sysreg_write(s3_0_c2_c3_0, r[MIG_R_APGAKEYLO]);
	sysreg_write(s3_0_c2_c3_1, r[MIG_R_APGAKEYHI]);
}

void arch_el1_save(u64 *r)
{
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
}

void arch_el1_load(const u64 *r)
{
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
}
