/* SPDX-License-Identifier: Apache-2.0 */
/* The GICD and GICR register frames (IHI 0069, "The GIC Distributor register map", "The GIC
 * Redistributor register map"), as a GIC with one Security state (GICD_CTLR.DS == 1), affinity
 * routing always on (ARE RAO/WI), no LPIs, no extended SPI/PPI ranges. Everything else reads as
 * zero and ignores writes.
 *
 * Access sizes (IHI 0069 "GIC memory-mapped register access"): every register takes aligned 32-bit
 * accesses; the priority registers (and ITARGETSR, CPENDSGIR, SPENDSGIR) also bytes; 64-bit
 * registers 64-bit accesses and 32-bit accesses to either half. Nothing takes halfwords. Any other
 * access is treated as RAZ/WI and reported with FERRY_EINVAL. */
#include "vgic/vgic_internal.h"

/* GICD / SGI_base registers with one field per interrupt, laid out alike in both frames. */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ISACTIVER 0x0300
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ITARGETSR 0x0800
#define GICD_ICFGR 0x0C00
#define GICD_CPENDSGIR 0x0F10
#define GICD_SPENDSGIR 0x0F20
#define GICD_IROUTER 0x6000
#define GICD_IROUTER_END 0x8000
#define GIC_PIDR2 0xFFE8

#define GICR_CTLR 0x0000
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_SETLPIR 0x0040
#define GICR_CLRLPIR 0x0048
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GICR_INVLPIR 0x00A0
#define GICR_INVALLR 0x00B0

#define GICR_TYPER_LAST BIT(4)
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)

#define GICD_TYPER_IDBITS_SHIFT 19
#define GICD_TYPER_LPIS (1u << 17)
#define GICD_TYPER_A3V (1u << 24)
#define GICD_TYPER_NO1N (1u << 25)
#define GICD_TYPER_RSS (1u << 26)

/* Implementer Arm (JEP106 0x43b) as KVM's vGIC reports it, ProductID 'F' (ferry), revision 0. No
 * Linux erratum matches this ProductID. PIDR2: ArchRev 3 (GICv3) with the same JEP106 code. */
#define VGIC_IIDR (0x46u << 24 | 0x43bu)
#define VGIC_PIDR2 0x3bu

/* Allowed access sizes, as a mask of the sizes themselves. */
#define SZ_BYTE 1u
#define SZ_WORD 4u
#define SZ_DWORD 8u

static u32 dist_sizes(u64 off)
{
	if ((off >= GICD_IPRIORITYR && off < GICD_ICFGR) ||
	    (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 0x10))
		return SZ_BYTE | SZ_WORD;
	if (off >= GICD_IROUTER && off < GICD_IROUTER_END)
		return SZ_WORD | SZ_DWORD;
	return SZ_WORD;
}

static u32 rd_sizes(u64 off)
{
	switch (off & ~7ULL) {
	case GICR_TYPER:
	case GICR_SETLPIR:
	case GICR_CLRLPIR:
	case GICR_PROPBASER:
	case GICR_PENDBASER:
	case GICR_INVLPIR:
	case GICR_INVALLR:
		return SZ_WORD | SZ_DWORD;
	default:
		return SZ_WORD;
	}
}

static u32 sgi_sizes(u64 off)
{
	return off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + VGIC_NR_PRIVATE ? SZ_BYTE | SZ_WORD
										 : SZ_WORD;
}

/* Which INTIDs the per-interrupt registers of a frame cover: with affinity routing the GICD copies
 * for INTIDs 0..31 are RAZ/WI (their redistributor has them), and SGI_base has only those. */
static bool frame_has(bool redist, u32 intid)
{
	return redist ? intid < VGIC_NR_PRIVATE : intid >= VGIC_NR_PRIVATE;
}

static struct vgic_irq *frame_irq(struct vgic *g, bool redist, u32 vcpu, u32 intid)
{
	return frame_has(redist, intid) ? vgic_get_irq(g, vcpu, intid) : NULL;
}

enum bitreg {
	BR_GROUP,
	BR_SENABLE,
	BR_CENABLE,
	BR_SPEND,
	BR_CPEND,
	BR_SACTIVE,
	BR_CACTIVE
};

