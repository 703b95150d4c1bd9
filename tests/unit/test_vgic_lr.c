/* SPDX-License-Identifier: Apache-2.0 */
/* The vGICv3's list-register logic (hyp/vgic/vgic_lr.c) and its inputs (hyp/vgic/vgic.c): choice by
 * priority with more pending than LRs and refill on maintenance, driven by a small model of the
 * virtual CPU interface (acknowledge the highest-priority pending LR, deactivate, raise the
 * maintenance conditions of ICH_MISR_EL2); edge and level corner cases; the timer PPI mapped to
 * hardware; SGI routing in every target form against a reference decoder; SPI routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vgic/vgic.h"

static struct vgic G;
static u32 kicks[VGIC_MAX_VCPUS];
static u64 lrs[VGIC_MAX_VCPUS][VGIC_MAX_LRS];
static u64 hcrs[VGIC_MAX_VCPUS];
static u32 nused[VGIC_MAX_VCPUS];

static void kick(void *ctx, u32 vcpu)
{
	(void)ctx;
	assert_true(vcpu < G.nr_vcpus);
	kicks[vcpu]++;
}

static const struct vgic_ops ops = { kick };

#define GICD(off) (VGIC_GICD_BASE_VIRT + (off))
#define GICR(v, off) (VGIC_GICR_BASE_VIRT + (u64)(v)*VGIC_GICR_STRIDE + (off))
#define SGIB(v, off) GICR(v, VGIC_GICR_SGI_OFFSET + (off))

static u32 rd32(u64 ipa)
{
	u64 v;

	assert_int_equal(vgic_mmio_read(&G, ipa, 4, &v), 0);
	return (u32)v;
}

static void wr32(u64 ipa, u32 v) { assert_int_equal(vgic_mmio_write(&G, ipa, 4, v), 0); }
static void wr8(u64 ipa, u8 v) { assert_int_equal(vgic_mmio_write(&G, ipa, 1, v), 0); }

/* A VM whose guest has done what Linux does at boot: distributor on, redistributors awake. */
static void setup_full(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs, const u64 *mpidr)
{
	struct vgic_config cfg = {
		nr_vcpus, nr_spis, nr_lrs, mpidr, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,
		false,    NULL
	};

	assert_int_equal(vgic_init(&G, &cfg, &ops, NULL), 0);
	wr32(GICD(0), 0x3);
	for (u32 v = 0; v < nr_vcpus; v++)
		wr32(GICR(v, 0x14), 0);
	memset(kicks, 0, sizeof(kicks));
	memset(nused, 0, sizeof(nused));
}

static void setup(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs)
{
	setup_full(nr_vcpus, nr_spis, nr_lrs, NULL);
}

static void enable(u32 vcpu, u32 intid, u8 prio)
{
	u64 base = intid < 32 ? SGIB(vcpu, 0) : GICD(0);

	wr32(base + 0x100 + intid / 32 * 4, 1u << (intid % 32));
	wr8(base + 0x400 + intid, prio);
}

static void route(u32 intid, u64 aff)
{
	assert_int_equal(vgic_mmio_write(&G, GICD(0x6000 + 8 * intid), 8, aff), 0);
}

static void set_edge(u32 intid)
{
	u64 a = GICD(0xc00 + intid / 16 * 4);

	wr32(a, rd32(a) | 2u << (2 * (intid % 16)));
}

static u32 lr_state(u64 lr) { return (u32)(lr >> 62); }
static u32 lr_intid(u64 lr) { return (u32)lr; }
static u8 lr_prio(u64 lr) { return (u8)(lr >> 48); }
#define S_P 1u
#define S_A 2u
#define S_PA 3u

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
static void check_live(const struct vgic *g)
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

static void enter(u32 v)
{
	check_live(&G);
	assert_int_equal(vgic_flush_lrs(&G, v, lrs[v], &nused[v], &hcrs[v]), 0);
	assert_true(hcrs[v] & ICH_HCR_EN);
	check_lrs(v);
	check_live(&G);
}

static void leave(u32 v)
{
	check_live(&G);
	assert_int_equal(vgic_sync_lrs(&G, v, lrs[v], G.nr_lrs), 0);
	check_live(&G);
}
static void exit_enter(u32 v)
{
	leave(v);
	enter(v);
}

/* The virtual CPU interface: acknowledges the highest-priority pending LR (lowest value; the
 * lowest LR among equals), if its group is enabled. Returns the INTID or -1. */
static int cpuif_ack(u32 v)
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

static void cpuif_deactivate(u32 v, u32 intid)
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
static bool maintenance(u32 v)
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

static void exit_if_maintenance(u32 v)
{
	while (maintenance(v))
		exit_enter(v);
}

/* ---------------------------------------------------------------------------------------------- */

