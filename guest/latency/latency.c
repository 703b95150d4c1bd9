/* SPDX-License-Identifier: Apache-2.0 */
/* latency: a bare-metal EL1 guest that measures timer interrupt latency (docs/interference.md). It
 * arms the EL1 virtual timer (PPI 27) and/or the EL1 physical timer (PPI 30) for a deadline
 * `period` microseconds ahead, `samples` times per case, and takes each interrupt with IRQs
 * unmasked, spinning in a busy loop or sleeping in WFI. The latency of one sample is the count its
 * IRQ vector read as its first instructions (vectors.S) minus the CVAL it armed, in counter ticks:
 * the time from the deadline to the guest's handler, whatever lies between (QEMU's timer, ferry's
 * exit, its vGIC and list registers, the re-entry). Per case it prints a histogram and the
 * percentiles on parseable lines, then one verdict: PASS when every interrupt was taken (within
 * `timeout` ms of its deadline; a case ends at its third lost one) and none took longer than
 * `bound` microseconds (when set).
 *
 * The same image is the load beside it (role=hammer: the whole guest runs `hammer`), and directly
 * under QEMU its second vCPU runs the hammer while the first measures: the same load without a
 * hypervisor, which tells the emulator's interference from ferry's.
 *
 * Bootargs: samples=N (per case, default 1000, at most 16384), period=US (default 1000),
 * timeout=MS (default 1000), bound=US (default 0: none), timer=v|p|vp (default v), wait=busy|wfi|both
 * (default both), delay=MS before the first case (default 0), role=measure|hammer (default measure),
 * hammer=none|mem|console|exits (default none), mib=N (the memory hammer's span, default 32). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define GICD 0x08000000ULL
#define GICR 0x080a0000ULL
#define GICR_STRIDE 0x20000ULL
#define GICR_SGI 0x10000ULL
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_IPRIORITYR 0x0400
#define INTID_VTIMER 27
#define INTID_PTIMER 30
#define MAX_SAMPLES 16384
#define CTL_ENABLE 1ULL

#define ICC_IAR1 "S3_0_C12_C12_0"
#define ICC_EOIR1 "S3_0_C12_C12_1"
#define ICC_SRE "S3_0_C12_C12_5"
#define ICC_IGRPEN1 "S3_0_C12_C12_7"
#define ICC_PMR "S3_0_C4_C6_0"

enum hammer {
	HAMMER_NONE,
	HAMMER_MEM,
	HAMMER_CONSOLE,
	HAMMER_EXITS
};
static const char *const hammer_names[] = { "none", "mem", "console", "exits", NULL };
static const char *const role_names[] = { "measure", "hammer", NULL };
static const char *const timer_names[] = { "v", "p", "vp", NULL };
static const char *const wait_names[] = { "busy", "wfi", "both", NULL };

static struct {
	u64 samples, period_us, timeout_ms, bound_us, delay_ms, mib;
	int hammer, role, timers, waits;
} cfg = { 1000, 1000, 1000, 0, 0, 32, HAMMER_NONE, 0, 0, 2 };

static struct guest_platform plat;
static u32 lat[MAX_SAMPLES];
static volatile u32 hammer_up;

/* What the IRQ handler saw: the counters at the vector, and which interrupts came. */
static volatile u64 irq_vct, irq_pct;
static volatile u32 irq_taken, irq_watchdog, irq_other, measured_intid, watchdog_intid;

static inline void mmio_w32(u64 a, u32 v)
{
	__asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}

static inline u32 mmio_r32(u64 a)
{
	u32 v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static void fail(const char *what) __attribute__((noreturn));
static void fail(const char *what)
{
	con_printf("FAIL: %s", what);
	psci_system_off();
}

void guest_fatal(void) { fail("unexpected exception"); }

/* ---- bootargs: numbers through guest/lib, words here ---- */

/* The index in `names` of the value of `key=`, `dflt` when absent; a value not in the list fails. */
static int word_arg(const char *args, const char *key, const char *const *names, int dflt)
{
	size_t klen = strlen(key);

	for (const char *p = args; *p;) {
		const char *end = p;

		while (*end && *end != ' ')
			end++;
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;

			for (int i = 0; names[i]; i++)
				if (strlen(names[i]) == (size_t)(end - v) &&
				    !strncmp(v, names[i], end - v))
					return i;
			con_printf("FAIL: bootarg '%.*s': not one of the allowed words",
				   (int)(end - p), p);
			psci_system_off();
		}
		p = *end ? end + 1 : end;
	}
	return dflt;
}

static void unknown_key(const char *word, size_t len)
{
	con_printf("FAIL: unknown bootarg '%.*s'", (int)len, word);
	psci_system_off();
}

