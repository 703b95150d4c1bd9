/* SPDX-License-Identifier: Apache-2.0 */
/* The migration session tests' harness (mig_session_harness.h): the machines' callbacks over
 * simulated memory, the fake guests, the run loop and the checks every run ends with. */
#include "mig_session_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/bitmap.h"
#include "virtio/virtio.h"

static struct harness *H;

/* ---- callbacks ---- */
static u64 h_now(void *ctx) { return ((struct harness *)ctx)->net.now; }

static int h_send(struct harness *h, int dir, const void *f, size_t len)
{
	if (h->busy_ppm && sim_rand(&h->net) % 1000000 < h->busy_ppm)
		return FERRY_EBUSY;
	assert_true(len <= MIG_FRAME_MAX && len >= MIG_ETH_MIN_FRAME);
	return sim_send(&h->net, dir, f, len);
}

static int s_send(void *ctx, const void *f, size_t len)
{
	struct harness *h = ctx;
	static u8 flipped[MIG_FRAME_MAX];

	if (!h->corrupt_every)
		return h_send(h, 0, f, len);
	h->src_frames++;
	if (h->src_frames % h->corrupt_every)
		return h_send(h, 0, f, len);
	memcpy(flipped, f, len);
	flipped[MIG_ETH_HDR_LEN + (h->src_frames * 7919) % (len - MIG_ETH_HDR_LEN)] ^=
		(u8)(1u << (h->src_frames % 8));
	h->src_corrupted++;
	return h_send(h, 0, flipped, len);
}

/* The source's NIC when it sends window frames in place (as ferry's does): the frame is queued
 * as a pointer, and the NIC reads it nic_delay_ns later (nic_step); with no delay it goes on the
 * wire at once and is held until the next step all the same. It writes its own header into the
 * headroom before the frame, and checks when it lets the frame go that it did not change while it
 * held it: the link must leave a held frame alone. */
#define NIC_QUEUE 32
static struct nic_entry {
	const u8 *frame;
	size_t len;
	u64 at;
	bool sent;
	u8 *copy; /* the frame as it was handed over */
} nicq[NIC_QUEUE];
static u32 nicn;

static int s_send_in_place(void *ctx, u8 *f, size_t len)
{
	struct harness *h = ctx;
	struct nic_entry *e = &nicq[nicn];

	if (h->corrupt_every && (h->src_frames + 1) % h->corrupt_every == 0)
		return s_send(ctx, f, len); /* as ferry: a corrupted frame goes as a copy */
	if (nicn == NIC_QUEUE || (h->busy_ppm && sim_rand(&h->net) % 1000000 < h->busy_ppm))
		return FERRY_EBUSY;
	if (h->corrupt_every)
		h->src_frames++;
	memset(f - VIRTIO_NET_HDR_LEN, 0xa5, VIRTIO_NET_HDR_LEN);
	e->frame = f;
	e->len = len;
	e->at = h->net.now + h->nic_delay_ns;
	e->copy = malloc(len);
	memcpy(e->copy, f, len);
	e->sent = !h->nic_delay_ns;
	if (e->sent)
		assert_int_equal(sim_send(&h->net, 0, f, len), 0);
	nicn++;
	h->nic_in_place++;
	return 0;
}

static bool s_held(void *ctx, const u8 *f)
{
	(void)ctx;
	for (u32 i = 0; i < nicn; i++)
		if (nicq[i].frame == f)
			return true;
	return false;
}

/* The NIC reads the frames due, in order, puts them on the wire and lets them go. */
void nic_step(struct harness *h)
{
	u32 done = 0;

	while (done < nicn && nicq[done].at <= h->net.now) {
		struct nic_entry *e = &nicq[done++];

		assert_memory_equal(e->frame, e->copy, e->len);
		if (!e->sent)
			assert_int_equal(sim_send(&h->net, 0, e->frame, e->len), 0);
		free(e->copy);
	}
	memmove(nicq, nicq + done, (nicn - done) * sizeof(nicq[0]));
	nicn -= done;
}

static void nic_drop_all(void)
{
	for (u32 i = 0; i < nicn; i++)
		free(nicq[i].copy);
	nicn = 0;
}

