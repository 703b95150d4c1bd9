/* SPDX-License-Identifier: Apache-2.0 */
/* Dirty logging at EL2: the per-VM glue around hyp/mm/dirty.c, the write-fault path, the shell's
 * `dirtylog` command, and ferry's checking hypercall: a guest that knows exactly which pages it wrote
 * in a round (memstress) asks ferry to collect and compare, so "no write is ever missed" is checked by
 * the guest's own record, round after round. */
#include "mm/dirty_el2.h"

#include <stdio.h>
#include <string.h>

#include "arch/aarch64/pmu.h"
#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/pcpu.h"
#include "core/shell.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "lib/bitmap.h"
#include "lib/range.h"
#include "lib/spinlock.h"
#include "mm/dirty.h"
#include "vdev/vdev.h"

enum dirty_mode dirtylog_default_mode(const struct vm *vm)
{
	switch (vm->cfg->dirty_mode) {
	case CONFIG_DIRTY_WP:
		return DIRTY_WP;
	case CONFIG_DIRTY_DBM:
		return DIRTY_DBM;
	default:
		return machine.hafdbs ? DIRTY_DBM : DIRTY_WP;
	}
}

static u64 vm_pages(const struct vm *vm) { return vm->cfg->ram_size >> PAGE_SHIFT; }

bool dirtylog_parse_gradual(const char *word, u64 *pages)
{
	u64 mib = 0;

	*pages = 0;
	if (strncmp(word, "gradual", 7) || (word[7] && word[7] != '='))
		return false;
	if (!word[7]) {
		mib = DIRTYLOG_GRADUAL_MIB;
	} else {
		/* At most 7 digits: no overflow, and 2 MiB steps keep each chunk on the 2 MiB grid
		 * the one-pass split needs (RAM is 2 MiB aligned). */
		const char *d = word + 8;

		for (int i = 0; d[i]; i++) {
			if (d[i] < '0' || d[i] > '9' || i >= 7)
				return true;
			mib = mib * 10 + (u64)(d[i] - '0');
		}
		if (!mib || mib % 2)
			return true;
	}
	*pages = mib << (20 - PAGE_SHIFT);
	return true;
}

