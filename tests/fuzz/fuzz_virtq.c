/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the driver side of the split virtqueue (hyp/virtio/virtq.c) against a
 * device that lies: the input is a queue size and a sequence of driver calls (add a chain, take a
 * used one) and device actions (complete a chain honestly, write any used entry, move used->idx
 * anywhere, scribble over any descriptor or the avail ring and index). The rings sit in a heap
 * block of exactly virtq_ring_bytes(), so ASan sees any descriptor index out of range; a chain
 * walk that loops is a timeout. Against a shadow of what the driver has outstanding, after every
 * step: the free count is the queue size minus the outstanding chains' descriptors; a new chain
 * uses only descriptors no outstanding chain holds, chained as asked; a token comes back once,
 * only for a chain that was made available, with a length no larger than its device-writable
 * buffers (or ~0 for a lie). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "lib/lib.h"
#include "virtio/virtio.h"

#define NONE 0xffffu

struct chain {
	u16 head, n;
	u32 wbytes; /* sum of the device-writable buffers' lengths */
	bool live;
};

static struct chain chains[VIRTQ_SIZE_MAX];
static u16 owner[VIRTQ_SIZE_MAX]; /* descriptor -> slot in chains[], or NONE */

static void check_accounting(const struct virtq *q)
{
	u32 held = 0;

	for (u32 i = 0; i < VIRTQ_SIZE_MAX; i++)
		held += chains[i].live ? chains[i].n : 0;
	FUZZ_CHECK(q->nfree <= q->size && q->nfree == q->size - held);
	FUZZ_CHECK(virtq_free(q) == q->nfree);
}

static void add(struct virtq *q, struct fuzz_in *in)
{
	struct virtq_buf bufs[VIRTQ_SIZE_MAX + 2];
	u32 n_out = take_u8(in) % (q->size + 2u), n_in = take_u8(in) % (q->size + 2u), wbytes = 0;
	u32 n = n_out + n_in, slot;
	u16 head, d, nfree = q->nfree;
	int err;

	if (n > VIRTQ_SIZE_MAX + 2)
		return;
	for (slot = 0; slot < VIRTQ_SIZE_MAX && chains[slot].live; slot++)
		;
	for (u32 i = 0; i < n; i++) {
		bufs[i].addr = 0x1000u * (i + 1) + slot;
		bufs[i].len = take_u16(in);
		wbytes += i >= n_out ? bufs[i].len : 0;
	}
	err = virtq_add(q, bufs, n_out, n_in, &chains[slot]);
	if (!n || n > nfree) {
		FUZZ_CHECK(err == FERRY_EBUSY && q->nfree == nfree);
		return;
	}
	FUZZ_CHECK(err == 0 && slot < VIRTQ_SIZE_MAX);
	head = q->avail->ring[(u16)(q->avail_idx - 1) & (q->size - 1)];
	FUZZ_CHECK(q->avail->idx == q->avail_idx);
	/* The chain as the device will read it, just written by the driver. */
	d = head;
	for (u32 i = 0; i < n; i++) {
		const struct virtq_desc *x;

		FUZZ_CHECK(d < q->size && owner[d] == NONE);
		owner[d] = (u16)slot;
		x = &q->desc[d];
		FUZZ_CHECK(x->addr == bufs[i].addr && x->len == bufs[i].len);
		FUZZ_CHECK(!!(x->flags & VIRTQ_DESC_F_WRITE) == (i >= n_out));
		FUZZ_CHECK(!!(x->flags & VIRTQ_DESC_F_NEXT) == (i + 1 < n));
		d = x->next;
	}
	chains[slot] = (struct chain){ head, (u16)n, wbytes, true };
}

static void get_used(struct virtq *q)
{
	u32 len = 0x12345678u;
	struct chain *c = virtq_get_used(q, &len);

	if (!c)
		return;
	FUZZ_CHECK(c >= chains && c < chains + VIRTQ_SIZE_MAX && c->live);
	FUZZ_CHECK(len <= c->wbytes || len == ~0u);
	for (u32 d = 0; d < VIRTQ_SIZE_MAX; d++)
		if (owner[d] == c - chains)
			owner[d] = NONE;
	c->live = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u8 cfg = take_u8(&in);
	u16 qsize = (u16)(1u << (cfg % 9));
	bool legacy = cfg & 0x10;
	size_t bytes = virtq_ring_bytes(qsize, legacy);
	u8 *mem = calloc(1, bytes); /* exactly the rings: ASan guards their end */
	struct virtq q;

	memset(chains, 0, sizeof(chains));
	memset(owner, 0xff, sizeof(owner));
	FUZZ_CHECK(virtq_init(&q, qsize, mem, legacy) == 0);
	/* The used ring ends the block, followed only by avail_event. */
	FUZZ_CHECK((u8 *)&q.used->ring[qsize] + 2 == mem + bytes);
	while (fuzz_more(&in)) {
		u8 op = take_u8(&in);
		u16 idx, i;

		switch (op % 7) {
		case 0:
		case 1:
			add(&q, &in);
			break;
		case 2:
			get_used(&q);
			break;
		case 3: /* an honest completion of one outstanding chain */
			i = take_u8(&in);
			if (!chains[i].live)
				break;
			idx = q.used->idx;
			q.used->ring[idx & (qsize - 1)] =
				(struct virtq_used_elem){ chains[i].head,
							  take_u32(&in) % (chains[i].wbytes + 1) };
			q.used->idx = (u16)(idx + 1);
			break;
		case 4: /* any used entry, published by any index step */
			idx = q.used->idx;
			q.used->ring[idx & (qsize - 1)] =
				(struct virtq_used_elem){ take_u32(&in), take_u32(&in) };
			q.used->idx = (u16)(idx + take_u16(&in));
			break;
		case 5: /* a descriptor rewritten: a loop, an index out of range, flags */
			i = take_u8(&in) & (qsize - 1);
			q.desc[i].next = take_u16(&in);
			q.desc[i].flags = take_u16(&in);
			q.desc[i].len = take_u32(&in);
			break;
		case 6: /* the device's flag, and the driver's avail ring scribbled over */
			q.used->flags = take_u16(&in);
			(void)virtq_needs_notify(&q);
			q.avail->idx = take_u16(&in);
			q.avail->ring[take_u8(&in) & (qsize - 1)] = take_u16(&in);
			break;
		}
		check_accounting(&q);
	}
	free(mem);
	return 0;
}
