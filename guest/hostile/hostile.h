/* SPDX-License-Identifier: Apache-2.0 */
/* hostile's private interface: what the attack files (hostile_*.c) share with hostile.c, which
 * holds the table of attacks and the main flow. Each attack checks its own outcome and reports one
 * line through report(). */
#ifndef FERRY_GUEST_HOSTILE_H
#define FERRY_GUEST_HOSTILE_H

#include <stdio.h>

#include "guest.h"

#define HC_DIRTY_ROUND 0xc6000001ULL
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_32 0x84000003u
#define PSCI_AFFINITY_INFO_32 0x84000004u
#define PSCI_AFFINITY_INFO_64 0xc4000004u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au
#define RET_NOT_SUPPORTED (-1)
#define RET_INVALID_PARAMETERS (-2)
#define RET_ALREADY_ON (-4)
#define RET_ON_PENDING (-5)
#define RET_INVALID_ADDRESS (-9)

#define GICD 0x08000000ULL
#define GICR 0x080a0000ULL
#define GICR_STRIDE 0x20000ULL
#define EC_UNKNOWN 0x00
#define EC_IABT_CUR 0x21
#define EC_DABT_LOW 0x24
#define EC_DABT_CUR 0x25
#define FSC_SEA 0x10
#define FSC_ALIGN 0x21

extern struct guest_platform plat;
extern u64 uart;

void hostile_simd_abort(u64 seed, u64 addr, u64 *out);
u64 hostile_a32_run(u64 pc, u64 r1);
void hostile_call_mmu_off(u64 target);

/* Catching the exceptions an attack provokes: catch_off returns how many were taken. */
static inline void catch_on(void)
{
	guest_catch.esr = guest_catch.far = guest_catch.count = guest_catch.elr = 0;
	guest_catch.vector = ~0ULL;
	__atomic_store_n(&guest_catch.armed, 1, __ATOMIC_SEQ_CST);
}

static inline u64 catch_off(void)
{
	__atomic_store_n(&guest_catch.armed, 0, __ATOMIC_SEQ_CST);
	return guest_catch.count;
}

static inline u64 ec_of(u64 esr) { return (esr >> 26) & 0x3f; }
static inline u64 fsc_of(u64 esr) { return esr & 0x3f; }

static inline u64 rd64(u64 addr)
{
	u64 v = 0xbadbadbadULL;

	__asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void wr32(u64 addr, u32 v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}
static inline u32 rd32(u64 addr)
{
	u32 v = 0xbad;

	__asm__ volatile("ldr %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void wr64(u64 addr, u64 v)
{
	__asm__ volatile("str %0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

/* One access of `size` bytes at addr (a read, or a write of zero). */
void access(u64 addr, u32 size, bool write);

/* An SMCCC call with a chosen conduit and immediate (imm is part of the instruction). */
#define CALL(insn, fid, a1, a2, a3)                                                               \
	({                                                                                        \
		register u64 x0_ __asm__("x0") = (fid);                                           \
		register u64 x1_ __asm__("x1") = (a1);                                            \
		register u64 x2_ __asm__("x2") = (a2);                                            \
		register u64 x3_ __asm__("x3") = (a3);                                            \
		__asm__ volatile(insn : "+r"(x0_), "+r"(x1_), "+r"(x2_), "+r"(x3_) : : "memory"); \
		(s64) x0_;                                                                        \
	})

static inline s64 hc(u64 fid, u64 a1, u64 a2, u64 a3) { return psci_call(fid, a1, a2, a3); }

/* One line per attack: PASS or FAIL, with the detail NOTE left since the last report. */
extern char detail[200];
void report(const char *name, bool ok);
#define NOTE(...) snprintf(detail, sizeof(detail), __VA_ARGS__)

/* The attacks, by what they attack. Memory outside RAM and stage 2 (hostile_memory.c): */
void atk_memory(void);
void atk_fetch(void);
/* The ITS given tables outside RAM (called by atk_memory), the vGIC (hostile_gic.c): */
bool its_outside_ram(u64 end);
void atk_gic(void);
/* MMIO emulation and the devices (hostile_mmio.c): */
void atk_no_syndrome(void);
void atk_widths(void);
void atk_console(void);
/* PSCI, SMCCC, storms and ferry's hypercall (hostile_system.c): */
void atk_psci(void);
void atk_smccc(void);
void atk_storms(void);
void atk_hypercall(void);
/* The CPU's own state: system registers, SIMD, AArch32 (hostile_cpu.c): */
void atk_sysregs(void);
void atk_simd(void);
void atk_aarch32(void);

#endif
