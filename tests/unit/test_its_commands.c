/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual ITS's command queue and every command (hyp/vgic/its.c), with LPI delivery through
 * list registers (priority, enable, group, PMR for WFI; hyp/vgic/vgic_lpi.c, vgic_lr.c) and the
 * configuration cache refreshed only by INV/INVALL: command errors (skipped, counted, the queue
 * going on), GITS_TRANSLATER, and random command streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "its_fixture.h"
#include "lib/bitmap.h"
#include "lib/lib.h"
#include "mm/dirty.h"

static void note(void *ctx, u64 ipa, u64 len) { (void)dirty_log_note_write(ctx, ipa, len); }

static void test_int_delivers(void **state)
{
	u64 lr[VGIC_MAX_LRS];
	u32 got[VGIC_MAX_LRS];

	(void)state;
	standard(2);
	INT(0, 3);
	assert_int_equal(I.errors, 0);
	assert_true(vgic_lpi_is_pending(&G, 0, VGIC_LPI_BASE + 3));
	assert_true(kicks[0] > 0);
	assert_int_equal(flush_peek(0, lr), 1);
	assert_int_equal(lr[0],
			 (VGIC_LPI_BASE + 3) | 0xa0ULL << 48 | ICH_LR_GROUP1 | ICH_LR_PENDING);
	/* Still pending after an exit that left the LR pending; gone once acknowledged. */
	assert_true(vgic_lpi_is_pending(&G, 0, VGIC_LPI_BASE + 3));
	assert_true(vgic_vcpu_has_pending(&G, 0, ICH_VMCR_VENG1 | 0xffULL << 24));
	assert_int_equal(deliver(0, got), 1);
	assert_int_equal(got[0], VGIC_LPI_BASE + 3);
	assert_false(vgic_lpi_is_pending(&G, 0, VGIC_LPI_BASE + 3));
	assert_int_equal(flush_peek(0, lr), 0);
	assert_int_equal(flush_peek(1, lr), 0);
	/* GITS_TRANSLATER: DeviceID 0, 16- and 32-bit writes. */
	mmio_wr(ITS + ITS_TRANSLATER_OFF, 4, 5);
	mmio_wr(ITS + ITS_TRANSLATER_OFF, 2, 6);
	assert_int_equal(I.translations, 2);
	assert_int_equal(deliver(0, got), 2);
	assert_int_equal(got[0], VGIC_LPI_BASE + 5);
	assert_int_equal(got[1], VGIC_LPI_BASE + 6);
	/* Disabled ITS: an MSI goes nowhere. */
	mmio_wr(ITS + 0, 4, 0);
	mmio_wr(ITS + ITS_TRANSLATER_OFF, 4, 5);
	assert_int_equal(deliver(0, got), 0);
}

static void test_priority_and_enable(void **state)
{
	u64 lr[VGIC_MAX_LRS];
	u32 got[VGIC_MAX_LRS];

	(void)state;
	standard(1);
	/* Priorities: the better one first, among SPIs and LPIs alike. */
	ram[PROP - RAM_IPA + 1] = 0x40 | 3;
	ram[PROP - RAM_IPA + 2] = 0xc4 | 3; /* bit 2 is beyond the 5 implemented bits */
	INV(0, 1);
	INV(0, 2);
	mmio_wr(GICD(0x100 + 4), 4, 1); /* SPI 32 enabled, priority 0x80 */
	mmio_wr(GICD(0x400 + 32), 1, 0x80);
	mmio_wr(GICD(0x200 + 4), 4, 1); /* pending */
	INT(0, 2);
	INT(0, 1);
	assert_int_equal(flush_peek(0, lr), 3);
	assert_int_equal((u32)lr[0], VGIC_LPI_BASE + 1);
	assert_int_equal((u32)lr[1], 32);
	assert_int_equal((u32)lr[2], VGIC_LPI_BASE + 2);
	assert_int_equal(lr[2] >> 48 & 0xff, 0xc0);
	/* WFI: the PMR holds back what is not better than it. */
	assert_true(vgic_vcpu_has_pending(&G, 0, ICH_VMCR_VENG1 | 0x50ULL << 24));
	mmio_wr(GICD(0x280 + 4), 4, 1);
	CLEAR(0, 1);
	assert_false(vgic_vcpu_has_pending(&G, 0, ICH_VMCR_VENG1 | 0xc0ULL << 24));
	assert_true(vgic_vcpu_has_pending(&G, 0, ICH_VMCR_VENG1 | 0xc8ULL << 24));
	assert_false(vgic_vcpu_has_pending(&G, 0, 0xffULL << 24)); /* Group 1 off */
	/* The configuration is cached: a change without INV does not count, INV makes it count. */
	ram[PROP - RAM_IPA + 2] = 0xa0 | 2;
	assert_int_equal(flush_peek(0, lr), 1);
	INV(0, 2);
	assert_int_equal(flush_peek(0, lr), 0);
	assert_true(vgic_lpi_is_pending(&G, 0, VGIC_LPI_BASE + 2)); /* held, not lost */
	ram[PROP - RAM_IPA + 2] = 0xa0 | 3;
	INVALL(0);
	assert_int_equal(deliver(0, got), 1);
	/* Group 1 disabled in the distributor: held. */
	mmio_wr(GICD(0), 4, 1);
	INT(0, 4);
	assert_int_equal(flush_peek(0, lr), 0);
	mmio_wr(GICD(0), 4, 3);
	assert_int_equal(deliver(0, got), 1);
	assert_int_equal(got[0], VGIC_LPI_BASE + 4);
}

