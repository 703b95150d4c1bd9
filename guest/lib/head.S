/* SPDX-License-Identifier: Apache-2.0 */
/* Entry of every bare-metal test guest. An arm64 Linux Image header, so QEMU's -kernel, U-Boot's
 * booti and ferry all load the image at RAM base + text_offset and pass the DTB in x0 (QEMU 7.2
 * passes no DTB to an ELF). The boot vCPU enters at _start, the others at guest_secondary_entry
 * through PSCI CPU_ON with x0 = the context id, which is their vCPU index.
 *
 * Both paths: leave EL2 if we were entered there, turn on FP/SIMD (Debian's libfdt.a uses SIMD
 * registers), the EL1 MMU with the static identity map of mmu.c and the caches, the vectors, then
 * take a stack and call C. The MMU goes on before any C code runs: with it off every data access is
 * Device memory, where the unaligned accesses of libfdt and picolibc's string routines fault. */
#include "guest.h"

#define SCTLR_EL1_RES1	0x30d00800	/* bits 29, 28, 23, 22, 20, 11 (Armv8.0) */
#define SCTLR_EL1_M	(1 << 0)
#define SCTLR_EL1_C	(1 << 2)
#define SCTLR_EL1_SA	(1 << 3)
#define SCTLR_EL1_I	(1 << 12)

/* MAIR attribute 0: Device-nGnRE (the first GiB: PL011, GIC); 1: Normal write-back RW-allocate. */
#define MAIR_VALUE	0xff04
/* T0SZ 25 (39-bit VA: one level-1 table of 1 GiB blocks), walks inner/outer write-back and inner
 * shareable, 4K granule, EPD1 (no TTBR1 walks: nothing lives in the upper half), IPS 40 bits. */
#define TCR_VALUE	(25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23))
#define TCR_IPS_40	2

	.section .head, "ax"
	.globl _start
_start:
	b	primary_entry
	.long	0
	.quad	0x80000			/* text_offset */
	.quad	__image_size		/* image_size, BSS included */
	.quad	0xa			/* flags: little-endian, 4K pages, place anywhere */
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.long	0

primary_entry:
	mov	x19, x0			/* the DTB */
	mrs	x20, CurrentEL
	lsr	x20, x20, #2
	bl	el1_from_any
	bl	cpu_setup
	/* With the MMU on, so the zeroes go through the same (cacheable) view C uses. */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	stp	xzr, xzr, [x0], #16
	b	1b
2:	mov	x0, #0
	bl	enter_c_stack
	mov	x0, x19
	mov	x1, x20
	bl	guest_main
	bl	psci_system_off

	.globl guest_secondary_entry
guest_secondary_entry:
	mov	x19, x0
	/* A context id that names no stack: park rather than run on someone else's. */
	cmp	x19, #GUEST_MAX_CPUS
	b.hs	park
	bl	el1_from_any
	bl	cpu_setup
	mov	x0, x19
	bl	enter_c_stack
	mov	x0, x19
	bl	guest_secondary
park:
	wfi
	b	park

/* Returns at EL1 (to the caller's x30) whether entered at EL1 or EL2 (QEMU virtualization=on, or
 * CPU_ON under it). No memory access: the MMU is off and nothing is set up yet. Clobbers x0. */
el1_from_any:
	mrs	x0, CurrentEL
	cmp	x0, #(2 << 2)
	b.eq	1f
	b.hi	park			/* EL3: not supported, and nothing to print with yet */
	ret
1:	mov	x0, #(1 << 31)		/* HCR_EL2.RW: EL1 is AArch64; no stage 2, no traps */
	msr	hcr_el2, x0
	mov	x0, #3			/* CNTHCTL_EL2.EL1PCTEN|EL1PCEN: EL1 keeps its counters */
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr	/* UNKNOWN at reset: make CNTVCT the physical count */
	mov	x0, #0x33ff		/* CPTR_EL2: RES1 bits only, so FP/SIMD does not trap */
	msr	cptr_el2, x0
	mov	x0, #SCTLR_EL1_RES1 & 0xffff
	movk	x0, #SCTLR_EL1_RES1 >> 16, lsl #16
	msr	sctlr_el1, x0		/* MMU off until cpu_setup */
	mov	x0, #0x3c5		/* SPSR: EL1h, DAIF masked */
	msr	spsr_el2, x0
	msr	elr_el2, x30
	isb
	eret

/* FP/SIMD on, MMU on with guest_idmap_l1, caches on, vectors installed, SError unmasked (so an
 * asynchronous external abort is reported, not left pending). Clobbers x0, x1. */
