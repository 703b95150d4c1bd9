/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/migrate wire codec and hyp/lib checksums: known vectors, every message's encode/decode round
 * trip, and every way a frame is turned away (short, not ours, magic, version, tag, length,
 * type, malformed payloads, truncation, any single flipped bit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mig_auth_pair.h"
#include "migrate/mig_wire.h"

static const u8 MAC_A[6] = { 2, 0, 0, 0, 0, 0xa };
static const u8 MAC_B[6] = { 2, 0, 0, 0, 0, 0xb };
static u8 frame[MIG_FRAME_MAX + 128];
/* Both ends' keys, after a real handshake (tests/unit/test_mig_auth.c tests it): frames are sealed
 * by the source's and checked by the destination's. */
static struct mig_auth TX, RX;

static int seal(u8 type, u32 seq, const void *payload, u32 len)
{
	struct mig_hdr h = { .version = MIG_VERSION,
			     .type = type,
			     .flags = 0,
			     .session = 0x1234,
			     .seq = seq,
			     .ack = 77,
			     .sack = 0x5,
			     .payload_len = len };

	if (!TX.have_session)
		mig_test_auth_pair(&TX, &RX, 0x1234);
	if (len)
		memmove(frame + MIG_FRAME_OVERHEAD, payload, len);
	return mig_frame_seal(frame, sizeof(frame), MAC_B, MAC_A, &h, &TX);
}

static void test_crc32c_and_hash64_vectors(void **state)
{
	static u8 buf[10000];
	struct hash64_state st;
	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* Chaining equals one pass, at every split. */
	for (u32 i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + (i >> 5));
	for (u32 split = 0; split < 300; split += 7)
		assert_int_equal(crc32c(crc32c(0, buf, split), buf + split, 3000 - split),
				 crc32c(0, buf, 3000));
	assert_true(hash64("", 0, 0) == 0xEF46DB3751D8E999ULL);
	assert_true(hash64("abc", 3, 0) == 0x44BC2CF5AD770999ULL);
	assert_true(hash64("Nobody inspects the spammish repetition", 39, 0) ==
		    0xFBCEA83C8A378BF1ULL);
	/* Streaming in odd pieces equals one shot, for lengths across the 32-byte stripe. */
	srand(3);
	for (u32 len = 0; len < 2000; len += 37) {
		u32 pos = 0;

		hash64_init(&st, 99);
		while (pos < len) {
			u32 n = (u32)rand() % 70;

			n = MIN(n, len - pos); /* MIN evaluates its arguments twice */

			hash64_update(&st, buf + pos, n);
			pos += n;
		}
		assert_true(hash64_final(&st) == hash64(buf, len, 99));
	}
	assert_true(hash64(buf, 4096, 0) != hash64(buf, 4096, 1));
	/* The word-load path (8-byte aligned data) and the byte path agree at every alignment. */
	{
		static _Alignas(8) u8 moved[4096 + 8];

		for (u32 off = 0; off < 8; off++) {
			memcpy(moved + off, buf, 4000);
			assert_true(hash64(moved + off, 4000, 7) == hash64(buf, 4000, 7));
		}
	}
}

static void test_header_round_trip_and_padding(void **state)
{
	struct mig_frame f;
	int len;
	(void)state;
	len = seal(MIG_T_ACK, 0, NULL, 0);
	assert_int_equal(len, MIG_FRAME_COST); /* the tag makes every frame longer than 60 bytes */
	assert_int_equal(frame[12], 0x88);
	assert_int_equal(frame[13], 0xB5);
	assert_memory_equal(frame, MAC_B, 6);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(f.hdr.type, MIG_T_ACK);
	assert_int_equal(f.hdr.session, 0x1234);
	assert_int_equal(f.hdr.ack, 77);
	assert_int_equal(f.hdr.sack, 5);
	assert_int_equal(f.hdr.payload_len, 0);
	assert_memory_equal(f.src, MAC_A, 6);
	/* Trailing Ethernet padding is ignored. */
	assert_int_equal(mig_frame_parse(frame, 200, &f, &RX), MIG_REJ_NONE);
	mig_frame_update_ack(frame, 1000, 0xffffffffu, &TX);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(f.hdr.ack, 1000);
	assert_int_equal(f.hdr.sack, 0xffffffffu);
	/* Too big for the buffer, or for 64 KiB. */
	{
		struct mig_hdr h = { .version = MIG_VERSION,
				     .type = MIG_T_STATE,
				     .seq = 1,
				     .payload_len = MIG_FRAME_MAX };

		assert_int_equal(mig_frame_seal(frame, sizeof(frame), MAC_B, MAC_A, &h, &TX),
				 FERRY_EINVAL);
		h.payload_len = 100;
		assert_int_equal(mig_frame_seal(frame, 120, MAC_B, MAC_A, &h, &TX), FERRY_EINVAL);
	}
}

static void test_messages_round_trip(void **state)
{
	u8 p[256];
	struct mig_frame f;
	struct mig_hello h = { .caps = 3,
			       .frame_max = 9000,
			       .rx_window = 17,
			       .compat = { 0x40000000, 64ULL << 20, 0xabcdef, 4, 4096 } },
			 h2;
	struct mig_refusal r = { .reason = MIG_REFUSE_RAM_SIZE, .detail = 0, .compat = h.compat },
			   r2;
	struct mig_hash_msg hm = { 0x1122334455667788ULL, 16384, 3, 9 }, hm2;
	struct mig_abort_msg a = { MIG_FAIL_HASH_MISMATCH, 0xdeadbeefcafef00dULL }, a2;
	struct mig_state_iter it;
	struct mig_state_chunk c;
	int len;
	(void)state;

	len = seal(MIG_T_HELLO, 1, p, mig_hello_encode(p, &h));
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(mig_hello_decode(f.payload, f.hdr.payload_len, &h2), 0);
	assert_int_equal(h2.caps, h.caps);
	assert_int_equal(h2.frame_max, h.frame_max);
	assert_int_equal(h2.rx_window, h.rx_window);
	assert_memory_equal(&h.compat, &h2.compat, sizeof(h.compat));

	len = seal(MIG_T_REFUSE, 2, p, mig_refusal_encode(p, &r));
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(mig_refusal_decode(f.payload, f.hdr.payload_len, &r2), 0);
	assert_memory_equal(&r, &r2, sizeof(r));

	len = seal(MIG_T_HASH, 3, p, mig_hash_encode(p, &hm));
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(mig_hash_decode(f.payload, f.hdr.payload_len, &hm2), 0);
	assert_memory_equal(&hm, &hm2, sizeof(hm));

	len = seal(MIG_T_ABORT, 0, p, mig_abort_encode(p, &a));
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(mig_abort_decode(f.payload, f.hdr.payload_len, &a2), 0);
	assert_int_equal(a2.reason, a.reason);
	assert_true(a2.detail == a.detail);

	put_le64(p, 0x0102030405060708ULL);
	assert_int_equal(p[0], 8);
	len = seal(MIG_T_COMMIT, 4, p, 8);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_true(get_le64(f.payload) == 0x0102030405060708ULL);

	/* STATE: index 2, tag 0x99, a 100-byte blob, chunk [40, 70). */
	memset(p, 0, 16);
	p[0] = 2, p[4] = 0x99, p[8] = 100, p[12] = 40;
	for (int i = 0; i < 30; i++)
		p[16 + i] = (u8)i;
	len = seal(MIG_T_STATE, 5, p, 46);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(mig_state_iter_init(&it, f.payload, f.hdr.payload_len), 0);
	assert_int_equal(mig_state_iter_next(&it, &c), 1);
	assert_int_equal(c.index, 2);
	assert_int_equal(c.tag, 0x99);
	assert_int_equal(c.total_len, 100);
	assert_int_equal(c.offset, 40);
	assert_int_equal(c.len, 30);
	assert_int_equal(c.data[29], 29);
	assert_int_equal(mig_state_iter_next(&it, &c), 0);
}

/* Walks a STATE payload; returns the chunks seen, or the error. */
static int state_chunks(const u8 *p, u32 len, struct mig_state_chunk *out, int max)
{
	struct mig_state_iter it;
	int n = 0, rc = mig_state_iter_init(&it, p, len);

	while (!rc && (rc = mig_state_iter_next(&it, &out[n < max ? n : max - 1])) == 1) {
		n++;
		rc = 0;
	}
	return rc ? rc : n;
}

/* Several blobs in one STATE payload: each chunk runs to its blob's end, the last one to the
 * payload's end; what breaks the order or leaves a fragment is refused. */
static void test_state_packing(void **state)
{
	u8 p[256];
	struct mig_state_chunk c[4];
	u32 n = 0;
	(void)state;

	/* blob 3 (tail [10, 14)), blob 4 (empty), blob 5 (6 bytes), blob 6 ([0, 5) of 20) */
	n += mig_state_put_hdr(p + n, 3, 0xa, 14, 10);
	memset(p + n, 0x33, 4), n += 4;
	n += mig_state_put_hdr(p + n, 4, 0xb, 0, 0);
	n += mig_state_put_hdr(p + n, 5, 0xc, 6, 0);
	memset(p + n, 0x55, 6), n += 6;
	n += mig_state_put_hdr(p + n, 6, 0xd, 20, 0);
	memset(p + n, 0x66, 5), n += 5;
	assert_int_equal(state_chunks(p, n, c, 4), 4);
	assert_int_equal(c[0].index, 3);
	assert_int_equal(c[0].len, 4);
	assert_int_equal(c[0].data[3], 0x33);
	assert_int_equal(c[1].index, 4);
	assert_int_equal(c[1].len, 0);
	assert_int_equal(c[2].len, 6);
	assert_int_equal(c[2].data[0], 0x55);
	assert_int_equal(c[3].index, 6);
	assert_int_equal(c[3].offset, 0);
	assert_int_equal(c[3].len, 5);

	/* a fragment shorter than a header after the last chunk */
	assert_int_equal(state_chunks(p, 16 + 4 + 3, c, 4), FERRY_EINVAL);
	/* a header with no room for any of its non-empty blob */
	assert_int_equal(state_chunks(p, 16 + 4 + 16 + 16, c, 4), FERRY_EINVAL);
	/* an empty payload */
	assert_int_equal(state_chunks(p, 0, c, 4), FERRY_EINVAL);
	/* a second chunk that does not start the next blob: wrong index, then a middle offset */
	n = mig_state_put_hdr(p, 1, 0, 2, 0);
	n += 2;
	n += mig_state_put_hdr(p + n, 3, 0, 2, 0);
	n += 2;
	assert_int_equal(state_chunks(p, n, c, 4), FERRY_EINVAL);
	mig_state_put_hdr(p + 18, 2, 0, 4, 2);
	assert_int_equal(state_chunks(p, n, c, 4), FERRY_EINVAL);
	mig_state_put_hdr(p + 18, 2, 0, 2, 0);
	assert_int_equal(state_chunks(p, n, c, 4), 2);
}

/* A PAGES payload: round 7, a zero run of 3 pages, a whole page, a part of a page. */
static u32 build_pages(u8 *p)
{
	u32 n = 8;

	memset(p, 0, 8);
	p[0] = 7;
	p[4] = 3;
	memset(p + n, 0, 16);
	put_le64(p + n, 0x40000000);
	p[n + 8] = MIG_REC_ZERO;
	p[n + 12] = 3;
	n += 16;
	memset(p + n, 0, 16);
	put_le64(p + n, 0x40005000);
	p[n + 8] = MIG_REC_DATA;
	p[n + 13] = 0x10; /* length 4096 */
	n += 16;
	memset(p + n, 0xa5, 4096);
	n += 4096;
	memset(p + n, 0, 16);
	put_le64(p + n, 0x40009000);
	p[n + 8] = MIG_REC_DATA;
	p[n + 11] = 0x0e; /* offset 0xe00 */
	p[n + 12] = 0x20; /* length 0x120 */
	p[n + 13] = 0x01;
	n += 16;
	memset(p + n, 0x5a, 0x120);
	return n + 0x120;
}

static void test_pages_records(void **state)
{
	static u8 p[8192];
	struct mig_pages_iter it;
	struct mig_page_rec rec;
	struct mig_frame f;
	u32 n = build_pages(p);
	int len;
	(void)state;
	len = seal(MIG_T_PAGES, 9, p, n);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
	assert_int_equal(mig_pages_iter_init(&it, f.payload, f.hdr.payload_len), 0);
	assert_int_equal(it.round, 7);
	assert_int_equal(mig_pages_iter_next(&it, &rec), 1);
	assert_int_equal(rec.kind, MIG_REC_ZERO);
	assert_int_equal(rec.length, 3);
	assert_true(rec.ipa == 0x40000000);
	assert_int_equal(mig_pages_iter_next(&it, &rec), 1);
	assert_int_equal(rec.kind, MIG_REC_DATA);
	assert_int_equal(rec.length, 4096);
	assert_int_equal(rec.offset, 0);
	assert_int_equal(rec.data[4095], 0xa5);
	assert_int_equal(mig_pages_iter_next(&it, &rec), 1);
	assert_int_equal(rec.offset, 0xe00);
	assert_int_equal(rec.length, 0x120);
	assert_int_equal(rec.data[0], 0x5a);
	assert_int_equal(mig_pages_iter_next(&it, &rec), 0);
}

static enum mig_reject parse_pages_mutated(u8 *p, u32 n)
{
	struct mig_frame f;
	int len = seal(MIG_T_PAGES, 9, p, n);

	return mig_frame_parse(frame, (size_t)len, &f, &RX);
}

static void test_pages_malformed(void **state)
{
	static u8 p[8192];
	u32 n;
	(void)state;
#define MUTATE(stmt, len_expr)                                                       \
	do {                                                                         \
		n = build_pages(p);                                                  \
		stmt;                                                                \
		assert_int_equal(parse_pages_mutated(p, len_expr), MIG_REJ_PAYLOAD); \
	} while (0)
	MUTATE(p[4] = 4, n);                            /* record count too high */
	MUTATE(p[4] = 2, n);                            /* record count too low: trailing bytes */
	MUTATE(p[6] = 1, n);                            /* reserved flags */
	MUTATE((void)0, n - 1);                         /* last record's data truncated */
	MUTATE((void)0, n + 1);                         /* a stray byte after the records */
	MUTATE((void)0, 5);                             /* no room for the payload header */
	MUTATE(p[8 + 8] = 3, n);                        /* unknown kind */
	MUTATE(p[8 + 9] = 1, n);                        /* reserved byte */
	MUTATE(p[8 + 0] = 0x10, n);                     /* IPA not page aligned */
	MUTATE(p[8 + 12] = 0, n);                       /* zero run of 0 pages */
	MUTATE(p[8 + 10] = 1, n);                       /* zero run with an offset */
	MUTATE((p[24 + 12] = 1, p[24 + 13] = 0x10), n); /* 4097 bytes */
	MUTATE((p[24 + 12] = 0, p[24 + 13] = 0), n);    /* empty data record */
	MUTATE(p[4136 + 11] = 0x0f, n);                 /* offset + length past the page */
#undef MUTATE
}

static void test_other_payloads_malformed(void **state)
{
	u8 p[256] = { 0 };
	struct mig_frame f;
	struct mig_hello h = { .caps = 3,
			       .frame_max = 1514,
			       .rx_window = 4,
			       .compat = { 0x40000000, 1 << 20, 0, 1, 4096 } };
	int len;
	(void)state;
	/* Fixed-size payloads at the wrong size. */
	static const struct {
		u8 type;
		u32 len;
	} wrong[] = {
		{ MIG_T_HELLO, MIG_HELLO_LEN - 1 },
		{ MIG_T_WELCOME, MIG_HELLO_LEN + 1 },
		{ MIG_T_REFUSE, 8 },
		{ MIG_T_HASH, 23 },
		{ MIG_T_COMMIT, 9 },
		{ MIG_T_STATE, 15 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(wrong); i++) {
		len = seal(wrong[i].type, 1, p, wrong[i].len);
		assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_PAYLOAD);
	}
	len = seal(MIG_T_ABORT, 0, p, 15);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_PAYLOAD);
	len = seal(MIG_T_ACK, 0, p, 1);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_PAYLOAD);
	/* HELLO: a zero window, a reserved word. */
	h.rx_window = 0;
	len = seal(MIG_T_HELLO, 1, p, mig_hello_encode(p, &h));
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_PAYLOAD);
	h.rx_window = 4;
	mig_hello_encode(p, &h);
	p[12] = 1;
	len = seal(MIG_T_HELLO, 1, p, MIG_HELLO_LEN);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_PAYLOAD);
	/* ABORT reserved word. */
	memset(p, 0, 16);
	p[4] = 1;
	len = seal(MIG_T_ABORT, 0, p, 16);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_PAYLOAD);
	/* STATE: blob over the limit, offset past the blob, chunk past the blob, empty chunk. */
	{
		static const u32 bad[][4] = {
			{ 0, 0, MIG_STATE_BLOB_MAX + 1, 0 },
			{ 0, 0, 10, 11 },
			{ 0, 0, 10, 8 },
			{ 0, 0, 10, 10 },
			{ MIG_STATE_BLOBS_MAX, 0, 10, 0 },
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			for (int w = 0; w < 4; w++)
				for (int b = 0; b < 4; b++)
					p[w * 4 + b] = (u8)(bad[i][w] >> (8 * b));
			len = seal(MIG_T_STATE, 1, p, 16 + 4);
			if (i == 3)
				len = seal(MIG_T_STATE, 1, p, 16);
			assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX),
					 MIG_REJ_PAYLOAD);
		}
	}
}

