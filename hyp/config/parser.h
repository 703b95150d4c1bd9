/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser's private interface: the state its files share while one config is read, the
 * rules of the guest's address space they all check against, the typed property readers
 * (props.c), and each file's step of config_parse() (config.c runs them in order). Not for use
 * outside hyp/config: callers have config.h. */
#ifndef FERRY_CONFIG_PARSER_H
#define FERRY_CONFIG_PARSER_H

#include "config/config.h"

/* Everything below 1 GiB of the guest's IPA space is its device area, as on QEMU virt: GICv3 at
 * 0x08000000, PL011 at 0x09000000, virtio-mmio at 0x0a000000, later PCIe. Asking RAM to start at or
 * above 1 GiB keeps every present and future emulated device out of RAM with one simple rule. */
#define CONFIG_RAM_BASE_MIN 0x40000000ULL
/* Stage 2 is built with a 40-bit IPA space (1 TiB): plenty on virt, and every CPU model QEMU offers
 * supports it (PARange >= 40 bits). */
#define CONFIG_IPA_BITS 40
#define CONFIG_IPA_LIMIT (1ULL << CONFIG_IPA_BITS)
/* RAM is mapped with 2 MiB blocks where possible, and the top 2 MiB of a VM's RAM hold the guest's
 * device tree (hyp/core/vm.c), so a VM needs at least one more 2 MiB for its image. */
#define CONFIG_RAM_ALIGN SZ_2M
#define CONFIG_RAM_MIN (2 * SZ_2M)
#define CONFIG_GUEST_DTB_RESERVE SZ_2M
#define CONFIG_DEFAULT_LOAD_OFFSET 0x80000ULL

struct config_parser {
	const void *fdt;
	const struct config_limits *lim;
	struct ferry_config *out;
	char *err;
	size_t errlen;
	/* Who the next error is about: "vm 'alpha'" once the name is known, else the node's path. */
	char who[48];
};

static inline unsigned long long config_mib(u64 bytes) { return (unsigned long long)(bytes >> 20); }

static inline u64 config_range_last(u64 base, u64 size)
{
	return base + size - 1; /* callers checked base + size for overflow */
}

/* ---- props.c ---- */

/* Writes "config: <who>: property '<prop>': <message>" and returns FERRY_EINVAL. Names and strings
 * in it come from the blob: any byte that is not printable ASCII becomes '?', so the message stays
 * one console line whatever the blob holds. */
int config_fail(struct config_parser *p, const char *prop, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Typed property readers: each returns 0, FERRY_ENOENT when absent and not required, or the error
 * from config_fail. */
const void *config_prop_get(struct config_parser *p, int node, const char *prop, int *len);
int config_prop_missing(struct config_parser *p, const char *prop, bool required, int len);
int config_prop_cells_error(struct config_parser *p, const char *prop, int len, const char *want);
/* A 64-bit value written as two cells, <hi lo>, as in the memory nodes of 64-bit device trees. */
int config_prop_u64(struct config_parser *p, int node, const char *prop, bool required, u64 *val);
/* One NUL-terminated string that fits in buf (buflen includes the NUL). */
int config_prop_string(struct config_parser *p, int node, const char *prop, bool required,
		       bool allow_empty, char *buf, size_t buflen);
/* A string that must be one of `choices` (NULL-terminated); *index gets its position. */
int config_prop_choice(struct config_parser *p, int node, const char *prop,
		       const char *const *choices, u32 *index);
/* A list of NUL-terminated strings, at least one (`what` names them in the message for an empty
 * value: "a list of paths"); *n gets their number. */
int config_prop_strings(struct config_parser *p, int node, const char *prop, const char *what,
			int *n);
/* A flag (`incoming;`): *val true when present; a flag with a value is an error. */
int config_prop_flag(struct config_parser *p, int node, const char *prop, bool *val);
/* An error naming the first property of `node` that is not in `known` (NULL-terminated). */
int config_check_unknown(struct config_parser *p, int node, const char *const *known);
/* Whether c may be in a VM or region name. */
bool config_name_char_ok(char c);
/* A node's name as a VM or region name: the characters above, shorter than CONFIG_NAME_MAX. `kind`
 * is "VM" or "region". */
int config_node_name(struct config_parser *p, int node, const char *kind, char *out);

/* The size of guest memory (RAM or a region) in the required `prop`: not zero, and a multiple of
 * `align` (named in messages as `align_name`, e.g. "2 MiB"). */
int config_prop_size(struct config_parser *p, int node, const char *prop, u64 align,
		     const char *align_name, u64 *size);
/* The base IPA of guest memory (RAM or a region) in the required `prop`: aligned to `align` (named
 * in messages as `align_name`, e.g. "2 MiB"), and at or above CONFIG_RAM_BASE_MIN, clear of the
 * device area (`devices` lists what the message says is there). */
int config_prop_guest_base(struct config_parser *p, int node, const char *prop, u64 align,
			   const char *align_name, const char *devices, u64 *ipa);

/* ---- the steps of config_parse(), in the order config.c runs them ---- */

/* vm_node.c: VM `index`, the node `node` under /vms, checked against the VMs before it. */
int config_parse_vm(struct config_parser *p, int node, u32 index, u64 window_pa, u64 window_bytes);
/* vnet_links.c: this VM's end of a link, read with its node (config_parse_vm); then, once every
 * VM is known, each link's two ends matched up. */
int config_parse_vnet(struct config_parser *p, int node, struct vm_config *vm, u32 index);
int config_check_vnet_links(struct config_parser *p);
/* shared_memory.c: the regions under /shared-memory (`node`), once every VM is known. */
int config_parse_regions(struct config_parser *p, int node);
/* placement.c: every VM's RAM and every region placed in the guest window [window_pa,
 * window_end), and loaded images and initrds checked against them. */
int config_check_placement(struct config_parser *p, u64 window_pa, u64 window_end);

#endif
