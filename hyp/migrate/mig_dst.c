/* SPDX-License-Identifier: Apache-2.0 */
/* The destination side: wait for a HELLO, check compatibility (refuse clearly on a mismatch), write
 * the pages and collect the state blobs in the order the source sent them, hash the whole memory
 * when the source's hash arrives, and COMMIT only when both are equal. The VM is resumed (by the
 * integrator, on MIG_DONE) only once the source has acknowledged the COMMIT: from that ack on the
 * source has released its copy, so exactly one copy of the guest ever runs. */
#include "migrate/mig_dst.h"

#include <stdio.h>
#include <string.h>

#include "lib/bitmap.h"
#include "migrate/mig_dst_priv.h"

void dst_fail(struct mig_dst *m, enum mig_fail reason, int err, u64 detail)
{
	struct mig_abort_msg a = { .reason = (u32)reason, .detail = detail };
	u8 p[MIG_ABORT_LEN];

	if (m->phase == MIG_DST_FAILED || m->phase == MIG_DST_DONE)
		return;
	/* The VM runs here without some of its pages and the source's copy is stale: it cannot go
	 * on anywhere. The integrator stops it (never resumes the source's: it stays stopped). */
	if (m->phase == MIG_DST_PC_RUN) {
		m->pc_cause = reason;
		reason = MIG_FAIL_POSTCOPY_LOST;
	}
	m->fail = reason;
	m->fail_err = err;
	/* After COMMIT the source may already have released the VM: an ABORT then would be a lie.
	 * A refusal and a peer's abort need no abort back. */
	if (reason != MIG_FAIL_PEER_ABORT && reason != MIG_FAIL_REFUSED &&
	    reason != MIG_FAIL_COMMIT_UNCONFIRMED && m->link.session_set) {
		mig_abort_encode(p, &a);
		mig_link_send_unsequenced(&m->link, MIG_T_ABORT, 0, p, sizeof(p));
	}
	mig_link_flush_ack(&m->link);
	m->phase = MIG_DST_FAILED;
	m->stats.t_end = dst_now(m);
	dst_progress(m);
}

static enum mig_fail dst_deliver(void *owner, const struct mig_frame *f);

static void dst_link_defaults(struct mig_link_config *c)
{
	if (!c->frame_max)
		c->frame_max = MIG_FRAME_MIN;
	if (!c->tx_window)
		c->tx_window = DST_DEF_TX_WINDOW;
	if (!c->rx_window)
		c->rx_window = mig_default_window(c->frame_max);
}

size_t mig_dst_workspace_size(const struct mig_dst_config *cfg)
{
	struct mig_link_config c = cfg->link;

	u64 npages = cfg->compat.page_size ? cfg->compat.ram_size / cfg->compat.page_size : 0;

	dst_link_defaults(&c);
	return MIG_STATE_BLOB_MAX + MIG_PAGE_SIZE + ALIGN_UP(npages * 8, WS_ALIGN) +
	       3 * ALIGN_UP(BITMAP_WORDS(npages) * 8, WS_ALIGN) +
	       ALIGN_UP(mig_link_area_size(&c), WS_ALIGN);
}

