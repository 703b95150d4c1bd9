/* SPDX-License-Identifier: Apache-2.0 */
/* The destination's post-copy (docs/migration.md, "Post-copy"): the bitmap of the pages still
 * missing, the pages as they arrive while the VM runs, the requests for the ones it waits for, and
 * the final digest. */
#include <string.h>

#include "lib/bitmap.h"
#include "migrate/mig_dst_priv.h"

static u64 page_index(const struct mig_dst *m, u64 ipa)
{
	return (ipa - m->cfg.compat.ram_base) / MIG_PAGE_SIZE;
}

bool mig_dst_absent(const struct mig_dst *m, u64 ipa)
{
	u64 page;

	if (!m->pc || ipa < m->cfg.compat.ram_base ||
	    ipa - m->cfg.compat.ram_base >= m->cfg.compat.ram_size)
		return false;
	page = page_index(m, ipa);
	return (__atomic_load_n(&m->absent[page / 64], __ATOMIC_ACQUIRE) >> (page % 64)) & 1;
}

/* The map of the pages still to come, after the state blobs; complete, it is answered with the
 * switch's COMMIT, which carries the number of missing pages the map holds. */
enum mig_fail dst_on_pc_map(struct mig_dst *m, const struct mig_frame *f)
{
	u64 words = BITMAP_WORDS(m->npages), first = get_le64(f->payload);
	u64 missing = get_le64(f->payload + 8);
	u32 n = (f->hdr.payload_len - MIG_PCMAP_HDR_LEN) / 8;
	u8 p[MIG_COMMIT_LEN];

	if (m->phase != MIG_DST_RECEIVE || !m->digests || m->blob_open || !m->blobs ||
	    first != m->pc_map_word || n > words - first || missing > m->npages ||
	    (m->pc_map_word && missing != m->stats.pc_pages))
		return MIG_FAIL_PROTOCOL;
	m->stats.pc_pages = missing;
	for (u32 i = 0; i < n; i++) {
		u64 w = get_le64(f->payload + MIG_PCMAP_HDR_LEN + 8 * i);

		/* no page past the end of RAM */
		if (first + i == words - 1 && m->npages % 64 && (w >> (m->npages % 64)))
			return MIG_FAIL_PROTOCOL;
		m->absent[first + i] = w;
	}
	m->pc_map_word += n;
	if (m->pc_map_word < words)
		return 0;
	m->pc_left = bitmap_weight(m->absent, m->npages);
	if (m->pc_left != missing)
		return MIG_FAIL_PROTOCOL;
	m->pc = true;
	m->stats.pc = 1;
	put_le64(p, missing);
	if (dst_reply(m, MIG_T_COMMIT, p, sizeof(p)))
		return MIG_FAIL_SEND;
	m->phase = MIG_DST_COMMIT;
	dst_progress(m);
	return 0;
}

/* A page is here: written, its digest taken from memory, mapped by the integrator, and only then
 * no longer absent (whoever waits for it reads the bit). */
static void dst_pc_arrived(struct mig_dst *m, u64 ipa)
{
	u64 page = page_index(m, ipa);

	if (m->ops->page_arrived)
		m->ops->page_arrived(m->ctx, ipa_init(ipa));
	__atomic_fetch_and(&m->absent[page / 64], ~(1ULL << (page % 64)), __ATOMIC_RELEASE);
	if (bitmap_test(m->wanted, page)) {
		bitmap_clear(m->wanted, page);
		m->wanted_count--;
	}
	m->pc_left--;
	if (!m->pc_left)
		m->stats.t_pc_last = dst_now(m);
}

/* PAGES after the switch. A record for a page that is here already is dropped whole: the guest may
 * have written the page since it was mapped, and those writes are the newer contents. */
static int dst_pc_apply(struct mig_dst *m, const struct mig_page_rec *rec,
			struct mig_round_stats *r)
{
	int rc;

	if (rec->kind == MIG_REC_ZERO) {
		for (u64 i = 0; i < rec->length; i++) {
			u64 ipa = rec->ipa + i * MIG_PAGE_SIZE;

			if (!mig_dst_absent(m, ipa)) {
				m->stats.pc_duplicates++;
				continue;
			}
			rc = dst_zero(m, ipa, 1);
			if (rc)
				return rc;
			set_digest(m, ipa, mig_zero_page_hash());
			r->pages++;
			r->zero_pages++;
			m->stats.zero_pages++;
			m->stats.pages_sent++;
			dst_pc_arrived(m, ipa);
		}
		return 0;
	}
	if (!mig_dst_absent(m, rec->ipa)) {
		m->stats.pc_duplicates += rec->offset + rec->length == MIG_PAGE_SIZE;
		return 0;
	}
	rc = dst_put_data(m, rec, r);
	if (!rc && rec->offset + rec->length == MIG_PAGE_SIZE)
		dst_pc_arrived(m, rec->ipa);
	return rc;
}

enum mig_fail dst_on_pc_pages(struct mig_dst *m, const struct mig_frame *f)
{
	struct mig_pages_iter it;

