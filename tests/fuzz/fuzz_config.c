/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the VM configuration parser (hyp/config/config.c): the input is a config
 * .dtb (the corpus starts from every configuration in the repository, compiled by dtc), held in a
 * heap block of exactly its size with fdt_totalsize() no larger, as ferry guarantees; the machine's
 * limits are QEMU virt's 3 CPUs or a 16-CPU machine with 16 GiB for guests, by the size's parity.
 * A refused config must leave no VM and a one-line message; an accepted one must hold what
 * docs/config.md promises, checked here from the output alone: names, RAM ranges inside the IPA
 * space, CPUs that exist and belong to one VM, every VM's RAM and every region placed (as the
 * allocator will) inside the guest window without overlap, loaded images and initrds inside the
 * window and outside all of them, region mappings clear of their VM's RAM and of each other. */
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz_input.h"
#include "lib/lib.h"
#include "lib/range.h"

#define SZ2M (2ULL << 20)
#define IPA_LIMIT (1ULL << 40)

static bool images(const char *name)
{
	return !strcmp(name, "memstress") || !strcmp(name, "pingpong") ||
	       !strcmp(name, "conformance") || !strcmp(name, "hostile") || !strcmp(name, "latency");
}

static const struct config_limits limits[2] = {
	{ 3, 1u << 0, 0x44000000, 960ULL << 20, images },
	{ 16, 1u << 0, 0x44100000, 16ULL << 30, images },
};

static bool terminated(const char *s, size_t cap) { return memchr(s, 0, cap) != NULL; }

static void disjoint(u64 a, u64 as, u64 b, u64 bs) { FUZZ_CHECK(!range_overlaps(a, as, b, bs)); }

