/* SPDX-License-Identifier: Apache-2.0 */
/* What the vectors call: interrupts are acknowledged, logged and ended here; synchronous exceptions
 * are either a probe's expected fault (skipped) or fatal. */
#include "conf.h"

struct irq_log irqlog[GUEST_MAX_CPUS];
volatile u64 fault_expected[GUEST_MAX_CPUS], fault_esr[GUEST_MAX_CPUS];
static u64 sgi_frame[GUEST_MAX_CPUS];

void conf_exception(u64 vector, struct frame *f);
bool debug_exception(u64 esr);

extern char conf_vectors[];

void conf_install_vectors(void)
{
	u32 cpu = (u32)cpu_index();

	sgi_frame[cpu] = gicr_sgi(cpu);
	SYSREG_WRITE("vbar_el1", (u64)(uintptr_t)conf_vectors);
	isb();
}

void irq_log_clear(u32 cpu)
{
	struct irq_log *l = &irqlog[cpu];

	for (u32 i = 0; i < 32; i++)
		l->count[i] = 0;
	l->spi_count = 0;
	l->last = 0;
	l->norder = 0;
	l->rpr_in = 0;
	l->active_in = 0;
	l->nested = 0;
	for (u32 i = 0; i < 16; i++)
		l->fiq_count[i] = 0;
	l->defer_dir = 0;
	l->deferred = 0;
	l->hook = NULL;
	__asm__ volatile("dmb ish" ::: "memory");
}

static void take_irq(u32 cpu)
{
	struct irq_log *l = &irqlog[cpu];
	u32 intid = (u32)(SYSREG_READ(ICC_IAR1) & 0xffffff);

	/* Acknowledge first (IHI 0069 "Interrupt handling"): the read makes the interrupt active and
	 * raises the running priority; 1020..1023 mean nothing was left to take (LPIs, from 8192,
	 * are interrupts like the others). */
	if (intid >= 1020 && intid <= 1023)
		return;
	if (l->depth++)
		l->nested++;
	l->rpr_in = SYSREG_READ(ICC_RPR);
	if (intid < 32 && sgi_frame[cpu]) {
		l->active_in = mmio_read32(sgi_frame[cpu] + GICR_ISACTIVER0);
		l->count[intid]++;
	} else {
		l->spi_count++;
	}
	if (l->norder < 8)
		l->order[l->norder++] = intid;
	l->last = intid;
	/* A timer's output is a level: silence it before the end of interrupt, or it fires again at
	 * once. The checks look at what the handler saw, not at the timer afterwards. */
	if (intid == INTID_VTIMER)
		SYSREG_WRITE("cntv_ctl_el0", 0);
	else if (intid == INTID_PTIMER)
		SYSREG_WRITE("cntp_ctl_el0", 0);
	else if (intid == INTID_PMU) {
		l->pmovs_in = SYSREG_READ("pmovsset_el0");
		SYSREG_WRITE("pmovsclr_el0", 0xffffffffULL); /* the overflow request is a level */
	} else if (intid == INTID_PL031)
		mmio_write32(PL031_BASE + 0x01c,
			     1); /* RTCICR: the match interrupt is a level too */
	isb();
	if (l->hook)
		l->hook(intid);
	SYSREG_WRITE(ICC_EOIR1, intid);
	if (l->defer_dir)
		l->deferred = intid; /* EOImode 1: the check deactivates it with ICC_DIR_EL1 */
	isb();
	l->depth--;
}

/* Group 0 is signalled as FIQ (one Security state, DS = 1): acknowledged and ended through the
 * Group 0 registers. */
static void take_fiq(u32 cpu)
{
	u32 intid = (u32)(SYSREG_READ(ICC_IAR0) & 0xffffff);

	if (intid >= 1020)
		return;
	if (intid < 16)
		irqlog[cpu].fiq_count[intid]++;
	SYSREG_WRITE(ICC_EOIR0, intid);
	isb();
}

void conf_exception(u64 vector, struct frame *f)
{
	u32 cpu = (u32)cpu_index() % GUEST_MAX_CPUS;
	u64 esr;

	switch (vector) {
	case 5: /* IRQ, current EL with SP_ELx */
		take_irq(cpu);
		return;
	case 6: /* FIQ */
		take_fiq(cpu);
		return;
	case 4: /* synchronous, current EL */
		esr = SYSREG_READ("esr_el1");
		if (debug_exception(esr))
			return;
		if (fault_expected[cpu]) {
			fault_expected[cpu] = 0;
			fault_esr[cpu] = esr;
			f->elr += 4;
			return;
		}
		break;
	default:
		break;
	}
	guest_exception(vector, SYSREG_READ("esr_el1"), SYSREG_READ("far_el1"), f->elr, f->spsr);
}

u64 probe_read32(u64 addr, u64 *esr)
{
	u32 cpu = (u32)cpu_index() % GUEST_MAX_CPUS;
	u64 v;

	fault_esr[cpu] = 0;
	fault_expected[cpu] = 1;
	/* One load instruction, so the handler's skip of 4 bytes lands after it; v keeps the
	 * poison value when it faults. */
	__asm__ volatile("mov %w0, #0xdead\n\tldr %w0, [%1]" : "=&r"(v) : "r"(addr) : "memory");
	fault_expected[cpu] = 0;
	*esr = fault_esr[cpu];
	return v;
}
