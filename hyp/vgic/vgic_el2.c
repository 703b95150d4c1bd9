/* SPDX-License-Identifier: Apache-2.0 */
/* The EL2 glue of the vGICv3 (docs/vgic.md, "Interface for the EL2 glue"): the model in hyp/vgic
 * holds every virtual interrupt's state; this file moves it into the hardware's list registers
 * before each entry and back after each exit, forwards the guest's GICD/GICR accesses and SGI
 * writes, turns the guest timers' outputs into interrupt lines, and makes WFI wait for an interrupt.
 *
 * Locking: the model is the VM's shared state; every call into it is made under vm->lock, as the
 * PL011 and PSCI state are. The list registers and ICH_*_EL2 are this CPU's and need no lock. */
#include "vgic/vgic_el2.h"

#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/board.h"
#include "core/machine.h"
#include "core/passthrough.h"
#include "core/pcpu.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "lib/range.h"
#include "lib/spinlock.h"
#include "mm/untouched_el2.h"
#include "vdev/vdev.h"
#include "vgic/its.h"
#include "vgic/vgic.h"

/* CNTV_CTL_EL0/CNTP_CTL_EL0: the timer's output is ENABLE and ISTATUS and not IMASK. */
#define CNT_CTL_ENABLE BIT(0)
#define CNT_CTL_IMASK BIT(1)
#define CNT_CTL_ISTATUS BIT(2)

static void virq_kick(void *ctx, u32 idx)
{
	struct vm *vm = ctx;
	struct vcpu *v = &vm->vcpu[idx];

	/* The vCPU being handled here flushes before it re-enters: it sees the change then. */
	if (v->pcpu == this_pcpu()->idx)
		return;
	dsb(ish);
	gic_send_sgi(v->pcpu, SGI_KICK);
}

static const struct vgic_ops virq_ops = { .kick = virq_kick };

int virq_vm_init(struct vm *vm)
{
	u64 mpidr[CONFIG_MAX_VCPUS];
	struct vgic_config cfg = {
		.nr_vcpus = vm->nvcpus,
		.nr_spis = VGIC_MAX_SPIS,
		.nr_lrs = MIN(machine.ich_lrs, VGIC_MAX_LRS),
		.mpidr = mpidr,
		.gicd_base = VGIC_GICD_BASE_VIRT,
		.gicr_base = VGIC_GICR_BASE_VIRT,
		.lpis = true,
		.mem = &vm->ram,
	};
	int err;

	/* The ITS and the LPI tables are in the VM's RAM, reached through its identity-mapped PA. */
	vm->ram = (struct gmem){ .ipa = vm->cfg->ram_base,
				 .size = vm->cfg->ram_size,
				 .host = (u8 *)(uintptr_t)pa_addr(vm->ram_pa),
				 /* No stage-2 fault sees these writes: dirty logging and the
				  * record of untouched RAM are told. */
				 .wrote = vm_ram_wrote,
				 .wrote_ctx = vm };

	for (u32 i = 0; i < vm->nvcpus; i++)
		mpidr[i] = vpsci_mpidr(i);
	err = vgic_init(&vm->vgic, &cfg, &virq_ops, vm);
	its_init(&vm->its, &vm->vgic, &vm->ram, ITS_BASE_VIRT);
	for (u32 i = 0; !err && i < vm->nvcpus; i++) {
		err = vgic_map_hw(&vm->vgic, i, VGIC_PPI_VTIMER, GIC_PPI_VTIMER);
		if (!err)
			err = vgic_map_hw(&vm->vgic, i, VGIC_PPI_PTIMER, GIC_PPI_PTIMER);
		if (!err && machine.pmu)
			err = vgic_map_hw(&vm->vgic, i, GIC_PPI_PMU, GIC_PPI_PMU);
		/* Every list register may hold something from the CPU's previous guest. */
		vm->vcpu[i].lrs_in_hw = cfg.nr_lrs;
		/* The physical PPIs reach EL2 on the vCPU's own CPU (HCR_EL2.IMO). */
		gic_enable_irq(vm->vcpu[i].pcpu, GIC_PPI_VTIMER);
		gic_enable_irq(vm->vcpu[i].pcpu, GIC_PPI_PTIMER);
		gic_enable_irq(vm->vcpu[i].pcpu, GIC_PPI_MAINTENANCE);
		if (machine.pmu)
			gic_enable_irq(vm->vcpu[i].pcpu, GIC_PPI_PMU);
	}
	return err ? err : pt_vm_irqs(vm);
}

/* A vCPU's virtual CPU interface out of reset: nothing active, every group disabled. The guest's
 * ICC_SRE_EL1 reads SRE = 1 (system registers only), as KVM sets it. */
void virq_vcpu_reset(struct vcpu *v)
{
	(void)v;
	sysreg_write(ich_vmcr_el2, 0);
	sysreg_write(ich_ap0r0_el2, 0);
	sysreg_write(ich_ap1r0_el2, 0);
	sysreg_write(icc_sre_el1, 7); /* SRE, DFB, DIB */
	isb();
}

