/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration: the wire protocol (docs/migration-protocol.md), its frame codec, a reliable
 * transport over raw Ethernet frames, and the source and destination state machines.
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
#ifndef FERRY_MIG_H
#define FERRY_MIG_H

#include "lib/lib.h"
#include "migrate/mig_auth.h"
#include "migrate/mig_vcpu.h"
#include "types.h"

/* ---------------------------------------------------------------------------------------------- */
/* Wire constants (docs/migration-protocol.md gives every byte). */

#define MIG_ETHERTYPE 0x88B5u /* IEEE "local experimental" EtherType */
#define MIG_MAGIC 0x47494D46u /* bytes 'F' 'M' 'I' 'G' read as a little-endian u32 */
#define MIG_VERSION 2u        /* 2: frames carry a tag instead of checksums; handshake nonces */
#define MIG_ETH_HDR_LEN 14u
#define MIG_HDR_LEN 36u
#define MIG_FRAME_OVERHEAD (MIG_ETH_HDR_LEN + MIG_HDR_LEN) /* payload starts here */
/* Every frame ends with a MIG_TAG_LEN-byte tag right after its payload (mig_auth.h). */
#define MIG_FRAME_COST (MIG_FRAME_OVERHEAD + MIG_TAG_LEN) /* a frame's bytes beside its payload */
#define MIG_ETH_MIN_FRAME 60u /* Ethernet minimum without FCS: short frames are zero-padded */
#define MIG_FRAME_MIN 1514u   /* the smallest frame_max: a standard Ethernet MTU */
#define MIG_FRAME_MAX 65536u  /* 64 KiB: QEMU's TCP netdevs carry it (docs/qemu-facts.md) */
#define MIG_PAGE_SIZE 4096u   /* protocol version 1 moves 4 KiB pages only */
#define MIG_PAGE_REC_LEN 16u  /* one page record header */
#define MIG_PAGES_HDR_LEN 8u  /* PAGES payload header */
#define MIG_STATE_HDR_LEN 16u /* STATE payload header */
#define MIG_STATE_BLOB_MAX (64u * 1024) /* one opaque state blob, at most */
#define MIG_STATE_BLOBS_MAX 256u
#define MIG_COMPAT_LEN 32u
#define MIG_HELLO_NONCE_OFF (16u + MIG_COMPAT_LEN) /* the sender's fresh value (mig_auth.h) */
#define MIG_HELLO_LEN (MIG_HELLO_NONCE_OFF + MIG_NONCE_LEN)
#define MIG_REFUSE_NONCE_OFF (8u + MIG_COMPAT_LEN)
#define MIG_REFUSE_LEN (MIG_REFUSE_NONCE_OFF + MIG_NONCE_LEN)
#define MIG_HASH_LEN 24u
#define MIG_COMMIT_LEN 8u
#define MIG_ABORT_LEN 16u
#define MIG_WINDOW_MAX 256u /* frames in flight per direction, at most */
#define MIG_ROUNDS_MAX 32u  /* rounds recorded in struct mig_stats (round 0 included) */

enum mig_type {
	MIG_T_HELLO = 1, /* S→D: versions, capabilities, frame size, window, compatibility record */
	MIG_T_WELCOME = 2, /* D→S: accepted; negotiated capabilities and frame size, D's window */
	MIG_T_REFUSE = 3,  /* D→S: refused, with a reason and D's compatibility record */
	MIG_T_PAGES = 4,   /* S→D: page records */
	MIG_T_STATE = 5,   /* S→D: a chunk of an opaque state blob */
	MIG_T_HASH = 6,    /* S→D: whole-memory hash; everything before it is the final image */
	MIG_T_COMMIT = 7,  /* D→S: hashes equal, D takes the VM */
	MIG_T_ABORT = 8,   /* either: giving up, with a reason (unsequenced, best effort) */
	MIG_T_ACK = 9,     /* either: acknowledgement / keepalive only (unsequenced, no payload) */
	MIG_T_PCMAP = 10, /* S→D, post-copy: a slice of the bitmap of pages the destination lacks */
	MIG_T_PCREQ = 11, /* D→S, post-copy: pages the destination is waiting for, served first */
	MIG_T_PCDONE = 12, /* D→S, post-copy: every page is here; its digest sum and verdict */
	MIG_T_MAX = 12,
};

