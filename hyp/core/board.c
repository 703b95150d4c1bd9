/* SPDX-License-Identifier: Apache-2.0 */
/* The EL2 side of the board devices of hyp/vdev/board.h: each VM's PL031 and the empty virtio-mmio
 * window, both emulated by trapping (neither window is mapped at stage 2). The PL031's time is the
 * host's wall clock: the host PL031 is read once at boot, before any VM exists, and the physical
 * counter carries it on, so a read costs no access to the real device and ferry never touches it
 * again: a VM may own it by passthrough (docs/passthrough.md), and then has no emulated PL031.
 * Without a host PL031, time starts at ferry's boot. */
#include "core/board.h"

#include "arch/aarch64/sysreg.h"
#include "core/machine.h"
#include "core/passthrough.h"
#include "core/vm.h"
#include "lib/spinlock.h"
#include "vdev/board.h"
#include "vgic/vgic_el2.h"

static u64 wall_at_boot, cnt_at_boot;

/* The only access ferry makes to the host PL031 (main.c calls this before pt_boot() and any VM). */
void board_init(void)
{
	if (machine.rtc_pa)
		wall_at_boot = *(volatile u32 *)(uintptr_t)machine.rtc_pa; /* RTCDR */
	cnt_at_boot = sysreg_read(cntpct_el0);
}

u64 board_wall_now(void)
{
	return wall_at_boot + (sysreg_read(cntpct_el0) - cnt_at_boot) / sysreg_read(cntfrq_el0);
}

void board_vm_reset(struct vm *vm) { vpl031_reset(&vm->rtc, board_wall_now()); }

bool board_mmio_window(const struct vm *vm, ipa_t at)
{
	u64 ipa = ipa_addr(at);

	/* The owner of the machine's PL031 has its page mapped at stage 2 instead (pt_map_vm()):
	 * nothing of it is emulated, should an access ever get here. */
	if (ipa >= VPL031_BASE && ipa < VPL031_BASE + VPL031_SIZE)
		return !pt_owns_rtc(vm);
	return ipa >= VVIRTIO_BASE && ipa < VVIRTIO_BASE + VVIRTIO_SLOTS * VVIRTIO_STRIDE;
}

/* Under vm->lock: the RTC's interrupt line as of now. */
static void rtc_line(struct vm *vm, u64 now)
{
	virq_set_line_locked(vm, VPL031_INTID, vpl031_irq_line(&vm->rtc, now));
}

void board_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *val)
{
	struct vm *vm = v->vm;
	u64 now = board_wall_now();

	if (ipa >= VVIRTIO_BASE) {
		/* Every slot is empty: no device is assigned to a guest's window yet. */
		if (!write)
			*val = vvirtio_empty_read((ipa - VVIRTIO_BASE) % VVIRTIO_STRIDE, size);
		return;
	}
	spin_lock(&vm->lock);
	if (write)
		vpl031_write(&vm->rtc, ipa - VPL031_BASE, size, (u32)*val, now);
	else
		*val = vpl031_read(&vm->rtc, ipa - VPL031_BASE, size, now);
	rtc_line(vm, now);
	spin_unlock(&vm->lock);
}

/* Before each entry, under vm->lock: a match that came due since the guest last touched the RTC
 * raises its interrupt (cheap: nothing to do unless a match is armed and unmasked). */
void board_poll_locked(struct vm *vm)
{
	if (vm->rtc.armed && vm->rtc.imsc)
		rtc_line(vm, board_wall_now());
}

/* The management CPU, at each of its ticks (10 ms): a match that came due in a running VM raises
 * the RTC's interrupt, and the vGIC kicks the vCPU it is routed to, even if that vCPU spins or
 * waits in WFI without an exit. */
void board_service(struct vm *vm)
{
	if (vm->state != VM_RUNNING || !vm->rtc.armed || !vm->rtc.imsc)
		return;
	spin_lock(&vm->lock);
	board_poll_locked(vm);
	spin_unlock(&vm->lock);
}

int board_rtc_save(struct vm *vm, void *buf, size_t cap)
{
	int n;

	spin_lock(&vm->lock);
	n = vpl031_save(&vm->rtc, board_wall_now(), buf, cap);
	spin_unlock(&vm->lock);
	return n;
}

int board_rtc_load(struct vm *vm, const void *buf, size_t len)
{
	int err;

	/* The VM is not running here (incoming): all or nothing, as the vGIC's. */
	spin_lock(&vm->lock);
	err = vpl031_load(&vm->rtc, board_wall_now(), buf, len);
	if (!err)
		rtc_line(vm, board_wall_now());
	spin_unlock(&vm->lock);
	return err;
}