static u32 bitreg_read(struct vgic *g, bool redist, u32 vcpu, u32 first, enum bitreg r)
{
	u32 val = 0;

	for (u32 i = 0; i < 32; i++) {
		const struct vgic_irq *irq = frame_irq(g, redist, vcpu, first + i);
		bool bit;

		if (!irq)
			continue;
		switch (r) {
		case BR_GROUP:
			bit = irq->flags & VGIC_F_GROUP1;
			break;
		case BR_SENABLE:
		case BR_CENABLE:
			bit = irq->flags & VGIC_F_ENABLED;
			break;
		case BR_SPEND:
		case BR_CPEND:
			bit = vgic_irq_pending_visible(irq);
			break;
		default:
			bit = irq->flags & VGIC_F_ACTIVE;
			break;
		}
		val |= (u32)bit << i;
	}
	return val;
}

static void bitreg_write_one(struct vgic_irq *irq, enum bitreg r, bool bit)
{
	/* The set/clear registers act on 1 bits only; IGROUPR is a plain read/write register. */
	if (r != BR_GROUP && !bit)
		return;
	switch (r) {
	case BR_GROUP:
		irq->flags = bit ? irq->flags | VGIC_F_GROUP1 : irq->flags & ~VGIC_F_GROUP1;
		break;
	case BR_SENABLE:
		irq->flags |= VGIC_F_ENABLED;
		break;
	case BR_CENABLE:
		irq->flags &= ~VGIC_F_ENABLED;
		break;
	case BR_SPEND:
	case BR_CPEND:
		/* ICPENDR clears the latch only: a level line that is still high keeps the
		 * interrupt pending (IHI 0069 "GICD_ICPENDR<n>"). An interrupt in a running vCPU's
		 * LR keeps its LR copy until the next sync, where this write wins (PEND_DIRTY). */
		if (r == BR_SPEND)
			irq->flags |= VGIC_F_LATCH;
		else
			irq->flags &= ~VGIC_F_LATCH;
		if (irq->flags & VGIC_F_IN_LR)
			irq->flags |= VGIC_F_PEND_DIRTY;
		break;
	default:
		if (r == BR_SACTIVE) {
			/* Active where it is routed now: that vCPU must deactivate it. */
			if (!(irq->flags & VGIC_F_ACTIVE))
				irq->active_vcpu = irq->target;
			irq->flags |= VGIC_F_ACTIVE;
		} else {
			irq->flags &= ~VGIC_F_ACTIVE;
			irq->active_vcpu = VGIC_NO_VCPU;
		}
		if (irq->flags & VGIC_F_IN_LR)
			irq->flags |= VGIC_F_ACT_DIRTY;
		break;
	}
}

static void bitreg_write(struct vgic *g, bool redist, u32 vcpu, u32 first, enum bitreg r, u32 val)
{
	for (u32 i = 0; i < 32; i++) {
		struct vgic_irq *irq = frame_irq(g, redist, vcpu, first + i);
		struct vgic_snap before;

		if (!irq)
			continue;
		before = vgic_snap(g, irq);
		bitreg_write_one(irq, r, (val >> i) & 1);
		vgic_changed(g, irq, &before);
	}
}

/* The per-interrupt registers at 0x0080..0x0CFF of GICD and SGI_base. Returns false for an offset
 * that is none of them. */
static bool irqregs_read(struct vgic *g, bool redist, u32 vcpu, u64 off, u32 size, u64 *value)
{
	static const enum bitreg banks[] = { BR_GROUP, BR_SENABLE, BR_CENABLE, BR_SPEND,
					     BR_CPEND, BR_SACTIVE, BR_CACTIVE };
	u32 val = 0;

	if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR) {
		u32 bank = (u32)(off - GICD_IGROUPR) / 0x80;
		u32 first = (u32)(off - GICD_IGROUPR - bank * 0x80) / 4 * 32;

		*value = bitreg_read(g, redist, vcpu, first, banks[bank]);
		return true;
	}
	if (off >= GICD_IPRIORITYR && off < GICD_ITARGETSR) {
		for (u32 k = 0; k < size; k++) {
			const struct vgic_irq *irq =
				frame_irq(g, redist, vcpu, (u32)(off - GICD_IPRIORITYR) + k);

			if (irq)
				val |= (u32)irq->priority << (8 * k);
		}
		*value = val;
		return true;
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		u32 first = (u32)(off - GICD_ICFGR) * 4;

		for (u32 i = 0; i < 16; i++) {
			const struct vgic_irq *irq = frame_irq(g, redist, vcpu, first + i);

			if (irq && (irq->flags & VGIC_F_EDGE))
				val |= 2u << (2 * i);
		}
		*value = val;
		return true;
	}
	return false;
}

