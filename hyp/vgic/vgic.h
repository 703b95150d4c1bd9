/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's GICv3 (ARM IHI 0069): one distributor per VM, one redistributor per vCPU, SGIs
 * between the VM's own vCPUs, and the list-register bookkeeping that feeds the hardware's virtual
 * CPU interface (ICH_*_EL2). docs/vgic.md gives the rules and the spec sections behind them.
 *
 * Pure code: no hardware access, no allocation, no floating point. The EL2 glue owns the hardware:
 *  - before entering a vCPU it calls vgic_flush_lrs() and writes ICH_LR<n>_EL2 and ICH_HCR_EL2 with
 *    what it returns; after every exit it reads the list registers back and calls vgic_sync_lrs();
 *  - it forwards the guest's trapped accesses: MMIO in the GICD/GICR windows to vgic_mmio_read/
 *    write(), ICC_SGI1R_EL1/ICC_ASGI1R_EL1/ICC_SGI0R_EL1 writes to vgic_send_sgi();
 *  - devices raise their lines with vgic_set_level()/vgic_pulse();
 *  - ops->kick(ctx, vcpu) tells it a vCPU's interrupts changed: that vCPU must exit (or leave
 *    WFI) and flush again. It may name the vCPU whose exit is being handled (then there is nothing
 *    to do: the flush before re-entry sees the change). It must not call back into the vGIC.
 *
 * Concurrency: the model is one VM's shared state. The caller serializes every call on one VM (one
 * lock per VM), including flush and sync, which read the SPIs other vCPUs can change. */
#ifndef FERRY_VGIC_H
#define FERRY_VGIC_H

#include "config/config.h"
#include "lib/gmem.h"
#include "types.h"
#include "vgic/vgic_hw.h"

/* ---- limits and the guest's view (QEMU virt's layout) ---- */
#define VGIC_MAX_VCPUS CONFIG_MAX_VCPUS
#define VGIC_NR_SGIS 16u
#define VGIC_NR_PRIVATE 32u /* SGIs 0..15 and PPIs 16..31, banked per redistributor */
#define VGIC_MAX_SPIS 256u  /* SPIs 32..287: QEMU virt's 256 */
#define VGIC_MAX_LRS 16u    /* ICH_VTR_EL2.ListRegs is 4 bits */
#define VGIC_PRIO_BITS 5u   /* implemented priority bits, as QEMU's and KVM's virtual interfaces */
#define VGIC_PRIO_MASK ((u8)(0xffu << (8 - VGIC_PRIO_BITS)))
/* LPIs (with the ITS, its.h): INTIDs 8192..16383, the 14 INTID bits GICD_TYPER.IDbits reports, the
 * least an implementation with LPIs may have. Their configuration (enable, priority) is in a table
 * in guest memory that GICR_PROPBASER names; ferry caches it, refreshed on INV/INVALL and when a
 * redistributor enables LPIs. Their pending state is ferry's (one bitmap per redistributor),
 * seeded from the guest's pending table when LPIs are enabled. */
#define VGIC_LPI_BASE 8192u
#define VGIC_NR_LPIS 8192u
#define VGIC_LPI_ID_BITS 14u

#define VGIC_GICD_BASE_VIRT 0x08000000ULL
#define VGIC_GICD_SIZE 0x10000ULL
#define VGIC_GICR_BASE_VIRT 0x080A0000ULL
#define VGIC_GICR_STRIDE 0x20000ULL /* RD_base, then SGI_base 64 KiB later */
#define VGIC_GICR_SGI_OFFSET 0x10000ULL

/* PPIs of the Arm generic timers and the GIC maintenance interrupt, as the virt DTB gives them. */
#define VGIC_PPI_MAINTENANCE 25u
#define VGIC_PPI_HYP_TIMER 26u
#define VGIC_PPI_VTIMER 27u
#define VGIC_PPI_PTIMER 30u

