/* SPDX-License-Identifier: Apache-2.0 */
/* Per-VMID records: the ring of the last TLBI ops (shell `tlbi <vm>`) and the TLBI sanitizer.
 *
 * The sanitizer shadows every stage-2 downgrade as pending, in two parts:
 *   - stage-2-only entries for the downgraded IPAs: a sorted list of disjoint page intervals, cleared
 *     by what each completed IPAS2E1IS/RIPAS2E1IS covers as the hardware decodes it, or by
 *     VMALLS12E1IS;
 *   - combined stage-1+2 entries of the VMID: cleared only by VMALLE1IS or VMALLS12E1IS, because a
 *     combined entry is looked up by VA, never by IPA.
 * "Completed" means a DSB ISH was issued after the op; ferry refuses to enter a guest while anything
 * is pending (hyp/core/vcpu.c), which is how a wrong operand becomes visible on QEMU, whose own TLB
 * over-invalidates range ops.
 *
 * Storage is static and bounded: TLBI_SLOTS slots map any u16 VMID (ferry has at most 8 VMs). */
#include "mm/tlbi.h"

#define TLBI_SLOTS 16u
#define SAN_MAX_RANGES 32u
#define SAN_OPLOG 16u

struct ring_entry {
	u64 seq;
	u64 operand;
	u32 kind;
};

struct page_range {
	u64 start, end; /* pages, [start, end) */
};

struct san_record {
	struct page_range pend[SAN_MAX_RANGES];
	size_t npend;
	bool combined_stale;
	bool imprecise;
	u64 ops_since;
	struct tlbi_op oplog[SAN_OPLOG];
};

struct vm_slot {
	bool used;
	u16 vmid;
	u64 last_use;
	u64 ring_count;
	struct ring_entry ring[TLBI_RING_LEN];
	struct san_record san;
};

static struct vm_slot slots[TLBI_SLOTS];
static u64 tlbi_seq;
static bool san_table_overflow;

static bool san_has_pending(const struct san_record *s) { return s->npend || s->combined_stale; }

static struct vm_slot *slot_of(u16 vmid, bool create)
{
	struct vm_slot *victim = NULL;

	for (size_t i = 0; i < TLBI_SLOTS; i++)
		if (slots[i].used && slots[i].vmid == vmid)
			return &slots[i];
	if (!create)
		return NULL;
	/* A free slot, else the least recently used one with nothing pending: losing a ring is
	 * harmless, losing pending sanitizer state is not. */
	for (size_t i = 0; i < TLBI_SLOTS; i++) {
		struct vm_slot *s = &slots[i];

		if (!s->used) {
			victim = s;
			break;
		}
		if (!san_has_pending(&s->san) && (!victim || s->last_use < victim->last_use))
			victim = s;
	}
	if (!victim)
		return NULL;
	*victim = (struct vm_slot){ .used = true, .vmid = vmid };
	return victim;
}

void tlbi_state_reset(void)
{
	tlbi_lock();
	for (size_t i = 0; i < TLBI_SLOTS; i++)
		slots[i] = (struct vm_slot){ 0 };
	tlbi_seq = 0;
	san_table_overflow = false;
	tlbi_unlock();
}

void tlbi_ring_record(u16 vmid, unsigned kind, u64 operand)
{
	struct vm_slot *s = slot_of(vmid, true);

	tlbi_seq++;
	if (!s)
		return;
	s->last_use = tlbi_seq;
	s->ring[s->ring_count % TLBI_RING_LEN] = (struct ring_entry){ tlbi_seq, operand, kind };
	s->ring_count++;
}

static void emit_line(struct tlbi_line *l, void (*emit)(const char *line, void *ctx), void *ctx)
{
	emit(l->buf, ctx);
	tlbi_line_init(l);
}

void tlbi_ring_dump(u16 vmid, void (*emit)(const char *line, void *ctx), void *ctx)
{
	struct ring_entry copy[TLBI_RING_LEN];
	struct tlbi_line l;
	u64 count = 0;
	size_t shown;

	tlbi_lock();
	struct vm_slot *s = slot_of(vmid, false);

	if (s) {
		count = s->ring_count;
		for (size_t i = 0; i < TLBI_RING_LEN; i++)
			copy[i] = s->ring[i];
	}
	tlbi_unlock();

	tlbi_line_init(&l);
	tlbi_line_str(&l, "VMID ");
	tlbi_line_dec(&l, vmid);
	if (!count) {
		tlbi_line_str(&l, ": no TLBI issued");
		emit_line(&l, emit, ctx);
		return;
	}
	shown = count < TLBI_RING_LEN ? (size_t)count : TLBI_RING_LEN;
	tlbi_line_str(&l, ": last ");
	tlbi_line_dec(&l, shown);
	tlbi_line_str(&l, " of ");
	tlbi_line_dec(&l, count);
	tlbi_line_str(&l, " TLBI ops, oldest first");
	emit_line(&l, emit, ctx);
	for (u64 i = count - shown; i < count; i++) {
		const struct ring_entry *e = &copy[i % TLBI_RING_LEN];

		tlbi_line_str(&l, "  #");
		tlbi_line_dec(&l, e->seq);
		tlbi_line_str(&l, " ");
		tlbi_line_op(&l, e->kind, e->operand);
		emit_line(&l, emit, ctx);
	}
}

