/* SPDX-License-Identifier: Apache-2.0 */
/* List registers: which interrupts a vCPU's virtual CPU interface sees, and folding back what the
 * guest did with them.
 *
 * Every entry rebuilds the LRs from the model and every exit folds them back (as KVM does), so the
 * model is the only truth between an exit and the next entry, and nothing stale (a level line
 * lowered, a pending state cleared by another vCPU, a priority changed) outlives one exit. The
 * architecture's rules that shape this (Arm ARM "ICH_LR<n>_EL2", IHI 0069
 * "Virtual interrupt handling and prioritization"):
 *  - an active interrupt must stay in an LR until the guest deactivates it: a deactivation of an
 *    INTID no LR holds only bumps ICH_HCR_EL2.EOIcount, which does not say which one. Active
 *    interrupts therefore take LRs first, whatever their priority;
 *  - pending ones fill the rest by priority (then INTID): the hardware orders what is in the LRs,
 *    but only what is there;
 *  - for HW = 1 the pending and active state is held by the physical interrupt, so an LR never says
 *    pending and active at once for it; neither for a level-sensitive one, whose pending state is
 *    resampled from the line after deactivation (EOI maintenance), not carried along. */
#include "vgic/vgic_internal.h"

struct lr_candidate {
	u64 key; /* lower is better: active first, then priority, then INTID */
	u32 intid;
	struct vgic_irq *irq; /* NULL for an LPI */
	bool pend;
};

/* Inserts c among the best cap candidates kept sorted in best[0..*n). */
static void keep_best(struct lr_candidate best[], u32 *n, u32 cap, const struct lr_candidate *c)
{
	u32 i;

	if (*n == cap && best[cap - 1].key <= c->key)
		return;
	i = *n < cap ? (*n)++ : cap - 1;
	while (i > 0 && best[i - 1].key > c->key) {
		best[i] = best[i - 1];
		i--;
	}
	best[i] = *c;
}

static bool consider(struct vgic *g, u32 vcpu, u32 intid, struct vgic_irq *irq,
		     struct lr_candidate *c)
{
	bool active = irq->flags & VGIC_F_ACTIVE;

	/* An SPI another vCPU's LRs hold, or that belongs elsewhere, is not ours to show. */
	if ((irq->flags & VGIC_F_IN_LR) || vgic_irq_home(irq) != vcpu)
		return false;
	c->pend = vgic_irq_pending(irq) && vgic_irq_forwardable(g, vcpu, irq);
	if (!active && !c->pend)
		return false;
	c->key = (active ? 0u : BIT(40)) | (u64)irq->priority << 32 | intid;
	c->intid = intid;
	c->irq = irq;
	return true;
}

/* A pending LPI of vcpu that can be forwarded. LPIs have no active state and no line: they are
 * candidates only while pending, and the pending state moves into the LR (as an edge's does). */
static bool consider_lpi(const struct vgic *g, u32 intid, struct lr_candidate *c)
{
	if (!vgic_lpi_forwardable(g, intid))
		return false;
	c->key = BIT(40) | (u64)vgic_lpi_priority(g, intid) << 32 | intid;
	c->intid = intid;
	c->irq = NULL;
	c->pend = true;
	return true;
}

static u64 make_lpi_lr(struct vgic *g, u32 vcpu, u32 intid)
{
	u32 n = intid - VGIC_LPI_BASE;
	struct vgic_cpu *cpu = &g->cpu[vcpu];

	cpu->lpi_pending[n / 64] &= ~BIT(n % 64);
	cpu->lpi_npending--;
	return intid | (u64)vgic_lpi_priority(g, intid) << ICH_LR_PRIORITY_SHIFT | ICH_LR_GROUP1 |
	       ICH_LR_PENDING;
}

