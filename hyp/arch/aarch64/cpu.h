/* SPDX-License-Identifier: Apache-2.0 */
/* What hyp/arch/aarch64 and hyp/drivers ask of the core, the one way back up: the core implements
 * these (hyp/core/pcpu.c, hyp/core/main.c), and nothing under arch/ or drivers/ includes a core/
 * header. */
#ifndef FERRY_ARCH_CPU_H
#define FERRY_ARCH_CPU_H

#include "arch/aarch64/asm.h"
#include "types.h"

/* The calling CPU's index (0 is the boot CPU), as the core numbered the CPUs at boot. */
u32 cpu_index(void);

/* Each CPU's slot: an unmapped guard page (mmu.c), then its stack (head.S, vectors.S). */
extern u8 hyp_stacks[MAX_CPUS][HYP_STACK_SLOT];

#endif