static void test_flush_empty_and_protocol(void **state)
{
	u64 lr[VGIC_MAX_LRS];
	u64 hcr;
	u32 n;
	(void)state;
	setup(2, 32, 4);
	assert_int_equal(vgic_flush_lrs(&G, 0, lr, &n, &hcr), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hcr, ICH_HCR_EN);
	/* Flush twice without a sync would lose what the LRs hold. */
	assert_int_equal(vgic_flush_lrs(&G, 0, lr, &n, &hcr), FERRY_EBUSY);
	assert_int_equal(vgic_sync_lrs(&G, 0, lr, 4), 0);
	assert_int_equal(vgic_sync_lrs(&G, 0, lr, 4), FERRY_EINVAL);
	assert_int_equal(vgic_flush_lrs(&G, 2, lr, &n, &hcr), FERRY_EINVAL);
	assert_int_equal(vgic_sync_lrs(&G, 2, lr, 4), FERRY_EINVAL);

	/* An LR that no longer names what was put there is taken as unchanged. */
	enable(0, 40, 0x80);
	set_edge(40);
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	enter(0);
	assert_int_equal(nused[0], 1);
	lr[0] = 41 | ICH_LR_ACTIVE;
	assert_int_equal(vgic_sync_lrs(&G, 0, lr, 4), FERRY_EIO);
	assert_int_equal(vgic_irq_status(&G, 0, 40) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
			 VGIC_ST_PENDING);
	/* Fewer LRs read back than were used: the missing ones unchanged, and reported. */
	enter(0);
	assert_int_equal(vgic_sync_lrs(&G, 0, lrs[0], 0), FERRY_EINVAL);
	assert_int_equal(vgic_irq_status(&G, 0, 40) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
			 VGIC_ST_PENDING);
	/* Reset is refused while a vCPU is in the guest. */
	enter(1);
	assert_int_equal(vgic_reset(&G), FERRY_EBUSY);
	leave(1);
	assert_int_equal(vgic_reset(&G), 0);
}

/* The LR entry for one interrupt, as the architecture lays it out. */
static void test_lr_encoding(void **state)
{
	(void)state;
	setup(2, 32, 4);
	enable(1, 5, 0x48);
	wr32(SGIB(1, 0x80), ~(1u << 5)); /* SGI 5 Group 0 */
	assert_int_equal(vgic_send_sgi(&G, 0, 1ULL << 1 | 5ULL << 24, VGIC_SGI1R), 1);
	enter(1);
	assert_int_equal(nused[1], 1);
	assert_int_equal(lrs[1][0], 5 | 0x48ULL << 48 | ICH_LR_PENDING);
	leave(1);
	enable(0, 33, 0x20);
	assert_int_equal(vgic_set_level(&G, 0, 33, true), 0);
	enter(0);
	assert_int_equal(lrs[0][0],
			 33 | 0x20ULL << 48 | ICH_LR_GROUP1 | ICH_LR_PENDING | ICH_LR_EOI);
	leave(0);
}

/* Many more pending interrupts than LRs, random priorities with ties, edge and level, private and
 * shared: the guest must see each exactly once, in (priority, INTID) order, with exits only on
 * maintenance interrupts (and on its level handlers' device accesses). */
static u32 rng_state = 12345;

static u32 rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

struct injected {
	u32 intid;
	u8 prio;
	bool level;
};

static int cmp_injected(const void *a, const void *b)
{
	const struct injected *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio - y->prio;
	return (int)x->intid - (int)y->intid;
}

static void run_order_trial(u32 nr_lrs, u32 count, u32 distinct_prios)
{
	struct injected inj[32 + VGIC_MAX_SPIS];
	u32 order[32 + VGIC_MAX_SPIS];
	u32 n = 0, got = 0;
	bool used[32 + VGIC_MAX_SPIS] = { false };

	setup(2, 256, nr_lrs);
	while (n < count) {
		u32 intid = rnd() % (32 + 256);
		struct injected *j = &inj[n];

		if (used[intid] || (intid >= 16 && intid < 32 && rnd() % 2))
			continue;
		used[intid] = true;
		j->intid = intid;
		j->prio = (u8)((rnd() % distinct_prios) << 3);
		j->level = intid >= 16 && rnd() % 2;
		enable(0, intid, j->prio);
		if (intid < 16)
			assert_int_equal(vgic_send_sgi(&G, 1, 1ULL | (u64)intid << 24, VGIC_SGI1R),
					 1);
		else if (j->level)
			assert_int_equal(vgic_set_level(&G, 0, intid, true), 0);
		else {
			if (intid >= 32)
				set_edge(intid);
			/* PPIs are level-sensitive: an edge is a software pend there. */
			if (intid >= 32)
				assert_int_equal(vgic_pulse(&G, 0, intid), 0);
			else
				wr32(SGIB(0, 0x200), 1u << intid);
		}
		n++;
	}
	enter(0);
	for (u32 steps = 0; steps < 10 * count + 10; steps++) {
		int intid = cpuif_ack(0);

		if (intid < 0) {
			if (!maintenance(0))
				break;
			exit_enter(0);
			continue;
		}
		order[got++] = (u32)intid;
		exit_if_maintenance(0);
		for (u32 k = 0; k < n; k++)
			if (inj[k].intid == (u32)intid && inj[k].level) {
				/* The handler quietens its device: an MMIO exit. */
				leave(0);
				assert_int_equal(vgic_set_level(&G, 0, (u32)intid, false), 0);
				enter(0);
			}
		cpuif_deactivate(0, (u32)intid);
		exit_if_maintenance(0);
	}
	leave(0);
	assert_int_equal(got, n);
	qsort(inj, n, sizeof(inj[0]), cmp_injected);
	for (u32 k = 0; k < n; k++)
		assert_int_equal(order[k], inj[k].intid);
	/* Nothing is left pending or active. */
	for (u32 i = 0; i < 288; i++)
		assert_false(vgic_irq_status(&G, 0, i) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE));
}

