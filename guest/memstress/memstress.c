/* SPDX-License-Identifier: Apache-2.0 */
/* memstress: a bare-metal EL1 guest that proves memory integrity. It fills its RAM with a pattern
 * derived from (page, generation, seed), keeps a ledger of the generation last written to each page,
 * rewrites a pseudo-random share of the pages every round (at a given rate, on one or more vCPUs),
 * verifies every page against the ledger, and prints one verdict. It runs directly under QEMU and as
 * a ferry VM; under ferry with dirty logging on, every round is checked against the hypervisor's
 * dirty log (docs/memstress.md, docs/dirty-logging.md). */
#include <string.h>

#include "guest.h"
#include "rtc.h"
#include "shared.h"

#define PAGE GUEST_PAGE
#define WORDS (PAGE / 8)
#define SZ_2M (2ULL << 20)
#define WORD_STEP 0x9e3779b97f4a7c15ULL /* odd: every word of a page differs */
#define REPORTS_PER_ROUND 3
#define REWRITE_MAX 16
/* ferry's checking hypercall (FERRY_HC_DIRTY_ROUND, hyp/mm/dirty_el2.h): x1 round, x2 IPA of the
 * written-page bitmap, x3 its bits. Answers the number of pages ferry missed, or a PSCI error. */
#define HC_DIRTY_ROUND 0xc6000001ULL
#define PSCI_RET_NOT_SUPPORTED (-1)

struct memstress_cfg {
	u64 rounds, seed, rate, pages, frac, smp, verify, corrupt, wild, rewrite, rtc;
	bool wild_set, rtc_set;
};

static struct guest_platform plat;
static struct memstress_cfg cfg = { .rounds = 4, .seed = 1, .frac = 25, .smp = 1, .verify = 1 };
static u32 *ledger;  /* generation last written, per working-set page (0: never) */
static u64 *written; /* pages written in the current round, one bit per page of RAM */
static u64 ws_base;  /* first working-set page (address = IPA: identity map) */
static u64 ram_pages;
static u64 rounds_done;

struct memstress_shared memstress_shared __attribute__((section(".guest_shared"), aligned(64)));

/* Work vCPU 0 hands to every vCPU: writing round `round` of their share. */
static struct {
	u64 seq; /* vCPU 0 bumps it (release) to start a phase */
	u64 round;
	u64 done; /* secondaries that finished the phase */
} phase;
static u64 cpus_up;
static u64 reports; /* mismatch lines printed this round */

/* A gap between two writes of one vCPU, in counter ticks, and the counter at the first of them. */
struct gap {
	u64 len, at;
};
#define WRITE_GAPS 3

/* Per vCPU, on its own cache line: a vCPU writes only its own. */
static struct cpu_stats {
	u64 written, mismatches; /* whole run; mismatches of the pages it owns */
	u64 round_written;
	/* The longest time between two of its writes this round, and the longest few leaving out
	 * the gap before the round's first write (which holds the previous round's verification):
	 * a pause that lands while the vCPU writes, as most do, shows among those even when the
	 * round's boundary, or a stall of the host, was longer. */
	struct gap round_gap;
	struct gap write_gaps[WRITE_GAPS]; /* longest first */
	u64 last_write;                    /* counter at its last write, across rounds */
	u64 recent[REWRITE_MAX];           /* the pages it wrote last (a ring), for rewrite=N */
	u64 recent_n;
} __attribute__((aligned(64))) stats[GUEST_MAX_CPUS];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}

static void shared_set_state(enum memstress_state state)
{
	memstress_shared.updates++;
	/* Fields first, then the state: a reader that sees the state sees what it stands for. */
	__atomic_store_n(&memstress_shared.state, (u32)state, __ATOMIC_RELEASE);
}

