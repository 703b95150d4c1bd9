/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser on shared-memory regions (hyp/config/shared_memory.c, and their placement in
 * hyp/config/placement.c): sizes, member VMs, IPAs and access, every rule with its error line
 * checked exactly. Configs are compiled with dtc at test time, as the build does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

/* ---- shared-memory regions ---- */

/* Two VMs, alpha (CPU 1) and beta (CPU 2), RAM at 0x40000000 + 64 MiB each, and `shm` as the body of
 * /shared-memory. */
static char *config_shm(const char *const *alpha_ov, const char *shm)
{
	char *vms = config_of(vm_node("alpha", alpha_ov ? alpha_ov : NONE),
			      vm_node_cpu("beta", 2, NONE), (const char *)NULL);
	size_t cut = strlen(vms) - strlen("};\n");
	char *s;

	vms[cut] = 0; /* reopen the root */
	s = strcat_alloc(vms, "\tshared-memory {\n");
	s = strcat_alloc(s, shm);
	return strcat_alloc(s, "\t};\n};\n");
}

#define RING_AB(alpha, beta)                                                                   \
	"\t\tr {\n\t\t\tsize = <0x0 0x10000>;\n\t\t\talpha { " alpha " };\n\t\t\tbeta { " beta \
	" };\n\t\t};\n"
#define SHM_ERR(want, shm) expect_error(config_shm(NULL, shm), want)

static void test_regions_good(void **state)
{
	const struct ferry_config *c;

	(void)state;
	c = expect_ok(config_shm(NULL, RING_AB("ipa = <0x0 0x50000000>;",
					       "ipa = <0x0 0x60000000>; access = \"ro\";")));
	assert_int_equal(c->nregions, 1);
	assert_string_equal(c->region[0].name, "r");
	assert_int_equal(c->region[0].size, 0x10000);
	assert_int_equal(c->region[0].nmaps, 2);
	assert_int_equal(c->region[0].map[0].vm, 0);
	assert_int_equal(c->region[0].map[0].ipa, 0x50000000);
	assert_int_equal(c->region[0].map[0].access, CONFIG_ACCESS_RW);
	assert_int_equal(c->region[0].map[1].vm, 1);
	assert_int_equal(c->region[0].map[1].ipa, 0x60000000);
	assert_int_equal(c->region[0].map[1].access, CONFIG_ACCESS_RO);
	/* Carved above both VMs' RAM (0x44000000 + 2 * 64 MiB), in whole 2 MiB. */
	assert_int_equal(c->region[0].pa, 0x4c000000);
	for (u32 r = 1; r < CONFIG_MAX_REGIONS; r++)
		assert_true(all_zero(&c->region[r], sizeof(c->region[r])));
	/* Member order is the subnodes' order, not the VMs'; a second region goes 2 MiB higher. */
	c = expect_ok(config_shm(
		NULL, "\t\ta { size = <0x0 0x1000>; beta { ipa = <0x0 0x80000000>; "
		      "}; alpha { ipa = <0x0 0x80000000>; access = \"rw\"; }; };\n"
		      "\t\tb { size = <0x0 0x200000>; alpha { ipa = <0x0 0x80001000>; }; "
		      "beta { ipa = <0x1 0x0>; }; };\n"));
	assert_int_equal(c->nregions, 2);
	assert_int_equal(c->region[0].map[0].vm, 1);
	assert_int_equal(c->region[0].map[1].vm, 0);
	assert_int_equal(c->region[0].pa, 0x4c000000);
	assert_int_equal(c->region[1].pa, 0x4c200000);
	assert_int_equal(c->region[1].map[1].ipa, 0x100000000ULL);
	/* The largest region, and one ending exactly at the top of the IPA space. */
	c = expect_ok(config_shm(NULL, "\t\tr { size = <0x0 0x4000000>; alpha { ipa = <0xff "
				       "0xfc000000>; }; beta { ipa = <0x0 0x50000000>; }; };\n"));
	assert_int_equal(c->region[0].size, CONFIG_REGION_MAX);
}

