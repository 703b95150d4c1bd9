/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's PMU registers, reached from EL2 for trapped accesses (pmu_guest.c, vdev/vpmu.h). */
#ifndef FERRY_PMU_GUEST_H
#define FERRY_PMU_GUEST_H

#include "vdev/vpmu.h"

/* The registers of this CPU's PMU; every CPU's PMU is the same kind. */
const struct vpmu_hw *pmu_guest_hw(void);
/* MDCR_EL2.HPMN on this CPU: the event counters the guest has. */
u32 pmu_guest_hpmn(void);

#endif
