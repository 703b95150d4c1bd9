/* SPDX-License-Identifier: Apache-2.0 */
/* The migration link's authentication (hyp/migrate/mig_auth.c through the frame codec and the
 * transport): the handshake's keys agree, and a frame is refused when a byte was changed, when it
 * was sealed under another key, when it comes from an earlier session, when it is cut short, when
 * it is reflected back to its sender; a replayed sequenced frame is a duplicate and a replayed
 * acknowledgement is stale (ignored, and it does not keep the link alive). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mig_auth_pair.h"
#include "migrate/mig_link.h"
#include "migrate/mig_wire.h"

static const u8 MAC_S[6] = { 2, 0, 0, 0, 0, 1 };
static const u8 MAC_D[6] = { 2, 0, 0, 0, 0, 2 };
static u8 frame[8192];

static int seal_with(struct mig_auth *a, u8 type, u32 seq, u32 session, const void *p, u32 len)
{
	struct mig_hdr h = { .version = MIG_VERSION,
			     .type = type,
			     .session = session,
			     .seq = seq,
			     .ack = 1,
			     .payload_len = len };

	if (len) /* p may be NULL for an empty payload: memmove's arguments must not be */
		memmove(frame + MIG_FRAME_OVERHEAD, p, len);
	return mig_frame_seal(frame, sizeof(frame), MAC_D, MAC_S, &h, a);
}

static void test_handshake_keys_agree_both_ways(void **state)
{
	struct mig_auth s, d;
	struct mig_frame f;
	u8 c[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int len;
	(void)state;
	mig_test_auth_pair(&s, &d, 77);
	assert_true(s.have_session && d.have_session);
	assert_memory_equal(s.session_key, d.session_key, MIG_KEY_LEN);
	assert_memory_not_equal(s.session_key, s.hello_key, MIG_KEY_LEN);
	len = seal_with(&d, MIG_T_COMMIT, 2, 77, c, 8);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &s), MIG_REJ_NONE);
	assert_memory_equal(f.payload, c, 8);
	len = seal_with(&s, MIG_T_HASH, 2, 77, (u8[24]){ 0 }, 24);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &d), MIG_REJ_NONE);
	/* Reflected to its sender: the direction is part of the nonce. */
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &s), MIG_REJ_MAC);
	/* The same frame sealed twice never carries the same counter, or the same tag. */
	{
		u8 tag1[MIG_TAG_LEN];
		u64 c1;

		len = seal_with(&s, MIG_T_HASH, 3, 77, (u8[24]){ 0 }, 24);
		memcpy(tag1, frame + len - MIG_TAG_LEN, MIG_TAG_LEN);
		c1 = get_le64(frame + MIG_ETH_HDR_LEN + 28);
		len = seal_with(&s, MIG_T_HASH, 3, 77, (u8[24]){ 0 }, 24);
		assert_true(get_le64(frame + MIG_ETH_HDR_LEN + 28) == c1 + 1);
		assert_memory_not_equal(tag1, frame + len - MIG_TAG_LEN, MIG_TAG_LEN);
	}
}

static void test_tampered_byte_anywhere(void **state)
{
	static u8 good[8192], p[4200];
	struct mig_auth s, d;
	struct mig_frame f;
	int len;
	(void)state;
	mig_test_auth_pair(&s, &d, 5);
	/* A PAGES frame carrying one whole page. */
	memset(p, 0, sizeof(p));
	put_le32(p, 0);
	put_le16(p + 4, 1);
	put_le64(p + 8, 0x40000000);
	p[16] = MIG_REC_DATA;
	put_le32(p + 20, 4096);
	for (u32 i = 0; i < 4096; i++)
		p[24 + i] = (u8)(i * 7);
	len = seal_with(&s, MIG_T_PAGES, 2, 5, p, 24 + 4096);
	memcpy(good, frame, (size_t)len);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &d), MIG_REJ_NONE);
	for (int i = 0; i < len; i++) {
		memcpy(frame, good, (size_t)len);
		frame[i] ^= 0x20;
		enum mig_reject r = mig_frame_parse(frame, (size_t)len, &f, &d);

		assert_int_not_equal(r, MIG_REJ_NONE);
		/* Past the fields checked before the tag (EtherType, magic, version, length),
		 * the tag is what refuses it. */
		if (i >= (int)MIG_FRAME_OVERHEAD || (i >= 14 + 5 && i < 14 + 24) || i < 12)
			assert_int_equal(r, MIG_REJ_MAC);
	}
}

