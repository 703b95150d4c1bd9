/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2, the destination: the callbacks mig_dst drives (pages, state blobs staged
 * until the commit), listening for a source, installing the state at the commit, and the switch to
 * post-copy. */
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/alloc.h"
#include "core/board.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/migkey.h"
#include "core/sve.h"
#include "core/vcpu.h"
#include "migrate/mig_el2.h"
#include "migrate/mig_sve.h"
#include "migrate/postcopy_el2.h"

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

/* Whether every vCPU has finished its rehearsal (REQ_REHEARSE, core/vcpu.c), waiting a little: a
 * rehearsing CPU writes its vCPU's gic_hw and SVE area, where state is about to be installed. */
static bool rehearsals_done(const struct vm *vm)
{
	u64 deadline = migrate_now_ns(NULL) + REHEARSAL_WAIT_NS;

	for (u32 i = 0; i < vm->nvcpus; i++)
		while (__atomic_load_n(&vm->vcpu[i].request, __ATOMIC_ACQUIRE) & REQ_REHEARSE)
			if (migrate_now_ns(NULL) > deadline)
				return false;
	return true;
}

int migel2_put_state(struct vm *vm, u32 index, u32 tag, const void *buf, u32 len)
{
	const char *why = "unexpected blob";
	int err = FERRY_EINVAL;

	if (!mig.t_first_blob)
		mig.t_first_blob = migrate_now_ns(NULL);
	if (!rehearsals_done(vm)) {
		why = "a vCPU has not finished its rehearsal";
		err = FERRY_EBUSY;
	} else if (index == 0 && tag == MIG_BLOB_VM) {
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
	} else if (index == migel2_its_blob_index(vm) && tag == MIG_BLOB_ITS) {
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

static int dst_put_state(void *ctx, u32 index, u32 tag, const void *buf, u32 len)
{
	return migel2_put_state(ctx, index, tag, buf, len);
}

static void dst_progress(void *ctx, const struct mig_stats *st)
{
	(void)ctx;
	(void)st;
	migel2_progress_line(false, false);
}

static void dst_page_arrived(void *ctx, ipa_t ipa) { postcopy_arrived(ctx, ipa_addr(ipa)); }

static const struct mig_dst_ops dst_ops = {
	.page_arrived = dst_page_arrived,
	.send_frame = migel2_send_frame,
	.now_ns = migrate_now_ns,
	.write_page = dst_write_page,
	.zero_pages = dst_zero_pages,
	.read_page = migel2_src_read_page,
	.hash_pages = migel2_hash_pages,
	.put_state = dst_put_state,
	.progress = dst_progress,
};

static int dst_listen(struct vm *vm)
{
	struct mig_dst_config cfg;
	void *ws;

	memset(&cfg, 0, sizeof(cfg));
	migel2_compat_of(vm, &cfg.compat);
	memcpy(cfg.local_mac, vnet_info()->mac, 6);
	migel2_link_config(&cfg.link);
	if (migkey_fill(cfg.key, cfg.nonce))
		return FERRY_EPERM; /* no key: the migration link cannot be authenticated */
	ws = migel2_workspace(mig_dst_workspace_size(&cfg));
	if (!ws)
		return FERRY_ENOMEM;
	if (!mig.written) { /* kept across attempts: it describes the RAM, not an attempt */
		mig.written_pages = vm->cfg->ram_size >> PAGE_SHIFT;
		mig.written = pool_zalloc_contig(
			ALIGN_UP(BITMAP_WORDS(mig.written_pages) * 8, PAGE_SIZE) / PAGE_SIZE);
		if (!mig.written)
			return FERRY_ENOMEM;
	}
	/* The VM's own state through the commit's code once, now rather than in the pause
	 * (rehearse_el2.c); what it leaves in mig is cleared just below. */
	int err = migel2_rehearse(vm, true);

	if (err)
		return err;
	memset(&mig.vmstate, 0, sizeof(mig.vmstate));
	mig.blobs_ok = 0;
	mig.t_first_blob = 0;
	mig.vcount_at_resume = 0;
	mig.resume_cnt = 0;
	mig.resume_wait = 0;
	mig.report_by = 0;
	mig.staged = STAGED_NOT;
	mig.vm = vm;
	mig.role = ROLE_DST;
	err = mig_dst_init(&mig.dst, &cfg, &dst_ops, vm, ws, mig.ws_len);
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

/* Our COMMIT is out: the state goes in place now, while the source's ack of it travels (a round
 * trip the management CPU would spend waiting), so that only what depends on the moment of the
 * ack is left for it (dst_start). Nothing runs yet: a vCPU enters its guest only once the VM is
 * VM_RUNNING. Nothing here is ever undone either: without the ack the VM ends faulted (COMMIT
 * unconfirmed), and a new attempt stages again. */
static void dst_stage(struct vm *vm)
{
	/* VM, vCPUs, PL011, vGIC, PL031, with SVE one more per vCPU, and the ITS */
	u32 want = (1u << (migel2_its_blob_index(vm) + 1)) - 1;

	if (mig.blobs_ok != want) {
		con_printf("incoming: vm '%s': state incomplete (blobs 0x%x of 0x%x): not started",
			   vm->cfg->name, mig.blobs_ok, want);
		incoming_failed(vm, "incoming migration without complete state");
		mig.staged = STAGED_REFUSED;
		return;
	}
	vm->uart = mig.uart;
	mig.resume_wait = 0;
	for (u32 i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		struct vpsci_cpu *pc = &vm->psci.cpu[i];

		pc->entry = v->state.r[MIG_R_ENTRY];
		pc->context = v->state.r[MIG_R_CONTEXT];
		v->request = 0;
		switch (v->state.power) {
		case MIG_VCPU_ON:
			v->restored_at = 0;
			mig.resume_wait |= 1u << i;
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
	mig.staged = STAGED_OK;
}

void migel2_dst_committing(void)
{
	if (mig.dst.phase == MIG_DST_COMMIT && mig.staged == STAGED_NOT)
		dst_stage(mig.vm);
}

/* Commit (the source's ack is in): the VM is ours. Its clock goes on, then its vCPUs. */
static void dst_start(struct vm *vm)
{
	const struct mig_stats *st = mig_dst_stats(&mig.dst);
	u64 now = migrate_now_ns(NULL), paused_at, gap_ticks;

	if (mig.staged == STAGED_NOT)
		dst_stage(vm); /* the ack came in the poll that sent the COMMIT */
	if (mig.staged != STAGED_OK)
		return;
	/* The guest's clock goes on from the source's count plus the time it was paused, as seen
	 * here: from the first final-round frame (or the first state blob) to now. */
	paused_at = st->t_paused ? st->t_paused : mig.t_first_blob;
	gap_ticks = mig_muldiv(now - MIN(paused_at, now), sysreg_read(cntfrq_el0), NS_PER_S);
	mig.resume_cnt = sysreg_read(cntpct_el0);
	mig.vcount_at_resume = mig.vmstate.vcount + gap_ticks;
	vm->cntvoff = sysreg_read(cntpct_el0) - mig.vcount_at_resume;
	vm->started_at = sysreg_read(cntpct_el0);
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	for (u32 i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	mig.resume_ns = migrate_now_ns(NULL) - now; /* to the kicks; resume_span: to the entries */
	con_printf("incoming: vm '%s': committed; resuming (paused here %llu ms)", vm->cfg->name,
		   (unsigned long long)((now - MIN(paused_at, now)) / 1000000));
}

/* ---- boot and the management loop ---- */

struct vm *migel2_incoming_vm(void)
{
	for (u32 i = 0; i < nvms; i++)
		if (vms[i].state == VM_INCOMING)
			return &vms[i];
	return NULL;
}

void migel2_listen_incoming(struct vm *vm)
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

int migel2_dst_ask(u64 ipa)
{
	int err = mig_dst_request(&mig.dst, ipa);

	return err == FERRY_ENOENT ? 0 : err; /* it arrived meanwhile */
}

/* The resume, from the commit to the last kicked vCPU's entry into its guest (and the figure
 * goes into resume_ns); false while one has not got there yet (resume_ns then runs to now). */
static bool resume_span(void)
{
	u64 last = mig.resume_cnt;
	bool all = true;

	for (u32 i = 0; i < mig.vm->nvcpus; i++)
		if (mig.resume_wait & (1u << i)) {
			u64 t = __atomic_load_n(&mig.vm->vcpu[i].restored_at, __ATOMIC_ACQUIRE);

			all = all && t;
			last = MAX(last, t);
		}
	if (!all)
		last = sysreg_read(cntpct_el0);
	mig.resume_ns = migrate_ticks_ns(last - mig.resume_cnt);
	return all;
}

/* The switch is committed: unmap what is missing, then run the VM here. */
void migel2_dst_postcopy_start(void)
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
	dst_start(vm);
	con_printf("incoming: vm '%s': post-copy: running with %llu pages still on their way",
		   vm->cfg->name, (unsigned long long)mig.dst.pc_left);
}

/* Post-copy over, one way or the other: the VM has run here since the switch. */
static void dst_postcopy_finished(struct vm *vm, bool ok)
{
	struct mig_stats *st = &mig.dst.stats;
	char line[300];

	(void)resume_span(); /* long since back in the guest: the figure for the summary */
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
	migel2_print_json("incoming", st, ok, ok ? "" : mig_fail_name(mig.dst.fail));
	mig.role = ROLE_NONE;
}

/* How long the summary waits at most for a kicked vCPU to get back into its guest. */
#define REPORT_WAIT_NS (1000ULL * 1000000ULL)

/* After a commit: once every kicked vCPU has loaded its state (or REPORT_WAIT_NS has passed), the
 * resume's figure (the commit to the last vCPU's entry) and the summary. True once printed. */
bool migel2_dst_report(void)
{
	if (!mig.report_by || (!resume_span() && migrate_now_ns(NULL) < mig.report_by))
		return false;
	mig.report_by = 0;
	migel2_progress_line(false, true);
	migel2_print_json("incoming", mig_dst_stats(&mig.dst), true, "");
	mig.role = ROLE_NONE;
	return true;
}

void migel2_dst_finished(enum mig_status st)
{
	struct vm *vm = mig.vm;
	bool ok = st == MIG_DONE;

	if (mig.dst.pc_resumed) {
		dst_postcopy_finished(vm, ok);
		return;
	}
	mig.resume_ns = 0;
	if (ok) {
		/* The summary waits until the vCPUs are back in the guest (migel2_dst_report), so
		 * that it can say when that was; nor do its characters, register writes under
		 * QEMU's global lock, compete meanwhile with vCPUs that need that lock to take their
		 * kick (docs/qemu-facts.md). The role stays until then. */
		dst_start(vm);
		mig.report_by = migrate_now_ns(NULL) + REPORT_WAIT_NS;
		return;
	}
	migel2_print_json("incoming", mig_dst_stats(&mig.dst), ok, mig_fail_name(mig.dst.fail));
	mig.role = ROLE_NONE;
	/* The attempt is discarded; the VM waits for the next one. */
	if (mig.dst.fail == MIG_FAIL_COMMIT_UNCONFIRMED) {
		incoming_failed(vm, "incoming migration: commit unconfirmed");
		return;
	}
	if (!dst_listen(vm))
		con_printf("incoming: vm '%s': waiting for a source", vm->cfg->name);
}
