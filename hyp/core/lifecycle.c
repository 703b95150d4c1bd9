/* SPDX-License-Identifier: Apache-2.0 */
/* The management CPU's duty besides the shell: restarting VMs that asked for it (PSCI SYSTEM_RESET)
 * and ending the run when every VM is done.
 *
 * End of run: when every VM has powered off (PSCI SYSTEM_OFF), faulted or migrated away, ferry
 * prints one verdict line and exits QEMU through semihosting with status 0 if no VM faulted, 1 if
 * any did (docs/architecture.md). VMs stopped from the shell keep ferry running: they can be started
 * again. */
#include "core/lifecycle.h"

#include "arch/aarch64/smc.h"
#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/console.h"
#include "core/vm.h"
#include "migrate/migrate_el2.h"

int vm_restart(struct vm *vm)
{
	int err;

	if (migrate_busy(vm))
		return FERRY_EBUSY;
	for (u64 spin = 0; !vm_quiescent(vm); spin++)
		if (spin > (1ULL << 28))
			return FERRY_EBUSY;
	err = vm_build(vm);
	if (!err)
		vm_start(vm);
	return err;
}

void ferry_service_vms(void)
{
	u32 done = 0, faulted = 0, migrated = 0;

	for (u32 i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];

		if (vm->reset_pending && vm_quiescent(vm)) {
			vm->reset_pending = false;
			con_drain_all(); /* its last lines before the reset's */
			con_printf("ferry: vm '%s' resets", vm->cfg->name);
			if (vm_restart(vm))
				con_printf("ferry: vm '%s' could not be restarted", vm->cfg->name);
		}
		if (vm->state == VM_OFF || vm->state == VM_FAULTED || vm->state == VM_MIGRATED)
			done++;
		if (vm->state == VM_FAULTED)
			faulted++;
		if (vm->state == VM_MIGRATED)
			migrated++;
	}
	if (!nvms || done < nvms)
		return;
	/* A migration still answering its peer (or telling it why it stops) finishes first. */
	for (u32 i = 0; i < nvms; i++)
		if (migrate_busy(&vms[i]))
			return;
	for (u32 i = 0; i < nvms; i++)
		while (!vm_quiescent(&vms[i]))
			;
	con_drain_all(); /* their last words first */
	con_printf("ferry: all VMs have ended: %u powered off, %u migrated, %u faulted; exit %u",
		   done - faulted - migrated, migrated, faulted, faulted ? 1u : 0u);
	arch_semihost_exit(faulted ? 1 : 0);
}