int dirtylog_start(struct vm *vm, enum dirty_mode mode, u64 gradual_pages)
{
	struct tlbi_caps caps;
	u64 words = BITMAP_WORDS(vm_pages(vm));
	int err;

	if (mode == DIRTY_DBM && !machine.hafdbs)
		return FERRY_ENOTSUP;
	if (vm->dirty.mode != DIRTY_OFF)
		return FERRY_EBUSY;
	/* Both bitmaps live in the page pool: hypervisor memory no stage 2 maps. Allocated once per
	 * VM and kept (the pool's contiguous allocations are never returned). */
	if (!vm->dirty_bitmap) {
		u64 pages = ALIGN_UP(words * 8, PAGE_SIZE) / PAGE_SIZE;

		vm->dirty_bitmap = pool_zalloc_contig(pages);
		vm->collect_bitmap = pool_zalloc_contig(pages);
		if (!vm->dirty_bitmap || !vm->collect_bitmap)
			return FERRY_ENOMEM;
	}
	/* The gradual start leaves old bits alone: every page counts as dirty until its chunk is
	 * armed, and the collection that reports it takes its bit with it. */
	if (!gradual_pages)
		bitmap_zero(vm->dirty_bitmap, vm_pages(vm));
	tlbi_caps_from_idregs(machine.isar0, machine.mmfr2, &caps);
	spin_lock(&vm->mm_lock);
	u64 t0 = pmu_el2_read();
	if (gradual_pages)
		err = dirty_log_start_gradual(&vm->dirty, &caps, vm->vmid, mode, vm->cfg->ram_base,
					      vm_pages(vm), vm->dirty_bitmap, gradual_pages);
	else
		err = dirty_log_start(&vm->dirty, &vm->s2, &caps, vm->vmid, mode, vm->cfg->ram_base,
				      vm_pages(vm), vm->dirty_bitmap);
	vm->dirty_insns_start = pmu_el2_read() - t0;
	vm->dirty.clock = pmu_el2_read; /* times the DBM scans (`dirtylog stats`) */
	vm->dirty_insns_stop = vm->dirty_insns_collect = vm->dirty_pages_collected = 0;
	vm->dirty_ncollect = 0;
	vm->dirty_synced = false;
	vm->dirty_checked_rounds = vm->dirty_missed = vm->dirty_extra = 0;
	/* Show the flushes the start issued while no collection can add to the ring: the split's
	 * break-before-make flush and the one write-protect flush of all RAM (a gradual start
	 * issues none). */
	if (!err && !gradual_pages)
		tlbi_ring_dump(vm->vmid, tlbi_san_print, NULL);
	spin_unlock(&vm->mm_lock);
	/* Make the vCPUs pass their entry checks (the sanitizer's among them) right away. */
	for (u32 i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	return err;
}

int dirtylog_stop(struct vm *vm)
{
	int err;

	spin_lock(&vm->mm_lock);
	u64 t0 = pmu_el2_read();
	err = dirty_log_stop(&vm->dirty, &vm->s2);
	vm->dirty_insns_stop = pmu_el2_read() - t0;
	spin_unlock(&vm->mm_lock);
	return err;
}

/* Under mm_lock: takes the whole VM's dirty pages into out (zeroed first), counting the EL2
 * instructions and the pages for `dirtylog stats`. */
static s64 collect_locked(struct vm *vm, u64 *out)
{
	u64 t0 = pmu_el2_read();
	s64 n;

	bitmap_zero(out, vm_pages(vm));
	n = dirty_log_collect(&vm->dirty, &vm->s2, 0, vm_pages(vm), out);
	u64 insns = pmu_el2_read() - t0;

	vm->dirty_insns_collect += insns;
	if (n > 0)
		vm->dirty_pages_collected += (u64)n;
	if (n >= 0 && vm->dirty_ncollect < DIRTYLOG_FIRST) {
		vm->dirty_first_insns[vm->dirty_ncollect] = insns;
		vm->dirty_first_pages[vm->dirty_ncollect] = (u64)n;
	}
	if (n >= 0 && vm->dirty_ncollect < UINT32_MAX)
		vm->dirty_ncollect++;
	return n;
}

s64 dirtylog_collect(struct vm *vm)
{
	s64 n;

	spin_lock(&vm->mm_lock);
	n = collect_locked(vm, vm->collect_bitmap);
	/* A migration tracking this VM must see these pages too, and this collection must see what
	 * the migration's took since the last one. */
	if (n >= 0 && vm->mig_acc)
		for (u64 w = 0; w < BITMAP_WORDS(vm_pages(vm)); w++) {
			vm->mig_acc[w] |= vm->collect_bitmap[w];
			vm->collect_bitmap[w] |= vm->mig_taken[w];
			vm->mig_taken[w] = 0;
		}
	spin_unlock(&vm->mm_lock);
	return n;
}

/* The migration's collection: everything written since its previous one, including what other
 * collections (the guest's checking hypercall, the shell) took meanwhile, ORed into bitmap. */
int dirtylog_take_for_migration(struct vm *vm, u64 *bitmap, u64 *added)
{
	u64 words = BITMAP_WORDS(vm_pages(vm)), n = 0;
	s64 taken;

	spin_lock(&vm->mm_lock);
	taken = collect_locked(vm, vm->mig_scratch);
	for (u64 w = 0; taken >= 0 && w < words; w++) {
		u64 all = vm->mig_acc[w] | vm->mig_scratch[w];

		/* The other collections (the guest's checking hypercall) still have to see these. */
		vm->mig_taken[w] |= vm->mig_scratch[w];
		n += popcount64(all & ~bitmap[w]);
		bitmap[w] |= all;
		vm->mig_acc[w] = 0;
	}
	spin_unlock(&vm->mm_lock);
	*added = n;
	return taken < 0 ? (int)taken : 0;
}

bool dirtylog_write_fault(struct vm *vm, ipa_t ipa)
{
	int err;

	spin_lock(&vm->mm_lock);
	err = dirty_log_handle_fault(&vm->dirty, &vm->s2, ipa);
	spin_unlock(&vm->mm_lock);
	return err == 0;
}

bool dirtylog_fast_write_fault(void)
{
	struct pcpu *p = (struct pcpu *)(uintptr_t)sysreg_read(tpidr_el2); /* this_pcpu(), inline */
	struct vcpu *v = p->vcpu;

	struct vm *vm = v->vm;
	/* HPFAR_EL2.FIPA is IPA[47:12] for a stage-2 fault (the vector checked it is one). */
	u64 ipa = FIELD_GET(sysreg_read(hpfar_el2), 43, 4) << PAGE_SHIFT;
	int err;

	/* A held lock (a collection, start or stop on the management CPU) sends the fault to the
	 * generic path, which waits for it. */
	if (!spin_trylock(&vm->mm_lock))
		return false;
#if FERRY_TLBI_SANITIZER
	/* The generic path refuses to re-enter a guest with a downgrade unflushed: so does this. */
	if (tlbi_san_pending(vm->vmid)) {
		spin_unlock(&vm->mm_lock);
		return false;
	}
#endif
	err = dirty_log_fast_fault(&vm->dirty, &vm->s2, ipa);
	spin_unlock(&vm->mm_lock); /* inline (lib/spinlock.h) */
	if (err)
		return false;
	/* A relaxation: no other CPU needs telling (docs/stage2.md). This CPU may still cache the
	 * read-only entry, and would fault on it again: drop its own copy, by IPA and by the
	 * faulting VA. Not VMALLE1: it would also drop every other entry of this vCPU, and under
	 * QEMU it would hide a missing flush elsewhere (a whole-TLB flush on every fault). */
	tlbi_local_relax(ipa, sysreg_read(far_el2));
	v->exits[EXITC_DIRTY]++; /* p->fast_dirty is counted by the vector, with the instructions */
	return true;
}

void dirtylog_note_write(void *ctx, u64 ipa, u64 len)
{
	struct vm *vm = ctx;

	/* The lock keeps the log from starting or stopping (its bitmap from going) meanwhile. */
	spin_lock(&vm->mm_lock);
	(void)dirty_log_note_write(&vm->dirty, ipa, len);
	spin_unlock(&vm->mm_lock);
}

/* FERRY_HC_DIRTY_ROUND: the guest has finished writing round `round` and hands ferry the bitmap of
 * the pages it wrote (one bit per page of its RAM, at map_ipa). Ferry collects; every page the guest
 * wrote must be among the pages collected. The first call after logging starts only synchronizes
 * (writes from before the start were never logged). Returns the number of missed pages. */
s64 dirtylog_hypercall_round(struct vcpu *v, u64 round, u64 map_ipa, u64 nbits)
{
	struct vm *vm = v->vm;
	const struct vm_config *c = vm->cfg;
	const u64 *guest_map;
	u64 written, missed = 0, extra = 0, words = BITMAP_WORDS(nbits);
	s64 taken;

	if (vm->dirty.mode == DIRTY_OFF)
		return PSCI_RET_NOT_SUPPORTED;
	/* words * 8 cannot overflow once nbits is bounded; map_ipa + words * 8 could (a map "ending"
	 * past 2^64 wrapped below the RAM's end and had EL2 read below the VM's RAM). */
	if (nbits > vm_pages(vm) || (map_ipa & 7) ||
	    !range_within(map_ipa, words * 8, c->ram_base, c->ram_size))
		return PSCI_RET_INVALID_PARAMETERS;
	/* Post-copy: the guest's map may be a page still on its way; wait for it, never read it. */
	if (gmem_absent(&vm->ram, map_ipa, words * 8) &&
	    (!vm->ram.fetch || vm->ram.fetch(vm->ram.fetch_ctx, map_ipa, words * 8)))
		return PSCI_RET_INTERNAL_FAILURE;
	guest_map = (const u64 *)(uintptr_t)(pa_addr(vm->ram_pa) + (map_ipa - c->ram_base));
	taken = dirtylog_collect(vm);
	if (taken < 0)
		return PSCI_RET_INTERNAL_FAILURE;
	if (!vm->dirty_synced) {
		vm->dirty_synced = true;
		con_printf(
			"ferry: vm '%s' dirty log (%s): round %llu: synchronized, %lld pages taken",
			c->name, dirty_mode_name(vm->dirty.mode), (unsigned long long)round,
			(long long)taken);
		return 0;
	}
	for (u64 w = 0; w < words; w++) {
		u64 g = guest_map[w], h = vm->collect_bitmap[w];

		if (w == words - 1 && nbits % 64)
			g &= (1ULL << (nbits % 64)) - 1;
		missed += popcount64(g & ~h);
		extra += popcount64(h & ~g);
	}
	written = bitmap_weight(guest_map, nbits);
	vm->dirty_checked_rounds++;
	vm->dirty_missed += missed;
	vm->dirty_extra += extra;
	con_printf(
		"ferry: vm '%s' dirty log (%s): round %llu: written %llu collected %lld missed %llu "
		"extra %llu",
		c->name, dirty_mode_name(vm->dirty.mode), (unsigned long long)round,
		(unsigned long long)written, (long long)taken, (unsigned long long)missed,
		(unsigned long long)extra);
	return (s64)missed;
}

void dirtylog_print_stats(const struct vm *vm)
{
	const struct dirty_log *dl = &vm->dirty;

	con_printf(
		"dirtylog: vm '%s': mode %s faults %llu spurious %llu collections %llu reported %llu "
		"flushes %llu; checked rounds %llu missed %llu extra %llu",
		vm->cfg->name, dirty_mode_name(dl->mode), (unsigned long long)dl->faults,
		(unsigned long long)dl->spurious, (unsigned long long)dl->collections,
		(unsigned long long)dl->pages_reported, (unsigned long long)dl->flushes,
		(unsigned long long)vm->dirty_checked_rounds, (unsigned long long)vm->dirty_missed,
		(unsigned long long)vm->dirty_extra);
	con_printf(
		"dirtylog: vm '%s': EL2 instructions: start %llu, stop %llu, collections %llu for "
		"%llu pages (%llu per page)",
		vm->cfg->name, (unsigned long long)vm->dirty_insns_start,
		(unsigned long long)vm->dirty_insns_stop,
		(unsigned long long)vm->dirty_insns_collect,
		(unsigned long long)vm->dirty_pages_collected,
		(unsigned long long)(vm->dirty_pages_collected
					     ? vm->dirty_insns_collect / vm->dirty_pages_collected
					     : 0));
	if (dl->noted)
		con_printf(
			"dirtylog: vm '%s': %llu pages marked for ferry's own writes (the ITS's and "
			"LPI tables)",
			vm->cfg->name, (unsigned long long)dl->noted);
	if (dl->chunk)
		con_printf("dirtylog: vm '%s': gradual start: %llu of %llu pages armed, %llu per "
			   "collection, in %llu EL2 instructions%s",
			   vm->cfg->name, (unsigned long long)dl->armed,
			   (unsigned long long)dl->npages, (unsigned long long)dl->chunk,
			   (unsigned long long)dl->arm_insns,
			   dl->chunk_enomem ? " (some chunks waited for memory)" : "");
	if (vm->dirty_ncollect) {
		/* Two 20-digit numbers each at most; printed on a vCPU's CPU too (at power-off):
		 * con_snprintf keeps the guest's SIMD registers. */
		char line[44 * DIRTYLOG_FIRST] = "";
		size_t at = 0;

		for (u32 i = 0; i < MIN(vm->dirty_ncollect, (u32)DIRTYLOG_FIRST); i++) {
			int n = con_snprintf(line + at, sizeof(line) - at, " %llu/%llu",
					     (unsigned long long)vm->dirty_first_insns[i],
					     (unsigned long long)vm->dirty_first_pages[i]);

			if (n < 0 || (size_t)n >= sizeof(line) - at)
				break;
			at += (size_t)n;
		}
		con_printf("dirtylog: vm '%s': first collections, EL2 instructions/pages:%s",
			   vm->cfg->name, line);
	}
	if (dl->scan_pages) {
		u64 h = dl->scan_insns * 100 / dl->scan_pages;

		con_printf(
			"dirtylog: vm '%s': DBM scans: %llu EL2 instructions for %llu pages scanned "
			"(%llu.%02llu per page)",
			vm->cfg->name, (unsigned long long)dl->scan_insns,
			(unsigned long long)dl->scan_pages, (unsigned long long)(h / 100),
			(unsigned long long)(h % 100));
	}
}
