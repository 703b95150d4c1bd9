/* SPDX-License-Identifier: Apache-2.0 */
/* The vGICv3's list registers under random operations from every side (hyp/vgic/vgic_lr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vgic_lr_fixture.h"

/* Random operations from every side on a 3-vCPU VM, the vCPUs entering and leaving at random and
 * the guests acknowledging and deactivating in any order. After every step: the live bitmaps are
 * exact, no INTID sits in two LRs (of one vCPU, or an SPI in two vCPUs'), an SGI/PPI the guest has
 * active is in its vCPU's LRs whenever they can hold all of them. At the end, with everything
 * enabled and routed, every pending interrupt is delivered and nothing is left over. */
static bool in_guest[VGIC_MAX_VCPUS];

static void check_global(void)
{
	check_live(&G);
	for (u32 v = 0; v < G.nr_vcpus; v++)
		for (u32 i = 0; in_guest[v] && i < nused[v]; i++) {
			u32 id = lr_intid(lrs[v][i]);

			for (u32 w = 0; w < G.nr_vcpus; w++)
				for (u32 j = 0; in_guest[w] && j < nused[w]; j++)
					if ((w != v || j != i) && lr_intid(lrs[w][j]) == id)
						assert_true(id < 32 && w != v);
		}
}

/* Right after a flush (later MMIO reaches the LRs at the next one, after a kick). */
static void check_actives_held(u32 v)
{
	u32 actives = 0, held = 0, privates;

	for (u32 id = 0; id < 32; id++) {
		bool in_lr = false;

		if (!(vgic_irq_status(&G, v, id) & VGIC_ST_ACTIVE))
			continue;
		actives++;
		for (u32 i = 0; i < nused[v]; i++)
			in_lr |= lr_intid(lrs[v][i]) == id;
		held += in_lr;
	}
	/* Active SPIs may compete for the same LRs: count them all, wherever they belong. */
	privates = actives;
	for (u32 id = 32; id < 32 + G.nr_spis; id++)
		if (vgic_irq_status(&G, v, id) & VGIC_ST_ACTIVE)
			actives++;
	if (actives <= G.nr_lrs)
		assert_int_equal(held, privates);
}

static void random_step(u32 nr_spis)
{
	u32 v = rnd() % G.nr_vcpus, op = rnd() % 16, intid = rnd() % (32 + nr_spis);
	u32 sparse = (1u << (rnd() % 32)) | (rnd() % 4 == 0 ? rnd() : 0);

	switch (op) {
	case 0:
	case 1: {
		static const u64 banks[] = { 0x80, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380 };
		u64 bank = banks[rnd() % ARRAY_SIZE(banks)];

		if (bank == 0x80)
			sparse = rnd() % 8 ? ~0u : ~sparse; /* mostly Group 1 */
		if (intid < 32)
			wr32(SGIB(v, bank), sparse);
		else
			wr32(GICD(bank + intid / 32 * 4), sparse);
		break;
	}
	case 2:
		wr8(intid < 32 ? SGIB(v, 0x400 + intid) : GICD(0x400 + intid), (u8)rnd());
		break;
	case 3:
		if (intid >= 32)
			wr32(GICD(0xc00 + intid / 16 * 4), rnd());
		break;
	case 4:
		if (intid >= 32)
			route(intid, rnd() % (G.nr_vcpus + 1));
		break;
	case 5:
	case 6:
		if (intid >= 16)
			assert_int_equal(vgic_set_level(&G, v, intid, rnd() % 2), 0);
		break;
	case 7:
		if (intid >= 16)
			assert_int_equal(vgic_pulse(&G, v, intid), 0);
		break;
	case 8:
		assert_true(vgic_send_sgi(&G, v, (u64)rnd() << 24 ^ rnd() ^ (u64)(rnd() % 2) << 40,
					  rnd() % 4 ? VGIC_SGI1R : VGIC_SGI0R) >= 0);
		break;
	case 9:
		if (rnd() % 8 == 0)
			wr32(GICD(0), rnd() % 4 ? 3 : rnd() % 4);
		if (rnd() % 8 == 0)
			wr32(GICR(v, 0x14), rnd() % 4 ? 0 : 2);
		break;
	default:
		/* The vCPU runs: enters, or its guest acknowledges / deactivates, or it exits. */
		if (!in_guest[v]) {
			enter(v);
			in_guest[v] = true;
			check_actives_held(v);
		} else if (op < 13) {
			(void)cpuif_ack(v);
		} else if (op < 15) {
			u32 i = nused[v] ? rnd() % nused[v] : 0;

			if (nused[v] && (lrs[v][i] & ICH_LR_ACTIVE))
				cpuif_deactivate(v, lr_intid(lrs[v][i]));
		} else {
			leave(v);
			in_guest[v] = false;
		}
		break;
	}
	check_global();
}

