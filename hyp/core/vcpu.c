/* The run loop each physical CPU that owns a vCPU executes, and the trap dispatch.
 * Exits are dispatched through a table indexed by ESR_EL2.EC; anything without a handler stops that
 * VM alone, with the syndrome decoded, while every other VM runs on. */
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/core.h"
#include "lib/esr.h"
#include "mm/tlbi.h"

struct pcpu pcpus[MAX_CPUS];

struct pcpu *this_pcpu(void) { return (struct pcpu *)(uintptr_t)sysreg_read(tpidr_el2); }

void vcpu_kick(struct vcpu *v)
{
	/* The SGI pulls the CPU out of its guest, or out of WFI when idle. */
	dsb(ish);
	gic_send_sgi(v->pcpu, SGI_KICK);
}

/* IMO/FMO: physical interrupts come to EL2, the guest's ICC_* accesses go to the virtual CPU
 * interface, and its SGI register writes trap (Arm ARM, ICC_SGI1R_EL1's access rules). TID3: the
 * guest reads ID registers sanitized to what ferry virtualizes. */
#define HCR_GUEST (HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | HCR_BSU_IS | \
		   HCR_TWI | HCR_TSC | HCR_TID3 | HCR_RW)
#define SCTLR_EL1_RESET 0x30d00800ULL /* RES1 bits, MMU and caches off, as at a cold reset */

static void vm_stop_fault(struct vcpu *v, const char *what, u64 esr)
{
	char msg[256];
	struct vm *vm = v->vm;

	snprintf(msg, sizeof(msg), "%s (ESR 0x%llx EC 0x%x %s FAR 0x%llx HPFAR 0x%llx ELR 0x%llx)",
		 what, (unsigned long long)esr, ESR_EC(esr), esr_class_name(ESR_EC(esr)),
		 (unsigned long long)sysreg_read(far_el2), (unsigned long long)sysreg_read(hpfar_el2),
		 (unsigned long long)v->regs.elr);
	con_printf("ferry: vm '%s' vcpu %u stopped: %s", vm->cfg->name, v->idx, msg);
	vm_request_stop(vm, VM_FAULTED, msg);
}