static void test_wrong_key(void **state)
{
	struct mig_auth s, d, s2, d2;
	struct mig_frame f;
	u8 other[MIG_KEY_LEN];
	int len;
	(void)state;
	memcpy(other, MIG_TEST_KEY, MIG_KEY_LEN);
	other[31] ^= 0x80;
	mig_test_auth_pair_seeded(&s, &d, 9, 1, other);
	assert_false(d.have_hello); /* the HELLO did not verify: nothing was established */
	assert_false(d.have_session);
	assert_false(s.have_session);
	/* A frame of one pair's session is refused by a pair with another key. */
	mig_test_auth_pair(&s, &d, 9);
	mig_test_auth_pair_seeded(&s2, &d2, 9, 1, NULL);
	memcpy(s2.shared, other, MIG_KEY_LEN);
	len = seal_with(&s, MIG_T_HASH, 2, 9, (u8[24]){ 0 }, 24);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &d), MIG_REJ_NONE);
	memset(d2.session_key, 0xee, MIG_KEY_LEN); /* as if derived from another shared key */
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &d2), MIG_REJ_MAC);
}

static void test_earlier_session_replayed(void **state)
{
	static u8 old_hello[256], old_hash[256];
	struct mig_auth s1, d1, s2, d2, dfresh;
	struct mig_frame f;
	u8 nd[MIG_NONCE_LEN];
	int hlen, len;
	struct mig_hello h = { .frame_max = 1514,
			       .rx_window = 4,
			       .compat = { 0x40000000, 1 << 20, 0, 1, 4096 } };
	(void)state;
	/* Session one: its HELLO and a HASH frame, recorded. */
	mig_test_auth_pair_seeded(&s1, &d1, 42, 1, NULL);
	len = seal_with(&s1, MIG_T_HASH, 2, 42, (u8[24]){ 0 }, 24);
	memcpy(old_hash, frame, (size_t)len);
	/* Session two: same key, same session number even; both ends brought new values. */
	mig_test_auth_pair_seeded(&s2, &d2, 42, 2, NULL);
	assert_memory_not_equal(d1.session_key, d2.session_key, MIG_KEY_LEN);
	assert_int_equal(mig_frame_parse(old_hash, (size_t)len, &f, &d2), MIG_REJ_MAC);
	/* A recorded HELLO does verify at a destination that is still listening (it cannot know
	 * the HELLO is old), but the session key also takes the destination's new value: nothing
	 * else recorded from session one verifies there. */
	memcpy(h.nonce, s1.local_nonce, MIG_NONCE_LEN);
	{
		struct mig_hdr hd = { .version = MIG_VERSION,
				      .type = MIG_T_HELLO,
				      .session = 42,
				      .seq = 1,
				      .ack = 1 };
		struct mig_auth s1b;

		mig_auth_init(&s1b, MIG_TEST_KEY, MIG_ROLE_SRC, s1.local_nonce);
		mig_auth_start(&s1b, 42);
		hd.payload_len = mig_hello_encode(old_hello + MIG_FRAME_OVERHEAD, &h);
		hlen = mig_frame_seal(old_hello, sizeof(old_hello), MAC_D, MAC_S, &hd, &s1b);
	}
	for (u32 i = 0; i < MIG_NONCE_LEN; i++)
		nd[i] = (u8)(0x90 + i);
	mig_auth_init(&dfresh, MIG_TEST_KEY, MIG_ROLE_DST, nd);
	assert_int_equal(mig_frame_parse(old_hello, (size_t)hlen, &f, &dfresh), MIG_REJ_NONE);
	mig_auth_accept(&dfresh, f.hdr.ctr);
	assert_true(dfresh.have_session);
	assert_int_equal(mig_frame_parse(old_hash, (size_t)len, &f, &dfresh), MIG_REJ_MAC);
}