static void parse_bootargs(const char *args)
{
	static const char *const known[] = { "samples", "period", "timeout", "bound",
					     "timer",   "wait",   "delay",   "role",
					     "hammer",  "mib",    NULL };
	const struct {
		const char *key;
		u64 *value;
	} nums[] = { { "samples", &cfg.samples },    { "period", &cfg.period_us },
		     { "timeout", &cfg.timeout_ms }, { "bound", &cfg.bound_us },
		     { "delay", &cfg.delay_ms },     { "mib", &cfg.mib } };

	bootarg_check_keys(args, known, unknown_key);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (bootarg_u64(args, nums[i].key, nums[i].value) == BOOTARG_BAD)
			fail("a numeric bootarg is not a number");
	cfg.timers = word_arg(args, "timer", timer_names, 0);
	cfg.waits = word_arg(args, "wait", wait_names, 2);
	cfg.role = word_arg(args, "role", role_names, 0);
	cfg.hammer = word_arg(args, "hammer", hammer_names, HAMMER_NONE);
	if (cfg.samples < 1 || cfg.samples > MAX_SAMPLES || cfg.period_us < 1 ||
	    cfg.timeout_ms < 1 || cfg.mib < 1)
		fail("samples must be 1..16384, period, timeout and mib at least 1");
}

/* ---- the GIC: this vCPU's redistributor awake, PPIs 27 and 30 enabled in Group 1 ---- */

static void gic_setup(void)
{
	u64 mpidr = SYSREG_READ("mpidr_el1"), want, rd = 0, end;

	want = (mpidr & 0xffffff) | ((mpidr >> 32) & 0xff) << 24;
	for (u32 i = 0; i < 64 && !rd; i++) {
		u64 typer, frame = GICR + i * GICR_STRIDE;

		__asm__ volatile("ldr %0, [%1]" : "=r"(typer) : "r"(frame + GICR_TYPER) : "memory");
		if ((typer >> 32) == want)
			rd = frame;
		else if (typer & (1 << 4)) /* Last */
			break;
	}
	if (!rd)
		fail("no redistributor has this vCPU's affinity");
	/* ARE and Group 1 (one security state on QEMU virt's GIC and ferry's). */
	mmio_w32(GICD + GICD_CTLR, (1u << 4) | (1u << 1));
	/* Wake the redistributor (IHI 0069 "Power management"): ProcessorSleep off, then wait for
	 * ChildrenAsleep to clear. */
	mmio_w32(rd + GICR_WAKER, mmio_r32(rd + GICR_WAKER) & ~(1u << 1));
	end = cnt_ticks() + cnt_freq() / 10;
	while (mmio_r32(rd + GICR_WAKER) & (1u << 2))
		if (cnt_ticks() > end)
			fail("the redistributor does not wake");
	mmio_w32(rd + GICR_SGI + GICR_IGROUPR0, 0xffffffff);
	for (u32 intid = 24; intid < 32; intid += 4)
		mmio_w32(rd + GICR_SGI + GICR_IPRIORITYR + intid, 0x80808080);
	mmio_w32(rd + GICR_SGI + GICR_ISENABLER0, (1u << INTID_VTIMER) | (1u << INTID_PTIMER));
	__asm__ volatile("dsb sy" ::: "memory");
	SYSREG_WRITE(ICC_SRE, SYSREG_READ(ICC_SRE) | 1);
	__asm__ volatile("isb");
	SYSREG_WRITE(ICC_PMR, 0xff);
	SYSREG_WRITE(ICC_IGRPEN1, 1);
	__asm__ volatile("isb");
}

/* ---- the timers ---- */

static u64 t_now(u32 intid)
{
	u64 t;

	if (intid == INTID_VTIMER)
		__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(t) : : "memory");
	else
		__asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(t) : : "memory");
	return t;
}

static void t_ctl(u32 intid, u64 v)
{
	if (intid == INTID_VTIMER)
		SYSREG_WRITE("cntv_ctl_el0", v);
	else
		SYSREG_WRITE("cntp_ctl_el0", v);
	__asm__ volatile("isb" ::: "memory");
}

static void t_cval(u32 intid, u64 v)
{
	if (intid == INTID_VTIMER)
		SYSREG_WRITE("cntv_cval_el0", v);
	else
		SYSREG_WRITE("cntp_cval_el0", v);
}

static void t_tval(u32 intid, u64 v)
{
	if (intid == INTID_VTIMER)
		SYSREG_WRITE("cntv_tval_el0", v);
	else
		SYSREG_WRITE("cntp_tval_el0", v);
}

/* Called by vectors.S with the counters it read at the vector. A timer's output is a level: the
 * handler silences it before the end of interrupt, or it would fire again at once. */
