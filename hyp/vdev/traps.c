/* SPDX-License-Identifier: Apache-2.0 */
/* The trap baseline as pure functions of the CPU's ID registers, so the host tests can check every
 * value for CPUs with and without the optional features (RAS, LOR, SPE, trace filtering, AMU, FGT,
 * HCX). The EL2 glue (core/vcpu.c) only reads the ID registers and writes the results. */
#include "vdev/traps.h"

#define ID_FIELD(hi, lo) (((1ULL << ((hi) - (lo) + 1)) - 1) << (lo))

/* Always set: stage 2 (VM), set/way invalidate upgraded to clean+invalidate (SWIO), stage-1 walks
 * into device memory fault (PTW), physical interrupts and SErrors to EL2 (FMO, IMO, AMO), broadcast
 * maintenance and inner-shareable barriers (FB, BSU_IS: a vCPU may move between CPUs by migration),
 * WFI (TWI), ID registers (TID3), SMC (TSC), implementation-defined registers (TIDCP), ACTLR_EL1
 * (TACR), set/way maintenance (TSW), EL1 is AArch64 (RW). */
#define HCR_ALWAYS                                                                         \
	(HCR_VM | HCR_SWIO | HCR_PTW | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | HCR_BSU_IS | \
	 HCR_TWI | HCR_TID3 | HCR_TSC | HCR_TIDCP | HCR_TACR | HCR_TSW | HCR_RW)

bool trap_guest_pmu(u64 dfr0)
{
	u64 pmuver = FIELD_GET(dfr0, 11, 8);

	return pmuver != 0 && pmuver != 0xf;
}

bool trap_guest_sve(u64 pfr0) { return FIELD_GET(pfr0, 35, 32) != 0; }

void trap_config_compute(const struct trap_idregs *id, u64 mdcr_pmu, struct trap_config *out)
{
	u64 hcr = HCR_ALWAYS;
	u64 mdcr = mdcr_pmu & (MDCR_HPMN_MASK | MDCR_HPME | MDCR_HLP);
	u64 cptr = CPTR_RES1_TZ_TSM | CPTR_TTA;

	/* Pointer authentication is the guest's own (its keys stay in this CPU's registers): without
	 * API/APK its PAC instructions and key accesses would trap. RES0 without FEAT_PAuth. */
	if (FIELD_GET(id->isar1, 11, 4) || FIELD_GET(id->isar1, 31, 24) ||
	    FIELD_GET(id->isar2, 15, 8))
		hcr |= HCR_API | HCR_APK;
	/* A PMUv3 is the guest's: each vCPU owns its CPU, so the counters below MDCR_EL2.HPMN (all,
	 * or all but the one ferry keeps for its EL2 count) and PMCR_EL0 are used directly, without
	 * traps. Without one (or with an IMPLEMENTATION DEFINED PMU) the registers trap, RAZ/WI. */
	if (!trap_guest_pmu(id->dfr0))
		mdcr |= MDCR_TPM | MDCR_TPMCR;
	/* With a counter of ferry's (HPME), the guest's PMU accesses trap after all: QEMU applies
	 * HPMN to the enables only, so without the traps a guest could stop, reset or take the
	 * overflow interrupt of ferry's counter (vdev/vpmu.h keeps it out of the guest's view). */
	else if (mdcr & MDCR_HPME)
		mdcr |= MDCR_TPM | MDCR_TPMCR;
	/* SVE is the guest's where the CPU has it: each vCPU owns its CPU and EL2 never uses SVE, so
	 * nothing is switched (core/sve.c). SME stays trapped (TSM) and hidden. */
	if (trap_guest_sve(id->pfr0))
		cptr &= ~CPTR_TZ;
	/* FEAT_RAS: error records trap (TERR, read as zero), external aborts come to EL2 (TEA). */
	if (FIELD_GET(id->pfr0, 31, 28))
		hcr |= HCR_TERR | HCR_TEA;
	/* FEAT_LOR: LORegion registers trap (hidden, undefined for the guest). */
	if (FIELD_GET(id->mmfr1, 19, 16))
		hcr |= HCR_TLOR;
	/* FEAT_SPE: the profiling buffer's EL1 registers trap (E2PB = 0 also keeps the buffer
	 * EL2-owned). FEAT_TRF: trace filter controls trap. */
	if (FIELD_GET(id->dfr0, 35, 32))
		mdcr |= MDCR_TPMS;
	if (FIELD_GET(id->dfr0, 43, 40))
		mdcr |= MDCR_TTRF;
	/* FEAT_AMUv1: activity monitors trap (TAM is RES0 without it). */
	if (FIELD_GET(id->pfr0, 47, 44))
		cptr |= CPTR_TAM;
	out->has_fgt = FIELD_GET(id->mmfr0, 59, 56) != 0;
	/* FEAT_FGT brings TDCC: the debug communication channel traps (undefined for the guest). */
	if (out->has_fgt)
		mdcr |= MDCR_TDCC;
	out->hcr = hcr;
	out->mdcr = mdcr;
	out->cptr = cptr;
	out->cnthctl = CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN;
	/* FEAT_HCX: every enable clear, so the EL1 features HCRX_EL2 gates (MOPS, TCR2, SCTLR2, LS64,
	 * FPMR...) stay off; ferry hides them in the ID registers. */
	out->has_hcrx = FIELD_GET(id->mmfr1, 43, 40) != 0;
	out->hcrx = 0;
	/* Fine-grained traps all zero: positive bits do not trap, the negative ("n") bits trap the
	 * registers of features ferry hides (SME's SMPRI/TPIDR2, LS64's ACCDATA, GCS, S1PIE...). */
	out->hfgrtr = out->hfgwtr = out->hfgitr = out->hdfgrtr = out->hdfgwtr = 0;
}

