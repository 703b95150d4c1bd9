/* SPDX-License-Identifier: Apache-2.0 */
/* What a vCPU's exit does (core/exit.c): the trap dispatch the run loop calls, and the VM's PL011
 * input, which the same emulation owns. */
#ifndef FERRY_CORE_EXIT_H
#define FERRY_CORE_EXIT_H

#include "types.h"

struct vcpu;
struct vm;

/* Handles one exit of v (EXIT_* from guest_enter) on v's CPU; returns the exit class it counted
 * (enum exit_class), for the per-class EL2 instruction counts. */
int vcpu_handle_exit(struct vcpu *v, u64 reason);
/* A byte for the VM's PL011 receive FIFO; false when it is full (the byte was not taken). */
bool vcpu_console_input(struct vm *vm, char c);

#endif