static void verdict(const char *why)
{
	u64 errors = memstress_shared.errors;

	shared_set_state(errors || why ? MEMSTRESS_FAILED : MEMSTRESS_PASSED);
	say("%s rounds=%llu pages=%llu errors=%llu%s%s", errors || why ? "FAIL" : "PASS",
	    (unsigned long long)rounds_done, (unsigned long long)cfg.pages,
	    (unsigned long long)errors, why ? " " : "", why ? why : "");
}

void guest_fatal(void)
{
	verdict("(unexpected exception)");
	psci_system_off();
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	verdict("(cannot run)");
	psci_system_off();
}

/* ---- the pattern ---- */
/* A 64-bit finalizer (xor-shift-multiply): every input bit affects every output bit. */
static inline u64 mix(u64 x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	return x ^ (x >> 33);
}

/* Word w of page i at generation gen is page_base(i, gen) ^ w * WORD_STEP: one mix per page keeps
 * the loops at memory speed; (i << 24 | gen) is unique below 2^24 generations and 2^40 pages. */
static inline u64 page_base(u64 i, u64 gen) { return mix(mix((i << 24) | gen) ^ cfg.seed); }

static u64 *page_ptr(u64 i) { return (u64 *)(uintptr_t)(ws_base + i * PAGE); }

static void fill_page(u64 i, u64 gen)
{
	u64 *p = page_ptr(i), base = page_base(i, gen);

	for (u64 w = 0; w < WORDS; w += 2) {
		p[w] = base ^ (w * WORD_STEP);
		p[w + 1] = base ^ ((w + 1) * WORD_STEP);
	}
}

/* The first word of page i that does not hold generation gen, or WORDS. */
static u64 check_page(u64 i, u64 gen)
{
	const u64 *p = page_ptr(i);
	u64 base = page_base(i, gen);

	for (u64 w = 0; w < WORDS; w++)
		if (p[w] != (base ^ (w * WORD_STEP)))
			return w;
	return WORDS;
}

