/* SPDX-License-Identifier: Apache-2.0 */
/* The vGIC's interrupt state: set-up and reset, routing, device lines, SGIs, and the kicks that
 * make a vCPU re-flush its list registers when something it may hold changes. */
#include <string.h>

#include "vgic/vgic_internal.h"

/* MPIDR_EL1 affinity (Aff3 in [39:32], Aff2..Aff0 in [23:0]) packed as GICR_TYPER[63:32] has it. */
static u32 mpidr_to_aff(u64 mpidr)
{
	return (u32)(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));
}

void vgic_kick(struct vgic *g, u32 vcpu)
{
	if (vcpu < g->nr_vcpus && g->ops && g->ops->kick)
		g->ops->kick(g->ctx, vcpu);
}

void vgic_kick_all(struct vgic *g)
{
	for (u32 i = 0; i < g->nr_vcpus; i++)
		vgic_kick(g, i);
}

u64 vgic_irouter_mask(const struct vgic *g)
{
	/* IRM (bit 31) is RAZ/WI: GICD_TYPER.No1N says 1-of-N is not supported, and IHI 0069
	 * "GICD_IROUTER<n>" lets such implementations make it RAZ/WI. Aff3 exists only with A3V. */
	return GENMASK(23, 0) | (g->a3v ? GENMASK(39, 32) : 0);
}

u8 vgic_route_target(const struct vgic *g, u64 irouter)
{
	u32 aff = mpidr_to_aff(irouter);

	/* A route naming no PE: "the interrupt is not forwarded to any PE, direct reads return the
	 * written value" (IHI 0069 "GICD_IROUTER<n>", one of the permitted behaviours). */
	for (u32 i = 0; i < g->nr_vcpus; i++)
		if (g->cpu[i].aff == aff)
			return (u8)i;
	return VGIC_NO_VCPU;
}

u32 vgic_irq_home(const struct vgic_irq *irq)
{
	if (irq->flags & VGIC_F_IN_LR)
		return irq->owner;
	if ((irq->flags & VGIC_F_ACTIVE) && irq->active_vcpu != VGIC_NO_VCPU)
		return irq->active_vcpu;
	return irq->target;
}

struct vgic_snap vgic_snap(const struct vgic *g, const struct vgic_irq *irq)
{
	struct vgic_snap s;

	s.flags = irq->flags;
	s.priority = irq->priority;
	s.target = irq->target;
	s.home = vgic_irq_home(irq);
	s.candidate = s.home < g->nr_vcpus &&
		      ((irq->flags & (VGIC_F_ACTIVE | VGIC_F_IN_LR)) ||
		       (vgic_irq_pending(irq) && vgic_irq_forwardable(g, s.home, irq)));
	return s;
}

void vgic_changed(struct vgic *g, const struct vgic_irq *irq, const struct vgic_snap *before)
{
	struct vgic_snap after = vgic_snap(g, irq);

	vgic_update_live(g, irq);
	/* Nothing a list register holds or could hold changed: no vCPU needs to look again. */
	if (!before->candidate && !after.candidate)
		return;
	/* A reroute of an SPI an LR holds changes neither: its owner must still let it go. */
	if (before->flags == after.flags && before->priority == after.priority &&
	    before->target == after.target && before->home == after.home)
		return;
	vgic_kick(g, before->home);
	if (after.home != before->home)
		vgic_kick(g, after.home);
}

