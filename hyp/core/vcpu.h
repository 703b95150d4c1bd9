/* SPDX-License-Identifier: Apache-2.0 */
/* The vCPUs' side of the core (core/vcpu.c): the run loop each vCPU's CPU executes, and the ways
 * other CPUs reach a vCPU. */
#ifndef FERRY_CORE_VCPU_H
#define FERRY_CORE_VCPU_H

#include "types.h"

struct pcpu;
struct vcpu;
struct vm;

void vcpu_run_loop(struct pcpu *p) __attribute__((noreturn));
void vcpu_kick(struct vcpu *v);
/* A byte for the VM's PL011 receive FIFO; false when it is full (the byte was not taken). */
bool vcpu_console_input(struct vm *vm, char c);

#endif
