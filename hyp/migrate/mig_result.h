/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration's outcomes: why a frame was not accepted (mig_reject), why a migration failed
 * (mig_fail, also an ABORT's reason code) and where a machine stands (mig_status). */
#ifndef FERRY_MIGRATE_MIG_RESULT_H
#define FERRY_MIGRATE_MIG_RESULT_H

#include "types.h"

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

enum mig_status {
	MIG_RUNNING = 0,
	MIG_DONE = 1,     /* source: VM now lives on the destination; destination: resume the VM */
	MIG_FAILED = 2,   /* source: the VM runs on here (resumed if it was paused), unless the
			   post-copy switch was committed (fail == POSTCOPY_LOST: stop it);
			   destination: discard, or after MIG_POSTCOPY stop the VM */
	MIG_POSTCOPY = 3, /* destination, once: unmap the pages in mig_dst.absent, resume the VM,
			     and keep polling; a guest access to such a page waits for it */
};

const char *mig_reject_name(enum mig_reject r);
const char *mig_fail_name(u32 reason);

/* What became of one received frame (mig_link_input, mig_src_input, mig_dst_input): taken (both
 * NONE), not accepted (reject: counted and dropped, the migration goes on), or the end of the
 * migration (fail). Two fields of two enums, so neither reason can be read as the other, nor as a
 * ferry_err (whose codes are negative ints). */
struct mig_res {
	enum mig_reject reject;
	enum mig_fail fail;
};

#define MIG_RES_OK ((struct mig_res){ MIG_REJ_NONE, MIG_FAIL_NONE })

static inline struct mig_res mig_res_reject(enum mig_reject r)
{
	return (struct mig_res){ r, MIG_FAIL_NONE };
}

static inline struct mig_res mig_res_fail(enum mig_fail f)
{
	return (struct mig_res){ MIG_REJ_NONE, f };
}

static inline bool mig_res_ok(struct mig_res r)
{
	return r.reject == MIG_REJ_NONE && r.fail == MIG_FAIL_NONE;
}

/* "ok", or the name of the reject or the failure. */
static inline const char *mig_res_name(struct mig_res r)
{
	return r.reject != MIG_REJ_NONE  ? mig_reject_name(r.reject)
	       : r.fail != MIG_FAIL_NONE ? mig_fail_name(r.fail)
					 : "ok";
}

#endif
