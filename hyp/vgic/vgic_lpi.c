/* SPDX-License-Identifier: Apache-2.0 */
/* LPIs (IHI 0069 "LPIs"): message-based interrupts an ITS makes pending at one redistributor.
 * Configuration (enable bit 0, priority [7:2]) comes from the LPI Configuration table in guest
 * memory (GICR_PROPBASER), which the architecture lets a redistributor cache: software must issue
 * INV/INVALL after a change. ferry caches all 8192 bytes, re-read on INV, INVALL and when LPIs are
 * enabled. Pending state is ferry's: the architecture lets a redistributor keep it internally while
 * LPIs are enabled; the guest's pending table (GICR_PENDBASER) is read once, when LPIs are enabled,
 * unless PTZ said it is all zeros. LPIs are Group 1, edge-like (no line) and have no active state:
 * an acknowledged LPI leaves the model (docs/vgic.md "LPIs and the ITS"). */
#include <string.h>

#include "vgic/vgic_internal.h"

static bool lpi_vcpu_ok(const struct vgic *g, u32 vcpu, u32 intid)
{
	return g->lpis && vcpu < g->nr_vcpus && vgic_is_lpi(intid);
}

/* How many INTID bits the LPI configuration table covers: PROPBASER.IDbits + 1, at most ours; fewer
 * than 14 bits leave no LPI in range (IHI 0069 "GICR_PROPBASER"). */
static u32 prop_id_bits(u64 propbaser)
{
	u32 bits = (u32)(propbaser & GICR_PROPBASER_IDBITS) + 1;

	return MIN(bits, VGIC_LPI_ID_BITS);
}

static u64 prop_table(u64 propbaser) { return propbaser & GENMASK(51, 12); }

int vgic_lpi_set_pending(struct vgic *g, u32 vcpu, u32 intid)
{
	if (!lpi_vcpu_ok(g, vcpu, intid))
		return FERRY_EINVAL;
	if (!g->cpu[vcpu].lpis_enabled)
		return FERRY_ENOENT;
	(void)vgic_lpi_mark(&g->cpu[vcpu], intid);
	vgic_kick(g, vcpu);
	return FERRY_OK;
}

bool vgic_lpi_clear_pending(struct vgic *g, u32 vcpu, u32 intid)
{
	if (!lpi_vcpu_ok(g, vcpu, intid) || !vgic_lpi_unmark(&g->cpu[vcpu], intid))
		return false;
	vgic_kick(g, vcpu);
	return true;
}

void vgic_lpi_move_all(struct vgic *g, u32 from, u32 to)
{
	struct vgic_cpu *src, *dst;

	if (!g->lpis || from >= g->nr_vcpus || to >= g->nr_vcpus || from == to)
		return;
	src = &g->cpu[from];
	dst = &g->cpu[to];
	if (!src->lpi_npending)
		return;
	/* A whole bitmap at a time: a guest's queue of MOVALLs costs 128 words each. */
	dst->lpi_npending = 0;
	for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++) {
		dst->lpi_pending[w] |= src->lpi_pending[w];
		src->lpi_pending[w] = 0;
		dst->lpi_npending += (u32)__builtin_popcountll(dst->lpi_pending[w]);
	}
	src->lpi_npending = 0;
	if (!dst->lpis_enabled) {
		/* Nothing can hold them there (as an INT to it): dropped. */
		memset(dst->lpi_pending, 0, sizeof(dst->lpi_pending));
		dst->lpi_npending = 0;
	}
	vgic_kick(g, from);
	vgic_kick(g, to);
}

bool vgic_lpi_is_pending(const struct vgic *g, u32 vcpu, u32 intid)
{
	u32 n = intid - VGIC_LPI_BASE;

	return lpi_vcpu_ok(g, vcpu, intid) && (g->cpu[vcpu].lpi_pending[n / 64] & BIT(n % 64));
}

u8 vgic_lpi_config(const struct vgic *g, u32 intid)
{
	return g->lpis && vgic_is_lpi(intid) ? g->lpi_cfg[intid - VGIC_LPI_BASE] : 0;
}