static void test_header_rejections(void **state)
{
	u8 p[64] = { 1, 2, 3 };
	struct mig_frame f;
	int len;
	(void)state;
	len = seal(MIG_T_COMMIT, 3, p, 8);
	assert_int_equal(mig_frame_parse(frame, 0, &f, &RX), MIG_REJ_SHORT);
	assert_int_equal(mig_frame_parse(frame, 13, &f, &RX), MIG_REJ_SHORT);
	assert_int_equal(mig_frame_parse(frame, MIG_FRAME_OVERHEAD - 1, &f, &RX), MIG_REJ_SHORT);
	/* Not ours. */
	frame[13] = 0x00;
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_ETHERTYPE);
	len = seal(MIG_T_COMMIT, 3, p, 8);
	frame[MIG_ETH_HDR_LEN] ^= 1;
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_MAGIC);
	len = seal(MIG_T_COMMIT, 3, p, 8);
	frame[MIG_ETH_HDR_LEN + 4] = MIG_VERSION + 1;
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_VERSION);
	/* A bit flipped in the session, or in the payload: the tag. */
	len = seal(MIG_T_COMMIT, 3, p, 8);
	frame[MIG_ETH_HDR_LEN + 9] ^= 0x40;
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_MAC);
	len = seal(MIG_T_COMMIT, 3, p, 8);
	frame[MIG_FRAME_OVERHEAD + 2] ^= 0x01;
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_MAC);
	/* Payload length beyond the frame (resealed: the length is checked before the tag). */
	len = seal(MIG_T_COMMIT, 3, p, 8);
	frame[MIG_ETH_HDR_LEN + 24] = 200;
	mig_frame_update_ack(frame, 77, 5, &TX);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_LENGTH);
	frame[MIG_ETH_HDR_LEN + 24] = 0;
	frame[MIG_ETH_HDR_LEN + 26] = 1; /* 64 KiB: beyond any frame */
	mig_frame_update_ack(frame, 77, 5, &TX);
	assert_int_equal(mig_frame_parse(frame, sizeof(frame), &f, &RX), MIG_REJ_LENGTH);
	/* Types: unknown, zero, sequenced without a seq, unsequenced with one. */
	len = seal(MIG_T_MAX + 1, 3, p, 8);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_TYPE);
	len = seal(0, 3, p, 8);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_TYPE);
	len = seal(MIG_T_COMMIT, 0, p, 8);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_TYPE);
	len = seal(MIG_T_ACK, 5, p, 0);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_TYPE);
	/* Every byte of the counter counts: it is the tag's nonce. */
	for (int b = 28; b < 36; b++) {
		len = seal(MIG_T_COMMIT, 3, p, 8);
		frame[MIG_ETH_HDR_LEN + b] ^= 0x10;
		assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_MAC);
	}
}

