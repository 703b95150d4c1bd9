/* SPDX-License-Identifier: Apache-2.0 */
/* The latency guest's exception vectors. The IRQ vector (current EL, SP_ELx: the guest runs at EL1h)
 * reads both counters as its first instructions after saving two registers, so what the guest
 * measures ends at the vector, not somewhere inside the C handler; the exception entry is a
 * context synchronization event, so no ISB is needed before the reads. Every other vector is
 * unexpected and goes to guest/lib's report. */
#define FRAME 192	/* x0..x18, x29, x30, pad: what a C call may clobber, 16-byte aligned */

	.text
	.balign	0x800
	.globl lat_vectors
lat_vectors:
	.irp	vector, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.balign	0x80
	.if	\vector == 5
	sub	sp, sp, #FRAME
	stp	x0, x1, [sp, #0]
	mrs	x0, cntvct_el0
	mrs	x1, cntpct_el0
	b	irq_save
	.else
	mov	x0, #\vector
	b	unexpected
	.endif
	.endr

irq_save:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x29, [sp, #144]
	str	x30, [sp, #160]
	bl	lat_irq
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x29, [sp, #144]
	ldr	x30, [sp, #160]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #FRAME
	eret

unexpected:
	mrs	x1, esr_el1
	mrs	x2, far_el1
	mrs	x3, elr_el1
	mrs	x4, spsr_el1
	bl	guest_exception
