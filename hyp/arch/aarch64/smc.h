/* SPDX-License-Identifier: Apache-2.0 */
/* Calls out of EL2 (arch.c): SMC to the firmware, and the semihosting exit that ends a run. */
#ifndef FERRY_ARCH_SMC_H
#define FERRY_ARCH_SMC_H

#include "types.h"

u64 arch_smc(u64 fid, u64 a1, u64 a2, u64 a3);
void arch_semihost_exit(u32 code) __attribute__((noreturn));

#endif
