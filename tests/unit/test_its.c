/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual ITS (hyp/vgic/its.c) and the vGIC's LPIs (hyp/vgic/vgic_lpi.c, the LPI parts of
 * vgic_mmio.c), against a guest RAM buffer: registers and their access sizes, stalls on a queue
 * ferry cannot read, hostile table addresses at the edges of RAM and of the address space, the
 * pending table, LPIs disabled and enabled again, and save/restore. The commands are in
 * test_its_commands.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "its_fixture.h"
#include "lib/lib.h"

static void put_le32_(u8 *p, u32 v) { put_le32(p, v); }
static u32 get_le32_(const u8 *p) { return get_le32(p); }

static void test_registers(void **state)
{
	u64 typer;

	(void)state;
	setup_vm(2);
	typer = mmio_rd(ITS + 8, 8);
	assert_true(typer & 1);                         /* Physical */
	assert_false(typer & 2);                        /* no virtual LPIs */
	assert_int_equal(FIELD_GET(typer, 7, 4), 7);    /* 8-byte ITT entries */
	assert_int_equal(FIELD_GET(typer, 12, 8), 15);  /* 16 EventID bits */
	assert_int_equal(FIELD_GET(typer, 17, 13), 15); /* 16 DeviceID bits */
	assert_int_equal(FIELD_GET(typer, 19, 19), 0);  /* PTA 0 */
	assert_int_equal(FIELD_GET(typer, 31, 24), 16); /* HCC */
	assert_int_equal(FIELD_GET(typer, 36, 36), 1);  /* CIL: CIDbits holds */
	assert_int_equal(FIELD_GET(typer, 35, 32), 3);  /* 16 collection IDs: all held (HCC) */
	assert_int_equal(mmio_rd(ITS + 8, 4), (u32)typer);
	assert_int_equal(mmio_rd(ITS + 12, 4), typer >> 32);
	assert_int_equal(mmio_rd(ITS + 0xffe8, 4), 0x3b);
	assert_int_equal(mmio_rd(ITS + 4, 4), 0x4600043b);
	assert_int_equal(mmio_rd(ITS + 0, 4), 1u << 31); /* quiescent, disabled */
	/* BASER0: Device, BASER1: Collection; 8-byte entries, RO; 64 KiB pages at reset (guests
	 * that take only that size check it before writing); Indirect RAZ/WI; BASER2..7
	 * unimplemented. */
	assert_int_equal(mmio_rd(ITS + 0x100, 8), 1ULL << 56 | 7ULL << 48 | 2ULL << 8);
	assert_int_equal(mmio_rd(ITS + 0x108, 8), 4ULL << 56 | 7ULL << 48 | 2ULL << 8);
	for (u32 n = 0; n < 2; n++) {
		mmio_wr(ITS + 0x100 + 8 * n, 8, ~0ULL);
		assert_int_equal(mmio_rd(ITS + 0x100 + 8 * n, 8),
				 (BIT(63) | GENMASK(61, 59) | GENMASK(55, 53) | GENMASK(47, 0) |
				  (n ? 4ULL : 1ULL) << 56 | 7ULL << 48));
	}
	for (u32 n = 2; n < 8; n++) {
		mmio_wr(ITS + 0x100 + 8 * n, 8, ~0ULL);
		assert_int_equal(mmio_rd(ITS + 0x100 + 8 * n, 8), 0);
	}
	/* 32-bit halves of 64-bit registers. */
	mmio_wr(ITS + 0x80, 4, 0x12345fff);
	mmio_wr(ITS + 0x84, 4, 0x80000000);
	assert_int_equal(mmio_rd(ITS + 0x80, 8), 0x8000000012345cffULL);
	/* Bad sizes and alignments: RAZ/WI, reported. */
	u64 v = 1;
	assert_int_equal(its_mmio_read(&I, ITS + 0, 2, &v), FERRY_EINVAL);
	assert_int_equal(v, 0);
	assert_int_equal(its_mmio_read(&I, ITS + 0x82, 4, &v), FERRY_EINVAL);
	assert_int_equal(its_mmio_write(&I, ITS + 0, 8, 1), FERRY_EINVAL);
	assert_int_equal(mmio_rd(ITS + 0, 4), 1u << 31);
	assert_int_equal(its_mmio_read(&I, ITS - 4, 4, &v), FERRY_ENOENT);
	assert_int_equal(its_mmio_read(&I, ITS + ITS_FRAME_SIZE, 4, &v), FERRY_ENOENT);
	assert_int_equal(its_mmio_write(&I, ITS + ITS_TRANSLATER_OFF, 1, 0), FERRY_EINVAL);
	/* Tables cannot move while the ITS is enabled. */
	mmio_wr(ITS + 0x80, 8, BIT(63) | CMDQ);
	mmio_wr(ITS + 0x100, 8, BIT(63) | DEVT);
	mmio_wr(ITS + 0, 4, 1);
	assert_int_equal(mmio_rd(ITS + 0, 4), 1u << 31 | 1);
	mmio_wr(ITS + 0x80, 8, BIT(63) | ITT0);
	mmio_wr(ITS + 0x100, 8, BIT(63) | ITT0);
	assert_int_equal(mmio_rd(ITS + 0x80, 8), BIT(63) | CMDQ);
	assert_int_equal(mmio_rd(ITS + 0x100, 8) & GENMASK(47, 12), DEVT);
}

