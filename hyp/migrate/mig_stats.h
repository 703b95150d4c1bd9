/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration's statistics, one struct per end (struct mig_src, struct mig_dst). */
#ifndef FERRY_MIGRATE_MIG_STATS_H
#define FERRY_MIGRATE_MIG_STATS_H

#include "migrate/mig_result.h"
#include "migrate/mig_wire.h"
#include "types.h"

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
	u64 untouched_pages; /* source: round-0 zero pages never read (ops->untouched) */
	u64 state_blobs, state_bytes;
	/* transport */
	u64 frames_sent, bytes_sent; /* including retransmissions and acks */
	u64 retransmissions, fast_retransmissions;
	u64 acks_sent, keepalives_sent;
	u64 frames_received, bytes_received;
	u64 corrupt;        /* tag wrong (corrupted, forged or replayed from another session) */
	u64 stale;          /* authentic unsequenced frames with an old counter: replays, ignored */
	u64 hello_restarts; /* destination: handshakes started again by another attempt's HELLO */
	u64 rejected[MIG_REJ_COUNT];
	u64 duplicates;     /* sequenced frames seen before (dropped, re-acked) */
	u64 out_of_window;  /* sequenced frames too far ahead (dropped) */
	u64 reordered;      /* arrived ahead of a gap and buffered */
	u64 send_busy;      /* send_frame said FERRY_EBUSY: retried later */
	u64 rtt_ns, rto_ns; /* smoothed round-trip time, current timeout */
	u64 rtt_min_ns;     /* the fastest round trip: the path without frames queued ahead */
	/* times (now_ns clock) */
	u64 t_start, t_paused, t_commit, t_end;
	u64 downtime_ns;           /* source: pause → COMMIT received */
	u64 hash_ns;               /* time spent computing the memory hash (full) or page digests */
	u64 local_hash, peer_hash; /* full: memory hash; digest: sum of page digests */
	u32 verify;                /* enum mig_verify in use */
	/* The pause, phase by phase (source; the destination fills verify_ns). What bounds each
	 * is in docs/migration.md, "Downtime, phase by phase". */
	u64 inflight_at_pause; /* bytes sent but not yet acknowledged when the VM paused */
	u64 park_ns;           /* pause callback: every vCPU parked */
	u64 last_collect_ns;   /* the final dirty collection */
	u64 last_pages_ns;     /* the final round's pages into frames */
	u64 state_ns;          /* state blobs into frames */
	u64 verify_ns;     /* source: its hash / digest sum; destination: its check before COMMIT */
	u64 commit_rtt_ns; /* source: HASH queued → COMMIT received */
	u64 commit_ack_ns; /* destination: COMMIT sent → the source's ack of it (it then resumes) */
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

#endif
