/* SPDX-License-Identifier: Apache-2.0 */
/* The loopback migration (mig_loopback.h): both machines in one workspace, a two-slot queue each
 * way between them, a scratch "VM" whose guest writes a few pages at each collection until the
 * pause, and the checks at the end. */
#include "migrate/mig_loopback.h"

#include <stdio.h>
#include <string.h>

#include "lib/bitmap.h"
#include "lib/lib.h"
#include "migrate/mig_dst.h"
#include "migrate/mig_src.h"

#define LB_PAGES 32u
#define LB_RAM_BASE 0x40000000ULL
#define LB_WINDOW 4u     /* frames in flight each way */
#define LB_QUEUE 2u      /* frames a side can have waiting for the other; more is EBUSY */
#define LB_POLLS 200000u /* a bound that a working pair never reaches (they need a few hundred) */
#define LB_ALIGN 64u

/* The state blobs' lengths: the shapes of a small VM's (the VM, two vCPUs, a large device), one
 * STATE frame's worth, as a 2-vCPU VM's state is. */
static const u32 blob_len[] = { 48, 1200, 1200, 30000 };
#define LB_BLOBS (sizeof(blob_len) / sizeof(blob_len[0]))

struct lb_queue {
	u8 *buf; /* LB_QUEUE slots of frame_max bytes */
	u32 len[LB_QUEUE];
	u32 head, count;
};

struct lb {
	struct mig_src src;
	struct mig_dst dst;
	u64 (*now)(void *ctx);
	u8 *smem, *dmem;
	u64 dirty[BITMAP_WORDS(LB_PAGES)];
	u32 frame_max, collects, blobs_in;
	bool paused, tracking, blob_bad;
	struct lb_queue q[2]; /* [0] to the destination, [1] to the source */
};

static size_t up(size_t n) { return ALIGN_UP(n, LB_ALIGN); }

static void configs(u32 frame_max, bool postcopy, struct mig_src_config *s,
		    struct mig_dst_config *d)
{
	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(*d));
	s->compat =
		(struct mig_compat){ LB_RAM_BASE, LB_PAGES * MIG_PAGE_SIZE, 1, 1, MIG_PAGE_SIZE };
	s->session = 0x100b;
	/* A key for this session alone: its frames never leave the machine. */
	memset(s->key, 0x6c, MIG_KEY_LEN);
	s->nonce[0] = 'S';
	memcpy(s->local_mac, (const u8[]){ 2, 0, 0, 0, 0, 1 }, 6);
	memset(s->peer_mac, 0xff, 6);
	s->link.frame_max = frame_max;
	s->link.tx_window = LB_WINDOW;
	s->link.rx_window = LB_WINDOW;
	s->linger_ns = 100ULL * 1000000ULL;
	s->postcopy = postcopy ? MIG_PC_NOW : MIG_PC_OFF;
	/* Post-copy switches only for a set that does not fit the budget: a budget of 1 ns. */
	s->downtime_ns = postcopy ? 1 : 0;
	d->compat = s->compat;
	memcpy(d->key, s->key, MIG_KEY_LEN);
	d->nonce[0] = 'D';
	memcpy(d->local_mac, (const u8[]){ 2, 0, 0, 0, 0, 2 }, 6);
	d->link = s->link;
}

/* Where each part lies in the workspace, as offsets: struct lb, the two memories, the two queues,
 * the source's and the destination's workspaces; total is the size of it all. */
struct lb_layout {
	size_t smem, dmem, q[2], sws, dws, total;
};

static struct lb_layout layout(u32 frame_max, const struct mig_src_config *s,
			       const struct mig_dst_config *d)
{
	struct lb_layout o;
	size_t at = up(sizeof(struct lb));

	o.smem = at;
	at += up(LB_PAGES * MIG_PAGE_SIZE);
	o.dmem = at;
	at += up(LB_PAGES * MIG_PAGE_SIZE);
	for (int dir = 0; dir < 2; dir++) {
		o.q[dir] = at;
		at += up((size_t)LB_QUEUE * frame_max);
	}
	o.sws = at;
	at += up(mig_src_workspace_size(s));
	o.dws = at;
	at += up(mig_dst_workspace_size(d));
	o.total = at;
	return o;
}

