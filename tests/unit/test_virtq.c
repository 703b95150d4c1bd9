/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/virtio/virtq: the driver side of a split virtqueue against a device model that reads the same
 * rings the way a device does (avail ring → descriptor chains → used ring), completing chains in
 * random order. Checks chain contents, tokens, lengths, free-descriptor accounting, EBUSY, the
 * legacy layout, and a device that lies: an id it was never given, a length beyond the chain's
 * writable buffers, descriptors it rewrote (links out of range, a chain made longer or looping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/virtio.h"

static _Alignas(4096) u8 ring_mem[3 * 4096 + 16 * 256 + 8 * 256];

/* The device's view: what it has taken from the avail ring and not yet returned. */
struct dev {
	struct virtq *q;
	u16 avail_seen, used_idx;
	u16 pending[VIRTQ_SIZE_MAX];
	u32 npending;
};

static void dev_take(struct dev *d)
{
	while (d->avail_seen != d->q->avail->idx)
		d->pending[d->npending++] = d->q->avail->ring[d->avail_seen++ & (d->q->size - 1)];
}

/* Walks a chain as the device would: checks every buffer against what the driver gave. */
static u32 dev_chain(struct dev *d, u16 head, u32 *n_out, u32 *n_in, u64 *first_addr)
{
	u32 n = 0;
	u16 i = head;

	*n_out = *n_in = 0;
	*first_addr = d->q->desc[head].addr;
	for (;;) {
		struct virtq_desc *x = &d->q->desc[i];

		assert_true(n < d->q->size);
		if (x->flags & VIRTQ_DESC_F_WRITE)
			(*n_in)++;
		else {
			assert_int_equal(*n_in, 0); /* readable buffers come first (2.6.4.2) */
			(*n_out)++;
		}
		n++;
		if (!(x->flags & VIRTQ_DESC_F_NEXT))
			break;
		i = x->next;
	}
	return n;
}

static void dev_complete(struct dev *d, u32 k, u32 len)
{
	u16 head = d->pending[k];

	d->pending[k] = d->pending[--d->npending];
	d->q->used->ring[d->used_idx & (d->q->size - 1)] = (struct virtq_used_elem){ head, len };
	d->used_idx++;
	d->q->used->idx = d->used_idx;
}

static void test_layout(void **state)
{
	struct virtq q;
	(void)state;

	assert_int_equal(virtq_init(&q, 0, ring_mem, false), FERRY_EINVAL);
	assert_int_equal(virtq_init(&q, 3, ring_mem, false), FERRY_EINVAL);
	assert_int_equal(virtq_init(&q, 512, ring_mem, false), FERRY_EINVAL);
	for (u16 size = 1; size <= VIRTQ_SIZE_MAX; size *= 2) {
		for (int legacy = 0; legacy < 2; legacy++) {
			size_t bytes = virtq_ring_bytes(size, legacy);

			assert_true(bytes <= sizeof(ring_mem));
			assert_int_equal(virtq_init(&q, size, ring_mem, legacy), 0);
			assert_ptr_equal(q.desc, ring_mem);
			assert_ptr_equal(q.avail, ring_mem + 16 * size);
			assert_int_equal(((u8 *)q.used - ring_mem) % (legacy ? 4096 : 4), 0);
			assert_true((u8 *)q.used >= ring_mem + 16 * size + 6 + 2 * size);
			assert_int_equal((u8 *)q.used + 6 + 8 * size - ring_mem, bytes);
			assert_int_equal(virtq_free(&q), size);
		}
	}
}

struct chain {
	u64 addr;
	u32 n_out, n_in;
	bool live;
};

/* What the device may write into a chain of test_random_traffic: buffer i is 0x100 + i bytes. */
static u32 writable(u32 n_out, u32 n_in)
{
	u32 w = 0;

	for (u32 i = n_out; i < n_out + n_in; i++)
		w += 0x100 + i;
	return w;
}

/* Random chains, completed in random order, many times around the 16-bit indices. */
static void test_random_traffic(void **state)
{
	static const u16 sizes[] = { 1, 2, 8, 64, 256 };
	(void)state;

	srand(7);
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct virtq q;
		struct dev d = { 0 };
		u64 next_addr = 0x1000;
		struct chain tok[VIRTQ_SIZE_MAX * 4 + 1];
		u32 live = 0, used_desc = 0;

		memset(ring_mem, 0, sizeof(ring_mem));
		memset(tok, 0, sizeof(tok));
		assert_int_equal(virtq_init(&q, sizes[s], ring_mem, s & 1), 0);
		d.q = &q;
		for (u32 step = 0; step < 200000; step++) {
			if (rand() % 3) {
				struct virtq_buf b[8];
				u32 n_out = (u32)rand() % 4, n_in = (u32)rand() % 4, t;

				if (!n_out && !n_in)
					n_in = 1;
				for (u32 i = 0; i < n_out + n_in; i++)
					b[i] = (struct virtq_buf){ next_addr + i * 0x100,
								   0x100 + i };
				for (t = 1; t < ARRAY_SIZE(tok) && tok[t].live; t++)
					;
				assert_true(t < ARRAY_SIZE(tok));
				int rc = virtq_add(&q, b, n_out, n_in, &tok[t]);

				if (n_out + n_in > q.size - used_desc) {
					assert_int_equal(rc, FERRY_EBUSY);
					continue;
				}
				assert_int_equal(rc, 0);
				tok[t] = (struct chain){ next_addr, n_out, n_in, true };
				next_addr += 0x10000;
				used_desc += n_out + n_in;
				live++;
				assert_int_equal(virtq_free(&q), q.size - used_desc);
			} else {
				u32 len;

				dev_take(&d);
				if (d.npending) {
					u32 k = (u32)rand() % d.npending, n_out, n_in;
					u64 a;

					dev_chain(&d, d.pending[k], &n_out, &n_in, &a);
					dev_complete(&d, k,
						     (u32)(a >> 16) % (writable(n_out, n_in) + 1));
				}
				void *t = virtq_get_used(&q, &len);

				if (!t)
					continue;
				struct chain *tp = t;

				assert_true(tp->live);
				assert_int_equal(len, (u32)(tp->addr >> 16) %
							      (writable(tp->n_out, tp->n_in) + 1));
				tp->live = false;
				used_desc -= tp->n_out + tp->n_in;
				live--;
				assert_int_equal(virtq_free(&q), q.size - used_desc);
			}
		}
		(void)live;
	}
}

