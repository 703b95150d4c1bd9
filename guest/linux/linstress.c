/* SPDX-License-Identifier: Apache-2.0 */
/* linstress: the Linux twin of memstress (docs/memstress.md, docs/linux-guest.md). A static
 * aarch64 program for the Linux guest's initramfs: it allocates N MiB, fills it with a pattern
 * derived from (page, generation, seed), keeps a ledger of the generation last written to each
 * page, rewrites pseudo-random pages at a given rate, verifies every page continuously (one full
 * sweep per round, spread over the round, plus a check of each page just before it is rewritten)
 * and prints one line per round. It is meant to run while its VM is live-migrated: pacing is by
 * CLOCK_MONOTONIC with a bounded catch-up, and each round reports the largest gap between two
 * consecutive clock samples of its loop, which is where a pause (the migration's downtime) shows. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The unit of the pattern and the ledger: 4 KiB, the granule ferry's dirty log tracks, whatever
 * the kernel's own page size. */
#define PAGE 4096u
#define WORDS (PAGE / 8)
#define WORD_STEP UINT64_C(0x9e3779b97f4a7c15) /* odd: every word of a page differs */
#define REPORTS_PER_ROUND 5
/* Pages written or verified between two clock samples: 1 MiB, well under a millisecond on TCG,
 * so a large gap is a pause of the whole VM, not our own work. */
#define BATCH 256
/* The loop's period when there is nothing due (paced writes). */
#define SLICE_NS 1000000LL
/* Pacing credit a single gap may add: after a pause the loop resumes at its rate instead of
 * writing the whole backlog at once, which would make the dirtying rate after a migration
 * depend on its downtime. */
#define MAX_CREDIT_NS 50000000LL
#define NS_PER_S 1000000000LL

struct linstress_cfg {
	uint64_t mib, rate, rounds, seed, interval_ms;
	bool corrupt;
};

struct round_stats {
	uint64_t wrote, verified, errors;
	int64_t max_gap_ns;
};

static struct linstress_cfg cfg = { .mib = 16, .rate = 1000, .seed = 1, .interval_ms = 1000 };
static unsigned char *mem;
static uint32_t *ledger; /* generation last written, per page */
static uint64_t pages;
static uint64_t writes_total; /* drives the pseudo-random choice of the next page to write */
static unsigned reports;      /* mismatch lines printed this round */
static volatile sig_atomic_t stop_signal;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("linstress: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- the pattern (as memstress) ---- */
/* A 64-bit finalizer (xor-shift-multiply): every input bit affects every output bit. */
static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	return x ^ (x >> 33);
}

/* Word w of page i at generation gen is page_base(i, gen) ^ w * WORD_STEP: one mix per page keeps
 * the loops at memory speed. The generation is 32 bits (the ledger's), so (i << 32 | gen) is
 * unique for every page and generation. */
static inline uint64_t page_base(uint64_t i, uint64_t gen)
{
	return mix(mix((i << 32) | gen) ^ cfg.seed);
}

static uint64_t *page_ptr(uint64_t i) { return (uint64_t *)(void *)(mem + i * PAGE); }

static void fill_page(uint64_t i, uint64_t gen)
{
	uint64_t *p = page_ptr(i), base = page_base(i, gen);

	for (uint64_t w = 0; w < WORDS; w++)
		p[w] = base ^ (w * WORD_STEP);
}

/* The first word of page i that does not hold generation gen, or WORDS. */
static uint64_t check_page(uint64_t i, uint64_t gen)
{
	const uint64_t *p = page_ptr(i);
	uint64_t base = page_base(i, gen);

	for (uint64_t w = 0; w < WORDS; w++)
		if (p[w] != (base ^ (w * WORD_STEP)))
			return w;
	return WORDS;
}

/* Says what a bad page holds: an older or newer generation of itself (a write lost or replayed
 * by a migration), or something else (the first bad word). */