static void test_truncation_and_every_bit_flip(void **state)
{
	static u8 p[8192], good[8400];
	struct mig_frame f;
	u32 n = build_pages(p);
	int len = seal(MIG_T_PAGES, 9, p, n);
	u32 rejected = 0;
	(void)state;
	memcpy(good, frame, (size_t)len);
	/* Every truncation of a valid frame is refused. */
	for (int cut = 0; cut < len; cut++)
		assert_int_not_equal(mig_frame_parse(good, (size_t)cut, &f, &RX), MIG_REJ_NONE);
	/* Every single-bit error is caught: the tag covers the Ethernet addresses too. */
	for (u32 bit = 0; bit < (u32)len * 8; bit++) {
		memcpy(frame, good, (size_t)len);
		frame[bit / 8] ^= (u8)(1u << (bit % 8));
		assert_int_not_equal(mig_frame_parse(frame, (size_t)len, &f, &RX), MIG_REJ_NONE);
		rejected++;
	}
	assert_int_equal(rejected, (u32)len * 8);
	/* Random multi-byte garbage never crashes and (almost always) never passes. */
	srand(5);
	for (int i = 0; i < 20000; i++) {
		u32 l = (u32)rand() % 300;

		for (u32 k = 0; k < l; k++)
			frame[k] = (u8)rand();
		frame[12] = 0x88, frame[13] = 0xb5;
		assert_int_not_equal(mig_frame_parse(frame, l, &f, &RX), MIG_REJ_NONE);
	}
}

