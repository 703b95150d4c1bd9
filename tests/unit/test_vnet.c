/* SPDX-License-Identifier: Apache-2.0 */
/* ferry's emulated virtio-net between two VMs (hyp/vdev/vvnet.c) and the device side of the split
 * virtqueue it walks in guest RAM (hyp/virtio/virtq_dev.c): the register model (identity, feature
 * negotiation, status, queue setup, notify, interrupt status), frames moved from one end's
 * transmit ring to the other's receive ring byte for byte, frames held in the sender's ring
 * while the peer's receive ring is empty, drops when it is not running, when the glue gives up
 * waiting or the buffer is too small, and hostile rings: descriptor loops, indices out of range, buffers outside RAM
 * or wrapping around 2^64, indirect descriptors, an avail index too far ahead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "vnet_fixture.h"

#define FEATURES (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC))

static void test_identity_and_features(void **state)
{
	struct vnetfx_end e;
	u64 v;
	u32 eff;

	(void)state;
	vnetfx_init(&e, 7);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	vnetfx_wr(&e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_DEVICE_FEATURES),
			 BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_F_EVENT_IDX));
	vnetfx_wr(&e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 */
	vnetfx_wr(&e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	/* The MAC in the config space, read as bytes, half-words and a word. */
	for (u32 i = 0; i < 6; i++) {
		vvnet_access(&e.dev, VIRTIO_MMIO_CONFIG + i, 1, false, &v, &eff);
		assert_int_equal(v, ((u8[]){ 0x02, 0x66, 0x72, 0, 0, 7 })[i]);
	}
	vvnet_access(&e.dev, VIRTIO_MMIO_CONFIG + 4, 2, false, &v, &eff);
	assert_int_equal(v, 0x0700);
	vvnet_access(&e.dev, VIRTIO_MMIO_CONFIG, 4, false, &v, &eff);
	assert_int_equal(v, 0x00726602);
	assert_int_equal(e.dev.stats.refused, 0);
	/* Beyond the MAC, misaligned, written: refused, reads 0. */
	vvnet_access(&e.dev, VIRTIO_MMIO_CONFIG + 4, 4, false, &v, &eff);
	assert_int_equal(v, 0);
	vvnet_access(&e.dev, VIRTIO_MMIO_CONFIG + 1, 2, false, &v, &eff);
	v = 1;
	vvnet_access(&e.dev, VIRTIO_MMIO_CONFIG, 1, true, &v, &eff);
	assert_int_equal(e.dev.mac[0], 0x02);
	assert_int_equal(e.dev.stats.refused, 3);

	/* Without VERSION_1, or with a feature not offered, FEATURES_OK does not stick. */
	assert_false(vnetfx_bringup(&e, BIT(VIRTIO_NET_F_MAC), 8));
	assert_false(vnetfx_bringup(&e, FEATURES | BIT(VIRTIO_NET_F_STATUS), 8));
	assert_false(vnetfx_bringup(&e, FEATURES | BIT(0) /* CSUM */, 8));
	assert_true(vnetfx_bringup(&e, FEATURES, 8));
	assert_true(vnetfx_bringup(&e, BIT(VIRTIO_F_VERSION_1), 256));
	/* Features cannot change after FEATURES_OK. */
	vnetfx_wr(&e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vnetfx_wr(&e, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	assert_int_equal(e.dev.driver_features, BIT(VIRTIO_F_VERSION_1));
	/* A reset: nothing ready, nothing negotiated, the MAC and the counters kept. */
	assert_int_equal(vnetfx_wr(&e, VIRTIO_MMIO_STATUS, 0), VVNET_EFF_LINE);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_STATUS), 0);
	assert_false(e.dev.queue[0].ready || e.dev.queue[1].ready);
	assert_int_equal(e.dev.mac[5], 7);
	assert_int_equal(e.dev.stats.refused, 4);
	vnetfx_free(&e);
}