#define MIG_F_FINAL 0x0001u    /* PAGES sent after the source paused the VM */
#define MIG_F_CLOSE 0x0002u    /* on an ACK: the sender is finished with this session */
#define MIG_F_POSTCOPY 0x0004u /* PAGES sent after the post-copy switch (the VM runs there) */

/* Capabilities: HELLO offers, WELCOME returns the intersection. */
#define MIG_CAP_SACK 0x0001u        /* the ack carries a 32-frame selective-ack bitmap */
#define MIG_CAP_ZERO_RUN 0x0002u    /* ZERO records may cover more than one page */
#define MIG_CAP_PAGE_DIGEST 0x0004u /* verify by per-page digests (HASH carries their sum) */
#define MIG_CAP_POSTCOPY 0x0008u    /* the destination can run the VM before every page is there */
#define MIG_CAPS_V1 (MIG_CAP_SACK | MIG_CAP_ZERO_RUN | MIG_CAP_PAGE_DIGEST | MIG_CAP_POSTCOPY)
#define MIG_PCMAP_HDR_LEN 16u /* PCMAP: first bitmap word (u64), pages missing in all (u64) */
#define MIG_PCREQ_HDR_LEN 8u  /* PCREQ: count (u32), reserved (u32), then count IPAs (u64) */
#define MIG_PCREQ_MAX 64u     /* IPAs in one PCREQ, at most */
#define MIG_PCDONE_LEN 16u    /* PCDONE: digest sum (u64), verdict (u32), pages missing (u32) */

/* When the source switches to post-copy (docs/migration.md, "Post-copy"). */
enum mig_postcopy {
	MIG_PC_OFF = 0,  /* never: pre-copy only */
	MIG_PC_AUTO = 1, /* when the live rounds stop converging (mig_src_config.pc_stall_rounds) */
	MIG_PC_NOW = 2,  /* right after round 0 */
};

/* The destination's verdict when the last post-copy page has arrived (PCDONE). */
enum mig_pc_verdict {
	MIG_PCV_NONE = 0,    /* not (yet) checked */
	MIG_PCV_MATCH = 1,   /* the digest sums agree */
	MIG_PCV_DIFFERS = 2, /* they differ: the running VM's memory is not the source's */
	MIG_PCV_MISSING = 3, /* HASH came with pages still missing (a source bug) */
};

/* How the two ends check the moved memory before COMMIT (docs/migration.md, "Verification"). */
enum mig_verify {
	MIG_VERIFY_DIGEST =
		0,           /* default: a digest per page as sent / as written, summed; O(dirty) */
	MIG_VERIFY_FULL = 1, /* XXH64 over all guest RAM on both ends while paused; O(RAM) */
};

enum mig_rec_kind {
	MIG_REC_DATA = 1, /* bytes [offset, offset + length) of the page at ipa */
	MIG_REC_ZERO = 2, /* `count` pages from ipa are all zero: no data follows */
};

/* Why a frame was not accepted. Each has a counter in struct mig_stats. */
enum mig_reject {
	MIG_REJ_NONE = 0,
	MIG_REJ_SHORT,     /* shorter than the Ethernet + migration headers */
	MIG_REJ_ETHERTYPE, /* not ours: the caller may hand it to someone else */
	MIG_REJ_MAGIC,
	MIG_REJ_VERSION,
	MIG_REJ_LENGTH,  /* payload_len larger than the frame or than MIG_FRAME_MAX */
	MIG_REJ_MAC,     /* tag wrong: corrupted on the way, forged, or another session's */
	MIG_REJ_TYPE,    /* unknown type, or reserved field not zero */
	MIG_REJ_PAYLOAD, /* authentic, but the payload is malformed for its type */
	MIG_REJ_SESSION, /* another session's frame, or not a HELLO before a session exists */
	MIG_REJ_COUNT,
};