size_t mig_loopback_workspace_size(u32 frame_max)
{
	struct mig_src_config s;
	struct mig_dst_config d;

	configs(frame_max, false, &s, &d);
	return layout(frame_max, &s, &d).total;
}

/* ---- the link: a frame waits in its queue until the loop hands it over ---- */
static int enqueue(struct lb_queue *q, u32 frame_max, const void *f, size_t len)
{
	u32 slot;

	if (len > frame_max)
		return FERRY_EINVAL;
	if (q->count == LB_QUEUE)
		return FERRY_EBUSY; /* as a full TX ring: the machine sends it again later */
	slot = (q->head + q->count++) % LB_QUEUE;
	memcpy(q->buf + (size_t)slot * frame_max, f, len);
	q->len[slot] = (u32)len;
	return 0;
}

static int s_send(void *ctx, const void *f, size_t len)
{
	struct lb *l = ctx;

	return enqueue(&l->q[0], l->frame_max, f, len);
}

static int d_send(void *ctx, const void *f, size_t len)
{
	struct lb *l = ctx;

	return enqueue(&l->q[1], l->frame_max, f, len);
}

static u64 lb_now(void *ctx) { return ((struct lb *)ctx)->now(NULL); }

static u8 *page(u8 *mem, ipa_t ipa) { return mem + (ipa_addr(ipa) - LB_RAM_BASE); }

static bool in_ram(ipa_t ipa, u64 npages)
{
	u64 a = ipa_addr(ipa);

	return a >= LB_RAM_BASE && npages <= LB_PAGES &&
	       (a - LB_RAM_BASE) / MIG_PAGE_SIZE <= LB_PAGES - npages;
}

/* ---- the source's VM ---- */
static const void *s_page_ptr(void *ctx, ipa_t ipa)
{
	return in_ram(ipa, 1) ? page(((struct lb *)ctx)->smem, ipa) : NULL;
}

static int s_read(void *ctx, ipa_t ipa, void *dst)
{
	if (!in_ram(ipa, 1))
		return FERRY_ERANGE;
	memcpy(dst, page(((struct lb *)ctx)->smem, ipa), MIG_PAGE_SIZE);
	return 0;
}

static int s_track_start(void *ctx)
{
	struct lb *l = ctx;

	l->tracking = true;
	bitmap_zero(l->dirty, LB_PAGES);
	return 0;
}

static void s_track_stop(void *ctx) { ((struct lb *)ctx)->tracking = false; }

/* The guest writes page p: new contents (every fourth page it writes becomes zero), marked
 * dirty. */
static void guest_write(struct lb *l, u32 p, u32 generation)
{
	u8 *pg = l->smem + (size_t)p * MIG_PAGE_SIZE;

	if ((p + generation) % 4 == 0)
		memset(pg, 0, MIG_PAGE_SIZE);
	else
		for (u32 i = 0; i < MIG_PAGE_SIZE; i += 64)
			pg[i] = (u8)(p * 7 + generation * 13 + i / 64 + 1);
	bitmap_set(l->dirty, p);
}

/* Each collection finds what the guest wrote since the last one: 10 pages after round 0 (few
 * enough to pause at once), 5 more at the pause, so the final round has pages of both kinds. */
static s64 s_collect(void *ctx, u64 *bitmap, u64 npages)
{
	struct lb *l = ctx;

	if (npages != LB_PAGES || !l->tracking)
		return FERRY_EINVAL;
	l->collects++;
	for (u32 i = 0; !l->paused && i < 10 && l->collects <= 2; i++)
		guest_write(l, (l->collects * 11 + i * 3) % LB_PAGES, l->collects);
	if (l->paused && l->collects <= 3)
		for (u32 i = 0; i < 5; i++)
			guest_write(l, (i * 5 + 1) % LB_PAGES, l->collects);
	return (s64)bitmap_take_range(l->dirty, bitmap, 0, LB_PAGES);
}

