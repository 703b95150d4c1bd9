/* SPDX-License-Identifier: Apache-2.0 */
/* The GICv3 as IHI 0069 describes it to software at EL1: identification, SGIs through
 * ICC_SGI1R_EL1 (to self, a target list, all others with IRM = 1), the active state, EOImode 0 and
 * 1, the spurious INTID, the priority mask, running priority, preemption through the binary point,
 * group enables in the CPU interface and the distributor. SGIs 1..14 are the checks'; 15 wakes the
 * secondary vCPUs. */
#include "conf.h"

#define SETTLE_MS 20 /* how long "not delivered" is watched */

static void sgi_prep(u32 cpu, u32 sgi, u8 prio)
{
	gic_clear(cpu, sgi);
	gic_set_prio(cpu, sgi, prio);
	gic_enable(cpu, sgi, true);
}

static void check_ids(void)
{
	u32 pidr2 = mmio_read32(GICD_BASE + GICD_PIDR2), ctlr = mmio_read32(GICD_BASE + GICD_CTLR);
	u64 sre = SYSREG_READ(ICC_SRE);
	bool last_ok = true, frames = true;

	for (u32 c = 0; c < plat.ncpus; c++) {
		u64 rd = gicr_base(c);

		frames &= rd != 0;
		if (rd && c == plat.ncpus - 1)
			last_ok = (mmio_read64(rd + GICR_TYPER) >> 4) & 1;
	}
	report("gic.ids",
	       pass_if(((pidr2 >> 4) & 0xf) == 3 && (ctlr & GICD_CTLR_ARE) && (sre & 1) && frames),
	       "GICD_PIDR2 0x%x GICD_CTLR 0x%x ICC_SRE_EL1 0x%llx", pidr2, ctlr,
	       (unsigned long long)sre);
	report("gic.redist_frames", pass_if(frames && last_ok),
	       "one frame per vCPU by MPIDR, Last on the last: %d %d", frames, last_ok);
}

static void check_spurious(void)
{
	u64 hppir, iar;

	irq_mask();
	irq_log_clear(0);
	hppir = SYSREG_READ(ICC_HPPIR1) & 0xffffff;
	iar = SYSREG_READ(ICC_IAR1) & 0xffffff;
	report("gic.spurious_1023", pass_if(hppir == INTID_SPURIOUS && iar == INTID_SPURIOUS),
	       "HPPIR1 %llu IAR1 %llu with nothing pending", (unsigned long long)hppir,
	       (unsigned long long)iar);
}

static void check_sgi_self(void)
{
	volatile u32 *n = &irqlog[0].count[1];
	bool got;

	irq_log_clear(0);
	sgi_prep(0, 1, 0x80);
	irq_unmask();
	send_sgi(sgi1r_value(1, 1u << 0, false));
	got = wait_flag(n, WAIT_MS);
	delay_ms(5);
	irq_mask();
	report("sgi.self", pass_if(got && *n == 1), "taken %u times", *n);
}

static void check_sgi_list(void)
{
	bool got0 = true, got1;

	if (plat.ncpus < 2 || !cpu_up[1]) {
		report("sgi.target_list", V_SKIP, "needs 2 vCPUs");
		report("sgi.target_list_both", V_SKIP, "needs 2 vCPUs");
		report("sgi.irm_all_others", V_SKIP, "needs 2 vCPUs");
		return;
	}
	irq_log_clear(0);
	irq_log_clear(1);
	sgi_prep(0, 2, 0x80);
	sgi_prep(1, 2, 0x80);
	irq_unmask();
	send_sgi(sgi1r_value(2, 1u << 1, false));
	got1 = wait_flag(&irqlog[1].count[2], WAIT_MS);
	delay_ms(SETTLE_MS);
	report("sgi.target_list",
	       pass_if(got1 && irqlog[1].count[2] == 1 && irqlog[0].count[2] == 0),
	       "vcpu1 %u, vcpu0 %u", irqlog[1].count[2], irqlog[0].count[2]);

	sgi_prep(0, 3, 0x80);
	sgi_prep(1, 3, 0x80);
	send_sgi(sgi1r_value(3, 3u, false));
	got1 = wait_flag(&irqlog[1].count[3], WAIT_MS);
	got0 = wait_flag(&irqlog[0].count[3], WAIT_MS);
	report("sgi.target_list_both", pass_if(got0 && got1), "vcpu0 %u, vcpu1 %u",
	       irqlog[0].count[3], irqlog[1].count[3]);

	sgi_prep(0, 4, 0x80);
	sgi_prep(1, 4, 0x80);
	send_sgi(sgi1r_value(4, 0, true));
	got1 = wait_flag(&irqlog[1].count[4], WAIT_MS);
	delay_ms(SETTLE_MS);
	irq_mask();
	report("sgi.irm_all_others", pass_if(got1 && irqlog[0].count[4] == 0),
	       "vcpu1 %u, self %u (IRM = 1 excludes the sender)", irqlog[1].count[4],
	       irqlog[0].count[4]);
}

