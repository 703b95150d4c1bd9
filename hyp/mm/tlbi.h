/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 TLB maintenance: the TLBI operand encoders/decoders, the flush planner (ferry's and the two
 * historical Linux algorithms kept as references), the emitter, the per-VMID ring of issued ops and
 * the TLBI sanitizer. Everything here is pure: hardware is reached only through arch/arch.h, so the
 * same files build for EL2 and for the host (unit tests, tools/tlbi, bench/tlbi).
 *
 * docs/tlb-maintenance.md explains the why; the short version: after a stage-2 downgrade
 * (write-protect, unmap, split, DBM clean) every PE's TLB may still hold the old, more permissive
 * entry, so the change is followed by broadcast IPA invalidation, DSB ISH, VMALLE1IS (IPA ops do not
 * reach combined stage-1+2 entries), DSB ISH, ISB. */
#ifndef FERRY_MM_TLBI_H
#define FERRY_MM_TLBI_H

#include "types.h"

/* Build switches. The sanitizer is on in every host build (tests, tools, bench) and in the ferry-san*
 * EL2 variants; the historical planners replace ferry's only in the bug-reproduction variants. */
#ifndef FERRY_TLBI_SANITIZER
#ifdef FERRY_HOST
#define FERRY_TLBI_SANITIZER 1
#else
#define FERRY_TLBI_SANITIZER 0
#endif
#endif
#ifndef FERRY_TLBI_ALGO
#define FERRY_TLBI_ALGO TLBI_ALGO_FERRY_OVER
#endif

/* The TLBI instructions ferry issues (values are below 1000 so tests/unit/fake_arch can tell them
 * from barriers in one log). All act on the current VMID (arch_tlbi makes it current). */
enum tlbi_kind {
	TLBI_IPAS2E1IS = 1, /* stage-2-only entries for one IPA, any level (Arm ARM C5.5.14) */
	TLBI_RIPAS2E1IS,    /* stage-2-only entries for an IPA range (FEAT_TLBIRANGE) */
	TLBI_VMALLS12E1IS,  /* every stage-1, stage-2 and combined entry of the VMID */
	TLBI_VMALLE1IS,     /* every stage-1 and combined stage-1+2 entry of the VMID */
};

/* Which planner turns a range into ops. FERRY is the exact cover (ops tile the range); FERRY_OVER
 * (the default) may also invalidate IPAs of the same VMID outside the range, or a page twice, when
 * the cost model below says that is cheaper: any range up to 8 GiB then takes at most 2 ops.
 * LINUX_6_6 and LINUX_6_8 reproduce the KVM/arm64 bugs of the review thread (docs/tlb-maintenance.md
 * walks through both); LINUX_FIXED is the upstream fix, kept for the benchmark. */
enum tlbi_algo {
	TLBI_ALGO_FERRY = 0,
	TLBI_ALGO_LINUX_6_6,
	TLBI_ALGO_LINUX_6_8,
	TLBI_ALGO_LINUX_FIXED,
	TLBI_ALGO_FERRY_OVER,
	TLBI_ALGO_NR,
};
const char *tlbi_algo_name(enum tlbi_algo algo);
const char *tlbi_kind_name(unsigned kind);

struct tlbi_caps {
	bool range; /* FEAT_TLBIRANGE: ID_AA64ISAR0_EL1.TLB (bits [59:56]) == 0b0010 */
	bool ttl;   /* FEAT_TTL: ID_AA64MMFR2_EL1.TTL (bits [51:48]) != 0 */
};
void tlbi_caps_from_idregs(u64 id_aa64isar0, u64 id_aa64mmfr2, struct tlbi_caps *caps);

/* Sizes at the 4K granule (ferry's only stage-2 granule). */
#define TLBI_MAX_DVM_OPS 512u              /* PTRS_PER_PTE: per-page ops before a VMID flush */
#define TLBI_RANGE_MAX_PAGES (32ULL << 16) /* (NUM 31 + 1) * 2^(5*3+1) = 2^21 pages = 8 GiB */
#define TLBI_RANGE_OPS_PER_CHUNK 5u        /* one op per SCALE 3..0 plus one single page */
/* Plan bound: ferry's worst cases are MAX_DVM_OPS per-page ops (no FEAT_TLBIRANGE) and, with range
 * ops, one op per full 8 GiB chunk plus at most 5 for the last one: 640 ops cover any range up to
 * 635 * 8 GiB (~5 TiB); ferry plans a larger range as one VMALLS12E1IS. */
#define TLBI_PLAN_MAX_OPS 640u

/* RIPAS2E1IS operand, 4K granule, no LPA2 (Arm ARM C5.5.2x "TLBI RIPAS2E1IS"):
 *   [63] NS (RES0 from Non-secure EL2), [62:48] RES0, TG[47:46] (0b01 = 4K), SCALE[45:44],
 *   NUM[43:39], TTL[38:37] (0 = any level, else the leaf level 1..3), BaseADDR[36:0] = IPA[48:12].
 * It covers (NUM + 1) * 2^(5 * SCALE + 1) granules from BaseADDR. */
