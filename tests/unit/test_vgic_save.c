/* SPDX-License-Identifier: Apache-2.0 */
/* The vGICv3's migration blob (hyp/vgic/vgic_save.c): a round trip of a busy state reproduces every
 * register and every list register; the layout is pinned; every truncation, every single-bit
 * corruption and every semantically impossible value (with a valid checksum) is rejected and leaves
 * the destination untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "vgic/vgic.h"

static struct vgic A, B;
static u32 kicks;

static void kick(void *ctx, u32 vcpu)
{
	(void)ctx;
	(void)vcpu;
	kicks++;
}

static const struct vgic_ops ops = { kick };

#define GICD(off) (VGIC_GICD_BASE_VIRT + (off))
#define GICR(v, off) (VGIC_GICR_BASE_VIRT + (u64)(v)*VGIC_GICR_STRIDE + (off))
#define SGIB(v, off) GICR(v, VGIC_GICR_SGI_OFFSET + (off))

static void init(struct vgic *g, u32 nr_vcpus, u32 nr_spis, const u64 *mpidr)
{
	struct vgic_config cfg = {
		nr_vcpus, nr_spis, 4, mpidr, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT, false, NULL
	};

	assert_int_equal(vgic_init(g, &cfg, &ops, g), 0);
}

static void wr(struct vgic *g, u64 ipa, u32 size, u64 v)
{
	assert_int_equal(vgic_mmio_write(g, ipa, size, v), 0);
}

static u64 rd(struct vgic *g, u64 ipa, u32 size)
{
	u64 v;

	assert_int_equal(vgic_mmio_read(g, ipa, size, &v), 0);
	return v;
}

static u32 rng = 777;

static u32 rnd(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 7;
}

static struct vgic_cpu_hw hw_a[VGIC_MAX_VCPUS], hw_b[VGIC_MAX_VCPUS];

/* A guest in the middle of things: every kind of state set somewhere, some of it in LRs when the
 * vCPUs exited. */
static void make_busy(struct vgic *g, u32 nr_vcpus, u32 nr_spis)
{
	u64 lr[VGIC_MAX_LRS], hcr;
	u32 n;

	wr(g, GICD(0), 4, 3);
	for (u32 v = 0; v < nr_vcpus; v++) {
		if (v != 1)
			wr(g, GICR(v, 0x14), 4, 0); /* vCPU 1 stays asleep */
		wr(g, SGIB(v, 0x80), 4, rnd());
		wr(g, SGIB(v, 0x100), 4, rnd());
		wr(g, SGIB(v, 0x200), 4, rnd());
		wr(g, SGIB(v, 0x300), 4, rnd() & 0x0f0f0f0f);
		for (u32 k = 0; k < 8; k++)
			wr(g, SGIB(v, 0x400 + 4 * k), 4, rnd());
		assert_int_equal(vgic_set_level(g, v, 16 + rnd() % 16, true), 0);
		hw_a[v].vmcr = (u64)rnd() << 20 | rnd();
		for (u32 k = 0; k < 4; k++) {
			hw_a[v].ap0r[k] = rnd();
			hw_a[v].ap1r[k] = rnd();
		}
	}
	for (u32 w = 1; w <= nr_spis / 32; w++) {
		wr(g, GICD(0x80 + 4 * w), 4, rnd());
		wr(g, GICD(0x100 + 4 * w), 4, rnd());
		wr(g, GICD(0x200 + 4 * w), 4, rnd());
		wr(g, GICD(0x300 + 4 * w), 4, rnd() & 0x00ff00ff);
		wr(g, GICD(0xc00 + 8 * w), 4, rnd());
		wr(g, GICD(0xc04 + 8 * w), 4, rnd());
	}
	for (u32 i = 32; i < 32 + nr_spis; i++) {
		wr(g, GICD(0x400 + i), 1, rnd());
		wr(g, GICD(0x6000 + 8 * i), 8, rnd() % (nr_vcpus + 1));
		if (rnd() % 4 == 0)
			assert_int_equal(vgic_set_level(g, 0, i, true), 0);
	}
	for (u32 s = 0; s < 8; s++)
		assert_int_equal(
			vgic_send_sgi(g, s % nr_vcpus, 1ULL << 40 | (u64)(s + 2) << 24, VGIC_SGI1R),
			(int)nr_vcpus - 1);
	/* Each vCPU ran: the guest acknowledged its first LR; edges moved into LRs come back. */
	for (u32 v = 0; v < nr_vcpus; v++) {
		assert_int_equal(vgic_flush_lrs(g, v, lr, &n, &hcr), 0);
		if (n && (lr[0] >> 62) == 1)
			lr[0] ^= 3ULL << 62;
		assert_int_equal(vgic_sync_lrs(g, v, lr, 4), 0);
	}
}

