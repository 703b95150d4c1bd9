/* SPDX-License-Identifier: Apache-2.0 */
/* Reliable, ordered delivery of migration frames over a link that may drop, duplicate, reorder or
 * corrupt them (QEMU's dgram netdev lost about half the frames at full speed: docs/qemu-facts.md).
 *
 * Sender: a window of up to MIG_WINDOW_MAX sealed frames kept for retransmission. A frame leaves
 * the window when the peer's cumulative ack passes it. Loss is detected two ways:
 *  - RACK-style: when a frame sent later than frame F has been delivered (cumulatively or
 *    selectively acked) and F was sent more than a reorder allowance before it, F is resent now;
 *    the allowance (a quarter of the smoothed RTT) keeps reordering from causing resends;
 *  - timeout: a frame unacknowledged for one RTO is resent; the RTO follows RFC 6298's integer
 *    estimator and doubles while the oldest frame keeps timing out, but only up to 4x the
 *    estimate and never beyond dead_ns / 32: on a lossy link (not a congested one) unbounded
 *    backoff would spend the whole dead_ns on a handful of tries, and a 50%-loss link needs
 *    dozens for the unlucky frame. The window bounds what a retransmission storm can cost.
 * With SACK at most 33 frames are in flight, all within what one ack describes, so no frame is
 * resent blind; the oldest frame, once lost three times, goes twice back to back so that a
 * periodic fault cannot hit it on every try (docs/migration-protocol.md, "Why 33").
 * Receiver: frames ahead of a gap are copied into a reorder buffer and delivered once the gap
 * fills, so the machines above see every sequenced frame exactly once, in order. Duplicates are
 * dropped and re-acknowledged (their ack was probably lost). Death: nothing heard from the peer for
 * dead_ns, or frames outstanding with no ack progress for dead_ns. Nothing here waits: every
 * function returns at once. */
#include "migrate/mig_link.h"

#include <string.h>

#define LINK_DEF_FRAME MIG_FRAME_MIN
#define LINK_DEF_RTO_INIT 100000000ULL
#define LINK_DEF_RTO_MIN 1000000ULL
#define LINK_DEF_RTO_MAX 500000000ULL
#define LINK_DEF_KEEPALIVE 50000000ULL
#define LINK_DEF_DEAD 3000000000ULL

static inline bool seq_lt(u32 a, u32 b) { return (s64)(int32_t)(a - b) < 0; }

/* Whether the peer's acknowledgement can say anything about frame seq: the cumulative ack covers
 * the oldest frame, the 32-bit selective ack the 32 after it. A frame further on may well have
 * arrived (the receiver buffers a whole window) but no ack can tell, so it is never judged lost:
 * resending it would only make duplicates, and a fixed set of such resends, repeated every probe
 * timeout, can line up with a periodic fault so that the oldest frame is hit every time. */
static inline bool in_ack_reach(const struct mig_link *l, u32 seq)
{
	return seq - l->tx_una <= (l->sack ? 32u : 0u);
}

static inline struct mig_txslot *tx_slot(struct mig_link *l, u32 seq)
{
	return &l->tx[seq % l->cfg.tx_window];
}

/* Each window slot: MIG_TX_HEADROOM bytes for a NIC that sends the frame in place, then the frame. */
static inline size_t tx_stride(const struct mig_link_config *c)
{
	return (size_t)c->frame_max + MIG_TX_HEADROOM;
}

static inline u8 *tx_buf(struct mig_link *l, u32 seq)
{
	return l->tx_area + (size_t)(seq % l->cfg.tx_window) * tx_stride(&l->cfg) + MIG_TX_HEADROOM;
}

/* The NIC still holds an earlier send of the frame in this slot (sent in place, not yet read):
 * nothing may write it, and sending it again would only queue a second copy behind the first. */
static inline bool tx_held(struct mig_link *l, u32 seq)
{
	return l->held && l->held(l->ctx, tx_buf(l, seq));
}