/* Why a migration failed (also the reason code of an ABORT frame). */
enum mig_fail {
	MIG_FAIL_NONE = 0,
	MIG_FAIL_NO_ANSWER = 1,   /* handshake never answered */
	MIG_FAIL_LINK_DEAD = 2,   /* nothing from the peer for dead_ns */
	MIG_FAIL_NO_PROGRESS = 3, /* peer alive but acks stopped advancing for dead_ns */
	MIG_FAIL_REFUSED = 4,     /* destination refused (see refuse reason) */
	MIG_FAIL_PEER_ABORT = 5,  /* peer sent ABORT (see peer_reason) */
	MIG_FAIL_HASH_MISMATCH = 6,
	MIG_FAIL_STATE = 7,    /* get_state/put_state failed or a blob is malformed */
	MIG_FAIL_MEMORY = 8,   /* read_page/write_page/hash failed */
	MIG_FAIL_PROTOCOL = 9, /* a well-formed frame that breaks the protocol */
	MIG_FAIL_CANCELLED = 10,
	MIG_FAIL_PAUSE = 11,              /* the pause callback failed */
	MIG_FAIL_SEND = 12,               /* send_frame failed hard */
	MIG_FAIL_TRACKING = 13,           /* dirty tracking failed */
	MIG_FAIL_COMMIT_UNCONFIRMED = 14, /* destination: COMMIT never acknowledged (see doc) */
	MIG_FAIL_CONFIG = 15,
	MIG_FAIL_POSTCOPY_LOST = 16, /* after the post-copy switch: neither side can run the VM */
	MIG_FAIL_COUNT,
};

enum mig_refuse {
	MIG_REFUSE_NONE = 0,
	MIG_REFUSE_VERSION = 1,
	MIG_REFUSE_PAGE_SIZE = 2,
	MIG_REFUSE_RAM_BASE = 3,
	MIG_REFUSE_RAM_SIZE = 4,
	MIG_REFUSE_VCPUS = 5,
	MIG_REFUSE_CPU_FEATURES = 6, /* the guest sees features the destination cannot give */
	MIG_REFUSE_CAPS = 7,         /* a capability the destination requires is missing */
	MIG_REFUSE_FRAME_SIZE = 8,   /* offered frame size below MIG_FRAME_MIN */
	MIG_REFUSE_BUSY = 9,         /* integrator's choice: no VM waiting in the incoming state */
	MIG_REFUSE_COUNT,
};

enum mig_status {
	MIG_RUNNING = 0,
	MIG_DONE = 1,     /* source: VM now lives on the destination; destination: resume the VM */
	MIG_FAILED = 2,   /* source: the VM runs on here (resumed if it was paused), unless the
			   post-copy switch was committed (fail == POSTCOPY_LOST: stop it);
			   destination: discard, or after MIG_POSTCOPY stop the VM */
	MIG_POSTCOPY = 3, /* destination, once: unmap the pages in mig_dst.absent, resume the VM,
			     and keep polling; a guest access to such a page waits for it */
};

/* What both ends must agree on before a single page moves. */
struct mig_compat {
	u64 ram_base;     /* IPA of the first guest RAM byte */
	u64 ram_size;     /* bytes, a multiple of page_size */
	u64 cpu_features; /* guest-visible CPU features, a bitmask the integrator defines */
	u32 vcpus;
	u32 page_size; /* MIG_PAGE_SIZE in version 1 */
};

/* ---------------------------------------------------------------------------------------------- */
/* Frame codec. Multi-byte fields of our header and payloads are little-endian; the EtherType is
 * big-endian as Ethernet requires.                                                               */

struct mig_hdr {
	u8 version;
	u8 type;
	u16 flags;
	u32 session;
	u32 seq;  /* 0 for unsequenced types (ACK, ABORT); sequenced frames start at 1 */
	u32 ack;  /* next sequence number the sender expects: every seq < ack arrived */
	u32 sack; /* bit i: seq ack + 1 + i arrived too */
	u32 payload_len;
	u64 ctr; /* the sender's transmission counter: the tag's nonce (mig_auth.h) */
};

struct mig_frame {
	struct mig_hdr hdr;
	u8 dst[6], src[6];
	const u8 *payload;
};

/* Writes Ethernet header and migration header around a payload that is already at
 * frame + MIG_FRAME_OVERHEAD, and the tag after it (sealed under a's key for the frame's type);
 * pads to MIG_ETH_MIN_FRAME. Returns the frame length, FERRY_EINVAL when it does not fit in cap,
 * or FERRY_EPERM when a has no key for this frame yet. */
int mig_frame_seal(u8 *frame, size_t cap, const u8 dst[6], const u8 src[6], const struct mig_hdr *h,
		   struct mig_auth *a);
/* Rewrites ack/sack of a sealed frame and seals it again under a new counter (retransmissions
 * carry fresh acks, and a (key, nonce) pair never seals two different frames). 0 or FERRY_EPERM. */
