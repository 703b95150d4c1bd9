/* SPDX-License-Identifier: Apache-2.0 */
/* The source's post-copy (docs/migration.md, "Post-copy"): the switch, the bitmap of the pages the
 * destination lacks, its requests served first, the background stream, the final digest. */
#include <string.h>

#include "lib/bitmap.h"
#include "migrate/mig_src_priv.h"

/* The live rounds end here instead of in a paused final round: pause, take the last dirty pages,
 * and send the state and then the bitmap of those pages; the destination runs the VM without them
 * and gets them afterwards. */
void src_enter_postcopy(struct mig_src *m, u64 estimate)
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
void src_pump_pc_map(struct mig_src *m)
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
		/* Read before the queue sends it, as the HASH's time (mig_src_pages.c). */
		u64 now = src_now(m);

		if (mig_link_queue(&m->link, MIG_T_PCMAP, 0, MIG_PCMAP_HDR_LEN + 8 * n) < 0) {
			src_fail(m, MIG_FAIL_PROTOCOL, FERRY_EINVAL);
			return;
		}
		m->pc_map_word += n;
		if (m->pc_map_word == words) {
			m->t_hash_sent = now;
			m->stats.state_ns += m->t_hash_sent - m->t_phase;
			m->phase = MIG_SRC_COMMIT; /* the destination answers the map with COMMIT */
			src_progress(m);
		}
	}
}

/* COMMIT of the switch: it carries the number of pages the destination found missing in the map.
 * Taking it is the point of no return, as in pre-copy: the destination resumes the VM when our
 * ack arrives, and this paused copy is never run again. */
enum mig_fail src_on_pc_commit(struct mig_src *m, const struct mig_frame *f)
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

enum mig_fail src_on_pc_request(struct mig_src *m, const struct mig_frame *f)
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

enum mig_fail src_on_pc_done(struct mig_src *m, const struct mig_frame *f)
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
void src_pump_pc(struct mig_src *m)
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
			if (!src_open_frame(m))
				break;
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
