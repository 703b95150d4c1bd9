/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/migrate's post-copy (docs/migration.md, "Post-copy"), on the session harness
 * (mig_session_harness.h): the switch after round 0 or when the rounds stop converging, lossy links,
 * the link lost after the switch, a page never sent, a page arriving twice. The destination's VM
 * runs meanwhile; its memory must end as the source's at the pause plus its own writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/bitmap.h"
#include "mig_session_harness.h"

static struct harness *postcopy_new(u64 seed, u32 frame_max, u32 mode)
{
	struct harness *h = harness_new(seed, frame_max, RAM_SIZE);

	h->src.cfg.postcopy = mode;
	/* a guest the link cannot keep up with: pre-copy would run to the round limit */
	h->rate = 60000;
	h->hot = 4096;
	h->dst_rate = 2000;
	return h;
}

static void print_postcopy(const char *name, const struct harness *h)
{
	const struct mig_stats *s = &h->src.stats, *d = &h->dst.stats;
	char line[300];

	print_stats(name, h);
	mig_dst_describe(&h->dst, line, sizeof(line));
	printf("    %s\n", line);
	printf("    post-copy: %llu pages missing, %llu asked for (%llu late), %llu guest faults "
	       "(mean %llu us, max %llu us), last page %llu ms after the switch, %llu dup\n",
	       (unsigned long long)s->pc_pages, (unsigned long long)d->pc_requested,
	       (unsigned long long)s->pc_requests_late, (unsigned long long)h->faults,
	       (unsigned long long)(h->faults ? h->fault_ns_sum / h->faults / 1000 : 0),
	       (unsigned long long)(h->fault_ns_max / 1000),
	       (unsigned long long)((s->t_pc_last - s->t_commit) / MS),
	       (unsigned long long)d->pc_duplicates);
}

/* Both ends done, the digest check made after the last page passed on both, the destination's
 * memory is the source's at the pause plus exactly the destination guest's writes, no page was
 * mapped before it was written, and the source's copy was never resumed. */
static void check_postcopy(struct harness *h)
{
	const struct mig_stats *s = &h->src.stats, *d = &h->dst.stats;
	char line[300];

	if (h->ss != MIG_DONE || h->ds != MIG_DONE) {
		dump_link("src", &h->src.link);
		dump_link("dst", &h->dst.link);
	}
	assert_int_equal(h->ss, MIG_DONE);
	assert_int_equal(h->ds, MIG_DONE);
	assert_int_equal(s->pc, 1);
	assert_int_equal(d->pc, 1);
	assert_int_equal(s->pc_verify, MIG_PCV_MATCH);
	assert_int_equal(d->pc_verify, MIG_PCV_MATCH);
	assert_true(s->local_hash == d->local_hash);
	assert_int_equal(h->pause_calls, 1);
	assert_int_equal(h->resume_calls, 0);
	assert_int_equal(h->track_stop_calls, 1);
	assert_int_equal(h->dst_blobs, h->nblobs);
	assert_false(h->blob_bad);
	assert_false(h->absent_at_arrival_bug);
	assert_int_equal(h->arrived_calls, s->pc_pages);
	assert_int_equal(h->dst.pc_left, 0);
	assert_int_equal(d->pc_pages, s->pc_pages);
	assert_true(s->pc_pages > 0);
	assert_true(h->dst_running);
	assert_non_null(h->emem);
	assert_memory_equal(h->dmem, h->emem, RAM_SIZE);
	/* every page went once after the switch: the requests were served from the stream's own */
	assert_int_equal(s->r[s->final_round].pages, s->pc_pages);
	assert_int_equal(d->r[d->final_round].pages, s->pc_pages);
	assert_int_equal(d->pc_duplicates, 0);
	/* a vCPU waiting for a page it asked for was never left waiting */
	assert_int_equal(h->wait_page[0] | h->wait_page[1], 0);
	mig_src_describe(&h->src, line, sizeof(line));
	printf("  %s\n", line);
	assert_non_null(strstr(line, "page digests match"));
}

static void test_postcopy_after_round_0(void **state)
{
	struct harness *h = postcopy_new(71, MIG_FRAME_MAX, MIG_PC_NOW);
	(void)state;
	run(h, 20000 * MS);
	print_postcopy("post-copy", h);
	check_postcopy(h);
	assert_int_equal(h->src.stats.final_round, 1); /* round 0, then the switch */
	assert_true(h->faults > 0);
	assert_true(h->dst.stats.pc_requested > 0 && h->src.stats.pc_requested > 0);
	/* a second vCPU faulting on a page already asked for waits for the same request */
	assert_true(h->dst.stats.pc_requested <= h->faults);
	/* (a page may arrive before the request for it left: then it is never sent) */
	assert_true(h->src.stats.pc_requested + h->src.stats.pc_requests_late <=
		    h->dst.stats.pc_requested);
	/* the pause holds only the state and the map, not the pages */
	assert_true(h->src.stats.downtime_ns < 5 * MS);
	harness_free(h);
}

