/* SPDX-License-Identifier: Apache-2.0 */
/* ferry's conformance guest: checks, written from the Arm ARM (DDI 0487) and the GICv3
 * specification (IHI 0069), of what a bare-metal EL1 program may rely on: the timers, the GIC's
 * CPU interface, distributor and redistributors, PSCI, QEMU virt's board devices and the debug
 * registers. The same image runs directly under QEMU at EL1 and as a ferry VM; each check prints
 * one verdict line and the run ends with a summary and PSCI SYSTEM_OFF. */
#ifndef GUEST_CONFORMANCE_CONF_H
#define GUEST_CONFORMANCE_CONF_H

#include <stdio.h>

#include "guest.h"

/* ---- QEMU virt's board (the addresses such guests hard-code) ---- */
#define GICD_BASE 0x08000000ULL
#define GICR_BASE 0x080a0000ULL
#define GICR_STRIDE 0x20000ULL
#define GICR_SGI_OFF 0x10000ULL
#define PL031_BASE 0x09010000ULL
#define VIRTIO_MMIO_BASE 0x0a000000ULL
#define VIRTIO_MMIO_SLOTS 32
#define VIRTIO_MMIO_STRIDE 0x200ULL

/* GICD / GICR registers (IHI 0069, chapter 12) */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_PIDR2 0xffe8
#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ARE (1u << 4)
#define GICD_CTLR_GRP1 (1u << 1)
#define GICD_CTLR_GRP0 (1u << 0)
#define GICR_CTLR 0x0000
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define GICR_ISPENDR0 0x0200
#define GICR_ICPENDR0 0x0280
#define GICR_ISACTIVER0 0x0300
#define GICR_ICACTIVER0 0x0380
#define GICR_IPRIORITYR 0x0400

/* Interrupts of QEMU virt's timer node (IHI 0069 PPIs 16..31) */
#define INTID_PTIMER 30
#define INTID_VTIMER 27
#define INTID_SPURIOUS 1023
#define INTID_PL031 34 /* SPI 2 */
#define INTID_PMU 23   /* PPI 7 */

/* ---- system registers by encoding (assemblers differ in which GIC names they know) ---- */
#define ICC_IAR1 "S3_0_C12_C12_0"
#define ICC_EOIR1 "S3_0_C12_C12_1"
#define ICC_HPPIR1 "S3_0_C12_C12_2"
#define ICC_BPR1 "S3_0_C12_C12_3"
#define ICC_CTLR "S3_0_C12_C12_4"
#define ICC_SRE "S3_0_C12_C12_5"
#define ICC_IGRPEN1 "S3_0_C12_C12_7"
#define ICC_DIR "S3_0_C12_C11_1"
#define ICC_RPR "S3_0_C12_C11_3"
#define ICC_SGI1R "S3_0_C12_C11_5"
#define ICC_PMR "S3_0_C4_C6_0"
#define ICC_IAR0 "S3_0_C12_C8_0"
#define ICC_EOIR0 "S3_0_C12_C8_1"
#define ICC_IGRPEN0 "S3_0_C12_C12_6"
#define ICC_SGI0R "S3_0_C12_C11_7"

static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void irq_unmask(void) { __asm__ volatile("msr daifclr, #2; isb" ::: "memory"); }
static inline void irq_mask(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("dsb sy; wfi" ::: "memory"); }

/* Device accesses as single loads and stores without writeback: a hypervisor emulates them from the
 * syndrome (ESR_EL2.ISV = 1), which a post-indexed or pair access does not give (Linux's readl and
 * writel are written the same way, for the same reason). */
