/* memstress entry. An arm64 Image header, so QEMU's -kernel and ferry both load it at RAM base +
 * 0x80000 and pass the DTB in x0. vCPU 0 enters at _start; others arrive via PSCI CPU_ON at
 * secondary_entry with x0 = their vCPU index. */
	.section .head, "ax"
	.globl _start
_start:
	b	primary
	.long	0
	.quad	0x80000			/* text_offset */
	.quad	__image_size		/* image_size, BSS included */
	.quad	0xa			/* LE, 4K pages, anywhere */
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.long	0

primary:
	mov	x19, x0
	bl	fp_on
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	mov	x0, #0
	bl	stack_for
	ldr	x0, =vectors
	msr	vbar_el1, x0
	isb
	mov	x0, x19
	bl	memstress_main
3:	wfi
	b	3b

	.globl secondary_entry
secondary_entry:
	mov	x19, x0
	bl	fp_on
	mov	x0, x19
	bl	stack_for
	ldr	x0, =vectors
	msr	vbar_el1, x0
	isb
	mov	x0, x19
	bl	memstress_secondary
4:	wfi
	b	4b

/* CPACR_EL1.FPEN = 0b11: Debian's libfdt.a uses SIMD registers. */
fp_on:
	mov	x0, #(3 << 20)
	msr	cpacr_el1, x0
	isb
	ret

/* sp = top of vCPU x0's stack */
stack_for:
	ldr	x1, =stacks
	mov	x2, #16384
	madd	x1, x0, x2, x1
	add	sp, x1, x2
	ret

	.balign 0x800
vectors:
	.rept 16
	.balign 0x80
	mrs	x0, esr_el1
	mrs	x1, far_el1
	mrs	x2, elr_el1
	b	memstress_exception
	.endr
	.ltorg