static int d_send(void *ctx, const void *f, size_t len)
{
	struct harness *h = ctx;

	if (h->ack_drop_ppm && sim_rand(&h->net) % 1000000 < h->ack_drop_ppm)
		return 0; /* taken by the device, lost on the wire */
	if (h->commit_lies && ((const u8 *)f)[MIG_ETH_HDR_LEN + 5] == MIG_T_COMMIT) {
		static u8 lie[MIG_FRAME_MAX];
		const u8 *hp = lie + MIG_ETH_HDR_LEN;

		memcpy(lie, f, len);
		lie[MIG_FRAME_OVERHEAD] ^= 1; /* the hash, then sealed as the destination would */
		assert_int_equal(mig_frame_update_ack(lie, get_le32(hp + 16), get_le32(hp + 20),
						      &h->dst.link.auth),
				 0);
		return h_send(h, 1, lie, len);
	}
	return h_send(h, 1, f, len);
}

u64 page_index(ipa_t ipa)
{
	u64 a = ipa_addr(ipa);

	assert_true(a >= RAM_BASE && a < RAM_BASE + RAM_SIZE && IS_ALIGNED(a, MIG_PAGE_SIZE));
	return (a - RAM_BASE) / MIG_PAGE_SIZE;
}

/* A read of a page the source was told is untouched, and which still is, in round 0. */
static void check_not_untouched(struct harness *h, u64 page)
{
	if (h->untouched && h->src.stats.round == 0 && bitmap_test(h->untouched, page))
		h->untouched_reads++;
}

static int s_read(void *ctx, ipa_t ipa, void *dst)
{
	struct harness *h = ctx;

	check_not_untouched(h, page_index(ipa));
	memcpy(dst, h->smem + page_index(ipa) * MIG_PAGE_SIZE, MIG_PAGE_SIZE);
	return 0;
}

/* The source reading the guest's memory in place (page_ptr): the guest may write the page while it
 * is being sent, as on the real thing. */
const void *s_page_ptr(void *ctx, ipa_t ipa)
{
	struct harness *h = ctx;

	check_not_untouched(h, page_index(ipa));
	return h->smem + page_index(ipa) * MIG_PAGE_SIZE;
}

static int s_rehearse(void *ctx)
{
	struct harness *h = ctx;

	h->rehearse_calls++;
	return h->rehearse_rc;
}

static int s_track_start(void *ctx)
{
	struct harness *h = ctx;

	h->track_start_calls++;
	h->tracking = true;
	bitmap_zero(h->gdirty, NPAGES);
	return 0;
}

/* RAM never touched (ferry: the stage-2 access flag): the run of pages from `page` the fake guest
 * has not written since the test marked them; asked only in round 0, after tracking started. */
u64 s_untouched(void *ctx, u64 page, u64 max)
{
	struct harness *h = ctx;
	u64 n = 0;

	assert_true(h->tracking);
	assert_int_equal(h->src.stats.round, 0);
	h->untouched_asked++;
	while (n < max && n < 64 && bitmap_test(h->untouched, page + n))
		n++;
	return n;
}

static void s_track_stop(void *ctx)
{
	struct harness *h = ctx;

	h->track_stop_calls++;
	h->tracking = false;
}

static s64 s_collect(void *ctx, u64 *bitmap, u64 npages)
{
	struct harness *h = ctx;
	s64 n = 0;

	assert_int_equal(npages, NPAGES);
	assert_true(h->tracking);
	if (h->miss_one) {
		u64 p = bitmap_next_set(h->gdirty, NPAGES, 0);

		if (p < NPAGES) {
			bitmap_clear(h->gdirty, p);
			h->missed_page = p;
			h->miss_one = false;
		}
	}
	for (u64 w = 0; w < BITMAP_WORDS(NPAGES); w++) {
		n += __builtin_popcountll(h->gdirty[w] & ~bitmap[w]);
		bitmap[w] |= h->gdirty[w];
		h->gdirty[w] = 0;
	}
	return n;
}

static int s_pause(void *ctx)
{
	struct harness *h = ctx;

	h->pause_calls++;
	h->inflight_at_pause = mig_link_inflight_bytes(&h->src.link);
	assert_false(h->paused);
	h->paused = true;
	return 0;
}

