/* SPDX-License-Identifier: Apache-2.0 */
/* bench/tlbi: TLBI ops issued to invalidate a stage-2 range at IPA 0x40000000, by planner.
 *
 * Columns: ferry with FEAT_TLBIRANGE and without; Linux 6.6 and 6.8 (historical, with the pages each
 * leaves stale); upstream fixed Linux with range ops, and without them (a whole-VMID VMALLS12E1IS
 * for any size); a naive per-page loop; and the minimum number of exact-cover ops (a DP over one
 * 8 GiB chunk, plus one op per further full chunk). Exits non-zero unless ferry's range plan is
 * correct and uses no more ops than any other correct exact plan (and equals the minimum), and its
 * no-range plan is the per-page minimum up to MAX_DVM_OPS. Each plan also excludes VMALLE1IS and
 * the barriers, which every planner adds identically.
 *
 * A second table, printed after the first, sets the exact cover next to ferry-over (the default at
 * EL2), which may invalidate pages outside the range when the cost model (ops * 64 + pages outside
 * * 1) finds it cheaper: ops, pages invalidated outside the range, and cost of each. Exits non-zero
 * unless ferry-over covers every page, takes at most 2 ops per range up to 8 GiB (one more per
 * further 8 GiB) and never costs more than the exact cover. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mm/tlbi.h"

#define IPA 0x40000000ULL
#define K ((u64)1024)
#define M (1024 * K)
#define G (1024 * M)

static struct tlbi_plan plan;
static unsigned char *dp;

static void build_dp(void)
{
	static u32 coins[130];
	size_t n = 0;

	coins[n++] = 1;
	for (u32 s = 0; s <= 3; s++)
		for (u32 num = 0; num <= 31; num++) {
			u32 c = (num + 1) << (5 * s + 1);
			bool dup = false;

			for (size_t i = 0; i < n; i++)
				dup = dup || coins[i] == c;
			if (!dup)
				coins[n++] = c;
		}
	dp = malloc(TLBI_RANGE_MAX_PAGES + 1);
	if (!dp)
		exit(1);
	dp[0] = 0;
	for (u32 p = 1; p <= TLBI_RANGE_MAX_PAGES; p++) {
		unsigned best = 255;

		for (size_t i = 0; i < n; i++)
			if (coins[i] <= p && dp[p - coins[i]] < best)
				best = dp[p - coins[i]];
		dp[p] = (unsigned char)(best + 1);
	}
}

static u64 min_ops(u64 pages)
{
	return pages / TLBI_RANGE_MAX_PAGES + dp[pages % TLBI_RANGE_MAX_PAGES];
}

struct result {
	size_t ops;
	u64 stale;
	bool whole_vmid;
};

static struct result run(enum tlbi_algo algo, bool range, u64 pages)
{
	const struct tlbi_caps caps = { .range = range };
	struct result r = { 0 };
	bool outside;

	if (tlbi_plan_s2_range(algo, &caps, ipa_init(IPA), pages, -1, &plan)) {
		fprintf(stderr, "bench: %s failed to plan %" PRIu64 " pages\n",
			tlbi_algo_name(algo), pages);
		exit(1);
	}
	r.ops = plan.n;
	r.stale = tlbi_plan_stale_pages(&plan, ipa_init(IPA), pages, &outside);
	r.whole_vmid = plan.n == 1 && plan.op[0].kind == TLBI_VMALLS12E1IS;
	if (outside) {
		fprintf(stderr, "bench: %s reaches outside the range\n", tlbi_algo_name(algo));
		exit(1);
	}
	return r;
}

static void cell(char *buf, size_t len, struct result r)
{
	if (r.whole_vmid)
		snprintf(buf, len, "1 (VMID)");
	else if (r.stale)
		snprintf(buf, len, "%zu (%" PRIu64 " stale)", r.ops, r.stale);
	else
		snprintf(buf, len, "%zu", r.ops);
}

static const char *size_name(u64 bytes, char *buf, size_t len)
{
	u64 unit = bytes >= G - 64 * M ? G : M;
	const char *uname = unit == G ? "GiB" : "MiB";
	u64 q = (bytes + unit / 2) / unit;
	s64 rem_kib = ((s64)bytes - (s64)(q * unit)) / (s64)K;

	if (bytes < M)
		snprintf(buf, len, "%" PRIu64 " KiB", bytes / K);
	else if (!rem_kib)
		snprintf(buf, len, "%" PRIu64 " %s", q, uname);
	else
		snprintf(buf, len, "%" PRIu64 " %s %c %" PRId64 " KiB", q, uname,
			 rem_kib < 0 ? '-' : '+', rem_kib < 0 ? -rem_kib : rem_kib);
	return buf;
}

/* Exact cover vs ferry-over, with FEAT_TLBIRANGE. */
static int over_table(const u64 *sizes, size_t n)
{
	static struct tlbi_plan exact;
	const struct tlbi_caps caps = { .range = true };
	const struct tlbi_cost *cost = &tlbi_cost_default;
	int failures = 0;
	char sz[40];

	printf("\nExact cover vs over-covering (ferry-over, the default at EL2), FEAT_TLBIRANGE; cost = "
	       "ops * %u + pages invalidated outside the range * %u.\n\n",
	       cost->op, cost->refill);
	printf("| size | pages | exact ops | over ops | over pages | exact cost | over cost |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < n; i++) {
		u64 pages = sizes[i] / (4 * K);
		bool outside;

		if (tlbi_plan_s2_range(TLBI_ALGO_FERRY, &caps, ipa_init(IPA), pages, -1, &exact) ||
		    tlbi_plan_s2_range(TLBI_ALGO_FERRY_OVER, &caps, ipa_init(IPA), pages, -1,
				       &plan)) {
			fprintf(stderr, "bench: ferry planners failed at %" PRIu64 " pages\n",
				pages);
			return 1;
		}
		printf("| %s | %" PRIu64 " | %zu | %zu | %" PRIu64 " | %" PRIu64 " | %" PRIu64
		       " |\n",
		       size_name(sizes[i], sz, sizeof(sz)), pages, exact.n, plan.n, plan.over_pages,
		       exact.cost, plan.cost);
		u64 full = pages > TLBI_RANGE_MAX_PAGES ? (pages - 1) / TLBI_RANGE_MAX_PAGES : 0;

		if (tlbi_plan_stale_pages(&plan, ipa_init(IPA), pages, &outside) ||
		    plan.n > 2 + full || plan.cost > exact.cost ||
		    outside != (plan.over_pages != 0)) {
			fprintf(stderr, "bench: ferry-over wrong or dearer at %" PRIu64 " pages\n",
				pages);
			failures++;
		}
	}
	printf("%s\n",
	       failures ? "FAIL: ferry-over uncovered, over its op bound, or dearer"
			: "OK: ferry-over covers every range, <= 2 ops up to 8 GiB, never dearer");
	return failures;
}