#if FERRY_TLBI_SANITIZER

/* Keeps at most SAN_MAX_RANGES intervals by merging the two closest neighbours: the pending set is
 * then over-approximated (a false alarm is possible, a missed stale entry is not). */
static void ranges_store(struct san_record *s, const struct page_range *r, size_t n)
{
	struct page_range tmp[SAN_MAX_RANGES + 2];

	for (size_t i = 0; i < n; i++)
		tmp[i] = r[i];
	while (n > SAN_MAX_RANGES) {
		size_t best = 0;

		for (size_t i = 1; i + 1 < n; i++)
			if (tmp[i + 1].start - tmp[i].end < tmp[best + 1].start - tmp[best].end)
				best = i;
		tmp[best].end = tmp[best + 1].end;
		for (size_t i = best + 1; i + 1 < n; i++)
			tmp[i] = tmp[i + 1];
		n--;
		s->imprecise = true;
	}
	for (size_t i = 0; i < n; i++)
		s->pend[i] = tmp[i];
	s->npend = n;
}

static void ranges_add(struct san_record *s, u64 a, u64 b)
{
	struct page_range out[SAN_MAX_RANGES + 2];
	size_t n = 0, i = 0;

	while (i < s->npend && s->pend[i].end < a)
		out[n++] = s->pend[i++];
	struct page_range merged = { a, b };

	while (i < s->npend && s->pend[i].start <= b) {
		merged.start = MIN(merged.start, s->pend[i].start);
		merged.end = MAX(merged.end, s->pend[i].end);
		i++;
	}
	out[n++] = merged;
	while (i < s->npend)
		out[n++] = s->pend[i++];
	ranges_store(s, out, n);
}

static void ranges_clear(struct san_record *s, u64 a, u64 b)
{
	struct page_range out[SAN_MAX_RANGES + 2];
	size_t n = 0;

	for (size_t i = 0; i < s->npend; i++) {
		struct page_range r = s->pend[i];

		if (r.end <= a || r.start >= b) {
			out[n++] = r;
			continue;
		}
		if (r.start < a)
			out[n++] = (struct page_range){ r.start, a };
		if (r.end > b)
			out[n++] = (struct page_range){ b, r.end };
	}
	ranges_store(s, out, n);
}

void tlbi_san_downgrade(u16 vmid, ipa_t start, u64 pages)
{
	u64 first = ipa_addr(start) >> PAGE_SHIFT;

	if (!pages)
		return;
	tlbi_lock();
	struct vm_slot *s = slot_of(vmid, true);

	if (!s) {
		san_table_overflow = true;
	} else {
		if (!san_has_pending(&s->san))
			s->san.ops_since = 0;
		ranges_add(&s->san, first, first + pages);
		s->san.combined_stale = true;
	}
	tlbi_unlock();
}

void tlbi_san_observe(u16 vmid, unsigned kind, u64 operand)
{
	struct vm_slot *s = slot_of(vmid, false);

	if (!s || !san_has_pending(&s->san))
		return;
	if (s->san.ops_since < SAN_OPLOG)
		s->san.oplog[s->san.ops_since] = (struct tlbi_op){ (enum tlbi_kind)kind, operand };
	s->san.ops_since++;
}

void tlbi_san_complete(u16 vmid, const struct tlbi_op *ops, size_t n, int level)
{
	struct vm_slot *s = slot_of(vmid, false);

	if (!s)
		return;
	for (size_t i = 0; i < n && san_has_pending(&s->san); i++) {
		struct tlbi_cover c;

		tlbi_op_cover(ops[i].kind, ops[i].operand, &c);
		/* The planner's level (or the op's TTL) is trusted like the hardware trusts a TTL hint:
		 * an op at one IPA of a block removes that whole block entry. */
		tlbi_cover_widen(&c, level);
		if (c.all_stage2)
			s->san.npend = 0;
		else if (c.pages && !c.unpredictable)
			ranges_clear(&s->san, c.start_page, c.start_page + c.pages);
		if (c.all_stage1)
			s->san.combined_stale = false;
	}
}

bool tlbi_san_pending(u16 vmid)
{
	bool pending;

	tlbi_lock();
	struct vm_slot *s = slot_of(vmid, false);

	pending = san_table_overflow || (s && san_has_pending(&s->san));
	tlbi_unlock();
	return pending;
}