static void s_resume(void *ctx)
{
	struct harness *h = ctx;

	h->resume_calls++;
	assert_true(h->paused);
	h->paused = false;
}

static u8 blob_byte(u32 index, u32 i) { return (u8)(index * 31 + i * 7 + (i >> 8)); }

static int s_get_state(void *ctx, u32 index, void *buf, size_t cap, u32 *tag)
{
	struct harness *h = ctx;
	u8 *b = buf;

	assert_true(h->paused);
	assert_int_equal(cap, MIG_STATE_BLOB_MAX);
	if (index >= h->nblobs)
		return FERRY_ENOENT;
	for (u32 i = 0; i < h->blob_len[index]; i++)
		b[i] = blob_byte(index, i);
	*tag = 0x7600 + index;
	return (int)h->blob_len[index];
}

static void h_progress(void *ctx, const struct mig_stats *st)
{
	((struct harness *)ctx)->progress_calls++;
	if (getenv("MIG_DEBUG"))
		printf("    progress: t=%llu round %u dirty %llu left %llu est %llu thr %llu\n",
		       (unsigned long long)((struct harness *)ctx)->net.now / 1000, st->round,
		       (unsigned long long)st->dirty_last, (unsigned long long)st->pages_left,
		       (unsigned long long)st->downtime_estimate_ns,
		       (unsigned long long)st->throughput);
}

int d_write(void *ctx, ipa_t ipa, u32 offset, const void *src, u32 len)
{
	struct harness *h = ctx;

	assert_true(offset + len <= MIG_PAGE_SIZE && len > 0);
	memcpy(h->dmem + page_index(ipa) * MIG_PAGE_SIZE + offset, src, len);
	return 0;
}

static int d_zero(void *ctx, ipa_t ipa, u64 npages)
{
	struct harness *h = ctx;
	u64 p = page_index(ipa);

	assert_true(p + npages <= NPAGES);
	memset(h->dmem + p * MIG_PAGE_SIZE, 0, npages * MIG_PAGE_SIZE);
	return 0;
}

static int d_read(void *ctx, ipa_t ipa, void *dst)
{
	struct harness *h = ctx;

	memcpy(dst, h->dmem + page_index(ipa) * MIG_PAGE_SIZE, MIG_PAGE_SIZE);
	return 0;
}

static int d_hash(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st)
{
	struct harness *h = ctx;

	hash64_update(st, h->dmem + page_index(ipa) * MIG_PAGE_SIZE, npages * MIG_PAGE_SIZE);
	return 0;
}

static int d_put_state(void *ctx, u32 index, u32 tag, const void *buf, u32 len)
{
	struct harness *h = ctx;
	const u8 *b = buf;

	if (h->put_state_rc)
		return h->put_state_rc;
	if (index != h->dst_blobs || tag != 0x7600 + index || len != h->blob_len[index])
		h->blob_bad = true;
	for (u32 i = 0; i < len && !h->blob_bad; i++)
		if (b[i] != blob_byte(index, i))
			h->blob_bad = true;
	h->dst_blobs++;
	return 0;
}

const struct mig_src_ops src_ops = {
	.send_frame = s_send,
	.send_in_place = s_send_in_place,
	.frame_held = s_held,
	.now_ns = h_now,
	.read_page = s_read,
	.rehearse = s_rehearse,
	.track_start = s_track_start,
	.collect_dirty = s_collect,
	.track_stop = s_track_stop,
	.pause = s_pause,
	.resume = s_resume,
	.get_state = s_get_state,
	.progress = h_progress,
};

/* src_ops with page_ptr, made by the test that uses it. */
struct mig_src_ops src_ops_direct;
bool use_page_ptr; /* harness_new picks src_ops_direct */

static void d_page_arrived(void *ctx, ipa_t ipa)
{
	struct harness *h = ctx;
	u64 p = page_index(ipa);

	/* Written before it may be mapped: the destination's memory holds the source's page. */
	if (memcmp(h->dmem + p * MIG_PAGE_SIZE, h->smem + p * MIG_PAGE_SIZE, MIG_PAGE_SIZE) &&
	    h->src.cfg.pc_drop_one == false)
		h->absent_at_arrival_bug = true;
	h->arrived_calls++;
}

