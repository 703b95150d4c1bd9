/* SPDX-License-Identifier: Apache-2.0 */
/* The physical CPUs (core/pcpu.c). Static partitioning: each CPU runs at most one vCPU, for good;
 * CPU 0 is ferry's management CPU. */
#ifndef FERRY_CORE_PCPU_H
#define FERRY_CORE_PCPU_H

#include "arch/aarch64/asm.h"
#include "types.h"

enum pcpu_state {
	PCPU_OFF = 0,
	PCPU_IDLE,
	PCPU_RUNNING
};
struct guest_regs;
struct vcpu;
struct pcpu {
	struct guest_regs *regs; /* PCPU_REGS: must stay first (vectors.S) */
	u32 idx;
	volatile u32 state;
	struct vcpu *vcpu;    /* the vCPU this CPU owns (static partitioning), or NULL */
	u32 pmu_idx;          /* EL2 instruction counter + 1, 0 when absent */
	u64 fast_dirty_insns; /* PCPU_FAST: EL2 instructions of the faults below (PMU, -icount) */
	u64 fast_dirty;       /* PCPU_FAST + 8: write faults the vectors' fast path handled here */
	void *pmu_read;       /* PCPU_PMU_READ: vectors.S stub giving x0 = EL2 instructions */
};
extern struct pcpu pcpus[MAX_CPUS];
struct pcpu *this_pcpu(void);
/* This CPU's EL2 instruction counter (arch/aarch64/pmu.c), and the vectors' stub that reads it:
 * false when there is none (QEMU without -icount). */
bool pcpu_pmu_init(void);

#endif
