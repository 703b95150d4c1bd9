/* SPDX-License-Identifier: Apache-2.0 */
/* Device passthrough at EL2 (core/passthrough.c, docs/passthrough.md); the ownership checks are
 * pure, in hyp/config/passthrough.c. */
#ifndef FERRY_CORE_PASSTHROUGH_H
#define FERRY_CORE_PASSTHROUGH_H

#include "types.h"

struct ferry_config;
struct s2_flush;
struct vcpu;
struct vm;

/* At boot, after the config: resolves and checks every `passthrough` path (0, or an error line in
 * err), and keeps the owned virtio-mmio slots out of ferry's choice of NIC. */
int pt_boot(const void *host_fdt, const struct ferry_config *cfg, char *err, size_t errlen);
int pt_map_vm(struct vm *vm, struct s2_flush *owed); /* its devices' pages, IPA = PA */
int pt_vm_irqs(struct vm *vm); /* after vgic_init: its SPIs HW-mapped and routed to vCPU 0 */
bool pt_take(u32 intid);       /* an acknowledged IRQ: true when it was a passthrough SPI */
void pt_sync(struct vcpu *v);  /* after each exit: held SPIs the guest dropped, deactivated */
bool pt_page_of_vm(const struct vm *vm, u64 pa); /* pa lies in a page the VM owns */
bool pt_owns_rtc(const struct vm *vm); /* the machine's PL031, in place of the emulated one */
bool pt_refuses_migration(const struct vm *vm); /* true (and says so) when it owns a device */
int pt_fdt_nodes(const struct vm *vm, void *fdt, u32 clock_phandle);

#endif
