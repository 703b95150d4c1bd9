/* SPDX-License-Identifier: Apache-2.0 */
/* The rehearsal: the code a migration's pause runs, run once before the pause. At boot, the
 * protocol machines' (a loopback migration in memory, mig_loopback.h); per migration, the VM's own
 * state blobs and vCPU contexts (migel2_rehearse).
 *
 * Under QEMU's TCG, the first execution of a piece of code costs its translation: about 40-50 µs
 * per translated block on the machines we measure on, against a few µs to run it once
 * translated. The pause runs code nothing else runs: the state serializers and the vCPUs' context
 * save on the source (about 100 blocks, 4-5 ms), the decoders, the restores and the context load on
 * the destination (several hundred blocks). Run once while the VM still runs (source) or still
 * waits (destination), their translation is out of the pause (docs/migration.md, "The
 * rehearsal"). On hardware it costs a few tens of µs and warms the caches instead.
 *
 * It is also an early check. The source serializes every blob once before round 0, so a state that
 * cannot be serialized fails the migration while the VM runs on, not in the pause. The destination
 * puts its own incoming VM's state through save and restore: a blob its own decoder refuses is a
 * bug found before a source depends on it. */
#include <string.h>

#include "core/console.h"
#include "core/vcpu.h"
#include "migrate/mig_el2.h"
#include "migrate/mig_loopback.h"

/* The blobs go nowhere: one scratch buffer, the size of the largest blob. */
static u8 scratch[MIG_STATE_BLOB_MAX];

static void rehearse_vcpus(struct vm *vm)
{
	for (u32 i = 0; i < vm->nvcpus; i++) {
		__atomic_or_fetch(&vm->vcpu[i].request, REQ_REHEARSE, __ATOMIC_RELEASE);
		vcpu_kick(&vm->vcpu[i]);
	}
}

int migel2_rehearse(struct vm *vm, bool incoming)
{
	for (u32 i = 0;; i++) {
		u32 tag = 0;
		int n = migel2_get_state(vm, i, scratch, sizeof(scratch), &tag, !incoming);

		/* Test hook: a blob this build cannot serialize, as a device in a state its
		 * serializer does not know would be. */
		if (FERRY_MIG_TEST_HOOKS && !incoming && mig.nosave_blob == i + 1 && n >= 0)
			n = FERRY_EINVAL;
		if (n == FERRY_ENOENT)
			break;
		if (n < 0) {
			con_printf("%s: vm '%s': state blob %u cannot be serialized (error %d)",
				   incoming ? "incoming" : "migrate", vm->cfg->name, i, n);
			return n;
		}
		if (incoming) {
			/* The VM has not run: its state goes back in unchanged. Test hook: a blob one
			 * byte short, which its decoder must refuse, as it would a blob its own
			 * encoder got wrong. */
			u32 len =
				(u32)n - (FERRY_MIG_TEST_HOOKS && mig.norestore_blob == i + 1 && n);
			int err = migel2_put_state(vm, i, tag, scratch, len);

			if (err)
				return err; /* migel2_put_state said which and why */
		}
	}
	rehearse_vcpus(vm);
	/* The source's park itself, once: its vCPUs stop at EL2 and go on at once. The guest sees
	 * one short stop before round 0 (the park's translation under TCG, about a millisecond; a
	 * few µs on hardware) in place of that much more in the pause. Should they not all stop, the
	 * real pause finds out. Parked, the blobs are serialized once more as the pause will (the
	 * vGIC's and the ITS's save proper, which refuses while a vCPU runs, and the vCPUs' own
	 * `state`, which the pause overwrites): warm, about 0.1 ms more of this stop, and about 20
	 * blocks fewer to translate in the pause. */
	if (!incoming && !migel2_park_vcpus(vm)) {
		u64 deadline = migrate_now_ns(NULL) + PAUSE_TIMEOUT_NS;
		u32 tag;

		for (u32 i = 0; migel2_get_state(vm, i, scratch, sizeof(scratch), &tag, false) >= 0;
		     i++)
			;

		migel2_release_vcpus(vm);
		/* Gone from the park before the migration goes on: a later pause must not take a
		 * vCPU still on its way out for one parked. */
		for (u32 i = 0; i < vm->nvcpus; i++)
			while (__atomic_load_n(&vm->vcpu[i].parked, __ATOMIC_ACQUIRE) &&
			       migrate_now_ns(NULL) < deadline)
				;
	}
	return 0;
}

/* The workspace every migration of these VMs will need, either way, and the loopback's: allocated
 * once, now, so that the loopback's memory is the migrations' (the pool never takes it back). */
static size_t workspace_need(u32 frame_max)
{
	size_t need = mig_loopback_workspace_size(frame_max);

	for (u32 i = 0; i < nvms; i++) {
		struct mig_src_config s;
		struct mig_dst_config d;

		memset(&s, 0, sizeof(s));
		memset(&d, 0, sizeof(d));
		migel2_compat_of(&vms[i], &s.compat);
		migel2_link_config(&s.link);
		d.compat = s.compat;
		d.link = s.link;
		need = MAX(need, MAX(mig_src_workspace_size(&s), mig_dst_workspace_size(&d)));
	}
	return need;
}

void migel2_rehearse_machines(void)
{
	struct mig_link_config link;
	char why[96];
	u64 t0 = migrate_now_ns(NULL);
	void *ws;
	int err;

	migel2_link_config(&link);
	ws = migel2_workspace(workspace_need(link.frame_max));
	if (!ws) {
		/* A migration of the largest VM would fail for memory too, when it starts: say so
		 * now, and still test the machines in what the loopback alone needs. */
		con_printf("ferry: out of memory for the largest VM's migration workspace");
		ws = migel2_workspace(mig_loopback_workspace_size(link.frame_max));
		if (!ws)
			return;
	}
	/* Pre-copy, then post-copy's switch and stream: their pause code differs. */
	err = mig_loopback_run(ws, mig.ws_len, link.frame_max, false, migrate_now_ns, why,
			       sizeof(why));
	if (!err)
		err = mig_loopback_run(ws, mig.ws_len, link.frame_max, true, migrate_now_ns, why,
				       sizeof(why));
	if (err)
		con_printf(
			"ferry: MIGRATION SELF-TEST FAILED: a loopback migration in memory: %s (%s); "
			"a migration will fail its own checks",
			why, ferry_strerror(err));
	else
		con_printf(
			"ferry: migration self-test: loopback migrations in memory, pre-copy and "
			"post-copy, frames of %u bytes: passed (%llu ms)",
			link.frame_max,
			(unsigned long long)((migrate_now_ns(NULL) - t0) / 1000000));
}
