/* SPDX-License-Identifier: Apache-2.0 */
/* Two guests' RAM and a driver for each end of a vvnet link (hyp/vdev/vvnet.h), for the unit
 * tests and the fuzz target: ferry's own driver-side virtqueue (hyp/virtio/virtq.c) lays out the
 * rings inside a guest's RAM buffer and the device reads them by IPA through lib/gmem.h. */
#ifndef FERRY_VNET_FIXTURE_H
#define FERRY_VNET_FIXTURE_H

#include "vdev/vvnet.h"
#include "virtio/virtio.h"

#define VNETFX_RAM_IPA 0x40000000ULL
#define VNETFX_RAM_SIZE (256u << 10)
#define VNETFX_RING_OFF 0x0u    /* the two queues' rings, 16 KiB each */
#define VNETFX_BUF_OFF 0x10000u /* packet buffers from here */

struct vnetfx_end {
	u8 *mem; /* VNETFX_RAM_SIZE bytes, a heap block of exactly that size (ASan sees overruns) */
	struct gmem ram;
	struct vvnet dev;
	struct virtq q[VVNET_QUEUES];
};

/* RAM, a device with this MAC, nothing negotiated. */
void vnetfx_init(struct vnetfx_end *e, u8 mac_last);
void vnetfx_free(struct vnetfx_end *e);
u64 vnetfx_ipa(const struct vnetfx_end *e, const void *p);
void *vnetfx_host(const struct vnetfx_end *e, u64 ipa);
/* A 32-bit register access; returns the effects. */
u32 vnetfx_wr(struct vnetfx_end *e, u64 off, u32 v);
u32 vnetfx_rd(struct vnetfx_end *e, u64 off);
/* The whole driver bring-up of virtio 1.1 3.1.1 with `features`, queues of `num`; true when the
 * device took FEATURES_OK and both queues are ready. */
bool vnetfx_bringup(struct vnetfx_end *e, u64 features, u16 num);
/* Makes a receive buffer of len bytes available at buffer slot `slot` (4 KiB each). */
void vnetfx_rx_post(struct vnetfx_end *e, u32 slot, u32 len);
/* Makes a frame (a 12-byte header, then len bytes of `fill`+i) available to transmit from slot. */
void vnetfx_tx_post(struct vnetfx_end *e, u32 slot, u32 len, u8 fill);

#endif
