/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2, the source: the callbacks mig_src drives (guest pages, dirty logging, the
 * pause, the state blobs, progress) and what happens when it ends. */
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/alloc.h"
#include "core/board.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/sve.h"
#include "core/vcpu.h"
#include "drivers/gicv3.h"
#include "migrate/mig_el2.h"
#include "migrate/mig_sve.h"
#include "mm/dirty_el2.h"
#include "mm/untouched_el2.h"

/* ---- source callbacks ---- */

int migel2_src_read_page(void *ctx, ipa_t ipa, void *dst)
{
	struct vm *vm = ctx;

	if (!ipa_ok(vm, ipa_addr(ipa), MIG_PAGE_SIZE))
		return FERRY_ERANGE;
	memcpy(dst, guest_ptr(vm, ipa_addr(ipa)), MIG_PAGE_SIZE);
	return 0;
}

static const void *src_page_ptr(void *ctx, ipa_t ipa)
{
	struct vm *vm = ctx;

	return ipa_ok(vm, ipa_addr(ipa), MIG_PAGE_SIZE) ? guest_ptr(vm, ipa_addr(ipa)) : NULL;
}

int migel2_hash_pages(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st)
{
	struct vm *vm = ctx;

	if (!ipa_ok(vm, ipa_addr(ipa), npages * MIG_PAGE_SIZE))
		return FERRY_ERANGE;
	hash64_update(st, guest_ptr(vm, ipa_addr(ipa)), npages * MIG_PAGE_SIZE);
	return 0;
}

enum dirty_mode migel2_forced_mode = DIRTY_OFF; /* `migrate <vm> mode=wp|dbm` */
u64 migel2_start_chunk; /* `migrate <vm> start=gradual`: pages armed per collection, 0 = eager */

/* The mode a migration logs in unless told (`mode=`) or configured (`dirty-log = "dbm"`): write
 * faults, even where the CPU has DBM. A DBM collection scans every descriptor of the VM, the one in
 * the pause too (3.6 ms for 2 GiB under TCG against 0.3 for the bitmap), and a guest that writes
 * without faulting outruns the link for longer: an unpaced memstress took 7 s and paused 100-140 ms
 * with DBM, 1.2-1.9 s and 11-24 ms with write faults (docs/migration.md, "Dirty logging"). */
static enum dirty_mode migration_mode(const struct vm *vm)
{
	if (migel2_forced_mode)
		return migel2_forced_mode;
	return vm->cfg->dirty_mode == CONFIG_DIRTY_DBM ? DIRTY_DBM : DIRTY_WP;
}

/* Before round 0: the pause's code once, while the VM runs (rehearse_el2.c). */
static int src_rehearse(void *ctx) { return migel2_rehearse(ctx, false); }

static int src_track_start(void *ctx)
{
	struct vm *vm = ctx;
	u64 words = BITMAP_WORDS(vm->cfg->ram_size >> PAGE_SHIFT);
	int err;

	u64 bytes = ALIGN_UP(words * 8, PAGE_SIZE);

	if (!vm->mig_acc_mem) {
		vm->mig_acc_mem = pool_zalloc_contig(3 * bytes / PAGE_SIZE);
		if (!vm->mig_acc_mem)
			return FERRY_ENOMEM;
	}
	memset(vm->mig_acc_mem, 0, 3 * bytes);
	vm->mig_taken = vm->mig_acc_mem + bytes / 8;
	vm->mig_scratch = vm->mig_acc_mem + 2 * bytes / 8;
	/* Logging someone started by hand stays theirs; otherwise the migration owns it. */
	mig.started_logging = vm->dirty.mode == DIRTY_OFF;
	if (mig.started_logging) {
		err = dirtylog_start(vm, migration_mode(vm), migel2_start_chunk);
		if (err)
			return err;
	}
	spin_lock(&vm->mm_lock);
	vm->mig_acc = vm->mig_acc_mem;
	spin_unlock(&vm->mm_lock);
	con_printf("migrate: vm '%s': dirty logging (%s) on", vm->cfg->name,
		   dirty_mode_name(vm->dirty.mode));
	return 0;
}