static int s_pause(void *ctx)
{
	((struct lb *)ctx)->paused = true;
	return 0;
}

static void s_resume(void *ctx) { ((struct lb *)ctx)->paused = false; }

static u8 blob_byte(u32 index, u32 i) { return (u8)(index * 31 + i * 7 + (i >> 8)); }

static int s_get_state(void *ctx, u32 index, void *buf, size_t cap, u32 *tag)
{
	u8 *b = buf;

	(void)ctx;
	if (index >= LB_BLOBS)
		return FERRY_ENOENT;
	if (cap < blob_len[index])
		return FERRY_ERANGE;
	for (u32 i = 0; i < blob_len[index]; i++)
		b[i] = blob_byte(index, i);
	*tag = 0x4c00 + index;
	return (int)blob_len[index];
}

static int hash_mem(u8 *mem, ipa_t ipa, u64 npages, struct hash64_state *st)
{
	if (!in_ram(ipa, npages))
		return FERRY_ERANGE;
	hash64_update(st, page(mem, ipa), npages * MIG_PAGE_SIZE);
	return 0;
}

static int s_hash(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st)
{
	return hash_mem(((struct lb *)ctx)->smem, ipa, npages, st);
}

static const struct mig_src_ops src_ops = {
	.send_frame = s_send,
	.now_ns = lb_now,
	.read_page = s_read,
	.page_ptr = s_page_ptr,
	.track_start = s_track_start,
	.collect_dirty = s_collect,
	.track_stop = s_track_stop,
	.pause = s_pause,
	.resume = s_resume,
	.get_state = s_get_state,
	.hash_pages = s_hash,
};

/* ---- the destination's VM ---- */
static int d_write(void *ctx, ipa_t ipa, u32 offset, const void *src, u32 len)
{
	if (!in_ram(ipa, 1) || offset > MIG_PAGE_SIZE || len > MIG_PAGE_SIZE - offset)
		return FERRY_ERANGE;
	memcpy(page(((struct lb *)ctx)->dmem, ipa) + offset, src, len);
	return 0;
}

static int d_zero(void *ctx, ipa_t ipa, u64 npages)
{
	if (!in_ram(ipa, npages))
		return FERRY_ERANGE;
	memset(page(((struct lb *)ctx)->dmem, ipa), 0, npages * MIG_PAGE_SIZE);
	return 0;
}

static int d_read(void *ctx, ipa_t ipa, void *dst)
{
	if (!in_ram(ipa, 1))
		return FERRY_ERANGE;
	memcpy(dst, page(((struct lb *)ctx)->dmem, ipa), MIG_PAGE_SIZE);
	return 0;
}

static int d_hash(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st)
{
	return hash_mem(((struct lb *)ctx)->dmem, ipa, npages, st);
}

static int d_put_state(void *ctx, u32 index, u32 tag, const void *buf, u32 len)
{
	struct lb *l = ctx;
	const u8 *b = buf;

	if (index != l->blobs_in || index >= LB_BLOBS || tag != 0x4c00 + index ||
	    len != blob_len[index])
		l->blob_bad = true;
	for (u32 i = 0; i < len && !l->blob_bad; i++)
		if (b[i] != blob_byte(index, i))
			l->blob_bad = true;
	l->blobs_in++;
	return l->blob_bad ? FERRY_EINVAL : 0;
}

static const struct mig_dst_ops dst_ops = {
	.send_frame = d_send,
	.now_ns = lb_now,
	.write_page = d_write,
	.zero_pages = d_zero,
	.read_page = d_read,
	.hash_pages = d_hash,
	.put_state = d_put_state,
};

/* ---- the run ---- */
static void deliver(struct lb *l)
{
	for (int dir = 0; dir < 2; dir++) {
		struct lb_queue *q = &l->q[dir];

		while (q->count) {
			const u8 *f = q->buf + (size_t)q->head * l->frame_max;
			u32 len = q->len[q->head];

			q->head = (q->head + 1) % LB_QUEUE;
			q->count--;
			if (dir == 0)
				(void)mig_dst_input(&l->dst, f, len);
			else
				(void)mig_src_input(&l->src, f, len);
		}
	}
}

