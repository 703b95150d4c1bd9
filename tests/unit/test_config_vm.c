/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser on a VM node's properties (hyp/config/vm_node.c): RAM, CPUs, bootargs, devices,
 * passthrough paths, dirty-log and on-abort, every rule with its error line checked exactly (what
 * the VM runs has test_config_image.c). Configs are compiled with dtc at test time, as the build
 * does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

/* ---- RAM ---- */

static void test_ram_base(void **state)
{
	(void)state;
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': missing", "-ram-base");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 1 cell, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "ram-base = <0x40000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 3 cells, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "ram-base = <0x0 0x40000000 0x0>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 0 cells, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "ram-base;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 6 bytes, not a whole number of 32-bit "
		  "cells",
		  "ram-base = [00 00 00 00 40 00];");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 0x40100000 is not 2 MiB aligned",
		  "ram-base = <0x0 0x40100000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 0x8000000 is below 0x40000000, the "
		  "guest's device area (GIC, UART, virtio)",
		  "ram-base = <0x0 0x08000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 0x0 is below 0x40000000, the guest's "
		  "device area (GIC, UART, virtio)",
		  "ram-base = <0x0 0x0>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-base': 0x3fe00000 is below 0x40000000, the "
		  "guest's device area (GIC, UART, virtio)",
		  "ram-base = <0x0 0x3fe00000>;");
	assert_int_equal(ALPHA_OK("ram-base = <0x1 0x00000000>;")->ram_base, 0x100000000ULL);
}

static void test_ram_size(void **state)
{
	(void)state;
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': missing", "-ram-size");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': 1 cell, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "ram-size = <0x04000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': zero", "ram-size = <0x0 0x0>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': 0x100000 is not a multiple of 2 MiB",
		  "ram-size = <0x0 0x00100000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': 0x4001000 is not a multiple of 2 MiB",
		  "ram-size = <0x0 0x04001000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': 0x200000 is less than 4 MiB (the top 2 "
		  "MiB hold the guest's device tree)",
		  "ram-size = <0x0 0x00200000>;");
	assert_int_equal(ALPHA_OK("ram-size = <0x0 0x00400000>;")->ram_size, 4 * MiB);
	/* The whole window for one VM fits exactly; 2 MiB more does not. */
	assert_int_equal(ALPHA_OK("ram-size = <0x0 0x3c000000>;")->ram_size, 960 * MiB);
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': the VMs up to this one need 962 MiB "
		  "of RAM, the machine has 960 MiB for guests",
		  "ram-size = <0x0 0x3c200000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': the VMs up to this one need 65536 MiB "
		  "of RAM, the machine has 960 MiB for guests",
		  "ram-size = <0x10 0x0>;");
}

static void test_ram_total(void **state)
{
	const char *half = "ram-size = <0x0 0x1e000000>;"; /* 480 MiB */

	(void)state;
	expect_ok(CONFIG(vm_node("alpha", OV(half)), vm_node_cpu("beta", 2, OV(half))));
	expect_error(CONFIG(vm_node("alpha", OV(half)),
			    vm_node_cpu("beta", 2, OV("ram-size = <0x0 0x1e200000>;"))),
		     "config: vm 'beta': property 'ram-size': the VMs up to this one need 962 MiB "
		     "of RAM, the machine has 960 MiB for guests");
	/* The window starts where guest_ram_init() puts it: rounded up to 2 MiB. */
	{
		struct config_limits lim = qemu_limits;

		lim.guest_ram_pa = 0x44000000 + 4096;
		expect_error_lim(CONFIG(vm_node("alpha", OV("ram-size = <0x0 0x3c000000>;"))), &lim,
				 "config: vm 'alpha': property 'ram-size': the VMs up to this one "
				 "need 960 MiB of RAM, the machine has 958 MiB for guests");
	}
}