#define LOSE_LOOKS 64 /* pages the lose=1 hook hashes at a collection, from the top */

static s64 src_collect(void *ctx, u64 *bitmap, u64 npages)
{
	struct vm *vm = ctx;
	u64 added;
	int err;

	if (npages != vm->cfg->ram_size >> PAGE_SHIFT)
		return FERRY_EINVAL;
	err = dirtylog_take_for_migration(vm, bitmap, &added);
	if (err)
		return err;
	/* Test hook (`lose=1`): one page the guest wrote is never sent again, as a dirty-tracking
	 * bug would lose it; only the verification can catch it. Every collection holds back one
	 * dirty page and gives back the one it held before, which then goes as usual, so the page
	 * held at the pause, whichever collection that is, is lost. It must differ from what the
	 * destination has: a dirty page may have gone with its final contents (written while a
	 * round was reading it), or been rewritten with the bytes it held (a stack, a guest's
	 * bookkeeping). So the page held is the highest dirty one whose contents now differ from
	 * the digest of what was sent (the machine keeps the digests for the hook under verify=full
	 * too); at the pause the VM is parked and the check is exact. With none among the first
	 * LOSE_LOOKS, the highest dirty page. Printed after the pause. */
	if (FERRY_MIG_TEST_HOOKS && mig.lose_one) {
		u64 pick = npages, looked = 0;

		if (mig.lost_page && !bitmap_test(bitmap, mig.lost_page - 1)) {
			bitmap_set(bitmap, mig.lost_page - 1);
			added++;
		}
		for (u64 p = npages; p-- > 0 && pick == npages && looked < LOSE_LOOKS;) {
			u64 ipa = vm->cfg->ram_base + (p << PAGE_SHIFT);

			if (!bitmap_test(bitmap, p))
				continue;
			looked++;
			if (mig_page_digest(ipa, hash64(guest_ptr(vm, ipa), PAGE_SIZE, 0)) !=
			    mig.src.digest[p])
				pick = p;
		}
		for (u64 w = BITMAP_WORDS(npages); w-- > 0 && pick == npages;)
			if (bitmap[w])
				pick = w * 64 + (63 - (u64)__builtin_clzll(bitmap[w]));
		if (pick < npages) {
			bitmap_clear(bitmap, pick);
			added -= added ? 1 : 0;
			mig.lost_page = pick + 1;
		}
	}
	return (s64)added;
}

static void src_track_stop(void *ctx)
{
	struct vm *vm = ctx;

	spin_lock(&vm->mm_lock);
	vm->mig_acc = NULL;
	spin_unlock(&vm->mm_lock);
	if (mig.started_logging) {
		if (vm->dirty.mode != DIRTY_OFF)
			dirtylog_print_stats(vm);
		dirtylog_stop(vm);
	}
	mig.started_logging = false;
}

void migel2_release_vcpus(struct vm *vm)
{
	for (u32 i = 0; i < vm->nvcpus; i++) {
		__atomic_and_fetch(&vm->vcpu[i].request, ~(u32)REQ_PAUSE, __ATOMIC_RELEASE);
		vcpu_kick(&vm->vcpu[i]);
	}
}

int migel2_park_vcpus(struct vm *vm)
{
	u64 deadline = migrate_now_ns(NULL) + PAUSE_TIMEOUT_NS;

	for (u32 i = 0; i < vm->nvcpus; i++) {
		__atomic_or_fetch(&vm->vcpu[i].request, REQ_PAUSE, __ATOMIC_RELEASE);
		vcpu_kick(&vm->vcpu[i]);
	}
	/* Asleep, not spinning: each vCPU wakes this CPU once parked (vcpu_park), and the tick
	 * bounds the wait. Under TCG a spinning management CPU holds a host core that the vCPUs'
	 * threads need to get to their park. */
	for (u32 i = 0; i < vm->nvcpus; i++)
		while (!__atomic_load_n(&vm->vcpu[i].parked, __ATOMIC_ACQUIRE)) {
			if (migrate_now_ns(NULL) > deadline || vm->state != VM_RUNNING) {
				migel2_release_vcpus(vm);
				return FERRY_ETIMEDOUT;
			}
			wfi();
			gic_drain();
		}
	return 0;
}

