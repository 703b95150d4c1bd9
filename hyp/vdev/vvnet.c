/* SPDX-License-Identifier: Apache-2.0 */
/* The register model of ferry's emulated virtio-net and the frame move between the two ends of a
 * link (vvnet.h). Every value the guest writes is checked where it is used; an access that is not
 * one of the registers of virtio 1.1 4.2.2 changes nothing and is counted. */
#include "vdev/vvnet.h"

#include <string.h>

#include "lib/lib.h"

#define QUEUE_ALIGN_DESC 16u /* virtio 1.1 2.6: descriptor table */
#define QUEUE_ALIGN_AVAIL 2u
#define QUEUE_ALIGN_USED 4u
#define VVNET_CONFIG_LEN 6u /* the MAC: the only field VIRTIO_NET_F_MAC makes valid */
/* No shared-memory regions: a read of SHMLen/SHMBase says "none" with all ones (4.2.2). */
#define VVNET_SHM_FIRST 0x0b0
#define VVNET_SHM_LAST 0x0bc

u64 vvnet_device_features(void)
{
	return BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_F_EVENT_IDX);
}

void vvnet_reset(struct vvnet *d)
{
	struct vvnet_stats keep = d->stats;
	u8 mac[6];

	memcpy(mac, d->mac, sizeof(mac));
	memset(d, 0, sizeof(*d));
	memcpy(d->mac, mac, sizeof(mac));
	d->stats = keep;
}

void vvnet_init(struct vvnet *d, const u8 mac[6])
{
	memset(d, 0, sizeof(*d));
	memcpy(d->mac, mac, sizeof(d->mac));
}

bool vvnet_line(const struct vvnet *d) { return d->isr != 0; }

bool vvnet_live(const struct vvnet *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET);
}

static struct vvnet_queue *selected(struct vvnet *d)
{
	return d->queue_sel < VVNET_QUEUES ? &d->queue[d->queue_sel] : NULL;
}

/* The driver broke one of its rings: the device needs a reset (2.1.2), which it says with
 * NEEDS_RESET and a configuration-change interrupt. */
static void ring_broken(struct vvnet *d, struct vvnet_queue *q)
{
	q->broken = true;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	d->isr |= VVNET_INT_CONFIG;
	d->stats.broken_rings++;
}

static bool queue_make_ready(const struct vvnet *d, struct vvnet_queue *q)
{
	if (!q->num || q->num > VVNET_QUEUE_MAX || (q->num & (q->num - 1)))
		return false;
	if ((q->q.desc % QUEUE_ALIGN_DESC) || (q->q.avail % QUEUE_ALIGN_AVAIL) ||
	    (q->q.used % QUEUE_ALIGN_USED))
		return false;
	q->q.num = q->num;
	q->q.last_avail = 0;
	q->q.used_idx = 0;
	q->q.event_idx = (d->driver_features & BIT(VIRTIO_F_EVENT_IDX)) != 0;
	q->broken = false;
	q->ready = true;
	return true;
}

/* FEATURES_OK is kept only for a subset of what the device offers that includes VERSION_1: this
 * device has no legacy interface to fall back to (4.2.2 "MMIO Device Register Layout"). */
static bool features_ok(const struct vvnet *d)
{
	return !(d->driver_features & ~vvnet_device_features()) &&
	       (d->driver_features & BIT(VIRTIO_F_VERSION_1));
}

static bool write_status(struct vvnet *d, u32 v, u32 *effects)
{
	if (v & ~0xffu)
		return false;
	if (!v) {
		vvnet_reset(d);
		*effects |= VVNET_EFF_LINE;
		return true;
	}
	v &= ~VIRTIO_STATUS_NEEDS_RESET; /* the device's bit, cleared only by a reset */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_ok(d))
		v &= ~VIRTIO_STATUS_FEATURES_OK; /* the driver reads it back and gives up */
	d->status = v | (d->status & VIRTIO_STATUS_NEEDS_RESET);
	return true;
}

/* A write to a queue register: only to an existing queue that is not ready (4.2.3.2). */
static bool write_queue(struct vvnet *d, u64 off, u32 v)
{
	struct vvnet_queue *q = selected(d);

	if (!q)
		return false;
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		if (v == 0) {
			q->ready = false;
			return true;
		}
		return v == 1 && !q->ready && queue_make_ready(d, q);
	}
	if (q->ready)
		return false;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		if (!v || v > VVNET_QUEUE_MAX)
			return false;
		q->num = (u16)v;
		return true;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: {
		/* Three 64-bit addresses, each written as its low word then its high one (+4). */
		u64 *a = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW   ? &q->q.desc
			 : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->q.avail
							      : &q->q.used;
		u32 shift = (off & 4) ? 32 : 0;

		*a = (*a & ~(0xffffffffULL << shift)) | (u64)v << shift;
		return true;
	}
	default:
		return false;
	}
}

