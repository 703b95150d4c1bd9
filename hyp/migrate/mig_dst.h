/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration's destination machine (mig_dst.c, mig_dst_pages.c, mig_dst_pc.c), driven as
 * mig_src.h describes. */
#ifndef FERRY_MIGRATE_MIG_DST_H
#define FERRY_MIGRATE_MIG_DST_H

#include "migrate/mig_link.h"
#include "migrate/mig_result.h"
#include "migrate/mig_stats.h"
#include "migrate/mig_wire.h"
#include "types.h"

/* ---------------------------------------------------------------------------------------------- */
/* Destination. */

struct mig_dst_ops {
	int (*send_frame)(void *ctx, const void *frame, size_t len); /* as the source's */
	u64 (*now_ns)(void *ctx);
	/* Write len bytes at offset into the guest page at ipa (whole page: offset 0, len
	 * page_size). */
	int (*write_page)(void *ctx, ipa_t ipa, u32 offset, const void *src, u32 len);
	/* Optional: npages zero pages from ipa. NULL: write_page with zeros, page by page. */
	int (*zero_pages)(void *ctx, ipa_t ipa, u64 npages);
	/* For the hash: as the source's read_page / optional hash_pages. */
	int (*read_page)(void *ctx, ipa_t ipa, void *dst);
	int (*hash_pages)(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st);
	/* A complete state blob, in the order the source sent them. 0 or <0 (→ abort). */
	int (*put_state)(void *ctx, u32 index, u32 tag, const void *buf, u32 len);
	void (*progress)(void *ctx, const struct mig_stats *st); /* optional */
	/* Optional, post-copy: the page at ipa is written and may be mapped for the guest now (its
	 * absent bit is cleared right after). */
	void (*page_arrived)(void *ctx, ipa_t ipa);
};

struct mig_dst_config {
	struct mig_compat compat; /* the incoming VM as configured here */
	u8 local_mac[6];
	u8 key[MIG_KEY_LEN];         /* shared with the source; all-zero is refused */
	u8 nonce[MIG_NONCE_LEN];     /* fresh per listen */
	struct mig_link_config link; /* zeros: frame_max 1514, tx 4, rx 4 MiB of frames */
	u32 pages_per_poll;          /* hash pages per poll (0: 4096) */
	u64 commit_wait_ns;          /* how long to wait for the ack of COMMIT (0: dead_ns) */
};

enum mig_dst_phase {
	MIG_DST_IDLE = 0,
	MIG_DST_LISTEN,   /* waiting for HELLO */
	MIG_DST_RECEIVE,  /* pages and state */
	MIG_DST_HASH,     /* HASH arrived: hashing our memory */
	MIG_DST_COMMIT,   /* COMMIT sent: waiting for its ack */
	MIG_DST_REFUSING, /* REFUSE sent: waiting for its ack */
	MIG_DST_PC_RUN,   /* post-copy: the VM runs here; missing pages arrive, requests go */
	MIG_DST_PC_CLOSE, /* post-copy: PCDONE sent, waiting for its ack */
	MIG_DST_DONE,
	MIG_DST_FAILED,
};

struct mig_dst {
	struct mig_dst_config cfg;
	const struct mig_dst_ops *ops;
	void *ctx;
	struct mig_link link;
	struct mig_stats stats;
	enum mig_dst_phase phase;
	enum mig_fail fail;
	int fail_err;
	struct mig_refusal refusal; /* what we refused, when fail == REFUSED */
	struct mig_compat peer_compat;
	struct mig_abort_msg peer_abort;
	u64 npages;
	u8 *blob;
	u8 *hash_buf;
	u32 blob_index, blob_tag, blob_total, blob_off;
	bool blob_open;
	u32 blobs;
	u32 last_round;
	struct mig_hash_msg expect;
	struct hash64_state hash;
	u64 hash_cursor;
	bool hash_early; /* hashing began at the first state blob (memory is final from there) */
	bool digests;    /* page-digest verification negotiated */
	u64 *digest;     /* per page, the digest of what was installed; their sum below */
	u64 digest_sum;
	u64 t_hash_rx;
	s64 reply_seq; /* COMMIT or REFUSE */
	u64 reply_ns;
	/* post-copy */
	bool pc;         /* the switch's COMMIT (not the pre-copy one) is out */
	u64 *absent;     /* npages bits: pages not here yet. Read by other CPUs (the guest's
			     * fault path, gmem): a bit is cleared, with release order, only after
			     * the page is written and ops->page_arrived has run */
	u64 *wanted;     /* npages bits: asked for, not yet in a PCREQ frame */
	u64 *asked;      /* npages bits: in a PCREQ already */
	u64 pc_map_word; /* next PCMAP word expected */
	u64 pc_left;     /* pages still absent */
	u64 wanted_count;
	u32 pc_verdict; /* enum mig_pc_verdict, for the PCDONE still to send */
	bool pc_done_sent;
	bool pc_resumed;        /* MIG_POSTCOPY returned */
	enum mig_fail pc_cause; /* POSTCOPY_LOST: the failure that ended it */
};

size_t mig_dst_workspace_size(const struct mig_dst_config *cfg);
int mig_dst_init(struct mig_dst *m, const struct mig_dst_config *cfg, const struct mig_dst_ops *ops,
		 void *ctx, void *workspace, size_t workspace_len);
int mig_dst_listen(struct mig_dst *m);
/* As mig_src_input. */
struct mig_res mig_dst_input(struct mig_dst *m, const void *frame, size_t len);
enum mig_status mig_dst_poll(struct mig_dst *m);
void mig_dst_cancel(struct mig_dst *m);
const struct mig_stats *mig_dst_stats(const struct mig_dst *m);
int mig_dst_describe(const struct mig_dst *m, char *buf, size_t len);
/* Post-copy: ask the source for the page holding ipa (a guest or ferry itself waits for it).
 * 0 when it is asked for (now or before), FERRY_ENOENT when it is not missing (any more),
 * FERRY_ERANGE outside RAM, FERRY_EPERM outside post-copy. */
int mig_dst_request(struct mig_dst *m, u64 ipa);
/* Whether the page holding ipa is still missing (false outside RAM). Safe from any CPU. */
bool mig_dst_absent(const struct mig_dst *m, u64 ipa);

#endif
