/* SPDX-License-Identifier: Apache-2.0 */
/* ferry's own console UART (the physical PL011 the host DTB names). */
#ifndef FERRY_PL011_H
#define FERRY_PL011_H

#include "types.h"

void pl011_init(u64 base);
void pl011_putc(char c);
int pl011_getc(void); /* -1 when the receive FIFO is empty */
/* The receive interrupts (RXIM, RTIM): off while nobody can take the input, so that a level that
 * stays asserted does not keep waking the management CPU; the input waits in QEMU meanwhile. */
void pl011_rx_irq(bool on);

#endif