static inline u8 *rx_buf(struct mig_link *l, u32 seq)
{
	return l->rx_area + (size_t)(seq % l->cfg.rx_window) * l->cfg.frame_max;
}

static u64 link_now(struct mig_link *l) { return l->now(l->ctx); }

/* 4 MiB in flight: enough to keep QEMU's TCP netdev busy (1.2-2.3 GB/s, docs/qemu-facts.md) across a
 * retransmission timeout of a few ms, without turning the window into a long queue. */
u32 mig_default_window(u32 frame_max)
{
	u32 w = (4u << 20) / MAX(frame_max, 1u);

	return MIN(MAX(w, 16u), MIG_WINDOW_MAX);
}

size_t mig_link_tx_area_size(const struct mig_link_config *cfg)
{
	return tx_stride(cfg) * cfg->tx_window;
}

size_t mig_link_area_size(const struct mig_link_config *cfg)
{
	return mig_link_tx_area_size(cfg) + (size_t)cfg->frame_max * cfg->rx_window;
}

/* What a handshake starts from: no peer, no session, nothing sent or received, nothing
 * negotiated (mig_link_init, and restart_handshake when another attempt's HELLO replaces one). */
static void link_begin(struct mig_link *l)
{
	l->peer_known = false;
	l->session_set = false;
	l->hello_only = true;
	l->sack = false;
	l->session = 0;
	l->frame_max = l->cfg.frame_max;
	l->peer_window = 1;
	l->tx_next = l->tx_una = l->rx_next = 1;
	memset(l->tx, 0, sizeof(l->tx));
	memset(l->rx_len, 0, sizeof(l->rx_len));
	l->ack_owed = false;
}

int mig_link_init(struct mig_link *l, const struct mig_link_config *cfg, const u8 local_mac[6],
		  const u8 peer_mac[6], void *tx_area, void *rx_area, struct mig_stats *stats)
{
	struct mig_link_config c = *cfg;
	u64 now;

	if (!c.frame_max)
		c.frame_max = LINK_DEF_FRAME;
	if (!c.rto_init_ns)
		c.rto_init_ns = LINK_DEF_RTO_INIT;
	if (!c.rto_min_ns)
		c.rto_min_ns = LINK_DEF_RTO_MIN;
	if (!c.rto_max_ns)
		c.rto_max_ns = LINK_DEF_RTO_MAX;
	if (!c.keepalive_ns)
		c.keepalive_ns = LINK_DEF_KEEPALIVE;
	if (!c.dead_ns)
		c.dead_ns = LINK_DEF_DEAD;
	/* At least 32 tries of the oldest frame before the link is declared dead: on a link that
	 * loses half the frames, fewer would kill healthy migrations (0.5^32 is negligible). */
	c.rto_max_ns = MIN(c.rto_max_ns, c.dead_ns / 32);
	c.rto_min_ns = MIN(c.rto_min_ns, c.rto_max_ns);
	if (c.frame_max < MIG_FRAME_MIN || c.frame_max > MIG_FRAME_MAX || !c.tx_window ||
	    c.tx_window > MIG_WINDOW_MAX || !c.rx_window || c.rx_window > MIG_WINDOW_MAX ||
	    c.rto_min_ns > c.rto_max_ns || !tx_area || !rx_area || !l->send || !l->now ||
	    !l->send_in_place != !l->held)
		return FERRY_EINVAL;
	l->cfg = c;
	l->stats = stats;
	memcpy(l->local_mac, local_mac, 6);
	memcpy(l->peer_mac, peer_mac, 6);
	l->tx_area = tx_area;
	l->rx_area = rx_area;
	link_begin(l);
	l->srtt = l->rttvar = l->rtt_min = 0;
	l->rto = l->rto_base = MIN(MAX(c.rto_init_ns, c.rto_min_ns), c.rto_max_ns);
	now = link_now(l);
	l->last_rx_ns = l->last_progress_ns = l->last_tx_ns = now;
	l->acked_bytes = 0;
	l->busy = false;
	l->fail = MIG_FAIL_NONE;
	stats->rto_ns = l->rto;
	return 0;
}