/* Everything the guest can observe, compared register by register; and the live bitmaps. */
static void assert_same_guest_view(struct vgic *x, struct vgic *y, u32 nr_vcpus)
{
	assert_memory_equal(x->spi_live, y->spi_live, sizeof(x->spi_live));
	for (u32 v = 0; v < nr_vcpus; v++)
		assert_int_equal(x->cpu[v].live, y->cpu[v].live);
	for (u64 off = 0; off < VGIC_GICD_SIZE; off += 4)
		assert_int_equal(rd(x, GICD(off), 4), rd(y, GICD(off), 4));
	for (u32 v = 0; v < nr_vcpus; v++)
		for (u64 off = 0; off < VGIC_GICR_STRIDE; off += 4)
			assert_int_equal(rd(x, GICR(v, off), 4), rd(y, GICR(v, off), 4));
	for (u32 v = 0; v < nr_vcpus; v++)
		for (u32 i = 0; i < 32 + x->nr_spis; i++)
			assert_int_equal(vgic_irq_status(x, v, i), vgic_irq_status(y, v, i));
}

static size_t save(struct vgic *g, const struct vgic_cpu_hw *hw, u8 *buf, size_t len)
{
	size_t out = 0;

	assert_int_equal(vgic_save(g, hw, buf, len, &out), 0);
	assert_int_equal(out, vgic_save_size(g));
	return out;
}

static u8 blob[32 + 12 * VGIC_MAX_SPIS + 176 * VGIC_MAX_VCPUS], blob2[sizeof(blob)];

static void test_round_trip(void **state)
{
	static const u64 map[3] = { 0x100, 0x1, 0x10000 };
	static const struct {
		u32 nr_vcpus, nr_spis;
		const u64 *mpidr;
	} cfgs[] = { { 1, 0, NULL }, { 2, 64, NULL }, { 3, 96, map }, { 8, 256, NULL } };
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cfgs); c++) {
		u32 nv = cfgs[c].nr_vcpus, ns = cfgs[c].nr_spis;
		size_t len, len2;

		init(&A, nv, ns, cfgs[c].mpidr);
		init(&B, nv, ns, cfgs[c].mpidr);
		memset(hw_a, 0, sizeof(hw_a));
		memset(hw_b, 0, sizeof(hw_b));
		make_busy(&A, nv, ns);
		len = save(&A, hw_a, blob, sizeof(blob));
		assert_int_equal(len, 32 + 12 * ns + 176 * nv);
		kicks = 0;
		assert_int_equal(vgic_restore(&B, hw_b, blob, len), 0);
		assert_int_equal(kicks, 0);
		assert_memory_equal(hw_a, hw_b, nv * sizeof(hw_a[0]));
		len2 = save(&B, hw_b, blob2, sizeof(blob2));
		assert_int_equal(len2, len);
		assert_memory_equal(blob, blob2, len);
		assert_same_guest_view(&A, &B, nv);
		/* Both give the same list registers. */
		for (u32 v = 0; v < nv; v++) {
			u64 la[VGIC_MAX_LRS], lb[VGIC_MAX_LRS], ha, hb;
			u32 na, nb;

			assert_int_equal(vgic_flush_lrs(&A, v, la, &na, &ha), 0);
			assert_int_equal(vgic_flush_lrs(&B, v, lb, &nb, &hb), 0);
			assert_int_equal(na, nb);
			assert_int_equal(ha, hb);
			assert_memory_equal(la, lb, sizeof(la[0]) * 4);
			if (v != 1 && nv > 1)
				assert_true(na > 0);
			assert_int_equal(vgic_sync_lrs(&A, v, la, 4), 0);
			assert_int_equal(vgic_sync_lrs(&B, v, lb, 4), 0);
		}
	}
}

