/* SPDX-License-Identifier: Apache-2.0 */
/* The run loop each physical CPU that owns a vCPU executes: the EL2 controls it loads, reset, the
 * pause for a migration, entry and exit. What an exit does is core/exit.c. */
#include "core/vcpu.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/asm.h"
#include "arch/aarch64/pmu.h"
#include "arch/aarch64/sysreg.h"
#include "arch/aarch64/vectors.h"
#include "config/config.h"
#include "core/console.h"
#include "core/exit.h"
#include "core/machine.h"
#include "core/pcpu.h"
#include "core/shell.h"
#include "core/sve.h"
#include "core/vcpu_ctx.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "lib/spinlock.h"
#include "mm/s2.h"
#include "mm/tlbi.h"
#include "vdev/traps.h"
#include "vdev/vdev.h"
#include "vgic/vgic_el2.h"

void vcpu_kick(struct vcpu *v)
{
	/* The SGI pulls the CPU out of its guest, or out of WFI when idle. */
	dsb(ish);
	gic_send_sgi(v->pcpu, SGI_KICK);
}

/* The EL2 controls every vCPU runs under (vdev/traps.c, docs/isolation.md), computed once per CPU
 * from its ID registers. */
static struct trap_config trap_cfg[MAX_CPUS];
#define SCTLR_EL1_RESET 0x30d00800ULL /* RES1 bits, MMU and caches off, as at a cold reset */

/* The trap baseline of this CPU, from its ID registers (vdev/traps.c); MDCR_EL2's counter bits as
 * the EL2 instruction counter left them. */
static const struct trap_config *trap_config_here(void)
{
	u32 cpu = this_pcpu()->idx;
	struct trap_idregs id = {
		.pfr0 = sysreg_read(id_aa64pfr0_el1),
		.dfr0 = sysreg_read(id_aa64dfr0_el1),
		.isar1 = sysreg_read(id_aa64isar1_el1),
		.isar2 = sysreg_read(S3_0_C0_C6_2),
		.mmfr0 = sysreg_read(id_aa64mmfr0_el1),
		.mmfr1 = sysreg_read(id_aa64mmfr1_el1),
	};

	if (!trap_cfg[cpu].hcr)
		trap_config_compute(&id, sysreg_read(mdcr_el2), &trap_cfg[cpu]);
	return &trap_cfg[cpu];
}

/* The EL2 controls of this vCPU's VM: its stage 2, virtual IDs, timer access and offset, traps. EL1
 * registers stay in the hardware: the vCPU owns this CPU, so exits never switch them. What the
 * registers hold afterwards is read back for `traps` (the hardware drops bits it does not have). */
static void vcpu_load_controls(struct vcpu *v)
{
	struct vm *vm = v->vm;
	const struct trap_config *t = trap_config_here();

	/* VTCR_EL2.HD (and HA): hardware dirty state for descriptors with DBM set (FEAT_HAFDBS).
	 * Without DBM in a descriptor HD changes nothing, so it is on whenever the CPU has it. */
	sysreg_write(vtcr_el2, s2_vtcr(&vm->s2, machine.pa_range_field) |
				       (machine.hafdbs ? VTCR_HA | VTCR_HD : 0));
	sysreg_write(vttbr_el2, s2_vttbr(&vm->s2));
	sysreg_write(vmpidr_el2, vpsci_mpidr(v->idx));
	sysreg_write(vpidr_el2, sysreg_read(midr_el1));
	sysreg_write(cnthctl_el2, t->cnthctl);
	sysreg_write(cntvoff_el2, vm->cntvoff);
	sysreg_write(hcr_el2, t->hcr);
	sysreg_write(mdcr_el2, t->mdcr);
	sysreg_write(cptr_el2, t->cptr);
	sve_load_controls(); /* ZCR_EL2, reachable once CPTR_EL2.TZ is clear */
	if (t->has_hcrx)
		sysreg_write(S3_4_C1_C2_2, t->hcrx); /* HCRX_EL2 */
	if (t->has_fgt) {
		sysreg_write(S3_4_C1_C1_4, t->hfgrtr);  /* HFGRTR_EL2 */
		sysreg_write(S3_4_C1_C1_5, t->hfgwtr);  /* HFGWTR_EL2 */
		sysreg_write(S3_4_C1_C1_6, t->hfgitr);  /* HFGITR_EL2 */
		sysreg_write(S3_4_C3_C1_4, t->hdfgrtr); /* HDFGRTR_EL2 */
		sysreg_write(S3_4_C3_C1_5, t->hdfgwtr); /* HDFGWTR_EL2 */
	}
	isb();
	v->ctl.hcr = sysreg_read(hcr_el2);
	v->ctl.mdcr = sysreg_read(mdcr_el2);
	v->ctl.cptr = sysreg_read(cptr_el2);
	v->ctl.cnthctl = sysreg_read(cnthctl_el2);
	v->ctl.has_hcrx = t->has_hcrx;
	v->ctl.has_fgt = t->has_fgt;
	v->ctl.hcrx = t->has_hcrx ? sysreg_read(S3_4_C1_C2_2) : 0;
	if (t->has_fgt) {
		v->ctl.hfgrtr = sysreg_read(S3_4_C1_C1_4);
		v->ctl.hfgwtr = sysreg_read(S3_4_C1_C1_5);
		v->ctl.hfgitr = sysreg_read(S3_4_C1_C1_6);
		v->ctl.hdfgrtr = sysreg_read(S3_4_C3_C1_4);
		v->ctl.hdfgwtr = sysreg_read(S3_4_C3_C1_5);
	}
	__atomic_store_n(&v->ctl_loaded, true, __ATOMIC_RELEASE);
}

