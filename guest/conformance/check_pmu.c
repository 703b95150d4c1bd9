/* SPDX-License-Identifier: Apache-2.0 */
/* The PMUv3 as EL1 sees it (Arm ARM "The Performance Monitors Extension"): PMCR_EL0, the cycle
 * counter, event counters counting CPU_CYCLES (0x11) and SW_INCR (0x00, through PMSWINC_EL0), the
 * reset bits, and the overflow interrupt (QEMU virt's PPI 23) taken when a counter wraps. Uses event
 * counters 0 and 1 only: a hypervisor may keep the last ones for itself (MDCR_EL2.HPMN). */
#include "conf.h"

#define PMCR_E 1u
#define PMCR_P 2u
#define PMCR_C 4u
#define EV_SW_INCR 0x00
#define EV_CPU_CYCLES 0x11
#define CCNT (1u << 31)

static void pmu_quiet(void)
{
	SYSREG_WRITE("pmcntenclr_el0", 0xffffffffULL);
	SYSREG_WRITE("pmintenclr_el1", 0xffffffffULL);
	SYSREG_WRITE("pmovsclr_el0", 0xffffffffULL);
	isb();
}

void check_pmu(void)
{
	u64 dfr0 = SYSREG_READ("id_aa64dfr0_el1"), pmcr = SYSREG_READ("pmcr_el0");
	u32 ver = (dfr0 >> 8) & 0xf, n = (pmcr >> 11) & 0x1f;
	static const char *const rest[] = { "pmu.cycle_counter", "pmu.event_cpu_cycles",
					    "pmu.sw_increment", "pmu.reset_bits",
					    "pmu.overflow_irq" };

	report("pmu.ids", pass_if(ver != 0 && ver != 0xf && n >= 2), "PMUVer %u, PMCR_EL0.N %u",
	       ver, n);
	if (ver == 0 || ver == 0xf || n < 2) {
		for (u32 i = 0; i < 5; i++)
			report(rest[i], V_SKIP, "no PMU");
		return;
	}
	pmu_quiet();
	SYSREG_WRITE("pmuserenr_el0", 0);
	SYSREG_WRITE("pmccfiltr_el0", 0); /* count at EL1 and EL0 */
	SYSREG_WRITE("pmcr_el0", PMCR_E | PMCR_P | PMCR_C);
	isb();
	{
		u64 a, b;

		SYSREG_WRITE("pmcntenset_el0", CCNT);
		isb();
		a = SYSREG_READ("pmccntr_el0");
		delay_ms(2);
		b = SYSREG_READ("pmccntr_el0");
		SYSREG_WRITE("pmcntenclr_el0", CCNT);
		isb();
		report("pmu.cycle_counter", pass_if(b > a), "PMCCNTR_EL0 %llu -> %llu",
		       (unsigned long long)a, (unsigned long long)b);
	}
	{
		u64 a, b, ceid = SYSREG_READ("pmceid0_el0");

		SYSREG_WRITE("pmevtyper0_el0", EV_CPU_CYCLES);
		SYSREG_WRITE("pmevcntr0_el0", 0);
		SYSREG_WRITE("pmcntenset_el0", 1);
		isb();
		a = SYSREG_READ("pmevcntr0_el0");
		delay_ms(2);
		b = SYSREG_READ("pmevcntr0_el0");
		SYSREG_WRITE("pmcntenclr_el0", 1);
		isb();
		report("pmu.event_cpu_cycles", pass_if(((ceid >> EV_CPU_CYCLES) & 1) && b > a),
		       "PMCEID0 0x%llx, counter 0 %llu -> %llu", (unsigned long long)ceid,
		       (unsigned long long)a, (unsigned long long)b);
	}
	{
		u64 off, on, rd;

		SYSREG_WRITE("pmevtyper1_el0", EV_SW_INCR);
		SYSREG_WRITE("pmevcntr1_el0", 0);
		isb();
		SYSREG_WRITE("pmswinc_el0", 2); /* disabled: no count */
		isb();
		off = SYSREG_READ("pmevcntr1_el0");
		SYSREG_WRITE("pmcntenset_el0", 2);
		isb();
		for (int i = 0; i < 3; i++)
			SYSREG_WRITE("pmswinc_el0", 2);
		isb();
		on = SYSREG_READ("pmevcntr1_el0");
		SYSREG_WRITE("pmcr_el0", PMCR_E | PMCR_P);
		isb();
		rd = SYSREG_READ("pmevcntr1_el0");
		report("pmu.sw_increment", pass_if(off == 0 && on == 3),
		       "disabled %llu, after 3 %llu", (unsigned long long)off,
		       (unsigned long long)on);
		report("pmu.reset_bits", pass_if(rd == 0), "after PMCR_EL0.P %llu",
		       (unsigned long long)rd);
	}
	{
		volatile u32 *cnt = &irqlog[0].count[INTID_PMU];
		bool got;
		u64 ovs, val;

		irq_log_clear(0);
		gic_clear(0, INTID_PMU);
		gic_set_prio(0, INTID_PMU, 0x80);
		gic_enable(0, INTID_PMU, true);
		SYSREG_WRITE("pmevcntr1_el0", 0xffffffffULL);
		SYSREG_WRITE("pmintenset_el1", 2);
		isb();
		irq_unmask();
		SYSREG_WRITE("pmswinc_el0", 2);
		isb();
		got = wait_flag(cnt, WAIT_MS);
		irq_mask();
		ovs = irqlog[0].pmovs_in;
		/* Bits [31:0] wrap to 0; PMUv3p5 counters keep counting in [63:32]. */
		val = SYSREG_READ("pmevcntr1_el0");
		pmu_quiet();
		gic_clear(0, INTID_PMU);
		report("pmu.overflow_irq", pass_if(got && *cnt == 1 && (ovs & 2) && (u32)val == 0),
		       "PPI 23 taken %u times, PMOVSSET in handler 0x%llx, counter after %llu",
		       *cnt, (unsigned long long)ovs, (unsigned long long)val);
	}
	SYSREG_WRITE("pmcr_el0", 0);
	isb();
}