const struct mig_dst_ops dst_ops = {
	.page_arrived = d_page_arrived,
	.send_frame = d_send,
	.now_ns = h_now,
	.write_page = d_write,
	.zero_pages = d_zero,
	.read_page = d_read,
	.hash_pages = d_hash,
	.put_state = d_put_state,
};

/* The same destination without the optional callbacks: write_page for zeros, read_page to hash. */
const struct mig_dst_ops dst_ops_minimal = {
	.send_frame = d_send,
	.now_ns = h_now,
	.write_page = d_write,
	.read_page = d_read,
	.put_state = d_put_state,
};

/* ---- the fake guest ---- */
static void guest_write(struct harness *h, u64 page)
{
	u8 *p = h->smem + page * MIG_PAGE_SIZE;
	u64 r = sim_rand(&h->net);

	if (r % 16 == 0)
		memset(p, 0, MIG_PAGE_SIZE);
	else
		for (int i = 0; i < 8; i++)
			p[(r >> (i * 5)) % MIG_PAGE_SIZE] ^= (u8)(r >> (i * 8)) | 1;
	if (h->tracking)
		bitmap_set(h->gdirty, page);
	if (h->untouched) /* the access flag, set by the write */
		bitmap_clear(h->untouched, page);
	h->guest_writes++;
	if (h->ss == MIG_FAILED)
		h->writes_after_fail++;
}

/* The guest on the destination after the post-copy switch. A write to a page not there yet is a
 * stage-2 fault: that vCPU asks for the page and waits; the write happens once it has arrived. */
static void dst_guest_write(struct harness *h, u64 page)
{
	u64 r = sim_rand(&h->net);
	u32 off = (u32)(r % (MIG_PAGE_SIZE - 8));

	memcpy(h->dmem + page * MIG_PAGE_SIZE + off, &r, 8);
	memcpy(h->emem + page * MIG_PAGE_SIZE + off, &r, 8);
	h->dst_writes++;
}

static void dst_guest_step(struct harness *h)
{
	if (!h->dst_running || h->dst.phase == MIG_DST_FAILED)
		return;
	for (int v = 0; v < 2; v++) {
		u64 pg = h->wait_page[v];

		if (pg && !mig_dst_absent(&h->dst, RAM_BASE + (pg - 1) * MIG_PAGE_SIZE)) {
			u64 waited = h->net.now - h->wait_since[v];

			h->fault_ns_sum += waited;
			h->fault_ns_max = MAX(h->fault_ns_max, waited);
			dst_guest_write(h, pg - 1);
			h->wait_page[v] = 0;
		}
	}
	h->dst_acc += (u64)h->dst_rate * TICK_NS;
	while (h->dst_acc >= MS) {
		int v = (int)(sim_rand(&h->net) & 1);
		u64 page = (sim_rand(&h->net) % h->hot) * 7919 % NPAGES;
		u64 ipa = RAM_BASE + page * MIG_PAGE_SIZE;

		h->dst_acc -= MS;
		if (h->wait_page[v])
			continue; /* this vCPU is parked */
		if (mig_dst_absent(&h->dst, ipa)) {
			assert_int_equal(mig_dst_request(&h->dst, ipa), 0);
			h->wait_page[v] = page + 1;
			h->wait_since[v] = h->net.now;
			h->faults++;
			continue;
		}
		dst_guest_write(h, page);
	}
}

void guest_step(struct harness *h)
{
	if (h->paused || !h->rate || h->ss == MIG_DONE)
		return;
	h->acc += (u64)h->rate * TICK_NS;
	while (h->acc >= MS) {
		u64 page = (sim_rand(&h->net) % h->hot) * 7919 % NPAGES;

		h->acc -= MS;
		if (page != h->missed_page)
			guest_write(h, page);
	}
}

/* ---- setup and the run loop ---- */
struct harness *harness_new(u64 seed, u32 frame_max, u64 dst_ram_size)
{
	struct harness *h = calloc(1, sizeof(*h));
	int rc;

