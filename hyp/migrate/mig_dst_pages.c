/* SPDX-License-Identifier: Apache-2.0 */
/* The destination's records: the pages of a PAGES frame written (and their digests kept), the state
 * blobs of STATE frames handed on in order, and the source's HASH compared. */
#include <string.h>

#include "lib/bitmap.h"
#include "migrate/mig_dst_priv.h"

static const u8 zero_page[MIG_PAGE_SIZE];

int dst_zero(struct mig_dst *m, u64 ipa, u64 count)
{
	if (m->ops->zero_pages)
		return m->ops->zero_pages(m->ctx, ipa_init(ipa), count);
	for (u64 i = 0; i < count; i++) {
		int rc = m->ops->write_page(m->ctx, ipa_init(ipa + i * MIG_PAGE_SIZE), 0, zero_page,
					    MIG_PAGE_SIZE);
		if (rc)
			return rc;
	}
	return 0;
}

void set_digest(struct mig_dst *m, u64 ipa, u64 content_hash)
{
	u64 page = (ipa - m->cfg.compat.ram_base) / MIG_PAGE_SIZE;
	u64 d = mig_page_digest(ipa, content_hash);

	m->digest_sum += d - m->digest[page];
	m->digest[page] = d;
}

/* The digest of a page as it now is in guest memory, read back after the write: a write that
 * went wrong here (wrong place, short, torn) shows as a difference. */
static int digest_written(struct mig_dst *m, u64 ipa)
{
	struct hash64_state st;
	int rc;

	hash64_init(&st, 0);
	if (m->ops->hash_pages) {
		rc = m->ops->hash_pages(m->ctx, ipa_init(ipa), 1, &st);
	} else {
		rc = m->ops->read_page(m->ctx, ipa_init(ipa), m->hash_buf);
		hash64_update(&st, m->hash_buf, MIG_PAGE_SIZE);
	}
	if (!rc)
		set_digest(m, ipa, hash64_final(&st));
	return rc;
}

/* A DATA record into guest memory. A page's last part completes it (parts come in order): then
 * its digest is taken from memory. */
int dst_put_data(struct mig_dst *m, const struct mig_page_rec *rec, struct mig_round_stats *r)
{
	int rc =
		m->ops->write_page(m->ctx, ipa_init(rec->ipa), rec->offset, rec->data, rec->length);

	m->stats.data_bytes += rec->length;
	if (rec->offset + rec->length < MIG_PAGE_SIZE)
		return rc;
	r->pages++;
	m->stats.pages_sent++;
	if (!rc && m->digests)
		rc = digest_written(m, rec->ipa);
	return rc;
}

/* The record walk of every PAGES frame, before and after the post-copy switch: the caller checked
 * the frame's header (it) and its round; each record's pages must lie in guest RAM, and apply does
 * the rest. Returns 0, MIG_FAIL_MEMORY (apply's error in fail_err) or MIG_FAIL_PROTOCOL. */
enum mig_fail dst_walk_pages(struct mig_dst *m, const struct mig_frame *f,
			     struct mig_pages_iter *it, dst_apply_fn apply)
{
	u64 base = m->cfg.compat.ram_base, end = base + m->cfg.compat.ram_size;
	struct mig_round_stats *r = &m->stats.r[it->round];
	struct mig_page_rec rec;
	int rc;

	r->frames++;
	r->bytes += MAX(MIG_FRAME_COST + f->hdr.payload_len, MIG_ETH_MIN_FRAME);
	while ((rc = mig_pages_iter_next(it, &rec)) == 1) {
		if (rec.ipa < base || rec.ipa >= end)
			return MIG_FAIL_PROTOCOL;
		if (rec.kind == MIG_REC_ZERO && rec.length > (end - rec.ipa) / MIG_PAGE_SIZE)
			return MIG_FAIL_PROTOCOL;
		rc = apply(m, &rec, r);
		if (rc) {
			m->fail_err = rc;
			return MIG_FAIL_MEMORY;
		}
	}
	r->end_ns = dst_now(m);
	return rc ? MIG_FAIL_PROTOCOL : 0;
}

/* Pre-copy: every record is written; a later round's overwrites an earlier one's. */
static int dst_apply(struct mig_dst *m, const struct mig_page_rec *rec, struct mig_round_stats *r)
{
	int rc;

	if (rec->kind != MIG_REC_ZERO)
		return dst_put_data(m, rec, r);
	rc = dst_zero(m, rec->ipa, rec->length);
	/* Zeroing is trusted (no read-back): idle guests are mostly zero pages. A zero page's
	 * digest is 0, so only pages that held data lose theirs: a run of half a million zero pages
	 * (a mostly empty 2 GiB guest's round 0) is one pass over their digests, not a digest each,
	 * which took the destination about 30 ms under TCG and delayed the last frames behind it. */
	if (m->digests && !rc) {
		u64 *d = m->digest + (rec->ipa - m->cfg.compat.ram_base) / MIG_PAGE_SIZE;

		for (u64 i = 0; i < rec->length; i++)
			if (d[i]) {
				m->digest_sum -= d[i];
				d[i] = 0;
			}
	}
	r->pages += rec->length;
	r->zero_pages += rec->length;
	m->stats.zero_pages += rec->length;
	m->stats.pages_sent += rec->length;
	return rc;
}

