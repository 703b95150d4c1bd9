/* SPDX-License-Identifier: Apache-2.0 */
/* The vGICv3's register frames (hyp/vgic/vgic_mmio.c): the semantics of each implemented register
 * on every interrupt, ID and type registers, the WAKER handshake, and Linux's boot sequence
 * (drivers/irqchip/irq-gic-v3.c, irq-gic-common.c). The access-size and RAZ/WI sweeps are in
 * test_vgic_mmio_access.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vgic_fixture.h"

static void setup(u32 nr_vcpus, u32 nr_spis) { setup_map(nr_vcpus, nr_spis, 4, NULL); }

static void test_init_checks(void **state)
{
	struct vgic_config cfg = { 2,     64,  4, NULL, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,
				   false, NULL };
	struct vgic_config c;
	static const u64 dup[2] = { 0x80000001, 0x1 };
	static const u64 ok[2] = { 0x100, 0x1000000 };
	(void)state;
	assert_int_equal(vgic_init(&G, &cfg, NULL, NULL), 0);
	c = cfg, c.nr_vcpus = 0;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.nr_vcpus = VGIC_MAX_VCPUS + 1;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.nr_spis = 33;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.nr_spis = VGIC_MAX_SPIS + 32;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.nr_lrs = 0;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.nr_lrs = VGIC_MAX_LRS + 1;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	/* Bit 31 of MPIDR is not affinity: these two name the same PE. */
	c = cfg, c.mpidr = dup;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.mpidr = ok;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), 0);
	/* Overlapping or misaligned windows. */
	c = cfg, c.gicr_base = VGIC_GICD_BASE_VIRT + 0x10000 - VGIC_GICR_STRIDE;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.gicd_base = VGIC_GICR_BASE_VIRT + VGIC_GICR_STRIDE;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.gicd_base = VGIC_GICD_BASE_VIRT + 0x1000;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	c = cfg, c.gicr_base = VGIC_GICR_BASE_VIRT + 0x800;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), FERRY_EINVAL);
	/* Windows elsewhere work, and only there. */
	c = cfg, c.gicd_base = 0x2f000000, c.gicr_base = 0x2f100000;
	assert_int_equal(vgic_init(&G, &c, NULL, NULL), 0);
	assert_int_equal(rd32(0x2f000000 + 0xffe8), 0x3b);
	assert_int_equal(rd32(0x2f100000 + VGIC_GICR_STRIDE + 0xffe8), 0x3b);
	{
		u64 v;

		assert_int_equal(vgic_mmio_read(&G, GICD(0), 4, &v), FERRY_ENOENT);
		assert_int_equal(vgic_mmio_write(&G, 0x2f100000 + 2 * VGIC_GICR_STRIDE, 4, 0),
				 FERRY_ENOENT);
	}
}

static void test_id_and_type_registers(void **state)
{
	static const u32 spis[] = { 0, 32, 64, 224, 256 };
	static const u64 aff3[2] = { 0, 1ULL << 32 };
	static const u64 aff0_16[2] = { 0, 16 };
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(spis); i++) {
		setup(2, spis[i]);
		/* ITLinesNumber, IDbits 9 (10 bits), No1N; no LPIS, MBIS, SecurityExtn, A3V, RSS */
		assert_int_equal(rd32(GICD(0x4)), ((spis[i] + 32) / 32 - 1) | 9u << 19 | 1u << 25);
	}
	setup_map(2, 64, 4, aff3);
	assert_int_equal(rd32(GICD(0x4)) & (1u << 24 | 1u << 26), 1u << 24);
	setup_map(2, 64, 4, aff0_16);
	assert_int_equal(rd32(GICD(0x4)) & (1u << 24 | 1u << 26), 1u << 26);

	setup(2, 64);
	assert_int_equal(rd32(GICD(0x0)), 0x50); /* ARE and DS read as one, groups disabled */
	assert_int_equal(rd32(GICD(0x8)), 0x4600043b);
	assert_int_equal(rd32(GICD(0xc)), 0);  /* TYPER2 */
	assert_int_equal(rd32(GICD(0x10)), 0); /* STATUSR */
	assert_int_equal(rd32(GICD(0xffe8)), 0x3b);
	assert_int_equal(rd32(GICD(0xffe8)) & 0xf0, 0x30); /* ArchRev: GICv3 */
	for (u32 v = 0; v < 2; v++) {
		assert_int_equal(rd32(GICR(v, 0x4)), 0x4600043b);
		assert_int_equal(rd32(GICR(v, 0xffe8)), 0x3b);
		assert_int_equal(rd32(GICR(v, 0x0)), 0); /* CTLR: no LPIs, RWP 0 */
	}
	/* Other ID registers read as zero. */
	for (u64 off = 0xffd0; off < 0x10000; off += 4)
		if (off != 0xffe8) {
			assert_int_equal(rd32(GICD(off)), 0);
			assert_int_equal(rd32(GICR(1, off)), 0);
		}
}

