/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser's unit-test fixture (config_fixture.h): machines, dtc, config builders and the
 * parse-and-check helpers every test_config*.c uses. */
#include "config_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the machines: the system tests' QEMU (-smp 3 -m 1G) and a big one ---- */

/* The images ferry carries (hyp/core/main.c). */
static bool builtin_images_only(const char *name)
{
	return !strcmp(name, "memstress") || !strcmp(name, "pingpong") ||
	       !strcmp(name, "conformance") || !strcmp(name, "hostile") || !strcmp(name, "latency");
}

/* tools/ferry_qemu.py boots -smp 3 -m 1G: ferry keeps the first 64 MiB of RAM at 0x40000000. */
const struct config_limits qemu_limits = {
	.ncpus = 3,
	.reserved_cpu_mask = 1u << 0,
	.guest_ram_pa = 0x44000000,
	.guest_ram_bytes = 960 * MiB,
	.image_exists = builtin_images_only,
};

const struct config_limits big_limits = {
	.ncpus = 16,
	.reserved_cpu_mask = 1u << 0,
	.guest_ram_pa = 0x44000000,
	.guest_ram_bytes = 16 * GiB,
	.image_exists = builtin_images_only,
};

/* ---- dtc ---- */

void *dtc_file(const char *path)
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

void *dtc_string(const char *dts)
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

char *strcat_alloc(char *dst, const char *src)
{
	size_t a = dst ? strlen(dst) : 0;
	char *r = realloc(dst, a + strlen(src) + 1);

	strcpy(r + a, src);
	return r;
}

char *vm_node_cpu(const char *name, int cpu, const char *const *ov)
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

char *vm_node(const char *name, const char *const *ov) { return vm_node_cpu(name, -1, ov); }

char *config_of(const char *first, ...)
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

/* ---- parsing ---- */

bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

void expect_error_blob(const void *fdt, const struct config_limits *lim, const char *want)
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

void expect_error_lim(const char *dts, const struct config_limits *lim, const char *want)
{
	void *fdt = dtc_string(dts);

	expect_error_blob(fdt, lim, want);
	free(fdt);
}

void expect_error(const char *dts, const char *want) { expect_error_lim(dts, &qemu_limits, want); }

static struct ferry_config parsed;

const struct ferry_config *expect_ok_lim(const char *dts, const struct config_limits *lim)
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

const struct ferry_config *expect_ok(const char *dts) { return expect_ok_lim(dts, &qemu_limits); }

const struct ferry_config *parse_file(const char *path)
{
	void *fdt = dtc_file(path);
	char err[CONFIG_ERR_MAX] = "";

	assert_int_equal(config_parse(fdt, &qemu_limits, &parsed, err, sizeof(err)), 0);
	free(fdt);
	return &parsed;
}