u64 trap_id_reg_value(u32 crm, u32 op2, u64 raw)
{
	switch (crm * 8 + op2) {
	case 4 * 8 + 0: /* ID_AA64PFR0_EL1 */
		/* EL0 [3:0] and EL1 [7:4] AArch64 only (1): a vCPU in a 32-bit process cannot be
		 * migrated. MPAM [43:40], AMU [47:44] hidden; SVE [35:32] shown, it is the guest's
		 * (trap_config_compute). */
		return (raw &
			~(ID_FIELD(3, 0) | ID_FIELD(7, 4) | ID_FIELD(43, 40) | ID_FIELD(47, 44))) |
		       0x11;
	case 4 * 8 + 1: /* ID_AA64PFR1_EL1: MTE [11:8], SME [27:24], MPAM_frac [19:16] */
		return raw & ~(ID_FIELD(11, 8) | ID_FIELD(27, 24) | ID_FIELD(19, 16));
	case 5 * 8 + 0: /* ID_AA64DFR0_EL1: TraceVer, PMSVer, TraceFilt, TraceBuffer, BRBE hidden;
			 * PMUVer kept for a PMUv3, which is the guest's (trap_config_compute) */
		return raw &
		       ~(ID_FIELD(7, 4) | (trap_guest_pmu(raw) ? 0 : ID_FIELD(11, 8)) |
			 ID_FIELD(35, 32) | ID_FIELD(43, 40) | ID_FIELD(47, 44) | ID_FIELD(55, 52));
	case 6 * 8 + 2: /* ID_AA64ISAR2_EL1: MOPS [19:16] (needs HCRX_EL2.MSCEn) */
		return raw & ~ID_FIELD(19, 16);
	case 7 * 8 + 1: /* ID_AA64MMFR1_EL1: LO [19:16] (TLOR), HCX [43:40] (no nested EL2) */
		return raw & ~(ID_FIELD(19, 16) | ID_FIELD(43, 40));
	/* Passed through: the AArch32 ID registers (CRm 1..3; reserved encodings excepted),
	 * ID_AA64DFR1, ID_AA64AFR0/1, ID_AA64ISAR0/1, ID_AA64MMFR0/2. */
	case 1 * 8 + 0:
	case 1 * 8 + 1:
	case 1 * 8 + 2:
	case 1 * 8 + 3:
	case 1 * 8 + 4:
	case 1 * 8 + 5:
	case 1 * 8 + 6:
	case 1 * 8 + 7:
	case 2 * 8 + 0:
	case 2 * 8 + 1:
	case 2 * 8 + 2:
	case 2 * 8 + 3:
	case 2 * 8 + 4:
	case 2 * 8 + 5:
	case 2 * 8 + 6:
	case 2 * 8 + 7:
	case 3 * 8 + 0:
	case 3 * 8 + 1:
	case 3 * 8 + 2:
	case 3 * 8 + 4:
	case 3 * 8 + 5:
	case 3 * 8 + 6:
	case 4 * 8 + 4: /* ID_AA64ZFR0_EL1: SVE's features (zero on a CPU without SVE) */
	case 5 * 8 + 1:
	case 5 * 8 + 4:
	case 5 * 8 + 5:
	case 6 * 8 + 0:
	case 6 * 8 + 1:
	case 7 * 8 + 0:
	case 7 * 8 + 2:
		return raw;
	/* Zero: ID_AA64SMFR0 (SME hidden), ID_AA64MMFR3/4 (TCR2, SCTLR2, S1PIE...: their
	 * enables are HCRX_EL2/FGT controls ferry leaves off), and the reserved encodings. */
	default:
		return 0;
	}
}

enum trap_sysreg_action trap_sysreg_classify(u32 op0, u32 op1, u32 crn, u32 crm, u32 op2, bool read)
{
	if (!read && op0 == 3 && op1 == 0 && crn == 12 && crm == 11 && op2 >= 5)
		return TRAP_SR_SGI;
	if (read && op0 == 3 && op1 == 0 && crn == 0 && crm >= 1 && crm <= 7)
		return TRAP_SR_ID;
	/* DC ISW (CRm 6), CSW (10), CISW (14): op0 1, op1 0, CRn 7, op2 2. */
	if (op0 == 1 && op1 == 0 && crn == 7 && (crm == 6 || crm == 10 || crm == 14) && op2 == 2)
		return TRAP_SR_SETWAY;
	/* PMU registers (MDCR_EL2.TPM): PMCR_EL0 and the rest in CRn 9, the event counters and
	 * types in CRn 14 (op1 3, CRm 8..15); PMU interrupt registers at EL1 (op1 0, CRn 9, CRm 14).
	 * RAZ/WI where the guest has no PMU, vdev/vpmu.c's where ferry keeps a counter of its own. */
	if (op0 == 3 &&
	    ((crn == 9 && crm >= 12 && crm <= 14) || (crn == 14 && op1 == 3 && crm >= 8)))
		return TRAP_SR_PMU;
	/* ACTLR_EL1 (TACR): its meaning is implementation defined; the guest gets nothing of it. */
	if (op0 == 3 && op1 == 0 && crn == 1 && crm == 0 && op2 == 1)
		return TRAP_SR_RAZWI;
	/* RAS error records (TERR): ERRIDR_EL1 = 0 says there are none, as KVM does. */
	if (op0 == 3 && op1 == 0 && crn == 5 && (crm == 3 || crm == 4 || crm == 5))
		return TRAP_SR_RAZWI;
	/* Everything else that traps (implementation-defined registers, LORegions, trace, SPE,
	 * activity monitors, DCC, registers of hidden features, writes to ID registers) is what a
	 * CPU without it does: undefined. */
	return TRAP_SR_UNDEF;
}