/* GICR_TYPER: affinity in [63:32], Processor_Number in [23:8], Last on the final frame only, and
 * no PLPIS/VLPIS/DirectLPI/PPInum. Read whole and in halves. */
static void check_typers(u32 n, const u64 *mpidr)
{
	for (u32 v = 0; v < n; v++) {
		u64 m = mpidr ? mpidr[v] : v;
		u64 aff = ((m >> 32) & 0xff) << 24 | (m & 0xffffff);
		u64 want = aff << 32 | (u64)v << 8 | (v == n - 1 ? 0x10 : 0);

		assert_int_equal(rd(GICR(v, 0x8), 8), want);
		assert_int_equal(rd(GICR(v, 0x8), 4), (u32)want);
		assert_int_equal(rd(GICR(v, 0xc), 4), want >> 32);
	}
}

static void test_gicr_typer(void **state)
{
	static const u64 map[4] = { 0x80000000, 0x80000101, 0x80020003, 0xff000000ULL << 8 };
	(void)state;
	for (u32 n = 1; n <= VGIC_MAX_VCPUS; n++) {
		setup(n, 32);
		check_typers(n, NULL);
	}
	setup_map(4, 32, 4, map);
	check_typers(4, map);
}

static void test_waker_handshake(void **state)
{
	(void)state;
	setup(2, 32);
	for (u32 v = 0; v < 2; v++)
		assert_int_equal(rd32(GICR(v, 0x14)), 6); /* ProcessorSleep, ChildrenAsleep */
	/* Linux: clear ProcessorSleep, poll until ChildrenAsleep is clear. */
	wr32(GICR(1, 0x14), rd32(GICR(1, 0x14)) & ~2u);
	assert_int_equal(rd32(GICR(1, 0x14)), 0);
	assert_int_equal(rd32(GICR(0, 0x14)), 6);
	assert_int_equal(kicks[1], 1);
	/* The same value again changes nothing; IMPLEMENTATION DEFINED bits 0 and 31 are RAZ/WI,
	 * ChildrenAsleep is read-only. */
	wr32(GICR(1, 0x14), 0x80000005);
	assert_int_equal(rd32(GICR(1, 0x14)), 0);
	assert_int_equal(kicks[1], 1);
	/* Going to sleep: set ProcessorSleep, poll until ChildrenAsleep is set. */
	wr32(GICR(1, 0x14), 2);
	assert_int_equal(rd32(GICR(1, 0x14)), 6);
	assert_int_equal(kicks[1], 2);
	assert_int_equal(kicks[0], 0);
}

/* The set/clear register pairs and IGROUPR, on every implemented interrupt of every frame. */
struct bitpair {
	u64 set, clr;
	u32 status;
};

static const struct bitpair pairs[] = {
	{ 0x100, 0x180, VGIC_ST_ENABLED },
	{ 0x200, 0x280, VGIC_ST_PENDING },
	{ 0x300, 0x380, VGIC_ST_ACTIVE },
};

static u64 bank_addr(u32 vcpu, u64 bank, u32 intid)
{
	return intid < 32 ? SGIB(vcpu, bank) : GICD(bank + intid / 32 * 4);
}

