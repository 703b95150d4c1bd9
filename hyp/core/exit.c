/* SPDX-License-Identifier: Apache-2.0 */
/* What a vCPU's exit does: exits are dispatched through a table indexed by ESR_EL2.EC; anything
 * without a handler stops that VM alone, with the syndrome decoded, while every other VM runs on.
 * PSCI, MMIO emulation (the PL011, the vGIC, the board, doorbells), aborts given back to the guest,
 * system-register traps. The run loop that calls it is core/vcpu.c. */
#include "core/exit.h"

#include <stdio.h>
#include <string.h>

#include "arch/aarch64/asm.h"
#include "arch/aarch64/pmu_guest.h"
#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/board.h"
#include "core/console.h"
#include "core/shell.h"
#include "core/shm.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "lib/esr.h"
#include "lib/range.h"
#include "lib/spinlock.h"
#include "migrate/postcopy_el2.h"
#include "mm/dirty_el2.h"
#include "mm/s2.h"
#include "mm/untouched_el2.h"
#include "vdev/traps.h"
#include "vdev/vdev.h"
#include "vdev/vvnet_el2.h"
#include "vgic/vgic_el2.h"

static void vm_stop_fault(struct vcpu *v, const char *what, u64 esr)
{
	char msg[256];
	struct vm *vm = v->vm;

	con_snprintf(msg, sizeof(msg),
		     "%s (ESR 0x%llx EC 0x%x %s FAR 0x%llx HPFAR 0x%llx ELR 0x%llx)", what,
		     (unsigned long long)esr, ESR_EC(esr), esr_class_name(ESR_EC(esr)),
		     (unsigned long long)sysreg_read(far_el2),
		     (unsigned long long)sysreg_read(hpfar_el2), (unsigned long long)v->regs.elr);
	con_printf("ferry: vm '%s' vcpu %u stopped: %s", vm->cfg->name, v->idx, msg);
	vm_request_stop(vm, VM_FAULTED, msg);
}

static void uart_line_out(void *ctx, const char *line, size_t len)
{
	struct vm *vm = ctx;

	con_guest_line(vm, line, len);
}

/* ---- exit handlers: return true to step over the trapping instruction ---- */
typedef bool (*exit_handler_fn)(struct vcpu *v, u64 esr);

static bool handle_psci(struct vcpu *v, u64 esr, bool smc)
{
	struct vm *vm = v->vm;
	struct vpsci_result res;
	u64 fid = v->regs.x[0];

	v->exits[smc ? EXITC_SMC : EXITC_HVC]++;
	/* Only SMCCC calls with immediate 0 are firmware calls. */
	if ((esr & 0xffff) != 0) {
		v->regs.x[0] = (u64)PSCI_RET_NOT_SUPPORTED;
		return smc;
	}
	if ((u32)fid == FERRY_HC_DIRTY_ROUND) {
		v->regs.x[0] =
			(u64)dirtylog_hypercall_round(v, v->regs.x[1], v->regs.x[2], v->regs.x[3]);
		return smc;
	}
	spin_lock(&vm->lock);
	if (!vpsci_call(&vm->psci, v->idx, fid, v->regs.x[1], v->regs.x[2], v->regs.x[3], &res))
		res.ret = PSCI_RET_NOT_SUPPORTED;
	spin_unlock(&vm->lock);
	v->regs.x[0] = (u64)res.ret;
	switch (res.action) {
	case VPSCI_ACT_WAKE:
		vcpu_kick(&vm->vcpu[res.target]);
		break;
	case VPSCI_ACT_SYSTEM_OFF:
		vpl011_flush(&vm->uart, uart_line_out, vm);
		/* What dirty logging saw over the VM's life, for logs and tests. */
		if (vm->dirty.mode != DIRTY_OFF)
			dirtylog_print_stats(vm);
		vm_request_stop(vm, VM_OFF, "powered off (PSCI SYSTEM_OFF)");
		break;
	case VPSCI_ACT_SYSTEM_RESET:
		vpl011_flush(&vm->uart, uart_line_out, vm);
		vm->reset_pending = true;
		vm_request_stop(vm, VM_STOPPED, "resetting (PSCI SYSTEM_RESET)");
		break;
	default:
		break;
	}
	/* HVC's preferred return address is already the next instruction; SMC's is the SMC itself. */
	return smc;
}

