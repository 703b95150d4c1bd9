/* SPDX-License-Identifier: Apache-2.0 */
/* Constants shared by assembly and C. */
#ifndef FERRY_ASM_H
#define FERRY_ASM_H

#define HYP_STACK_SIZE 16384
/* Each CPU's slot in hyp_stacks: an unmapped guard page (arch/aarch64/mmu.c), then its stack. */
#define HYP_STACK_GUARD 4096
#define HYP_STACK_SLOT (HYP_STACK_GUARD + HYP_STACK_SIZE)
#define HYP_EMERGENCY_STACK_SIZE 8192
#define MAX_CPUS 8

/* Exit reasons guest_enter() returns (vectors.S). */
#define EXIT_SYNC 1
#define EXIT_IRQ 2
#define EXIT_FIQ 3
#define EXIT_SERROR 4

/* struct pcpu's first field is the pointer to the running vCPU's register file (struct guest_regs).
 * The others the vectors use (checked against struct pcpu in core/pcpu.c): the dirty-log fast
 * path's instruction total and count, and the stub that reads the EL2 instruction counter. */
#define PCPU_REGS 0
#define PCPU_FAST 32
#define PCPU_PMU_READ 48

/* The write-fault fast path's instructions the PMU counter cannot see (vectors.S), since it counts
 * from its first reading to its second: before the first, the vector's branch, the ESR test (7), the
 * spill (9) and the stub call (3); from the second on, that read, the stub's return, one reload,
 * the accounting (7), the last two reloads and ERET. Added to what the counter measured, so the
 * figure is vector to ERET, the counting itself included. */
#define FAST_UNCOUNTED_INSNS 33

#endif