static inline u32 mmio_read32(u64 a)
{
	u32 v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline u64 mmio_read64(u64 a)
{
	u64 v;

	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write32(u64 a, u32 v)
{
	__asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline void mmio_write8(u64 a, u8 v)
{
	__asm__ volatile("strb %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}

/* ---- results ---- */
enum verdict {
	V_PASS,
	V_FAIL,
	V_SKIP
};
/* One line: "conformance: <name>: PASS|FAIL|SKIP[ - detail]". */
void report(const char *name, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline enum verdict pass_if(bool ok) { return ok ? V_PASS : V_FAIL; }

/* ---- time ---- */
/* How long an interrupt that must come is waited for: generous, because under TCG on a loaded
 * host a vCPU may not run for a while; only a failing check waits that long. */
#define WAIT_MS 2000
u64 ms_to_ticks(u64 ms);
/* Spins with IRQs as they are until *flag != 0 or `ms` pass; returns whether the flag was seen. */
bool wait_flag(volatile u32 *flag, u64 ms);
/* Like wait_flag, but in WFI (woken by any interrupt; the caller must have one coming). */
bool wfi_flag(volatile u32 *flag, u64 ms);
void delay_ms(u64 ms);

/* ---- exceptions (vectors.S -> exceptions.c) ---- */
struct frame {
	u64 x[31];
	u64 elr, spsr, pad;
};
/* Per-vCPU interrupt bookkeeping the IRQ handler fills. */
struct irq_log {
	volatile u32 count[32]; /* SGIs and PPIs taken, by INTID */
	volatile u32 spi_count; /* SPIs taken */
	volatile u32 last, order[8], norder;
	volatile u64 rpr_in, active_in; /* ICC_RPR and GICR_ISACTIVER0 inside the last handler */
	volatile u32 nested;            /* interrupts taken while another handler ran */
	volatile u32 fiq_count[16];     /* Group 0 SGIs taken as FIQs */
	volatile u64 pmovs_in;          /* PMOVSSET_EL0 inside the PMU's handler */
	volatile u32 depth;
	volatile u32 defer_dir;  /* EOImode 1 test: leave the deactivation to the test */
	volatile u32 deferred;   /* the INTID left active */
	void (*hook)(u32 intid); /* called between acknowledge and end of interrupt */
};
extern struct irq_log irqlog[GUEST_MAX_CPUS];
void irq_log_clear(u32 cpu);
void conf_install_vectors(void);
/* Runs fn; a synchronous exception it takes is recorded (ESR returned in *esr, 0 if none) and the
 * faulting instruction skipped. For reads of registers or addresses that may not exist. */
u64 probe_read32(u64 addr, u64 *esr);
extern volatile u64 fault_expected[GUEST_MAX_CPUS], fault_esr[GUEST_MAX_CPUS];

/* ---- the GIC (gic.c) ---- */
u64 gicr_base(u32 cpu); /* RD frame of vCPU cpu (by its MPIDR), 0 if none */
u64 gicr_sgi(u32 cpu);
int gic_init_dist(void);
int gic_init_cpu(u32 cpu); /* redistributor wake-up, SGIs/PPIs group 1, CPU interface on */
void gic_set_prio(u32 cpu, u32 intid, u8 prio);
void gic_enable(u32 cpu, u32 intid, bool on);
bool gic_pending(u32 cpu, u32 intid);
bool gic_active(u32 cpu, u32 intid);
void gic_clear(u32 cpu, u32 intid); /* disable, clear pending and active */
/* ICC_SGI1R_EL1 value for INTID sgi to the vCPUs in `mask` (same Aff3.Aff2.Aff1), or to all but
 * self with irm. */
u64 sgi1r_value(u32 sgi, u32 mask, bool irm);
void send_sgi(u64 sgi1r);

/* ---- the platform and the other vCPUs (main.c) ---- */
extern struct guest_platform plat;
extern u64 mpidr_of[GUEST_MAX_CPUS];
extern volatile u32 cpu_up[GUEST_MAX_CPUS];
/* A command for a secondary vCPU's loop (sent with an SGI 15 to wake it). */
enum sec_cmd {
	CMD_NONE,
	CMD_OFF
};
extern volatile u32 sec_cmd[GUEST_MAX_CPUS];
#define SGI_WAKE 15

/* ---- the check groups ---- */
void check_gic(void);
void check_timers(void);
void check_sgis(void);
void check_psci(void);
void check_board(void);
void check_debug(void);
void check_pmu(void);
void check_sve(void);
void check_its(void);
void its_soak(u32 rounds); /* bootargs its-soak=N: check_its.c */

#endif
