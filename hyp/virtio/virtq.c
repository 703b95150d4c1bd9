/* SPDX-License-Identifier: Apache-2.0 */
/* The driver side of a split virtqueue (virtio 1.1, 2.6). Pure: the rings are plain memory shared
 * with the device, so the host unit tests play the device against the same code. */
#include <string.h>

#include "virtio/virtio.h"

static size_t desc_bytes(u16 size) { return 16u * size; }
static size_t avail_bytes(u16 size) { return 6u + 2u * size; }
static size_t used_bytes(u16 size) { return 6u + 8u * size; }

size_t virtq_ring_bytes(u16 size, bool legacy)
{
	size_t used_off = desc_bytes(size) + avail_bytes(size);

	/* The used ring is written by the device: 4-byte alignment (2.6), a page for legacy (4.2.4).
	 */
	used_off = legacy ? ALIGN_UP(used_off, (size_t)VIRTQ_LEGACY_ALIGN) : ALIGN_UP(used_off, 4);
	return used_off + used_bytes(size);
}

int virtq_init(struct virtq *q, u16 size, void *mem, bool legacy)
{
	u8 *m = mem;
	size_t used_off;

	if (!size || size > VIRTQ_SIZE_MAX || (size & (size - 1)))
		return FERRY_EINVAL;
	used_off = virtq_ring_bytes(size, legacy) - used_bytes(size);
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->desc = (struct virtq_desc *)m;
	q->avail = (struct virtq_avail *)(m + desc_bytes(size));
	q->used = (struct virtq_used *)(m + used_off);
	/* The free list threads through the driver's own links, not the shared descriptors'. */
	for (u16 i = 0; i < size; i++)
		q->next[i] = (u16)((i + 1) & (size - 1));
	q->free_head = 0;
	q->nfree = size;
	return 0;
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, u32 n_out, u32 n_in, void *token)
{
	u32 n = n_out + n_in, in_bytes = 0;
	u16 head = q->free_head, d = head, last = head;

	if (!n || n > q->nfree)
		return FERRY_EBUSY;
	for (u32 i = 0; i < n; i++) {
		struct virtq_desc *desc = &q->desc[d];

		desc->addr = bufs[i].addr;
		desc->len = bufs[i].len;
		desc->flags = (u16)((i >= n_out ? VIRTQ_DESC_F_WRITE : 0) |
				    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		desc->next = q->next[d];
		/* Saturating: a chain cannot hold more than 4 GiB, a used length never exceeds it. */
		if (i >= n_out)
			in_bytes = bufs[i].len > ~0u - in_bytes ? ~0u : in_bytes + bufs[i].len;
		last = d;
		d = q->next[d];
	}
	q->free_head = q->next[last];
	q->nfree = (u16)(q->nfree - n);
	q->token[head] = token;
	q->chain_len[head] = (u16)n;
	q->chain_in[head] = in_bytes;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	/* The device must see the descriptors and the ring entry before the index that publishes
	 * them (2.7.13). */
	virtio_wmb();
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELAXED);
	return 0;
}

bool virtq_needs_notify(const struct virtq *q)
{
	/* Our index store must be visible before we read the device's flag, or both sides could
	 * decide the other one will act (2.7.13.3). */
	virtio_mb();
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_has_used(const struct virtq *q)
{
	/* After whatever the caller did to the device (acknowledging its interrupt). */
	virtio_mb();
	return __atomic_load_n(&q->used->idx, __ATOMIC_RELAXED) != q->last_used;
}

void *virtq_get_used(struct virtq *q, u32 *len)
{
	u16 idx = __atomic_load_n(&q->used->idx, __ATOMIC_RELAXED);
	struct virtq_used_elem e;
	u16 d;
	void *token;

	if (idx == q->last_used)
		return NULL;
	/* The entry is read only after the index that says it is there, and read once: the device
	 * may change it meanwhile, and the checks below must hold for the values used. */
	virtio_rmb();
	e.id = __atomic_load_n(&q->used->ring[q->last_used & (q->size - 1)].id, __ATOMIC_RELAXED);
	e.len = __atomic_load_n(&q->used->ring[q->last_used & (q->size - 1)].len, __ATOMIC_RELAXED);
	q->last_used++;
	if (e.id >= q->size || !q->token[e.id]) {
		*len = ~0u;
		return NULL;
	}
	token = q->token[e.id];
	q->token[e.id] = NULL;
	/* The chain's end by the driver's own links and count: the device may have rewritten the
	 * descriptors' flags and links (a loop, an index out of range, a longer chain). */
	d = (u16)e.id;
	for (u16 i = 1; i < q->chain_len[e.id]; i++)
		d = q->next[d];
	/* The chain goes back on the free list as it is, already linked. */
	q->next[d] = q->free_head;
	q->free_head = (u16)e.id;
	q->nfree = (u16)(q->nfree + q->chain_len[e.id]);
	*len = e.len <= q->chain_in[e.id] ? e.len : ~0u;
	return token;
}
