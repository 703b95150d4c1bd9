/* SPDX-License-Identifier: Apache-2.0 */
/* The list-register tests' VM and virtual CPU interface: each vCPU's list registers as the last
 * flush left them, entry and exit checked against the live bitmaps and the LR invariants, and a
 * small model of the CPU interface (acknowledge, deactivate, the maintenance conditions). */
#ifndef FERRY_VGIC_LR_FIXTURE_H
#define FERRY_VGIC_LR_FIXTURE_H

#include <stdbool.h>

#include "vgic_fixture.h"

extern u64 lrs[VGIC_MAX_VCPUS][VGIC_MAX_LRS];
extern u64 hcrs[VGIC_MAX_VCPUS];
extern u32 nused[VGIC_MAX_VCPUS];

/* A VM whose guest has done what Linux does at boot: distributor on, redistributors awake. */
void setup_full(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs, const u64 *mpidr);
void lr_setup(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs);
void enable(u32 vcpu, u32 intid, u8 prio);
void route(u32 intid, u64 aff);
void set_edge(u32 intid);

static inline u32 lr_state(u64 lr) { return (u32)(lr >> 62); }
static inline u32 lr_intid(u64 lr) { return (u32)lr; }
static inline u8 lr_prio(u64 lr) { return (u8)(lr >> 48); }
#define S_P 1u
#define S_A 2u
#define S_PA 3u

void check_live(const struct vgic *g);
/* Flush into vCPU v's LRs / sync them back, each checked. */
void enter(u32 v);
void leave(u32 v);
void exit_enter(u32 v);

/* The virtual CPU interface. */
int cpuif_ack(u32 v);
void cpuif_deactivate(u32 v, u32 intid);
bool maintenance(u32 v);
void exit_if_maintenance(u32 v);

/* A reproducible pseudo-random sequence, one per test binary. */
u32 rnd(void);

#endif