static void write_page(u64 i)
{
	u64 bit = (ws_base - plat.ram_base) / PAGE + i;

	fill_page(i, ++ledger[i]);
	/* Other vCPUs set bits in the same words (pages interleave). */
	__atomic_fetch_or(&written[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELAXED);
}

/* Which pages round r (>= 1) rewrites: a pseudo-random frac% of the working set, from the seed.
 * The seed is mixed before it meets the page index: seed ^ i alone would only permute the same set
 * of inputs for small seeds, giving every seed the same number of pages per round. */
static bool chosen(u64 round, u64 i)
{
	return mix(mix(cfg.seed ^ (round << 40)) ^ i) % 100 < cfg.frac;
}

/* ---- a vCPU's share: pages i with i % smp == cpu ---- */
/* Keeps the WRITE_GAPS longest of a list, longest first. */
static void keep_longest(struct gap *top, struct gap g)
{
	for (u32 i = 0; i < WRITE_GAPS; i++)
		if (g.len > top[i].len) {
			struct gap t = top[i];

			top[i] = g;
			g = t;
		}
}

static void clear_gaps(struct cpu_stats *st)
{
	memset(&st->round_gap, 0, sizeof(st->round_gap));
	memset(st->write_gaps, 0, sizeof(st->write_gaps));
}

static void note_gap(struct cpu_stats *st, u64 last, u64 now, bool round_first)
{
	struct gap g = { now - last, last };

	if (g.len > st->round_gap.len)
		st->round_gap = g;
	if (!round_first)
		keep_longest(st->write_gaps, g);
}

static void write_share(u64 cpu, u64 round)
{
	struct cpu_stats *st = &stats[cpu];
	u64 n = 0, t0 = cnt_ticks(), freq = cnt_freq(), now;
	/* Measured across round boundaries too: a pause while the guest verifies or waits for its
	 * other vCPU shows as the gap before the next round's first write. */
	u64 last = st->last_write ? st->last_write : t0;
	bool first = true;

	clear_gaps(st);

	/* rewrite=N: first the N pages this vCPU wrote last, most recent first. Nothing has run on
	 * this vCPU since, so their TLB entries are still there: these writes land on a stale
	 * writable entry unless the hypervisor flushed after write-protecting them. */
	if (round >= 2)
		for (u64 k = 0; k < cfg.rewrite && k < st->recent_n && k < REWRITE_MAX; k++) {
			write_page(st->recent[(st->recent_n - 1 - k) % REWRITE_MAX]);
			n++;
		}
	for (u64 i = cpu; i < cfg.pages; i += cfg.smp) {
		if (round && !chosen(round, i))
			continue;
		write_page(i);
		st->recent[st->recent_n++ % REWRITE_MAX] = i;
		n++;
		/* A live migration's pause shows here as one long gap, in the guest's own time. */
		now = cnt_ticks();
		note_gap(st, last, now, first);
		first = false;
		last = now;
		/* Every write, the fill's too, keeps to `rate` pages per second on this vCPU: the
		 * system tests time their shell commands against a paced fill. */
		if (cfg.rate)
			while ((cnt_ticks() - t0) * cfg.rate < n * freq)
				cpu_relax();
	}
	st->round_written = n;
	st->last_write = last;
	st->written += n;
}

/* Says what a bad page holds: an older or newer generation of itself (a lost or stray write), or
 * something else (the first bad word). */
static void report_mismatch(u64 i, u64 bad_word)
{
	u64 expected = ledger[i], low = expected > 64 ? expected - 64 : 0, owner = i % cfg.smp;
	const u64 *p = page_ptr(i);

	if (reports++ >= REPORTS_PER_ROUND)
		return;
	for (u64 gen = low; gen <= expected + 1; gen++)
		if (gen != expected && check_page(i, gen) == WORDS) {
			say("mismatch page 0x%llx (vcpu %llu's) expected generation %llu, found generation "
			    "%llu",
			    (unsigned long long)(ws_base + i * PAGE), (unsigned long long)owner,
			    (unsigned long long)expected, (unsigned long long)gen);
			return;
		}
	say("mismatch page 0x%llx (vcpu %llu's) expected generation %llu, found 0x%016llx at word %llu "
	    "(expected 0x%016llx)",
	    (unsigned long long)(ws_base + i * PAGE), (unsigned long long)owner,
	    (unsigned long long)expected, (unsigned long long)p[bad_word],
	    (unsigned long long)bad_word,
	    (unsigned long long)(page_base(i, expected) ^ (bad_word * WORD_STEP)));
}

/* vCPU 0 verifies every page, the other vCPUs' too, for two reasons: it checks that their writes
 * are visible to another CPU, and a writing vCPU keeps its TLB entries from one round to the next.
 * The latter is what lets ferry's dirty-logging test fail when the TLBI after a collection is
 * skipped (tests/system/test_dirty_log.py, with rewrite=N for the entries a vCPU certainly kept).
 * Measured: with each vCPU verifying its own share, the no-flush build missed nothing in 23
 * rounds: reading thousands of pages per round pushes a vCPU's stale writable entries out of
 * QEMU's TLB before it writes those pages again. */
static u64 verify_all(void)
{
	u64 bad = 0;

	reports = 0;
	for (u64 i = 0; i < cfg.pages; i++) {
		u64 w = check_page(i, ledger[i]);

		if (w == WORDS)
			continue;
		bad++;
		stats[i % cfg.smp].mismatches++;
		report_mismatch(i, w);
		/* Put the expected content back, so one corruption counts once and later rounds
		 * catch only new ones. */
		fill_page(i, ledger[i]);
	}
	return bad;
}

void guest_secondary(u64 cpu)
{
	u64 seen = 0;

	say("vcpu %llu up", (unsigned long long)cpu);
	__atomic_fetch_add(&cpus_up, 1, __ATOMIC_RELEASE);
	for (;;) {
		u64 seq;

		while ((seq = __atomic_load_n(&phase.seq, __ATOMIC_ACQUIRE)) == seen)
			cpu_relax();
		seen = seq;
		write_share(cpu, phase.round);
		if (phase.round == 0)
			say("vcpu %llu filled %llu pages", (unsigned long long)cpu,
			    (unsigned long long)stats[cpu].round_written);
		__atomic_fetch_add(&phase.done, 1, __ATOMIC_RELEASE);
	}
}

/* Every vCPU writes its share of round `round`; returns when all are done. */
static void write_all(u64 round)
{
	phase.round = round;
	__atomic_store_n(&phase.done, 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&phase.seq, 1, __ATOMIC_RELEASE);
	write_share(0, round);
	while (__atomic_load_n(&phase.done, __ATOMIC_ACQUIRE) < cfg.smp - 1)
		cpu_relax();
}

/* The round's longest gap over the vCPUs, and its WRITE_GAPS longest while writing. */
static struct gap longest_gaps(struct gap *writing)
{
	struct gap g = stats[0].round_gap;

	memset(writing, 0, WRITE_GAPS * sizeof(*writing));
	for (u64 c = 0; c < cfg.smp; c++) {
		if (stats[c].round_gap.len > g.len)
			g = stats[c].round_gap;
		for (u32 i = 0; i < WRITE_GAPS; i++)
			keep_longest(writing, stats[c].write_gaps[i]);
	}
	return g;
}

/* Counter ticks as microseconds, without overflow for any uptime. */
static u64 ticks_us(u64 t, u64 freq) { return t / freq * 1000000 + t % freq * 1000000 / freq; }

static u64 round_written_all(void)
{
	u64 sum = 0;

	for (u64 c = 0; c < cfg.smp; c++)
		sum += stats[c].round_written;
	return sum;
}

/* ---- setup ---- */
static const char *const known_keys[] = {
	"rounds",           "seed",    "rate", "pages", "frac", "smp", "wild", "verify",
	"selftest-corrupt", "rewrite", "rtc",  NULL,
};

static void unknown_key(const char *word, size_t len)
{
	say("ignoring unknown bootarg '%.*s'", (int)len, word);
}

static void parse_bootargs(const char *args)
{
	struct {
		const char *key;
		u64 *value;
	} keys[] = {
		{ "rounds", &cfg.rounds }, { "seed", &cfg.seed },
		{ "rate", &cfg.rate },     { "pages", &cfg.pages },
		{ "frac", &cfg.frac },     { "smp", &cfg.smp },
		{ "verify", &cfg.verify }, { "selftest-corrupt", &cfg.corrupt },
		{ "wild", &cfg.wild },     { "rewrite", &cfg.rewrite },
		{ "rtc", &cfg.rtc },
	};

	bootarg_check_keys(args, known_keys, unknown_key);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		enum bootarg_status st = bootarg_u64(args, keys[k].key, keys[k].value);

		if (st == BOOTARG_BAD)
			fail("bootarg '%s': not a number (decimal or 0x-hex)", keys[k].key);
		if (st == BOOTARG_SET && keys[k].value == &cfg.wild)
			cfg.wild_set = true;
		if (st == BOOTARG_SET && keys[k].value == &cfg.rtc)
			cfg.rtc_set = true;
	}
	if (cfg.frac > 100)
		cfg.frac = 100;
	if (cfg.smp < 1)
		cfg.smp = 1;
	if (cfg.rewrite > REWRITE_MAX)
		cfg.rewrite = REWRITE_MAX;
	if (cfg.rounds >= (1ULL << 24) - 2)
		fail("rounds=%llu: the pattern has room for 2^24 generations",
		     (unsigned long long)cfg.rounds);
}

