/* SPDX-License-Identifier: Apache-2.0 */
/* tlbi: decode a TLBI operand, or show the ops a planner issues for a stage-2 range.
 * Built on the host from the hypervisor's own hyp/mm/tlbi_*.c, so it shows exactly what ferry does.
 * docs/tlb-maintenance.md walks through its output. */
#include "mm/tlbi.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tlbi decode OPERAND [--kind ripas2e1is|ipas2e1is]\n"
		"       tlbi plan --ipa ADDR --size SIZE [--no-range] [--ttl] [--level 1|2|3]\n"
		"                 [--algo ferry|ferry-over|linux-6.6|linux-6.8|linux-fixed]\n"
		"                 [--op-cost N] [--refill-cost N]\n"
		"\n"
		"decode  prints every field of a RIPAS2E1IS (default) or IPAS2E1IS operand and the IPA\n"
		"        range it invalidates (4K granule, no LPA2).\n"
		"plan    prints the barriers and TLBI ops that invalidate stage-2 entries for\n"
		"        [ADDR, ADDR + SIZE), what each op covers, and the pages left stale.\n"
		"        SIZE takes K, M, G, T suffixes (powers of 1024) and must be a multiple of 4K.\n"
		"        --no-range  CPU without FEAT_TLBIRANGE   --ttl  CPU with FEAT_TTL\n"
		"        --level N   the changed leaf entries are level-N blocks (3 = 4K pages)\n"
		"        --algo      ferry (default: the exact cover), ferry-over (may invalidate more\n"
		"                    than the range when the cost model says it is cheaper; what the\n"
		"                    hypervisor issues), linux-6.6 and linux-6.8 (the historical bugs),\n"
		"                    linux-fixed (upstream after the fix)\n"
		"        For ferry and ferry-over the exact and over-covering plans are then shown side\n"
		"        by side with the pages each invalidates outside the range and its cost:\n"
		"        ops * op-cost + pages outside * refill-cost (defaults 64 and 1).\n");
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tlbi: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see tlbi --help)\n");
	exit(2);
}

static u64 parse_u64(const char *what, const char *s)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		die("%s '%s' is not a number", what, s);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		die("%s '%s' is not a number", what, s);
	return v;
}

static u64 parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-')
		die("size '%s' is not a size", s);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		die("size '%s' is not a size", s);
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		case 't':
		case 'T':
			shift = 40;
			break;
		default:
			die("size '%s': unknown suffix '%s'", s, end);
		}
		if (end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
			die("size '%s': unknown suffix '%s'", s, end);
	}
	if (shift && v > (~0ULL >> shift))
		die("size '%s' is too large", s);
	v <<= shift;
	if (!v || v % PAGE_SIZE)
		die("size '%s' is not a non-zero multiple of 4K", s);
	return v;
}

