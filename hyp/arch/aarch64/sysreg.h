/* SPDX-License-Identifier: Apache-2.0 */
/* System-register access and the EL2 register fields ferry sets. EL2-only. */
#ifndef FERRY_SYSREG_H
#define FERRY_SYSREG_H

#include "types.h"

#define sysreg_read(r)                                       \
	({                                                   \
		u64 __v;                                     \
		__asm__ volatile("mrs %0, " #r : "=r"(__v)); \
		__v;                                         \
	})
#define sysreg_write(r, v) __asm__ volatile("msr " #r ", %0" : : "r"((u64)(v)) : "memory")
#define isb() __asm__ volatile("isb" : : : "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt : : : "memory")
#define wfe() __asm__ volatile("wfe" : : : "memory")
#define sev() __asm__ volatile("sev" : : : "memory")
#define wfi() __asm__ volatile("wfi" : : : "memory")

/* HCR_EL2, MDCR_EL2, CPTR_EL2 and CNTHCTL_EL2 fields: vdev/traps.h (the trap baseline). */
#include "vdev/traps.h"

/* ESR_ELx exception classes ferry dispatches on. */
#define EC_UNKNOWN 0x00
#define EC_FPSIMD 0x07
#define EC_SVE 0x19
#define EC_SME 0x1d
#define EC_WFX 0x01
#define EC_HVC64 0x16
#define EC_SMC64 0x17
#define EC_SYSREG 0x18
#define EC_IABT_LOW 0x20
#define EC_DABT_LOW 0x24

/* VTCR_EL2 hardware access flag / dirty state updates (FEAT_HAFDBS). */
#define VTCR_HA BIT(21)
#define VTCR_HD BIT(22)

#define SPSR_EL1H 0x5ULL
#define SPSR_DAIF (0xfULL << 6)

/* After a permission relaxation, drop this CPU's own stale copies, non-shareable: the stage-2 entry
 * of the current VMID's page at ipa, then (so it cannot be rebuilt from that one) the combined
 * entries for the guest VA va, any ASID. TLBI IPAS2E1, DSB NSH, TLBI VAAE1, DSB NSH; the next ERET
 * synchronizes. Inline: the dirty-log write fault's fast path runs it from the exception vector. */
static inline void tlbi_local_relax(u64 ipa, u64 va)
{
	__asm__ volatile("tlbi ipas2e1, %0\n\tdsb nsh\n\ttlbi vaae1, %1\n\tdsb nsh"
			 :
			 : "r"(ipa >> 12), "r"(va >> 12)
			 : "memory");
}

#endif