int mig_frame_update_ack(u8 *frame, u32 ack, u32 sack, struct mig_auth *a);
/* Checks and decodes a received frame; returns MIG_REJ_NONE or the reason. With a, the tag must
 * verify (MIG_REJ_MAC), checked before the type and the payload are looked at; without, only the
 * structure is checked (a frame verified when it arrived, parsed again from a buffer). The payload
 * pointer points into frame. Bytes past the tag (Ethernet padding) are ignored. */
enum mig_reject mig_frame_parse(const u8 *frame, size_t len, struct mig_frame *out,
				struct mig_auth *a);

/* Payloads. Encoders return the payload length; decoders return 0 or FERRY_EINVAL. */
struct mig_hello {
	u32 caps;
	u32 frame_max;
	u32 rx_window;
	struct mig_compat compat;
	u8 nonce[MIG_NONCE_LEN]; /* the sender's fresh value: both make the session key */
};
u32 mig_hello_encode(u8 *p, const struct mig_hello *h);
int mig_hello_decode(const u8 *p, u32 len, struct mig_hello *h);

struct mig_refusal {
	u32 reason;               /* enum mig_refuse */
	u32 detail;               /* VERSION: highest version the refuser speaks; otherwise 0 */
	struct mig_compat compat; /* the refuser's own record */
	u8 nonce[MIG_NONCE_LEN];  /* the destination's fresh value, as in WELCOME */
};
u32 mig_refusal_encode(u8 *p, const struct mig_refusal *r);
int mig_refusal_decode(const u8 *p, u32 len, struct mig_refusal *r);

struct mig_page_rec {
	u64 ipa;
	u8 kind;    /* enum mig_rec_kind */
	u16 offset; /* DATA */
	u32 length; /* DATA: bytes that follow; ZERO: number of pages */
	const u8 *data;
};
/* Walks the records of a PAGES payload. Init checks the payload header; next returns 1 with a
 * record, 0 at the clean end, FERRY_EINVAL when a record is malformed or the count is wrong. Only
 * structure is checked (kind, lengths, offset + length <= page, alignment); the IPA range is the
 * destination's business. */
struct mig_pages_iter {
	const u8 *p;
	u32 len, pos, round, nrec, seen;
	u16 flags;
};
int mig_pages_iter_init(struct mig_pages_iter *it, const u8 *payload, u32 len);
int mig_pages_iter_next(struct mig_pages_iter *it, struct mig_page_rec *rec);

struct mig_state_chunk {
	u32 index, tag, total_len, offset, len;
	const u8 *data;
};
int mig_state_decode(const u8 *p, u32 len, struct mig_state_chunk *c);

struct mig_hash_msg {
	u64 hash;
	u64 pages;
	u32 blobs;
	u32 final_round;
};
u32 mig_hash_encode(u8 *p, const struct mig_hash_msg *h);
int mig_hash_decode(const u8 *p, u32 len, struct mig_hash_msg *h);

struct mig_abort_msg {
	u32 reason; /* enum mig_fail */
	u64 detail; /* HASH_MISMATCH: the sender's hash; otherwise 0 */
};
u32 mig_abort_encode(u8 *p, const struct mig_abort_msg *a);
int mig_abort_decode(const u8 *p, u32 len, struct mig_abort_msg *a);

/* Compatibility check the destination makes; returns MIG_REFUSE_NONE or the first mismatch. */
enum mig_refuse mig_compat_check(const struct mig_compat *src, const struct mig_compat *dst);
/* "RAM size differs: source 64 MiB, destination 128 MiB". Returns snprintf's count. */
int mig_refusal_format(char *buf, size_t len, u32 reason, u32 detail, const struct mig_compat *src,
		       const struct mig_compat *dst);

/* The COMMIT payload is one little-endian u64: get_le64/put_le64 (lib/lib.h). */

const char *mig_type_name(u32 type);
const char *mig_reject_name(enum mig_reject r);
const char *mig_fail_name(u32 reason);
const char *mig_refuse_name(u32 reason);

/* The whole-memory hash: XXH64 with seed 0 over ram_size bytes in IPA order. */
#define MIG_MEM_HASH_SEED 0ULL

/* The page digest: XXH64 (seed 0) of the page's 4096 bytes, bound to the page's IPA by a
 * bijective mix, so the same contents at two addresses differ and the sum over pages (mod 2^64)
 * does not cancel. The aggregate both ends compare is the sum over every page moved so far of
 * the digest of its latest contents: order-independent, and updated in O(1) per page. */