static void test_queue_setup(void **state)
{
	struct vnetfx_end e;
	u32 refused;

	(void)state;
	vnetfx_init(&e, 1);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_SEL, 2); /* no such queue */
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_NUM, 8);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_QUEUE_NUM_MAX), VVNET_QUEUE_MAX);
	/* Not a power of two, too big, misaligned rings: QueueReady stays 0. */
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_NUM, 6);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_QUEUE_READY), 0);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_NUM, 512);
	assert_int_equal(e.dev.queue[1].num, 6);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_NUM, 8);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x40000008);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_QUEUE_READY), 0);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x40000000);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x1);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x40001001);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_QUEUE_READY), 0);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x40001000);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x40002002);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_QUEUE_READY), 0);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x40002000);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vnetfx_rd(&e, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(e.dev.queue[1].q.desc, 0x140000000ULL);
	assert_int_equal(e.dev.queue[1].q.num, 8);
	/* While ready its registers are fixed. */
	refused = (u32)e.dev.stats.refused;
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_NUM, 16);
	vnetfx_wr(&e, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	assert_int_equal(e.dev.queue[1].q.num, 8);
	assert_int_equal(e.dev.queue[1].q.desc, 0x140000000ULL);
	assert_int_equal(e.dev.stats.refused, refused + 2);
	/* Registers take 32-bit aligned accesses only; values above 32 bits are refused. */
	{
		u64 v = 0;
		u32 eff;

		vvnet_access(&e.dev, VIRTIO_MMIO_STATUS, 2, true, &v, &eff);
		vvnet_access(&e.dev, VIRTIO_MMIO_STATUS + 1, 4, false, &v, &eff);
		v = 1ULL << 32 | 1;
		vvnet_access(&e.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, &v, &eff);
		assert_int_equal(eff, 0);
		vvnet_access(&e.dev, 0x0c8, 4, false, &v, &eff); /* no register there */
		assert_int_equal(v, 0);
		assert_int_equal(e.dev.stats.refused, refused + 6);
	}
	vnetfx_free(&e);
}

static void link_up_with(struct vnetfx_end *a, struct vnetfx_end *b, u64 features)
{
	vnetfx_init(a, 0x0a);
	vnetfx_init(b, 0x0b);
	assert_true(vnetfx_bringup(a, features, 16));
	assert_true(vnetfx_bringup(b, features, 16));
}

static void link_up(struct vnetfx_end *a, struct vnetfx_end *b) { link_up_with(a, b, FEATURES); }

static void test_notify_and_transfer(void **state)
{
	struct vnetfx_end a, b;
	struct vvnet_scratch *s = calloc(1, sizeof(*s));
	u32 lines, len;
	void *tok;
	const u8 *got;

	(void)state;
	link_up(&a, &b);
	vnetfx_rx_post(&b, 0, 2048);
	vnetfx_rx_post(&b, 1, 2048);
	vnetfx_tx_post(&a, 0, 60, 0x10);
	vnetfx_tx_post(&a, 1, 1514, 0x20);
	/* A notify on the receive queue lets the peer's held frames move; on the transmit queue it
	 * asks for a move. */
	assert_int_equal(vnetfx_wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, VVNET_RXQ), VVNET_EFF_RX);
	assert_int_equal(vnetfx_wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, VVNET_TXQ), VVNET_EFF_TX);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(lines, 3);
	assert_true(vvnet_line(&a.dev) && vvnet_line(&b.dev));
	assert_int_equal(vnetfx_rd(&b, VIRTIO_MMIO_INTERRUPT_STATUS), VVNET_INT_USED);
	/* b's driver takes two frames: a fresh header (num_buffers 1), then the bytes a sent. */
	for (u32 k = 0; k < 2; k++) {
		u32 n = k ? 1514 : 60;

		tok = virtq_get_used(&b.q[VVNET_RXQ], &len);
		assert_ptr_equal(tok, (void *)(uintptr_t)(k + 1));
		assert_int_equal(len, VVNET_HDR + n);
		got = vnetfx_host(&b, VNETFX_RAM_IPA + VNETFX_BUF_OFF + k * 0x1000);
		for (u32 i = 0; i < 10; i++)
			assert_int_equal(got[i], 0);
		assert_int_equal(get_le16(got + 10), 1);
		for (u32 i = 0; i < n; i++)
			assert_int_equal(got[VVNET_HDR + i], (u8)((k ? 0x20 : 0x10) + i));
	}
	assert_null(virtq_get_used(&b.q[VVNET_RXQ], &len));
	for (u32 k = 0; k < 2; k++) {
		assert_ptr_equal(virtq_get_used(&a.q[VVNET_TXQ], &len), (void *)(uintptr_t)(k + 1));
		assert_int_equal(len, 0);
	}
	assert_int_equal(a.dev.stats.tx_frames, 2);
	assert_int_equal(a.dev.stats.tx_bytes, 1574);
	assert_int_equal(b.dev.stats.rx_frames, 2);
	/* The interrupt acknowledged: the line falls. */
	assert_int_equal(vnetfx_wr(&b, VIRTIO_MMIO_INTERRUPT_ACK, VVNET_INT_USED), VVNET_EFF_LINE);
	assert_false(vvnet_line(&b.dev));
	/* The other way round, on the same link. */
	vnetfx_rx_post(&a, 2, 2048);
	vnetfx_tx_post(&b, 5, 100, 0x30);
	vvnet_transmit(&b.dev, &b.ram, &a.dev, &a.ram, s, false, &lines);
	assert_ptr_equal(virtq_get_used(&a.q[VVNET_RXQ], &len), (void *)(uintptr_t)3);
	assert_int_equal(len, VVNET_HDR + 100);
	/* The driver asks for no interrupt: none. */
	a.q[VVNET_TXQ].avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	vnetfx_wr(&a, VIRTIO_MMIO_INTERRUPT_ACK, 3);
	vnetfx_tx_post(&a, 3, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_false(vvnet_line(&a.dev));
	vnetfx_free(&a);
	vnetfx_free(&b);
	free(s);
}

