/* SPDX-License-Identifier: Apache-2.0 */
/* Shared-memory regions in the config (/shared-memory/<region>/<vm>; docs/shared-memory.md): each
 * region's size and every member VM's IPA and access, checked against that VM's RAM and its other
 * regions. Pure code (libfdt only). */
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "config/parser.h"
#include "lib/range.h"

/* ---- shared-memory regions: /shared-memory/<region>/<vm> ---- */

static const char *const access_names[] = { "rw", "ro", NULL };

/* One VM's mapping of region r: the subnode `node` named after the VM. */
static int parse_region_map(struct config_parser *p, int node, u32 r, struct region_map *m)
{
	static const char *const map_properties[] = { "ipa", "access", NULL };
	const struct ferry_config *cfg = p->out;
	const struct region_config *rc = &cfg->region[r];
	const struct vm_config *vm;
	char name[CONFIG_NAME_MAX];
	u32 choice = 0;
	int err;

	snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
	if ((err = config_node_name(p, node, "VM", name)))
		return err;
	for (m->vm = 0; m->vm < cfg->nvms && strcmp(cfg->vm[m->vm].name, name); m->vm++)
		;
	if (m->vm == cfg->nvms)
		return config_fail(p, NULL,
				   "no VM named '%s' (a region's subnodes are named after "
				   "the VMs that map it)",
				   name);
	for (u32 k = 0; k < rc->nmaps; k++)
		if (rc->map[k].vm == m->vm)
			return config_fail(p, NULL, "vm '%s' maps it twice", name);
	vm = &cfg->vm[m->vm];
	snprintf(p->who, sizeof(p->who), "region '%s', vm '%s'", rc->name, vm->name);
	if (vm->incoming)
		return config_fail(p, NULL,
				   "an incoming VM cannot map a shared region (migration "
				   "refuses VMs that do)");
	if ((err = config_check_unknown(p, node, map_properties)))
		return err;
	if ((err = config_prop_guest_base(p, node, "ipa", CONFIG_REGION_ALIGN, "4 KiB",
					  "GIC, UART, virtio, doorbells", &m->ipa)))
		return err;
	if (m->ipa >= CONFIG_IPA_LIMIT || rc->size > CONFIG_IPA_LIMIT - m->ipa)
		return config_fail(p, "ipa",
				   "0x%llx + 0x%llx ends beyond the 40-bit IPA space (1 TiB)",
				   (unsigned long long)m->ipa, (unsigned long long)rc->size);
	if (range_overlaps(m->ipa, rc->size, vm->ram_base, vm->ram_size))
		return config_fail(
			p, "ipa", "0x%llx-0x%llx overlaps the VM's RAM at 0x%llx-0x%llx",
			(unsigned long long)m->ipa,
			(unsigned long long)config_range_last(m->ipa, rc->size),
			(unsigned long long)vm->ram_base,
			(unsigned long long)config_range_last(vm->ram_base, vm->ram_size));
	for (u32 i = 0; i < r; i++)
		for (u32 k = 0; k < cfg->region[i].nmaps; k++) {
			const struct region_config *o = &cfg->region[i];

			if (o->map[k].vm == m->vm &&
			    range_overlaps(m->ipa, rc->size, o->map[k].ipa, o->size))
				return config_fail(
					p, "ipa",
					"0x%llx-0x%llx overlaps region '%s' at "
					"0x%llx-0x%llx",
					(unsigned long long)m->ipa,
					(unsigned long long)config_range_last(m->ipa, rc->size),
					o->name, (unsigned long long)o->map[k].ipa,
					(unsigned long long)config_range_last(o->map[k].ipa,
									      o->size));
		}
	err = config_prop_choice(p, node, "access", access_names, &choice);
	if (err && err != FERRY_ENOENT)
		return err;
	m->access = err ? CONFIG_ACCESS_RW : (enum config_access)choice;
	return 0;
}

static int parse_region(struct config_parser *p, int node, u32 r)
{
	static const char *const region_properties[] = { "size", NULL };
	struct region_config *rc = &p->out->region[r];
	int sub, err;

	if ((err = config_node_name(p, node, "region", rc->name)))
		return err;
	for (u32 i = 0; i < r; i++)
		if (!strcmp(p->out->region[i].name, rc->name))
			return config_fail(p, NULL, "two regions are named '%s'", rc->name);
	snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
	if ((err = config_check_unknown(p, node, region_properties)))
		return err;
	if ((err = config_prop_size(p, node, "size", CONFIG_REGION_ALIGN, "4 KiB", &rc->size)))
		return err;
	if (rc->size > CONFIG_REGION_MAX)
		return config_fail(p, "size", "%llu MiB, at most %llu MiB",
				   (unsigned long long)ALIGN_UP(rc->size, 1ULL << 20) >> 20,
				   config_mib(CONFIG_REGION_MAX));
	fdt_for_each_subnode (sub, p->fdt, node) {
		if (rc->nmaps == CONFIG_MAX_VMS)
			return config_fail(p, NULL, "more than %u VMs map it",
					   (unsigned)CONFIG_MAX_VMS);
		if ((err = parse_region_map(p, sub, r, &rc->map[rc->nmaps])))
			return err;
		rc->nmaps++;
	}
	snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
	if (rc->nmaps < 2)
		return config_fail(p, NULL,
				   "mapped by %u VM%s, a region is shared by at least 2 (one "
				   "subnode per VM, named after it)",
				   (unsigned)rc->nmaps, rc->nmaps == 1 ? "" : "s");
	return 0;
}

int config_parse_regions(struct config_parser *p, int node)
{
	static const char *const no_properties[] = { NULL };
	int sub, err;
	u32 n = 0;

	snprintf(p->who, sizeof(p->who), "node /shared-memory");
	if ((err = config_check_unknown(p, node, no_properties)))
		return err;
	fdt_for_each_subnode (sub, p->fdt, node)
		n++;
	if (n > CONFIG_MAX_REGIONS)
		return config_fail(p, NULL, "%u regions, at most %u", (unsigned)n,
				   (unsigned)CONFIG_MAX_REGIONS);
	n = 0;
	fdt_for_each_subnode (sub, p->fdt, node) {
		const char *name = fdt_get_name(p->fdt, sub, NULL);

		snprintf(p->who, sizeof(p->who), "node /shared-memory/%.24s", name ? name : "?");
		if ((err = parse_region(p, sub, n)))
			return err;
		p->out->nregions = ++n;
	}
	p->who[0] = 0;
	return 0;
}
