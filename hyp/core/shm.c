/* SPDX-License-Identifier: Apache-2.0 */
/* Shared-memory regions and their doorbells, the EL2 side (docs/shared-memory.md): each region's
 * host-physical pages are carved once at boot and mapped into every VM that maps it, with that VM's
 * permission; each VM's doorbell page traps to the pure model in hyp/vdev/vdoorbell.c, and the
 * lines the model computes become level-sensitive SPIs in the members' vGICs.
 *
 * Locking: a region's lock covers its doorbell model and is held while the members' lines are set,
 * so two updates cannot apply their levels out of order. It is taken before a VM's lock, never
 * after (nothing holding vm->lock calls in here). */
#include "core/shm.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/alloc.h"
#include "core/console.h"
#include "core/vm.h"
#include "lib/spinlock.h"
#include "mm/s2.h"
#include "vdev/vdev.h"
#include "vgic/vgic.h"

struct shm_region {
	const struct region_config *cfg;
	pa_t pa;
	spinlock_t lock;
	struct vdoorbell db;
	u64 ring_writes; /* accepted RING and RING_MASK writes, for `stats` and bench/doorbell */
	u64 refused;     /* rejected doorbell accesses, all members */
};

static struct shm_region regions[CONFIG_MAX_REGIONS];
static u32 nregions;

static const struct region_map *member_of(const struct shm_region *r, const struct vm *vm,
					  u32 *member)
{
	for (u32 m = 0; m < r->cfg->nmaps; m++)
		if (r->cfg->map[m].vm == vm->id) {
			*member = m;
			return &r->cfg->map[m];
		}
	return NULL;
}

int shm_create_all(const struct ferry_config *cfg)
{
	for (u32 i = 0; i < cfg->nregions; i++) {
		struct shm_region *r = &regions[i];
		const struct region_config *rc = &cfg->region[i];
		u64 carved = ALIGN_UP(rc->size, SZ_2M);
		char line[160];
		size_t n;
		int err;

		/* At the placement the parser computed (after every VM, as it checked). */
		err = guest_ram_alloc(carved, pa_init(rc->pa), &r->pa);
		if (err) {
			con_printf(
				"config: region '%s': property 'size': cannot place %llu MiB (%s)",
				rc->name, (unsigned long long)(carved >> 20), ferry_strerror(err));
			return err;
		}
		memset((void *)(uintptr_t)pa_addr(r->pa), 0, rc->size);
		r->cfg = rc;
		vdoorbell_init(&r->db, rc->nmaps);
		n = (size_t)snprintf(
			line, sizeof(line),
			"ferry: region '%s': %llu KiB at PA 0x%llx, "
			"doorbell IPA 0x%llx INTID %u:",
			rc->name, (unsigned long long)(rc->size >> 10),
			(unsigned long long)pa_addr(r->pa),
			(unsigned long long)(CONFIG_DOORBELL_BASE + i * CONFIG_DOORBELL_SIZE),
			CONFIG_DOORBELL_INTID + i);
		for (u32 m = 0; m < rc->nmaps && n < sizeof(line); m++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s %s@0x%llx",
					      cfg->vm[rc->map[m].vm].name,
					      rc->map[m].access == CONFIG_ACCESS_RO ? "ro" : "rw",
					      (unsigned long long)rc->map[m].ipa);
		con_printf("%s", line);
	}
	nregions = cfg->nregions;
	return 0;
}

int shm_map_vm(struct vm *vm, struct s2_flush *owed)
{
	for (u32 i = 0; i < nregions; i++) {
		const struct region_map *map;
		u32 member;
		int err;

		map = member_of(&regions[i], vm, &member);
		if (!map)
			continue;
		/* Never executable: code does not belong in a channel between partitions. */
		err = s2_map(&vm->s2, ipa_init(map->ipa), regions[i].pa, regions[i].cfg->size,
			     S2_PROT_R | (map->access == CONFIG_ACCESS_RW ? S2_PROT_W : 0), owed);
		if (err)
			return err;
	}
	return 0;
}

/* Under the region's lock: member m's line to its VM's vGIC. Only a VM whose vGIC is built and not
 * being rebuilt (created or running) is touched; a VM that restarts starts with nothing pending
 * (shm_vm_reset). */