int mig_dst_init(struct mig_dst *m, const struct mig_dst_config *cfg, const struct mig_dst_ops *ops,
		 void *ctx, void *workspace, size_t workspace_len)
{
	const struct mig_compat *c = &cfg->compat;
	static const u8 broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	u8 *ws = workspace;
	int rc;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->ops = ops;
	m->ctx = ctx;
	dst_link_defaults(&m->cfg.link);
	if (!m->cfg.pages_per_poll)
		m->cfg.pages_per_poll = DST_DEF_PAGES_PER_POLL;
	if (!ops->send_frame || !ops->now_ns || !ops->write_page || !ops->put_state ||
	    (!ops->read_page && !ops->hash_pages))
		return FERRY_EINVAL;
	if (c->page_size != MIG_PAGE_SIZE || !c->ram_size || c->ram_size % MIG_PAGE_SIZE ||
	    !IS_ALIGNED(c->ram_base, (u64)MIG_PAGE_SIZE))
		return FERRY_EINVAL;
	if (!workspace || !IS_ALIGNED((uintptr_t)workspace, 8) ||
	    workspace_len < mig_dst_workspace_size(cfg))
		return FERRY_ENOMEM;
	m->npages = c->ram_size / MIG_PAGE_SIZE;
	m->blob = ws;
	ws += MIG_STATE_BLOB_MAX;
	m->hash_buf = ws;
	ws += MIG_PAGE_SIZE;
	m->digest = (u64 *)(void *)ws;
	ws += ALIGN_UP(m->npages * 8, WS_ALIGN);
	m->absent = (u64 *)(void *)ws;
	ws += ALIGN_UP(BITMAP_WORDS(m->npages) * 8, WS_ALIGN);
	m->wanted = (u64 *)(void *)ws;
	ws += ALIGN_UP(BITMAP_WORDS(m->npages) * 8, WS_ALIGN);
	m->asked = (u64 *)(void *)ws;
	ws += ALIGN_UP(BITMAP_WORDS(m->npages) * 8, WS_ALIGN);
	bitmap_zero(m->absent, m->npages);
	bitmap_zero(m->wanted, m->npages);
	bitmap_zero(m->asked, m->npages);
	m->link.send = ops->send_frame;
	m->link.now = ops->now_ns;
	m->link.ctx = ctx;
	m->link.deliver = dst_deliver;
	m->link.owner = m;
	rc = mig_link_init(&m->link, &m->cfg.link, cfg->local_mac, broadcast, ws,
			   ws + mig_link_tx_area_size(&m->cfg.link), &m->stats);
	if (rc)
		return rc;
	m->cfg.link = m->link.cfg;
	rc = mig_auth_init(&m->link.auth, cfg->key, MIG_ROLE_DST, cfg->nonce);
	if (rc)
		return rc;
	if (!m->cfg.commit_wait_ns)
		m->cfg.commit_wait_ns = m->cfg.link.dead_ns;
	m->stats.pages_total = m->npages;
	m->reply_seq = -1;
	m->phase = MIG_DST_IDLE;
	return 0;
}

int mig_dst_listen(struct mig_dst *m)
{
	if (m->phase != MIG_DST_IDLE)
		return FERRY_EBUSY;
	m->phase = MIG_DST_LISTEN;
	return 0;
}

int dst_reply(struct mig_dst *m, u8 type, const u8 *payload, u32 len)
{
	u32 cap;
	u8 *p = mig_link_open(&m->link, &cap);
	s64 seq;

	if (!p || cap < len)
		return FERRY_EBUSY;
	memcpy(p, payload, len);
	seq = mig_link_queue(&m->link, type, 0, len);
	if (seq < 0)
		return (int)seq;
	m->reply_seq = seq;
	m->reply_ns = dst_now(m);
	return 0;
}

static enum mig_fail dst_on_hello(struct mig_dst *m, const struct mig_frame *f)
{
	struct mig_hello h, w;
	struct mig_refusal r = { .reason = MIG_REFUSE_NONE, .detail = 0, .compat = m->cfg.compat };
	u8 p[MAX(MIG_HELLO_LEN, MIG_REFUSE_LEN)];
	/* Answered a HELLO already, and the link started the handshake again under another
	 * attempt's (it had taken nothing else): this answer replaces the first one. */
	bool again =
		(m->phase == MIG_DST_RECEIVE || m->phase == MIG_DST_REFUSING) && m->link.hello_only;

