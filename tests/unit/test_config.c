/* SPDX-License-Identifier: Apache-2.0 */
/* The VM configuration parser: every config file in the tree (good ones parse to what they say, each
 * bad-*.dts gives exactly its `expect:` line), and inline configs for every property and every rule,
 * each error line checked exactly. Configs are compiled with dtc at test time, as the build does. */
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

#include "config/config.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- the machines: the system tests' QEMU (-smp 3 -m 1G) and a big one ---- */

/* The images ferry carries (hyp/core/main.c). */
static bool builtin_images_only(const char *name)
{
	return !strcmp(name, "memstress") || !strcmp(name, "pingpong") ||
	       !strcmp(name, "conformance") || !strcmp(name, "hostile") || !strcmp(name, "latency");
}

/* tools/ferry_qemu.py boots -smp 3 -m 1G: ferry keeps the first 64 MiB of RAM at 0x40000000. */
static const struct config_limits qemu_limits = {
	.ncpus = 3,
	.reserved_cpu_mask = 1u << 0,
	.guest_ram_pa = 0x44000000,
	.guest_ram_bytes = 960 * MiB,
	.image_exists = builtin_images_only,
};

static const struct config_limits big_limits = {
	.ncpus = 16,
	.reserved_cpu_mask = 1u << 0,
	.guest_ram_pa = 0x44000000,
	.guest_ram_bytes = 16 * GiB,
	.image_exists = builtin_images_only,
};

/* ---- dtc ---- */

static void *dtc_file(const char *path)
{
	char cmd[512];
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	FILE *f;

	snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -W no-unit_address_vs_reg -o - '%s'",
		 path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (pclose(f) != 0) {
		fprintf(stderr, "dtc failed on %s\n", path);
		fail();
	}
	return buf;
}

static void *dtc_string(const char *dts)
{
	char path[] = "/tmp/ferry-test-config-XXXXXX";
	int fd = mkstemp(path);
	void *blob;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, dts, strlen(dts)), (ssize_t)strlen(dts));
	close(fd);
	blob = dtc_file(path);
	unlink(path);
	return blob;
}

/* ---- building configs: a VM is a list of properties; a test overrides a few of the defaults ---- */

#define OV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

static const char *const vm_defaults[] = {
	"ram-base = <0x0 0x40000000>;",
	"ram-size = <0x0 0x04000000>;",
	"cpus = <1>;",
	"image = \"memstress\";",
	"bootargs = \"rounds=1\";",
	"devices = \"uart\";",
	NULL,
};

/* The property name a line sets ("ram-size = <...>;", "incoming;", or "-ram-size" to delete it). */
static size_t key_len(const char *line)
{
	size_t n = 0;

	while (line[n] && line[n] != ' ' && line[n] != '=' && line[n] != ';')
		n++;
	return n;
}

static bool same_key(const char *a, const char *b)
{
	size_t la = key_len(a), lb = key_len(b);

	return la == lb && !memcmp(a, b, la);
}

static char *strcat_alloc(char *dst, const char *src)
{
	size_t a = dst ? strlen(dst) : 0;
	char *r = realloc(dst, a + strlen(src) + 1);

	strcpy(r + a, src);
	return r;
}

/* A VM node: the defaults, each replaced by an override with the same key, "-key" deleting it, and
 * overrides with new keys appended. With `cpu` >= 0 the cpus default is <cpu>. */
static char *vm_node_cpu(const char *name, int cpu, const char *const *ov)
{
	char *s = strcat_alloc(NULL, "\t\t");
	char line[64];

	s = strcat_alloc(s, name);
	s = strcat_alloc(s, " {\n");
	for (size_t i = 0; vm_defaults[i]; i++) {
		const char *use = vm_defaults[i];

		if (cpu >= 0 && same_key(use, "cpus")) {
			snprintf(line, sizeof(line), "cpus = <%d>;", cpu);
			use = line;
		}
		for (size_t k = 0; ov[k]; k++) {
			if (ov[k][0] == '-' && same_key(ov[k] + 1, use))
				use = NULL;
			else if (ov[k][0] != '-' && same_key(ov[k], use))
				use = ov[k];
			if (!use)
				break;
		}
		if (use) {
			s = strcat_alloc(s, "\t\t\t");
			s = strcat_alloc(s, use);
			s = strcat_alloc(s, "\n");
		}
	}
	for (size_t k = 0; ov[k]; k++) {
		bool known = ov[k][0] == '-';

		for (size_t i = 0; vm_defaults[i] && !known; i++)
			known = same_key(ov[k], vm_defaults[i]);
		if (!known) {
			s = strcat_alloc(s, "\t\t\t");
			s = strcat_alloc(s, ov[k]);
			s = strcat_alloc(s, "\n");
		}
	}
	return strcat_alloc(s, "\t\t};\n");
}