static void test_priority_order_and_refill(void **state)
{
	static const u32 lr_counts[] = { 1, 2, 3, 4, 16 };
	static const u32 counts[] = { 0, 1, 3, 4, 5, 17, 60, 200 };
	static const u32 prios[] = { 1, 3, 32 };
	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(lr_counts); a++)
		for (size_t b = 0; b < ARRAY_SIZE(counts); b++)
			for (size_t c = 0; c < ARRAY_SIZE(prios); c++)
				for (u32 trial = 0; trial < 4; trial++)
					run_order_trial(lr_counts[a], counts[b], prios[c]);
}

/* The best N go in, sorted; the rest wait behind UIE. */
static void test_selection(void **state)
{
	static const u8 prio[8] = { 0x80, 0x10, 0xf0, 0x10, 0x40, 0x08, 0x88, 0x40 };
	(void)state;
	setup(1, 32, 4);
	for (u32 i = 0; i < 8; i++) {
		enable(0, 40 + i, prio[i]);
		set_edge(40 + i);
		assert_int_equal(vgic_pulse(&G, 0, 40 + i), 0);
	}
	enter(0);
	assert_int_equal(nused[0], 4);
	assert_int_equal(lr_intid(lrs[0][0]), 45);
	assert_int_equal(lr_intid(lrs[0][1]), 41);
	assert_int_equal(lr_intid(lrs[0][2]), 43);
	assert_int_equal(lr_intid(lrs[0][3]), 44);
	assert_int_equal(hcrs[0], ICH_HCR_EN | ICH_HCR_UIE);
	/* Edge pending moved into the LRs, still visible to the guest's reads. */
	assert_int_equal(rd32(GICD(0x204)) >> 8 & 0xff, 0xff);
	assert_int_equal(G.cpu[0].lr_overflows, 1);
	/* A new, better one arrives while in the guest: the vCPU is kicked and it gets in. */
	enable(0, 50, 0x00);
	set_edge(50);
	memset(kicks, 0, sizeof(kicks));
	assert_int_equal(vgic_pulse(&G, 0, 50), 0);
	assert_int_equal(kicks[0], 1);
	exit_enter(0);
	assert_int_equal(lr_intid(lrs[0][0]), 50);
	assert_int_equal(lr_intid(lrs[0][1]), 45);
	/* An interrupt the guest has acknowledged keeps its LR, whatever its priority. */
	lrs[0][3] = (lrs[0][3] & ~(3ULL << 62)) | ICH_LR_ACTIVE; /* 41's twin 43 */
	exit_enter(0);
	assert_int_equal(lr_intid(lrs[0][0]), 43);
	assert_int_equal(lr_state(lrs[0][0]), S_A);
	assert_int_equal(lr_intid(lrs[0][1]), 50);
	leave(0);
	/* All pending ones fit: no maintenance asked. */
	setup(1, 32, 4);
	for (u32 i = 0; i < 4; i++) {
		enable(0, 40 + i, 0x50);
		assert_int_equal(vgic_set_level(&G, 0, 40 + i, true), 0);
	}
	enter(0);
	assert_int_equal(hcrs[0], ICH_HCR_EN);
	leave(0);
}

/* Active interrupts take LRs before any pending one, lowest priority or not. */
static void test_active_first(void **state)
{
	(void)state;
	setup(1, 64, 4);
	for (u32 i = 0; i < 6; i++) {
		enable(0, 32 + i, (u8)(0x10 + 8 * i));
		assert_int_equal(vgic_set_level(&G, 0, 32 + i, true), 0);
	}
	enable(0, 90, 0xf8);
	wr32(GICD(0x300 + 90 / 32 * 4), 1u << (90 % 32)); /* made active by the guest */
	wr32(GICD(0x300 + 91 / 32 * 4), 1u << (91 % 32)); /* active and disabled */
	enter(0);
	assert_int_equal(nused[0], 4);
	assert_int_equal(lr_intid(lrs[0][0]), 91); /* priority 0 */
	assert_int_equal(lr_state(lrs[0][0]), S_A);
	assert_int_equal(lr_intid(lrs[0][1]), 90);
	assert_int_equal(lr_state(lrs[0][1]), S_A);
	assert_int_equal(lr_intid(lrs[0][2]), 32);
	assert_int_equal(lr_intid(lrs[0][3]), 33);
	assert_true(hcrs[0] & ICH_HCR_UIE);
	leave(0);
}

