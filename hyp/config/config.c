/* SPDX-License-Identifier: Apache-2.0 */
/* VM configuration parser: reads the config DTB (docs/config.md) with libfdt and checks everything
 * that can be checked before a VM exists, so that boot either takes the whole config or stops with
 * one line naming the VM and the property. This file checks the blob and the root and runs the
 * other files' steps in order (parser.h). Pure code: the host unit tests run it on the same .dtb
 * files. */
#include "config/config.h"

#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "config/parser.h"

#define CONFIG_COMPATIBLE "ferry,config-v1"

/* `migration-key = [32 bytes];` at the root: the key that authenticates the migration link. A key
 * of another length, or of zeros only, is an error rather than a weaker key. */
static int parse_migration_key(struct config_parser *p)
{
	int len;
	const u8 *v = config_prop_get(p, 0, "migration-key", &len);
	u8 any = 0;

	if (!v)
		return len == -FDT_ERR_NOTFOUND
			       ? 0
			       : config_prop_missing(p, "migration-key", false, len);
	if (len != (int)CONFIG_MIGRATION_KEY_LEN)
		return config_fail(p, "migration-key",
				   "%d bytes, expected %u (written [00 11 ...])", len,
				   CONFIG_MIGRATION_KEY_LEN);
	for (int i = 0; i < len; i++)
		any |= v[i];
	if (!any)
		return config_fail(p, "migration-key", "all zero: not a key");
	memcpy(p->out->migration_key, v, CONFIG_MIGRATION_KEY_LEN);
	p->out->has_migration_key = true;
	return 0;
}

static int parse_root(struct config_parser *p, u64 window_pa, u64 window_bytes)
{
	static const char *const root_properties[] = { "compatible", "migration-key", NULL };
	static const char *const vms_properties[] = { NULL };
	const void *fdt = p->fdt;
	int len, vms, node, err;
	const char *compat;
	u32 n = 0;

	if ((err = config_check_unknown(p, 0, root_properties)))
		return err;
	compat = fdt_getprop(fdt, 0, "compatible", &len);
	if (!compat)
		return config_fail(p, "compatible", "missing (expected \"%s\")", CONFIG_COMPATIBLE);
	if (len < 1 || compat[len - 1] || strcmp(compat, CONFIG_COMPATIBLE))
		return config_fail(p, "compatible", "\"%.40s\" is not \"%s\"",
				   len > 0 && strnlen(compat, (size_t)len) < (size_t)len ? compat
											 : "?",
				   CONFIG_COMPATIBLE);
	if ((err = parse_migration_key(p)))
		return err;
	fdt_for_each_subnode (node, fdt, 0) {
		const char *name = fdt_get_name(fdt, node, NULL);

		if (!name || (strcmp(name, "vms") && strcmp(name, "shared-memory")))
			return config_fail(p, NULL,
					   "node /%.40s: unknown (the root holds only /vms and "
					   "/shared-memory)",
					   name ? name : "?");
	}
	vms = fdt_subnode_offset(fdt, 0, "vms");
	if (vms < 0)
		return config_fail(p, NULL, "node /vms: missing");
	snprintf(p->who, sizeof(p->who), "node /vms");
	if ((err = config_check_unknown(p, vms, vms_properties)))
		return err;
	fdt_for_each_subnode (node, fdt, vms)
		n++;
	if (!n)
		return config_fail(p, NULL, "no VMs");
	if (n > CONFIG_MAX_VMS)
		return config_fail(p, NULL, "%u VMs, at most %u", (unsigned)n,
				   (unsigned)CONFIG_MAX_VMS);
	n = 0;
	fdt_for_each_subnode (node, fdt, vms) {
		const char *name = fdt_get_name(fdt, node, NULL);

		int sub;

		snprintf(p->who, sizeof(p->who), "node /vms/%.30s", name ? name : "?");
		sub = fdt_first_subnode(fdt, node);
		if (sub >= 0)
			return config_fail(p, NULL, "a VM node has no subnodes (found '%.30s')",
					   fdt_get_name(fdt, sub, NULL));
		if ((err = config_parse_vm(p, node, n, window_pa, window_bytes)))
			return err;
		p->who[0] = 0;
		p->out->nvms = ++n;
	}
	if ((err = config_check_vnet_links(p)))
		return err;
	node = fdt_subnode_offset(fdt, 0, "shared-memory");
	if (node >= 0 && (err = config_parse_regions(p, node)))
		return err;
	return config_check_placement(p, window_pa, window_pa + window_bytes);
}

/* libfdt 1.6.1 (Debian bookworm's, on the host and for arm64) steps over a property whose length
 * field is negative (0xfffffff4) back onto that property's own tag, and fdt_check_full then loops
 * forever: a 465-byte config blob from the fuzzer hung it. So walk the tags once first and refuse a
 * structure that does not move forward. Every tag takes at least 4 bytes, which bounds the walk. */
static int tags_move_forward(const void *fdt)
{
	int off = 0, next = 0;

	for (u32 steps = fdt_totalsize(fdt) / FDT_TAGSIZE + 1; steps; steps--) {
		if (fdt_next_tag(fdt, off, &next) == FDT_END)
			return 0; /* the end, or a broken tag: fdt_check_full says which */
		if (next <= off)
			return -FDT_ERR_BADSTRUCTURE;
		off = next;
	}
	return -FDT_ERR_BADSTRUCTURE;
}

int config_parse(const void *fdt, const struct config_limits *lim, struct ferry_config *out,
		 char *err, size_t errlen)
{
	struct config_parser p = {
		.fdt = fdt, .lim = lim, .out = out, .err = err, .errlen = errlen
	};
	u64 window_pa, window_bytes;
	int ret;

	if (err && errlen)
		err[0] = 0;
	memset(out, 0, sizeof(*out));
	/* The guest window as guest_ram_init() will use it: its start rounded up to 2 MiB. */
	window_pa = ALIGN_UP(lim->guest_ram_pa, CONFIG_RAM_ALIGN);
	window_bytes = window_pa - lim->guest_ram_pa < lim->guest_ram_bytes
			       ? lim->guest_ram_bytes - (window_pa - lim->guest_ram_pa)
			       : 0;
	/* The config may come from any memory QEMU loaded: check every offset in it once, so that the
	 * libfdt calls below can trust the structure. */
	ret = fdt_check_header(fdt);
	/* Before version 16 node names were full paths; libfdt's full check dereferences NULL on
	 * such a blob whose root is not named "/" (libfdt 1.6.1). dtc has written 17 since 2007. */
	if (!ret && fdt_version(fdt) < 16)
		ret = config_fail(
			&p, NULL,
			"device tree blob version %u, expected 16 or later (dtc writes 17)",
			(unsigned)fdt_version(fdt));
	else {
		if (!ret)
			ret = tags_move_forward(fdt);
		if (!ret)
			ret = fdt_check_full(fdt, fdt_totalsize(fdt));
		if (ret)
			ret = config_fail(&p, NULL, "not a valid device tree blob (libfdt: %s)",
					  fdt_strerror(ret));
		else
			ret = parse_root(&p, window_pa, window_bytes);
	}
	/* Taken whole or not at all: on error the caller gets no VM, not the ones parsed so far. */
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}