static bool timer_line(u64 ctl)
{
	return (ctl & (CNT_CTL_ENABLE | CNT_CTL_ISTATUS | CNT_CTL_IMASK)) ==
	       (CNT_CTL_ENABLE | CNT_CTL_ISTATUS);
}

/* Under vm->lock: the timers' outputs as level-sensitive lines (the vtimer counts with CNTVOFF_EL2
 * applied by the hardware), and a held physical PPI the model no longer has any use for (the guest
 * disabled the timer or its interrupt after it fired) deactivated, or it could never fire again. */
static void timers_update(struct vcpu *v)
{
	static const u32 ppi[3] = { GIC_PPI_VTIMER, GIC_PPI_PTIMER, GIC_PPI_PMU };
	const u64 ctl[2] = { sysreg_read(cntv_ctl_el0), sysreg_read(cntp_ctl_el0) };
	struct vgic *g = &v->vm->vgic;
	int n = machine.pmu ? 3 : 2;

	for (int i = 0; i < n; i++) {
		/* The PMU's overflow request: enabled (PMCR_EL0.E) and an overflow whose interrupt
		 * the guest enabled (Arm ARM "PMINTENSET_EL1"). ferry's own EL2 counter never sets
		 * its PMINTENSET bit. */
		u64 overflow = i < 2 ? 0 : sysreg_read(pmovsset_el0) & sysreg_read(pmintenset_el1);
		bool line = i < 2 ? timer_line(ctl[i]) : (sysreg_read(pmcr_el0) & 1) && overflow;

		vgic_set_level(g, v->idx, ppi[i], line);
		/* A physical PMU line can stay high with PMCR_EL0.E clear: QEMU also raises it while
		 * MDCR_EL2.HPME is set, which ferry's own counter needs. Deactivated then, it would
		 * fire again at once, for ever: it stays held until the overflow is cleared. */
		if (gic_held(ppi[i]) && !overflow &&
		    !(vgic_irq_status(g, v->idx, ppi[i]) &
		      (VGIC_ST_PENDING | VGIC_ST_ACTIVE | VGIC_ST_IN_LR)))
			gic_deactivate(ppi[i]);
	}
}

static u64 read_lr(u32 i)
{
	switch (i) {
	case 0:
		return sysreg_read(ich_lr0_el2);
	case 1:
		return sysreg_read(ich_lr1_el2);
	case 2:
		return sysreg_read(ich_lr2_el2);
	case 3:
		return sysreg_read(ich_lr3_el2);
	case 4:
		return sysreg_read(ich_lr4_el2);
	case 5:
		return sysreg_read(ich_lr5_el2);
	case 6:
		return sysreg_read(ich_lr6_el2);
	case 7:
		return sysreg_read(ich_lr7_el2);
	case 8:
		return sysreg_read(ich_lr8_el2);
	case 9:
		return sysreg_read(ich_lr9_el2);
	case 10:
		return sysreg_read(ich_lr10_el2);
	case 11:
		return sysreg_read(ich_lr11_el2);
	case 12:
		return sysreg_read(ich_lr12_el2);
	case 13:
		return sysreg_read(ich_lr13_el2);
	case 14:
		return sysreg_read(ich_lr14_el2);
	default:
		return sysreg_read(ich_lr15_el2);
	}
}

static void write_lr(u32 i, u64 val)
{
	switch (i) {
	case 0:
		sysreg_write(ich_lr0_el2, val);
		break;
	case 1:
		sysreg_write(ich_lr1_el2, val);
		break;
	case 2:
		sysreg_write(ich_lr2_el2, val);
		break;
	case 3:
		sysreg_write(ich_lr3_el2, val);
		break;
	case 4:
		sysreg_write(ich_lr4_el2, val);
		break;
	case 5:
		sysreg_write(ich_lr5_el2, val);
		break;
	case 6:
		sysreg_write(ich_lr6_el2, val);
		break;
	case 7:
		sysreg_write(ich_lr7_el2, val);
		break;
	case 8:
		sysreg_write(ich_lr8_el2, val);
		break;
	case 9:
		sysreg_write(ich_lr9_el2, val);
		break;
	case 10:
		sysreg_write(ich_lr10_el2, val);
		break;
	case 11:
		sysreg_write(ich_lr11_el2, val);
		break;
	case 12:
		sysreg_write(ich_lr12_el2, val);
		break;
	case 13:
		sysreg_write(ich_lr13_el2, val);
		break;
	case 14:
		sysreg_write(ich_lr14_el2, val);
		break;
	default:
		sysreg_write(ich_lr15_el2, val);
		break;
	}
}

/* Before entering: the model's best interrupts into the list registers. Only the LRs that can hold
 * something are written (on QEMU each write re-evaluates the virtual interface). */