static void test_edge_cases(void **state)
{
	(void)state;
	setup(2, 32, 4);
	enable(0, 40, 0x80);
	set_edge(40);
	/* Two edges before the guest looks: one pending interrupt. */
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_P);
	assert_false(lrs[0][0] & ICH_LR_EOI); /* edge: no resampling to do */
	/* A third edge while the first is pending in the LR: still one. */
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	exit_enter(0);
	assert_int_equal(nused[0], 1);
	assert_int_equal(lr_state(lrs[0][0]), S_P);
	/* Acknowledged, then a new edge: pending and active together. */
	assert_int_equal(cpuif_ack(0), 40);
	leave(0);
	assert_int_equal(vgic_irq_status(&G, 0, 40) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
			 VGIC_ST_ACTIVE);
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_PA);
	/* The guest deactivates: the pending part remains, and is taken again. */
	cpuif_deactivate(0, 40);
	assert_int_equal(lr_state(lrs[0][0]), S_P);
	exit_enter(0);
	assert_int_equal(cpuif_ack(0), 40);
	cpuif_deactivate(0, 40);
	leave(0);
	assert_false(vgic_irq_status(&G, 0, 40) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE));
	/* An edge line held high does not pend again until it falls and rises. */
	assert_int_equal(vgic_set_level(&G, 0, 40, true), 0);
	assert_int_equal(vgic_set_level(&G, 0, 40, true), 0);
	enter(0);
	assert_int_equal(cpuif_ack(0), 40);
	cpuif_deactivate(0, 40);
	exit_enter(0);
	assert_int_equal(nused[0], 0);
	leave(0);
	assert_int_equal(vgic_set_level(&G, 0, 40, false), 0);
	assert_int_equal(vgic_set_level(&G, 0, 40, true), 0);
	assert_true(vgic_irq_status(&G, 0, 40) & VGIC_ST_PENDING);
}

static void test_level_cases(void **state)
{
	(void)state;
	setup(2, 32, 4);
	enable(0, 33, 0x80);
	/* High: pending with EOI maintenance, so the line is looked at again after deactivation. */
	assert_int_equal(vgic_set_level(&G, 0, 33, true), 0);
	enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_P);
	assert_true(lrs[0][0] & ICH_LR_EOI);
	/* Acknowledged, line still high: active only (never pending+active for level). */
	assert_int_equal(cpuif_ack(0), 33);
	exit_enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_A);
	assert_true(lrs[0][0] & ICH_LR_EOI);
	/* Deactivated while still high: the EOI maintenance exit finds it pending again. */
	cpuif_deactivate(0, 33);
	assert_true(maintenance(0));
	exit_enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_P);
	/* The device lowers the line before the guest acknowledges: the vCPU is kicked and the
	 * stale pending LR is withdrawn at its next entry. */
	memset(kicks, 0, sizeof(kicks));
	assert_int_equal(vgic_set_level(&G, 0, 33, false), 0);
	assert_int_equal(kicks[0], 1);
	exit_enter(0);
	assert_int_equal(nused[0], 0);
	/* Lowered after acknowledge: stays active until deactivated; no EOI maintenance needed. */
	assert_int_equal(vgic_set_level(&G, 0, 33, true), 0);
	exit_enter(0);
	assert_int_equal(cpuif_ack(0), 33);
	leave(0);
	assert_int_equal(vgic_set_level(&G, 0, 33, false), 0);
	enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_A);
	assert_false(lrs[0][0] & ICH_LR_EOI);
	cpuif_deactivate(0, 33);
	assert_false(maintenance(0));
	leave(0);
	assert_false(vgic_irq_status(&G, 0, 33) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE));
	/* A software pend (ISPENDR) of a level interrupt ends at acknowledge. */
	wr32(GICD(0x204), 1u << 1);
	enter(0);
	assert_int_equal(cpuif_ack(0), 33);
	exit_enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_A);
	cpuif_deactivate(0, 33);
	exit_enter(0);
	assert_int_equal(nused[0], 0);
	leave(0);
	/* A pulse on a level-sensitive interrupt nobody saw is gone. */
	assert_int_equal(vgic_pulse(&G, 0, 33), 0);
	assert_false(vgic_irq_status(&G, 0, 33) & VGIC_ST_PENDING);
}

/* The virtual timer: PPI 27, level, delivered with HW = 1 so the guest's deactivation deactivates
 * the physical PPI, which stays active (masked) at the physical GIC until then, as KVM does. */
/* A passthrough device's SPI (core/passthrough.c): HW-mapped to the same physical INTID; each
 * physical firing becomes a GICD_ISPENDR write (level or edge alike); the LR carries HW = 1 and the
 * pINTID and asks for no maintenance (the guest's deactivation goes to the GIC); after it the SPI
 * is idle, and a new firing is delivered again. A pending SPI the guest disables stays pending (EL2
 * keeps the physical one active); one whose pending state it clears is idle (EL2 deactivates). */
