/* SPDX-License-Identifier: Apache-2.0 */
/* The destination machine's parts (mig_dst.c: setup, handshake, frames in, hash, poll;
 * mig_dst_pages.c: PAGES, STATE and HASH as they arrive; mig_dst_pc.c: post-copy), shared among
 * them only. */
#ifndef FERRY_MIGRATE_MIG_DST_PRIV_H
#define FERRY_MIGRATE_MIG_DST_PRIV_H

#include "migrate/mig_dst.h"

#define DST_DEF_PAGES_PER_POLL 4096u
#define DST_DEF_TX_WINDOW 4u
#define WS_ALIGN 64u

static inline u64 dst_now(struct mig_dst *m) { return m->ops->now_ns(m->ctx); }

static inline void dst_progress(struct mig_dst *m)
{
	if (m->ops->progress)
		m->ops->progress(m->ctx, &m->stats);
}

/* Applies one record of a PAGES frame (dst_walk_pages): 0, or the integrator's error. */
typedef int (*dst_apply_fn)(struct mig_dst *m, const struct mig_page_rec *rec,
			    struct mig_round_stats *r);

/* mig_dst.c */
void dst_fail(struct mig_dst *m, enum mig_fail reason, int err, u64 detail);
int dst_reply(struct mig_dst *m, u8 type, const u8 *payload, u32 len);
void dst_hash_step(struct mig_dst *m);

/* mig_dst_pages.c */
int dst_zero(struct mig_dst *m, u64 ipa, u64 count);
void set_digest(struct mig_dst *m, u64 ipa, u64 content_hash);
int dst_put_data(struct mig_dst *m, const struct mig_page_rec *rec, struct mig_round_stats *r);
enum mig_fail dst_walk_pages(struct mig_dst *m, const struct mig_frame *f,
			     struct mig_pages_iter *it, dst_apply_fn apply);
enum mig_fail dst_on_pages(struct mig_dst *m, const struct mig_frame *f);
enum mig_fail dst_on_state(struct mig_dst *m, const struct mig_frame *f);
enum mig_fail dst_on_hash(struct mig_dst *m, const struct mig_frame *f);

/* mig_dst_pc.c */
enum mig_fail dst_on_pc_map(struct mig_dst *m, const struct mig_frame *f);
enum mig_fail dst_on_pc_pages(struct mig_dst *m, const struct mig_frame *f);
enum mig_fail dst_on_pc_hash(struct mig_dst *m, const struct mig_frame *f);
bool dst_pc_poll(struct mig_dst *m, enum mig_fail link_rc);
void dst_pc_taken(struct mig_dst *m, const struct mig_frame *f);

#endif
