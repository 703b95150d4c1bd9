/* SPDX-License-Identifier: Apache-2.0 */
/* memcpy and memset for EL2. Debian's picolibc for aarch64 is built for size: its memcpy and memset
 * move one byte per loop (four instructions a byte), which made copying guest pages and 64 KiB
 * migration frames ferry's bottleneck. These move 64 bytes per loop with general registers only
 * (guest SIMD state lives in the SIMD registers). With the MMU on, memory is Normal and
 * SCTLR_EL2.A is 0, so unaligned accesses are fine; before the MMU is on everything is Device
 * memory, where they fault, so the byte loop is kept for that case. */
	.text

	.global memcpy
	.type memcpy, %function
memcpy:
	mov	x3, x0
	mrs	x4, sctlr_el2
	tbz	x4, #0, 3f		/* MMU off: bytes only */
1:	cmp	x2, #64
	b.lo	2f
	ldp	x4, x5, [x1]
	ldp	x6, x7, [x1, #16]
	ldp	x8, x9, [x1, #32]
	ldp	x10, x11, [x1, #48]
	stp	x4, x5, [x3]
	stp	x6, x7, [x3, #16]
	stp	x8, x9, [x3, #32]
	stp	x10, x11, [x3, #48]
	add	x1, x1, #64
	add	x3, x3, #64
	sub	x2, x2, #64
	b	1b
2:	cmp	x2, #8
	b.lo	3f
	ldr	x4, [x1], #8
	str	x4, [x3], #8
	sub	x2, x2, #8
	b	2b
3:	cbz	x2, 4f
	ldrb	w4, [x1], #1
	strb	w4, [x3], #1
	sub	x2, x2, #1
	b	3b
4:	ret
	.size memcpy, . - memcpy

	.global memset
	.type memset, %function
memset:
	mov	x3, x0
	and	x1, x1, #0xff
	mrs	x4, sctlr_el2
	tbz	x4, #0, 3f
	mov	x4, #0x0101010101010101
	mul	x1, x1, x4		/* the byte in every byte of x1 */
1:	cmp	x2, #64
	b.lo	2f
	stp	x1, x1, [x3]
	stp	x1, x1, [x3, #16]
	stp	x1, x1, [x3, #32]
	stp	x1, x1, [x3, #48]
	add	x3, x3, #64
	sub	x2, x2, #64
	b	1b
2:	cmp	x2, #8
	b.lo	3f
	str	x1, [x3], #8
	sub	x2, x2, #8
	b	2b
3:	cbz	x2, 4f
	strb	w1, [x3], #1
	sub	x2, x2, #1
	b	3b
4:	ret
	.size memset, . - memset
