/* SPDX-License-Identifier: Apache-2.0 */
/* The physical GICv3, as far as ferry needs it: one SGI (SGI_KICK) that pulls a CPU out of its guest
 * (HCR_EL2.IMO=1 routes physical IRQs to EL2) when another CPU asks it to stop, pause or look at its
 * virtual interrupts; the vGIC's maintenance PPI; and the guest timers' PPIs, which EL2 acknowledges
 * but leaves active for the guest to deactivate through a list register with HW = 1 (docs/vgic.md).
 * That split needs ICC_CTLR_EL1.EOImode = 1 at EL2: ICC_EOIR1_EL1 only drops the priority, and
 * ICC_DIR_EL1 deactivates. QEMU virt with virtualization=on and secure=off has a GIC with a single
 * security state (GICD_CTLR.DS=1). */
#include "drivers/gicv3.h"

#include "arch/aarch64/asm.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/sysreg.h"
#include "lib/check.h"

#define GICD_CTLR 0x0
#define GICD_CTLR_RWP BIT(31)
#define GICD_CTLR_ARE BIT(4)
#define GICD_CTLR_ENABLE_G1 BIT(1)

#define GICR_WAKER 0x14
#define GICR_TYPER 0x8
#define WAKER_PROCESSOR_SLEEP BIT(1)
#define WAKER_CHILDREN_ASLEEP BIT(2)
#define TYPER_LAST BIT(4)
#define GICR_SGI_BASE 0x10000
#define GICR_IGROUPR0 0x80
#define GICR_ISENABLER0 0x100
#define GICR_IPRIORITYR 0x400
#define ICC_CTLR_EOIMODE BIT(1)

/* The guest timers' PPIs this CPU acknowledged and left active (bit per INTID), until
 * gic_deactivate(). */
static u32 held[MAX_CPUS];
/* The machine's GIC, from gic_init_dist(): frames' addresses and each CPU's MPIDR. */
static u64 gicd_pa, gicr_pa, gicr_stride;
static const u64 *cpu_mpidr;

/* The guest's own PPIs (its timers, its PMU's overflow): held active for a list register with HW = 1. */
static bool is_guest_timer_ppi(u32 intid)
{
	return intid == GIC_PPI_VTIMER || intid == GIC_PPI_PTIMER || intid == GIC_PPI_PMU;
}

static volatile u32 *reg32(u64 base, u64 off) { return (volatile u32 *)(uintptr_t)(base + off); }

void gic_init_dist(u64 gicd, u64 gicr, u64 stride, const u64 *mpidr)
{
	u64 d = gicd;

	gicd_pa = gicd;
	gicr_pa = gicr;
	gicr_stride = stride;
	cpu_mpidr = mpidr;

	*reg32(d, GICD_CTLR) = 0;
	while (*reg32(d, GICD_CTLR) & GICD_CTLR_RWP)
		;
	*reg32(d, GICD_CTLR) = GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1;
	while (*reg32(d, GICD_CTLR) & GICD_CTLR_RWP)
		;
}