static void uart_line_out(void *ctx, const char *line, size_t len)
{
	struct vm *vm = ctx;

	con_write_line(vm->cfg->name, line, len);
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
		v->regs.x[0] = (u64)dirtylog_hypercall_round(v, v->regs.x[1], v->regs.x[2],
							      v->regs.x[3]);
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
		con_put_raw((char)*val);
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

static bool emulate_mmio(struct vcpu *v, u64 esr, u64 ipa)
{
	struct vm *vm = v->vm;
	struct dabt_info d;
	u64 val;
	bool gic = virq_mmio_window(vm, ipa), board = !gic && board_mmio_window(ipa);

	esr_decode_dabt(esr, &d);
	if (!d.isv) {
		vm_stop_fault(v, "MMIO access the hardware did not describe (ISV=0)", esr);
		return false;
	}
	v->exits[EXITC_MMIO]++;
	if (d.write) {
		val = d.srt == 31 ? 0 : v->regs.x[d.srt];
		if (d.size < 8)
			val &= (1ULL << (8 * d.size)) - 1;
		if (gic) {
			virq_mmio(v, ipa, d.size, true, &val);
		} else if (board) {
			board_mmio(v, ipa, d.size, true, &val);
		} else {
			spin_lock(&vm->lock);
			uart_access(v, ipa - VPL011_BASE, true, &val);
			spin_unlock(&vm->lock);
		}
	} else {
		val = 0;
		if (gic) {
			virq_mmio(v, ipa, d.size, false, &val);
		} else if (board) {
			board_mmio(v, ipa, d.size, false, &val);
		} else {
			spin_lock(&vm->lock);
			uart_access(v, ipa - VPL011_BASE, false, &val);
			spin_unlock(&vm->lock);
		}
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

static void dispatch_exit(struct vcpu *v, u64 reason);

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

static void inject_sea(struct vcpu *v, u64 esr)
{
	u64 spsr = v->regs.spsr, m = spsr & SPSR_M_MASK;
	bool from_el1 = !(spsr & SPSR_NRW) && (m == SPSR_M_EL1T || m == SPSR_M_EL1H);
	bool dabt = ESR_EC(esr) == EC_DABT_LOW;
	u64 ec = (dabt ? EC_DABT_LOW : EC_IABT_LOW) + (from_el1 ? 1 : 0);
	u64 offset = from_el1 ? (m == SPSR_M_EL1H ? 0x200 : 0) : (spsr & SPSR_NRW) ? 0x600 : 0x400;
	u64 pstate = SPSR_M_EL1H | SPSR_DAIF;

	if (FIELD_GET(sysreg_read(id_aa64mmfr1_el1), 23, 20) &&
	    !(sysreg_read(sctlr_el1) & SCTLR_SPAN))
		pstate |= SPSR_PAN;
	else
		pstate |= spsr & SPSR_PAN;
	sysreg_write(esr_el1, ec << 26 | (esr & ESR_IL_BIT) | FSC_SEA);
	sysreg_write(far_el1, sysreg_read(far_el2));
	sysreg_write(elr_el1, v->regs.elr);
	sysreg_write(spsr_el1, spsr);
	v->regs.elr = sysreg_read(vbar_el1) + offset;
	v->regs.spsr = pstate;
}

static bool handle_abort(struct vcpu *v, u64 esr)
{
	const struct vm_config *c = v->vm->cfg;
	u64 ipa = esr_fault_ipa(sysreg_read(hpfar_el2), sysreg_read(far_el2));
	u32 fsc = (u32)FIELD_GET(esr, 5, 0);
	bool in_ram = ipa >= c->ram_base && ipa - c->ram_base < c->ram_size;
	char what[96];

	if (ESR_EC(esr) == EC_DABT_LOW && (((c->devices & CONFIG_DEV_UART) && ipa >= VPL011_BASE &&
					     ipa < VPL011_BASE + VPL011_SIZE) ||
					    virq_mmio_window(v->vm, ipa) || board_mmio_window(ipa)))
		return emulate_mmio(v, esr, ipa);
	if (in_ram) {
		struct dabt_info d;

		esr_decode_dabt(esr, &d);
		/* The first write to a page dirty logging protected: log it, retry the write. */
		if (ESR_EC(esr) == EC_DABT_LOW && (d.write || d.s1ptw) &&
		    esr_fsc_is_permission(fsc) && dirtylog_write_fault(v->vm, ipa)) {
			v->exits[EXITC_DIRTY]++;
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
		    vm_ipa_allows(v->vm, ipa, ESR_EC(esr) == EC_IABT_LOW ? S2_PROT_X :
					      d.write || d.s1ptw ? S2_PROT_W : S2_PROT_R)) {
			v->exits[EXITC_ABORT]++;
			return false;
		}
	}
	v->exits[EXITC_ABORT]++;
	snprintf(what, sizeof(what), "%s at IPA 0x%llx outside its memory and devices",
		 ESR_EC(esr) == EC_DABT_LOW ? "data abort" : "instruction abort",
		 (unsigned long long)ipa);
	if (c->on_abort == CONFIG_ABORT_INJECT) {
		con_printf("ferry: vm '%s' vcpu %u: %s (ELR 0x%llx): synchronous external abort "
			   "injected", c->name, v->idx, what, (unsigned long long)v->regs.elr);
		inject_sea(v, esr);
		return false;
	}
	vm_stop_fault(v, what, esr);
	return false;
}

/* ---- system-register traps (EC 0x18): ISS Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10],
 * Rt [9:5], CRm [4:1], Direction [0] (1: read) ---- */
#define ID_FIELD(hi, lo) (((1ULL << ((hi) - (lo) + 1)) - 1) << (lo))

/* The ID registers (op0 3, op1 0, CRn 0, CRm 1..7) as the guest may see them: what ferry does not
 * virtualize is hidden. SME (CPTR_EL2 traps it; SVE is the guest's where the CPU has it),
 * MTE (HCR_EL2.ATA is clear), AMU and MPAM (not virtualized), SPE and trace. The PMU is the
 * guest's where the CPU has one (its counters below MDCR_EL2.HPMN); elsewhere its registers trap,
 * RAZ/WI. Encodings the Arm ARM reserves in this space read as zero, as they do on hardware. */
static u64 id_reg_read(u32 crm, u32 op2)
{
#define IDREG(m, o) \
	case (m) * 8 + (o): return sysreg_read(S3_0_C0_C##m##_##o)
	switch (crm * 8 + op2) {
	IDREG(1, 0); IDREG(1, 1); IDREG(1, 2); IDREG(1, 3);
	IDREG(1, 4); IDREG(1, 5); IDREG(1, 6); IDREG(1, 7);
	IDREG(2, 0); IDREG(2, 1); IDREG(2, 2); IDREG(2, 3);
	IDREG(2, 4); IDREG(2, 5); IDREG(2, 6); IDREG(2, 7);
	IDREG(3, 0); IDREG(3, 1); IDREG(3, 2); IDREG(3, 4); IDREG(3, 5); IDREG(3, 6);
	case 4 * 8 + 0: /* ID_AA64PFR0_EL1: SVE [35:32] (the guest's where the CPU has it), MPAM
			 * [43:40], AMU [47:44] */
		return sysreg_read(S3_0_C0_C4_0) &
		       ~((machine.sve ? 0 : ID_FIELD(35, 32)) | ID_FIELD(43, 40) | ID_FIELD(47, 44));
	case 4 * 8 + 4: /* ID_AA64ZFR0_EL1: the SVE features, with SVE */
		return machine.sve ? sysreg_read(S3_0_C0_C4_4) : 0;
	case 4 * 8 + 1: /* ID_AA64PFR1_EL1: MTE [11:8], SME [27:24], MPAM_frac [19:16] */
		return sysreg_read(S3_0_C0_C4_1) &
		       ~(ID_FIELD(11, 8) | ID_FIELD(27, 24) | ID_FIELD(19, 16));
	case 5 * 8 + 0: /* ID_AA64DFR0_EL1: TraceVer, PMUVer (kept with a PMU: its counters below
			 * MDCR_EL2.HPMN are the guest's), PMSVer, TraceFilt, TraceBuffer, BRBE */
		return sysreg_read(S3_0_C0_C5_0) &
		       ~(ID_FIELD(7, 4) | (machine.pmu ? 0 : ID_FIELD(11, 8)) | ID_FIELD(35, 32) |
			 ID_FIELD(43, 40) | ID_FIELD(47, 44) | ID_FIELD(55, 52));
	IDREG(5, 1); IDREG(5, 4); IDREG(5, 5);
	IDREG(6, 0); IDREG(6, 1); IDREG(6, 2);
	IDREG(7, 0); IDREG(7, 1); IDREG(7, 2);
	default:
		return 0; /* ID_AA64ZFR0/SMFR0 (hidden with SVE/SME) and the reserved encodings */
	}
#undef IDREG
}

/* PMU registers (MDCR_EL2.TPM): PMCR_EL0 and the rest in CRn 9, the event counters and types in
 * CRn 14 (op1 3, CRm 8..15). */
static bool is_pmu_reg(u32 op0, u32 op1, u32 crn, u32 crm)
{
	return op0 == 3 && ((crn == 9 && crm >= 12 && crm <= 14) ||
			    (crn == 14 && op1 == 3 && crm >= 8));
}

static bool handle_sysreg(struct vcpu *v, u64 esr)
{
	u32 op0 = (u32)FIELD_GET(esr, 21, 20), op2 = (u32)FIELD_GET(esr, 19, 17);
	u32 op1 = (u32)FIELD_GET(esr, 16, 14), crn = (u32)FIELD_GET(esr, 13, 10);
	u32 rt = (u32)FIELD_GET(esr, 9, 5), crm = (u32)FIELD_GET(esr, 4, 1);
	bool read = esr & 1;
	u64 val = rt == 31 ? 0 : v->regs.x[rt];
	char what[96];

	v->exits[EXITC_SYSREG]++;
	if (!read && op0 == 3 && op1 == 0 && crn == 12 && crm == 11 && op2 >= 5) {
		virq_sgi(v, op2, val);
		return true;
	}
	if (read && op0 == 3 && op1 == 0 && crn == 0 && crm >= 1 && crm <= 7) {
		val = id_reg_read(crm, op2);
	} else if (is_pmu_reg(op0, op1, crn, crm)) {
		val = 0;
	} else {
		snprintf(what, sizeof(what), "%s of system register S%u_%u_C%u_C%u_%u (x%u)",
			 read ? "read" : "write", op0, op1, crn, crm, op2, rt);
		vm_stop_fault(v, what, esr);
		return false;
	}
	if (read && rt != 31)
		v->regs.x[rt] = val;
	return true;
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
};

/* Returns the exit class it counted, for the per-class EL2 instruction counts. */
static int handle_exit(struct vcpu *v, u64 reason)
{
	u64 before[EXITC_NR];

	memcpy(before, v->exits, sizeof(before));
	dispatch_exit(v, reason);
	for (int k = 0; k < EXITC_NR; k++)
		if (v->exits[k] != before[k])
			return k;
	return EXITC_OTHER;
}

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

/* Pointer authentication is the guest's own (its keys stay in this CPU's registers, which only it
 * uses): without HCR_EL2.API and APK its PAC instructions and key accesses would trap. The bits are
 * RES0 where the CPU has no FEAT_PAuth. */
static u64 hcr_pauth(void)
{
	u64 isar1 = sysreg_read(id_aa64isar1_el1), isar2 = sysreg_read(S3_0_C0_C6_2);

	if (FIELD_GET(isar1, 11, 4) || FIELD_GET(isar1, 31, 24) || FIELD_GET(isar2, 15, 8))
		return HCR_API | HCR_APK;
	return 0;
}

/* The EL2 controls of this vCPU's VM: its stage 2, virtual IDs, timer access and offset, traps. EL1
 * registers stay in the hardware: the vCPU owns this CPU, so exits never switch them. */
static void vcpu_load_controls(struct vcpu *v)
{
	struct vm *vm = v->vm;

	/* VTCR_EL2.HD (and HA): hardware dirty state for descriptors with DBM set (FEAT_HAFDBS).
	 * Without DBM in a descriptor HD changes nothing, so it is on whenever the CPU has it. */
	sysreg_write(vtcr_el2, s2_vtcr(&vm->s2, machine.pa_range_field) |
				       (machine.hafdbs ? VTCR_HA | VTCR_HD : 0));
	sysreg_write(vttbr_el2, s2_vttbr(&vm->s2));
	sysreg_write(vmpidr_el2, vpsci_mpidr(v->idx));
	sysreg_write(vpidr_el2, sysreg_read(midr_el1));
	sysreg_write(cnthctl_el2, 3); /* EL1PCTEN | EL1PCEN: the guest may use the physical counter */
	sysreg_write(cntvoff_el2, vm->cntvoff);
	sysreg_write(hcr_el2, HCR_GUEST | hcr_pauth());
	sve_load_controls();
	/* With a PMU the guest uses it directly: each vCPU owns its CPU, and MDCR_EL2.HPMN keeps the
	 * last counter for ferry's own EL2 count when that is on (pmu.c). Without one, its registers
	 * trap and read as zero. */
	if (machine.pmu)
		sysreg_write(mdcr_el2, sysreg_read(mdcr_el2) & ~MDCR_TPM);
	else
		sysreg_write(mdcr_el2, sysreg_read(mdcr_el2) | MDCR_TPM);
	isb();
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
	while ((__atomic_load_n(&v->request, __ATOMIC_ACQUIRE) & (REQ_PAUSE | REQ_STOP)) == REQ_PAUSE) {
		wfi();
		gic_drain();
	}
	__atomic_store_n(&v->parked, 0, __ATOMIC_RELEASE);
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
			if (__atomic_exchange_n(&v->restore, false, __ATOMIC_ACQ_REL))
				vcpu_ctx_load(v, &v->state);
			vcpu_load_controls(v);
		}
		int cls = -1;
		u64 t_prev = 0;

		while (vcpu_should_run(v)) {
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
				con_printf("ferry: vm '%s' vcpu %u stopped: TLBI sanitizer: stage-2 "
					   "entries left stale (report above)", vm->cfg->name, v->idx);
				vm_request_stop(vm, VM_FAULTED, "TLBI sanitizer: stage-2 entries left stale");
				break;
			}
#endif
			virq_flush(v);
			sysreg_write(elr_el2, v->regs.elr);
			sysreg_write(spsr_el2, v->regs.spsr);
			u64 reason = guest_enter(&v->regs);
			v->regs.elr = sysreg_read(elr_el2);
			v->regs.spsr = sysreg_read(spsr_el2);
			virq_sync(v);
			cls = handle_exit(v, reason);
		}
		/* Leave the guest: stage 2 off until the vCPU runs again. */
		sysreg_write(hcr_el2, HCR_RW);
		isb();
	}
}