static void test_redistributor_lpi_regs(void **state)
{
	(void)state;
	setup_vm(2);
	assert_int_equal((mmio_rd(GICD(4), 4) >> 17) & 1, 1);     /* LPIS */
	assert_int_equal((mmio_rd(GICD(4), 4) >> 19) & 0x1f, 13); /* 14 INTID bits */
	assert_int_equal(mmio_rd(GICR(1, 8), 8) & 1, 1);          /* PLPIS */
	mmio_wr(GICR(0, 0x70), 8, ~0ULL);
	assert_int_equal(mmio_rd(GICR(0, 0x70), 8),
			 GENMASK(4, 0) | GENMASK(11, 7) | GENMASK(51, 12) | GENMASK(58, 56));
	mmio_wr(GICR(0, 0x78), 8, ~0ULL);
	assert_int_equal(mmio_rd(GICR(0, 0x78), 8),
			 GENMASK(11, 7) | GENMASK(51, 16) | GENMASK(58, 56));
	/* Halves */
	mmio_wr(GICR(1, 0x70), 4, PROP | 13);
	mmio_wr(GICR(1, 0x74), 4, 0);
	assert_int_equal(mmio_rd(GICR(1, 0x70), 8), PROP | 13);
	/* EnableLPIs freezes the base registers; CES: it may be cleared, which thaws them. */
	mmio_wr(GICR(1, 0x78), 8, PEND);
	mmio_wr(GICR(1, 0), 4, 1);
	assert_int_equal(mmio_rd(GICR(1, 0), 4), 1 | 2);
	mmio_wr(GICR(1, 0x70), 8, 0);
	assert_int_equal(mmio_rd(GICR(1, 0x70), 8), PROP | 13);
	mmio_wr(GICR(1, 0), 4, 0);
	assert_int_equal(mmio_rd(GICR(1, 0), 4), 2);
	mmio_wr(GICR(1, 0x70), 8, PROP | 12);
	assert_int_equal(mmio_rd(GICR(1, 0x70), 8), PROP | 12);
	assert_int_equal(mmio_rd(GICR(0, 0), 4), 2);
	/* Without LPIs configured, the old view: nothing of this. */
	struct vgic_config cfg = { 1,     64,  4, NULL, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,
				   false, NULL };
	assert_int_equal(vgic_init(&G, &cfg, &ops, NULL), 0);
	assert_int_equal((mmio_rd(GICD(4), 4) >> 17) & 1, 0);
	assert_int_equal((mmio_rd(GICD(4), 4) >> 19) & 0x1f, 9);
	assert_int_equal(mmio_rd(GICR(0, 8), 8) & 1, 0);
	mmio_wr(GICR(0, 0x70), 8, PROP);
	mmio_wr(GICR(0, 0), 4, 1);
	assert_int_equal(mmio_rd(GICR(0, 0x70), 8), 0);
	assert_int_equal(mmio_rd(GICR(0, 0), 4), 0); /* no CES without LPIs */
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
	mmio_wr(ITS + 0, 4, 0);
	mmio_wr(ITS + 0x100, 8, BIT(63) | (end - 0x1000) | 0xff); /* 256 4K pages, 1 in RAM */
	mmio_wr(ITS + 0, 4, 1);
	MAPD(511, 5, ITT0);
	assert_int_equal(I.errors, 2);
	MAPD(512, 5, ITT0);
	assert_int_equal(I.last_error, ITS_E_MEMORY);
	mmio_wr(ITS + 0, 4, 0);
	mmio_wr(ITS + 0x100, 8, BIT(63) | GENMASK(47, 16) | 0xfULL << 12 | 2ULL << 8 | 0xff);
	mmio_wr(ITS + 0, 4, 1);
	MAPD(0xffff, 5, ITT0);
	assert_int_equal(I.last_error, ITS_E_MEMORY);
	/* LPI configuration table beyond RAM: every LPI reads as disabled. */
	setup_vm(1);
	mmio_wr(GICR(0, 0x70), 8, (end - 0x1000) | 13);
	mmio_wr(GICR(0, 0x78), 8, GENMASK(51, 16));
	mmio_wr(GICR(0, 0), 4, 1);
	assert_int_equal(vgic_lpi_config(&G, VGIC_LPI_BASE), 0);
	/* IDbits too small for LPIs: none in range. */
	setup_vm(1);
	memset(ram + (PROP - RAM_IPA), 0xa3, 8192);
	mmio_wr(GICR(0, 0x70), 8, PROP | 12);
	mmio_wr(GICR(0, 0x78), 8, PEND);
	mmio_wr(GICR(0, 0), 4, 1);
	assert_int_equal(vgic_lpi_config(&G, VGIC_LPI_BASE), 0);
	/* The command queue at the end of RAM: commands there run; past the end the ITS stalls,
	 * CREADR says so, and a Retry after moving on... a new CBASER clears it. */
	setup_vm(1);
	enable_lpis(0);
	mmio_wr(ITS + 0x100, 8, BIT(63) | DEVT);
	mmio_wr(ITS + 0x80, 8, BIT(63) | (end - 0x1000) | 1); /* 2 pages, the second outside RAM */
	mmio_wr(ITS + 0, 4, 1);
	mmio_wr(ITS + 0x88, 8, 0x1000 - 32);
	assert_false(I.stalled);
	mmio_wr(ITS + 0x88, 8, 0x1020);
	assert_true(I.stalled);
	assert_int_equal(mmio_rd(ITS + 0x90, 8), 0x1000 | 1);
	mmio_wr(ITS + 0x88, 8, 0x1020 | 1); /* Retry: still unreadable */
	assert_true(I.stalled);
	/* CWRITER beyond the queue: stalled too. */
	setup_vm(1);
	its_on();
	mmio_wr(ITS + 0x88, 8, 0x2000);
	assert_true(I.stalled);
	assert_int_equal(I.last_error, ITS_E_QUEUE);
	mmio_wr(ITS + 0, 4, 0);
	mmio_wr(ITS + 0x80, 8, BIT(63) | CMDQ | 3);
	assert_false(I.stalled);
	mmio_wr(ITS + 0, 4, 1);
	assert_false(I.stalled); /* CWRITER 0x2000 is inside 4 pages: processed from 0 */
	assert_int_equal(mmio_rd(ITS + 0x90, 8), 0x2000);
	/* A queue at the top of the address space. */
	setup_vm(1);
	mmio_wr(ITS + 0x80, 8, BIT(63) | GENMASK(51, 12) | 0xff);
	mmio_wr(ITS + 0, 4, 1);
	mmio_wr(ITS + 0x88, 8, 0x20);
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
	mmio_wr(GICR(1, 0x70), 8, PROP | 13);
	mmio_wr(GICR(1, 0x78), 8, PEND | BIT(62));
	assert_int_equal(mmio_rd(GICR(1, 0x78), 8), PEND); /* PTZ reads 0 */
	mmio_wr(GICR(1, 0), 4, 1);
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
	mmio_wr(GICR(0, 0), 4, 0);
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
	mmio_wr(GICR(0, 0x78), 8, PEND);
	mmio_wr(GICR(0, 0), 4, 1);
	assert_int_equal(G.cpu[0].lpi_npending, 2);
	assert_int_equal(deliver(0, got), 2);
	assert_int_equal(got[0], VGIC_LPI_BASE + 2);
	assert_int_equal(got[1], VGIC_LPI_BASE + 5);
	/* vCPU 1 was never disabled: untouched. */
	assert_true(G.cpu[1].lpis_enabled);
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
	/* The rehearsal's variant does not wait, and what it gets shows why the real save does: the
	 * model alone lacks the pending LPI the LR holds. */
	assert_int_equal(its_save_model(&I, blob2, sizeof(blob2), &len), 0);
	assert_int_equal(len, its_save_size(&I));
	assert_int_equal(vgic_sync_lrs(&G, 0, lr, n), 0);
	assert_int_equal(its_save(&I, blob, 100, &len), FERRY_ERANGE);
	assert_int_equal(its_save(&I, blob, sizeof(blob), &len), 0);
	assert_int_equal(len, its_save_size(&I));
	assert_memory_not_equal(blob, blob2, len);
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
	mmio_wr(ITS + 0x108, 8, BIT(63) | 0x50000 | 1ULL << 8);
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
	assert_int_equal(mmio_rd(ITS + 0x108, 8), 4ULL << 56 | 7ULL << 48 | 2ULL << 8);
	assert_int_equal(mmio_rd(ITS + 0x90, 8), cw);
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
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_redistributor_lpi_regs),
		cmocka_unit_test(test_hostile_addresses),
		cmocka_unit_test(test_pending_table),
		cmocka_unit_test(test_lpis_disabled_and_enabled_again),
		cmocka_unit_test(test_save_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