static void test_passthrough_spi(void **state)
{
	const u32 s = 64;
	const u64 ispendr = GICD(0x200 + s / 32 * 4);

	(void)state;
	for (int edge = 0; edge < 2; edge++) {
		setup(2, 64, 4);
		assert_int_equal(vgic_map_hw(&G, 0, s, s), 0);
		if (edge)
			set_edge(s);
		enable(0, s, 0x90);
		for (int round = 0; round < 3; round++) {
			wr32(ispendr, 1u << (s % 32));
			enter(0);
			assert_int_equal(lrs[0][0], s | (u64)s << 32 | 0x90ULL << 48 |
							    ICH_LR_GROUP1 | ICH_LR_HW |
							    ICH_LR_PENDING);
			assert_int_equal(cpuif_ack(0), (int)s);
			leave(0);
			assert_int_equal(vgic_irq_status(&G, 0, s) &
						 (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
					 VGIC_ST_ACTIVE);
			enter(0);
			assert_int_equal(lrs[0][0], s | (u64)s << 32 | 0x90ULL << 48 |
							    ICH_LR_GROUP1 | ICH_LR_HW |
							    ICH_LR_ACTIVE);
			cpuif_deactivate(0, s);
			leave(0);
			assert_false(vgic_irq_status(&G, 0, s) &
				     (VGIC_ST_PENDING | VGIC_ST_ACTIVE | VGIC_ST_IN_LR));
		}
		/* Disabled while pending: still pending, in no LR. */
		wr32(ispendr, 1u << (s % 32));
		wr32(GICD(0x180 + s / 32 * 4), 1u << (s % 32));
		enter(0);
		assert_int_equal(nused[0], 0);
		leave(0);
		assert_true(vgic_irq_status(&G, 0, s) & VGIC_ST_PENDING);
		/* Its pending state cleared too: idle. */
		wr32(GICD(0x280 + s / 32 * 4), 1u << (s % 32));
		assert_false(vgic_irq_status(&G, 0, s) &
			     (VGIC_ST_PENDING | VGIC_ST_ACTIVE | VGIC_ST_IN_LR));
	}
}

static void test_timer_ppi(void **state)
{
	u32 t = VGIC_PPI_VTIMER;
	(void)state;
	setup(2, 32, 4);
	assert_int_equal(vgic_map_hw(&G, 1, t, 27), 0);
	assert_int_equal(vgic_map_hw(&G, 1, 3, 27), FERRY_EINVAL);
	assert_int_equal(vgic_map_hw(&G, 1, t, 1020), FERRY_EINVAL);
	assert_int_equal(vgic_map_hw(&G, 1, t, 15), FERRY_EINVAL);
	assert_int_equal(vgic_map_hw(&G, 2, t, 27), FERRY_EINVAL);
	enable(1, t, 0xa0);
	/* Expiry: the glue computes the line from CNTV_CTL_EL0 (ISTATUS, ENABLE, !IMASK). */
	assert_int_equal(vgic_set_level(&G, 1, t, true), 0);
	assert_int_equal(kicks[1], 1);
	enter(1);
	assert_int_equal(lrs[1][0], t | 27ULL << 32 | 0xa0ULL << 48 | ICH_LR_GROUP1 | ICH_LR_HW |
					    ICH_LR_PENDING);
	/* Acknowledged; the timer condition still holds at the next exit: active only, no second
	 * pending (the physical one is active, hence masked, until the guest deactivates). */
	assert_int_equal(cpuif_ack(1), (int)t);
	leave(1);
	assert_int_equal(vgic_set_level(&G, 1, t, true), 0);
	enter(1);
	assert_int_equal(lr_state(lrs[1][0]), S_A);
	assert_true(lrs[1][0] & ICH_LR_HW);
	/* The handler programs the next deadline (line low), then deactivates: idle. */
	leave(1);
	assert_int_equal(vgic_set_level(&G, 1, t, false), 0);
	enter(1);
	cpuif_deactivate(1, t);
	leave(1);
	assert_int_equal(vgic_irq_status(&G, 1, t), VGIC_ST_ENABLED | VGIC_ST_GROUP1 | VGIC_ST_HW);
	/* Deactivated while the condition still holds: pending again at the next exit. */
	assert_int_equal(vgic_set_level(&G, 1, t, true), 0);
	enter(1);
	assert_int_equal(cpuif_ack(1), (int)t);
	cpuif_deactivate(1, t);
	exit_enter(1);
	assert_int_equal(lr_state(lrs[1][0]), S_P);
	leave(1);
	/* The guest disables the timer interrupt at the redistributor: it still shows pending
	 * there, and no LR carries it. */
	wr32(SGIB(1, 0x180), 1u << t);
	assert_int_equal(rd32(SGIB(1, 0x200)), 1u << t);
	enter(1);
	assert_int_equal(nused[1], 0);
	leave(1);
	assert_true(vgic_irq_status(&G, 1, t) & VGIC_ST_PENDING);
	/* vCPU 0's timer is its own. */
	assert_false(vgic_irq_status(&G, 0, t) & (VGIC_ST_PENDING | VGIC_ST_HW));
	/* Unmapped, the same interrupt goes through an ordinary level LR with EOI maintenance. */
	wr32(SGIB(1, 0x100), 1u << t);
	assert_int_equal(vgic_map_hw(&G, 1, t, 0), 0);
	enter(1);
	assert_int_equal(lrs[1][0],
			 t | 0xa0ULL << 48 | ICH_LR_GROUP1 | ICH_LR_PENDING | ICH_LR_EOI);
	assert_int_equal(vgic_map_hw(&G, 1, t, 27), FERRY_EBUSY); /* not while an LR holds it */
	leave(1);
}

/* ICC_SGI1R_EL1 decoded independently: the targets of value sent by src. */
static bool ref_target(const u64 *mpidr, u32 src, u32 t, u64 value)
{
	u64 m = mpidr[t];

	if (value >> 40 & 1)
		return t != src;
	return (m >> 32 & 0xff) == (value >> 48 & 0xff) &&
	       (m >> 16 & 0xff) == (value >> 32 & 0xff) &&
	       (m >> 8 & 0xff) == (value >> 16 & 0xff) && (m & 0xff) / 16 == (value >> 44 & 0xf) &&
	       (value >> ((m & 0xff) % 16) & 1);
}

static void check_sgi(const u64 *mpidr, u32 nr, u32 src, u64 value, enum vgic_sgi_reg reg)
{
	u32 intid = (u32)(value >> 24 & 0xf);
	int want = 0;

	for (u32 t = 0; t < nr; t++)
		want += ref_target(mpidr, src, t, value) &&
			(reg == VGIC_SGI1R || !(vgic_irq_status(&G, t, intid) & VGIC_ST_GROUP1));
	assert_int_equal(vgic_send_sgi(&G, src, value, reg), want);
	for (u32 t = 0; t < nr; t++) {
		bool hit = ref_target(mpidr, src, t, value) &&
			   (reg == VGIC_SGI1R || !(vgic_irq_status(&G, t, intid) & VGIC_ST_GROUP1));

		assert_int_equal(rd32(SGIB(t, 0x200)), hit ? 1u << intid : 0);
		wr32(SGIB(t, 0x280), ~0u);
	}
}

static void test_sgi_routing(void **state)
{
	/* Two clusters of Aff0 0..2, one PE at Aff0 17 (RS 1), one at Aff2 1, one at Aff3 1. */
	static const u64 mpidr[8] = {
		0x000, 0x001, 0x002, 0x100, 0x101, 0x011, 0x10000, 1ULL << 32
	};
	static const u64 upper[] = { 0, 1ULL << 16, 1ULL << 32, 1ULL << 48, 2ULL << 16 };
	(void)state;
	setup_full(8, 32, 4, mpidr);
	wr32(SGIB(3, 0x80), 0xffff00ff); /* vCPU 3's SGIs 8..15 are Group 0 */
	for (u32 src = 0; src < 8; src++)
		for (size_t u = 0; u < ARRAY_SIZE(upper); u++)
			for (u64 rs = 0; rs < 3; rs++) {
				for (u32 bit = 0; bit < 16; bit++)
					check_sgi(mpidr, 8, src,
						  upper[u] | rs << 44 | 1ULL << bit |
							  (u64)(bit % 16) << 24,
						  bit % 2 ? VGIC_SGI1R : VGIC_SGI0R);
				check_sgi(mpidr, 8, src, upper[u] | rs << 44 | 0xffff | 9ULL << 24,
					  VGIC_SGI1R);
				check_sgi(mpidr, 8, src, upper[u] | rs << 44 | 0xffff | 9ULL << 24,
					  VGIC_SGI0R);
				check_sgi(mpidr, 8, src, upper[u] | rs << 44 | 9ULL << 24,
					  VGIC_SGI1R);
				for (u32 k = 0; k < 64; k++)
					check_sgi(mpidr, 8, src,
						  upper[u] | rs << 44 | (rnd() & 0xffff) |
							  (u64)(rnd() % 16) << 24,
						  VGIC_SGI1R);
			}
	/* IRM: everyone but the sender, whatever the rest says. */
	for (u32 src = 0; src < 8; src++) {
		check_sgi(mpidr, 8, src, 1ULL << 40 | 3ULL << 24, VGIC_SGI1R);
		check_sgi(mpidr, 8, src, 1ULL << 40 | 0xffffULL | 0xffULL << 48 | 3ULL << 24,
			  VGIC_SGI1R);
		check_sgi(mpidr, 8, src, 1ULL << 40 | 12ULL << 24, VGIC_SGI0R);
	}
	/* To itself, by target list. */
	check_sgi(mpidr, 8, 4, 0x100ULL << 8 | 1ULL << 1 | 7ULL << 24, VGIC_SGI1R);
	assert_int_equal(vgic_send_sgi(&G, 8, 1, VGIC_SGI1R), FERRY_EINVAL);

	/* Linux on the default map (Aff0 = index), IPI to CPU 1 and broadcast. */
	setup(2, 32, 4);
	enable(1, 1, 0xa0);
	assert_int_equal(vgic_send_sgi(&G, 0, 1ULL << 1 | 1ULL << 24, VGIC_SGI1R), 1);
	assert_int_equal(kicks[1], 1);
	enter(1);
	assert_int_equal(lrs[1][0], 1 | 0xa0ULL << 48 | ICH_LR_GROUP1 | ICH_LR_PENDING);
	leave(1);
	assert_int_equal(vgic_send_sgi(&G, 1, 1ULL << 40, VGIC_SGI1R), 1);
	assert_true(vgic_irq_status(&G, 0, 0) & VGIC_ST_PENDING);
	assert_false(vgic_irq_status(&G, 1, 0) & VGIC_ST_PENDING);
}

static void test_spi_routing(void **state)
{
	(void)state;
	setup(2, 32, 4);
	enable(0, 40, 0x80);
	set_edge(40);
	route(40, 1);
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	assert_int_equal(kicks[1], 1);
	assert_int_equal(kicks[0], 0);
	enter(0);
	assert_int_equal(nused[0], 0);
	enter(1);
	assert_int_equal(lr_intid(lrs[1][0]), 40);
	/* Rerouted to vCPU 0 while vCPU 1's LR holds it: vCPU 1 is told to let go, and vCPU 0
	 * must not take it meanwhile. */
	memset(kicks, 0, sizeof(kicks));
	route(40, 0);
	assert_int_equal(kicks[1], 1);
	assert_int_equal(kicks[0], 0);
	exit_enter(0);
	assert_int_equal(nused[0], 0);
	/* vCPU 1 exits: it lets go, and vCPU 0 is told. */
	leave(1);
	assert_int_equal(kicks[0], 1);
	enter(1);
	assert_int_equal(nused[1], 0);
	exit_enter(0);
	assert_int_equal(lr_intid(lrs[0][0]), 40);
	/* Acknowledged on vCPU 0 then rerouted: it stays with vCPU 0 until deactivated there. */
	assert_int_equal(cpuif_ack(0), 40);
	leave(0);
	route(40, 1);
	exit_enter(1);
	assert_int_equal(nused[1], 0);
	enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_A);
	cpuif_deactivate(0, 40);
	leave(0);
	/* Routed to an affinity no vCPU has: pending, delivered nowhere. */
	route(40, 0x5);
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	assert_true(vgic_irq_status(&G, 0, 40) & VGIC_ST_PENDING);
	leave(1);
	enter(0);
	enter(1);
	assert_int_equal(nused[0] + nused[1], 0);
	leave(0);
	leave(1);
	route(40, 0);
	enter(0);
	assert_int_equal(nused[0], 1);
	leave(0);
}