cpu_setup:
	mov	x0, #(3 << 20)		/* CPACR_EL1.FPEN: no FP/SIMD traps */
	msr	cpacr_el1, x0
	mov	x0, #MAIR_VALUE
	msr	mair_el1, x0
	ldr	x0, =TCR_VALUE
	mov	x1, #TCR_IPS_40
	bfi	x0, x1, #32, #3
	msr	tcr_el1, x0
	adrp	x0, guest_idmap_l1
	msr	ttbr0_el1, x0
	adr	x0, guest_vectors
	msr	vbar_el1, x0
	isb
	/* The TLB may hold anything at reset (Arm ARM D8.13): empty it before the first walk. */
	tlbi	vmalle1
	dsb	nsh
	isb
	ldr	x0, =(SCTLR_EL1_RES1 | SCTLR_EL1_M | SCTLR_EL1_C | SCTLR_EL1_SA | SCTLR_EL1_I)
	msr	sctlr_el1, x0
	isb
	msr	daifclr, #4
	ret

/* TPIDR_EL1 = vCPU x0 (exception reports and cpu_index() read it); sp = top of its stack. */
enter_c_stack:
	msr	tpidr_el1, x0
	ldr	x1, =guest_stacks
	add	x0, x0, #1
	mov	x2, #GUEST_STACK_SIZE
	madd	x1, x0, x2, x1
	mov	sp, x1
	ret
	.ltorg

	.text
/* Every vector is unexpected, unless a program armed guest_catch (a test that provokes exceptions
 * on purpose, guest/hostile): then a synchronous exception at EL1 is recorded and execution goes on
 * after the faulting instruction (or, for an instruction abort, at x30: the return address of the
 * BLR that jumped there), and one from EL0 (vectors 8 and 12) is recorded and returns at EL1 to
 * guest_catch.resume. The interrupted x0 and x1 are kept in TPIDRRO_EL0 and SP_EL0, so no memory is
 * touched before the stack is known to be good. An unexpected exception never returns: it
 * restarts at the top of this vCPU's stack (it may be a stack overflow). */
	.balign	0x800
guest_vectors:
	.irp	vector, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.balign	0x80
	msr	tpidrro_el0, x0
	mov	x0, #\vector
	b	vector_common
	.endr

vector_common:
	msr	sp_el0, x1
	adrp	x1, guest_catch
	add	x1, x1, :lo12:guest_catch
	ldr	x1, [x1, #GUEST_CATCH_ARMED]
	cbz	x1, unexpected
	cmp	x0, #4
	b.eq	catch_el1
	cmp	x0, #8
	b.eq	catch_el0
	cmp	x0, #12
	b.eq	catch_el0
	b	unexpected

/* Records vector x0, ESR, FAR and ELR in guest_catch and counts; x1 = &guest_catch. */
catch_record:
	adrp	x1, guest_catch
	add	x1, x1, :lo12:guest_catch
	str	x0, [x1, #GUEST_CATCH_VECTOR]
	mrs	x0, esr_el1
	str	x0, [x1, #GUEST_CATCH_ESR]
	mrs	x0, far_el1
	str	x0, [x1, #GUEST_CATCH_FAR]
	mrs	x0, elr_el1
	str	x0, [x1, #GUEST_CATCH_ELR]
	ldr	x0, [x1, #GUEST_CATCH_COUNT]
	add	x0, x0, #1
	str	x0, [x1, #GUEST_CATCH_COUNT]
	ret

catch_el1:
	mov	x1, x30
	msr	tpidr_el0, x1		/* x30 too: catch_record is called */
	bl	catch_record
	mrs	x30, tpidr_el0
	mrs	x0, esr_el1
	lsr	x0, x0, #26
	cmp	x0, #0x21		/* instruction abort, current EL: back to the BLR's caller */
	b.eq	1f
	mrs	x0, elr_el1
	add	x0, x0, #4
	msr	elr_el1, x0
	b	2f
1:	msr	elr_el1, x30
2:	mrs	x1, sp_el0
	mrs	x0, tpidrro_el0
	eret

catch_el0:
	bl	catch_record
	ldr	x0, [x1, #GUEST_CATCH_RESUME]
	msr	elr_el1, x0
	mov	x0, #0x3c5		/* EL1h, DAIF masked */
	msr	spsr_el1, x0
	mov	x0, #0
	mov	x1, #0
	eret

unexpected:
	mrs	x1, esr_el1
	mrs	x2, far_el1
	mrs	x3, elr_el1
	mrs	x4, spsr_el1
	mrs	x5, tpidr_el1
	and	x5, x5, #(GUEST_MAX_CPUS - 1)
	ldr	x6, =guest_stacks
	add	x5, x5, #1
	mov	x7, #GUEST_STACK_SIZE
	madd	x6, x5, x7, x6
	mov	sp, x6
	bl	guest_exception
	b	park
	.ltorg

	.section .bss.guest_stacks, "aw", %nobits
	.balign	16
guest_stacks:
	.space	GUEST_MAX_CPUS * GUEST_STACK_SIZE
