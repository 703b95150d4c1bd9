/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2: the glue between the pure protocol machines (hyp/migrate), the NIC
 * (hyp/virtio), dirty logging, the vCPUs and the shell. Everything here runs on the management
 * CPU; the only thing a vCPU's CPU does for a migration is park itself (saving its EL1 context) when
 * asked, and load a context it was given before it next runs (core/vcpu.c).
 *
 *   source:       migrate <vm> → HELLO … rounds of pages (dirty logging) … pause → last pages →
 *                 state blobs → hash → COMMIT → the VM has MIGRATED here; any failure → resume.
 *   destination:  a VM configured `incoming` waits; pages, blobs, hash; commit → install the state
 *                 and run. A failed attempt leaves it waiting for the next one.
 *
 * Ethernet frames with EtherType 0x88B5 belong to the protocol; 0x88B6 carries `netblast`, the raw
 * link measurement the benchmark compares migration's goodput with. */
#include "core/migrate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/debug_ctx.h"
#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/board.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/migbench.h"
#include "core/migkey.h"
#include "core/passthrough.h"
#include "core/postcopy.h"
#include "core/shm.h"
#include "core/sve.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "lib/bitmap.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "migrate/mig.h"
#include "migrate/mig_sve.h"
#include "migrate/mig_vcpu.h"
#include "mm/dirty.h"
#include "mm/dirty_el2.h"
#include "vdev/vdev.h"
#include "vdev/vvnet_el2.h"
#include "vgic/its.h"
#include "vgic/vgic.h"
#include "virtio/virtio.h"

/* The test hooks `corrupt=N` and `lose=1` exist only in test builds (every variant but the
 * release ferry.bin, hyp/build.mk): a release hypervisor has no switch that damages a migration. */
#ifndef FERRY_MIG_TEST_HOOKS
#define FERRY_MIG_TEST_HOOKS 0
#endif
#if FERRY_MIG_TEST_HOOKS
#define HOOK_USAGE " [corrupt=N] [lose=1] [pcdrop=1]"
#else
#define HOOK_USAGE ""
#endif

#define BLAST_ETHERTYPE 0x88B6u
#define PAUSE_TIMEOUT_NS (2ULL * 1000000000ULL)
#define PROGRESS_EVERY_NS (500ULL * 1000000ULL)
#define NS_PER_S 1000000000ULL

enum role {
	ROLE_NONE = 0,
	ROLE_SRC,
	ROLE_DST
};

static struct {
	enum role role;
	struct vm *vm;
	struct mig_src src;
	struct mig_dst dst;
	u8 *ws;
	size_t ws_len;
	u32 sessions;
	u64 last_progress;
	/* source options and state */
	bool started_logging;
	u32 corrupt_every; /* test hook: flip one bit in every Nth frame sent */
	bool lose_one;     /* test hook: leave one page out of the final round */
	u64 lost_page;     /* that page + 1, once chosen */
	u64 frames_out, corrupted;
	u64 vcount_at_pause;
	u64 park_us; /* printed once the pause is over (quiet()) */
	/* destination: state staged until commit */
	struct mig_vm_state vmstate;
	struct vpl011 uart;
	u32 blobs_ok; /* bit 0: VM, 1..n: vCPUs, n+1: UART, n+2: vGIC, n+3: PL031, n+4..2n+3: SVE,
		       * then the ITS */
	u64 *written; /* pages of the incoming VM written since power-on (dst_zero_pages) */
	u64 written_pages;
	u64 t_first_blob;
	u64 resume_ns;       /* destination: committed → every vCPU kicked */
	bool audit_reported; /* source: the audit's line is out */
	u8 scratch[VNET_FRAME_MAX];
	/* netblast receiver */
	u64 blast_frames, blast_bytes, blast_t0, blast_t_last;
	u32 blast_total;
} mig;

bool migrate_busy(const struct vm *vm) { return mig.role != ROLE_NONE && mig.vm == vm; }

/* Nanoseconds of the physical counter: the migration's clock, and migbench's. */
u64 migrate_now_ns(void *ctx)
{
	(void)ctx;
	return mig_muldiv(sysreg_read(cntpct_el0), NS_PER_S, sysreg_read(cntfrq_el0));
}

static u8 *guest_ptr(const struct vm *vm, u64 ipa)
{
	return (u8 *)(uintptr_t)(pa_addr(vm->ram_pa) + (ipa - vm->cfg->ram_base));
}

static bool ipa_ok(const struct vm *vm, u64 ipa, u64 bytes)
{
	const struct vm_config *c = vm->cfg;

	return ipa >= c->ram_base && bytes <= c->ram_size &&
	       ipa - c->ram_base <= c->ram_size - bytes;
}

/* ---- the NIC side ---- */

static int send_frame(void *ctx, const void *frame, size_t len)
{
	bool hit;
	int rc;

	(void)ctx;
	/* Every Nth frame that leaves, counted when the NIC takes it: a frame the NIC refused
	 * (EBUSY) comes again later and is neither counted nor corrupted twice. */
	hit = FERRY_MIG_TEST_HOOKS && mig.corrupt_every && len > MIG_ETH_HDR_LEN &&
	      (mig.frames_out + 1) % mig.corrupt_every == 0;
	if (hit) {
		/* A bit flipped on the wire: the receiver's tag check must catch it and the frame
		 * must come again. */
		memcpy(mig.scratch, frame, len);
		mig.scratch[MIG_ETH_HDR_LEN +
			    ((mig.frames_out + 1) * 7919) % (len - MIG_ETH_HDR_LEN)] ^=
			(u8)(1u << ((mig.frames_out + 1) % 8));
		frame = mig.scratch;
	}
	rc = vnet_send(frame, len);
	if (rc == 0) {
		mig.frames_out++;
		mig.corrupted += hit;
	}
	return rc;
}

/* The guest-visible CPU features both ends compare (mig_compat.cpu_features): ferry does not trap
 * the ID registers yet, so a guest sees the CPU's own, and the destination must have every one of
 * them. A digest of ID_AA64ISAR0/ISAR1/PFR0/MMFR0-2 fields, one bit per feature level. */