	if ((m->phase != MIG_DST_LISTEN && !again) ||
	    mig_hello_decode(f->payload, f->hdr.payload_len, &h))
		return MIG_FAIL_PROTOCOL;
	m->peer_compat = h.compat;
	m->stats.t_start = dst_now(m);
	if (h.frame_max < MIG_FRAME_MIN)
		r.reason = MIG_REFUSE_FRAME_SIZE;
	else
		r.reason = mig_compat_check(&h.compat, &m->cfg.compat);
	m->link.peer_window = MIN(h.rx_window, (u32)MIG_WINDOW_MAX);
	memcpy(r.nonce, m->cfg.nonce, MIG_NONCE_LEN);
	if (r.reason != MIG_REFUSE_NONE) {
		m->refusal = r;
		m->phase = MIG_DST_REFUSING;
		if (dst_reply(m, MIG_T_REFUSE, p, mig_refusal_encode(p, &r)))
			return MIG_FAIL_SEND;
		return 0;
	}
	w.caps = h.caps & MIG_CAPS_V1;
	w.frame_max = MIN(h.frame_max, m->cfg.link.frame_max);
	w.rx_window = m->cfg.link.rx_window;
	w.compat = m->cfg.compat;
	memcpy(w.nonce, m->cfg.nonce, MIG_NONCE_LEN);
	m->link.sack = (w.caps & MIG_CAP_SACK) != 0;
	m->link.frame_max = w.frame_max;
	m->digests = (w.caps & MIG_CAP_PAGE_DIGEST) != 0;
	m->stats.verify = m->digests ? MIG_VERIFY_DIGEST : MIG_VERIFY_FULL;
	m->digest_sum = 0;
	if (m->digests)
		memset(m->digest, 0, m->npages * 8);
	m->phase = MIG_DST_RECEIVE;
	if (dst_reply(m, MIG_T_WELCOME, p, mig_hello_encode(p, &w)))
		return MIG_FAIL_SEND;
	dst_progress(m);
	return 0;
}

static enum mig_fail dst_deliver(void *owner, const struct mig_frame *f)
{
	struct mig_dst *m = owner;

	if (m->phase == MIG_DST_FAILED || m->phase == MIG_DST_DONE)
		return 0;
	switch (f->hdr.type) {
	case MIG_T_HELLO:
		return dst_on_hello(m, f);
	case MIG_T_PAGES:
		dst_pc_taken(m, f);
		if (m->phase == MIG_DST_PC_RUN && (f->hdr.flags & MIG_F_POSTCOPY))
			return dst_on_pc_pages(m, f);
		return dst_on_pages(m, f);
	case MIG_T_PCMAP:
		return dst_on_pc_map(m, f);
	case MIG_T_STATE:
		return dst_on_state(m, f);
	case MIG_T_HASH:
		dst_pc_taken(m, f);
		if (m->phase == MIG_DST_PC_RUN)
			return dst_on_pc_hash(m, f);
		return dst_on_hash(m, f);
	case MIG_T_ABORT:
		if (m->phase == MIG_DST_PC_CLOSE)
			return 0; /* every page is here: nothing the source says changes that */
		if (m->phase == MIG_DST_COMMIT)
			return 0; /* the source decided before our COMMIT reached it: wait for the
				     ack */
		mig_abort_decode(f->payload, f->hdr.payload_len, &m->peer_abort);
		dst_fail(m, MIG_FAIL_PEER_ABORT, 0, 0);
		return 0;
	case MIG_T_ACK:
		return 0;
	default:
		return MIG_FAIL_PROTOCOL;
	}
}

/* Hashes the next pages_per_poll pages; true once all of memory is in m->stats.local_hash. */
static bool dst_hash_some(struct mig_dst *m)
{
	u64 t0 = dst_now(m), n = MIN((u64)m->cfg.pages_per_poll, m->npages - m->hash_cursor);
	ipa_t ipa = ipa_init(m->cfg.compat.ram_base + m->hash_cursor * MIG_PAGE_SIZE);
	int rc;

	if (m->hash_cursor < m->npages) {
		rc = mig_hash_range(m->ops->hash_pages, m->ops->read_page, m->ctx, ipa, n, &m->hash,
				    m->hash_buf);
		if (rc) {
			dst_fail(m, MIG_FAIL_MEMORY, rc, 0);
			return false;
		}
		m->hash_cursor += n;
		m->stats.hash_ns += dst_now(m) - t0;
		if (m->hash_cursor < m->npages)
			return false;
		m->stats.local_hash = hash64_final(&m->hash);
	}
	return true;
}

void dst_hash_step(struct mig_dst *m)
{
	u8 p[MIG_COMMIT_LEN];

	if (!dst_hash_some(m))
		return;
	if (m->stats.local_hash != m->expect.hash) {
		dst_fail(m, MIG_FAIL_HASH_MISMATCH, 0, m->stats.local_hash);
		return;
	}
	put_le64(p, m->stats.local_hash);
	if (dst_reply(m, MIG_T_COMMIT, p, sizeof(p)))
		return; /* window full: try again on the next poll */
	m->stats.t_commit = m->reply_ns;
	m->stats.verify_ns = m->reply_ns - m->t_hash_rx;
	m->phase = MIG_DST_COMMIT;
	dst_progress(m);
}

