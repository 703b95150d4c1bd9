/* SPDX-License-Identifier: Apache-2.0 */
/* The source side of a migration: handshake, round 0 (every page), live rounds of dirty pages until
 * the rest fits the downtime budget, pause, the final pages, the state blobs, the memory hash, and
 * the wait for COMMIT. Until COMMIT arrives every failure resumes the VM: the guest must never
 * notice a migration that did not happen. */
#include "migrate/mig_src.h"

#include <stdio.h>
#include <string.h>

#include "lib/bitmap.h"

#define SRC_DEF_DOWNTIME 50000000ULL
#define SRC_DEF_MAX_ROUNDS 30u
#define SRC_DEF_PAGES_PER_POLL 4096u
#define SRC_DEF_LINGER 1000000000ULL
#define SRC_DEF_RX_WINDOW 4u
#define SRC_DEF_PC_STALL 4u
/* Post-copy: background frames in flight at most, so that a requested page never waits behind
 * more than this many frames of the stream (the window's other frames are the requests'). */
#define SRC_PC_BG_FRAMES 4u
#define NS_PER_S 1000000000ULL
/* A page split across frames: no part smaller than this, or the record header dominates. */
#define SPLIT_MIN 256u
#define WS_ALIGN 64u

static u64 src_now(struct mig_src *m) { return m->ops->now_ns(m->ctx); }

static void src_progress(struct mig_src *m)
{
	if (m->ops->progress)
		m->ops->progress(m->ctx, &m->stats);
}

static void src_fail(struct mig_src *m, int reason, int err)
{
	struct mig_abort_msg a = { .reason = (u32)reason, .detail = 0 };
	u8 p[MIG_ABORT_LEN];

	if (m->phase == MIG_SRC_FAILED || m->phase == MIG_SRC_DONE || m->phase == MIG_SRC_LINGER)
		return;
	/* After the switch's COMMIT the destination runs the VM and this copy is stale: whatever
	 * went wrong, neither end can run it now. Never resumed here (that would run a guest that
	 * already went on elsewhere). */
	if (m->pc_committed) {
		m->pc_cause = reason;
		reason = MIG_FAIL_POSTCOPY_LOST;
		m->paused = false;
	}
	m->fail = reason;
	if (!m->pc_committed)
		m->fail_err = err;
	/* Tell the destination at once, so it drops the incoming VM instead of waiting out dead_ns.
	 * Best effort: a refusal or an abort came from the peer, and a dead link carries nothing.
	 */
	if (reason != MIG_FAIL_REFUSED && reason != MIG_FAIL_PEER_ABORT && m->link.session_set &&
	    m->phase != MIG_SRC_IDLE) {
		mig_abort_encode(p, &a);
		mig_link_send_unsequenced(&m->link, MIG_T_ABORT, 0, p, sizeof(p));
	}
	mig_link_flush_ack(&m->link);
	if (m->paused) {
		m->ops->resume(m->ctx);
		m->paused = false;
	}
	if (m->tracking && m->ops->track_stop)
		m->ops->track_stop(m->ctx);
	m->tracking = false;
	m->phase = MIG_SRC_FAILED;
	m->stats.t_end = src_now(m);
	/* The round the failure cut short ends here: its duration is never negative. */
	if (m->stats.rounds && m->stats.round < MIG_ROUNDS_MAX &&
	    m->stats.r[m->stats.round].end_ns < m->stats.r[m->stats.round].start_ns)
		m->stats.r[m->stats.round].end_ns = m->stats.t_end;
	src_progress(m);
}

static int src_deliver(void *owner, const struct mig_frame *f);

static size_t ws_bitmap_bytes(u64 npages) { return ALIGN_UP(BITMAP_WORDS(npages) * 8, WS_ALIGN); }

static void src_link_defaults(struct mig_link_config *c)
{
	if (!c->frame_max)
		c->frame_max = MIG_FRAME_MIN;
	if (!c->tx_window)
		c->tx_window = mig_default_window(c->frame_max);
	if (!c->rx_window)
		c->rx_window = SRC_DEF_RX_WINDOW;
}

size_t mig_src_workspace_size(const struct mig_src_config *cfg)
{
	struct mig_link_config c = cfg->link;
	u64 npages = cfg->compat.page_size ? cfg->compat.ram_size / cfg->compat.page_size : 0;

	src_link_defaults(&c);
	return 2 * ws_bitmap_bytes(npages) + ALIGN_UP(npages * 8, WS_ALIGN) + 2 * MIG_PAGE_SIZE +
	       MIG_STATE_BLOB_MAX + ALIGN_UP(mig_link_area_size(&c), WS_ALIGN);
}

int mig_src_init(struct mig_src *m, const struct mig_src_config *cfg, const struct mig_src_ops *ops,
		 void *ctx, void *workspace, size_t workspace_len)
{
	const struct mig_compat *c = &cfg->compat;
	u8 *ws = workspace;
	int rc;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->ops = ops;
	m->ctx = ctx;
	m->phase = MIG_SRC_IDLE;
	src_link_defaults(&m->cfg.link);
	if (!m->cfg.downtime_ns)
		m->cfg.downtime_ns = SRC_DEF_DOWNTIME;
	if (!m->cfg.max_rounds)
		m->cfg.max_rounds = SRC_DEF_MAX_ROUNDS;
	if (!m->cfg.pages_per_poll)
		m->cfg.pages_per_poll = SRC_DEF_PAGES_PER_POLL;
	if (!m->cfg.linger_ns)
		m->cfg.linger_ns = SRC_DEF_LINGER;
	if (!m->cfg.pc_stall_rounds)
		m->cfg.pc_stall_rounds = SRC_DEF_PC_STALL;
	if (m->cfg.verify > MIG_VERIFY_FULL || m->cfg.postcopy > MIG_PC_NOW)
		return FERRY_EINVAL;
	if (!ops->send_frame || !ops->now_ns || !ops->read_page || !ops->collect_dirty ||
	    !ops->pause || !ops->resume || !ops->get_state)
		return FERRY_EINVAL;
	if (c->page_size != MIG_PAGE_SIZE || !c->ram_size || c->ram_size % MIG_PAGE_SIZE ||
	    !IS_ALIGNED(c->ram_base, (u64)MIG_PAGE_SIZE) || !cfg->session ||
	    m->cfg.max_rounds > MIG_ROUNDS_MAX - 2)
		return FERRY_EINVAL;
	if (!workspace || !IS_ALIGNED((uintptr_t)workspace, 8) ||
	    workspace_len < mig_src_workspace_size(cfg))
		return FERRY_ENOMEM;
	m->npages = c->ram_size / MIG_PAGE_SIZE;
	m->dirty = (u64 *)(void *)ws;
	ws += ws_bitmap_bytes(m->npages);
	m->page_buf = ws;
	ws += MIG_PAGE_SIZE;
	m->hash_buf = ws;
	ws += MIG_PAGE_SIZE;
	m->blob = ws;
	ws += MIG_STATE_BLOB_MAX;
	bitmap_zero(m->dirty, m->npages);
	m->req = (u64 *)(void *)ws;
	ws += ws_bitmap_bytes(m->npages);
	bitmap_zero(m->req, m->npages);
	m->digest = (u64 *)(void *)ws;
	ws += ALIGN_UP(m->npages * 8, WS_ALIGN);
	memset(m->digest, 0, m->npages * 8);
	m->link.send = ops->send_frame;
	m->link.now = ops->now_ns;
	m->link.ctx = ctx;
	m->link.deliver = src_deliver;
	m->link.owner = m;
	rc = mig_link_init(&m->link, &m->cfg.link, cfg->local_mac, cfg->peer_mac, ws,
			   ws + (size_t)m->cfg.link.frame_max * m->cfg.link.tx_window, &m->stats);
	if (rc)
		return rc;
	m->cfg.link = m->link.cfg;
	rc = mig_auth_init(&m->link.auth, cfg->key, MIG_ROLE_SRC, cfg->nonce);
	if (rc)
		return rc;
	mig_auth_start(&m->link.auth, cfg->session);
	mig_link_set_session(&m->link, cfg->session);
	m->stats.pages_total = m->npages;
	m->last_zero_rec = ~0u;
	return 0;
}