static void check_ok(const struct ferry_config *c, const struct config_limits *lim)
{
	u64 win = ALIGN_UP(lim->guest_ram_pa, SZ2M), end = lim->guest_ram_pa + lim->guest_ram_bytes;
	u64 placed[CONFIG_MAX_VMS], next = win;
	u32 owner[32];

	memset(owner, 0xff, sizeof(owner));
	FUZZ_CHECK(c->nvms >= 1 && c->nvms <= CONFIG_MAX_VMS && c->nregions <= CONFIG_MAX_REGIONS);
	for (u32 i = 0; i < c->nvms; i++) {
		const struct vm_config *vm = &c->vm[i];

		FUZZ_CHECK(terminated(vm->name, sizeof(vm->name)) && vm->name[0]);
		FUZZ_CHECK(terminated(vm->image, sizeof(vm->image)));
		FUZZ_CHECK(terminated(vm->bootargs, sizeof(vm->bootargs)));
		for (u32 j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(vm->name, c->vm[j].name));
		FUZZ_CHECK(vm->ram_base % SZ2M == 0 && vm->ram_base >= 0x40000000);
		FUZZ_CHECK(vm->ram_size >= 2 * SZ2M && vm->ram_size % SZ2M == 0);
		FUZZ_CHECK(vm->ram_base < IPA_LIMIT && vm->ram_size <= IPA_LIMIT - vm->ram_base);
		FUZZ_CHECK(vm->ncpus >= 1 && vm->ncpus <= CONFIG_MAX_VCPUS);
		for (u32 k = 0; k < vm->ncpus; k++) {
			u32 cpu = vm->cpus[k];

			FUZZ_CHECK(cpu < lim->ncpus && cpu < 32 &&
				   !(lim->reserved_cpu_mask & (1u << cpu)));
			FUZZ_CHECK(owner[cpu] == ~0u);
			owner[cpu] = i;
		}
		FUZZ_CHECK(!!vm->image[0] != !!vm->image_size || vm->incoming);
		if (vm->image[0])
			FUZZ_CHECK(images(vm->image));
		FUZZ_CHECK(!!vm->image_pa == !!vm->image_size &&
			   !!vm->initrd_pa == !!vm->initrd_size);
		FUZZ_CHECK(vm->ram_pa % SZ2M == 0);
		if (vm->ram_pa) {
			FUZZ_CHECK(range_within(vm->ram_pa, vm->ram_size, win, end - win));
			next = MAX(next, vm->ram_pa + vm->ram_size);
		}
	}
	/* Placement as the allocator does it: fixed VMs, then the rest above the highest fixed end,
	 * then the regions; everything in the window, nothing overlapping. */
	for (u32 i = 0; i < c->nvms; i++) {
		placed[i] = c->vm[i].ram_pa ? c->vm[i].ram_pa : next;
		if (!c->vm[i].ram_pa)
			next += c->vm[i].ram_size;
		FUZZ_CHECK(range_within(placed[i], c->vm[i].ram_size, win, end - win));
		for (u32 j = 0; j < i; j++)
			disjoint(placed[i], c->vm[i].ram_size, placed[j], c->vm[j].ram_size);
	}
	for (u32 r = 0; r < c->nregions; r++) {
		const struct region_config *rc = &c->region[r];
		u64 sz = ALIGN_UP(rc->size, SZ2M);

		FUZZ_CHECK(terminated(rc->name, sizeof(rc->name)) && rc->name[0]);
		FUZZ_CHECK(rc->size && rc->size % 0x1000 == 0 && rc->size <= CONFIG_REGION_MAX);
		FUZZ_CHECK(rc->pa % SZ2M == 0 && range_within(rc->pa, sz, win, end - win));
		for (u32 i = 0; i < c->nvms; i++)
			disjoint(rc->pa, sz, placed[i], c->vm[i].ram_size);
		for (u32 q = 0; q < r; q++)
			disjoint(rc->pa, sz, c->region[q].pa, ALIGN_UP(c->region[q].size, SZ2M));
		FUZZ_CHECK(rc->nmaps >= 2 && rc->nmaps <= c->nvms);
		for (u32 k = 0; k < rc->nmaps; k++) {
			const struct region_map *m = &rc->map[k];
			const struct vm_config *vm;

			FUZZ_CHECK(m->vm < c->nvms);
			vm = &c->vm[m->vm];
			FUZZ_CHECK(!vm->incoming);
			FUZZ_CHECK(m->ipa % 0x1000 == 0 && m->ipa >= 0x40000000);
			FUZZ_CHECK(m->ipa < IPA_LIMIT && rc->size <= IPA_LIMIT - m->ipa);
			disjoint(m->ipa, rc->size, vm->ram_base, vm->ram_size);
			for (u32 j = 0; j < k; j++)
				FUZZ_CHECK(rc->map[j].vm != m->vm);
			for (u32 q = 0; q < r; q++)
				for (u32 j = 0; j < c->region[q].nmaps; j++)
					if (c->region[q].map[j].vm == m->vm)
						disjoint(m->ipa, rc->size, c->region[q].map[j].ipa,
							 c->region[q].size);
		}
	}
	for (u32 i = 0; i < c->nvms; i++) {
		const struct vm_config *vm = &c->vm[i];
		const u64 lpa[2] = { vm->image_pa, vm->initrd_pa };
		const u64 lsz[2] = { vm->image_size, vm->initrd_size };

		for (u32 k = 0; k < 2; k++) {
			if (!lsz[k])
				continue;
			FUZZ_CHECK(range_within(lpa[k], lsz[k], win, end - win));
			for (u32 j = 0; j < c->nvms; j++)
				disjoint(lpa[k], lsz[k], placed[j], c->vm[j].ram_size);
			for (u32 r = 0; r < c->nregions; r++)
				disjoint(lpa[k], lsz[k], c->region[r].pa,
					 ALIGN_UP(c->region[r].size, SZ2M));
		}
	}
	for (u32 i = c->nvms; i < CONFIG_MAX_VMS; i++)
		FUZZ_CHECK(!c->vm[i].name[0] && !c->vm[i].ram_size && !c->vm[i].ncpus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ferry_config out;
	static const struct ferry_config zero;
	const struct config_limits *lim = &limits[size & 1];
	char err[CONFIG_ERR_MAX];
	u8 *fdt;
	int rc;

	if (size < sizeof(struct fdt_header))
		return 0;
	fdt = malloc(size);
	memcpy(fdt, data, size);
	/* ferry checks that the whole blob lies in its config slot: keep that promise. */
	if (fdt_totalsize(fdt) > size)
		fdt_set_totalsize(fdt, (u32)size);
	memset(&out, 0xa5, sizeof(out));
	memset(err, 'x', sizeof(err));
	rc = config_parse(fdt, lim, &out, err, sizeof(err));
	FUZZ_CHECK(terminated(err, sizeof(err)) && !strchr(err, '\n'));
	if (rc) {
		FUZZ_CHECK(rc < 0 && err[0] && !memcmp(&out, &zero, sizeof(out)));
	} else {
		FUZZ_CHECK(!err[0]);
		check_ok(&out, lim);
	}
	free(fdt);
	return 0;
}