static void test_compat_and_refusal_text(void **state)
{
	struct mig_compat s = { 0x40000000, 64ULL << 20, 0x3, 2, 4096 }, d = s;
	char buf[200];
	(void)state;
	assert_int_equal(mig_compat_check(&s, &d), MIG_REFUSE_NONE);
	d.cpu_features = 0x7; /* a superset is fine */
	assert_int_equal(mig_compat_check(&s, &d), MIG_REFUSE_NONE);
	d.cpu_features = 0x1;
	assert_int_equal(mig_compat_check(&s, &d), MIG_REFUSE_CPU_FEATURES);
	d = s;
	d.ram_size = 128ULL << 20;
	assert_int_equal(mig_compat_check(&s, &d), MIG_REFUSE_RAM_SIZE);
	mig_refusal_format(buf, sizeof(buf), MIG_REFUSE_RAM_SIZE, 0, &s, &d);
	assert_string_equal(buf, "RAM size differs: source 64 MiB, destination 128 MiB");
	d.ram_size = SZ_1G + 4096;
	mig_refusal_format(buf, sizeof(buf), MIG_REFUSE_RAM_SIZE, 0, &s, &d);
	assert_string_equal(buf, "RAM size differs: source 64 MiB, destination 1048580 KiB");
	d = s;
	d.ram_base = 0x80000000;
	assert_int_equal(mig_compat_check(&s, &d), MIG_REFUSE_RAM_BASE);
	mig_refusal_format(buf, sizeof(buf), MIG_REFUSE_RAM_BASE, 0, &s, &d);
	assert_string_equal(buf, "RAM base differs: source 0x40000000, destination 0x80000000");
	d = s;
	d.vcpus = 1;
	assert_int_equal(mig_compat_check(&s, &d), MIG_REFUSE_VCPUS);
	d = s;
	d.page_size = 16384;
	assert_int_equal(mig_compat_check(&s, &d), MIG_REFUSE_PAGE_SIZE);
	mig_refusal_format(buf, sizeof(buf), MIG_REFUSE_VERSION, 5, &s, &d);
	assert_string_equal(buf, "protocol version differs: source 4, destination speaks up to 5");
	assert_string_equal(mig_refuse_name(999), "unknown reason");
	assert_string_equal(mig_type_name(MIG_T_COMMIT), "COMMIT");
	assert_string_equal(mig_reject_name(MIG_REJ_MAC), "authentication failed");
}

static void test_muldiv(void **state)
{
	(void)state;
	assert_true(mig_muldiv(1ULL << 40, 1000000000ULL, 1000000000ULL) == 1ULL << 40);
	assert_true(mig_muldiv(~0ULL, 3, 2) == ~0ULL); /* saturates */
	assert_true(mig_muldiv(5, 7, 0) == ~0ULL);
	assert_true(mig_muldiv(123456789ULL, 1000000000ULL, 3000000ULL) == 41152263000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_and_hash64_vectors),
		cmocka_unit_test(test_header_round_trip_and_padding),
		cmocka_unit_test(test_messages_round_trip),
		cmocka_unit_test(test_pages_records),
		cmocka_unit_test(test_pages_malformed),
		cmocka_unit_test(test_state_packing),
		cmocka_unit_test(test_other_payloads_malformed),
		cmocka_unit_test(test_header_rejections),
		cmocka_unit_test(test_truncation_and_every_bit_flip),
		cmocka_unit_test(test_compat_and_refusal_text),
		cmocka_unit_test(test_muldiv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