static int src_pause(void *ctx)
{
	struct vm *vm = ctx;
	u64 t0 = migrate_now_ns(NULL);
	int err;

	if (vm->state != VM_RUNNING)
		return FERRY_EINVAL;
	err = migel2_park_vcpus(vm);
	if (err)
		return err;
	/* The guest's clock stops here; the destination starts it again from this count. */
	mig.vcount_at_pause = sysreg_read(cntpct_el0) - vm->cntvoff;
	mig.park_us = (migrate_now_ns(NULL) - t0) / 1000;
	return 0;
}

static void src_resume(void *ctx)
{
	struct vm *vm = ctx;

	/* The guest lost the paused time from its clock as it would on a stalled machine: no jump
	 * back, no catch-up. */
	migel2_release_vcpus(vm);
}

static enum mig_vcpu_power power_of(const struct vm *vm, u32 i)
{
	switch (vm->psci.cpu[i].state) {
	case VPSCI_ON:
		return MIG_VCPU_ON;
	case VPSCI_ON_PENDING:
		return MIG_VCPU_ON_PENDING;
	default:
		return MIG_VCPU_OFF;
	}
}

/* The ITS's blob (registers, collections, LPI state) comes after every other one. */
u32 migel2_its_blob_index(const struct vm *vm)
{
	return vm->nvcpus + 4 + (machine.sve ? vm->nvcpus : 0);
}

int migel2_get_state(struct vm *vm, u32 index, void *buf, size_t cap, u32 *tag, bool rehearsal)
{
	if (index == 0) {
		struct mig_vm_state s = {
			.nvcpus = vm->nvcpus,
			.cntfrq = sysreg_read(cntfrq_el0),
			.vcount = mig.vcount_at_pause,
			.ram_base = vm->cfg->ram_base,
			.ram_size = vm->cfg->ram_size,
		};
		*tag = MIG_BLOB_VM;
		return mig_vm_encode(buf, cap, &s);
	}
	if (index <= vm->nvcpus) {
		struct vcpu *v = &vm->vcpu[index - 1];
		struct mig_vcpu_state copy, *s = &v->state;

		/* A rehearsal's vCPU runs: its context is not ours to write. */
		if (rehearsal) {
			copy = v->state;
			s = &copy;
		}

		s->index = index - 1;
		s->power = power_of(vm, index - 1);
		s->r[MIG_R_ENTRY] = vm->psci.cpu[index - 1].entry;
		s->r[MIG_R_CONTEXT] = vm->psci.cpu[index - 1].context;
		*tag = MIG_BLOB_VCPU;
		return mig_vcpu_encode(buf, cap, s);
	}
	if (index == vm->nvcpus + 1) {
		*tag = MIG_BLOB_UART;
		return vpl011_save(&vm->uart, buf, cap);
	}
	if (index == vm->nvcpus + 2) {
		struct vgic_cpu_hw hw[CONFIG_MAX_VCPUS];
		size_t len;
		int err;

		for (u32 i = 0; i < vm->nvcpus; i++)
			hw[i] = vm->vcpu[i].gic_hw;
		*tag = MIG_BLOB_VGIC;
		spin_lock(&vm->lock);
		err = (rehearsal ? vgic_save_model : vgic_save)(&vm->vgic, hw, buf, cap, &len);
		spin_unlock(&vm->lock);
		return err ? err : (int)len;
	}
	if (index == vm->nvcpus + 3) {
		*tag = MIG_BLOB_RTC;
		return board_rtc_save(vm, buf, cap);
	}
	if (machine.sve && index >= vm->nvcpus + 4 && index < 2 * vm->nvcpus + 4) {
		*tag = MIG_BLOB_SVE;
		return sve_blob_save(&vm->vcpu[index - vm->nvcpus - 4], buf, cap);
	}
	if (index == migel2_its_blob_index(vm)) {
		size_t len;
		int err;

		*tag = MIG_BLOB_ITS;
		spin_lock(&vm->lock);
		err = (rehearsal ? its_save_model : its_save)(&vm->its, buf, cap, &len);
		spin_unlock(&vm->lock);
		return err ? err : (int)len;
	}
	return FERRY_ENOENT;
}