void vgic_lpi_inv(struct vgic *g, u32 vcpu, u32 intid)
{
	u32 n = intid - VGIC_LPI_BASE;
	u64 prop;
	u8 b = 0;

	if (!lpi_vcpu_ok(g, vcpu, intid))
		return;
	prop = g->cpu[vcpu].propbaser;
	/* n < 2^bits - 8192 once the table covers 14 bits, so prop_table + n cannot wrap (the
	 * address is at most 52 bits). */
	if (prop_id_bits(prop) < VGIC_LPI_ID_BITS ||
	    gmem_read(g->mem, prop_table(prop) + n, &b, 1) != FERRY_OK)
		b = 0;
	g->lpi_cfg[n] = b;
	vgic_kick(g, vcpu);
}

void vgic_lpi_invall(struct vgic *g, u32 vcpu)
{
	u64 prop;

	if (!g->lpis || vcpu >= g->nr_vcpus)
		return;
	prop = g->cpu[vcpu].propbaser;
	if (prop_id_bits(prop) < VGIC_LPI_ID_BITS ||
	    gmem_read(g->mem, prop_table(prop), g->lpi_cfg, VGIC_NR_LPIS) != FERRY_OK)
		memset(g->lpi_cfg, 0, sizeof(g->lpi_cfg));
	vgic_kick_all(g);
}

void vgic_lpi_enable(struct vgic *g, u32 vcpu)
{
	struct vgic_cpu *cpu = &g->cpu[vcpu];
	u8 pend[VGIC_NR_LPIS / 8];

	cpu->lpis_enabled = true;
	vgic_lpi_invall(g, vcpu);
	/* The pending table covers INTIDs from 0: the LPIs' bits start 1 KiB in. A table that is not
	 * in RAM holds nothing ferry could read: start with nothing pending. */
	if (cpu->pend_ptz ||
	    gmem_read(g->mem, (cpu->pendbaser & GENMASK(51, 16)) + VGIC_LPI_BASE / 8, pend,
		      sizeof(pend)) != FERRY_OK)
		memset(pend, 0, sizeof(pend));
	cpu->lpi_npending = 0;
	for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++) {
		u64 v = 0;

		for (int i = 7; i >= 0; i--)
			v = v << 8 | pend[8 * w + (u32)i];
		cpu->lpi_pending[w] = v;
		cpu->lpi_npending += (u32)__builtin_popcountll(v);
	}
	vgic_kick(g, vcpu);
}

/* EnableLPIs 1 -> 0 (GICR_CTLR.CES says it may be cleared, as on KVM and QEMU). The pending state
 * goes back to the guest's pending table, its architectural home, so that the enable after it
 * (which reads the table) finds what was pending, and what the guest wrote into the table while
 * LPIs were off; nothing is pending here until then. LPIs still in this vCPU's list registers
 * are dropped at its next sync (vgic_lr.c). A table outside RAM keeps nothing, as at enable. */
void vgic_lpi_disable(struct vgic *g, u32 vcpu)
{
	struct vgic_cpu *cpu = &g->cpu[vcpu];
	u8 pend[VGIC_NR_LPIS / 8];

	for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++)
		for (u32 i = 0; i < 8; i++)
			pend[8 * w + i] = (u8)(cpu->lpi_pending[w] >> (8 * i));
	(void)gmem_write(g->mem, (cpu->pendbaser & GENMASK(51, 16)) + VGIC_LPI_BASE / 8, pend,
			 sizeof(pend));
	cpu->pend_ptz = false; /* the table holds what was just written */
	memset(cpu->lpi_pending, 0, sizeof(cpu->lpi_pending));
	cpu->lpi_npending = 0;
	cpu->lpis_enabled = false;
	vgic_kick(g, vcpu);
}

/* The LR priority of an LPI: its configured priority, with the bits the virtual interface does not
 * implement cleared, as for the other interrupts. */
u8 vgic_lpi_priority(const struct vgic *g, u32 intid)
{
	return (u8)(vgic_lpi_config(g, intid) & 0xfc & VGIC_PRIO_MASK);
}

/* Whether a pending LPI can be forwarded: enabled in its configuration and Group 1 enabled (LPIs
 * are always Group 1). */
bool vgic_lpi_forwardable(const struct vgic *g, u32 intid)
{
	return (vgic_lpi_config(g, intid) & LPI_CFG_ENABLE) && (g->ctlr & GICD_CTLR_ENABLE_G1);
}