int mig_src_start(struct mig_src *m)
{
	struct mig_hello h = {
		/* Offering the page digest is the source's choice of verification. */
		.caps = m->cfg.verify == MIG_VERIFY_FULL ? MIG_CAPS_V1 & ~MIG_CAP_PAGE_DIGEST
							 : MIG_CAPS_V1,
		.frame_max = m->cfg.link.frame_max,
		.rx_window = m->cfg.link.rx_window,
		.compat = m->cfg.compat,
	};
	u32 cap;

	memcpy(h.nonce, m->cfg.nonce, MIG_NONCE_LEN);
	/* Post-copy verifies by page digests (the check runs when the last page has arrived). */
	if (m->cfg.postcopy == MIG_PC_OFF || m->cfg.verify == MIG_VERIFY_FULL)
		h.caps &= ~MIG_CAP_POSTCOPY;
	u8 *p;
	s64 seq;

	if (m->phase != MIG_SRC_IDLE)
		return FERRY_EBUSY;
	m->stats.t_start = src_now(m);
	mig_link_set_session(&m->link, m->cfg.session);
	p = mig_link_open(&m->link, &cap);
	if (!p)
		return FERRY_EBUSY;
	seq = mig_link_queue(&m->link, MIG_T_HELLO, 0, mig_hello_encode(p, &h));
	if (seq < 0)
		return (int)seq;
	m->phase = MIG_SRC_HELLO;
	if (m->link.fail) {
		src_fail(m, m->link.fail, 0);
		return FERRY_EIO;
	}
	return 0;
}

static int src_begin_rounds(struct mig_src *m)
{
	u64 now = src_now(m);

	if (m->ops->track_start) {
		int rc = m->ops->track_start(m->ctx);

		if (rc) {
			src_fail(m, MIG_FAIL_TRACKING, rc);
			return MIG_FAIL_TRACKING;
		}
	}
	m->tracking = true;
	m->phase = MIG_SRC_LIVE;
	m->stats.round = 0;
	m->stats.rounds = 1;
	m->stats.r[0].start_ns = now;
	m->stats.pages_left = m->npages;
	m->t_first_send = now;
	m->last_collect_ns = now;
	m->cursor = 0;
	src_progress(m);
	return 0;
}

static int src_on_welcome(struct mig_src *m, const struct mig_frame *f)
{
	struct mig_hello w;

	if (mig_hello_decode(f->payload, f->hdr.payload_len, &w))
		return MIG_FAIL_PROTOCOL;
	/* The destination answers with the smaller frame size; a larger one would be a broken peer.
	 */
	if (w.frame_max < MIG_FRAME_MIN || w.frame_max > m->cfg.link.frame_max)
		return MIG_FAIL_PROTOCOL;
	m->link.frame_max = w.frame_max;
	m->link.peer_window = MIN(w.rx_window, (u32)MIG_WINDOW_MAX);
	m->link.sack = (w.caps & MIG_CAP_SACK) != 0;
	m->caps = w.caps & MIG_CAPS_V1;
	/* A destination that does not keep page digests gets the full-memory hash. */
	m->stats.verify = (m->caps & MIG_CAP_PAGE_DIGEST) ? MIG_VERIFY_DIGEST : MIG_VERIFY_FULL;
	return src_begin_rounds(m);
}

static int src_on_pc_commit(struct mig_src *m, const struct mig_frame *f);
static int src_on_pc_request(struct mig_src *m, const struct mig_frame *f);
static int src_on_pc_done(struct mig_src *m, const struct mig_frame *f);