static void test_postcopy_auto_when_rounds_stop_converging(void **state)
{
	struct harness *h = postcopy_new(72, MIG_FRAME_MAX, MIG_PC_AUTO);
	(void)state;
	run(h, 20000 * MS);
	print_postcopy("post-copy auto", h);
	check_postcopy(h);
	/* switched on the stall rule, well before the round limit */
	assert_true(h->src.stats.final_round > h->src.cfg.pc_stall_rounds);
	assert_true(h->src.stats.final_round < h->src.cfg.max_rounds);
	harness_free(h);
}

static void test_postcopy_auto_off_keeps_precopy(void **state)
{
	struct harness *h = postcopy_new(73, MIG_FRAME_MAX, MIG_PC_OFF);
	(void)state;
	h->src.cfg.max_rounds = 4;
	run(h, 20000 * MS);
	check_success(h);
	assert_int_equal(h->src.stats.pc, 0);
	assert_int_equal(h->src.stats.rounds, 4 + 2);
	harness_free(h);
}

static void test_postcopy_lossy_link_split_pages(void **state)
{
	struct harness *h = postcopy_new(74, MIG_FRAME_MIN, MIG_PC_NOW);
	(void)state;
	sim_impair(&h->net, 100000, 50000, 100000, 0);
	h->rate = 5000;
	h->dst_rate = 500;
	run(h, 120000 * MS);
	print_postcopy("post-copy lossy 1514", h);
	check_postcopy(h);
	assert_true(h->src.stats.retransmissions > 0);
	assert_true(h->dst.stats.duplicates > 0 && h->dst.stats.reordered > 0);
	assert_true(h->faults > 0);
	harness_free(h);
}

static void test_postcopy_lossy_link(void **state)
{
	struct harness *h = postcopy_new(75, MIG_FRAME_MAX, MIG_PC_NOW);
	(void)state;
	sim_impair(&h->net, 200000, 50000, 100000, 0);
	run(h, 60000 * MS);
	print_postcopy("post-copy lossy 20%", h);
	check_postcopy(h);
	assert_true(h->src.stats.retransmissions > 0);
	harness_free(h);
}

/* The link dies after the switch: the source must not resume its stale copy, the destination
 * cannot go on without its pages; both say so and stop, and nothing commits twice. */
static void test_postcopy_link_lost(void **state)
{
	struct harness *h = postcopy_new(76, MIG_FRAME_MAX, MIG_PC_NOW);
	char line[300];
	(void)state;
	h->vanish_in_postcopy = true;
	run(h, 10000 * MS);
	/* run() stops polling a vanished destination: poll it on alone until it gives up */
	for (u64 t = 0; t < 5000 * MS && h->ds == MIG_RUNNING; t += TICK_NS) {
		h->ds = mig_dst_poll(&h->dst);
		h->net.now += TICK_NS;
	}
	assert_int_equal(h->ss, MIG_FAILED);
	assert_int_equal(h->src.fail, MIG_FAIL_POSTCOPY_LOST);
	assert_int_equal(h->resume_calls, 0);
	assert_true(h->paused);
	assert_int_equal(h->writes_after_fail, 0);
	mig_src_describe(&h->src, line, sizeof(line));
	printf("  [post-copy lost] %s\n", line);
	assert_non_null(strstr(line, "cannot continue on either side"));
	assert_int_equal(h->ds, MIG_FAILED);
	assert_int_equal(h->dst.fail, MIG_FAIL_POSTCOPY_LOST);
	mig_dst_describe(&h->dst, line, sizeof(line));
	printf("  [post-copy lost] %s\n", line);
	assert_non_null(strstr(line, "cannot continue on either side"));
	harness_free(h);
}

/* The test hook leaves the highest missing page out of the stream and never serves it: with no
 * guest access to it, HASH finds it missing, and both ends report a failed verification. */
static void test_postcopy_dropped_page_fails_the_check(void **state)
{
	struct harness *h = postcopy_new(77, MIG_FRAME_MAX, MIG_PC_NOW);
	char line[300];
	(void)state;
	h->src.cfg.pc_drop_one = true;
	h->dst_rate = 0;
	run(h, 20000 * MS);
	assert_int_equal(h->ss, MIG_DONE);
	assert_int_equal(h->ds, MIG_DONE);
	assert_int_equal(h->src.stats.pc_verify, MIG_PCV_MISSING);
	assert_int_equal(h->dst.stats.pc_verify, MIG_PCV_MISSING);
	assert_int_equal(h->dst.pc_left, 1);
	assert_true(mig_dst_absent(&h->dst, RAM_BASE + (h->src.pc_dropped - 1) * MIG_PAGE_SIZE));
	mig_src_describe(&h->src, line, sizeof(line));
	printf("  [post-copy dropped page] %s\n", line);
	assert_non_null(strstr(line, "VERIFICATION FAILED"));
	assert_non_null(strstr(line, "cannot fall back"));
	mig_dst_describe(&h->dst, line, sizeof(line));
	assert_non_null(strstr(line, "VERIFICATION FAILED"));
	harness_free(h);
}

