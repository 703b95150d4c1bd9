/* SPDX-License-Identifier: Apache-2.0 */
/* PSCI (Arm DEN0022) as an EL1 client sees it: version, PSCI_FEATURES, the error codes for an
 * unknown function, a CPU that is already on and an MPIDR that names no CPU, AFFINITY_INFO through
 * a CPU_OFF and a second CPU_ON, and CPU_SUSPEND's standby returning on an interrupt. */
#include "conf.h"

#define F_PSCI_VERSION 0x84000000u
#define F_CPU_SUSPEND_64 0xc4000001u
#define F_CPU_ON_64 0xc4000003u
#define F_AFFINITY_INFO_64 0xc4000004u
#define F_MIGRATE_INFO_TYPE 0x84000006u
#define F_PSCI_FEATURES 0x8400000au
#define RET_NOT_SUPPORTED (-1)
#define RET_INVALID_PARAMETERS (-2)
#define RET_ALREADY_ON (-4)

static s64 call(u64 fid, u64 a1, u64 a2, u64 a3) { return psci_call(fid, a1, a2, a3); }

static void check_cpu_off_on(void)
{
	s64 off = -100, on, info_on = -100;
	u64 end;
	bool up, sgi = false;

	if (plat.ncpus < 2 || !cpu_up[1]) {
		report("psci.cpu_off_on", V_SKIP, "needs 2 vCPUs");
		return;
	}
	__atomic_store_n(&sec_cmd[1], CMD_OFF, __ATOMIC_RELEASE);
	send_sgi(sgi1r_value(SGI_WAKE, 1u << 1, false));
	end = cnt_ticks() + ms_to_ticks(2000);
	while (cnt_ticks() < end && (off = call(F_AFFINITY_INFO_64, mpidr_of[1], 0, 0)) != 1)
		delay_ms(1);
	on = psci_cpu_on(mpidr_of[1], 1);
	up = wait_flag(&cpu_up[1], 2000);
	if (up) {
		info_on = call(F_AFFINITY_INFO_64, mpidr_of[1], 0, 0);
		/* Its redistributor kept its configuration; the new instance re-initialised it. */
		irq_log_clear(1);
		gic_clear(1, 2);
		gic_set_prio(1, 2, 0x80);
		gic_enable(1, 2, true);
		send_sgi(sgi1r_value(2, 1u << 1, false));
		sgi = wait_flag(&irqlog[1].count[2], WAIT_MS);
	}
	report("psci.cpu_off_on", pass_if(off == 1 && on == 0 && up && info_on == 0 && sgi),
	       "AFFINITY_INFO after CPU_OFF %lld, CPU_ON %lld, up %d, AFFINITY_INFO %lld, SGI %d",
	       (long long)off, (long long)on, up, (long long)info_on, sgi);
}

void check_psci(void)
{
	s64 v = call(F_PSCI_VERSION, 0, 0, 0);

	if (!plat.have_psci) {
		report("psci.version", V_FAIL, "no /psci node");
		return;
	}
	report("psci.version", pass_if(v >= 0x10000), "0x%llx", (unsigned long long)v);
	{
		s64 fv = call(F_PSCI_FEATURES, F_PSCI_VERSION, 0, 0);
		s64 fo = call(F_PSCI_FEATURES, F_CPU_ON_64, 0, 0);
		s64 fu = call(F_PSCI_FEATURES, 0x8400001fu, 0, 0);

		report("psci.features", pass_if(fv == 0 && fo >= 0 && fu == RET_NOT_SUPPORTED),
		       "PSCI_VERSION %lld, CPU_ON %lld, unassigned %lld", (long long)fv,
		       (long long)fo, (long long)fu);
	}
	{
		s64 r = call(0x8400001fu, 0, 0, 0);

		report("psci.unknown_function", pass_if(r == RET_NOT_SUPPORTED), "%lld",
		       (long long)r);
	}
	{
		s64 r = call(F_MIGRATE_INFO_TYPE, 0, 0, 0);

		report("psci.migrate_info_type", pass_if(r >= 0 && r <= 2), "%lld", (long long)r);
	}
	{
		s64 self = call(F_AFFINITY_INFO_64, mpidr_of[0], 0, 0);
		s64 bad = call(F_AFFINITY_INFO_64, mpidr_of[0] | 0xfe, 0, 0);

		report("psci.affinity_info", pass_if(self == 0 && bad == RET_INVALID_PARAMETERS),
		       "self %lld, no such CPU %lld", (long long)self, (long long)bad);
	}
	{
		s64 r = psci_cpu_on(mpidr_of[0], 0);

		report("psci.cpu_on_already_on", pass_if(r == RET_ALREADY_ON), "%lld",
		       (long long)r);
	}
	{
		s64 r = psci_cpu_on(mpidr_of[0] | 0xfe, 7);

		report("psci.cpu_on_no_such_cpu", pass_if(r == RET_INVALID_PARAMETERS), "%lld",
		       (long long)r);
	}
	{
		/* Standby (power_state 0) ends at the next interrupt, or earlier: arm the virtual
		 * timer so that one comes even where the call really waits. IRQs stay masked. */
		s64 r;

		irq_mask();
		gic_clear(0, INTID_VTIMER);
		gic_enable(0, INTID_VTIMER, true);
		SYSREG_WRITE("cntv_tval_el0", ms_to_ticks(5));
		SYSREG_WRITE("cntv_ctl_el0", 1);
		isb();
		r = call(F_CPU_SUSPEND_64, 0, 0, 0);
		SYSREG_WRITE("cntv_ctl_el0", 0);
		isb();
		gic_clear(0, INTID_VTIMER);
		report("psci.cpu_suspend_standby", pass_if(r == 0), "%lld", (long long)r);
	}
	check_cpu_off_on();
}