/* This vCPU's reset state (a cold start or a PSCI CPU_ON). */
static void vcpu_reset(struct vcpu *v)
{
	struct vpsci_cpu *pc = &v->vm->psci.cpu[v->idx];

	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.x[0] = pc->context;
	v->regs.elr = pc->entry;
	v->regs.spsr = SPSR_EL1H | SPSR_DAIF;
	sysreg_write(sctlr_el1, SCTLR_EL1_RESET);
	virq_vcpu_reset(v);
	vcpu_load_controls(v);
}

/* REQ_PAUSE (migration): save the EL1 context while it is still in this CPU's registers, say so,
 * and wait at EL2 until the pause ends (the VM runs on, here or, after `restore`, on a peer). */
static void vcpu_park(struct vcpu *v)
{
	bool was_on = v->vm->psci.cpu[v->idx].state == VPSCI_ON;

	if (was_on)
		vcpu_ctx_save(v, &v->state);
	__atomic_store_n(&v->parked, 1, __ATOMIC_RELEASE);
	/* The management CPU waits for the park asleep (migel2_park_vcpus). */
	dsb(ish);
	gic_kick_management();
	while ((__atomic_load_n(&v->request, __ATOMIC_ACQUIRE) & (REQ_PAUSE | REQ_STOP)) ==
	       REQ_PAUSE) {
		wfi();
		gic_drain();
	}
	__atomic_store_n(&v->parked, 0, __ATOMIC_RELEASE);
}

/* Out of the guest: stage 2 off until the vCPU runs again. */
static void vcpu_leave_vm(void)
{
	sysreg_write(hcr_el2, HCR_RW);
	isb();
}

/* REQ_REHEARSE: the context save a pause will run, once now into scratch, so that its code is not
 * run for the first time in the pause (migrate/rehearse_el2.c). On a CPU with no guest running (a
 * destination's), also what its resume runs before the guest's first instruction: the load of
 * what was just saved (its own registers, unchanged), the VM's EL2 controls and a flush and sync
 * of its list registers (the vGIC holds nothing yet: the model is not changed), then the CPU is
 * left outside the VM as after a stop. Without it, the destination's vCPUs translated about 85
 * blocks of that code between the COMMIT's ack and their first entry, about 1 ms under TCG. The
 * save also writes the vCPU's gic_hw and SVE area, so the request is cleared only when it is done:
 * a destination installs state there only once it is clear (migel2_put_state). */
static void vcpu_rehearse(struct vcpu *v, bool load)
{
	static struct mig_vcpu_state scratch[MAX_CPUS];
	struct mig_vcpu_state *s = &scratch[v->pcpu % MAX_CPUS];

	vcpu_ctx_save(v, s);
	if (load) {
		bool shown = __atomic_load_n(&v->ctl_loaded, __ATOMIC_ACQUIRE);

		vcpu_ctx_load(v, s);
		vcpu_load_controls(v);
		virq_flush(v);
		virq_sync(v);
		vcpu_leave_vm();
		/* `traps` shows the controls of a vCPU that ran, not of a rehearsal. */
		__atomic_store_n(&v->ctl_loaded, shown, __ATOMIC_RELEASE);
	}
	__atomic_and_fetch(&v->request, ~(u32)REQ_REHEARSE, __ATOMIC_RELEASE);
}

