/* SPDX-License-Identifier: Apache-2.0 */
/* Polled PL011 output, one whole line at a time. No interrupts, no receive: a test guest only
 * reports. Under ferry the PL011 is emulated, so every register access is an MMIO trap; a line is
 * formatted first and then written byte by byte. */
#include <stdio.h>

#include "guest.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF (1u << 5)

/* QEMU virt's PL011 (also ferry's guest PL011): usable before the DTB is read. */
static volatile u32 *con_uart = (volatile u32 *)0x09000000;
static const char *con_prefix = "";
static u32 con_lock;

void con_set_base(u64 base) { con_uart = (volatile u32 *)(uintptr_t)base; }

void con_set_prefix(const char *prefix) { con_prefix = prefix; }

static void con_putc(char c)
{
	if (!con_uart)
		return;
	while (con_uart[PL011_FR / 4] & PL011_FR_TXFF)
		;
	con_uart[PL011_DR / 4] = (u32)(unsigned char)c;
}

static void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

void con_vprintf(const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* Lines from several vCPUs must not interleave: tests match them with regexes. */
	while (__atomic_exchange_n(&con_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	con_puts(con_prefix);
	con_puts(line);
	con_puts("\r\n");
	__atomic_store_n(&con_lock, 0, __ATOMIC_RELEASE);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}