static enum mig_status dst_poll(struct mig_dst *m)
{
	enum mig_fail rc;

	switch (m->phase) {
	case MIG_DST_DONE:
		return MIG_DONE;
	case MIG_DST_FAILED:
		return MIG_FAILED;
	case MIG_DST_IDLE:
	case MIG_DST_LISTEN:
		return MIG_RUNNING;
	default:
		break;
	}
	rc = mig_link_service(&m->link);
	if (m->phase == MIG_DST_HASH)
		dst_hash_step(m);
	else if (m->phase == MIG_DST_RECEIVE && m->hash_early)
		dst_hash_some(m);
	if (m->pc && !m->pc_resumed &&
	    (m->phase == MIG_DST_PC_RUN || m->phase == MIG_DST_PC_CLOSE ||
	     (m->phase == MIG_DST_COMMIT && !rc && mig_link_acked(&m->link, (u32)m->reply_seq)))) {
		/* The source took the switch: the VM is ours and runs here from now on. */
		if (m->phase == MIG_DST_COMMIT) {
			m->phase = MIG_DST_PC_RUN;
			m->stats.commit_ack_ns = dst_now(m) - m->reply_ns;
		}
		m->pc_resumed = true;
		m->stats.t_commit = dst_now(m);
		dst_progress(m);
		return MIG_POSTCOPY;
	}
	if (m->phase == MIG_DST_PC_RUN || m->phase == MIG_DST_PC_CLOSE) {
		if (dst_pc_poll(m, rc))
			return MIG_DONE;
		rc = m->phase == MIG_DST_PC_RUN ? rc : 0;
	}
	if (m->phase == MIG_DST_COMMIT && !rc && mig_link_acked(&m->link, (u32)m->reply_seq)) {
		/* Tell the source it may stop lingering; best effort, it also times out. */
		mig_link_send_unsequenced(&m->link, MIG_T_ACK, MIG_F_CLOSE, NULL, 0);
		m->phase = MIG_DST_DONE;
		m->stats.t_end = dst_now(m);
		m->stats.commit_ack_ns = m->stats.t_end - m->stats.t_commit;
		dst_progress(m);
		return MIG_DONE;
	}
	if (m->phase == MIG_DST_REFUSING && (rc || mig_link_acked(&m->link, (u32)m->reply_seq) ||
					     dst_now(m) - m->reply_ns > m->cfg.commit_wait_ns)) {
		dst_fail(m, MIG_FAIL_REFUSED, 0, 0);
		return MIG_FAILED;
	}
	if (m->phase == MIG_DST_COMMIT &&
	    (rc || dst_now(m) - m->reply_ns > m->cfg.commit_wait_ns)) {
		dst_fail(m, MIG_FAIL_COMMIT_UNCONFIRMED, 0, 0);
		return MIG_FAILED;
	}
	if (rc)
		dst_fail(m, rc, 0, 0);
	if (m->phase == MIG_DST_FAILED)
		return MIG_FAILED;
	return m->phase == MIG_DST_DONE ? MIG_DONE : MIG_RUNNING;
}

enum mig_status mig_dst_poll(struct mig_dst *m)
{
	enum mig_status st = dst_poll(m);

	/* Last: frames this poll sent (a COMMIT) have carried the ack already. */
	if (st == MIG_RUNNING)
		mig_link_flush_ack(&m->link);
	return st;
}

struct mig_res mig_dst_input(struct mig_dst *m, const void *frame, size_t len)
{
	struct mig_res rc;

	if (m->phase == MIG_DST_IDLE || m->phase == MIG_DST_DONE || m->phase == MIG_DST_FAILED)
		return mig_res_reject(MIG_REJ_SESSION);
	rc = mig_link_input(&m->link, frame, len);
	if (rc.fail != MIG_FAIL_NONE)
		dst_fail(m, rc.fail, m->fail_err, 0);
	return rc;
}

void mig_dst_cancel(struct mig_dst *m)
{
	if (m->phase == MIG_DST_IDLE || m->phase == MIG_DST_LISTEN) {
		m->fail = MIG_FAIL_CANCELLED;
		m->phase = MIG_DST_FAILED;
		return;
	}
	/* After COMMIT the decision is the source's: cancelling now could leave no copy running.
	 * After the post-copy switch the VM runs here and nowhere else. */
	if (m->phase == MIG_DST_COMMIT || m->phase == MIG_DST_PC_RUN ||
	    m->phase == MIG_DST_PC_CLOSE)
		return;
	dst_fail(m, MIG_FAIL_CANCELLED, 0, 0);
}

