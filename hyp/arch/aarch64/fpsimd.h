/* SPDX-License-Identifier: Apache-2.0 */
/* This CPU's FP/SIMD and SVE registers (its vCPU's: ferry's C never uses them), saved and loaded
 * by fpsimd.S and sve.S. */
#ifndef FERRY_ARCH_FPSIMD_H
#define FERRY_ARCH_FPSIMD_H

#include "types.h"

/* To and from 66 words: V0..V31 (low half first), FPCR, FPSR. */
#define FPSIMD_WORDS 66
void fpsimd_save(u64 *buf);
void fpsimd_load(const u64 *buf);

/* SVE at EL2's vector length (bytes, sve_vl()): Z0..Z31, P0..P15, FFR (sve.S gives the layout). */
u64 sve_vl(void);
void sve_save(u8 *regs);
void sve_load(const u8 *regs);

#endif
