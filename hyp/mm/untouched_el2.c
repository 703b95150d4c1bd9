/* SPDX-License-Identifier: Apache-2.0 */
#include "mm/untouched_el2.h"

#include "core/alloc.h"
#include "core/machine.h"
#include "core/vm.h"
#include "lib/bitmap.h"
#include "lib/range.h"
#include "lib/spinlock.h"
#include "mm/dirty_el2.h"
#include "mm/s2.h"

#define GRANULE_SHIFT 21 /* the record of ferry's writes: a bit per 2 MiB */
#define PAGES_PER_GRANULE (1ULL << (GRANULE_SHIFT - PAGE_SHIFT))
#define RUN_MAX 4096 /* pages one untouched_run looks at, under the stage-2 lock */

static u64 granules(const struct vm *vm) { return vm->cfg->ram_size >> GRANULE_SHIFT; }

int untouched_init(struct vm *vm)
{
	u64 words = BITMAP_WORDS(granules(vm)), first, last;

	vm->ferry_wrote = pool_zalloc_contig(ALIGN_UP(words * 8, PAGE_SIZE) / PAGE_SIZE);
	if (!vm->ferry_wrote)
		return FERRY_ENOMEM;
	/* QEMU put the DTB it booted ferry with in RAM that may now be this VM's. */
	if (range_granules(pa_addr(vm->ram_pa), granules(vm), GRANULE_SHIFT, machine.boot_dtb_pa,
			   machine.boot_dtb_size, &first, &last))
		bitmap_fill_range(vm->ferry_wrote, first, last - first + 1);
	return 0;
}

void untouched_note(struct vm *vm, u64 ipa, u64 len)
{
	u64 first, last;

	if (!vm->ferry_wrote || !range_granules(vm->cfg->ram_base, granules(vm), GRANULE_SHIFT, ipa,
						len, &first, &last))
		return;
	/* Release: round 0 reads the bit, then (finding it clear) may skip the page. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	bitmap_fill_range_atomic(vm->ferry_wrote, first, last - first + 1);
}

void vm_ram_wrote(void *ctx, u64 ipa, u64 len)
{
	untouched_note(ctx, ipa, len);
	dirtylog_note_write(ctx, ipa, len);
}

bool untouched_af_fault(struct vm *vm, u64 ipa)
{
	int level;
	u64 d, *ptep;

	spin_lock(&vm->mm_lock);
	ptep = s2_leaf_ptr(&vm->s2, ipa, &level, &d);
	/* Setting the flag is a relaxation: an entry that gave an access flag fault is never held
	 * in a TLB (as for KVM's handling of the same fault), so nothing is flushed. */
	if (ptep)
		__atomic_fetch_or(ptep, S2_DESC_AF, __ATOMIC_RELAXED);
	spin_unlock(&vm->mm_lock);
	return ptep != NULL;
}

u64 untouched_run(struct vm *vm, u64 page, u64 max)
{
	u64 n = 0;

	if (!vm->ram_untouched)
		return 0;
	max = MIN(max, RUN_MAX);
	spin_lock(&vm->mm_lock);
	while (n < max) {
		u64 p = page + n, ipa = vm->cfg->ram_base + (p << PAGE_SHIFT), d;
		int level;

		if (bitmap_test(vm->ferry_wrote, p / PAGES_PER_GRANULE) ||
		    !s2_leaf_ptr(&vm->s2, ipa, &level, &d) || (d & S2_DESC_AF))
			break;
		/* The rest of the leaf has the same flag, and the rest of the 2 MiB the same bit:
		 * one look per block. */
		n += MIN((s2_level_size(level) - (ipa & (s2_level_size(level) - 1))) >> PAGE_SHIFT,
			 PAGES_PER_GRANULE - p % PAGES_PER_GRANULE);
	}
	spin_unlock(&vm->mm_lock);
	return MIN(n, max);
}
