/* memstress: a bare-metal EL1 guest that proves memory integrity. It fills its RAM with a pattern
 * derived from (page, generation, seed), keeps a ledger of the generation last written to each page,
 * rewrites a pseudo-random share of the pages every round (at a given rate), verifies every page
 * against the ledger, and prints a verdict. It runs directly under QEMU and as a ferry VM; under
 * ferry with dirty logging on, it has every round checked (docs/memstress.md). */
#include <libfdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;

#define PAGE 4096ULL
#define WORDS (PAGE / 8)
#define MAX_CPUS 4
#define HC_DIRTY_ROUND 0xc6000001ULL /* ferry: check this round's dirty log */
#define PSCI_CPU_ON 0xc4000003ULL
#define PSCI_SYSTEM_OFF 0x84000008ULL
#define DTB_RESERVE (2ULL << 20)     /* ferry and QEMU put the DTB in the top 2 MiB */

uint8_t stacks[MAX_CPUS][16384] __attribute__((aligned(16)));
extern char __image_end[];
void secondary_entry(void);
void memstress_main(u64 dtb);
void memstress_secondary(u64 cpu);
void memstress_exception(u64 esr, u64 far, u64 elr);
uintptr_t __stack_chk_guard = 0x6d656d7374726573ULL;
void __stack_chk_fail(void);

static volatile u32 *uart = (volatile u32 *)0x09000000;
static bool psci_smc;
static u64 l1_table[512] __attribute__((aligned(4096)));

/* Parameters (bootargs) and the state shared by the vCPUs. */
static struct {
	u64 ram_base, ram_size, rounds, seed, rate, pages, frac, smp, wild, verify, corrupt;
	u64 cpu_mpidr[MAX_CPUS];
	u32 ncpus;
} cfg = { .rounds = 4, .seed = 1, .frac = 25, .smp = 1, .verify = 1 };
static u32 *ledger;          /* generation last written, per working-set page */
static u64 *written;         /* pages written this round, one bit per page of all RAM */
static u64 ws_base;          /* first working-set page (address) */
static volatile u64 round_go, cpus_done, cpus_up, round_written;