/* The format is pinned: little-endian, "FGIC", version 1, records where docs/vgic.md puts them. */
static void test_layout(void **state)
{
	size_t len;
	u8 *spi, *cpu;
	(void)state;
	init(&A, 2, 32, NULL);
	memset(hw_a, 0, sizeof(hw_a));
	wr(&A, GICD(0), 4, 2);
	wr(&A, GICR(1, 0x14), 4, 0);
	wr(&A, GICD(0x400 + 33), 1, 0xa8);
	wr(&A, GICD(0x104), 4, 1u << 1);
	wr(&A, GICD(0x6000 + 8 * 33), 8, 1);
	wr(&A, GICD(0x304), 4, 1u << 1);
	wr(&A, SGIB(1, 0x400 + 27), 1, 0x18);
	assert_int_equal(vgic_set_level(&A, 1, 27, true), 0);
	hw_a[1].vmcr = 0x0123456789abcdefULL;
	hw_a[1].ap1r[3] = 0xcafef00d;
	len = save(&A, hw_a, blob, sizeof(blob));
	assert_int_equal(len, 32 + 12 * 32 + 2 * 176);
	assert_memory_equal(blob, "FGIC\x01\x00\x20\x00", 8);
	assert_int_equal(blob[8] | blob[9] << 8, len);
	assert_int_equal(blob[10] | blob[11], 0);
	assert_int_equal(blob[16] | blob[17] << 8, 2);
	assert_int_equal(blob[18] | blob[19] << 8, 32);
	assert_int_equal(blob[20], 2); /* GICD_CTLR: EnableGrp1 */
	spi = blob + 32 + 12 * 1;      /* INTID 33 */
	assert_int_equal(spi[0], 0xa8);
	assert_int_equal(spi[1], 0x01 | 0x02 | 0x20); /* enabled, Group 1, active */
	assert_int_equal(spi[2], 1);                  /* active on vCPU 1, where it is routed */
	assert_int_equal(spi[4], 1);                  /* IROUTER Aff0 = 1 */
	cpu = blob + 32 + 12 * 32 + 176;              /* vCPU 1 */
	assert_int_equal(cpu[0], 1);                  /* affinity */
	assert_int_equal(cpu[4], 0);                  /* awake */
	assert_int_equal(cpu[8], 0xef);
	assert_int_equal(cpu[15], 0x01);
	assert_memory_equal(cpu + 44, "\x0d\xf0\xfe\xca", 4);
	assert_int_equal(cpu[48 + 4 * 27], 0x18);
	assert_int_equal(cpu[48 + 4 * 27 + 1], 0x02 | 0x10); /* Group 1, line high (level) */
	assert_int_equal(cpu[48 + 4 * 3 + 1], 0x02 | 0x04);  /* SGI: Group 1, edge */
	assert_int_equal(blob[32 + 12 * 32 + 4], 6);         /* vCPU 0 asleep */
}

static void test_busy_and_range(void **state)
{
	u64 lr[VGIC_MAX_LRS], hcr;
	size_t out = 0;
	u32 n;
	(void)state;
	init(&A, 2, 32, NULL);
	init(&B, 2, 32, NULL);
	assert_int_equal(vgic_save(&A, hw_a, blob, vgic_save_size(&A) - 1, &out), FERRY_ERANGE);
	save(&A, hw_a, blob, sizeof(blob));
	assert_int_equal(vgic_flush_lrs(&A, 1, lr, &n, &hcr), 0);
	assert_int_equal(vgic_save(&A, hw_a, blob2, sizeof(blob2), &out), FERRY_EBUSY);
	/* The rehearsal's variant serializes the model anyway, with the same code: with nothing in
	 * the LRs (n == 0) the bytes are those of the synced save. It still checks the room. */
	assert_int_equal(n, 0);
	assert_int_equal(vgic_save_model(&A, hw_a, blob2, sizeof(blob2), &out), 0);
	assert_int_equal(out, vgic_save_size(&A));
	assert_memory_equal(blob2, blob, out);
	assert_int_equal(vgic_save_model(&A, hw_a, blob2, vgic_save_size(&A) - 1, &out),
			 FERRY_ERANGE);
	assert_int_equal(vgic_flush_lrs(&B, 0, lr, &n, &hcr), 0);
	assert_int_equal(vgic_restore(&B, hw_b, blob, vgic_save_size(&A)), FERRY_EBUSY);
	assert_int_equal(vgic_sync_lrs(&B, 0, lr, 4), 0);
	assert_int_equal(vgic_restore(&B, hw_b, blob, vgic_save_size(&A)), 0);
}

