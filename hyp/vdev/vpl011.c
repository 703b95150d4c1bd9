/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's PL011. Transmission is instant: FR always says "transmit FIFO empty", so a polling
 * driver never waits, and the transmit interrupt is always raised (the FIFO is below any trigger
 * level), which a driver enables only when it has more to send. Received bytes wait in a 32-byte
 * FIFO; the receive and receive-timeout interrupts are raised while it holds anything (a real PL011
 * raises the timeout one for a FIFO below its trigger level after 32 bit periods: the driver reads
 * until RXFE either way). The ID registers read as a real PL011's so drivers that probe them
 * (Linux's amba bus) accept it. */
#include <string.h>

#include "lib/lib.h"
#include "vdev/vdev.h"

#define UARTDR 0x000
#define UARTFR 0x018
#define UARTIBRD 0x024
#define UARTFBRD 0x028
#define UARTLCR_H 0x02c
#define UARTCR 0x030
#define UARTIFLS 0x034
#define UARTIMSC 0x038
#define UARTRIS 0x03c
#define UARTMIS 0x040
#define UARTICR 0x044
#define FR_RXFE BIT(4)
#define FR_RXFF BIT(6)
#define FR_TXFE BIT(7)
#define INT_RX BIT(4)
#define INT_TX BIT(5)
#define INT_RT BIT(6)

void vpl011_reset(struct vpl011 *u)
{
	memset(u, 0, sizeof(*u));
	u->cr = 0x300; /* TXE | RXE, as out of reset */
	u->ifls = 0x12;
}

void vpl011_flush(struct vpl011 *u, vpl011_line_fn out, void *ctx)
{
	if (u->len)
		out(ctx, u->line, u->len);
	u->len = 0;
}

static u32 raw_status(const struct vpl011 *u)
{
	return INT_TX | (u->rx_count ? INT_RX | INT_RT : 0);
}

bool vpl011_irq_line(const struct vpl011 *u) { return (raw_status(u) & u->imsc) != 0; }

bool vpl011_rx_push(struct vpl011 *u, u8 c)
{
	if (u->rx_count == VPL011_RX_FIFO)
		return false;
	u->rx[(u->rx_head + u->rx_count) % VPL011_RX_FIFO] = c;
	u->rx_count++;
	return true;
}

static u32 rx_pop(struct vpl011 *u)
{
	u32 c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % VPL011_RX_FIFO;
	u->rx_count--;
	return c;
}

u32 vpl011_read(struct vpl011 *u, u64 offset)
{
	/* PeriphID0..3 and PCellID0..3 at 0xfe0..0xffc: a PL011 r1p5. */
	static const u8 ids[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

	if (offset >= 0xfe0 && offset <= 0xffc)
		return ids[(offset - 0xfe0) / 4];
	switch (offset) {
	case UARTDR:
		return rx_pop(u);
	case UARTFR:
		return FR_TXFE | (u->rx_count ? 0 : FR_RXFE) |
		       (u->rx_count == VPL011_RX_FIFO ? FR_RXFF : 0);
	case UARTIBRD:
		return u->ibrd;
	case UARTFBRD:
		return u->fbrd;
	case UARTLCR_H:
		return u->lcr;
	case UARTCR:
		return u->cr;
	case UARTIFLS:
		return u->ifls;
	case UARTIMSC:
		return u->imsc;
	case UARTRIS:
		return raw_status(u);
	case UARTMIS:
		return raw_status(u) & u->imsc;
	default:
		return 0;
	}
}

void vpl011_write(struct vpl011 *u, u64 offset, u32 value, vpl011_line_fn out, void *ctx)
{
	char c;

	switch (offset) {
	case UARTDR:
		c = (char)(value & 0xff);
		if (c == '\r')
			return;
		if (c == '\n') {
			out(ctx, u->line, u->len);
			u->len = 0;
			return;
		}
		u->line[u->len++] = c;
		if (u->len == VPL011_LINE_MAX)
			vpl011_flush(u, out, ctx);
		return;
	case UARTIBRD:
		u->ibrd = value & 0xffff;
		return;
	case UARTFBRD:
		u->fbrd = value & 0x3f;
		return;
	case UARTLCR_H:
		u->lcr = value & 0xff;
		return;
	case UARTCR:
		u->cr = value & 0xffff;
		return;
	case UARTIFLS:
		u->ifls = value & 0x3f;
		return;
	case UARTIMSC:
		u->imsc = value & 0x7ff;
		return;
	default:
		return; /* ICR: every raised interrupt is a level the FIFOs' state gives */
	}
}

/* Migration blob (mig_vmstate.h, MIG_BLOB_UART): magic "UT", version 1 with the line's length in the top
 * half, the six registers, the number of received bytes not yet read, then the partly written line
 * and those bytes (oldest first). All little-endian. */
#define UART_BLOB_MAGIC 0x5455u
#define UART_BLOB_HDR 36u

int vpl011_save(const struct vpl011 *u, u8 *buf, size_t cap)
{
	const u32 regs[6] = { u->cr, u->lcr, u->ibrd, u->fbrd, u->imsc, u->ifls };
	u8 *rx;

	if (cap < UART_BLOB_HDR + u->len + u->rx_count)
		return FERRY_EINVAL;
	put_le32(buf, UART_BLOB_MAGIC);
	put_le32(buf + 4, 1u | u->len << 16); /* version 1, line length */
	for (int i = 0; i < 6; i++)
		put_le32(buf + 8 + 4 * i, regs[i]);
	put_le32(buf + 32, u->rx_count);
	memcpy(buf + UART_BLOB_HDR, u->line, u->len);
	rx = buf + UART_BLOB_HDR + u->len;
	for (u32 i = 0; i < u->rx_count; i++)
		rx[i] = u->rx[(u->rx_head + i) % VPL011_RX_FIFO];
	return (int)(UART_BLOB_HDR + u->len + u->rx_count);
}

int vpl011_load(struct vpl011 *u, const u8 *buf, size_t len)
{
	u32 v, n, nrx;

	if (len < UART_BLOB_HDR || get_le32(buf) != UART_BLOB_MAGIC)
		return FERRY_EINVAL;
	v = get_le32(buf + 4);
	n = v >> 16;
	nrx = get_le32(buf + 32);
	if ((v & 0xffff) != 1 || n >= VPL011_LINE_MAX || nrx > VPL011_RX_FIFO ||
	    len != UART_BLOB_HDR + n + nrx)
		return FERRY_EINVAL;
	vpl011_reset(u);
	/* Through the write path's masks: a blob cannot give a register a value a write could not. */
	u->cr = get_le32(buf + 8) & 0xffff;
	u->lcr = get_le32(buf + 12) & 0xff;
	u->ibrd = get_le32(buf + 16) & 0xffff;
	u->fbrd = get_le32(buf + 20) & 0x3f;
	u->imsc = get_le32(buf + 24) & 0x7ff;
	u->ifls = get_le32(buf + 28) & 0x3f;
	memcpy(u->line, buf + UART_BLOB_HDR, n);
	u->len = n;
	memcpy(u->rx, buf + UART_BLOB_HDR + n, nrx);
	u->rx_head = 0;
	u->rx_count = nrx;
	return 0;
}