void vgic_reset_state(struct vgic *g)
{
	/* Out of reset: distributor disabled, redistributors asleep (GICR_WAKER resets to
	 * ProcessorSleep = ChildrenAsleep = 1), every interrupt disabled, inactive, not pending,
	 * priority 0. The reset values of IGROUPR, ICFGR and IROUTER are IMPLEMENTATION DEFINED or
	 * UNKNOWN: ferry picks Group 1 (what every guest that runs non-secure wants, and what KVM
	 * gives), SGIs edge (fixed), PPIs and SPIs level, routes to affinity 0. */
	g->ctlr = 0;
	memset(g->lpi_cfg, 0, sizeof(g->lpi_cfg));
	memset(g->spi_live, 0, sizeof(g->spi_live)); /* nothing pending, active or in an LR */
	for (u32 i = 0; i < VGIC_MAX_SPIS; i++) {
		struct vgic_irq *irq = &g->spi[i];

		irq->flags = VGIC_F_GROUP1 | (irq->flags & VGIC_F_HW);
		irq->priority = 0;
		irq->owner = VGIC_NO_VCPU;
		irq->lr = 0;
		irq->active_vcpu = VGIC_NO_VCPU;
		g->irouter[i] = 0;
		irq->target = vgic_route_target(g, 0);
	}
	for (u32 c = 0; c < VGIC_MAX_VCPUS; c++) {
		struct vgic_cpu *cpu = &g->cpu[c];

		for (u32 i = 0; i < VGIC_NR_PRIVATE; i++) {
			struct vgic_irq *irq = &cpu->priv[i];

			irq->flags = VGIC_F_GROUP1 | (irq->flags & VGIC_F_HW) |
				     (vgic_is_sgi(i) ? VGIC_F_EDGE : 0);
			irq->priority = 0;
			irq->owner = VGIC_NO_VCPU;
			irq->lr = 0;
			irq->active_vcpu = VGIC_NO_VCPU;
			irq->target = (u8)c;
		}
		cpu->live = 0;
		cpu->lpis_enabled = false;
		cpu->pend_ptz = false;
		cpu->propbaser = cpu->pendbaser = 0;
		cpu->lpi_npending = 0;
		memset(cpu->lpi_pending, 0, sizeof(cpu->lpi_pending));
		cpu->asleep = true;
		cpu->in_guest = false;
		cpu->lr_used = 0;
		memset(cpu->lr_val, 0, sizeof(cpu->lr_val));
	}
}

int vgic_init(struct vgic *g, const struct vgic_config *cfg, const struct vgic_ops *ops, void *ctx)
{
	u64 gicr_size;

	if (!g || !cfg || cfg->nr_vcpus == 0 || cfg->nr_vcpus > VGIC_MAX_VCPUS ||
	    cfg->nr_spis % 32 || cfg->nr_spis > VGIC_MAX_SPIS || cfg->nr_lrs == 0 ||
	    cfg->nr_lrs > VGIC_MAX_LRS)
		return FERRY_EINVAL;
	/* Both windows 64 KiB aligned (frames are 64 KiB) and apart. */
	gicr_size = cfg->nr_vcpus * VGIC_GICR_STRIDE;
	if (!IS_ALIGNED(cfg->gicd_base, VGIC_GICD_SIZE) || !IS_ALIGNED(cfg->gicr_base, 0x10000) ||
	    cfg->gicd_base + VGIC_GICD_SIZE < cfg->gicd_base ||
	    cfg->gicr_base + gicr_size < cfg->gicr_base ||
	    (cfg->gicd_base < cfg->gicr_base + gicr_size &&
	     cfg->gicr_base < cfg->gicd_base + VGIC_GICD_SIZE))
		return FERRY_EINVAL;
	memset(g, 0, sizeof(*g));
	g->nr_vcpus = cfg->nr_vcpus;
	g->nr_spis = cfg->nr_spis;
	g->nr_lrs = cfg->nr_lrs;
	g->gicd_base = cfg->gicd_base;
	g->gicr_base = cfg->gicr_base;
	g->ops = ops;
	g->ctx = ctx;
	g->lpis = cfg->lpis && cfg->mem;
	g->mem = cfg->mem;
	for (u32 i = 0; i < VGIC_MAX_SPIS; i++)
		g->spi[i].intid = (u16)(VGIC_NR_PRIVATE + i);
	for (u32 c = 0; c < VGIC_MAX_VCPUS; c++)
		for (u32 i = 0; i < VGIC_NR_PRIVATE; i++)
			g->cpu[c].priv[i].intid = (u16)i;
	for (u32 i = 0; i < g->nr_vcpus; i++) {
		u32 aff = cfg->mpidr ? mpidr_to_aff(cfg->mpidr[i]) : i;

		for (u32 j = 0; j < i; j++)
			if (g->cpu[j].aff == aff)
				return FERRY_EINVAL;
		g->cpu[i].aff = aff;
		/* GICD_TYPER.A3V: Aff3 is used; RSS: Aff0 beyond 15 needs ICC_SGI1R_EL1.RS. */
		if (aff >> 24)
			g->a3v = true;
		if ((aff & 0xff) > 15)
			g->rss = true;
	}
	vgic_reset_state(g);
	return FERRY_OK;
}