/* ---- ICH_*_EL2 encodings the glue writes (Arm ARM, "ICH_LR<n>_EL2", "ICH_HCR_EL2") ---- */
#define ICH_LR_VINTID_MASK 0xffffffffULL
#define ICH_LR_PINTID_SHIFT 32
#define ICH_LR_PINTID_MASK (0x1fffULL << ICH_LR_PINTID_SHIFT)
#define ICH_LR_EOI BIT(41) /* HW == 0: maintenance interrupt when the guest deactivates it */
#define ICH_LR_PRIORITY_SHIFT 48
#define ICH_LR_GROUP1 BIT(60)
#define ICH_LR_HW BIT(61)
#define ICH_LR_PENDING BIT(62)
#define ICH_LR_ACTIVE BIT(63)

#define ICH_HCR_EN BIT(0)
#define ICH_HCR_UIE BIT(1)  /* maintenance when at most one LR holds a valid interrupt */
#define ICH_HCR_NPIE BIT(3) /* maintenance when no LR is pending */

/* ICH_VMCR_EL2 fields the model reads (vgic_vcpu_has_pending). */
#define ICH_VMCR_VENG0 BIT(0)
#define ICH_VMCR_VENG1 BIT(1)
#define ICH_VMCR_VPMR_SHIFT 24

/* ---- state (embedded in the VM; fields are private to hyp/vgic) ---- */
#define VGIC_NO_VCPU 0xffu

struct vgic_irq {
	u32 flags; /* VGIC_F_* (vgic_internal.h) */
	u16 intid;
	u16 pintid; /* VGIC_F_HW: the physical INTID the LR names */
	u8 priority;
	u8 owner;       /* vCPU whose list registers hold it (VGIC_F_IN_LR) */
	u8 lr;          /* which of them */
	u8 active_vcpu; /* the vCPU that has it active (it must deactivate it there) */
	u8 target;      /* SPIs: the vCPU IROUTER names, or VGIC_NO_VCPU; SGIs/PPIs: their own */
};

struct vgic_cpu {
	struct vgic_irq priv[VGIC_NR_PRIVATE];
	u32 live;      /* bit per SGI/PPI that is pending, active or in an LR */
	u32 aff;       /* Aff3.Aff2.Aff1.Aff0, as GICR_TYPER[63:32] */
	bool asleep;   /* GICR_WAKER.ProcessorSleep (ChildrenAsleep follows it at once) */
	bool in_guest; /* flushed, not yet synced: lr_val[] are in the hardware */
	u32 lr_used;   /* LRs written by the last flush */
	u64 lr_val[VGIC_MAX_LRS];
	/* statistics */
	u64 flushes, lr_overflows, maintenance_requests;
	/* LPIs: GICR_CTLR.EnableLPIs, GICR_PROPBASER, GICR_PENDBASER, pending LPIs (bit n: 8192 + n) */
	bool lpis_enabled;
	bool pend_ptz; /* the last GICR_PENDBASER write had PTZ: the pending table is all zeros */
	u64 propbaser, pendbaser;
	u32 lpi_npending;
	u64 lpi_pending[VGIC_NR_LPIS / 64];
};

struct vgic_ops {
	void (*kick)(void *ctx, u32 vcpu);
};

struct vgic {
	u32 nr_vcpus, nr_spis, nr_lrs;
	u64 gicd_base, gicr_base;
	u32 ctlr; /* GICD_CTLR.EnableGrp0/EnableGrp1 */
	bool a3v, rss;
	struct vgic_irq spi[VGIC_MAX_SPIS];
	u32 spi_live[VGIC_MAX_SPIS / 32]; /* as vgic_cpu.live: what flush must look at */
	u64 irouter[VGIC_MAX_SPIS];
	struct vgic_cpu cpu[VGIC_MAX_VCPUS];
	const struct vgic_ops *ops;
	void *ctx;
	bool lpis;                /* LPIs implemented (GICD_TYPER.LPIS, GICR_TYPER.PLPIS) */
	const struct gmem *mem;   /* the VM's RAM, for the LPI tables */
	u8 lpi_cfg[VGIC_NR_LPIS]; /* cached LPI configuration bytes: priority [7:2], enable [0] */
};

struct vgic_config {
	u32 nr_vcpus;     /* 1..VGIC_MAX_VCPUS */
	u32 nr_spis;      /* a multiple of 32, 0..VGIC_MAX_SPIS */
	u32 nr_lrs;       /* ICH_VTR_EL2.ListRegs + 1: 1..VGIC_MAX_LRS */
	const u64 *mpidr; /* each vCPU's MPIDR_EL1 (its affinity fields); NULL: Aff0 = index */
	u64 gicd_base;    /* guest physical windows: VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT */
	u64 gicr_base;    /* redistributors: nr_vcpus frames of VGIC_GICR_STRIDE */
	bool lpis;        /* implement LPIs (for an ITS): needs mem */
	const struct gmem *mem;
};

