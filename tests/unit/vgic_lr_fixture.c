/* SPDX-License-Identifier: Apache-2.0 */
#include "vgic_lr_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

u64 lrs[VGIC_MAX_VCPUS][VGIC_MAX_LRS];
u64 hcrs[VGIC_MAX_VCPUS];
u32 nused[VGIC_MAX_VCPUS];

void setup_full(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs, const u64 *mpidr)
{
	setup_map(nr_vcpus, nr_spis, nr_lrs, mpidr);
	wr32(GICD(0), 0x3);
	for (u32 v = 0; v < nr_vcpus; v++)
		wr32(GICR(v, 0x14), 0);
	memset(kicks, 0, sizeof(kicks));
	memset(nused, 0, sizeof(nused));
}

void lr_setup(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs)
{
	setup_full(nr_vcpus, nr_spis, nr_lrs, NULL);
}

void enable(u32 vcpu, u32 intid, u8 prio)
{
	u64 base = intid < 32 ? SGIB(vcpu, 0) : GICD(0);

	wr32(base + 0x100 + intid / 32 * 4, 1u << (intid % 32));
	wr8(base + 0x400 + intid, prio);
}

void route(u32 intid, u64 aff)
{
	assert_int_equal(vgic_mmio_write(&G, GICD(0x6000 + 8 * intid), 8, aff), 0);
}

void set_edge(u32 intid)
{
	u64 a = GICD(0xc00 + intid / 16 * 4);

	wr32(a, rd32(a) | 2u << (2 * (intid % 16)));
}

/* After every flush: packed valid entries, no vINTID twice, no pending+active for HW or level,
 * priority and group as the model has them, EOI never with HW. */
static void check_lrs(u32 v)
{
	for (u32 i = 0; i < G.nr_lrs; i++) {
		u64 lr = lrs[v][i];
		u32 st;

		if (i >= nused[v]) {
			assert_int_equal(lr, 0);
			continue;
		}
		st = vgic_irq_status(&G, v, lr_intid(lr));
		assert_int_not_equal(lr_state(lr), 0);
		assert_true(st & VGIC_ST_IN_LR);
		for (u32 j = 0; j < i; j++)
			assert_int_not_equal(lr_intid(lrs[v][j]), lr_intid(lr));
		if ((lr & ICH_LR_HW) || !(st & VGIC_ST_EDGE))
			assert_int_not_equal(lr_state(lr), S_PA);
		if (lr & ICH_LR_HW)
			assert_false(lr & ICH_LR_EOI);
		assert_int_equal(!!(lr & ICH_LR_GROUP1), !!(st & VGIC_ST_GROUP1));
	}
}

/* The live bitmaps flush relies on hold exactly the interrupts pending, active or in an LR. */
void check_live(const struct vgic *g)
{
	const u32 mask = VGIC_ST_PENDING | VGIC_ST_ACTIVE | VGIC_ST_IN_LR;

	for (u32 v = 0; v < g->nr_vcpus; v++)
		for (u32 i = 0; i < 32; i++)
			assert_int_equal(!!(g->cpu[v].live & 1u << i),
					 !!(vgic_irq_status(g, v, i) & mask));
	for (u32 i = 0; i < g->nr_spis; i++)
		assert_int_equal(!!(g->spi_live[i / 32] & 1u << i % 32),
				 !!(vgic_irq_status(g, 0, 32 + i) & mask));
}

void enter(u32 v)
{
	check_live(&G);
	assert_int_equal(vgic_flush_lrs(&G, v, lrs[v], &nused[v], &hcrs[v]), 0);
	assert_true(hcrs[v] & ICH_HCR_EN);
	check_lrs(v);
	check_live(&G);
}

void leave(u32 v)
{
	check_live(&G);
	assert_int_equal(vgic_sync_lrs(&G, v, lrs[v], G.nr_lrs), 0);
	check_live(&G);
}
void exit_enter(u32 v)
{
	leave(v);
	enter(v);
}

/* The virtual CPU interface: acknowledges the highest-priority pending LR (lowest value; the
 * lowest LR among equals), if its group is enabled. Returns the INTID or -1. */
int cpuif_ack(u32 v)
{
	int best = -1;

	for (u32 i = 0; i < nused[v]; i++)
		if (lr_state(lrs[v][i]) == S_P &&
		    (best < 0 || lr_prio(lrs[v][i]) < lr_prio(lrs[v][best])))
			best = (int)i;
	if (best < 0)
		return -1;
	lrs[v][best] = (lrs[v][best] & ~(3ULL << 62)) | (u64)S_A << 62;
	return (int)lr_intid(lrs[v][best]);
}

void cpuif_deactivate(u32 v, u32 intid)
{
	for (u32 i = 0; i < nused[v]; i++)
		if (lr_intid(lrs[v][i]) == intid && (lrs[v][i] & ICH_LR_ACTIVE)) {
			lrs[v][i] &= ~ICH_LR_ACTIVE;
			return;
		}
	fail_msg("deactivating INTID %u, which no LR holds active", intid);
}

/* ICH_MISR_EL2: EOI (an invalid LR with EOI, HW = 0), U (UIE, at most one valid LR), NP (NPIE, no
 * pending LR). */
bool maintenance(u32 v)
{
	u32 valid = 0, pending = 0;

	for (u32 i = 0; i < G.nr_lrs; i++) {
		u64 lr = lrs[v][i];

		if (lr_state(lr) == 0 && (lr & ICH_LR_EOI) && !(lr & ICH_LR_HW))
			return true;
		valid += lr_state(lr) != 0;
		pending += lr_state(lr) == S_P;
	}
	return ((hcrs[v] & ICH_HCR_UIE) && valid <= 1) || ((hcrs[v] & ICH_HCR_NPIE) && !pending);
}

void exit_if_maintenance(u32 v)
{
	while (maintenance(v))
		exit_enter(v);
}

static u32 rng_state = 12345;

u32 rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}
