/* SPDX-License-Identifier: Apache-2.0 */
/* The vGICv3's list registers for hardware-mapped interrupts and routing: the timer PPI and a
 * passthrough SPI mapped to hardware, SGI routing in every target form against a reference decoder,
 * and SPI routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vgic_lr_fixture.h"

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
		lr_setup(2, 64, 4);
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
	lr_setup(2, 32, 4);
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
	lr_setup(2, 32, 4);
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
	lr_setup(2, 32, 4);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_ppi),
		cmocka_unit_test(test_passthrough_spi),
		cmocka_unit_test(test_sgi_routing),
		cmocka_unit_test(test_spi_routing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
