/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's side of a partitioned PMU (vpmu.h). */
#include "vdev/vpmu.h"

#include "lib/lib.h"

#define PMCR_E BIT(0)
#define PMCR_P BIT(1)
#define PMCR_LP BIT(7)
#define PMEVTYPER_EVENT 0xffffULL /* evtCount: SW_INCR is 0 */
#define PMCR_N_SHIFT 11
#define PMCR_N_MASK (0x1fULL << PMCR_N_SHIFT)
#define PMU_CYCLE_BIT BIT(31)
#define SEL_CYCLE 31u

int vpmu_reg_of(u32 op1, u32 crn, u32 crm, u32 op2)
{
	if (crn == 9 && op1 == 3 && crm == 12)
		return (int)(VPMU_PMCR +
			     op2); /* PMCR, CNTENSET/CLR, OVSCLR, SWINC, SELR, CEID0/1 */
	if (crn == 9 && op1 == 3 && crm == 13 && op2 <= 2)
		return (int)(VPMU_CCNTR + op2); /* PMCCNTR, PMXEVTYPER, PMXEVCNTR */
	if (crn == 9 && op1 == 3 && crm == 14 && op2 == 0)
		return VPMU_USERENR;
	if (crn == 9 && op1 == 0 && crm == 14 && (op2 == 1 || op2 == 2))
		return (int)(VPMU_INTENSET + op2 - 1);
	if (crn == 9 && op1 == 3 && crm == 14 && op2 == 3)
		return VPMU_OVSSET;
	if (crn == 14 && op1 == 3 && crm >= 8) {
		u32 n = (crm & 3) * 8 + op2;

		if (crm == 15 && op2 == 7)
			return VPMU_CCFILTR;
		if (n == 31)
			return -1; /* no PMEVCNTR31 */
		return (int)((crm < 12 ? VPMU_EVCNTR0 : VPMU_EVTYPER0) + n);
	}
	return -1;
}

/* One event counter the guest may not see: at or above HPMN (and not the cycle counter). */
static bool hidden(u32 n, u32 hpmn) { return n != SEL_CYCLE && n >= hpmn; }

/* PMSWINC_EL0, done here: written at EL2 it would count nothing, as the event counters filter by
 * the writer's Exception level (QEMU does) and the guest's do not count EL2. An enabled counter
 * (PMCR_EL0.E and its PMCNTENSET bit) whose event is SW_INCR (0) steps by one; it overflows at
 * 32 bits unless PMCR_EL0.LP, and a 64-bit counter (FEAT_PMUv3p5) keeps counting in its upper
 * half (Arm ARM AArch64.IncrementEventCounter). An overflow sets the counter's PMOVSSET bit,
 * which raises the overflow interrupt if the guest enabled it. As KVM does, the counter's own
 * EL filter is not applied. */
static void swinc(const struct vpmu_hw *hw, u64 bits)
{
	const u64 pmcr = hw->read(VPMU_PMCR), enabled = hw->read(VPMU_CNTENSET);

	if (!(pmcr & PMCR_E))
		return;
	for (u32 n = 0; n < 31; n++) {
		u64 c;

		if (!(bits & enabled & BIT(n)) || (hw->read(VPMU_EVTYPER0 + n) & PMEVTYPER_EVENT))
			continue;
		c = hw->read(VPMU_EVCNTR0 + n) + 1;
		if (!hw->wide)
			c &= 0xffffffffULL;
		hw->write(VPMU_EVCNTR0 + n, c);
		if ((pmcr & PMCR_LP) && hw->wide ? !c : !(u32)c)
			hw->write(VPMU_OVSSET, BIT(n));
	}
}

int vpmu_access(const struct vpmu_hw *hw, u32 hpmn, u32 reg, bool read, u64 *val)
{
	const u64 mask = PMU_CYCLE_BIT | (BIT(MIN(hpmn, 31u)) - 1);

	switch (reg) {
	case VPMU_PMCR:
		if (read) {
			*val = (hw->read(reg) & ~PMCR_N_MASK) | (u64)hpmn << PMCR_N_SHIFT;
			return FERRY_OK;
		}
		/* P resets the guest's event counters only, one by one. */
		if (*val & PMCR_P)
			for (u32 n = 0; n < hpmn; n++)
				hw->write(VPMU_EVCNTR0 + n, 0);
		hw->write(reg, *val & ~PMCR_P);
		return FERRY_OK;
	case VPMU_CNTENSET:
	case VPMU_CNTENCLR:
	case VPMU_OVSCLR:
	case VPMU_OVSSET:
	case VPMU_INTENSET:
	case VPMU_INTENCLR:
		if (read)
			*val = hw->read(reg) & mask;
		else if (*val & mask)
			hw->write(reg, *val & mask);
		return FERRY_OK;
	case VPMU_SWINC:
		if (read)
			*val = 0;
		else
			swinc(hw, *val & mask & ~PMU_CYCLE_BIT);
		return FERRY_OK;
	case VPMU_XEVTYPER:
	case VPMU_XEVCNTR:
		if (hidden((u32)(hw->read(VPMU_SELR) & 31), hpmn))
			return FERRY_EINVAL;
		break;
	case VPMU_CEID0:
	case VPMU_CEID1:
		if (!read)
			return FERRY_EINVAL; /* read-only: an MSR to them is undefined, at EL2 too */
		break;
	default:
		if (reg >= VPMU_NR || (reg > VPMU_CCFILTR && reg < VPMU_EVCNTR0))
			return FERRY_EINVAL;
		if (reg >= VPMU_EVCNTR0 &&
		    hidden(reg - (reg >= VPMU_EVTYPER0 ? VPMU_EVTYPER0 : VPMU_EVCNTR0), hpmn))
			return FERRY_EINVAL;
		break;
	}
	if (read)
		*val = hw->read(reg);
	else
		hw->write(reg, *val);
	return FERRY_OK;
}
