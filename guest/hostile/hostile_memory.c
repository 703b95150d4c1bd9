/* SPDX-License-Identifier: Apache-2.0 */
/* hostile's attacks on memory: outside its RAM (another VM's, the top of the IPA space, an absent
 * vCPU's GICR, ferry's own NIC) and instruction fetches stage 2 must refuse. */
#include "hostile.h"

/* ---- memory outside the VM's RAM: an external abort is injected (on-abort = "inject") ---- */
static bool sea_at(u64 addr, bool write)
{
	u64 n;

	catch_on();
	if (write)
		access(addr, 8, true);
	else
		(void)rd64(addr);
	n = catch_off();
	NOTE("0x%llx: %llu exception(s), ESR 0x%llx FAR 0x%llx", (unsigned long long)addr,
	     (unsigned long long)n, (unsigned long long)guest_catch.esr,
	     (unsigned long long)guest_catch.far);
	return n == 1 && ec_of(guest_catch.esr) == EC_DABT_CUR &&
	       fsc_of(guest_catch.esr) == FSC_SEA && guest_catch.far == addr;
}

void atk_memory(void)
{
	u64 end = plat.ram_base + plat.ram_size, n;
	bool ok = true;

	report("read below RAM", sea_at(plat.ram_base - 8, false));
	report("write just past RAM", sea_at(end, true));
	/* Where ferry places other VMs' RAM (physical addresses above its own 64 MiB), as IPAs. */
	for (u64 a = 0x44000000; a < 0x54000000 && ok; a += 0x4000000)
		if (a < plat.ram_base || a >= end)
			ok = sea_at(a + 0x1000, false);
	report("other VMs' PA range as IPA", ok);
	report("top of the IPA space", sea_at((1ULL << 39) - 8, false));
	report("ITS tables outside its RAM", its_outside_ram(end));
	/* QEMU puts ferry's own NIC in the virtio-mmio window's last slot. A guest sees only the
	 * empty slots ferry emulates there: magic and version, device ID 0 (not 1, a network card),
	 * and its writes (here: the device status) go nowhere. */
	u32 magic, dev_id, status;

	catch_on();
	magic = rd32(0x0a003e00);
	dev_id = rd32(0x0a003e08);
	wr32(0x0a003e70, 0xff);
	status = rd32(0x0a003e70);
	n = catch_off();
	NOTE("slot 31: magic 0x%x device %u status 0x%x, %llu exception(s)", magic, dev_id, status,
	     (unsigned long long)n);
	report("ferry's virtio-mmio NIC",
	       n == 0 && magic == 0x74726976 && dev_id == 0 && status == 0);
	report("GICR of an absent vCPU", sea_at(GICR + 2 * GICR_STRIDE, false));
	/* 8 bytes at the PL011 window's last 4: the access does not lie in the window. */

	catch_on();
	access(uart + 0xffc, 8, false);
	n = catch_off();
	NOTE("8 bytes at 0x%llx: %llu exception(s), ESR 0x%llx", (unsigned long long)(uart + 0xffc),
	     (unsigned long long)n, (unsigned long long)guest_catch.esr);
	report("PL011 window straddled", n == 1 && ec_of(guest_catch.esr) == EC_DABT_CUR &&
						 (fsc_of(guest_catch.esr) == FSC_SEA ||
						  fsc_of(guest_catch.esr) == FSC_ALIGN));
}

void atk_fetch(void)
{
	u64 n;

	catch_on();
	__asm__ volatile("blr %0" : : "r"(0x48000000ULL) : "x30", "memory");
	n = catch_off();
	NOTE("%llu exception(s), ESR 0x%llx ELR 0x%llx", (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)guest_catch.elr);
	report("fetch outside RAM", n == 1 && ec_of(guest_catch.esr) == EC_IABT_CUR &&
					    fsc_of(guest_catch.esr) == FSC_SEA &&
					    guest_catch.elr == 0x48000000);
	/* Stage 1 makes device memory execute-never: with the MMU off, the fetch reaches stage 2. */
	catch_on();
	hostile_call_mmu_off(uart);
	n = catch_off();
	NOTE("%llu exception(s), ESR 0x%llx ELR 0x%llx", (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)guest_catch.elr);
	report("fetch from the PL011", n == 1 && ec_of(guest_catch.esr) == EC_IABT_CUR &&
					       fsc_of(guest_catch.esr) == FSC_SEA &&
					       guest_catch.elr == uart);
}
