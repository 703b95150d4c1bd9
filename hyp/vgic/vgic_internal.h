/* SPDX-License-Identifier: Apache-2.0 */
/* Private to hyp/vgic: the per-interrupt state bits and the helpers the register, list-register and
 * migration code share. */
#ifndef FERRY_VGIC_INTERNAL_H
#define FERRY_VGIC_INTERNAL_H

#include <string.h>

#include "lib/lib.h"
#include "vgic/vgic.h"

/* struct vgic_irq.flags. The guest-visible state is ENABLED..ACTIVE; the rest is bookkeeping. */
#define VGIC_F_ENABLED (1u << 0)
#define VGIC_F_GROUP1 (1u << 1)
#define VGIC_F_EDGE (1u << 2)  /* Int_config: edge-triggered (else level-sensitive) */
#define VGIC_F_LATCH (1u << 3) /* pending latch: an edge, or a write to ISPENDR */
#define VGIC_F_LINE (1u << 4)  /* the input line's level */
#define VGIC_F_ACTIVE (1u << 5)
#define VGIC_F_HW (1u << 6)         /* LRs name pintid with HW = 1 */
#define VGIC_F_IN_LR (1u << 7)      /* in LR .lr of vCPU .owner, between its flush and sync */
#define VGIC_F_LR_PENDING (1u << 8) /* ... put there with the pending state */
#define VGIC_F_PEND_DIRTY (1u << 9) /* ... and the guest changed its pending state by MMIO since */
#define VGIC_F_ACT_DIRTY (1u << 10) /* ... or its active state */

/* What a migration blob carries per interrupt (vgic_save.c). */
#define VGIC_F_SAVED \
	(VGIC_F_ENABLED | VGIC_F_GROUP1 | VGIC_F_EDGE | VGIC_F_LATCH | VGIC_F_LINE | VGIC_F_ACTIVE)

/* GICD_CTLR with a single Security state (DS == 1): IHI 0069 "GICD_CTLR". */
#define GICD_CTLR_ENABLE_G0 (1u << 0)
#define GICD_CTLR_ENABLE_G1 (1u << 1)
#define GICD_CTLR_ARE (1u << 4)
#define GICD_CTLR_DS (1u << 6)

/* LPIs (vgic_lpi.c). */
#define GICR_CTLR_ENABLE_LPIS (1u << 0)
#define GICR_CTLR_CES (1u << 1) /* Clear Enable Supported: EnableLPIs may go back to 0 */
#define GICR_TYPER_PLPIS (1u << 0)
#define GICR_PROPBASER_IDBITS 0x1fULL
#define GICR_PENDBASER_PTZ BIT(62)
#define PROPBASER_RW (GENMASK(4, 0) | GENMASK(11, 7) | GENMASK(51, 12) | GENMASK(58, 56))
#define PENDBASER_RW (GENMASK(11, 7) | GENMASK(51, 16) | GENMASK(58, 56))
#define LPI_CFG_ENABLE 0x01u
void vgic_lpi_enable(struct vgic *g, u32 vcpu);
void vgic_lpi_disable(struct vgic *g, u32 vcpu);
u8 vgic_lpi_priority(const struct vgic *g, u32 intid);
bool vgic_lpi_forwardable(const struct vgic *g, u32 intid);

static inline bool vgic_is_sgi(u32 intid) { return intid < VGIC_NR_SGIS; }
static inline bool vgic_is_private(u32 intid) { return intid < VGIC_NR_PRIVATE; }

/* The interrupt intid as vCPU vcpu sees it (its own SGI/PPI, or the shared SPI); NULL when not
 * implemented. vcpu must be valid when intid is private. */
static inline struct vgic_irq *vgic_get_irq(struct vgic *g, u32 vcpu, u32 intid)
{
	if (vgic_is_private(intid))
		return vcpu < g->nr_vcpus ? &g->cpu[vcpu].priv[intid] : NULL;
	if (intid - VGIC_NR_PRIVATE < g->nr_spis)
		return &g->spi[intid - VGIC_NR_PRIVATE];
	return NULL;
}

static inline const struct vgic_irq *vgic_get_irq_const(const struct vgic *g, u32 vcpu, u32 intid)
{
	return vgic_get_irq((struct vgic *)g, vcpu, intid);
}

/* Pending in the model: a latched edge or software pend, or a level line that is high. An edge
 * interrupt's pending state lives in its LR while it is there (flush moves it), hence the second
 * helper for what the guest reads. */
static inline bool vgic_irq_pending(const struct vgic_irq *irq)
{
	return (irq->flags & VGIC_F_LATCH) ||
	       (irq->flags & (VGIC_F_LINE | VGIC_F_EDGE)) == VGIC_F_LINE;
}

static inline bool vgic_irq_pending_visible(const struct vgic_irq *irq)
{
	u32 lr = VGIC_F_IN_LR | VGIC_F_LR_PENDING | VGIC_F_PEND_DIRTY;

	return vgic_irq_pending(irq) || (irq->flags & lr) == (VGIC_F_IN_LR | VGIC_F_LR_PENDING);
}