void mig_link_set_session(struct mig_link *l, u32 session)
{
	l->session = session;
	l->session_set = true;
	l->last_rx_ns = l->last_progress_ns = link_now(l);
}

static u32 rx_sack_bits(struct mig_link *l)
{
	u32 bits = 0;

	if (!l->sack)
		return 0;
	for (u32 i = 0; i < 32 && i + 1 < l->cfg.rx_window; i++)
		if (l->rx_len[(l->rx_next + 1 + i) % l->cfg.rx_window])
			bits |= 1u << i;
	return bits;
}

/* Sends (or resends) one window frame with the current ack. Returns false when the device is busy
 * or failed: the caller stops sending for this round. */
static bool send_slot(struct mig_link *l, u32 seq, u64 now)
{
	struct mig_txslot *s = tx_slot(l, seq);
	u8 *f = tx_buf(l, seq);
	int rc;

	if (tx_held(l, seq))
		rc = FERRY_EBUSY;
	/* Resealed under a new counter: the ack changed, and no nonce may seal two frames. */
	else if (mig_frame_update_ack(f, l->rx_next, rx_sack_bits(l), &l->auth)) {
		l->fail = MIG_FAIL_SEND;
		return false;
	} else
		rc = l->send_in_place ? l->send_in_place(l->ctx, f, s->len)
				      : l->send(l->ctx, f, s->len);
	if (rc == FERRY_EBUSY) {
		l->stats->send_busy++;
		l->busy = true;
		return false;
	}
	if (rc < 0) {
		l->fail = MIG_FAIL_SEND;
		return false;
	}
	if (s->sends)
		l->stats->retransmissions++;
	else
		l->last_new_ns = now;
	s->sends++;
	s->sent_ns = now;
	s->state = MIG_TX_INFLIGHT;
	l->stats->frames_sent++;
	l->stats->bytes_sent += s->len;
	l->last_tx_ns = now;
	l->ack_owed = false;
	return true;
}

u32 mig_link_inflight(const struct mig_link *l) { return l->tx_next - l->tx_una; }

u64 mig_link_inflight_bytes(const struct mig_link *l)
{
	u64 bytes = 0;

	for (u32 q = l->tx_una; q != l->tx_next; q++)
		if (l->tx[q % l->cfg.tx_window].state != MIG_TX_SACKED)
			bytes += l->tx[q % l->cfg.tx_window].len;
	return bytes;
}

bool mig_link_idle(const struct mig_link *l) { return l->tx_next == l->tx_una; }

bool mig_link_acked(const struct mig_link *l, u32 seq) { return seq_lt(seq, l->tx_una); }

/* Frames in flight, at most: both windows, and with SACK no more than one ack can describe (the
 * oldest plus the 32 the selective ack covers). A frame beyond that could have arrived without
 * the sender ever learning it: it would be resent blind, as a duplicate, or left to wait. */
static u32 tx_limit(const struct mig_link *l)
{
	u32 limit = MIN(l->cfg.tx_window, l->peer_window);

	return l->sack ? MIN(limit, 33u) : limit;
}

u8 *mig_link_open(struct mig_link *l, u32 *cap)
{
	u32 limit = tx_limit(l);

	if (l->fail || mig_link_inflight(l) >= limit || tx_held(l, l->tx_next))
		return NULL;
	*cap = l->frame_max - MIG_FRAME_COST;
	return tx_buf(l, l->tx_next) + MIG_FRAME_OVERHEAD;
}

