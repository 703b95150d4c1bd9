/* SPDX-License-Identifier: Apache-2.0 */
/* SVE for guests. Each vCPU owns its physical CPU and ferry's EL2 code never touches SVE registers,
 * so the guest's Z, P and FFR stay in that CPU's hardware between exits: nothing to switch, lazily
 * or otherwise. ferry only lets the guest reach them (CPTR_EL2.TZ = 0), gives it the CPU's largest
 * vector length (ZCR_EL2.LEN = 15, capped by the hardware), shows SVE in the ID registers, and
 * saves and restores the registers on the vCPU's own CPU for a migration (struct vcpu.sve). */
#include "core/sve.h"

#include <string.h>

#include "arch/aarch64/fpsimd.h"
#include "arch/aarch64/sysreg.h"
#include "core/alloc.h"
#include "core/machine.h"
#include "core/vm.h"
#include "migrate/mig_sve.h"
#include "vdev/traps.h"

static u32 host_vl; /* bytes, at ZCR_EL2.LEN = 15; the same on every CPU of the machine */

/* On the vCPU's CPU before it enters: SVE untrapped, the largest vector length. */
void sve_load_controls(void)
{
	if (!machine.sve)
		return;
	sysreg_write(cptr_el2, sysreg_read(cptr_el2) & ~CPTR_TZ); /* as the trap baseline has it */
	isb();
	sysreg_write(S3_4_C1_C2_0, 0xf); /* ZCR_EL2 */
	isb();
	if (!host_vl)
		host_vl = (u32)sve_vl();
}

int sve_vm_init(struct vm *vm)
{
	if (!machine.sve)
		return 0;
	for (u32 i = 0; i < vm->nvcpus; i++) {
		if (!vm->vcpu[i].sve) {
			vm->vcpu[i].sve = pool_zalloc_contig(
				ALIGN_UP(sizeof(struct mig_sve_state), PAGE_SIZE) / PAGE_SIZE);
			if (!vm->vcpu[i].sve)
				return FERRY_ENOMEM;
		}
	}
	return 0;
}

/* On the vCPU's own CPU, with vcpu_ctx_save/load. */
void sve_ctx_save(struct vcpu *v)
{
	if (!machine.sve || !v->sve)
		return;
	sve_load_controls();
	v->sve->vl = host_vl;
	v->sve->zcr_el1 = sysreg_read(S3_0_C1_C2_0); /* ZCR_EL1 */
	sve_save(v->sve->regs);
}

void sve_ctx_load(struct vcpu *v)
{
	if (!machine.sve || !v->sve)
		return;
	sve_load_controls(); /* also learns host_vl, on a CPU no vCPU ran on yet */
	if (v->sve->vl != host_vl)
		return; /* nothing saved or loaded for this vCPU */
	sysreg_write(S3_0_C1_C2_0, v->sve->zcr_el1);
	sve_load(v->sve->regs);
}

/* host_vl is known once a vCPU ran here; a VM's CPUs may not have run yet (an incoming one's never
 * have): ask the hardware through the same controls. On the management CPU SVE must be untrapped
 * for that, and trapped again after. */
static u32 learn_host_vl(void)
{
	if (!host_vl) {
		u64 cptr = sysreg_read(cptr_el2);

		sve_load_controls();
		sysreg_write(cptr_el2, cptr);
		isb();
	}
	return host_vl;
}

int sve_blob_save(struct vcpu *v, void *buf, size_t cap)
{
	if (!v->sve)
		return FERRY_EINVAL;
	learn_host_vl();
	/* A vCPU that was never on when the VM paused has nothing saved: it goes as zeroes (its
	 * registers are UNKNOWN at its first CPU_ON anyway), at the length the others have. */
	if (!v->sve->vl) {
		memset(v->sve->regs, 0, sizeof(v->sve->regs));
		v->sve->zcr_el1 = 0;
		v->sve->vl = host_vl;
	}
	return mig_sve_encode(v->sve, v->idx, buf, cap);
}

int sve_blob_load(struct vcpu *v, const void *buf, size_t len, const char **why)
{
	*why = "no SVE here";
	return v->sve ? mig_sve_decode(buf, len, v->idx, learn_host_vl(), v->sve, why)
		      : FERRY_EINVAL;
}
