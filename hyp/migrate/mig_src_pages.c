/* SPDX-License-Identifier: Apache-2.0 */
/* The source's page rounds: records packed into PAGES frames, the live rounds of dirty pages and when
 * they end, the final round with the VM paused, then the state blobs, the hash and the audit after
 * COMMIT. */
#include <string.h>

#include "lib/bitmap.h"
#include "migrate/mig_src_priv.h"

/* Stops at the first non-zero 128 bytes: a data page usually has a non-zero word near its start.
 * Round 0 reads every page of RAM, most of it zero in a fresh guest, so this loop is most of its
 * time: sixteen words per branch, not four (a fifth fewer instructions per byte; round 0 of a
 * 2 GiB memstress guest, nearly all zero, took 1201-1394 ms against 1314-1643 ms). */
static bool page_is_zero(const u8 *page)
{
	const u64 *w = (const u64 *)(const void *)page;

	for (u32 i = 0; i < MIG_PAGE_SIZE / 8; i += 16) {
		u64 acc = 0;

#pragma GCC unroll 16
		for (u32 k = 0; k < 16; k++)
			acc |= w[i + k];
		if (acc)
			return false;
	}
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

/* A new PAGES frame to fill, in the link's next free slot; false while the window is full. */
bool src_open_frame(struct mig_src *m)
{
	m->fp = mig_link_open(&m->link, &m->fcap);
	if (!m->fp)
		return false;
	m->flen = MIG_PAGES_HDR_LEN;
	m->fnrec = 0;
	m->last_zero_rec = ~0u;
	return true;
}

void src_emit(struct mig_src *m)
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
bool frame_fits(const struct mig_src *m, u32 data)
{
	return m->fnrec < 0xffff && frame_room(m) >= MIG_PAGE_REC_LEN + data;
}

/* The page digests: what the verification sums, or what the `lose=1` hook compares with. */
static bool keeps_digests(const struct mig_src *m)
{
	return m->stats.verify == MIG_VERIFY_DIGEST || m->cfg.keep_digests;
}

/* The page now goes with these contents; the sum follows in O(1). */
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
void add_data(struct mig_src *m)
{
	u64 ipa = m->cfg.compat.ram_base + m->split_page * MIG_PAGE_SIZE;
	u32 left = MIG_PAGE_SIZE - m->split_off;
	u32 n = MIN(left, frame_room(m) - MIG_PAGE_REC_LEN);

	put_rec(m->fp + m->flen, ipa, MIG_REC_DATA, (u16)m->split_off, n);
	memcpy(m->fp + m->flen + MIG_PAGE_REC_LEN, m->page_src + m->split_off, n);
	/* The digest covers the bytes as they went into the frame (the guest may be writing the
	 * page meanwhile): exactly what the destination will hold. */
	if (keeps_digests(m))
		hash64_update(&m->page_hash, m->fp + m->flen + MIG_PAGE_REC_LEN, n);
	m->flen += MIG_PAGE_REC_LEN + n;
	m->fnrec++;
	m->last_zero_rec = ~0u;
	m->split_off += n;
	m->stats.data_bytes += n;
	m->split_pending = m->split_off < MIG_PAGE_SIZE;
	if (!m->split_pending && keeps_digests(m))
		set_digest(m, m->split_page, hash64_final(&m->page_hash));
}

/* The live rounds are over: pause the VM and take the pages written since the last collection,
 * for the final round (pre-copy) or the map of missing pages (post-copy). false: the machine
 * failed. */
bool src_pause_collect(struct mig_src *m, u64 estimate)
{
	u64 now = src_now(m), t;
	s64 n;
	int rc;

	m->stats.downtime_estimate_ns = estimate;
	m->stats.inflight_at_pause = mig_link_inflight_bytes(&m->link);
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

/* The rest fits the budget: whether to pause now with these n pages. Pausing would also stop the
 * guest for what is still in flight (up to half the budget, src_drained) and for every page of the
 * set, where a live round costs the guest nothing. So the source sends the set live, in rounds
 * that drain completely, and pauses once a round stops paying: when the set fits one frame, when it
 * is within a third of the smallest set so far (a plateau), or after SRC_CONVERGE_STALL rounds in
 * a row above that (a guest writing in bursts). A round whose set is at most three quarters of the
 * smallest so far is progress and goes on. */
static bool src_converged(struct mig_src *m, u64 n)
{
	if (n <= SRC_CONVERGED_PAGES)
		return true;
	if (!m->converging || 4 * n <= 3 * m->converge_min) {
		m->converge_min = n;
		m->converge_stall = 0;
		return false;
	}
	if (3 * n <= 4 * m->converge_min)
		return true;
	return ++m->converge_stall >= SRC_CONVERGE_STALL;
}

/* All pages of the round are in frames: decide between another live round and the pause. */
static void src_round_end(struct mig_src *m)
{
	u64 now = src_now(m), elapsed, bytes, estimate;
	bool fits;
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
	fits = n == 0 || estimate <= m->cfg.downtime_ns;
	/* Another live round while rounds still pay. Also when the set converged at once (round 0
	 * left next to nothing dirty: an idle guest) but this round drained only to half the budget:
	 * what is in flight at the pause is downtime, so one more round drains completely first. */
	if (fits && m->stats.round < m->cfg.max_rounds &&
	    (!src_converged(m, (u64)n) ||
	     (!m->converging && mig_link_inflight_bytes(&m->link) > m->link.frame_max))) {
		m->converging = true;
	} else if (fits || m->stats.round >= m->cfg.max_rounds) {
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

/* A zero page into the open frame (which has room for a record). */
static void put_zero(struct mig_src *m, u64 page)
{
	struct mig_round_stats *r = &m->stats.r[m->stats.round];

	r->pages++;
	m->stats.pages_sent++;
	r->zero_pages++;
	m->stats.zero_pages++;
	add_zero(m, page);
	if (keeps_digests(m))
		set_digest(m, page, mig_zero_page_hash());
}

/* Round 0: whether the page is one nothing ever wrote (ops->untouched), asking once per run. */
static bool untouched(struct mig_src *m, u64 page)
{
	if (m->stats.round != 0 || !m->ops->untouched)
		return false;
	if (page >= m->untouched_end) {
		u64 n = m->ops->untouched(m->ctx, page, m->npages - page);

		m->untouched_end = page + MIN(n, m->npages - page);
	}
	return page < m->untouched_end;
}

/* Reads the page and puts it into the open frame (which has room for a record): a zero record,
 * or the start of its data (add_data goes on with it, split across frames if need be). */
int src_put_page(struct mig_src *m, u64 page)
{
	struct mig_round_stats *r = &m->stats.r[m->stats.round];
	ipa_t ipa = ipa_init(m->cfg.compat.ram_base + page * MIG_PAGE_SIZE);
	int rc;

	if (untouched(m, page)) {
		m->stats.untouched_pages++;
		put_zero(m, page);
		return 0;
	}
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
	if (page_is_zero(m->page_src)) {
		put_zero(m, page);
		return 0;
	}
	r->pages++;
	m->stats.pages_sent++;
	m->split_page = page;
	m->split_off = 0;
	m->split_pending = true;
	if (keeps_digests(m))
		hash64_init(&m->page_hash, 0);
	/* A page that does not fit whole goes in parts only when the part is worth a record. */
	if (!frame_fits(m, MIG_PAGE_SIZE) && !frame_fits(m, SPLIT_MIN))
		src_emit(m);
	return 0;
}

/* Fills frames with the round's pages while the window has room and the poll budget lasts. */
void src_pump_pages(struct mig_src *m)
{
	u32 budget = m->cfg.pages_per_poll;
	bool all = m->stats.round == 0;

	while (m->phase == MIG_SRC_LIVE || m->phase == MIG_SRC_FINAL) {
		u64 page;

		if (!m->fp && !src_open_frame(m))
			return;
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

/* Sends the open STATE frame. false: the machine failed. */
static bool src_emit_state(struct mig_src *m)
{
	if (mig_link_queue(&m->link, MIG_T_STATE, 0, m->flen) < 0) {
		src_fail(m, MIG_FAIL_PROTOCOL, FERRY_EINVAL);
		return false;
	}
	m->fp = NULL;
	return true;
}

/* The state blobs, packed into as few frames as they fit: a blob per frame would cost every blob a
 * frame's tag, its own trip through the NIC and its own acknowledgement, all in the pause. */
void src_pump_state(struct mig_src *m)
{
	while (m->phase == MIG_SRC_STATE) {
		u32 n;
		int rc;

		if (!m->blob_loaded) {
			if (m->blob_index >= MIG_STATE_BLOBS_MAX) {
				src_fail(m, MIG_FAIL_STATE, FERRY_ERANGE);
				return;
			}
			rc = m->ops->get_state(m->ctx, m->blob_index, m->blob, MIG_STATE_BLOB_MAX,
					       &m->blob_tag);
			if (rc == FERRY_ENOENT) {
				u64 now;

				if (m->fp && !src_emit_state(m))
					return;
				now = src_now(m);
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
		if (!m->fp) {
			m->fp = mig_link_open(&m->link, &m->fcap);
			if (!m->fp)
				return;
			m->flen = 0;
		}
		/* A chunk runs to its blob's end or the frame's: one that would carry no data (the
		 * blob is not empty) waits for the next frame. */
		if (m->fcap - m->flen < MIG_STATE_HDR_LEN + (m->blob_len > m->blob_off)) {
			if (!src_emit_state(m))
				return;
			continue;
		}
		n = MIN(m->blob_len - m->blob_off, m->fcap - m->flen - MIG_STATE_HDR_LEN);
		m->flen += mig_state_put_hdr(m->fp + m->flen, m->blob_index, m->blob_tag,
					     m->blob_len, m->blob_off);
		memcpy(m->fp + m->flen, m->blob + m->blob_off, n);
		m->flen += n;
		m->blob_off += n;
		if (m->blob_off == m->blob_len) {
			m->stats.state_blobs++;
			m->stats.state_bytes += m->blob_len;
			m->blob_loaded = false;
			m->blob_index++;
		} else if (!src_emit_state(m)) { /* the frame is full */
			return;
		}
	}
}

/* Hashes guest memory a slice at a time while the VM is paused, so frames keep flowing meanwhile.
 */
void src_hash_step(struct mig_src *m)
{
	u64 t0 = src_now(m), n = MIN((u64)m->cfg.pages_per_poll, m->npages - m->hash_cursor);
	ipa_t ipa = ipa_init(m->cfg.compat.ram_base + m->hash_cursor * MIG_PAGE_SIZE);
	int rc = mig_hash_range(m->ops->hash_pages, m->ops->read_page, m->ctx, ipa, n, &m->hash,
				m->hash_buf);

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

void src_send_hash(struct mig_src *m)
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
	/* The commit round trip starts as the HASH leaves: the queue sends it, and a clock read
	 * after that counted any stall of this CPU in between against the round trip (one run
	 * showed a 0.05 ms round trip, a quarter of the link's fastest). */
	m->t_hash_sent = src_now(m);
	seq = mig_link_queue(&m->link, MIG_T_HASH, 0, mig_hash_encode(p, &h));
	if (seq < 0) {
		src_fail(m, MIG_FAIL_PROTOCOL, (int)seq);
		return;
	}
	m->stats.verify_ns = m->t_hash_sent - m->t_phase;
	m->phase = MIG_SRC_COMMIT;
	src_progress(m);
}

/* After COMMIT, with the VM still stopped here: every page of RAM against the digest of what was
 * sent for it. It cannot change the outcome (the destination already runs); it reports what the
 * digest check cannot see, a write dirty tracking missed. */
void src_audit_step(struct mig_src *m)
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
