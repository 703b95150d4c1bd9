/* SPDX-License-Identifier: Apache-2.0 */
/* Each VM's board devices at EL2 (core/board.c): its PL031 and the empty virtio-mmio window; the
 * models are in hyp/vdev. */
#ifndef FERRY_CORE_BOARD_H
#define FERRY_CORE_BOARD_H

#include "types.h"

struct vcpu;
struct vm;

void board_init(void);    /* at boot: the host's wall clock */
u64 board_wall_now(void); /* the host's wall clock, in seconds */
void board_vm_reset(struct vm *vm);
bool board_mmio_window(const struct vm *vm, ipa_t ipa);
void board_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *val);
void board_poll_locked(struct vm *vm);
void board_service(struct vm *vm);                        /* the management CPU's tick */
int board_rtc_save(struct vm *vm, void *buf, size_t cap); /* migration: length or <0 */
int board_rtc_load(struct vm *vm, const void *buf, size_t len);

#endif