static void drain(u32 v)
{
	enter(v);
	for (u32 steps = 0; steps < 10000; steps++) {
		int id = cpuif_ack(v);
		bool ended = false;

		if (id >= 0) {
			exit_if_maintenance(v);
			cpuif_deactivate(v, (u32)id);
			exit_if_maintenance(v);
			continue;
		}
		/* Actives never acknowledged (made active by MMIO) are the guest's to end; with
		 * more of them than LRs the rest come in as these go (EOI maintenance). */
		for (u32 i = 0; i < nused[v]; i++)
			if (lrs[v][i] & ICH_LR_ACTIVE) {
				cpuif_deactivate(v, lr_intid(lrs[v][i]));
				ended = true;
			}
		if (ended)
			exit_if_maintenance(v);
		else if (maintenance(v))
			exit_enter(v);
		else
			break;
	}
	exit_enter(v);
	assert_int_equal(nused[v], 0);
	leave(v);
}

static void test_random_operations(void **state)
{
	(void)state;
	for (u32 round = 0; round < 40; round++) {
		u32 nr_lrs = 1 + round % 4, nr_spis = 32 * (round % 3);

		lr_setup(3, nr_spis, nr_lrs);
		memset(in_guest, 0, sizeof(in_guest));
		for (u32 v = 0; v < 3 && round % 2; v++)
			assert_int_equal(vgic_map_hw(&G, v, VGIC_PPI_VTIMER, VGIC_PPI_VTIMER), 0);
		for (u32 step = 0; step < 3000; step++)
			random_step(nr_spis);
		for (u32 v = 0; v < 3; v++)
			if (in_guest[v])
				leave(v);
		/* Everything deliverable to vCPU 0's guest, then drained. */
		wr32(GICD(0), 3);
		for (u32 v = 0; v < 3; v++) {
			wr32(GICR(v, 0x14), 0);
			wr32(SGIB(v, 0x80), ~0u);
			wr32(SGIB(v, 0x100), ~0u);
			for (u32 i = 16; i < 32; i++)
				assert_int_equal(vgic_set_level(&G, v, i, false), 0);
		}
		for (u32 i = 32; i < 32 + nr_spis; i++) {
			wr32(GICD(0x80 + i / 32 * 4), ~0u);
			wr32(GICD(0x100 + i / 32 * 4), ~0u);
			route(i, 0);
			assert_int_equal(vgic_set_level(&G, 0, i, false), 0);
		}
		/* Draining a vCPU can send an SPI home to another (kicked): until no one is. */
		for (u32 pass = 0;; pass++) {
			u32 kicked = 0;

			assert_true(pass < 4);
			memset(kicks, 0, sizeof(kicks));
			for (u32 v = 0; v < 3; v++)
				drain(v);
			for (u32 v = 0; v < 3; v++)
				kicked += kicks[v];
			if (!kicked)
				break;
		}
		for (u32 v = 0; v < 3; v++)
			for (u32 i = 0; i < 32 + nr_spis; i++)
				assert_false(vgic_irq_status(&G, v, i) &
					     (VGIC_ST_PENDING | VGIC_ST_ACTIVE | VGIC_ST_IN_LR));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_operations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
