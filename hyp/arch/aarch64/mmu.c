/* EL2 stage 1: an identity map built once by the boot CPU and shared by all CPUs.
 * 4K granule, 39-bit VA (T0SZ=25) so the walk starts at level 1 with 1 GiB blocks: the first GiB (all
 * of QEMU virt's low devices: GIC, PL011, virtio-mmio) as Device-nGnRE, RAM as Normal write-back.
 * RAM above 512 GiB would need a level-0 table; QEMU virt puts RAM at 1 GiB, so ferry refuses it. */
#include "arch/aarch64/sysreg.h"
#include "core/core.h"

#define MAIR_DEVICE_IDX 0
#define MAIR_NORMAL_IDX 1
#define MAIR_VALUE ((0x04ULL << (8 * MAIR_DEVICE_IDX)) | (0xffULL << (8 * MAIR_NORMAL_IDX)))

#define PTE_VALID BIT(0)
#define PTE_ATTRIDX(i) ((u64)(i) << 2)
#define PTE_SH_INNER (3ULL << 8)
#define PTE_AF BIT(10)
#define PTE_XN BIT(54)

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

static u64 el2_l1[512] __attribute__((aligned(4096)));

void arch_mmu_init_primary(u64 ram_base, u64 ram_size)
{
	u64 gib;

	if (ram_base + ram_size > (512ULL << 30))
		panic("RAM above 512 GiB is not mapped by ferry's EL2 tables");
	el2_l1[0] = 0 | PTE_VALID | PTE_ATTRIDX(MAIR_DEVICE_IDX) | PTE_AF | PTE_XN;
	for (gib = ram_base >> 30; gib < ALIGN_UP(ram_base + ram_size, SZ_1G) >> 30; gib++)
		el2_l1[gib] = (gib << 30) | PTE_VALID | PTE_ATTRIDX(MAIR_NORMAL_IDX) | PTE_SH_INNER |
			      PTE_AF;
	dsb(ishst);
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
	sysreg_write(sctlr_el2, SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_I | SCTLR_SA);
	isb();
}