static int fail(char *why, size_t why_len, const char *what, int err)
{
	snprintf(why, why_len, "%s", what);
	return err;
}

int mig_loopback_run(void *ws, size_t ws_len, u32 frame_max, bool postcopy,
		     u64 (*now_ns)(void *ctx), char *why, size_t why_len)
{
	struct mig_src_config scfg;
	struct mig_dst_config dcfg;
	enum mig_status ss = MIG_RUNNING, ds = MIG_RUNNING;
	struct lb_layout o;
	u8 *p = ws;
	struct lb *l = ws;
	int err;

	if (frame_max < MIG_FRAME_MIN || frame_max > MIG_FRAME_MAX || !now_ns ||
	    ((uintptr_t)ws % LB_ALIGN))
		return fail(why, why_len, "bad arguments", FERRY_EINVAL);
	configs(frame_max, postcopy, &scfg, &dcfg);
	o = layout(frame_max, &scfg, &dcfg);
	if (ws_len < o.total)
		return fail(why, why_len, "bad arguments", FERRY_EINVAL);
	memset(l, 0, sizeof(*l));
	l->now = now_ns;
	l->frame_max = frame_max;
	l->smem = p + o.smem;
	l->dmem = p + o.dmem;
	for (int dir = 0; dir < 2; dir++)
		l->q[dir].buf = p + o.q[dir];
	/* A quarter of the pages zero, the rest patterned; the destination starts with other bytes,
	 * so a page that never arrives shows. */
	for (u32 i = 0; i < LB_PAGES; i++)
		if (i % 4 == 0)
			memset(l->smem + (size_t)i * MIG_PAGE_SIZE, 0, MIG_PAGE_SIZE);
		else
			for (u32 b = 0; b < MIG_PAGE_SIZE; b++)
				l->smem[(size_t)i * MIG_PAGE_SIZE + b] = (u8)(i * 3 + b % 251);
	memset(l->dmem, 0xa5, LB_PAGES * MIG_PAGE_SIZE);
	err = mig_src_init(&l->src, &scfg, &src_ops, l, p + o.sws, mig_src_workspace_size(&scfg));
	if (!err)
		err = mig_dst_init(&l->dst, &dcfg, &dst_ops, l, p + o.dws,
				   mig_dst_workspace_size(&dcfg));
	if (!err)
		err = mig_dst_listen(&l->dst);
	if (!err)
		err = mig_src_start(&l->src);
	if (err)
		return fail(why, why_len, "the machines would not start", err);
	for (u32 i = 0; i < LB_POLLS && (ss == MIG_RUNNING || ds == MIG_RUNNING); i++) {
		if (ss == MIG_RUNNING)
			ss = mig_src_poll(&l->src);
		if (ds == MIG_RUNNING)
			ds = mig_dst_poll(&l->dst);
		/* Post-copy's switch: the VM would run here now; the rest of its pages come. */
		if (ds == MIG_POSTCOPY)
			ds = MIG_RUNNING;
		deliver(l);
	}
	if (ss != MIG_DONE || ds != MIG_DONE)
		return fail(why, why_len,
			    ss == MIG_RUNNING || ds == MIG_RUNNING ? "the migration never ended"
								   : "a machine failed",
			    FERRY_EIO);
	if (memcmp(l->smem, l->dmem, LB_PAGES * MIG_PAGE_SIZE))
		return fail(why, why_len, "the destination's pages differ", FERRY_EIO);
	if (l->blob_bad || l->blobs_in != LB_BLOBS)
		return fail(why, why_len, "the state blobs differ", FERRY_EIO);
	if (postcopy != l->src.pc)
		return fail(why, why_len, "post-copy was not taken as asked", FERRY_EIO);
	if (!postcopy && mig_src_stats(&l->src)->audit != MIG_AUDIT_CLEAN)
		return fail(why, why_len, "the audit found a difference", FERRY_EIO);
	return 0;
}