#if FERRY_TLBI_SANITIZER
static bool sanitizer_still_pending(struct vm *vm)
{
	bool pending;

	spin_lock(&vm->mm_lock);
	pending = tlbi_san_pending(vm->vmid);
	spin_unlock(&vm->mm_lock);
	return pending;
}
#endif

static bool vcpu_should_run(const struct vcpu *v)
{
	return v && v->vm->state == VM_RUNNING && !(v->request & (REQ_STOP | REQ_PAUSE)) &&
	       v->vm->psci.cpu[v->idx].state != VPSCI_OFF;
}

static bool vcpu_paused_here(const struct vcpu *v)
{
	return (v->request & (REQ_STOP | REQ_PAUSE)) == REQ_PAUSE;
}

void vcpu_run_loop(struct pcpu *p)
{
	for (;;) {
		struct vcpu *v;
		struct vm *vm;

		p->state = PCPU_IDLE;
		/* WFI, not WFE: under TCG a WFE only yields, and a spinning idle CPU steals the host
		 * cores the guests run on. Pending interrupts wake WFI although PSTATE.I is masked. */
		while (!vcpu_should_run(v = __atomic_load_n(&p->vcpu, __ATOMIC_ACQUIRE))) {
			if (v && vcpu_paused_here(v)) {
				vcpu_park(v);
				continue;
			}
			if (v && (v->request & REQ_REHEARSE)) {
				vcpu_rehearse(v, true);
				continue;
			}
			wfi();
			gic_drain();
		}
		vm = v->vm;
		p->state = PCPU_RUNNING;
		dsb(ish);
		spin_lock(&vm->lock);
		if (vm->psci.cpu[v->idx].state == VPSCI_ON_PENDING) {
			vm->psci.cpu[v->idx].state = VPSCI_ON;
			spin_unlock(&vm->lock);
			vcpu_reset(v);
		} else {
			spin_unlock(&vm->lock);
			/* Back from a pause or a stop: its EL1 context is still here, unless a migration
			 * brought one from the peer. */
			if (__atomic_exchange_n(&v->restore, false, __ATOMIC_ACQ_REL)) {
				vcpu_ctx_load(v, &v->state);
				v->restored = true;
			}
			vcpu_load_controls(v);
		}
		int cls = -1;
		u64 t_prev = 0;

		/* A sibling's CPU_ON may land between this vCPU's CPU_OFF and the next check:
		 * ON_PENDING must go through the reset above, never resume after the CPU_OFF. */
		while (vcpu_should_run(v) && vm->psci.cpu[v->idx].state == VPSCI_ON) {
			/* EL2 instructions from one entry to the next: the whole round trip of the exit
			 * in between, vectors included. */
			u64 now = pmu_el2_read();

			/* A guest PMCR_EL0.P write resets ferry's counter too on QEMU (which resets
			 * every counter, HPMN or not): skip that one round trip rather than add a
			 * wrapped difference. */
			if (cls >= 0 && now >= t_prev)
				v->exit_insns[cls] += now - t_prev;
			t_prev = now;
#if FERRY_TLBI_SANITIZER
			/* Downgrades and their flushes happen together under mm_lock (possibly on the
			 * management CPU right now): only what is still pending once we hold it is a
			 * missing flush. */
			if (tlbi_san_pending(vm->vmid) && sanitizer_still_pending(vm)) {
				tlbi_san_report(vm->vmid, tlbi_san_print, NULL);
				con_printf(
					"ferry: vm '%s' vcpu %u stopped: TLBI sanitizer: stage-2 "
					"entries left stale (report above)",
					vm->cfg->name, v->idx);
				vm_request_stop(vm, VM_FAULTED,
						"TLBI sanitizer: stage-2 entries left stale");
				break;
			}
#endif
			virq_flush(v);
			sysreg_write(elr_el2, v->regs.elr);
			sysreg_write(spsr_el2, v->regs.spsr);
			if (v->restored) {
				/* The end of a migration's pause, as this vCPU sees it: its guest's
				 * next instruction. */
				v->restored = false;
				__atomic_store_n(&v->restored_at, sysreg_read(cntpct_el0),
						 __ATOMIC_RELEASE);
			}
			u64 reason = guest_enter(&v->regs);
			v->regs.elr = sysreg_read(elr_el2);
			v->regs.spsr = sysreg_read(spsr_el2);
			virq_sync(v);
			cls = vcpu_handle_exit(v, reason);
			if (v->request & REQ_REHEARSE)
				vcpu_rehearse(v, false);
		}
		vcpu_leave_vm();
	}
}