static bool handle_hvc(struct vcpu *v, u64 esr) { return handle_psci(v, esr, false); }
static bool handle_smc(struct vcpu *v, u64 esr) { return handle_psci(v, esr, true); }

static bool handle_wfx(struct vcpu *v, u64 esr)
{
	v->exits[EXITC_WFX]++;
	/* WFE (ISS bit 0) only traps with HCR_EL2.TWE, which ferry leaves clear. */
	if (!(esr & 1))
		virq_wfi(v);
	return true;
}

static void uart_update_line(struct vm *vm)
{
	virq_set_line_locked(vm, VPL011_INTID, vpl011_irq_line(&vm->uart));
}

/* Under vm->lock. A console attached to this VM takes its output raw, character by character, so
 * prompts and echoes show before their line ends. */
static void uart_access(struct vcpu *v, u64 off, bool write, u64 *val)
{
	struct vm *vm = v->vm;

	if (write && off == 0 && console_vm == vm) {
		vpl011_flush(&vm->uart, uart_line_out, vm);
		con_guest_raw(vm, (char)*val);
	} else if (write) {
		vpl011_write(&vm->uart, off, (u32)*val, uart_line_out, vm);
	} else {
		*val = vpl011_read(&vm->uart, off);
	}
	uart_update_line(vm);
}

bool vcpu_console_input(struct vm *vm, char c)
{
	bool taken;

	spin_lock(&vm->lock);
	taken = vpl011_rx_push(&vm->uart, (u8)c);
	uart_update_line(vm);
	spin_unlock(&vm->lock);
	return taken;
}

static void inject_sea(struct vcpu *v, u64 esr);
static bool report_allowed(struct vcpu *v);

/* A shared region's doorbell page and the board devices' windows, for the whole access. */
static bool doorbell_window(const struct vm *vm, u64 ipa, u64 len)
{
	return shm_doorbell_window(vm, ipa_init(ipa)) &&
	       shm_doorbell_window(vm, ipa_init(ipa + len - 1));
}

static bool board_window(const struct vm *vm, u64 ipa, u64 len)
{
	return board_mmio_window(vm, ipa_init(ipa)) &&
	       board_mmio_window(vm, ipa_init(ipa + len - 1));
}

static bool emulate_mmio(struct vcpu *v, u64 esr, u64 ipa)
{
	struct vm *vm = v->vm;
	struct dabt_info d;
	u64 val;
	bool gic, doorbell, net, board;

	esr_decode_dabt(esr, &d);
	gic = virq_mmio_window(vm, ipa_init(ipa), d.isv ? d.size : 1);
	doorbell = !gic && doorbell_window(vm, ipa, d.isv ? d.size : 1);
	net = !gic && !doorbell && vvnet_window(vm, ipa, d.isv ? d.size : 1);
	board = !gic && !doorbell && !net && board_window(vm, ipa, d.isv ? d.size : 1);
	if (!d.isv) {
		/* Pairs, writeback, atomics, DC ZVA...: nothing to emulate from. With `on-abort =
		 * "inject"` the guest gets an external abort, as KVM gives one for such accesses. */
		v->exits[EXITC_MMIO]++;
		if (vm->cfg->on_abort == CONFIG_ABORT_INJECT) {
			if (report_allowed(v))
				con_printf(
					"ferry: vm '%s' vcpu %u: MMIO access at IPA 0x%llx the "
					"hardware did not describe (ISV=0, ELR 0x%llx): synchronous "
					"external abort injected",
					vm->cfg->name, v->idx, (unsigned long long)ipa,
					(unsigned long long)v->regs.elr);
			inject_sea(v, esr);
			return false;
		}
		vm_stop_fault(v, "MMIO access the hardware did not describe (ISV=0)", esr);
		return false;
	}
	v->exits[EXITC_MMIO]++;
	/* A write passes only the bytes written (Xt may hold stale upper bits); a read starts at 0 and
	 * keeps the bytes read. */
	val = d.write && d.srt != 31 ? v->regs.x[d.srt] : 0;
	if (d.write && d.size < 8)
		val &= (1ULL << (8 * d.size)) - 1;
	if (gic) {
		virq_mmio(v, ipa, d.size, d.write, &val);
	} else if (doorbell) {
		shm_doorbell_mmio(v, ipa, d.size, d.write, &val);
	} else if (net) {
		vvnet_mmio(v, ipa, d.size, d.write, &val);
	} else if (board) {
		board_mmio(v, ipa, d.size, d.write, &val);
	} else {
		spin_lock(&vm->lock);
		uart_access(v, ipa - VPL011_BASE, d.write, &val);
		spin_unlock(&vm->lock);
	}
	if (!d.write) {
		if (d.size < 8)
			val &= (1ULL << (8 * d.size)) - 1;
		if (d.sign_extend && d.size < 8 && (val >> (8 * d.size - 1)) & 1)
			val |= ~0ULL << (8 * d.size);
		if (!d.sf)
			val &= 0xffffffffULL;
		if (d.srt != 31)
			v->regs.x[d.srt] = val;
	}
	return true;
}