static void check_bit_registers(u32 vcpu, u32 intid, u32 nr_vcpus)
{
	u32 bit = 1u << (intid % 32);

	for (size_t p = 0; p < ARRAY_SIZE(pairs); p++) {
		u64 set = bank_addr(vcpu, pairs[p].set, intid);
		u64 clr = bank_addr(vcpu, pairs[p].clr, intid);

		assert_int_equal(rd32(set), 0);
		wr32(set, bit);
		assert_int_equal(rd32(set), bit);
		assert_int_equal(rd32(clr), bit);
		assert_true(vgic_irq_status(&G, vcpu, intid) & pairs[p].status);
		/* Banked per redistributor: the other vCPUs' copies did not change. */
		for (u32 o = 0; o < nr_vcpus && intid < 32; o++)
			if (o != vcpu)
				assert_int_equal(rd32(bank_addr(o, pairs[p].set, intid)), 0);
		/* Zeros in either register do nothing. */
		wr32(set, 0);
		wr32(clr, 0);
		assert_int_equal(rd32(set), bit);
		wr32(clr, bit);
		assert_int_equal(rd32(set), 0);
		assert_int_equal(rd32(clr), 0);
		assert_false(vgic_irq_status(&G, vcpu, intid) & pairs[p].status);
	}
	/* IGROUPR is read/write: reset Group 1. */
	{
		u64 grp = bank_addr(vcpu, 0x80, intid);
		u32 old = rd32(grp);

		assert_true(old & bit);
		wr32(grp, old & ~bit);
		assert_false(vgic_irq_status(&G, vcpu, intid) & VGIC_ST_GROUP1);
		assert_int_equal(rd32(grp), old & ~bit);
		wr32(grp, old);
		assert_true(vgic_irq_status(&G, vcpu, intid) & VGIC_ST_GROUP1);
	}
}

static void test_bit_registers(void **state)
{
	(void)state;
	setup(3, 96);
	for (u32 v = 0; v < 3; v++)
		for (u32 i = 0; i < 32; i++)
			check_bit_registers(v, i, 3);
	for (u32 i = 32; i < 128; i++)
		check_bit_registers(0, i, 3);
	/* Whole words at once. */
	wr32(GICD(0x104), 0xf0f0f0f0);
	wr32(GICD(0x184), 0x30303030);
	assert_int_equal(rd32(GICD(0x104)), 0xc0c0c0c0);
	wr32(SGIB(2, 0x200), 0xffff0000);
	assert_int_equal(rd32(SGIB(2, 0x280)), 0xffff0000);
}

static void test_priorities(void **state)
{
	(void)state;
	setup(2, 64);
	/* Byte by byte over every implemented interrupt: 5 bits implemented (0xf8), lanes apart. */
	for (u32 i = 0; i < 96; i++) {
		u64 a = i < 32 ? SGIB(1, 0x400 + i) : GICD(0x400 + i);
		u8 p = (u8)(i * 37 + 5);

		wr(a, 1, p);
		assert_int_equal(rd(a, 1), p & 0xf8);
	}
	for (u32 i = 0; i < 96; i++) {
		u64 a = i < 32 ? SGIB(1, 0x400 + i) : GICD(0x400 + i);
		u64 w = a & ~3ULL;

		assert_int_equal(rd(a, 1), (u8)(i * 37 + 5) & 0xf8);
		assert_int_equal((rd32(w) >> (8 * (i % 4))) & 0xff, (u8)(i * 37 + 5) & 0xf8);
		assert_int_equal(rd(SGIB(0, 0x400 + i % 32), 1), 0); /* vCPU 0's own copies */
	}
	/* Words. */
	wr32(GICD(0x428), 0x11223344);
	assert_int_equal(rd32(GICD(0x428)), 0x10203040);
	assert_int_equal(rd(GICD(0x42a), 1), 0x20);
	wr32(SGIB(0, 0x41c), 0xa0a0a0a0);
	assert_int_equal(rd32(SGIB(0, 0x41c)), 0xa0a0a0a0);
	/* The GICD copies of INTIDs 0..31 and beyond the last SPI: RAZ/WI. */
	wr32(GICD(0x400), ~0u);
	assert_int_equal(rd32(GICD(0x400)), 0);
	assert_int_equal(rd(SGIB(0, 0x400), 1), 0);
	wr32(GICD(0x460), ~0u);
	assert_int_equal(rd32(GICD(0x460)), 0);
}

