/* SPDX-License-Identifier: Apache-2.0 */
/* The device tree a VM's guest boots with, written from its configuration and the machine
 * (core/guest_fdt.c). */
#ifndef FERRY_GUEST_FDT_H
#define FERRY_GUEST_FDT_H

#include <stddef.h>

struct vm;

/* Writes it into buf (size bytes); returns 0 or a libfdt error (negative). */
int guest_fdt_write(const struct vm *vm, void *buf, size_t size);

#endif
