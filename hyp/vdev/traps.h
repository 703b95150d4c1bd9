/* SPDX-License-Identifier: Apache-2.0 */
/* The trap baseline: every EL2 control register value ferry programs for a guest, computed from the
 * CPU's ID registers, the ID register values guests read, and what each trapped system register
 * access becomes. Pure code (host-tested); docs/isolation.md explains every bit. */
#ifndef FERRY_TRAPS_H
#define FERRY_TRAPS_H

#include "types.h"

/* HCR_EL2 (Arm ARM D19.2.48). */
#define HCR_VM BIT(0)
#define HCR_SWIO BIT(1)
#define HCR_PTW BIT(2)
#define HCR_FMO BIT(3)
#define HCR_IMO BIT(4)
#define HCR_AMO BIT(5)
#define HCR_FB BIT(9)
#define HCR_BSU_IS (1ULL << 10)
#define HCR_TWI BIT(13)
#define HCR_TWE BIT(14)
#define HCR_TID3 BIT(18)
#define HCR_TSC BIT(19) /* guest SMC traps; otherwise it would reach QEMU's firmware */
#define HCR_TIDCP BIT(20)
#define HCR_TACR BIT(21)
#define HCR_TSW BIT(22)
#define HCR_RW BIT(31)
#define HCR_TLOR BIT(35)
#define HCR_TERR BIT(36)
#define HCR_TEA BIT(37)
#define HCR_APK BIT(40)
#define HCR_API BIT(41)

/* MDCR_EL2. HPMN [4:0], HPME, HLP belong to the EL2 instruction counter (arch/aarch64/pmu.c). */
#define MDCR_HPMN_MASK 0x1fULL
#define MDCR_TPMCR BIT(5)
#define MDCR_TPM BIT(6)
#define MDCR_HPME BIT(7)
#define MDCR_TPMS BIT(14)
#define MDCR_TTRF BIT(19)
#define MDCR_HLP BIT(26)
#define MDCR_TDCC BIT(27)

/* CPTR_EL2 without VHE: RES1 bits [7:0], 9, 13 and TZ (8) and TSM (12, RES1 without SME): SVE and
 * SME trap; TFP (10) clear: FP/SIMD is the guest's own. TZ is cleared where guests get SVE. */
#define CPTR_RES1_TZ_TSM 0x33ffULL
#define CPTR_TZ BIT(8)
#define CPTR_TTA BIT(20)
#define CPTR_TAM BIT(30)

/* CNTHCTL_EL2 (E2H = 0): EL1PCTEN | EL1PCEN. */
#define CNTHCTL_EL1PCTEN BIT(0)
#define CNTHCTL_EL1PCEN BIT(1)

/* The CPU's ID registers the baseline depends on. */
struct trap_idregs {
	u64 pfr0, dfr0, isar1, isar2, mmfr0, mmfr1;
};

/* What ferry writes into the EL2 controls for every vCPU. has_* say whether the register exists. */
struct trap_config {
	u64 hcr, mdcr, cptr, cnthctl;
	bool has_hcrx, has_fgt;
	u64 hcrx;
	u64 hfgrtr, hfgwtr, hfgitr, hdfgrtr, hdfgwtr;
};

/* Whether the CPU's PMU (ID_AA64DFR0_EL1.PMUVer) is a PMUv3 that guests get to use. */
bool trap_guest_pmu(u64 dfr0);

/* Whether the CPU has SVE (ID_AA64PFR0_EL1.SVE), which guests then get to use (core/sve.c). */
bool trap_guest_sve(u64 pfr0);

/* mdcr_pmu: the HPMN/HPME/HLP bits the EL2 counter set up (kept as they are). */
void trap_config_compute(const struct trap_idregs *id, u64 mdcr_pmu, struct trap_config *out);

/* What a guest's ID register read (op0 3, op1 0, CRn 0, CRm 1..7, op2) returns, given the CPU's raw
 * value: what ferry does not virtualize or cannot migrate is hidden. */
u64 trap_id_reg_value(u32 crm, u32 op2, u64 raw);

/* What a trapped system-register access (EC 0x18) becomes. */
enum trap_sysreg_action {
	TRAP_SR_SGI,    /* ICC_SGI1R/ASGI1R/SGI0R write: the vGIC sends SGIs */
	TRAP_SR_ID,     /* ID register read: trap_id_reg_value() */
	TRAP_SR_RAZWI,  /* reads as zero, writes ignored (ACTLR_EL1, RAS error records) */
	TRAP_SR_SETWAY, /* DC ISW/CSW/CISW */
	TRAP_SR_PMU,    /* a PMU register (vdev/vpmu.h): trapped only while ferry keeps a counter */
	TRAP_SR_UNDEF, /* an undefined instruction for the guest, as on a CPU without the feature */
};
enum trap_sysreg_action trap_sysreg_classify(u32 op0, u32 op1, u32 crn, u32 crm, u32 op2,
					     bool read);

#endif
