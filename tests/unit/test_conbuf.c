/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/lib/conbuf: records in and out across the ring's wrap, the rate limit and its dropped-byte
 * count, a full ring, and the escaping of everything a guest could use to drive a terminal or to
 * fake another VM's prefix; the attached console's cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/conbuf.h"

#define FREQ 1000000ULL /* a 1 MHz counter */

static struct conbuf b;

static void test_records_round_trip_across_wrap(void **state)
{
	char out[CONBUF_RECORD_MAX];
	enum conbuf_kind kind;
	u64 now = 0;
	(void)state;
	conbuf_init(&b);
	/* Far more bytes than the ring holds, taken out as they go: the ring wraps many times. */
	for (int i = 0; i < 5000; i++) {
		char line[40];
		int len = snprintf(line, sizeof(line), "line %d of the test", i);

		now += FREQ; /* a second apart: the rate limit never bites */
		assert_true(
			conbuf_put(&b, (enum conbuf_kind)(i % 3), line, (size_t)len, now, FREQ));
		assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), len);
		assert_memory_equal(out, line, (size_t)len);
		assert_int_equal(kind, i % 3);
	}
	assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), -1);
	assert_int_equal(b.dropped_total, 0);
}

static void test_rate_limit_counts_dropped_bytes(void **state)
{
	char line[100], out[200];
	enum conbuf_kind kind;
	u64 kept = 0, dropped = 0;
	(void)state;
	memset(line, 'x', sizeof(line));
	conbuf_init(&b);
	/* A flood at one instant: only the burst gets through (drained as it goes, so that the ring
	 * is not what limits); everything else is counted, byte for byte (100 + newline). */
	for (int i = 0; i < 2000; i++) {
		if (conbuf_put(&b, CONBUF_LINE, line, sizeof(line), 5, FREQ))
			kept++;
		else
			dropped++;
		while (conbuf_get(&b, &kind, out, sizeof(out)) >= 0)
			;
	}
	assert_int_equal(kept, CONBUF_BURST / 101);
	assert_int_equal(b.dropped, dropped * 101);
	/* A second later the rate's worth is back. */
	kept = 0;
	for (int i = 0; i < 2000; i++) {
		if (conbuf_put(&b, CONBUF_LINE, line, sizeof(line), 5 + FREQ, FREQ))
			kept++;
		while (conbuf_get(&b, &kind, out, sizeof(out)) >= 0)
			;
	}
	assert_true(kept >= CONBUF_RATE / 101 - 1 && kept <= CONBUF_RATE / 101 + 1);
	/* Raw bytes (an attached console) and ferry's own lines are never rate-limited. */
	for (int i = 0; i < 1000; i++) {
		assert_true(conbuf_put(&b, CONBUF_RAW, "k", 1, 5 + FREQ, FREQ));
		assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), 1);
		assert_true(conbuf_put(&b, CONBUF_HOST, "ferry: x", 8, 5 + FREQ, FREQ));
		assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), 8);
		assert_int_equal(kind, CONBUF_HOST);
	}
}

static void test_full_ring_drops_and_counts(void **state)
{
	char line[CONBUF_RECORD_MAX], out[CONBUF_RECORD_MAX];
	enum conbuf_kind kind;
	u64 before;
	int n = 0;
	(void)state;
	memset(line, 'y', sizeof(line));
	conbuf_init(&b);
	b.tokens = ~0ULL >> 1; /* rate limit out of the way */
	while (conbuf_put(&b, CONBUF_LINE, line, 500, 0, FREQ))
		n++;
	assert_int_equal(n, CONBUF_SIZE / 502);
	before = b.dropped;
	assert_false(conbuf_put(&b, CONBUF_LINE, line, 500, 0, FREQ));
	assert_int_equal(b.dropped - before, 501);
	/* What went in comes out intact. */
	for (int i = 0; i < n; i++)
		assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), 500);
	assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), -1);
	/* A record longer than the maximum is cut, the rest counted. */
	conbuf_init(&b);
	before = b.dropped;
	{
		static char big[3000];

		memset(big, 'z', sizeof(big));
		assert_true(conbuf_put(&b, CONBUF_LINE, big, sizeof(big), 0, FREQ));
		assert_int_equal(b.dropped - before, sizeof(big) - CONBUF_RECORD_MAX);
		assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), CONBUF_RECORD_MAX);
	}
	/* A reader with less room than the record: the rest is dropped and counted. */
	assert_true(conbuf_put(&b, CONBUF_LINE, "abcdef", 6, 0, FREQ));
	before = b.dropped;
	assert_int_equal(conbuf_get(&b, &kind, out, 4), 4);
	assert_int_equal(b.dropped - before, 2);
	assert_int_equal(conbuf_get(&b, &kind, out, sizeof(out)), -1);
}

/* The attached console's open line holds other lines back while it is recent, never once it has
 * ended, and not past CONBUF_HOLD_MS; across the counter's wrap too. */
