/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual ITS (hyp/vgic/its.c) and the vGIC's LPIs (hyp/vgic/vgic_lpi.c, the LPI parts of
 * vgic_mmio.c and vgic_lr.c), against a guest RAM buffer: registers and their access sizes, the
 * command queue and every command, command errors (skipped, counted, the queue going on), stalls
 * on a queue ferry cannot read, hostile table addresses at the edges of RAM and of the address
 * space, LPI delivery through list registers (priority, enable, group, PMR for WFI) and the
 * configuration cache refreshed only by INV/INVALL, GITS_TRANSLATER, and random command streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "vgic/its.h"

static void put_le32_(u8 *p, u32 v) { put_le32(p, v); }
static u32 get_le32_(const u8 *p) { return get_le32(p); }

#define RAM_IPA 0x40000000ULL
#define RAM_SIZE (4ULL << 20)
#define PROP (RAM_IPA + 0x100000)
#define PEND (RAM_IPA + 0x110000)
#define DEVT (RAM_IPA + 0x120000)
#define CMDQ (RAM_IPA + 0x130000)
#define ITT0 (RAM_IPA + 0x140000)
#define ITT1 (RAM_IPA + 0x150000)
#define ITS ITS_BASE_VIRT
#define GICD(off) (VGIC_GICD_BASE_VIRT + (off))
#define GICR(v, off) (VGIC_GICR_BASE_VIRT + (u64)(v)*VGIC_GICR_STRIDE + (off))

static u8 *ram;
static struct gmem mem;
static struct vgic G;
static struct its I;
static u32 kicks[VGIC_MAX_VCPUS];
static u32 cw;

static void kick(void *ctx, u32 vcpu)
{
	(void)ctx;
	assert_true(vcpu < G.nr_vcpus);
	kicks[vcpu]++;
}
static const struct vgic_ops ops = { kick };

static u64 rd(u64 ipa, u32 size)
{
	u64 v;

	assert_int_equal(ipa >= ITS && ipa < ITS + ITS_FRAME_SIZE
				 ? its_mmio_read(&I, ipa, size, &v)
				 : vgic_mmio_read(&G, ipa, size, &v),
			 0);
	return v;
}

static void wr(u64 ipa, u32 size, u64 v)
{
	assert_int_equal(ipa >= ITS && ipa < ITS + ITS_FRAME_SIZE
				 ? its_mmio_write(&I, ipa, size, v)
				 : vgic_mmio_write(&G, ipa, size, v),
			 0);
}

static void put64(u64 ipa, u64 v) { assert_int_equal(gmem_write64(&mem, ipa, v), 0); }
static u64 get64(u64 ipa)
{
	u64 v;

	assert_int_equal(gmem_read64(&mem, ipa, &v), 0);
	return v;
}