static u64 make_lr(struct vgic *g, struct vgic_irq *irq, u32 intid, bool pend, u32 vcpu, u32 index)
{
	u32 f = irq->flags;
	bool active = f & VGIC_F_ACTIVE;
	bool hw = f & VGIC_F_HW, edge = f & VGIC_F_EDGE;
	u64 lr = intid | (u64)irq->priority << ICH_LR_PRIORITY_SHIFT;

	if (f & VGIC_F_GROUP1)
		lr |= ICH_LR_GROUP1;
	if (active)
		lr |= ICH_LR_ACTIVE;
	if (pend && (!active || (edge && !hw)))
		lr |= ICH_LR_PENDING;
	if (hw)
		lr |= ICH_LR_HW | (u64)irq->pintid << ICH_LR_PINTID_SHIFT;
	else if (!edge && ((lr & ICH_LR_PENDING) || vgic_irq_pending(irq)))
		/* Level: ask for a maintenance interrupt at deactivation, so the line is sampled
		 * again then (still high: pending again), not at the next unrelated exit. */
		lr |= ICH_LR_EOI;

	irq->flags &= ~(VGIC_F_LR_PENDING | VGIC_F_PEND_DIRTY | VGIC_F_ACT_DIRTY);
	irq->flags |= VGIC_F_IN_LR;
	if (lr & ICH_LR_PENDING) {
		irq->flags |= VGIC_F_LR_PENDING;
		/* An edge's pending state moves into the LR: a new edge while it is there latches
		 * again and is not lost (sync ORs them). */
		if (edge)
			irq->flags &= ~VGIC_F_LATCH;
	}
	irq->owner = (u8)vcpu;
	irq->lr = (u8)index;
	vgic_update_live(g, irq);
	return lr;
}

int vgic_flush_lrs(struct vgic *g, u32 vcpu, u64 lr_out[VGIC_MAX_LRS], u32 *n, u64 *hcr)
{
	struct lr_candidate best[VGIC_MAX_LRS], c;
	struct vgic_cpu *cpu;
	u32 nbest = 0, total = 0;

	if (vcpu >= g->nr_vcpus)
		return FERRY_EINVAL;
	cpu = &g->cpu[vcpu];
	if (cpu->in_guest)
		return FERRY_EBUSY;
	/* Only what is pending, active or in an LR can be a candidate: the live bitmaps. */
	for (u32 live = cpu->live; live; live &= live - 1) {
		u32 i = (u32)__builtin_ctz(live);

		if (consider(g, vcpu, i, &cpu->priv[i], &c)) {
			total++;
			keep_best(best, &nbest, g->nr_lrs, &c);
		}
	}
	for (u32 w = 0; w < g->nr_spis / 32; w++)
		for (u32 live = g->spi_live[w]; live; live &= live - 1) {
			u32 i = 32 * w + (u32)__builtin_ctz(live);

			if (consider(g, vcpu, VGIC_NR_PRIVATE + i, &g->spi[i], &c)) {
				total++;
				keep_best(best, &nbest, g->nr_lrs, &c);
			}
		}
	if (cpu->lpi_npending)
		for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++)
			for (u64 p = cpu->lpi_pending[w]; p; p &= p - 1)
				if (consider_lpi(g,
						 VGIC_LPI_BASE + 64 * w + (u32)__builtin_ctzll(p),
						 &c)) {
					total++;
					keep_best(best, &nbest, g->nr_lrs, &c);
				}

	*hcr = ICH_HCR_EN;
	for (u32 i = 0; i < g->nr_lrs; i++)
		lr_out[i] = i >= nbest ? 0
			    : !best[i].irq
				    ? make_lpi_lr(g, vcpu, best[i].intid)
				    : make_lr(g, best[i].irq, best[i].intid, best[i].pend, vcpu, i);
	if (total > nbest) {
		/* More than fits: ask to come back when LRs free up. Underflow (at most one valid
		 * LR left) fires once the guest has retired all but one; with a single LR that is
		 * always true, so there: No Pending once the guest acknowledged it, or EOI
		 * maintenance at its deactivation if it is already active. */
		bool asked = true;

		cpu->lr_overflows++;
		if (g->nr_lrs >= 2)
			*hcr |= ICH_HCR_UIE;
		else if ((lr_out[0] & (ICH_LR_PENDING | ICH_LR_ACTIVE)) == ICH_LR_PENDING)
			*hcr |= ICH_HCR_NPIE;
		else if (!(lr_out[0] & ICH_LR_HW))
			lr_out[0] |= ICH_LR_EOI;
		else
			asked = false; /* one LR, HW and active: nothing to ask (docs/vgic.md) */
		if (asked)
			cpu->maintenance_requests++;
	}
	for (u32 i = 0; i < nbest; i++)
		cpu->lr_val[i] = lr_out[i];
	cpu->lr_used = nbest;
	cpu->in_guest = true;
	cpu->flushes++;
	*n = nbest;
	return FERRY_OK;
}

