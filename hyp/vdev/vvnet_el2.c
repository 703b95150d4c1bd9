/* SPDX-License-Identifier: Apache-2.0 */
/* Virtual network links between VMs, the EL2 side (docs/vnet.md): each link's two virtio-net
 * models (hyp/vdev/vvnet.c) sit behind one lock; a guest's accesses to virtio-mmio slot 0 trap
 * here, and a notify on its transmit queue moves its frames into the peer's receive ring right
 * there, on the notifying vCPU's own CPU, before the guest resumes.
 *
 * Why in the trap and not on the management CPU: the sender's CPU is idle in the trap anyway, the
 * frame reaches the peer with no wait for the management CPU's 10 ms tick or a kick to it, and a
 * VM that sends a lot spends its own CPU's time, not the machine's. With no receive buffer at a
 * running peer the frames wait in the sender's ring until the peer's receive notify (in the
 * peer's trap, then), or are dropped and counted after VVNET_HOLD_MAX_MS without progress.
 *
 * Locking: the link's lock covers both ends' models and the copy between the two VMs' RAM, so the
 * two VMs sending at once on their own CPUs take turns per notification; it is taken before a
 * VM's lock (for the interrupt line), never after. A VM that is rebuilt (restart, reset) first
 * resets its end under the link's lock, so no copy into its RAM can be under way or start while
 * its image is written there, until its new driver sets the device up again. */
#include "vdev/vvnet_el2.h"

#include <stdio.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/console.h"
#include "core/passthrough.h"
#include "core/vm.h"
#include "vdev/vvnet.h"
#include "vgic/vgic_el2.h"

#define VVNET_BASE (VVIRTIO_BASE + VVNET_SLOT * VVIRTIO_STRIDE)
#define VVNET_INTID (VVIRTIO_FIRST_INTID + VVNET_SLOT)

struct vvnet_link {
	spinlock_t lock;
	u32 vm[2]; /* the two ends' VM indices */
	struct vvnet dev[2];
	u64 held_since[2]; /* CNTPCT when end e's frames began to wait for the peer's buffers */
	struct vvnet_scratch scratch;
};

/* How long an end's frames may wait for the peer to post receive buffers before they are
 * dropped, as a full NIC drops them: a Linux peer refills its ring in its next NAPI poll, so a
 * second without one means it has stopped receiving, and the sender's queue must not stay stopped
 * for ever. */
#define VVNET_HOLD_MAX_MS 1000u

static struct vvnet_link links[CONFIG_MAX_VMS / 2];
static u32 nlinks;
/* By VM index: its link + 1 (0: none), and which end it is. */
static u32 link_of[CONFIG_MAX_VMS], end_of[CONFIG_MAX_VMS];

static struct vvnet_link *link_for(const struct vm *vm, u32 *end)
{
	if (vm->id >= CONFIG_MAX_VMS || !link_of[vm->id])
		return NULL;
	*end = end_of[vm->id];
	return &links[link_of[vm->id] - 1];
}

int vvnet_create_all(const struct ferry_config *cfg)
{
	for (u32 i = 0; i < cfg->nvms; i++) {
		const struct vm_config *a = &cfg->vm[i], *b;
		struct vvnet_link *l;

		if (!a->has_vnet || a->vnet_peer_index < i)
			continue;
		b = &cfg->vm[a->vnet_peer_index];
		/* The emulated device takes slot 0: the VM cannot also own that page. */
		if (pt_page_of_vm(&vms[i], VVNET_BASE) ||
		    pt_page_of_vm(&vms[a->vnet_peer_index], VVNET_BASE)) {
			con_printf("config: vm '%s': property 'vnet': virtio-mmio slot 0x%llx is "
				   "passed through to one end",
				   a->name, (unsigned long long)VVNET_BASE);
			return FERRY_EINVAL;
		}
		l = &links[nlinks++];
		l->vm[0] = i;
		l->vm[1] = a->vnet_peer_index;
		vvnet_init(&l->dev[0], a->vnet_mac);
		vvnet_init(&l->dev[1], b->vnet_mac);
		link_of[i] = link_of[a->vnet_peer_index] = nlinks;
		end_of[i] = 0;
		end_of[a->vnet_peer_index] = 1;
		con_printf("ferry: vnet: '%s' %02x:%02x:%02x:%02x:%02x:%02x <-> '%s' "
			   "%02x:%02x:%02x:%02x:%02x:%02x, virtio-mmio 0x%llx INTID %u in each",
			   a->name, a->vnet_mac[0], a->vnet_mac[1], a->vnet_mac[2], a->vnet_mac[3],
			   a->vnet_mac[4], a->vnet_mac[5], b->name, b->vnet_mac[0], b->vnet_mac[1],
			   b->vnet_mac[2], b->vnet_mac[3], b->vnet_mac[4], b->vnet_mac[5],
			   (unsigned long long)VVNET_BASE, VVNET_INTID);
	}
	return 0;
}

bool vvnet_of_vm(const struct vm *vm)
{
	u32 end;

	return link_for(vm, &end) != NULL;
}

bool vvnet_window(const struct vm *vm, u64 ipa, u64 len)
{
	return vvnet_of_vm(vm) && ipa >= VVNET_BASE && len <= VVIRTIO_STRIDE &&
	       ipa - VVNET_BASE <= VVIRTIO_STRIDE - len;
}

