/* SPDX-License-Identifier: Apache-2.0 */
/* hostile: a bare-metal EL1 guest that attacks the hypervisor it runs on, from inside a VM: memory
 * outside its RAM, accesses MMIO emulation cannot describe, every width and misalignment on the
 * emulated devices, huge INTIDs and odd SGIs, PSCI with bad targets, entry points and races, reset
 * loops, unknown SMC/HVC calls, ferry's own hypercall with wrapping ranges, maintenance and WFI/WFE
 * storms, trapped and hidden system registers, AArch32 EL0, SIMD state across an injected abort, a
 * console flood with control bytes. Each attack checks its own expected outcome (an error code, an
 * exception the guest takes and recognizes, a value) and prints one PASS/FAIL line; the system test
 * (tests/system/test_hostile.py) checks what only the outside can see: ferry never panics, another VM
 * verifies clean, the shell answers. docs/isolation.md tables the attacks and their outcomes. The
 * attacks are in hostile_*.c by what they attack; this file holds their table (groups in
 * guest_main), the reset loop and the reporting.
 *
 * Bootargs: `fatal=1` runs only the last attack, which must stop this VM (ferry prints its
 * registers); `resets=N` (default 8) SYSTEM_RESET loops before the attacks; `groups=MASK` runs only
 * some groups of attacks (bits in the order of guest_main's calls: 0x1 memory ... 0x1000 the
 * hypercall), to show one fix at a time against an older ferry. */
#include "hostile.h"

#include <stdio.h>
#include <string.h>

/* The persistent record of the reset loop: RAM ferry does not reload on a reset (above the image,
 * below the DTB). */
#define RESET_MAGIC 0x686f7374696c6521ULL
struct reset_record {
	u64 magic, resets;
};

struct guest_platform plat;
u64 uart;
static u64 passed, failed, number;
static u64 opt_resets = 8, opt_fatal, opt_groups = ~0ULL;

void guest_fatal(void)
{
	con_printf("FAIL: unexpected exception (attacks so far: %llu passed, %llu failed)",
		   (unsigned long long)passed, (unsigned long long)failed);
	psci_system_off();
}

/* One access of `size` bytes at addr (a read, or a write of zero). */
void access(u64 addr, u32 size, bool write)
{
	u64 v = 0;

	switch (size * 2 + write) {
	case 2:
		__asm__ volatile("ldrb %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 3:
		__asm__ volatile("strb wzr, [%0]" : : "r"(addr) : "memory");
		break;
	case 4:
		__asm__ volatile("ldrh %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 5:
		__asm__ volatile("strh wzr, [%0]" : : "r"(addr) : "memory");
		break;
	case 8:
		__asm__ volatile("ldr %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 9:
		__asm__ volatile("str wzr, [%0]" : : "r"(addr) : "memory");
		break;
	case 16:
		__asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 17:
		__asm__ volatile("str xzr, [%0]" : : "r"(addr) : "memory");
		break;
	default:
		break;
	}
}

/* ---- reporting ---- */
char detail[200];

void report(const char *name, bool ok)
{
	number++;
	if (ok)
		passed++;
	else
		failed++;
	con_printf("attack %02llu %-26s %s %s", (unsigned long long)number, name,
		   ok ? "PASS" : "FAIL", detail);
	detail[0] = 0;
}

static void parse_args(void)
{
	u64 v;

	if (bootarg_u64(plat.bootargs, "resets", &v) == BOOTARG_SET)
		opt_resets = v;
	if (bootarg_u64(plat.bootargs, "fatal", &v) == BOOTARG_SET)
		opt_fatal = v;
	if (bootarg_u64(plat.bootargs, "groups", &v) == BOOTARG_SET)
		opt_groups = v;
}

/* The one attack that must stop this VM: an MMIO pair with no syndrome, under on-abort = "stop"
 * (the config of the VM that runs it). */
static void fatal_attack(void)
{
	u64 x = 0, y = 0;

	con_printf("fatal: LDP from the PL011 under on-abort = stop: this VM must stop here");
	__asm__ volatile("mov x19, #0x1111; mov x20, #0x2222; ldp %0, %1, [%2]"
			 : "+r"(x), "+r"(y)
			 : "r"(uart)
			 : "x19", "x20", "memory");
	con_printf("FAIL: still running after the fatal attack");
	psci_system_off();
}

void guest_main(u64 dtb, u64 entry_el)
{
	int err;
	struct reset_record *rec;

	(void)entry_el;
	con_set_prefix("hostile: ");
	err = plat_read_fdt((const void *)(uintptr_t)dtb, &plat);
	if (err) {
		con_printf("FAIL: no usable device tree (libfdt error %d)", err);
		psci_system_off();
	}
	con_set_base(plat.uart_base);
	uart = plat.uart_base;
	psci_set_conduit_smc(plat.psci_smc);
	parse_args();
	if (opt_fatal)
		fatal_attack();

	/* SYSTEM_RESET loop: ferry rebuilds the VM each time; RAM outside the image survives. */
	rec = (struct reset_record *)(uintptr_t)(plat.ram_base + plat.ram_size / 2 + GUEST_PAGE);
	if (rec->magic != RESET_MAGIC) {
		rec->magic = RESET_MAGIC;
		rec->resets = 0;
	}
	if (rec->resets < opt_resets) {
		rec->resets++;
		con_printf("reset %llu of %llu", (unsigned long long)rec->resets,
			   (unsigned long long)opt_resets);
		__asm__ volatile("dsb sy" ::: "memory");
		hc(PSCI_SYSTEM_RESET, 0, 0, 0);
		con_printf("FAIL: SYSTEM_RESET returned");
		psci_system_off();
	}
	con_printf("start: ram 0x%llx %llu MiB, %u vCPUs, uart 0x%llx, psci %s, after %llu resets",
		   (unsigned long long)plat.ram_base, (unsigned long long)(plat.ram_size >> 20),
		   plat.ncpus, (unsigned long long)uart, plat.psci_smc ? "smc" : "hvc",
		   (unsigned long long)rec->resets);
	NOTE("%llu SYSTEM_RESETs, each rebuilt by ferry", (unsigned long long)rec->resets);
	report("SYSTEM_RESET loop", rec->resets == opt_resets);

	static void (*const groups[])(void) = {
		atk_memory, atk_fetch,   atk_no_syndrome, atk_widths,  atk_gic,
		atk_smccc,  atk_sysregs, atk_simd,        atk_aarch32, atk_psci,
		atk_storms, atk_console, atk_hypercall,
	};

	for (u32 g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		if (opt_groups >> g & 1 && (groups[g] != atk_psci || plat.ncpus >= 2))
			groups[g]();
	con_printf("DONE attacks=%llu passed=%llu failed=%llu", (unsigned long long)number,
		   (unsigned long long)passed, (unsigned long long)failed);
	psci_system_off();
}