/* ---- set-up ---- */
/* FERRY_EINVAL for a configuration out of range or two vCPUs with one affinity. ops may be NULL. */
int vgic_init(struct vgic *g, const struct vgic_config *cfg, const struct vgic_ops *ops, void *ctx);
/* Back to the state out of reset (for a VM reset); keeps the configuration and the HW mappings.
 * FERRY_EBUSY while a vCPU is between flush and sync. */
int vgic_reset(struct vgic *g);
/* Delivers vINTID intid (a PPI of vcpu, or an SPI) through list registers with HW = 1 naming
 * pintid: the guest's deactivation deactivates the physical interrupt too (used for the virtual
 * timer). pintid 0 removes the mapping. FERRY_EBUSY while an LR holds it. */
int vgic_map_hw(struct vgic *g, u32 vcpu, u32 intid, u32 pintid);

/* ---- the guest's accesses ---- */
/* Returns 0, FERRY_ENOENT when ipa is outside the GICD and GICR windows (not the vGIC's), or
 * FERRY_EINVAL for an access size or alignment the register does not allow: that access has been
 * treated as RAZ/WI (*value = 0), which the glue may also log. size is 1, 2, 4 or 8. */
int vgic_mmio_read(struct vgic *g, u64 ipa, u32 size, u64 *value);
int vgic_mmio_write(struct vgic *g, u64 ipa, u32 size, u64 value);

enum vgic_sgi_reg {
	VGIC_SGI1R, /* ICC_SGI1R_EL1: an SGI of either group (GICD_CTLR.DS == 1) */
	VGIC_SGI0R, /* ICC_SGI0R_EL1 or ICC_ASGI1R_EL1: Group 0 targets only */
};
/* A trapped write of value to an SGI generation register by vCPU src. Returns how many vCPUs the
 * SGI was made pending on, or FERRY_EINVAL. */
int vgic_send_sgi(struct vgic *g, u32 src, u64 value, enum vgic_sgi_reg reg);

/* ---- devices ---- */
/* The level of an interrupt line: a PPI of vcpu (16..31), or an SPI (vcpu ignored). A level-
 * sensitive interrupt is pending while its line is high; an edge-triggered one latches each rising
 * edge. Returns 0 or FERRY_EINVAL. */
int vgic_set_level(struct vgic *g, u32 vcpu, u32 intid, bool level);
/* An edge: the line rises and falls again. Only an edge-triggered interrupt keeps it (pending); on
 * a level-sensitive one it is gone before anything can see it, as on hardware. */
int vgic_pulse(struct vgic *g, u32 vcpu, u32 intid);

/* ---- list registers ---- */
/* Before entering vcpu: fills lr_out[0..nr_lrs-1] (the first *n valid, the rest 0), and *hcr
 * (En, plus UIE or NPIE when interrupts wait beyond the LRs). The glue writes every LR it wrote
 * before, at least, so no stale entry survives. FERRY_EBUSY if the last flush was not synced. */
int vgic_flush_lrs(struct vgic *g, u32 vcpu, u64 lr_out[VGIC_MAX_LRS], u32 *n, u64 *hcr);
/* After every exit of vcpu: lr_in[0..n-1] are ICH_LR<0..n-1>_EL2 as read back, n at least the *n of
 * the flush. Folds what the guest did (acknowledged, deactivated) into the model. FERRY_EINVAL if
 * there was no flush; FERRY_EIO if an LR no longer names what the flush put there (that entry is
 * taken as unchanged). */
int vgic_sync_lrs(struct vgic *g, u32 vcpu, const u64 lr_in[], u32 n);