/* More pending LPIs than LRs: the best by priority, the rest after a refill, none lost. */
static void test_many_lpis(void **state)
{
	u32 got[VGIC_MAX_LRS], seen = 0, last_prio = 0;

	(void)state;
	standard(1);
	for (u32 ev = 0; ev < 32; ev++) {
		ram[PROP - RAM_IPA + 100 + ev] = (u8)((ev * 37 % 32) << 3 | 3);
		MAPTI(0, ev, VGIC_LPI_BASE + 100 + ev, 0);
	}
	INVALL(0);
	for (u32 ev = 0; ev < 32; ev++)
		INT(0, ev);
	while (seen < 32) {
		u32 n = deliver(0, got);

		assert_true(n > 0 && n <= 4);
		for (u32 i = 0; i < n; i++) {
			u32 p = ram[PROP - RAM_IPA + got[i] - VGIC_LPI_BASE] & 0xf8;

			assert_true(p >= last_prio);
			last_prio = p;
		}
		seen += n;
	}
	assert_int_equal(seen, 32);
	assert_int_equal(G.cpu[0].lpi_npending, 0);
}

static void test_clear_discard_movi(void **state)
{
	u32 got[VGIC_MAX_LRS];

	(void)state;
	standard(3);
	INT(0, 1);
	CLEAR(0, 1);
	assert_int_equal(deliver(0, got), 0);
	INT(0, 2);
	DISCARD(0, 2);
	assert_int_equal(get64(ITT0 + 2 * 8), 0);
	assert_int_equal(deliver(0, got), 0);
	INT(0, 2); /* unmapped now: an error, nothing pending */
	assert_int_equal(I.errors, 1);
	assert_int_equal(I.last_error, ITS_E_NO_EVENT);
	assert_int_equal(deliver(0, got), 0);
	/* MOVI moves a pending LPI with its event; later INTs go to the new collection. */
	INT(0, 3);
	MOVI(0, 3, 2);
	assert_false(vgic_lpi_is_pending(&G, 0, VGIC_LPI_BASE + 3));
	assert_true(vgic_lpi_is_pending(&G, 2, VGIC_LPI_BASE + 3));
	assert_int_equal(deliver(2, got), 1);
	INT(0, 3);
	assert_int_equal(deliver(2, got), 1);
	assert_int_equal(deliver(0, got), 0);
	/* MOVALL: everything pending at vCPU 0 goes to vCPU 1. */
	INT(0, 4);
	INT(0, 5);
	MOVALL(0, 1);
	assert_int_equal(deliver(0, got), 0);
	assert_int_equal(deliver(1, got), 2);
	/* MAPI: pINTID = EventID, so EventID 8200 on a 14-bit device. MAPD unmap. */
	MAPD(1, 14, ITT1);
	MAPI(1, 8200, 1);
	cmd(0x03 | 1ULL << 32, 8200, 0, 0);
	assert_int_equal(deliver(1, got), 1);
	assert_int_equal(got[0], 8200);
	cmd(0x08 | 1ULL << 32, 0, 0, 0); /* V = 0 */
	assert_int_equal(get64(DEVT + 8), 0);
	cmd(0x03 | 1ULL << 32, 8200, 0, 0);
	assert_int_equal(I.last_error, ITS_E_NO_DEVICE);
	SYNC(2);
	assert_int_equal(I.last_error, ITS_E_NO_DEVICE);
	assert_int_equal(mmio_rd(ITS + 0x90, 8), cw);
}

