/* SPDX-License-Identifier: Apache-2.0 */
/* Post-copy on the destination (docs/migration.md, "Post-copy"): the VM runs before all of its
 * pages are here. Those still missing are unmapped from its stage 2; a guest access to one takes a
 * translation fault, and the vCPU waits at EL2 for the page while the management CPU asks the
 * source for it (mig_dst_el2.c feeds mig_dst_request from here). ferry's own accesses to guest
 * memory through lib/gmem (the ITS and LPI tables) wait the same way on a vCPU's CPU and are
 * refused (FERRY_EAGAIN) on the management CPU, which is the one that has to fetch the page. */
#include "migrate/postcopy_el2.h"

#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/alloc.h"
#include "core/console.h"
#include "core/pcpu.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "lib/bitmap.h"
#include "migrate/mig_dst.h"
#include "migrate/migrate_el2.h"

static u64 page_of(const struct vm *vm, u64 ipa) { return (ipa - vm->cfg->ram_base) >> PAGE_SHIFT; }

static bool absent(const struct vm *vm, u64 page)
{
	const u64 *a = __atomic_load_n(&vm->pc_absent, __ATOMIC_ACQUIRE);

	return a && (__atomic_load_n(&a[page / 64], __ATOMIC_ACQUIRE) >> (page % 64)) & 1;
}

static bool keeps_waiting(const struct vcpu *v, u64 page)
{
	return absent(v->vm, page) && v->vm->state == VM_RUNNING &&
	       !(__atomic_load_n(&v->request, __ATOMIC_ACQUIRE) & REQ_STOP);
}

/* Parks the calling CPU until the page is here, the VM stops, or this vCPU is told to stop. The
 * management CPU learns of the wait from `slot` and is woken to ask for the page at once. */
static void wait_for(struct vcpu *v, volatile u64 *slot, u64 ipa)
{
	u64 page = page_of(v->vm, ipa), t0 = migrate_now_ns(NULL), waited;
	struct vm *vm = v->vm;

	__atomic_store_n(slot, (ipa & ~(PAGE_SIZE - 1)) + 1, __ATOMIC_RELEASE);
	dsb(ish);
	gic_kick_management(); /* the management CPU sleeps until its next frame or tick */
	/* WFI, not WFE (a WFE only yields under TCG); postcopy_arrived kicks this CPU after it
	 * cleared the bit, and a kick that came between the check and the WFI wakes it at once. */
	while (keeps_waiting(v, page)) {
		wfi();
		gic_drain();
	}
	__atomic_store_n(slot, 0, __ATOMIC_RELEASE);
	waited = migrate_now_ns(NULL) - t0;
	__atomic_fetch_add(&vm->pc_faults, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vm->pc_fault_ns_sum, waited, __ATOMIC_RELAXED);
	for (u64 m = __atomic_load_n(&vm->pc_fault_ns_max, __ATOMIC_RELAXED);
	     waited > m && !__atomic_compare_exchange_n(&vm->pc_fault_ns_max, &m, waited, false,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED);)
		;
}

/* A translation fault in RAM: if the page is one still on its way, wait for it and retry the
 * access (the entry is valid by then). Any other vCPU touching the same page waits for the same
 * request: the management CPU asks for a page once. */
bool postcopy_fault(struct vcpu *v, u64 ipa)
{
	if (!absent(v->vm, page_of(v->vm, ipa)))
		return false;
	wait_for(v, &v->pc_wait, ipa);
	return true;
}

/* lib/gmem's fetch: on a vCPU's CPU (the ITS and the LPI tables are reached from a vCPU's MMIO
 * trap) the access waits like a fault; on the management CPU it cannot wait for the frames it has
 * to receive itself, and the access is refused. */
static int gmem_fetch(void *ctx, u64 ipa, u64 len)
{
	struct vm *vm = ctx;
	struct pcpu *p = this_pcpu();
	struct vcpu *v = __atomic_load_n(&p->vcpu, __ATOMIC_ACQUIRE);

	if (!v || v->vm != vm)
		return FERRY_EAGAIN;
	for (u64 a = ipa & ~(PAGE_SIZE - 1); a < ipa + len; a += PAGE_SIZE)
		if (absent(vm, page_of(vm, a)))
			wait_for(v, &vm->pc_gmem_wait, a);
	return vm->state == VM_RUNNING ? 0 : FERRY_EAGAIN;
}