/* After the image: the written-page bitmap, then the ledger; the working set starts at the next
 * 2 MiB boundary and runs to the end of RAM. The DTB, wherever the loader put it, has been read
 * into `plat` by now and may be overwritten. */
static void place(void)
{
	u64 ram_end = plat.ram_base + plat.ram_size, image_end = (u64)(uintptr_t)__image_end;
	u64 p = (image_end + PAGE - 1) & ~(PAGE - 1), max;

	if ((u64)(uintptr_t)__image_start < plat.ram_base || image_end > ram_end)
		fail("the image (linked at 0x%llx) is not in RAM 0x%llx-0x%llx",
		     (unsigned long long)(uintptr_t)__image_start,
		     (unsigned long long)plat.ram_base, (unsigned long long)ram_end - 1);
	ram_pages = plat.ram_size / PAGE;
	written = (u64 *)(uintptr_t)p;
	p += ((ram_pages + 63) / 64 * 8 + PAGE - 1) & ~(PAGE - 1);
	ledger = (u32 *)(uintptr_t)p;
	max = p < ram_end ? (ram_end - p) / PAGE : 0; /* an upper bound: the ledger takes some */
	p += (max * sizeof(u32) + PAGE - 1) & ~(PAGE - 1);
	ws_base = (p + SZ_2M - 1) & ~(SZ_2M - 1);
	if (ws_base >= ram_end)
		fail("RAM too small: %llu MiB, the working set would start at 0x%llx",
		     (unsigned long long)(plat.ram_size >> 20), (unsigned long long)ws_base);
	max = (ram_end - ws_base) / PAGE;
	if (cfg.pages > max)
		say("pages=%llu: only %llu fit, using %llu", (unsigned long long)cfg.pages,
		    (unsigned long long)max, (unsigned long long)max);
	if (!cfg.pages || cfg.pages > max)
		cfg.pages = max;
	memset(written, 0, (ram_pages + 63) / 64 * 8);
	memset(ledger, 0, cfg.pages * sizeof(u32));
}