u64 mig_page_digest(u64 ipa, u64 content_hash);
/* XXH64 of an all-zero page (constant; zero records need no memory read). */
u64 mig_zero_page_hash(void);

/* ---------------------------------------------------------------------------------------------- */
/* Statistics, one struct per end. Counters only grow; the integrator may read them at any time. */

struct mig_round_stats {
	u64 pages;      /* pages taken into the round (data + zero) */
	u64 zero_pages; /* of which sent as header-only records */
	u64 bytes;      /* wire bytes of first transmissions of this round's frames */
	u64 frames;
	u64 start_ns,
		end_ns; /* end: last frame of the round queued (source) / seen (destination) */
};

struct mig_stats {
	/* progress */
	u32 round;       /* current round (0 = all memory) */
	u32 rounds;      /* rounds begun, final round included */
	u32 final_round; /* the round sent with the VM paused; 0 until then */
	u64 pages_total; /* RAM pages */
	u64 pages_left;  /* source: pages still to send in this round */
	u64 dirty_last;  /* source: pages found dirty at the last collection */
	u64 dirty_rate;  /* source: pages dirtied per second, last interval */
	u64 throughput;  /* source: acknowledged wire bytes per second, since round 0 began */
	u64 downtime_estimate_ns; /* source: the estimate that ended the live rounds */
	struct mig_round_stats r[MIG_ROUNDS_MAX];
	/* totals */
	u64 pages_sent, zero_pages, data_bytes; /* data_bytes: page bytes carried */
	u64 state_blobs, state_bytes;
	/* transport */
	u64 frames_sent, bytes_sent; /* including retransmissions and acks */
	u64 retransmissions, fast_retransmissions;
	u64 acks_sent, keepalives_sent;
	u64 frames_received, bytes_received;
	u64 corrupt; /* tag wrong (corrupted, forged or replayed from another session) */
	u64 stale;   /* authentic unsequenced frames with an old counter: replays, ignored */
	u64 rejected[MIG_REJ_COUNT];
	u64 duplicates;     /* sequenced frames seen before (dropped, re-acked) */
	u64 out_of_window;  /* sequenced frames too far ahead (dropped) */
	u64 reordered;      /* arrived ahead of a gap and buffered */
	u64 send_busy;      /* send_frame said FERRY_EBUSY: retried later */
	u64 rtt_ns, rto_ns; /* smoothed round-trip time, current timeout */
	/* times (now_ns clock) */
	u64 t_start, t_paused, t_commit, t_end;
	u64 downtime_ns;           /* source: pause → COMMIT received */
	u64 hash_ns;               /* time spent computing the memory hash (full) or page digests */
	u64 local_hash, peer_hash; /* full: memory hash; digest: sum of page digests */
	u32 verify;                /* enum mig_verify in use */
	/* The pause, phase by phase (source; the destination fills verify_ns). What bounds each
	 * is in docs/migration.md, "Downtime, phase by phase". */
	u64 park_ns;         /* pause callback: every vCPU parked */
	u64 last_collect_ns; /* the final dirty collection */
	u64 last_pages_ns;   /* the final round's pages into frames */
	u64 state_ns;        /* state blobs into frames */
	u64 verify_ns;     /* source: its hash / digest sum; destination: its check before COMMIT */
	u64 commit_rtt_ns; /* source: HASH queued → COMMIT received */
	/* Post-commit audit (source, digest mode): all of RAM against the digests sent. */
	u32 audit;                            /* 0 not run, 1 running, 2 clean, 3 pages differ */
	u64 audit_bad_pages, audit_first_bad; /* count, and the IPA of the first */
	u64 audit_ns;
	/* Post-copy (docs/migration.md, "Post-copy"). */
	u32 pc;               /* 1: the migration switched to post-copy */
	u32 pc_verify;        /* enum mig_pc_verdict */
	u64 pc_pages;         /* pages the destination lacked at the switch */
	u64 pc_requested;     /* pages asked for (destination) / served on demand (source) */
	u64 pc_requests_late; /* source: asked for after they were sent (already on the way) */
	u64 pc_duplicates;    /* destination: post-copy records for pages it had (dropped) */
	u64 t_pc_last;        /* the last missing page sent (source) / arrived (destination) */
	u64 pc_faults;        /* destination integrator: guest accesses that waited */
	u64 pc_fault_ns_sum, pc_fault_ns_max; /* ... and how long they waited */
};

