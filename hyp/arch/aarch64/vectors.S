/* SPDX-License-Identifier: Apache-2.0 */
/* EL2 vectors and the world switch.
 *
 * guest_enter(struct guest_regs *regs) behaves like a function that returns the reason the guest
 * left (EXIT_*): it saves the hypervisor's callee-saved registers on the EL2 stack, loads x0-x30 of
 * the guest and ERETs; the lower-EL vectors store the guest's x0-x30 back and return to the caller.
 * Nothing else is switched: each vCPU owns its physical CPU, so the guest's EL1 system registers
 * simply stay in the hardware (and writing TCR_EL1/VTTBR_EL2 needlessly would also flush QEMU's TLB
 * and hide stale-TLB bugs, see docs/qemu-facts.md). */
#include "arch/aarch64/asm.h"

	.section .text.vectors, "ax"

.macro ventry label
	.balign 0x80
	b	\label
.endm

	.balign 0x800
	.globl el2_vectors
el2_vectors:
	ventry	hyp_sync	/* current EL, SP_EL0 */
	ventry	hyp_irq
	ventry	hyp_fiq
	ventry	hyp_serror
	ventry	hyp_sync	/* current EL, SP_ELx */
	ventry	hyp_irq
	ventry	hyp_fiq
	ventry	hyp_serror
	ventry	guest_sync	/* lower EL, AArch64 */
	ventry	guest_irq
	ventry	guest_fiq
	ventry	guest_serror
	ventry	hyp_bad_aarch32	/* lower EL, AArch32: ferry sets HCR_EL2.RW, never happens */
	ventry	hyp_bad_aarch32
	ventry	hyp_bad_aarch32
	ventry	hyp_bad_aarch32