/* Sleeping redistributors and disabled groups hold interrupts back; what is active stays. */
static void test_gating(void **state)
{
	(void)state;
	setup(1, 32, 4);
	enable(0, 40, 0x80);
	enable(0, 41, 0x80);
	assert_int_equal(vgic_set_level(&G, 0, 40, true), 0);
	wr32(GICD(0x300 + 4), 1u << 9); /* 41 active */
	/* A redistributor left asleep still delivers (QEMU's GIC and KVM's vGIC do). */
	wr32(GICR(0, 0x14), 2);
	enter(0);
	assert_int_equal(nused[0], 2);
	assert_int_equal(lr_intid(lrs[0][0]), 41);
	assert_int_equal(lr_intid(lrs[0][1]), 40);
	leave(0);
	wr32(GICR(0, 0x14), 0);
	/* Group 1 disabled at the distributor. */
	wr32(GICD(0), 1);
	enter(0);
	assert_int_equal(nused[0], 1);
	leave(0);
	/* Group 0 interrupts go out as Group 0 when Group 0 is enabled. */
	wr32(GICD(0x84), ~(1u << 8));
	enter(0);
	assert_int_equal(nused[0], 2);
	assert_int_equal(lr_intid(lrs[0][1]), 40);
	assert_false(lrs[0][1] & ICH_LR_GROUP1);
	leave(0);
	wr32(GICD(0), 0);
	enter(0);
	assert_int_equal(nused[0], 1);
	leave(0);
}

