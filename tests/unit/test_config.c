/* SPDX-License-Identifier: Apache-2.0 */
/* The VM configuration parser as a whole: every config file in the tree (good ones parse to what
 * they say, each bad-*.dts gives exactly its `expect:` line), the blob and the root, VM names, and
 * the contract with the caller (whole or nothing, the error buffer, one line per message, damaged
 * blobs). A VM node's properties, what it runs, the shared-memory regions and the vnet links have
 * test_config_vm.c, test_config_image.c, test_config_regions.c and test_config_vnet.c; the helpers
 * they share are in config_fixture.h. Configs are compiled with dtc at test time, as the build
 * does. */
#include <dirent.h>
#include <libfdt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_fixture.h"

/* ---- the config files in the tree ---- */

/* The `/ * expect: ... * /` line of a bad config, as tests/system/conftest.py reads it: the first
 * line, or the second after the SPDX line. */
static char *expect_line_of(const char *path)
{
	static char line[512];
	FILE *f = fopen(path, "r");
	char *start, *end;

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	if (strstr(line, "SPDX-License-Identifier:"))
		assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	start = strstr(line, "/* expect: ");
	end = strstr(line, " */");
	assert_non_null(start);
	assert_non_null(end);
	*end = 0;
	return start + strlen("/* expect: ");
}

