/* SPDX-License-Identifier: Apache-2.0 */
/* The real console: one lock, whole lines. Guests' output is prefixed with their VM's name; it goes
 * through a buffer per VM (lib/conbuf.h) that the VM's vCPUs fill without waiting and the
 * management CPU drains, with control bytes escaped. */
#include "core/console.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/asm.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/fpsimd.h"
#include "arch/aarch64/smc.h"
#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/pcpu.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "drivers/pl011.h"
#include "lib/check.h"
#include "lib/conbuf.h"
#include "lib/spinlock.h"

static spinlock_t con_lock;
/* Under con_lock: the line an attached VM's raw output left open, and that VM. */
static struct con_cursor cursor;
static const struct vm *cursor_vm;

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
	if (cursor.open) { /* after an attached console's prompt or unfinished line */
		put_raw("\n", 1);
		cursor.open = cursor.waiting = false; /* ended here: the next one holds afresh */
	}
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

/* ---- guests' output ---- */
static struct con_vm {
	spinlock_t lock;
	bool ready;
	struct conbuf b;
} con_vms[CONFIG_MAX_VMS];

static void guest_put(struct vm *vm, enum conbuf_kind kind, const char *s, size_t len)
{
	struct con_vm *c = &con_vms[vm->id];
	bool was_empty;

	spin_lock(&c->lock);
	if (!c->ready) {
		conbuf_init(&c->b);
		c->ready = true;
	}
	was_empty = c->b.head == c->b.tail;
	conbuf_put(&c->b, kind, s, len, sysreg_read(cntpct_el0), sysreg_read(cntfrq_el0));
	spin_unlock(&c->lock);
	/* Wake the management CPU from its WFI; it owns the UART. */
	if (was_empty && this_pcpu()->idx != 0)
		gic_kick_management();
}

void con_guest_line(struct vm *vm, const char *text, size_t len)
{
	guest_put(vm, CONBUF_LINE, text, len);
}

void con_guest_raw(struct vm *vm, char c) { guest_put(vm, CONBUF_RAW, &c, 1); }

/* Whether vm's lines wait for the attached console's open line (lib/conbuf.h, con_cursor). */
static bool held(const struct vm *vm)
{
	bool h;

	spin_lock(&con_lock);
	h = vm != cursor_vm &&
	    con_cursor_holds(&cursor, sysreg_read(cntpct_el0), sysreg_read(cntfrq_el0));
	spin_unlock(&con_lock);
	return h;
}

/* Up to `budget` records of one VM, then its dropped-byte count. True if records remain that may
 * go out now; `force`: even lines that would wait for the attached console's open line. Sets
 * *others_turn, and stops, when its raw output ended a line other VMs' lines waited for. */
static bool drain_vm(struct vm *vm, u32 budget, bool force, bool *others_turn)
{
	static char rec[CONBUF_RECORD_MAX], esc[2 * CONBUF_RECORD_MAX];
	struct con_vm *c = &con_vms[vm->id];
	enum conbuf_kind kind;
	bool more, freed;
	u64 dropped;
	int n;

	for (u32 k = 0; k < budget; k++) {
		spin_lock(&c->lock);
		more = c->ready && c->b.head != c->b.tail;
		spin_unlock(&c->lock);
		/* Asked only with a record waiting: asking records that one waits. */
		if (more && !force && held(vm))
			return false; /* the tick brings the management CPU back */
		spin_lock(&c->lock);
		n = c->ready ? conbuf_get(&c->b, &kind, rec, sizeof(rec)) : -1;
		spin_unlock(&c->lock);
		if (n < 0)
			break;
		if (kind == CONBUF_HOST) {
			con_write_line(NULL, rec, (size_t)n);
		} else if (kind == CONBUF_RAW) {
			spin_lock(&con_lock);
			for (int i = 0; i < n; i++)
				pl011_putc(rec[i]);
			freed = con_cursor_wrote(&cursor, rec, (size_t)n, sysreg_read(cntpct_el0));
			cursor_vm = vm;
			spin_unlock(&con_lock);
			if (freed) {
				*others_turn = true;
				break;
			}
		} else {
			con_write_line(vm->cfg->name, esc,
				       con_escape(rec, (size_t)n, esc, sizeof(esc)));
		}
	}
	spin_lock(&c->lock);
	more = c->ready && c->b.head != c->b.tail;
	dropped = c->b.dropped;
	c->b.dropped = 0;
	spin_unlock(&c->lock);
	if (dropped)
		con_printf(
			"ferry: vm '%s': %llu bytes of console output dropped (rate limit %u bytes/s)",
			vm->cfg->name, (unsigned long long)dropped, CONBUF_RATE);
	return more;
}

static bool drain(bool force)
{
	bool more = false, turn = false;

	/* A few records per VM per turn: one VM printing flat out cannot hold up the others. */
	for (u32 i = 0; i < nvms; i++)
		more |= drain_vm(&vms[i], 16, force, &turn);
	/* The attached VM ended the line the others waited for: they go now, before its next. */
	for (u32 i = 0; turn && i < nvms; i++)
		if (&vms[i] != cursor_vm)
			more |= drain_vm(&vms[i], 16, force, &turn);
	return more;
}

bool con_drain(void) { return drain(false); }

void con_drain_all(void)
{
	while (drain(true))
		;
}

/* direct: straight to the UART (the management CPU, boot, a panic). Otherwise, on a CPU that runs
 * a vCPU, the line joins that VM's buffer: the vCPU never waits on the UART, and ferry's lines
 * about the VM stay in order with the guest's own. */
static void con_vprintf(const char *fmt, va_list ap, bool direct)
{
	char buf[400];
	u64 fp[FPSIMD_WORDS];
	int n;
	size_t len;
	struct pcpu *p = this_pcpu();

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
	if (!direct && p && p->idx != 0 && p->vcpu)
		guest_put(p->vcpu->vm, CONBUF_HOST, buf, len);
	else
		con_write_line(NULL, buf, len);
}

int con_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	u64 fp[FPSIMD_WORDS];
	int n;

	fpsimd_save(fp);
	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	fpsimd_load(fp);
	return n;
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap, false);
	va_end(ap);
}

static void con_printf_direct(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void con_printf_direct(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap, true);
	va_end(ap);
}

int con_getc(void) { return pl011_getc(); }

/* Exit statuses QEMU reports (docs/architecture.md): 0 clean, 1 a VM failed, 2 boot/config error,
 * 3 hypervisor panic. */
void panic(const char *fmt, ...)
{
	va_list ap;

	con_printf_direct("ferry: PANIC on CPU %u", (unsigned)(sysreg_read(mpidr_el1) & 0xff));
	va_start(ap, fmt);
	con_vprintf(fmt, ap, true);
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
	for (u32 cpu = 0; cpu < MAX_CPUS; cpu++)
		if (far - (u64)(uintptr_t)hyp_stacks[cpu] < HYP_STACK_GUARD)
			con_printf_direct(
				"ferry: EL2 stack overflow on CPU %u (into its guard page)", cpu);
	panic("exception at EL2: kind %llu ESR 0x%llx ELR 0x%llx FAR 0x%llx SP 0x%llx",
	      (unsigned long long)kind, (unsigned long long)esr, (unsigned long long)elr,
	      (unsigned long long)far, (unsigned long long)sp);
}

/* Debian's arm64 libfdt.a is built with -fstack-protector-strong. */
uintptr_t __stack_chk_guard = 0x5a17c0de5a17c0deULL;
void __stack_chk_fail(void);
void __stack_chk_fail(void) { panic("stack protector: stack corrupted"); }
