/* SPDX-License-Identifier: Apache-2.0 */
/* The emitter: a thin loop over the plan, bracketed by the barriers the Arm ARM requires.
 *
 *   DSB ISHST      the descriptor writes of the downgrade are visible to every PE's table walker
 *                  before any TLBI (else a walker could re-cache the old entry after it)
 *   IPA ops        stage-2-only entries (including those used by the guest's own stage-1 walks)
 *   DSB ISH        the IPA ops have completed on every PE
 *   VMALLE1IS      combined stage-1+2 entries: IPA ops are "not required to apply to caching
 *                  structures that combine stage 1 and stage 2" (Arm ARM C5.5.14), and a combined
 *                  entry cannot be found by IPA
 *   DSB ISH; ISB   completed everywhere, and this PE's context resynchronized
 */
#include "arch/arch.h"
#include "lib/spinlock.h"
#include "mm/tlbi.h"

/* Flushes of different VMs run at once: broadcast TLBIs from several PEs at a time are
 * architecturally fine (each PE's DSB ISH waits for its own), and one VM's flush storm must not
 * delay another's. What needs serializing is per VM: its plan buffer (a 640-op plan is 10 KiB, too
 * big for a 16 KiB EL2 stack, so it is static) and the order of its sanitizer events. Each VMID has
 * a lane (VMIDs 1..8, ferry's VMs, one each). The ring and the sanitizer's table are shared by all
 * lanes and take the bookkeeping lock (tlbi_lock) only around each record, never across a DSB.
 * Waiters sleep in WFE (lib/spinlock.h says why that matters under QEMU). */
#define TLBI_LANES 8u
static struct tlbi_lane {
	spinlock_t lock;
	struct tlbi_plan plan;
} lanes[TLBI_LANES];

#ifdef FERRY_HOST
/* Host users (unit tests, tools/tlbi, bench/tlbi) are single-threaded, and tests query the
 * sanitizer from inside the fake_arch observer, i.e. while a record is in progress. */
void tlbi_lock(void) {}
void tlbi_unlock(void) {}
#else
static spinlock_t tlbi_book_lock;

void tlbi_lock(void) { spin_lock(&tlbi_book_lock); }
void tlbi_unlock(void) { spin_unlock(&tlbi_book_lock); }
#endif

static void emit_op(u16 vmid, unsigned kind, u64 operand)
{
	arch_tlbi(vmid, kind, operand);
	tlbi_lock();
	tlbi_ring_record(vmid, kind, operand);
	tlbi_san_observe(vmid, kind, operand);
	tlbi_unlock();
}

static void san_complete(u16 vmid, const struct tlbi_op *ops, size_t n, int level)
{
	tlbi_lock();
	tlbi_san_complete(vmid, ops, n, level);
	tlbi_unlock();
}

int tlbi_flush_s2_range_algo(enum tlbi_algo algo, const struct tlbi_caps *caps, u16 vmid,
			     ipa_t start, u64 pages, int level)
{
	static const struct tlbi_op vmalle1is = { TLBI_VMALLE1IS, 0 };
	struct tlbi_lane *lane = &lanes[vmid % TLBI_LANES];
	struct tlbi_plan *plan = &lane->plan;
	int err;

	if (!pages)
		return 0;
	spin_lock(&lane->lock);
	err = tlbi_plan_s2_range(algo, caps, start, pages, level, plan);
	if (err || !plan->n) {
		plan->level = -1;
		/* Never leave a downgrade uncovered because the request was odd. */
		plan->n = 1;
		plan->op[0].kind = TLBI_VMALLS12E1IS;
		plan->op[0].operand = 0;
	}
	arch_dsb_ishst();
	for (size_t i = 0; i < plan->n; i++)
		emit_op(vmid, plan->op[i].kind, plan->op[i].operand);
	arch_dsb_ish();
	san_complete(vmid, plan->op, plan->n, plan->level);
	emit_op(vmid, TLBI_VMALLE1IS, 0);
	arch_dsb_ish();
	san_complete(vmid, &vmalle1is, 1, -1);
	arch_isb();
	spin_unlock(&lane->lock);
	return err;
}

int tlbi_flush_s2_range(const struct tlbi_caps *caps, u16 vmid, ipa_t start, u64 pages, int level)
{
	return tlbi_flush_s2_range_algo(FERRY_TLBI_ALGO, caps, vmid, start, pages, level);
}

void tlbi_flush_s2_vmid(u16 vmid)
{
	static const struct tlbi_op vmalls12e1is = { TLBI_VMALLS12E1IS, 0 };
	struct tlbi_lane *lane = &lanes[vmid % TLBI_LANES];

	spin_lock(&lane->lock);
	arch_dsb_ishst();
	emit_op(vmid, TLBI_VMALLS12E1IS, 0);
	arch_dsb_ish();
	san_complete(vmid, &vmalls12e1is, 1, -1);
	arch_isb();
	spin_unlock(&lane->lock);
}