struct tlbi_range_fields {
	u64 base_page; /* BaseADDR: IPA >> 12 */
	u32 ttl;
	u32 num;
	u32 scale;
	u32 tg;
	u32 high; /* bits [63:48]: NS and RES0; must be 0 to encode, reported when decoding */
};
#define TLBI_TG_4K 1u
int tlbi_range_encode(const struct tlbi_range_fields *f, u64 *operand);
void tlbi_range_decode(u64 operand, struct tlbi_range_fields *f);
/* Granules covered: (NUM + 1) << (5 * SCALE + 1), whatever TG says. */
u64 tlbi_range_pages(const struct tlbi_range_fields *f);
/* The IPA range [*start, *end) a 4K-granule stage 2 sees invalidated. A TG other than 4K covers
 * nothing ("the architecture does not require that the instruction invalidates any entries"):
 * returns false then. */
bool tlbi_range_ipa_span(const struct tlbi_range_fields *f, u64 *start, u64 *end);

/* IPAS2E1IS operand (Arm ARM C5.5.14): [63] NS, [47:44] TTL (with FEAT_TTL: [3:2] granule, 0b01 =
 * 4K, [1:0] leaf level), [39:36] IPA[51:48] (FEAT_LPA), [35:0] IPA[47:12]. */
struct tlbi_ipa_fields {
	u64 ipa_page; /* bits [39:0]: IPA >> 12 */
	u32 ttl;      /* 4 bits */
	u32 high;     /* bits [63:48] */
	u32 res0_43_40;
};
int tlbi_ipa_encode(const struct tlbi_ipa_fields *f, u64 *operand);
void tlbi_ipa_decode(u64 operand, struct tlbi_ipa_fields *f);

/* What one op invalidates as the Arm ARM defines it, for a 4K-granule stage 2. */
struct tlbi_cover {
	u64 start_page;     /* stage-2-only entries overlapping [start_page, start_page + pages) */
	u64 pages;          /* 0: no stage-2 entry is required to go */
	int level;          /* TTL hint: only leaf entries of this level (1..3); -1 any level */
	bool all_stage2;    /* every stage-2 entry of the VMID (VMALLS12E1IS) */
	bool all_stage1;    /* every stage-1 and combined entry of the VMID */
	bool unpredictable; /* range TTL 1/2 with an unaligned BaseADDR: the Arm ARM makes the range
			     * UNPREDICTABLE, ferry never issues it */
};
void tlbi_op_cover(unsigned kind, u64 operand, struct tlbi_cover *c);
/* An op invalidates whole leaf entries: when the changed leaves are known to be level-`level`
 * blocks (level 1..3, or the op's own TTL hint when level is -1), widen c to the blocks it hits. */
void tlbi_cover_widen(struct tlbi_cover *c, int level);

struct tlbi_op {
	enum tlbi_kind kind;
	u64 operand;
};
struct tlbi_plan {
	struct tlbi_op op[TLBI_PLAN_MAX_OPS];
	size_t n;
	int level;      /* the level hint the plan trusted (-1: none) */
	u64 over_pages; /* pages outside the range the ops invalidate too (FERRY_OVER only) */
	u64 cost;       /* the cost model's price of the plan (ferry planners; 0 for the others) */
};

/* The cost model FERRY_OVER minimizes: ops * op + over_pages * refill. `op` prices one broadcast
 * range/IPA op (every PE takes the DVM message, the DSB waits for the slowest), `refill` one stage-2
 * TLB refill of a page that was invalidated without having changed (paid only if it is used again
 * soon). Defaults (docs/tlb-maintenance.md): one op is worth 64 refills. Pages invalidated twice by
 * overlapping ops cost nothing extra: they changed and are refilled once either way. */
struct tlbi_cost {
	u32 op;
	u32 refill;
};
#define TLBI_COST_OP_DEFAULT 64u
#define TLBI_COST_REFILL_DEFAULT 1u
extern const struct tlbi_cost tlbi_cost_default;

/* Plans the invalidation of stage-2 entries for IPAs [start, start + pages * 4K). level: -1 unknown,
 * else 1..3, the level of every leaf entry changed; it is trusted only when start and pages are
 * aligned to that level's block (an inconsistent hint is dropped, never obeyed). pages == 0 gives an
 * empty plan. Errors: FERRY_EINVAL (unaligned start, bad level/algo, address beyond the operand's
 * reach), FERRY_ERANGE (a historical planner needed more than TLBI_PLAN_MAX_OPS ops). */
int tlbi_plan_s2_range(enum tlbi_algo algo, const struct tlbi_caps *caps, ipa_t start, u64 pages,
		       int level, struct tlbi_plan *out);
/* The same with an explicit cost model (FERRY_OVER's choice; tools/tlbi --op-cost/--refill-cost). */
int tlbi_plan_s2_range_cost(enum tlbi_algo algo, const struct tlbi_caps *caps, ipa_t start,
			    u64 pages, int level, const struct tlbi_cost *cost,
			    struct tlbi_plan *out);
