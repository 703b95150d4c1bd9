/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser on what a VM runs (hyp/config/vm_node.c): a built-in or loaded image, where
 * it is loaded and entered, an initrd, `incoming` instead of an image, and the console, every rule
 * with its error line checked exactly. Configs are compiled with dtc at test time, as the build
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

/* ---- the image ---- */

static void test_image_builtin(void **state)
{
	struct config_limits lim = qemu_limits;

	(void)state;
	assert_string_equal(ALPHA_OK(NULL)->image, "memstress");
	ALPHA_ERR("config: vm 'alpha': property 'image': missing (give 'image', or 'image-pa' and "
		  "'image-size')",
		  "-image");
	ALPHA_ERR("config: vm 'alpha': property 'image': no built-in image 'memstres'",
		  "image = \"memstres\";");
	ALPHA_ERR("config: vm 'alpha': property 'image': empty string", "image = \"\";");
	ALPHA_ERR("config: vm 'alpha': property 'image': has no value, expected a string",
		  "image;");
	ALPHA_ERR("config: vm 'alpha': property 'image': not a NUL-terminated string",
		  "image = [6d 65 6d];");
	ALPHA_ERR("config: vm 'alpha': property 'image': a list of strings, expected one string",
		  "image = \"memstress\", \"linux\";");
	ALPHA_ERR("config: vm 'alpha': property 'image': 32 characters, at most 31",
		  "image = \"memstressmemstressmemstressmemst\";");
	/* No built-in images at all. */
	lim.image_exists = NULL;
	expect_error_lim(CONFIG(vm_node("alpha", NONE)), &lim,
			 "config: vm 'alpha': property 'image': no built-in image 'memstress'");
	ALPHA_ERR("config: vm 'alpha': property 'image': give either 'image' or 'image-pa', not "
		  "both",
		  "image-pa = <0x0 0x70000000>;", "image-size = <0x0 0x1000>;");
	ALPHA_ERR("config: vm 'alpha': property 'image-size': only goes with 'image-pa'",
		  "image-size = <0x0 0x1000>;");
}