static bool irqregs_write(struct vgic *g, bool redist, u32 vcpu, u64 off, u32 size, u64 value)
{
	static const enum bitreg banks[] = { BR_GROUP, BR_SENABLE, BR_CENABLE, BR_SPEND,
					     BR_CPEND, BR_SACTIVE, BR_CACTIVE };

	if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR) {
		u32 bank = (u32)(off - GICD_IGROUPR) / 0x80;
		u32 first = (u32)(off - GICD_IGROUPR - bank * 0x80) / 4 * 32;

		bitreg_write(g, redist, vcpu, first, banks[bank], (u32)value);
		return true;
	}
	if (off >= GICD_IPRIORITYR && off < GICD_ITARGETSR) {
		for (u32 k = 0; k < size; k++) {
			struct vgic_irq *irq =
				frame_irq(g, redist, vcpu, (u32)(off - GICD_IPRIORITYR) + k);
			struct vgic_snap before;

			if (!irq)
				continue;
			before = vgic_snap(g, irq);
			/* Unimplemented low-order priority bits are RAZ/WI ("Interrupt
			 * prioritization"): the guest finds VGIC_PRIO_BITS by writing 0xff. */
			irq->priority = (u8)(value >> (8 * k)) & VGIC_PRIO_MASK;
			vgic_changed(g, irq, &before);
		}
		return true;
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		u32 first = (u32)(off - GICD_ICFGR) * 4;

		for (u32 i = 0; i < 16; i++) {
			struct vgic_irq *irq = frame_irq(g, redist, vcpu, first + i);
			struct vgic_snap before;

			/* SGIs are always edge-triggered; whether a PPI's Int_config is writable is
			 * IMPLEMENTATION DEFINED, and ferry keeps PPIs level-sensitive because the
			 * timers are (as KVM does). Int_config[0] is RES0. */
			if (!irq || vgic_is_private(first + i))
				continue;
			before = vgic_snap(g, irq);
			if ((value >> (2 * i + 1)) & 1)
				irq->flags |= VGIC_F_EDGE;
			else
				irq->flags &= ~VGIC_F_EDGE;
			vgic_changed(g, irq, &before);
		}
		return true;
	}
	return false;
}

static u32 dist_typer(const struct vgic *g)
{
	/* ITLinesNumber: INTIDs up to 32 * (N + 1) - 1. IDbits 9: 10 bits of INTID (SPIs only, no
	 * LPIs: LPIS = MBIS = 0). No1N: SPIs go to the PE IROUTER names. SecurityExtn 0: DS = 1. */
	u32 typer = (g->nr_spis + VGIC_NR_PRIVATE) / 32 - 1;

	typer |= 9u << GICD_TYPER_IDBITS_SHIFT | GICD_TYPER_NO1N;
	/* With LPIs: LPIS, and IDbits 13 (14 INTID bits, the least IHI 0069 allows with LPIs). */
	if (g->lpis)
		typer = (typer & ~(0x1fu << GICD_TYPER_IDBITS_SHIFT)) | GICD_TYPER_LPIS |
			(VGIC_LPI_ID_BITS - 1) << GICD_TYPER_IDBITS_SHIFT;
	if (g->a3v)
		typer |= GICD_TYPER_A3V;
	if (g->rss)
		typer |= GICD_TYPER_RSS;
	return typer;
}