/* A VM of nr vCPUs whose guest enabled the distributor; LPIs not yet on. */
static int setup_vm(u32 nr)
{
	struct vgic_config cfg = { nr,   64,  4, NULL, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,
				   true, &mem };

	if (!ram)
		ram = malloc(RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	mem = (struct gmem){ .ipa = RAM_IPA, .size = RAM_SIZE, .host = ram };
	assert_int_equal(vgic_init(&G, &cfg, &ops, NULL), 0);
	its_init(&I, &G, &mem, ITS);
	wr(GICD(0), 4, 3);
	memset(kicks, 0, sizeof(kicks));
	cw = 0;
	return 0;
}

static void enable_lpis(u32 vcpu)
{
	for (u32 i = 0; i < 256; i++)
		ram[PROP - RAM_IPA + i] = 0xa0 | 2 | 1;
	wr(GICR(vcpu, 0x70), 8, PROP | 13);
	wr(GICR(vcpu, 0x78), 8, PEND);
	wr(GICR(vcpu, 0), 4, 1);
}

static void its_on(void)
{
	wr(ITS + 0x100, 8, BIT(63) | DEVT | 0); /* 4K pages, 1 page: DeviceIDs 0..511 */
	wr(ITS + 0x80, 8, BIT(63) | CMDQ | 0);  /* one 4K page: 128 commands */
	wr(ITS + 0x88, 8, 0);
	wr(ITS + 0, 4, 1);
}

static void cmd(u64 d0, u64 d1, u64 d2, u64 d3)
{
	put64(CMDQ + cw, d0);
	put64(CMDQ + cw + 8, d1);
	put64(CMDQ + cw + 16, d2);
	put64(CMDQ + cw + 24, d3);
	cw = (cw + 32) % 0x1000;
	wr(ITS + 0x88, 8, cw);
}

#define MAPD(dev, bits, itt) cmd(0x08 | (u64)(dev) << 32, (bits)-1, BIT(63) | (itt), 0)
#define MAPC(icid, vcpu) cmd(0x09, 0, BIT(63) | (u64)(vcpu) << 16 | (icid), 0)
#define MAPTI(dev, ev, intid, icid) cmd(0x0a | (u64)(dev) << 32, (ev) | (u64)(intid) << 32, icid, 0)
#define MAPI(dev, ev, icid) cmd(0x0b | (u64)(dev) << 32, ev, icid, 0)
#define EVCMD(op, dev, ev) cmd((op) | (u64)(dev) << 32, ev, 0, 0)
#define INT(dev, ev) EVCMD(0x03, dev, ev)
#define CLEAR(dev, ev) EVCMD(0x04, dev, ev)
#define INV(dev, ev) EVCMD(0x0c, dev, ev)
#define DISCARD(dev, ev) EVCMD(0x0f, dev, ev)
#define MOVI(dev, ev, icid) cmd(0x01 | (u64)(dev) << 32, ev, icid, 0)
#define MOVALL(from, to) cmd(0x0e, 0, (u64)(from) << 16, (u64)(to) << 16)
#define INVALL(icid) cmd(0x0d, 0, icid, 0)
#define SYNC(vcpu) cmd(0x05, 0, (u64)(vcpu) << 16, 0)

/* The list registers vcpu would enter with, synced back as if the guest did nothing. */
static u32 flush_peek(u32 vcpu, u64 lr[VGIC_MAX_LRS])
{
	u64 hcr;
	u32 n;

	assert_int_equal(vgic_flush_lrs(&G, vcpu, lr, &n, &hcr), 0);
	assert_int_equal(vgic_sync_lrs(&G, vcpu, lr, n), 0);
	return n;
}

/* Enters vcpu and acknowledges every LR (the LPIs are then gone); returns the INTIDs, best first. */
static u32 deliver(u32 vcpu, u32 out[VGIC_MAX_LRS])
{
	u64 lr[VGIC_MAX_LRS], hcr;
	u32 n;

	assert_int_equal(vgic_flush_lrs(&G, vcpu, lr, &n, &hcr), 0);
	for (u32 i = 0; i < n; i++) {
		out[i] = (u32)lr[i];
		lr[i] = (lr[i] & ~ICH_LR_PENDING) | ICH_LR_ACTIVE;
	}
	assert_int_equal(vgic_sync_lrs(&G, vcpu, lr, n), 0);
	return n;
}

static void standard(u32 nr)
{
	setup_vm(nr);
	for (u32 v = 0; v < nr; v++)
		enable_lpis(v);
	its_on();
	MAPD(0, 5, ITT0);
	for (u32 v = 0; v < nr; v++)
		MAPC(v, v);
	for (u32 ev = 0; ev < 8; ev++)
		MAPTI(0, ev, VGIC_LPI_BASE + ev, 0);
	assert_int_equal(I.errors, 0);
}

static void test_registers(void **state)
{
	u64 typer;

	(void)state;
	setup_vm(2);
	typer = rd(ITS + 8, 8);
	assert_true(typer & 1);                         /* Physical */
	assert_false(typer & 2);                        /* no virtual LPIs */
	assert_int_equal(FIELD_GET(typer, 7, 4), 7);    /* 8-byte ITT entries */
	assert_int_equal(FIELD_GET(typer, 12, 8), 15);  /* 16 EventID bits */
	assert_int_equal(FIELD_GET(typer, 17, 13), 15); /* 16 DeviceID bits */
	assert_int_equal(FIELD_GET(typer, 19, 19), 0);  /* PTA 0 */
	assert_int_equal(FIELD_GET(typer, 31, 24), 16); /* HCC */
	assert_int_equal(FIELD_GET(typer, 36, 36), 1);  /* CIL: CIDbits holds */
	assert_int_equal(FIELD_GET(typer, 35, 32), 3);  /* 16 collection IDs: all held (HCC) */
	assert_int_equal(rd(ITS + 8, 4), (u32)typer);
	assert_int_equal(rd(ITS + 12, 4), typer >> 32);
	assert_int_equal(rd(ITS + 0xffe8, 4), 0x3b);
	assert_int_equal(rd(ITS + 4, 4), 0x4600043b);
	assert_int_equal(rd(ITS + 0, 4), 1u << 31); /* quiescent, disabled */
	/* BASER0: Device, BASER1: Collection; 8-byte entries, RO; 64 KiB pages at reset (guests
	 * that take only that size check it before writing); Indirect RAZ/WI; BASER2..7
	 * unimplemented. */
	assert_int_equal(rd(ITS + 0x100, 8), 1ULL << 56 | 7ULL << 48 | 2ULL << 8);
	assert_int_equal(rd(ITS + 0x108, 8), 4ULL << 56 | 7ULL << 48 | 2ULL << 8);
	for (u32 n = 0; n < 2; n++) {
		wr(ITS + 0x100 + 8 * n, 8, ~0ULL);
		assert_int_equal(rd(ITS + 0x100 + 8 * n, 8),
				 (BIT(63) | GENMASK(61, 59) | GENMASK(55, 53) | GENMASK(47, 0) |
				  (n ? 4ULL : 1ULL) << 56 | 7ULL << 48));
	}
	for (u32 n = 2; n < 8; n++) {
		wr(ITS + 0x100 + 8 * n, 8, ~0ULL);
		assert_int_equal(rd(ITS + 0x100 + 8 * n, 8), 0);
	}
	/* 32-bit halves of 64-bit registers. */
	wr(ITS + 0x80, 4, 0x12345fff);
	wr(ITS + 0x84, 4, 0x80000000);
	assert_int_equal(rd(ITS + 0x80, 8), 0x8000000012345cffULL);
	/* Bad sizes and alignments: RAZ/WI, reported. */
	u64 v = 1;
	assert_int_equal(its_mmio_read(&I, ITS + 0, 2, &v), FERRY_EINVAL);
	assert_int_equal(v, 0);
	assert_int_equal(its_mmio_read(&I, ITS + 0x82, 4, &v), FERRY_EINVAL);
	assert_int_equal(its_mmio_write(&I, ITS + 0, 8, 1), FERRY_EINVAL);
	assert_int_equal(rd(ITS + 0, 4), 1u << 31);
	assert_int_equal(its_mmio_read(&I, ITS - 4, 4, &v), FERRY_ENOENT);
	assert_int_equal(its_mmio_read(&I, ITS + ITS_FRAME_SIZE, 4, &v), FERRY_ENOENT);
	assert_int_equal(its_mmio_write(&I, ITS + ITS_TRANSLATER_OFF, 1, 0), FERRY_EINVAL);
	/* Tables cannot move while the ITS is enabled. */
	wr(ITS + 0x80, 8, BIT(63) | CMDQ);
	wr(ITS + 0x100, 8, BIT(63) | DEVT);
	wr(ITS + 0, 4, 1);
	assert_int_equal(rd(ITS + 0, 4), 1u << 31 | 1);
	wr(ITS + 0x80, 8, BIT(63) | ITT0);
	wr(ITS + 0x100, 8, BIT(63) | ITT0);
	assert_int_equal(rd(ITS + 0x80, 8), BIT(63) | CMDQ);
	assert_int_equal(rd(ITS + 0x100, 8) & GENMASK(47, 12), DEVT);
}

static void test_redistributor_lpi_regs(void **state)
{
	(void)state;
	setup_vm(2);
	assert_int_equal((rd(GICD(4), 4) >> 17) & 1, 1);     /* LPIS */
	assert_int_equal((rd(GICD(4), 4) >> 19) & 0x1f, 13); /* 14 INTID bits */
	assert_int_equal(rd(GICR(1, 8), 8) & 1, 1);          /* PLPIS */
	wr(GICR(0, 0x70), 8, ~0ULL);
	assert_int_equal(rd(GICR(0, 0x70), 8),
			 GENMASK(4, 0) | GENMASK(11, 7) | GENMASK(51, 12) | GENMASK(58, 56));
	wr(GICR(0, 0x78), 8, ~0ULL);
	assert_int_equal(rd(GICR(0, 0x78), 8), GENMASK(11, 7) | GENMASK(51, 16) | GENMASK(58, 56));
	/* Halves */
	wr(GICR(1, 0x70), 4, PROP | 13);
	wr(GICR(1, 0x74), 4, 0);
	assert_int_equal(rd(GICR(1, 0x70), 8), PROP | 13);
	/* EnableLPIs freezes the base registers; CES: it may be cleared, which thaws them. */
	wr(GICR(1, 0x78), 8, PEND);
	wr(GICR(1, 0), 4, 1);
	assert_int_equal(rd(GICR(1, 0), 4), 1 | 2);
	wr(GICR(1, 0x70), 8, 0);
	assert_int_equal(rd(GICR(1, 0x70), 8), PROP | 13);
	wr(GICR(1, 0), 4, 0);
	assert_int_equal(rd(GICR(1, 0), 4), 2);
	wr(GICR(1, 0x70), 8, PROP | 12);
	assert_int_equal(rd(GICR(1, 0x70), 8), PROP | 12);
	assert_int_equal(rd(GICR(0, 0), 4), 2);
	/* Without LPIs configured, the old view: nothing of this. */
	struct vgic_config cfg = { 1,     64,  4, NULL, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,
				   false, NULL };
	assert_int_equal(vgic_init(&G, &cfg, &ops, NULL), 0);
	assert_int_equal((rd(GICD(4), 4) >> 17) & 1, 0);
	assert_int_equal((rd(GICD(4), 4) >> 19) & 0x1f, 9);
	assert_int_equal(rd(GICR(0, 8), 8) & 1, 0);
	wr(GICR(0, 0x70), 8, PROP);
	wr(GICR(0, 0), 4, 1);
	assert_int_equal(rd(GICR(0, 0x70), 8), 0);
	assert_int_equal(rd(GICR(0, 0), 4), 0); /* no CES without LPIs */
}

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
	wr(ITS + ITS_TRANSLATER_OFF, 4, 5);
	wr(ITS + ITS_TRANSLATER_OFF, 2, 6);
	assert_int_equal(I.translations, 2);
	assert_int_equal(deliver(0, got), 2);
	assert_int_equal(got[0], VGIC_LPI_BASE + 5);
	assert_int_equal(got[1], VGIC_LPI_BASE + 6);
	/* Disabled ITS: an MSI goes nowhere. */
	wr(ITS + 0, 4, 0);
	wr(ITS + ITS_TRANSLATER_OFF, 4, 5);
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
	wr(GICD(0x100 + 4), 4, 1); /* SPI 32 enabled, priority 0x80 */
	wr(GICD(0x400 + 32), 1, 0x80);
	wr(GICD(0x200 + 4), 4, 1); /* pending */
	INT(0, 2);
	INT(0, 1);
	assert_int_equal(flush_peek(0, lr), 3);
	assert_int_equal((u32)lr[0], VGIC_LPI_BASE + 1);
	assert_int_equal((u32)lr[1], 32);
	assert_int_equal((u32)lr[2], VGIC_LPI_BASE + 2);
	assert_int_equal(lr[2] >> 48 & 0xff, 0xc0);
	/* WFI: the PMR holds back what is not better than it. */
	assert_true(vgic_vcpu_has_pending(&G, 0, ICH_VMCR_VENG1 | 0x50ULL << 24));
	wr(GICD(0x280 + 4), 4, 1);
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
	wr(GICD(0), 4, 1);
	INT(0, 4);
	assert_int_equal(flush_peek(0, lr), 0);
	wr(GICD(0), 4, 3);
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
	assert_int_equal(rd(ITS + 0x90, 8), cw);
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
		assert_int_equal(rd(ITS + 0x90, 8), cw);
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

/* Tables and the queue where the guest puts them: at the edge of RAM, beyond it, at the top of the
 * address space. Nothing outside RAM is touched; the ITS stalls on a queue it cannot read. */
static void test_hostile_addresses(void **state)
{
	u64 end = RAM_IPA + RAM_SIZE;
	u32 got[VGIC_MAX_LRS];

	(void)state;
	standard(1);
	/* An ITT whose entries run off the end of RAM: the last in-RAM entry works, the next fails. */
	MAPD(2, 16, end - 0x800);
	MAPTI(2, 255, VGIC_LPI_BASE + 9, 0);
	assert_int_equal(I.errors, 0);
	MAPTI(2, 256, VGIC_LPI_BASE + 9, 0);
	assert_int_equal(I.last_error, ITS_E_MEMORY);
	cmd(0x03 | 2ULL << 32, 255, 0, 0);
	assert_int_equal(deliver(0, got), 1);
	/* ITT at the top of the 52-bit space and wrapping addresses. */
	MAPD(3, 16, GENMASK(51, 8));
	MAPTI(3, 0xffff, VGIC_LPI_BASE, 0);
	assert_int_equal(I.last_error, ITS_E_MEMORY);
	/* A device table straddling the end of RAM. */
	wr(ITS + 0, 4, 0);
	wr(ITS + 0x100, 8, BIT(63) | (end - 0x1000) | 0xff); /* 256 4K pages, 1 in RAM */
	wr(ITS + 0, 4, 1);
	MAPD(511, 5, ITT0);
	assert_int_equal(I.errors, 2);
	MAPD(512, 5, ITT0);
	assert_int_equal(I.last_error, ITS_E_MEMORY);
	wr(ITS + 0, 4, 0);
	wr(ITS + 0x100, 8, BIT(63) | GENMASK(47, 16) | 0xfULL << 12 | 2ULL << 8 | 0xff);
	wr(ITS + 0, 4, 1);
	MAPD(0xffff, 5, ITT0);
	assert_int_equal(I.last_error, ITS_E_MEMORY);
	/* LPI configuration table beyond RAM: every LPI reads as disabled. */
	setup_vm(1);
	wr(GICR(0, 0x70), 8, (end - 0x1000) | 13);
	wr(GICR(0, 0x78), 8, GENMASK(51, 16));
	wr(GICR(0, 0), 4, 1);
	assert_int_equal(vgic_lpi_config(&G, VGIC_LPI_BASE), 0);
	/* IDbits too small for LPIs: none in range. */
	setup_vm(1);
	memset(ram + (PROP - RAM_IPA), 0xa3, 8192);
	wr(GICR(0, 0x70), 8, PROP | 12);
	wr(GICR(0, 0x78), 8, PEND);
	wr(GICR(0, 0), 4, 1);
	assert_int_equal(vgic_lpi_config(&G, VGIC_LPI_BASE), 0);
	/* The command queue at the end of RAM: commands there run; past the end the ITS stalls,
	 * CREADR says so, and a Retry after moving on... a new CBASER clears it. */
	setup_vm(1);
	enable_lpis(0);
	wr(ITS + 0x100, 8, BIT(63) | DEVT);
	wr(ITS + 0x80, 8, BIT(63) | (end - 0x1000) | 1); /* 2 pages, the second outside RAM */
	wr(ITS + 0, 4, 1);
	wr(ITS + 0x88, 8, 0x1000 - 32);
	assert_false(I.stalled);
	wr(ITS + 0x88, 8, 0x1020);
	assert_true(I.stalled);
	assert_int_equal(rd(ITS + 0x90, 8), 0x1000 | 1);
	wr(ITS + 0x88, 8, 0x1020 | 1); /* Retry: still unreadable */
	assert_true(I.stalled);
	/* CWRITER beyond the queue: stalled too. */
	setup_vm(1);
	its_on();
	wr(ITS + 0x88, 8, 0x2000);
	assert_true(I.stalled);
	assert_int_equal(I.last_error, ITS_E_QUEUE);
	wr(ITS + 0, 4, 0);
	wr(ITS + 0x80, 8, BIT(63) | CMDQ | 3);
	assert_false(I.stalled);
	wr(ITS + 0, 4, 1);
	assert_false(I.stalled); /* CWRITER 0x2000 is inside 4 pages: processed from 0 */
	assert_int_equal(rd(ITS + 0x90, 8), 0x2000);
	/* A queue at the top of the address space. */
	setup_vm(1);
	wr(ITS + 0x80, 8, BIT(63) | GENMASK(51, 12) | 0xff);
	wr(ITS + 0, 4, 1);
	wr(ITS + 0x88, 8, 0x20);
	assert_true(I.stalled);
}

/* The pending table seeds LPIs when they are enabled, unless PTZ says it is zero. */
static void test_pending_table(void **state)
{
	(void)state;
	setup_vm(2);
	ram[PEND - RAM_IPA + 1024 + 1] = 0x81; /* LPIs 8200, 8207 */
	ram[PROP - RAM_IPA + 8] = 0xa3;
	enable_lpis(0);
	assert_true(vgic_lpi_is_pending(&G, 0, 8200));
	assert_true(vgic_lpi_is_pending(&G, 0, 8207));
	assert_int_equal(G.cpu[0].lpi_npending, 2);
	wr(GICR(1, 0x70), 8, PROP | 13);
	wr(GICR(1, 0x78), 8, PEND | BIT(62));
	assert_int_equal(rd(GICR(1, 0x78), 8), PEND); /* PTZ reads 0 */
	wr(GICR(1, 0), 4, 1);
	assert_int_equal(G.cpu[1].lpi_npending, 0);
}

/* EnableLPIs 1 -> 0: what was pending goes to the guest's pending table, nothing is pending or
 * can become pending until LPIs are enabled again, LPIs left in LRs are dropped at sync (as KVM
 * drops them), and
 * the enable after it reads the table, bits the guest set there meanwhile included (the sequence
 * kvm-unit-tests' its-pending-migration uses). */
static void test_lpis_disabled_and_enabled_again(void **state)
{
	u64 lr[VGIC_MAX_LRS], hcr;
	u32 got[VGIC_MAX_LRS], n;

	(void)state;
	standard(2);
	INT(0, 1);
	INT(0, 2);
	assert_int_equal(G.cpu[0].lpi_npending, 2);
	/* vCPU 0 enters with LPIs 8193 and 8194 in its LRs; 8196 becomes pending meanwhile, and
	 * LPIs are disabled while it runs. */
	assert_int_equal(vgic_flush_lrs(&G, 0, lr, &n, &hcr), 0);
	assert_int_equal(n, 2);
	INT(0, 4);
	wr(GICR(0, 0), 4, 0);
	assert_int_equal(G.cpu[0].lpi_npending, 0);
	/* Written back: LPI 8196 is bit 4 of byte 1024. */
	assert_int_equal(ram[PEND - RAM_IPA + 1024], 0x10);
	assert_int_equal(vgic_sync_lrs(&G, 0, lr, n), 0); /* still pending in the LRs: dropped */
	assert_int_equal(G.cpu[0].lpi_npending, 0);
	INT(0, 3); /* to a redistributor with LPIs off: dropped */
	assert_int_equal(G.cpu[0].lpi_npending, 0);
	assert_int_equal(flush_peek(0, lr), 0);
	/* The guest sets one more and clears one, then enables LPIs again. */
	ram[PEND - RAM_IPA + 1024] = 0x04 | 0x20; /* 8194, 8197 */
	wr(GICR(0, 0x78), 8, PEND);
	wr(GICR(0, 0), 4, 1);
	assert_int_equal(G.cpu[0].lpi_npending, 2);
	assert_int_equal(deliver(0, got), 2);
	assert_int_equal(got[0], VGIC_LPI_BASE + 2);
	assert_int_equal(got[1], VGIC_LPI_BASE + 5);
	/* vCPU 1 was never disabled: untouched. */
	assert_true(G.cpu[1].lpis_enabled);
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
			assert_int_equal(rd(ITS + 0x90, 8), cw);
			if (rand() % 8 == 0)
				wr(ITS + ITS_TRANSLATER_OFF, 4, (u32)rand() % 64);
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

/* Rebuilds the blob's CRC after a test changed a field (so that only the field check can refuse). */
static void recrc(u8 *b, size_t len)
{
	put_le32_(b + 12, 0);
	put_le32_(b + 12, crc32c(0, b, len));
}

static void test_save_restore(void **state)
{
	static u8 blob[64 * 1024], blob2[64 * 1024], bad[64 * 1024];
	size_t len, len2;
	u32 got[VGIC_MAX_LRS];
	u64 lr[VGIC_MAX_LRS], hcr;
	u32 n;

	(void)state;
	standard(3);
	INT(0, 1);
	INT(0, 2);
	MAPC(5, 2);
	MAPTI(0, 6, VGIC_LPI_BASE + 6, 5);
	INT(0, 6);
	ram[PROP - RAM_IPA + 2] = 0; /* changed without INV: the cache still says enabled */
	/* Refused while a vCPU is in the guest; an LR's pending LPI comes back at sync. */
	assert_int_equal(vgic_flush_lrs(&G, 0, lr, &n, &hcr), 0);
	assert_int_equal(its_save(&I, blob, sizeof(blob), &len), FERRY_EBUSY);
	assert_int_equal(vgic_sync_lrs(&G, 0, lr, n), 0);
	assert_int_equal(its_save(&I, blob, 100, &len), FERRY_ERANGE);
	assert_int_equal(its_save(&I, blob, sizeof(blob), &len), 0);
	assert_int_equal(len, its_save_size(&I));
	assert_int_equal(len, 64 + 16 + 8192 + 3 * (24 + 1024));
	assert_int_equal(get_le32_(blob), ITS_SAVE_MAGIC);

	/* Into a fresh VM of the same shape (the RAM moves separately: same bytes). */
	struct its src = I;
	(void)src;
	u8 *ram_copy = malloc(RAM_SIZE);
	memcpy(ram_copy, ram, RAM_SIZE);
	u32 cw_src = cw;
	setup_vm(3);
	cw = cw_src; /* the guest's own idea of its queue, in its memory */
	memcpy(ram, ram_copy, RAM_SIZE);
	free(ram_copy);
	/* Unlike the source's (reset: 64 KiB pages), so the blob must carry GITS_BASER1. */
	wr(ITS + 0x108, 8, BIT(63) | 0x50000 | 1ULL << 8);
	/* Every truncation, every bit flip, refused with nothing changed. */
	for (size_t l = 0; l < len; l += (l < 128 ? 1 : 97))
		assert_int_equal(its_restore(&I, blob, l), FERRY_EINVAL);
	for (size_t i = 0; i < len; i += (i < 128 ? 1 : 61))
		for (u32 b = 0; b < 8; b++) {
			memcpy(bad, blob, len);
			bad[i] ^= (u8)(1u << b);
			assert_int_equal(its_restore(&I, bad, len), FERRY_EINVAL);
		}
	assert_false(I.enabled);
	assert_int_equal(G.cpu[0].lpi_npending, 0);
	/* Impossible values under a valid CRC. */
	struct {
		size_t off;
		u64 val;
		u32 size;
	} imp[] = {
		{ 16, 2, 2 },              /* nr_vcpus */
		{ 18, 4, 2 },              /* unknown flag */
		{ 20, 1, 4 },              /* reserved */
		{ 24, BIT(62), 8 },        /* BASER1.Indirect */
		{ 32, BIT(62), 8 },        /* CBASER bit no register has */
		{ 40, 1, 8 },              /* CWRITER.Retry is not state */
		{ 48, 0x100000, 8 },       /* CREADR beyond the offset field */
		{ 56, BIT(62), 8 },        /* BASER0.Indirect */
		{ 64 + 3, 3, 1 },          /* a collection naming vCPU 3 of 3 */
		{ 8272, 4, 4 },            /* vCPU flags */
		{ 8272 + 4, 1, 4 },        /* reserved */
		{ 8272 + 8, BIT(5), 8 },   /* PROPBASER bit 5 */
		{ 8272 + 16, BIT(12), 8 }, /* PENDBASER bit 12 */
	};
	for (u32 i = 0; i < ARRAY_SIZE(imp); i++) {
		memcpy(bad, blob, len);
		for (u32 k = 0; k < imp[i].size; k++)
			bad[imp[i].off + k] = (u8)(imp[i].val >> (8 * k));
		recrc(bad, len);
		assert_int_equal(its_restore(&I, bad, len), FERRY_EINVAL);
	}
	/* Pending LPIs at a redistributor with LPIs off. */
	memcpy(bad, blob, len);
	bad[8272 + 1048 * 2] = 0;
	recrc(bad, len);
	assert_true(G.cpu[2].lpi_npending == 0);
	assert_int_equal(its_restore(&I, bad, len), FERRY_EINVAL);

	assert_int_equal(its_restore(&I, blob, len), 0);
	assert_true(I.enabled);
	assert_int_equal(rd(ITS + 0x108, 8), 4ULL << 56 | 7ULL << 48 | 2ULL << 8);
	assert_int_equal(rd(ITS + 0x90, 8), cw);
	assert_int_equal(I.errors, 0);
	assert_int_equal(its_save(&I, blob2, sizeof(blob2), &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(blob, blob2, len);
	/* The restored VM goes on: pending LPIs delivered where they were, the stale cache kept,
	 * commands continue from the restored CREADR. */
	assert_int_equal(deliver(0, got), 2);
	assert_int_equal(got[0], VGIC_LPI_BASE + 1);
	assert_int_equal(got[1], VGIC_LPI_BASE + 2);
	assert_int_equal(deliver(2, got), 1);
	assert_int_equal(got[0], VGIC_LPI_BASE + 6);
	INT(0, 7);
	assert_int_equal(I.errors, 0);
	assert_int_equal(deliver(0, got), 1);
	INV(0, 2);
	INT(0, 2);
	assert_int_equal(deliver(0, got), 0);
}

/* lib/gmem: whole ranges inside RAM only, no wrap at the top of the address space. */
static void test_gmem(void **state)
{
	u8 small[16] = { 0 }, b[8];
	struct gmem m = { .ipa = 0x1000, .size = sizeof(small), .host = small },
		    top = { .ipa = ~0ULL - 15, .size = 16, .host = small };
	u64 v;

	(void)state;
	assert_int_equal(gmem_write64(&m, 0x1008, 0x0102030405060708ULL), 0);
	assert_int_equal(small[8], 0x08);
	assert_int_equal(small[15], 0x01);
	assert_int_equal(gmem_read64(&m, 0x1008, &v), 0);
	assert_int_equal(v, 0x0102030405060708ULL);
	assert_int_equal(gmem_read(&m, 0x1009, b, 8), FERRY_ERANGE); /* one byte past the end */
	assert_int_equal(gmem_read(&m, 0xfff, b, 2), FERRY_ERANGE);  /* one byte before */
	assert_int_equal(gmem_read(&m, 0x1010, b, 1), FERRY_ERANGE);
	assert_int_equal(gmem_read(&m, 0x1000, b, 0), FERRY_ERANGE);    /* nothing to copy */
	assert_int_equal(gmem_read(&m, ~0ULL - 3, b, 8), FERRY_ERANGE); /* would wrap */
	assert_int_equal(gmem_write(NULL, 0x1000, b, 1), FERRY_ERANGE);
	assert_int_equal(gmem_read64(&top, ~0ULL - 7, &v), 0); /* ends exactly at 2^64 */
	assert_int_equal(gmem_read64(&top, ~0ULL - 6, &v), FERRY_ERANGE);
	m.size = ~0ULL; /* a window that is itself not representable: refused */
	assert_int_equal(gmem_read(&m, 0x1000, b, 1), FERRY_ERANGE);
}

/* Post-copy: a page not yet here is never read or written through gmem; fetch waits for it. */
static int gmem_fetch_calls;
static u64 gmem_fake_absent[1];

static int fake_fetch(void *ctx, u64 ipa, u64 len)
{
	(void)ipa;
	(void)len;
	gmem_fetch_calls++;
	if (!ctx)
		return FERRY_EAGAIN;  /* e.g. on the CPU that would have to fetch it */
	gmem_fake_absent[0] &= ~2ULL; /* the page at 0x2000 arrives */
	return 0;
}

static void test_gmem_absent_pages(void **state)
{
	static u8 pages[4 * 4096];
	struct gmem m = { 0x1000, sizeof(pages), pages, gmem_fake_absent, NULL, NULL };
	u8 b[16] = { 0 };
	u64 v;

	(void)state;
	memset(pages, 0xee, sizeof(pages));
	gmem_fake_absent[0] = 2;                                     /* the page at 0x2000 */
	assert_int_equal(gmem_read64(&m, 0x1ff8, &v), 0);            /* the page before */
	assert_int_equal(gmem_read(&m, 0x1ffc, b, 8), FERRY_EAGAIN); /* straddles into it */
	assert_int_equal(gmem_write64(&m, 0x2800, 1), FERRY_EAGAIN);
	assert_int_equal(pages[0x1800], 0xee); /* nothing written */
	assert_true(gmem_absent(&m, 0x2fff, 1));
	assert_false(gmem_absent(&m, 0x3000, 8));
	m.fetch = fake_fetch; /* fails: still refused */
	assert_int_equal(gmem_read64(&m, 0x2000, &v), FERRY_EAGAIN);
	assert_int_equal(gmem_fetch_calls, 1);
	m.fetch_ctx = &m; /* fetches: the access goes on */
	assert_int_equal(gmem_write64(&m, 0x2800, 0x1122), 0);
	assert_int_equal(gmem_fetch_calls, 2);
	assert_int_equal(pages[0x1800], 0x22);
	assert_int_equal(gmem_read64(&m, 0x2800, &v), 0);
	assert_int_equal(gmem_fetch_calls, 2); /* here now: no fetch */
	assert_int_equal(v, 0x1122);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gmem),
		cmocka_unit_test(test_gmem_absent_pages),
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_redistributor_lpi_regs),
		cmocka_unit_test(test_int_delivers),
		cmocka_unit_test(test_priority_and_enable),
		cmocka_unit_test(test_many_lpis),
		cmocka_unit_test(test_clear_discard_movi),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_hostile_addresses),
		cmocka_unit_test(test_pending_table),
		cmocka_unit_test(test_lpis_disabled_and_enabled_again),
		cmocka_unit_test(test_random_commands),
		cmocka_unit_test(test_save_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