/* A disabled SGI stays pending; clearing the pending state drops it. */
static void check_sgi_disabled(void)
{
	volatile u32 *n = &irqlog[0].count[5];
	bool pend, cleared, got;

	irq_log_clear(0);
	sgi_prep(0, 5, 0x80);
	gic_enable(0, 5, false);
	irq_unmask();
	send_sgi(sgi1r_value(5, 1, false));
	delay_ms(SETTLE_MS);
	pend = gic_pending(0, 5);
	mmio_write32(gicr_sgi(0) + GICR_ICPENDR0, 1u << 5);
	cleared = !gic_pending(0, 5);
	gic_enable(0, 5, true);
	delay_ms(SETTLE_MS);
	bool none = *n == 0;

	send_sgi(sgi1r_value(5, 1, false));
	got = wait_flag(n, WAIT_MS);
	irq_mask();
	report("sgi.disabled_pending", pass_if(pend && cleared && none && got && *n == 1),
	       "pending %d, cleared %d, dropped %d, then taken %d", pend, cleared, none, got);
}

/* Active inside the handler (GICR_ISACTIVER0), inactive after EOImode 0's EOIR. */
static void check_active(void)
{
	volatile u32 *n = &irqlog[0].count[6];
	bool got, after;

	irq_log_clear(0);
	sgi_prep(0, 6, 0x80);
	irq_unmask();
	send_sgi(sgi1r_value(6, 1, false));
	got = wait_flag(n, WAIT_MS);
	irq_mask();
	after = gic_active(0, 6);
	report("gic.active_in_handler", pass_if(got && (irqlog[0].active_in >> 6 & 1) && !after),
	       "ISACTIVER0 in handler 0x%llx, active after EOI %d",
	       (unsigned long long)irqlog[0].active_in, after);
}

/* An active interrupt is not signalled again until it is deactivated (set active by
 * GICR_ISACTIVER0 here, as a migrated or restored state would be). */
static void check_active_blocks(void)
{
	volatile u32 *n = &irqlog[0].count[7];
	bool set, held, pend, got;

	irq_log_clear(0);
	sgi_prep(0, 7, 0x80);
	mmio_write32(gicr_sgi(0) + GICR_ISACTIVER0, 1u << 7);
	set = gic_active(0, 7);
	irq_unmask();
	send_sgi(sgi1r_value(7, 1, false));
	delay_ms(SETTLE_MS);
	held = *n == 0;
	pend = gic_pending(0, 7);
	mmio_write32(gicr_sgi(0) + GICR_ICACTIVER0, 1u << 7);
	got = wait_flag(n, WAIT_MS);
	irq_mask();
	report("gic.active_blocks", pass_if(set && held && pend && got && *n == 1),
	       "set active %d, held %d, pending %d, taken once deactivated %d", set, held, pend,
	       got);
}

/* EOImode 1: EOIR only drops the priority (running priority idle, still active); DIR deactivates,
 * and only then is a new instance taken. */
static void check_eoimode1(void)
{
	volatile u32 *n = &irqlog[0].count[8];
	bool got, active_after_eoi, held, inactive, again;
	u64 rpr;

	irq_log_clear(0);
	sgi_prep(0, 8, 0x80);
	SYSREG_WRITE(ICC_CTLR, SYSREG_READ(ICC_CTLR) | 2); /* EOImode */
	isb();
	irqlog[0].defer_dir = 1;
	irq_unmask();
	send_sgi(sgi1r_value(8, 1, false));
	got = wait_flag(n, WAIT_MS);
	rpr = SYSREG_READ(ICC_RPR) & 0xff;
	active_after_eoi = gic_active(0, 8);
	send_sgi(sgi1r_value(8, 1, false));
	delay_ms(SETTLE_MS);
	held = *n == 1;
	SYSREG_WRITE(ICC_DIR, 8);
	isb();
	{
		u64 end = cnt_ticks() + ms_to_ticks(WAIT_MS);

		while (*n < 2 && cnt_ticks() < end)
			;
	}
	again = *n == 2;
	irq_mask();
	if (again) /* the second instance was left active too */
		SYSREG_WRITE(ICC_DIR, 8);
	isb();
	inactive = !gic_active(0, 8);
	SYSREG_WRITE(ICC_CTLR, SYSREG_READ(ICC_CTLR) & ~2ULL);
	isb();
	irqlog[0].defer_dir = 0;
	gic_clear(0, 8);
	report("gic.eoimode1_dir",
	       pass_if(got && rpr == 0xff && active_after_eoi && held && inactive && again),
	       "after EOIR: RPR 0x%llx active %d, second held %d; after DIR: inactive %d, taken %u",
	       (unsigned long long)rpr, active_after_eoi, held, inactive, *n);
}

