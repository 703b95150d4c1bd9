/* SPDX-License-Identifier: Apache-2.0 */
/* Shared-memory regions between VMs and their doorbells (core/shm.c, docs/shared-memory.md). */
#ifndef FERRY_CORE_SHM_H
#define FERRY_CORE_SHM_H

#include "types.h"

struct ferry_config;
struct s2_flush;
struct vcpu;
struct vm;

int shm_create_all(const struct ferry_config *cfg);   /* after vm_create_all: carves and zeroes */
int shm_map_vm(struct vm *vm, struct s2_flush *owed); /* the VM's regions into its stage 2 */
void shm_vm_reset(struct vm *vm); /* the VM (re)starts: nothing pending at its doorbells */
bool shm_doorbell_window(const struct vm *vm, ipa_t ipa);
void shm_doorbell_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value);
const char *shm_region_of(const struct vm *vm);  /* the first region it maps, or NULL */
bool shm_refuses_migration(const struct vm *vm); /* true (and says so) when it maps one */
void shm_print_stats(void); /* `stats`: rings and refused accesses per region */
const char *shm_region_at(const struct vm *vm, ipa_t ipa, bool *read_only);
/* What a VM sees of region `index` (false when it does not map it), for its device tree. */
struct shm_vm_view {
	const char *name;
	u64 ipa, size, doorbell_ipa;
	u32 member, members, intid;
	bool read_only;
};
bool shm_view(const struct vm *vm, u32 index, struct shm_vm_view *out);

#endif
