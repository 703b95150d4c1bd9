/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration's source machine (mig_src.c, mig_src_pages.c, mig_src_pc.c) and how an integrator
 * drives either machine (mig_dst.h is the destination's).
 *
 * Everything here is pure: no hardware, no allocation, no floating point, no blocking. The
 *integrator (the EL2 side: virtio-net driver, vCPU state, dirty logging) gives
 *  - memory: a workspace buffer (mig_*_workspace_size() bytes) and the machine structs themselves;
 *  - callbacks (struct mig_src_ops / mig_dst_ops): send a frame, the time, read/write guest pages,
 *    collect dirty pages, pause/resume the VM, get/put opaque state blobs, optionally hash memory;
 * and drives a machine from its management loop:
 *
 *	mig_src_init(&m, &cfg, &ops, ctx, ws, ws_len);
 *	mig_src_start(&m);
 *	while (mig_src_poll(&m) == MIG_RUNNING)
 *		while (driver has a received frame f)
 *			mig_src_input(&m, f, len);
 *
 * Callbacks are made only from inside mig_*_start/poll/input/cancel, on the caller's CPU. */
#ifndef FERRY_MIGRATE_MIG_SRC_H
#define FERRY_MIGRATE_MIG_SRC_H

#include "migrate/mig_link.h"
#include "migrate/mig_result.h"
#include "migrate/mig_stats.h"
#include "migrate/mig_wire.h"
#include "types.h"

/* ---------------------------------------------------------------------------------------------- */
/* Source. */

struct mig_src_ops {
	/* Hand one complete Ethernet frame to the NIC. 0: taken (the buffer may be reused at once);
	 * FERRY_EBUSY: TX ring full, the machine retries on a later poll; other <0: fatal. */
	int (*send_frame)(void *ctx, const void *frame, size_t len);
	/* Optional, both or neither: hand a window frame (pages, state, ...) to the NIC where it
	 * lies, without copying it. The MIG_TX_HEADROOM bytes before the frame are the NIC's to
	 * use, and the NIC reads the frame later: the machine leaves it alone while frame_held
	 * says so. Returns as send_frame. Control frames (acks) still go through send_frame. */
	int (*send_in_place)(void *ctx, u8 *frame, size_t len);
	bool (*frame_held)(void *ctx, const u8 *frame);
	u64 (*now_ns)(void *ctx); /* monotonic */
	/* Copy MIG_PAGE_SIZE bytes of guest RAM at ipa into dst. 0 or <0. */
	int (*read_page)(void *ctx, ipa_t ipa, void *dst);
	/* Optional: the page itself, when guest RAM is directly addressable (NULL: use read_page).
	 * Saves a copy per page; the guest may write the page meanwhile, which dirty tracking has
	 * logged by then, so it goes again in a later round (or the final one, with the VM paused).
	 */
	const void *(*page_ptr)(void *ctx, ipa_t ipa);
	/* Optional: run once what the pause will run (serialize every state blob into scratch), after
	 * WELCOME and before track_start. <0: some state cannot be serialized; the migration fails
	 * (MIG_FAIL_STATE) before a page has moved, with the VM running on. */
	int (*rehearse)(void *ctx);
	/* Optional: start dirty tracking (called once, after WELCOME, before round 0 reads a page).
	 */
	int (*track_start)(void *ctx);
	/* OR into bitmap (bit i = page at ram_base + i * page_size) every page written since the
	 * previous call (or since track_start), and clear that record. Returns pages added (>= 0)
	 * or <0. */
	s64 (*collect_dirty)(void *ctx, u64 *bitmap, u64 npages);
	/* Optional, asked in round 0 only (after track_start): how many pages from `page` on (at most
	 * max) are certainly zero without being read, because nothing wrote them since the RAM was
	 * zero (the guest never touched them, and neither did ferry); 0 when `page` must be read.
	 * They go as zero pages. A write to one after track_start is logged like any other and
	 * sends it again (docs/migration.md, "Round 0: RAM never touched"). */
	u64 (*untouched)(void *ctx, u64 page, u64 max);
	/* Optional: stop tracking (called once at the end, success or failure, if track_start ran).
	 */
	void (*track_stop)(void *ctx);
	/* Stop the VM's vCPUs (and devices). After it returns, guest memory and state must not
	 * change until resume (failure) or forever (success). */
	int (*pause)(void *ctx);
	/* Called exactly once if the migration fails after a successful pause: run the VM again. */
	void (*resume)(void *ctx);
	/* Serialize state blob `index` (0, 1, ...) into buf (cap = MIG_STATE_BLOB_MAX bytes), set
	 * *tag (opaque, handed to put_state). Returns its length, FERRY_ENOENT when index is past
	 * the last blob, or another <0 on error. Called only while the VM is paused. */
	int (*get_state)(void *ctx, u32 index, void *buf, size_t cap, u32 *tag);
	/* Optional: hash64_update(st, ...) over npages pages from ipa in order (faster than
	 * read_page when guest RAM is directly addressable). NULL: the machine uses read_page. */
	int (*hash_pages)(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st);
	/* Optional: progress report, at every round boundary and phase change. */
	void (*progress)(void *ctx, const struct mig_stats *st);
};

struct mig_src_config {
	struct mig_compat compat; /* this VM */
	u32 session;              /* non-zero, fresh per attempt (e.g. from the counter) */
	u8 key[MIG_KEY_LEN];      /* shared with the destination; all-zero is refused */
	u8 nonce[MIG_NONCE_LEN];  /* fresh per attempt (random where the CPU has one) */
	u8 local_mac[6];
	u8 peer_mac[6]; /* ff:ff:ff:ff:ff:ff is fine: the answer's source MAC is learnt */
	struct mig_link_config link; /* zeros: frame_max 1514, tx 4 MiB of frames, rx 4 */
	u64 downtime_ns;             /* budget that ends the live rounds (0: 50 ms) */
	u32 max_rounds;      /* live rounds after round 0, at most (0: 30, <= MIG_ROUNDS_MAX-2) */
	u32 pages_per_poll;  /* pages examined per poll, at most (0: 4096) */
	u64 linger_ns;       /* after COMMIT: quiet time before DONE (0: 1 s) */
	u32 verify;          /* enum mig_verify (0: digest) */
	bool no_audit;       /* digest mode: skip the post-commit audit of all RAM */
	u32 postcopy;        /* enum mig_postcopy (0: off) */
	u32 pc_stall_rounds; /* AUTO: live rounds without a new smallest dirty set (0: 4) */
	bool pc_drop_one;    /* test hook: the highest missing page is never sent, nor served */
	bool keep_digests;   /* test hook (lose=1): page digests kept under verify=full too */
};

enum mig_src_phase {
	MIG_SRC_IDLE = 0,
	MIG_SRC_HELLO,  /* HELLO sent, waiting for WELCOME/REFUSE */
	MIG_SRC_LIVE,   /* rounds with the VM running */
	MIG_SRC_FINAL,  /* VM paused: last pages */
	MIG_SRC_STATE,  /* VM paused: state blobs */
	MIG_SRC_HASH,   /* VM paused: waiting for our own hash to complete */
	MIG_SRC_COMMIT, /* HASH sent, waiting for COMMIT */
	MIG_SRC_LINGER, /* committed: answering retransmissions for a moment */
	MIG_SRC_PC_MAP, /* post-copy, VM paused: the bitmap of missing pages, then COMMIT */
	MIG_SRC_PC_RUN, /* post-copy committed: requested pages first, the rest behind them */
	MIG_SRC_PC_END, /* post-copy: HASH sent, waiting for PCDONE */
	MIG_SRC_DONE,
	MIG_SRC_FAILED,
};

struct mig_src {
	struct mig_src_config cfg;
	const struct mig_src_ops *ops;
	void *ctx;
	struct mig_link link;
	struct mig_stats stats;
	enum mig_src_phase phase;
	enum mig_fail fail;         /* why it failed */
	int fail_err;               /* the callback's ferry_err, when one caused it */
	struct mig_refusal refusal; /* valid when fail == REFUSED */
	struct mig_abort_msg peer_abort;
	u32 caps; /* negotiated */
	u64 npages;
	u64 *dirty;         /* npages bits, workspace */
	u8 *page_buf;       /* a split page's copy */
	const u8 *page_src; /* the page being sent: page_buf, or the guest's own (page_ptr) */
	u8 *hash_buf;       /* hash_pages fallback */
	u8 *blob;           /* MIG_STATE_BLOB_MAX */
	/* the frame being filled */
	u8 *fp;
	u32 fcap, flen, fnrec;
	u16 fflags;
	u32 last_zero_rec; /* offset of the last ZERO record in fp, or ~0 */
	/* round walk */
	u64 cursor;        /* next page index to examine */
	u64 untouched_end; /* round 0: pages [.., untouched_end) known untouched (ops->untouched) */
	bool split_pending;
	u64 split_page;
	u32 split_off;
	bool paused, tracking;
	bool converging;  /* the rest fits the budget: live rounds, drained, while they shrink it */
	u64 converge_min; /* the fewest dirty pages a converging round began with */
	u32 converge_stall; /* converging rounds in a row that began with more than that */
	/* state blobs */
	u32 blob_index;
	u32 blob_len, blob_off, blob_tag;
	bool blob_loaded;
	/* hash */
	struct hash64_state hash;
	u64 hash_cursor;
	bool hash_done;
	u64 hash_seq; /* seq of the HASH frame */
	/* page digests (digest mode): the latest sent contents of every page, and their sum */
	u64 *digest;
	u64 digest_sum;
	struct hash64_state page_hash; /* the data page being put into frames */
	u64 audit_cursor;
	u64 t_hash_sent;
	u64 last_collect_ns;
	u64 t_first_send;
	u64 t_quiet;      /* linger: last frame from the peer */
	bool peer_closed; /* linger: the destination said it has finished */
	u64 t_phase;      /* paused: when the current downtime phase began */
	/* post-copy */
	bool pc;             /* switched: the pause leads to PCMAP, not to the final round */
	bool pc_committed;   /* COMMIT of the switch taken: the VM never runs here again */
	bool pc_split_asked; /* the page split across frames was asked for */
	bool pc_draining;    /* switching: waiting for the last live round's frames to be acked */
	u64 *req;            /* npages bits: requested by the destination, not yet sent */
	u64 pc_map_word;     /* next bitmap word to send */
	u64 pc_left;         /* missing pages not yet sent */
	u64 dirty_min;       /* AUTO: the smallest dirty set so far, and rounds since it shrank */
	u32 stall;
	enum mig_fail pc_cause; /* POSTCOPY_LOST: the failure that ended it */
	u64 req_count;          /* bits set in req */
	u64 pc_dropped;         /* pc_drop_one: that page + 1 */
};

size_t mig_src_workspace_size(const struct mig_src_config *cfg);
int mig_src_init(struct mig_src *m, const struct mig_src_config *cfg, const struct mig_src_ops *ops,
		 void *ctx, void *workspace, size_t workspace_len);
int mig_src_start(struct mig_src *m);
/* MIG_RES_OK; a reject (counted) for a frame not accepted, MIG_REJ_ETHERTYPE meaning "not a
 * migration frame": hand it elsewhere; or the failure this frame brought (the machine has failed). */
struct mig_res mig_src_input(struct mig_src *m, const void *frame, size_t len);
enum mig_status mig_src_poll(struct mig_src *m);
void mig_src_cancel(struct mig_src *m);
const struct mig_stats *mig_src_stats(const struct mig_src *m);
/* One line: "migrating: round 3, 1200 pages left, ..." / "destination refused: RAM size differs:
 * source 64 MiB, destination 128 MiB" / "migration done: ...". Returns snprintf's count. */
int mig_src_describe(const struct mig_src *m, char *buf, size_t len);

#endif
