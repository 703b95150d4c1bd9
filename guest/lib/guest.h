/* SPDX-License-Identifier: Apache-2.0 */
/* The guest support library: what every bare-metal EL1 test guest of ferry needs and picolibc does
 * not give. A guest links guest/lib/head.S (arm64 Image header, EL2 -> EL1 drop, MMU, stacks,
 * vectors) and provides guest_main(), guest_secondary() and guest_fatal(). docs/memstress.md
 * describes the environment the library sets up. */
#ifndef GUEST_LIB_GUEST_H
#define GUEST_LIB_GUEST_H

/* Shared with head.S. */
#define GUEST_MAX_CPUS 8
#define GUEST_STACK_SIZE 16384
/* Offsets in struct guest_catch, for head.S. */
#define GUEST_CATCH_ARMED 0
#define GUEST_CATCH_ESR 8
#define GUEST_CATCH_FAR 16
#define GUEST_CATCH_COUNT 24
#define GUEST_CATCH_RESUME 32
#define GUEST_CATCH_ELR 40
#define GUEST_CATCH_VECTOR 48

#ifndef __ASSEMBLER__
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t u64;
typedef int64_t s64;
typedef uint32_t u32;
typedef uint8_t u8;

#define GUEST_PAGE 4096ULL
#define GUEST_BOOTARGS_MAX 512

/* ---- what the program provides ---- */
/* vCPU 0, MMU and caches on, BSS zeroed; dtb = x0 at entry, entry_el = CurrentEL at entry (1 or 2). */
void guest_main(u64 dtb, u64 entry_el);
/* vCPU `cpu` (the PSCI CPU_ON context id), MMU on, on its own stack. */
void guest_secondary(u64 cpu);
/* An unexpected exception was printed: print the verdict and stop. Must not return. */
void guest_fatal(void) __attribute__((noreturn));

/* ---- head.S and exception.c ---- */
void guest_secondary_entry(void); /* PSCI CPU_ON entry point; context id = vCPU index */
extern char __image_start[], __image_end[];
/* Called by every vector (none is expected): prints what happened on which vCPU, then
 * guest_fatal(). `vector` = offset in the table / 0x80 (0..15). */
void guest_exception(u64 vector, u64 esr, u64 far, u64 elr, u64 spsr) __attribute__((noreturn));

/* Exceptions a program provokes on purpose (head.S): while `armed`, a synchronous exception taken
 * at EL1 is recorded here and skipped (an instruction abort returns to x30), and one taken from EL0
 * is recorded and returns at EL1 to `resume`. One vCPU at a time may arm it. */
struct guest_catch {
	volatile u64 armed, esr, far, count, resume, elr, vector;
};
extern struct guest_catch guest_catch;

/* ---- console (PL011, polled) ---- */
/* base 0: no console, output is dropped. Before this call the QEMU virt address is used. */
void con_set_base(u64 base);
/* One line: `prefix` (set once), the formatted text, CR LF; whole lines from concurrent vCPUs. */
void con_set_prefix(const char *prefix);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void con_vprintf(const char *fmt, va_list ap);

/* ---- PSCI (SMCCC calls through the conduit the DTB names) ---- */
#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_ON_64 0xc4000003u
#define PSCI_SYSTEM_OFF 0x84000008u
void psci_set_conduit_smc(bool smc);
bool psci_conduit_is_smc(void);
s64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3);
s64 psci_cpu_on(u64 mpidr, u64 cpu);
/* SYSTEM_OFF; if that returns (no PSCI, or refused), WFI forever. */
void psci_system_off(void) __attribute__((noreturn));

/* ---- the DTB ---- */
struct guest_platform {
	u64 ram_base, ram_size; /* the first /memory bank */
	u64 uart_base;          /* first enabled "arm,pl011"; 0 if none */
	bool psci_smc;          /* /psci method = "smc" (else "hvc") */
	bool have_psci;
	u32 ncpus; /* /cpus/cpu@* nodes, at most GUEST_MAX_CPUS */
	u64 cpu_mpidr[GUEST_MAX_CPUS];
	char bootargs[GUEST_BOOTARGS_MAX]; /* /chosen/bootargs, "" if none */
};
/* 0, or a negative libfdt error (FDT_ERR_*) when the blob or a required node (/memory) is bad. */
int plat_read_fdt(const void *fdt, struct guest_platform *out);

/* ---- bootargs: space-separated key=value, values decimal or 0x-hex ---- */
enum bootarg_status {
	BOOTARG_ABSENT = 0,
	BOOTARG_SET = 1,
	BOOTARG_BAD = -1
};
/* Finds `key=value`; on BOOTARG_SET stores the value. A value that is not a whole number is BAD. */
enum bootarg_status bootarg_u64(const char *args, const char *key, u64 *value);
/* Calls `unknown` for every word whose key is not in the NULL-terminated `known` list. */
void bootarg_check_keys(const char *args, const char *const *known,
			void (*unknown)(const char *word, size_t len));

/* ---- CPU ---- */
/* System registers by name or by encoding (S3_0_C12_C12_0: assemblers differ in which GIC names
 * they know). */
#define SYSREG_READ(name)                                      \
	({                                                     \
		u64 __v;                                       \
		__asm__ volatile("mrs %0, " name : "=r"(__v)); \
		__v;                                           \
	})
#define SYSREG_WRITE(name, v) __asm__ volatile("msr " name ", %0" : : "r"((u64)(v)) : "memory")

static inline u64 cnt_ticks(void)
{
	u64 t;

	/* ISB: CNTVCT may be read early (out of order) otherwise; pacing needs it in program order. */
	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(t) : : "memory");
	return t;
}

static inline u64 cnt_freq(void)
{
	u64 f;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
}

/* The vCPU index head.S stored in TPIDR_EL1 (the CPU_ON context id; 0 for the boot vCPU). */
static inline u64 cpu_index(void)
{
	u64 v;

	__asm__ volatile("mrs %0, tpidr_el1" : "=r"(v));
	return v;
}

static inline void cpu_relax(void) { __asm__ volatile("yield" ::: "memory"); }

#endif /* __ASSEMBLER__ */
#endif