/* The guest's MMIO on interrupts a running vCPU's LRs hold wins at that vCPU's next sync. */
static void test_mmio_on_lr_held(void **state)
{
	(void)state;
	setup(2, 32, 4);
	enable(0, 40, 0x80);
	set_edge(40);
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	enter(0);
	/* Another vCPU reads it pending (the LR has it), then clears it. */
	assert_int_equal(rd32(GICD(0x204)), 1u << 8);
	memset(kicks, 0, sizeof(kicks));
	wr32(GICD(0x284), 1u << 8);
	assert_int_equal(kicks[0], 1);
	assert_int_equal(rd32(GICD(0x204)), 0);
	leave(0); /* the LR still says pending: the write wins */
	assert_false(vgic_irq_status(&G, 0, 40) & VGIC_ST_PENDING);
	/* Set pending while in the LR and acknowledged meanwhile: active, and pending again. */
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	enter(0);
	assert_int_equal(cpuif_ack(0), 40);
	wr32(GICD(0x204), 1u << 8);
	leave(0);
	assert_int_equal(vgic_irq_status(&G, 0, 40) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
			 VGIC_ST_PENDING | VGIC_ST_ACTIVE);
	/* Cleared active while the guest holds it active: inactive, and its pending part stays. */
	enter(0);
	assert_int_equal(lr_state(lrs[0][0]), S_PA);
	wr32(GICD(0x384), 1u << 8);
	assert_int_equal(rd32(GICD(0x304)), 0);
	leave(0);
	assert_int_equal(vgic_irq_status(&G, 0, 40) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
			 VGIC_ST_PENDING);
	/* A priority change reaches the LR at the next entry. */
	enter(0);
	memset(kicks, 0, sizeof(kicks));
	wr8(GICD(0x400 + 40), 0x20);
	assert_int_equal(kicks[0], 1);
	exit_enter(0);
	assert_int_equal(lr_prio(lrs[0][0]), 0x20);
	/* Disabled while pending in the LR: withdrawn at the next entry, still pending. */
	wr32(GICD(0x184), 1u << 8);
	exit_enter(0);
	assert_int_equal(nused[0], 0);
	leave(0);
	assert_true(vgic_irq_status(&G, 0, 40) & VGIC_ST_PENDING);
}