static char *vm_node(const char *name, const char *const *ov) { return vm_node_cpu(name, -1, ov); }

/* A whole config from VM nodes (a NULL-terminated list of strings). */
static char *config_of(const char *first, ...)
{
	char *s = strcat_alloc(NULL,
			       "/dts-v1/;\n/ {\n\tcompatible = \"ferry,config-v1\";\n\tvms {\n");
	va_list ap;

	va_start(ap, first);
	for (const char *v = first; v; v = va_arg(ap, const char *))
		s = strcat_alloc(s, v);
	va_end(ap);
	return strcat_alloc(s, "\t};\n};\n");
}

#define CONFIG(...) config_of(__VA_ARGS__, (const char *)NULL)

/* ---- parsing ---- */

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Parses a blob that must be rejected with exactly `want`; the output must be left unusable. */
static void expect_error_blob(const void *fdt, const struct config_limits *lim, const char *want)
{
	static struct ferry_config out;
	char err[CONFIG_ERR_MAX];

	memset(&out, 0xa5, sizeof(out));
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_parse(fdt, lim, &out, err, sizeof(err)), FERRY_EINVAL);
	if (strcmp(err, want))
		fprintf(stderr, "want: %s\ngot:  %s\n", want, err);
	assert_string_equal(err, want);
	/* Not truncated: a message that fills the buffer would have lost its end. */
	assert_true(strlen(err) < sizeof(err) - 1);
	/* Whole or nothing: a rejected config leaves no VM behind, not even the valid ones before. */
	assert_true(all_zero(&out, sizeof(out)));
}

static void expect_error_lim(const char *dts, const struct config_limits *lim, const char *want)
{
	void *fdt = dtc_string(dts);

	expect_error_blob(fdt, lim, want);
	free(fdt);
}

static void expect_error(const char *dts, const char *want)
{
	expect_error_lim(dts, &qemu_limits, want);
}

static struct ferry_config parsed;

static const struct ferry_config *expect_ok_lim(const char *dts, const struct config_limits *lim)
{
	void *fdt = dtc_string(dts);
	char err[CONFIG_ERR_MAX] = "";

	memset(&parsed, 0xa5, sizeof(parsed));
	if (config_parse(fdt, lim, &parsed, err, sizeof(err))) {
		fprintf(stderr, "unexpected error: %s\n%s", err, dts);
		fail();
	}
	assert_string_equal(err, "");
	/* Entries past the last VM are zero, never stale. */
	for (u32 i = parsed.nvms; i < CONFIG_MAX_VMS; i++)
		assert_true(all_zero(&parsed.vm[i], sizeof(parsed.vm[i])));
	free(fdt);
	return &parsed;
}

static const struct ferry_config *expect_ok(const char *dts)
{
	return expect_ok_lim(dts, &qemu_limits);
}

/* One VM "alpha" with overrides, expected to fail. */
#define ALPHA_ERR(want, ...) expect_error(CONFIG(vm_node("alpha", OV(__VA_ARGS__))), want)
#define ALPHA_OK(...) (&expect_ok(CONFIG(vm_node("alpha", OV(__VA_ARGS__))))->vm[0])

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