enum mig_fail dst_on_pages(struct mig_dst *m, const struct mig_frame *f)
{
	struct mig_pages_iter it;

	if (m->phase != MIG_DST_RECEIVE || mig_pages_iter_init(&it, f->payload, f->hdr.payload_len))
		return MIG_FAIL_PROTOCOL;
	/* Pages come before the state: the memory image is final once a blob has begun. */
	if (m->hash_early)
		return MIG_FAIL_PROTOCOL;
	/* Rounds only move forward: an older round's page applied after a newer one would
	 * silently bring back stale data. */
	if (it.round < m->last_round || it.round >= MIG_ROUNDS_MAX)
		return MIG_FAIL_PROTOCOL;
	if (it.round != m->last_round || m->stats.rounds == 0) {
		m->stats.rounds = it.round + 1;
		m->stats.r[it.round].start_ns = dst_now(m);
	}
	m->last_round = it.round;
	m->stats.round = it.round;
	if (f->hdr.flags & MIG_F_FINAL) {
		m->stats.final_round = it.round;
		if (!m->stats.t_paused) /* the source paused about one link delay ago */
			m->stats.t_paused = dst_now(m);
	}
	return dst_walk_pages(m, f, &it, dst_apply);
}

static enum mig_fail dst_state_chunk(struct mig_dst *m, const struct mig_state_chunk *c)
{
	int rc;

	if (!m->blob_open) {
		if (c->offset != 0 || c->index != m->blobs)
			return MIG_FAIL_STATE;
		/* The source sends every page of the final image before the first state blob, and
		 * the link delivers in order: memory is final now, so hash it while the state and
		 * the source's own hash are still coming (both hashes then take the time of one). */
		if (!m->hash_early) {
			hash64_init(&m->hash, MIG_MEM_HASH_SEED);
			m->hash_cursor = m->digests ? m->npages : 0; /* digests: nothing to read */
			m->hash_early = true;
		}
		m->blob_open = true;
		m->blob_index = c->index;
		m->blob_tag = c->tag;
		m->blob_total = c->total_len;
		m->blob_off = 0;
	} else if (c->index != m->blob_index || c->tag != m->blob_tag ||
		   c->total_len != m->blob_total || c->offset != m->blob_off) {
		return MIG_FAIL_STATE;
	}
	memcpy(m->blob + m->blob_off, c->data, c->len);
	m->blob_off += c->len;
	if (m->blob_off < m->blob_total)
		return MIG_FAIL_NONE;
	m->blob_open = false;
	rc = m->ops->put_state(m->ctx, m->blob_index, m->blob_tag, m->blob, m->blob_total);
	if (rc) {
		m->fail_err = rc;
		return MIG_FAIL_STATE;
	}
	m->blobs++;
	m->stats.state_blobs++;
	m->stats.state_bytes += m->blob_total;
	return MIG_FAIL_NONE;
}

/* A STATE frame's chunks (several blobs since protocol version 3), each applied in order. */
enum mig_fail dst_on_state(struct mig_dst *m, const struct mig_frame *f)
{
	struct mig_state_iter it;
	struct mig_state_chunk c;
	enum mig_fail fail;
	int rc;

	if (m->phase != MIG_DST_RECEIVE || mig_state_iter_init(&it, f->payload, f->hdr.payload_len))
		return MIG_FAIL_PROTOCOL;
	while ((rc = mig_state_iter_next(&it, &c)) == 1) {
		fail = dst_state_chunk(m, &c);
		if (fail != MIG_FAIL_NONE)
			return fail;
	}
	return rc ? MIG_FAIL_PROTOCOL : MIG_FAIL_NONE;
}

enum mig_fail dst_on_hash(struct mig_dst *m, const struct mig_frame *f)
{
	if (m->phase != MIG_DST_RECEIVE ||
	    mig_hash_decode(f->payload, f->hdr.payload_len, &m->expect))
		return MIG_FAIL_PROTOCOL;
	if (m->blob_open || m->expect.blobs != m->blobs)
		return MIG_FAIL_STATE;
	if (m->expect.pages != m->npages)
		return MIG_FAIL_PROTOCOL;
	m->stats.peer_hash = m->expect.hash;
	m->stats.final_round = m->expect.final_round;
	m->t_hash_rx = dst_now(m);
	if (!m->hash_early) { /* a source that sent no state blob */
		hash64_init(&m->hash, MIG_MEM_HASH_SEED);
		m->hash_cursor = m->digests ? m->npages : 0;
	}
	if (m->digests)
		m->stats.local_hash = m->digest_sum;
	m->phase = MIG_DST_HASH;
	dst_progress(m);
	/* With nothing left to hash (page digests, or a full hash already done), the COMMIT is the
	 * answer to this frame and carries its ack: a bare ACK first would make two small frames
	 * in a row, and a link that holds the second until the first is acknowledged (TCP with
	 * Nagle's algorithm, mig_link_input) keeps the COMMIT for a delayed-ACK timeout. */
	if (m->hash_cursor >= m->npages)
		dst_hash_step(m);
	return 0;
}
