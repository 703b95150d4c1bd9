/* SPDX-License-Identifier: Apache-2.0 */
/* The physical GICv3 (gicv3.c): just enough for SGIs that kick a CPU out of its guest, the vGIC's
 * maintenance interrupt, the guest timers' PPIs and passthrough SPIs. */
#ifndef FERRY_GICV3_H
#define FERRY_GICV3_H

#include "types.h"

/* The SGI one CPU sends another to pull it out of its guest or out of WFI. */
#define SGI_KICK 1
/* PPIs as the architecture's Server Base System Architecture numbers them (and QEMU virt). */
#define GIC_PPI_MAINTENANCE 25
#define GIC_PPI_VTIMER 27
#define GIC_PPI_PTIMER 30
#define GIC_PPI_PMU 23 /* the PMU's overflow interrupt, as on QEMU virt */

/* The distributor at gicd, the redistributors from gicr every stride bytes; mpidr[cpu] is each CPU's
 * MPIDR (kept, not copied: the caller's table lives as long as ferry). */
void gic_init_dist(u64 gicd, u64 gicr, u64 stride, const u64 *mpidr);
void gic_init_cpu(u32 cpu);
void gic_send_sgi(u32 cpu, u32 intid);
/* Wakes the management CPU (CPU 0) from its WFI: something it waits for is ready (a parked vCPU,
 * guest output, a post-copy page request). */
static inline void gic_kick_management(void) { gic_send_sgi(0, SGI_KICK); }
u32 gic_ack(void);
void gic_eoi(u32 intid);
void gic_enable_irq(u32 cpu, u32 intid);
void gic_drain(void); /* acknowledge and end everything pending */
/* EOImode = 1: gic_eoi() drops the priority and deactivates. A guest timer's PPI is only held:
 * priority dropped, left active (masked) until the guest deactivates it through a list register
 * with HW = 1, or gic_deactivate() when no list register took it. gic_complete() picks. */
void gic_hold(u32 intid);
bool gic_held(u32 intid); /* held on this CPU and not yet given to gic_deactivate() */
void gic_deactivate(u32 intid);
void gic_complete(u32 intid);
void gic_priority_drop(u32 intid); /* a passthrough SPI: EOIR only */
void gic_spi_deactivate(u32 intid);
void gic_spi_reset(u32 intid, bool edge); /* neither pending nor active, edge or level */

#endif