/* Whether the VM's stage 2 now maps ipa with every permission in `need`. */
static bool vm_ipa_allows(struct vm *vm, u64 ipa, unsigned need)
{
	pa_t pa;
	unsigned prot;
	int level, err;

	spin_lock(&vm->mm_lock);
	err = s2_lookup(&vm->s2, ipa_init(ipa), &pa, &prot, &level);
	spin_unlock(&vm->mm_lock);
	return err == 0 && (prot & need) == need;
}

/* `on-abort = "inject"`: the access is given back to the guest as a synchronous external abort, as
 * KVM does (its inject_abt64()), taken to EL1 as the architecture takes an exception (Arm ARM
 * "Exception entry"): ELR/SPSR_EL1 keep where the guest was, PSTATE becomes EL1h with DAIF masked
 * (and PAN set unless SCTLR_EL1.SPAN), the PC the vector for the source: current EL with SP_EL0
 * (+0x000) or SP_ELx (+0x200), lower EL AArch64 (+0x400) or AArch32 (+0x600). */
#define SPSR_M_MASK 0xfULL
#define SPSR_M_EL1T 0x4ULL
#define SPSR_M_EL1H 0x5ULL
#define SPSR_NRW BIT(4)
#define SPSR_PAN BIT(22)
#define SCTLR_SPAN BIT(23)
#define ESR_IL_BIT BIT(25)
#define FSC_SEA 0x10

/* Takes an exception with syndrome esr1 (and, for aborts, fault address far) to the guest's EL1. */
static void inject_el1(struct vcpu *v, u64 esr1, bool set_far, u64 far)
{
	u64 spsr = v->regs.spsr, m = spsr & SPSR_M_MASK;
	bool from_el1 = !(spsr & SPSR_NRW) && (m == SPSR_M_EL1T || m == SPSR_M_EL1H);
	u64 offset = from_el1 ? (m == SPSR_M_EL1H ? 0x200 : 0) : (spsr & SPSR_NRW) ? 0x600 : 0x400;
	u64 pstate = SPSR_M_EL1H | SPSR_DAIF;

	if (FIELD_GET(sysreg_read(id_aa64mmfr1_el1), 23, 20) &&
	    !(sysreg_read(sctlr_el1) & SCTLR_SPAN))
		pstate |= SPSR_PAN;
	else
		pstate |= spsr & SPSR_PAN;
	sysreg_write(esr_el1, esr1);
	if (set_far)
		sysreg_write(far_el1, far);
	sysreg_write(elr_el1, v->regs.elr);
	sysreg_write(spsr_el1, spsr);
	v->regs.elr = sysreg_read(vbar_el1) + offset;
	v->regs.spsr = pstate;
}

static bool el1_source(const struct vcpu *v)
{
	u64 m = v->regs.spsr & SPSR_M_MASK;

	return !(v->regs.spsr & SPSR_NRW) && (m == SPSR_M_EL1T || m == SPSR_M_EL1H);
}

static void inject_sea(struct vcpu *v, u64 esr)
{
	bool dabt = ESR_EC(esr) == EC_DABT_LOW;
	u64 ec = (dabt ? EC_DABT_LOW : EC_IABT_LOW) + (el1_source(v) ? 1 : 0);

	inject_el1(v, ec << 26 | (esr & ESR_IL_BIT) | FSC_SEA, true, sysreg_read(far_el2));
}

/* An undefined instruction (EC 0, IL as trapped): what a CPU without the feature does. */
static void inject_undef(struct vcpu *v, u64 esr) { inject_el1(v, esr & ESR_IL_BIT, false, 0); }