static void report_mismatch(uint64_t i, uint64_t bad_word)
{
	uint64_t expected = ledger[i], low = expected > 64 ? expected - 64 : 0;

	if (reports++ >= REPORTS_PER_ROUND)
		return;
	for (uint64_t gen = low; gen <= expected + 1; gen++)
		if (gen != expected && check_page(i, gen) == WORDS) {
			say("mismatch page %" PRIu64 " (offset 0x%" PRIx64
			    ") expected generation %" PRIu64 ", found generation %" PRIu64,
			    i, i * PAGE, expected, gen);
			return;
		}
	say("mismatch page %" PRIu64 " (offset 0x%" PRIx64 ") expected generation %" PRIu64
	    ", found 0x%016" PRIx64 " at word %" PRIu64 " (expected 0x%016" PRIx64 ")",
	    i, i * PAGE, expected, page_ptr(i)[bad_word], bad_word,
	    page_base(i, expected) ^ (bad_word * WORD_STEP));
}

/* Checks page i against the ledger; a bad page is reported and then put back, so that one
 * corruption counts once and later rounds catch only new ones. Returns the errors found (0/1). */
static uint64_t verify_page(uint64_t i)
{
	uint64_t w = check_page(i, ledger[i]);

	if (w == WORDS)
		return 0;
	report_mismatch(i, w);
	fill_page(i, ledger[i]);
	return 1;
}

/* Rewrites the next pseudo-random page, checked first: a page that is rewritten before the sweep
 * reaches it is still verified. */
static uint64_t write_next_page(struct round_stats *st)
{
	uint64_t i = mix(cfg.seed ^ mix(++writes_total)) % pages, errors = verify_page(i);

	fill_page(i, ++ledger[i]);
	st->wrote++;
	return errors;
}

static void selftest_corrupt(void)
{
	uint64_t i = pages / 2;

	page_ptr(i)[7] ^= 1;
	say("selftest: flipped bit 0 of word 7 of page %" PRIu64 " without updating the ledger", i);
}

/* One round: interval_ms of paced writes and one full verification sweep spread over the same
 * time; the round ends when both the time is up and the sweep is complete. *last is the loop's
 * previous clock sample, carried from round to round: a pause while a round's line is printed
 * counts in the next round's gap. */
static void run_round(struct round_stats *st, int64_t *last)
{
	int64_t start = now_ns(), interval = (int64_t)cfg.interval_ms * 1000000LL;
	double write_credit = 0, verify_credit = 0;

	memset(st, 0, sizeof(*st));
	reports = 0;
	for (;;) {
		int64_t t = now_ns(), gap = t - *last,
			dt = gap < MAX_CREDIT_NS ? gap : MAX_CREDIT_NS;
		uint64_t n;
		bool idle;

		*last = t;
		if (gap > st->max_gap_ns)
			st->max_gap_ns = gap;
		if (stop_signal)
			return;
		/* Writes: rate pages per second, or BATCH per step when unpaced (rate 0). */
		write_credit += cfg.rate ? (double)cfg.rate * (double)dt / NS_PER_S : BATCH;
		for (n = 0; n < BATCH && write_credit >= 1; n++, write_credit -= 1)
			st->errors += write_next_page(st);
		idle = n == 0;
		/* The sweep: all pages over the round, and what is left at once when time is up. */
		verify_credit += (double)pages * (double)dt / (double)interval;
		if (t - start >= interval)
			verify_credit = (double)(pages - st->verified);
		for (n = 0; n < BATCH && verify_credit >= 1 && st->verified < pages;
		     n++, verify_credit -= 1)
			st->errors += verify_page(st->verified++);
		idle = idle && n == 0;
		if (t - start >= interval && st->verified == pages)
			return;
		if (idle && cfg.rate) {
			struct timespec slice = { 0, SLICE_NS };

			nanosleep(&slice, NULL);
		}
	}
}

static void on_signal(int sig) { stop_signal = sig; }

