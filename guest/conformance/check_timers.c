/* SPDX-License-Identifier: Apache-2.0 */
/* The generic timer's EL1 views (Arm ARM "The Generic Timer in AArch64 state"): the virtual timer
 * (CNTV_*, PPI 27) and the EL1 physical timer (CNTP_*, PPI 30). A timer's output is asserted while
 * ENABLE = 1, ISTATUS = 1 (the count has reached CVAL) and IMASK = 0, and reaches the GIC as a
 * level-sensitive PPI. TVAL writes set CVAL = count + TVAL. Each check arms one timer and waits for
 * its interrupt in the way a bare-metal program does: spinning with IRQs unmasked, or in WFI. */
#include "conf.h"

#define CTL_ENABLE 1u
#define CTL_IMASK 2u
#define CTL_ISTATUS 4u

struct timer {
	const char *name;
	u32 intid;
};
static const struct timer vt = { "vtimer", INTID_VTIMER }, pt = { "ptimer", INTID_PTIMER };

static void t_ctl(const struct timer *t, u64 v)
{
	if (t->intid == INTID_VTIMER)
		SYSREG_WRITE("cntv_ctl_el0", v);
	else
		SYSREG_WRITE("cntp_ctl_el0", v);
	isb();
}

static u64 t_ctl_read(const struct timer *t)
{
	return t->intid == INTID_VTIMER ? SYSREG_READ("cntv_ctl_el0") : SYSREG_READ("cntp_ctl_el0");
}

static u64 t_count(const struct timer *t)
{
	isb();
	return t->intid == INTID_VTIMER ? SYSREG_READ("cntvct_el0") : SYSREG_READ("cntpct_el0");
}

static void t_cval(const struct timer *t, u64 v)
{
	if (t->intid == INTID_VTIMER)
		SYSREG_WRITE("cntv_cval_el0", v);
	else
		SYSREG_WRITE("cntp_cval_el0", v);
}

static void t_tval(const struct timer *t, u64 v)
{
	if (t->intid == INTID_VTIMER)
		SYSREG_WRITE("cntv_tval_el0", v);
	else
		SYSREG_WRITE("cntp_tval_el0", v);
}

/* Arms t to fire in `ms` through CVAL or TVAL, with ENABLE and the given IMASK. */
static void t_arm(const struct timer *t, bool tval, u64 ms, bool imask)
{
	t_ctl(t, 0);
	if (tval)
		t_tval(t, ms_to_ticks(ms));
	else
		t_cval(t, t_count(t) + ms_to_ticks(ms));
	t_ctl(t, CTL_ENABLE | (imask ? CTL_IMASK : 0));
}

static void t_setup(const struct timer *t)
{
	t_ctl(t, 0);
	irq_log_clear(0);
	gic_clear(0, t->intid);
	gic_set_prio(0, t->intid, 0x80);
	gic_enable(0, t->intid, true);
}

static void t_done(const struct timer *t)
{
	irq_mask();
	t_ctl(t, 0);
	gic_clear(0, t->intid);
}

/* Busy loop with IRQs unmasked: no WFI, no register access that a hypervisor would trap. */
static void check_busy(const struct timer *t, bool tval)
{
	char name[48];
	volatile u32 *n = &irqlog[0].count[t->intid];
	u64 t0;
	bool got;

	snprintf(name, sizeof(name), "%s.%s.busy", t->name, tval ? "tval" : "cval");
	t_setup(t);
	irq_unmask();
	t0 = cnt_ticks();
	t_arm(t, tval, 2, false);
	got = wait_flag(n, 1000);
	/* Inside the handler the PPI is active at the redistributor (GICR_ISACTIVER0), and after
	 * the end of interrupt (the handler has returned: it ran on this CPU) it is neither active
	 * nor, with the timer disabled by the handler, pending. */
	bool act_in = (irqlog[0].active_in >> t->intid) & 1;
	bool idle = !gic_active(0, t->intid) && !gic_pending(0, t->intid);

	t_done(t);

	report(name, pass_if(got && *n == 1 && act_in && idle),
	       "taken %u times, after %llu us; active in handler %d, idle after %d", *n,
	       (unsigned long long)((cnt_ticks() - t0) * 1000000 / cnt_freq()), act_in, idle);
}