static void set_line(struct shm_region *r, u32 index, u32 m)
{
	struct vm *vm = &vms[r->cfg->map[m].vm];

	spin_lock(&vm->lock);
	if (vm->state == VM_RUNNING || vm->state == VM_CREATED)
		vgic_set_level(&vm->vgic, 0, CONFIG_DOORBELL_INTID + index,
			       vdoorbell_line(&r->db, m));
	spin_unlock(&vm->lock);
}

void shm_vm_reset(struct vm *vm)
{
	for (u32 i = 0; i < nregions; i++) {
		u32 member;

		if (!member_of(&regions[i], vm, &member))
			continue;
		spin_lock(&regions[i].lock);
		vdoorbell_reset_member(&regions[i].db, member);
		set_line(&regions[i], i, member);
		spin_unlock(&regions[i].lock);
	}
}

bool shm_doorbell_window(const struct vm *vm, ipa_t at)
{
	u64 ipa = ipa_addr(at);
	u32 member;

	if (ipa < CONFIG_DOORBELL_BASE ||
	    ipa - CONFIG_DOORBELL_BASE >= nregions * CONFIG_DOORBELL_SIZE)
		return false;
	return member_of(&regions[(ipa - CONFIG_DOORBELL_BASE) / CONFIG_DOORBELL_SIZE], vm,
			 &member);
}

void shm_doorbell_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value)
{
	u32 index = (u32)((ipa - CONFIG_DOORBELL_BASE) / CONFIG_DOORBELL_SIZE), member, changed;
	struct shm_region *r = &regions[index];
	u64 off;

	if (!member_of(r, v->vm, &member)) { /* shm_doorbell_window() said it is */
		*value = 0;
		return;
	}
	spin_lock(&r->lock);
	/* A rejected access was counted in the member's ERRORS; the guest goes on. */
	off = (ipa - CONFIG_DOORBELL_BASE) % CONFIG_DOORBELL_SIZE;
	if (vdoorbell_access(&r->db, member, off, size, write, value, &changed))
		r->refused++;
	else if (write && (off == VDOORBELL_RING || off == VDOORBELL_RING_MASK))
		r->ring_writes++;
	for (u32 m = 0; m < r->cfg->nmaps; m++)
		if (changed & (1u << m))
			set_line(r, index, m);
	spin_unlock(&r->lock);
}

const char *shm_region_of(const struct vm *vm)
{
	u32 member;

	for (u32 i = 0; i < nregions; i++)
		if (member_of(&regions[i], vm, &member))
			return regions[i].cfg->name;
	return NULL;
}

/* A VM that maps a region cannot move: its peers and the region stay on this machine. Says why
 * and leaves the VM running. */
bool shm_refuses_migration(const struct vm *vm)
{
	const char *region = shm_region_of(vm);

	if (region)
		con_printf(
			"migrate: vm '%s' maps shared region '%s' (its peers stay here): refused, "
			"it runs on",
			vm->cfg->name, region);
	return region != NULL;
}

const char *shm_region_at(const struct vm *vm, ipa_t at, bool *read_only)
{
	u64 ipa = ipa_addr(at);

	for (u32 i = 0; i < nregions; i++) {
		const struct region_map *map;
		u32 member;

		map = member_of(&regions[i], vm, &member);
		if (map && ipa >= map->ipa && ipa - map->ipa < regions[i].cfg->size) {
			*read_only = map->access == CONFIG_ACCESS_RO;
			return regions[i].cfg->name;
		}
	}
	return NULL;
}

bool shm_view(const struct vm *vm, u32 index, struct shm_vm_view *out)
{
	const struct region_map *map;

	if (index >= nregions || !(map = member_of(&regions[index], vm, &out->member)))
		return false;
	out->name = regions[index].cfg->name;
	out->ipa = map->ipa;
	out->size = regions[index].cfg->size;
	out->read_only = map->access == CONFIG_ACCESS_RO;
	out->members = regions[index].cfg->nmaps;
	out->doorbell_ipa = CONFIG_DOORBELL_BASE + index * CONFIG_DOORBELL_SIZE;
	out->intid = CONFIG_DOORBELL_INTID + index;
	return true;
}

void shm_print_stats(void)
{
	for (u32 i = 0; i < nregions; i++)
		con_printf("stats: region '%s': doorbell rings %llu, refused accesses %llu",
			   regions[i].cfg->name, (unsigned long long)regions[i].ring_writes,
			   (unsigned long long)regions[i].refused);
}