const struct mig_stats *mig_dst_stats(const struct mig_dst *m) { return &m->stats; }

int mig_dst_describe(const struct mig_dst *m, char *buf, size_t len)
{
	const struct mig_stats *s = &m->stats;
	char why[160];

	switch (m->phase) {
	case MIG_DST_IDLE:
		return snprintf(buf, len, "incoming migration not listening");
	case MIG_DST_LISTEN:
		return snprintf(buf, len, "incoming: waiting for a source (%llu frames ignored)",
				(unsigned long long)(s->frames_received));
	case MIG_DST_PC_RUN:
	case MIG_DST_PC_CLOSE:
		return snprintf(buf, len,
				"incoming post-copy: the VM runs here; %llu of %llu pages still "
				"missing, %llu asked for",
				(unsigned long long)m->pc_left, (unsigned long long)s->pc_pages,
				(unsigned long long)s->pc_requested);
	case MIG_DST_DONE:
		if (m->pc)
			return snprintf(
				buf, len,
				"incoming migration done (post-copy): %llu pages arrived after the "
				"switch, %llu asked for; %s",
				(unsigned long long)s->pc_pages,
				(unsigned long long)s->pc_requested,
				s->pc_verify == MIG_PCV_MATCH ? "page digests match the source's"
				: s->pc_verify == MIG_PCV_MISSING
					? "VERIFICATION FAILED: pages never arrived; the VM runs "
					  "without them and cannot fall back to the source"
					: "VERIFICATION FAILED: page digests differ from the "
					  "source's; the VM runs and cannot fall back to the source");
		return snprintf(
			buf, len,
			"incoming migration done: %u rounds, %llu pages (%llu zero), %llu state "
			"blobs, hash %016llx verified",
			s->rounds, (unsigned long long)s->pages_sent,
			(unsigned long long)s->zero_pages, (unsigned long long)s->state_blobs,
			(unsigned long long)s->local_hash);
	case MIG_DST_FAILED:
		if (m->fail == MIG_FAIL_POSTCOPY_LOST)
			return snprintf(buf, len,
					"post-copy failed after the switch (%s) with %llu pages "
					"never received: the VM cannot continue on either side; "
					"stopped here",
					mig_fail_name((u32)m->pc_cause),
					(unsigned long long)m->pc_left);
		if (m->fail == MIG_FAIL_REFUSED) {
			mig_refusal_format(why, sizeof(why), m->refusal.reason, m->refusal.detail,
					   &m->peer_compat, &m->cfg.compat);
			return snprintf(buf, len, "refused the source: %s", why);
		}
		if (m->fail == MIG_FAIL_HASH_MISMATCH)
			return snprintf(
				buf, len,
				"incoming migration failed: memory hash differs (source %016llx, "
				"destination %016llx)",
				(unsigned long long)s->peer_hash,
				(unsigned long long)s->local_hash);
		if (m->fail == MIG_FAIL_COMMIT_UNCONFIRMED)
			return snprintf(
				buf, len,
				"incoming migration: COMMIT sent but never acknowledged; the VM "
				"stays paused here (the source may have released it)");
		if (m->fail == MIG_FAIL_PEER_ABORT)
			return snprintf(buf, len,
					"incoming migration failed: the source aborted: %s",
					mig_fail_name(m->peer_abort.reason));
		if (m->fail_err)
			return snprintf(buf, len, "incoming migration failed: %s (%s)",
					mig_fail_name((u32)m->fail), ferry_strerror(m->fail_err));
		return snprintf(buf, len, "incoming migration failed: %s",
				mig_fail_name((u32)m->fail));
	default:
		return snprintf(
			buf, len,
			"incoming: round %u, %llu pages, %llu state blobs, %llu duplicates, "
			"%llu corrupt",
			s->round, (unsigned long long)s->pages_sent,
			(unsigned long long)s->state_blobs, (unsigned long long)s->duplicates,
			(unsigned long long)s->corrupt);
	}
}