s64 mig_link_queue(struct mig_link *l, u8 type, u16 flags, u32 len)
{
	u32 seq = l->tx_next;
	struct mig_txslot *s = tx_slot(l, seq);
	struct mig_hdr h = {
		.version = MIG_VERSION,
		.type = type,
		.flags = flags,
		.session = l->session,
		.seq = seq,
		.ack = l->rx_next,
		.sack = 0,
		.payload_len = len,
	};
	bool queued_before = false;
	int flen;

	if (mig_link_inflight(l) >= tx_limit(l) || tx_held(l, seq))
		return FERRY_EBUSY;
	flen = mig_frame_seal(tx_buf(l, seq), l->frame_max, l->peer_mac, l->local_mac, &h,
			      &l->auth);
	if (flen < 0)
		return flen;
	for (u32 q = l->tx_una; q != seq; q++)
		if (tx_slot(l, q)->state == MIG_TX_QUEUED)
			queued_before = true;
	if (mig_link_idle(l))
		l->last_progress_ns = link_now(l);
	s->seq = seq;
	s->len = (u32)flen;
	s->sends = 0;
	s->sent_ns = 0;
	s->state = MIG_TX_QUEUED;
	l->tx_next++;
	/* Frames leave in sequence order: never overtake one still waiting for the device. */
	if (!queued_before && !l->busy)
		send_slot(l, seq, link_now(l));
	return seq;
}

int mig_link_send_unsequenced(struct mig_link *l, u8 type, u16 flags, const u8 *payload, u32 len)
{
	u8 f[MIG_FRAME_COST + MIG_ABORT_LEN + MIG_ETH_MIN_FRAME];
	struct mig_hdr h = {
		.version = MIG_VERSION,
		.type = type,
		.flags = flags,
		.session = l->session,
		.seq = 0,
		.ack = l->rx_next,
		.sack = rx_sack_bits(l),
		.payload_len = len,
	};
	int flen, rc;

	if (len > MIG_ABORT_LEN || (type == MIG_T_ACK && len))
		return FERRY_EINVAL;
	if (len)
		memcpy(f + MIG_FRAME_OVERHEAD, payload, len);
	/* FERRY_EPERM before the source has the session key: nothing could verify it. */
	flen = mig_frame_seal(f, sizeof(f), l->peer_mac, l->local_mac, &h, &l->auth);
	if (flen < 0)
		return flen;
	rc = l->send(l->ctx, f, (size_t)flen);
	if (rc < 0) {
		if (rc == FERRY_EBUSY)
			l->stats->send_busy++;
		return rc;
	}
	l->stats->frames_sent++;
	l->stats->bytes_sent += (u64)flen;
	if (type == MIG_T_ACK) {
		l->stats->acks_sent++;
		l->ack_owed = false;
	}
	l->last_tx_ns = link_now(l);
	return 0;
}

void mig_link_flush_ack(struct mig_link *l)
{
	if (l->ack_owed && l->peer_known && l->session_set)
		mig_link_send_unsequenced(l, MIG_T_ACK, 0, NULL, 0);
}

static void rtt_sample(struct mig_link *l, u64 r)
{
	u64 var;

	if (!l->srtt) {
		l->srtt = r ? r : 1;
		l->rttvar = r / 2;
	} else {
		u64 diff = l->srtt > r ? l->srtt - r : r - l->srtt;

		l->rttvar = (3 * l->rttvar + diff) / 4;
		l->srtt = (7 * l->srtt + r) / 8;
	}
	var = MAX(4 * l->rttvar, l->cfg.rto_min_ns);
	l->rto_base = MIN(MAX(l->srtt + var, l->cfg.rto_min_ns), l->cfg.rto_max_ns);
	l->rto = l->rto_base;
	if (!l->rtt_min || r < l->rtt_min)
		l->rtt_min = r ? r : 1;
	l->stats->rtt_ns = l->srtt;
	l->stats->rto_ns = l->rto;
	l->stats->rtt_min_ns = l->rtt_min;
}

/* Whether an ack of this frame dates a delivery (the newest a RACK pass compares with). A frame
 * sent again and acknowledged sooner after that than any round trip ever took was delivered by
 * an earlier transmission (RFC 8985, 6.2): taking its resend time instead would find every frame
 * sent before the resend lost at once, and send the whole window again after one spurious
 * timeout. */
