/* SPDX-License-Identifier: Apache-2.0 */
/* The self-hosted debug registers at EL1 (Arm ARM "AArch64 Self-hosted Debug"): ID fields, a
 * breakpoint and a watchpoint value register written and read back, and a real hardware breakpoint
 * and watchpoint taken as debug exceptions at EL1 (MDSCR_EL1.KDE, OS lock clear, PSTATE.D clear). */
#include "conf.h"

#define EC_BKPT_CUR 0x31
#define EC_WPT_CUR 0x35

volatile u32 debug_hits[2];
volatile u64 debug_esr;
static volatile u64 watched;

/* The exception handler's part (exceptions.c): disable what fired and retry the instruction. */
bool debug_exception(u64 esr);
bool debug_exception(u64 esr)
{
	u32 ec = (u32)(esr >> 26) & 0x3f;

	if (ec == EC_BKPT_CUR) {
		SYSREG_WRITE("dbgbcr0_el1", 0);
		debug_hits[0]++;
	} else if (ec == EC_WPT_CUR) {
		SYSREG_WRITE("dbgwcr0_el1", 0);
		debug_hits[1]++;
	} else {
		return false;
	}
	debug_esr = esr;
	isb();
	return true;
}

static __attribute__((noinline)) u64 breakpoint_target(u64 x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

void check_debug(void)
{
	u64 dfr0 = SYSREG_READ("id_aa64dfr0_el1");
	u32 debugver = dfr0 & 0xf, brps = ((dfr0 >> 12) & 0xf) + 1, wrps = ((dfr0 >> 20) & 0xf) + 1;
	u64 rb_b, rb_w, mdscr;

	report("debug.ids", pass_if(debugver >= 6 && brps >= 2 && wrps >= 2),
	       "DebugVer %u, %u breakpoints, %u watchpoints", debugver, brps, wrps);

	SYSREG_WRITE("dbgbvr0_el1", 0x40081234ULL & ~3ULL);
	SYSREG_WRITE("dbgwvr0_el1", 0x40082340ULL);
	isb();
	rb_b = SYSREG_READ("dbgbvr0_el1");
	rb_w = SYSREG_READ("dbgwvr0_el1");
	report("debug.value_registers",
	       pass_if(rb_b == (0x40081234ULL & ~3ULL) && rb_w == 0x40082340ULL),
	       "DBGBVR0 0x%llx DBGWVR0 0x%llx", (unsigned long long)rb_b, (unsigned long long)rb_w);

	/* OS lock off, monitor debug events on at EL1. */
	SYSREG_WRITE("oslar_el1", 0);
	mdscr = SYSREG_READ("mdscr_el1");
	SYSREG_WRITE("mdscr_el1", mdscr | (1 << 13) | (1 << 15)); /* KDE, MDE */
	isb();
	__asm__ volatile("msr daifclr, #8; isb" ::: "memory");

	debug_hits[0] = debug_hits[1] = 0;
	SYSREG_WRITE("dbgbvr0_el1", (u64)(uintptr_t)breakpoint_target);
	/* E, PMC = 0b01 (EL1), BAS = 0b1111 (an A64 instruction), unlinked address match. */
	SYSREG_WRITE("dbgbcr0_el1", 1 | (1 << 1) | (0xf << 5));
	isb();
	u64 r = breakpoint_target(4);

	SYSREG_WRITE("dbgbcr0_el1", 0);
	isb();
	report("debug.breakpoint", pass_if(debug_hits[0] == 1 && r == 13),
	       "taken %u, function result %llu", debug_hits[0], (unsigned long long)r);

	SYSREG_WRITE("dbgwvr0_el1", (u64)(uintptr_t)&watched);
	/* E, PAC = 0b01 (EL1), LSC = 0b10 (stores), BAS = 0xff (the 8 bytes). */
	SYSREG_WRITE("dbgwcr0_el1", 1 | (1 << 1) | (2 << 3) | (0xff << 5));
	isb();
	(void)watched; /* a load: not watched */
	u32 loads = debug_hits[1];

	watched = 42;
	SYSREG_WRITE("dbgwcr0_el1", 0);
	isb();
	report("debug.watchpoint", pass_if(loads == 0 && debug_hits[1] == 1 && watched == 42),
	       "load hits %u, store hits %u", loads, debug_hits[1]);

	__asm__ volatile("msr daifset, #8; isb" ::: "memory");
	SYSREG_WRITE("mdscr_el1", mdscr);
	isb();
}
