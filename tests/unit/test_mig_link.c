/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/migrate/mig_link, frame by frame on a hand-driven clock: a NIC that sends window frames in
 * place (it reads them later, from the window) gets no frame rewritten or sent again while it
 * holds it, and an ack that answers a frame's first transmission right after a spurious timeout
 * resent it does not make loss detection resend the whole window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "mig_auth_pair.h"
#include "migrate/mig_link.h"

#define US 1000ULL
#define MS 1000000ULL
#define WINDOW 8u
#define FRAME 1514u
#define SEQ_OFF (MIG_ETH_HDR_LEN + 12) /* the header's sequence number */

static const u8 MAC_S[6] = { 2, 0, 0, 0, 0, 1 }, MAC_D[6] = { 2, 0, 0, 0, 0, 2 };
static u64 now_val;

/* What went to the NIC: each sequenced frame's sends, and the frames the NIC still holds. */
static struct {
	u32 sends[64];
	u32 unsequenced;
	const u8 *held[WINDOW];
	u8 copy[WINDOW][FRAME];
	u32 nheld;
	bool in_place;
} nic;

static u64 fake_now(void *ctx)
{
	(void)ctx;
	return now_val;
}

static void count(const void *f)
{
	u32 seq = get_le32((const u8 *)f + SEQ_OFF);

	if (seq)
		nic.sends[seq % 64]++;
	else
		nic.unsequenced++;
}

static int copy_send(void *ctx, const void *f, size_t len)
{
	(void)ctx, (void)len;
	count(f);
	return 0;
}

static int send_in_place(void *ctx, u8 *f, size_t len)
{
	(void)ctx;
	assert_true(nic.in_place && len <= FRAME && nic.nheld < WINDOW);
	memset(f - MIG_TX_HEADROOM, 0xa5, MIG_TX_HEADROOM); /* the NIC's own header */
	memcpy(nic.copy[nic.nheld], f, len);
	nic.held[nic.nheld++] = f;
	count(f);
	return 0;
}

static bool held(void *ctx, const u8 *f)
{
	(void)ctx;
	for (u32 i = 0; i < nic.nheld; i++)
		if (nic.held[i] == f)
			return true;
	return false;
}

/* The NIC reads every frame it holds: none may have changed since it was handed over. */
static void nic_read_all(void)
{
	for (u32 i = 0; i < nic.nheld; i++)
		assert_memory_equal(nic.held[i], nic.copy[i], FRAME - 64);
	nic.nheld = 0;
}

static enum mig_fail no_deliver(void *owner, const struct mig_frame *f)
{
	(void)owner, (void)f;
	return MIG_FAIL_NONE;
}

static struct mig_stats st;
static u8 tx[WINDOW * (FRAME + MIG_TX_HEADROOM)], rx[WINDOW * FRAME];

/* A source's link in session 7 with the handshake done (the peer's window WINDOW, SACK on); d
 * gets the destination's keys, to seal its acks. */
static void source_link(struct mig_link *l, struct mig_auth *d, bool in_place)
{
	struct mig_link_config cfg = {
		.frame_max = FRAME,
		.tx_window = WINDOW,
		.rx_window = WINDOW,
		.rto_init_ns = 5 * MS,
		.rto_min_ns = 1 * MS,
	};
	struct mig_auth s;

	mig_test_auth_pair(&s, d, 7);
	memset(l, 0, sizeof(*l));
	memset(&st, 0, sizeof(st));
	memset(&nic, 0, sizeof(nic));
	nic.in_place = in_place;
	l->send = copy_send;
	if (in_place) {
		l->send_in_place = send_in_place;
		l->held = held;
	}
	l->now = fake_now;
	l->deliver = no_deliver;
	assert_int_equal(mig_link_init(l, &cfg, MAC_S, MAC_D, tx, rx, &st), 0);
	l->auth = s;
	mig_link_set_session(l, 7);
	l->peer_known = true;
	l->sack = true;
	l->peer_window = WINDOW;
	l->frame_max = FRAME;
}

static void queue_frames(struct mig_link *l, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		u32 cap;
		u8 *p = mig_link_open(l, &cap);

		assert_non_null(p);
		memset(p, (int)i + 1, 1000);
		assert_true(mig_link_queue(l, MIG_T_PAGES, 0, 1000) > 0);
	}
}

/* The destination's ack that every frame below `ack` arrived, sealed with its keys. */
static void feed_ack(struct mig_link *l, struct mig_auth *d, u32 ack)
{
	u8 f[128];
	struct mig_hdr h = {
		.version = MIG_VERSION,
		.type = MIG_T_ACK,
		.session = 7,
		.ack = ack,
	};
	int len = mig_frame_seal(f, sizeof(f), MAC_S, MAC_D, &h, d);

	assert_true(len > 0);
	assert_true(mig_res_ok(mig_link_input(l, f, (size_t)len)));
}

