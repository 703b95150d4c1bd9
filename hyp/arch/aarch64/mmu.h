/* SPDX-License-Identifier: Apache-2.0 */
/* EL2 stage 1 (mmu.c): the identity map ferry runs on. */
#ifndef FERRY_ARCH_MMU_H
#define FERRY_ARCH_MMU_H

#include "types.h"

void arch_mmu_init_primary(u64 ram_base, u64 ram_size);
void arch_mmu_enable(void);
bool arch_el2_can_access(u64 va, bool write); /* AT S1E2R/W on the management CPU */

#endif