static const char *human(u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (u + 1 < ARRAY_SIZE(units) && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", bytes, units[u]);
	return buf;
}

static int cmd_decode(int argc, char **argv)
{
	unsigned kind = TLBI_RIPAS2E1IS;
	const char *operand_s = NULL;
	char hb[32];

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--kind")) {
			if (++i >= argc)
				die("--kind needs a value");
			if (!strcasecmp(argv[i], "ripas2e1is"))
				kind = TLBI_RIPAS2E1IS;
			else if (!strcasecmp(argv[i], "ipas2e1is"))
				kind = TLBI_IPAS2E1IS;
			else
				die("unknown --kind '%s' (ripas2e1is or ipas2e1is)", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			die("unknown option '%s'", argv[i]);
		} else if (!operand_s) {
			operand_s = argv[i];
		} else {
			die("decode takes one operand, got '%s' too", argv[i]);
		}
	}
	if (!operand_s)
		die("decode needs an operand, e.g. tlbi decode 0xffff708000040000");
	u64 op = parse_u64("operand", operand_s);
	struct tlbi_cover c;

	tlbi_op_cover(kind, op, &c);
	if (kind == TLBI_RIPAS2E1IS) {
		struct tlbi_range_fields f;
		static const char *const tg_names[] = { "reserved", "4K", "16K", "64K" };
		static const char *const ttl_names[] = { "any level", "level 1", "level 2",
							 "level 3" };

		tlbi_range_decode(op, &f);
		printf("operand 0x%" PRIx64 " as TLBI RIPAS2E1IS (4K granule, no LPA2)\n", op);
		printf("  [63:48]   NS/RES0  = 0x%x%s\n", f.high,
		       f.high ? "  (RES0 from Non-secure EL2: should be 0)" : "");
		printf("  [47:46]   TG       = %u (%s)\n", f.tg, tg_names[f.tg]);
		printf("  [45:44]   SCALE    = %u\n", f.scale);
		printf("  [43:39]   NUM      = %u\n", f.num);
		printf("  [38:37]   TTL      = %u (%s)\n", f.ttl, ttl_names[f.ttl]);
		printf("  [36:0]    BaseADDR = 0x%" PRIx64 " (IPA 0x%" PRIx64 ")\n", f.base_page,
		       f.base_page << PAGE_SHIFT);
		printf("  pages = (NUM + 1) * 2^(5 * SCALE + 1) = %u * 2^%u = %" PRIu64 " (%s)\n",
		       f.num + 1, 5 * f.scale + 1, tlbi_range_pages(&f),
		       human(tlbi_range_pages(&f) << PAGE_SHIFT, hb, sizeof(hb)));
	} else {
		struct tlbi_ipa_fields f;

		tlbi_ipa_decode(op, &f);
		printf("operand 0x%" PRIx64 " as TLBI IPAS2E1IS\n", op);
		printf("  [63:48]   NS/RES0  = 0x%x%s\n", f.high,
		       f.high ? "  (RES0 from Non-secure EL2: should be 0)" : "");
		printf("  [47:44]   TTL      = 0x%x (%s)\n", f.ttl,
		       f.ttl >> 2 == 0   ? "no level information"
		       : f.ttl >> 2 == 1 ? "4K granule"
					 : "another granule");
		printf("  [43:40]   RES0     = 0x%x\n", f.res0_43_40);
		printf("  [39:0]    IPA>>12  = 0x%" PRIx64 " (IPA 0x%" PRIx64 ")\n", f.ipa_page,
		       f.ipa_page << PAGE_SHIFT);
	}
	if (c.pages) {
		printf("covers IPA 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " page%s, %s)",
		       c.start_page << PAGE_SHIFT, ((c.start_page + c.pages) << PAGE_SHIFT) - 1,
		       c.pages, c.pages == 1 ? "" : "s",
		       human(c.pages << PAGE_SHIFT, hb, sizeof(hb)));
		if (c.level > 0)
			printf(", leaf entries of level %d only", c.level);
		printf("%s\n", c.unpredictable
				       ? ": UNPREDICTABLE, BaseADDR is not aligned to the TTL level"
				       : "");
	} else {
		printf("covers nothing a 4K-granule stage 2 is guaranteed to lose\n");
	}
	return 0;
}

/* The pages of [first, first + pages) a plan leaves stale, as intervals (ops are ascending). */
static void print_stale(const struct tlbi_plan *plan, u64 first, u64 pages)
{
	u64 next = first, end = first + pages, total = 0;
	u64 hole_start[64], hole_end[64];
	size_t nholes = 0;
	bool outside;

	for (size_t i = 0; i < plan->n; i++) {
		struct tlbi_cover c;

		tlbi_op_cover(plan->op[i].kind, plan->op[i].operand, &c);
		tlbi_cover_widen(&c, plan->level);
		if (c.all_stage2) {
			next = end;
			break;
		}
		if (!c.pages || c.unpredictable)
			continue;
		if (c.start_page > next && next < end && nholes < ARRAY_SIZE(hole_start)) {
			hole_start[nholes] = next;
			hole_end[nholes++] = MIN(c.start_page, end);
		}
		next = MAX(next, c.start_page + c.pages);
	}
	if (next < end && nholes < ARRAY_SIZE(hole_start)) {
		hole_start[nholes] = next;
		hole_end[nholes++] = end;
	}
	for (size_t i = 0; i < nholes; i++)
		total += hole_end[i] - hole_start[i];
	if (total != tlbi_plan_stale_pages(plan, ipa_init(first << PAGE_SHIFT), pages, &outside))
		die("internal: stale page counts disagree");
	if (!total) {
		printf("stale: none, every page of the range is invalidated\n");
	} else {
		char hb[32];

		printf("stale: %" PRIu64 " of %" PRIu64
		       " pages (%s) keep their old, writable stage-2 "
		       "entries:\n",
		       total, pages, human(total << PAGE_SHIFT, hb, sizeof(hb)));
		for (size_t i = 0; i < nholes; i++)
			printf("  IPA 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " pages)\n",
			       hole_start[i] << PAGE_SHIFT, (hole_end[i] << PAGE_SHIFT) - 1,
			       hole_end[i] - hole_start[i]);
	}
	if (outside)
		printf("outside: some op reaches beyond the range (over-invalidation)\n");
}