int main(void)
{
	static const u64 sizes[] = {
		4 * K,         8 * K,         12 * K,         64 * K,         124 * K,
		2 * M - 4 * K, 2 * M,         2 * M + 4 * K,  4 * M,          256 * M + 4 * K,
		1 * G - 4 * K, 1 * G,         1 * G + 12 * K, 3 * G,          8 * G - 4 * K,
		8 * G,         8 * G + 4 * K, 16 * G,         16 * G - 4 * K, 64 * G - 4 * K,
		64 * G,
	};
	int failures = 0;
	struct timespec t0, t1;

	build_dp();
	printf("TLBI ops to invalidate a stage-2 range at IPA 0x%" PRIx64
	       " (4K granule); VMALLE1IS and\n"
	       "barriers (identical for all) not counted. \"(VMID)\": one VMALLS12E1IS for the whole VM.\n\n",
	       (u64)IPA);
	printf("| size | pages | ferry range | ferry no-range | linux-6.6 | linux-6.8 | fixed range | "
	       "fixed no-range | naive per-page | min exact |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		u64 pages = sizes[i] / (4 * K);
		struct result fr = run(TLBI_ALGO_FERRY, true, pages);
		struct result fn = run(TLBI_ALGO_FERRY, false, pages);
		struct result l66 = run(TLBI_ALGO_LINUX_6_6, true, pages);
		struct result l68 = run(TLBI_ALGO_LINUX_6_8, true, pages);
		struct result lf = run(TLBI_ALGO_LINUX_FIXED, true, pages);
		struct result ln = run(TLBI_ALGO_LINUX_FIXED, false, pages);
		u64 naive = pages, best = min_ops(pages);
		char c[8][40], sz[40];

		cell(c[0], sizeof(c[0]), fr);
		cell(c[1], sizeof(c[1]), fn);
		cell(c[2], sizeof(c[2]), l66);
		cell(c[3], sizeof(c[3]), l68);
		cell(c[4], sizeof(c[4]), lf);
		cell(c[5], sizeof(c[5]), ln);
		printf("| %s | %" PRIu64 " | %s | %s | %s | %s | %s | %s | %" PRIu64 " | %" PRIu64
		       " |\n",
		       size_name(sizes[i], sz, sizeof(sz)), pages, c[0], c[1], c[2], c[3], c[4],
		       c[5], naive, best);

		/* ferry must be correct, and minimal among the correct exact plans. */
		bool ok = fr.stale == 0 && !fr.whole_vmid && fr.ops == best;
		const struct result *others[] = { &l66, &l68, &lf };

		for (size_t k = 0; k < ARRAY_SIZE(others); k++)
			if (others[k]->stale == 0 && !others[k]->whole_vmid &&
			    others[k]->ops < fr.ops)
				ok = false;
		ok = ok && fr.ops <= naive;
		ok = ok && fn.stale == 0 &&
		     (pages <= TLBI_MAX_DVM_OPS ? fn.ops == pages && !fn.whole_vmid
						: fn.whole_vmid);
		if (!ok) {
			fprintf(stderr,
				"bench: ferry is not minimal/correct at %" PRIu64 " pages\n",
				pages);
			failures++;
		}
	}

	/* Planning cost: every page count of one chunk, ferry with range ops. */
	u64 total_ops = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (u64 p = 1; p <= TLBI_RANGE_MAX_PAGES; p++) {
		const struct tlbi_caps caps = { .range = true };

		tlbi_plan_s2_range(TLBI_ALGO_FERRY, &caps, ipa_init(IPA), p, -1, &plan);
		total_ops += plan.n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("\nferry planning (host, -O2): %.0f ns per range plan on average over all 2^21 page "
	       "counts of one chunk, %.2f ops per plan\n",
	       ns / (double)TLBI_RANGE_MAX_PAGES, (double)total_ops / (double)TLBI_RANGE_MAX_PAGES);
	printf("%s\n",
	       failures ? "FAIL: ferry not minimal among correct plans"
			: "OK: ferry's plans are correct and minimal among correct exact plans");
	free(dp);
	return failures + over_table(sizes, ARRAY_SIZE(sizes)) ? 1 : 0;
}