enum {
	MIG_AUDIT_OFF = 0,
	MIG_AUDIT_RUNNING,
	MIG_AUDIT_CLEAN,
	MIG_AUDIT_DIFFERS
};

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
typedef int (*mig_deliver_fn)(void *owner, const struct mig_frame *f);

struct mig_link {
	struct mig_link_config cfg;
	int (*send)(void *ctx, const void *frame, size_t len);
	u64 (*now)(void *ctx);
	void *ctx;
	mig_deliver_fn deliver;
	void *owner;
	struct mig_stats *stats;
	struct mig_auth auth; /* keys and counters; set up by the machine before the first frame */
	u8 local_mac[6], peer_mac[6];
	bool peer_known;
	bool session_set; /* source: from the start; destination: from the first HELLO */
	bool sack;        /* negotiated */
	u32 session;
	u32 frame_max;   /* negotiated; slot stride stays cfg.frame_max */
	u32 peer_window; /* peer's rx window (before WELCOME: 1) */
	u8 *tx_area, *rx_area;
	u32 tx_next, tx_una, rx_next;
	struct mig_txslot tx[MIG_WINDOW_MAX];
	u32 rx_len[MIG_WINDOW_MAX]; /* 0: slot empty */
	u64 srtt, rttvar, rto, rto_base;
	u64 last_rx_ns, last_progress_ns, last_tx_ns;
	u64 last_new_ns; /* last first transmission of a window frame */
	u64 acked_bytes; /* wire bytes of frames acknowledged so far (throughput) */
	bool ack_owed;
	bool busy; /* send_frame said EBUSY during this service */
	int fail;  /* enum mig_fail once dead */
};

int mig_link_init(struct mig_link *l, const struct mig_link_config *cfg, const u8 local_mac[6],
		  const u8 peer_mac[6], void *tx_area, void *rx_area, struct mig_stats *stats);
size_t mig_link_area_size(const struct mig_link_config *cfg); /* tx_area + rx_area bytes */
u32 mig_default_window(u32 frame_max); /* 4 MiB worth of frames, 16..MIG_WINDOW_MAX */
void mig_link_set_session(struct mig_link *l, u32 session);
/* Feed one received frame; in-order sequenced frames are handed to deliver. Returns 0, a negative
 * enum mig_reject for rejected frames, or the deliver callback's (positive enum mig_fail) error. */
int mig_link_input(struct mig_link *l, const u8 *frame, size_t len);
/* Retransmissions, queued sends, keepalives, death detection. Returns 0 or enum mig_fail. An ack it
 * finds owed is left for mig_link_flush_ack. */
int mig_link_service(struct mig_link *l);
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

/* ---------------------------------------------------------------------------------------------- */
/* Source. */

struct mig_src_ops {
	/* Hand one complete Ethernet frame to the NIC. 0: taken (the buffer may be reused at once);
	 * FERRY_EBUSY: TX ring full, the machine retries on a later poll; other <0: fatal. */
	int (*send_frame)(void *ctx, const void *frame, size_t len);
	u64 (*now_ns)(void *ctx); /* monotonic */
	/* Copy MIG_PAGE_SIZE bytes of guest RAM at ipa into dst. 0 or <0. */
	int (*read_page)(void *ctx, ipa_t ipa, void *dst);
	/* Optional: the page itself, when guest RAM is directly addressable (NULL: use read_page).
	 * Saves a copy per page; the guest may write the page meanwhile, which dirty tracking has
	 * logged by then, so it goes again in a later round (or the final one, with the VM paused).
	 */
	const void *(*page_ptr)(void *ctx, ipa_t ipa);
	/* Optional: start dirty tracking (called once, after WELCOME, before round 0 reads a page).
	 */
	int (*track_start)(void *ctx);
	/* OR into bitmap (bit i = page at ram_base + i * page_size) every page written since the
	 * previous call (or since track_start), and clear that record. Returns pages added (>= 0)
	 * or <0. */
	s64 (*collect_dirty)(void *ctx, u64 *bitmap, u64 npages);
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
	int fail;                   /* enum mig_fail */
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
	u64 cursor; /* next page index to examine */
	bool split_pending;
	u64 split_page;
	u32 split_off;
	bool paused, tracking;
	bool converging; /* the rest fits the budget: one more live round, drained, then pause */
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
	int pc_cause;   /* POSTCOPY_LOST: the enum mig_fail that ended it */
	u64 req_count;  /* bits set in req */
	u64 pc_dropped; /* pc_drop_one: that page + 1 */
};