static void test_regions_size(void **state)
{
	(void)state;
	SHM_ERR("config: region 'r': property 'size': missing",
		"\t\tr { alpha { ipa = <0x0 0x50000000>; }; beta { ipa = <0x0 0x50000000>; }; };\n");
	SHM_ERR("config: region 'r': property 'size': zero",
		"\t\tr { size = <0x0 0x0>; alpha { ipa = <0x0 0x50000000>; }; };\n");
	SHM_ERR("config: region 'r': property 'size': 0x1800 is not a multiple of 4 KiB",
		"\t\tr { size = <0x0 0x1800>; };\n");
	SHM_ERR("config: region 'r': property 'size': 65 MiB, at most 64 MiB",
		"\t\tr { size = <0x0 0x4001000>; };\n");
	SHM_ERR("config: region 'r': property 'size': 1048577 MiB, at most 64 MiB",
		"\t\tr { size = <0x100 0x1000>; };\n");
	SHM_ERR("config: region 'r': property 'size': 1 cell, expected 2 (a 64-bit value written "
		"<hi lo>)",
		"\t\tr { size = <0x1000>; };\n");
	SHM_ERR("config: region 'r': property 'colour': unknown (a typo? docs/config.md lists every "
		"property)",
		"\t\tr { size = <0x0 0x1000>; colour = \"red\"; };\n");
	/* No room: the VMs take all but 2 MiB of the window; the region needs 4 MiB. */
	expect_error(config_shm(OV("ram-size = <0x0 0x37e00000>;"),
				"\t\tr { size = <0x0 0x201000>; alpha { ipa = <0x1 0x0>; }; beta { "
				"ipa = <0x1 0x0>; }; };\n"),
		     "config: region 'r': property 'size': no room for 4 MiB above the VMs' RAM, "
		     "where 2 MiB are free");
}

static void test_regions_members(void **state)
{
	(void)state;
	SHM_ERR("config: region 'r': mapped by 1 VM, a region is shared by at least 2 (one subnode "
		"per VM, named after it)",
		"\t\tr { size = <0x0 0x1000>; alpha { ipa = <0x0 0x50000000>; }; };\n");
	SHM_ERR("config: region 'r': mapped by 0 VMs, a region is shared by at least 2 (one subnode "
		"per VM, named after it)",
		"\t\tr { size = <0x0 0x1000>; };\n");
	SHM_ERR("config: region 'r': no VM named 'gamma' (a region's subnodes are named after the "
		"VMs that map it)",
		"\t\tr { size = <0x0 0x1000>; alpha { ipa = <0x0 0x50000000>; }; gamma { }; };\n");
	SHM_ERR("config: region 'r': VM name 'al@1' has a character other than a-z A-Z 0-9 - _ (the "
		"node's name is the VM's name)",
		"\t\tr { size = <0x0 0x1000>; al@1 { }; };\n");
	SHM_ERR("config: node /shared-memory/r@0: region name 'r@0' has a character other than a-z "
		"A-Z 0-9 - _ (the node's name is the region's name)",
		"\t\tr@0 { size = <0x0 0x1000>; };\n");
	SHM_ERR("config: node /shared-memory/abcdefghijklmnop: region name 'abcdefghijklmnop' is 16 "
		"characters, at most 15",
		"\t\tabcdefghijklmnop { size = <0x0 0x1000>; };\n");
	SHM_ERR("config: node /shared-memory: property 'size': unknown (a typo? docs/config.md lists "
		"every property)",
		"\t\tsize = <0x0 0x1000>;\n");
	SHM_ERR("config: node /shared-memory: 5 regions, at most 4",
		"\t\ta { }; b { }; c { }; d { }; e { };\n");
	SHM_ERR("config: region 'r', vm 'beta': property 'access': 'wo' is not one of rw, ro",
		RING_AB("ipa = <0x0 0x50000000>;", "ipa = <0x0 0x50000000>; access = \"wo\";"));
	SHM_ERR("config: region 'r', vm 'beta': property 'ipa': missing",
		RING_AB("ipa = <0x0 0x50000000>;", "access = \"ro\";"));
	SHM_ERR("config: region 'r', vm 'alpha': property 'pa': unknown (a typo? docs/config.md "
		"lists every property)",
		RING_AB("ipa = <0x0 0x50000000>; pa = <0x0 0x0>;", ""));
	/* A VM waiting for an incoming migration cannot share: migration refuses such VMs. */
	expect_error(config_shm(OV("incoming;"),
				RING_AB("ipa = <0x0 0x50000000>;", "ipa = <0x0 0x50000000>;")),
		     "config: region 'r', vm 'alpha': an incoming VM cannot map a shared region "
		     "(migration refuses VMs that do)");
}