static void test_chain_contents_and_notify(void **state)
{
	struct virtq q;
	struct dev d = { 0 };
	struct virtq_buf b[3] = { { 0x1000, 10 }, { 0x2000, 20 }, { 0x3000, 30 } };
	int token;
	u32 n_out, n_in, len;
	u64 a;
	(void)state;

	memset(ring_mem, 0, sizeof(ring_mem));
	virtq_init(&q, 4, ring_mem, false);
	d.q = &q;
	assert_int_equal(virtq_add(&q, b, 1, 2, &token), 0);
	assert_true(virtq_needs_notify(&q));
	q.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	assert_false(virtq_needs_notify(&q));
	dev_take(&d);
	assert_int_equal(d.npending, 1);
	assert_int_equal(dev_chain(&d, d.pending[0], &n_out, &n_in, &a), 3);
	assert_int_equal(n_out, 1);
	assert_int_equal(n_in, 2);
	u16 i = d.pending[0];

	for (int k = 0; k < 3; k++) {
		assert_int_equal(q.desc[i].addr, b[k].addr);
		assert_int_equal(q.desc[i].len, b[k].len);
		i = q.desc[i].next;
	}
	assert_int_equal(virtq_add(&q, b, 2, 0, &token), FERRY_EBUSY); /* one left */
	assert_null(virtq_get_used(&q, &len));
	dev_complete(&d, 0, 50);
	assert_ptr_equal(virtq_get_used(&q, &len), &token);
	assert_int_equal(len, 50);
	assert_int_equal(virtq_free(&q), 4);
	assert_int_equal(virtq_add(&q, b, 0, 0, &token), FERRY_EBUSY); /* an empty chain */
}

static void test_bogus_used_id(void **state)
{
	struct virtq q;
	u32 len = 0;
	(void)state;

	memset(ring_mem, 0, sizeof(ring_mem));
	virtq_init(&q, 8, ring_mem, false);
	/* The device returns ids 9 (out of range) and 3 (never given): both refused, nothing freed. */
	q.used->ring[0] = (struct virtq_used_elem){ 9, 1 };
	q.used->ring[1] = (struct virtq_used_elem){ 3, 1 };
	q.used->idx = 2;
	assert_null(virtq_get_used(&q, &len));
	assert_int_equal(len, ~0u);
	len = 0;
	assert_null(virtq_get_used(&q, &len));
	assert_int_equal(len, ~0u);
	assert_int_equal(virtq_free(&q), 8);
	len = 0;
	assert_null(virtq_get_used(&q, &len)); /* caught up: nothing */
	assert_int_equal(len, 0);
}