/* Each CPU's redistributor is the frame whose GICR_TYPER affinity equals its MPIDR's. */
static u64 find_redist(u64 mpidr)
{
	u64 aff = ((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff);

	for (u64 rd = gicr_pa;; rd += gicr_stride) {
		u64 typer = *(volatile u64 *)(uintptr_t)(rd + GICR_TYPER);

		if ((typer >> 32) == aff)
			return rd;
		if (typer & TYPER_LAST)
			return 0;
	}
}

void gic_init_cpu(u32 cpu)
{
	u64 rd = find_redist(cpu_mpidr[cpu]);

	if (!rd)
		panic("no GICv3 redistributor for CPU %u", cpu);
	*reg32(rd, GICR_WAKER) &= ~(u32)WAKER_PROCESSOR_SLEEP;
	while (*reg32(rd, GICR_WAKER) & WAKER_CHILDREN_ASLEEP)
		;
	*(volatile u8 *)(uintptr_t)(rd + GICR_SGI_BASE + GICR_IPRIORITYR + SGI_KICK) = 0x80;
	*reg32(rd, GICR_SGI_BASE + GICR_IGROUPR0) |= BIT(SGI_KICK);
	*reg32(rd, GICR_SGI_BASE + GICR_ISENABLER0) = BIT(SGI_KICK);

	sysreg_write(icc_sre_el2,
		     0xf); /* SRE, DFB, DIB, and let EL1 use the system-register interface */
	isb();
	sysreg_write(icc_pmr_el1, 0xff);
	sysreg_write(icc_ctlr_el1, sysreg_read(icc_ctlr_el1) | ICC_CTLR_EOIMODE);
	sysreg_write(icc_igrpen1_el1, 1);
	isb();
}

void gic_send_sgi(u32 cpu, u32 intid)
{
	u64 m = cpu_mpidr[cpu];
	u64 v = ((m >> 32) & 0xff) << 48 | ((m >> 16) & 0xff) << 32 | ((m >> 8) & 0xff) << 16 |
		(u64)intid << 24 | BIT(m & 0xf);

	dsb(ishst);
	sysreg_write(icc_sgi1r_el1, v);
	isb();
}

u32 gic_ack(void) { return (u32)sysreg_read(icc_iar1_el1) & 0xffffff; }

void gic_eoi(u32 intid)
{
	sysreg_write(icc_eoir1_el1, intid);
	sysreg_write(icc_dir_el1, intid);
}

void gic_hold(u32 intid)
{
	sysreg_write(icc_eoir1_el1, intid);
	held[cpu_index()] |= BIT(intid);
}

bool gic_held(u32 intid) { return held[cpu_index()] & BIT(intid); }

void gic_deactivate(u32 intid)
{
	held[cpu_index()] &= ~(u32)BIT(intid);
	sysreg_write(icc_dir_el1, intid);
}

void gic_complete(u32 intid)
{
	if (is_guest_timer_ppi(intid))
		gic_hold(intid);
	else
		gic_eoi(intid);
}

#define GICD_IGROUPR 0x80
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ICPENDR 0x280
#define GICD_ICACTIVER 0x380
#define GICD_IPRIORITYR 0x400
#define GICD_ICFGR 0xc00
#define GICD_IROUTER 0x6000

/* A passthrough SPI (core/passthrough.c): its priority dropped at EL2, its deactivation left to
 * the guest's list register with HW = 1, or to gic_spi_deactivate(). */
void gic_priority_drop(u32 intid) { sysreg_write(icc_eoir1_el1, intid); }
void gic_spi_deactivate(u32 intid) { sysreg_write(icc_dir_el1, intid); }

/* A passthrough SPI as a VM (re)starts: neither pending nor active, with the device's trigger. */
void gic_spi_reset(u32 intid, bool edge)
{
	u64 d = gicd_pa;
	volatile u32 *cfg = reg32(d, GICD_ICFGR + 4 * (intid / 16));
	u32 bit = 2u << (2 * (intid % 16));

	/* Disabled first: changing the trigger of an enabled interrupt is unpredictable (IHI 0069
	 * "GICD_ICFGR<n>"); gic_enable_irq() enables it again. */
	*reg32(d, GICD_ICENABLER + 4 * (intid / 32)) = (u32)BIT(intid % 32);
	while (*reg32(d, GICD_CTLR) & GICD_CTLR_RWP)
		;
	*reg32(d, GICD_ICACTIVER + 4 * (intid / 32)) = (u32)BIT(intid % 32);
	*reg32(d, GICD_ICPENDR + 4 * (intid / 32)) = (u32)BIT(intid % 32);
	*cfg = edge ? (*cfg | bit) : (*cfg & ~bit);
}

/* Enables one interrupt as group 1 for this CPU: a PPI in its redistributor, an SPI in the
 * distributor routed to it. ferry keeps PSTATE.I masked at EL2 and uses these only to wake WFI. */
void gic_enable_irq(u32 cpu, u32 intid)
{
	if (intid < 32) {
		u64 rd = find_redist(cpu_mpidr[cpu]);

		*(volatile u8 *)(uintptr_t)(rd + GICR_SGI_BASE + GICR_IPRIORITYR + intid) = 0x80;
		*reg32(rd, GICR_SGI_BASE + GICR_IGROUPR0) |= BIT(intid);
		*reg32(rd, GICR_SGI_BASE + GICR_ISENABLER0) = (u32)BIT(intid);
		return;
	}
	u64 d = gicd_pa;
	u64 m = cpu_mpidr[cpu];

	*(volatile u64 *)(uintptr_t)(d + GICD_IROUTER + 8 * intid) = m & 0xff00ffffffULL;
	*(volatile u8 *)(uintptr_t)(d + GICD_IPRIORITYR + intid) = 0x80;
	*reg32(d, GICD_IGROUPR + 4 * (intid / 32)) |= (u32)BIT(intid % 32);
	*reg32(d, GICD_ISENABLER + 4 * (intid / 32)) = (u32)BIT(intid % 32);
}

/* Acknowledges and ends what is pending, a bounded number of times: a level-triggered source that is
 * still asserted (a UART with bytes waiting) would otherwise be acknowledged forever. Its owner
 * services it after the next WFI, which such a source ends at once. A guest timer's PPI is only
 * held (gic_complete): it stays masked until its vCPU runs and takes it. */
void gic_drain(void)
{
	u32 irq;

	for (int i = 0; i < 8 && (irq = gic_ack()) < 1020; i++)
		gic_complete(irq);
}