static void test_image_loaded(void **state)
{
	const struct vm_config *v;

	(void)state;
	v = ALPHA_OK("-image", "image-pa = <0x0 0x70000000>;", "image-size = <0x0 0x00123456>;");
	assert_string_equal(v->image, "");
	assert_int_equal(v->image_pa, 0x70000000);
	assert_int_equal(v->image_size, 0x123456);
	ALPHA_ERR("config: vm 'alpha': property 'image-size': missing ('image-pa' needs it)",
		  "-image", "image-pa = <0x0 0x70000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'image-size': given without 'image-pa'", "-image",
		  "image-size = <0x0 0x1000>;");
	ALPHA_ERR("config: vm 'alpha': property 'image-size': zero", "-image",
		  "image-pa = <0x0 0x70000000>;", "image-size = <0x0 0x0>;");
	ALPHA_ERR("config: vm 'alpha': property 'image-pa': 1 cell, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "-image", "image-pa = <0x70000000>;", "image-size = <0x0 0x1000>;");
	ALPHA_ERR("config: vm 'alpha': property 'image-pa': 0xfffffffffffff000 + 0x2000 overflows",
		  "-image", "image-pa = <0xffffffff 0xfffff000>;", "image-size = <0x0 0x2000>;");
	/* ferry's own 64 MiB (image, stacks, config slot) is not a place to load a guest image. */
	ALPHA_ERR("config: vm 'alpha': property 'image-pa': 0x43000000-0x430fffff is outside the "
		  "guest RAM window 0x44000000-0x7fffffff",
		  "-image", "image-pa = <0x0 0x43000000>;", "image-size = <0x0 0x100000>;");
	ALPHA_ERR("config: vm 'alpha': property 'image-pa': 0x7ff00000-0x800fffff is outside the "
		  "guest RAM window 0x44000000-0x7fffffff",
		  "-image", "image-pa = <0x0 0x7ff00000>;", "image-size = <0x0 0x200000>;");
	/* alpha's RAM is placed at the bottom of the window: an image there would be overwritten. */
	ALPHA_ERR("config: vm 'alpha': property 'image-pa': 0x47f00000-0x480fffff overlaps the RAM "
		  "of vm 'alpha' at 0x44000000-0x47ffffff",
		  "-image", "image-pa = <0x0 0x47f00000>;", "image-size = <0x0 0x200000>;");
	assert_int_equal(
		ALPHA_OK("-image", "image-pa = <0x0 0x48000000>;", "image-size = <0x0 0x200000>;")
			->image_pa,
		0x48000000);
	/* ... including the RAM of a VM placed later, dynamically. */
	expect_error(CONFIG(vm_node("alpha", OV("-image", "image-pa = <0x0 0x49000000>;",
						"image-size = <0x0 0x1000>;")),
			    vm_node_cpu("beta", 2, NONE)),
		     "config: vm 'alpha': property 'image-pa': 0x49000000-0x49000fff overlaps the "
		     "RAM of vm 'beta' at 0x48000000-0x4bffffff");
	/* Two VMs may share one loaded image: it is only read. */
	expect_ok(CONFIG(vm_node("alpha", OV("-image", "image-pa = <0x0 0x70000000>;",
					     "image-size = <0x0 0x1000>;")),
			 vm_node_cpu("beta", 2,
				     OV("-image", "image-pa = <0x0 0x70000000>;",
					"image-size = <0x0 0x1000>;"))));
}

static void test_incoming(void **state)
{
	const struct vm_config *v;

	(void)state;
	assert_false(ALPHA_OK(NULL)->incoming);
	v = ALPHA_OK("incoming;");
	assert_true(v->incoming);
	assert_string_equal(v->image, "memstress");
	/* A VM waiting for a migration gets its memory from the source: no image needed. */
	v = ALPHA_OK("incoming;", "-image");
	assert_true(v->incoming);
	assert_string_equal(v->image, "");
	assert_int_equal(v->image_size, 0);
	ALPHA_ERR("config: vm 'alpha': property 'incoming': a flag takes no value (write "
		  "'incoming;')",
		  "incoming = <1>;");
	ALPHA_ERR("config: vm 'alpha': property 'incoming': a flag takes no value (write "
		  "'incoming;')",
		  "incoming = \"yes\";");
}

static void test_console(void **state)
{
	(void)state;
	assert_false(ALPHA_OK(NULL)->console);
	assert_true(ALPHA_OK("console;", "devices = \"uart\";")->console);
	ALPHA_ERR(
		"config: vm 'alpha': property 'console': the VM has no 'uart' device to attach it "
		"to",
		"console;", "-devices");
	ALPHA_ERR("config: vm 'alpha': property 'console': a flag takes no value (write "
		  "'console;')",
		  "console = <1>;");
	expect_error(
		CONFIG(vm_node("alpha", OV("console;")), vm_node_cpu("beta", 2, OV("console;"))),
		"config: vm 'beta': property 'console': vm 'alpha' has the console already");
}

static void test_load_offset_and_entry(void **state)
{
	const struct vm_config *v;

	(void)state;
	v = ALPHA_OK(NULL);
	assert_int_equal(v->load_offset, 0x80000);
	assert_false(v->has_entry);
	assert_int_equal(v->entry, 0);
	assert_int_equal(ALPHA_OK("load-offset = <0x0 0x0>;")->load_offset, 0);
	assert_int_equal(ALPHA_OK("load-offset = <0x0 0x3dffffc>;")->load_offset, 0x3dffffc);
	ALPHA_ERR("config: vm 'alpha': property 'load-offset': 0x3e00000 is not a 4-byte aligned "
		  "offset below 0x3e00000 (RAM without its top 2 MiB)",
		  "load-offset = <0x0 0x3e00000>;");
	ALPHA_ERR("config: vm 'alpha': property 'load-offset': 0x80002 is not a 4-byte aligned "
		  "offset below 0x3e00000 (RAM without its top 2 MiB)",
		  "load-offset = <0x0 0x80002>;");
	ALPHA_ERR("config: vm 'alpha': property 'load-offset': 1 cell, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "load-offset = <0x80000>;");

	v = ALPHA_OK("entry = <0x0 0x40080000>;");
	assert_true(v->has_entry);
	assert_int_equal(v->entry, 0x40080000);
	assert_true(ALPHA_OK("entry = <0x0 0x43fffffc>;")->has_entry);
	assert_true(ALPHA_OK("entry = <0x0 0x40000000>;")->has_entry);
	ALPHA_ERR("config: vm 'alpha': property 'entry': 0x44000000 is not a 4-byte aligned IPA in "
		  "the VM's RAM 0x40000000-0x43ffffff",
		  "entry = <0x0 0x44000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'entry': 0x3ffffffc is not a 4-byte aligned IPA in "
		  "the VM's RAM 0x40000000-0x43ffffff",
		  "entry = <0x0 0x3ffffffc>;");
	ALPHA_ERR("config: vm 'alpha': property 'entry': 0x40080002 is not a 4-byte aligned IPA in "
		  "the VM's RAM 0x40000000-0x43ffffff",
		  "entry = <0x0 0x40080002>;");
	ALPHA_ERR("config: vm 'alpha': property 'entry': 0 cells, expected 2 (a 64-bit value "
		  "written <hi lo>)",
		  "entry;");
}

static void test_initrd(void **state)
{
	const struct vm_config *v;

	(void)state;
	v = ALPHA_OK(NULL);
	assert_int_equal(v->initrd_pa, 0);
	assert_int_equal(v->initrd_size, 0);
	v = ALPHA_OK("initrd-pa = <0x0 0x60000000>;", "initrd-size = <0x0 0x00800000>;");
	assert_int_equal(v->initrd_pa, 0x60000000);
	assert_int_equal(v->initrd_size, 8 * MiB);
	ALPHA_ERR("config: vm 'alpha': property 'initrd-size': missing ('initrd-pa' needs it)",
		  "initrd-pa = <0x0 0x60000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'initrd-size': given without 'initrd-pa'",
		  "initrd-size = <0x0 0x1000>;");
	ALPHA_ERR("config: vm 'alpha': property 'initrd-size': zero",
		  "initrd-pa = <0x0 0x60000000>;", "initrd-size = <0x0 0x0>;");
	ALPHA_ERR("config: vm 'alpha': property 'initrd-pa': 0x44000000-0x447fffff overlaps the "
		  "RAM of vm 'alpha' at 0x44000000-0x47ffffff",
		  "initrd-pa = <0x0 0x44000000>;", "initrd-size = <0x0 0x00800000>;");
	ALPHA_ERR("config: vm 'alpha': property 'initrd-pa': 0x80000000-0x807fffff is outside the "
		  "guest RAM window 0x44000000-0x7fffffff",
		  "initrd-pa = <0x0 0x80000000>;", "initrd-size = <0x0 0x00800000>;");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_builtin),
		cmocka_unit_test(test_image_loaded),
		cmocka_unit_test(test_incoming),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_load_offset_and_entry),
		cmocka_unit_test(test_initrd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