static void shared_init(void)
{
	struct memstress_shared *sh = &memstress_shared;

	sh->magic = MEMSTRESS_SHARED_MAGIC;
	sh->version = MEMSTRESS_SHARED_VERSION;
	sh->rounds = cfg.rounds;
	sh->bitmap_ipa = (u64)(uintptr_t)written;
	sh->bitmap_bits = ram_pages;
	sh->ram_base = plat.ram_base;
	sh->ram_size = plat.ram_size;
	sh->ws_ipa = ws_base;
	sh->ws_pages = cfg.pages;
	sh->ledger_ipa = (u64)(uintptr_t)ledger;
	sh->seed = cfg.seed;
	sh->smp = cfg.smp;
}

/* Starts vCPUs 1..smp-1 on the DTB's other CPUs; smp becomes the number that came up. */
static void start_secondaries(void)
{
	u64 self, mpidr, want = cfg.smp, c = 1, t0, freq = cnt_freq();

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	self = mpidr & 0xff00ffffffULL; /* Aff3..Aff0, as a DTB cpu reg holds it */
	if (want > 1 && !plat.have_psci)
		fail("smp=%llu: the DTB has no /psci to start CPUs with",
		     (unsigned long long)cfg.smp);
	for (u32 i = 0; i < plat.ncpus && c < want; i++) {
		s64 r;

		if (plat.cpu_mpidr[i] == self)
			continue;
		r = psci_cpu_on(plat.cpu_mpidr[i], c);
		if (r) {
			say("vcpu %llu (MPIDR 0x%llx) did not start: PSCI error %lld",
			    (unsigned long long)c, (unsigned long long)plat.cpu_mpidr[i],
			    (long long)r);
			break;
		}
		c++;
	}
	if (c < cfg.smp)
		say("smp=%llu: running on %llu vCPUs", (unsigned long long)cfg.smp,
		    (unsigned long long)c);
	cfg.smp = c;
	t0 = cnt_ticks();
	while (__atomic_load_n(&cpus_up, __ATOMIC_ACQUIRE) < cfg.smp - 1)
		if (cnt_ticks() - t0 > 10 * freq)
			fail("only %llu of %llu secondary vCPUs arrived within 10 s",
			     (unsigned long long)__atomic_load_n(&cpus_up, __ATOMIC_ACQUIRE),
			     (unsigned long long)cfg.smp - 1);
}

