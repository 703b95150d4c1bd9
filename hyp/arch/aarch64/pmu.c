/* SPDX-License-Identifier: Apache-2.0 */
/* An EL2-only instruction counter for benchmarks: the PMU's last event counter, reserved for EL2 by
 * MDCR_EL2.HPMN and enabled by MDCR_EL2.HPME, counts INST_RETIRED (event 0x08) at EL2 only. The guest
 * keeps the other counters and PMCR_EL0. Under QEMU the event exists only with `-icount shift=N`
 * (docs/qemu-facts.md); then the counts are identical from run to run. */
#include "arch/aarch64/pmu.h"

#include "arch/aarch64/asm.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/sysreg.h"

#define MDCR_HPMN_MASK 0x1fULL
#define MDCR_HPME BIT(7)
#define MDCR_HLP BIT(26)      /* 64-bit EL2 counters (FEAT_PMUv3p5) */
#define PMEVTYPER_P BIT(31)   /* do not count EL1 */
#define PMEVTYPER_U BIT(30)   /* do not count EL0 */
#define PMEVTYPER_NSH BIT(27) /* count EL2 */
#define EVENT_INST_RETIRED 0x08

static bool pmu_ok[MAX_CPUS];
static u32 pmu_counter[MAX_CPUS];

u32 pmu_el2_init(void)
{
	u32 cpu = cpu_index();
	u64 n, pmuver = FIELD_GET(sysreg_read(id_aa64dfr0_el1), 11, 8);

	if (pmuver == 0 || pmuver == 0xf)
		return 0;
	n = FIELD_GET(sysreg_read(pmcr_el0), 15, 11);
	if (n < 1 || n > 8 || !(sysreg_read(pmceid0_el0) & BIT(EVENT_INST_RETIRED)))
		return 0;
	pmu_counter[cpu] = (u32)(n - 1);
	sysreg_write(mdcr_el2, (n - 1) | MDCR_HPME | MDCR_HLP);
	sysreg_write(pmselr_el0, n - 1);
	isb();
	sysreg_write(pmxevtyper_el0,
		     EVENT_INST_RETIRED | PMEVTYPER_P | PMEVTYPER_U | PMEVTYPER_NSH);
	sysreg_write(pmxevcntr_el0, 0);
	sysreg_write(pmcntenset_el0, BIT(n - 1));
	isb();
	pmu_ok[cpu] = true;
	return (u32)n; /* counter n - 1, plus one */
}

/* Instructions retired at EL2 on this CPU so far; 0 when the event is not available. Read through
 * PMEVCNTR<n>_EL0 directly: PMSELR_EL0 belongs to the guest once it runs. */
u64 pmu_el2_read(void)
{
	u32 cpu = cpu_index();

	if (!pmu_ok[cpu])
		return 0;
	switch (pmu_counter[cpu]) {
	case 0:
		return sysreg_read(pmevcntr0_el0);
	case 1:
		return sysreg_read(pmevcntr1_el0);
	case 2:
		return sysreg_read(pmevcntr2_el0);
	case 3:
		return sysreg_read(pmevcntr3_el0);
	case 4:
		return sysreg_read(pmevcntr4_el0);
	case 5:
		return sysreg_read(pmevcntr5_el0);
	case 6:
		return sysreg_read(pmevcntr6_el0);
	case 7:
		return sysreg_read(pmevcntr7_el0);
	default:
		return 0;
	}
}
