/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2: the NIC side and the management loop. Frames out (migel2_send_frame) and in
 * (receive_frames), the link's configuration and workspace, the NIC's probe at boot, and the poll that
 * drives whichever machine runs. See mig_el2.h for the map of the EL2 side. */
#include <string.h>

#include "arch/aarch64/debug_ctx.h"
#include "arch/aarch64/sysreg.h"
#include "core/alloc.h"
#include "core/console.h"
#include "core/machine.h"
#include "drivers/gicv3.h"
#include "migrate/linkprobe.h"
#include "migrate/mig_el2.h"
#include "migrate/postcopy_el2.h"

struct mig_el2 mig;

bool migrate_busy(const struct vm *vm) { return mig.role != ROLE_NONE && mig.vm == vm; }

/* Nanoseconds of the physical counter: the migration's clock, and migbench's. */
u64 migrate_ticks_ns(u64 ticks) { return mig_muldiv(ticks, NS_PER_S, sysreg_read(cntfrq_el0)); }

u64 migrate_now_ns(void *ctx)
{
	(void)ctx;
	return migrate_ticks_ns(sysreg_read(cntpct_el0));
}

/* ---- the NIC side ---- */

_Static_assert(VNET_HEADROOM <= MIG_TX_HEADROOM, "the NIC's header must fit before a window frame");

/* The `corrupt=N` test hook: every Nth frame that leaves, counted when the NIC takes it (a frame
 * the NIC refused, EBUSY, comes again later and is neither counted nor corrupted twice), goes
 * with a bit flipped, as on the wire: the receiver's tag check must catch it and the frame must
 * come again. The flipped copy is in scratch; the frame itself stays as it was. */
static const void *hook_corrupt(const void *frame, size_t len, bool *hit)
{
	*hit = FERRY_MIG_TEST_HOOKS && mig.corrupt_every && len > MIG_ETH_HDR_LEN &&
	       (mig.frames_out + 1) % mig.corrupt_every == 0;
	if (!*hit)
		return frame;
	memcpy(mig.scratch, frame, len);
	mig.scratch[MIG_ETH_HDR_LEN + ((mig.frames_out + 1) * 7919) % (len - MIG_ETH_HDR_LEN)] ^=
		(u8)(1u << ((mig.frames_out + 1) % 8));
	return mig.scratch;
}

static int counted(int rc, bool hit)
{
	if (rc == 0) {
		mig.frames_out++;
		mig.corrupted += hit;
	}
	return rc;
}

int migel2_send_frame(void *ctx, const void *frame, size_t len)
{
	bool hit;

	(void)ctx;
	frame = hook_corrupt(frame, len, &hit);
	return counted(vnet_send(frame, len), hit);
}

/* A window frame, without a copy: the NIC reads it from the link's window, which keeps it as it
 * is until the NIC is done with it (migel2_frame_held). One the hook corrupts goes as a copy. */
int migel2_send_in_place(void *ctx, u8 *frame, size_t len)
{
	const void *out;
	bool hit;

	(void)ctx;
	out = hook_corrupt(frame, len, &hit);
	return counted(hit ? vnet_send(out, len) : vnet_send_in_place(frame, len), hit);
}

