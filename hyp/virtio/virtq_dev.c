/* SPDX-License-Identifier: Apache-2.0 */
/* The device side of a split virtqueue on a guest's RAM (virtq_dev.h says what is checked and
 * why). */
#include "virtio/virtq_dev.h"

#include "lib/lib.h"
#include "lib/range.h"

/* Offsets in the rings (virtio 1.1, 2.6.5 to 2.6.8). */
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define AVAIL_RING 4u
#define USED_IDX 2u
#define USED_RING 4u

int virtq_dev_peek(const struct virtq_dev *q, const struct gmem *m, struct virtq_dev_chain *c)
{
	u16 idx, head, next;
	u8 ent[2];

	if (!q->num || gmem_load16_acquire(m, q->avail + AVAIL_IDX, &idx))
		return FERRY_EINVAL;
	if (idx == q->last_avail)
		return FERRY_ENOENT;
	/* The driver can be at most a whole ring ahead of what the device took. */
	if ((u16)(idx - q->last_avail) > q->num)
		return FERRY_EINVAL;
	if (gmem_read(m, q->avail + AVAIL_RING + 2u * (q->last_avail & (q->num - 1)), ent, 2))
		return FERRY_EINVAL;
	head = get_le16(ent);
	c->head = head;
	c->nsegs = 0;
	c->total = 0;
	next = head;
	/* Each descriptor read once into d; a chain of more than num descriptors revisits one. */
	for (;;) {
		u8 d[16];
		u16 flags;
		struct virtq_buf *s;

		if (next >= q->num || c->nsegs == q->num)
			return FERRY_EINVAL;
		if (gmem_read(m, q->desc + 16u * next, d, sizeof(d)))
			return FERRY_EINVAL;
		flags = get_le16(d + 12);
		if (flags & VIRTQ_DESC_F_INDIRECT)
			return FERRY_EINVAL;
		s = &c->seg[c->nsegs];
		s->addr = get_le64(d);
		s->len = get_le32(d + 8);
		if (!range_valid(s->addr, s->len) ||
		    (s->len && !range_within(s->addr, s->len, m->ipa, m->size)))
			return FERRY_EINVAL;
		if (!c->nsegs)
			c->writable = (flags & VIRTQ_DESC_F_WRITE) != 0;
		else if (c->writable != ((flags & VIRTQ_DESC_F_WRITE) != 0))
			return FERRY_EINVAL;
		c->total += s->len;
		c->nsegs++;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		next = get_le16(d + 14);
	}
}

void virtq_dev_take(struct virtq_dev *q) { q->last_avail++; }

int virtq_dev_push(struct virtq_dev *q, const struct gmem *m, u16 head, u32 len)
{
	u8 e[8];

	put_le32(e, head);
	put_le32(e + 4, len);
	if (!q->num || gmem_write(m, q->used + USED_RING + 8u * (q->used_idx & (q->num - 1)), e, 8))
		return FERRY_ERANGE;
	/* Release: the buffer's bytes and the entry before the index that publishes them. */
	if (gmem_store16_release(m, q->used + USED_IDX, (u16)(q->used_idx + 1)))
		return FERRY_ERANGE;
	q->used_idx++;
	return 0;
}

bool virtq_dev_wants_irq(const struct virtq_dev *q, const struct gmem *m, u16 old)
{
	u16 flags, event;

	/* The driver sets NO_INTERRUPT (or used_event), then checks used->idx: order our index
	 * store before this load, or both could miss the other's write (2.6.7.2). */
	virtio_mb();
	if (!q->event_idx)
		return gmem_load16_acquire(m, q->avail + AVAIL_FLAGS, &flags) ||
		       !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!q->num || gmem_load16_acquire(m, q->avail + AVAIL_RING + 2u * q->num, &event))
		return true;
	/* used_event in [old, used_idx): the driver asked to hear of the buffer at used_event. Any
	 * 16-bit value is meaningful here: nothing to check. */
	return (u16)(q->used_idx - event - 1) < (u16)(q->used_idx - old);
}

bool virtq_dev_arm_notify(const struct virtq_dev *q, const struct gmem *m, u16 at)
{
	u16 idx;

	if (!q->event_idx || !q->num)
		return false;
	/* An avail_event outside the RAM only costs the driver's notifications: it is the
	 * driver's own ring, and the peek that follows finds it broken if the rest is too. */
	if (gmem_store16_release(m, q->used + USED_RING + 8u * q->num, at))
		return false;
	/* Our avail_event store before the avail->idx load; the driver orders its avail->idx
	 * store before its avail_event load the same way (2.6.10). */
	virtio_mb();
	return !gmem_load16_acquire(m, q->avail + AVAIL_IDX, &idx) && idx != q->last_avail;
}

/* Walks the segments covering [off, off + len) of the chain; write: buf into them, else out. */
static int copy(const struct gmem *m, const struct virtq_dev_chain *c, u64 off, u8 *buf, u64 len,
		bool write)
{
	if (!range_within(off, len, 0, c->total))
		return FERRY_ERANGE;
	for (u16 i = 0; i < c->nsegs && len; i++) {
		u64 seglen = c->seg[i].len, n;
		int err;

		if (off >= seglen) {
			off -= seglen;
			continue;
		}
		n = MIN(seglen - off, len);
		err = write ? gmem_write(m, c->seg[i].addr + off, buf, n)
			    : gmem_read(m, c->seg[i].addr + off, buf, n);
		if (err)
			return err;
		buf += n;
		len -= n;
		off = 0;
	}
	return 0;
}

int virtq_dev_gather(const struct gmem *m, const struct virtq_dev_chain *c, u64 off, void *buf,
		     u64 len)
{
	return copy(m, c, off, buf, len, false);
}

int virtq_dev_scatter(const struct gmem *m, const struct virtq_dev_chain *c, u64 off,
		      const void *buf, u64 len)
{
	return copy(m, c, off, (u8 *)(uintptr_t)buf, len, true);
}