static u64 guest_cpu_features(void)
{
	u64 f = 0, isar0 = sysreg_read(id_aa64isar0_el1), isar1 = sysreg_read(id_aa64isar1_el1);
	u64 pfr0 = sysreg_read(id_aa64pfr0_el1);

	/* ISAR0: AES, SHA1, SHA2, CRC32, Atomic, RDM, SHA3, SM3, SM4, DP, FHM, TS, TLB, RNDR. */
	static const u8 isar0_lo[] = { 4, 8, 12, 16, 20, 28, 32, 36, 40, 44, 48, 52, 56, 60 };

	for (u32 i = 0; i < ARRAY_SIZE(isar0_lo); i++)
		if (FIELD_GET(isar0, isar0_lo[i] + 3, isar0_lo[i]))
			f |= BIT(i);
	/* ISAR1: DPB, APA, API, JSCVT, FCMA, LRCPC, GPA, GPI, FRINTTS, SB, SPECRES, BF16, DGH, I8MM */
	for (u32 i = 0; i < 14; i++)
		if (FIELD_GET(isar1, 4 * i + 3, 4 * i))
			f |= BIT(16 + i);
	/* PFR0: FP and AdvSIMD present (value 0xf means absent), SVE. */
	if (FIELD_GET(pfr0, 19, 16) != 0xf)
		f |= BIT(32);
	if (FIELD_GET(pfr0, 23, 20) != 0xf)
		f |= BIT(33);
	if (FIELD_GET(pfr0, 35, 32))
		f |= BIT(34);
	/* Breakpoint and watchpoint slots (2..16 each), one bit per slot beyond two, so that a
	 * destination with fewer than the source refuses: the guest may use every one. */
	for (u32 n = 3; n <= debug_nr_breakpoints(); n++)
		f |= BIT(32 + n);
	for (u32 n = 3; n <= debug_nr_watchpoints(); n++)
		f |= BIT(46 + n);
	return f;
}

static void compat_of(const struct vm *vm, struct mig_compat *c)
{
	c->ram_base = vm->cfg->ram_base;
	c->ram_size = vm->cfg->ram_size;
	c->vcpus = vm->nvcpus;
	c->page_size = MIG_PAGE_SIZE;
	c->cpu_features = guest_cpu_features();
}

static void link_config(struct mig_link_config *l)
{
	memset(l, 0, sizeof(*l));
	l->frame_max = MAX(MIN(vnet_info()->frame_max, MIG_FRAME_MAX), MIG_FRAME_MIN);
	/* Under TCG a busy host stretches one round trip to tens of milliseconds now and then; a
	 * shorter floor resends frames that were only late (measured: hundreds per run at 1 ms, dozens at 20 ms).
	 * Real losses are mostly repaired earlier by the selective acks' fast retransmit. */
	l->rto_min_ns = 50ULL * 1000000ULL;
}

static void *workspace(size_t need)
{
	/* The pool's contiguous allocations are never returned: keep the largest one. */
	if (mig.ws_len < need) {
		mig.ws = pool_zalloc_contig(ALIGN_UP(need, PAGE_SIZE) / PAGE_SIZE);
		mig.ws_len = mig.ws ? need : 0;
	}
	return mig.ws;
}

/* ---- source callbacks ---- */

static int src_read_page(void *ctx, ipa_t ipa, void *dst)
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

static int hash_pages(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st)
{
	struct vm *vm = ctx;

	if (!ipa_ok(vm, ipa_addr(ipa), npages * MIG_PAGE_SIZE))
		return FERRY_ERANGE;
	hash64_update(st, guest_ptr(vm, ipa_addr(ipa)), npages * MIG_PAGE_SIZE);
	return 0;
}