/* Priority mask: only priorities strictly higher (numerically lower) than ICC_PMR_EL1 are
 * signalled. */
static void check_pmr(void)
{
	volatile u32 *n9 = &irqlog[0].count[9];
	bool held_lower, held_equal, got;

	irq_log_clear(0);
	sgi_prep(0, 9, 0xa0);
	SYSREG_WRITE(ICC_PMR, 0x80);
	isb();
	irq_unmask();
	send_sgi(sgi1r_value(9, 1, false));
	delay_ms(SETTLE_MS);
	held_lower = *n9 == 0;
	gic_set_prio(0, 9, 0x80);
	delay_ms(SETTLE_MS);
	held_equal = *n9 == 0;
	SYSREG_WRITE(ICC_PMR, 0xff);
	isb();
	got = wait_flag(n9, WAIT_MS);
	irq_mask();
	report("gic.priority_mask", pass_if(held_lower && held_equal && got),
	       "0xa0 under PMR 0x80 held %d, 0x80 held %d, taken at PMR 0xff %d", held_lower,
	       held_equal, got);
}

static void check_rpr(void)
{
	volatile u32 *n = &irqlog[0].count[10];
	bool got;
	u64 idle;

	irq_log_clear(0);
	sgi_prep(0, 10, 0x40);
	irq_unmask();
	send_sgi(sgi1r_value(10, 1, false));
	got = wait_flag(n, WAIT_MS);
	irq_mask();
	idle = SYSREG_READ(ICC_RPR) & 0xff;
	report("gic.running_priority",
	       pass_if(got && (irqlog[0].rpr_in & 0xff) == 0x40 && idle == 0xff),
	       "RPR in handler 0x%llx, idle 0x%llx", (unsigned long long)irqlog[0].rpr_in,
	       (unsigned long long)idle);
}

/* Preemption: inside the handler of a low-priority SGI 11, a higher-priority SGI 12 is sent to
 * self with IRQs unmasked. It preempts only if its group priority (the bits above the binary point)
 * is higher. */
static void preempt_hook(u32 intid)
{
	if (intid != 11)
		return;
	send_sgi(sgi1r_value(12, 1, false));
	irq_unmask();
	delay_ms(SETTLE_MS);
	irq_mask();
}

static void check_preempt(const char *name, u64 bpr, u8 low, u8 high, bool expect_nested)
{
	bool got;
	u32 nested, first;

	irq_log_clear(0);
	sgi_prep(0, 11, low);
	sgi_prep(0, 12, high);
	SYSREG_WRITE(ICC_BPR1, bpr);
	isb();
	irqlog[0].hook = preempt_hook;
	irq_unmask();
	send_sgi(sgi1r_value(11, 1, false));
	got = wait_flag(&irqlog[0].count[12], WAIT_MS);
	irq_mask();
	nested = irqlog[0].nested;
	first = irqlog[0].order[0];
	irqlog[0].hook = NULL;
	SYSREG_WRITE(ICC_BPR1, 0);
	isb();
	report(name,
	       pass_if(got && first == 11 && irqlog[0].count[11] == 1 &&
		       (nested == 1) == expect_nested),
	       "BPR1 %llu, prio 0x%x then 0x%x: nested %u", (unsigned long long)bpr, low, high,
	       nested);
}

/* With IRQs masked, three SGIs pend; unmasking takes them highest priority first. */
static void check_order(void)
{
	static const u8 prio[3] = { 0xa0, 0x20, 0x60 };

	irq_log_clear(0);
	for (u32 i = 0; i < 3; i++)
		sgi_prep(0, 1 + i, prio[i]);
	for (u32 i = 0; i < 3; i++)
		send_sgi(sgi1r_value(1 + i, 1, false));
	delay_ms(5);
	irq_unmask();
	wait_flag(&irqlog[0].count[1], WAIT_MS);
	irq_mask();
	report("gic.priority_order",
	       pass_if(irqlog[0].norder == 3 && irqlog[0].order[0] == 2 &&
		       irqlog[0].order[1] == 3 && irqlog[0].order[2] == 1),
	       "taken %u: %u %u %u", irqlog[0].norder, irqlog[0].order[0], irqlog[0].order[1],
	       irqlog[0].order[2]);
	for (u32 i = 0; i < 3; i++)
		gic_set_prio(0, 1 + i, 0x80);
}