static u64 dist_read(struct vgic *g, u64 off, u32 size)
{
	u64 val = 0;

	switch (off) {
	case GICD_CTLR:
		return g->ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
	case GICD_TYPER:
		return dist_typer(g);
	case GICD_IIDR:
		return VGIC_IIDR;
	case GIC_PIDR2:
		return VGIC_PIDR2;
	default:
		break;
	}
	if (irqregs_read(g, false, 0, off, size, &val))
		return val;
	if (off >= GICD_IROUTER && off < GICD_IROUTER_END) {
		u32 intid = (u32)(off - GICD_IROUTER) / 8;

		if (intid < VGIC_NR_PRIVATE || intid - VGIC_NR_PRIVATE >= g->nr_spis)
			return 0;
		val = g->irouter[intid - VGIC_NR_PRIVATE] >> (8 * (off & 7));
		return size == 8 ? val : (u32)val;
	}
	return 0; /* TYPER2, STATUSR, SETSPI/CLRSPI, ITARGETSR, IGRPMODR, NSACR, SGIR... */
}

static void dist_write(struct vgic *g, u64 off, u32 size, u64 value)
{
	if (off == GICD_CTLR) {
		u32 ctlr = (u32)value & (GICD_CTLR_ENABLE_G0 | GICD_CTLR_ENABLE_G1);

		/* Enabling or disabling a group changes what every redistributor may forward.
		 * The write takes effect at once, so RWP always reads 0. */
		if (ctlr != g->ctlr) {
			g->ctlr = ctlr;
			vgic_kick_all(g);
		}
		return;
	}
	if (irqregs_write(g, false, 0, off, size, value))
		return;
	if (off >= GICD_IROUTER && off < GICD_IROUTER_END) {
		u32 intid = (u32)(off - GICD_IROUTER) / 8;
		struct vgic_irq *irq;
		struct vgic_snap before;
		u64 *r;

		if (intid < VGIC_NR_PRIVATE || intid - VGIC_NR_PRIVATE >= g->nr_spis)
			return;
		irq = &g->spi[intid - VGIC_NR_PRIVATE];
		r = &g->irouter[intid - VGIC_NR_PRIVATE];
		before = vgic_snap(g, irq);
		if (size == 8)
			*r = value;
		else if (off & 4)
			*r = (*r & 0xffffffffULL) | (value << 32);
		else
			*r = (*r & ~0xffffffffULL) | (u32)value;
		*r &= vgic_irouter_mask(g);
		irq->target = vgic_route_target(g, *r);
		vgic_changed(g, irq, &before);
	}
}

static u64 rd_read(struct vgic *g, u32 vcpu, u64 off, u32 size)
{
	const struct vgic_cpu *cpu = &g->cpu[vcpu];
	u64 typer;

	switch (off & ~7ULL) {
	case GICR_TYPER:
		/* Affinity, Processor_Number (the frame's index) and Last on the final frame:
		 * Linux walks the frames until Last and matches affinity against MPIDR_EL1. */
		typer = (u64)cpu->aff << 32 | (u64)vcpu << 8;
		if (vcpu == g->nr_vcpus - 1)
			typer |= GICR_TYPER_LAST;
		if (g->lpis)
			typer |= GICR_TYPER_PLPIS;
		typer >>= 8 * (off & 7);
		return size == 8 ? typer : (u32)typer;
	case GICR_PROPBASER:
	case GICR_PENDBASER:
		typer = (off & ~7ULL) == GICR_PROPBASER ? cpu->propbaser : cpu->pendbaser;
		typer >>= 8 * (off & 7);
		return size == 8 ? typer : (u32)typer;
	default:
		break;
	}
	switch (off) {
	case GICR_CTLR:
		return (cpu->lpis_enabled ? GICR_CTLR_ENABLE_LPIS : 0) |
		       (g->lpis ? GICR_CTLR_CES : 0);
	case GICR_IIDR:
		return VGIC_IIDR;
	case GICR_WAKER:
		/* ChildrenAsleep follows ProcessorSleep at once: no interface to quiesce. */
		return cpu->asleep ? GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP : 0;
	case GIC_PIDR2:
		return VGIC_PIDR2;
	default:
		return 0; /* STATUSR, SETLPIR, INVLPIR... (no DirectLPI); CTLR.RWP 0 */
	}
}

/* GICR_PROPBASER/PENDBASER: the fields ferry keeps (address, IDbits, cacheability and shareability
 * as written: they are hints to a cache ferry does not have). Written while LPIs are enabled they
 * are UNPREDICTABLE (IHI 0069): ignored. */