/* A guest can provoke these at will: the first few per vCPU are reported, the rest only counted
 * (exits by class in `vms`), so that a storm cannot flood ferry's console. */
#define GUEST_REPORTS_MAX 8

static bool report_allowed(struct vcpu *v)
{
	if (v->reports >= GUEST_REPORTS_MAX)
		return false;
	if (++v->reports == GUEST_REPORTS_MAX)
		con_printf("ferry: vm '%s' vcpu %u: further injected exceptions are not reported",
			   v->vm->cfg->name, v->idx);
	return true;
}

static bool handle_abort(struct vcpu *v, u64 esr)
{
	const struct vm_config *c = v->vm->cfg;
	u64 ipa = esr_fault_ipa(sysreg_read(hpfar_el2), sysreg_read(far_el2));
	u32 fsc = (u32)FIELD_GET(esr, 5, 0);
	bool in_ram = range_within(ipa, 1, c->ram_base, c->ram_size), read_only = false;
	const char *region;
	char what[112];

	struct dabt_info d;
	u64 len;

	esr_decode_dabt(esr, &d);
	/* The whole access must lie in one emulated window, not only its first byte. */
	len = d.isv ? d.size : 1;
	if (ESR_EC(esr) == EC_DABT_LOW &&
	    (((c->devices & CONFIG_DEV_UART) && range_within(ipa, len, VPL011_BASE, VPL011_SIZE)) ||
	     virq_mmio_window(v->vm, ipa_init(ipa), len) || doorbell_window(v->vm, ipa, len) ||
	     board_window(v->vm, ipa, len)))
		return emulate_mmio(v, esr, ipa);
	if (in_ram) {
		/* The first access to RAM mapped untouched, on a CPU that does not set the access flag
		 * itself (no FEAT_HAFDBS): set it, retry (mm/untouched_el2.c). */
		if (esr_fsc_is_access_flag(fsc) && untouched_af_fault(v->vm, ipa)) {
			v->exits[EXITC_ABORT]++;
			return false;
		}
		/* The first write to a page dirty logging protected: log it, retry the write. */
		if (ESR_EC(esr) == EC_DABT_LOW && (d.write || d.s1ptw) &&
		    esr_fsc_is_permission(fsc) && dirtylog_write_fault(v->vm, ipa_init(ipa))) {
			v->exits[EXITC_DIRTY]++;
			return false;
		}
		/* Post-copy: a page still on its way from the source. Wait for it, then retry. */
		if (esr_fsc_is_translation(fsc) && postcopy_fault(v, ipa)) {
			v->exits[EXITC_ABORT]++;
			return false;
		}
		/* RAM is always mapped, except for the moment break-before-make leaves an entry
		 * invalid while the management CPU splits a block: retry once it is made again. */
		if (esr_fsc_is_translation(fsc) && vm_ipa_allows(v->vm, ipa, S2_PROT_R)) {
			v->exits[EXITC_ABORT]++;
			return false;
		}
		/* A permission fault taken while dirty logging still had the page read-only, handled
		 * after the management CPU stopped logging and made it writable again (seen with
		 * Linux's linstress and `dirtylog stop`): the access is allowed now, retry it. */
		if (esr_fsc_is_permission(fsc) &&
		    vm_ipa_allows(v->vm, ipa,
				  ESR_EC(esr) == EC_IABT_LOW ? S2_PROT_X
				  : d.write || d.s1ptw       ? S2_PROT_W
							     : S2_PROT_R)) {
			v->exits[EXITC_ABORT]++;
			return false;
		}
	}
	v->exits[EXITC_ABORT]++;
	/* On a vCPU's CPU, formatting must keep the guest's SIMD registers (con_snprintf does). */
	region = shm_region_at(v->vm, ipa_init(ipa), &read_only);
	if (region)
		/* Mapped read-only or never executable: a stray access like any other. */
		con_snprintf(what, sizeof(what), "%s at IPA 0x%llx in shared region '%s' (%s)",
			     ESR_EC(esr) == EC_DABT_LOW ? "data abort" : "instruction abort",
			     (unsigned long long)ipa, region,
			     ESR_EC(esr) == EC_IABT_LOW ? "not executable"
			     : read_only                ? "read-only"
							: "access refused");
	else
		con_snprintf(what, sizeof(what), "%s at IPA 0x%llx outside its memory and devices",
			     ESR_EC(esr) == EC_DABT_LOW ? "data abort" : "instruction abort",
			     (unsigned long long)ipa);
	if (c->on_abort == CONFIG_ABORT_INJECT) {
		if (report_allowed(v))
			con_printf("ferry: vm '%s' vcpu %u: %s (ELR 0x%llx): synchronous external "
				   "abort injected",
				   c->name, v->idx, what, (unsigned long long)v->regs.elr);
		inject_sea(v, esr);
		return false;
	}
	vm_stop_fault(v, what, esr);
	return false;
}