static void test_drops(void **state)
{
	struct vnetfx_end a, b;
	struct vvnet_scratch *s = calloc(1, sizeof(*s));
	u32 lines, len;

	(void)state;
	link_up(&a, &b);
	/* No receive buffer: dropped, the sender's buffer given back all the same. */
	vnetfx_tx_post(&a, 0, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(a.dev.stats.tx_dropped, 1);
	assert_non_null(virtq_get_used(&a.q[VVNET_TXQ], &len));
	/* The peer not running: dropped. */
	vnetfx_rx_post(&b, 0, 2048);
	vnetfx_tx_post(&a, 1, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, NULL, &b.ram, s, false, &lines);
	assert_int_equal(a.dev.stats.tx_dropped, 2);
	/* A buffer too small for the frame stays in the ring; a smaller frame then fits. */
	vnetfx_wr(&b, VIRTIO_MMIO_STATUS, 0);
	assert_true(vnetfx_bringup(&b, FEATURES, 16));
	vnetfx_rx_post(&b, 0, 100);
	vnetfx_tx_post(&a, 2, 200, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(a.dev.stats.tx_too_small, 1);
	assert_null(virtq_get_used(&b.q[VVNET_RXQ], &len));
	vnetfx_tx_post(&a, 3, 88, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_non_null(virtq_get_used(&b.q[VVNET_RXQ], &len));
	assert_int_equal(len, 100);
	/* Frames shorter than the header or longer than VVNET_FRAME_MAX are bad. */
	vnetfx_rx_post(&b, 1, 4000);
	vnetfx_tx_post(&a, 4, VVNET_FRAME_MAX + 1, 0);
	{
		struct virtq_buf tiny = { VNETFX_RAM_IPA + VNETFX_BUF_OFF + 5 * 0x1000, 11 };

		virtq_add(&a.q[VVNET_TXQ], &tiny, 1, 0, (void *)6);
	}
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(a.dev.stats.tx_bad, 2);
	assert_null(virtq_get_used(&b.q[VVNET_RXQ], &len));
	/* A device the driver has not set going moves nothing. */
	vnetfx_wr(&a, VIRTIO_MMIO_STATUS, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(lines, 0);
	vnetfx_free(&a);
	vnetfx_free(&b);
	free(s);
}

/* Frames the peer has no receive buffer for wait, untouched and in order, in the sender's ring
 * until it posts some; dropped only when the caller gives up waiting or the peer stops. */
static void test_hold_until_rx_buffers(void **state)
{
	struct vnetfx_end a, b;
	struct vvnet_scratch *s = calloc(1, sizeof(*s));
	u32 lines, len;

	(void)state;
	link_up(&a, &b);
	for (u32 k = 0; k < 3; k++)
		vnetfx_tx_post(&a, k, 100 + k, (u8)(0x40 * k));
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_true(a.dev.tx_held);
	assert_int_equal(lines, 0);
	assert_int_equal(a.dev.stats.tx_held, 1);
	assert_int_equal(a.dev.stats.tx_dropped, 0);
	assert_null(virtq_get_used(&a.q[VVNET_TXQ], &len));
	/* Two buffers: the first two frames move, the third waits on. */
	vnetfx_rx_post(&b, 0, 2048);
	vnetfx_rx_post(&b, 1, 2048);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_true(a.dev.tx_held);
	assert_int_equal(lines, 3);
	for (u32 k = 0; k < 2; k++) {
		assert_ptr_equal(virtq_get_used(&b.q[VVNET_RXQ], &len), (void *)(uintptr_t)(k + 1));
		assert_int_equal(len, VVNET_HDR + 100 + k);
		assert_int_equal(*(const u8 *)vnetfx_host(&b, VNETFX_RAM_IPA + VNETFX_BUF_OFF +
								      k * 0x1000 + VVNET_HDR),
				 (u8)(0x40 * k));
		assert_ptr_equal(virtq_get_used(&a.q[VVNET_TXQ], &len), (void *)(uintptr_t)(k + 1));
	}
	assert_null(virtq_get_used(&a.q[VVNET_TXQ], &len));
	vnetfx_rx_post(&b, 2, 2048);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_false(a.dev.tx_held);
	assert_ptr_equal(virtq_get_used(&b.q[VVNET_RXQ], &len), (void *)3);
	assert_int_equal(len, VVNET_HDR + 102);
	assert_int_equal(a.dev.stats.tx_frames, 3);
	assert_int_equal(a.dev.stats.tx_dropped, 0);
	/* The caller gives up waiting: dropped, the buffer given back. */
	vnetfx_tx_post(&a, 3, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_true(a.dev.tx_held);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_false(a.dev.tx_held);
	assert_int_equal(a.dev.stats.tx_dropped, 1);
	assert_non_null(virtq_get_used(&a.q[VVNET_TXQ], &len));
	/* A peer whose driver reset the device, or that is not running, takes nothing: no wait. */
	vnetfx_wr(&b, VIRTIO_MMIO_STATUS, 0);
	vnetfx_tx_post(&a, 4, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_false(a.dev.tx_held);
	vnetfx_tx_post(&a, 5, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, NULL, &b.ram, s, true, &lines);
	assert_false(a.dev.tx_held);
	assert_int_equal(a.dev.stats.tx_dropped, 3);
	vnetfx_free(&a);
	vnetfx_free(&b);
	free(s);
}

/* With VIRTIO_F_EVENT_IDX the device interrupts only when used->idx passes the driver's
 * used_event, and asks for a notification at the next buffer once a ring is empty (avail_event). */
static u16 *used_event(struct vnetfx_end *e, u32 q) { return &e->q[q].avail->ring[e->q[q].size]; }

static u16 avail_event(struct vnetfx_end *e, u32 q)
{
	return get_le16((const u8 *)&e->q[q].used->ring[e->q[q].size]);
}

static void test_event_idx(void **state)
{
	struct vnetfx_end a, b;
	struct vvnet_scratch *s = calloc(1, sizeof(*s));
	u32 lines, len;

	(void)state;
	link_up_with(&a, &b, FEATURES | BIT(VIRTIO_F_EVENT_IDX));
	for (u32 k = 0; k < 4; k++)
		vnetfx_rx_post(&b, k, 2048);
	/* b wants to hear of its third receive buffer used (index 2), a of its first frame sent. */
	*used_event(&b, VVNET_RXQ) = 2;
	*used_event(&a, VVNET_TXQ) = 0;
	vnetfx_tx_post(&a, 0, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_int_equal(lines, 1);
	assert_false(vvnet_line(&b.dev));
	assert_int_equal(avail_event(&a, VVNET_TXQ), 1); /* notify me at your next frame */
	/* Two more: b's used index goes 1 to 3, past 2: an interrupt; a's 1 to 3 does not pass 0. */
	vnetfx_wr(&a, VIRTIO_MMIO_INTERRUPT_ACK, VVNET_INT_USED);
	vnetfx_tx_post(&a, 1, 60, 0);
	vnetfx_tx_post(&a, 2, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_int_equal(lines, 2);
	assert_true(vvnet_line(&b.dev));
	assert_false(vvnet_line(&a.dev));
	assert_int_equal(avail_event(&a, VVNET_TXQ), 3);
	assert_int_equal(a.dev.stats.tx_frames, 3);
	/* b's ring runs empty with a frame left: held, and b asked to notify at its next buffer. */
	vnetfx_tx_post(&a, 3, 60, 0);
	vnetfx_tx_post(&a, 4, 60, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_true(a.dev.tx_held);
	assert_int_equal(avail_event(&b, VVNET_RXQ), 4);
	/* A driver that made buffers available without notifying (it read avail_event before the
	 * device wrote it) is seen all the same: the device looks again after arming. */
	for (u32 k = 0; k < 2; k++)
		assert_non_null(virtq_get_used(&b.q[VVNET_RXQ], &len));
	vnetfx_rx_post(&b, 4, 2048);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, true, &lines);
	assert_false(a.dev.tx_held);
	assert_int_equal(a.dev.stats.tx_frames, 5);
	assert_int_equal(a.dev.stats.tx_dropped, 0);
	vnetfx_free(&a);
	vnetfx_free(&b);
	free(s);
}

/* ---- the device-side walk on hostile rings ---- */

static struct virtq_dev qd(const struct vnetfx_end *e, u32 i) { return e->dev.queue[i].q; }

/* Writes descriptor d of queue i directly, as a hostile driver would. */
static void desc(struct vnetfx_end *e, u32 i, u16 d, u64 addr, u32 len, u16 flags, u16 next)
{
	struct virtq_desc *x = &e->q[i].desc[d];

	x->addr = addr;
	x->len = len;
	x->flags = flags;
	x->next = next;
}

static void avail_head(struct vnetfx_end *e, u32 i, u16 head)
{
	struct virtq_avail *av = e->q[i].avail;

	av->ring[av->idx % e->q[i].size] = head;
	av->idx++;
}

static void test_ring_walk_hostile(void **state)
{
	struct vnetfx_end e;
	struct virtq_dev_chain *c = calloc(1, sizeof(*c));
	struct virtq_dev q;
	u64 buf = VNETFX_RAM_IPA + VNETFX_BUF_OFF;
	const u64 end = VNETFX_RAM_IPA + VNETFX_RAM_SIZE;

	(void)state;
	vnetfx_init(&e, 1);
	assert_true(vnetfx_bringup(&e, FEATURES, 16));
	q = qd(&e, 0);
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_ENOENT);
	/* A good three-segment chain, for reference; gather and scatter across its segments. */
	desc(&e, 0, 3, buf, 10, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
	desc(&e, 0, 7, buf + 100, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(&e, 0, 1, end - 20, 20, VIRTQ_DESC_F_WRITE, 0);
	avail_head(&e, 0, 3);
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), 0);
	assert_int_equal(c->head, 3);
	assert_int_equal(c->nsegs, 3);
	assert_true(c->writable);
	assert_int_equal(c->total, 30);
	{
		u8 in[30], out[30];

		for (u32 i = 0; i < 30; i++)
			in[i] = (u8)(i + 1);
		assert_int_equal(virtq_dev_scatter(&e.ram, c, 0, in, 30), 0);
		assert_int_equal(memcmp(vnetfx_host(&e, end - 20), in + 10, 20), 0);
		assert_int_equal(virtq_dev_gather(&e.ram, c, 5, out, 25), 0);
		assert_int_equal(memcmp(out, in + 5, 25), 0);
		assert_int_equal(virtq_dev_gather(&e.ram, c, 5, out, 26), FERRY_ERANGE);
		assert_int_equal(virtq_dev_gather(&e.ram, c, ~0ULL, out, 2), FERRY_ERANGE);
	}
	/* Each hostile variant of that chain: the queue is broken. */
	desc(&e, 0, 1, end - 20, 21, VIRTQ_DESC_F_WRITE, 0); /* one byte past the RAM */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, ~0ULL - 5, 100, VIRTQ_DESC_F_WRITE, 0); /* wraps around 2^64 */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, VNETFX_RAM_IPA - 4096, 8, VIRTQ_DESC_F_WRITE, 0); /* below the RAM */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, buf, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0); /* 4 GiB in 256 KiB */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3); /* a loop */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1); /* onto itself */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 16); /* next >= num */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, buf, 8, 0, 0); /* readable after writable */
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	desc(&e, 0, 1, buf, 8, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), 0);
	/* A head out of range; an avail index more than a ring ahead; rings outside the RAM. */
	e.q[0].avail->ring[0] = 16;
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	e.q[0].avail->ring[0] = 3;
	e.q[0].avail->idx = 17;
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	e.q[0].avail->idx = 16;
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), 0);
	q.avail = end - 2;
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	q = qd(&e, 0);
	q.desc = end - 16 * 4;
	assert_int_equal(virtq_dev_peek(&q, &e.ram, c), FERRY_EINVAL);
	q = qd(&e, 0);
	q.used = end - 4;
	assert_int_equal(virtq_dev_push(&q, &e.ram, 3, 0), FERRY_ERANGE);
	assert_int_equal(q.used_idx, 0);
	vnetfx_free(&e);
	free(c);
}