static bool dates_delivery(const struct mig_link *l, const struct mig_txslot *s, u64 now)
{
	return s->state != MIG_TX_QUEUED && (s->sends <= 1 || now - s->sent_ns >= l->rtt_min);
}

/* Returns whether the ack told anything new (a frame left the window or was selectively acked). */
static bool handle_ack(struct mig_link *l, u32 ack, u32 sack, u64 now)
{
	u64 newest_delivered = 0, sample = 0;
	bool have_sample = false, news = false;

	/* An ack beyond what was sent is garbage (or another incarnation): ignore it. */
	if (seq_lt(l->tx_next, ack))
		return false;
	while (seq_lt(l->tx_una, ack)) {
		struct mig_txslot *s = tx_slot(l, l->tx_una);

		/* RTT samples: Karn's rule (a resent frame's ack cannot tell which transmission it
		 * answers), and only the newest frame this ack covers: older ones may have waited
		 * at the receiver behind a hole, which measures the loss, not the path. */
		if (l->tx_una + 1 == ack && s->sends == 1 && s->state == MIG_TX_INFLIGHT) {
			sample = now - s->sent_ns;
			have_sample = true;
		}
		if (dates_delivery(l, s, now))
			newest_delivered = MAX(newest_delivered, s->sent_ns);
		l->acked_bytes += s->len;
		s->state = MIG_TX_FREE;
		l->tx_una++;
		l->last_progress_ns = now;
		news = true;
	}
	if (l->sack)
		for (u32 i = 0; i < 32; i++) {
			u32 seq = ack + 1 + i;
			struct mig_txslot *s;

			if (!(sack & (1u << i)) || !seq_lt(seq, l->tx_next) ||
			    seq_lt(seq, l->tx_una))
				continue;
			s = tx_slot(l, seq);
			if (s->state == MIG_TX_INFLIGHT) {
				if (s->sends == 1 && !have_sample) {
					sample = now - s->sent_ns;
					have_sample = true;
				}
				if (dates_delivery(l, s, now))
					newest_delivered = MAX(newest_delivered, s->sent_ns);
				s->state = MIG_TX_SACKED;
				news = true;
			}
		}
	if (have_sample)
		rtt_sample(l, sample);
	if (newest_delivered) {
		u64 allowance = MAX(l->srtt / 4, l->cfg.rto_min_ns / 2);

		for (u32 q = l->tx_una; q != l->tx_next && !l->busy && !l->fail; q++) {
			struct mig_txslot *s = tx_slot(l, q);

			if (!in_ack_reach(l, q))
				break;
			if (s->state == MIG_TX_INFLIGHT &&
			    s->sent_ns + allowance < newest_delivered) {
				l->stats->fast_retransmissions++;
				send_slot(l, q, now);
			}
		}
	}
	return news;
}

/* A destination that has accepted nothing but a HELLO has promised nothing yet: when a HELLO of
 * another attempt verifies, the one taken was stale (a retransmission still on its way from an
 * attempt that gave up, or a replay) and the handshake starts again under the new one, from a link
 * as new. Without this a stale HELLO answered first would make the real attempt's frames fail
 * authentication until it gave up. Once any other frame is accepted the session is fixed. */
static void restart_handshake(struct mig_link *l)
{
	l->stats->hello_restarts++;
	link_begin(l);
}

struct mig_res mig_link_input(struct mig_link *l, const u8 *frame, size_t len)
{
	struct mig_frame f;
	enum mig_reject r;
	u64 now;
	s64 ahead;
	bool fresh;
	enum mig_fail rc;

