/* SPDX-License-Identifier: Apache-2.0 */
/* The source machine's parts (mig_src.c: setup, handshake, frames in, poll; mig_src_pages.c: the
 * page rounds, state, hash and audit; mig_src_pc.c: post-copy), shared among them only. */
#ifndef FERRY_MIGRATE_MIG_SRC_PRIV_H
#define FERRY_MIGRATE_MIG_SRC_PRIV_H

#include "migrate/mig_src.h"

#define SRC_DEF_DOWNTIME 50000000ULL
#define SRC_DEF_MAX_ROUNDS 30u
#define SRC_DEF_PAGES_PER_POLL 4096u
#define SRC_DEF_LINGER 1000000000ULL
#define SRC_DEF_RX_WINDOW 4u
#define SRC_DEF_PC_STALL 4u
/* A dirty set this small (a 64 KiB frame's worth of pages) goes into the pause at once: another
 * live round would save less than it costs. */
#define SRC_CONVERGED_PAGES 15u
/* Converging rounds in a row that may begin above the smallest set so far (src_converged). */
#define SRC_CONVERGE_STALL 3u
/* Post-copy: background frames in flight at most, so that a requested page never waits behind
 * more than this many frames of the stream (the window's other frames are the requests'). */
#define SRC_PC_BG_FRAMES 4u
#define NS_PER_S 1000000000ULL
/* A page split across frames: no part smaller than this, or the record header dominates. */
#define SPLIT_MIN 256u
#define WS_ALIGN 64u

static inline u64 src_now(struct mig_src *m) { return m->ops->now_ns(m->ctx); }

static inline void src_progress(struct mig_src *m)
{
	if (m->ops->progress)
		m->ops->progress(m->ctx, &m->stats);
}

/* mig_src.c */
void src_fail(struct mig_src *m, enum mig_fail reason, int err);

/* mig_src_pages.c */
bool src_open_frame(struct mig_src *m);
void src_emit(struct mig_src *m);
bool frame_fits(const struct mig_src *m, u32 data);
void add_data(struct mig_src *m);
bool src_pause_collect(struct mig_src *m, u64 estimate);
int src_put_page(struct mig_src *m, u64 page);
void src_pump_pages(struct mig_src *m);
void src_pump_state(struct mig_src *m);
void src_hash_step(struct mig_src *m);
void src_send_hash(struct mig_src *m);
void src_audit_step(struct mig_src *m);

/* mig_src_pc.c */
void src_enter_postcopy(struct mig_src *m, u64 estimate);
void src_pump_pc_map(struct mig_src *m);
enum mig_fail src_on_pc_commit(struct mig_src *m, const struct mig_frame *f);
enum mig_fail src_on_pc_request(struct mig_src *m, const struct mig_frame *f);
enum mig_fail src_on_pc_done(struct mig_src *m, const struct mig_frame *f);
void src_pump_pc(struct mig_src *m);

#endif
