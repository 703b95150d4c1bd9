/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated link of mig_link_sim.h: a binary heap of frames per direction ordered by delivery
 * time, and xorshift64* for every random choice so a seed replays a run exactly. */
#include "mig_link_sim.h"

#include <stdlib.h>
#include <string.h>

u64 sim_rand(struct sim_net *n)
{
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return n->rng * 0x2545F4914F6CDD1DULL;
}

static bool chance(struct sim_net *n, u32 ppm) { return ppm && sim_rand(n) % 1000000 < ppm; }

void sim_dir_defaults(struct sim_dir *d)
{
	memset(d, 0, sizeof(*d));
	d->latency_ns = 20000;
	d->ps_per_byte = 8000;
	d->queue_ns = 50000000;
	d->reorder_ns = 300000;
}

void sim_init(struct sim_net *n, u64 seed)
{
	memset(n, 0, sizeof(*n));
	n->rng = seed ? seed : 1;
	sim_dir_defaults(&n->dir[0]);
	sim_dir_defaults(&n->dir[1]);
}

void sim_impair(struct sim_net *n, u32 drop_ppm, u32 dup_ppm, u32 reorder_ppm, u32 corrupt_ppm)
{
	for (int i = 0; i < 2; i++) {
		n->dir[i].drop_ppm = drop_ppm;
		n->dir[i].dup_ppm = dup_ppm;
		n->dir[i].reorder_ppm = reorder_ppm;
		n->dir[i].corrupt_ppm = corrupt_ppm;
	}
}

void sim_free(struct sim_net *n)
{
	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < n->dir[i].n; k++)
			free(n->dir[i].heap[k].data);
		for (size_t k = 0; k < n->dir[i].nhold; k++)
			free(n->dir[i].hold[k].data);
		free(n->dir[i].hold);
		n->dir[i].hold = NULL;
		n->dir[i].nhold = n->dir[i].hold_cap = 0;
		free(n->dir[i].heap);
		n->dir[i].heap = NULL;
		n->dir[i].n = n->dir[i].cap = 0;
	}
}

static bool before(const struct sim_frame *a, const struct sim_frame *b)
{
	return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void heap_push(struct sim_dir *d, struct sim_frame f)
{
	size_t i;

	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 256;
		d->heap = realloc(d->heap, d->cap * sizeof(*d->heap));
	}
	i = d->n++;
	while (i && before(&f, &d->heap[(i - 1) / 2])) {
		d->heap[i] = d->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	d->heap[i] = f;
}

static struct sim_frame heap_pop(struct sim_dir *d)
{
	struct sim_frame top = d->heap[0], last = d->heap[--d->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= d->n)
			break;
		if (c + 1 < d->n && before(&d->heap[c + 1], &d->heap[c]))
			c++;
		if (!before(&d->heap[c], &last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n)
		d->heap[i] = last;
	return top;
}

static void enqueue(struct sim_net *n, struct sim_dir *d, const void *frame, size_t len, u64 at)
{
	struct sim_frame f = { .at = at, .order = n->order++, .len = len, .data = malloc(len) };

	memcpy(f.data, frame, len);
	if (chance(n, d->corrupt_ppm)) {
		u64 bit = sim_rand(n) % (len * 8);

		f.data[bit / 8] ^= (u8)(1u << (bit % 8));
		d->corrupted++;
	}
	heap_push(d, f);
}

/* Puts the frame on the wire now; its arrival time, 0 when it is lost. */
static u64 wire_send(struct sim_net *n, struct sim_dir *d, const void *frame, size_t len)
{
	u64 start = d->free_at > n->now ? d->free_at : n->now, at;

	d->sent++;
	if (d->down || chance(n, d->drop_ppm)) {
		d->dropped++;
		return 0;
	}
	if (start - n->now > d->queue_ns) {
		d->tail_dropped++;
		return 0;
	}
	d->free_at = start + len * d->ps_per_byte / 1000;
	at = d->free_at + d->latency_ns;
	if (chance(n, d->reorder_ppm)) {
		at += 1 + sim_rand(n) % d->reorder_ns;
		d->reordered++;
	}
	enqueue(n, d, frame, len, at);
	if (chance(n, d->dup_ppm)) {
		enqueue(n, d, frame, len, at + 1 + sim_rand(n) % d->reorder_ns);
		d->duplicated++;
	}
	return at;
}

/* Nagle: once the receiver's TCP has acknowledged the small frame out (with a frame of its own,
 * or its delayed ACK), everything held goes out as one write, whose last frame may be small in
 * turn. */
static void nagle_release(struct sim_net *n, int dir)
{
	struct sim_dir *d = &n->dir[dir], *r = &n->dir[dir ^ 1];
	u64 ack = d->acked_at != ~0ULL ? d->acked_at : d->small_at + d->delack_ns + r->latency_ns;
	u64 at = 0;

	if (d->small_out && n->now < ack)
		return;
	d->small_out = false;
	for (size_t i = 0; i < d->nhold; i++) {
		at = wire_send(n, d, d->hold[i].data, d->hold[i].len);
		free(d->hold[i].data);
	}
	if (d->nhold && d->hold[d->nhold - 1].len < d->small_len) {
		d->small_out = true;
		d->small_at = at;
		d->acked_at = ~0ULL;
	}
	d->nhold = 0;
}

int sim_send(struct sim_net *n, int dir, const void *frame, size_t len)
{
	struct sim_dir *d = &n->dir[dir], *r = &n->dir[dir ^ 1];
	u64 at;

	/* A frame this way carries the TCP acknowledgement of what came the other way. */
	if (r->nagle && r->small_out && r->acked_at == ~0ULL && n->now >= r->small_at)
		r->acked_at = n->now + d->latency_ns;
	if (!d->nagle) {
		wire_send(n, d, frame, len);
		return 0;
	}
	nagle_release(n, dir);
	if (d->small_out || d->nhold) {
		if (d->nhold == d->hold_cap) {
			d->hold_cap = d->hold_cap ? 2 * d->hold_cap : 64;
			d->hold = realloc(d->hold, d->hold_cap * sizeof(*d->hold));
		}
		d->hold[d->nhold].data = malloc(len);
		memcpy(d->hold[d->nhold].data, frame, len);
		d->hold[d->nhold++].len = len;
		d->held++;
		return 0;
	}
	at = wire_send(n, d, frame, len);
	if (len < d->small_len) {
		d->small_out = true;
		d->small_at = at;
		d->acked_at = ~0ULL;
	}
	return 0;
}

size_t sim_pop(struct sim_net *n, int dir, u8 *buf, size_t cap)
{
	struct sim_dir *d = &n->dir[dir];
	struct sim_frame f;
	size_t len;

	if (d->nagle)
		nagle_release(n, dir);

	while (d->n && d->heap[0].at <= n->now) {
		f = heap_pop(d);
		len = f.len < cap ? f.len : cap;
		memcpy(buf, f.data, len);
		free(f.data);
		if (d->down)
			continue; /* the receiver is gone: frames in flight vanish too */
		d->delivered++;
		return len;
	}
	return 0;
}

u64 sim_next_event(const struct sim_net *n)
{
	u64 t = ~0ULL;

	for (int i = 0; i < 2; i++)
		if (n->dir[i].n && n->dir[i].heap[0].at < t)
			t = n->dir[i].heap[0].at;
	return t;
}
