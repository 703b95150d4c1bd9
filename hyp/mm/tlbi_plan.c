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
		.base_page = page, .ttl = ttl, .num = num, .scale = scale, .tg = TLBI_TG_4K,
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

static int plan_ferry(const struct tlbi_caps *caps, u64 page, u64 pages, int level,
		      struct tlbi_plan *out)
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
		err = plan_range_greedy(page, pages, range_ttl, ipa_ttl, out);
		if (err == FERRY_ERANGE)
			plan_whole_vmid(out); /* beyond ~5 TiB: one op is both correct and cheaper */
		return err == FERRY_ERANGE ? 0 : err;
	}
	if (pages / step > TLBI_MAX_DVM_OPS) {
		plan_whole_vmid(out);
		return 0;
	}
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
static u32 arm64_shift(int scale)
{
	return (u32)(5 * scale + 1) & 63u;
}

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
			num = (int)(MIN(pages, 32ULL << arm64_shift(scale)) >> arm64_shift(scale)) - 1;
		else
			num = linux_range_num_30(pages, scale);
		if (num >= 0) {
			u64 covered = (u64)(num + 1) << arm64_shift(scale);

			err = plan_push(out, TLBI_RIPAS2E1IS, linux_range_operand(page, scale, num));
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
	u64 addr = ipa_addr(start);
	u64 page = addr >> PAGE_SHIFT;

	out->n = 0;
	out->level = -1;
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

	if (algo == TLBI_ALGO_FERRY) {
		out->level = level;
		err = plan_ferry(caps, page, pages, level, out);
	} else {
		err = plan_linux(algo, caps, page, pages, out);
	}
	if (err)
		out->n = 0;
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
