/* SPDX-License-Identifier: Apache-2.0 */
/* The world switch and the exception vectors (vectors.S), as C sees them. */
#ifndef FERRY_ARCH_VECTORS_H
#define FERRY_ARCH_VECTORS_H

#include "types.h"

/* A vCPU's general-purpose registers as guest_enter() loads them and the vectors save them. */
struct guest_regs {
	u64 x[31];
	u64 elr, spsr;
};

/* Runs the guest until its next exit; returns EXIT_* (asm.h). */
u64 guest_enter(struct guest_regs *regs);
/* The stub that reads EL2 instruction counter n (0..7) into x0, or returns 0 (n > 7): what the
 * vectors' fast path calls through struct pcpu's PCPU_PMU_READ. */
void *el2_insns_stub(u64 n);

#endif
