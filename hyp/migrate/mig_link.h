/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration's reliable link over raw Ethernet frames (mig_link.c). */
#ifndef FERRY_MIGRATE_MIG_LINK_H
#define FERRY_MIGRATE_MIG_LINK_H

#include "migrate/mig_auth.h"
#include "migrate/mig_stats.h"
#include "migrate/mig_wire.h"
#include "types.h"

/* ---------------------------------------------------------------------------------------------- */
/* Reliable transport (shared by both machines; declared here because the machine structs embed it;
 * integrators use the machines, not these).                                                      */

struct mig_link_config {
	u32 frame_max;    /* largest frame this end sends/accepts, MIG_FRAME_MIN..MIG_FRAME_MAX */
	u32 tx_window;    /* frames in flight, 1..MIG_WINDOW_MAX */
	u32 rx_window;    /* out-of-order frames buffered, 1..MIG_WINDOW_MAX */
	u64 rto_init_ns;  /* retransmission timeout before the first RTT sample (0: 100 ms) */
	u64 rto_min_ns;   /* (0: 1 ms) */
	u64 rto_max_ns;   /* (0: 500 ms; never above dead_ns / 32, so >= 32 tries) */
	u64 keepalive_ns; /* send an ACK when nothing was sent for this long (0: 50 ms) */
	u64 dead_ns;      /* peer silent, or no ack progress, this long → dead (0: 3 s) */
};

/* Bytes before each window frame that a NIC sending it in place may use for its own header
 * (virtio-net's is 10 or 12). */
#define MIG_TX_HEADROOM 16u

enum mig_txslot_state {
	MIG_TX_FREE = 0,
	MIG_TX_QUEUED,
	MIG_TX_INFLIGHT,
	MIG_TX_SACKED
};

struct mig_txslot {
	u32 seq, len;
	u64 sent_ns; /* last (re)transmission */
	u32 sends;
	u8 state; /* enum mig_txslot_state */
};

struct mig_link;
/* Takes one in-order frame: MIG_FAIL_NONE, or why the migration cannot go on. */
typedef enum mig_fail (*mig_deliver_fn)(void *owner, const struct mig_frame *f);

struct mig_link {
	struct mig_link_config cfg;
	int (*send)(void *ctx, const void *frame, size_t len);
	/* Optional, both or neither: window frames go to the NIC where they lie (the machines'
	 * send_in_place and frame_held, mig_src.h). */
	int (*send_in_place)(void *ctx, u8 *frame, size_t len);
	bool (*held)(void *ctx, const u8 *frame);
	u64 (*now)(void *ctx);
	void *ctx;
	mig_deliver_fn deliver;
	void *owner;
	struct mig_stats *stats;
	struct mig_auth auth; /* keys and counters; set up by the machine before the first frame */
	u8 local_mac[6], peer_mac[6];
	bool peer_known;
	bool session_set; /* source: from the start; destination: from the first HELLO */
	bool hello_only;  /* destination: nothing but a HELLO (seq 1) accepted yet */
	bool sack;        /* negotiated */
	u32 session;
	u32 frame_max;   /* negotiated; slot stride stays cfg.frame_max */
	u32 peer_window; /* peer's rx window (before WELCOME: 1) */
	u8 *tx_area, *rx_area;
	u32 tx_next, tx_una, rx_next;
	struct mig_txslot tx[MIG_WINDOW_MAX];
	u32 rx_len[MIG_WINDOW_MAX]; /* 0: slot empty */
	u64 srtt, rttvar, rto, rto_base;
	u64 rtt_min; /* the fastest round trip sampled (0: none yet) */
	u64 last_rx_ns, last_progress_ns, last_tx_ns;
	u64 last_new_ns; /* last first transmission of a window frame */
	u64 acked_bytes; /* wire bytes of frames acknowledged so far (throughput) */
	bool ack_owed;
	bool busy;          /* send_frame said EBUSY during this service */
	enum mig_fail fail; /* once dead */
};

int mig_link_init(struct mig_link *l, const struct mig_link_config *cfg, const u8 local_mac[6],
		  const u8 peer_mac[6], void *tx_area, void *rx_area, struct mig_stats *stats);
size_t mig_link_area_size(const struct mig_link_config *cfg);    /* tx_area + rx_area bytes */
size_t mig_link_tx_area_size(const struct mig_link_config *cfg); /* tx_area bytes */
u32 mig_default_window(u32 frame_max); /* 4 MiB worth of frames, 16..MIG_WINDOW_MAX */
void mig_link_set_session(struct mig_link *l, u32 session);
/* Feed one received frame; in-order sequenced frames are handed to deliver. Returns MIG_RES_OK,
 * the reject of a frame not accepted, or the failure deliver (or the reorder buffer) reported. */
struct mig_res mig_link_input(struct mig_link *l, const u8 *frame, size_t len);
/* Retransmissions, queued sends, keepalives, death detection. Returns MIG_FAIL_NONE or the failure. An ack it
 * finds owed is left for mig_link_flush_ack. */
enum mig_fail mig_link_service(struct mig_link *l);
/* Payload buffer of the next sequenced frame, or NULL when the window is full. */
u8 *mig_link_open(struct mig_link *l, u32 *cap);
/* Seals and sends the opened frame. Returns its sequence number, or a negative ferry_err. */
s64 mig_link_queue(struct mig_link *l, u8 type, u16 flags, u32 len);
int mig_link_send_unsequenced(struct mig_link *l, u8 type, u16 flags, const u8 *payload, u32 len);
/* Sends the owed ack as a bare ACK, unless a frame sent since already carried it. Call it at the
 * end of every poll. */
void mig_link_flush_ack(struct mig_link *l);
bool mig_link_acked(const struct mig_link *l, u32 seq);
bool mig_link_idle(const struct mig_link *l); /* everything sent has been acknowledged */
u32 mig_link_inflight(const struct mig_link *l);
u64 mig_link_inflight_bytes(const struct mig_link *l); /* not yet acknowledged, in wire bytes */

#endif