/* An edge whose pending state is in an LR when the vCPU exits is in the blob. */
static void test_lr_state_folded(void **state)
{
	u64 lr[VGIC_MAX_LRS], hcr;
	u32 n;
	size_t len;
	(void)state;
	init(&A, 1, 32, NULL);
	init(&B, 1, 32, NULL);
	wr(&A, GICD(0), 4, 2);
	wr(&A, GICR(0, 0x14), 4, 0);
	wr(&A, GICD(0x104), 4, 3);
	wr(&A, GICD(0xc08), 4, 0xa);
	assert_int_equal(vgic_pulse(&A, 0, 32), 0);
	assert_int_equal(vgic_pulse(&A, 0, 33), 0);
	assert_int_equal(vgic_flush_lrs(&A, 0, lr, &n, &hcr), 0);
	assert_int_equal(n, 2);
	lr[1] ^= 3ULL << 62; /* the guest acknowledged 33 */
	assert_int_equal(vgic_sync_lrs(&A, 0, lr, 4), 0);
	len = save(&A, hw_a, blob, sizeof(blob));
	assert_int_equal(vgic_restore(&B, hw_b, blob, len), 0);
	assert_int_equal(vgic_irq_status(&B, 0, 32) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
			 VGIC_ST_PENDING);
	assert_int_equal(vgic_irq_status(&B, 0, 33) & (VGIC_ST_PENDING | VGIC_ST_ACTIVE),
			 VGIC_ST_ACTIVE);
}

/* Restore leaves the host's side alone: HW mappings, ops. */
static void test_host_config_kept(void **state)
{
	size_t len;
	(void)state;
	init(&A, 2, 32, NULL);
	init(&B, 2, 32, NULL);
	assert_int_equal(vgic_map_hw(&B, 1, 27, 27), 0);
	assert_int_equal(vgic_map_hw(&B, 0, 40, 72), 0);
	len = save(&A, hw_a, blob, sizeof(blob));
	assert_int_equal(vgic_restore(&B, hw_b, blob, len), 0);
	assert_true(vgic_irq_status(&B, 1, 27) & VGIC_ST_HW);
	assert_true(vgic_irq_status(&B, 0, 40) & VGIC_ST_HW);
	assert_false(vgic_irq_status(&B, 0, 27) & VGIC_ST_HW);
	assert_ptr_equal(B.ops, &ops);
	assert_ptr_equal(B.ctx, &B);
}

static struct vgic snap_b;
static struct vgic_cpu_hw snap_hw[VGIC_MAX_VCPUS];

static void expect_rejected(const u8 *buf, size_t len)
{
	assert_int_equal(vgic_restore(&B, hw_b, buf, len), FERRY_EINVAL);
	assert_memory_equal(&snap_b, &B, sizeof(B));
	assert_memory_equal(snap_hw, hw_b, sizeof(hw_b));
}

/* Destination with its own busy state, so that a partial load would show. */
static size_t prepare_rejection(void)
{
	size_t len;

	init(&A, 3, 64, NULL);
	init(&B, 3, 64, NULL);
	memset(hw_a, 0, sizeof(hw_a));
	make_busy(&A, 3, 64);
	len = save(&A, hw_a, blob, sizeof(blob));
	rng = 99;
	make_busy(&B, 3, 64);
	for (u32 v = 0; v < 3; v++)
		hw_b[v].vmcr = 0x5555;
	snap_b = B;
	memcpy(snap_hw, hw_b, sizeof(hw_b));
	return len;
}

static void test_truncation_and_bit_flips(void **state)
{
	size_t len;
	(void)state;
	len = prepare_rejection();
	for (size_t l = 0; l < len; l++)
		expect_rejected(blob, l);
	blob[len] = 0;
	expect_rejected(blob, len + 1);
	for (size_t i = 0; i < len; i++)
		for (u32 b = 0; b < 8; b++) {
			blob[i] ^= (u8)(1u << b);
			expect_rejected(blob, len);
			blob[i] ^= (u8)(1u << b);
		}
	/* Whole bytes replaced, too. */
	for (size_t i = 0; i < len; i++) {
		u8 old = blob[i];

		blob[i] = (u8)(old + 0x5b);
		expect_rejected(blob, len);
		blob[i] = old;
	}
	assert_int_equal(vgic_restore(&B, hw_b, blob, len), 0);
}