/* Every command error is skipped and counted, and the queue goes on. */
static void test_command_errors(void **state)
{
	struct {
		u64 c[4];
		u32 err;
	} bad[] = {
		{ { 0x03 | 9ULL << 32, 0, 0, 0 }, ITS_E_NO_DEVICE },   /* INT, device 9 */
		{ { 0x03 | 512ULL << 32, 0, 0, 0 }, ITS_E_DEVID },     /* beyond the table */
		{ { 0x03 | 0x10000ULL << 32, 0, 0, 0 }, ITS_E_DEVID }, /* beyond DevBits */
		{ { 0x03, 32, 0, 0 }, ITS_E_EVENTID },                 /* beyond 5 bits */
		{ { 0x03, 0xffffffffULL, 0, 0 }, ITS_E_EVENTID },
		{ { 0x03, 20, 0, 0 }, ITS_E_NO_EVENT },
		{ { 0x0a, 9 | 100ULL << 32, 0, 0 }, ITS_E_INTID },   /* MAPTI to an SPI */
		{ { 0x0a, 9 | 16384ULL << 32, 0, 0 }, ITS_E_INTID }, /* beyond 14 bits */
		{ { 0x0a, 9 | 8200ULL << 32, 16, 0 }, ITS_E_ICID },
		{ { 0x09, 0, BIT(63) | 16, 0 }, ITS_E_ICID },               /* MAPC */
		{ { 0x09, 0, BIT(63) | 2ULL << 16 | 3, 0 }, ITS_E_RDBASE }, /* vCPU 2 of 2 */
		{ { 0x09, 0, BIT(63) | GENMASK(50, 16), 0 }, ITS_E_RDBASE },
		{ { 0x08, 16, BIT(63) | ITT1, 0 }, ITS_E_SIZE }, /* MAPD 17 bits */
		{ { 0x0d, 0, 5, 0 }, ITS_E_NO_COLL },            /* INVALL */
		{ { 0x0d, 0, 0xffff, 0 }, ITS_E_ICID },
		{ { 0x01, 0, 7, 0 }, ITS_E_NO_COLL },         /* MOVI */
		{ { 0x0e, 0, 0, 5ULL << 16 }, ITS_E_RDBASE }, /* MOVALL */
		{ { 0x05, 0, 2ULL << 16, 0 }, ITS_E_RDBASE }, /* SYNC */
		{ { 0x02, 0, 0, 0 }, ITS_E_UNKNOWN_CMD },
		{ { 0x2a, 0, 0, 0 }, ITS_E_UNKNOWN_CMD }, /* VMAPTI */
		{ { 0xff, 0, 0, 0 }, ITS_E_UNKNOWN_CMD },
	};
	u32 got[VGIC_MAX_LRS];

	(void)state;
	standard(2);
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
		u64 before = I.errors;

		cmd(bad[i].c[0], bad[i].c[1], bad[i].c[2], bad[i].c[3]);
		assert_int_equal(I.errors, before + 1);
		assert_int_equal(I.last_error, bad[i].err);
		assert_false(I.stalled);
		assert_int_equal(mmio_rd(ITS + 0x90, 8), cw);
	}
	assert_int_equal(deliver(0, got), 0);
	assert_int_equal(deliver(1, got), 0);
	INT(0, 0);
	assert_int_equal(deliver(0, got), 1);
	/* A device entry the guest corrupted (size 32 bits): rejected at use. */
	put64(DEVT, BIT(63) | ITT0 | 31);
	INT(0, 0);
	assert_int_equal(I.last_error, ITS_E_NO_DEVICE);
	/* A redistributor with LPIs off drops the LPI. */
	setup_vm(2);
	enable_lpis(0);
	its_on();
	MAPD(0, 5, ITT0);
	MAPC(1, 1);
	MAPTI(0, 0, VGIC_LPI_BASE, 1);
	INT(0, 0);
	assert_int_equal(I.errors, 0);
	assert_int_equal(deliver(1, got), 0);
	assert_int_equal(G.cpu[1].lpi_npending, 0);
}

/* Random command streams (hostile DeviceIDs, EventIDs, ICIDs, table contents) with random MMIO:
 * nothing outside RAM is written, the queue never wedges without a stall, counts stay exact. */
