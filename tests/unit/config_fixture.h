/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser's unit tests share these: the machines they parse for, dtc run on a string or a
 * file, configs built from a VM's default properties with a few overridden, and the checks that a
 * config parses or is refused with exactly one message and nothing left behind. */
#ifndef FERRY_CONFIG_FIXTURE_H
#define FERRY_CONFIG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* The system tests' QEMU (-smp 3 -m 1G) and a big machine (16 CPUs, 16 GiB). */
extern const struct config_limits qemu_limits;
extern const struct config_limits big_limits;

/* dtc on a file or a string; the blob is malloc'd. */
void *dtc_file(const char *path);
void *dtc_string(const char *dts);

/* Building configs: a VM is a list of properties; a test overrides a few of the defaults. */
#define OV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

char *strcat_alloc(char *dst, const char *src);
/* A VM node: the defaults, each replaced by an override with the same key, "-key" deleting it, and
 * overrides with new keys appended. With `cpu` >= 0 the cpus default is <cpu>. */
char *vm_node_cpu(const char *name, int cpu, const char *const *ov);
char *vm_node(const char *name, const char *const *ov);
/* A whole config from VM nodes (a NULL-terminated list of strings). */
char *config_of(const char *first, ...);
#define CONFIG(...) config_of(__VA_ARGS__, (const char *)NULL)

bool all_zero(const void *p, size_t n);
/* Parses a blob that must be rejected with exactly `want`; the output must be left unusable. */
void expect_error_blob(const void *fdt, const struct config_limits *lim, const char *want);
void expect_error_lim(const char *dts, const struct config_limits *lim, const char *want);
void expect_error(const char *dts, const char *want);
/* Parses a config that must be accepted; the result stays valid until the next parse. */
const struct ferry_config *expect_ok_lim(const char *dts, const struct config_limits *lim);
const struct ferry_config *expect_ok(const char *dts);
/* A config file of the tree, parsed for qemu_limits. */
const struct ferry_config *parse_file(const char *path);

/* One VM "alpha" with overrides, expected to fail. */
#define ALPHA_ERR(want, ...) expect_error(CONFIG(vm_node("alpha", OV(__VA_ARGS__))), want)
#define ALPHA_OK(...) (&expect_ok(CONFIG(vm_node("alpha", OV(__VA_ARGS__))))->vm[0])

#endif
