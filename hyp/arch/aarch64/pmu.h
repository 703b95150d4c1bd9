/* SPDX-License-Identifier: Apache-2.0 */
/* The EL2-only instruction counter (pmu.c): the PMU's INST_RETIRED at EL2. */
#ifndef FERRY_ARCH_PMU_H
#define FERRY_ARCH_PMU_H

#include "types.h"

/* Sets up this CPU's counter: returns its number plus one, 0 when absent (no -icount). */
u32 pmu_el2_init(void);
u64 pmu_el2_read(void); /* 0 when absent */

#endif
