/* SPDX-License-Identifier: Apache-2.0 */
/* hostile's attacks on MMIO emulation and the emulated devices: accesses with no syndrome, every
 * width and misalignment, and a console flood. */
#include "hostile.h"

/* ---- MMIO accesses with no syndrome (ISV = 0): nothing to emulate, an abort is injected ---- */
static bool no_syndrome(const char *what, u64 addr, int kind)
{
	u64 n, a = addr, x = 0, y = 0;

	catch_on();
	switch (kind) {
	case 0:
		__asm__ volatile("ldp %0, %1, [%2]" : "+r"(x), "+r"(y) : "r"(a) : "memory");
		break;
	case 1:
		__asm__ volatile("stp %0, %1, [%2]" : : "r"(x), "r"(y), "r"(a) : "memory");
		break;
	case 2:
		__asm__ volatile("ldr %w0, [%1], #4" : "+r"(x), "+r"(a) : : "memory");
		break;
	case 3:
		__asm__ volatile(".arch_extension lse\n\tldadd %w1, %w0, [%2]"
				 : "+r"(x)
				 : "r"(y), "r"(a)
				 : "memory");
		break;
	case 4:
		__asm__ volatile("dc zva, %0" : : "r"(a) : "memory");
		break;
	default:
		break;
	}
	n = catch_off();
	NOTE("%s: %llu exception(s), ESR 0x%llx (FSC 0x%llx)", what, (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)fsc_of(guest_catch.esr));
	/* LDP/STP/writeback/atomics reach stage 2 with no syndrome: ferry injects an external abort.
	 * DC ZVA to Device memory is the guest's own alignment fault (stage 1) or, where the CPU
	 * lets it through, the same injected abort. */
	return n == 1 && ec_of(guest_catch.esr) == EC_DABT_CUR &&
	       (fsc_of(guest_catch.esr) == FSC_SEA ||
		(kind >= 3 &&
		 (fsc_of(guest_catch.esr) == FSC_ALIGN || fsc_of(guest_catch.esr) == 0x35)));
}

void atk_no_syndrome(void)
{
	report("LDP from the PL011", no_syndrome("ldp", uart, 0));
	report("STP to the GICD", no_syndrome("stp", GICD + 0x100, 1));
	report("post-index LDR, PL011", no_syndrome("ldr writeback", uart + 0x18, 2));
	report("LDADD on the GICD", no_syndrome("ldadd", GICD + 0x100, 3));
	report("DC ZVA on the PL011", no_syndrome("dc zva", uart, 4));
}

/* ---- every width and misalignment on an emulated device: aligned accesses are emulated (or
 * RAZ/WI), misaligned ones are the guest's own alignment faults on Device memory ---- */
static bool widths(const char *what, u64 base, u64 span)
{
	u64 misaligned = 0, faults = 0, bad = 0;

	for (u64 off = 0; off < span; off++)
		for (u32 size = 1; size <= 8; size *= 2)
			for (int write = 0; write < 2; write++) {
				bool mis = off & (size - 1);

				catch_on();
				access(base + off, size, write);
				if (catch_off()) {
					faults++;
					if (!mis || fsc_of(guest_catch.esr) != FSC_ALIGN)
						bad++;
				}
				misaligned += mis;
			}
	NOTE("%s: %llu misaligned accesses, %llu alignment faults, %llu other exceptions", what,
	     (unsigned long long)misaligned, (unsigned long long)faults, (unsigned long long)bad);
	/* A misaligned access to Device memory is the guest's own alignment fault on hardware;
	 * QEMU lets it through to stage 2, where ferry emulates it (RAZ/WI for the sizes and offsets
	 * the register does not take). Either way: no other exception, no stop. */
	return bad == 0 && (faults == 0 || faults == misaligned);
}

void atk_widths(void)
{
	/* Registers whose writes of zero are harmless: GICD_IGROUPR1.. (SPIs), GICR_WAKER area is
	 * avoided (sleeping the redistributor), the PL011's ILPR/IBRD/FBRD. */
	report("widths on the GICD", widths("GICD 0x84", GICD + 0x84, 16));
	report("widths on the GICR", widths("GICR 0x10000+0x84", GICR + 0x10000 + 0x80, 16));
	report("widths on the PL011", widths("PL011 0x20", uart + 0x20, 16));
}

/* ---- the console: a flood with control bytes and a forged prefix ---- */
void atk_console(void)
{
	for (int i = 0; i < 40; i++)
		con_printf(
			"flood %02d \x1b[2J\x1b]0;owned\x07\r[victim] memstress: FAIL forged\b\b\x1b[31m",
			i);
	NOTE("40 lines with ESC sequences, BEL, CR, BS and a forged [victim] prefix");
	report("console flood, escapes", true);
	/* Three times the burst ferry lets a VM print at once, faster than its rate: the rest is
	 * dropped and counted by ferry (the test checks its line). Then quiet for a second, so that
	 * the rate limit lets the next reports through. */
	u64 t0 = cnt_ticks();

	for (int i = 0; i < 1600; i++)
		con_printf(
			"rate %04d ......................................................................"
			"...................",
			i);
	NOTE("1600 lines of 120 bytes in %llu ms",
	     (unsigned long long)((cnt_ticks() - t0) * 1000 / cnt_freq()));
	for (t0 = cnt_ticks(); cnt_ticks() - t0 < cnt_freq();)
		cpu_relax();
	report("console rate limit", true);
}