	sim_init(&h->net, seed);
	h->net.now = 1000 * MS;
	h->smem = malloc(RAM_SIZE);
	h->dmem = malloc(RAM_SIZE);
	h->gdirty = calloc(BITMAP_WORDS(NPAGES), 8);
	/* Half the pages zero (some in long runs), the rest random; the destination starts with
	 * garbage so that a page never sent shows. */
	for (u64 p = 0; p < NPAGES; p++) {
		u8 *pg = h->smem + p * MIG_PAGE_SIZE;
		bool zero = (p / 64) % 3 == 0 || sim_rand(&h->net) % 4 == 0;

		if (zero)
			memset(pg, 0, MIG_PAGE_SIZE);
		else
			for (u32 i = 0; i < MIG_PAGE_SIZE; i += 8) {
				u64 r = sim_rand(&h->net);

				memcpy(pg + i, &r, 8);
			}
	}
	for (u64 i = 0; i < RAM_SIZE; i++)
		h->dmem[i] = (u8)(i * 13 + 5);
	h->hot = 512;
	h->nblobs = 3;
	h->blob_len[0] = 1200; /* a vCPU */
	h->blob_len[1] = 5000; /* another, several 1514-byte frames */
	h->blob_len[2] = 0;    /* a device with no state */
	h->dst_alive = true;
	h->missed_page = ~0ULL;
	h->vanish_phase = MIG_SRC_IDLE;
	h->ss = h->ds = MIG_RUNNING;

	h->scfg.compat = (struct mig_compat){ RAM_BASE, RAM_SIZE, 0x13, 2, MIG_PAGE_SIZE };
	h->scfg.session = (u32)seed | 1;
	memset(h->scfg.key, 0x5c, MIG_KEY_LEN);
	memset(h->scfg.nonce, 0, MIG_NONCE_LEN);
	h->scfg.nonce[0] = (u8)seed | 1;
	h->scfg.nonce[1] = 'S';
	memcpy(h->scfg.local_mac, (u8[]){ 2, 0, 0, 0, 0, 1 }, 6);
	memset(h->scfg.peer_mac, 0xff, 6);
	h->scfg.link.frame_max = frame_max;
	h->scfg.link.dead_ns = 3000 * MS;
	h->scfg.linger_ns = 200 * MS;
	h->scfg.downtime_ns = 20 * MS;

	h->dcfg.compat = h->scfg.compat;
	h->dcfg.compat.ram_size = dst_ram_size;
	h->dcfg.compat.cpu_features = 0x17;
	memset(h->dcfg.key, 0x5c, MIG_KEY_LEN);
	memset(h->dcfg.nonce, 0, MIG_NONCE_LEN);
	h->dcfg.nonce[0] = (u8)seed | 1;
	h->dcfg.nonce[1] = 'D';
	memcpy(h->dcfg.local_mac, (u8[]){ 2, 0, 0, 0, 0, 2 }, 6);
	h->dcfg.link.frame_max = MIG_FRAME_MAX;
	h->dcfg.link.dead_ns = 3000 * MS;

	h->sws = aligned_alloc(64, ALIGN_UP(mig_src_workspace_size(&h->scfg), 64));
	h->dws = aligned_alloc(64, ALIGN_UP(mig_dst_workspace_size(&h->dcfg), 64));
	rc = mig_src_init(&h->src, &h->scfg, use_page_ptr ? &src_ops_direct : &src_ops, h, h->sws,
			  mig_src_workspace_size(&h->scfg));
	assert_int_equal(rc, 0);
	rc = mig_dst_init(&h->dst, &h->dcfg, &dst_ops, h, h->dws, mig_dst_workspace_size(&h->dcfg));
	assert_int_equal(rc, 0);
	nic_drop_all();
	H = h;
	return h;
}

void harness_free(struct harness *h)
{
	nic_drop_all();
	sim_free(&h->net);
	free(h->smem);
	free(h->dmem);
	free(h->gdirty);
	free(h->sws);
	free(h->dws);
	free(h->emem);
	free(h->untouched);
	free(h);
	H = NULL;
}

void vanish(struct harness *h)
{
	h->dst_alive = false;
	h->net.dir[0].down = h->net.dir[1].down = true;
	h->vanish_at = h->net.now;
}