static void usage(FILE *f)
{
	fputs("usage: linstress [--mib N] [--rate PAGES_PER_S] [--rounds N] [--seed N]\n"
	      "                 [--interval-ms MS] [--selftest-corrupt]\n"
	      "  --mib N            memory to allocate and check (default 16)\n"
	      "  --rate N           4 KiB pages rewritten per second (default 1000; 0: as fast as "
	      "possible)\n"
	      "  --rounds N         rounds to run, one progress line each (default 0: forever)\n"
	      "  --seed N           seeds the pattern and the choice of pages (default 1)\n"
	      "  --interval-ms MS   length of a round (default 1000)\n"
	      "  --selftest-corrupt flip one bit of one page behind the ledger's back at the start of\n"
	      "                     round 1: the run must then report errors (and FAIL)\n",
	      f);
}

/* A decimal or 0x number, all of it, no sign; exits with the usage on anything else. */
static uint64_t parse_number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 0);
	if (*end || v < min || v > max)
		goto bad;
	return v;
bad:
	fprintf(stderr, "linstress: --%s '%s': not a number in %" PRIu64 "..%" PRIu64 "\n", opt, s,
		min, max);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "selftest-corrupt", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			cfg.mib = parse_number("mib", optarg, 1, 1 << 20);
			break;
		case 'r':
			cfg.rate = parse_number("rate", optarg, 0, 1 << 30);
			break;
		case 'n':
			cfg.rounds = parse_number("rounds", optarg, 0, UINT32_MAX);
			break;
		case 's':
			cfg.seed = parse_number("seed", optarg, 0, UINT64_MAX);
			break;
		case 'i':
			cfg.interval_ms = parse_number("interval-ms", optarg, 1, 3600000);
			break;
		case 'c':
			cfg.corrupt = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "linstress: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct round_stats st;
	uint64_t round, errors = 0;
	int64_t max_gap_ns = 0, t0, last;
	struct sigaction sa = { .sa_handler = on_signal };

	/* One line at a time even into a pipe or a file: the console is shared with the shell. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	pages = cfg.mib * (1024 * 1024 / PAGE);
	mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ledger = calloc(pages, sizeof(*ledger));
	if (mem == MAP_FAILED || !ledger) {
		say("cannot allocate %" PRIu64 " MiB and its ledger", cfg.mib);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	say("start %" PRIu64 " MiB pages %" PRIu64 " at %p seed %" PRIu64 " rate %" PRIu64
	    " pages/s rounds %" PRIu64 " interval %" PRIu64 " ms pid %d",
	    cfg.mib, pages, (void *)mem, cfg.seed, cfg.rate, cfg.rounds, cfg.interval_ms,
	    (int)getpid());
	t0 = now_ns();
	for (uint64_t i = 0; i < pages; i++) {
		ledger[i] = 1;
		fill_page(i, 1);
	}
	last = now_ns();
	say("filled %" PRIu64 " pages in %.1f ms", pages, (double)(last - t0) / 1e6);

	for (round = 1; cfg.rounds == 0 || round <= cfg.rounds; round++) {
		if (cfg.corrupt && round == 1)
			selftest_corrupt();
		run_round(&st, &last);
		errors += st.errors;
		if (stop_signal)
			break;
		if (st.max_gap_ns > max_gap_ns)
			max_gap_ns = st.max_gap_ns;
		say("round %" PRIu64 " wrote %" PRIu64 " pages, verified %" PRIu64
		    " pages, errors %" PRIu64 ", uptime %.3f s, max gap %.1f ms",
		    round, st.wrote, st.verified, st.errors, (double)now_ns() / 1e9,
		    (double)st.max_gap_ns / 1e6);
	}
	if (stop_signal)
		round--; /* the interrupted round is not counted */
	else
		round = cfg.rounds;
	say("%s rounds=%" PRIu64 " pages=%" PRIu64 " errors=%" PRIu64 " max gap %.1f ms%s",
	    errors ? "FAIL" : "PASS", round, pages, errors, (double)max_gap_ns / 1e6,
	    stop_signal ? " (stopped by a signal)" : "");
	return errors ? 1 : 0;
}