static void wild_write(void)
{
	say("wild write to 0x%llx", (unsigned long long)cfg.wild);
	*(volatile u64 *)(uintptr_t)cfg.wild = 0x5a5a5a5a5a5a5a5aULL;
	/* Make an asynchronous abort (SError, unmasked by head.S) arrive here, not later. */
	__asm__ volatile("dsb sy; isb" ::: "memory");
	say("wild write to 0x%llx completed without a fault", (unsigned long long)cfg.wild);
}

/* Asks ferry to check this round's dirty log against the pages written. Directly under QEMU, or
 * with logging off, the answer is NOT_SUPPORTED: keep asking, logging may start later; any other
 * refusal means this hypervisor will never check, so stop. */
static void dirty_round_check(u64 round, bool *ask)
{
	s64 missed;

	if (!*ask)
		return;
	missed = psci_call(HC_DIRTY_ROUND, round, (u64)(uintptr_t)written, ram_pages);
	if (missed < 0 && missed != PSCI_RET_NOT_SUPPORTED)
		*ask = false;
	else if (missed > 0)
		say("round %llu: hypervisor missed %lld written pages", (unsigned long long)round,
		    (long long)missed);
}

static void run_rounds(void)
{
	struct memstress_shared *sh = &memstress_shared;
	bool ask_hypervisor = true;
	u64 freq = cnt_freq();

	for (u64 r = 1; r <= cfg.rounds || (r == 1 && !cfg.rounds); r++) {
		u64 wrote = 0, verified = 0, bad = 0, t0, write_ticks;
		struct gap g, w[WRITE_GAPS];
		bool last = r >= cfg.rounds;

		memset(written, 0, (ram_pages + 63) / 64 * 8);
		sh->round = cfg.rounds ? r : 0;
		sh->round_written = 0;
		shared_set_state(MEMSTRESS_WRITING);
		t0 = cnt_ticks();
		if (cfg.rounds) {
			write_all(r);
			wrote = round_written_all();
		} else {
			/* No writes: no gaps (not the fill's). */
			for (u64 c = 0; c < cfg.smp; c++)
				clear_gaps(&stats[c]);
		}
		write_ticks = cnt_ticks() - t0;
		sh->round_written = wrote;
		shared_set_state(MEMSTRESS_WRITTEN);
		dirty_round_check(r, &ask_hypervisor);
		if (cfg.corrupt && r == 1) {
			u64 i = cfg.pages / 2;

			page_ptr(i)[7] ^= 1;
			say("selftest: flipped bit 0 of word 7 of page 0x%llx without updating the ledger",
			    (unsigned long long)(ws_base + i * PAGE));
		}
		/* verify=0: only after the last round, which always verifies. */
		if (last || (cfg.verify && r % cfg.verify == 0)) {
			shared_set_state(MEMSTRESS_VERIFYING);
			bad = verify_all();
			verified = cfg.pages;
			sh->errors += bad;
		}
		rounds_done = cfg.rounds ? r : 0;
		g = longest_gaps(w);
		/* Where the gaps were, on a line of its own first: the round line stays as it was, and
		 * each stays under the 200 characters a line can have under ferry (vdev.h). */
		if (cfg.rounds)
			say("round %llu/%llu gaps: longest %llu us at %llu us; while writing %llu us at "
			    "%llu us, %llu us at %llu us, %llu us at %llu us",
			    (unsigned long long)rounds_done, (unsigned long long)cfg.rounds,
			    (unsigned long long)ticks_us(g.len, freq),
			    (unsigned long long)ticks_us(g.at, freq),
			    (unsigned long long)ticks_us(w[0].len, freq),
			    (unsigned long long)ticks_us(w[0].at, freq),
			    (unsigned long long)ticks_us(w[1].len, freq),
			    (unsigned long long)ticks_us(w[1].at, freq),
			    (unsigned long long)ticks_us(w[2].len, freq),
			    (unsigned long long)ticks_us(w[2].at, freq));
		say("round %llu/%llu wrote %llu pages, verified %llu pages, errors %llu, writes took %llu us, "
		    "longest gap %llu us",
		    (unsigned long long)rounds_done, (unsigned long long)cfg.rounds,
		    (unsigned long long)wrote, (unsigned long long)verified,
		    (unsigned long long)bad, (unsigned long long)ticks_us(write_ticks, freq),
		    (unsigned long long)ticks_us(g.len, freq));
	}
}