static void put32(u8 *p, u32 v)
{
	for (u32 i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* A corruption with a checksum that matches: only the field checks can catch it. */
static void fix_crc(u8 *buf, size_t len)
{
	put32(buf + 12, 0);
	put32(buf + 12, crc32c(0, buf, len));
}

static void test_semantic_corruption(void **state)
{
	size_t len;
	const size_t spis = 32, cpus = 32 + 12 * 64;
	const struct {
		size_t off;
		u8 val;
	} bad[] = {
		{ 0, 'X' },                          /* magic */
		{ 4, 2 },                            /* version */
		{ 6, 16 },                           /* header length */
		{ 8, 0 },                            /* total length */
		{ 16, 2 },                           /* nr_vcpus */
		{ 18, 96 },                          /* nr_spis */
		{ 20, 0x13 },                        /* GICD_CTLR: ARE is not state */
		{ 23, 0x80 },                        /* GICD_CTLR: RWP */
		{ 24, 1 },                           /* reserved */
		{ 31, 1 },                           /* reserved */
		{ spis + 0, 0x81 },                  /* SPI priority: unimplemented bit */
		{ spis + 1, 0x40 },                  /* SPI state: unknown bit */
		{ spis + 1, 0x20 },                  /* active without an active vCPU... */
		{ spis + 12 + 2, 3 },                /* ...an inactive one naming a vCPU */
		{ spis + 3, 1 },                     /* SPI reserved */
		{ spis + 4 + 3, 0x80 },              /* IROUTER.IRM */
		{ spis + 4 + 4, 1 },                 /* IROUTER.Aff3 without A3V */
		{ spis + 4 + 7, 1 },                 /* IROUTER RES0 */
		{ cpus + 0, 9 },                     /* affinity of vCPU 0 */
		{ cpus + 4, 2 },                     /* WAKER: sleeping but children awake */
		{ cpus + 4, 4 },                     /* WAKER: the reverse */
		{ cpus + 7, 0x80 },                  /* WAKER bit 31 */
		{ cpus + 48 + 0, 0x07 },             /* SGI priority low bits */
		{ cpus + 48 + 1, 0x02 },             /* SGI 0 level */
		{ cpus + 48 + 1, 0x16 },             /* SGI 0 with a line */
		{ cpus + 48 + 1, 0x86 },             /* unknown state bit */
		{ cpus + 48 + 2, 1 },                /* private reserved */
		{ cpus + 48 + 4 * 20 + 1, 0x06 },    /* PPI 20 edge */
		{ cpus + 176 + 48 + 4 * 31 + 3, 1 }, /* vCPU 1, PPI 31 reserved */
	};
	(void)state;
	len = prepare_rejection();
	/* Set up the records the cases assume: SPI 32 inactive and active on none, SPI 33
	 * inactive. */
	blob[spis + 1] &= (u8)~0x20;
	blob[spis + 2] = 0xff;
	blob[spis + 12 + 1] &= (u8)~0x20;
	blob[spis + 12 + 2] = 0xff;
	fix_crc(blob, len);
	memcpy(blob2, blob, len);
	assert_int_equal(vgic_restore(&B, hw_b, blob2, len), 0); /* the control is accepted */
	B = snap_b;
	memcpy(hw_b, snap_hw, sizeof(hw_b));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(blob2, blob, len);
		blob2[bad[i].off] = bad[i].val;
		if (bad[i].val == 0x20 && bad[i].off == spis + 1)
			blob2[spis + 2] = 5; /* active on vCPU 5 of 3 */
		fix_crc(blob2, len);
		expect_rejected(blob2, len);
	}
	/* Active with no vCPU is possible (made active while routed nowhere): accepted. */
	memcpy(blob2, blob, len);
	blob2[spis + 1] |= 0x20;
	fix_crc(blob2, len);
	assert_int_equal(vgic_restore(&B, hw_b, blob2, len), 0);
	/* Another VM's geometry or affinities. */
	init(&B, 2, 64, NULL);
	snap_b = B;
	memcpy(snap_hw, hw_b, sizeof(hw_b));
	expect_rejected(blob, len);
	init(&B, 3, 32, NULL);
	snap_b = B;
	expect_rejected(blob, len);
	{
		static const u64 other[3] = { 0, 1, 3 };

		init(&B, 3, 64, other);
		snap_b = B;
		expect_rejected(blob, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_busy_and_range),
		cmocka_unit_test(test_lr_state_folded),
		cmocka_unit_test(test_host_config_kept),
		cmocka_unit_test(test_truncation_and_bit_flips),
		cmocka_unit_test(test_semantic_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
