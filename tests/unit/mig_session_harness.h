/* SPDX-License-Identifier: Apache-2.0 */
/* The harness of the migration session tests (test_mig_session.c, test_mig_postcopy.c): a source
 * and a destination state machine joined by the simulated link (mig_link_sim.c), with 16 MiB of
 * simulated guest memory (a mix of zero and random pages) and a fake guest that keeps writing pages
 * while it runs (mig_session_harness.c). */
#ifndef FERRY_TESTS_MIG_SESSION_HARNESS_H
#define FERRY_TESTS_MIG_SESSION_HARNESS_H

#include "mig_link_sim.h"
#include "migrate/mig_dst.h"
#include "migrate/mig_src.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE (16ULL << 20)
#define NPAGES (RAM_SIZE / MIG_PAGE_SIZE)
#define TICK_NS 20000ULL
#define MS 1000000ULL

struct harness {
	struct sim_net net;
	u8 *smem, *dmem;
	u64 *gdirty; /* the fake dirty tracker's own bitmap */
	bool tracking, paused;
	int pause_calls, resume_calls, track_start_calls, track_stop_calls, progress_calls;
	u64 inflight_at_pause; /* bytes the source had not seen acknowledged when it paused */
	int rehearse_calls, rehearse_rc; /* the source's rehearsal: calls, and what it returns */
	/* the fake guest: writes `rate` pages per ms among `hot` pages, while not paused */
	u32 rate, hot;
	u64 guest_writes, writes_after_fail;
	u64 acc;
	bool miss_one;   /* buggy tracker: forgets one dirty page... */
	u64 missed_page; /* ...this one, which the guest then leaves alone */
	u32 busy_ppm;    /* send_frame says EBUSY this often */
	/* the source's NIC reads a window frame sent in place this long after it was handed over */
	u64 nic_delay_ns;
	u64 nic_in_place; /* frames sent in place */
	/* ferry's `corrupt=N` hook, reproduced: the source flips one bit in every Nth frame it
	 * sends (counting every frame, acks included), at a position derived from the count */
	u32 corrupt_every;
	u64 src_frames, src_corrupted;
	u32 ack_drop_ppm;  /* destination-to-source frames lost this often */
	bool commit_lies;  /* a broken destination: its COMMIT carries another hash than its own */
	u64 dst_period_ns; /* the destination runs only this often (a descheduled machine) */
	u32 nblobs;
	u32 blob_len[4];
	u32 dst_blobs;
	bool blob_bad;
	int put_state_rc;
	bool dst_alive;
	enum mig_src_phase vanish_phase; /* the destination disappears when the source gets here */
	u64 vanish_at;
	bool cancel_in_live;
	struct mig_src src;
	struct mig_dst dst;
	struct mig_src_config scfg;
	struct mig_dst_config dcfg;
	void *sws, *dws;
	enum mig_status ss, ds;
	u64 t_fail_detected;
	/* post-copy: the VM running on the destination, two fake vCPUs that write `dst_rate` pages
	 * per ms among `hot` pages; a vCPU touching a missing page waits for it. emem is what the
	 * destination's memory must end as: the source's at the pause plus these writes. */
	bool dst_running;
	u32 dst_rate;
	u64 dst_acc, dst_writes;
	u8 *emem;
	u64 wait_page[2], wait_since[2]; /* page + 1 a vCPU waits for */
	u64 faults, fault_ns_max, fault_ns_sum, arrived_calls;
	bool absent_at_arrival_bug; /* page_arrived saw the page not yet written */
	bool vanish_in_postcopy;    /* the destination vanishes once its guest has faulted */
	/* RAM never touched (s_untouched): pages the source may send as zero unread; NULL: none */
	u64 *untouched;
	u64 untouched_asked, untouched_reads; /* calls; round-0 reads of pages still untouched */
};

void check_success(struct harness *h);
/* The source's NIC: frames sent in place that are due go on the wire (run() calls it every tick;
 * a test with a loop of its own calls it too). */
void nic_step(struct harness *h);
int d_write(void *ctx, ipa_t ipa, u32 offset, const void *src, u32 len);
extern const struct mig_dst_ops dst_ops;
extern const struct mig_dst_ops dst_ops_minimal;
void dump_link(const char *who, const struct mig_link *l);
void guest_step(struct harness *h);
void harness_free(struct harness *h);
struct harness *harness_new(u64 seed, u32 frame_max, u64 dst_ram_size);
u64 page_index(ipa_t ipa);
u64 s_untouched(void *ctx, u64 page, u64 max);
void print_stats(const char *name, const struct harness *h);
void run(struct harness *h, u64 limit_ns);
const void *s_page_ptr(void *ctx, ipa_t ipa);
extern const struct mig_src_ops src_ops;
extern struct mig_src_ops src_ops_direct;
extern bool use_page_ptr;
void vanish(struct harness *h);

#endif