static void test_ipa_space(void **state)
{
	(void)state;
	/* Ends exactly at 1 TiB: fine. One 2 MiB further: beyond the 40-bit IPA space. */
	assert_int_equal(ALPHA_OK("ram-base = <0xff 0xfc000000>;")->ram_base, 0xfffc000000ULL);
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': RAM 0xfffc200000 + 0x4000000 ends "
		  "beyond the 40-bit IPA space (1 TiB)",
		  "ram-base = <0xff 0xfc200000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': RAM 0x10000000000 + 0x4000000 ends "
		  "beyond the 40-bit IPA space (1 TiB)",
		  "ram-base = <0x100 0x0>;");
	/* A base + size that wraps 64 bits must not pass as small. */
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': RAM 0xfffffffffc000000 + 0x4000000 "
		  "ends beyond the 40-bit IPA space (1 TiB)",
		  "ram-base = <0xffffffff 0xfc000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-size': RAM 0x40000000 + 0xffffffffffe00000 "
		  "ends beyond the 40-bit IPA space (1 TiB)",
		  "ram-size = <0xffffffff 0xffe00000>;");
}

static void test_ram_pa(void **state)
{
	const struct vm_config *v;

	(void)state;
	v = ALPHA_OK("ram-pa = <0x0 0x44000000>;");
	assert_int_equal(v->ram_pa, 0x44000000);
	v = ALPHA_OK("ram-pa = <0x0 0x7c000000>;"); /* the last 64 MiB of the window */
	assert_int_equal(v->ram_pa, 0x7c000000);
	ALPHA_ERR("config: vm 'alpha': property 'ram-pa': 0x7c200000-0x801fffff is outside the "
		  "guest RAM window 0x44000000-0x7fffffff",
		  "ram-pa = <0x0 0x7c200000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-pa': 0x40000000-0x43ffffff is outside the "
		  "guest RAM window 0x44000000-0x7fffffff",
		  "ram-pa = <0x0 0x40000000>;");
	/* 0 would mean "ferry chooses" in the struct; written out, it is simply outside. */
	ALPHA_ERR("config: vm 'alpha': property 'ram-pa': 0x0-0x3ffffff is outside the guest RAM "
		  "window 0x44000000-0x7fffffff",
		  "ram-pa = <0x0 0x0>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-pa': 0xfffffffffc000000-0xffffffffffffffff is "
		  "outside the guest RAM window 0x44000000-0x7fffffff",
		  "ram-pa = <0xffffffff 0xfc000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-pa': 0x44100000 is not 2 MiB aligned",
		  "ram-pa = <0x0 0x44100000>;");
	ALPHA_ERR("config: vm 'alpha': property 'ram-pa': 1 cell, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "ram-pa = <0x44000000>;");
	/* Touching ranges do not overlap; one 2 MiB block in common does. */
	expect_ok(CONFIG(vm_node("alpha", OV("ram-pa = <0x0 0x44000000>;")),
			 vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x48000000>;"))));
	expect_error(CONFIG(vm_node("alpha", OV("ram-pa = <0x0 0x44000000>;")),
			    vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x47e00000>;"))),
		     "config: vm 'beta': property 'ram-pa': 0x47e00000-0x4bdfffff overlaps the RAM "
		     "of vm 'alpha' at 0x44000000-0x47ffffff");
	expect_error(CONFIG(vm_node("alpha", OV("ram-pa = <0x0 0x48000000>;")),
			    vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x46000000>;"))),
		     "config: vm 'beta': property 'ram-pa': 0x46000000-0x49ffffff overlaps the RAM "
		     "of vm 'alpha' at 0x48000000-0x4bffffff");
}

static void test_ram_placement(void **state)
{
	(void)state;
	/* VMs without ram-pa go above the fixed ones (hyp/core/alloc.c): a fixed VM at the top of
	 * the window leaves them no room, though the total would fit. */
	expect_error(CONFIG(vm_node("alpha", NONE),
			    vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x7c000000>;"))),
		     "config: vm 'alpha': property 'ram-size': no room for 64 MiB: VMs without "
		     "ram-pa go above the fixed ones, where 0 MiB are free");
	expect_error(CONFIG(vm_node("alpha", NONE),
			    vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x7a000000>;"))),
		     "config: vm 'alpha': property 'ram-size': no room for 64 MiB: VMs without "
		     "ram-pa go above the fixed ones, where 32 MiB are free");
	expect_ok(CONFIG(vm_node("alpha", OV("ram-size = <0x0 0x02000000>;")),
			 vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x7a000000>;"))));
	expect_ok(CONFIG(vm_node("alpha", NONE),
			 vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x78000000>;"))));
	/* A fixed VM low in the window leaves the rest to the others. */
	expect_ok(CONFIG(vm_node("alpha", OV("ram-size = <0x0 0x38000000>;")),
			 vm_node_cpu("beta", 2, OV("ram-pa = <0x0 0x44000000>;"))));
}

/* ---- CPUs ---- */

static void test_cpus(void **state)
{
	const struct vm_config *v;
	struct config_limits lim = big_limits;

	(void)state;
	ALPHA_ERR("config: vm 'alpha': property 'cpus': missing", "-cpus");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': empty, expected at least one CPU index",
		  "cpus;");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': 6 bytes, not a whole number of 32-bit "
		  "cells",
		  "cpus = [00 00 00 01 00 00];");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': CPU 3 does not exist (the machine has 3: "
		  "0-2)",
		  "cpus = <3>;");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': CPU 4294967295 does not exist (the machine "
		  "has 3: 0-2)",
		  "cpus = <0xffffffff>;");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': CPU 0 is ferry's own (its management CPU "
		  "runs the shell and migration)",
		  "cpus = <0>;");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': CPU 0 is ferry's own (its management CPU "
		  "runs the shell and migration)",
		  "cpus = <1 0>;");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': CPU 1 is given twice", "cpus = <1 1>;");
	ALPHA_ERR("config: vm 'alpha': property 'cpus': CPU 2 is given twice", "cpus = <2 1 2>;");
	v = ALPHA_OK("cpus = <2 1>;");
	assert_int_equal(v->ncpus, 2);
	assert_int_equal(v->cpus[0], 2); /* vCPU order is the list's order */
	assert_int_equal(v->cpus[1], 1);

	/* Eight vCPUs at most. */
	v = &expect_ok_lim(CONFIG(vm_node("alpha", OV("cpus = <1 2 3 4 5 6 7 8>;"))), &big_limits)
		     ->vm[0];
	assert_int_equal(v->ncpus, 8);
	for (u32 i = 0; i < 8; i++)
		assert_int_equal(v->cpus[i], i + 1);
	expect_error_lim(CONFIG(vm_node("alpha", OV("cpus = <1 2 3 4 5 6 7 8 9>;"))), &big_limits,
			 "config: vm 'alpha': property 'cpus': 9 CPUs, at most 8");

	/* Any CPU the machine keeps for ferry, not only CPU 0. */
	lim.reserved_cpu_mask = (1u << 0) | (1u << 5);
	expect_error_lim(CONFIG(vm_node("alpha", OV("cpus = <4 5>;"))), &lim,
			 "config: vm 'alpha': property 'cpus': CPU 5 is ferry's own (its "
			 "management CPU runs the shell and migration)");
	/* CPU indices past the mask's 32 bits are not reserved (and do not shift out of range). */
	lim.ncpus = 40;
	assert_int_equal(
		expect_ok_lim(CONFIG(vm_node("alpha", OV("cpus = <37>;"))), &lim)->vm[0].cpus[0],
		37);
}

static void test_cpus_across_vms(void **state)
{
	(void)state;
	expect_error(CONFIG(vm_node("alpha", NONE), vm_node("beta", NONE)),
		     "config: vm 'beta': property 'cpus': CPU 1 is already owned by vm 'alpha'");
	expect_error_lim(CONFIG(vm_node("alpha", OV("cpus = <1 2>;")),
				vm_node("beta", OV("cpus = <3>;")),
				vm_node("gamma", OV("cpus = <4 2>;"))),
			 &big_limits,
			 "config: vm 'gamma': property 'cpus': CPU 2 is already owned by vm "
			 "'alpha'");
}

/* Every assignment of CPUs 0..3 to two one-vCPU VMs on a 3-CPU machine: accepted exactly when both
 * exist, neither is CPU 0, and they differ; each refusal with its own message. */
static void test_cpus_exhaustive_pairs(void **state)
{
	char want[CONFIG_ERR_MAX];

	(void)state;
	for (int a = 0; a < 4; a++)
		for (int b = 0; b < 4; b++) {
			char *dts =
				CONFIG(vm_node_cpu("alpha", a, NONE), vm_node_cpu("beta", b, NONE));
			const char *who = "alpha";
			int bad = a;

			if (a >= 1 && a <= 2) {
				who = "beta";
				bad = b;
			}
			if (bad == 0)
				snprintf(
					want, sizeof(want),
					"config: vm '%s': property 'cpus': CPU 0 is ferry's own (its "
					"management CPU runs the shell and migration)",
					who);
			else if (bad == 3)
				snprintf(
					want, sizeof(want),
					"config: vm '%s': property 'cpus': CPU 3 does not exist (the "
					"machine has 3: 0-2)",
					who);
			else if (a == b)
				snprintf(
					want, sizeof(want),
					"config: vm 'beta': property 'cpus': CPU %d is already owned "
					"by vm 'alpha'",
					a);
			else
				want[0] = 0;
			if (want[0]) {
				expect_error(dts, want);
			} else {
				const struct ferry_config *c = expect_ok(dts);

				assert_int_equal(c->vm[0].cpus[0], a);
				assert_int_equal(c->vm[1].cpus[0], b);
			}
			free(dts);
		}
}

/* ---- bootargs, devices, dirty-log, on-abort ---- */

static void test_bootargs(void **state)
{
	char line[CONFIG_BOOTARGS_MAX + 32];

	(void)state;
	assert_string_equal(ALPHA_OK("-bootargs")->bootargs, "");
	assert_string_equal(ALPHA_OK("bootargs = \"\";")->bootargs, "");
	assert_string_equal(ALPHA_OK("bootargs = \"console=ttyAMA0 rdinit=/init\";")->bootargs,
			    "console=ttyAMA0 rdinit=/init");
	/* 255 characters fit, 256 do not. */
	snprintf(line, sizeof(line), "bootargs = \"%0255d\";", 0);
	assert_int_equal(strlen(ALPHA_OK(line)->bootargs), 255);
	snprintf(line, sizeof(line), "bootargs = \"%0256d\";", 0);
	ALPHA_ERR("config: vm 'alpha': property 'bootargs': 256 characters, at most 255", line);
	ALPHA_ERR("config: vm 'alpha': property 'bootargs': a list of strings, expected one string",
		  "bootargs = \"a\", \"b\";");
	ALPHA_ERR("config: vm 'alpha': property 'bootargs': has no value, expected a string",
		  "bootargs;");
}

static void test_devices(void **state)
{
	(void)state;
	assert_int_equal(ALPHA_OK(NULL)->devices, CONFIG_DEV_UART);
	assert_int_equal(ALPHA_OK("-devices")->devices, 0);
	ALPHA_ERR("config: vm 'alpha': property 'devices': unknown device 'gpu' (known: uart)",
		  "devices = \"uart\", \"gpu\";");
	ALPHA_ERR("config: vm 'alpha': property 'devices': unknown device '' (known: uart)",
		  "devices = \"\";");
	ALPHA_ERR("config: vm 'alpha': property 'devices': 'uart' is given twice",
		  "devices = \"uart\", \"uart\";");
	ALPHA_ERR("config: vm 'alpha': property 'devices': has no value, expected a list of "
		  "strings",
		  "devices;");
	ALPHA_ERR("config: vm 'alpha': property 'devices': not a list of NUL-terminated strings",
		  "devices = [75 61 72 74];");
}

/* `passthrough`: only the strings here; tests/unit/test_passthrough.c checks what they name. */
static void test_passthrough(void **state)
{
	const struct vm_config *vm;

	(void)state;
	assert_int_equal(ALPHA_OK(NULL)->npassthrough, 0);
	vm = ALPHA_OK("passthrough = \"/virtio_mmio@a002000\", \"/pl061@9030000\";");
	assert_int_equal(vm->npassthrough, 2);
	assert_string_equal(vm->passthrough[0], "/virtio_mmio@a002000");
	assert_string_equal(vm->passthrough[1], "/pl061@9030000");
	ALPHA_ERR(
		"config: vm 'alpha': property 'passthrough': 'pl061@9030000' is not a device-tree "
		"path such as \"/pl061@9030000\"",
		"passthrough = \"pl061@9030000\";");
	ALPHA_ERR("config: vm 'alpha': property 'passthrough': '/' is not a device-tree path such "
		  "as \"/pl061@9030000\"",
		  "passthrough = \"/\";");
	ALPHA_ERR("config: vm 'alpha': property 'passthrough': '/a b' is not a device-tree path "
		  "such as \"/pl061@9030000\"",
		  "passthrough = \"/a b\";");
	ALPHA_ERR("config: vm 'alpha': property 'passthrough': '/x' is given twice",
		  "passthrough = \"/x\", \"/x\";");
	ALPHA_ERR("config: vm 'alpha': property 'passthrough': 5 devices, at most 4",
		  "passthrough = \"/a\", \"/b\", \"/c\", \"/d\", \"/e\";");
	ALPHA_ERR(
		"config: vm 'alpha': property 'passthrough': path of 64 characters, at most 63",
		"passthrough = \"/123456789012345678901234567890123456789012345678901234567890123\";");
	ALPHA_ERR("config: vm 'alpha': property 'passthrough': has no value, expected a list of "
		  "paths",
		  "passthrough;");
	ALPHA_ERR(
		"config: vm 'alpha': property 'passthrough': not a list of NUL-terminated strings",
		"passthrough = [2f 61];");
	ALPHA_ERR("config: vm 'alpha': property 'passthrough': an incoming VM cannot own a device "
		  "(migration refuses VMs that do)",
		  "incoming;", "-image", "passthrough = \"/pl061@9030000\";");
}

static void test_dirty_log(void **state)
{
	(void)state;
	assert_int_equal(ALPHA_OK(NULL)->dirty_mode, CONFIG_DIRTY_AUTO);
	assert_int_equal(ALPHA_OK("dirty-log = \"auto\";")->dirty_mode, CONFIG_DIRTY_AUTO);
	assert_int_equal(ALPHA_OK("dirty-log = \"wp\";")->dirty_mode, CONFIG_DIRTY_WP);
	assert_int_equal(ALPHA_OK("dirty-log = \"dbm\";")->dirty_mode, CONFIG_DIRTY_DBM);
	ALPHA_ERR("config: vm 'alpha': property 'dirty-log': 'DBM' is not one of auto, wp, dbm",
		  "dirty-log = \"DBM\";");
	ALPHA_ERR("config: vm 'alpha': property 'dirty-log': not one of auto, wp, dbm",
		  "dirty-log = \"write-protect-faults\";");
	ALPHA_ERR("config: vm 'alpha': property 'dirty-log': not one of auto, wp, dbm",
		  "dirty-log = \"\";");
	ALPHA_ERR("config: vm 'alpha': property 'dirty-log': not one of auto, wp, dbm",
		  "dirty-log = <1>;");
}

static void test_on_abort(void **state)
{
	(void)state;
	assert_int_equal(ALPHA_OK(NULL)->on_abort, CONFIG_ABORT_STOP);
	assert_int_equal(ALPHA_OK("on-abort = \"stop\";")->on_abort, CONFIG_ABORT_STOP);
	assert_int_equal(ALPHA_OK("on-abort = \"inject\";")->on_abort, CONFIG_ABORT_INJECT);
	ALPHA_ERR("config: vm 'alpha': property 'on-abort': 'reset' is not one of stop, inject",
		  "on-abort = \"reset\";");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_base),
		cmocka_unit_test(test_ram_size),
		cmocka_unit_test(test_ram_total),
		cmocka_unit_test(test_ipa_space),
		cmocka_unit_test(test_ram_pa),
		cmocka_unit_test(test_ram_placement),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_cpus_across_vms),
		cmocka_unit_test(test_cpus_exhaustive_pairs),
		cmocka_unit_test(test_bootargs),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_dirty_log),
		cmocka_unit_test(test_on_abort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
