/* SPDX-License-Identifier: Apache-2.0 */
/* Bringing up the GICv3 the way a bare-metal program does (IHI 0069 "Power management" and
 * "Enabling the GIC"): affinity routing on, each redistributor woken, SGIs and PPIs in Group 1,
 * the CPU interface's system registers enabled, priority mask open. */
#include "conf.h"

static u64 rd_of[GUEST_MAX_CPUS];

static bool wait_clear32(u64 addr, u32 bits)
{
	u64 end = cnt_ticks() + ms_to_ticks(100);

	while (mmio_read32(addr) & bits)
		if (cnt_ticks() > end)
			return false;
	return true;
}

/* The redistributor whose GICR_TYPER affinity equals the vCPU's MPIDR affinity; frames follow each
 * other until one says Last (bit 4). */
u64 gicr_base(u32 cpu)
{
	u64 want, mpidr = mpidr_of[cpu];

	if (rd_of[cpu])
		return rd_of[cpu];
	want = (mpidr & 0xffffff) | ((mpidr >> 32) & 0xff) << 24;
	for (u32 i = 0; i < 64; i++) {
		u64 rd = GICR_BASE + i * GICR_STRIDE;
		u64 typer = mmio_read64(rd + GICR_TYPER);

		if ((typer >> 32) == want)
			return rd_of[cpu] = rd;
		if (typer & (1 << 4))
			break;
	}
	return 0;
}

u64 gicr_sgi(u32 cpu)
{
	u64 rd = gicr_base(cpu);

	return rd ? rd + GICR_SGI_OFF : 0;
}

int gic_init_dist(void)
{
	/* DS = 1 on both QEMU's GIC and ferry's: one security state, so ARE and both group enables
	 * are this program's to set. */
	mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_GRP1 | GICD_CTLR_GRP0);
	return wait_clear32(GICD_BASE + GICD_CTLR, GICD_CTLR_RWP) ? 0 : -1;
}

int gic_init_cpu(u32 cpu)
{
	u64 rd = gicr_base(cpu), sgi;

	if (!rd)
		return -1;
	sgi = rd + GICR_SGI_OFF;
	/* Wake: ProcessorSleep (bit 1) off, then ChildrenAsleep (bit 2) must clear. */
	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~2u);
	if (!wait_clear32(rd + GICR_WAKER, 4u))
		return -2;
	mmio_write32(sgi + GICR_ICENABLER0, 0xffffffff);
	mmio_write32(sgi + GICR_ICPENDR0, 0xffffffff);
	mmio_write32(sgi + GICR_ICACTIVER0, 0xffffffff);
	mmio_write32(sgi + GICR_IGROUPR0, 0xffffffff);
	for (u32 i = 0; i < 32; i += 4)
		mmio_write32(sgi + GICR_IPRIORITYR + i, 0x80808080);
	if (!wait_clear32(rd + GICR_CTLR, 1u << 3)) /* RWP */
		return -3;
	/* System-register interface (SRE) before any other ICC_ access. */
	SYSREG_WRITE(ICC_SRE, SYSREG_READ(ICC_SRE) | 1);
	isb();
	SYSREG_WRITE(ICC_PMR, 0xff);
	SYSREG_WRITE(ICC_BPR1, 0); /* raised to the implementation's minimum */
	SYSREG_WRITE(ICC_CTLR, 0); /* EOImode 0: EOIR drops priority and deactivates */
	SYSREG_WRITE(ICC_IGRPEN1, 1);
	isb();
	/* This vCPU's wake-up SGI (the secondaries' command doorbell) is always on. */
	gic_enable(cpu, SGI_WAKE, true);
	return 0;
}

void gic_set_prio(u32 cpu, u32 intid, u8 prio)
{
	mmio_write8(gicr_sgi(cpu) + GICR_IPRIORITYR + intid, prio);
}

void gic_enable(u32 cpu, u32 intid, bool on)
{
	mmio_write32(gicr_sgi(cpu) + (on ? GICR_ISENABLER0 : GICR_ICENABLER0), 1u << intid);
	__asm__ volatile("dsb sy" ::: "memory");
}

bool gic_pending(u32 cpu, u32 intid)
{
	return (mmio_read32(gicr_sgi(cpu) + GICR_ISPENDR0) >> intid) & 1;
}

bool gic_active(u32 cpu, u32 intid)
{
	return (mmio_read32(gicr_sgi(cpu) + GICR_ISACTIVER0) >> intid) & 1;
}

void gic_clear(u32 cpu, u32 intid)
{
	u64 sgi = gicr_sgi(cpu);

	mmio_write32(sgi + GICR_ICENABLER0, 1u << intid);
	mmio_write32(sgi + GICR_ICPENDR0, 1u << intid);
	mmio_write32(sgi + GICR_ICACTIVER0, 1u << intid);
	__asm__ volatile("dsb sy" ::: "memory");
}

/* ICC_SGI1R_EL1 (Arm ARM): TargetList [15:0] (Aff0 values 0..15 of the cluster Aff3.Aff2.Aff1),
 * Aff1 [23:16], INTID [27:24], Aff2 [39:32], IRM [40], RS [47:44], Aff3 [55:48]. */
u64 sgi1r_value(u32 sgi, u32 mask, bool irm)
{
	u64 me = mpidr_of[cpu_index()], list = 0;

	if (irm)
		return (u64)sgi << 24 | 1ULL << 40;
	for (u32 c = 0; c < plat.ncpus; c++)
		if (mask & (1u << c))
			list |= 1ULL << (mpidr_of[c] & 0xf);
	return list | ((me >> 8) & 0xff) << 16 | (u64)sgi << 24 | ((me >> 16) & 0xff) << 32 |
	       ((me >> 32) & 0xff) << 48;
}

void send_sgi(u64 v)
{
	__asm__ volatile("dsb ishst" ::: "memory");
	SYSREG_WRITE(ICC_SGI1R, v);
	isb();
}