/* Cover check used by tests, the tool and the bench: ops in ascending order of start (they may
 * overlap), or the plan is one VMALLS12E1IS, each op widened to the plan's level. Returns the number
 * of pages of [start, start + pages) the plan leaves stale (0 = correct) and sets *outside if some
 * op reaches beyond the range. */
u64 tlbi_plan_stale_pages(const struct tlbi_plan *plan, ipa_t start, u64 pages, bool *outside);

/* Plans and emits: DSB ISHST; the planned ops; DSB ISH; VMALLE1IS; DSB ISH; ISB. Records every op
 * in the VMID's ring and feeds the sanitizer. Uses FERRY_TLBI_ALGO. On a planning error the whole
 * VMID is flushed instead (never left stale) and the error is returned. */
int tlbi_flush_s2_range(const struct tlbi_caps *caps, u16 vmid, ipa_t start, u64 pages, int level);
/* The same with an explicit planner (tests, bench). */
int tlbi_flush_s2_range_algo(enum tlbi_algo algo, const struct tlbi_caps *caps, u16 vmid,
			     ipa_t start, u64 pages, int level);
/* Whole-VMID flush: DSB ISHST; VMALLS12E1IS; DSB ISH; ISB. */
void tlbi_flush_s2_vmid(u16 vmid);

/* Sanitizer. tlbi_san_downgrade records IPAs whose cached entries became stale (both stage-2-only
 * and combined entries); ops are observed inside tlbi_flush_*, and what each covers is cleared when
 * its completing DSB ISH is issued. Pending state is an interval list per VMID, so a downgrade of
 * 2^21+ pages costs the same as one page. */
void tlbi_san_downgrade(u16 vmid, ipa_t start, u64 pages);
bool tlbi_san_pending(u16 vmid);
struct tlbi_san_state {
	u64 stale_pages; /* stage-2 pages still pending */
	size_t stale_ranges;
	bool combined_stale; /* no VMALLE1IS/VMALLS12E1IS completed since a downgrade */
	bool imprecise;      /* the interval table overflowed: pending is over-approximated */
	u64 ops_since_downgrade;
};
void tlbi_san_query(u16 vmid, struct tlbi_san_state *st);
/* The report, line by line (no trailing newline): VMID, the stale IPA ranges (first
 * TLBI_SAN_REPORT_RANGES and a count), the ops issued since the downgrade. */
#define TLBI_SAN_REPORT_RANGES 8u
void tlbi_san_report(u16 vmid, void (*emit)(const char *line, void *ctx), void *ctx);

/* Ring of the last TLBI_RING_LEN ops per VMID, for the shell's `tlbi <vm>`. */
#define TLBI_RING_LEN 32u
void tlbi_ring_dump(u16 vmid, void (*emit)(const char *line, void *ctx), void *ctx);

/* Forget every ring and sanitizer record (tests; a VM rebuilt under its old VMID). */
void tlbi_state_reset(void);

/* One human-readable line describing an op (decoded fields and the IPA range covered), used by the
 * ring, the sanitizer report and tools/tlbi. Always NUL-terminates; returns FERRY_ERANGE if cut. */
#define TLBI_DESCRIBE_MAX 160u
int tlbi_op_describe(unsigned kind, u64 operand, char *buf, size_t len);

/* ---- Internal to hyp/mm/tlbi_*.c (declared here because they cross files). ---- */
/* A bounded line builder, so reports need no printf at EL2. */
#define TLBI_LINE_MAX 192u
struct tlbi_line {
	char buf[TLBI_LINE_MAX];
	size_t len;
	bool cut;
};
void tlbi_line_init(struct tlbi_line *l);
void tlbi_line_str(struct tlbi_line *l, const char *s);
void tlbi_line_hex(struct tlbi_line *l, u64 v);
void tlbi_line_dec(struct tlbi_line *l, u64 v);
/* Appends "IPA 0x...-0x... (N pages)" for [start_page, start_page + pages). */
void tlbi_line_pages(struct tlbi_line *l, u64 start_page, u64 pages);
void tlbi_line_op(struct tlbi_line *l, unsigned kind, u64 operand);
/* Sanitizer hooks the emitter calls (no-ops when FERRY_TLBI_SANITIZER is 0): an op was issued; a
 * DSB ISH completed the ops issued before it. Callers hold the tlbi lock: the bookkeeping lock of
 * the ring and the sanitizer's table, held around each record (tlbi_flush.c serializes each VM's
 * flushes in a lane of its own). */
void tlbi_san_observe(u16 vmid, unsigned kind, u64 operand);
void tlbi_san_complete(u16 vmid, const struct tlbi_op *ops, size_t n, int level);
void tlbi_ring_record(u16 vmid, unsigned kind, u64 operand);
void tlbi_lock(void);
void tlbi_unlock(void);

#endif
