/* SPDX-License-Identifier: Apache-2.0 */
/* A reference TLB for stage-2 maintenance, applying each TLBI exactly as the Arm ARM defines it and
 * no more (unlike QEMU, whose TLB over-invalidates range ops and so hides wrong operands).
 *
 * Per VMID it caches:
 *   - stage-2-only leaf entries at level 1, 2 or 3 (1 GiB, 2 MiB, 4 KiB), kept as block-aligned page
 *     intervals per level, so caching 2^21+ pages is one interval, not 2^21 entries;
 *   - combined stage-1+2 entries, kept by the IPA they translate to (their VA does not matter: no
 *     IPA-based op can find them).
 * Rules applied (Arm ARM C5.5, "TLBI IPAS2E1IS", "TLBI RIPAS2E1IS", "TLBI VMALLE1IS", "TLBI
 * VMALLS12E1IS"):
 *   - IPAS2E1IS / RIPAS2E1IS remove stage-2-only entries that would translate any IPA of the op (at
 *     the TTL level only, when a TTL hint is given), never combined entries; a range op whose TG is
 *     not 4K, or whose TTL 1/2 comes with an unaligned BaseADDR (UNPREDICTABLE), removes nothing;
 *   - VMALLE1IS removes the VMID's stage-1 and combined entries; VMALLS12E1IS removes everything of
 *     the VMID;
 *   - a TLBI takes effect only once a DSB ISH follows it (the model does not credit DSB ISHST with
 *     completing TLB maintenance: stricter than needed is fine for a reference);
 *   - a TLBI issued after tlb_model_write_tables() but before any DSB removes nothing (the walker may
 *     re-cache the old descriptor) and counts as an ordering violation. */
#ifndef FERRY_TLB_MODEL_H
#define FERRY_TLB_MODEL_H

#include "fake_arch.h"
#include "types.h"

#define TLB_MODEL_VMIDS 4

struct tlb_model_range {
	u64 start, end; /* pages, [start, end) */
};

struct tlb_model_set {
	struct tlb_model_range *r;
	size_t n, cap;
};

struct tlb_model_vm {
	bool used;
	u16 vmid;
	struct tlb_model_set s2[4]; /* index = level 1..3 */
	struct tlb_model_set combined;
};

struct tlb_model_pending {
	u16 vmid;
	unsigned kind;
	u64 operand;
	bool ineffective;
};

struct tlb_model {
	struct tlb_model_vm vm[TLB_MODEL_VMIDS];
	struct tlb_model_pending *pending;
	size_t npending, cap_pending;
	bool tables_unordered;
	u64 ordering_violations;
	u64 unpredictable_ops;
	u64 completed_ops;
};

void tlb_model_init(struct tlb_model *m);
void tlb_model_free(struct tlb_model *m);
/* Cache stage-2-only leaf entries of `level` for pages [first, first + pages) (block-aligned). */
void tlb_model_fill_s2(struct tlb_model *m, u16 vmid, u64 first, u64 pages, int level);
/* Cache combined stage-1+2 entries translating to IPA pages [first, first + pages). */
void tlb_model_fill_combined(struct tlb_model *m, u16 vmid, u64 first, u64 pages);
/* The downgrade's descriptor writes happened: they are ordered by the next DSB. */
void tlb_model_write_tables(struct tlb_model *m);
/* One fake_arch event: a barrier kind (FAKE_*) or a TLBI kind with its operand. */
void tlb_model_event(struct tlb_model *m, unsigned kind, u16 vmid, u64 operand);
/* fake_arch_observer adapter: ctx is the struct tlb_model. */
void tlb_model_observer(const struct fake_arch_event *ev, void *ctx);
/* Pages of [first, first + pages) still translated by a cached stage-2-only entry (any level) or
 * by a combined entry; the stale intervals (merged, ascending) go to out[0..max). */
u64 tlb_model_stale_s2(const struct tlb_model *m, u16 vmid, u64 first, u64 pages,
		       struct tlb_model_range *out, size_t max, size_t *nout);
u64 tlb_model_stale_combined(const struct tlb_model *m, u16 vmid, u64 first, u64 pages);

#endif