/* A broken ring on either end stops that end's queue with NEEDS_RESET and a config interrupt,
 * writes nothing outside the receiver's RAM and leaves the other end working. */
static void test_broken_rings_in_transmit(void **state)
{
	struct vnetfx_end a, b;
	struct vvnet_scratch *s = calloc(1, sizeof(*s));
	u32 lines, len;

	(void)state;
	link_up(&a, &b);
	/* b's receive descriptor points out of its RAM. */
	vnetfx_rx_post(&b, 0, 2048);
	b.q[VVNET_RXQ].desc[0].addr = VNETFX_RAM_IPA + VNETFX_RAM_SIZE - 100;
	vnetfx_tx_post(&a, 0, 200, 0);
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(lines, 3);
	assert_true(b.dev.queue[VVNET_RXQ].broken);
	assert_true(vnetfx_rd(&b, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vnetfx_rd(&b, VIRTIO_MMIO_INTERRUPT_STATUS), VVNET_INT_CONFIG);
	assert_false(vvnet_live(&b.dev));
	assert_int_equal(a.dev.stats.tx_dropped, 1);
	assert_non_null(virtq_get_used(&a.q[VVNET_TXQ], &len));
	/* The driver cannot clear NEEDS_RESET but by a reset, after which b works again. */
	vnetfx_wr(&b, VIRTIO_MMIO_STATUS, vnetfx_rd(&b, VIRTIO_MMIO_STATUS));
	assert_false(vvnet_live(&b.dev));
	assert_true(vnetfx_bringup(&b, FEATURES, 16));
	vnetfx_rx_post(&b, 0, 2048);
	/* a's transmit chain loops: a is broken, b gets nothing. */
	vnetfx_tx_post(&a, 1, 60, 0);
	{
		u16 head = a.q[VVNET_TXQ].avail->ring[1 % 16];

		a.q[VVNET_TXQ].desc[head].flags |= VIRTQ_DESC_F_NEXT;
		a.q[VVNET_TXQ].desc[head].next = head;
	}
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(lines, 1);
	assert_true(a.dev.queue[VVNET_TXQ].broken);
	assert_int_equal(a.dev.stats.broken_rings, 1);
	assert_null(virtq_get_used(&b.q[VVNET_RXQ], &len));
	/* A broken queue is not walked again. */
	vvnet_transmit(&a.dev, &a.ram, &b.dev, &b.ram, s, false, &lines);
	assert_int_equal(a.dev.stats.broken_rings, 1);
	vnetfx_free(&a);
	vnetfx_free(&b);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_features),
		cmocka_unit_test(test_queue_setup),
		cmocka_unit_test(test_notify_and_transfer),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_hold_until_rx_buffers),
		cmocka_unit_test(test_event_idx),
		cmocka_unit_test(test_ring_walk_hostile),
		cmocka_unit_test(test_broken_rings_in_transmit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