int vgic_reset(struct vgic *g)
{
	if (vgic_any_in_guest(g))
		return FERRY_EBUSY;
	vgic_reset_state(g);
	return FERRY_OK;
}

/* The state of a PPI or an SPI, the interrupts a line drives and a physical one can back; NULL for
 * an SGI or an INTID this vGIC does not have. */
static struct vgic_irq *vgic_line_irq(struct vgic *g, u32 vcpu, u32 intid)
{
	return vgic_is_sgi(intid) ? NULL : vgic_get_irq(g, vcpu, intid);
}

int vgic_map_hw(struct vgic *g, u32 vcpu, u32 intid, u32 pintid)
{
	struct vgic_irq *irq;

	irq = vgic_line_irq(g, vcpu, intid);
	/* pINTID names a PPI or SPI: SGIs cannot be forwarded, 1020+ are special or LPIs. */
	if (!irq || (pintid != 0 && (pintid < VGIC_NR_SGIS || pintid > 1019)))
		return FERRY_EINVAL;
	if (irq->flags & VGIC_F_IN_LR)
		return FERRY_EBUSY;
	irq->pintid = (u16)pintid;
	if (pintid)
		irq->flags |= VGIC_F_HW;
	else
		irq->flags &= ~VGIC_F_HW;
	return FERRY_OK;
}

/* A rising edge: an edge-triggered interrupt latches pending unless its line is held high already
 * (IHI 0069 "Edge-triggered and level-sensitive interrupts"); a level-sensitive one is pending only
 * while its line is high, with no new event. */
static void vgic_line_rises(struct vgic_irq *irq)
{
	if ((irq->flags & (VGIC_F_EDGE | VGIC_F_LINE)) == VGIC_F_EDGE)
		irq->flags |= VGIC_F_LATCH;
}

/* What happens to an interrupt's line: it goes high, goes low, or rises and falls in one step (one
 * kick). A pulse leaves the line's level as it was; a level-sensitive interrupt was pending for no
 * time at all. */
enum line_event {
	LINE_LOW,
	LINE_HIGH,
	LINE_PULSE
};

static int vgic_line_event(struct vgic *g, u32 vcpu, u32 intid, enum line_event ev)
{
	struct vgic_irq *irq;
	struct vgic_snap before;

	irq = vgic_line_irq(g, vcpu, intid);
	if (!irq)
		return FERRY_EINVAL;
	before = vgic_snap(g, irq);
	if (ev != LINE_LOW)
		vgic_line_rises(irq);
	if (ev == LINE_HIGH)
		irq->flags |= VGIC_F_LINE;
	else if (ev == LINE_LOW)
		irq->flags &= ~VGIC_F_LINE;
	vgic_changed(g, irq, &before);
	return FERRY_OK;
}

int vgic_set_level(struct vgic *g, u32 vcpu, u32 intid, bool level)
{
	return vgic_line_event(g, vcpu, intid, level ? LINE_HIGH : LINE_LOW);
}

int vgic_pulse(struct vgic *g, u32 vcpu, u32 intid)
{
	return vgic_line_event(g, vcpu, intid, LINE_PULSE);
}

/* ICC_SGI1R_EL1 (Arm ARM "ICC_SGI1R_EL1"): TargetList [15:0], Aff1 [23:16], INTID [27:24],
 * Aff2 [39:32], IRM [40], RS [47:44], Aff3 [55:48]. */
static bool sgi_targets(const struct vgic *g, u32 src, u32 t, u64 value)
{
	u32 aff = g->cpu[t].aff;
	u32 upper = (u32)(FIELD_GET(value, 55, 48) << 24 | FIELD_GET(value, 39, 32) << 16 |
			  FIELD_GET(value, 23, 16) << 8);
	u32 aff0 = aff & 0xff;

	if (value & BIT(40)) /* IRM: every PE but the sender */
		return t != src;
	/* RS selects which 16 Aff0 values TargetList covers: RS * 16 + bit. */
	return (aff & 0xffffff00u) == upper && (aff0 >> 4) == FIELD_GET(value, 47, 44) &&
	       (value & BIT(aff0 & 15));
}