.macro guest_exit reason
	stp	x0, x1, [sp, #-16]!
	mrs	x0, tpidr_el2
	ldr	x0, [x0, #PCPU_REGS]
	stp	x2, x3, [x0, #16]
	stp	x4, x5, [x0, #32]
	stp	x6, x7, [x0, #48]
	stp	x8, x9, [x0, #64]
	stp	x10, x11, [x0, #80]
	stp	x12, x13, [x0, #96]
	stp	x14, x15, [x0, #112]
	stp	x16, x17, [x0, #128]
	stp	x18, x19, [x0, #144]
	stp	x20, x21, [x0, #160]
	stp	x22, x23, [x0, #176]
	stp	x24, x25, [x0, #192]
	stp	x26, x27, [x0, #208]
	stp	x28, x29, [x0, #224]
	str	x30, [x0, #240]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0, #0]
	mov	x0, #\reason
	b	guest_return
.endm

/* x0 = EL2 instructions retired on this CPU so far (PMU, -icount), or 0 without the counter;
 * clobbers x1 and x30. The counter's number is only known at run time: pmu_el2_init() stores which
 * stub of el2_insns_stubs reads it (el2_insns_stub()). */
.macro el2_insns_x0
	mrs	x1, tpidr_el2
	ldr	x1, [x1, #PCPU_PMU_READ]
	blr	x1
.endm

/* The dirty-log write fault's fast path: vector to ERET without the generic exit. Taken for a data
 * abort from the guest (EC 0x24) that is a write (WnR) by neither a cache maintenance instruction
 * (CM) nor a stage-1 table walk (S1PTW), with DFSC 0x0f (permission fault, level 3): the shape of a
 * write to a page dirty logging made read-only. dirtylog_fast_write_fault() decides under the
 * stage-2 lock; only the registers the C calling convention does not preserve are spilled, and the
 * guest's state never leaves them or the stack. Anything else takes the generic exit unchanged. */
#define FAST_FRAME 160	/* x2-x18, x30, the first counter reading, padding */
guest_sync:
	stp	x0, x1, [sp, #-16]!
	mrs	x0, esr_el2
	and	w0, w0, #0xfc0001ff	/* EC [31:26], CM [8], S1PTW [7], WnR [6], DFSC [5:0] */
	mov	w1, #0x004f
	movk	w1, #0x9000, lsl #16	/* EC 0x24, WnR 1, DFSC 0x0f */
	cmp	w0, w1
	b.ne	guest_sync_slow
	stp	x2, x3, [sp, #-FAST_FRAME]!
	stp	x4, x5, [sp, #16]
	stp	x6, x7, [sp, #32]
	stp	x8, x9, [sp, #48]
	stp	x10, x11, [sp, #64]
	stp	x12, x13, [sp, #80]
	stp	x14, x15, [sp, #96]
	stp	x16, x17, [sp, #112]
	stp	x18, x30, [sp, #128]
	el2_insns_x0
	str	x0, [sp, #144]
	bl	dirtylog_fast_write_fault
	cbz	w0, guest_sync_unfast
	ldp	x4, x5, [sp, #16]
	ldp	x6, x7, [sp, #32]
	ldp	x8, x9, [sp, #48]
	ldp	x10, x11, [sp, #64]
	ldp	x12, x13, [sp, #80]
	ldp	x14, x15, [sp, #96]
	ldp	x16, x17, [sp, #112]
	el2_insns_x0
	ldp	x18, x30, [sp, #128]
	ldr	x1, [sp, #144]
	sub	x0, x0, x1
	mrs	x1, tpidr_el2
	ldp	x2, x3, [x1, #PCPU_FAST]	/* instructions, faults */
	add	x2, x2, x0
	add	x3, x3, #1
	stp	x2, x3, [x1, #PCPU_FAST]
	ldp	x2, x3, [sp], #FAST_FRAME
	ldp	x0, x1, [sp], #16
	eret
guest_sync_unfast:
	ldp	x4, x5, [sp, #16]
	ldp	x6, x7, [sp, #32]
	ldp	x8, x9, [sp, #48]
	ldp	x10, x11, [sp, #64]
	ldp	x12, x13, [sp, #80]
	ldp	x14, x15, [sp, #96]
	ldp	x16, x17, [sp, #112]
	ldp	x18, x30, [sp, #128]
	ldp	x2, x3, [sp], #FAST_FRAME
guest_sync_slow:
	ldp	x0, x1, [sp], #16
	guest_exit EXIT_SYNC

guest_irq:	guest_exit EXIT_IRQ
guest_fiq:	guest_exit EXIT_FIQ
guest_serror:	guest_exit EXIT_SERROR

	.text
	.globl guest_enter
guest_enter:
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	mrs	x1, tpidr_el2
	str	x0, [x1, #PCPU_REGS]
	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldp	x20, x21, [x0, #160]
	ldp	x22, x23, [x0, #176]
	ldp	x24, x25, [x0, #192]
	ldp	x26, x27, [x0, #208]
	ldp	x28, x29, [x0, #224]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0, #0]
	eret

guest_return:
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	ret

/* el2_insns_x0's targets: stub n reads PMEVCNTR<n>_EL0, stub 8 returns 0 (no counter). */
	.balign 8
el2_insns_stubs:
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7
	mrs	x0, pmevcntr\n\()_el0
	ret
	.endr
	mov	x0, #0
	ret

	.globl el2_insns_stub
el2_insns_stub:			/* void *el2_insns_stub(u64 n): n > 8 is taken as 8 */
	cmp	x0, #8
	mov	x1, #8
	csel	x0, x0, x1, ls
	adr	x1, el2_insns_stubs
	add	x0, x1, x0, lsl #3
	ret

/* An exception taken from EL2 itself is a hypervisor bug: report it with the registers we have, on
 * the emergency stack (this CPU's own may have run into its guard page). */
.macro hyp_fault kind
	mov	x0, #\kind
	mrs	x1, esr_el2
	mrs	x2, elr_el2
	mrs	x3, far_el2
	mov	x4, sp
	ldr	x5, =hyp_emergency_stack + HYP_EMERGENCY_STACK_SIZE
	mov	sp, x5
	b	hyp_exception
.endm
hyp_sync:	hyp_fault 1
hyp_irq:	hyp_fault 2
hyp_fiq:	hyp_fault 3
hyp_serror:	hyp_fault 4
	.ltorg
hyp_bad_aarch32: hyp_fault 5
