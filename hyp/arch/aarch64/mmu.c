/* SPDX-License-Identifier: Apache-2.0 */
/* EL2 stage 1: an identity map built once by the boot CPU and shared by all CPUs.
 * 4K granule, 39-bit VA (T0SZ=25) so the walk starts at level 1 with 1 GiB blocks: the first GiB (all
 * of QEMU virt's low devices: GIC, PL011, virtio-mmio) as Device-nGnRE, RAM as Normal write-back.
 * RAM above 512 GiB would need a level-0 table; QEMU virt puts RAM at 1 GiB, so ferry refuses it.
 *
 * Only ferry's code is executable, and it is read-only: the GiB holding ferry's image is mapped by
 * a level-2 table of 2 MiB blocks, and the 2 MiB holding its code by a level-3 table of pages, so
 * [__image_start, __text_end) is read-only executable and everything else (data, stacks, the page
 * pool, every guest's RAM, devices) is execute-never. A stray EL2 write cannot change code, and
 * nothing a guest wrote can ever run at EL2. SCTLR_EL2.WXN enforces the same rule in hardware. */
#include "arch/aarch64/mmu.h"

#include "arch/aarch64/asm.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/sysreg.h"
#include "lib/check.h"

#define MAIR_DEVICE_IDX 0
#define MAIR_NORMAL_IDX 1
#define MAIR_VALUE ((0x04ULL << (8 * MAIR_DEVICE_IDX)) | (0xffULL << (8 * MAIR_NORMAL_IDX)))

#define PTE_VALID BIT(0)
#define PTE_ATTRIDX(i) ((u64)(i) << 2)
#define PTE_SH_INNER (3ULL << 8)
#define PTE_AF BIT(10)
#define PTE_XN BIT(54)
#define PTE_TABLE (BIT(0) | BIT(1)) /* a table at levels 1-2, a page at level 3 */
#define PTE_AP_RES1 BIT(6)          /* AP[1] is RES1 in the EL2 regime */
#define PTE_AP_RO BIT(7)
#define NORMAL (PTE_VALID | PTE_ATTRIDX(MAIR_NORMAL_IDX) | PTE_SH_INNER | PTE_AF | PTE_AP_RES1)

#define TCR_EL2_RES1 (BIT(31) | BIT(23))
#define TCR_T0SZ_39 25ULL
#define TCR_IRGN0_WBWA (1ULL << 8)
#define TCR_ORGN0_WBWA (1ULL << 10)
#define TCR_SH0_INNER (3ULL << 12)
#define TCR_PS_40 (2ULL << 16)

#define SCTLR_EL2_RES1 0x30c50830ULL
#define SCTLR_M BIT(0)
#define SCTLR_C BIT(2)
#define SCTLR_SA BIT(3)
#define SCTLR_I BIT(12)
#define SCTLR_WXN BIT(19)

static u64 el2_l1[512] __attribute__((aligned(4096)));
static u64 el2_l2_image[512] __attribute__((aligned(4096))); /* the GiB of ferry's image */
static u64 el2_l3_code[512] __attribute__((aligned(4096)));  /* the 2 MiB of ferry's code */
extern u8 __image_start[], __text_end[];

/* Built before the MMU is on and never changed afterwards: later calls only add GiBs that had no
 * entry (no break-before-make on the tables ferry runs from). */
static void map_image_gib(u64 gib)
{
	u64 code = (u64)(uintptr_t)__image_start, code_end = (u64)(uintptr_t)__text_end;
	u64 block = ALIGN_DOWN(code, SZ_2M);

	if (code_end > block + SZ_2M)
		panic("ferry's code crosses a 2 MiB boundary: its EL2 page table covers one block");
	for (u64 i = 0; i < 512; i++)
		el2_l2_image[i] = ((gib << 30) + i * SZ_2M) | NORMAL | PTE_XN;
	for (u64 i = 0; i < 512; i++) {
		u64 pa = block + i * 4096;

		el2_l3_code[i] = pa | NORMAL | PTE_TABLE |
				 (pa >= code && pa < code_end ? PTE_AP_RO : PTE_XN);
	}
	/* Each CPU's guard page under its stack: unmapped, so an overflow faults (vectors.S reports
	 * it from another stack) instead of writing over whatever lies below. */
	for (u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		u64 guard = (u64)(uintptr_t)hyp_stacks[cpu];

		if (guard < block || guard + HYP_STACK_GUARD > block + SZ_2M)
			panic("ferry's stacks lie outside the 2 MiB its page table covers");
		el2_l3_code[(guard - block) / 4096] = 0;
	}
	el2_l2_image[(block >> 21) & 511] = (u64)(uintptr_t)el2_l3_code | PTE_TABLE;
	el2_l1[gib] = (u64)(uintptr_t)el2_l2_image | PTE_TABLE;
}

void arch_mmu_init_primary(u64 ram_base, u64 ram_size)
{
	u64 gib, image_gib = (u64)(uintptr_t)__image_start >> 30;

	if (ram_base + ram_size > (512ULL << 30))
		panic("RAM above 512 GiB is not mapped by ferry's EL2 tables");
	el2_l1[0] = 0 | PTE_VALID | PTE_ATTRIDX(MAIR_DEVICE_IDX) | PTE_AF | PTE_AP_RES1 | PTE_XN;
	if (!el2_l1[image_gib])
		map_image_gib(image_gib);
	for (gib = ram_base >> 30; gib < ALIGN_UP(ram_base + ram_size, SZ_1G) >> 30; gib++)
		if (!el2_l1[gib])
			el2_l1[gib] = (gib << 30) | NORMAL | PTE_XN;
	dsb(ishst);
}

/* Whether EL2 may write / read va now (AT S1E2W / S1E2R: PAR_EL1.F clear), for the boot banner's
 * check of the permissions above. Only on the management CPU: PAR_EL1 is a guest's elsewhere. */
bool arch_el2_can_access(u64 va, bool write)
{
	u64 par;

	if (write)
		__asm__ volatile("at s1e2w, %0" : : "r"(va));
	else
		__asm__ volatile("at s1e2r, %0" : : "r"(va));
	isb();
	par = sysreg_read(par_el1);
	return !(par & 1);
}

void arch_mmu_enable(void)
{
	sysreg_write(mair_el2, MAIR_VALUE);
	sysreg_write(tcr_el2, TCR_EL2_RES1 | TCR_T0SZ_39 | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA |
				      TCR_SH0_INNER | TCR_PS_40);
	sysreg_write(ttbr0_el2, (u64)(uintptr_t)el2_l1);
	isb();
	__asm__ volatile("tlbi alle2\n dsb nsh" : : : "memory");
	isb();
	sysreg_write(sctlr_el2,
		     SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_I | SCTLR_SA | SCTLR_WXN);
	isb();
}