static const struct ferry_config *parse_file(const char *path)
{
	void *fdt = dtc_file(path);
	char err[CONFIG_ERR_MAX] = "";

	assert_int_equal(config_parse(fdt, &qemu_limits, &parsed, err, sizeof(err)), 0);
	free(fdt);
	return &parsed;
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

static void test_vnet(void **state)
{
	const struct ferry_config *c;
	struct config_limits four = qemu_limits;

	(void)state;
	four.ncpus = 4;
	/* Both ends name each other; the MAC defaults to 02:66:72:00:00:<VMID>. */
	c = expect_ok_lim(
		CONFIG(vm_node("alpha", OV("vnet = \"beta\";")),
		       vm_node_cpu("beta", 2,
				   OV("vnet = \"alpha\";", "vnet-mac = [02 00 00 00 00 07];")),
		       vm_node_cpu("gamma", 3, NONE)),
		&four);
	assert_true(c->vm[0].has_vnet && c->vm[1].has_vnet && !c->vm[2].has_vnet);
	assert_int_equal(c->vm[0].vnet_peer_index, 1);
	assert_int_equal(c->vm[1].vnet_peer_index, 0);
	assert_memory_equal(c->vm[0].vnet_mac, ((u8[]){ 0x02, 0x66, 0x72, 0, 0, 1 }), 6);
	assert_memory_equal(c->vm[1].vnet_mac, ((u8[]){ 0x02, 0, 0, 0, 0, 7 }), 6);
	expect_error(CONFIG(vm_node("alpha", OV("vnet = \"beta\";")), vm_node_cpu("beta", 2, NONE)),
		     "config: vm 'alpha': property 'vnet': vm 'beta' does not name 'alpha' back "
		     "(both ends of a link declare it)");
	expect_error_lim(
		CONFIG(vm_node("alpha", OV("vnet = \"beta\";")),
		       vm_node_cpu("beta", 2, OV("vnet = \"gamma\";")),
		       vm_node_cpu("gamma", 3, OV("vnet = \"beta\";"))),
		&four,
		"config: vm 'alpha': property 'vnet': vm 'beta' does not name 'alpha' back "
		"(both ends of a link declare it)");
	expect_error(CONFIG(vm_node("alpha", OV("vnet = \"beta\";"))),
		     "config: vm 'alpha': property 'vnet': no VM named 'beta'");
	ALPHA_ERR("config: vm 'alpha': property 'vnet': names the VM itself (a link joins two VMs)",
		  "vnet = \"alpha\";");
	ALPHA_ERR("config: vm 'alpha': property 'vnet': one link per VM (names one peer VM)",
		  "vnet = \"beta\", \"gamma\";");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': given without 'vnet'",
		  "vnet-mac = [02 00 00 00 00 01];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': 5 bytes, expected 6 (written [02 00 00 "
		  "00 00 01])",
		  "vnet = \"beta\";", "vnet-mac = [02 00 00 00 01];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': 01:00:5e:00:00:01 is a multicast "
		  "address",
		  "vnet = \"beta\";", "vnet-mac = [01 00 5e 00 00 01];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': all zero: not an address",
		  "vnet = \"beta\";", "vnet-mac = [00 00 00 00 00 00];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet': an incoming VM cannot have a link "
		  "(migration refuses VMs that do)",
		  "vnet = \"beta\";", "incoming;");
	expect_error(
		CONFIG(vm_node("alpha", OV("vnet = \"beta\";", "vnet-mac = [02 00 00 00 00 "
							       "05];")),
		       vm_node_cpu("beta", 2,
				   OV("vnet = \"alpha\";", "vnet-mac = [02 00 00 00 00 05];"))),
		"config: vm 'alpha': property 'vnet-mac': the same as vm 'beta''s");
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
		cmocka_unit_test(test_not_a_dtb),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_migration_key),
		cmocka_unit_test(test_too_many_vms),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unknown_property),
		cmocka_unit_test(test_ram_base),
		cmocka_unit_test(test_ram_size),
		cmocka_unit_test(test_ram_total),
		cmocka_unit_test(test_ipa_space),
		cmocka_unit_test(test_ram_pa),
		cmocka_unit_test(test_ram_placement),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_cpus_across_vms),
		cmocka_unit_test(test_cpus_exhaustive_pairs),
		cmocka_unit_test(test_image_builtin),
		cmocka_unit_test(test_image_loaded),
		cmocka_unit_test(test_incoming),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_load_offset_and_entry),
		cmocka_unit_test(test_initrd),
		cmocka_unit_test(test_bootargs),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_dirty_log),
		cmocka_unit_test(test_on_abort),
		cmocka_unit_test(test_regions_good),
		cmocka_unit_test(test_regions_size),
		cmocka_unit_test(test_regions_members),
		cmocka_unit_test(test_regions_ipa),
		cmocka_unit_test(test_regions_placement),
		cmocka_unit_test(test_vnet),
		cmocka_unit_test(test_whole_or_nothing),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_longest_messages),
		cmocka_unit_test(test_message_stays_one_line),
		cmocka_unit_test(test_mutated_blobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