static void test_regions_ipa(void **state)
{
	(void)state;
	SHM_ERR("config: region 'r', vm 'alpha': property 'ipa': 0x50000800 is not 4 KiB aligned",
		RING_AB("ipa = <0x0 0x50000800>;", "ipa = <0x0 0x50000000>;"));
	SHM_ERR("config: region 'r', vm 'beta': property 'ipa': 0xb000000 is below 0x40000000, the "
		"guest's device area (GIC, UART, virtio, doorbells)",
		RING_AB("ipa = <0x0 0x50000000>;", "ipa = <0x0 0x0b000000>;"));
	SHM_ERR("config: region 'r', vm 'alpha': property 'ipa': 0xfffffff000 + 0x10000 ends beyond "
		"the 40-bit IPA space (1 TiB)",
		RING_AB("ipa = <0xff 0xfffff000>;", "ipa = <0x0 0x50000000>;"));
	/* Sums that wrap around 2^64 are caught, not wrapped into range. */
	SHM_ERR("config: region 'r', vm 'alpha': property 'ipa': 0xfffffffffffff000 + 0x10000 ends "
		"beyond the 40-bit IPA space (1 TiB)",
		RING_AB("ipa = <0xffffffff 0xfffff000>;", "ipa = <0x0 0x50000000>;"));
	SHM_ERR("config: region 'r', vm 'beta': property 'ipa': 0x43ff8000-0x44007fff overlaps the "
		"VM's RAM at 0x40000000-0x43ffffff",
		RING_AB("ipa = <0x0 0x50000000>;", "ipa = <0x0 0x43ff8000>;"));
	SHM_ERR("config: region 'r', vm 'alpha': property 'ipa': 0x3fff0000 is below 0x40000000, "
		"the guest's device area (GIC, UART, virtio, doorbells)",
		RING_AB("ipa = <0x0 0x3fff0000>;", "ipa = <0x0 0x50000000>;"));
	/* Two regions in one VM may touch but not overlap; in different VMs the IPAs are unrelated. */
	SHM_ERR("config: region 'b', vm 'beta': property 'ipa': 0x5000f000-0x5000ffff overlaps "
		"region 'a' at 0x50000000-0x5000ffff",
		"\t\ta { size = <0x0 0x10000>; alpha { ipa = <0x0 0x50000000>; }; beta { ipa = <0x0 "
		"0x50000000>; }; };\n\t\tb { size = <0x0 0x1000>; alpha { ipa = <0x0 0x50010000>; "
		"}; beta { ipa = <0x0 0x5000f000>; }; };\n");
	expect_ok(config_shm(NULL, "\t\ta { size = <0x0 0x10000>; alpha { ipa = <0x0 0x50000000>; "
				   "}; beta { ipa = <0x0 0x60000000>; }; };\n\t\tb { size = <0x0 "
				   "0x1000>; alpha { ipa = <0x0 0x50010000>; }; beta { ipa = <0x0 "
				   "0x5000f000>; }; };\n"));
}

static void test_regions_placement(void **state)
{
	(void)state;
	/* A loaded image may not lie where a region is carved (all of its 2 MiB). */
	expect_error(
		config_shm(
			OV("image-pa = <0x0 0x4c100000>;", "image-size = <0x0 0x1000>;", "-image"),
			"\t\tr { size = <0x0 0x1000>; alpha { ipa = <0x0 0x50000000>; }; "
			"beta { ipa = <0x0 0x50000000>; }; };\n"),
		"config: vm 'alpha': property 'image-pa': 0x4c100000-0x4c100fff overlaps region "
		"'r' at 0x4c000000-0x4c1fffff");
	/* Just above it is free. */
	assert_int_equal(
		expect_ok(config_shm(OV("image-pa = <0x0 0x4c200000>;",
					"image-size = <0x0 0x1000>;", "-image"),
				     "\t\tr { size = <0x0 0x1000>; alpha { ipa = "
				     "<0x0 0x50000000>; }; beta { ipa = <0x0 0x50000000>; }; "
				     "};\n"))
			->region[0]
			.pa,
		0x4c000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regions_good),      cmocka_unit_test(test_regions_size),
		cmocka_unit_test(test_regions_members),   cmocka_unit_test(test_regions_ipa),
		cmocka_unit_test(test_regions_placement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
