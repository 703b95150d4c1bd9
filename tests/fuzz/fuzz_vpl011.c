/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the guest's PL011 model (hyp/vdev/vpl011.c): a sequence of guest reads and
 * writes at any offset of its 4 KiB window, received bytes, flushes, and migration blobs, each one
 * either saved from the model or taken from the input. Checked against a shadow FIFO and line after
 * every step: the state stays in range (line shorter than VPL011_LINE_MAX, FIFO indices inside the
 * ring), DR gives the received bytes in order, FR/RIS/MIS agree with the FIFO, lines leave whole
 * (no '\n', at most VPL011_LINE_MAX bytes) and carry exactly what was written; save then load into a
 * fresh model gives the same blob again, and a blob taken from the input loads only when it is
 * well formed and saves back to the same bytes apart from register bits a write could not set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "lib/lib.h"
#include "vdev/vdev.h"

#define BLOB_MAX (36 + VPL011_LINE_MAX + VPL011_RX_FIFO)

static struct {
	char line[4 * VPL011_LINE_MAX]; /* what was written since the last emitted line */
	u32 len;
	u8 rx[VPL011_RX_FIFO];
	u32 rx_count;
} shadow;

static void out(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	FUZZ_CHECK(len <= VPL011_LINE_MAX && len <= shadow.len);
	FUZZ_CHECK(!memchr(line, '\n', len));
	FUZZ_CHECK(!memcmp(line, shadow.line, len));
	memmove(shadow.line, shadow.line + len, shadow.len - len);
	shadow.len -= (u32)len;
}

static void check(const struct vpl011 *u)
{
	u32 ris = vpl011_read((struct vpl011 *)u, 0x3c); /* RIS: no side effect */

	FUZZ_CHECK(u->len < VPL011_LINE_MAX && u->len == shadow.len);
	FUZZ_CHECK(!memcmp(u->line, shadow.line, u->len));
	FUZZ_CHECK(u->rx_head < VPL011_RX_FIFO && u->rx_count <= VPL011_RX_FIFO);
	FUZZ_CHECK(u->rx_count == shadow.rx_count);
	for (u32 i = 0; i < u->rx_count; i++)
		FUZZ_CHECK(u->rx[(u->rx_head + i) % VPL011_RX_FIFO] == shadow.rx[i]);
	FUZZ_CHECK(!!(ris & 0x10) == (u->rx_count != 0));
	FUZZ_CHECK(u->cr <= 0xffff && u->lcr <= 0xff && u->ibrd <= 0xffff && u->fbrd <= 0x3f &&
		   u->imsc <= 0x7ff && u->ifls <= 0x3f);
	FUZZ_CHECK(vpl011_irq_line(u) == ((ris & u->imsc) != 0));
}

/* Loads blob into a copy; on success the copy replaces *u (and the shadow follows it). */
static void load(struct vpl011 *u, const u8 *blob, size_t len)
{
	struct vpl011 t;
	u8 again[BLOB_MAX];
	int n, err;

	memset(&t, 0x5a, sizeof(t));
	err = vpl011_load(&t, blob, len);
	if (err) {
		FUZZ_CHECK(err == FERRY_EINVAL);
		return;
	}
	FUZZ_CHECK(len >= 36 && len <= BLOB_MAX);
	n = vpl011_save(&t, again, sizeof(again));
	FUZZ_CHECK(n == (int)len);
	/* Identical but for the register bits the load masked. */
	FUZZ_CHECK(!memcmp(again, blob, 8) && !memcmp(again + 32, blob + 32, len - 32));
	for (int i = 8; i < 32; i += 4)
		FUZZ_CHECK((get_le32(again + i) & ~get_le32(blob + i)) == 0);
	*u = t;
	shadow.len = t.len;
	memcpy(shadow.line, t.line, t.len);
	shadow.rx_count = t.rx_count;
	memcpy(shadow.rx, blob + 36 + t.len, t.rx_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vpl011 u;
	u8 blob[BLOB_MAX + 8];

	memset(&shadow, 0, sizeof(shadow));
	vpl011_reset(&u);
	while (fuzz_more(&in)) {
		u8 op = take_u8(&in);
		u64 off = take_u16(&in) % 0x1000u;
		u32 val, v;
		size_t n;
		int len;

		switch (op % 6) {
		case 0: /* guest read */
			v = vpl011_read(&u, off);
			if (off == 0) {
				FUZZ_CHECK(v == (shadow.rx_count ? shadow.rx[0] : 0));
				if (shadow.rx_count)
					memmove(shadow.rx, shadow.rx + 1, --shadow.rx_count);
			} else if (off == 0x18) {
				FUZZ_CHECK(!!(v & 0x10) == !shadow.rx_count);
				FUZZ_CHECK(!!(v & 0x40) == (shadow.rx_count == VPL011_RX_FIFO));
			}
			break;
		case 1: /* guest write; DR's byte goes to the shadow line */
			val = take_u32(&in);
			if (off == 0 && (char)val != '\r' && (char)val != '\n')
				shadow.line[shadow.len++] = (char)val;
			vpl011_write(&u, off, val, out, NULL);
			break;
		case 2: /* a received byte */
			val = take_u8(&in);
			FUZZ_CHECK(vpl011_rx_push(&u, (u8)val) ==
				   (shadow.rx_count < VPL011_RX_FIFO));
			if (shadow.rx_count < VPL011_RX_FIFO)
				shadow.rx[shadow.rx_count++] = (u8)val;
			break;
		case 3:
			vpl011_flush(&u, out, NULL);
			FUZZ_CHECK(shadow.len == 0);
			break;
		case 4: /* migrate: save, then load into a fresh model */
			len = vpl011_save(&u, blob, (size_t)off % sizeof(blob));
			if (len < 0) {
				FUZZ_CHECK((size_t)off % sizeof(blob) < 36 + u.len + u.rx_count);
				break;
			}
			load(&u, blob, (size_t)len);
			break;
		case 5: /* a blob from the input, its length the offset's low bits */
			n = MIN((size_t)off % sizeof(blob), in.n);
			memcpy(blob, in.p, n);
			in.p += n, in.n -= n;
			load(&u, blob, n);
			break;
		}
		check(&u);
	}
	return 0;
}