static void test_truncated_frame(void **state)
{
	struct mig_auth s, d;
	struct mig_frame f;
	int len;
	(void)state;
	mig_test_auth_pair(&s, &d, 3);
	len = seal_with(&s, MIG_T_HASH, 2, 3, (u8[24]){ 0 }, 24);
	assert_true(len > (int)MIG_ETH_MIN_FRAME);
	for (int cut = 1; cut <= len; cut++) {
		enum mig_reject r = mig_frame_parse(frame, (size_t)(len - cut), &f, &d);

		assert_int_not_equal(r, MIG_REJ_NONE);
		if (len - cut >= (int)MIG_FRAME_COST)
			assert_int_equal(r, MIG_REJ_LENGTH); /* the tag is not all there */
	}
	/* The length field shortened to match, the tag no longer where it was: refused. */
	put_le32(frame + MIG_ETH_HDR_LEN + 24, 16);
	assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &d), MIG_REJ_MAC);
}

/* ---- the transport: replayed sequence numbers and acknowledgements ---- */

static u64 now_val;
static int delivered;
static u64 fake_now(void *ctx)
{
	(void)ctx;
	return now_val;
}
static int fake_send(void *ctx, const void *f, size_t len)
{
	(void)ctx, (void)f, (void)len;
	return 0;
}
static enum mig_fail count_deliver(void *owner, const struct mig_frame *f)
{
	(void)owner, (void)f;
	delivered++;
	return MIG_FAIL_NONE;
}

/* The destination's end of a link in session `session` with the HELLO (1) already in; s seals
 * what the source sends. */
static void dst_link(struct mig_link *l, struct mig_stats *st, u8 *tx, u8 *rx,
		     mig_deliver_fn deliver, struct mig_auth *s, u32 session)
{
	struct mig_link_config cfg = { .frame_max = 1514, .tx_window = 4, .rx_window = 4 };
	struct mig_auth d;

	mig_test_auth_pair(s, &d, session);
	memset(l, 0, sizeof(*l));
	memset(st, 0, sizeof(*st));
	l->send = fake_send;
	l->now = fake_now;
	l->deliver = deliver;
	assert_int_equal(mig_link_init(l, &cfg, MAC_D, MAC_S, tx, rx, st), 0);
	l->auth = d;
	mig_link_set_session(l, session);
	l->rx_next = 2;
}

static void test_replayed_sequence_and_ack(void **state)
{
	static struct mig_link l;
	static struct mig_stats st;
	static u8 tx[4 * (1514 + MIG_TX_HEADROOM)], rx[4 * 1514], commit[128], ack[128];
	struct mig_auth s;
	int clen, alen;
	(void)state;
	now_val = 1000;
	dst_link(&l, &st, tx, rx, count_deliver, &s, 11);
	/* Sequence number 2 (HELLO, 1, already in) arrives once, is delivered once. */
	clen = seal_with(&s, MIG_T_COMMIT, 2, 11, (u8[8]){ 0 }, 8);
	memcpy(commit, frame, (size_t)clen);
	delivered = 0;
	assert_true(mig_res_ok(mig_link_input(&l, commit, (size_t)clen)));
	assert_int_equal(delivered, 1);
	/* Played again: a duplicate, not delivered again. */
	assert_true(mig_res_ok(mig_link_input(&l, commit, (size_t)clen)));
	assert_int_equal(delivered, 1);
	assert_int_equal(st.duplicates, 1);
	/* An acknowledgement, then the same one again later: the replay is stale, ignored, and
	 * does not count as hearing from the peer. */
	alen = seal_with(&s, MIG_T_ACK, 0, 11, NULL, 0);
	memcpy(ack, frame, (size_t)alen);
	now_val = 2000;
	assert_true(mig_res_ok(mig_link_input(&l, ack, (size_t)alen)));
	assert_true(l.last_rx_ns == 2000);
	now_val = 3000;
	assert_true(mig_res_ok(mig_link_input(&l, ack, (size_t)alen)));
	assert_int_equal(st.stale, 1);
	assert_true(l.last_rx_ns == 2000);
	/* A fresh one is taken. */
	alen = seal_with(&s, MIG_T_ACK, 0, 11, NULL, 0);
	assert_true(mig_res_ok(mig_link_input(&l, frame, (size_t)alen)));
	assert_true(l.last_rx_ns == 3000);
	assert_int_equal(st.stale, 1);
	assert_int_equal(st.rejected[MIG_REJ_MAC], 0);
}