void guest_main(u64 dtb, u64 entry_el)
{
	int err;

	con_set_prefix("memstress: ");
	err = plat_read_fdt((const void *)(uintptr_t)dtb, &plat);
	if (err)
		fail("no usable device tree at 0x%llx (libfdt error %d)", (unsigned long long)dtb,
		     err);
	con_set_base(plat.uart_base);
	psci_set_conduit_smc(plat.psci_smc);
	if (entry_el == 2)
		say("entered at EL2: running at EL1 (HCR_EL2.RW only: no stage 2)");
	parse_bootargs(plat.bootargs);
	if (cfg.rtc_set) {
		/* Before the fill, which may write over the device tree. */
		const char *why = rtc_probe((const void *)(uintptr_t)dtb, cfg.rtc);

		if (why)
			fail("rtc: %s", why);
	}
	if (cfg.smp > GUEST_MAX_CPUS || cfg.smp > (plat.ncpus ? plat.ncpus : 1)) {
		u64 fit = plat.ncpus < GUEST_MAX_CPUS ? plat.ncpus : GUEST_MAX_CPUS;

		say("smp=%llu: the DTB has %u CPUs, memstress runs at most %d: using %llu",
		    (unsigned long long)cfg.smp, plat.ncpus, GUEST_MAX_CPUS,
		    (unsigned long long)(fit ? fit : 1));
		cfg.smp = fit ? fit : 1;
	}
	place();
	shared_init();

	say("start ram 0x%llx %llu MiB pages %llu at 0x%llx seed %llu rounds %llu rate %llu frac %llu "
	    "smp %llu",
	    (unsigned long long)plat.ram_base, (unsigned long long)(plat.ram_size >> 20),
	    (unsigned long long)cfg.pages, (unsigned long long)ws_base,
	    (unsigned long long)cfg.seed, (unsigned long long)cfg.rounds,
	    (unsigned long long)cfg.rate, (unsigned long long)cfg.frac,
	    (unsigned long long)cfg.smp);
	say("shared 0x%llx (bitmap 0x%llx, %llu bits; ledger 0x%llx) psci %s",
	    (unsigned long long)(uintptr_t)&memstress_shared,
	    (unsigned long long)(uintptr_t)written, (unsigned long long)ram_pages,
	    (unsigned long long)(uintptr_t)ledger, plat.psci_smc ? "smc" : "hvc");
	start_secondaries();
	memstress_shared.smp = cfg.smp;

	memstress_shared.round = 0;
	shared_set_state(MEMSTRESS_FILLING);
	write_all(0);
	memstress_shared.round_written = round_written_all();
	shared_set_state(MEMSTRESS_WRITTEN);
	say("filled %llu pages", (unsigned long long)memstress_shared.round_written);
	if (cfg.wild_set)
		wild_write();

	run_rounds();
	for (u64 c = 0; c < cfg.smp && cfg.smp > 1; c++)
		say("vcpu %llu wrote %llu pages, errors %llu in its pages", (unsigned long long)c,
		    (unsigned long long)stats[c].written, (unsigned long long)stats[c].mismatches);
	verdict(NULL);
	psci_system_off();
}