static enum dirty_mode forced_mode = DIRTY_OFF; /* `migrate <vm> mode=wp|dbm` */
static u64 start_chunk; /* `migrate <vm> start=gradual`: pages armed per collection, 0 = eager */

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
		err = dirtylog_start(vm, forced_mode ? forced_mode : dirtylog_default_mode(vm),
				     start_chunk);
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
	 * dirty page and gives back the one it held before, which then goes as usual. So whichever
	 * collection turns out to be the last (the final round is often empty now: the pause comes
	 * right after a drained round), the page held at the pause was written after it was last
	 * sent. The highest is held: a guest's own bookkeeping (memstress's ledger and bitmaps, a
	 * stack) sits low in its RAM and is often rewritten with the bytes it held, and such a page
	 * lost is no loss at all (the hashes then agree, rightly). Printed after the pause. */
	if (FERRY_MIG_TEST_HOOKS && mig.lose_one) {
		u64 pick = npages;

		if (mig.lost_page && !bitmap_test(bitmap, mig.lost_page - 1)) {
			bitmap_set(bitmap, mig.lost_page - 1);
			added++;
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

static void release_vcpus(struct vm *vm)
{
	for (u32 i = 0; i < vm->nvcpus; i++) {
		__atomic_and_fetch(&vm->vcpu[i].request, ~(u32)REQ_PAUSE, __ATOMIC_RELEASE);
		vcpu_kick(&vm->vcpu[i]);
	}
}

static int src_pause(void *ctx)
{
	struct vm *vm = ctx;
	u64 deadline = migrate_now_ns(NULL) + PAUSE_TIMEOUT_NS;

	if (vm->state != VM_RUNNING)
		return FERRY_EINVAL;
	for (u32 i = 0; i < vm->nvcpus; i++) {
		__atomic_or_fetch(&vm->vcpu[i].request, REQ_PAUSE, __ATOMIC_RELEASE);
		vcpu_kick(&vm->vcpu[i]);
	}
	for (u32 i = 0; i < vm->nvcpus; i++)
		while (!__atomic_load_n(&vm->vcpu[i].parked, __ATOMIC_ACQUIRE))
			if (migrate_now_ns(NULL) > deadline || vm->state != VM_RUNNING) {
				release_vcpus(vm);
				return FERRY_ETIMEDOUT;
			}
	/* The guest's clock stops here; the destination starts it again from this count. */
	mig.vcount_at_pause = sysreg_read(cntpct_el0) - vm->cntvoff;
	mig.park_us = (migrate_now_ns(NULL) - (deadline - PAUSE_TIMEOUT_NS)) / 1000;
	return 0;
}

static void src_resume(void *ctx)
{
	struct vm *vm = ctx;

	/* The guest lost the paused time from its clock as it would on a stalled machine: no jump
	 * back, no catch-up. */
	release_vcpus(vm);
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
static u32 its_blob_index(const struct vm *vm)
{
	return vm->nvcpus + 4 + (machine.sve ? vm->nvcpus : 0);
}

static int src_get_state(void *ctx, u32 index, void *buf, size_t cap, u32 *tag)
{
	struct vm *vm = ctx;

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
		struct mig_vcpu_state *s = &v->state;

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
		err = vgic_save(&vm->vgic, hw, buf, cap, &len);
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
	if (index == its_blob_index(vm)) {
		size_t len;
		int err;

		*tag = MIG_BLOB_ITS;
		spin_lock(&vm->lock);
		err = its_save(&vm->its, buf, cap, &len);
		spin_unlock(&vm->lock);
		return err ? err : (int)len;
	}
	return FERRY_ENOENT;
}

/* While the VM is paused, or the destination is about to resume it, the consoles stay quiet: the
 * management CPU writes the UART itself, a register access per character, each one a trip into
 * QEMU under its global lock (docs/qemu-facts.md). The lines come after the commit. */
static bool quiet(bool src)
{
	if (src)
		return mig.src.paused && mig.src.phase < MIG_SRC_LINGER;
	return (mig.dst.stats.t_paused || mig.dst.hash_early) && mig.dst.phase != MIG_DST_FAILED;
}

static void progress_line(bool src, bool force)
{
	char line[256];

	if (quiet(src) && !force)
		return;

	if (src)
		mig_src_describe(&mig.src, line, sizeof(line));
	else
		mig_dst_describe(&mig.dst, line, sizeof(line));
	con_printf("%s: vm '%s': %s", src ? "migrate" : "incoming", mig.vm->cfg->name, line);
	mig.last_progress = migrate_now_ns(NULL);
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
	progress_line(true, false);
}

static const struct mig_src_ops src_ops = {
	.send_frame = send_frame,
	.now_ns = migrate_now_ns,
	.read_page = src_read_page,
	.page_ptr = src_page_ptr,
	.track_start = src_track_start,
	.collect_dirty = src_collect,
	.track_stop = src_track_stop,
	.pause = src_pause,
	.resume = src_resume,
	.get_state = src_get_state,
	.hash_pages = hash_pages,
	.progress = src_progress,
};

/* ---- destination callbacks ---- */

/* An incoming VM's RAM is zero from power-on (QEMU's RAM, never written by ferry: no image, no
 * device tree). `written` marks the pages any attempt has written since, so a zero record for a
 * page still untouched costs nothing; most of an idle guest's memory is such pages. */
static u64 page_of(const struct vm *vm, u64 ipa) { return (ipa - vm->cfg->ram_base) >> PAGE_SHIFT; }

static int dst_write_page(void *ctx, ipa_t ipa, u32 offset, const void *src, u32 len)
{
	struct vm *vm = ctx;

	if (!ipa_ok(vm, ipa_addr(ipa), MIG_PAGE_SIZE) || offset > MIG_PAGE_SIZE ||
	    len > MIG_PAGE_SIZE - offset)
		return FERRY_ERANGE;
	memcpy(guest_ptr(vm, ipa_addr(ipa)) + offset, src, len);
	bitmap_set(mig.written, page_of(vm, ipa_addr(ipa)));
	return 0;
}

static int dst_zero_pages(void *ctx, ipa_t ipa, u64 npages)
{
	struct vm *vm = ctx;
	u64 first;

	if (!ipa_ok(vm, ipa_addr(ipa), npages * MIG_PAGE_SIZE))
		return FERRY_ERANGE;
	first = page_of(vm, ipa_addr(ipa));
	for (u64 i = bitmap_next_set(mig.written, first + npages, first); i < first + npages;
	     i = bitmap_next_set(mig.written, first + npages, i + 1)) {
		memset(guest_ptr(vm, vm->cfg->ram_base + (i << PAGE_SHIFT)), 0, PAGE_SIZE);
		bitmap_clear(mig.written, i);
	}
	return 0;
}

static int dst_put_state(void *ctx, u32 index, u32 tag, const void *buf, u32 len)
{
	struct vm *vm = ctx;
	const char *why = "unexpected blob";
	int err = FERRY_EINVAL;

	if (!mig.t_first_blob)
		mig.t_first_blob = migrate_now_ns(NULL);
	if (index == 0 && tag == MIG_BLOB_VM) {
		err = mig_vm_decode(buf, len, &mig.vmstate, &why);
		if (!err && (mig.vmstate.nvcpus != vm->nvcpus ||
			     mig.vmstate.ram_base != vm->cfg->ram_base ||
			     mig.vmstate.ram_size != vm->cfg->ram_size)) {
			why = "VM shape differs from the handshake";
			err = FERRY_EINVAL;
		}
		/* Guest time would run at another speed: refuse rather than rescale it. */
		if (!err && mig.vmstate.cntfrq != sysreg_read(cntfrq_el0)) {
			why = "counter frequency differs";
			err = FERRY_EINVAL;
		}
	} else if (index >= 1 && index <= vm->nvcpus && tag == MIG_BLOB_VCPU) {
		struct mig_vcpu_state s;

		err = mig_vcpu_decode(buf, len, &s, &why);
		if (!err && s.index != index - 1) {
			why = "vCPU blob out of order";
			err = FERRY_EINVAL;
		}
		if (!err)
			vm->vcpu[index - 1].state = s;
	} else if (index == vm->nvcpus + 1 && tag == MIG_BLOB_UART) {
		err = vpl011_load(&mig.uart, buf, len);
		why = "malformed PL011 state";
	} else if (index == vm->nvcpus + 2 && tag == MIG_BLOB_VGIC) {
		struct vgic_cpu_hw hw[CONFIG_MAX_VCPUS];

		/* The VM is not running here: its vGIC is ours to overwrite (all-or-nothing). */
		spin_lock(&vm->lock);
		err = vgic_restore(&vm->vgic, hw, buf, len);
		spin_unlock(&vm->lock);
		for (u32 i = 0; !err && i < vm->nvcpus; i++)
			vm->vcpu[i].gic_hw = hw[i];
		why = "malformed vGIC state";
	} else if (index == vm->nvcpus + 3 && tag == MIG_BLOB_RTC) {
		err = board_rtc_load(vm, buf, len);
		why = "malformed PL031 state";
	} else if (machine.sve && index >= vm->nvcpus + 4 && index < 2 * vm->nvcpus + 4 &&
		   tag == MIG_BLOB_SVE) {
		err = sve_blob_load(&vm->vcpu[index - vm->nvcpus - 4], buf, len, &why);
	} else if (index == its_blob_index(vm) && tag == MIG_BLOB_ITS) {
		spin_lock(&vm->lock);
		err = its_restore(&vm->its, buf, len);
		spin_unlock(&vm->lock);
		why = "malformed ITS state";
	}
	if (err) {
		con_printf("incoming: vm '%s': state blob %u refused: %s", vm->cfg->name, index,
			   why);
		return err;
	}
	mig.blobs_ok |= 1u << index;
	return 0;
}

static void dst_progress(void *ctx, const struct mig_stats *st)
{
	(void)ctx;
	(void)st;
	progress_line(false, false);
}

static void dst_page_arrived(void *ctx, ipa_t ipa) { postcopy_arrived(ctx, ipa_addr(ipa)); }

static const struct mig_dst_ops dst_ops = {
	.page_arrived = dst_page_arrived,
	.send_frame = send_frame,
	.now_ns = migrate_now_ns,
	.write_page = dst_write_page,
	.zero_pages = dst_zero_pages,
	.read_page = src_read_page,
	.hash_pages = hash_pages,
	.put_state = dst_put_state,
	.progress = dst_progress,
};

static int dst_listen(struct vm *vm)
{
	struct mig_dst_config cfg;
	void *ws;

	memset(&cfg, 0, sizeof(cfg));
	compat_of(vm, &cfg.compat);
	memcpy(cfg.local_mac, vnet_info()->mac, 6);
	link_config(&cfg.link);
	if (migkey_fill(cfg.key, cfg.nonce))
		return FERRY_EPERM; /* no key: the migration link cannot be authenticated */
	ws = workspace(mig_dst_workspace_size(&cfg));
	if (!ws)
		return FERRY_ENOMEM;
	if (!mig.written) { /* kept across attempts: it describes the RAM, not an attempt */
		mig.written_pages = vm->cfg->ram_size >> PAGE_SHIFT;
		mig.written = pool_zalloc_contig(
			ALIGN_UP(BITMAP_WORDS(mig.written_pages) * 8, PAGE_SIZE) / PAGE_SIZE);
		if (!mig.written)
			return FERRY_ENOMEM;
	}
	memset(&mig.vmstate, 0, sizeof(mig.vmstate));
	mig.blobs_ok = 0;
	mig.t_first_blob = 0;
	mig.vm = vm;
	mig.role = ROLE_DST;
	int err = mig_dst_init(&mig.dst, &cfg, &dst_ops, vm, ws, mig.ws_len);

	if (!err)
		err = mig_dst_listen(&mig.dst);
	if (err)
		mig.role = ROLE_NONE;
	return err;
}

/* An incoming VM that cannot be run ends faulted, with the reason `vms` shows (vm_request_stop
 * acts only on running VMs: its vCPUs never ran). */
static void incoming_failed(struct vm *vm, const char *why)
{
	spin_lock(&vm->lock);
	snprintf(vm->reason, sizeof(vm->reason), "%s", why);
	__atomic_store_n(&vm->state, VM_FAULTED, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
}

/* Commit: the memory is the source's (hashes equal); give the vCPUs their state and run. */
static void dst_install(struct vm *vm)
{
	const struct mig_stats *st = mig_dst_stats(&mig.dst);
	/* VM, vCPUs, PL011, vGIC, PL031, with SVE one more per vCPU, and the ITS */
	u32 want = (1u << (its_blob_index(vm) + 1)) - 1;
	u64 now = migrate_now_ns(NULL), paused_at, gap_ticks;

	if (mig.blobs_ok != want) {
		con_printf("incoming: vm '%s': state incomplete (blobs 0x%x of 0x%x): not started",
			   vm->cfg->name, mig.blobs_ok, want);
		incoming_failed(vm, "incoming migration without complete state");
		return;
	}
	/* The guest's clock goes on from the source's count plus the time it was paused, as seen
	 * here: from the first final-round frame (or the first state blob) to now. */
	paused_at = st->t_paused ? st->t_paused : mig.t_first_blob;
	gap_ticks = mig_muldiv(now - MIN(paused_at, now), sysreg_read(cntfrq_el0), NS_PER_S);
	vm->cntvoff = sysreg_read(cntpct_el0) - (mig.vmstate.vcount + gap_ticks);
	vm->started_at = sysreg_read(cntpct_el0);
	vm->uart = mig.uart;
	for (u32 i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		struct vpsci_cpu *pc = &vm->psci.cpu[i];

		pc->entry = v->state.r[MIG_R_ENTRY];
		pc->context = v->state.r[MIG_R_CONTEXT];
		v->request = 0;
		switch (v->state.power) {
		case MIG_VCPU_ON:
			v->restore = true;
			pc->state = VPSCI_ON;
			break;
		case MIG_VCPU_ON_PENDING:
			pc->state = VPSCI_ON_PENDING;
			break;
		default:
			pc->state = VPSCI_OFF;
			break;
		}
	}
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	for (u32 i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	mig.resume_ns = migrate_now_ns(NULL) - now;
	con_printf("incoming: vm '%s': committed; resuming (paused here %llu ms)", vm->cfg->name,
		   (unsigned long long)((now - MIN(paused_at, now)) / 1000000));
}

/* ---- summaries: one JSON object each end, for tools/ferry-migrate ---- */

/* The object goes out in console lines of at most JSON_LINE characters (a console line holds
 * 400 with its prefix, and vsnprintf would cut a longer one silently: that once dropped the comma
 * between two fields). Fields are added whole; a field that would not fit starts the next line,
 * its separating comma with it, so the concatenated lines are always the exact object. */
#define JSON_LINE 300

struct json_out {
	const char *who;
	char line[JSON_LINE + 1];
	size_t len;
	bool first_line, first_field;
};

static void json_flush(struct json_out *j, bool last)
{
	con_printf("%s-json%s%s%s", j->who, j->first_line ? ": " : "+ ", j->line, last ? "}" : "");
	j->first_line = false;
	j->len = 0;
	j->line[0] = 0;
}

static void json_field(struct json_out *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void json_field(struct json_out *j, const char *fmt, ...)
{
	char piece[JSON_LINE];
	va_list ap;
	int n;

	piece[0] = ',';
	va_start(ap, fmt);
	n = vsnprintf(piece + 1, sizeof(piece) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(piece) - 1)
		return; /* cannot happen for the fields below; never emit half a field */
	const char *p = j->first_field ? piece + 1 : piece;
	size_t plen = strlen(p);

	if (j->len + plen > JSON_LINE)
		json_flush(j, false);
	memcpy(j->line + j->len, p, plen + 1);
	j->len += plen;
	j->first_field = false;
}

static void json_begin(struct json_out *j, const char *who)
{
	j->who = who;
	j->len = 0;
	j->line[0] = '{';
	j->line[1] = 0;
	j->len = 1;
	j->first_line = j->first_field = true;
}

/* A string value: the VM's name comes from the configuration, so quotes, backslashes and control
 * characters are escaped rather than trusted. */
static void json_str(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
}

/* Durations from two clock readings: never negative (a round a failure cut short has no end yet;
 * it ends at the failure). */
static u64 span(u64 from, u64 to) { return to > from ? to - from : 0; }

static void print_json(const char *who, const struct mig_stats *s, bool ok, const char *why)
{
	const struct vnet_stats *ns = vnet_stats();
	struct json_out j;
	char name[6 * CONFIG_NAME_MAX + 8], why_s[128];
	u64 end = s->t_commit ? s->t_commit : s->t_end;

	json_str(name, sizeof(name), mig.vm->cfg->name);
	json_str(why_s, sizeof(why_s), why);
	json_begin(&j, who);
	json_field(&j, "\"vm\":\"%s\"", name);
	json_field(&j, "\"ok\":%s", ok ? "true" : "false");
	json_field(&j, "\"why\":\"%s\"", why_s);
	json_field(&j, "\"rounds\":%u", s->rounds);
	json_field(&j, "\"final_round\":%u", s->final_round);
#define U64(key, v) json_field(&j, "\"" key "\":%llu", (unsigned long long)(v))
	U64("pages", s->pages_sent);
	U64("zero_pages", s->zero_pages);
	U64("data_bytes", s->data_bytes);
	U64("state_blobs", s->state_blobs);
	U64("state_bytes", s->state_bytes);
	U64("frames_sent", s->frames_sent);
	U64("bytes_sent", s->bytes_sent);
	U64("frames_received", s->frames_received);
	U64("bytes_received", s->bytes_received);
	U64("retransmissions", s->retransmissions);
	U64("fast_retransmissions", s->fast_retransmissions);
	U64("corrupt", s->corrupt);
	U64("auth_failed", s->rejected[MIG_REJ_MAC]);
	U64("stale", s->stale);
	U64("duplicates", s->duplicates);
	U64("reordered", s->reordered);
	U64("corrupted_by_hook", mig.corrupted);
	U64("downtime_ns", s->downtime_ns);
	U64("total_ns", span(s->t_start, end));
	U64("hash_ns", s->hash_ns);
	json_field(&j, "\"local_hash\":\"%016llx\"", (unsigned long long)s->local_hash);
	json_field(&j, "\"peer_hash\":\"%016llx\"", (unsigned long long)s->peer_hash);
	U64("throughput", s->throughput);
	U64("frame_max", mig.role == ROLE_SRC ? mig.src.link.frame_max : mig.dst.link.frame_max);
	U64("nic_tx_busy", ns->tx_busy);
	U64("nic_rx_bad", ns->rx_bad);
	U64("rtt_ns", s->rtt_ns);
	U64("t_paused_ns", s->t_paused ? span(s->t_start, s->t_paused) : 0);
	U64("t_commit_ns", s->t_commit ? span(s->t_start, s->t_commit) : 0);
	/* The downtime phase by phase (docs/migration.md); resume_ns on the destination. */
	json_field(&j, "\"verify\":\"%s\"", s->verify == MIG_VERIFY_FULL ? "full" : "digest");
	U64("park_ns", s->park_ns);
	U64("last_collect_ns", s->last_collect_ns);
	U64("last_pages_ns", s->last_pages_ns);
	U64("state_ns", s->state_ns);
	U64("verify_ns", s->verify_ns);
	U64("commit_rtt_ns", s->commit_rtt_ns);
	U64("resume_ns", mig.role == ROLE_DST ? mig.resume_ns : 0);
	json_field(&j, "\"audit\":\"%s\"",
		   s->audit == MIG_AUDIT_CLEAN     ? "clean"
		   : s->audit == MIG_AUDIT_DIFFERS ? "differs"
		   : s->audit                      ? "unfinished"
						   : "off");
	U64("audit_bad_pages", s->audit_bad_pages);
	json_field(&j, "\"audit_first_bad\":\"0x%llx\"", (unsigned long long)s->audit_first_bad);
	U64("audit_ns", s->audit_ns);
	/* Post-copy (docs/migration.md, "Post-copy"): fault figures are the destination's. */
	json_field(&j, "\"postcopy\":%s", s->pc ? "true" : "false");
	U64("pc_pages", s->pc_pages);
	U64("pc_requested", s->pc_requested);
	U64("pc_requests_late", s->pc_requests_late);
	U64("pc_duplicates", s->pc_duplicates);
	U64("pc_last_page_ns", s->t_pc_last ? span(s->t_commit, s->t_pc_last) : 0);
	U64("pc_total_ns", s->pc ? span(s->t_start, s->t_end) : 0);
	U64("pc_faults", s->pc_faults);
	U64("pc_fault_ns_mean", s->pc_faults ? s->pc_fault_ns_sum / s->pc_faults : 0);
	U64("pc_fault_ns_max", s->pc_fault_ns_max);
	json_field(&j, "\"pc_verify\":\"%s\"",
		   s->pc_verify == MIG_PCV_MATCH     ? "match"
		   : s->pc_verify == MIG_PCV_DIFFERS ? "differs"
		   : s->pc_verify == MIG_PCV_MISSING ? "missing"
						     : "none");
#undef U64
	for (u32 r = 0; r < s->rounds && r < MIG_ROUNDS_MAX; r++) {
		u64 r_end = s->r[r].end_ns ? s->r[r].end_ns : s->t_end;

		json_field(
			&j, "\"r%u\":[%llu,%llu,%llu,%llu]", r, (unsigned long long)s->r[r].pages,
			(unsigned long long)s->r[r].zero_pages, (unsigned long long)s->r[r].bytes,
			(unsigned long long)span(s->r[r].start_ns, r_end));
	}
	json_field(&j, "\"nrounds\":%u", MIN(s->rounds, MIG_ROUNDS_MAX));
	json_flush(&j, true);
}

/* ---- shell ---- */

/* Decimal only (picolibc's strtoull sets errno, which lives in TLS ferry does not have). */
static bool parse_u64(const char *s, u64 *out)
{
	u64 v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	return true;
}

static void cmd_migrate(char *args)
{
	char *name = strsep(&args, " "), *opt;
	struct mig_src_config cfg;
	struct vm *vm;
	void *ws;
	u64 v;
	int err;

	if (!name || !*name) {
		con_printf("usage: migrate <vm> [postcopy] [postcopy=off|auto|now] [downtime=MS] "
			   "[rounds=N] [mode=wp|dbm] [start=eager|gradual] [verify=digest|full] "
			   "[audit=0|1]" HOOK_USAGE);
		return;
	}
	if (!strcmp(name, "cancel")) {
		if (mig.role == ROLE_SRC)
			mig_src_cancel(&mig.src);
		else
			con_printf("migrate: nothing to cancel");
		return;
	}
	vm = vm_by_name(name);
	if (!vm) {
		con_printf("migrate: no VM named '%s'", name);
		return;
	}
	if (shm_refuses_migration(vm) || pt_refuses_migration(vm) || vvnet_refuses_migration(vm))
		return;
	if (!vnet_present()) {
		con_printf(
			"migrate: no network device (QEMU: -device virtio-net-device,netdev=...)");
		return;
	}
	if (mig.role != ROLE_NONE) {
		con_printf("migrate: busy: %s vm '%s'",
			   mig.role == ROLE_SRC ? "migrating" : "waiting for an incoming",
			   mig.vm->cfg->name);
		return;
	}
	if (vm->state != VM_RUNNING) {
		con_printf("migrate: vm '%s' is %s, not running", name, vm_state_name(vm->state));
		return;
	}

	memset(&cfg, 0, sizeof(cfg));
	compat_of(vm, &cfg.compat);
	forced_mode = DIRTY_OFF;
	start_chunk = 0;
	mig.corrupt_every = 0;
	mig.lose_one = false;
	mig.lost_page = 0;
	while ((opt = strsep(&args, " ")) != NULL) {
		char *val = strchr(opt, '=');

		if (!*opt)
			continue;
		if (val)
			*val++ = 0;
		if (!val && !strcmp(opt, "postcopy"))
			cfg.postcopy = MIG_PC_NOW;
		else if (val && !strcmp(opt, "postcopy") && !strcmp(val, "off"))
			cfg.postcopy = MIG_PC_OFF;
		else if (val && !strcmp(opt, "postcopy") && !strcmp(val, "auto"))
			cfg.postcopy = MIG_PC_AUTO;
		else if (val && !strcmp(opt, "postcopy") && !strcmp(val, "now"))
			cfg.postcopy = MIG_PC_NOW;
		else if (val && !strcmp(opt, "downtime") && parse_u64(val, &v) && v)
			cfg.downtime_ns = v * 1000000ULL;
		else if (val && !strcmp(opt, "rounds") && parse_u64(val, &v) && v &&
			 v <= MIG_ROUNDS_MAX - 2)
			cfg.max_rounds = (u32)v;
		else if (val && !strcmp(opt, "verify") && !strcmp(val, "full"))
			cfg.verify = MIG_VERIFY_FULL;
		else if (val && !strcmp(opt, "verify") && !strcmp(val, "digest"))
			cfg.verify = MIG_VERIFY_DIGEST;
		else if (val && !strcmp(opt, "audit") && (!strcmp(val, "0") || !strcmp(val, "1")))
			cfg.no_audit = val[0] == '0';
		else if (val && !strcmp(opt, "mode") && !strcmp(val, "wp"))
			forced_mode = DIRTY_WP;
		else if (val && !strcmp(opt, "mode") && !strcmp(val, "dbm") && machine.hafdbs)
			forced_mode = DIRTY_DBM;
		else if (val && !strcmp(opt, "start") && !strcmp(val, "eager"))
			start_chunk = 0;
		else if (val && !strcmp(opt, "start") && !strcmp(val, "gradual"))
			(void)dirtylog_parse_gradual(val, &start_chunk);
#if FERRY_MIG_TEST_HOOKS
		else if (val && !strcmp(opt, "corrupt") && parse_u64(val, &v) && v &&
			 v < (1u << 30))
			mig.corrupt_every = (u32)v;
		else if (val && !strcmp(opt, "lose") && !strcmp(val, "1"))
			mig.lose_one = true;
		else if (val && !strcmp(opt, "pcdrop") && !strcmp(val, "1"))
			cfg.pc_drop_one = true;
#endif
		else {
			con_printf("migrate: bad option '%s%s%s' (postcopy, postcopy=off|auto|now, "
				   "downtime=MS, rounds=1..%u, mode=wp|dbm%s, start=eager|gradual, "
				   "verify=digest|full, audit=0|1%s)",
				   opt, val ? "=" : "", val ? val : "", MIG_ROUNDS_MAX - 2,
				   machine.hafdbs ? "" : " (no dbm on this CPU)",
				   FERRY_MIG_TEST_HOOKS ? ", corrupt=N, lose=1, pcdrop=1" : "");
			return;
		}
	}
	if (migkey_fill(cfg.key, cfg.nonce)) {
		con_printf(
			"migrate: no migration key: set the same on both ferries (migkey <64 hex "
			"digits>, or migration-key in the config)");
		return;
	}
	cfg.session = (u32)(sysreg_read(cntpct_el0) * 2654435761u) ^ ++mig.sessions;
	if (!cfg.session)
		cfg.session = 1;
	memcpy(cfg.local_mac, vnet_info()->mac, 6);
	memset(cfg.peer_mac, 0xff, 6);
	link_config(&cfg.link);
	ws = workspace(mig_src_workspace_size(&cfg));
	if (!ws) {
		con_printf("migrate: out of memory for the migration workspace");
		return;
	}
	mig.vm = vm;
	mig.frames_out = mig.corrupted = 0;
	mig.audit_reported = false;
	err = mig_src_init(&mig.src, &cfg, &src_ops, vm, ws, mig.ws_len);
	if (!err) {
		mig.role = ROLE_SRC;
		con_printf("migrate: vm '%s': %llu MiB, %u vCPU%s, frames of %u bytes, downtime "
			   "budget %llu ms",
			   name, (unsigned long long)(vm->cfg->ram_size >> 20), vm->nvcpus,
			   vm->nvcpus == 1 ? "" : "s", cfg.link.frame_max,
			   (unsigned long long)(cfg.downtime_ns ? cfg.downtime_ns / 1000000 : 50));
		err = mig_src_start(&mig.src);
	}
	if (err) {
		mig.role = ROLE_NONE;
		con_printf("migrate: vm '%s': could not start: %s", name, ferry_strerror(err));
	}
}

static void cmd_migration(void)
{
	const struct vnet_info *ni = vnet_info();
	char line[256];

	if (!vnet_present())
		con_printf("migration: no network device");
	else
		con_printf(
			"migration: NIC virtio-mmio v%u at 0x%llx, MAC %02x:%02x:%02x:%02x:%02x:%02x, "
			"frames up to %u bytes, link %s; sent %llu frames, received %llu",
			ni->version, (unsigned long long)ni->base, ni->mac[0], ni->mac[1],
			ni->mac[2], ni->mac[3], ni->mac[4], ni->mac[5], ni->frame_max,
			ni->link_up ? "up" : "down", (unsigned long long)vnet_stats()->tx_frames,
			(unsigned long long)vnet_stats()->rx_frames);
	if (mig.role == ROLE_SRC)
		mig_src_describe(&mig.src, line, sizeof(line));
	else if (mig.role == ROLE_DST)
		mig_dst_describe(&mig.dst, line, sizeof(line));
	else
		snprintf(line, sizeof(line), "idle");
	con_printf("migration: %s%s%s", mig.role != ROLE_NONE ? mig.vm->cfg->name : "",
		   mig.role != ROLE_NONE ? ": " : "", line);
	if (mig.role != ROLE_NONE) {
		const struct mig_stats *s =
			mig.role == ROLE_SRC ? mig_src_stats(&mig.src) : mig_dst_stats(&mig.dst);

		con_printf("migration: frames failed authentication %llu, stale %llu",
			   (unsigned long long)s->rejected[MIG_REJ_MAC],
			   (unsigned long long)s->stale);
	}
}

/* netblast <MiB>: frames of the largest size, as fast as the NIC takes them, to every peer. The
 * receiving ferry times them: the raw link rate migration's goodput is compared with. */
static void cmd_netblast(char *args)
{
	u64 mib, total, t0, sent = 0;
	u32 len = vnet_present() ? vnet_info()->frame_max : 0;

	if (!args || !parse_u64(args, &mib) || !mib || mib > 65536) {
		con_printf("usage: netblast <MiB>   (1..65536)");
		return;
	}
	if (!len) {
		con_printf("netblast: no network device");
		return;
	}
	total = (mib << 20) / len + 1;
	memset(mig.scratch, 0, len);
	memset(mig.scratch, 0xff, 6);
	memcpy(mig.scratch + 6, vnet_info()->mac, 6);
	mig.scratch[12] = BLAST_ETHERTYPE >> 8;
	mig.scratch[13] = BLAST_ETHERTYPE & 0xff;
	t0 = migrate_now_ns(NULL);
	while (sent < total) {
		memcpy(mig.scratch + 14, &sent, 4);
		memcpy(mig.scratch + 18, &total, 4);
		if (vnet_send(mig.scratch, len) == 0)
			sent++;
		else
			vnet_poll();
	}
	u64 dt = migrate_now_ns(NULL) - t0;

	con_printf("netblast: sent %llu frames of %u bytes (%llu MiB) in %llu ms",
		   (unsigned long long)sent, len, (unsigned long long)(sent * len >> 20),
		   (unsigned long long)(dt / 1000000));
}

static void blast_rx(const u8 *f, size_t len)
{
	u32 seq, total;
	u64 now = migrate_now_ns(NULL);

	memcpy(&seq, f + 14, 4);
	memcpy(&total, f + 18, 4);
	if (seq == 0 || !mig.blast_frames) {
		mig.blast_frames = mig.blast_bytes = 0;
		mig.blast_t0 = now;
		mig.blast_total = total;
	}
	mig.blast_frames++;
	mig.blast_bytes += len;
	mig.blast_t_last = now;
}

static void blast_report(void)
{
	u64 now = migrate_now_ns(NULL), dt;

	if (!mig.blast_frames)
		return;
	/* Done when the last frame came, or when nothing came for 500 ms (frames were lost). */
	if (mig.blast_frames < mig.blast_total && now - mig.blast_t_last < 500000000ULL)
		return;
	dt = mig.blast_t_last - mig.blast_t0;
	con_printf("netblast: received %llu of %u frames, %llu bytes in %llu us: %llu MB/s",
		   (unsigned long long)mig.blast_frames, mig.blast_total,
		   (unsigned long long)mig.blast_bytes, (unsigned long long)(dt / 1000),
		   (unsigned long long)(dt ? mig.blast_bytes * 1000 / dt : 0));
	mig.blast_frames = 0;
}

void migrate_shell(const char *cmd, char *args)
{
	if (!strcmp(cmd, "migrate"))
		cmd_migrate(args);
	else if (!strcmp(cmd, "migration"))
		cmd_migration();
	else if (!strcmp(cmd, "netblast"))
		cmd_netblast(args);
	else if (!strcmp(cmd, "migkey"))
		migkey_shell(args);
	else if (!strcmp(cmd, "migbench"))
		migbench_shell();
}

/* ---- boot and the management loop ---- */

static struct vm *incoming_vm(void)
{
	for (u32 i = 0; i < nvms; i++)
		if (vms[i].state == VM_INCOMING)
			return &vms[i];
	return NULL;
}

static void listen_incoming(struct vm *vm)
{
	int err = dst_listen(vm);

	if (err == FERRY_EPERM)
		con_printf("incoming: vm '%s': no migration key: not listening until one is set "
			   "(migkey <64 hex digits>, or migration-key in the config)",
			   vm->cfg->name);
	else if (err)
		con_printf("incoming: vm '%s': cannot listen: %s", vm->cfg->name,
			   ferry_strerror(err));
	else
		con_printf("incoming: vm '%s': waiting for a source", vm->cfg->name);
}

void migrate_boot(void)
{
	const struct vnet_info *ni;
	struct vm *vm;
	int err = vnet_init(machine.virtio_pa, machine.virtio_intid, machine.nvirtio);

	if (err == FERRY_ENOENT) {
		if (incoming_vm())
			con_printf("ferry: no network device: incoming VMs wait in vain "
				   "(QEMU: -device virtio-net-device,netdev=...)");
		return;
	}
	if (err) {
		con_printf("ferry: network device unusable: %s", ferry_strerror(err));
		return;
	}
	ni = vnet_info();
	bool crc_hw = crc32c_use_hw(FIELD_GET(sysreg_read(id_aa64isar0_el1), 19, 16) >= 1);

	con_printf("ferry: network: virtio-net (%s) at 0x%llx, MAC %02x:%02x:%02x:%02x:%02x:%02x, "
		   "frames up to %u bytes%s, %u/%u buffers, CRC32C in %s",
		   ni->version == 1 ? "legacy" : "modern", (unsigned long long)ni->base, ni->mac[0],
		   ni->mac[1], ni->mac[2], ni->mac[3], ni->mac[4], ni->mac[5], ni->frame_max,
		   ni->mtu ? "" : " (no MTU from the device)", ni->rxq, ni->txq,
		   crc_hw ? "hardware" : "software");
	if (ni->intid)
		gic_enable_irq(0, ni->intid);
	vm = incoming_vm();
	if (vm)
		listen_incoming(vm);
}

void migrate_key_changed(void)
{
	struct vm *vm = incoming_vm();

	if (!vm || !vnet_present())
		return;
	/* Still waiting for a HELLO: listen again under the new key. A migration under way keeps
	 * the session key it has. */
	if (mig.role == ROLE_DST && mig.dst.phase == MIG_DST_LISTEN)
		mig.role = ROLE_NONE;
	if (mig.role == ROLE_NONE)
		listen_incoming(vm);
}

static u32 receive_frames(void)
{
	const u8 *f;
	size_t len;
	u32 n = 0;

	while ((f = vnet_recv(&len)) != NULL) {
		u16 type = (u16)(f[12] << 8 | f[13]);

		n++;
		if (type == BLAST_ETHERTYPE && len >= 22)
			blast_rx(f, len);
		else if (type == MIG_ETHERTYPE && mig.role == ROLE_SRC)
			mig_src_input(&mig.src, f, len);
		else if (type == MIG_ETHERTYPE && mig.role == ROLE_DST)
			mig_dst_input(&mig.dst, f, len);
		vnet_recv_done();
	}
	return n;
}

static void src_finished(enum mig_status st)
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
	print_json("migrate", mig_src_stats(&mig.src), st == MIG_DONE,
		   st == MIG_DONE ? "" : mig_fail_name((u32)mig.src.fail));
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
		release_vcpus(vm);
		return;
	}
	if (st == MIG_DONE) {
		/* The VM lives on the peer now: end it here for good, its vCPUs released from the
		 * pause straight into the stop. */
		vm_request_stop(vm, VM_MIGRATED, "migrated to the peer");
		release_vcpus(vm);
	}
}

static int dst_ask(u64 ipa)
{
	int err = mig_dst_request(&mig.dst, ipa);

	return err == FERRY_ENOENT ? 0 : err; /* it arrived meanwhile */
}

/* The switch is committed: unmap what is missing, then run the VM here. */
static void dst_postcopy_start(void)
{
	struct vm *vm = mig.vm;
	int err = postcopy_begin(vm, mig.dst.absent);

	mig.resume_ns = 0;
	if (err) {
		/* Committed, and the missing pages cannot be kept from the guest: never run it. */
		con_printf(
			"incoming: vm '%s': post-copy: cannot unmap the missing pages (%s): the VM "
			"cannot run",
			vm->cfg->name, ferry_strerror(err));
		incoming_failed(vm, "post-copy: missing pages could not be unmapped");
		mig_dst_cancel(&mig.dst);
		return;
	}
	dst_install(vm);
	con_printf("incoming: vm '%s': post-copy: running with %llu pages still on their way",
		   vm->cfg->name, (unsigned long long)mig.dst.pc_left);
}

/* Post-copy over, one way or the other: the VM has run here since the switch. */
static void dst_postcopy_finished(struct vm *vm, bool ok)
{
	struct mig_stats *st = &mig.dst.stats;
	char line[300];

	st->pc_faults = vm->pc_faults;
	st->pc_fault_ns_sum = vm->pc_fault_ns_sum;
	st->pc_fault_ns_max = vm->pc_fault_ns_max;
	mig_dst_describe(&mig.dst, line, sizeof(line));
	con_printf("incoming: vm '%s': %s", vm->cfg->name, line);
	con_printf("incoming: vm '%s': post-copy: %llu guest accesses waited for a page (mean %llu "
		   "us, max %llu us)",
		   vm->cfg->name, (unsigned long long)vm->pc_faults,
		   (unsigned long long)(vm->pc_faults ? vm->pc_fault_ns_sum / vm->pc_faults / 1000
						      : 0),
		   (unsigned long long)(vm->pc_fault_ns_max / 1000));
	if (ok && !mig.dst.pc_left)
		postcopy_end(vm);
	else
		/* Pages that will never come: the VM cannot go on. It is the only copy, so it is
		 * stopped, not discarded; its pages stay unmapped and gmem refuses them. */
		vm_request_stop(vm, VM_FAULTED,
				ok ? "post-copy: pages never arrived"
				   : "post-copy link lost: the VM cannot continue");
	print_json("incoming", st, ok, ok ? "" : mig_fail_name((u32)mig.dst.fail));
	mig.role = ROLE_NONE;
}

static void dst_finished(enum mig_status st)
{
	struct vm *vm = mig.vm;
	bool ok = st == MIG_DONE;

	if (mig.dst.pc_resumed) {
		dst_postcopy_finished(vm, ok);
		return;
	}
	mig.resume_ns = 0;
	if (ok) {
		dst_install(vm); /* first: the guest should not wait for a summary */
		progress_line(false, true);
	}
	print_json("incoming", mig_dst_stats(&mig.dst), ok,
		   ok ? "" : mig_fail_name((u32)mig.dst.fail));
	mig.role = ROLE_NONE;
	if (ok)
		return;
	/* The attempt is discarded; the VM waits for the next one. */
	if (mig.dst.fail == MIG_FAIL_COMMIT_UNCONFIRMED) {
		incoming_failed(vm, "incoming migration: commit unconfirmed");
		return;
	}
	if (!dst_listen(vm))
		con_printf("incoming: vm '%s': waiting for a source", vm->cfg->name);
}

static bool poll_once(void);

/* The NIC's interrupt is acknowledged only before the management CPU sleeps (vnet_irq_done): a
 * device register read on every poll would take QEMU's global lock from its I/O thread, which
 * moves the frames, over and over (docs/qemu-facts.md). */
bool migrate_poll(void)
{
	if (!vnet_present())
		return false;
	return poll_once() || vnet_irq_done();
}

static bool poll_once(void)
{
	enum mig_status st;
	u32 got;
	u64 before;

	vnet_poll();
	got = receive_frames();
	blast_report();
	if (mig.role == ROLE_SRC) {
		/* The guest ended on its own (powered off, faulted, stopped) before the pause: there
		 * is nothing left to move. */
		if (mig.vm->state != VM_RUNNING && !mig.src.paused &&
		    mig.src.phase != MIG_SRC_LINGER && mig.src.phase != MIG_SRC_DONE) {
			con_printf("migrate: vm '%s' is %s: migration cancelled", mig.vm->cfg->name,
				   vm_state_name(mig.vm->state));
			mig_src_cancel(&mig.src);
		}
		before = mig.src.stats.frames_sent;
		st = mig_src_poll(&mig.src);
		if (st != MIG_RUNNING) {
			src_finished(st);
			return true;
		}
		if (migrate_now_ns(NULL) - mig.last_progress > PROGRESS_EVERY_NS)
			progress_line(true, false);
		/* Sleep only when this poll moved nothing, paused or not: the NIC's interrupt wakes
		 * the CPU for the next frame (vnet_irq_done re-arms it and checks for a frame that
		 * came first), and the timers wait at most a tick. Spinning through the pause was
		 * slower: under TCG each ferry is a QEMU whose I/O thread moves the frames, and a
		 * management CPU spinning on a shared host took the cores that thread needed
		 * (make demo: median downtime 64 ms spinning, 20 ms sleeping, six runs each).
		 * What a poll still has to compute (a full hash) keeps it awake. */
		return got || mig.src.stats.frames_sent != before ||
		       (mig.src.paused && !mig.src.hash_done);
	}
	if (mig.role == ROLE_DST) {
		before = mig.dst.stats.frames_sent;
		if (mig.dst.phase == MIG_DST_PC_RUN)
			postcopy_collect(mig.vm, dst_ask);
		st = mig_dst_poll(&mig.dst);
		if (st == MIG_POSTCOPY) {
			dst_postcopy_start();
			return true;
		}
		if (st != MIG_RUNNING) {
			dst_finished(st);
			return true;
		}
		if (mig.dst.phase != MIG_DST_LISTEN &&
		    migrate_now_ns(NULL) - mig.last_progress > 4 * PROGRESS_EVERY_NS)
			progress_line(false, false);
		/* Likewise; the hash of all RAM (verify=full) keeps it awake. */
		return got || mig.dst.stats.frames_sent != before ||
		       mig.dst.phase == MIG_DST_HASH ||
		       (mig.dst.hash_early && mig.dst.hash_cursor < mig.dst.npages);
	}
	return got != 0;
}