void virq_flush(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u64 lr[VGIC_MAX_LRS], hcr;
	u32 n = 0, upto;

	spin_lock(&vm->lock);
	timers_update(v);
	board_poll_locked(vm);
	vgic_flush_lrs(&vm->vgic, v->idx, lr, &n, &hcr);
	spin_unlock(&vm->lock);
	upto = MAX(n, v->lrs_in_hw);
	for (u32 i = 0; i < upto; i++)
		write_lr(i, lr[i]);
	v->lrs_in_hw = n;
	sysreg_write(ich_hcr_el2, hcr);
	isb();
}

/* After every exit, before it is handled: what the guest did with its LRs goes back into the model.
 * ICH_HCR_EL2 is cleared so that no maintenance interrupt is asserted while ferry runs. */
void virq_sync(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u64 lr[VGIC_MAX_LRS];
	u32 n = v->lrs_in_hw;

	for (u32 i = 0; i < n; i++)
		lr[i] = read_lr(i);
	sysreg_write(ich_hcr_el2, 0);
	isb();
	spin_lock(&vm->lock);
	vgic_sync_lrs(&vm->vgic, v->idx, lr, n);
	/* The guest may have disabled, masked or re-armed a timer without an exit (CNTV_CTL and
	 * CNTP_CTL do not trap): the exit's handler, a GICR_ISPENDR0 read among them, must see the
	 * lines as they are now, as the hardware's PPI pending state follows the timer at once. */
	timers_update(v);
	spin_unlock(&vm->lock);
	pt_sync(v);
}

/* Takes every physical interrupt pending at this CPU: kicks and maintenance end at once, a guest
 * timer's PPI is held for its list register. The caller's loop then looks at the requests and the
 * flush at the model. */
void virq_take_irqs(void)
{
	u32 irq;

	for (int i = 0; i < 8 && (irq = gic_ack()) < 1020; i++)
		if (!pt_take(irq))
			gic_complete(irq);
}

/* WFI: wait at EL2 until the vCPU has an interrupt to take, another CPU wants something of it, or
 * its VM stops. A guest that enabled no interrupt group (the bare-metal test guests, which poll)
 * could never be woken: its WFI completes at once, which the architecture allows. */
void virq_wfi(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u64 vmcr = sysreg_read(ich_vmcr_el2);
	bool wake;

	if (!(vmcr & (ICH_VMCR_VENG0 | ICH_VMCR_VENG1)))
		return;
	for (;;) {
		spin_lock(&vm->lock);
		timers_update(v);
		wake = vgic_vcpu_has_pending(&vm->vgic, v->idx, vmcr);
		spin_unlock(&vm->lock);
		if (wake ||
		    (__atomic_load_n(&v->request, __ATOMIC_ACQUIRE) & (REQ_STOP | REQ_PAUSE)) ||
		    vm->state != VM_RUNNING)
			return;
		/* A kick or a timer that fires after the check above is pending at the GIC, and a
		 * pending interrupt ends WFI even with PSTATE.I masked. */
		wfi();
		virq_take_irqs();
	}
}

/* A trapped write of ICC_SGI1R_EL1 (op2 5), ICC_ASGI1R_EL1 (6) or ICC_SGI0R_EL1 (7). */
void virq_sgi(struct vcpu *v, u32 op2, u64 value)
{
	struct vm *vm = v->vm;

	spin_lock(&vm->lock);
	vgic_send_sgi(&vm->vgic, v->idx, value, op2 == 5 ? VGIC_SGI1R : VGIC_SGI0R);
	spin_unlock(&vm->lock);
}

bool virq_mmio_window(const struct vm *vm, ipa_t at, u64 size)
{
	u64 ipa = ipa_addr(at);

	return range_within(ipa, size, VGIC_GICD_BASE_VIRT, VGIC_GICD_SIZE) ||
	       range_within(ipa, size, ITS_BASE_VIRT, ITS_FRAME_SIZE) ||
	       range_within(ipa, size, VGIC_GICR_BASE_VIRT, VGIC_GICR_STRIDE * vm->nvcpus);
}

/* A guest access in the GICD, ITS or GICR window; the size the register does not take reads as 0 and
 * writes nothing (the model already did that; not worth stopping a guest for). */
void virq_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value)
{
	struct vm *vm = v->vm;

	bool its = range_within(ipa, size, ITS_BASE_VIRT, ITS_FRAME_SIZE);

	spin_lock(&vm->lock);
	if (its && write)
		its_mmio_write(&vm->its, ipa, size, *value);
	else if (its)
		its_mmio_read(&vm->its, ipa, size, value);
	else if (write)
		vgic_mmio_write(&vm->vgic, ipa, size, *value);
	else
		vgic_mmio_read(&vm->vgic, ipa, size, value);
	spin_unlock(&vm->lock);
}

/* A device line of this VM (the PL011's), under vm->lock. */
void virq_set_line_locked(struct vm *vm, u32 intid, bool level)
{
	vgic_set_level(&vm->vgic, 0, intid, level);
}