void tlbi_san_query(u16 vmid, struct tlbi_san_state *st)
{
	*st = (struct tlbi_san_state){ 0 };
	tlbi_lock();
	struct vm_slot *s = slot_of(vmid, false);

	if (s) {
		for (size_t i = 0; i < s->san.npend; i++)
			st->stale_pages += s->san.pend[i].end - s->san.pend[i].start;
		st->stale_ranges = s->san.npend;
		st->combined_stale = s->san.combined_stale;
		st->imprecise = s->san.imprecise;
		st->ops_since_downgrade = s->san.ops_since;
	}
	st->imprecise = st->imprecise || san_table_overflow;
	tlbi_unlock();
}

void tlbi_san_report(u16 vmid, void (*emit)(const char *line, void *ctx), void *ctx)
{
	struct san_record copy;
	struct tlbi_line l;
	bool found, overflow;
	u64 stale = 0;

	tlbi_lock();
	struct vm_slot *s = slot_of(vmid, false);

	found = s != NULL;
	if (found)
		copy = s->san;
	overflow = san_table_overflow;
	tlbi_unlock();

	tlbi_line_init(&l);
	if (overflow) {
		tlbi_line_str(&l, "sanitizer: VMID table full, downgrades went untracked");
		emit_line(&l, emit, ctx);
	}
	tlbi_line_str(&l, "VMID ");
	tlbi_line_dec(&l, vmid);
	if (!found || !san_has_pending(&copy)) {
		tlbi_line_str(&l, ": no stale stage-2 entries pending");
		emit_line(&l, emit, ctx);
		return;
	}
	for (size_t i = 0; i < copy.npend; i++)
		stale += copy.pend[i].end - copy.pend[i].start;
	tlbi_line_str(&l, ": stale after a stage-2 downgrade: ");
	tlbi_line_dec(&l, stale);
	tlbi_line_str(&l, " page(s) in ");
	tlbi_line_dec(&l, copy.npend);
	tlbi_line_str(&l, " range(s)");
	if (copy.imprecise)
		tlbi_line_str(&l, " (over-approximated: interval table overflowed)");
	emit_line(&l, emit, ctx);
	for (size_t i = 0; i < copy.npend && i < TLBI_SAN_REPORT_RANGES; i++) {
		tlbi_line_str(&l, "  stale ");
		tlbi_line_pages(&l, copy.pend[i].start, copy.pend[i].end - copy.pend[i].start);
		emit_line(&l, emit, ctx);
	}
	if (copy.npend > TLBI_SAN_REPORT_RANGES) {
		tlbi_line_str(&l, "  ... and ");
		tlbi_line_dec(&l, copy.npend - TLBI_SAN_REPORT_RANGES);
		tlbi_line_str(&l, " more range(s)");
		emit_line(&l, emit, ctx);
	}
	if (copy.combined_stale) {
		tlbi_line_str(
			&l,
			"  combined stage-1+2 entries stale: no VMALLE1IS/VMALLS12E1IS completed");
		emit_line(&l, emit, ctx);
	}
	tlbi_line_str(&l, "  ops issued since the downgrade: ");
	tlbi_line_dec(&l, copy.ops_since);
	emit_line(&l, emit, ctx);
	for (u64 i = 0; i < copy.ops_since && i < SAN_OPLOG; i++) {
		tlbi_line_str(&l, "    ");
		tlbi_line_op(&l, copy.oplog[i].kind, copy.oplog[i].operand);
		emit_line(&l, emit, ctx);
	}
	if (copy.ops_since > SAN_OPLOG) {
		tlbi_line_str(&l, "    ... and ");
		tlbi_line_dec(&l, copy.ops_since - SAN_OPLOG);
		tlbi_line_str(&l, " more");
		emit_line(&l, emit, ctx);
	}
}

#else /* !FERRY_TLBI_SANITIZER: the hooks cost nothing */

void tlbi_san_downgrade(u16 vmid, ipa_t start, u64 pages)
{
	(void)vmid;
	(void)start;
	(void)pages;
}

void tlbi_san_observe(u16 vmid, unsigned kind, u64 operand)
{
	(void)vmid;
	(void)kind;
	(void)operand;
}

void tlbi_san_complete(u16 vmid, const struct tlbi_op *ops, size_t n, int level)
{
	(void)vmid;
	(void)ops;
	(void)n;
	(void)level;
}

bool tlbi_san_pending(u16 vmid)
{
	(void)vmid;
	return false;
}

void tlbi_san_query(u16 vmid, struct tlbi_san_state *st)
{
	(void)vmid;
	*st = (struct tlbi_san_state){ 0 };
}

void tlbi_san_report(u16 vmid, void (*emit)(const char *line, void *ctx), void *ctx)
{
	(void)vmid;
	emit("sanitizer not built in (build with FERRY_TLBI_SANITIZER=1)", ctx);
}

#endif