bool migel2_frame_held(void *ctx, const u8 *frame)
{
	(void)ctx;
	return vnet_tx_holds(frame);
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

void migel2_compat_of(const struct vm *vm, struct mig_compat *c)
{
	c->ram_base = vm->cfg->ram_base;
	c->ram_size = vm->cfg->ram_size;
	c->vcpus = vm->nvcpus;
	c->page_size = MIG_PAGE_SIZE;
	c->cpu_features = guest_cpu_features();
}

void migel2_link_config(struct mig_link_config *l)
{
	memset(l, 0, sizeof(*l));
	l->frame_max = MAX(MIN(vnet_info()->frame_max, MIG_FRAME_MAX), MIG_FRAME_MIN);
	/* Under TCG a busy host stretches one round trip to tens of milliseconds now and then; a
	 * shorter floor resends frames that were only late (measured: hundreds per run at 1 ms, dozens at 20 ms).
	 * Real losses are mostly repaired earlier by the selective acks' fast retransmit. */
	l->rto_min_ns = 50ULL * 1000000ULL;
}

void *migel2_workspace(size_t need)
{
	/* The pool's contiguous allocations are never returned: keep the largest one. */
	if (mig.ws_len < need) {
		mig.ws = pool_zalloc_contig(ALIGN_UP(need, PAGE_SIZE) / PAGE_SIZE);
		mig.ws_len = mig.ws ? need : 0;
	}
	return mig.ws;
}

void migrate_boot(void)
{
	const struct vnet_info *ni;
	struct vm *vm;
	int err = vnet_init(machine.virtio_pa, machine.virtio_intid, machine.nvirtio);

	if (err == FERRY_ENOENT) {
		if (migel2_incoming_vm())
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
	migel2_rehearse_machines();
	vm = migel2_incoming_vm();
	if (vm)
		migel2_listen_incoming(vm);
}

void migrate_key_changed(void)
{
	struct vm *vm = migel2_incoming_vm();

	if (!vm || !vnet_present())
		return;
	/* Still waiting for a HELLO: listen again under the new key. A migration under way keeps
	 * the session key it has. */
	if (mig.role == ROLE_DST && mig.dst.phase == MIG_DST_LISTEN)
		mig.role = ROLE_NONE;
	if (mig.role == ROLE_NONE)
		migel2_listen_incoming(vm);
}

static u32 receive_frames(void)
{
	const u8 *f;
	size_t len;
	u32 n = 0;

	while ((f = vnet_recv(&len)) != NULL) {
		u16 type = (u16)(f[12] << 8 | f[13]);

		n++;
		if (type == LINKPROBE_ETHERTYPE)
			linkprobe_rx(f, len);
		else if (type == MIG_ETHERTYPE && mig.role == ROLE_SRC)
			mig_src_input(&mig.src, f, len);
		else if (type == MIG_ETHERTYPE && mig.role == ROLE_DST)
			mig_dst_input(&mig.dst, f, len);
		vnet_recv_done();
	}
	return n;
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
	u64 before, pages, audited;
	bool probe;

	vnet_poll();
	got = receive_frames();
	probe = linkprobe_poll();
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
		pages = mig.src.stats.pages_sent;
		audited = mig.src.audit_cursor;
		st = mig_src_poll(&mig.src);
		if (st != MIG_RUNNING) {
			migel2_src_finished(st);
			return true;
		}
		if (migrate_now_ns(NULL) - mig.last_progress > PROGRESS_EVERY_NS)
			migel2_progress_line(true, false);
		/* Sleep only when this poll moved nothing, paused or not: the NIC's interrupt wakes
		 * the CPU for the next frame (vnet_irq_done re-arms it and checks for a frame that
		 * came first), and the timers wait at most a tick. Spinning through the pause was
		 * slower: under TCG each ferry is a QEMU whose I/O thread moves the frames, and a
		 * management CPU spinning on a shared host took the cores that thread needed
		 * (make demo: median downtime 64 ms spinning, 20 ms sleeping, six runs each).
		 * What a poll still has to compute keeps it awake: pages it took into a frame not yet
		 * full (zero pages are 16 bytes of record each, so a poll's budget of them may send
		 * no frame: a mostly empty 2 GiB guest's round 0 slept up to a tick after each poll,
		 * docs/migration.md, "Round 0"), the audit's pages after the commit, a full hash. */
		return got || probe || mig.src.stats.frames_sent != before ||
		       mig.src.stats.pages_sent != pages || mig.src.audit_cursor != audited ||
		       (mig.src.paused && !mig.src.hash_done);
	}
	if (mig.role == ROLE_DST && mig.report_by) { /* committed: the summary, once resumed */
		migel2_dst_report();
		return got || probe;
	}
	if (mig.role == ROLE_DST) {
		before = mig.dst.stats.frames_sent;
		if (mig.dst.phase == MIG_DST_PC_RUN)
			postcopy_collect(mig.vm, migel2_dst_ask);
		st = mig_dst_poll(&mig.dst);
		if (st == MIG_POSTCOPY) {
			migel2_dst_postcopy_start();
			return true;
		}
		if (st != MIG_RUNNING) {
			migel2_dst_finished(st);
			return true;
		}
		migel2_dst_committing(); /* the VM's state in place while our COMMIT's ack travels */
		if (mig.dst.phase != MIG_DST_LISTEN &&
		    migrate_now_ns(NULL) - mig.last_progress > 4 * PROGRESS_EVERY_NS)
			migel2_progress_line(false, false);
		/* Likewise; the hash of all RAM (verify=full) keeps it awake. */
		return got || probe || mig.dst.stats.frames_sent != before ||
		       mig.dst.phase == MIG_DST_HASH ||
		       (mig.dst.hash_early && mig.dst.hash_cursor < mig.dst.npages);
	}
	return got || probe;
}
