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

/* One static plan, used under the lock: a 640-op plan is 10 KiB, too big for a 16 KiB EL2 stack. */
static struct tlbi_plan flush_plan;

#ifdef FERRY_HOST
/* Host users (unit tests, tools/tlbi, bench/tlbi) are single-threaded, and tests query the
 * sanitizer from inside the fake_arch observer, i.e. while a flush is in progress. */
void tlbi_lock(void) {}
void tlbi_unlock(void) {}
#else
static spinlock_t tlbi_lock_word;

/* Flushes may run on several PEs at once (a vCPU's break-before-make, the management CPU's dirty-log
 * collection); the ring and the sanitizer are shared. */
void tlbi_lock(void) { spin_lock(&tlbi_lock_word); }
void tlbi_unlock(void) { spin_unlock(&tlbi_lock_word); }
#endif

static void emit_op(u16 vmid, unsigned kind, u64 operand)
{
	arch_tlbi(vmid, kind, operand);
	tlbi_ring_record(vmid, kind, operand);
	tlbi_san_observe(vmid, kind, operand);
}

int tlbi_flush_s2_range_algo(enum tlbi_algo algo, const struct tlbi_caps *caps, u16 vmid,
			     ipa_t start, u64 pages, int level)
{
	static const struct tlbi_op vmalle1is = { TLBI_VMALLE1IS, 0 };
	int err;

	if (!pages)
		return 0;
	tlbi_lock();
	err = tlbi_plan_s2_range(algo, caps, start, pages, level, &flush_plan);
	if (err || !flush_plan.n) {
		flush_plan.level = -1;
		/* Never leave a downgrade uncovered because the request was odd. */
		flush_plan.n = 1;
		flush_plan.op[0].kind = TLBI_VMALLS12E1IS;
		flush_plan.op[0].operand = 0;
	}
	arch_dsb_ishst();
	for (size_t i = 0; i < flush_plan.n; i++)
		emit_op(vmid, flush_plan.op[i].kind, flush_plan.op[i].operand);
	arch_dsb_ish();
	tlbi_san_complete(vmid, flush_plan.op, flush_plan.n, flush_plan.level);
	emit_op(vmid, TLBI_VMALLE1IS, 0);
	arch_dsb_ish();
	tlbi_san_complete(vmid, &vmalle1is, 1, -1);
	arch_isb();
	tlbi_unlock();
	return err;
}

int tlbi_flush_s2_range(const struct tlbi_caps *caps, u16 vmid, ipa_t start, u64 pages, int level)
{
	return tlbi_flush_s2_range_algo(FERRY_TLBI_ALGO, caps, vmid, start, pages, level);
}

void tlbi_flush_s2_vmid(u16 vmid)
{
	static const struct tlbi_op vmalls12e1is = { TLBI_VMALLS12E1IS, 0 };

	tlbi_lock();
	arch_dsb_ishst();
	emit_op(vmid, TLBI_VMALLS12E1IS, 0);
	arch_dsb_ish();
	tlbi_san_complete(vmid, &vmalls12e1is, 1, -1);
	arch_isb();
	tlbi_unlock();
}
