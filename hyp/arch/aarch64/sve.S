/* SPDX-License-Identifier: Apache-2.0 */
/* SVE registers of the vCPU that owns this CPU, for migration: Z0-Z31, P0-P15, FFR at EL2's vector
 * length (ZCR_EL2.LEN, the CPU's largest: the guest's own, ZCR_EL1, can only be shorter). Layout of
 * the buffer: Z0..Z31 (VL bytes each), P0..P15 (VL/8 each), FFR (VL/8). Needs CPTR_EL2.TZ = 0. */
	.arch	armv8.2-a+sve
	.text

	.global	sve_vl
	.type	sve_vl, %function
sve_vl:
	rdvl	x0, #1
	ret
	.size	sve_vl, . - sve_vl

	.global	sve_save
	.type	sve_save, %function
sve_save:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	str	z\n, [x0, #\n, mul vl]
	.endr
	addvl	x0, x0, #16
	addvl	x0, x0, #16
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	str	p\n, [x0, #\n, mul vl]
	.endr
	/* FFR goes through P0, which is then given back its saved value. */
	rdffr	p0.b
	str	p0, [x0, #16, mul vl]
	ldr	p0, [x0, #0, mul vl]
	ret
	.size	sve_save, . - sve_save

	.global	sve_load
	.type	sve_load, %function
sve_load:
	addvl	x1, x0, #16
	addvl	x1, x1, #16
	ldr	p0, [x1, #16, mul vl]
	wrffr	p0.b
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	ldr	p\n, [x1, #\n, mul vl]
	.endr
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	ldr	z\n, [x0, #\n, mul vl]
	.endr
	ret
	.size	sve_load, . - sve_load