static int src_get_state(void *ctx, u32 index, void *buf, size_t cap, u32 *tag)
{
	return migel2_get_state(ctx, index, buf, cap, tag, false);
}

static void src_progress(void *ctx, const struct mig_stats *st)
{
	(void)ctx;
	if (st->audit >= MIG_AUDIT_CLEAN && !mig.audit_reported) {
		mig.audit_reported = true;
		if (st->audit == MIG_AUDIT_CLEAN)
			con_printf(
				"migrate: vm '%s': audit after commit: all %llu pages match what "
				"was sent (%llu ms)",
				mig.vm->cfg->name, (unsigned long long)st->pages_total,
				(unsigned long long)(st->audit_ns / 1000000));
		else
			con_printf(
				"migrate: vm '%s': AUDIT after commit: %llu pages differ from what "
				"was sent, the first at IPA 0x%llx: a write dirty tracking missed; "
				"the destination runs with the older contents",
				mig.vm->cfg->name, (unsigned long long)st->audit_bad_pages,
				(unsigned long long)st->audit_first_bad);
		return;
	}
	migel2_progress_line(true, false);
}

/* Round 0: RAM nothing wrote since it was zero goes as zero pages, unread (mm/untouched_el2.c),
 * unless `untouched=read`. */
static u64 src_untouched(void *ctx, u64 page, u64 max)
{
	return mig.read_untouched ? 0 : untouched_run(ctx, page, max);
}

const struct mig_src_ops migel2_src_ops = {
	.send_frame = migel2_send_frame,
	.send_in_place = migel2_send_in_place,
	.frame_held = migel2_frame_held,
	.now_ns = migrate_now_ns,
	.read_page = migel2_src_read_page,
	.page_ptr = src_page_ptr,
	.rehearse = src_rehearse,
	.track_start = src_track_start,
	.untouched = src_untouched,
	.collect_dirty = src_collect,
	.track_stop = src_track_stop,
	.pause = src_pause,
	.resume = src_resume,
	.get_state = src_get_state,
	.hash_pages = migel2_hash_pages,
	.progress = src_progress,
};

void migel2_src_finished(enum mig_status st)
{
	struct vm *vm = mig.vm;

	if (FERRY_MIG_TEST_HOOKS && mig.lost_page)
		con_printf("migrate: test hook: page at IPA 0x%llx left out of the final round",
			   (unsigned long long)(vm->cfg->ram_base +
						((mig.lost_page - 1) << PAGE_SHIFT)));
	mig.lost_page = 0;
	if (mig.park_us)
		con_printf("migrate: vm '%s': paused (%llu us to park %u vCPU%s)", vm->cfg->name,
			   (unsigned long long)mig.park_us, vm->nvcpus, vm->nvcpus == 1 ? "" : "s");
	mig.park_us = 0;
	migel2_print_json("migrate", mig_src_stats(&mig.src), st == MIG_DONE,
			  st == MIG_DONE ? "" : mig_fail_name(mig.src.fail));
	mig.role = ROLE_NONE;
	if (st == MIG_FAILED && mig.src.fail == MIG_FAIL_POSTCOPY_LOST) {
		/* Its pages are split between the two machines and the destination's copy ran on:
		 * this one must never run again. Stopped alone; every other VM runs on. */
		con_printf(
			"migrate: vm '%s': post-copy lost: the VM cannot continue on either side "
			"(this copy is stale, the destination lacks pages); stopped here, not "
			"resumed",
			vm->cfg->name);
		vm_request_stop(vm, VM_FAULTED, "post-copy link lost: the VM cannot continue");
		migel2_release_vcpus(vm);
		return;
	}
	if (st == MIG_DONE) {
		/* The VM lives on the peer now: end it here for good, its vCPUs released from the
		 * pause straight into the stop. */
		vm_request_stop(vm, VM_MIGRATED, "migrated to the peer");
		migel2_release_vcpus(vm);
	}
}
