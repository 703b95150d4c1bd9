/* SPDX-License-Identifier: Apache-2.0 */
/* The flush planner: "invalidate stage-2 entries for IPAs [start, start + pages)" -> TLBI ops.
 *
 * ferry's planner (FEAT_TLBIRANGE): per maximal 8 GiB chunk, greedy from SCALE 3 down to 0 with NUM
 * up to 31, then one IPAS2E1IS for a leftover odd page. Range ops with a 4K granule and no LPA2 need
 * no base alignment, so a chunk of N pages costs one op per non-zero base-32 digit of N/2 plus one
 * for N odd: at most 5, and exactly the minimum (tests/unit/test_tlbi_optimal.c checks it against a
 * dynamic program). Without FEAT_TLBIRANGE: one IPAS2E1IS per page, or per block when the level of
 * the changed leaves is known, up to MAX_DVM_OPS, else one VMALLS12E1IS (the per-block fallback Ryan
 * Roberts suggested in the review; upstream KVM flushes the whole VMID for any size).
 *
 * ferry-over (the default): the same chunks, but the last, partial chunk of R pages is priced three
 * ways by the cost model (ops * op + pages invalidated outside the range * refill) and the cheapest
 * is taken: the exact greedy cover above; two overlapping ops of the largest size S <= R, one at
 * each end (S >= R/2 always, so they meet, and nothing outside the range goes); one op of the
 * smallest size >= R, reaching past the range. Over-invalidation is correct here because every op
 * names the same VMID as the change (arch_tlbi makes it current) and only drops stage-2 entries,
 * which the walker refetches from the tables; it is never used for ops that carry a different
 * VMID or for stage-1 VA ops, which this planner does not issue.
 *
 * The two historical planners are reimplemented from the description of the kernels, bugs included,
 * so tests and tools can show what they issued. They never run in a correct build. */
#include "mm/tlbi.h"

#define CHUNK_PAGES TLBI_RANGE_MAX_PAGES
#define RANGE_PAGE_BITS 37 /* BaseADDR[36:0] */

static u64 level_block_pages(int level)
{
	/* 4K granule: level 3 = 4 KiB pages, level 2 = 2 MiB blocks, level 1 = 1 GiB blocks. */
	return 1ULL << (9 * (3 - level));
}

static int plan_push(struct tlbi_plan *out, enum tlbi_kind kind, u64 operand)
{
	if (out->n >= TLBI_PLAN_MAX_OPS)
		return FERRY_ERANGE;
	out->op[out->n].kind = kind;
	out->op[out->n].operand = operand;
	out->n++;
	return 0;
}

static void plan_whole_vmid(struct tlbi_plan *out)
{
	out->n = 0;
	out->level = -1;
	out->over_pages = 0; /* the whole VM: not counted, the planner cannot know its size */
	plan_push(out, TLBI_VMALLS12E1IS, 0);
}

static int push_ipa(struct tlbi_plan *out, u64 page, u32 ttl)
{
	struct tlbi_ipa_fields f = { .ipa_page = page, .ttl = ttl };
	u64 operand;
	int err = tlbi_ipa_encode(&f, &operand);

	return err ? err : plan_push(out, TLBI_IPAS2E1IS, operand);
}

static int push_range(struct tlbi_plan *out, u64 page, u32 scale, u32 num, u32 ttl)
{
	struct tlbi_range_fields f = {
		.base_page = page,
		.ttl = ttl,
		.num = num,
		.scale = scale,
		.tg = TLBI_TG_4K,
	};
	u64 operand;
	int err = tlbi_range_encode(&f, &operand);

	return err ? err : plan_push(out, TLBI_RIPAS2E1IS, operand);
}

/* ferry, and upstream's fixed algorithm (same op sequence; upstream passes no TTL hint). */
static int plan_range_greedy(u64 page, u64 pages, u32 range_ttl, u32 ipa_ttl, struct tlbi_plan *out)
{
	int err = 0;

	while (pages && !err) {
		u64 chunk = MIN(pages, CHUNK_PAGES);

		pages -= chunk;
		for (int scale = 3; scale >= 0 && !err; scale--) {
			u32 shift = 5 * (u32)scale + 1;
			u64 count = chunk >> shift; /* <= 32 because chunk <= 2^21 */

			if (!count)
				continue;
			err = push_range(out, page, (u32)scale, (u32)(count - 1), range_ttl);
			page += count << shift;
			chunk -= count << shift;
		}
		if (chunk && !err) {
			err = push_ipa(out, page, ipa_ttl);
			page++;
		}
	}
	return err;
}