static void test_random_commands(void **state)
{
	u8 *guard;

	(void)state;
	srand(7);
	for (u32 round = 0; round < 40; round++) {
		standard(1 + round % 4);
		guard = malloc(RAM_SIZE);
		for (u32 i = 0; i < 3000; i++) {
			u64 c[4];

			for (u32 w = 0; w < 4; w++)
				c[w] = (u64)rand() << 33 ^ (u64)rand() << 11 ^ (u64)rand();
			c[0] = (c[0] & ~0xffULL) | (rand() % 17);
			if (rand() % 2)
				c[0] &= 0xffffffffULL | 3ULL << 32; /* small DeviceIDs */
			if (rand() % 2)
				c[1] &= 0x1fff0000003fULL | (u64)VGIC_LPI_BASE << 32;
			if (rand() % 2)
				c[2] = (c[2] & (BIT(63) | 0x3ULL << 16 | 0x1f)) |
				       (rand() % 2 ? ITT0 : 0);
			cmd(c[0], c[1], c[2], c[3]);
			assert_false(I.stalled);
			assert_int_equal(mmio_rd(ITS + 0x90, 8), cw);
			if (rand() % 8 == 0)
				mmio_wr(ITS + ITS_TRANSLATER_OFF, 4, (u32)rand() % 64);
			if (rand() % 4 == 0) {
				u32 got[VGIC_MAX_LRS], v = (u32)rand() % G.nr_vcpus;
				u32 n = deliver(v, got);

				for (u32 k = 0; k < n; k++)
					assert_true(vgic_is_lpi(got[k]) || got[k] < 32 + 64);
			}
			for (u32 v = 0; v < G.nr_vcpus; v++) {
				u32 cnt = 0;

				for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++)
					cnt += (u32)__builtin_popcountll(G.cpu[v].lpi_pending[w]);
				assert_int_equal(cnt, G.cpu[v].lpi_npending);
			}
		}
		free(guard);
	}
}
/* The ITS's and the LPIs' writes to guest memory reach dirty logging (through gmem's `wrote`), so
 * a migration sends those pages again: MAPD writes the device table; MAPTI, MAPI, MOVI and DISCARD
 * an ITT; clearing EnableLPIs the pending table. The queue's own page is marked too: the fixture
 * writes each command into it through gmem, as the guest would through its stage 2. */
static void test_table_writes_are_logged(void **state)
{
	static u64 bits[BITMAP_WORDS(RAM_SIZE >> PAGE_SHIFT)];
	struct dirty_log dl = {
		.mode = DIRTY_WP, .base = RAM_IPA, .npages = RAM_SIZE >> PAGE_SHIFT, .bitmap = bits
	};
	const u64 cmdq = (CMDQ - RAM_IPA) >> PAGE_SHIFT;
	/* The table entry each step writes (its page must be marked, besides the queue's). */
	const u64 want[6] = { ITT0 + 9 * 8, DEVT + 1 * 8, ITT1 + 8200 * 8,
			      ITT0 + 4 * 8, ITT0 + 2 * 8, PEND + VGIC_LPI_BASE / 8 };
	(void)state;

	standard(3);
	mem.wrote = note;
	mem.wrote_ctx = &dl;
	for (unsigned step = 0; step < ARRAY_SIZE(want); step++) {
		memset(bits, 0, sizeof(bits));
		switch (step) {
		case 0:
			MAPTI(0, 9, VGIC_LPI_BASE + 9, 0);
			break;
		case 1:
			MAPD(1, 14, ITT1);
			break;
		case 2:
			MAPI(1, 8200, 1);
			break;
		case 3:
			MOVI(0, 4, 1);
			break;
		case 4:
			DISCARD(0, 2);
			break;
		default:
			INT(0, 3);
			mmio_wr(GICR(0, 0), 4,
				0); /* EnableLPIs 1 -> 0: pending state to the table */
			break;
		}
		assert_int_equal(I.errors, 0);
		assert_true(bitmap_test(bits, (want[step] - RAM_IPA) >> PAGE_SHIFT));
		assert_true(bitmap_test(bits, cmdq));
		assert_int_equal(bitmap_weight(bits, dl.npages), 2);
	}
	mem.wrote = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int_delivers),
		cmocka_unit_test(test_priority_and_enable),
		cmocka_unit_test(test_many_lpis),
		cmocka_unit_test(test_clear_discard_movi),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_random_commands),
		cmocka_unit_test(test_table_writes_are_logged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