static int src_deliver(void *owner, const struct mig_frame *f)
{
	struct mig_src *m = owner;

	switch (f->hdr.type) {
	case MIG_T_WELCOME:
		if (m->phase != MIG_SRC_HELLO)
			return MIG_FAIL_PROTOCOL;
		return src_on_welcome(m, f);
	case MIG_T_REFUSE:
		if (m->phase != MIG_SRC_HELLO)
			return MIG_FAIL_PROTOCOL;
		mig_refusal_decode(f->payload, f->hdr.payload_len, &m->refusal);
		src_fail(m, MIG_FAIL_REFUSED, 0);
		return 0;
	case MIG_T_COMMIT:
		if (m->phase == MIG_SRC_COMMIT && m->pc)
			return src_on_pc_commit(m, f);
		if (m->phase != MIG_SRC_COMMIT)
			return MIG_FAIL_PROTOCOL;
		m->stats.peer_hash = get_le64(f->payload);
		/* COMMIT carries the destination's own hash: it must be ours. A destination that
		 * commits anything else is broken; not acknowledging keeps its copy paused, and the
		 * VM runs on here. */
		if (m->stats.peer_hash != m->stats.local_hash)
			return MIG_FAIL_HASH_MISMATCH;
		/* The point of no return: from here the VM belongs to the destination. Acknowledge
		 * at once: the destination resumes the guest when this ack arrives. */
		m->stats.t_commit = src_now(m);
		m->stats.downtime_ns = m->stats.t_commit - m->stats.t_paused;
		m->stats.commit_rtt_ns = m->stats.t_commit - m->t_hash_sent;
		m->phase = MIG_SRC_LINGER;
		if (m->stats.verify == MIG_VERIFY_DIGEST && !m->cfg.no_audit)
			m->stats.audit = MIG_AUDIT_RUNNING;
		mig_link_flush_ack(&m->link);
		src_progress(m);
		return 0;
	case MIG_T_PCREQ:
		return m->pc_committed ? src_on_pc_request(m, f) : MIG_FAIL_PROTOCOL;
	case MIG_T_PCDONE:
		return m->phase == MIG_SRC_PC_END ? src_on_pc_done(m, f) : MIG_FAIL_PROTOCOL;
	case MIG_T_ABORT:
		if (m->phase >= MIG_SRC_LINGER && !m->pc_committed)
			return 0;
		if (m->phase == MIG_SRC_LINGER || m->phase == MIG_SRC_DONE)
			return 0;
		mig_abort_decode(f->payload, f->hdr.payload_len, &m->peer_abort);
		src_fail(m, MIG_FAIL_PEER_ABORT, 0);
		return 0;
	case MIG_T_ACK:
		/* The destination is finished; the poll ends the linger (after the audit). */
		if (m->phase == MIG_SRC_LINGER)
			m->peer_closed = true;
		return 0;
	default:
		return MIG_FAIL_PROTOCOL;
	}
}

/* ---- page rounds ----------------------------------------------------------------------------- */

