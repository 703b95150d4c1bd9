/* SPDX-License-Identifier: Apache-2.0 */
#include "drivers/pl011.h"

#define UART_DR 0x00
#define UART_FR 0x18
#define FR_TXFF BIT(5)
#define FR_RXFE BIT(4)
#define UART_IMSC 0x38
#define IMSC_RXIM BIT(4)
#define IMSC_RTIM BIT(6)

/* Before the DTB is parsed, QEMU virt's UART address is assumed so early errors are visible. */
static volatile u32 *uart = (volatile u32 *)0x09000000;

void pl011_init(u64 base) { uart = (volatile u32 *)(uintptr_t)base; }

void pl011_putc(char c)
{
	while (uart[UART_FR / 4] & FR_TXFF)
		;
	uart[UART_DR / 4] = (u32)(u8)c;
}

void pl011_rx_irq(bool on) { uart[UART_IMSC / 4] = on ? IMSC_RXIM | IMSC_RTIM : 0; }

int pl011_getc(void)
{
	if (uart[UART_FR / 4] & FR_RXFE)
		return -1;
	return (int)(uart[UART_DR / 4] & 0xff);
}
