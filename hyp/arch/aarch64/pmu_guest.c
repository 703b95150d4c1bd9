/* SPDX-License-Identifier: Apache-2.0 */
/* The PMU registers by vpmu.h's numbers, for the guest accesses that trap while ferry keeps an
 * event counter of its own (hyp/vdev/vpmu.c decides what each may do). Every register is named in
 * its instruction, so each is one case; PMSWINC is never read and PMCEID0/1 never written. */
#include "arch/aarch64/pmu_guest.h"

#include "arch/aarch64/sysreg.h"

/* Laid out by hand: one counter per X. */
/* clang-format off */
#define EVENT_COUNTERS(X)                                                              \
	X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) \
	X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27)   \
	X(28) X(29) X(30)
#define RD(reg, name)                   \
	case reg:                       \
		return sysreg_read(name);
#define WR(reg, name)                   \
	case reg:                       \
		sysreg_write(name, v);  \
		return;
#define RD_EV(n)                                                          \
	RD(VPMU_EVCNTR0 + n, pmevcntr##n##_el0) RD(VPMU_EVTYPER0 + n, pmevtyper##n##_el0)
#define WR_EV(n)                                                          \
	WR(VPMU_EVCNTR0 + n, pmevcntr##n##_el0) WR(VPMU_EVTYPER0 + n, pmevtyper##n##_el0)
/* clang-format on */

static u64 reg_read(u32 reg)
{
	switch (reg) {
		RD(VPMU_PMCR, pmcr_el0)
		RD(VPMU_CNTENSET, pmcntenset_el0)
		RD(VPMU_CNTENCLR, pmcntenclr_el0)
		RD(VPMU_OVSCLR, pmovsclr_el0)
		RD(VPMU_SELR, pmselr_el0)
		RD(VPMU_CEID0, pmceid0_el0)
		RD(VPMU_CEID1, pmceid1_el0)
		RD(VPMU_CCNTR, pmccntr_el0)
		RD(VPMU_XEVTYPER, pmxevtyper_el0)
		RD(VPMU_XEVCNTR, pmxevcntr_el0)
		RD(VPMU_USERENR, pmuserenr_el0)
		RD(VPMU_INTENSET, pmintenset_el1)
		RD(VPMU_INTENCLR, pmintenclr_el1)
		RD(VPMU_OVSSET, pmovsset_el0)
		RD(VPMU_CCFILTR, pmccfiltr_el0)
		EVENT_COUNTERS(RD_EV)
	}
	return 0;
}

static void reg_write(u32 reg, u64 v)
{
	switch (reg) {
		WR(VPMU_PMCR, pmcr_el0)
		WR(VPMU_CNTENSET, pmcntenset_el0)
		WR(VPMU_CNTENCLR, pmcntenclr_el0)
		WR(VPMU_OVSCLR, pmovsclr_el0)
		WR(VPMU_SWINC, pmswinc_el0)
		WR(VPMU_SELR, pmselr_el0)
		WR(VPMU_CCNTR, pmccntr_el0)
		WR(VPMU_XEVTYPER, pmxevtyper_el0)
		WR(VPMU_XEVCNTR, pmxevcntr_el0)
		WR(VPMU_USERENR, pmuserenr_el0)
		WR(VPMU_INTENSET, pmintenset_el1)
		WR(VPMU_INTENCLR, pmintenclr_el1)
		WR(VPMU_OVSSET, pmovsset_el0)
		WR(VPMU_CCFILTR, pmccfiltr_el0)
		EVENT_COUNTERS(WR_EV)
	}
}

const struct vpmu_hw *pmu_guest_hw(void)
{
	static struct vpmu_hw hw = { reg_read, reg_write, false };

	hw.wide = FIELD_GET(sysreg_read(id_aa64dfr0_el1), 11, 8) >= 6; /* PMUv3p5 */
	return &hw;
}

u32 pmu_guest_hpmn(void) { return (u32)(sysreg_read(mdcr_el2) & MDCR_HPMN_MASK); }