	if (mig_pages_iter_init(&it, f->payload, f->hdr.payload_len) || it.round >= MIG_ROUNDS_MAX)
		return MIG_FAIL_PROTOCOL;
	/* All post-copy pages are one round, after every live one. */
	if (!m->stats.final_round) {
		if (it.round <= m->last_round)
			return MIG_FAIL_PROTOCOL;
		m->stats.final_round = m->last_round = m->stats.round = it.round;
		m->stats.rounds = it.round + 1;
		m->stats.r[it.round].start_ns = dst_now(m);
	} else if (it.round != m->stats.final_round) {
		return MIG_FAIL_PROTOCOL;
	}
	return dst_walk_pages(m, f, &it, dst_pc_apply);
}

/* HASH after the last post-copy page: the check pre-copy makes before COMMIT, made now that every
 * page is here. Its outcome cannot change who runs the VM; PCDONE tells the source. */
enum mig_fail dst_on_pc_hash(struct mig_dst *m, const struct mig_frame *f)
{
	if (mig_hash_decode(f->payload, f->hdr.payload_len, &m->expect) ||
	    m->expect.pages != m->npages || m->expect.blobs != m->blobs)
		return MIG_FAIL_PROTOCOL;
	m->stats.peer_hash = m->expect.hash;
	m->stats.local_hash = m->digest_sum;
	m->pc_verdict = m->pc_left                        ? MIG_PCV_MISSING
			: m->digest_sum == m->expect.hash ? MIG_PCV_MATCH
							  : MIG_PCV_DIFFERS;
	m->stats.pc_verify = m->pc_verdict;
	m->phase = MIG_DST_PC_CLOSE;
	dst_progress(m);
	return 0;
}

int mig_dst_request(struct mig_dst *m, u64 ipa)
{
	u64 page;

	if (ipa < m->cfg.compat.ram_base || ipa - m->cfg.compat.ram_base >= m->cfg.compat.ram_size)
		return FERRY_ERANGE;
	if (m->phase != MIG_DST_PC_RUN)
		return FERRY_EPERM;
	if (!mig_dst_absent(m, ipa))
		return FERRY_ENOENT;
	page = page_index(m, ipa);
	if (bitmap_test(m->wanted, page) || bitmap_test(m->asked, page))
		return 0;
	bitmap_set(m->wanted, page);
	m->wanted_count++;
	m->stats.pc_requested++;
	return 0;
}

/* PCREQ frames for the pages asked for since the last poll. */
static void dst_pc_send_requests(struct mig_dst *m)
{
	while (m->wanted_count) {
		u32 cap, n = 0;
		u8 *p = mig_link_open(&m->link, &cap);

		if (!p)
			return;
		for (u64 pg = bitmap_next_set(m->wanted, m->npages, 0);
		     pg < m->npages && n < MIG_PCREQ_MAX && MIG_PCREQ_HDR_LEN + 8 * (n + 1) <= cap;
		     pg = bitmap_next_set(m->wanted, m->npages, pg + 1)) {
			put_le64(p + MIG_PCREQ_HDR_LEN + 8 * n++,
				 m->cfg.compat.ram_base + pg * MIG_PAGE_SIZE);
			bitmap_clear(m->wanted, pg);
			bitmap_set(m->asked, pg);
			m->wanted_count--;
		}
		put_le32(p, n);
		put_le32(p + 4, 0);
		if (mig_link_queue(&m->link, MIG_T_PCREQ, 0, MIG_PCREQ_HDR_LEN + 8 * n) < 0) {
			dst_fail(m, MIG_FAIL_PROTOCOL, FERRY_EINVAL, 0);
			return;
		}
	}
}

/* Post-copy phases of the poll; true once the migration is over here (the VM simply runs on). */
bool dst_pc_poll(struct mig_dst *m, enum mig_fail link_rc)
{
	u8 p[MIG_PCDONE_LEN];

	if (m->phase == MIG_DST_PC_RUN) {
		if (link_rc) {
			dst_fail(m, link_rc, 0, 0);
			return false;
		}
		dst_pc_send_requests(m);
		return false;
	}
	if (!m->pc_done_sent) {
		put_le64(p, m->digest_sum);
		put_le32(p + 8, m->pc_verdict);
		put_le32(p + 12, (u32)MIN(m->pc_left, 0xffffffffULL));
		if (!link_rc && dst_reply(m, MIG_T_PCDONE, p, sizeof(p)))
			return false; /* window full: next poll */
		m->pc_done_sent = true;
	}
	/* Every page is here: whether the source hears PCDONE no longer matters to the VM. */
	if (link_rc || mig_link_acked(&m->link, (u32)m->reply_seq) ||
	    dst_now(m) - m->reply_ns > m->cfg.commit_wait_ns) {
		mig_link_send_unsequenced(&m->link, MIG_T_ACK, MIG_F_CLOSE, NULL, 0);
		m->phase = MIG_DST_DONE;
		m->stats.t_end = dst_now(m);
		dst_progress(m);
		return true;
	}
	return false;
}

/* Only a source that took the switch's COMMIT sends post-copy frames, and the first of them
 * carries the ack of the COMMIT: it may overtake the poll that would see that ack. */
void dst_pc_taken(struct mig_dst *m, const struct mig_frame *f)
{
	if (m->phase == MIG_DST_COMMIT && m->pc &&
	    ((f->hdr.flags & MIG_F_POSTCOPY) || f->hdr.type == MIG_T_HASH) &&
	    mig_link_acked(&m->link, (u32)m->reply_seq))
		m->phase = MIG_DST_PC_RUN;
}
