/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration's wire format (docs/migration-protocol.md gives every byte): constants, frame
 * types, the compatibility record, the frame codec and payload codecs, the digests. mig_wire.c. */
#ifndef FERRY_MIGRATE_MIG_WIRE_H
#define FERRY_MIGRATE_MIG_WIRE_H

#include "lib/lib.h"
#include "migrate/mig_auth.h"
#include "migrate/mig_result.h"
#include "types.h"

/* ---------------------------------------------------------------------------------------------- */
/* Wire constants (docs/migration-protocol.md gives every byte). */

#define MIG_ETHERTYPE 0x88B5u /* IEEE "local experimental" EtherType */
#define MIG_MAGIC 0x47494D46u /* bytes 'F' 'M' 'I' 'G' read as a little-endian u32 */
/* 2: frames carry a tag instead of checksums; handshake nonces. 3: a STATE frame carries several
 * chunks. 4: a zero page's digest is 0 */
#define MIG_VERSION 4u
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
/* A STATE payload is one or more chunks, each a 16-byte header and its data, which runs to the end
 * of its blob or of the payload, whichever comes first: so only a frame's last chunk can stop short
 * of its blob's end, and a chunk after the first starts the next blob. */
struct mig_state_iter {
	const u8 *p;
	u32 len, pos, nchunks, next_index;
};
int mig_state_iter_init(struct mig_state_iter *it, const u8 *payload, u32 len);
/* 1 and the next chunk in *c, 0 at the end, FERRY_EINVAL for a payload the rules above refuse. */
int mig_state_iter_next(struct mig_state_iter *it, struct mig_state_chunk *c);
/* Writes a chunk header for blob `index` from byte `offset` on at p; returns 16. */
u32 mig_state_put_hdr(u8 *p, u32 index, u32 tag, u32 total_len, u32 offset);

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
const char *mig_refuse_name(u32 reason);

/* The whole-memory hash: XXH64 with seed 0 over ram_size bytes in IPA order. */
#define MIG_MEM_HASH_SEED 0ULL

/* n pages of it from ipa into st, as both machines take them: by the integrator's hash_pages, or
 * without one page by page through read_page and buf. 0 or the callback's error. */
static inline int mig_hash_range(int (*hash_pages)(void *ctx, ipa_t ipa, u64 npages,
						   struct hash64_state *st),
				 int (*read_page)(void *ctx, ipa_t ipa, void *dst), void *ctx,
				 ipa_t ipa, u64 n, struct hash64_state *st, u8 *buf)
{
	int rc = 0;

	if (hash_pages)
		return hash_pages(ctx, ipa, n, st);
	for (u64 i = 0; i < n && !rc; i++) {
		rc = read_page(ctx, ipa_add(ipa, i * MIG_PAGE_SIZE), buf);
		if (!rc)
			hash64_update(st, buf, MIG_PAGE_SIZE);
	}
	return rc;
}

/* The page digest: XXH64 (seed 0) of the page's 4096 bytes, bound to the page's IPA by a
 * bijective mix, so the same contents at two addresses differ and the sum over pages (mod 2^64)
 * does not cancel. The aggregate both ends compare is the sum over every page moved so far of
 * the digest of its latest contents: order-independent, and updated in O(1) per page. */
u64 mig_page_digest(u64 ipa, u64 content_hash); /* 0 for a zero page's content_hash */
/* XXH64 of an all-zero page (constant; zero records need no memory read). */
u64 mig_zero_page_hash(void);

/* Integer helpers (no floating point in hyp/): a * b / c with a 128-bit intermediate, saturating.
 */
u64 mig_muldiv(u64 a, u64 b, u64 c);

#endif
