/* SPDX-License-Identifier: Apache-2.0 */
/* Host-physical placement across the whole config: every VM's RAM and every shared region laid out
 * as the allocator will, and the memory QEMU loaded images and initrds into checked against it.
 * Pure code. */
#include <stdio.h>

#include "config/parser.h"
#include "lib/range.h"

/* Places every VM's RAM exactly as guest_ram_alloc() (hyp/core/alloc.c) will: fixed `ram-pa` ones
 * first, in config order, then the others one after another above the highest fixed end. So a config
 * that passes here cannot fail later for want of room, and loaded images and initrds can be checked
 * against the RAM that will be written over them. */
int config_check_placement(struct config_parser *p, u64 window_pa, u64 window_end)
{
	struct ferry_config *cfg = p->out;
	u64 placed[CONFIG_MAX_VMS];
	u64 next = window_pa;

	for (u32 i = 0; i < cfg->nvms; i++)
		if (cfg->vm[i].ram_pa) {
			placed[i] = cfg->vm[i].ram_pa;
			next = MAX(next, placed[i] + cfg->vm[i].ram_size);
		}
	for (u32 i = 0; i < cfg->nvms; i++) {
		const struct vm_config *vm = &cfg->vm[i];

		if (vm->ram_pa)
			continue;
		snprintf(p->who, sizeof(p->who), "vm '%s'", vm->name);
		if (vm->ram_size > window_end - next)
			return config_fail(
				p, "ram-size",
				"no room for %llu MiB: VMs without ram-pa go above the fixed "
				"ones, where %llu MiB are free",
				config_mib(vm->ram_size), config_mib(window_end - next));
		placed[i] = next;
		next += vm->ram_size;
	}
	/* Regions after every VM, in config order, each in whole 2 MiB (carved as VM RAM is). */
	for (u32 r = 0; r < cfg->nregions; r++) {
		struct region_config *rc = &cfg->region[r];
		u64 need = ALIGN_UP(rc->size, CONFIG_RAM_ALIGN);

		snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
		if (need > window_end - next)
			return config_fail(
				p, "size",
				"no room for %llu MiB above the VMs' RAM, where %llu MiB are "
				"free",
				config_mib(need), config_mib(window_end - next));
		rc->pa = next;
		next += need;
	}
	for (u32 i = 0; i < cfg->nvms; i++) {
		const struct vm_config *vm = &cfg->vm[i];
		const struct {
			const char *prop;
			u64 pa, size;
		} loaded[2] = {
			{ "image-pa", vm->image_pa, vm->image_size },
			{ "initrd-pa", vm->initrd_pa, vm->initrd_size },
		};

		snprintf(p->who, sizeof(p->who), "vm '%s'", vm->name);
		for (u32 k = 0; k < ARRAY_SIZE(loaded); k++) {
			u64 pa = loaded[k].pa, size = loaded[k].size;

			if (!size)
				continue;
			/* ferry copies from there each time the VM (re)starts: it must stay intact,
			 * so it lies in the guest window but in no VM's RAM. */
			if (!range_within(pa, size, window_pa, window_end - window_pa))
				return config_fail(p, loaded[k].prop,
						   "0x%llx-0x%llx is outside the guest RAM window "
						   "0x%llx-0x%llx",
						   (unsigned long long)pa,
						   (unsigned long long)(pa + size - 1),
						   (unsigned long long)window_pa,
						   (unsigned long long)(window_end - 1));
			for (u32 r = 0; r < cfg->nregions; r++)
				if (range_overlaps(pa, size, cfg->region[r].pa,
						   ALIGN_UP(cfg->region[r].size, CONFIG_RAM_ALIGN)))
					return config_fail(
						p, loaded[k].prop,
						"0x%llx-0x%llx overlaps region '%s' at 0x%llx-0x%llx",
						(unsigned long long)pa,
						(unsigned long long)(pa + size - 1),
						cfg->region[r].name,
						(unsigned long long)cfg->region[r].pa,
						(unsigned long long)config_range_last(
							cfg->region[r].pa,
							ALIGN_UP(cfg->region[r].size,
								 CONFIG_RAM_ALIGN)));
			for (u32 j = 0; j < cfg->nvms; j++)
				if (range_overlaps(pa, size, placed[j], cfg->vm[j].ram_size))
					return config_fail(
						p, loaded[k].prop,
						"0x%llx-0x%llx overlaps the RAM of vm '%s' at "
						"0x%llx-0x%llx",
						(unsigned long long)pa,
						(unsigned long long)(pa + size - 1),
						cfg->vm[j].name, (unsigned long long)placed[j],
						(unsigned long long)(placed[j] +
								     cfg->vm[j].ram_size - 1));
		}
	}
	return 0;
}
