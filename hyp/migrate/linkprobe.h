/* SPDX-License-Identifier: Apache-2.0 */
/* The raw link between two ferries, measured outside the migration protocol: `netblast` (how fast
 * the largest frames go) and `netping` (how long one small frame takes there and back). They are
 * what the benchmark sets migration's goodput and round trips against (docs/migration.md, "The raw
 * link"). The frames carry EtherType 0x88B6 and are neither sequenced nor authenticated: they
 * measure the link, and a forged one can only spoil a measurement.
 *
 * Frame: Ethernet header (14 bytes), kind (1), zero (3), seq (4, little-endian), count (4): the
 * blast's frame count, or the ping run's. A pong is its ping with the kind changed, sent back to
 * the ping's source address. This file is the pure part (host-tested); linkprobe_el2.c sends and
 * receives. */
#ifndef FERRY_MIGRATE_LINKPROBE_H
#define FERRY_MIGRATE_LINKPROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "types.h"

#define LINKPROBE_ETHERTYPE 0x88B6u
#define LINKPROBE_HDR_LEN 26u
#define LINKPROBE_MIN_FRAME 60u /* the shortest Ethernet frame (no FCS): what a ping is */

enum linkprobe_kind {
	LINKPROBE_BLAST = 1,
	LINKPROBE_PING = 2,
	LINKPROBE_PONG = 3,
};

struct linkprobe_hdr {
	u8 kind;
	u32 seq, count;
};

/* Writes the Ethernet header and the probe header at f (LINKPROBE_HDR_LEN bytes). */
void linkprobe_put(u8 *f, const u8 dst[6], const u8 src[6], const struct linkprobe_hdr *h);
/* false: too short for the header or of no known kind. */
bool linkprobe_parse(const u8 *f, size_t len, struct linkprobe_hdr *h);

/* netping: pings one at a time, the next NETPING_GAP_NS after the last answer (so that each finds
 * the peer's management CPU asleep, as a migration's frames do when the link is quiet), a ping
 * counted lost after NETPING_TIMEOUT_NS. Sequence numbers go on across runs, so a late answer to
 * an earlier run's ping is not taken for this one's. */
#define NETPING_MAX 1000u
#define NETPING_GAP_NS (10ULL * 1000000ULL)
#define NETPING_TIMEOUT_NS (500ULL * 1000000ULL)

struct netping {
	bool active;
	u32 count, sent, answered;
	u32 seq;      /* the ping waited for, or the last one sent */
	bool waiting; /* ping seq is out, no answer yet */
	u64 t_sent;   /* when it left */
	u64 next_ns;  /* when the next ping is due */
	u64 rtt[NETPING_MAX];
};

struct netping_summary {
	u32 sent, answered;
	u64 min_ns, median_ns, max_ns; /* 0 when nothing was answered */
};

/* Starts a run of count pings (1..NETPING_MAX); false for a count out of range. */
bool netping_start(struct netping *p, u32 count, u64 now);
/* What is due now: true with *seq set when a ping must go out (the caller sends it and it counts
 * as sent at `now`). A ping unanswered for NETPING_TIMEOUT_NS is given up here. */
bool netping_due(struct netping *p, u64 now, u32 *seq);
/* An answer: taken when it is the ping waited for, else ignored (false). */
bool netping_answer(struct netping *p, u32 seq, u64 now);
/* Every ping sent and each answered or given up. */
bool netping_finished(const struct netping *p);
/* Ends the run (sorting the round trips) and fills s. */
void netping_summarize(struct netping *p, struct netping_summary *s);

#endif
