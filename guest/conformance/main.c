/* SPDX-License-Identifier: Apache-2.0 */
/* The conformance guest's frame: platform from the DTB, the GIC brought up on every vCPU, the
 * check groups in order, one verdict line per check, a summary, PSCI SYSTEM_OFF. Secondary vCPUs
 * wait in WFI with IRQs unmasked for the SGIs the checks send them, and for commands. With
 * bootargs its-soak=N the guest runs only the ITS soak (check_its.c), for migration tests. */
#include <stdio.h>

#include "conf.h"

struct guest_platform plat;
u64 mpidr_of[GUEST_MAX_CPUS];
volatile u32 cpu_up[GUEST_MAX_CPUS];
volatile u32 sec_cmd[GUEST_MAX_CPUS];
static u32 n_pass, n_fail, n_skip;

void report(const char *name, enum verdict v, const char *fmt, ...)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };
	char detail[160] = "";
	va_list ap;

	if (fmt && *fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (v == V_PASS)
		n_pass++;
	else if (v == V_FAIL)
		n_fail++;
	else
		n_skip++;
	con_printf("%s: %s%s%s", name, word[v], detail[0] ? " - " : "", detail);
}

u64 ms_to_ticks(u64 ms) { return cnt_freq() / 1000 * ms; }

void delay_ms(u64 ms)
{
	u64 end = cnt_ticks() + ms_to_ticks(ms);

	while (cnt_ticks() < end)
		cpu_relax();
}

bool wait_flag(volatile u32 *flag, u64 ms)
{
	u64 end = cnt_ticks() + ms_to_ticks(ms);

	while (!*flag)
		if (cnt_ticks() > end)
			return *flag != 0;
	return true;
}

bool wfi_flag(volatile u32 *flag, u64 ms)
{
	u64 end = cnt_ticks() + ms_to_ticks(ms);

	while (!*flag && cnt_ticks() < end)
		wfi();
	return *flag != 0;
}

void guest_fatal(void)
{
	con_printf("summary: pass=%u fail=%u skip=%u FATAL", n_pass, n_fail + 1, n_skip);
	psci_system_off();
}

void guest_secondary(u64 cpu)
{
	u32 c = (u32)cpu;

	if (gic_init_cpu(c)) {
		con_printf("vcpu %u: its redistributor does not come up", c);
		return;
	}
	conf_install_vectors();
	irq_unmask();
	__atomic_store_n(&cpu_up[c], 1, __ATOMIC_RELEASE);
	for (;;) {
		u32 cmd = __atomic_exchange_n(&sec_cmd[c], CMD_NONE, __ATOMIC_ACQ_REL);

		if (cmd == CMD_OFF) {
			irq_mask();
			__atomic_store_n(&cpu_up[c], 0, __ATOMIC_RELEASE);
			psci_call(0x84000002u, 0, 0, 0); /* CPU_OFF: does not return */
			con_printf("vcpu %u: CPU_OFF returned", c);
		}
		wfi();
	}
}

void guest_main(u64 dtb, u64 entry_el)
{
	u64 soak;
	int err;

	con_set_prefix("conformance: ");
	err = plat_read_fdt((const void *)(uintptr_t)dtb, &plat);
	if (err) {
		con_printf("bad DTB at 0x%llx (%d)", (unsigned long long)dtb, err);
		guest_fatal();
	}
	con_set_base(plat.uart_base);
	psci_set_conduit_smc(plat.psci_smc);
	for (u32 i = 0; i < plat.ncpus; i++)
		mpidr_of[i] = plat.cpu_mpidr[i];
	con_printf("start: entered at EL%llu, %u vCPUs, RAM 0x%llx, psci %s, timer %llu Hz",
		   (unsigned long long)entry_el, plat.ncpus, (unsigned long long)plat.ram_base,
		   plat.psci_smc ? "smc" : "hvc", (unsigned long long)cnt_freq());
	if (gic_init_dist() || gic_init_cpu(0)) {
		con_printf("the GIC does not come up");
		guest_fatal();
	}
	conf_install_vectors();
	for (u32 i = 1; i < plat.ncpus; i++) {
		s64 r = psci_cpu_on(mpidr_of[i], i);

		if (r || !wait_flag(&cpu_up[i], 2000))
			con_printf("vcpu %u does not come up (CPU_ON %lld)", i, (long long)r);
	}
	if (bootarg_u64(plat.bootargs, "its-soak", &soak) == BOOTARG_SET) {
		its_soak((u32)soak);
		psci_system_off();
	}
	check_gic();
	check_timers();
	check_sgis();
	check_psci();
	check_board();
	check_debug();
	check_pmu();
	check_sve();
	check_its();
	con_printf("summary: pass=%u fail=%u skip=%u", n_pass, n_fail, n_skip);
	psci_system_off();
}
