/* The real console: one lock, whole lines. Guests' output is prefixed with their VM's name. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/core.h"
#include "drivers/pl011.h"

static spinlock_t con_lock;

/* Waiters sleep in WFE and the unlocker sends SEV, as Linux's arm64 locks do. Besides saving power,
 * it matters under QEMU: a broadcast TLBI is run as "safe work" once every vCPU has left its
 * execution loop, and a CPU spinning in a tight loop on the lock its holder needs to finish such a
 * flush (the stage-2 lock) never does under -icount: both CPUs then wait for ever. */
void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			wfe();
}

void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	dsb(ishst);
	sev();
}

static void put_raw(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			pl011_putc('\r');
		pl011_putc(s[i]);
	}
}

void con_write_line(const char *prefix, const char *text, size_t len)
{
	spin_lock(&con_lock);
	if (prefix) {
		put_raw("[", 1);
		put_raw(prefix, strnlen(prefix, CONFIG_NAME_MAX));
		put_raw("] ", 2);
	}
	put_raw(text, len);
	put_raw("\n", 1);
	spin_unlock(&con_lock);
}

void con_put_raw(char c)
{
	spin_lock(&con_lock);
	pl011_putc(c);
	spin_unlock(&con_lock);
}

static void con_vprintf(const char *fmt, va_list ap)
{
	char buf[400];
	u64 fp[FPSIMD_WORDS];
	int n;
	size_t len;

	/* picolibc's vsnprintf uses SIMD registers, and on a vCPU's CPU those hold the guest's values
	 * (ferry never switches them): keep them. */
	fpsimd_save(fp);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	fpsimd_load(fp);

	if (n < 0)
		return;
	len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	if (len && buf[len - 1] == '\n')
		len--;
	con_write_line(NULL, buf, len);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}

int con_getc(void) { return pl011_getc(); }

/* Exit statuses QEMU reports (docs/architecture.md): 0 clean, 1 a VM failed, 2 boot/config error,
 * 3 hypervisor panic. */
void panic(const char *fmt, ...)
{
	va_list ap;

	con_printf("ferry: PANIC on CPU %u", (unsigned)(sysreg_read(mpidr_el1) & 0xff));
	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	arch_semihost_exit(3);
}

/* From vectors.S: an exception taken at EL2 itself. */
void hyp_exception(u64 kind, u64 esr, u64 elr, u64 far, u64 sp);
void hyp_exception(u64 kind, u64 esr, u64 elr, u64 far, u64 sp)
{
	static volatile u32 nested;

	if (__atomic_fetch_add(&nested, 1, __ATOMIC_RELAXED)) {
		/* e.g. the semihosting HLT without -semihosting: power off through PSCI instead. */
		arch_smc(0x84000008, 0, 0, 0);
		for (;;)
			wfe();
	}
	panic("exception at EL2: kind %llu ESR 0x%llx ELR 0x%llx FAR 0x%llx SP 0x%llx",
	      (unsigned long long)kind, (unsigned long long)esr, (unsigned long long)elr,
	      (unsigned long long)far, (unsigned long long)sp);
}

/* Debian's arm64 libfdt.a is built with -fstack-protector-strong. */
uintptr_t __stack_chk_guard = 0x5a17c0de5a17c0deULL;
void __stack_chk_fail(void);
void __stack_chk_fail(void) { panic("stack protector: stack corrupted"); }
