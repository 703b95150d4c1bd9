/* SPDX-License-Identifier: Apache-2.0 */
/* Unexpected exceptions and stack-protector failures: say what and where, then let the program
 * give its verdict (guest_fatal). */
#include "guest.h"

/* -fstack-protector-strong (mk/flags.mk) references these; libfdt.a was built with it too. A fixed
 * canary: the guest has no entropy source worth the name at boot, and it guards against our own
 * overruns, not an attacker. */
uintptr_t __stack_chk_guard = 0x6d656d7374726573ULL;
void __stack_chk_fail(void) __attribute__((noreturn));

static const char *const vector_names[16] = {
	"synchronous (SP_EL0)",
	"IRQ (SP_EL0)",
	"FIQ (SP_EL0)",
	"SError (SP_EL0)",
	"synchronous",
	"IRQ",
	"FIQ",
	"SError",
	"synchronous from EL0 (AArch64)",
	"IRQ from EL0",
	"FIQ from EL0",
	"SError from EL0",
	"synchronous from EL0 (AArch32)",
	"IRQ from EL0 (AArch32)",
	"FIQ from EL0 (AArch32)",
	"SError from EL0 (AArch32)",
};

struct guest_catch guest_catch;
_Static_assert(__builtin_offsetof(struct guest_catch, vector) == GUEST_CATCH_VECTOR &&
		       __builtin_offsetof(struct guest_catch, resume) == GUEST_CATCH_RESUME &&
		       __builtin_offsetof(struct guest_catch, count) == GUEST_CATCH_COUNT,
	       "head.S knows these offsets");

/* Set while a vCPU reports: a fault inside the report (a bad console address) must not recurse. */
static u32 reporting[GUEST_MAX_CPUS];

void guest_exception(u64 vector, u64 esr, u64 far, u64 elr, u64 spsr)
{
	u64 cpu = cpu_index() % GUEST_MAX_CPUS;

	if (__atomic_exchange_n(&reporting[cpu], 1, __ATOMIC_RELAXED))
		psci_system_off();
	con_printf(
		"exception on vcpu %llu: %s, ESR 0x%llx (EC 0x%llx ISS 0x%llx) FAR 0x%llx ELR 0x%llx "
		"SPSR 0x%llx",
		(unsigned long long)cpu, vector_names[vector & 15], (unsigned long long)esr,
		(unsigned long long)(esr >> 26) & 0x3f, (unsigned long long)esr & 0x1ffffff,
		(unsigned long long)far, (unsigned long long)elr, (unsigned long long)spsr);
	guest_fatal();
}

void __stack_chk_fail(void)
{
	con_printf("stack protector fired on vcpu %llu", (unsigned long long)cpu_index());
	guest_fatal();
}