void lat_irq(u64 vct, u64 pct);
void lat_irq(u64 vct, u64 pct)
{
	u32 intid = (u32)(SYSREG_READ(ICC_IAR1) & 0xffffff);

	if (intid >= 1020)
		return; /* spurious: nothing to end */
	if (intid == INTID_VTIMER || intid == INTID_PTIMER)
		t_ctl(intid, 0);
	if (intid == measured_intid && !irq_taken) {
		irq_vct = vct;
		irq_pct = pct;
		irq_taken = 1;
	} else if (intid == watchdog_intid) {
		irq_watchdog++;
	} else {
		irq_other++;
	}
	SYSREG_WRITE(ICC_EOIR1, intid);
	__asm__ volatile("isb" ::: "memory");
}

/* One deadline: the latency in ticks, or false when the interrupt was not taken in time. In WFI
 * the other timer is a watchdog at deadline + timeout, so a lost interrupt ends the wait. */
static bool sample(u32 intid, bool wfi, u64 period, u64 timeout, u64 *out)
{
	u32 wd = intid == INTID_VTIMER ? INTID_PTIMER : INTID_VTIMER;
	u64 cval, give_up;

	irq_taken = 0;
	measured_intid = intid;
	watchdog_intid = wd;
	cval = t_now(intid) + period;
	t_cval(intid, cval);
	t_ctl(intid, CTL_ENABLE);
	if (wfi) {
		t_tval(wd, period + timeout);
		t_ctl(wd, CTL_ENABLE);
	}
	give_up = cval + timeout;
	while (!irq_taken) {
		if (wfi)
			__asm__ volatile("dsb sy; wfi" ::: "memory");
		if (t_now(intid) > give_up)
			break;
	}
	t_ctl(wd, 0);
	if (!irq_taken) {
		t_ctl(intid, 0);
		return false;
	}
	*out = (intid == INTID_VTIMER ? irq_vct : irq_pct) - cval;
	return true;
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* A log-linear bucket's lower bound: exact below 64, else the top 6 significant bits (within
 * 1/32 of the value), so a histogram of thousands of samples is a few lines. */
static u32 bucket(u32 v)
{
	u32 shift;

	if (v < 64)
		return v;
	shift = 31 - (u32)__builtin_clz(v) - 5;
	return v >> shift << shift;
}

/* Nearest-rank percentile (per mille) of the sorted samples. */
static u32 pct_of(u32 n, u32 permille)
{
	u64 rank = ((u64)n * permille + 999) / 1000;

	return lat[rank ? rank - 1 : 0];
}

/* Histogram lines `latency: hist <timer> <wait> lo:count ...`, then the result line. */
static void report(const char *timer, const char *wait, u32 n, u32 lost)
{
	char line[160];
	size_t len = 0;
	u64 sum = 0;

	qsort(lat, n, sizeof(lat[0]), cmp_u32);
	for (u32 i = 0; i < n;) {
		u32 lo = bucket(lat[i]), j = i;
		int w;

		while (j < n && bucket(lat[j]) == lo)
			sum += lat[j++];
		if (len > sizeof(line) - 24) {
			con_printf("hist %s %s%s", timer, wait, line);
			len = 0;
		}
		w = snprintf(line + len, sizeof(line) - len, " %u:%u", lo, j - i);
		len += (size_t)w;
		i = j;
	}
	if (len)
		con_printf("hist %s %s%s", timer, wait, line);
	if (!n) {
		con_printf("result timer=%s wait=%s samples=0 lost=%u ticks", timer, wait, lost);
		return;
	}
	con_printf("result timer=%s wait=%s samples=%u lost=%u min=%u p50=%u p90=%u p99=%u p999=%u "
		   "max=%u mean=%llu ticks",
		   timer, wait, n, lost, lat[0], pct_of(n, 500), pct_of(n, 900), pct_of(n, 990),
		   pct_of(n, 999), lat[n - 1], (unsigned long long)(sum / n));
}

/* ---- the hammers ---- */

static void hammer_run(int kind, u32 cpu) __attribute__((noreturn));
static void hammer_run(int kind, u32 cpu)
{
	u64 n = 0;

	__atomic_store_n(&hammer_up, 1, __ATOMIC_RELEASE);
	con_printf("hammer: vcpu %u runs '%s'", cpu, hammer_names[kind]);
	for (;;) {
		if (kind == HAMMER_MEM) {
			/* Stores over the top `mib` MiB of RAM, clear of the image at its base. */
			u64 span = cfg.mib << 20, base = plat.ram_base + plat.ram_size - span;
			volatile u64 *p = (volatile u64 *)(uintptr_t)base;

			for (u64 i = 0; i < span / 8; i++)
				p[i] = i ^ n;
			if (++n % 8 == 0)
				con_printf("hammer: mem %llu MiB written",
					   (unsigned long long)(n * cfg.mib));
		} else if (kind == HAMMER_CONSOLE) {
			con_printf(
				"hammer: console line %llu "
				"..................................................................",
				(unsigned long long)++n);
		} else if (kind == HAMMER_EXITS) {
			/* GICD_TYPER: an emulated register (an exit under ferry, QEMU's GIC model
			 * directly), read and thrown away. */
			for (u32 i = 0; i < 65536; i++)
				(void)mmio_r32(GICD + GICD_TYPER);
			con_printf("hammer: exits %llu reads", (unsigned long long)(++n << 16));
		} else {
			__asm__ volatile("wfi");
		}
	}
}