const struct tlbi_cost tlbi_cost_default = { TLBI_COST_OP_DEFAULT, TLBI_COST_REFILL_DEFAULT };

/* A range op's unit at SCALE s: 2^(5s + 1) pages; one op covers 1..32 units. */
static u64 scale_unit(u32 scale) { return 1ULL << (5 * scale + 1); }

/* The largest single range-op size <= r (2 <= r <= CHUNK_PAGES): the top scale whose unit fits,
 * as many units as fit, at most 32. It is >= r / 2: at that scale r / unit >= 1, and the floor of a
 * number >= 1 is at least half of it (or the op is 32 units and r < 2 * 32 units, else the next
 * scale would fit). */
static void largest_fit(u64 r, u32 *scale, u32 *num)
{
	u32 s = 3;

	while (scale_unit(s) > r)
		s--;
	*scale = s;
	*num = (u32)(MIN(r / scale_unit(s), 32ULL) - 1);
}

/* The smallest single range-op size >= r (2 <= r <= CHUNK_PAGES): the lowest scale whose 32 units
 * reach r, rounded up to its unit (a higher scale's smallest op, 32 of the lower units, is never
 * smaller). */
static void smallest_cover(u64 r, u32 *scale, u32 *num)
{
	u32 s = 0;

	while (32 * scale_unit(s) < r)
		s++;
	*scale = s;
	*num = (u32)((r + scale_unit(s) - 1) / scale_unit(s) - 1);
}

/* TTL 1/2 with a base not aligned to that level's block is UNPREDICTABLE (Arm ARM, TLBI RIPAS2E1IS):
 * an over-covering op whose base is off the block grid goes without the hint (any level). */
static u32 ttl_at(u64 base, u32 range_ttl)
{
	if (range_ttl && range_ttl < 3 && !IS_ALIGNED(base, level_block_pages((int)range_ttl)))
		return 0;
	return range_ttl;
}

static u64 greedy_ops(u64 chunk)
{
	u64 ops = chunk & 1;

	for (u32 scale = 0; scale <= 3; scale++)
		ops += ((chunk >> (5 * scale + 1)) & (scale == 3 ? 63 : 31)) != 0;
	return ops;
}

/* The last, partial chunk of ferry-over: [page, page + r), 1 <= r <= CHUNK_PAGES. */
static int plan_over_tail(u64 page, u64 r, u32 range_ttl, u32 ipa_ttl, const struct tlbi_cost *cost,
			  struct tlbi_plan *out)
{
	enum {
		EXACT,
		PAIR,
		SINGLE
	} pick = EXACT;
	u64 best_ops = greedy_ops(r);
	u64 best = best_ops * cost->op;
	u32 ps = 0, pn = 0, ss = 0, sn = 0;
	u64 over = 0;

	/* Cheapest wins; on a tie, fewer ops (so even a model that prices ops at 0 keeps the
	 * two-op bound), then the earlier candidate (exact before overlapping before past-the-end). */
	if (r >= 2) {
		largest_fit(r, &ps, &pn);
		if (2 * cost->op < best || (2 * cost->op == best && best_ops > 2)) {
			pick = PAIR;
			best = 2 * cost->op;
			best_ops = 2;
		}
		smallest_cover(r, &ss, &sn);
		over = ((u64)(sn + 1) << (5 * ss + 1)) - r;
		if (cost->op + over * cost->refill < best ||
		    (cost->op + over * cost->refill == best && best_ops > 1)) {
			pick = SINGLE;
			best = cost->op + over * cost->refill;
		}
	}
	out->cost += best;
	if (pick == EXACT)
		return plan_range_greedy(page, r, range_ttl, ipa_ttl, out);
	if (pick == PAIR) {
		u64 second = page + r - ((u64)(pn + 1) << (5 * ps + 1));
		int err = push_range(out, page, ps, pn, ttl_at(page, range_ttl));

		return err ? err : push_range(out, second, ps, pn, ttl_at(second, range_ttl));
	}
	/* Past the end, unless that leaves BaseADDR's reach; then ending at the range's end (the
	 * range itself is within reach, so one of the two fits). */
	u64 size = (u64)(sn + 1) << (5 * ss + 1);
	u64 base = page + size <= BIT(RANGE_PAGE_BITS) ? page : page + r - size;