void run(struct harness *h, u64 limit_ns)
{
	static u8 buf[MIG_FRAME_MAX];
	u64 end = h->net.now + limit_ns;
	size_t len;

	if (h->dst_alive)
		assert_int_equal(mig_dst_listen(&h->dst), 0);
	assert_int_equal(mig_src_start(&h->src), 0);
	while (h->net.now < end) {
		nic_step(h);
		if (h->ss == MIG_RUNNING) {
			h->ss = mig_src_poll(&h->src);
			if (h->ss == MIG_FAILED)
				h->t_fail_detected = h->net.now;
		}
		bool dst_runs = !h->dst_period_ns || h->net.now % h->dst_period_ns < TICK_NS;

		if (h->dst_alive && h->ds == MIG_RUNNING && dst_runs)
			h->ds = mig_dst_poll(&h->dst);
		if (h->ds == MIG_POSTCOPY) { /* resume the VM here, keep polling */
			assert_true(h->paused && !h->dst_running);
			h->emem = malloc(RAM_SIZE);
			memcpy(h->emem, h->smem, RAM_SIZE);
			h->dst_running = true;
			h->ds = MIG_RUNNING;
		}
		while (dst_runs && (len = sim_pop(&h->net, 0, buf, sizeof(buf))))
			if (h->dst_alive)
				mig_dst_input(&h->dst, buf, len);
		while ((len = sim_pop(&h->net, 1, buf, sizeof(buf))))
			mig_src_input(&h->src, buf, len);
		if (h->ss == MIG_RUNNING && h->src.phase == MIG_SRC_DONE)
			h->ss = MIG_DONE;
		/* The audit waits until the destination runs the VM (its CLOSE) or the link has
		 * gone quiet: never before the COMMIT's ack is out. */
		if (h->src.phase == MIG_SRC_LINGER && !h->src.peer_closed &&
		    h->net.now - h->src.link.last_rx_ns < h->src.cfg.linger_ns)
			assert_int_equal(h->src.audit_cursor, 0);
		if (h->dst_alive && h->vanish_in_postcopy && h->dst.phase == MIG_DST_PC_RUN &&
		    h->faults)
			vanish(h);
		if (h->dst_alive && h->vanish_phase != MIG_SRC_IDLE &&
		    h->src.phase >= h->vanish_phase)
			vanish(h);
		if (h->cancel_in_live && h->src.phase == MIG_SRC_LIVE && h->src.stats.round >= 1) {
			mig_src_cancel(&h->src);
			h->ss = mig_src_poll(&h->src);
			h->cancel_in_live = false;
		}
		if (h->ss != MIG_RUNNING && (h->ds != MIG_RUNNING || !h->dst_alive))
			break;
		guest_step(h);
		dst_guest_step(h);
		h->net.now += TICK_NS;
	}
	/* Let a failed source's VM run on for a while: it must not be paused any more. */
	for (int i = 0; i < 100; i++) {
		guest_step(h);
		h->net.now += TICK_NS;
	}
}

void print_stats(const char *name, const struct harness *h)
{
	const struct mig_stats *s = &h->src.stats, *d = &h->dst.stats;
	char line[256];

	mig_src_describe(&h->src, line, sizeof(line));
	printf("  [%s] %s\n", name, line);
	printf("    rounds %u (pages/round:", s->rounds);
	for (u32 r = 0; r < s->rounds && r < MIG_ROUNDS_MAX; r++)
		printf(" %llu", (unsigned long long)s->r[r].pages);
	printf("), zero %llu, frames %llu, retrans %llu (fast %llu), dup %llu, reord %llu, "
	       "corrupt dst %llu src %llu, busy %llu, thr %llu MB/s, downtime %llu us\n",
	       (unsigned long long)s->zero_pages, (unsigned long long)s->frames_sent,
	       (unsigned long long)s->retransmissions, (unsigned long long)s->fast_retransmissions,
	       (unsigned long long)d->duplicates, (unsigned long long)d->reordered,
	       (unsigned long long)d->corrupt, (unsigned long long)s->corrupt,
	       (unsigned long long)s->send_busy, (unsigned long long)(s->throughput / 1000000),
	       (unsigned long long)(s->downtime_ns / 1000));
}

void dump_link(const char *who, const struct mig_link *l)
{
	const struct mig_txslot *t = &l->tx[l->tx_una % l->cfg.tx_window];

	printf("    %s link: una %u next %u rx_next %u rto %llu srtt %llu una-slot state %u sends "
	       "%u "
	       "sent %llu peer_window %u fail %d\n",
	       who, l->tx_una, l->tx_next, l->rx_next, (unsigned long long)l->rto,
	       (unsigned long long)l->srtt, t->state, t->sends, (unsigned long long)t->sent_ns,
	       l->peer_window, l->fail);
}