static void rd_write_base(struct vgic_cpu *cpu, u64 off, u32 size, u64 value)
{
	bool prop = (off & ~7ULL) == GICR_PROPBASER;
	u64 *r = prop ? &cpu->propbaser : &cpu->pendbaser;
	u64 v;

	if (cpu->lpis_enabled)
		return;
	if (size == 8)
		v = value;
	else if (off & 4)
		v = (*r & 0xffffffffULL) | (value << 32);
	else
		v = (*r & ~0xffffffffULL) | (u32)value;
	if (!prop && (size == 8 || (off & 4)))
		cpu->pend_ptz = v & GICR_PENDBASER_PTZ;
	*r = v & (prop ? PROPBASER_RW : PENDBASER_RW);
}

static void rd_write(struct vgic *g, u32 vcpu, u64 off, u32 size, u64 value)
{
	struct vgic_cpu *cpu = &g->cpu[vcpu];
	bool asleep;

	if (g->lpis && ((off & ~7ULL) == GICR_PROPBASER || (off & ~7ULL) == GICR_PENDBASER)) {
		rd_write_base(cpu, off, size, value);
		return;
	}
	/* EnableLPIs both ways, with CES set (IHI 0069 "GICR_CTLR": an implementation may instead make
	 * it RES1 once set; KVM and QEMU let it be cleared, and guests such as kvm-unit-tests clear
	 * it to reprogram the tables). Clearing completes within the write: RWP reads 0. */
	if (off == GICR_CTLR) {
		if (g->lpis && (value & GICR_CTLR_ENABLE_LPIS) && !cpu->lpis_enabled)
			vgic_lpi_enable(g, vcpu);
		else if (g->lpis && !(value & GICR_CTLR_ENABLE_LPIS) && cpu->lpis_enabled)
			vgic_lpi_disable(g, vcpu);
		return;
	}
	if (off != GICR_WAKER)
		return;
	asleep = value & GICR_WAKER_PROCESSOR_SLEEP;
	if (asleep != cpu->asleep) {
		cpu->asleep = asleep;
		vgic_kick(g, vcpu);
	}
}

/* Checks size and alignment; false means the access is RAZ/WI and reported. */
static bool size_ok(u64 off, u32 size, u32 allowed)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && (allowed & size) &&
	       (off & (size - 1)) == 0;
}

static int access(struct vgic *g, u64 ipa, u32 size, bool write, u64 *value)
{
	u64 off;
	u32 vcpu;

	if (ipa - g->gicd_base < VGIC_GICD_SIZE) {
		off = ipa - g->gicd_base;
		if (!size_ok(off, size, dist_sizes(off)))
			return FERRY_EINVAL;
		if (write)
			dist_write(g, off, size, *value);
		else
			*value = dist_read(g, off, size);
		return FERRY_OK;
	}
	if (ipa - g->gicr_base >= g->nr_vcpus * VGIC_GICR_STRIDE)
		return FERRY_ENOENT;
	vcpu = (u32)((ipa - g->gicr_base) / VGIC_GICR_STRIDE);
	off = (ipa - g->gicr_base) % VGIC_GICR_STRIDE;
	if (off < VGIC_GICR_SGI_OFFSET) {
		if (!size_ok(off, size, rd_sizes(off)))
			return FERRY_EINVAL;
		if (write)
			rd_write(g, vcpu, off, size, *value);
		else
			*value = rd_read(g, vcpu, off, size);
		return FERRY_OK;
	}
	off -= VGIC_GICR_SGI_OFFSET;
	if (!size_ok(off, size, sgi_sizes(off)))
		return FERRY_EINVAL;
	if (write)
		irqregs_write(g, true, vcpu, off, size, *value);
	else if (!irqregs_read(g, true, vcpu, off, size, value))
		*value = 0; /* IGRPMODR0 and NSACR (RAZ/WI with DS = 1), extended PPI ranges */
	return FERRY_OK;
}

int vgic_mmio_read(struct vgic *g, u64 ipa, u32 size, u64 *value)
{
	*value = 0;
	return access(g, ipa, size, false, value);
}

int vgic_mmio_write(struct vgic *g, u64 ipa, u32 size, u64 value)
{
	value = mmio_write_bytes(value, size);
	return access(g, ipa, size, true, &value);
}