static void fold(struct vgic *g, u32 vcpu, struct vgic_irq *irq, u64 placed, u64 lr)
{
	bool lr_pend = lr & ICH_LR_PENDING, lr_active = lr & ICH_LR_ACTIVE;
	u32 f = irq->flags;
	u32 home;

	if (!(f & VGIC_F_ACT_DIRTY)) {
		if (lr_active) {
			irq->flags |= VGIC_F_ACTIVE;
			irq->active_vcpu = (u8)vcpu;
		} else {
			irq->flags &= ~VGIC_F_ACTIVE;
		}
	}
	if (!(irq->flags & VGIC_F_ACTIVE))
		irq->active_vcpu = VGIC_NO_VCPU;
	if (!(f & VGIC_F_PEND_DIRTY) && (placed & ICH_LR_PENDING)) {
		if (f & VGIC_F_EDGE)
			irq->flags |= lr_pend ? VGIC_F_LATCH : 0;
		else if (!lr_pend)
			/* Acknowledging a level-sensitive interrupt ends a pending state software
			 * set with ISPENDR; the line, if still high, keeps it pending (IHI 0069
			 * "Level-sensitive interrupts"). */
			irq->flags &= ~VGIC_F_LATCH;
	}
	irq->flags &= ~(VGIC_F_IN_LR | VGIC_F_LR_PENDING | VGIC_F_PEND_DIRTY | VGIC_F_ACT_DIRTY);
	irq->owner = VGIC_NO_VCPU;
	vgic_update_live(g, irq);

	/* An SPI released here that belongs elsewhere now (rerouted while this vCPU held it) was
	 * skipped by its new vCPU's flush: tell that vCPU. */
	home = vgic_irq_home(irq);
	if (home != vcpu && vgic_snap(g, irq).candidate)
		vgic_kick(g, home);
}

int vgic_sync_lrs(struct vgic *g, u32 vcpu, const u64 lr_in[], u32 n)
{
	struct vgic_cpu *cpu;
	int err = FERRY_OK;

	if (vcpu >= g->nr_vcpus || !g->cpu[vcpu].in_guest)
		return FERRY_EINVAL;
	cpu = &g->cpu[vcpu];
	for (u32 i = 0; i < cpu->lr_used; i++) {
		u64 placed = cpu->lr_val[i];
		u32 intid = (u32)(placed & ICH_LR_VINTID_MASK);
		u64 lr = placed;

		if (i < n && lr_in)
			lr = lr_in[i];
		else
			err = FERRY_EINVAL;
		if ((lr & ICH_LR_VINTID_MASK) != intid) {
			lr = placed;
			err = FERRY_EIO;
		}
		if (vgic_is_lpi(intid)) {
			/* Not yet acknowledged: pending again, unless LPIs were disabled while it
			 * sat here (dropped: a disabled redistributor holds none). Acknowledged:
			 * gone (an LPI has no active state; its deactivation finds no LR, which
			 * for an LPI is no error and counts nothing). */
			if ((lr & ICH_LR_PENDING) && cpu->lpis_enabled)
				(void)vgic_lpi_mark(cpu, intid);
			continue;
		}
		fold(g, vcpu, vgic_get_irq(g, vcpu, intid), placed, lr);
	}
	cpu->lr_used = 0;
	cpu->in_guest = false;
	return err;
}
