/* SPDX-License-Identifier: Apache-2.0 */
/* The EL2 side of the virtual network links between VMs (vvnet_el2.c, docs/vnet.md): each linked
 * VM's virtio-net device (vdev/vvnet.h) in its trap table, and the frames moved between them. */
#ifndef FERRY_VVNET_EL2_H
#define FERRY_VVNET_EL2_H

#include "config/config.h"
#include "types.h"

struct vm;
struct vcpu;

int vvnet_create_all(const struct ferry_config *cfg); /* after vm_create_all and pt_boot */
bool vvnet_of_vm(const struct vm *vm);                /* the VM has a link */
bool vvnet_window(const struct vm *vm, u64 ipa, u64 len);
void vvnet_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value);
void vvnet_vm_reset(struct vm *vm); /* before its RAM is rewritten: its end is reset */
bool vvnet_refuses_migration(const struct vm *vm); /* true (and says so) when it has a link */
void vvnet_print_stats(void);                      /* `stats`: per end */

#endif