int postcopy_begin(struct vm *vm, const u64 *missing)
{
	u64 npages = vm->cfg->ram_size >> PAGE_SHIFT, words = BITMAP_WORDS(npages);
	struct s2_flush owed = { 0 };
	int err = 0;

	if (!vm->pc_absent_mem) {
		vm->pc_absent_mem = pool_zalloc_contig(ALIGN_UP(words * 8, PAGE_SIZE) / PAGE_SIZE);
		if (!vm->pc_absent_mem)
			return FERRY_ENOMEM;
	}
	memcpy(vm->pc_absent_mem, missing, words * 8);
	/* The vCPUs have not run yet: unmap every run of missing pages, then one flush. */
	spin_lock(&vm->mm_lock);
	for (u64 p = bitmap_next_set(vm->pc_absent_mem, npages, 0); p < npages && !err;) {
		u64 end = p;

		while (end < npages && bitmap_test(vm->pc_absent_mem, end))
			end++;
		err = s2_unmap(&vm->s2, ipa_init(vm->cfg->ram_base + (p << PAGE_SHIFT)),
			       (end - p) << PAGE_SHIFT, &owed);
		p = bitmap_next_set(vm->pc_absent_mem, npages, end);
	}
	vm_s2_flush_owed(vm, &owed);
	spin_unlock(&vm->mm_lock);
	if (err)
		return err;
	vm->pc_faults = vm->pc_fault_ns_sum = vm->pc_fault_ns_max = 0;
	vm->ram.fetch = gmem_fetch;
	vm->ram.fetch_ctx = vm;
	vm->ram.absent = vm->pc_absent_mem;
	__atomic_store_n(&vm->pc_absent, vm->pc_absent_mem, __ATOMIC_RELEASE);
	return 0;
}

/* The page is in guest RAM (written, its digest read back): make its stage-2 entry valid, then
 * clear its bit and wake whoever waits. The entry was invalid, and an entry that produces a
 * Translation fault is never held in a TLB (Arm ARM, "TLB maintenance requirements";
 * docs/stage2.md): no invalidation is owed before the first use of the new entry. */
void postcopy_arrived(struct vm *vm, u64 ipa)
{
	u64 page = page_of(vm, ipa);
	struct s2_flush owed = { 0 };
	int err;

	if (!vm->pc_absent || !absent(vm, page))
		return;
	spin_lock(&vm->mm_lock);
	err = s2_map(&vm->s2, ipa_init(ipa), pa_add(vm->ram_pa, page << PAGE_SHIFT), PAGE_SIZE,
		     S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed);
	vm_s2_flush_owed(vm, &owed);
	spin_unlock(&vm->mm_lock);
	if (err) /* no table memory: the page stays absent, its waiters wait; say why */
		con_printf("incoming: vm '%s': post-copy: cannot map IPA 0x%llx: %s", vm->cfg->name,
			   (unsigned long long)ipa, ferry_strerror(err));
	if (err)
		return;
	__atomic_fetch_and(&vm->pc_absent[page / 64], ~(1ULL << (page % 64)), __ATOMIC_RELEASE);
	dsb(ish);
	for (u32 i = 0; i < vm->nvcpus; i++)
		if (__atomic_load_n(&vm->vcpu[i].pc_wait, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&vm->pc_gmem_wait, __ATOMIC_ACQUIRE))
			vcpu_kick(&vm->vcpu[i]);
}

void postcopy_collect(struct vm *vm, int (*ask)(u64 ipa))
{
	u64 w;

	if (!vm->pc_absent)
		return;
	for (u32 i = 0; i < vm->nvcpus; i++) {
		w = __atomic_load_n(&vm->vcpu[i].pc_wait, __ATOMIC_ACQUIRE);
		if (w)
			ask(w - 1);
	}
	w = __atomic_load_n(&vm->pc_gmem_wait, __ATOMIC_ACQUIRE);
	if (w)
		ask(w - 1);
}

void postcopy_end(struct vm *vm)
{
	vm->ram.absent = NULL;
	vm->ram.fetch = NULL;
	__atomic_store_n(&vm->pc_absent, NULL, __ATOMIC_RELEASE);
}