/* ---- system-register traps (EC 0x18): ISS Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10],
 * Rt [9:5], CRm [4:1], Direction [0] (1: read) ---- */

/* The CPU's own value of ID register (op0 3, op1 0, CRn 0, crm, op2); trap_id_reg_value() decides
 * what the guest sees. */
static u64 id_reg_raw(u32 crm, u32 op2)
{
/* One line per group of ID registers reads better than one per register. */
/* clang-format off */
#define IDREG(m, o) \
	case (m) * 8 + (o): return sysreg_read(S3_0_C0_C##m##_##o)
	switch (crm * 8 + op2) {
	IDREG(1, 0); IDREG(1, 1); IDREG(1, 2); IDREG(1, 3);
	IDREG(1, 4); IDREG(1, 5); IDREG(1, 6); IDREG(1, 7);
	IDREG(2, 0); IDREG(2, 1); IDREG(2, 2); IDREG(2, 3);
	IDREG(2, 4); IDREG(2, 5); IDREG(2, 6); IDREG(2, 7);
	IDREG(3, 0); IDREG(3, 1); IDREG(3, 2); IDREG(3, 4); IDREG(3, 5); IDREG(3, 6);
	IDREG(4, 0); IDREG(4, 1); IDREG(4, 4);
	IDREG(5, 0); IDREG(5, 1); IDREG(5, 4); IDREG(5, 5);
	IDREG(6, 0); IDREG(6, 1); IDREG(6, 2);
	IDREG(7, 0); IDREG(7, 1); IDREG(7, 2);
	default:
		return 0;
	}
#undef IDREG
	/* clang-format on */
}

/* DC ISW/CSW/CISW (HCR_EL2.TSW). Set/way operations act on this CPU's caches, not on the guest's
 * memory: a guest may not clean or invalidate lines of memory it does not own, nor slow other CPUs
 * with them. What it can mean to the guest is "my RAM reaches the point of coherency", which
 * matters only while its caches are off (SCTLR_EL1.C = 0, when boot code uses set/way): then the
 * VM's RAM is cleaned and invalidated by address, once per cache level walked (at set 0, way 0).
 * With caches on, set/way maintenance is a no-op, as KVM makes it between cache toggles. */
static void setway_op(struct vcpu *v, u64 val)
{
	const struct vm_config *c = v->vm->cfg;
	u64 line = 4ULL << FIELD_GET(sysreg_read(ctr_el0), 19, 16);
	u64 start = pa_addr(v->vm->ram_pa);

	v->setway_ops++;
	if ((sysreg_read(sctlr_el1) & BIT(2)) || (val >> 4) != 0)
		return;
	v->setway_flushes++;
	for (u64 a = start; a < start + c->ram_size; a += line)
		__asm__ volatile("dc civac, %0" : : "r"(a) : "memory");
	dsb(sy);
}

static bool handle_sysreg(struct vcpu *v, u64 esr)
{
	u32 op0 = (u32)FIELD_GET(esr, 21, 20), op2 = (u32)FIELD_GET(esr, 19, 17);
	u32 op1 = (u32)FIELD_GET(esr, 16, 14), crn = (u32)FIELD_GET(esr, 13, 10);
	u32 rt = (u32)FIELD_GET(esr, 9, 5), crm = (u32)FIELD_GET(esr, 4, 1);
	bool read = esr & 1;
	u64 val = rt == 31 ? 0 : v->regs.x[rt];

	v->exits[EXITC_SYSREG]++;
	switch (trap_sysreg_classify(op0, op1, crn, crm, op2, read)) {
	case TRAP_SR_SGI:
		virq_sgi(v, op2, val);
		return true;
	case TRAP_SR_ID:
		val = trap_id_reg_value(crm, op2, id_reg_raw(crm, op2));
		break;
	case TRAP_SR_RAZWI:
		val = 0;
		break;
	case TRAP_SR_SETWAY:
		setway_op(v, val);
		return true;
	case TRAP_SR_PMU:
		/* Traps only without a guest PMU (RAZ/WI) or with a counter of ferry's. */
		if (!trap_guest_pmu(sysreg_read(id_aa64dfr0_el1))) {
			val = 0;
			break;
		}
		if (vpmu_access(pmu_guest_hw(), pmu_guest_hpmn(),
				(u32)vpmu_reg_of(op1, crn, crm, op2), read, &val) == FERRY_OK)
			break;
		if (report_allowed(v))
			con_printf("ferry: vm '%s' vcpu %u: %s of PMU register S3_%u_C%u_C%u_%u "
				   "(ELR 0x%llx), a counter the guest does not have: undefined "
				   "instruction injected",
				   v->vm->cfg->name, v->idx, read ? "read" : "write", op1, crn, crm,
				   op2, (unsigned long long)v->regs.elr);
		inject_undef(v, esr);
		return false;
	case TRAP_SR_UNDEF:
	default:
		if (report_allowed(v))
			con_printf(
				"ferry: vm '%s' vcpu %u: %s of system register S%u_%u_C%u_C%u_%u "
				"(ELR 0x%llx): undefined instruction injected",
				v->vm->cfg->name, v->idx, read ? "read" : "write", op0, op1, crn,
				crm, op2, (unsigned long long)v->regs.elr);
		inject_undef(v, esr);
		return false;
	}
	if (read && rt != 31)
		v->regs.x[rt] = val;
	return true;
}

/* SVE and SME instructions (CPTR_EL2.TZ, TSM): the features are hidden, so they are undefined. */
static bool handle_hidden_feature(struct vcpu *v, u64 esr)
{
	v->exits[EXITC_OTHER]++;
	if (report_allowed(v))
		con_printf(
			"ferry: vm '%s' vcpu %u: %s instruction (ELR 0x%llx): undefined instruction "
			"injected",
			v->vm->cfg->name, v->idx, ESR_EC(esr) == EC_SVE ? "SVE" : "SME",
			(unsigned long long)v->regs.elr);
	inject_undef(v, esr);
	return false;
}

static bool handle_unknown(struct vcpu *v, u64 esr)
{
	v->exits[EXITC_OTHER]++;
	vm_stop_fault(v, "trap ferry does not handle", esr);
	return false;
}

static const exit_handler_fn exit_handlers[64] = {
	[EC_WFX] = handle_wfx,
	[EC_SYSREG] = handle_sysreg,
	[EC_HVC64] = handle_hvc,
	[EC_SMC64] = handle_smc,
	[EC_IABT_LOW] = handle_abort,
	[EC_DABT_LOW] = handle_abort,
	[EC_SVE] = handle_hidden_feature,
	[EC_SME] = handle_hidden_feature,
};

static void dispatch_exit(struct vcpu *v, u64 reason)
{
	u64 esr;
	exit_handler_fn fn;

	switch (reason) {
	case EXIT_SYNC:
		esr = sysreg_read(esr_el2);
		fn = exit_handlers[ESR_EC(esr)];
		if (!fn)
			fn = handle_unknown;
		if (fn(v, esr))
			v->regs.elr += ESR_IL(esr) ? 4 : 2;
		return;
	case EXIT_IRQ:
		v->exits[EXITC_IRQ]++;
		virq_take_irqs();
		return; /* a kick, a timer or maintenance: the loop and the next flush do the rest */
	default:
		v->exits[EXITC_OTHER]++;
		vm_stop_fault(v, reason == EXIT_SERROR ? "SError" : "FIQ", sysreg_read(esr_el2));
		return;
	}
}

/* Returns the exit class it counted, for the per-class EL2 instruction counts. */
int vcpu_handle_exit(struct vcpu *v, u64 reason)
{
	u64 before[EXITC_NR];

	memcpy(before, v->exits, sizeof(before));
	dispatch_exit(v, reason);
	for (int k = 0; k < EXITC_NR; k++)
		if (v->exits[k] != before[k])
			return k;
	return EXITC_OTHER;
}