static void test_icfgr(void **state)
{
	(void)state;
	setup(2, 64);
	/* SGIs edge (0b10 each), read-only; PPIs level, read-only. */
	assert_int_equal(rd32(SGIB(0, 0xc00)), 0xaaaaaaaa);
	assert_int_equal(rd32(SGIB(0, 0xc04)), 0);
	wr32(SGIB(0, 0xc00), 0);
	wr32(SGIB(0, 0xc04), 0xaaaaaaaa);
	assert_int_equal(rd32(SGIB(0, 0xc00)), 0xaaaaaaaa);
	assert_int_equal(rd32(SGIB(0, 0xc04)), 0);
	/* SPIs: level out of reset; Int_config[1] is writable, [0] RES0. */
	for (u32 w = 2; w < 6; w++) {
		assert_int_equal(rd32(GICD(0xc00 + 4 * w)), 0);
		wr32(GICD(0xc00 + 4 * w), 0xffffffff);
		assert_int_equal(rd32(GICD(0xc00 + 4 * w)), 0xaaaaaaaa);
	}
	for (u32 i = 32; i < 96; i++)
		assert_true(vgic_irq_status(&G, 0, i) & VGIC_ST_EDGE);
	wr32(GICD(0xc08), 0x00000008); /* INTID 33 edge, 32 and 34..47 level */
	assert_int_equal(rd32(GICD(0xc08)), 0x8);
	assert_false(vgic_irq_status(&G, 0, 32) & VGIC_ST_EDGE);
	assert_true(vgic_irq_status(&G, 0, 33) & VGIC_ST_EDGE);
	/* The GICD copies for INTIDs 0..31 and past the last SPI are RAZ/WI. */
	assert_int_equal(rd32(GICD(0xc00)), 0);
	assert_int_equal(rd32(GICD(0xc18)), 0);
}

static void test_irouter(void **state)
{
	static const u64 map[3] = { 0x0, 0x0100, 0x2000000ULL << 8 };
	(void)state;
	setup(2, 64);
	/* 64-bit write; IRM (bit 31) RAZ/WI (No1N), Aff3 RES0 without A3V, other bits RES0. */
	wr(GICD(0x6000 + 8 * 40), 8, 0xffffffffffffffffULL);
	assert_int_equal(rd(GICD(0x6000 + 8 * 40), 8), 0xffffff);
	wr(GICD(0x6000 + 8 * 40), 8, 1);
	assert_int_equal(rd(GICD(0x6000 + 8 * 40), 8), 1);
	/* 32-bit halves. */
	wr(GICD(0x6000 + 8 * 41), 4, 0x80000001);
	assert_int_equal(rd(GICD(0x6000 + 8 * 41), 4), 1);
	assert_int_equal(rd(GICD(0x6000 + 8 * 41 + 4), 4), 0);
	/* Every SPI's register is its own. */
	for (u32 i = 32; i < 96; i++)
		wr(GICD(0x6000 + 8 * i), 8, i % 2);
	for (u32 i = 32; i < 96; i++)
		assert_int_equal(rd(GICD(0x6000 + 8 * i), 8), i % 2);
	/* IROUTER0..31 and past the last SPI: RAZ/WI. */
	for (u32 i = 0; i < 32; i++) {
		wr(GICD(0x6000 + 8 * i), 8, 1);
		assert_int_equal(rd(GICD(0x6000 + 8 * i), 8), 0);
	}
	wr(GICD(0x6000 + 8 * 96), 8, 1);
	assert_int_equal(rd(GICD(0x6000 + 8 * 96), 8), 0);

	/* With Aff3 in use (A3V) the upper half is Aff3. */
	setup_map(3, 32, 4, map);
	wr(GICD(0x6000 + 8 * 32 + 4), 4, 0x2);
	assert_int_equal(rd(GICD(0x6000 + 8 * 32), 8), 0x200000000ULL);
	wr(GICD(0x6000 + 8 * 32), 8, ~0ULL);
	assert_int_equal(rd(GICD(0x6000 + 8 * 32), 8), 0xff00ffffffULL);
}

