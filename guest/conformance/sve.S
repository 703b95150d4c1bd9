/* SPDX-License-Identifier: Apache-2.0 */
/* SVE registers to and from memory for check_sve.c: Z0..Z31 (VL bytes each), P0..P15 (VL/8 each),
 * FFR (VL/8), at the current vector length. */
	.arch	armv8.2-a+sve
	.text

	.global	conf_sve_vl
	.type	conf_sve_vl, %function
conf_sve_vl:
	rdvl	x0, #1
	ret

	.global	conf_sve_store
	.type	conf_sve_store, %function
conf_sve_store:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	str	z\n, [x0, #\n, mul vl]
	.endr
	addvl	x0, x0, #16
	addvl	x0, x0, #16
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	str	p\n, [x0, #\n, mul vl]
	.endr
	rdffr	p0.b
	str	p0, [x0, #16, mul vl]
	ldr	p0, [x0, #0, mul vl]
	ret

	.global	conf_sve_load
	.type	conf_sve_load, %function
conf_sve_load:
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
