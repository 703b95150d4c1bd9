/* SPDX-License-Identifier: Apache-2.0 */
/* Two guests' RAM and their drivers for the vvnet tests (vnet_fixture.h). */
#include "vnet_fixture.h"

#include <stdlib.h>
#include <string.h>

void vnetfx_init(struct vnetfx_end *e, u8 mac_last)
{
	const u8 mac[6] = { 0x02, 0x66, 0x72, 0, 0, mac_last };

	memset(e, 0, sizeof(*e));
	e->mem = calloc(1, VNETFX_RAM_SIZE);
	e->ram = (struct gmem){ .ipa = VNETFX_RAM_IPA, .size = VNETFX_RAM_SIZE, .host = e->mem };
	vvnet_init(&e->dev, mac);
}

void vnetfx_free(struct vnetfx_end *e)
{
	free(e->mem);
	e->mem = NULL;
}

u64 vnetfx_ipa(const struct vnetfx_end *e, const void *p)
{
	return VNETFX_RAM_IPA + (u64)((const u8 *)p - e->mem);
}

void *vnetfx_host(const struct vnetfx_end *e, u64 ipa) { return e->mem + (ipa - VNETFX_RAM_IPA); }

u32 vnetfx_wr(struct vnetfx_end *e, u64 off, u32 v)
{
	u64 val = v;
	u32 eff;

	vvnet_access(&e->dev, off, 4, true, &val, &eff);
	return eff;
}

u32 vnetfx_rd(struct vnetfx_end *e, u64 off)
{
	u64 val = 0xdeadbeef;
	u32 eff;

	vvnet_access(&e->dev, off, 4, false, &val, &eff);
	return (u32)val;
}

bool vnetfx_bringup(struct vnetfx_end *e, u64 features, u16 num)
{
	vnetfx_wr(e, VIRTIO_MMIO_STATUS, 0);
	vnetfx_wr(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vnetfx_wr(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	for (u32 sel = 0; sel < 2; sel++) {
		vnetfx_wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
		vnetfx_wr(e, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(features >> (32 * sel)));
	}
	vnetfx_wr(e, VIRTIO_MMIO_STATUS,
		  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(vnetfx_rd(e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return false;
	for (u32 i = 0; i < VVNET_QUEUES; i++) {
		u8 *rings = e->mem + VNETFX_RING_OFF + i * 0x4000u;

		memset(rings, 0, 0x4000);
		if (virtq_init(&e->q[i], num, rings, false))
			return false;
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_SEL, i);
		if (vnetfx_rd(e, VIRTIO_MMIO_QUEUE_READY) != 0 ||
		    vnetfx_rd(e, VIRTIO_MMIO_QUEUE_NUM_MAX) < num)
			return false;
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_NUM, num);
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)vnetfx_ipa(e, e->q[i].desc));
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)vnetfx_ipa(e, e->q[i].avail));
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)vnetfx_ipa(e, e->q[i].used));
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
		vnetfx_wr(e, VIRTIO_MMIO_QUEUE_READY, 1);
		if (vnetfx_rd(e, VIRTIO_MMIO_QUEUE_READY) != 1)
			return false;
	}
	vnetfx_wr(e, VIRTIO_MMIO_STATUS,
		  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			  VIRTIO_STATUS_DRIVER_OK);
	return vvnet_live(&e->dev);
}

static u64 slot_ipa(u32 slot) { return VNETFX_RAM_IPA + VNETFX_BUF_OFF + slot * 0x1000ULL; }

void vnetfx_rx_post(struct vnetfx_end *e, u32 slot, u32 len)
{
	struct virtq_buf b = { slot_ipa(slot), len };

	virtq_add(&e->q[VVNET_RXQ], &b, 0, 1, (void *)(uintptr_t)(slot + 1));
}

void vnetfx_tx_post(struct vnetfx_end *e, u32 slot, u32 len, u8 fill)
{
	u8 *p = vnetfx_host(e, slot_ipa(slot));
	struct virtq_buf b = { slot_ipa(slot), VVNET_HDR + len };

	memset(p, 0xee, VVNET_HDR); /* a sender's header: never passed on */
	for (u32 i = 0; i < len; i++)
		p[VVNET_HDR + i] = (u8)(fill + i);
	virtq_add(&e->q[VVNET_TXQ], &b, 1, 0, (void *)(uintptr_t)(slot + 1));
}