/* WFI until the interrupt; the other timer is a watchdog (at 1 s) so that a lost interrupt gives a
 * FAIL rather than a hang. */
static void check_wfi(const struct timer *t, bool tval)
{
	const struct timer *wd = t == &vt ? &pt : &vt;
	char name[48];
	volatile u32 *n = &irqlog[0].count[t->intid];
	bool got;

	snprintf(name, sizeof(name), "%s.%s.wfi", t->name, tval ? "tval" : "cval");
	t_setup(t);
	gic_clear(0, wd->intid);
	gic_set_prio(0, wd->intid, 0x80);
	gic_enable(0, wd->intid, true);
	t_arm(wd, false, 1000, false);
	irq_unmask();
	t_arm(t, tval, 5, false);
	got = wfi_flag(n, 2000);
	t_done(t);
	t_done(wd);
	report(name, pass_if(got && *n == 1 && irqlog[0].count[wd->intid] == 0),
	       "taken %u times, watchdog %u", *n, irqlog[0].count[wd->intid]);
}

/* IMASK: the condition is met (ISTATUS = 1) but the output stays low; clearing IMASK asserts it. */
static void check_imask(const struct timer *t)
{
	char name[48];
	volatile u32 *n = &irqlog[0].count[t->intid];
	bool quiet, istatus, pend, got;

	snprintf(name, sizeof(name), "%s.imask", t->name);
	t_setup(t);
	irq_unmask();
	t_arm(t, false, 0, true);
	delay_ms(20);
	quiet = *n == 0;
	istatus = (t_ctl_read(t) & CTL_ISTATUS) != 0;
	pend = gic_pending(0, t->intid);
	t_ctl(t, CTL_ENABLE);
	got = wait_flag(n, WAIT_MS);
	t_done(t);
	report(name, pass_if(quiet && istatus && !pend && got),
	       "masked: taken %d ISTATUS %d pending %d; unmasked: taken %d", !quiet, istatus, pend,
	       got);
}

/* PSTATE.I set: the interrupt is pending at the CPU (ISR_EL1.I, ICC_HPPIR1_EL1 names it) and is
 * taken as soon as IRQs are unmasked. */
static void check_pstate_masked(const struct timer *t)
{
	char name[48];
	volatile u32 *n = &irqlog[0].count[t->intid];
	u64 end, isr = 0, hppir = 0;
	bool got;

	snprintf(name, sizeof(name), "%s.daif_masked", t->name);
	t_setup(t);
	irq_mask();
	t_arm(t, true, 2, false);
	end = cnt_ticks() + ms_to_ticks(1000);
	while (!((isr = SYSREG_READ("isr_el1")) & (1 << 7)) && cnt_ticks() < end)
		;
	hppir = SYSREG_READ(ICC_HPPIR1) & 0xffffff;
	bool none_yet = *n == 0;

	irq_unmask();
	got = wait_flag(n, WAIT_MS);
	t_done(t);
	report(name, pass_if(none_yet && (isr & (1 << 7)) && hppir == t->intid && got),
	       "ISR_EL1 0x%llx HPPIR1 %llu, taken after unmask %d", (unsigned long long)isr,
	       (unsigned long long)hppir, got);
}

/* The PPI disabled at the redistributor: the line shows as pending, nothing is taken; enabling it
 * delivers it. */
