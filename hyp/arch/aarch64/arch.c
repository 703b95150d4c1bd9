/* SPDX-License-Identifier: Apache-2.0 */
/* The arch/arch.h hooks at EL2, and the few other instructions the core needs. */
#include "arch/arch.h"

#include "arch/aarch64/smc.h"
#include "arch/aarch64/sysreg.h"
#include "lib/check.h"
#include "mm/tlbi.h"

void arch_dsb_ishst(void) { dsb(ishst); }
void arch_dsb_ish(void) { dsb(ish); }
void arch_isb(void) { isb(); }

/* IPAS2E1IS, RIPAS2E1IS, VMALLS12E1IS and VMALLE1IS act on the VMID in VTTBR_EL2. On a CPU running a
 * guest that is its own VM; the management CPU (no guest, HCR_EL2.VM=0) switches VTTBR_EL2 to the
 * target VMID and leaves it there. That write flushes only this CPU's QEMU TLB, never a guest CPU's. */
void arch_tlbi(u16 vmid, unsigned kind, u64 operand)
{
	u64 vttbr = sysreg_read(vttbr_el2);

	if (((vttbr >> 48) & 0xffff) != vmid) {
		sysreg_write(vttbr_el2, (u64)vmid << 48);
		isb();
	}
	/* Encoded with SYS so no -march beyond armv8.0 is needed for FEAT_TLBIRANGE's RIPAS2E1IS. */
	switch (kind) {
	case TLBI_IPAS2E1IS:
		__asm__ volatile("sys #4, c8, c0, #1, %0" : : "r"(operand) : "memory");
		break;
	case TLBI_RIPAS2E1IS:
		__asm__ volatile("sys #4, c8, c0, #2, %0" : : "r"(operand) : "memory");
		break;
	case TLBI_VMALLS12E1IS:
		__asm__ volatile("sys #4, c8, c3, #6, xzr" : : : "memory");
		break;
	case TLBI_VMALLE1IS:
		__asm__ volatile("sys #0, c8, c3, #0, xzr" : : : "memory");
		break;
	default:
		panic("arch_tlbi: unknown TLBI kind %u", kind);
	}
}

u64 arch_smc(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fid;
	register u64 x1 __asm__("x1") = a1;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;

	__asm__ volatile("smc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			 :
			 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
			   "x15", "x16", "x17", "memory");
	return x0;
}

/* Semihosting SYS_EXIT_EXTENDED: QEMU (-semihosting-config enable=on,target=native) exits with this
 * status, which is how a test learns whether the run was clean. */
void arch_semihost_exit(u32 code)
{
	static volatile u64 block[2];

	block[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
	block[1] = code;
	register u64 x0 __asm__("x0") = 0x20;
	register u64 x1 __asm__("x1") = (u64)(uintptr_t)block;
	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	/* Without semihosting the HLT is undefined here: fall back to PSCI SYSTEM_OFF (status 0). */
	arch_smc(0x84000008, 0, 0, 0);
	for (;;)
		wfe();
}