static int for_each_dts(const char *dir, void (*fn)(const char *path, const char *base))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".dts"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fn(path, e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static int nbad, ngood;

static void check_config_file(const char *path, const char *base)
{
	void *fdt = dtc_file(path);
	static struct ferry_config out;
	char err[CONFIG_ERR_MAX] = "";
	int ret;

	if (!strncmp(base, "bad-", 4)) {
		expect_error_blob(fdt, &qemu_limits, expect_line_of(path));
		nbad++;
	} else {
		/* Good ones parse on the big machine (seed-8g needs 8 GiB), and all but those
		 * asking for more RAM or CPUs (linux-memstress: -smp 4) also on the system tests'
		 * usual machine. */
		ret = config_parse(fdt, &big_limits, &out, err, sizeof(err));
		if (ret)
			fprintf(stderr, "%s: %s\n", path, err);
		assert_int_equal(ret, 0);
		u64 total = 0;
		u32 top_cpu = 0;
		for (u32 i = 0; i < out.nvms; i++) {
			total += out.vm[i].ram_size;
			for (u32 k = 0; k < out.vm[i].ncpus; k++)
				top_cpu = MAX(top_cpu, out.vm[i].cpus[k]);
		}
		if (total <= qemu_limits.guest_ram_bytes && top_cpu < qemu_limits.ncpus) {
			ret = config_parse(fdt, &qemu_limits, &out, err, sizeof(err));
			if (ret)
				fprintf(stderr, "%s: %s\n", path, err);
			assert_int_equal(ret, 0);
		}
		ngood++;
	}
	free(fdt);
}

static void test_config_files(void **state)
{
	(void)state;
	nbad = ngood = 0;
	for_each_dts("platform/qemu-virt", check_config_file);
	for_each_dts("tests/system/configs", check_config_file);
	/* The kinds the system tests need, and the good configs they boot. */
	assert_true(nbad >= 6);
	assert_true(ngood >= 3);
	assert_int_equal(access("tests/system/configs/bad-overlap-pa.dts", R_OK), 0);
	assert_int_equal(access("tests/system/configs/bad-cpu-twice.dts", R_OK), 0);
	assert_int_equal(access("tests/system/configs/bad-ram-too-big.dts", R_OK), 0);
	assert_int_equal(access("tests/system/configs/bad-missing-image.dts", R_OK), 0);
	assert_int_equal(access("tests/system/configs/bad-cpu0.dts", R_OK), 0);
	assert_int_equal(access("tests/system/configs/bad-unknown-property.dts", R_OK), 0);
}

static void test_default_config(void **state)
{
	const struct ferry_config *c = parse_file("platform/qemu-virt/default.dts");

	(void)state;
	assert_int_equal(c->nvms, 2);
	for (u32 i = 0; i < 2; i++) {
		const struct vm_config *v = &c->vm[i];

		assert_string_equal(v->name, i ? "beta" : "alpha");
		assert_int_equal(v->ram_base, 0x40000000);
		assert_int_equal(v->ram_size, 64 * MiB);
		assert_int_equal(v->ram_pa, 0);
		assert_int_equal(v->ncpus, 1);
		assert_int_equal(v->cpus[0], i + 1);
		assert_string_equal(v->image, "memstress");
		assert_int_equal(v->image_pa, 0);
		assert_int_equal(v->image_size, 0);
		assert_int_equal(v->load_offset, 0x80000);
		assert_false(v->has_entry);
		assert_string_equal(v->bootargs, i ? "rounds=4 seed=2" : "rounds=4 seed=1");
		assert_int_equal(v->devices, CONFIG_DEV_UART);
		assert_int_equal(v->dirty_mode, CONFIG_DIRTY_AUTO);
		assert_int_equal(v->on_abort, CONFIG_ABORT_STOP);
		assert_false(v->incoming);
		assert_int_equal(v->initrd_size, 0);
	}
}

static void test_smp2_and_wild_configs(void **state)
{
	const struct ferry_config *c = parse_file("platform/qemu-virt/smp2.dts");

	(void)state;
	assert_int_equal(c->nvms, 1);
	assert_string_equal(c->vm[0].name, "duo");
	assert_int_equal(c->vm[0].ncpus, 2);
	assert_int_equal(c->vm[0].cpus[0], 1);
	assert_int_equal(c->vm[0].cpus[1], 2);
	assert_string_equal(c->vm[0].bootargs, "smp=2 rounds=4");

	c = parse_file("tests/system/configs/wild.dts");
	assert_int_equal(c->nvms, 2);
	assert_string_equal(c->vm[0].name, "wild");
	assert_string_equal(c->vm[0].bootargs, "wild=0x80000000");
	assert_int_equal(c->vm[0].cpus[0], 1);
	assert_string_equal(c->vm[1].name, "calm");
	assert_int_equal(c->vm[1].cpus[0], 2);
	/* 0x80000000 must really lie outside wild's RAM for the test to mean anything. */
	assert_true(c->vm[0].ram_base + c->vm[0].ram_size <= 0x80000000ULL);
}

/* ---- the blob and the root ---- */

static void test_not_a_dtb(void **state)
{
	static const u32 junk[64] = { 0x12345678, 0x9abcdef0 };
	void *fdt;

	(void)state;
	expect_error_blob(junk, &qemu_limits,
			  "config: not a valid device tree blob (libfdt: FDT_ERR_BADMAGIC)");
	/* A real DTB whose structure block points past its end. */
	fdt = dtc_string(CONFIG(vm_node("alpha", NONE)));
	fdt_set_off_dt_struct(fdt, fdt_totalsize(fdt) + 64);
	expect_error_blob(fdt, &qemu_limits,
			  "config: not a valid device tree blob (libfdt: FDT_ERR_TRUNCATED)");
	free(fdt);
	/* An old format version (before 16 node names were full paths): libfdt's full check
	 * dereferences NULL on such a blob whose root is not named "/", so it must not get there. */
	for (u32 v = 2; v < 16; v++) {
		char want[96];

		fdt = dtc_string(CONFIG(vm_node("alpha", NONE)));
		fdt_set_version(fdt, v);
		fdt_set_last_comp_version(fdt, 2);
		snprintf(
			want, sizeof(want),
			"config: device tree blob version %u, expected 16 or later (dtc writes 17)",
			(unsigned)v);
		expect_error_blob(fdt, &qemu_limits, want);
		free(fdt);
	}
}

static void expect_error_prefix(const void *fdt, const char *prefix)
{
	static struct ferry_config out;
	char err[CONFIG_ERR_MAX];

	assert_int_equal(config_parse(fdt, &qemu_limits, &out, err, sizeof(err)), FERRY_EINVAL);
	assert_memory_equal(err, prefix, strlen(prefix));
}

/* A property whose length field is negative: libfdt 1.6.1 steps back onto the same tag and its full
 * check never returns (the fuzzer found it: a 465-byte blob hung fuzz_config). Refused, at once. */
static void test_negative_property_length(void **state)
{
	static const u32 lens[] = { 0xfffffff4, 0xfffffff8, 0xfffffffc, 0x80000000, 0xffffffff };
	(void)state;

	for (u32 i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		void *fdt = dtc_string(CONFIG(vm_node("alpha", NONE)));
		int prop = fdt_first_property_offset(fdt, 0);
		fdt32_t *len;

		assert_true(prop >= 0);
		len = (fdt32_t *)((char *)fdt + fdt_off_dt_struct(fdt) + prop + FDT_TAGSIZE);
		*len = cpu_to_fdt32(lens[i]);
		if (lens[i] == 0xfffffff4) /* onto its own tag */
			expect_error_blob(fdt, &qemu_limits,
					  "config: not a valid device tree blob (libfdt: "
					  "FDT_ERR_BADSTRUCTURE)");
		else
			expect_error_prefix(fdt, "config: not a valid device tree blob (libfdt: ");
		free(fdt);
	}
}

static void test_root(void **state)
{
	(void)state;
	expect_error("/dts-v1/;\n/ { vms { }; };\n",
		     "config: property 'compatible': missing (expected \"ferry,config-v1\")");
	expect_error(
		"/dts-v1/;\n/ { compatible = \"ferry,config-v2\"; vms { }; };\n",
		"config: property 'compatible': \"ferry,config-v2\" is not \"ferry,config-v1\"");
	/* A list naming ours first is ours; one naming it later is not. */
	expect_error("/dts-v1/;\n/ { compatible = \"ferry,config-v1\", \"x\"; vms { }; };\n",
		     "config: node /vms: no VMs");
	expect_error("/dts-v1/;\n/ { compatible = \"x\", \"ferry,config-v1\"; vms { }; };\n",
		     "config: property 'compatible': \"x\" is not \"ferry,config-v1\"");
	expect_error("/dts-v1/;\n/ { compatible = [66 65]; vms { }; };\n",
		     "config: property 'compatible': \"?\" is not \"ferry,config-v1\"");
	expect_error("/dts-v1/;\n/ { compatible = \"ferry,config-v1\"; model = \"x\"; };\n",
		     "config: property 'model': unknown (a typo? docs/config.md lists every "
		     "property)");
	expect_error("/dts-v1/;\n/ { compatible = \"ferry,config-v1\"; vm { }; vms { }; };\n",
		     "config: node /vm: unknown (the root holds only /vms and /shared-memory)");
	expect_error("/dts-v1/;\n/ { compatible = \"ferry,config-v1\"; };\n",
		     "config: node /vms: missing");
	expect_error("/dts-v1/;\n/ { compatible = \"ferry,config-v1\"; vms { }; };\n",
		     "config: node /vms: no VMs");
	expect_error(
		"/dts-v1/;\n/ { compatible = \"ferry,config-v1\"; vms { #address-cells = <1>; "
		"}; };\n",
		"config: node /vms: property '#address-cells': unknown (a typo? docs/config.md "
		"lists every property)");
	expect_error(CONFIG(vm_node("alpha", OV("extra { };"))),
		     "config: node /vms/alpha: a VM node has no subnodes (found 'extra')");
}

/* `migration-key` at the root: exactly 32 bytes, not all zero; absent means no key. */
static void test_migration_key(void **state)
{
	const struct ferry_config *c;
	char *vm = vm_node("alpha", NONE);
	char dts[4096];
	(void)state;
	c = expect_ok(CONFIG(vm));
	assert_false(c->has_migration_key);
	snprintf(dts, sizeof(dts),
		 "/dts-v1/;\n/ {\n\tcompatible = \"ferry,config-v1\";\n"
		 "\tmigration-key = [%s];\n\tvms {\n%s\t};\n};\n",
		 "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b "
		 "1c 1d 1e 1f 20",
		 vm);
	c = expect_ok(dts);
	assert_true(c->has_migration_key);
	assert_int_equal(c->migration_key[0], 1);
	assert_int_equal(c->migration_key[31], 0x20);
	snprintf(
		dts, sizeof(dts),
		"/dts-v1/;\n/ {\n\tcompatible = \"ferry,config-v1\";\n"
		"\tmigration-key = [%s];\n\tvms {\n%s\t};\n};\n",
		"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
		"00 00 00 00",
		vm);
	expect_error(dts, "config: property 'migration-key': all zero: not a key");
	snprintf(dts, sizeof(dts),
		 "/dts-v1/;\n/ {\n\tcompatible = \"ferry,config-v1\";\n"
		 "\tmigration-key = \"a passphrase\";\n\tvms {\n%s\t};\n};\n",
		 vm);
	expect_error(dts, "config: property 'migration-key': 13 bytes, expected 32 (written "
			  "[00 11 ...])");
}

static void test_too_many_vms(void **state)
{
	char name[8];
	char *s = strcat_alloc(NULL, "/dts-v1/;\n/ {\n\tcompatible = \"ferry,config-v1\";\n"
				     "\tvms {\n");

	(void)state;
	/* Eight VMs (the maximum) on a machine with 9 CPUs pass; a ninth does not. */
	for (int i = 0; i < CONFIG_MAX_VMS; i++) {
		snprintf(name, sizeof(name), "vm%d", i);
		s = strcat_alloc(s, vm_node_cpu(name, i + 1, NONE));
	}
	{
		char *ok = strcat_alloc(strcat_alloc(NULL, s), "\t};\n};\n");
		const struct ferry_config *c = expect_ok_lim(ok, &big_limits);

		assert_int_equal(c->nvms, CONFIG_MAX_VMS);
		for (u32 i = 0; i < CONFIG_MAX_VMS; i++)
			assert_int_equal(c->vm[i].cpus[0], i + 1);
		assert_string_equal(c->vm[7].name, "vm7");
	}
	s = strcat_alloc(s, vm_node_cpu("vm8", 9, NONE));
	s = strcat_alloc(s, "\t};\n};\n");
	expect_error_lim(s, &big_limits, "config: node /vms: 9 VMs, at most 8");
}

/* ---- names ---- */

static void *with_vm_renamed(const char *dts, const char *from, const char *to)
{
	void *blob = dtc_string(dts);
	size_t size = fdt_totalsize(blob) + 256;
	void *fdt = malloc(size);

	assert_int_equal(fdt_open_into(blob, fdt, (int)size), 0);
	free(blob);
	assert_int_equal(fdt_set_name(fdt, fdt_path_offset(fdt, from), to), 0);
	return fdt;
}

static void test_names(void **state)
{
	const struct ferry_config *c;
	void *fdt;

	(void)state;
	c = expect_ok(CONFIG(vm_node("a-Z_09-xyzabcde", NONE)));
	assert_string_equal(c->vm[0].name, "a-Z_09-xyzabcde"); /* 15 characters: the maximum */
	expect_error(CONFIG(vm_node("a-Z_09-xyzabcdef", NONE)),
		     "config: node /vms/a-Z_09-xyzabcdef: VM name 'a-Z_09-xyzabcdef' is 16 "
		     "characters, at most 15");
	expect_error(CONFIG(vm_node("vm@0", NONE)),
		     "config: node /vms/vm@0: VM name 'vm@0' has a character other than a-z A-Z "
		     "0-9 - _ (the node's name is the VM's name)");
	expect_error(CONFIG(vm_node("a.b", NONE)),
		     "config: node /vms/a.b: VM name 'a.b' has a character other than a-z A-Z 0-9 "
		     "- _ (the node's name is the VM's name)");
	/* dtc refuses two nodes of one name; a DTB edited by other means is caught all the same. */
	fdt = with_vm_renamed(CONFIG(vm_node("alpha", NONE), vm_node_cpu("beta", 2, NONE)),
			      "/vms/beta", "alpha");
	expect_error_blob(fdt, &qemu_limits, "config: node /vms/alpha: two VMs are named 'alpha'");
	free(fdt);
	/* dtc rejects a `name` property unlike the node's name and drops a matching one; a DTB
	 * made by other means may carry one, which would be a second, conflicting name. */
	fdt = with_vm_renamed(CONFIG(vm_node("alpha", NONE)), "/vms/alpha", "alpha");
	{
		char buf[4096];

		assert_int_equal(fdt_open_into(fdt, buf, sizeof(buf)), 0);
		assert_int_equal(
			fdt_setprop_string(buf, fdt_path_offset(buf, "/vms/alpha"), "name", "beta"),
			0);
		expect_error_blob(buf, &qemu_limits,
				  "config: vm 'alpha': property 'name': not a property: the VM's "
				  "name is its node's name");
	}
	free(fdt);
}

static void test_unknown_property(void **state)
{
	(void)state;
	ALPHA_ERR("config: vm 'alpha': property 'ram-szie': unknown (a typo? docs/config.md lists "
		  "every property)",
		  "ram-szie = <0x0 0x04000000>;");
	ALPHA_ERR("config: vm 'alpha': property 'cpu': unknown (a typo? docs/config.md lists "
		  "every property)",
		  "cpu = <1>;");
	/* Reported before anything else of the VM, so a typo never shows as "missing". */
	ALPHA_ERR("config: vm 'alpha': property 'ram_size': unknown (a typo? docs/config.md lists "
		  "every property)",
		  "-ram-size", "ram_size = <0x0 0x04000000>;");
}

/* Messages go to the console as one line: a property or node name, or a string, holding a line
 * break or another control character must not split it (or forge a second line). dtc writes no
 * such names but accepts escapes in strings; a DTB made by other means may hold anything. */
static void test_message_stays_one_line(void **state)
{
	void *fdt;
	char buf[4096];
	(void)state;

	ALPHA_ERR("config: vm 'alpha': property 'image': no built-in image 'mem?stress?'",
		  "image = \"mem\\nstress\\x1b\";");
	fdt = with_vm_renamed(CONFIG(vm_node("alpha", NONE)), "/vms/alpha", "alpha");
	assert_int_equal(fdt_open_into(fdt, buf, sizeof(buf)), 0);
	assert_int_equal(fdt_setprop_u32(buf, fdt_path_offset(buf, "/vms/alpha"), "ram\nsize", 1),
			 0);
	expect_error_blob(
		buf, &qemu_limits,
		"config: vm 'alpha': property 'ram?size': unknown (a typo? docs/config.md "
		"lists every property)");
	free(fdt);
	fdt = with_vm_renamed(CONFIG(vm_node("alpha", NONE)), "/vms/alpha", "al\rpha");
	expect_error_blob(fdt, &qemu_limits,
			  "config: node /vms/al?pha: VM name 'al?pha' has a character other than "
			  "a-z A-Z 0-9 - _ (the node's name is the VM's name)");
	free(fdt);
}

/* ---- the contract with the caller ---- */

static void test_whole_or_nothing(void **state)
{
	static struct ferry_config out;
	char err[CONFIG_ERR_MAX];
	void *good = dtc_string(CONFIG(vm_node("alpha", NONE), vm_node_cpu("beta", 2, NONE)));
	void *bad = dtc_string(CONFIG(vm_node("alpha", NONE), vm_node_cpu("beta", 2, NONE),
				      vm_node_cpu("gamma", 2, NONE)));

	(void)state;
	/* A good config, then a bad one into the same struct: nothing of either survives. */
	assert_int_equal(config_parse(good, &qemu_limits, &out, err, sizeof(err)), 0);
	assert_int_equal(out.nvms, 2);
	assert_int_equal(config_parse(bad, &qemu_limits, &out, err, sizeof(err)), FERRY_EINVAL);
	assert_string_equal(err, "config: vm 'gamma': property 'cpus': CPU 2 is already owned by "
				 "vm 'beta'");
	assert_int_equal(out.nvms, 0);
	assert_true(all_zero(&out, sizeof(out)));
	/* And a good one after that parses afresh, nothing stale. */
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(config_parse(good, &qemu_limits, &out, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(out.nvms, 2);
	assert_string_equal(out.vm[1].name, "beta");
	assert_true(all_zero(&out.vm[2], sizeof(out.vm[0]) * (CONFIG_MAX_VMS - 2)));
	free(good);
	free(bad);
}

static void test_error_buffer(void **state)
{
	static struct ferry_config out;
	char small[24];
	void *bad = dtc_string(CONFIG(vm_node("alpha", OV("cpus = <0>;"))));

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(config_parse(bad, &qemu_limits, &out, small, 16), FERRY_EINVAL);
	assert_string_equal(small, "config: vm 'alp"); /* truncated, terminated, within 16 */
	assert_int_equal(small[16], 'x');
	assert_int_equal(config_parse(bad, &qemu_limits, &out, NULL, 0), FERRY_EINVAL);
	assert_int_equal(out.nvms, 0);
	free(bad);
}

/* The longest lines the parser can write still fit CONFIG_ERR_MAX (expect_error checks none is
 * truncated): 15-character names and addresses with all their digits. */
static void test_longest_messages(void **state)
{
	struct config_limits lim = big_limits;

	(void)state;
	lim.guest_ram_pa = 0xfff0000000ULL;
	lim.guest_ram_bytes = 0x10000000;
	expect_error_lim(
		CONFIG(vm_node("abcdefghijklmno", OV("ram-pa = <0xff 0xf0000000>;")),
		       vm_node_cpu("pqrstuvwxyzabcd", 2, OV("ram-pa = <0xff 0xf2000000>;"))),
		&lim,
		"config: vm 'pqrstuvwxyzabcd': property 'ram-pa': 0xfff2000000-"
		"0xfff5ffffff overlaps the RAM of vm 'abcdefghijklmno' at 0xfff0000000-"
		"0xfff3ffffff");
	expect_error_lim(CONFIG(vm_node("abcdefghijklmno", OV("initrd-pa = <0xff 0xf0000000>;",
							      "initrd-size = <0x0 0x1000>;"))),
			 &lim,
			 "config: vm 'abcdefghijklmno': property 'initrd-pa': 0xfff0000000-"
			 "0xfff0000fff overlaps the RAM of vm 'abcdefghijklmno' at 0xfff0000000-"
			 "0xfff3ffffff");
	expect_error_lim(
		CONFIG(vm_node("abcdefghijklmno", OV("ram-base = <0xffffffff 0xffe00000>;"))), &lim,
		"config: vm 'abcdefghijklmno': property 'ram-size': RAM 0xffffffffffe00000 "
		"+ 0x4000000 ends beyond the 40-bit IPA space (1 TiB)");
	/* The longest region message: two 15-character names and two 40-bit ranges. */
	expect_error_lim(
		config_of(
			vm_node("abcdefghijklmno", NONE), vm_node_cpu("pqrstuvwxyzabcd", 2, NONE),
			"\t};\n\tshared-memory {\n\t\tabcdefghijklmno { size = <0x0 "
			"0x4000000>; abcdefghijklmno { ipa = <0xff 0xf0000000>; }; "
			"pqrstuvwxyzabcd { ipa = <0xff 0xf0000000>; }; };\n\t\tabcdefghijklmnp { size "
			"= <0x0 0x4000000>; abcdefghijklmno { ipa = <0xff 0xf4000000>; }; "
			"pqrstuvwxyzabcd { ipa = <0xff 0xf2000000>; }; };\n",
			(const char *)NULL),
		&lim,
		"config: region 'abcdefghijklmnp', vm 'pqrstuvwxyzabcd': property 'ipa': "
		"0xfff2000000-"
		"0xfff5ffffff overlaps region 'abcdefghijklmno' at 0xfff0000000-0xfff3ffffff");
}

/* The config slot holds whatever QEMU loaded there: damaged blobs (bytes flipped anywhere, header
 * included) must give a one-line error or a valid config, never a crash or a half-filled struct. */
static void test_mutated_blobs(void **state)
{
	static struct ferry_config out;
	void *orig = dtc_file("platform/qemu-virt/default.dts");
	u32 size = fdt_totalsize(orig);
	unsigned char *blob = malloc(size);
	u64 rng = 0x9e3779b97f4a7c15ULL;
	int accepted = 0, rejected = 0;

	(void)state;
	for (int round = 0; round < 100000; round++) {
		char err[CONFIG_ERR_MAX] = "";
		int flips = 1 + round % 4, ret;

		memcpy(blob, orig, size);
		for (int k = 0; k < flips; k++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			blob[(rng >> 8) % size] ^= (unsigned char)(1u << (rng % 8));
		}
		/* The caller guarantees totalsize bytes are readable (ferry: at most the 1 MiB
		 * slot); keep that true here, the buffer has only `size`. */
		if (fdt_totalsize(blob) > size)
			fdt_set_totalsize(blob, size);
		ret = config_parse(blob, &qemu_limits, &out, err, sizeof(err));
		if (ret) {
			assert_int_equal(ret, FERRY_EINVAL);
			assert_memory_equal(err, "config: ", 8);
			assert_true(all_zero(&out, sizeof(out)));
			rejected++;
		} else {
			assert_true(out.nvms >= 1 && out.nvms <= CONFIG_MAX_VMS);
			assert_string_equal(err, "");
			accepted++;
		}
	}
	/* Both outcomes happen (flips in bootargs text are harmless), so both paths were run. */
	assert_true(accepted > 0);
	assert_true(rejected > 0);
	free(blob);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_files),
		cmocka_unit_test(test_default_config),
		cmocka_unit_test(test_smp2_and_wild_configs),
		cmocka_unit_test(test_negative_property_length),
		cmocka_unit_test(test_not_a_dtb),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_migration_key),
		cmocka_unit_test(test_too_many_vms),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unknown_property),
		cmocka_unit_test(test_whole_or_nothing),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_longest_messages),
		cmocka_unit_test(test_message_stays_one_line),
		cmocka_unit_test(test_mutated_blobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
