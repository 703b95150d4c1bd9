/* SPDX-License-Identifier: Apache-2.0 */
/* A simulated Ethernet link for the migration tests: two directions, each with a serialization
 * rate, a latency, a bounded queue (tail drop) and, from a deterministic seed, independent
 * probabilities (parts per million) of dropping, duplicating, delaying out of order, and flipping
 * a bit in a frame. Time is virtual: the test advances `now`. */
#ifndef FERRY_MIG_LINK_SIM_H
#define FERRY_MIG_LINK_SIM_H

#include "types.h"

struct sim_frame {
	u64 at;    /* delivery time */
	u64 order; /* tie-break: FIFO among equal times */
	size_t len;
	u8 *data;
};

struct sim_dir {
	/* parameters */
	u32 drop_ppm, dup_ppm, reorder_ppm, corrupt_ppm;
	u64 latency_ns;
	u64 ps_per_byte; /* serialization: 8000 = 1 Gbit/s */
	u64 queue_ns;    /* tail drop when the backlog exceeds this */
	u64 reorder_ns;  /* extra delay of a reordered frame (up to) */
	bool down;       /* everything sent is lost (a peer that vanished) */
	/* TCP with Nagle's algorithm under the frames, as on QEMU's listening side of -netdev stream:
	 * a frame shorter than small_len is held while the previous such frame is not yet
	 * acknowledged by the receiver's TCP, which acknowledges with its next frame the other way,
	 * or after delack_ns when it sends none. Held frames then go out together. Lossless only. */
	bool nagle;
	u32 small_len;
	u64 delack_ns;
	/* state */
	u64 free_at;
	bool small_out;         /* a small frame the receiver's TCP has not acknowledged */
	u64 small_at, acked_at; /* its arrival; when the acknowledgement is back (~0: not yet) */
	struct {
		u8 *data;
		size_t len;
	} * hold;
	size_t nhold, hold_cap;
	u64 held; /* frames Nagle's algorithm held back */
	struct sim_frame *heap;
	size_t n, cap;
	/* counters */
	u64 sent, dropped, tail_dropped, duplicated, reordered, corrupted, delivered;
};

struct sim_net {
	u64 now;
	u64 rng;
	u64 order;
	struct sim_dir dir[2];
};

void sim_init(struct sim_net *n, u64 seed);
void sim_free(struct sim_net *n);
/* Defaults: 1 Gbit/s, 20 us latency, 50 ms queue, no impairments. */
void sim_dir_defaults(struct sim_dir *d);
void sim_impair(struct sim_net *n, u32 drop_ppm, u32 dup_ppm, u32 reorder_ppm, u32 corrupt_ppm);
int sim_send(struct sim_net *n, int dir, const void *frame, size_t len);
/* Next frame due at or before now: copies it into buf (cap bytes), returns its length, or 0. */
size_t sim_pop(struct sim_net *n, int dir, u8 *buf, size_t cap);
u64 sim_next_event(const struct sim_net *n);
u64 sim_rand(struct sim_net *n);

#endif
