/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's PMU when ferry keeps an event counter for its own EL2 instruction count
 * (arch/aarch64/pmu.c): MDCR_EL2.HPMN gives the guest the counters below it, and the architecture
 * makes the others invisible to EL1 and EL0 (Arm ARM D13, "Partitioning the event counters"):
 * their bits in PMCNTEN*, PMINTEN*, PMOVS* and PMSWINC are RAZ/WI, PMEVCNTR<n>/PMEVTYPER<n> and
 * PMXEV* with PMSELR_EL0.SEL at or above HPMN are undefined, PMCR_EL0.N reads HPMN and PMCR.P
 * resets only the guest's counters. QEMU 7.2 applies HPMN to the enables but not to these
 * registers, so a guest could stop ferry's counter or take its overflow interrupt: with a counter
 * of ferry's, the PMU registers trap (MDCR_EL2.TPM, TPMCR) and come here. docs/guest-view.md.
 *
 * Pure: the registers are reached through vpmu_hw, which the EL2 side implements with MRS/MSR
 * and the unit tests with an array. */
#ifndef FERRY_VPMU_H
#define FERRY_VPMU_H

#include "types.h"

enum vpmu_reg {
	VPMU_PMCR,
	VPMU_CNTENSET,
	VPMU_CNTENCLR,
	VPMU_OVSCLR,
	VPMU_SWINC,
	VPMU_SELR,
	VPMU_CEID0,
	VPMU_CEID1,
	VPMU_CCNTR,
	VPMU_XEVTYPER,
	VPMU_XEVCNTR,
	VPMU_USERENR,
	VPMU_INTENSET,
	VPMU_INTENCLR,
	VPMU_OVSSET,
	VPMU_CCFILTR,
	VPMU_EVCNTR0 = 32,  /* PMEVCNTR<n>_EL0: VPMU_EVCNTR0 + n, n < 31 */
	VPMU_EVTYPER0 = 64, /* PMEVTYPER<n>_EL0: VPMU_EVTYPER0 + n, n < 31 */
	VPMU_NR = 95,
};

struct vpmu_hw {
	u64 (*read)(u32 reg);
	void (*write)(u32 reg, u64 val);
	bool wide; /* 64-bit event counters (FEAT_PMUv3p5), overflowing at 32 bits unless PMCR.LP */
};

/* The register a trapped MRS/MSR names (op0 3), or -1 if it is not a PMU register. */
int vpmu_reg_of(u32 op1, u32 crn, u32 crm, u32 op2);
/* One guest access to reg, with counters [hpmn, 31) kept from it. Reads return through *val.
 * FERRY_OK, or FERRY_EINVAL for an access the architecture makes undefined (inject it). */
int vpmu_access(const struct vpmu_hw *hw, u32 hpmn, u32 reg, bool read, u64 *val);

#endif