	l->stats->frames_received++;
	l->stats->bytes_received += len;
	l->auth.rehello = l->session_set && l->hello_only;
	r = mig_frame_parse(frame, len, &f, &l->auth);
	if (r == MIG_REJ_NONE && len > l->cfg.frame_max)
		r = MIG_REJ_LENGTH;
	if (r == MIG_REJ_NONE && l->auth.pend_restart) {
		if (f.hdr.seq == 1)
			restart_handshake(l);
		else
			r = MIG_REJ_SESSION;
	}
	if (r == MIG_REJ_NONE && !l->session_set && !(f.hdr.type == MIG_T_HELLO && f.hdr.seq == 1))
		r = MIG_REJ_SESSION;
	if (r == MIG_REJ_NONE && l->session_set && f.hdr.session != l->session)
		r = MIG_REJ_SESSION;
	if (r != MIG_REJ_NONE) {
		l->stats->rejected[r]++;
		if (r == MIG_REJ_MAC)
			l->stats->corrupt++;
		return mig_res_reject(r);
	}
	/* An authentic unsequenced frame (ACK, ABORT) must carry a counter beyond any accepted
	 * so far: a recorded one, played again, neither acknowledges, aborts nor keeps a dying
	 * link alive. Sequenced frames need no such rule: their sequence numbers already make a
	 * replay a duplicate. */
	if (f.hdr.seq == 0 && !mig_auth_fresh(&l->auth, f.hdr.ctr)) {
		l->stats->stale++;
		return MIG_RES_OK;
	}
	fresh = mig_auth_accept(&l->auth, f.hdr.ctr);
	if (f.hdr.type != MIG_T_HELLO || f.hdr.seq != 1)
		l->hello_only = false;
	now = link_now(l);
	if (!l->session_set)
		mig_link_set_session(l, f.hdr.session);
	if (!l->peer_known) {
		memcpy(l->peer_mac, f.src, 6);
		l->peer_known = true;
	}
	/* Only a frame newer than all before shows the peer alive: a replayed one must not hold
	 * off LINK_DEAD. Its ack is still true (it was the peer's, in this session). */
	if (fresh)
		l->last_rx_ns = now;
	/* An ack that told something new is answered at once, by a frame of our own if one goes
	 * out in this poll, else by a bare ACK. A link that holds a small write back until the
	 * previous one is acknowledged (TCP with Nagle's algorithm: QEMU's -netdev stream and
	 * socket set TCP_NODELAY only on the connecting side) would otherwise keep the peer's next
	 * frame for the delayed-ACK timeout (40 ms on Linux) whenever we have nothing to send:
	 * measured, the acks of the final round and the COMMIT each reached the source about
	 * 50 ms late. An answer carries no news itself, so two peers never echo each other. */
	if (handle_ack(l, f.hdr.ack, f.hdr.sack, now) && l->session_set)
		l->ack_owed = true;
	if (f.hdr.seq == 0) {
		if (f.hdr.type == MIG_T_ABORT || (f.hdr.flags & MIG_F_CLOSE))
			return mig_res_fail(l->deliver(l->owner, &f));
		return MIG_RES_OK;
	}
	ahead = (int32_t)(f.hdr.seq - l->rx_next);
	l->ack_owed = true;
	if (ahead < 0) {
		l->stats->duplicates++;
		return MIG_RES_OK;
	}
	if (ahead >= (s64)l->cfg.rx_window) {
		l->stats->out_of_window++;
		return MIG_RES_OK;
	}
	if (ahead > 0) {
		u32 slot = f.hdr.seq % l->cfg.rx_window;

		if (l->rx_len[slot]) {
			l->stats->duplicates++;
		} else {
			memcpy(rx_buf(l, f.hdr.seq), frame, len);
			l->rx_len[slot] = (u32)len;
			l->stats->reordered++;
		}
		return MIG_RES_OK;
	}
	/* In order: deliver, then whatever the reorder buffer holds right behind it. The ack
	 * counter moves first so that a reply sent from deliver already acknowledges this frame. */
	l->rx_next++;
	rc = l->deliver(l->owner, &f);
	/* A frame the machine refused is not acknowledged: an ack is the peer's proof that the
	 * frame was taken (the acknowledgement of COMMIT is what lets the destination resume). */
	if (rc)
		l->rx_next--;
	while (!rc) {
		u32 slot = l->rx_next % l->cfg.rx_window;
		u32 blen = l->rx_len[slot];

		if (!blen)
			break;
		l->rx_len[slot] = 0;
		l->rx_next++;
		/* Checked when it arrived; parsed again only to rebuild the view. */
		if (mig_frame_parse(rx_buf(l, l->rx_next - 1), blen, &f, NULL) != MIG_REJ_NONE)
			return mig_res_fail(MIG_FAIL_PROTOCOL);
		rc = l->deliver(l->owner, &f);
		if (rc)
			l->rx_next--;
	}
	return mig_res_fail(rc);
}