/* Can the redistributor of vcpu forward irq's pending state to the CPU interface: enabled and its
 * group enabled in GICD_CTLR. GICR_WAKER.ProcessorSleep does not hold interrupts back: on hardware
 * it asks the power controller for a wake-up instead of signalling the CPU interface, but a vCPU that
 * runs is awake, and QEMU's GICv3 and KVM's vGIC deliver to a redistributor the guest never woke.
 * Bare-metal programs entered at EL1 without firmware (test suites among them) rely on that; with
 * the gate, their timer and SGI interrupts never came. */
static inline bool vgic_irq_forwardable(const struct vgic *g, u32 vcpu, const struct vgic_irq *irq)
{
	u32 grp = (irq->flags & VGIC_F_GROUP1) ? GICD_CTLR_ENABLE_G1 : GICD_CTLR_ENABLE_G0;

	(void)vcpu;
	return (irq->flags & VGIC_F_ENABLED) && (g->ctlr & grp);
}

/* The vCPU an interrupt belongs to right now: the one whose LRs hold it, else the one that has it
 * active (it must be deactivated there), else its target (an SPI's route; an SGI's or PPI's own
 * vCPU, which .target holds for them). */
u32 vgic_irq_home(const struct vgic_irq *irq);

/* Keeps the live bitmaps (vgic_cpu.live, vgic.spi_live) true for irq after any change of its flags:
 * flush and the WFI check visit only live interrupts, so every change must come through here (or
 * through vgic_changed(), which calls it). */
static inline void vgic_update_live(struct vgic *g, const struct vgic_irq *irq)
{
	bool live = vgic_irq_pending(irq) || (irq->flags & (VGIC_F_ACTIVE | VGIC_F_IN_LR));
	u32 bit = 1u << (irq->intid % 32);
	u32 *word = vgic_is_private(irq->intid) ? &g->cpu[irq->target].live
						: &g->spi_live[(irq->intid - VGIC_NR_PRIVATE) / 32];

	*word = live ? *word | bit : *word & ~bit;
}

/* Snapshot of what decides whether a vCPU must re-flush; vgic_changed() kicks the vCPUs concerned
 * when a mutation made a difference to an interrupt that was or is a list-register candidate. */
struct vgic_snap {
	u32 flags;
	u8 priority, target;
	u32 home;
	bool candidate;
};
struct vgic_snap vgic_snap(const struct vgic *g, const struct vgic_irq *irq);
void vgic_changed(struct vgic *g, const struct vgic_irq *irq, const struct vgic_snap *before);
void vgic_kick(struct vgic *g, u32 vcpu);
void vgic_kick_all(struct vgic *g);

/* SPI routing: the vCPU whose affinity IROUTER names (VGIC_NO_VCPU if none). */
u8 vgic_route_target(const struct vgic *g, u64 irouter);
u64 vgic_irouter_mask(const struct vgic *g);

/* Resets the guest-visible state, keeping configuration and HW mappings. */
void vgic_reset_state(struct vgic *g);

/* An LPI's pending bit in its redistributor, with the count kept beside it (lpi_npending). Each
 * returns whether the bit changed. */
static inline bool vgic_lpi_mark(struct vgic_cpu *cpu, u32 intid)
{
	u32 n = intid - VGIC_LPI_BASE;

	if (cpu->lpi_pending[n / 64] & BIT(n % 64))
		return false;
	cpu->lpi_pending[n / 64] |= BIT(n % 64);
	cpu->lpi_npending++;
	return true;
}

static inline bool vgic_lpi_unmark(struct vgic_cpu *cpu, u32 intid)
{
	u32 n = intid - VGIC_LPI_BASE;

	if (!(cpu->lpi_pending[n / 64] & BIT(n % 64)))
		return false;
	cpu->lpi_pending[n / 64] &= ~BIT(n % 64);
	cpu->lpi_npending--;
	return true;
}

/* Whether some vCPU is between flush and sync: its list registers then hold state the model does
 * not have (an LPI's pending state too), so a reset, a save or a restore must wait. */
static inline bool vgic_any_in_guest(const struct vgic *g)
{
	for (u32 i = 0; i < g->nr_vcpus; i++)
		if (g->cpu[i].in_guest)
			return true;
	return false;
}

/* The header convention the vGIC's and the ITS's blobs share (docs/vgic.md): magic, version, the
 * header's length, the blob's length, the CRC32C's place (written last, by the caller) and the
 * vCPU count at byte 16. vgic_blob_begin checks the room for the whole blob, zeroes it and writes
 * that header (FERRY_ERANGE when len is too small). */
#define VGIC_BLOB_HDR_LEN 32u
static inline int vgic_blob_begin(u8 *buf, size_t len, u32 magic, u16 version, size_t size,
				  u32 nr_vcpus)
{
	if (len < size)
		return FERRY_ERANGE;
	memset(buf, 0, size);
	put_le32(buf, magic);
	put_le16(buf + 4, version);
	put_le16(buf + 6, VGIC_BLOB_HDR_LEN);
	put_le32(buf + 8, (u32)size);
	put_le16(buf + 16, (u16)nr_vcpus);
	return FERRY_OK;
}

#endif