/* A HELLO of attempt `seed` in session `session`, sealed as that attempt's source would. */
static int stale_hello(u8 *out, size_t cap, u32 session, u8 seed)
{
	struct mig_auth s;
	struct mig_hello h = { .frame_max = 1514,
			       .rx_window = 4,
			       .compat = { 0x40000000, 1 << 20, 0, 1, 4096 } };
	struct mig_hdr hd = {
		.version = MIG_VERSION, .type = MIG_T_HELLO, .session = session, .seq = 1, .ack = 1
	};
	u8 ns[MIG_NONCE_LEN];

	for (u32 i = 0; i < MIG_NONCE_LEN; i++)
		ns[i] = (u8)(seed * 29 + i + 3);
	assert_int_equal(mig_auth_init(&s, MIG_TEST_KEY, MIG_ROLE_SRC, ns), 0);
	mig_auth_start(&s, session);
	memcpy(h.nonce, ns, MIG_NONCE_LEN);
	hd.payload_len = mig_hello_encode(out + MIG_FRAME_OVERHEAD, &h);
	return mig_frame_seal(out, cap, MAC_D, MAC_S, &hd, &s);
}

static u32 hello_session;
static enum mig_fail hello_deliver(void *owner, const struct mig_frame *f)
{
	(void)owner;
	delivered++;
	if (f->hdr.type == MIG_T_HELLO)
		hello_session = f->hdr.session;
	return MIG_FAIL_NONE;
}

/* A destination that has taken nothing but a HELLO takes another attempt's HELLO in its place
 * (the first was stale: a retransmission from an attempt that gave up); a HELLO of the attempt
 * taken is a duplicate; once anything else of the session was accepted, no other HELLO verifies
 * and the session stays. A HELLO of another attempt never displaces a session with sequence
 * numbers other than 1. */
static void test_stale_hello_replaced_until_session_fixed(void **state)
{
	static struct mig_link l;
	static struct mig_stats st;
	static u8 tx[4 * (1514 + MIG_TX_HEADROOM)], rx[4 * 1514], old[256], cur[256];
	struct mig_link_config cfg = { .frame_max = 1514, .tx_window = 4, .rx_window = 4 };
	struct mig_auth s;
	u8 nd[MIG_NONCE_LEN];
	int olen, clen, len;
	(void)state;
	now_val = 1000;
	for (u32 i = 0; i < MIG_NONCE_LEN; i++)
		nd[i] = (u8)(0x40 + i);
	memset(&l, 0, sizeof(l));
	memset(&st, 0, sizeof(st));
	l.send = fake_send;
	l.now = fake_now;
	l.deliver = hello_deliver;
	assert_int_equal(mig_link_init(&l, &cfg, MAC_D, MAC_S, tx, rx, &st), 0);
	assert_int_equal(mig_auth_init(&l.auth, MIG_TEST_KEY, MIG_ROLE_DST, nd), 0);
	olen = stale_hello(old, sizeof(old), 100, 1);
	clen = stale_hello(cur, sizeof(cur), 200, 2);
	delivered = 0;
	/* The stale one first: taken, as nothing tells it apart. */
	assert_true(mig_res_ok(mig_link_input(&l, old, (size_t)olen)));
	assert_int_equal(hello_session, 100);
	assert_int_equal(l.session, 100);
	/* The real attempt's: the handshake starts again under it. */
	assert_true(mig_res_ok(mig_link_input(&l, cur, (size_t)clen)));
	assert_int_equal(delivered, 2);
	assert_int_equal(hello_session, 200);
	assert_int_equal(l.session, 200);
	assert_int_equal(l.rx_next, 2);
	assert_int_equal(st.hello_restarts, 1);
	/* Its retransmission is a duplicate, not another restart. */
	assert_true(mig_res_ok(mig_link_input(&l, cur, (size_t)clen)));
	assert_int_equal(delivered, 2);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.hello_restarts, 1);
	/* The session's source, sealing as the real one does, is understood: same keys. */
	{
		u8 ns[MIG_NONCE_LEN];
		struct mig_frame f;

		for (u32 i = 0; i < MIG_NONCE_LEN; i++)
			ns[i] = (u8)(2 * 29 + i + 3);
		assert_int_equal(mig_auth_init(&s, MIG_TEST_KEY, MIG_ROLE_SRC, ns), 0);
		mig_auth_start(&s, 200);
		mig_auth_next(&s); /* the HELLO's counter: the two sent above carried 1 */
		{
			struct mig_hello w = { .frame_max = 1514, .rx_window = 4 };
			struct mig_hdr hd = { .version = MIG_VERSION,
					      .type = MIG_T_WELCOME,
					      .session = 200,
					      .seq = 1,
					      .ack = 2 };

			memcpy(w.nonce, nd, MIG_NONCE_LEN);
			hd.payload_len = mig_hello_encode(frame + MIG_FRAME_OVERHEAD, &w);
			len = mig_frame_seal(frame, sizeof(frame), MAC_S, MAC_D, &hd, &l.auth);
			assert_int_equal(mig_frame_parse(frame, (size_t)len, &f, &s), MIG_REJ_NONE);
			mig_auth_accept(&s, f.hdr.ctr);
		}
	}
	len = seal_with(&s, MIG_T_ACK, 0, 200, NULL, 0);
	assert_true(mig_res_ok(mig_link_input(&l, frame, (size_t)len)));
	assert_int_equal(st.stale, 0); /* counters started over with the new attempt */
	assert_false(l.hello_only);
	/* Now the session is fixed: the stale HELLO no longer verifies, and nothing changes. */
	assert_int_equal(mig_link_input(&l, old, (size_t)olen).reject, MIG_REJ_MAC);
	assert_int_equal(l.session, 200);
	assert_int_equal(st.hello_restarts, 1);
	len = seal_with(&s, MIG_T_COMMIT, 2, 200, (u8[8]){ 0 }, 8);
	assert_true(mig_res_ok(mig_link_input(&l, frame, (size_t)len)));
	assert_int_equal(delivered, 3);
}

