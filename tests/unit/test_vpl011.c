/* SPDX-License-Identifier: Apache-2.0 */
/* The guest PL011: lines out whole, registers read back, FR never blocks a polling driver, input
 * through the receive FIFO with its interrupts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vdev.h"

static char got[8][VPL011_LINE_MAX + 1];
static int ngot;

static void sink(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	memcpy(got[ngot], line, len);
	got[ngot][len] = 0;
	ngot++;
}

static void put(struct vpl011 *u, const char *s)
{
	while (*s)
		vpl011_write(u, 0, (u8)*s++, sink, NULL);
}

static void test_lines(void **state)
{
	struct vpl011 u;
	(void)state;
	ngot = 0;
	vpl011_reset(&u);
	put(&u, "hello\r\nworld\n\npartial");
	assert_int_equal(ngot, 3);
	assert_string_equal(got[0], "hello");
	assert_string_equal(got[1], "world");
	assert_string_equal(got[2], "");
	vpl011_flush(&u, sink, NULL);
	assert_int_equal(ngot, 4);
	assert_string_equal(got[3], "partial");
	vpl011_flush(&u, sink, NULL);
	assert_int_equal(ngot, 4);
}

static void test_long_line_is_split(void **state)
{
	struct vpl011 u;
	(void)state;
	ngot = 0;
	vpl011_reset(&u);
	for (int i = 0; i < VPL011_LINE_MAX + 5; i++)
		vpl011_write(&u, 0, 'x', sink, NULL);
	assert_int_equal(ngot, 1);
	assert_int_equal(strlen(got[0]), VPL011_LINE_MAX);
	vpl011_write(&u, 0, '\n', sink, NULL);
	assert_int_equal(strlen(got[1]), 5);
}

static void test_registers(void **state)
{
	struct vpl011 u;
	(void)state;
	vpl011_reset(&u);
	/* TXFE and RXFE, never TXFF: a polling writer never waits, a reader sees nothing. */
	assert_int_equal(vpl011_read(&u, 0x18), 0x90);
	assert_int_equal(vpl011_read(&u, 0x30), 0x300);
	vpl011_write(&u, 0x24, 0x12345, sink, NULL);
	vpl011_write(&u, 0x28, 0xff, sink, NULL);
	vpl011_write(&u, 0x2c, 0x70, sink, NULL);
	vpl011_write(&u, 0x38, 0x50, sink, NULL);
	assert_int_equal(vpl011_read(&u, 0x24), 0x2345);
	assert_int_equal(vpl011_read(&u, 0x28), 0x3f);
	assert_int_equal(vpl011_read(&u, 0x2c), 0x70);
	assert_int_equal(vpl011_read(&u, 0x38), 0x50);
	/* Peripheral and PrimeCell IDs of a PL011. */
	assert_int_equal(vpl011_read(&u, 0xfe0), 0x11);
	assert_int_equal(vpl011_read(&u, 0xfe4), 0x10);
	assert_int_equal(vpl011_read(&u, 0xff0), 0x0d);
	assert_int_equal(vpl011_read(&u, 0xffc), 0xb1);
	assert_int_equal(vpl011_read(&u, 0x0), 0);
}

/* Linux's amba-pl011: RXIM|RTIM enabled, reads DR while FR.RXFE is clear, the interrupt line
 * follows the FIFO; the transmit interrupt is raised whenever enabled (the FIFO is always empty). */
static void test_receive(void **state)
{
	struct vpl011 u;

	(void)state;
	vpl011_reset(&u);
	assert_int_equal(vpl011_read(&u, 0x18) & 0x50, 0x10); /* RXFE, not RXFF */
	assert_int_equal(vpl011_read(&u, 0x3c), 0x20);        /* RIS: TX only */
	assert_false(vpl011_irq_line(&u));
	assert_true(vpl011_rx_push(&u, 'a'));
	assert_false(vpl011_irq_line(&u)); /* nothing enabled yet */
	vpl011_write(&u, 0x38, 0x50, sink, NULL);
	assert_true(vpl011_irq_line(&u));
	assert_int_equal(vpl011_read(&u, 0x40), 0x50); /* MIS: RX and RT */
	assert_int_equal(vpl011_read(&u, 0x18) & 0x10, 0);
	assert_int_equal(vpl011_read(&u, 0), 'a');
	assert_false(vpl011_irq_line(&u));
	assert_int_equal(vpl011_read(&u, 0x18) & 0x10, 0x10);
	assert_int_equal(vpl011_read(&u, 0), 0);
	/* Full at 32: the 33rd byte is refused (the caller keeps it), order kept across the wrap. */
	for (int i = 0; i < VPL011_RX_FIFO; i++)
		assert_true(vpl011_rx_push(&u, (u8)('0' + i)));
	assert_false(vpl011_rx_push(&u, 'x'));
	assert_int_equal(vpl011_read(&u, 0x18) & 0x40, 0x40); /* RXFF */
	for (int i = 0; i < VPL011_RX_FIFO; i++)
		assert_int_equal(vpl011_read(&u, 0), '0' + i);
	assert_false(vpl011_irq_line(&u));
	vpl011_write(&u, 0x38, 0x20, sink, NULL); /* TXIM */
	assert_true(vpl011_irq_line(&u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_long_line_is_split),
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_receive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