/* A short form of an op for the side-by-side table: kind and the IPAs it covers. */
static void op_short(const struct tlbi_op *op, char *buf, size_t len)
{
	struct tlbi_cover c;

	tlbi_op_cover(op->kind, op->operand, &c);
	if (!c.pages)
		snprintf(buf, len, "%s", tlbi_kind_name(op->kind));
	else
		snprintf(buf, len, "%-10s 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 ")",
			 tlbi_kind_name(op->kind), c.start_page << PAGE_SHIFT,
			 ((c.start_page + c.pages) << PAGE_SHIFT) - 1, c.pages);
}

static void over_short(const struct tlbi_plan *p, u64 first, u64 pages, char *buf, size_t len)
{
	char hb[32];
	u64 lo = ~0ULL, hi = 0;

	if (!p->over_pages) {
		snprintf(buf, len, "none");
		return;
	}
	/* ferry-over puts at most one op past the range: name the pages it adds. */
	for (size_t i = 0; i < p->n; i++) {
		struct tlbi_cover c;

		tlbi_op_cover(p->op[i].kind, p->op[i].operand, &c);
		tlbi_cover_widen(&c, p->level);
		if (c.start_page < first)
			lo = MIN(lo, c.start_page), hi = MAX(hi, first);
		if (c.start_page + c.pages > first + pages)
			lo = MIN(lo, first + pages), hi = MAX(hi, c.start_page + c.pages);
	}
	snprintf(buf, len, "%" PRIu64 " page%s (%s): IPA 0x%" PRIx64 "-0x%" PRIx64, p->over_pages,
		 p->over_pages == 1 ? "" : "s", human(p->over_pages << PAGE_SHIFT, hb, sizeof(hb)),
		 lo << PAGE_SHIFT, (hi << PAGE_SHIFT) - 1);
}

#define SIDE_ROWS 8u

/* The exact cover next to ferry-over's, with what each costs and invalidates outside the range. */
static void print_side_by_side(const struct tlbi_caps *caps, u64 ipa, u64 pages, int level,
			       const struct tlbi_cost *cost)
{
	static struct tlbi_plan exact, over;
	char a[96], b[96];

	if (tlbi_plan_s2_range_cost(TLBI_ALGO_FERRY, caps, ipa_init(ipa), pages, level, cost,
				    &exact) ||
	    tlbi_plan_s2_range_cost(TLBI_ALGO_FERRY_OVER, caps, ipa_init(ipa), pages, level, cost,
				    &over))
		die("internal: ferry planners disagree on the request");
	printf("exact vs over-covering (cost = ops * %u + pages outside the range * %u):\n",
	       cost->op, cost->refill);
	printf("  %-46s | %s\n", "ferry (exact cover)", "ferry-over (what ferry issues)");
	size_t rows = MAX(exact.n, over.n);

	for (size_t i = 0; i < rows && i < SIDE_ROWS; i++) {
		a[0] = b[0] = '\0';
		if (i < exact.n)
			op_short(&exact.op[i], a, sizeof(a));
		if (i < over.n)
			op_short(&over.op[i], b, sizeof(b));
		if (i < over.n)
			printf("  #%-2zu %-42s | #%-2zu %s\n", i + 1, a, i + 1, b);
		else
			printf("  #%-2zu %-42s |\n", i + 1, a);
	}
	if (rows > SIDE_ROWS)
		printf("  ... %zu more row(s)\n", rows - SIDE_ROWS);
	snprintf(a, sizeof(a), "%zu", exact.n);
	snprintf(b, sizeof(b), "%zu", over.n);
	printf("  ops: %-41s | ops: %s\n", a, b);
	over_short(&exact, ipa >> PAGE_SHIFT, pages, a, sizeof(a));
	over_short(&over, ipa >> PAGE_SHIFT, pages, b, sizeof(b));
	printf("  over-coverage: %-31s | over-coverage: %s\n", a, b);
	printf("  cost: %-40" PRIu64 " | cost: %" PRIu64 "\n", exact.cost, over.cost);
}