/* Stops at the first non-zero word: a data page usually has one near its start. */
static bool page_is_zero(const u8 *page)
{
	const u64 *w = (const u64 *)(const void *)page;

	for (u32 i = 0; i < MIG_PAGE_SIZE / 8; i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

static void put_rec(u8 *r, u64 ipa, u8 kind, u16 offset, u32 length)
{
	put_le64(r, ipa);
	r[8] = kind;
	r[9] = 0;
	r[10] = (u8)offset;
	r[11] = (u8)(offset >> 8);
	for (int i = 0; i < 4; i++)
		r[12 + i] = (u8)(length >> (8 * i));
}

static u32 frame_room(const struct mig_src *m) { return m->fcap - m->flen; }

static void src_emit(struct mig_src *m)
{
	struct mig_round_stats *r = &m->stats.r[m->stats.round];
	s64 seq;

	if (!m->fp)
		return;
	m->fp[0] = (u8)m->stats.round;
	m->fp[1] = (u8)(m->stats.round >> 8);
	m->fp[2] = (u8)(m->stats.round >> 16);
	m->fp[3] = (u8)(m->stats.round >> 24);
	m->fp[4] = (u8)m->fnrec;
	m->fp[5] = (u8)(m->fnrec >> 8);
	m->fp[6] = m->fp[7] = 0;
	seq = mig_link_queue(&m->link, MIG_T_PAGES,
			     m->pc       ? MIG_F_POSTCOPY
			     : m->paused ? MIG_F_FINAL
					 : 0,
			     m->flen);
	m->fp = NULL;
	if (seq < 0) {
		src_fail(m, MIG_FAIL_PROTOCOL, (int)seq);
		return;
	}
	r->frames++;
	r->bytes += MAX(MIG_FRAME_COST + m->flen, MIG_ETH_MIN_FRAME);
}

/* Room for a record plus `data` bytes, and a record count that still fits the u16 field. */
static bool frame_fits(const struct mig_src *m, u32 data)
{
	return m->fnrec < 0xffff && frame_room(m) >= MIG_PAGE_REC_LEN + data;
}

/* Digest mode: page now goes with these contents; the sum follows in O(1). */
static void set_digest(struct mig_src *m, u64 page, u64 content_hash)
{
	u64 d = mig_page_digest(m->cfg.compat.ram_base + page * MIG_PAGE_SIZE, content_hash);

	m->digest_sum += d - m->digest[page];
	m->digest[page] = d;
}

static void add_zero(struct mig_src *m, u64 page)
{
	u64 ipa = m->cfg.compat.ram_base + page * MIG_PAGE_SIZE;

	if (m->last_zero_rec != ~0u && (m->caps & MIG_CAP_ZERO_RUN)) {
		u8 *r = m->fp + m->last_zero_rec;
		u32 count = (u32)r[12] | (u32)r[13] << 8 | (u32)r[14] << 16 | (u32)r[15] << 24;

		if (get_le64(r) + (u64)count * MIG_PAGE_SIZE == ipa && count < 0xffffffffu) {
			count++;
			for (int i = 0; i < 4; i++)
				r[12 + i] = (u8)(count >> (8 * i));
			return;
		}
	}
	put_rec(m->fp + m->flen, ipa, MIG_REC_ZERO, 0, 1);
	m->last_zero_rec = m->flen;
	m->flen += MIG_PAGE_REC_LEN;
	m->fnrec++;
}

/* Puts as much of the page in page_buf as fits, from split_off on. */
static void add_data(struct mig_src *m)
{
	u64 ipa = m->cfg.compat.ram_base + m->split_page * MIG_PAGE_SIZE;
	u32 left = MIG_PAGE_SIZE - m->split_off;
	u32 n = MIN(left, frame_room(m) - MIG_PAGE_REC_LEN);

	put_rec(m->fp + m->flen, ipa, MIG_REC_DATA, (u16)m->split_off, n);
	memcpy(m->fp + m->flen + MIG_PAGE_REC_LEN, m->page_src + m->split_off, n);
	/* The digest covers the bytes as they went into the frame (the guest may be writing the
	 * page meanwhile): exactly what the destination will hold. */
	if (m->stats.verify == MIG_VERIFY_DIGEST)
		hash64_update(&m->page_hash, m->fp + m->flen + MIG_PAGE_REC_LEN, n);
	m->flen += MIG_PAGE_REC_LEN + n;
	m->fnrec++;
	m->last_zero_rec = ~0u;
	m->split_off += n;
	m->stats.data_bytes += n;
	m->split_pending = m->split_off < MIG_PAGE_SIZE;
	if (!m->split_pending && m->stats.verify == MIG_VERIFY_DIGEST)
		set_digest(m, m->split_page, hash64_final(&m->page_hash));
}

/* The live rounds are over: pause the VM and take the pages written since the last collection,
 * for the final round (pre-copy) or the map of missing pages (post-copy). false: the machine
 * failed. */
static bool src_pause_collect(struct mig_src *m, u64 estimate)
{
	u64 now = src_now(m), t;
	s64 n;
	int rc;

	m->stats.downtime_estimate_ns = estimate;
	rc = m->ops->pause(m->ctx);
	if (rc) {
		src_fail(m, MIG_FAIL_PAUSE, rc);
		return false;
	}
	m->paused = true;
	m->stats.t_paused = now;
	t = src_now(m);
	m->stats.park_ns = t - now;
	/* Pages written between the last collection and the pause. */
	n = m->ops->collect_dirty(m->ctx, m->dirty, m->npages);
	if (n < 0) {
		src_fail(m, MIG_FAIL_TRACKING, (int)n);
		return false;
	}
	m->t_phase = src_now(m);
	m->stats.last_collect_ns = m->t_phase - t;
	m->stats.round++;
	m->stats.rounds++;
	m->stats.final_round = m->stats.round;
	m->stats.r[m->stats.round].start_ns = now;
	return true;
}

static void src_enter_final(struct mig_src *m, u64 estimate)
{
	if (!src_pause_collect(m, estimate))
		return;
	m->stats.pages_left = bitmap_weight(m->dirty, m->npages);
	m->cursor = 0;
	m->phase = MIG_SRC_FINAL;
	hash64_init(&m->hash, MIG_MEM_HASH_SEED);
	m->hash_cursor = 0;
	/* Digest mode: nothing to read while paused; the sum is complete with the last page. */
	m->hash_done = m->stats.verify == MIG_VERIFY_DIGEST;
	src_progress(m);
}

/* A round is over when its frames are mostly on the other side, not when they are queued: the
 * next collection must see the writes made while the round was really on the wire, and what is
 * still in flight when the VM pauses is downtime too. So the round boundary waits until what is
 * unacknowledged would take at most half the downtime budget (or two frames) to deliver. */
static bool src_drained(struct mig_src *m)
{
	u64 elapsed = src_now(m) - m->t_first_send, inflight = mig_link_inflight_bytes(&m->link);
	u64 thr = elapsed ? mig_muldiv(m->link.acked_bytes, NS_PER_S, elapsed) : 0;
	u64 allowed =
		MAX(mig_muldiv(thr, m->cfg.downtime_ns / 2, NS_PER_S), 2 * (u64)m->link.frame_max);

	/* The round before the pause drains completely: whatever is in flight at the pause is
	 * downtime, and the guest goes on running while the last acks come. */
	if (m->converging)
		allowed = m->link.frame_max;
	return inflight <= allowed;
}

static void src_enter_postcopy(struct mig_src *m, u64 estimate);

/* Whether the live rounds end in post-copy rather than in a paused final round: at once after
 * round 0 (MIG_PC_NOW), or (AUTO) when they stop converging: pc_stall_rounds live rounds in a row
 * found no dirty set smaller than the smallest so far, or the round limit is reached with the
 * rest still over the budget. Only with a destination that offered post-copy. */
static bool src_wants_postcopy(struct mig_src *m, u64 dirty)
{
	if (!(m->caps & MIG_CAP_POSTCOPY) || m->cfg.postcopy == MIG_PC_OFF)
		return false;
	if (m->cfg.postcopy == MIG_PC_NOW)
		return true;
	if (!m->dirty_min || dirty < m->dirty_min) {
		m->dirty_min = dirty;
		m->stall = 0;
	} else {
		m->stall++;
	}
	return m->stall >= m->cfg.pc_stall_rounds || m->stats.round >= m->cfg.max_rounds;
}

/* All pages of the round are in frames: decide between another live round and the pause. */
static void src_round_end(struct mig_src *m)
{
	u64 now = src_now(m), elapsed, bytes, estimate;
	s64 n;

	m->stats.r[m->stats.round].end_ns = now;
	if (m->phase == MIG_SRC_FINAL) {
		m->stats.last_pages_ns = now - m->t_phase;
		m->t_phase = now;
		m->phase = MIG_SRC_STATE;
		src_progress(m);
		return;
	}
	n = m->ops->collect_dirty(m->ctx, m->dirty, m->npages);
	if (n < 0) {
		src_fail(m, MIG_FAIL_TRACKING, (int)n);
		return;
	}
	n = (s64)bitmap_weight(m->dirty, m->npages);
	m->stats.dirty_last = (u64)n;
	m->stats.dirty_rate = mig_muldiv((u64)n, NS_PER_S, MAX(now - m->last_collect_ns, 1ULL));
	m->last_collect_ns = now;
	elapsed = now - m->t_first_send;
	m->stats.throughput = elapsed ? mig_muldiv(m->link.acked_bytes, NS_PER_S, elapsed) : 0;
	/* What the pause would still have to move: the dirty pages, plus frames not yet acked. */
	bytes = (u64)n * (MIG_PAGE_SIZE + MIG_PAGE_REC_LEN) + mig_link_inflight_bytes(&m->link);
	estimate = m->stats.throughput ? mig_muldiv(bytes, NS_PER_S, m->stats.throughput) : ~0ULL;
	if (n && estimate > m->cfg.downtime_ns &&
	    (m->pc_draining || src_wants_postcopy(m, (u64)n))) {
		/* What is still in flight would be downtime: let it drain first (the pages
		 * collected stay in the set), as the converging round does. */
		if (!m->pc_draining && mig_link_inflight_bytes(&m->link) > m->link.frame_max) {
			m->pc_draining = true;
			m->converging = true;
			return;
		}
		src_enter_postcopy(m, estimate);
		return;
	}
	/* The rest fits the budget. Pausing now would also stop for what is still in flight (up to
	 * half the budget, src_drained): send these pages live first, in one more round that
	 * drains completely, and pause after it with only what the guest wrote meanwhile. */
	if (n && estimate <= m->cfg.downtime_ns && !m->converging &&
	    m->stats.round < m->cfg.max_rounds &&
	    mig_link_inflight_bytes(&m->link) > m->link.frame_max) {
		m->converging = true;
	} else if (n == 0 || estimate <= m->cfg.downtime_ns ||
		   m->stats.round >= m->cfg.max_rounds) {
		src_enter_final(m, estimate);
		return;
	}
	m->stats.round++;
	m->stats.rounds++;
	m->stats.r[m->stats.round].start_ns = now;
	m->stats.pages_left = (u64)n;
	m->cursor = 0;
	src_progress(m);
}

/* Reads the page and puts it into the open frame (which has room for a record): a zero record,
 * or the start of its data (add_data goes on with it, split across frames if need be). */
static int src_put_page(struct mig_src *m, u64 page)
{
	struct mig_round_stats *r = &m->stats.r[m->stats.round];
	ipa_t ipa = ipa_init(m->cfg.compat.ram_base + page * MIG_PAGE_SIZE);
	int rc;

	if (m->ops->page_ptr) {
		m->page_src = m->ops->page_ptr(m->ctx, ipa);
		rc = m->page_src ? 0 : FERRY_ERANGE;
	} else {
		rc = m->ops->read_page(m->ctx, ipa, m->page_buf);
		m->page_src = m->page_buf;
	}
	if (rc) {
		src_fail(m, MIG_FAIL_MEMORY, rc);
		return rc;
	}
	r->pages++;
	m->stats.pages_sent++;
	if (page_is_zero(m->page_src)) {
		r->zero_pages++;
		m->stats.zero_pages++;
		add_zero(m, page);
		if (m->stats.verify == MIG_VERIFY_DIGEST)
			set_digest(m, page, mig_zero_page_hash());
		return 0;
	}
	m->split_page = page;
	m->split_off = 0;
	m->split_pending = true;
	if (m->stats.verify == MIG_VERIFY_DIGEST)
		hash64_init(&m->page_hash, 0);
	/* A page that does not fit whole goes in parts only when the part is worth a record. */
	if (!frame_fits(m, MIG_PAGE_SIZE) && !frame_fits(m, SPLIT_MIN))
		src_emit(m);
	return 0;
}

/* Fills frames with the round's pages while the window has room and the poll budget lasts. */
static void src_pump_pages(struct mig_src *m)
{
	u32 budget = m->cfg.pages_per_poll;
	bool all = m->stats.round == 0;

	while (m->phase == MIG_SRC_LIVE || m->phase == MIG_SRC_FINAL) {
		u64 page;

		if (!m->fp) {
			m->fp = mig_link_open(&m->link, &m->fcap);
			if (!m->fp)
				return;
			m->flen = MIG_PAGES_HDR_LEN;
			m->fnrec = 0;
			m->last_zero_rec = ~0u;
		}
		if (m->split_pending) {
			if (!frame_fits(m, SPLIT_MIN)) {
				src_emit(m);
				continue;
			}
			add_data(m);
			continue;
		}
		page = all ? m->cursor : bitmap_next_set(m->dirty, m->npages, m->cursor);
		if (page >= m->npages) {
			if (m->fnrec)
				src_emit(m);
			m->fp = NULL;
			if (m->phase == MIG_SRC_LIVE && !src_drained(m))
				return;
			src_round_end(m);
			all = false;
			continue;
		}
		if (!budget)
			return;
		if (!frame_fits(m, 0)) {
			src_emit(m);
			continue;
		}
		budget--;
		if (!all)
			bitmap_clear(m->dirty, page);
		m->cursor = page + 1;
		if (m->stats.pages_left)
			m->stats.pages_left--;
		if (src_put_page(m, page))
			return;
	}
}

static void src_pump_state(struct mig_src *m)
{
	while (m->phase == MIG_SRC_STATE) {
		u32 cap, n;
		u8 *p;
		int rc;

		if (!m->blob_loaded) {
			if (m->blob_index >= MIG_STATE_BLOBS_MAX) {
				src_fail(m, MIG_FAIL_STATE, FERRY_ERANGE);
				return;
			}
			rc = m->ops->get_state(m->ctx, m->blob_index, m->blob, MIG_STATE_BLOB_MAX,
					       &m->blob_tag);
			if (rc == FERRY_ENOENT) {
				u64 now = src_now(m);

				m->stats.state_ns = now - m->t_phase;
				m->t_phase = now;
				m->phase = m->pc ? MIG_SRC_PC_MAP : MIG_SRC_HASH;
				return;
			}
			if (rc < 0 || rc > (int)MIG_STATE_BLOB_MAX) {
				src_fail(m, MIG_FAIL_STATE, rc < 0 ? rc : FERRY_ERANGE);
				return;
			}
			m->blob_len = (u32)rc;
			m->blob_off = 0;
			m->blob_loaded = true;
		}
		p = mig_link_open(&m->link, &cap);
		if (!p)
			return;
		n = MIN(m->blob_len - m->blob_off, cap - MIG_STATE_HDR_LEN);
		for (int i = 0; i < 4; i++) {
			p[i] = (u8)(m->blob_index >> (8 * i));
			p[4 + i] = (u8)(m->blob_tag >> (8 * i));
			p[8 + i] = (u8)(m->blob_len >> (8 * i));
			p[12 + i] = (u8)(m->blob_off >> (8 * i));
		}
		memcpy(p + MIG_STATE_HDR_LEN, m->blob + m->blob_off, n);
		if (mig_link_queue(&m->link, MIG_T_STATE, 0, MIG_STATE_HDR_LEN + n) < 0) {
			src_fail(m, MIG_FAIL_PROTOCOL, FERRY_EINVAL);
			return;
		}
		m->blob_off += n;
		if (m->blob_off == m->blob_len) {
			m->stats.state_blobs++;
			m->stats.state_bytes += m->blob_len;
			m->blob_loaded = false;
			m->blob_index++;
		}
	}
}

/* Hashes guest memory a slice at a time while the VM is paused, so frames keep flowing meanwhile.
 */
static void src_hash_step(struct mig_src *m)
{
	u64 t0 = src_now(m), n = MIN((u64)m->cfg.pages_per_poll, m->npages - m->hash_cursor);
	ipa_t ipa = ipa_init(m->cfg.compat.ram_base + m->hash_cursor * MIG_PAGE_SIZE);
	int rc = 0;

	if (m->ops->hash_pages) {
		rc = m->ops->hash_pages(m->ctx, ipa, n, &m->hash);
	} else {
		for (u64 i = 0; i < n && !rc; i++) {
			rc = m->ops->read_page(m->ctx, ipa_add(ipa, i * MIG_PAGE_SIZE),
					       m->hash_buf);
			if (!rc)
				hash64_update(&m->hash, m->hash_buf, MIG_PAGE_SIZE);
		}
	}
	if (rc) {
		src_fail(m, MIG_FAIL_MEMORY, rc);
		return;
	}
	m->hash_cursor += n;
	if (m->hash_cursor == m->npages) {
		m->stats.local_hash = hash64_final(&m->hash);
		m->hash_done = true;
	}
	m->stats.hash_ns += src_now(m) - t0;
}

static void src_send_hash(struct mig_src *m)
{
	struct mig_hash_msg h;
	u32 cap;
	u8 *p = mig_link_open(&m->link, &cap);
	s64 seq;

	if (!p)
		return;
	if (m->stats.verify == MIG_VERIFY_DIGEST)
		m->stats.local_hash = m->digest_sum;
	h = (struct mig_hash_msg){
		.hash = m->stats.local_hash,
		.pages = m->npages,
		.blobs = m->blob_index,
		.final_round = m->stats.final_round,
	};
	seq = mig_link_queue(&m->link, MIG_T_HASH, 0, mig_hash_encode(p, &h));
	if (seq < 0) {
		src_fail(m, MIG_FAIL_PROTOCOL, (int)seq);
		return;
	}
	m->t_hash_sent = src_now(m);
	m->stats.verify_ns = m->t_hash_sent - m->t_phase;
	m->phase = MIG_SRC_COMMIT;
	src_progress(m);
}

/* After COMMIT, with the VM still stopped here: every page of RAM against the digest of what was
 * sent for it. It cannot change the outcome (the destination already runs); it reports what the
 * digest check cannot see, a write dirty tracking missed. */
static void src_audit_step(struct mig_src *m)
{
	u64 t0 = src_now(m), end = MIN(m->audit_cursor + m->cfg.pages_per_poll, m->npages);
	struct hash64_state st;
	int rc = 0;

	for (u64 p = m->audit_cursor; p < end && !rc; p++) {
		ipa_t ipa = ipa_init(m->cfg.compat.ram_base + p * MIG_PAGE_SIZE);

		hash64_init(&st, 0);
		if (m->ops->hash_pages) {
			rc = m->ops->hash_pages(m->ctx, ipa, 1, &st);
		} else {
			rc = m->ops->read_page(m->ctx, ipa, m->hash_buf);
			hash64_update(&st, m->hash_buf, MIG_PAGE_SIZE);
		}
		if (!rc && mig_page_digest(ipa_addr(ipa), hash64_final(&st)) != m->digest[p]) {
			if (!m->stats.audit_bad_pages++)
				m->stats.audit_first_bad = ipa_addr(ipa);
		}
	}
	m->audit_cursor = end;
	m->stats.audit_ns += src_now(m) - t0;
	if (rc || end == m->npages) {
		m->stats.audit =
			rc || m->stats.audit_bad_pages ? MIG_AUDIT_DIFFERS : MIG_AUDIT_CLEAN;
		src_progress(m);
	}
}

/* ---- post-copy (docs/migration.md, "Post-copy") ---------------------------------------------- */

/* The live rounds end here instead of in a paused final round: pause, take the last dirty pages,
 * and send the state and then the bitmap of those pages; the destination runs the VM without them
 * and gets them afterwards. */
static void src_enter_postcopy(struct mig_src *m, u64 estimate)
{
	if (!src_pause_collect(m, estimate))
		return;
	m->pc = true;
	m->stats.pc = 1;
	m->pc_left = bitmap_weight(m->dirty, m->npages);
	m->stats.pc_pages = m->pc_left;
	/* Test hook: the highest missing page stays missing on the destination and is never sent,
	 * streamed or asked for; only the check at the end (or the guest) can notice. */
	for (u64 w = BITMAP_WORDS(m->npages); m->cfg.pc_drop_one && w-- > 0 && !m->pc_dropped;)
		if (m->dirty[w]) {
			m->pc_dropped = w * 64 + (63 - (u64)__builtin_clzll(m->dirty[w])) + 1;
			bitmap_clear(m->dirty, m->pc_dropped - 1);
			m->pc_left--;
		}
	m->stats.pages_left = m->pc_left;
	m->cursor = 0;
	m->pc_map_word = 0;
	m->hash_done = true; /* digests: the sum is complete with the last page */
	m->phase = MIG_SRC_STATE;
	src_progress(m);
}

/* The bitmap of the pages the destination lacks, in whole words, after the state blobs. */
static void src_pump_pc_map(struct mig_src *m)
{
	u64 words = BITMAP_WORDS(m->npages);

	while (m->phase == MIG_SRC_PC_MAP) {
		u32 cap, n;
		u8 *p = mig_link_open(&m->link, &cap);

		if (!p)
			return;
		n = (u32)MIN((u64)(cap - MIG_PCMAP_HDR_LEN) / 8, words - m->pc_map_word);
		put_le64(p, m->pc_map_word);
		put_le64(p + 8, m->stats.pc_pages);
		for (u32 i = 0; i < n; i++) {
			u64 w = m->dirty[m->pc_map_word + i];

			if (m->pc_dropped && (m->pc_dropped - 1) / 64 == m->pc_map_word + i)
				w |= 1ULL << ((m->pc_dropped - 1) % 64);
			put_le64(p + MIG_PCMAP_HDR_LEN + 8 * i, w);
		}
		if (mig_link_queue(&m->link, MIG_T_PCMAP, 0, MIG_PCMAP_HDR_LEN + 8 * n) < 0) {
			src_fail(m, MIG_FAIL_PROTOCOL, FERRY_EINVAL);
			return;
		}
		m->pc_map_word += n;
		if (m->pc_map_word == words) {
			m->t_hash_sent = src_now(m);
			m->stats.state_ns += m->t_hash_sent - m->t_phase;
			m->phase = MIG_SRC_COMMIT; /* the destination answers the map with COMMIT */
			src_progress(m);
		}
	}
}

/* COMMIT of the switch: it carries the number of pages the destination found missing in the map.
 * Taking it is the point of no return, as in pre-copy: the destination resumes the VM when our
 * ack arrives, and this paused copy is never run again. */
static int src_on_pc_commit(struct mig_src *m, const struct mig_frame *f)
{
	m->stats.peer_hash = get_le64(f->payload);
	if (m->stats.peer_hash != m->stats.pc_pages)
		return MIG_FAIL_PROTOCOL; /* not committed: the VM resumes here */
	m->stats.t_commit = src_now(m);
	m->stats.downtime_ns = m->stats.t_commit - m->stats.t_paused;
	m->stats.commit_rtt_ns = m->stats.t_commit - m->t_hash_sent;
	m->pc_committed = true;
	m->phase = MIG_SRC_PC_RUN;
	m->cursor = 0;
	if (!m->pc_left)
		m->stats.t_pc_last = m->stats.t_commit;
	mig_link_flush_ack(&m->link);
	src_progress(m);
	return 0;
}

static int src_on_pc_request(struct mig_src *m, const struct mig_frame *f)
{
	u64 base = m->cfg.compat.ram_base;
	u32 n = get_le32(f->payload);

	for (u32 i = 0; i < n; i++) {
		u64 ipa = get_le64(f->payload + MIG_PCREQ_HDR_LEN + 8 * i), page;

		if (ipa < base || ipa - base >= m->cfg.compat.ram_size || ipa % MIG_PAGE_SIZE)
			return MIG_FAIL_PROTOCOL;
		page = (ipa - base) / MIG_PAGE_SIZE;
		if (!bitmap_test(m->dirty, page)) {
			m->stats.pc_requests_late++; /* sent already: it is on its way */
		} else if (!bitmap_test(m->req, page)) {
			bitmap_set(m->req, page);
			m->req_count++;
			m->stats.pc_requested++;
		}
	}
	return 0;
}

static int src_on_pc_done(struct mig_src *m, const struct mig_frame *f)
{
	u32 verdict = get_le32(f->payload + 8);

	m->stats.peer_hash = get_le64(f->payload);
	m->stats.pc_verify = verdict == MIG_PCV_MATCH && m->stats.peer_hash != m->stats.local_hash
				     ? MIG_PCV_DIFFERS
				     : verdict;
	m->stats.t_end = src_now(m);
	m->phase = MIG_SRC_LINGER;
	mig_link_flush_ack(&m->link);
	src_progress(m);
	return 0;
}

static void src_send_pc_hash(struct mig_src *m)
{
	struct mig_hash_msg h = {
		.hash = m->digest_sum,
		.pages = m->npages,
		.blobs = m->blob_index,
		.final_round = m->stats.final_round,
	};
	u32 cap;
	u8 *p = mig_link_open(&m->link, &cap);

	if (!p)
		return;
	m->stats.local_hash = m->digest_sum;
	if (mig_link_queue(&m->link, MIG_T_HASH, 0, mig_hash_encode(p, &h)) < 0) {
		src_fail(m, MIG_FAIL_PROTOCOL, FERRY_EINVAL);
		return;
	}
	m->stats.r[m->stats.round].end_ns = src_now(m);
	m->phase = MIG_SRC_PC_END;
	src_progress(m);
}

/* After the switch: pages the destination asked for first, into whatever frame is open; the
 * others behind them, with at most SRC_PC_BG_FRAMES frames of them in flight so a request never
 * queues behind the whole window. Each page goes once: a request for a page already sent is
 * answered by the frame on its way (the transport delivers it). */
static void src_pump_pc(struct mig_src *m)
{
	u32 budget = m->cfg.pages_per_poll;

	while (m->phase == MIG_SRC_PC_RUN && budget) {
		bool asked = m->req_count != 0;
		u64 page;

		if (!m->fp) {
			/* the stream's own frames (a page it split included) wait for room */
			if (!asked && !(m->split_pending && m->pc_split_asked) &&
			    ((!m->pc_left && !m->split_pending) ||
			     mig_link_inflight(&m->link) >= SRC_PC_BG_FRAMES))
				break;
			m->fp = mig_link_open(&m->link, &m->fcap);
			if (!m->fp)
				break;
			m->flen = MIG_PAGES_HDR_LEN;
			m->fnrec = 0;
			m->last_zero_rec = ~0u;
		}
		if (m->split_pending) {
			if (!frame_fits(m, SPLIT_MIN))
				src_emit(m);
			else
				add_data(m);
			continue;
		}
		if (!m->pc_left)
			break;
		page = asked ? bitmap_next_set(m->req, m->npages, 0)
			     : bitmap_next_set(m->dirty, m->npages, m->cursor);
		if (page >= m->npages) { /* requested pages are taken out of order: wrap */
			m->cursor = 0;
			page = bitmap_next_set(m->dirty, m->npages, 0);
			if (page >= m->npages)
				break;
		}
		if (!frame_fits(m, 0)) {
			src_emit(m);
			continue;
		}
		budget--;
		if (asked) {
			bitmap_clear(m->req, page);
			m->req_count--;
		} else {
			m->cursor = page + 1;
		}
		bitmap_clear(m->dirty, page);
		m->pc_left--;
		m->stats.pages_left = m->pc_left;
		if (!m->pc_left)
			m->stats.t_pc_last = src_now(m);
		m->pc_split_asked = asked;
		if (src_put_page(m, page))
			return;
	}
	/* Whatever this poll put in a frame leaves now: a requested page must not wait for a full
	 * frame. */
	if (m->phase == MIG_SRC_PC_RUN && m->fp && m->fnrec)
		src_emit(m);
	else if (m->phase == MIG_SRC_PC_RUN && m->fp)
		m->fp = NULL; /* opened, nothing in it: never queued */
	if (m->phase == MIG_SRC_PC_RUN && !m->pc_left && !m->split_pending && !m->fp)
		src_send_pc_hash(m);
}

static enum mig_status src_poll(struct mig_src *m)
{
	int rc;

	if (m->phase == MIG_SRC_IDLE)
		return MIG_RUNNING;
	if (m->phase == MIG_SRC_DONE)
		return MIG_DONE;
	if (m->phase == MIG_SRC_FAILED)
		return MIG_FAILED;
	rc = mig_link_service(&m->link);
	if (m->phase == MIG_SRC_LINGER) {
		/* Committed: stay only to re-acknowledge a COMMIT whose ack was lost, until the
		 * destination says it is finished (ACK with CLOSE) or stays quiet for linger_ns. */
		if (m->stats.audit == MIG_AUDIT_RUNNING)
			src_audit_step(m);
		if ((rc || m->peer_closed || src_now(m) - m->link.last_rx_ns >= m->cfg.linger_ns) &&
		    m->stats.audit != MIG_AUDIT_RUNNING) {
			m->phase = MIG_SRC_DONE;
			m->stats.t_end = src_now(m);
		}
		if (m->phase == MIG_SRC_DONE && m->tracking && m->ops->track_stop)
			m->ops->track_stop(m->ctx);
		if (m->phase == MIG_SRC_DONE)
			m->tracking = false;
		return m->phase == MIG_SRC_DONE ? MIG_DONE : MIG_RUNNING;
	}
	if (rc) {
		src_fail(m,
			 m->phase == MIG_SRC_HELLO && rc == MIG_FAIL_LINK_DEAD ? MIG_FAIL_NO_ANSWER
									       : rc,
			 0);
		return MIG_FAILED;
	}
	if (m->phase == MIG_SRC_LIVE || m->phase == MIG_SRC_FINAL)
		src_pump_pages(m);
	if (m->paused && !m->hash_done && m->phase != MIG_SRC_FAILED)
		src_hash_step(m);
	if (m->phase == MIG_SRC_STATE)
		src_pump_state(m);
	if (m->phase == MIG_SRC_PC_MAP)
		src_pump_pc_map(m);
	if (m->phase == MIG_SRC_PC_RUN)
		src_pump_pc(m);
	if (m->phase == MIG_SRC_HASH && m->hash_done)
		src_send_hash(m);
	if (m->phase != MIG_SRC_FAILED && m->link.fail)
		src_fail(m, m->link.fail, 0);
	if (m->phase == MIG_SRC_FAILED)
		return MIG_FAILED;
	return m->phase == MIG_SRC_DONE ? MIG_DONE : MIG_RUNNING;
}

enum mig_status mig_src_poll(struct mig_src *m)
{
	enum mig_status st = src_poll(m);

	/* Last: frames this poll sent have carried the ack already. */
	if (st == MIG_RUNNING)
		mig_link_flush_ack(&m->link);
	return st;
}

int mig_src_input(struct mig_src *m, const void *frame, size_t len)
{
	int rc;

	if (m->phase == MIG_SRC_IDLE || m->phase == MIG_SRC_DONE || m->phase == MIG_SRC_FAILED)
		return -(int)MIG_REJ_SESSION;
	rc = mig_link_input(&m->link, frame, len);
	if (rc > 0) {
		src_fail(m, rc, 0);
		return 0;
	}
	if (m->phase == MIG_SRC_DONE && m->tracking) {
		if (m->ops->track_stop)
			m->ops->track_stop(m->ctx);
		m->tracking = false;
	}
	return rc;
}

void mig_src_cancel(struct mig_src *m)
{
	/* After the post-copy switch there is nothing to go back to: the destination runs it. */
	if (m->pc_committed)
		return;
	if (m->phase == MIG_SRC_IDLE) {
		m->fail = MIG_FAIL_CANCELLED;
		m->phase = MIG_SRC_FAILED;
		return;
	}
	src_fail(m, MIG_FAIL_CANCELLED, 0);
}

const struct mig_stats *mig_src_stats(const struct mig_src *m) { return &m->stats; }

static u64 ms(u64 ns) { return ns / 1000000; }

int mig_src_describe(const struct mig_src *m, char *buf, size_t len)
{
	const struct mig_stats *s = &m->stats;
	char why[160];

	switch (m->phase) {
	case MIG_SRC_IDLE:
		return snprintf(buf, len, "migration not started");
	case MIG_SRC_HELLO:
		return snprintf(buf, len, "migration: waiting for the destination to answer");
	case MIG_SRC_DONE:
	case MIG_SRC_LINGER:
		if (m->pc)
			return snprintf(
				buf, len,
				"migration done (post-copy): %llu pages missing at the switch, %llu "
				"sent on demand, downtime %llu ms, last page %llu ms after the "
				"switch; %s",
				(unsigned long long)s->pc_pages,
				(unsigned long long)s->pc_requested,
				(unsigned long long)ms(s->downtime_ns),
				(unsigned long long)ms(s->t_pc_last -
						       MIN(s->t_commit, s->t_pc_last)),
				s->pc_verify == MIG_PCV_MATCH ? "page digests match on both sides"
				: s->pc_verify == MIG_PCV_MISSING
					? "VERIFICATION FAILED: pages never arrived; the destination "
					  "runs without them and cannot fall back"
					: "VERIFICATION FAILED: page digests differ; the destination "
					  "runs with other memory and cannot fall back");
		return snprintf(
			buf, len,
			"migration done: %u rounds, %llu pages (%llu zero), %llu MiB sent, "
			"%llu retransmissions, downtime %llu ms, total %llu ms, hash %016llx",
			s->rounds, (unsigned long long)s->pages_sent,
			(unsigned long long)s->zero_pages,
			(unsigned long long)(s->bytes_sent >> 20),
			(unsigned long long)s->retransmissions,
			(unsigned long long)ms(s->downtime_ns),
			(unsigned long long)ms(s->t_commit - s->t_start),
			(unsigned long long)s->local_hash);
	case MIG_SRC_FAILED:
		if (m->fail == MIG_FAIL_POSTCOPY_LOST)
			return snprintf(
				buf, len,
				"post-copy failed after the switch (%s) with %llu pages not "
				"yet on the destination: the VM cannot continue on either "
				"side; stopped here, never resumed",
				mig_fail_name((u32)m->pc_cause), (unsigned long long)m->pc_left);
		if (m->fail == MIG_FAIL_REFUSED) {
			mig_refusal_format(why, sizeof(why), m->refusal.reason, m->refusal.detail,
					   &m->cfg.compat, &m->refusal.compat);
			return snprintf(buf, len,
					"destination refused: %s; the VM keeps running here", why);
		}
		if (m->fail == MIG_FAIL_PEER_ABORT &&
		    m->peer_abort.reason == MIG_FAIL_HASH_MISMATCH)
			return snprintf(buf, len,
					"destination aborted: memory hash differs (source %016llx, "
					"destination %016llx); the VM keeps running here",
					(unsigned long long)s->local_hash,
					(unsigned long long)m->peer_abort.detail);
		if (m->fail == MIG_FAIL_PEER_ABORT)
			return snprintf(buf, len,
					"destination aborted: %s; the VM keeps running here",
					mig_fail_name(m->peer_abort.reason));
		if (m->fail_err)
			return snprintf(buf, len,
					"migration failed: %s (%s); the VM keeps running here",
					mig_fail_name((u32)m->fail), ferry_strerror(m->fail_err));
		return snprintf(buf, len, "migration failed: %s; the VM keeps running here",
				mig_fail_name((u32)m->fail));
	case MIG_SRC_PC_RUN:
	case MIG_SRC_PC_END:
		return snprintf(buf, len,
				"post-copy: the VM runs on the destination; %llu of %llu pages "
				"still to send, %llu sent on demand",
				(unsigned long long)m->pc_left, (unsigned long long)s->pc_pages,
				(unsigned long long)s->pc_requested);
	default:
		return snprintf(
			buf, len,
			"migrating: round %u%s, %llu pages left, dirty %llu pages/s, "
			"%llu MiB/s, %llu retransmissions, %llu corrupt",
			s->round, m->paused ? " (paused)" : "", (unsigned long long)s->pages_left,
			(unsigned long long)s->dirty_rate,
			(unsigned long long)(s->throughput >> 20),
			(unsigned long long)s->retransmissions, (unsigned long long)s->corrupt);
	}
}
