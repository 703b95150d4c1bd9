/* SPDX-License-Identifier: Apache-2.0 */
/* Virtual interrupts at EL2 (vgic/vgic_el2.c): the vGIC model's glue and the guest timers. */
#ifndef FERRY_VGIC_EL2_H
#define FERRY_VGIC_EL2_H

#include "types.h"

struct vcpu;
struct vm;

int virq_vm_init(struct vm *vm);
void virq_vcpu_reset(struct vcpu *v);
void virq_flush(struct vcpu *v); /* before each entry */
void virq_sync(struct vcpu *v);  /* after each exit */
void virq_take_irqs(void);       /* physical IRQs at this CPU: kicks, maintenance, timers */
void virq_wfi(struct vcpu *v);
void virq_sgi(struct vcpu *v, u32 op2, u64 value);
bool virq_mmio_window(const struct vm *vm, ipa_t ipa, u64 size); /* all of [ipa, ipa + size) */
void virq_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value);
void virq_set_line_locked(struct vm *vm, u32 intid, bool level);

#endif