static enum mig_fail refuse_deliver(void *owner, const struct mig_frame *f)
{
	(void)owner, (void)f;
	return MIG_FAIL_PROTOCOL;
}

/* What the link makes of a frame is one typed result: a frame not accepted is a reject, a frame the
 * machine cannot take is a failure, and neither reads as the other or as a ferry_err (the
 * EtherType reject's code once equalled FERRY_ENOENT's negated). */
static void test_link_result_kinds(void **state)
{
	static struct mig_link l;
	static struct mig_stats st;
	static u8 tx[4 * (1514 + MIG_TX_HEADROOM)], rx[4 * 1514];
	struct mig_auth s;
	struct mig_res r;
	int len;
	(void)state;
	dst_link(&l, &st, tx, rx, refuse_deliver, &s, 12);
	len = seal_with(&s, MIG_T_COMMIT, 2, 12, (u8[8]){ 0 }, 8);
	frame[12] ^= 0x01; /* another EtherType */
	r = mig_link_input(&l, frame, (size_t)len);
	assert_int_equal(r.reject, MIG_REJ_ETHERTYPE);
	assert_int_equal(r.fail, MIG_FAIL_NONE);
	assert_false(mig_res_ok(r));
	assert_string_equal(mig_res_name(r), mig_reject_name(MIG_REJ_ETHERTYPE));
	frame[12] ^= 0x01;
	r = mig_link_input(&l, frame, (size_t)len);
	assert_int_equal(r.reject, MIG_REJ_NONE);
	assert_int_equal(r.fail, MIG_FAIL_PROTOCOL);
	assert_string_equal(mig_res_name(r), mig_fail_name(MIG_FAIL_PROTOCOL));
	assert_string_equal(mig_res_name(MIG_RES_OK), "ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_keys_agree_both_ways),
		cmocka_unit_test(test_tampered_byte_anywhere),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_earlier_session_replayed),
		cmocka_unit_test(test_truncated_frame),
		cmocka_unit_test(test_replayed_sequence_and_ack),
		cmocka_unit_test(test_stale_hello_replaced_until_session_fixed),
		cmocka_unit_test(test_link_result_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