/* Under the link's lock: end e's line to its VM's vGIC, while that vGIC is built. */
static void set_line(struct vvnet_link *l, u32 e)
{
	struct vm *vm = &vms[l->vm[e]];

	spin_lock(&vm->lock);
	if (vm->state == VM_RUNNING || vm->state == VM_CREATED)
		virq_set_line_locked(vm, VVNET_INTID, vvnet_line(&l->dev[e]));
	spin_unlock(&vm->lock);
}

static bool hold_expired(const struct vvnet_link *l, u32 t, u64 now)
{
	return l->dev[t].tx_held &&
	       now - l->held_since[t] >= sysreg_read(cntfrq_el0) / 1000 * VVNET_HOLD_MAX_MS;
}

/* Under the link's lock: end t's frames to the other end, waiting while the other end's receive
 * ring is empty, unless they have waited too long already. */
static void move(struct vvnet_link *l, u32 t, u64 now)
{
	struct vm *peer = &vms[l->vm[!t]];
	bool up = __atomic_load_n(&peer->state, __ATOMIC_ACQUIRE) == VM_RUNNING;
	bool was_held = l->dev[t].tx_held;
	u64 moved = l->dev[t].stats.tx_frames;
	u32 lines;

	vvnet_transmit(&l->dev[t], &vms[l->vm[t]].ram, up ? &l->dev[!t] : NULL, &peer->ram,
		       &l->scratch, !hold_expired(l, t, now), &lines);
	/* The wait counts from the peer's last progress, not from the first frame held. */
	if (l->dev[t].tx_held && (!was_held || l->dev[t].stats.tx_frames != moved))
		l->held_since[t] = now;
	if (lines & 1)
		set_line(l, t);
	if (lines & 2)
		set_line(l, !t);
}

void vvnet_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value)
{
	u32 end, effects;
	struct vvnet_link *l = link_for(v->vm, &end);
	u64 now = sysreg_read(cntpct_el0);

	if (!l) { /* vvnet_window() said it is */
		*value = 0;
		return;
	}
	spin_lock(&l->lock);
	vvnet_access(&l->dev[end], ipa - VVNET_BASE, size, write, value, &effects);
	if (effects & VVNET_EFF_LINE)
		set_line(l, end);
	/* Held frames move when the peer posts receive buffers, are dropped when it can take none
	 * (its driver reset it) or they waited too long: looked at on every access of either VM,
	 * so a sender whose queue stopped is freed by the peer's next trap or its own. */
	if ((effects & VVNET_EFF_TX) || hold_expired(l, end, now))
		move(l, end, now);
	if (l->dev[!end].tx_held &&
	    ((effects & VVNET_EFF_RX) || !vvnet_live(&l->dev[end]) || hold_expired(l, !end, now)))
		move(l, !end, now);
	spin_unlock(&l->lock);
}

void vvnet_vm_reset(struct vm *vm)
{
	u32 end;
	struct vvnet_link *l = link_for(vm, &end);

	if (!l)
		return;
	/* Its line needs no lowering: vm_build() builds its vGIC afresh after this (and at boot the
	 * vGIC does not exist yet). */
	spin_lock(&l->lock);
	vvnet_reset(&l->dev[end]);
	/* The peer's frames that waited for this end's buffers will find none: dropped now. */
	if (l->dev[!end].tx_held)
		move(l, !end, sysreg_read(cntpct_el0));
	spin_unlock(&l->lock);
}

bool vvnet_refuses_migration(const struct vm *vm)
{
	u32 end;
	struct vvnet_link *l = link_for(vm, &end);

	if (l)
		con_printf("migrate: vm '%s' has the virtual network device 'vnet' linked to vm "
			   "'%s' (its peer stays here): refused, it runs on",
			   vm->cfg->name, vms[l->vm[!end]].cfg->name);
	return l != NULL;
}

void vvnet_print_stats(void)
{
	for (u32 i = 0; i < nlinks; i++)
		for (u32 e = 0; e < 2; e++) {
			struct vvnet_stats s;

			spin_lock(&links[i].lock);
			s = links[i].dev[e].stats;
			spin_unlock(&links[i].lock);
			con_printf(
				"stats: vnet '%s': tx %llu frames %llu bytes, rx %llu frames "
				"%llu bytes, dropped %llu (no buffer) %llu (buffer too small) "
				"%llu (bad frame), held %llu, notifies %llu (tx) %llu (rx), "
				"interrupts %llu, "
				"register accesses %llu, broken rings %llu, refused accesses %llu",
				vms[links[i].vm[e]].cfg->name, (unsigned long long)s.tx_frames,
				(unsigned long long)s.tx_bytes, (unsigned long long)s.rx_frames,
				(unsigned long long)s.rx_bytes, (unsigned long long)s.tx_dropped,
				(unsigned long long)s.tx_too_small, (unsigned long long)s.tx_bad,
				(unsigned long long)s.tx_held, (unsigned long long)s.notify_tx,
				(unsigned long long)s.notify_rx, (unsigned long long)s.irqs,
				(unsigned long long)s.accesses, (unsigned long long)s.broken_rings,
				(unsigned long long)s.refused);
		}
}