/* A page record for a page that is here already (requested and streamed, or a broken source) must
 * not overwrite what the guest wrote since it was mapped. Sent as a fresh sequenced frame, which
 * the transport delivers, in the middle of post-copy. */
static void test_postcopy_page_arriving_twice_is_dropped(void **state)
{
	struct harness *h = postcopy_new(78, MIG_FRAME_MAX, MIG_PC_NOW);
	static u8 buf[MIG_FRAME_MAX];
	u64 page = NPAGES, guest = 0x5a5a5a5a5a5a5a5aULL;
	u64 *missing = calloc(BITMAP_WORDS(NPAGES), 8);
	size_t len;
	(void)state;
	h->dst_rate = 0;
	assert_int_equal(mig_dst_listen(&h->dst), 0);
	assert_int_equal(mig_src_start(&h->src), 0);
	for (u64 t = 0; t < 20000 * MS && page == NPAGES; t += TICK_NS) {
		nic_step(h);
		h->ss = mig_src_poll(&h->src);
		h->ds = mig_dst_poll(&h->dst);
		if (h->ds == MIG_POSTCOPY) { /* the pages the switch left missing */
			memcpy(missing, h->dst.absent, BITMAP_WORDS(NPAGES) * 8);
			h->ds = MIG_RUNNING;
		}
		while ((len = sim_pop(&h->net, 0, buf, sizeof(buf))))
			mig_dst_input(&h->dst, buf, len);
		while ((len = sim_pop(&h->net, 1, buf, sizeof(buf))))
			mig_src_input(&h->src, buf, len);
		guest_step(h);
		h->net.now += TICK_NS;
		/* one of them that has arrived since, while more are still to come */
		if (h->src.phase == MIG_SRC_PC_RUN && !h->src.fp && h->dst.pc_left > 1 &&
		    mig_link_inflight(&h->src.link) < 8)
			for (u64 p = 0; p < NPAGES && page == NPAGES; p++)
				if (bitmap_test(missing, p) &&
				    !mig_dst_absent(&h->dst, RAM_BASE + p * MIG_PAGE_SIZE))
					page = p;
	}
	free(missing);
	assert_true(page < NPAGES);
	/* the guest writes it here, then an old copy of it arrives */
	memcpy(h->dmem + page * MIG_PAGE_SIZE, &guest, 8);
	{
		u32 cap;
		u8 *p = mig_link_open(&h->src.link, &cap);

		assert_non_null(p);
		put_le32(p, h->src.stats.final_round);
		put_le32(p + 4, 1);
		put_le64(p + 8, RAM_BASE + page * MIG_PAGE_SIZE);
		p[16] = MIG_REC_DATA;
		p[17] = 0;
		put_le16(p + 18, 0);
		put_le32(p + 20, MIG_PAGE_SIZE);
		memcpy(p + 24, h->smem + page * MIG_PAGE_SIZE, MIG_PAGE_SIZE);
		assert_true(mig_link_queue(&h->src.link, MIG_T_PAGES, MIG_F_POSTCOPY,
					   24 + MIG_PAGE_SIZE) > 0);
	}
	for (u64 t = 0; t < 20000 * MS && (h->ss == MIG_RUNNING || h->ds == MIG_RUNNING);
	     t += TICK_NS) {
		nic_step(h);
		if (h->ss == MIG_RUNNING)
			h->ss = mig_src_poll(&h->src);
		if (h->ds == MIG_RUNNING)
			h->ds = mig_dst_poll(&h->dst);
		while ((len = sim_pop(&h->net, 0, buf, sizeof(buf))))
			mig_dst_input(&h->dst, buf, len);
		while ((len = sim_pop(&h->net, 1, buf, sizeof(buf))))
			mig_src_input(&h->src, buf, len);
		h->net.now += TICK_NS;
	}
	assert_int_equal(h->dst.stats.pc_duplicates, 1);
	assert_memory_equal(h->dmem + page * MIG_PAGE_SIZE, &guest, 8);
	assert_int_equal(h->ss, MIG_DONE);
	assert_int_equal(h->ds, MIG_DONE);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postcopy_after_round_0),
		cmocka_unit_test(test_postcopy_auto_when_rounds_stop_converging),
		cmocka_unit_test(test_postcopy_auto_off_keeps_precopy),
		cmocka_unit_test(test_postcopy_lossy_link),
		cmocka_unit_test(test_postcopy_lossy_link_split_pages),
		cmocka_unit_test(test_postcopy_link_lost),
		cmocka_unit_test(test_postcopy_dropped_page_fails_the_check),
		cmocka_unit_test(test_postcopy_page_arriving_twice_is_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