void check_success(struct harness *h)
{
	if (h->ss != MIG_DONE || h->ds != MIG_DONE) {
		dump_link("src", &h->src.link);
		dump_link("dst", &h->dst.link);
		printf("    now %llu\n", (unsigned long long)h->net.now);
		for (int r = 0; r < MIG_REJ_COUNT; r++)
			printf("    rej %s: src %llu dst %llu\n", mig_reject_name(r),
			       (unsigned long long)h->src.stats.rejected[r],
			       (unsigned long long)h->dst.stats.rejected[r]);
		printf("    dst oow %llu dups %llu tail drops %llu %llu\n",
		       (unsigned long long)h->dst.stats.out_of_window,
		       (unsigned long long)h->dst.stats.duplicates,
		       (unsigned long long)h->net.dir[0].tail_dropped,
		       (unsigned long long)h->net.dir[1].tail_dropped);
	}
	const struct mig_stats *s = &h->src.stats, *d = &h->dst.stats;
	u64 expect = hash64(h->smem, RAM_SIZE, MIG_MEM_HASH_SEED);

	/* Digest mode: the sum, over every page, of its digest, computed here from the memory. */
	assert_int_equal(s->verify, h->scfg.verify);
	assert_int_equal(d->verify, h->scfg.verify);
	if (s->verify == MIG_VERIFY_DIGEST) {
		expect = 0;
		for (u64 p = 0; p < NPAGES; p++)
			expect += mig_page_digest(
				RAM_BASE + p * MIG_PAGE_SIZE,
				hash64(h->smem + p * MIG_PAGE_SIZE, MIG_PAGE_SIZE, 0));
		/* The post-commit audit read all of RAM and found what was sent. */
		assert_int_equal(s->audit, MIG_AUDIT_CLEAN);
		assert_int_equal(s->audit_bad_pages, 0);
	} else {
		assert_int_equal(s->audit, MIG_AUDIT_OFF);
	}

	assert_int_equal(h->ss, MIG_DONE);
	assert_int_equal(h->ds, MIG_DONE);
	assert_int_equal(h->src.phase, MIG_SRC_DONE);
	assert_memory_equal(h->smem, h->dmem, RAM_SIZE);
	assert_true(s->local_hash == expect);
	assert_true(d->local_hash == expect);
	assert_true(s->peer_hash == expect);
	assert_int_equal(h->pause_calls, 1);
	assert_int_equal(h->resume_calls, 0);
	/* The destination waited for the ack of its COMMIT (a round trip) before it finished. */
	assert_true(d->commit_ack_ns > 0 && d->t_commit + d->commit_ack_ns == d->t_end);
	assert_int_equal(s->commit_ack_ns, 0);
	assert_int_equal(h->track_start_calls, 1);
	assert_int_equal(h->track_stop_calls, 1);
	assert_int_equal(h->dst_blobs, h->nblobs);
	assert_false(h->blob_bad);
	assert_int_equal(s->state_blobs, h->nblobs);
	assert_int_equal(d->state_blobs, h->nblobs);
	/* Round 0 takes every page once; the final round is the last one. */
	assert_int_equal(s->r[0].pages, NPAGES);
	assert_true(s->rounds >= 2);
	assert_int_equal(s->final_round, s->rounds - 1);
	assert_int_equal(d->final_round, s->final_round);
	assert_true(s->pages_sent >= NPAGES);
	assert_int_equal(d->pages_sent, s->pages_sent);
	assert_int_equal(d->zero_pages, s->zero_pages);
	assert_true(s->zero_pages >= NPAGES / 3);
	for (u32 r = 0; r < s->rounds; r++)
		assert_int_equal(d->r[r].pages, s->r[r].pages);
	assert_true(s->downtime_ns > 0 && s->t_paused > s->t_start);
	assert_true(s->throughput > 0);
	assert_true(h->progress_calls >= (int)s->rounds);
	assert_int_equal(d->corrupt, d->rejected[MIG_REJ_MAC]);
}
