/* SPDX-License-Identifier: Apache-2.0 */
/* A virtio-net device a guest sees (virtio 1.1: 4.2 "Virtio Over MMIO", modern interface only;
 * 5.1 "Network Device"), one end of a link between two VMs the config declares (`vnet`,
 * docs/vnet.md). Pure: register accesses in, effects out; the frame move between the two ends'
 * rings is vvnet_transmit(), on the two VMs' RAM. The EL2 glue (hyp/vdev/vvnet_el2.c) holds the
 * link's lock around every call and turns the interrupt lines into SPIs.
 *
 * Features offered, and nothing more: VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC and VIRTIO_F_EVENT_IDX
 * (fewer notifications and interrupts, each a trap or an injection). No checksum or segmentation
 * offload, no mergeable buffers, no control queue, no indirect descriptors: a driver sends and
 * receives whole Ethernet frames of at most 1518 bytes (MTU 1500, a VLAN tag), each behind a
 * 12-byte virtio_net_hdr. */
#ifndef FERRY_VVNET_H
#define FERRY_VVNET_H

#include "lib/gmem.h"
#include "types.h"
#include "virtio/virtq_dev.h"

#define VVNET_SLOT 0u /* the virtio-mmio slot it takes: 0x0a000000, SPI INTID 48 */
#define VVNET_QUEUES 2u
#define VVNET_RXQ 0u
#define VVNET_TXQ 1u
#define VVNET_QUEUE_MAX VIRTQ_SIZE_MAX
#define VVNET_FRAME_MAX 1518u /* MTU 1500 with an 802.1Q tag, no FCS: no VIRTIO_NET_F_MTU offered */
#define VVNET_HDR 12u         /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define VVNET_VENDOR 0x59525246u /* "FRRY" */
#define VVNET_CONFIG_GENERATION 0x0fc
#define VIRTIO_STATUS_NEEDS_RESET 64u

/* Interrupt status bits (4.2.2: InterruptStatus). */
#define VVNET_INT_USED 1u
#define VVNET_INT_CONFIG 2u

/* What a register access asks of the glue. */
#define VVNET_EFF_TX 1u   /* the driver notified the transmit queue: run vvnet_transmit() */
#define VVNET_EFF_LINE 2u /* the interrupt line may have changed */
#define VVNET_EFF_RX 4u /* the driver notified the receive queue: the peer's held frames can move */

struct vvnet_queue {
	struct virtq_dev q;
	u16 num; /* QueueNum as written (checked when the queue is made ready) */
	bool ready;
	bool broken; /* the driver broke the ring: unused until the device is reset */
};

struct vvnet_stats {
	u64 tx_frames, tx_bytes; /* frames this end sent that reached the peer's RX ring */
	u64 tx_dropped;   /* the peer not running, or (hold false) no RX buffer at the peer */
	u64 tx_held;      /* times the transmit walk stopped to wait for the peer's RX buffers */
	u64 tx_too_small; /* the peer's next RX buffer was too small for the frame */
	u64 tx_bad;       /* a frame shorter than the header or longer than VVNET_FRAME_MAX */
	u64 rx_frames, rx_bytes;  /* frames this end received */
	u64 notify_tx, notify_rx; /* QueueNotify writes for each queue (each one a trap) */
	u64 irqs;                 /* times the line went up for used buffers */
	u64 accesses;             /* register accesses (each one a trap) */
	u64 broken_rings;         /* times a ring of this end was found broken */
	u64 refused;              /* register accesses refused (size, offset, state) */
};

struct vvnet {
	u8 mac[6];
	u32 status;
	u32 dev_features_sel, drv_features_sel;
	u64 driver_features;
	u32 queue_sel;
	u32 isr;      /* InterruptStatus; the level-sensitive line is high while it is not zero */
	bool tx_held; /* the last vvnet_transmit() left frames waiting for the peer's RX buffers */
	struct vvnet_queue queue[VVNET_QUEUES];
	struct vvnet_stats stats; /* kept across resets */
};

/* The device out of reset (also a Status write of 0), with this end's MAC. */
void vvnet_init(struct vvnet *d, const u8 mac[6]);
void vvnet_reset(struct vvnet *d);
/* The features the device offers (64 bits). */
u64 vvnet_device_features(void);
/* A guest access at offset off (< 0x200) of the slot. Registers below 0x100 take 32-bit aligned
 * accesses only; the config space (0x100: the MAC) takes 1, 2 or 4 bytes inside it. Anything else
 * reads 0, changes nothing and is counted in stats.refused. *effects gets VVNET_EFF_* bits. */
void vvnet_access(struct vvnet *d, u64 off, u32 size, bool write, u64 *value, u32 *effects);
/* The interrupt line: high while InterruptStatus is not zero. */
bool vvnet_line(const struct vvnet *d);
/* Whether the driver is running the device (DRIVER_OK, no NEEDS_RESET). */
bool vvnet_live(const struct vvnet *d);

/* Scratch for vvnet_transmit(), one per link (under its lock): too big for an EL2 stack. */
struct vvnet_scratch {
	struct virtq_dev_chain tx, rx;
	u8 frame[VVNET_HDR + VVNET_FRAME_MAX];
};

/* Moves every frame the driver of `tx` made available on its transmit queue (at most a ring's
 * worth per call) into receive buffers the driver of `rx` made available, then gives the transmit
 * buffers back. rx may be NULL (the peer is not running), or its driver not running the device:
 * the frames are dropped. When the peer's receive ring is merely empty, hold says what to do:
 * true, the frame and those after it stay in tx's ring untouched and tx->tx_held is set (the glue
 * calls again when rx's driver notifies its receive queue); false, they are dropped (the glue
 * gives up waiting). *lines gets bit 0 when tx's interrupt line may have changed, bit 1 for
 * rx's. */
void vvnet_transmit(struct vvnet *tx, const struct gmem *tx_ram, struct vvnet *rx,
		    const struct gmem *rx_ram, struct vvnet_scratch *s, bool hold, u32 *lines);

#endif
