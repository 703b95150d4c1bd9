/* SPDX-License-Identifier: Apache-2.0 */
/* The attacks that need exact instructions or registers C cannot name (-mgeneral-regs-only). */
#include "guest.h"

	.text

/* void hostile_simd_abort(u64 seed, u64 addr, u64 *out): v0-v31 and FPSR get patterns from seed, a
 * load from addr is made (the caller armed guest_catch: the injected abort is skipped), then v0-v31
 * (64 words) and FPSR are stored to out. Nothing in between may touch a SIMD register. */
	.globl hostile_simd_abort
hostile_simd_abort:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	add	x3, x0, #(\n * 2)
	fmov	d\n, x3
	mvn	x3, x3
	mov	v\n\().d[1], x3
	.endr
	mov	x3, #0x8000000		/* FPSR.QC */
	msr	fpsr, x3
	ldr	x3, [x1]
	stp	q0, q1, [x2], #32
	stp	q2, q3, [x2], #32
	stp	q4, q5, [x2], #32
	stp	q6, q7, [x2], #32
	stp	q8, q9, [x2], #32
	stp	q10, q11, [x2], #32
	stp	q12, q13, [x2], #32
	stp	q14, q15, [x2], #32
	stp	q16, q17, [x2], #32
	stp	q18, q19, [x2], #32
	stp	q20, q21, [x2], #32
	stp	q22, q23, [x2], #32
	stp	q24, q25, [x2], #32
	stp	q26, q27, [x2], #32
	stp	q28, q29, [x2], #32
	stp	q30, q31, [x2], #32
	mrs	x3, fpsr
	str	x3, [x2]
	ret

/* u64 hostile_a32_run(u64 pc, u64 r1): ERET to AArch32 EL0 at pc with R1 = r1 (User mode, A, I, F
 * masked). The A32 code must end in an exception, which guest_catch returns to the label below at
 * EL1. AArch32 can change the registers it maps (X0-X14, and the upper halves of others are
 * UNKNOWN afterwards): every callee-saved register is kept on the stack. */
	.globl hostile_a32_run
hostile_a32_run:
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	adr	x2, 1f
	adrp	x3, guest_catch
	add	x3, x3, :lo12:guest_catch
	str	x2, [x3, #GUEST_CATCH_RESUME]
	msr	elr_el1, x0
	mov	x2, #0x1d0		/* AArch32 (M[4]), User (0x10), A I F masked */
	msr	spsr_el1, x2
	isb
	eret
1:	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	ret

/* void hostile_call_mmu_off(u64 target): BLR to target with the EL1 MMU off (every fetch then
 * executable, whatever stage 1 said), MMU back on afterwards. */
	.globl hostile_call_mmu_off
hostile_call_mmu_off:
	stp	x29, x30, [sp, #-16]!
	mrs	x9, sctlr_el1
	bic	x10, x9, #1
	msr	sctlr_el1, x10
	isb
	blr	x0
	msr	sctlr_el1, x9
	isb
	ldp	x29, x30, [sp], #16
	ret