/* With a single LR, UIE would fire forever: NPIE while it is pending, EOI maintenance once it is
 * active (for HW = 0). */
static void test_single_lr(void **state)
{
	(void)state;
	setup(1, 32, 1);
	enable(0, 40, 0x10);
	enable(0, 41, 0x20);
	set_edge(40);
	set_edge(41);
	assert_int_equal(vgic_pulse(&G, 0, 40), 0);
	assert_int_equal(vgic_pulse(&G, 0, 41), 0);
	enter(0);
	assert_int_equal(hcrs[0], ICH_HCR_EN | ICH_HCR_NPIE);
	assert_false(maintenance(0));
	assert_int_equal(cpuif_ack(0), 40);
	assert_true(maintenance(0));
	exit_enter(0);
	assert_int_equal(hcrs[0], ICH_HCR_EN);
	assert_int_equal(lrs[0][0],
			 40 | 0x10ULL << 48 | ICH_LR_GROUP1 | ICH_LR_ACTIVE | ICH_LR_EOI);
	assert_false(maintenance(0));
	cpuif_deactivate(0, 40);
	assert_true(maintenance(0));
	exit_enter(0);
	assert_int_equal(lr_intid(lrs[0][0]), 41);
	assert_int_equal(hcrs[0], ICH_HCR_EN);
	leave(0);
	/* HW and active with others waiting: nothing can be asked for (documented). */
	assert_int_equal(vgic_map_hw(&G, 0, 27, 27), 0);
	enable(0, 27, 0x00);
	assert_int_equal(vgic_set_level(&G, 0, 27, true), 0);
	enter(0);
	assert_int_equal(cpuif_ack(0), 27);
	exit_enter(0);
	assert_int_equal(lr_intid(lrs[0][0]), 27);
	assert_int_equal(hcrs[0], ICH_HCR_EN);
	assert_false(lrs[0][0] & ICH_LR_EOI);
	leave(0);
}

/* WFI: is there something the virtual CPU interface would signal under ICH_VMCR_EL2? */
static void test_has_pending(void **state)
{
	u64 vmcr = 0xf0ULL << 24 | ICH_VMCR_VENG1;
	(void)state;
	setup(2, 32, 4);
	assert_false(vgic_vcpu_has_pending(&G, 0, vmcr));
	enable(0, 40, 0xf0);
	assert_int_equal(vgic_set_level(&G, 0, 40, true), 0);
	assert_false(vgic_vcpu_has_pending(&G, 0, vmcr)); /* masked by the PMR */
	assert_true(vgic_vcpu_has_pending(&G, 0, 0xf8ULL << 24 | ICH_VMCR_VENG1));
	wr8(GICD(0x400 + 40), 0xa0);
	assert_true(vgic_vcpu_has_pending(&G, 0, vmcr));
	assert_false(vgic_vcpu_has_pending(&G, 1, vmcr)); /* routed to vCPU 0 */
	assert_false(vgic_vcpu_has_pending(&G, 0, 0xf0ULL << 24 | ICH_VMCR_VENG0));
	assert_false(vgic_vcpu_has_pending(&G, 2, vmcr));
	wr32(GICD(0x304), 1u << 8); /* active: not signalled again */
	assert_false(vgic_vcpu_has_pending(&G, 0, vmcr));
	wr32(GICD(0x384), 1u << 8);
	wr32(GICR(0, 0x14), 2); /* asleep: still delivered, as QEMU's GIC and KVM do */
	assert_true(vgic_vcpu_has_pending(&G, 0, vmcr));
	wr32(GICR(0, 0x14), 0);
	assert_int_equal(vgic_send_sgi(&G, 0, 1ULL << 1 | 2ULL << 24, VGIC_SGI1R), 1);
	assert_false(vgic_vcpu_has_pending(&G, 1, vmcr)); /* SGI 2 not enabled there */
	enable(1, 2, 0x00);
	assert_true(vgic_vcpu_has_pending(&G, 1, vmcr));
}

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

		setup(3, nr_spis, nr_lrs);
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
		cmocka_unit_test(test_flush_empty_and_protocol),
		cmocka_unit_test(test_lr_encoding),
		cmocka_unit_test(test_priority_order_and_refill),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_active_first),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_level_cases),
		cmocka_unit_test(test_timer_ppi),
		cmocka_unit_test(test_passthrough_spi),
		cmocka_unit_test(test_sgi_routing),
		cmocka_unit_test(test_spi_routing),
		cmocka_unit_test(test_gating),
		cmocka_unit_test(test_mmio_on_lr_held),
		cmocka_unit_test(test_single_lr),
		cmocka_unit_test(test_has_pending),
		cmocka_unit_test(test_random_operations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