static int cmd_plan(int argc, char **argv)
{
	static struct tlbi_plan plan;
	struct tlbi_caps caps = { .range = true, .ttl = false };
	enum tlbi_algo algo = TLBI_ALGO_FERRY;
	u64 ipa = 0, size = 0;
	bool have_ipa = false, have_size = false;
	int level = -1;
	struct tlbi_cost cost = tlbi_cost_default;
	char hb[32], line[TLBI_DESCRIBE_MAX];

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool needs_value = !strcmp(a, "--ipa") || !strcmp(a, "--size") ||
				   !strcmp(a, "--level") || !strcmp(a, "--algo") ||
				   !strcmp(a, "--op-cost") || !strcmp(a, "--refill-cost");

		if (needs_value && i + 1 >= argc)
			die("%s needs a value", a);
		if (!strcmp(a, "--ipa")) {
			ipa = parse_u64("IPA", argv[++i]);
			have_ipa = true;
		} else if (!strcmp(a, "--size")) {
			size = parse_size(argv[++i]);
			have_size = true;
		} else if (!strcmp(a, "--level")) {
			const char *v = argv[++i];

			if (strcmp(v, "1") && strcmp(v, "2") && strcmp(v, "3"))
				die("--level '%s' must be 1, 2 or 3", v);
			level = v[0] - '0';
		} else if (!strcmp(a, "--algo")) {
			const char *v = argv[++i];
			int found = -1;

			for (int k = 0; k < TLBI_ALGO_NR; k++)
				if (!strcmp(v, tlbi_algo_name((enum tlbi_algo)k)))
					found = k;
			if (found < 0)
				die("unknown --algo '%s' (ferry, ferry-over, linux-6.6, linux-6.8, "
				    "linux-fixed)",
				    v);
			algo = (enum tlbi_algo)found;
		} else if (!strcmp(a, "--op-cost") || !strcmp(a, "--refill-cost")) {
			u64 v = parse_u64(a + 2, argv[++i]);

			if (v > 1000000)
				die("%s %" PRIu64 " is above 1000000", a, v);
			if (a[2] == 'o')
				cost.op = (u32)v;
			else
				cost.refill = (u32)v;
		} else if (!strcmp(a, "--no-range")) {
			caps.range = false;
		} else if (!strcmp(a, "--ttl")) {
			caps.ttl = true;
		} else {
			die("unknown argument '%s'", a);
		}
	}
	if (!have_ipa || !have_size)
		die("plan needs --ipa ADDR and --size SIZE");
	if (ipa % PAGE_SIZE)
		die("IPA 0x%" PRIx64 " is not 4K-aligned", ipa);

	u64 pages = size >> PAGE_SHIFT;
	int err = tlbi_plan_s2_range_cost(algo, &caps, ipa_init(ipa), pages, level, &cost, &plan);

	if (err)
		die("cannot plan IPA 0x%" PRIx64 " + %s: %s", ipa, human(size, hb, sizeof(hb)),
		    ferry_strerror(err));
	char lvl[64];
	bool ferry = algo == TLBI_ALGO_FERRY || algo == TLBI_ALGO_FERRY_OVER;

	if (level < 0)
		snprintf(lvl, sizeof(lvl), "unknown");
	else if (ferry && plan.level < 0)
		snprintf(lvl, sizeof(lvl), "%d (hint dropped: range not aligned to it)", level);
	else if (!ferry)
		snprintf(lvl, sizeof(lvl), "%d (ignored by this planner)", level);
	else
		snprintf(lvl, sizeof(lvl), "%d", level);
	printf("plan: %s, FEAT_TLBIRANGE %s, FEAT_TTL %s, level %s\n", tlbi_algo_name(algo),
	       caps.range ? "yes" : "no", caps.ttl ? "yes" : "no", lvl);
	printf("range: IPA 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " pages, %s)\n", ipa,
	       ipa + size - 1, pages, human(size, hb, sizeof(hb)));
	printf("   1  DSB ISHST\n");
	for (size_t i = 0; i < plan.n; i++) {
		tlbi_op_describe(plan.op[i].kind, plan.op[i].operand, line, sizeof(line));
		printf("%4zu  %s\n", i + 2, line);
	}
	printf("%4zu  DSB ISH\n", plan.n + 2);
	tlbi_op_describe(TLBI_VMALLE1IS, 0, line, sizeof(line));
	printf("%4zu  %s\n", plan.n + 3, line);
	printf("%4zu  DSB ISH\n%4zu  ISB\n", plan.n + 4, plan.n + 5);
	printf("ops: %zu invalidation op%s + VMALLE1IS\n", plan.n, plan.n == 1 ? "" : "s");
	print_stale(&plan, ipa >> PAGE_SHIFT, pages);
	if (ferry)
		print_side_by_side(&caps, ipa, pages, level, &cost);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("missing command: decode or plan");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	if (!strcmp(argv[1], "decode"))
		return cmd_decode(argc - 2, argv + 2);
	if (!strcmp(argv[1], "plan"))
		return cmd_plan(argc - 2, argv + 2);
	die("unknown command '%s': decode or plan", argv[1]);
	return 2;
}