/* ---- queries ---- */
#define VGIC_ST_PENDING BIT(0) /* as GICR_ISPENDR0/GICD_ISPENDR read */
#define VGIC_ST_ACTIVE BIT(1)
#define VGIC_ST_ENABLED BIT(2)
#define VGIC_ST_GROUP1 BIT(3)
#define VGIC_ST_EDGE BIT(4)
#define VGIC_ST_LINE BIT(5)  /* the input line is high */
#define VGIC_ST_IN_LR BIT(6) /* in a list register of a vCPU in the guest */
#define VGIC_ST_HW BIT(7)
/* VGIC_ST_* of intid as vcpu sees it; 0 for an INTID that is not implemented. A HW-mapped interrupt
 * with none of PENDING, ACTIVE, IN_LR is idle: if its physical interrupt is still active (it fired
 * and no HW list register took it back), the glue deactivates it. */
u32 vgic_irq_status(const struct vgic *g, u32 vcpu, u32 intid);
/* Whether vcpu has an interrupt the virtual CPU interface would signal under vmcr (ICH_VMCR_EL2):
 * pending, enabled, not active, priority above the mask, group enabled. For WFI: call it after
 * vgic_sync_lrs(). It ignores the running priority, so it may wake early (WFI may always). */
bool vgic_vcpu_has_pending(const struct vgic *g, u32 vcpu, u64 vmcr);

/* ---- LPIs (vgic_lpi.c), as the ITS (its.h) drives them ---- */
/* Whether intid is an LPI this vGIC implements. */
static inline bool vgic_is_lpi(u32 intid)
{
	return intid >= VGIC_LPI_BASE && intid - VGIC_LPI_BASE < VGIC_NR_LPIS;
}
/* Makes LPI intid pending at vcpu's redistributor. FERRY_EINVAL for an INTID that is no LPI or a
 * vCPU that does not exist; FERRY_ENOENT when that redistributor has LPIs disabled (the LPI is
 * dropped: nothing can hold it). Kicks the vCPU. */
int vgic_lpi_set_pending(struct vgic *g, u32 vcpu, u32 intid);
/* Clears it; returns whether it was pending. */
bool vgic_lpi_clear_pending(struct vgic *g, u32 vcpu, u32 intid);
bool vgic_lpi_is_pending(const struct vgic *g, u32 vcpu, u32 intid);
/* MOVALL: every LPI pending at vCPU from becomes pending at vCPU to (dropped if to has LPIs off). */
void vgic_lpi_move_all(struct vgic *g, u32 from, u32 to);
/* Re-reads intid's configuration byte from the table vcpu's GICR_PROPBASER names (INV), or all of
 * them (INVALL). A byte that cannot be read (outside the VM's RAM, beyond PROPBASER.IDbits) reads
 * as disabled. */
void vgic_lpi_inv(struct vgic *g, u32 vcpu, u32 intid);
void vgic_lpi_invall(struct vgic *g, u32 vcpu);
/* The cached configuration byte of intid (0 for no LPI). */
u8 vgic_lpi_config(const struct vgic *g, u32 intid);

/* ---- migration (docs/vgic.md gives the blob byte by byte) ---- */
#define VGIC_SAVE_MAGIC 0x43494746u /* "FGIC" as little-endian bytes */
#define VGIC_SAVE_VERSION 1u
size_t vgic_save_size(const struct vgic *g);
/* Serializes the whole state; every vCPU must be synced (FERRY_EBUSY otherwise): what the LRs held
 * is then in the model. hw[] has nr_vcpus entries. FERRY_ERANGE when len is too small. */
int vgic_save(const struct vgic *g, const struct vgic_cpu_hw hw[], u8 *buf, size_t len,
	      size_t *out_len);
/* The same serializer without the check: the model as it is now, which while a vCPU runs lacks
 * what its list registers hold. Only for bytes that are thrown away: the migration's rehearsal
 * runs it before the pause so that the pause runs code already run once (docs/migration.md). */
int vgic_save_model(const struct vgic *g, const struct vgic_cpu_hw hw[], u8 *buf, size_t len,
		    size_t *out_len);
/* The inverse, into a vGIC initialized with the same nr_vcpus, nr_spis and affinities. Checks
 * the whole blob first (FERRY_EINVAL: length, magic, version, checksum, geometry, every reserved
 * bit and impossible state); on any error g and hw are unchanged. HW mappings and ops are kept.
 * FERRY_EBUSY while a vCPU is between flush and sync. */
int vgic_restore(struct vgic *g, struct vgic_cpu_hw hw[], const u8 *buf, size_t len);

#endif