static bool write_reg(struct vvnet *d, u64 off, u64 value, u32 *effects)
{
	u32 v = (u32)value;

	if (value >> 32)
		return false;
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_features_sel = v;
		return true;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_features_sel = v;
		return true;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Only while negotiating (3.1.1: before FEATURES_OK). */
		if (d->drv_features_sel > 1 || (d->status & VIRTIO_STATUS_FEATURES_OK))
			return false;
		d->driver_features &= ~(0xffffffffULL << (32 * d->drv_features_sel));
		d->driver_features |= (u64)v << (32 * d->drv_features_sel);
		return true;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		return true;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v >= VVNET_QUEUES)
			return false;
		/* New receive buffers: frames the peer holds for want of them can move. */
		if (v == VVNET_TXQ) {
			d->stats.notify_tx++;
			*effects |= VVNET_EFF_TX;
		} else {
			d->stats.notify_rx++;
			*effects |= VVNET_EFF_RX;
		}
		return true;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~v;
		*effects |= VVNET_EFF_LINE;
		return true;
	case VIRTIO_MMIO_STATUS:
		return write_status(d, v, effects);
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return write_queue(d, off, v);
	default:
		return false;
	}
}

static bool read_reg(struct vvnet *d, u64 off, u64 *value)
{
	u64 f = vvnet_device_features();
	struct vvnet_queue *q = selected(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		*value = VIRTIO_MMIO_MAGIC;
		return true;
	case VIRTIO_MMIO_VERSION:
		*value = 2;
		return true;
	case VIRTIO_MMIO_DEVICE_ID:
		*value = VIRTIO_ID_NET;
		return true;
	case 0x00c: /* VendorID */
		*value = VVNET_VENDOR;
		return true;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		*value = d->dev_features_sel > 1 ? 0 : (u32)(f >> (32 * d->dev_features_sel));
		return true;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		*value = q ? VVNET_QUEUE_MAX : 0;
		return true;
	case VIRTIO_MMIO_QUEUE_READY:
		*value = q ? q->ready : 0;
		return true;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		*value = d->isr;
		return true;
	case VIRTIO_MMIO_STATUS:
		*value = d->status;
		return true;
	case VVNET_CONFIG_GENERATION:
		*value = 0; /* the config space (the MAC) never changes */
		return true;
	default:
		if (off >= VVNET_SHM_FIRST && off <= VVNET_SHM_LAST) {
			*value = 0xffffffffu;
			return true;
		}
		return false;
	}
}

void vvnet_access(struct vvnet *d, u64 off, u32 size, bool write, u64 *value, u32 *effects)
{
	bool ok;

	*effects = 0;
	d->stats.accesses++;
	if (off >= VIRTIO_MMIO_CONFIG) {
		u64 c = off - VIRTIO_MMIO_CONFIG;

		/* The MAC, read-only (no VIRTIO_NET_F_CTRL_MAC_ADDR): naturally aligned 1, 2 or 4
		 * bytes inside it. */
		ok = !write && (size == 1 || size == 2 || size == 4) && !(c & (size - 1)) &&
		     c < VVNET_CONFIG_LEN && size <= VVNET_CONFIG_LEN - c;
		if (ok) {
			*value = 0;
			for (u32 i = 0; i < size; i++)
				*value |= (u64)d->mac[c + i] << (8 * i);
		}
	} else if (size != 4 || (off & 3)) {
		ok = false;
	} else {
		ok = write ? write_reg(d, off, *value, effects) : read_reg(d, off, value);
	}
	if (!ok) {
		d->stats.refused++;
		if (!write)
			*value = 0;
	}
}

static void raise_used(struct vvnet *d)
{
	if (!d->isr)
		d->stats.irqs++;
	d->isr |= VVNET_INT_USED;
}

/* What the receiving end offers the next frame: its next buffer (read into s->rx), nothing yet,
 * or nothing ever (not running, not set up, or its ring just found broken). */
enum rx_next {
	RX_BUF,
	RX_EMPTY,
	RX_DOWN
};

static enum rx_next rx_next(struct vvnet *rx, const struct gmem *rx_ram, struct vvnet_scratch *s,
			    u32 *lines)
{
	struct vvnet_queue *rq = rx ? &rx->queue[VVNET_RXQ] : NULL;
	int err;

	if (!rq || !vvnet_live(rx) || !rq->ready || rq->broken)
		return RX_DOWN;
	err = virtq_dev_peek(&rq->q, rx_ram, &s->rx);
	/* Empty: ask for a notification when the driver posts the next buffer (the one a held
	 * frame waits for), and look again in case it did just before. */
	if (err == FERRY_ENOENT && virtq_dev_arm_notify(&rq->q, rx_ram, rq->q.last_avail))
		err = virtq_dev_peek(&rq->q, rx_ram, &s->rx);
	if (err == FERRY_ENOENT)
		return RX_EMPTY;
	if (err || !s->rx.writable) {
		ring_broken(rx, rq);
		*lines |= 2;
		return RX_DOWN;
	}
	return RX_BUF;
}