static void check_group_enables(void)
{
	volatile u32 *n = &irqlog[0].count[13];
	bool held, got;

	irq_log_clear(0);
	sgi_prep(0, 13, 0x80);
	SYSREG_WRITE(ICC_IGRPEN1, 0);
	isb();
	irq_unmask();
	send_sgi(sgi1r_value(13, 1, false));
	delay_ms(SETTLE_MS);
	held = *n == 0 && gic_pending(0, 13);
	SYSREG_WRITE(ICC_IGRPEN1, 1);
	isb();
	got = wait_flag(n, WAIT_MS);
	irq_mask();
	report("gic.group1_cpu_enable", pass_if(held && got),
	       "held while ICC_IGRPEN1_EL1 = 0 %d, "
	       "taken once set %d",
	       held, got);

	irq_log_clear(0);
	n = &irqlog[0].count[14];
	sgi_prep(0, 14, 0x80);
	mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_GRP0);
	delay_ms(1);
	irq_unmask();
	send_sgi(sgi1r_value(14, 1, false));
	delay_ms(SETTLE_MS);
	held = *n == 0;
	mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_GRP1 | GICD_CTLR_GRP0);
	got = wait_flag(n, WAIT_MS);
	irq_mask();
	report("gic.group1_dist_enable", pass_if(held && got),
	       "held while GICD_CTLR.EnableGrp1 = 0 "
	       "%d, taken once set %d",
	       held, got);
}

/* GICR_WAKER.ProcessorSleep set again: QEMU's GIC (and KVM's vGIC) still deliver to the CPU
 * interface, and programs started at EL1 without firmware, which never clear it, rely on that. */
static void check_asleep(void)
{
	volatile u32 *n = &irqlog[0].count[1];
	u64 rd = gicr_base(0);
	bool got;

	irq_log_clear(0);
	sgi_prep(0, 1, 0x80);
	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) | 2u);
	irq_unmask();
	send_sgi(sgi1r_value(1, 1u << 0, false));
	got = wait_flag(n, WAIT_MS);
	irq_mask();
	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~2u);
	while (mmio_read32(rd + GICR_WAKER) & 4u)
		;
	report("gic.redist_asleep_delivers", pass_if(got), "SGI taken with ProcessorSleep = 1: %d",
	       got);
}

/* Group 0: an SGI in Group 0 (GICR_IGROUPR0 bit clear) is an FIQ, sent by ICC_SGI0R_EL1, enabled
 * by ICC_IGRPEN0_EL1 and GICD_CTLR.EnableGrp0, acknowledged by ICC_IAR0_EL1; ICC_IAR1_EL1 does not
 * see it. */
static void check_group0(void)
{
	volatile u32 *n = &irqlog[0].fiq_count[12];
	u64 sgi = gicr_sgi(0), iar1;
	bool held, got, not_irq;

	irq_log_clear(0);
	gic_clear(0, 12);
	gic_set_prio(0, 12, 0x80);
	mmio_write32(sgi + GICR_IGROUPR0, mmio_read32(sgi + GICR_IGROUPR0) & ~(1u << 12));
	gic_enable(0, 12, true);
	SYSREG_WRITE(ICC_IGRPEN0, 0);
	isb();
	__asm__ volatile("msr daifclr, #1; isb" ::: "memory");
	SYSREG_WRITE(ICC_SGI0R, sgi1r_value(12, 1, false));
	isb();
	delay_ms(SETTLE_MS);
	held = *n == 0 && gic_pending(0, 12);
	iar1 = SYSREG_READ(ICC_HPPIR1) & 0xffffff;
	not_irq = iar1 == INTID_SPURIOUS && irqlog[0].count[12] == 0;
	SYSREG_WRITE(ICC_IGRPEN0, 1);
	isb();
	got = wait_flag(n, WAIT_MS);
	__asm__ volatile("msr daifset, #1" ::: "memory");
	SYSREG_WRITE(ICC_IGRPEN0, 0);
	isb();
	gic_clear(0, 12);
	mmio_write32(sgi + GICR_IGROUPR0, mmio_read32(sgi + GICR_IGROUPR0) | (1u << 12));
	report("gic.group0_fiq", pass_if(held && not_irq && got && *n == 1),
	       "held while ICC_IGRPEN0_EL1 = 0 %d, HPPIR1 %llu, taken as FIQ %u", held,
	       (unsigned long long)iar1, *n);
}

void check_gic(void)
{
	check_ids();
	check_spurious();
}

void check_sgis(void)
{
	check_sgi_self();
	check_asleep();
	check_sgi_list();
	check_sgi_disabled();
	check_active();
	check_active_blocks();
	check_eoimode1();
	check_pmr();
	check_rpr();
	check_preempt("gic.preempt_bpr_min", 0, 0xa0, 0x20, true);
	check_preempt("gic.no_preempt_same_group", 7, 0x60, 0x20, false);
	check_order();
	check_group_enables();
	check_group0();
}