static void test_held_frames_are_left_alone(void **state)
{
	static struct mig_link l;
	struct mig_auth d;
	u32 cap;
	(void)state;
	now_val = 1 * MS;
	source_link(&l, &d, true);
	queue_frames(&l, WINDOW);
	for (u32 seq = 1; seq <= WINDOW; seq++)
		assert_int_equal(nic.sends[seq], 1);
	/* The timeout passes while the NIC still holds every frame: nothing is resealed (the NIC's
	 * copies would show it) and nothing sent twice. */
	now_val += 50 * MS;
	assert_int_equal(mig_link_service(&l), MIG_FAIL_NONE);
	assert_int_equal(nic.sends[1], 1);
	assert_true(st.send_busy > 0);
	/* The first two acked: their slots are free in the window, but the NIC holds them yet, so
	 * no new frame may be written there. */
	feed_ack(&l, &d, 3);
	assert_null(mig_link_open(&l, &cap));
	nic_read_all();
	/* Read: the oldest goes again on its timeout (it is resealed with the current ack first),
	 * and new frames may be written. */
	now_val += 50 * MS;
	assert_int_equal(mig_link_service(&l), MIG_FAIL_NONE);
	assert_int_equal(nic.sends[3], 2);
	assert_non_null(mig_link_open(&l, &cap));
	assert_int_equal(st.retransmissions, 1);
}

/* Frames 1..WINDOW go at t0; the timeout resends the oldest; the ack of its first transmission
 * comes right after, sooner than any round trip the link has seen. That ack must not date a
 * delivery at the resend's time: every other frame would then look lost and go again. */
static void spurious_timeout(bool in_place)
{
	static struct mig_link l;
	struct mig_auth d;
	now_val = 1 * MS;
	source_link(&l, &d, in_place);
	/* One round trip sampled first: 2 ms (frame 1 alone). */
	queue_frames(&l, 1);
	nic_read_all();
	now_val += 2 * MS;
	feed_ack(&l, &d, 2);
	assert_int_equal(st.rtt_min_ns, 2 * MS);
	queue_frames(&l, WINDOW - 1); /* 2..WINDOW at t0 */
	nic_read_all();
	now_val += 20 * MS; /* past the timeout: the oldest, 2, goes again */
	assert_int_equal(mig_link_service(&l), MIG_FAIL_NONE);
	nic_read_all();
	assert_int_equal(nic.sends[2], 2);
	assert_int_equal(st.retransmissions, 1);
	/* 50 us later the ack of 2's first transmission, and of 3 with it: nothing is resent for
	 * it (taken for the resend's, it made 4..WINDOW look lost, sent 20 ms before it). */
	now_val += 50 * US;
	feed_ack(&l, &d, 4);
	nic_read_all();
	for (u32 seq = 4; seq <= WINDOW; seq++)
		assert_int_equal(nic.sends[seq], 1);
	assert_int_equal(st.retransmissions, 1);
	assert_int_equal(st.fast_retransmissions, 0);
	/* Those are as old as 2 was, though: the oldest of them times out, alone. */
	assert_int_equal(mig_link_service(&l), MIG_FAIL_NONE);
	assert_int_equal(nic.sends[4], 2);
	for (u32 seq = 5; seq <= WINDOW; seq++)
		assert_int_equal(nic.sends[seq], 1);
}

static void test_spurious_timeout_copying_nic(void **state)
{
	(void)state;
	spurious_timeout(false);
}

static void test_spurious_timeout_nic_in_place(void **state)
{
	(void)state;
	spurious_timeout(true);
}

/* Both callbacks or neither: a link that could send in place but not ask whether the NIC is done
 * would rewrite frames under it. */
static void test_in_place_needs_held(void **state)
{
	static struct mig_link l;
	struct mig_link_config cfg = { .frame_max = FRAME,
				       .tx_window = WINDOW,
				       .rx_window = WINDOW };
	(void)state;
	memset(&l, 0, sizeof(l));
	l.send = copy_send;
	l.now = fake_now;
	l.send_in_place = send_in_place;
	assert_int_equal(mig_link_init(&l, &cfg, MAC_S, MAC_D, tx, rx, &st), FERRY_EINVAL);
	l.send_in_place = NULL;
	l.held = held;
	assert_int_equal(mig_link_init(&l, &cfg, MAC_S, MAC_D, tx, rx, &st), FERRY_EINVAL);
	/* The window's slots carry the NIC's headroom before each frame. */
	assert_int_equal(mig_link_tx_area_size(&cfg), sizeof(tx));
	assert_int_equal(mig_link_area_size(&cfg), sizeof(tx) + sizeof(rx));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_frames_are_left_alone),
		cmocka_unit_test(test_spurious_timeout_copying_nic),
		cmocka_unit_test(test_spurious_timeout_nic_in_place),
		cmocka_unit_test(test_in_place_needs_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
