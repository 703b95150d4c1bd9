/* Constants shared by assembly and C. */
#ifndef FERRY_ASM_H
#define FERRY_ASM_H

#define HYP_STACK_SIZE 16384
/* Each CPU's slot in hyp_stacks: an unmapped guard page (arch/aarch64/mmu.c), then its stack. */
#define HYP_STACK_GUARD 4096
#define HYP_STACK_SLOT (HYP_STACK_GUARD + HYP_STACK_SIZE)
#define HYP_EMERGENCY_STACK_SIZE 8192
#define MAX_CPUS 8

/* Exit reasons guest_enter() returns (vectors.S). */
#define EXIT_SYNC 1
#define EXIT_IRQ 2
#define EXIT_FIQ 3
#define EXIT_SERROR 4

/* struct pcpu's first field is the pointer to the running vCPU's register file (struct guest_regs). */
#define PCPU_REGS 0

#endif