	out->over_pages += over;
	return push_range(out, base, ss, sn, ttl_at(base, range_ttl));
}

static int plan_ferry(enum tlbi_algo algo, const struct tlbi_caps *caps, u64 page, u64 pages,
		      int level, const struct tlbi_cost *cost, struct tlbi_plan *out)
{
	u32 range_ttl = 0, ipa_ttl = 0;
	u64 step = 1;
	int err;

	if (level > 0) {
		step = level_block_pages(level);
		if (caps->ttl) {
			range_ttl = (u32)level;
			ipa_ttl = TLBI_TG_4K << 2 | (u32)level;
		}
	}
	if (caps->range) {
		if (algo == TLBI_ALGO_FERRY_OVER) {
			u64 tail =
				pages % CHUNK_PAGES ? pages % CHUNK_PAGES : MIN(pages, CHUNK_PAGES);

			err = plan_range_greedy(page, pages - tail, range_ttl, ipa_ttl, out);
			out->cost = out->n * cost->op;
			if (!err)
				err = plan_over_tail(page + pages - tail, tail, range_ttl, ipa_ttl,
						     cost, out);
		} else {
			err = plan_range_greedy(page, pages, range_ttl, ipa_ttl, out);
			out->cost = out->n * cost->op;
		}
		if (err == FERRY_ERANGE)
			plan_whole_vmid(
				out); /* beyond ~5 TiB: one op is both correct and cheaper */
		return err == FERRY_ERANGE ? 0 : err;
	}
	if (pages / step > TLBI_MAX_DVM_OPS) {
		plan_whole_vmid(out);
		return 0;
	}
	out->cost = pages / step * cost->op;
	/* One op per block: IPAS2E1IS removes every entry that would translate that IPA, and each
	 * changed leaf is one block of `step` pages (the level was checked against the alignment). */
	for (u64 p = 0; p < pages; p += step) {
		err = push_ipa(out, page + p, ipa_ttl);
		if (err)
			return err;
	}
	return 0;
}

/* __TLBI_VADDR_RANGE as the kernels built it: plain ORs of unchecked values, so a SCALE of 4 lands
 * on TG and a negative SCALE sign-extends over bits [63:44]. */
static u64 linux_range_operand(u64 page, int scale, int num)
{
	return (page & GENMASK(36, 0)) | (u64)(s64)num << 39 | (u64)(s64)scale << 44 |
	       (u64)TLBI_TG_4K << 46;
}

/* An AArch64 LSL/LSR by a register uses the amount modulo 64: that is what the kernel's
 * `pages >> (5 * scale + 1)` did once scale went negative (undefined in C, defined on the CPU). */
static u32 arm64_shift(int scale) { return (u32)(5 * scale + 1) & 63u; }

static int linux_range_num_30(u64 pages, int scale)
{
	/* __TLBI_RANGE_NUM before the fix: NUM limited to 30, -1 when the digit is 0. */
	return (int)((pages >> arm64_shift(scale)) & 31) - 1;
}

static int plan_linux_chunk(enum tlbi_algo algo, u64 page, u64 pages, struct tlbi_plan *out)
{
	int scale = algo == TLBI_ALGO_LINUX_6_6 ? 0 : 3;
	int err;

	while (pages > 0) {
		bool single = algo == TLBI_ALGO_LINUX_6_6 ? (pages & 1) : pages == 1;

		if (single) {
			err = push_ipa(out, page, 0);
			if (err)
				return err;
			page++;
			pages--;
			continue;
		}
		/* The kernels had no bound here; ours stops where theirs would spin. */
		if (scale > 12 || scale < -64)
			return FERRY_ERANGE;
		int num;

		if (algo == TLBI_ALGO_LINUX_FIXED)
			num = (int)(MIN(pages, 32ULL << arm64_shift(scale)) >> arm64_shift(scale)) -
			      1;
		else
			num = linux_range_num_30(pages, scale);
		if (num >= 0) {
			u64 covered = (u64)(num + 1) << arm64_shift(scale);

			err = plan_push(out, TLBI_RIPAS2E1IS,
					linux_range_operand(page, scale, num));
			if (err)
				return err;
			page += covered;
			pages -= MIN(covered, pages);
		}
		scale += algo == TLBI_ALGO_LINUX_6_6 ? 1 : -1;
	}
	return 0;
}