/* Linux 6.1's GICv3 driver at boot, read and written as it does, on a 2-vCPU VM. */
static void linux_cpu_init(u32 cpu)
{
	u64 mpidr = cpu;
	u64 aff = ((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff);
	u64 rbase = 0;
	u32 val;

	/* gic_populate_rdist via gic_iterate_rdists: PIDR2 of the region, then walk the frames by
	 * 64-bit GICR_TYPER reads until Last, matching affinity. */
	assert_int_equal(rd32(GICR(0, 0xffe8)) & 0xf0, 0x30);
	for (u64 ptr = GICR(0, 0);; ptr += 2 * 0x10000) {
		u64 typer = rd(ptr + 8, 8);

		if ((typer >> 32) == aff) {
			rbase = ptr;
			break;
		}
		assert_false(typer & 0x10);
	}
	assert_int_equal(rbase, GICR(cpu, 0));
	/* gic_enable_redist(true) */
	val = rd32(rbase + 0x14);
	wr32(rbase + 0x14, val & ~2u);
	assert_false(rd32(rbase + 0x14) & 4);
	/* gic_cpu_init: SGIs/PPIs Group 1, then gic_cpu_config: deactivate and disable all
	 * private interrupts, default priority, enable SGIs, wait for RWP. */
	wr32(rbase + 0x10000 + 0x80, ~0u);
	wr32(rbase + 0x10000 + 0x380, ~0u);
	wr32(rbase + 0x10000 + 0x180, ~0u);
	for (u32 i = 0; i < 32; i += 4)
		wr32(rbase + 0x10000 + 0x400 + i, 0xa0a0a0a0);
	wr32(rbase + 0x10000 + 0x100, 0x0000ffff);
	assert_false(rd32(rbase) & (1u << 3)); /* GICR_CTLR.RWP */
}

static void test_linux_boot_sequence(void **state)
{
	u32 typer, nr_irqs;
	(void)state;
	setup(2, 256);
	/* gic_of_init / gic_validate_dist_version */
	assert_int_equal(rd32(GICD(0xffe8)) & 0xf0, 0x30);
	/* gic_init_bases */
	typer = rd32(GICD(0x4));
	nr_irqs = 32 * ((typer & 0x1f) + 1);
	assert_int_equal(nr_irqs, 288);
	assert_false(typer & (1u << 17)); /* LPIS */
	assert_false(typer & (1u << 8));  /* ESPI */
	assert_int_equal(rd32(GICD(0xc)), 0);
	(void)rd32(GICD(0x8)); /* quirks by IIDR */
	/* gic_dist_init */
	wr32(GICD(0x0), 0);
	assert_false(rd32(GICD(0x0)) & (1u << 31));
	for (u32 i = 32; i < nr_irqs; i += 32)
		wr32(GICD(0x80 + i / 8), ~0u);
	/* gic_dist_config */
	for (u32 i = 32; i < nr_irqs; i += 16)
		wr32(GICD(0xc00 + i / 4), 0);
	for (u32 i = 32; i < nr_irqs; i += 4)
		wr32(GICD(0x400 + i), 0xa0a0a0a0);
	for (u32 i = 32; i < nr_irqs; i += 32) {
		wr32(GICD(0x380 + i / 8), ~0u);
		wr32(GICD(0x180 + i / 8), ~0u);
	}
	assert_false(rd32(GICD(0x0)) & (1u << 31));
	/* ARE_NS | ENABLE_G1A | ENABLE_G1 as Linux names them: with DS = 1 bits 1 and 0 are
	 * EnableGrp1 and EnableGrp0. */
	wr32(GICD(0x0), 0x13);
	assert_false(rd32(GICD(0x0)) & (1u << 31));
	assert_int_equal(rd32(GICD(0x0)), 0x53);
	for (u32 i = 32; i < nr_irqs; i++)
		wr(GICD(0x6000 + 8 * i), 8, 0); /* boot CPU's affinity */
	linux_cpu_init(0);
	/* The boot CPU brings the secondary up; it runs the same per-CPU part. */
	linux_cpu_init(1);
	/* The arch timer's request_percpu_irq: gic_set_type(PPI 27, level) reads ICFGR1, finds it
	 * already level, writes nothing; then enables PPI 27 on each CPU. */
	for (u32 cpu = 0; cpu < 2; cpu++) {
		assert_int_equal(rd32(SGIB(cpu, 0xc04)) & (3u << 22), 0);
		wr32(SGIB(cpu, 0x100), 1u << 27);
	}
	/* The PL011's SPI 33 (DT: level high) is configured and enabled. */
	assert_int_equal(rd32(GICD(0xc08)) & (3u << 2), 0);
	wr32(GICD(0x104), 1u << 1);

	/* What the guest now has. */
	for (u32 cpu = 0; cpu < 2; cpu++) {
		assert_int_equal(rd32(GICR(cpu, 0x14)), 0);
		assert_int_equal(rd32(SGIB(cpu, 0x100)), 0x0800ffff);
		assert_int_equal(rd32(SGIB(cpu, 0x80)), ~0u);
		assert_int_equal(rd32(SGIB(cpu, 0x300)), 0);
		for (u32 i = 0; i < 32; i += 4)
			assert_int_equal(rd32(SGIB(cpu, 0x400 + i)), 0xa0a0a0a0);
	}
	for (u32 i = 32; i < nr_irqs; i++) {
		u32 st = vgic_irq_status(&G, 0, i);

		assert_int_equal(st & (VGIC_ST_GROUP1 | VGIC_ST_ENABLED | VGIC_ST_EDGE),
				 VGIC_ST_GROUP1 | (i == 33 ? VGIC_ST_ENABLED : 0));
		assert_int_equal(rd(GICD(0x400 + i), 1), 0xa0);
	}
}

/* A line the guest disabled still shows pending in its redistributor: pending does not depend on
 * enable (IHI 0069 "Interrupt handling state machine"). */
static void test_pending_independent_of_enable(void **state)
{
	(void)state;
	setup(2, 32);
	wr32(GICD(0), 2);
	wr32(GICR(1, 0x14), 0);
	memset(kicks, 0, sizeof(kicks));
	assert_int_equal(vgic_set_level(&G, 1, VGIC_PPI_VTIMER, true), 0);
	assert_int_equal(rd32(SGIB(1, 0x200)), 1u << 27);
	assert_int_equal(rd32(SGIB(1, 0x100)), 0);
	assert_int_equal(rd32(SGIB(0, 0x200)), 0);
	assert_int_equal(kicks[1], 0); /* nothing to deliver yet */
	/* Enabling it is what makes it deliverable. */
	wr32(SGIB(1, 0x100), 1u << 27);
	assert_int_equal(kicks[1], 1);
	wr32(SGIB(1, 0x180), 1u << 27);
	assert_int_equal(kicks[1], 2);
	assert_int_equal(rd32(SGIB(1, 0x200)), 1u << 27);
	/* ICPENDR cannot clear a level line that is still high. */
	wr32(SGIB(1, 0x280), 1u << 27);
	assert_int_equal(rd32(SGIB(1, 0x200)), 1u << 27);
	assert_int_equal(vgic_set_level(&G, 1, VGIC_PPI_VTIMER, false), 0);
	assert_int_equal(rd32(SGIB(1, 0x200)), 0);
	/* ISPENDR on a level interrupt pends it without a line; ICPENDR clears that. */
	wr32(SGIB(1, 0x200), 1u << 27);
	assert_int_equal(rd32(SGIB(1, 0x200)), 1u << 27);
	wr32(SGIB(1, 0x280), 1u << 27);
	assert_int_equal(rd32(SGIB(1, 0x200)), 0);
	/* Bad arguments. */
	assert_int_equal(vgic_set_level(&G, 2, VGIC_PPI_VTIMER, true), FERRY_EINVAL);
	assert_int_equal(vgic_set_level(&G, 0, 5, true), FERRY_EINVAL);
	assert_int_equal(vgic_set_level(&G, 0, 64, true), FERRY_EINVAL);
	assert_int_equal(vgic_pulse(&G, 0, 1020), FERRY_EINVAL);
	assert_int_equal(vgic_irq_status(&G, 0, 64), 0);
	assert_int_equal(vgic_irq_status(&G, 2, 3), 0);
}

static void test_ctlr_and_reset(void **state)
{
	(void)state;
	setup(2, 32);
	wr32(GICD(0), 0xffffffff);
	assert_int_equal(rd32(GICD(0)), 0x53);
	assert_int_equal(kicks[0], 1);
	assert_int_equal(kicks[1], 1);
	wr32(GICD(0), 0x2);
	assert_int_equal(rd32(GICD(0)), 0x52);
	wr32(GICD(0), 0x2);
	assert_int_equal(kicks[0], 2);
	wr32(GICR(0, 0x14), 0);
	wr32(SGIB(0, 0x100), 3);
	wr(GICD(0x420), 1, 0x80);
	assert_int_equal(vgic_reset(&G), 0);
	assert_int_equal(rd32(GICD(0)), 0x50);
	assert_int_equal(rd32(GICR(0, 0x14)), 6);
	assert_int_equal(rd32(SGIB(0, 0x100)), 0);
	assert_int_equal(rd(GICD(0x420), 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_checks),
		cmocka_unit_test(test_id_and_type_registers),
		cmocka_unit_test(test_gicr_typer),
		cmocka_unit_test(test_waker_handshake),
		cmocka_unit_test(test_bit_registers),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_icfgr),
		cmocka_unit_test(test_irouter),
		cmocka_unit_test(test_linux_boot_sequence),
		cmocka_unit_test(test_pending_independent_of_enable),
		cmocka_unit_test(test_ctlr_and_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