enum mig_fail mig_link_service(struct mig_link *l)
{
	u64 now = link_now(l), pto;
	bool oldest_timed_out = false;

	if (l->fail)
		return l->fail;
	l->busy = false;
	/* Probe timeout (two smoothed RTTs) instead of the RTO for frames already found lost once,
	 * and for the oldest frame when nothing was sent after it (window full, or the sender
	 * waits): RACK cannot find those lost again (no later frame will be acknowledged), and a
	 * whole RTO per lost retransmission stalls a 50%-loss link. Not for other frames: probing
	 * every frame of a full window would be a retransmission storm. */
	pto = MIN(MAX(2 * l->srtt, l->cfg.rto_min_ns), l->rto);
	if (!l->srtt)
		pto = l->rto;
	for (u32 q = l->tx_una; q != l->tx_next && !l->busy && !l->fail; q++) {
		struct mig_txslot *s = tx_slot(l, q);
		bool probe = s->sends >= 2 || (q == l->tx_una && l->last_new_ns <= s->sent_ns);
		u64 timeout = probe ? pto : l->rto;

		if (s->state == MIG_TX_QUEUED) {
			send_slot(l, q, now);
		} else if (s->state == MIG_TX_INFLIGHT && now - s->sent_ns >= timeout &&
			   (q == l->tx_una || (s->sends >= 2 && in_ack_reach(l, q)))) {
			/* A first transmission times out only as the oldest frame: a receiver
			 * that stalled (a descheduled QEMU) would otherwise get the whole window
			 * again at once, queue behind it and stall longer (measured on -netdev
			 * stream: hundreds of spurious resends per run). Losses further on are
			 * found by the selective acks (RACK, in ack_update) or in turn. */
			if (q == l->tx_una)
				oldest_timed_out = true;
			send_slot(l, q, now);
			/* The oldest frame lost three times over: send it twice back to back. A
			 * fault that hits one frame in N (N >= 2) cannot take both copies, however
			 * our schedule lines up with it; the receiver drops the spare copy. */
			if (q == l->tx_una && s->sends >= 4 && !l->busy && !l->fail)
				send_slot(l, q, now);
		}
	}
	if (oldest_timed_out) {
		l->rto = MIN(MIN(l->rto * 2, 4 * l->rto_base), l->cfg.rto_max_ns);
		l->stats->rto_ns = l->rto;
	}
	if (l->fail)
		return l->fail;
	if (l->session_set) {
		if (now - l->last_rx_ns > l->cfg.dead_ns)
			l->fail = MIG_FAIL_LINK_DEAD;
		else if (!mig_link_idle(l) && now - l->last_progress_ns > l->cfg.dead_ns)
			l->fail = MIG_FAIL_NO_PROGRESS;
		if (l->fail)
			return l->fail;
		if (l->peer_known && now - l->last_tx_ns >= l->cfg.keepalive_ns) {
			l->ack_owed = true;
			l->stats->keepalives_sent++;
		}
	}
	/* The owed ack goes out at the end of the caller's poll (mig_link_flush_ack), where a frame
	 * sent meanwhile has already carried it. */
	return 0;
}
