/* SPDX-License-Identifier: Apache-2.0 */
/* PSCI through the SMCCC conduit the DTB names: HVC when a hypervisor provides PSCI (QEMU without
 * virtualization=on, ferry when it says so), SMC when firmware or a hypervisor trapping SMC does
 * (QEMU with virtualization=on, ferry's default). */
#include "guest.h"

static bool psci_smc;

void psci_set_conduit_smc(bool smc) { psci_smc = smc; }

bool psci_conduit_is_smc(void) { return psci_smc; }

s64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fid;
	register u64 x1 __asm__("x1") = a1;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;

	/* SMCCC 1.1: x0-x3 are results or clobbered, x4-x17 preserved. */
	if (psci_smc)
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	else
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return (s64)x0;
}

s64 psci_cpu_on(u64 mpidr, u64 cpu)
{
	return psci_call(PSCI_CPU_ON_64, mpidr, (u64)(uintptr_t)guest_secondary_entry, cpu);
}

void psci_system_off(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}