/* ---- console ---- */
static void putc_raw(char c)
{
	while (uart[0x18 / 4] & (1u << 5))
		;
	uart[0] = (u32)(unsigned char)c;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	static volatile u32 lock;
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
		;
	for (const char *s = "memstress: "; *s; s++)
		putc_raw(*s);
	for (char *s = buf; *s; s++)
		putc_raw(*s);
	putc_raw('\r');
	putc_raw('\n');
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

void __stack_chk_fail(void)
{
	say("stack protector fired");
	for (;;)
		;
}

/* ---- firmware calls ---- */
static u64 psci(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fid, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2,
			 x3 __asm__("x3") = a3;

	if (psci_smc)
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	else
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return x0;
}

static void power_off(void)
{
	psci(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

void memstress_exception(u64 esr, u64 far, u64 elr)
{
	say("exception: ESR 0x%llx FAR 0x%llx ELR 0x%llx", (unsigned long long)esr,
	    (unsigned long long)far, (unsigned long long)elr);
	say("FAIL exception");
	power_off();
}

/* ---- EL1 MMU: identity, 1 GiB blocks; the first GiB (devices) Device-nGnRE, RAM write-back.
 * With the MMU on, the guest's TLB holds combined stage-1+2 entries: what ferry's TLB maintenance
 * must reach (VMALLE1IS after IPA invalidations). */
static void mmu_on(void)
{
	u64 tcr = 25 | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (0ULL << 14) | (2ULL << 32);

	__asm__ volatile("msr mair_el1, %0" : : "r"(0xff04ULL));
	__asm__ volatile("msr tcr_el1, %0" : : "r"(tcr));
	__asm__ volatile("msr ttbr0_el1, %0" : : "r"((u64)(uintptr_t)l1_table));
	__asm__ volatile("isb; tlbi vmalle1; dsb nsh; isb" ::: "memory");
	__asm__ volatile("msr sctlr_el1, %0; isb" : : "r"(0x30d00800ULL | 1 | (1 << 2) | (1 << 12)));
}

/* Built before the DTB is read: with the MMU off every access is Device, where the unaligned
 * accesses of libfdt and picolibc's string routines fault. So map 1 GiB..16 GiB as RAM up front;
 * only what exists is ever touched. */
static void build_tables(void)
{
	l1_table[0] = 0x0 | 1 | (0 << 2) | (1ULL << 10) | (1ULL << 54) | (1ULL << 53);
	for (u64 g = 1; g < 16; g++)
		l1_table[g] = (g << 30) | 1 | (1 << 2) | (3ULL << 8) | (1ULL << 10);
	__asm__ volatile("dsb ish" ::: "memory");
}

/* ---- the pattern ---- */
static inline u64 mix(u64 x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	return x ^ (x >> 33);
}

static inline u64 page_word(u64 page, u64 gen, u64 w)
{
	return mix((page << 20) ^ (gen << 44) ^ cfg.seed ^ (w * 0x9e3779b97f4a7c15ULL));
}

static u64 *page_ptr(u64 i) { return (u64 *)(uintptr_t)(ws_base + i * PAGE); }

static void write_page(u64 i)
{
	u64 *p = page_ptr(i), gen = ++ledger[i], base = mix((i << 20) ^ (gen << 44) ^ cfg.seed);

	for (u64 w = 0; w < WORDS; w++)
		p[w] = base ^ (w * 0x9e3779b97f4a7c15ULL);
	u64 bit = (ws_base - cfg.ram_base) / PAGE + i;
	__atomic_fetch_or(&written[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELAXED);
}

static bool check_page(u64 i)
{
	const u64 *p = page_ptr(i);
	u64 base = mix((i << 20) ^ ((u64)ledger[i] << 44) ^ cfg.seed);

	for (u64 w = 0; w < WORDS; w++)
		if (p[w] != (base ^ (w * 0x9e3779b97f4a7c15ULL)))
			return false;
	return true;
}

static u64 ticks(void)
{
	u64 t;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(t));
	return t;
}

static u64 freq(void)
{
	u64 f;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
}

/* Which pages a round rewrites: a pseudo-random frac% of the working set, the same on every vCPU. */
static bool chosen(u64 round, u64 i) { return mix(cfg.seed ^ (round << 40) ^ i) % 100 < cfg.frac; }

/* vCPU `cpu` writes its share (pages i with i % ncpus == cpu) of round `round`, paced to `rate`
 * pages per second. Returns the number of pages written. */
static u64 write_round(u64 round, u64 cpu)
{
	u64 n = 0, t0 = ticks(), f = freq();

	for (u64 i = cpu; i < cfg.pages; i += cfg.smp) {
		if (round && !chosen(round, i))
			continue;
		write_page(i);
		n++;
		if (cfg.rate)
			while ((ticks() - t0) * cfg.rate < n * f)
				;
	}
	return n;
}

void memstress_secondary(u64 cpu)
{
	u64 seen = 0;

	mmu_on();
	say("vcpu %llu up", (unsigned long long)cpu);
	__atomic_fetch_add(&cpus_up, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		u64 r;

		while ((r = __atomic_load_n(&round_go, __ATOMIC_ACQUIRE)) == seen)
			;
		seen = r;
		u64 n = write_round(r - 1, cpu);
		if (r == 1)
			say("vcpu %llu filled %llu pages", (unsigned long long)cpu, (unsigned long long)n);
		__atomic_fetch_add(&round_written, n, __ATOMIC_ACQ_REL);
		__atomic_fetch_add(&cpus_done, 1, __ATOMIC_ACQ_REL);
	}
}

/* One round on every vCPU: round 0 fills everything. */
static u64 run_round(u64 round)
{
	u64 n;

	cpus_done = 0;
	round_written = 0;
	__atomic_store_n(&round_go, round + 1, __ATOMIC_RELEASE);
	n = write_round(round, 0);
	while (__atomic_load_n(&cpus_done, __ATOMIC_ACQUIRE) < cfg.smp - 1)
		;
	return n + __atomic_load_n(&round_written, __ATOMIC_ACQUIRE);
}

/* Decimal or 0x-hex (picolibc's strtoull sets errno, which needs TLS this guest does not have). */
static u64 parse_u64(const char *p)
{
	u64 v = 0, base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		u64 d;

		if (*p >= '0' && *p <= '9')
			d = (u64)(*p - '0');
		else if (base == 16 && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			d = (u64)((*p | 0x20) - 'a' + 10);
		else
			return v;
		v = v * base + d;
	}
}

static u64 arg(const char *args, const char *key, u64 def)
{
	size_t kl = strlen(key);

	for (const char *p = args; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return parse_u64(p + kl + 1);
		p = strchr(p, ' ');
	}
	return def;
}

static void parse_dtb(const void *fdt)
{
	int node, len;
	const fdt32_t *reg;
	const char *s;

	node = fdt_path_offset(fdt, "/chosen");
	s = node >= 0 ? fdt_getprop(fdt, node, "bootargs", &len) : NULL;
	if (s) {
		cfg.rounds = arg(s, "rounds", cfg.rounds);
		cfg.seed = arg(s, "seed", cfg.seed);
		cfg.rate = arg(s, "rate", 0);
		cfg.pages = arg(s, "pages", 0);
		cfg.frac = arg(s, "frac", cfg.frac);
		cfg.smp = arg(s, "smp", 1);
		cfg.wild = arg(s, "wild", 0);
		cfg.verify = arg(s, "verify", 1);
		cfg.corrupt = arg(s, "selftest-corrupt", 0);
	}
	node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
	reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
	if (reg && len >= 16) {
		cfg.ram_base = ((u64)fdt32_to_cpu(reg[0]) << 32) | fdt32_to_cpu(reg[1]);
		cfg.ram_size = ((u64)fdt32_to_cpu(reg[2]) << 32) | fdt32_to_cpu(reg[3]);
	}
	node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
	reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
	if (reg && len >= 8)
		uart = (volatile u32 *)(uintptr_t)(((u64)fdt32_to_cpu(reg[0]) << 32) | fdt32_to_cpu(reg[1]));
	node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
	s = node >= 0 ? fdt_getprop(fdt, node, "method", &len) : NULL;
	psci_smc = s && !strcmp(s, "smc");
	node = fdt_path_offset(fdt, "/cpus");
	if (node >= 0) {
		int c;

		fdt_for_each_subnode(c, fdt, node) {
			const char *t = fdt_getprop(fdt, c, "device_type", &len);

			reg = fdt_getprop(fdt, c, "reg", &len);
			if (t && !strcmp(t, "cpu") && reg && cfg.ncpus < MAX_CPUS)
				cfg.cpu_mpidr[cfg.ncpus++] = len >= 8 ? ((u64)fdt32_to_cpu(reg[0]) << 32) |
									   fdt32_to_cpu(reg[1])
								       : fdt32_to_cpu(reg[0]);
		}
	}
}

/* The bookkeeping (ledger, written-page bitmap) lives right after the image; the working set starts
 * at the next 2 MiB boundary and ends below the DTB's 2 MiB. */
static bool place(void)
{
	u64 ram_pages = cfg.ram_size / PAGE, top = cfg.ram_base + cfg.ram_size - DTB_RESERVE;
	u64 p = ((u64)(uintptr_t)__image_end + PAGE - 1) & ~(PAGE - 1), max;

	written = (u64 *)(uintptr_t)p;
	p += ((ram_pages + 63) / 64 * 8 + PAGE - 1) & ~(PAGE - 1);
	ledger = (u32 *)(uintptr_t)p;
	/* Room for the ledger of every page that could follow. */
	max = (top - p) / (PAGE + 4);
	p += (max * 4 + PAGE - 1) & ~(PAGE - 1);
	ws_base = (p + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	if (ws_base >= top)
		return false;
	max = (top - ws_base) / PAGE;
	if (!cfg.pages || cfg.pages > max)
		cfg.pages = max;
	memset(written, 0, (ram_pages + 63) / 64 * 8);
	memset(ledger, 0, cfg.pages * 4);
	return true;
}

void memstress_main(u64 dtb)
{
	u64 errors = 0, checked = 0, wrote, dirty_rounds = 1;

	build_tables();
	mmu_on();
	if (fdt_check_header((const void *)(uintptr_t)dtb)) {
		say("FAIL no device tree in x0");
		for (;;)
			;
	}
	parse_dtb((const void *)(uintptr_t)dtb);
	if (cfg.smp > cfg.ncpus)
		cfg.smp = cfg.ncpus;
	if (cfg.smp > MAX_CPUS)
		cfg.smp = MAX_CPUS;
	if (!place()) {
		say("FAIL RAM too small");
		power_off();
	}
	say("start ram 0x%llx %llu MiB pages %llu at 0x%llx seed %llu rounds %llu rate %llu frac %llu "
	    "smp %llu", (unsigned long long)cfg.ram_base, (unsigned long long)(cfg.ram_size >> 20),
	    (unsigned long long)cfg.pages, (unsigned long long)ws_base, (unsigned long long)cfg.seed,
	    (unsigned long long)cfg.rounds, (unsigned long long)cfg.rate,
	    (unsigned long long)cfg.frac, (unsigned long long)cfg.smp);
	for (u64 c = 1; c < cfg.smp; c++) {
		int64_t r = (int64_t)psci(PSCI_CPU_ON, cfg.cpu_mpidr[c], (u64)(uintptr_t)secondary_entry, c);

		if (r)
			say("vcpu %llu did not start: PSCI %lld", (unsigned long long)c, (long long)r);
	}
	while (__atomic_load_n(&cpus_up, __ATOMIC_ACQUIRE) < cfg.smp - 1)
		;
	wrote = run_round(0);
	say("filled %llu pages", (unsigned long long)wrote);
	if (cfg.wild) {
		say("wild write to 0x%llx", (unsigned long long)cfg.wild);
		*(volatile u64 *)(uintptr_t)cfg.wild = 0x5a5a5a5a;
		say("wild write returned");
	}
	for (u64 r = 1; r <= cfg.rounds; r++) {
		u64 round_errors = 0, verified = 0;
		int64_t missed;

		memset(written, 0, (cfg.ram_size / PAGE + 63) / 64 * 8);
		wrote = run_round(r);
		/* Ask ferry to check its dirty log against the pages written this round (NOT_SUPPORTED
		 * directly under QEMU or with logging off: then stop asking). */
		if (dirty_rounds) {
			missed = (int64_t)psci(HC_DIRTY_ROUND, r, (u64)(uintptr_t)written,
					       cfg.ram_size / PAGE);
			if (missed == -1 || missed == -2)
				dirty_rounds = missed == -1 ? 1 : 0;
			else if (missed > 0)
				say("round %llu: hypervisor missed %lld written pages",
				    (unsigned long long)r, (long long)missed);
		}
		if (cfg.corrupt && r == 1)
			page_ptr(cfg.pages / 2)[7] ^= 1; /* selftest: must be caught below */
		if (cfg.verify && r % cfg.verify == 0)
			for (u64 i = 0; i < cfg.pages; i++, verified++)
				if (!check_page(i) && round_errors++ < 3)
					say("mismatch page 0x%llx expected generation %u",
					    (unsigned long long)(ws_base + i * PAGE), ledger[i]);
		errors += round_errors;
		checked += verified;
		say("round %llu/%llu wrote %llu pages, verified %llu pages, errors %llu",
		    (unsigned long long)r, (unsigned long long)cfg.rounds,
		    (unsigned long long)wrote, (unsigned long long)verified,
		    (unsigned long long)round_errors);
	}
	say("%s rounds=%llu pages=%llu errors=%llu", errors ? "FAIL" : "PASS",
	    (unsigned long long)cfg.rounds, (unsigned long long)cfg.pages, (unsigned long long)errors);
	power_off();
}