/* One frame (s->frame: header, then len bytes) into the receive buffer rx_next() found. */
static void deliver(struct vvnet *tx, struct vvnet *rx, const struct gmem *rx_ram,
		    struct vvnet_scratch *s, u32 len, u32 *lines, bool *rx_used)
{
	struct vvnet_queue *rq = &rx->queue[VVNET_RXQ];

	/* Left in the ring: the receiver's own buffers are its business; a later, smaller frame
	 * may fit. */
	if (s->rx.total < VVNET_HDR + len) {
		tx->stats.tx_too_small++;
		return;
	}
	virtq_dev_take(&rq->q);
	if (virtq_dev_scatter(rx_ram, &s->rx, 0, s->frame, VVNET_HDR + len) ||
	    virtq_dev_push(&rq->q, rx_ram, s->rx.head, VVNET_HDR + len)) {
		ring_broken(rx, rq);
		*lines |= 2;
		tx->stats.tx_dropped++;
		return;
	}
	tx->stats.tx_frames++;
	tx->stats.tx_bytes += len;
	rx->stats.rx_frames++;
	rx->stats.rx_bytes += len;
	*rx_used = true;
}

void vvnet_transmit(struct vvnet *tx, const struct gmem *tx_ram, struct vvnet *rx,
		    const struct gmem *rx_ram, struct vvnet_scratch *s, bool hold, u32 *lines)
{
	struct vvnet_queue *tq = &tx->queue[VVNET_TXQ];
	bool tx_used = false, rx_used = false;
	u16 tx_old = tq->q.used_idx, rx_old = rx ? rx->queue[VVNET_RXQ].q.used_idx : 0;

	*lines = 0;
	tx->tx_held = false;
	if (!vvnet_live(tx) || !tq->ready || tq->broken)
		return;
	/* At most a ring's worth per call: the driver keeps adding while this runs, and notifies
	 * again for what comes after (the device never sets VIRTQ_USED_F_NO_NOTIFY; with event_idx
	 * it asks, once the ring is empty, for a notification at the next buffer; a driver adding
	 * from another CPU past a ring's worth meanwhile stalls only its own queue: Linux adds and
	 * notifies under its queue's lock). */
	for (u32 n = 0; n < tq->q.num; n++) {
		int err = virtq_dev_peek(&tq->q, tx_ram, &s->tx);
		enum rx_next next;
		u64 len;

		if (err == FERRY_ENOENT && virtq_dev_arm_notify(&tq->q, tx_ram, tq->q.last_avail))
			err = virtq_dev_peek(&tq->q, tx_ram, &s->tx);
		if (err == FERRY_ENOENT)
			break;
		if (err || s->tx.writable) {
			ring_broken(tx, tq);
			*lines |= 1;
			break;
		}
		next = rx_next(rx, rx_ram, s, lines);
		/* The peer is running but has not given its buffers back yet: this frame and the
		 * ones after it wait in the sender's ring, which backs the sender's queue up as a
		 * full NIC would, instead of a loss TCP only notices by its retransmission timer. */
		if (next == RX_EMPTY && hold) {
			tx->tx_held = true;
			tx->stats.tx_held++;
			break;
		}
		virtq_dev_take(&tq->q);
		len = s->tx.total - MIN(s->tx.total, (u64)VVNET_HDR);
		/* The sender's header is not passed on: with no offload negotiated it carries
		 * nothing the receiver may use. The receiver's says one buffer, no checksum or GSO
		 * work (5.1.6.4). */
		if (s->tx.total < VVNET_HDR || len > VVNET_FRAME_MAX ||
		    virtq_dev_gather(tx_ram, &s->tx, VVNET_HDR, s->frame + VVNET_HDR, len)) {
			tx->stats.tx_bad++;
		} else if (next != RX_BUF) {
			tx->stats.tx_dropped++;
		} else {
			memset(s->frame, 0, VVNET_HDR);
			put_le16(s->frame + 10, 1); /* num_buffers */
			deliver(tx, rx, rx_ram, s, (u32)len, lines, &rx_used);
		}
		if (virtq_dev_push(&tq->q, tx_ram, s->tx.head, 0)) {
			ring_broken(tx, tq);
			*lines |= 1;
			break;
		}
		tx_used = true;
	}
	if (tx_used && virtq_dev_wants_irq(&tq->q, tx_ram, tx_old)) {
		raise_used(tx);
		*lines |= 1;
	}
	if (rx_used && virtq_dev_wants_irq(&rx->queue[VVNET_RXQ].q, rx_ram, rx_old)) {
		raise_used(rx);
		*lines |= 2;
	}
}