static void check_gic_disabled(const struct timer *t)
{
	char name[48];
	volatile u32 *n = &irqlog[0].count[t->intid];
	bool quiet, pend, got;

	snprintf(name, sizeof(name), "%s.ppi_disabled", t->name);
	t_setup(t);
	gic_enable(0, t->intid, false);
	irq_unmask();
	t_arm(t, true, 1, false);
	delay_ms(20);
	quiet = *n == 0;
	pend = gic_pending(0, t->intid);
	gic_enable(0, t->intid, true);
	got = wait_flag(n, WAIT_MS);
	t_done(t);
	report(name, pass_if(quiet && pend && got),
	       "disabled: taken %d pending %d; enabled: taken %d", !quiet, pend, got);
}

/* The PPI's pending state follows the timer's output: set while it is asserted (IRQs masked, so
 * it is not taken), clear as soon as the timer is disabled or masked, set again when re-enabled. */
static void check_pending_follows(const struct timer *t)
{
	char name[48];
	u64 end;
	bool fired, p_on, p_off, p_again, p_imask;

	snprintf(name, sizeof(name), "%s.pending_follows_output", t->name);
	t_setup(t);
	irq_mask();
	t_arm(t, true, 1, false);
	end = cnt_ticks() + ms_to_ticks(WAIT_MS);
	while (!(t_ctl_read(t) & CTL_ISTATUS) && cnt_ticks() < end)
		;
	fired = (t_ctl_read(t) & CTL_ISTATUS) != 0;
	p_on = gic_pending(0, t->intid);
	t_ctl(t, 0);
	p_off = gic_pending(0, t->intid);
	t_ctl(t, CTL_ENABLE);
	p_again = gic_pending(0, t->intid);
	t_ctl(t, CTL_ENABLE | CTL_IMASK);
	p_imask = gic_pending(0, t->intid);
	t_done(t);
	report(name, pass_if(fired && p_on && !p_off && p_again && !p_imask),
	       "pending: asserted %d, disabled %d, re-enabled %d, IMASK %d", p_on, p_off, p_again,
	       p_imask);
}

/* Ten back-to-back periods: each interrupt must be deactivated before the next can be taken. */
static void check_rearm(const struct timer *t)
{
	char name[48];
	volatile u32 *n = &irqlog[0].count[t->intid];
	u32 i;

	snprintf(name, sizeof(name), "%s.rearm", t->name);
	t_setup(t);
	irq_unmask();
	for (i = 0; i < 10; i++) {
		u64 end = cnt_ticks() + ms_to_ticks(WAIT_MS);

		t_arm(t, true, 1, false);
		while (*n < i + 1 && cnt_ticks() < end)
			;
		if (*n != i + 1)
			break;
	}
	t_done(t);
	report(name, pass_if(i == 10), "%u of 10 periods taken", *n);
}

/* CVAL in the past fires at once; TVAL reads back CVAL - count (signed, counting down). */
static void check_regs(const struct timer *t)
{
	char name[48];
	u64 tv;
	s64 tval;

	snprintf(name, sizeof(name), "%s.tval_reads", t->name);
	t_ctl(t, 0);
	t_cval(t, t_count(t) + ms_to_ticks(100));
	isb();
	tv = t->intid == INTID_VTIMER ? SYSREG_READ("cntv_tval_el0") : SYSREG_READ("cntp_tval_el0");
	tval = (int32_t)(u32)tv;
	report(name, pass_if(tval > 0 && (u64)tval <= ms_to_ticks(100)),
	       "TVAL %lld for 100 ms ahead", (long long)tval);
}

void check_timers(void)
{
	const struct timer *ts[2] = { &vt, &pt };

	for (int i = 0; i < 2; i++) {
		const struct timer *t = ts[i];

		check_regs(t);
		check_busy(t, true);
		check_busy(t, false);
		check_wfi(t, true);
		check_wfi(t, false);
		check_imask(t);
		check_pstate_masked(t);
		check_gic_disabled(t);
		check_pending_follows(t);
		check_rearm(t);
	}
}
