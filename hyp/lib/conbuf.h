/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's console output on its way to the physical UART: a byte ring of records (whole lines, or
 * raw bytes while a console is attached to the VM) that the VM's vCPUs fill without waiting and the
 * management CPU drains, a rate limit with a count of what it dropped, and the escaping of control
 * bytes, so that a guest cannot drive the operator's terminal or fake another VM's `[name]`
 * prefix. Pure code, host-tested. */
#ifndef FERRY_CONBUF_H
#define FERRY_CONBUF_H

#include "types.h"

#define CONBUF_SIZE 16384u      /* bytes of records held per VM */
#define CONBUF_RECORD_MAX 1024u /* longest record (a line longer than that is cut) */
#define CONBUF_RATE \
	8192u /* bytes per second a VM may print, on average (a 115200-baud line carries 11.5 KB/s)... */
#define CONBUF_BURST 65536u /* ...and at once, after being quiet */

struct conbuf {
	u8 data[CONBUF_SIZE];
	u32 head, tail; /* free-running: bytes used = head - tail */
	u64 tokens;     /* bytes it may print now (the rate limit) */
	u64 last;       /* counter value tokens were last brought up to date */
	u64 dropped;    /* bytes dropped (rate limit or full ring) and not yet reported */
	u64 dropped_total;
};

/* What a record is: a guest's line (prefixed, escaped, rate-limited), bytes for a console attached
 * to the VM (raw), or a line ferry printed on one of the VM's CPUs (host: as it is, kept in order
 * with the guest's). Raw and host records are not rate-limited. */
enum conbuf_kind {
	CONBUF_LINE = 0,
	CONBUF_RAW = 1,
	CONBUF_HOST = 2
};

void conbuf_init(struct conbuf *b);
/* Appends one record (a line without its newline). now/freq: a counter and its frequency, for the
 * rate limit. Returns false when it was dropped (and counted). */
bool conbuf_put(struct conbuf *b, enum conbuf_kind kind, const char *s, size_t len, u64 now,
		u64 freq);
/* Takes the oldest record: its length (at most cap, the rest is dropped), or -1 when empty. */
int conbuf_get(struct conbuf *b, enum conbuf_kind *kind, char *out, size_t cap);
/* Where an attached console's output left the terminal's cursor. A line from anywhere else printed
 * while the attached VM's line is still open would land in its middle (a prompt cut in two, a
 * word split), so such lines wait while the open line is young; once it began more than
 * CONBUF_HOLD_MS ago (a prompt waiting for input) they go out after a newline of their own. */
#define CONBUF_HOLD_MS 250u
struct con_cursor {
	bool open;    /* the last byte written raw did not end a line */
	u64 at;       /* counter value when that line began */
	bool waiting; /* other lines wait for this one to end */
};
/* Records what went out raw. True when it ended a line other lines were waiting for: the caller
 * lets them out before anything more of the attached VM's, so that a guest ending a line and
 * starting the next at once cannot keep them waiting line after line. */
bool con_cursor_wrote(struct con_cursor *c, const char *s, size_t len, u64 now);
/* True while another source's line should wait for the open line to end (asking records that one
 * waits). */
bool con_cursor_holds(struct con_cursor *c, u64 now, u64 freq);

/* Writes `in` with every control byte (C0 but TAB, DEL, and the UTF-8-encoded C1 controls) in caret
 * notation (ESC -> "^[", CR -> "^M", DEL -> "^?") and '^' itself as "^^", so that the output is
 * unambiguous. Returns the length written (at most cap; a byte whose escape does not fit is left
 * out with the rest). */
size_t con_escape(const char *in, size_t len, char *out, size_t cap);

#endif
