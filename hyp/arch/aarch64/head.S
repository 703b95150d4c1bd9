/* SPDX-License-Identifier: Apache-2.0 */
/* Entry points. The image starts with the arm64 Linux Image header: QEMU (and U-Boot's booti) then
 * loads it at RAM base + text_offset and passes the DTB's address in x0 (QEMU 7.2 passes no DTB to a
 * plain ELF -kernel). The boot CPU enters at EL2 with the MMU off; secondaries arrive through PSCI
 * CPU_ON at secondary_entry with x0 = their CPU index (the context id ferry gave CPU_ON). */
#include "arch/aarch64/asm.h"

	.section .head, "ax"
	.globl _start
_start:
	b	primary_entry
	.long	0
	.quad	0x200000		/* text_offset: must match PLAT_TEXT_OFFSET and hyp.lds */
	.quad	__image_size		/* bytes QEMU must leave free, bss included */
	.quad	0xa			/* little endian, 4K pages, placement anywhere */
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.long	0

primary_entry:
	mov	x19, x0
	bl	el2_early_setup
	/* Zero .bss before any C runs. The MMU is off, so these stores are not cached. */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	stp	xzr, xzr, [x0], #16
	b	1b
2:	mov	x0, #0
	bl	set_stack
	mov	x0, x19
	bl	hyp_main_primary
	b	hang

	.globl secondary_entry
secondary_entry:
	mov	x19, x0
	bl	el2_early_setup
	mov	x0, x19
	bl	set_stack
	mov	x0, x19
	bl	hyp_main_secondary
	b	hang

/* sp = the top of CPU x0's stack (its slot's end: the guard page is at the slot's start). */
set_stack:
	ldr	x1, =hyp_stacks
	mov	x2, #HYP_STACK_SLOT
	madd	x1, x0, x2, x1
	add	sp, x1, x2
	ret

/* What every CPU needs before C: EL2 check, vectors, FP/SIMD not trapped at EL2 (Debian's libfdt.a
 * uses SIMD registers), EL1 running AArch64 until a VM is configured. */
el2_early_setup:
	mrs	x0, CurrentEL
	cmp	x0, #(2 << 2)
	b.ne	not_el2
	ldr	x0, =el2_vectors
	msr	vbar_el2, x0
	mov	x0, #0x33ff		/* CPTR_EL2 RES1 bits, TFP=0, TTA=0, TCPAC=0 */
	msr	cptr_el2, x0
	mov	x0, #(1 << 31)		/* HCR_EL2.RW */
	msr	hcr_el2, x0
	msr	vttbr_el2, xzr
	isb
	ret

not_el2:
	/* Not entered at EL2: QEMU was started without virtualization=on. Say so on the UART if we can. */
	ldr	x1, =0x09000000
	adr	x2, not_el2_msg
3:	ldrb	w3, [x2], #1
	cbz	w3, hang
	strb	w3, [x1]
	b	3b

	.globl hang
hang:
	wfe
	b	hang

not_el2_msg:
	.asciz	"ferry: not entered at EL2 (QEMU needs -M virt,virtualization=on)\n"
	.ltorg
