/* SPDX-License-Identifier: Apache-2.0 */
/* PSCI 1.1 for a VM's own vCPUs. Return codes follow DEN0022 exactly; functions ferry does not
 * implement answer NOT_SUPPORTED. */
#include "vdev/vdev.h"

/* The affinity fields of an MPIDR (Aff3 in [39:32], Aff2..Aff0 in [23:0]). */
#define MPIDR_AFF_MASK 0xff00ffffffULL

u64 vpsci_mpidr(u32 vcpu) { return (1ULL << 31) | vcpu; }

static int find_vcpu(const struct vpsci_vm *vm, u64 mpidr)
{
	for (u32 i = 0; i < vm->nvcpus; i++)
		if ((vpsci_mpidr(i) & MPIDR_AFF_MASK) == (mpidr & MPIDR_AFF_MASK))
			return (int)i;
	return -1;
}

static bool is_32bit_call(u64 fid) { return (fid & 0x40000000u) == 0; }

static s64 cpu_on(struct vpsci_vm *vm, u64 target, u64 entry, u64 context, struct vpsci_result *res)
{
	int t = find_vcpu(vm, target);
	struct vpsci_cpu *c;

	if (t < 0)
		return PSCI_RET_INVALID_PARAMETERS;
	/* The entry point must be where the vCPU can execute: inside the VM's RAM, 4-byte aligned. */
	if (entry < vm->ram_base || entry - vm->ram_base >= vm->ram_size || (entry & 3))
		return PSCI_RET_INVALID_ADDRESS;
	c = &vm->cpu[t];
	if (c->state == VPSCI_ON)
		return PSCI_RET_ALREADY_ON;
	if (c->state == VPSCI_ON_PENDING)
		return PSCI_RET_ON_PENDING;
	c->entry = entry;
	c->context = context;
	c->state = VPSCI_ON_PENDING;
	res->action = VPSCI_ACT_WAKE;
	res->target = (u32)t;
	return PSCI_RET_SUCCESS;
}

static s64 affinity_info(const struct vpsci_vm *vm, u64 target, u64 level)
{
	int t;

	/* ferry's VMs are flat (one cluster): only level 0 is meaningful. */
	if (level != 0)
		return PSCI_RET_INVALID_PARAMETERS;
	t = find_vcpu(vm, target);
	if (t < 0)
		return PSCI_RET_INVALID_PARAMETERS;
	switch (vm->cpu[t].state) {
	case VPSCI_ON:
		return 0;
	case VPSCI_ON_PENDING:
		return 2;
	default:
		return 1;
	}
}

static bool implemented(u64 fid)
{
	switch ((u32)fid) {
	case PSCI_VERSION:
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
	case PSCI_CPU_OFF:
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
	case PSCI_MIGRATE_INFO_TYPE:
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
	case SMCCC_VERSION:
		return true;
	default:
		return false;
	}
}

bool vpsci_call(struct vpsci_vm *vm, u32 caller, u64 fid, u64 a1, u64 a2, u64 a3,
		struct vpsci_result *res)
{
	res->action = VPSCI_ACT_NONE;
	res->target = 0;
	res->ret = PSCI_RET_NOT_SUPPORTED;
	/* SMC32/HVC32 calls take 32-bit arguments: the upper halves are ignored (SMCCC 2.6). */
	if (is_32bit_call(fid)) {
		a1 &= 0xffffffffu;
		a2 &= 0xffffffffu;
		a3 &= 0xffffffffu;
	}
	switch ((u32)fid) {
	case PSCI_VERSION:
		res->ret = 0x10001; /* 1.1 */
		return true;
	case SMCCC_VERSION:
		res->ret = 0x10001; /* 1.1 */
		return true;
	case SMCCC_ARCH_FEATURES:
		/* No SMCCC architecture workarounds are implemented or needed under ferry. */
		res->ret = PSCI_RET_NOT_SUPPORTED;
		return true;
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
		/* A standby state may end at any wake-up event; returning at once is a valid one. */
		res->ret = PSCI_RET_SUCCESS;
		return true;
	case PSCI_CPU_OFF:
		vm->cpu[caller].state = VPSCI_OFF;
		res->action = VPSCI_ACT_CPU_OFF;
		res->ret = PSCI_RET_SUCCESS;
		return true;
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
		res->ret = cpu_on(vm, a1, a2, a3, res);
		return true;
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
		res->ret = affinity_info(vm, a1, a2);
		return true;
	case PSCI_MIGRATE_INFO_TYPE:
		res->ret = 2; /* no Trusted OS: nothing to migrate at the firmware level */
		return true;
	case PSCI_SYSTEM_OFF:
		res->action = VPSCI_ACT_SYSTEM_OFF;
		res->ret = PSCI_RET_SUCCESS;
		return true;
	case PSCI_SYSTEM_RESET:
		res->action = VPSCI_ACT_SYSTEM_RESET;
		res->ret = PSCI_RET_SUCCESS;
		return true;
	case PSCI_FEATURES:
		/* For CPU_SUSPEND the value is the feature flags: 0 = original power_state format,
		 * platform-coordinated mode only. */
		res->ret = implemented(a1) ? PSCI_RET_SUCCESS : PSCI_RET_NOT_SUPPORTED;
		return true;
	default:
		return false;
	}
}

const char *vpsci_fid_name(u64 fid)
{
	switch ((u32)fid) {
	case PSCI_VERSION:
		return "PSCI_VERSION";
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
		return "CPU_SUSPEND";
	case PSCI_CPU_OFF:
		return "CPU_OFF";
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
		return "CPU_ON";
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
		return "AFFINITY_INFO";
	case PSCI_MIGRATE_INFO_TYPE:
		return "MIGRATE_INFO_TYPE";
	case PSCI_SYSTEM_OFF:
		return "SYSTEM_OFF";
	case PSCI_SYSTEM_RESET:
		return "SYSTEM_RESET";
	case PSCI_FEATURES:
		return "PSCI_FEATURES";
	case SMCCC_VERSION:
		return "SMCCC_VERSION";
	case SMCCC_ARCH_FEATURES:
		return "SMCCC_ARCH_FEATURES";
	default:
		return "unknown";
	}
}
