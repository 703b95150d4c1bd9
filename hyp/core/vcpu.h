/* SPDX-License-Identifier: Apache-2.0 */
/* The vCPUs' side of the core (core/vcpu.c): the run loop each vCPU's CPU executes, and the way
 * other CPUs reach a vCPU. */
#ifndef FERRY_CORE_VCPU_H
#define FERRY_CORE_VCPU_H

#include "types.h"

struct pcpu;
struct vcpu;

void vcpu_run_loop(struct pcpu *p) __attribute__((noreturn));
void vcpu_kick(struct vcpu *v);

#endif