/* The descriptor table is shared memory the device can write: the driver must not follow links it
 * finds there. Free descriptor 1's link rewritten to 11 (inside the rings' memory, past the table):
 * a new chain must still use descriptors 0..7 only, each once. */
static void test_device_rewrites_free_links(void **state)
{
	struct virtq q;
	struct virtq_buf b[4] = { { 0x1000, 1 }, { 0x2000, 2 }, { 0x3000, 3 }, { 0x4000, 4 } };
	int token;
	bool seen[8] = { false };
	u16 d;
	(void)state;

	memset(ring_mem, 0, sizeof(ring_mem));
	virtq_init(&q, 8, ring_mem, false);
	q.desc[1].next = 11;
	assert_int_equal(virtq_add(&q, b, 2, 2, &token), 0);
	d = q.avail->ring[0];
	for (int i = 0; i < 4; i++) {
		assert_true(d < 8);
		assert_false(seen[d]);
		seen[d] = true;
		assert_int_equal(q.desc[d].addr, b[i].addr);
		d = q.desc[d].next;
	}
	assert_int_equal(virtq_free(&q), 4);
}

/* A used chain whose descriptors the device rewrote: the last one given NEXT and a link to a free
 * descriptor (the chain looks longer), or to itself (a loop). The driver frees what it chained, no
 * more, and returns. */
static void test_device_rewrites_used_chain(void **state)
{
	struct virtq q;
	struct virtq_buf b[2] = { { 0x1000, 16 }, { 0x2000, 16 } };
	int t1, t2;
	u32 len;
	u16 head, last;
	(void)state;

	for (int loop = 0; loop < 2; loop++) {
		memset(ring_mem, 0, sizeof(ring_mem));
		virtq_init(&q, 8, ring_mem, false);
		assert_int_equal(virtq_add(&q, b, 1, 1, &t1), 0);
		head = q.avail->ring[0];
		last = q.desc[head].next;
		q.desc[last].flags |= VIRTQ_DESC_F_NEXT;
		q.desc[last].next = loop ? last : (u16)((last + 1) % 8);
		q.used->ring[0] = (struct virtq_used_elem){ head, 8 };
		q.used->idx = 1;
		assert_ptr_equal(virtq_get_used(&q, &len), &t1);
		assert_int_equal(len, 8);
		assert_int_equal(virtq_free(&q), 8);
		/* The free list is whole: all 8 descriptors chain again, each once. */
		struct virtq_buf all[8];

		for (int i = 0; i < 8; i++)
			all[i] = (struct virtq_buf){ 0x1000u * (u32)(i + 1), 1 };
		assert_int_equal(virtq_add(&q, all, 8, 0, &t2), 0);
		assert_int_equal(virtq_free(&q), 0);
	}
}

/* A used length beyond the chain's device-writable bytes is a lie the caller must not believe:
 * the chain comes back (its buffers are free again) with the length ~0, which no caller takes. */
static void test_used_length_beyond_chain(void **state)
{
	struct virtq q;
	struct virtq_buf b[3] = { { 0x1000, 100 }, { 0x2000, 30 }, { 0x3000, 20 } };
	int token;
	u32 len;
	(void)state;

	memset(ring_mem, 0, sizeof(ring_mem));
	virtq_init(&q, 4, ring_mem, false);
	assert_int_equal(virtq_add(&q, b, 1, 2, &token), 0);
	q.used->ring[0] = (struct virtq_used_elem){ q.avail->ring[0], 51 };
	q.used->idx = 1;
	assert_ptr_equal(virtq_get_used(&q, &len), &token);
	assert_int_equal(len, ~0u);
	assert_int_equal(virtq_free(&q), 4);
	assert_int_equal(virtq_add(&q, b, 1, 2, &token), 0);
	q.used->ring[1] = (struct virtq_used_elem){ q.avail->ring[1], 50 };
	q.used->idx = 2;
	assert_ptr_equal(virtq_get_used(&q, &len), &token);
	assert_int_equal(len, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_random_traffic),
		cmocka_unit_test(test_chain_contents_and_notify),
		cmocka_unit_test(test_bogus_used_id),
		cmocka_unit_test(test_device_rewrites_free_links),
		cmocka_unit_test(test_device_rewrites_used_chain),
		cmocka_unit_test(test_used_length_beyond_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
