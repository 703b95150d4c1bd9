/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the vGICv3 model (hyp/vgic): a VM of 1-4 vCPUs, 0-256 SPIs and 1-16 list
 * registers, driven by a sequence of guest MMIO accesses of every width at any offset of the GICD
 * and GICR windows (and just outside them), device lines, SGIs, and list-register rounds: a flush,
 * then what a guest's CPU interface could do to the LRs (acknowledge, deactivate, anything at all),
 * then the sync. After every step the model's bookkeeping must hold: every interrupt's live bit
 * matches its state, one in an LR is in the LR its owner's last flush wrote, routes name a vCPU or
 * none. A flush writes at most nr_lrs distinct implemented INTIDs with a state, and zeroes the rest.
 * Migration rounds: a synced vGIC saved and restored into a fresh one saves to the same bytes; a
 * corrupted blob (fuzzer's bytes over it, checksum made right) is taken whole or not at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "lib/lib.h"
#include "vgic/vgic_internal.h"

static struct vgic G, G2, G3;
static u64 lrs[VGIC_MAX_VCPUS][VGIC_MAX_LRS];
static u32 nlr[VGIC_MAX_VCPUS];

static void kick(void *ctx, u32 vcpu)
{
	(void)ctx;
	FUZZ_CHECK(vcpu < G.nr_vcpus);
}

static const struct vgic_ops ops = { kick };

static void check_irq(const struct vgic *g, const struct vgic_irq *irq, u32 intid, u32 vcpu)
{
	bool live = vgic_irq_pending(irq) || (irq->flags & (VGIC_F_ACTIVE | VGIC_F_IN_LR));
	u32 word = vgic_is_private(intid) ? g->cpu[vcpu].live
					  : g->spi_live[(intid - VGIC_NR_PRIVATE) / 32];

	FUZZ_CHECK(irq->intid == intid);
	FUZZ_CHECK(!!(word & (1u << (intid % 32))) == live);
	FUZZ_CHECK((irq->priority & ~VGIC_PRIO_MASK) == 0);
	if (vgic_is_private(intid))
		FUZZ_CHECK(irq->target == vcpu);
	else
		FUZZ_CHECK(irq->target == VGIC_NO_VCPU || irq->target < g->nr_vcpus);
	if (irq->flags & VGIC_F_IN_LR) {
		const struct vgic_cpu *o;

		FUZZ_CHECK(irq->owner < g->nr_vcpus);
		o = &g->cpu[irq->owner];
		FUZZ_CHECK(o->in_guest && irq->lr < o->lr_used);
		FUZZ_CHECK((o->lr_val[irq->lr] & ICH_LR_VINTID_MASK) == intid);
		if (vgic_is_private(intid))
			FUZZ_CHECK(irq->owner == vcpu);
	} else {
		FUZZ_CHECK(
			!(irq->flags & (VGIC_F_LR_PENDING | VGIC_F_PEND_DIRTY | VGIC_F_ACT_DIRTY)));
	}
	if (irq->flags & VGIC_F_ACTIVE)
		FUZZ_CHECK(irq->active_vcpu == VGIC_NO_VCPU || irq->active_vcpu < g->nr_vcpus);
}

static void check(const struct vgic *g)
{
	for (u32 v = 0; v < g->nr_vcpus; v++) {
		const struct vgic_cpu *c = &g->cpu[v];

		FUZZ_CHECK(c->lr_used <= g->nr_lrs && (c->in_guest || !c->lr_used));
		for (u32 i = 0; i < VGIC_NR_PRIVATE; i++)
			check_irq(g, &c->priv[i], i, v);
	}
	for (u32 i = 0; i < g->nr_spis; i++)
		check_irq(g, &g->spi[i], VGIC_NR_PRIVATE + i, 0);
}

static void check_flush(const struct vgic *g, u32 v, const u64 *lr, u32 n, u64 hcr)
{
	FUZZ_CHECK(n <= g->nr_lrs && (hcr & ICH_HCR_EN));
	for (u32 i = 0; i < VGIC_MAX_LRS; i++) {
		u32 intid = (u32)(lr[i] & ICH_LR_VINTID_MASK);

		if (i >= n) {
			FUZZ_CHECK(i >= g->nr_lrs || lr[i] == 0);
			continue;
		}
		FUZZ_CHECK(vgic_get_irq_const(g, v, intid) != NULL);
		FUZZ_CHECK(lr[i] & (ICH_LR_PENDING | ICH_LR_ACTIVE));
		for (u32 j = 0; j < i; j++)
			FUZZ_CHECK((lr[j] & ICH_LR_VINTID_MASK) != intid);
	}
}

/* What a guest's virtual CPU interface may leave in an LR. */
static u64 guest_lr(struct fuzz_in *in, u64 lr)
{
	switch (take_u8(in) % 5) {
	case 0:
		return lr; /* untouched */
	case 1:            /* acknowledged */
		return (lr & ICH_LR_PENDING) ? (lr & ~ICH_LR_PENDING) | ICH_LR_ACTIVE : lr;
	case 2:
		return lr & ~(ICH_LR_PENDING | ICH_LR_ACTIVE); /* deactivated */
	case 3:
		return lr & ~ICH_LR_ACTIVE;
	default:
		return take_u64(in); /* anything, its INTID too */
	}
}

static u64 mmio_addr(const struct vgic *g, struct fuzz_in *in)
{
	u8 where = take_u8(in);
	u32 off = take_u16(in);

	if (where % 4 == 0)
		return g->gicd_base + off;
	/* A redistributor frame (RD or SGI), possibly one past the last vCPU's. */
	return g->gicr_base + (u64)(where / 4 % (g->nr_vcpus + 1)) * VGIC_GICR_STRIDE +
	       (where & 2 ? VGIC_GICR_SGI_OFFSET : 0) + off;
}

static void migrate(struct fuzz_in *in, const struct vgic_config *cfg)
{
	static u8 blob[1 << 13], again[1 << 13];
	struct vgic_cpu_hw hw[VGIC_MAX_VCPUS], hw2[VGIC_MAX_VCPUS];
	size_t len, len2;
	u32 nbytes;
	int err;

	for (u32 v = 0; v < G.nr_vcpus; v++)
		if (G.cpu[v].in_guest)
			return;
	memset(hw, 0, sizeof(hw));
	for (u32 v = 0; v < G.nr_vcpus; v++)
		hw[v].vmcr = take_u64(in), hw[v].ap0r[0] = take_u32(in),
		hw[v].ap1r[0] = take_u32(in);
	FUZZ_CHECK(vgic_save(&G, hw, blob, sizeof(blob), &len) == 0 && len == vgic_save_size(&G));
	FUZZ_CHECK(vgic_init(&G2, cfg, &ops, NULL) == 0);
	memset(hw2, 0, sizeof(hw2));
	FUZZ_CHECK(vgic_restore(&G2, hw2, blob, len) == 0);
	FUZZ_CHECK(!memcmp(hw, hw2, sizeof(hw[0]) * G.nr_vcpus));
	check(&G2);
	FUZZ_CHECK(vgic_save(&G2, hw2, again, sizeof(again), &len2) == 0);
	FUZZ_CHECK(len2 == len && !memcmp(blob, again, len));

	/* Corrupt it: up to 8 bytes anywhere, then a right checksum, so the checks behind it run. */
	nbytes = take_u8(in) % 9;
	for (u32 i = 0; i < nbytes; i++) {
		u16 at = (u16)(take_u16(in) % len);

		blob[at] = take_u8(in);
	}
	if (take_u8(in) & 1) {
		put_le32(blob + 12, 0);
		put_le32(blob + 12, crc32c(0, blob, len));
	}
	G3 = G2;
	memcpy(hw, hw2, sizeof(hw));
	err = vgic_restore(&G3, hw2, blob, len);
	if (err) {
		FUZZ_CHECK(err == FERRY_EINVAL);
		FUZZ_CHECK(!memcmp(&G3, &G2, sizeof(G3)) && !memcmp(hw, hw2, sizeof(hw)));
		return;
	}
	check(&G3);
	/* Whatever it accepted saves back to exactly itself. */
	FUZZ_CHECK(vgic_save(&G3, hw2, again, sizeof(again), &len2) == 0);
	FUZZ_CHECK(len2 == len && !memcmp(blob, again, len));
	/* And runs: the restored model goes on from here. */
	G = G3;
	G.ops = &ops;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u8 shape = take_u8(&in), lrsel = take_u8(&in);
	static const u64 mpidr[4] = { 0x80000000, 0x80000001, 0x80000100, 0x81010203 };
	struct vgic_config cfg = { 1 + shape % 4,
				   32 * ((shape / 4) % 9),
				   1 + lrsel % 16,
				   (lrsel & 0x80) ? mpidr : NULL,
				   VGIC_GICD_BASE_VIRT,
				   VGIC_GICR_BASE_VIRT,
				   false,
				   NULL }; /* LPIs: tests/unit/test_its.c */
	u32 nv = cfg.nr_vcpus;

	if (vgic_init(&G, &cfg, &ops, NULL))
		abort();
	memset(nlr, 0, sizeof(nlr));
	while (fuzz_more(&in)) {
		u8 op = take_u8(&in);
		u32 v = (op >> 4) % nv, width = 1u << ((op >> 6) & 3);
		u64 val, hcr, ipa;
		int err;

		switch (op % 10) {
		case 0:
			ipa = mmio_addr(&G, &in);
			err = vgic_mmio_read(&G, ipa, width, &val);
			FUZZ_CHECK(err == 0 || err == FERRY_EINVAL || err == FERRY_ENOENT);
			if (width < 8)
				FUZZ_CHECK(val >> (8 * width) == 0);
			if (err)
				FUZZ_CHECK(val == 0);
			break;
		case 1:
		case 2:
			ipa = mmio_addr(&G, &in);
			err = vgic_mmio_write(&G, ipa, width, take_u64(&in));
			FUZZ_CHECK(err == 0 || err == FERRY_EINVAL || err == FERRY_ENOENT);
			break;
		case 3:
			val = take_u16(&in);
			err = vgic_set_level(&G, v, (u32)val % 320, val & 0x8000);
			break;
		case 4:
			err = vgic_pulse(&G, v, take_u16(&in) % 320);
			break;
		case 5:
			err = vgic_send_sgi(&G, v, take_u64(&in),
					    (op & 0x80) ? VGIC_SGI0R : VGIC_SGI1R);
			FUZZ_CHECK(err == FERRY_EINVAL || (err >= 0 && (u32)err <= nv));
			break;
		case 6:
			if (G.cpu[v].in_guest) {
				FUZZ_CHECK(vgic_flush_lrs(&G, v, lrs[v], &nlr[v], &hcr) ==
					   FERRY_EBUSY);
				break;
			}
			memset(lrs[v], 0xee, sizeof(lrs[v]));
			FUZZ_CHECK(vgic_flush_lrs(&G, v, lrs[v], &nlr[v], &hcr) == 0);
			for (u32 i = G.nr_lrs; i < VGIC_MAX_LRS; i++)
				lrs[v][i] = 0;
			check_flush(&G, v, lrs[v], nlr[v], hcr);
			break;
		case 7:
			if (!G.cpu[v].in_guest) {
				FUZZ_CHECK(vgic_sync_lrs(&G, v, lrs[v], nlr[v]) == FERRY_EINVAL);
				break;
			}
			for (u32 i = 0; i < nlr[v]; i++)
				lrs[v][i] = guest_lr(&in, lrs[v][i]);
			err = vgic_sync_lrs(&G, v, lrs[v], nlr[v]);
			FUZZ_CHECK(err == 0 || err == FERRY_EIO);
			FUZZ_CHECK(!G.cpu[v].in_guest);
			break;
		case 8:
			migrate(&in, &cfg);
			break;
		case 9:
			err = vgic_map_hw(&G, v, take_u8(&in) % 64, take_u16(&in) % 1024);
			break;
		}
		(void)err;
		check(&G);
	}
	return 0;
}
