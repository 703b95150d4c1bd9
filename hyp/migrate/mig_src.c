/* SPDX-License-Identifier: Apache-2.0 */
/* The source side of a migration: handshake, round 0 (every page), live rounds of dirty pages until
 * the rest fits the downtime budget, pause, the final pages, the state blobs, the memory hash, and
 * the wait for COMMIT. Until COMMIT arrives every failure resumes the VM: the guest must never
 * notice a migration that did not happen. */
#include "migrate/mig_src.h"

#include <stdio.h>
#include <string.h>

#include "lib/bitmap.h"
#include "migrate/mig_src_priv.h"

void src_fail(struct mig_src *m, enum mig_fail reason, int err)
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

static enum mig_fail src_deliver(void *owner, const struct mig_frame *f);

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
	m->link.send_in_place = ops->send_in_place;
	m->link.held = ops->frame_held;
	m->link.now = ops->now_ns;
	m->link.ctx = ctx;
	m->link.deliver = src_deliver;
	m->link.owner = m;
	rc = mig_link_init(&m->link, &m->cfg.link, cfg->local_mac, cfg->peer_mac, ws,
			   ws + mig_link_tx_area_size(&m->cfg.link), &m->stats);
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

static enum mig_fail src_begin_rounds(struct mig_src *m)
{
	u64 now = src_now(m);

	if (m->ops->rehearse) {
		int rc = m->ops->rehearse(m->ctx);

		if (rc) {
			src_fail(m, MIG_FAIL_STATE, rc);
			return MIG_FAIL_STATE;
		}
	}
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

static enum mig_fail src_on_welcome(struct mig_src *m, const struct mig_frame *f)
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

static enum mig_fail src_deliver(void *owner, const struct mig_frame *f)
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

static enum mig_status src_poll(struct mig_src *m)
{
	enum mig_fail rc;

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
		bool over =
			rc || m->peer_closed || src_now(m) - m->link.last_rx_ns >= m->cfg.linger_ns;

		/* The audit starts only then, once the destination runs the VM: the destination
		 * resumes when the COMMIT's ack reaches it, and a management CPU busy reading all
		 * of RAM from the commit on held that ack up (docs/migration.md, "The COMMIT's
		 * ack"). */
		if (m->stats.audit == MIG_AUDIT_RUNNING && (over || m->audit_cursor))
			src_audit_step(m);
		if (over && m->stats.audit != MIG_AUDIT_RUNNING) {
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

struct mig_res mig_src_input(struct mig_src *m, const void *frame, size_t len)
{
	struct mig_res rc;

	if (m->phase == MIG_SRC_IDLE || m->phase == MIG_SRC_DONE || m->phase == MIG_SRC_FAILED)
		return mig_res_reject(MIG_REJ_SESSION);
	rc = mig_link_input(&m->link, frame, len);
	if (rc.fail != MIG_FAIL_NONE) {
		src_fail(m, rc.fail, 0);
		return rc;
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