static int plan_linux(enum tlbi_algo algo, const struct tlbi_caps *caps, u64 page, u64 pages,
		      struct tlbi_plan *out)
{
	/* kvm_tlb_flush_vmid_range(): no FEAT_TLBIRANGE means a whole-VMID flush, whatever the size;
	 * otherwise chunks of MAX_TLBI_RANGE_PAGES, each through __flush_tlb_range_op. */
	if (!caps->range) {
		plan_whole_vmid(out);
		return 0;
	}
	while (pages) {
		u64 chunk = MIN(pages, CHUNK_PAGES);
		int err = plan_linux_chunk(algo, page, chunk, out);

		if (err)
			return err;
		page += chunk;
		pages -= chunk;
	}
	return 0;
}

int tlbi_plan_s2_range(enum tlbi_algo algo, const struct tlbi_caps *caps, ipa_t start, u64 pages,
		       int level, struct tlbi_plan *out)
{
	return tlbi_plan_s2_range_cost(algo, caps, start, pages, level, &tlbi_cost_default, out);
}

int tlbi_plan_s2_range_cost(enum tlbi_algo algo, const struct tlbi_caps *caps, ipa_t start,
			    u64 pages, int level, const struct tlbi_cost *cost,
			    struct tlbi_plan *out)
{
	u64 addr = ipa_addr(start);
	u64 page = addr >> PAGE_SHIFT;

	out->n = 0;
	out->level = -1;
	out->over_pages = 0;
	out->cost = 0;
	if (!IS_ALIGNED(addr, PAGE_SIZE) || level == 0 || level < -1 || level > 3 ||
	    (unsigned)algo >= TLBI_ALGO_NR)
		return FERRY_EINVAL;
	if (!pages)
		return 0;
	/* The range must be addressable by both operand forms: BaseADDR is IPA[48:12]. */
	if (pages > BIT(RANGE_PAGE_BITS) || page > BIT(RANGE_PAGE_BITS) - pages)
		return FERRY_EINVAL;
	if (level > 0 && (!IS_ALIGNED(page, level_block_pages(level)) ||
			  !IS_ALIGNED(pages, level_block_pages(level))))
		level = -1;

	int err;

	if (algo == TLBI_ALGO_FERRY || algo == TLBI_ALGO_FERRY_OVER) {
		out->level = level;
		err = plan_ferry(algo, caps, page, pages, level, cost, out);
	} else {
		err = plan_linux(algo, caps, page, pages, out);
	}
	if (err) {
		out->n = 0;
		out->over_pages = 0;
	}
	return err;
}

u64 tlbi_plan_stale_pages(const struct tlbi_plan *plan, ipa_t start, u64 pages, bool *outside)
{
	u64 first = ipa_addr(start) >> PAGE_SHIFT;
	u64 end = first + pages;
	u64 next = first; /* [first, next) is covered so far */
	u64 stale = 0;

	*outside = false;
	for (size_t i = 0; i < plan->n; i++) {
		struct tlbi_cover c;

		tlbi_op_cover(plan->op[i].kind, plan->op[i].operand, &c);
		tlbi_cover_widen(&c, plan->level);
		if (c.all_stage2)
			return 0;
		if (!c.pages || c.unpredictable)
			continue;
		if (c.start_page < first || c.start_page + c.pages > end)
			*outside = true;
		/* A sorted cover extends [first, next); an op starting beyond `next` leaves a hole.
		 * (Ops out of ascending order are counted as holes: conservative.) */
		if (c.start_page > next && next < end)
			stale += MIN(c.start_page, end) - next;
		if (c.start_page + c.pages > next)
			next = c.start_page + c.pages;
	}
	if (next < end)
		stale += end - next;
	return stale;
}
