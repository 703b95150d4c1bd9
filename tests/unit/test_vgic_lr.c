/* SPDX-License-Identifier: Apache-2.0 */
/* The vGICv3's list-register logic (hyp/vgic/vgic_lr.c) and its inputs (hyp/vgic/vgic.c): choice by
 * priority with more pending than LRs and refill on maintenance, driven by a small model of the
 * virtual CPU interface (vgic_lr_fixture.c); edge and level corner cases; gating, MMIO on
 * interrupts an LR holds, a single LR, and WFI's has-pending. Hardware-mapped interrupts and
 * routing are in test_vgic_lr_routing.c, random operations in test_vgic_lr_random.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vgic_lr_fixture.h"

static void test_flush_empty_and_protocol(void **state)
{
	u64 lr[VGIC_MAX_LRS];
	u64 hcr;
	u32 n;
	(void)state;
	lr_setup(2, 32, 4);
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
	lr_setup(2, 32, 4);
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

	lr_setup(2, 256, nr_lrs);
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
	lr_setup(1, 32, 4);
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
	lr_setup(1, 32, 4);
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
	lr_setup(1, 64, 4);
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
	lr_setup(2, 32, 4);
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
	lr_setup(2, 32, 4);
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

/* Sleeping redistributors and disabled groups hold interrupts back; what is active stays. */
static void test_gating(void **state)
{
	(void)state;
	lr_setup(1, 32, 4);
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
	lr_setup(2, 32, 4);
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
	lr_setup(1, 32, 1);
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
	lr_setup(2, 32, 4);
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
		cmocka_unit_test(test_gating),
		cmocka_unit_test(test_mmio_on_lr_held),
		cmocka_unit_test(test_single_lr),
		cmocka_unit_test(test_has_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