void guest_secondary(u64 cpu) { hammer_run(cfg.hammer, (u32)cpu); }

static void delay_ms(u64 ms)
{
	u64 end = cnt_ticks() + cnt_freq() / 1000 * ms;

	while (cnt_ticks() < end)
		cpu_relax();
}

static void measure(void)
{
	static const u32 intids[2] = { INTID_VTIMER, INTID_PTIMER };
	static const char *const tname[2] = { "vtimer", "ptimer" };
	u64 freq = cnt_freq(), period = freq * cfg.period_us / 1000000,
	    timeout = freq / 1000 * cfg.timeout_ms, bound = freq * cfg.bound_us / 1000000;
	u32 cases = 0, lost_all = 0, over_all = 0, worst = 0;

	extern char lat_vectors[];
	SYSREG_WRITE("vbar_el1", (u64)(uintptr_t)lat_vectors);
	__asm__ volatile("isb");
	gic_setup();
	__asm__ volatile("msr daifclr, #2; isb" ::: "memory");
	if (cfg.delay_ms)
		delay_ms(cfg.delay_ms);
	for (int t = 0; t < 2; t++) {
		if (!(cfg.timers == 2 || cfg.timers == t))
			continue;
		for (int w = 0; w < 2; w++) {
			u32 n = 0, lost = 0;

			if (!(cfg.waits == 2 || cfg.waits == w))
				continue;
			for (u64 i = 0; i < cfg.samples; i++) {
				u64 l;

				if (!sample(intids[t], w == 1, period, timeout, &l)) {
					/* A broken timer path loses them all: say so in
					 * seconds, not in samples x timeout. */
					if (++lost == 3)
						break;
					continue;
				}
				lat[n++] = l > UINT32_MAX ? UINT32_MAX : (u32)l;
				if (bound && l > bound)
					over_all++;
			}
			report(tname[t], wait_names[w], n, lost);
			if (n && lat[n - 1] > worst)
				worst = lat[n - 1];
			lost_all += lost;
			cases++;
		}
	}
	if (lost_all || over_all || irq_other)
		con_printf(
			"FAIL: %u interrupts not taken within %llu ms, %u over the bound of %llu us, %u "
			"unexpected interrupts; worst %u ticks",
			lost_all, (unsigned long long)cfg.timeout_ms, over_all,
			(unsigned long long)cfg.bound_us, irq_other, worst);
	else
		con_printf(
			"PASS: %u cases of %llu samples, every interrupt taken, worst %u ticks (%llu us) "
			"within the bound",
			cases, (unsigned long long)cfg.samples, worst,
			(unsigned long long)((u64)worst * 1000000 / freq));
}

void guest_main(u64 dtb, u64 entry_el)
{
	u64 pct0 = SYSREG_READ("cntpct_el0"), vct0 = SYSREG_READ("cntvct_el0");
	int err;

	con_set_prefix("latency: ");
	err = plat_read_fdt((const void *)(uintptr_t)dtb, &plat);
	if (err)
		fail("bad DTB");
	con_set_base(plat.uart_base);
	psci_set_conduit_smc(plat.psci_smc);
	/* The first line: the bench reads ferry's boot cost from its counters (docs/interference.md). */
	con_printf(
		"start at EL%llu: counters at entry physical %llu virtual %llu, %llu Hz, %u vCPUs, RAM "
		"%llu MiB",
		(unsigned long long)entry_el, (unsigned long long)pct0, (unsigned long long)vct0,
		(unsigned long long)cnt_freq(), plat.ncpus,
		(unsigned long long)(plat.ram_size >> 20));
	parse_bootargs(plat.bootargs);
	if (cfg.mib << 20 > plat.ram_size / 2)
		fail("mib is more than half of RAM");
	if (cfg.role == 1)
		hammer_run(cfg.hammer, 0);
	if (cfg.hammer != HAMMER_NONE) {
		u64 end = cnt_ticks() + cnt_freq();

		if (plat.ncpus < 2 || psci_cpu_on(plat.cpu_mpidr[1], 1))
			fail("hammer= needs a second vCPU");
		while (!__atomic_load_n(&hammer_up, __ATOMIC_ACQUIRE))
			if (cnt_ticks() > end)
				fail("the hammer vCPU does not start");
	}
	measure();
	psci_system_off();
}