static void test_cursor_holds_lines_while_open(void **state)
{
	const u64 hold = FREQ / 1000 * CONBUF_HOLD_MS;
	const u64 starts[] = { 0, 123456789, ~0ULL - hold / 2 };
	(void)state;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		struct con_cursor c = { 0 };
		u64 t = starts[i];

		assert_false(con_cursor_holds(&c, t, FREQ)); /* nothing written yet */
		con_cursor_wrote(&c, "/ # ", 4, t);
		assert_true(con_cursor_holds(&c, t, FREQ));
		assert_true(con_cursor_holds(&c, t + hold - 1, FREQ));
		assert_false(con_cursor_holds(&c, t + hold, FREQ));
		con_cursor_wrote(&c, "", 0, t + hold); /* nothing written: nothing changes */
		assert_false(con_cursor_holds(&c, t + hold, FREQ));
		con_cursor_wrote(&c, "f", 1, t + 5);
		assert_true(con_cursor_holds(&c, t + 6, FREQ));
		con_cursor_wrote(&c, "erry-linux: ready\r\n", 19, t + 7);
		assert_false(con_cursor_holds(&c, t + 8, FREQ));
		con_cursor_wrote(&c, "\n/", 2, t + 9);
		assert_true(con_cursor_holds(&c, t + 9, FREQ));
		/* An endless line redrawn with CRs holds from when it began, not from its last byte. */
		con_cursor_wrote(&c, " #", 2, t + hold);
		assert_true(con_cursor_holds(&c, t + hold + 8, FREQ));
		assert_false(con_cursor_holds(&c, t + hold + 9, FREQ));
		/* A new line begun in the middle of what was written holds from then. */
		con_cursor_wrote(&c, "x\r\ny", 4, t + 2 * hold);
		assert_true(con_cursor_holds(&c, t + 3 * hold - 1, FREQ));
		assert_false(con_cursor_holds(&c, t + 3 * hold, FREQ));
	}
}

/* A guest that keeps starting lines (a newline and a byte, every 100 ms) and never leaves one to
 * end holds the others for CONBUF_HOLD_MS once, not for ever; a line ended lets the next wait. */
/* A guest ending each line and starting the next at once (as it would to keep the others out):
 * every line end that others waited for says so, so that they go before its next line. */
static void test_cursor_line_end_frees_the_waiting(void **state)
{
	struct con_cursor c = { 0 };
	u64 t = 0;
	(void)state;
	for (int i = 0; i < 10; i++, t += FREQ / 5) {
		assert_false(con_cursor_wrote(&c, "x", 1, t));
		assert_true(con_cursor_holds(&c, t + 1, FREQ)); /* a line waits */
		assert_true(con_cursor_wrote(&c, "\n", 1, t + 2));
		assert_false(con_cursor_holds(&c, t + 2, FREQ));
	}
	/* A newline inside what was written ends the wait too, and the new line holds afresh, for
	 * its own CONBUF_HOLD_MS. */
	assert_false(con_cursor_wrote(&c, "a", 1, t));
	assert_true(con_cursor_holds(&c, t, FREQ));
	assert_true(con_cursor_wrote(&c, "b\nc", 3, t + 1));
	assert_true(c.open && !c.waiting && c.at == t + 1);
	assert_true(con_cursor_holds(&c, t + FREQ / 1000 * CONBUF_HOLD_MS, FREQ));
	assert_false(con_cursor_holds(&c, t + 1 + FREQ / 1000 * CONBUF_HOLD_MS, FREQ));
	/* A line that no longer holds: its end frees nothing. */
	assert_false(con_cursor_wrote(&c, "\n", 1, t + 2 + FREQ / 1000 * CONBUF_HOLD_MS));
}

static void check_escape(const char *in, size_t len, const char *want)
{
	char out[256];
	size_t n = con_escape(in, len, out, sizeof(out));

	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void test_escape(void **state)
{
	(void)state;
	check_escape("plain text, tabs\tstay", 21, "plain text, tabs\tstay");
	check_escape("\x1b[2J\x1b]0;owned\x07", 14, "^[[2J^[]0;owned^G");
	/* CR cannot return to the start of the line to write a forged prefix over ferry's. */
	check_escape("x\r[victim] FAIL", 15, "x^M[victim] FAIL");
	check_escape("\b\b\x7f^", 4, "^H^H^?^^");
	check_escape("\n", 1, "^J");
	check_escape("\0", 1, "^@");
	/* UTF-8 text passes; the UTF-8 encoding of CSI (U+009B) does not. */
	check_escape("caf\xc3\xa9 \xe2\x82\xac", 9, "caf\xc3\xa9 \xe2\x82\xac");
	check_escape("\xc2\x9b"
		     "31m",
		     5, "^{31m");
	check_escape("\xc2\xa0", 2, "\xc2\xa0");
	/* Truncation never splits an escape. */
	{
		char out[3];

		assert_int_equal(con_escape("a\x1b", 2, out, 2), 1);
		assert_int_equal(con_escape("a\x1b", 2, out, 3), 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_round_trip_across_wrap),
		cmocka_unit_test(test_rate_limit_counts_dropped_bytes),
		cmocka_unit_test(test_full_ring_drops_and_counts),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_cursor_holds_lines_while_open),
		cmocka_unit_test(test_cursor_line_end_frees_the_waiting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
