/* SPDX-License-Identifier: Apache-2.0 */
/* hostile's attacks on the interrupt controller: the ITS given tables and a queue outside RAM, the
 * vGIC's INTIDs past what it has and odd SGIs. */
#include "hostile.h"

#define ITS 0x08080000ULL
static u64 its_queue[512] __attribute__((aligned(4096)));

/* The ITS is ferry's model (docs/vgic.md "LPIs and the ITS"): whatever addresses it is given, it
 * reaches only this VM's RAM. A command queue just past the end of RAM stalls it
 * (GITS_CREADR.Stalled); with the queue in RAM, a device table at the top of the IPA space and an
 * ITT just past RAM make MAPD/MAPTI/INT skipped commands: the queue goes on, nothing faults, and
 * the memstress VM beside keeps verifying. */
bool its_outside_ram(u64 end)
{
	u64 n, stalled, creadr;

	catch_on();
	wr32(ITS, 0);
	wr64(ITS + 0x80, 1ULL << 63 | end);
	wr32(ITS, 1);
	wr64(ITS + 0x88, 0x20);
	stalled = rd64(ITS + 0x90);
	wr32(ITS, 0);
	wr64(ITS + 0x100, 1ULL << 63 | (((1ULL << 39) - 0x10000) & ~0xffffULL) | 2ULL << 8);
	wr64(ITS + 0x80, 1ULL << 63 | (u64)(uintptr_t)its_queue);
	its_queue[0] = 0x08; /* MAPD device 0, ITT past RAM */
	its_queue[1] = 4;
	its_queue[2] = 1ULL << 63 | end;
	its_queue[4] = 0x0a | 5ULL << 32; /* MAPTI device 5 (table outside RAM) */
	its_queue[5] = 8192ULL << 32;
	its_queue[8] = 0x03; /* INT device 0 event 0 */
	__asm__ volatile("dsb sy" ::: "memory");
	wr32(ITS, 1);
	wr64(ITS + 0x88, 0x60);
	creadr = rd64(ITS + 0x90);
	wr32(ITS, 0);
	n = catch_off();
	NOTE("queue past RAM: GITS_CREADR 0x%llx; tables outside RAM: 0x%llx; %llu exception(s)",
	     (unsigned long long)stalled, (unsigned long long)creadr, (unsigned long long)n);
	return n == 0 && stalled == 1 && creadr == 0x60;
}

/* ---- the vGIC: INTIDs past what it has, odd SGIs ---- */
void atk_gic(void)
{
	u32 typer = rd32(GICD + 0x4), lines = 32 * ((typer & 0x1f) + 1);
	u64 bad = 0;

	/* Set-enable, priority and routing of every INTID up to 1023, and 1024-1055 beyond. */
	for (u32 id = lines; id < 1024; id += 32)
		wr32(GICD + 0x100 + id / 8, ~0u);
	for (u32 id = lines; id < 1024; id += 4)
		wr32(GICD + 0x400 + id, ~0u);
	for (u32 id = lines; id < 1020; id++) {
		__asm__ volatile("str %0, [%1]"
				 :
				 : "r"(~0ULL), "r"(GICD + 0x6000 + 8ULL * id)
				 : "memory");
		if (rd64(GICD + 0x6000 + 8ULL * id))
			bad++;
	}
	for (u32 id = lines; id < 1024; id += 32)
		if (rd32(GICD + 0x100 + id / 8))
			bad++;
	NOTE("%u INTIDs implemented; %llu registers past them read non-zero", lines,
	     (unsigned long long)bad);
	report("INTIDs up to 1023", bad == 0);
	/* SGIs: IRM (all but self), every RS, absent Aff1-3, INTID 15, target lists of all ones. */
	catch_on();
	for (u64 rs = 0; rs < 16; rs++) {
		u64 v = (1ULL << 40) | (rs << 44) | (0xffULL << 48) | (0xffULL << 32) |
			(0xffULL << 16) | (15ULL << 24) | 0xffff;

		__asm__ volatile("msr S3_0_C12_C11_5, %0" : : "r"(v)); /* ICC_SGI1R_EL1 */
		__asm__ volatile("msr S3_0_C12_C11_6, %0" : : "r"(v & ~(1ULL << 40))); /* ASGI1R */
		__asm__ volatile("msr S3_0_C12_C11_7, %0" : : "r"(v));                 /* SGI0R */
	}
	NOTE("48 SGI register writes, %llu exceptions", (unsigned long long)guest_catch.count);
	report("SGIs: IRM, RS, absent aff", catch_off() == 0);
}
