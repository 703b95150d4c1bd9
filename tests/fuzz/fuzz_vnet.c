/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the device side of ferry's emulated virtio-net (hyp/vdev/vvnet.c,
 * hyp/virtio/virtq_dev.c) against two hostile drivers: the input is a sequence of register
 * accesses (any offset, size and value) to either end, honest driver actions (bring-up, receive
 * buffers and frames posted through ferry's own driver-side virtqueue), scribbles over any bytes
 * of either guest's RAM (descriptors, indices, flags, rings), and transmit notifications. Each
 * guest's RAM is a heap block of exactly its size, so ASan sees any access outside it; a ring walk
 * that loops is a timeout. After every step: a ready queue is sized and aligned as the register
 * model allows, every chain the device took it gave back (or found the used ring out of reach),
 * the interrupt line follows InterruptStatus, and no frame counted is longer than the device
 * allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "lib/lib.h"
#include "vnet_fixture.c"

static void check(const struct vnetfx_end *e)
{
	const struct vvnet *d = &e->dev;

	for (u32 i = 0; i < VVNET_QUEUES; i++) {
		const struct vvnet_queue *q = &d->queue[i];

		if (!q->ready)
			continue;
		FUZZ_CHECK(q->q.num && q->q.num <= VVNET_QUEUE_MAX && !(q->q.num & (q->q.num - 1)));
		FUZZ_CHECK(!(q->q.desc % 16) && !(q->q.avail % 2) && !(q->q.used % 4));
		/* Every chain taken is given back (unless the used ring was out of reach). */
		FUZZ_CHECK(q->q.last_avail == q->q.used_idx || q->broken);
	}
	FUZZ_CHECK(d->stats.tx_bytes <= d->stats.tx_frames * VVNET_FRAME_MAX);
	FUZZ_CHECK(vvnet_line(d) == (d->isr != 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct vvnet_scratch s;
	struct vnetfx_end end[2];
	u64 before;

	vnetfx_init(&end[0], 1);
	vnetfx_init(&end[1], 2);
	while (fuzz_more(&in)) {
		u8 op = take_u8(&in);
		struct vnetfx_end *e = &end[op >> 7], *peer = &end[!(op >> 7)];
		u32 lines, eff, len;
		u64 v;

		switch (op % 8) {
		case 0: /* any access */
			v = take_u64(&in);
			vvnet_access(&e->dev, take_u16(&in) % 0x200, 1u << (take_u8(&in) % 4),
				     take_u8(&in) & 1, &v, &eff);
			break;
		case 1: /* an honest bring-up, with any features or (op & 8) those offered, so
			 * that each one the device has is negotiated and used */
			v = take_u64(&in) | BIT(VIRTIO_F_VERSION_1);
			if (op & 8)
				v &= vvnet_device_features();
			vnetfx_bringup(e, v, (u16)(1u << (take_u8(&in) % 9)));
			break;
		case 2:
			if (e->q[VVNET_RXQ].size)
				vnetfx_rx_post(e, take_u8(&in) % 48, take_u16(&in) % 4097);
			break;
		case 3:
			if (e->q[VVNET_TXQ].size)
				vnetfx_tx_post(e, take_u8(&in) % 47, take_u16(&in) % 1600,
					       take_u8(&in));
			break;
		case 4: /* scribble over the rings */
			v = take_u16(&in) % 0x8000u;
			e->mem[VNETFX_RING_OFF + v] = take_u8(&in);
			break;
		case 5: /* any word anywhere in the RAM */
			v = take_u32(&in) % (VNETFX_RAM_SIZE - 8);
			put_le64(e->mem + v, take_u64(&in));
			break;
		case 6:
		case 7: /* a transmit notification, the peer running or not, waiting for its
			 * buffers or not */
			before = peer->dev.stats.rx_bytes;
			vvnet_transmit(&e->dev, &e->ram, (op & 8) ? NULL : &peer->dev, &peer->ram,
				       &s, (op & 16) != 0, &lines);
			/* Held only for a running peer whose receive ring is empty. */
			FUZZ_CHECK(!e->dev.tx_held || ((op & 16) && !(op & 8)));
			FUZZ_CHECK(peer->dev.stats.rx_bytes - before <=
				   (u64)VVNET_QUEUE_MAX * VVNET_FRAME_MAX);
			/* Whatever the driver makes of its used ring, it may take what is there. */
			while (e->q[VVNET_TXQ].size && virtq_get_used(&e->q[VVNET_TXQ], &len))
				;
			break;
		}
		check(&end[0]);
		check(&end[1]);
	}
	vnetfx_free(&end[0]);
	vnetfx_free(&end[1]);
	return 0;
}
