/* SPDX-License-Identifier: Apache-2.0 */
/* PSCI 1.1 argument checking and state transitions for a VM's vCPUs (hyp/vdev/vpsci.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vdev.h"

static struct vpsci_vm vm2(void)
{
	struct vpsci_vm vm;

	memset(&vm, 0, sizeof(vm));
	vm.nvcpus = 2;
	vm.ram_base = 0x40000000;
	vm.ram_size = 64 << 20;
	vm.cpu[0].state = VPSCI_ON;
	return vm;
}

static s64 call(struct vpsci_vm *vm, u32 caller, u64 fid, u64 a1, u64 a2, u64 a3,
		struct vpsci_result *r)
{
	assert_true(vpsci_call(vm, caller, fid, a1, a2, a3, r));
	return r->ret;
}

static void test_version_and_features(void **state)
{
	struct vpsci_vm vm = vm2();
	struct vpsci_result r;
	static const u32 implemented[] = { PSCI_VERSION,           PSCI_CPU_SUSPEND_32,
					   PSCI_CPU_SUSPEND_64,    PSCI_CPU_OFF,
					   PSCI_CPU_ON_32,         PSCI_CPU_ON_64,
					   PSCI_AFFINITY_INFO_32,  PSCI_AFFINITY_INFO_64,
					   PSCI_MIGRATE_INFO_TYPE, PSCI_SYSTEM_OFF,
					   PSCI_SYSTEM_RESET,      PSCI_FEATURES,
					   SMCCC_VERSION };
	(void)state;
	assert_int_equal(call(&vm, 0, PSCI_VERSION, 0, 0, 0, &r), 0x10001);
	assert_int_equal(call(&vm, 0, SMCCC_VERSION, 0, 0, 0, &r), 0x10001);
	for (size_t i = 0; i < sizeof(implemented) / sizeof(implemented[0]); i++)
		assert_int_equal(call(&vm, 0, PSCI_FEATURES, implemented[i], 0, 0, &r), 0);
	/* SYSTEM_SUSPEND, SYSTEM_RESET2, CPU_FREEZE, an arbitrary id: not supported. */
	assert_int_equal(call(&vm, 0, PSCI_FEATURES, 0xc400000e, 0, 0, &r), -1);
	assert_int_equal(call(&vm, 0, PSCI_FEATURES, 0xc4000012, 0, 0, &r), -1);
	assert_int_equal(call(&vm, 0, PSCI_FEATURES, 0x8400000b, 0, 0, &r), -1);
	assert_int_equal(call(&vm, 0, PSCI_FEATURES, 0x12345678, 0, 0, &r), -1);
	assert_int_equal(call(&vm, 0, SMCCC_ARCH_FEATURES, 0x80008000, 0, 0, &r), -1);
	assert_int_equal(call(&vm, 0, PSCI_MIGRATE_INFO_TYPE, 0, 0, 0, &r), 2);
	assert_false(vpsci_call(&vm, 0, 0xc2000001, 0, 0, 0, &r));
	assert_int_equal(r.ret, -1);
}

static void test_cpu_on_checks(void **state)
{
	struct vpsci_vm vm = vm2();
	struct vpsci_result r;
	(void)state;
	/* Unknown target affinity. */
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_64, 2, 0x40080000, 0, &r), -2);
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_64, 0x100, 0x40080000, 0, &r), -2);
	/* Entry outside RAM, at its end, or misaligned. */
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_64, 1, 0x3ffffffc, 0, &r), -9);
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_64, 1, 0x44000000, 0, &r), -9);
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_64, 1, 0x40080002, 0, &r), -9);
	assert_int_equal(vm.cpu[1].state, VPSCI_OFF);
	assert_int_equal(r.action, VPSCI_ACT_NONE);
	/* The caller itself is on. */
	assert_int_equal(call(&vm, 1, PSCI_CPU_ON_64, 0, 0x40080000, 0, &r), -4);
	/* MPIDR bit 31 (RES1) and the U bit are not affinity: both spellings name vCPU 1. */
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_64, 0x80000001, 0x43fffffc, 0x77, &r), 0);
	assert_int_equal(r.action, VPSCI_ACT_WAKE);
	assert_int_equal(r.target, 1);
	assert_int_equal(vm.cpu[1].state, VPSCI_ON_PENDING);
	assert_int_equal(vm.cpu[1].entry, 0x43fffffc);
	assert_int_equal(vm.cpu[1].context, 0x77);
}