int vgic_send_sgi(struct vgic *g, u32 src, u64 value, enum vgic_sgi_reg reg)
{
	u32 intid = (u32)FIELD_GET(value, 27, 24);
	int count = 0;

	if (src >= g->nr_vcpus)
		return FERRY_EINVAL;
	for (u32 t = 0; t < g->nr_vcpus; t++) {
		struct vgic_irq *irq = &g->cpu[t].priv[intid];
		struct vgic_snap before;

		if (!sgi_targets(g, src, t, value))
			continue;
		/* With one Security state, ICC_SGI1R_EL1 makes the SGI pending whatever its group
		 * at the target, ICC_SGI0R_EL1 (and ICC_ASGI1R_EL1, which has no other Security
		 * state to name) only if it is Group 0 there (IHI 0069 "Forwarding an SGI to a
		 * target PE"; KVM reads the table the same way). */
		if (reg == VGIC_SGI0R && (irq->flags & VGIC_F_GROUP1))
			continue;
		before = vgic_snap(g, irq);
		irq->flags |= VGIC_F_LATCH;
		vgic_changed(g, irq, &before);
		count++;
	}
	return count;
}

u32 vgic_irq_status(const struct vgic *g, u32 vcpu, u32 intid)
{
	const struct vgic_irq *irq = vgic_get_irq_const(g, vcpu, intid);
	u32 f, st = 0;

	if (!irq)
		return 0;
	f = irq->flags;
	st |= vgic_irq_pending_visible(irq) ? VGIC_ST_PENDING : 0;
	st |= (f & VGIC_F_ACTIVE) ? VGIC_ST_ACTIVE : 0;
	st |= (f & VGIC_F_ENABLED) ? VGIC_ST_ENABLED : 0;
	st |= (f & VGIC_F_GROUP1) ? VGIC_ST_GROUP1 : 0;
	st |= (f & VGIC_F_EDGE) ? VGIC_ST_EDGE : 0;
	st |= (f & VGIC_F_LINE) ? VGIC_ST_LINE : 0;
	st |= (f & VGIC_F_IN_LR) ? VGIC_ST_IN_LR : 0;
	st |= (f & VGIC_F_HW) ? VGIC_ST_HW : 0;
	return (u32)st;
}

static bool signalled(const struct vgic *g, u32 vcpu, const struct vgic_irq *irq, u64 vmcr)
{
	u64 grp = (irq->flags & VGIC_F_GROUP1) ? ICH_VMCR_VENG1 : ICH_VMCR_VENG0;

	return vgic_irq_pending(irq) && !(irq->flags & VGIC_F_ACTIVE) &&
	       vgic_irq_forwardable(g, vcpu, irq) && (vmcr & grp) &&
	       irq->priority < FIELD_GET(vmcr, 31, ICH_VMCR_VPMR_SHIFT);
}

bool vgic_vcpu_has_pending(const struct vgic *g, u32 vcpu, u64 vmcr)
{
	if (vcpu >= g->nr_vcpus)
		return false;
	for (u32 live = g->cpu[vcpu].live; live; live &= live - 1)
		if (signalled(g, vcpu, &g->cpu[vcpu].priv[__builtin_ctz(live)], vmcr))
			return true;
	for (u32 w = 0; w < g->nr_spis / 32; w++)
		for (u32 live = g->spi_live[w]; live; live &= live - 1) {
			const struct vgic_irq *irq = &g->spi[32 * w + __builtin_ctz(live)];

			if (vgic_irq_home(irq) == vcpu && signalled(g, vcpu, irq, vmcr))
				return true;
		}
	/* LPIs: Group 1, no active state; pending ones that are enabled and above the mask. */
	if (g->cpu[vcpu].lpi_npending && (vmcr & ICH_VMCR_VENG1))
		for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++)
			for (u64 p = g->cpu[vcpu].lpi_pending[w]; p; p &= p - 1) {
				u32 intid = VGIC_LPI_BASE + 64 * w + (u32)__builtin_ctzll(p);

				if (vgic_lpi_forwardable(g, intid) &&
				    vgic_lpi_priority(g, intid) <
					    FIELD_GET(vmcr, 31, ICH_VMCR_VPMR_SHIFT))
					return true;
			}
	return false;
}