size_t mig_src_workspace_size(const struct mig_src_config *cfg);
int mig_src_init(struct mig_src *m, const struct mig_src_config *cfg, const struct mig_src_ops *ops,
		 void *ctx, void *workspace, size_t workspace_len);
int mig_src_start(struct mig_src *m);
/* Returns 0, or a negative enum mig_reject (counted) for a frame not accepted; MIG_REJ_ETHERTYPE
 * means "not a migration frame": hand it elsewhere. */
int mig_src_input(struct mig_src *m, const void *frame, size_t len);
enum mig_status mig_src_poll(struct mig_src *m);
void mig_src_cancel(struct mig_src *m);
const struct mig_stats *mig_src_stats(const struct mig_src *m);
/* One line: "migrating: round 3, 1200 pages left, ..." / "destination refused: RAM size differs:
 * source 64 MiB, destination 128 MiB" / "migration done: ...". Returns snprintf's count. */
int mig_src_describe(const struct mig_src *m, char *buf, size_t len);

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
	int fail;
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
	bool pc_resumed; /* MIG_POSTCOPY returned */
	int pc_cause;    /* POSTCOPY_LOST: the enum mig_fail that ended it */
};

size_t mig_dst_workspace_size(const struct mig_dst_config *cfg);
int mig_dst_init(struct mig_dst *m, const struct mig_dst_config *cfg, const struct mig_dst_ops *ops,
		 void *ctx, void *workspace, size_t workspace_len);
int mig_dst_listen(struct mig_dst *m);
int mig_dst_input(struct mig_dst *m, const void *frame, size_t len);
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

/* ---------------------------------------------------------------------------------------------- */
/* VM state blobs (docs/migration-protocol.md, "State blobs"). The protocol moves opaque blobs; these
 * are ferry's, in this order: one MIG_BLOB_VM, one MIG_BLOB_VCPU per vCPU (index order), then one
 * per emulated device (MIG_BLOB_UART, MIG_BLOB_VGIC, then MIG_BLOB_RTC), the SVE blobs, the ITS's. Each starts with a u32 magic (its tag) and a u16 version;
 * all fields little-endian. A decoder refuses any other magic, version, length or a value no
 * register can hold, so a malformed blob aborts the migration instead of resuming a broken guest. */

#define MIG_BLOB_VM 0x4d56u   /* "VM" */
#define MIG_BLOB_VCPU 0x5043u /* "CP" */
#define MIG_BLOB_UART 0x5455u /* "UT" */
#define MIG_BLOB_VGIC 0x4947u /* "GI": hyp/vgic's own versioned blob (docs/vgic.md) */
#define MIG_BLOB_RTC 0x5452u  /* "RT": the PL031's own blob (hyp/vdev/vpl031.c), after the vGIC's */
#define MIG_BLOB_ITS 0x5449u  /* "IT": hyp/vgic/its_save.c's blob (docs/vgic.md), the last one */
#define MIG_VMSTATE_VERSION 2u /* 2: the debug registers */

struct mig_vm_state {
	u32 nvcpus;
	u64 cntfrq; /* counter frequency: a guest's time would run at another speed otherwise */
	u64 vcount; /* the guest's virtual count (CNTVCT) at the pause */
	u64 ram_base, ram_size;
};

#define MIG_VCPU_BLOB_LEN (16u + 8u * MIG_R_NR)
#define MIG_VM_BLOB_LEN 48u

const char *mig_vcpu_reg_name(u32 reg);
/* Encoders return the blob length, or FERRY_EINVAL when it does not fit in cap. Decoders return 0,
 * or FERRY_EINVAL with the reason in why (for the console). */
int mig_vcpu_encode(u8 *buf, size_t cap, const struct mig_vcpu_state *s);
int mig_vcpu_decode(const u8 *buf, size_t len, struct mig_vcpu_state *s, const char **why);
int mig_vm_encode(u8 *buf, size_t cap, const struct mig_vm_state *s);
int mig_vm_decode(const u8 *buf, size_t len, struct mig_vm_state *s, const char **why);

/* Integer helpers (no floating point in hyp/): a * b / c with a 128-bit intermediate, saturating.
 */
u64 mig_muldiv(u64 a, u64 b, u64 c);

#endif