/* Two vCPUs racing CPU_ON for the same target (serialized by the VM lock): one SUCCESS, the other
 * ON_PENDING while the target has not run yet, ALREADY_ON once it has. */
static void test_cpu_on_race(void **state)
{
	struct vpsci_vm vm = vm2();
	struct vpsci_result r;
	(void)state;
	vm.nvcpus = 3;
	vm.cpu[1].state = VPSCI_ON;
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_64, 2, 0x40080000, 1, &r), 0);
	assert_int_equal(call(&vm, 1, PSCI_CPU_ON_64, 2, 0x40080000, 2, &r), -5);
	assert_int_equal(r.action, VPSCI_ACT_NONE);
	assert_int_equal(vm.cpu[2].context, 1); /* the loser changed nothing */
	vm.cpu[2].state = VPSCI_ON;
	assert_int_equal(call(&vm, 1, PSCI_CPU_ON_64, 2, 0x40080000, 2, &r), -4);
}

static void test_cpu_on_32bit_args(void **state)
{
	struct vpsci_vm vm = vm2();
	struct vpsci_result r;
	(void)state;
	/* SMC32: upper halves of the arguments are ignored. */
	assert_int_equal(call(&vm, 0, PSCI_CPU_ON_32, 0xffffffff00000001ULL, 0xdead000040080000ULL,
			      0xabcd00000005ULL, &r),
			 0);
	assert_int_equal(vm.cpu[1].entry, 0x40080000);
	assert_int_equal(vm.cpu[1].context, 5);
}

static void test_affinity_info_and_off(void **state)
{
	struct vpsci_vm vm = vm2();
	struct vpsci_result r;
	(void)state;
	assert_int_equal(call(&vm, 0, PSCI_AFFINITY_INFO_64, 0, 0, 0, &r), 0);
	assert_int_equal(call(&vm, 0, PSCI_AFFINITY_INFO_64, 1, 0, 0, &r), 1);
	assert_int_equal(call(&vm, 0, PSCI_AFFINITY_INFO_64, 1, 1, 0, &r), -2);
	assert_int_equal(call(&vm, 0, PSCI_AFFINITY_INFO_64, 5, 0, 0, &r), -2);
	call(&vm, 0, PSCI_CPU_ON_64, 1, 0x40080000, 0, &r);
	assert_int_equal(call(&vm, 0, PSCI_AFFINITY_INFO_32, 1, 0, 0, &r), 2);
	vm.cpu[1].state = VPSCI_ON;
	call(&vm, 1, PSCI_CPU_OFF, 0, 0, 0, &r);
	assert_int_equal(r.action, VPSCI_ACT_CPU_OFF);
	assert_int_equal(call(&vm, 0, PSCI_AFFINITY_INFO_64, 1, 0, 0, &r), 1);
	call(&vm, 0, PSCI_SYSTEM_OFF, 0, 0, 0, &r);
	assert_int_equal(r.action, VPSCI_ACT_SYSTEM_OFF);
	call(&vm, 0, PSCI_SYSTEM_RESET, 0, 0, 0, &r);
	assert_int_equal(r.action, VPSCI_ACT_SYSTEM_RESET);
	assert_int_equal(call(&vm, 0, PSCI_CPU_SUSPEND_64, 0, 0x40080000, 0, &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_and_features),
		cmocka_unit_test(test_cpu_on_checks),
		cmocka_unit_test(test_cpu_on_race),
		cmocka_unit_test(test_cpu_on_32bit_args),
		cmocka_unit_test(test_affinity_info_and_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
