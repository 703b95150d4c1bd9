/* SPDX-License-Identifier: Apache-2.0 */
/* Records in the ring: a 2-byte header (length in the low 14 bits, the kind in the top 2), then the
 * bytes, wrapping at the end of the array. One writer at a time and one reader at a time, both
 * under the caller's lock. */
#include "lib/conbuf.h"

#include <string.h>

#define LEN_MASK 0x3fffu
#define KIND_SHIFT 14
_Static_assert(CONBUF_RECORD_MAX <= LEN_MASK, "the length fits its header bits");

void conbuf_init(struct conbuf *b)
{
	b->head = b->tail = 0;
	b->tokens = CONBUF_BURST;
	b->last = 0;
	b->dropped = b->dropped_total = 0;
}

static void put_byte(struct conbuf *b, u8 c) { b->data[b->head++ % CONBUF_SIZE] = c; }
static u8 get_byte(struct conbuf *b) { return b->data[b->tail++ % CONBUF_SIZE]; }

static void drop(struct conbuf *b, size_t len)
{
	b->dropped += len;
	b->dropped_total += len;
}

bool conbuf_put(struct conbuf *b, enum conbuf_kind kind, const char *s, size_t len, u64 now,
		u64 freq)
{
	u32 used = b->head - b->tail;
	bool raw = kind != CONBUF_LINE; /* not rate-limited, no newline counted */
	u32 hdr;

	if (len > CONBUF_RECORD_MAX) {
		drop(b, len - CONBUF_RECORD_MAX);
		len = CONBUF_RECORD_MAX;
	}
	if (!raw) {
		/* Refill: freq is at least 1 Hz on any real counter; a stopped or backwards counter
		 * refills nothing. (now - last) * RATE cannot overflow for a gap below 2^48 ticks;
		 * longer gaps refill the whole burst anyway. */
		if (freq && now > b->last) {
			u64 gap = now - b->last;
			u64 add = gap >= (1ULL << 48) ? CONBUF_BURST : gap * CONBUF_RATE / freq;

			b->tokens = b->tokens + add > CONBUF_BURST ? CONBUF_BURST : b->tokens + add;
			if (add)
				b->last = now;
		} else if (now < b->last) {
			b->last = now;
		}
		if (b->tokens < len + 1) {
			drop(b, len + 1);
			return false;
		}
	}
	if (CONBUF_SIZE - used < len + 2) {
		drop(b, len + (raw ? 0 : 1));
		return false;
	}
	if (!raw)
		b->tokens -= len + 1; /* the newline counts */
	hdr = (u32)len | (u32)kind << KIND_SHIFT;
	put_byte(b, (u8)hdr);
	put_byte(b, (u8)(hdr >> 8));
	for (size_t i = 0; i < len; i++)
		put_byte(b, (u8)s[i]);
	return true;
}

int conbuf_get(struct conbuf *b, enum conbuf_kind *kind, char *out, size_t cap)
{
	u32 hdr, len, kept;

	if (b->head == b->tail)
		return -1;
	hdr = get_byte(b);
	hdr |= (u32)get_byte(b) << 8;
	*kind = (enum conbuf_kind)(hdr >> KIND_SHIFT);
	len = hdr & LEN_MASK;
	kept = len < cap ? len : (u32)cap;
	for (u32 i = 0; i < len; i++) {
		u8 c = get_byte(b);

		if (i < kept)
			out[i] = (char)c;
	}
	if (len > kept)
		drop(b, len - kept);
	return (int)kept;
}

bool con_cursor_wrote(struct con_cursor *c, const char *s, size_t len, u64 now)
{
	bool ended, freed;

	if (!len)
		return false;
	ended = memchr(s, '\n', len) != NULL;
	freed = ended && c->waiting;
	if (ended)
		c->waiting = false;
	if (s[len - 1] == '\n') {
		c->open = false;
		return freed;
	}
	/* Held from when the line began: a VM writing one endless line (a progress bar redrawn
	 * with CRs) does not hold the others past CONBUF_HOLD_MS. */
	if (!c->open || ended)
		c->at = now;
	c->open = true;
	return freed;
}

bool con_cursor_holds(struct con_cursor *c, u64 now, u64 freq)
{
	c->waiting = c->open && now - c->at < freq / 1000 * CONBUF_HOLD_MS;
	return c->waiting;
}

/* C0 controls and DEL become "^X"; the C1 controls as UTF-8 encodes them (0xC2 0x80..0x9F), which
 * some terminals obey like their 7-bit ESC forms, become "^X" with X = the C0 letter + 0x20 (CSI
 * 0x9B -> "^{"). Other bytes, UTF-8 text included, pass unchanged. */
size_t con_escape(const char *in, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		u8 c = (u8)in[i];
		char e;

		if (c == 0xc2 && i + 1 < len && (u8)in[i + 1] >= 0x80 && (u8)in[i + 1] <= 0x9f)
			e = (char)((u8)in[++i] - 0x80 + 0x60);
		else if (c == '^')
			e = '^';
		else if (c == 0x7f)
			e = '?';
		else if (c < 0x20 && c != '\t')
			e = (char)(c + '@');
		else
			e = 0;
		if (n + (e ? 2 : 1) > cap)
			break;
		if (e) {
			out[n++] = '^';
			out[n++] = e;
		} else {
			out[n++] = (char)c;
		}
	}
	return n;
}
