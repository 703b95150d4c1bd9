/* SPDX-License-Identifier: Apache-2.0 */
/* virtio for ferry's own devices: the split virtqueue (pure, host-tested) and the virtio-net driver
 * over virtio-mmio (EL2, net_el2.c) that carries live migration. The network device belongs to the
 * hypervisor: no guest's stage 2 maps it.
 *
 * References: OASIS virtio 1.1 (csprd01), 2.6 "Split Virtqueues", 4.2 "Virtio Over MMIO" (4.2.2
 * modern registers, 4.2.4 legacy interface), 5.1 "Network Device". */
#ifndef FERRY_VIRTIO_H
#define FERRY_VIRTIO_H

#include "types.h"

/* ---- the split virtqueue (2.6), in memory shared with the device ---- */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u     /* the device writes this buffer (receive) */
#define VIRTQ_USED_F_NO_NOTIFY 1u /* the device asks not to be notified */
#define VIRTQ_SIZE_MAX 256u
#define VIRTQ_LEGACY_ALIGN 4096u /* legacy: the used ring starts on this boundary */

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct virtq_avail {
	u16 flags;
	u16 idx;
	u16 ring[];
};

struct virtq_used_elem {
	u32 id;
	u32 len;
};

struct virtq_used {
	u16 flags;
	u16 idx;
	struct virtq_used_elem ring[];
};

/* Barriers between our ring writes and the device's reads: the device is another observer in the
 * outer shareable domain (Linux's dma_wmb/dma_rmb). On the host (unit tests) plain fences. */
#if defined(__aarch64__) && !defined(FERRY_HOST)
#define virtio_wmb() __asm__ volatile("dmb oshst" ::: "memory")
#define virtio_rmb() __asm__ volatile("dmb oshld" ::: "memory")
#define virtio_mb() __asm__ volatile("dmb osh" ::: "memory")
#else
#define virtio_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define virtio_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define virtio_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* One buffer of a chain: a device address (ferry is identity-mapped: its virtual address) and a
 * length. */
struct virtq_buf {
	u64 addr;
	u32 len;
};

/* The driver's side of one queue. Descriptors are chained from a free list; each chain carries an
 * opaque token given back when the device has used it. The rings are memory the device can write,
 * so the driver keeps its own copy of everything it later relies on: the links of the free list and
 * of each chain (desc[].next is written for the device, never read back), each chain's length and
 * the bytes its device-writable buffers hold. */
struct virtq {
	u16 size; /* a power of two, <= VIRTQ_SIZE_MAX */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	u16 free_head, nfree;
	u16 avail_idx; /* our copy of avail->idx */
	u16 last_used; /* next used entry to look at */
	void *token[VIRTQ_SIZE_MAX];
	u16 next[VIRTQ_SIZE_MAX];      /* the driver's links: free list and chains */
	u16 chain_len[VIRTQ_SIZE_MAX]; /* by head: descriptors in the chain */
	u32 chain_in[VIRTQ_SIZE_MAX];  /* by head: bytes the device may write into it */
};

/* Bytes of ring memory a queue needs; `legacy` puts the used ring on a 4 KiB boundary as the legacy
 * interface requires (the modern one takes three separate addresses, this layout suits both). */
size_t virtq_ring_bytes(u16 size, bool legacy);
/* Lays the three rings out in mem (zeroed by the caller, 4 KiB aligned); FERRY_EINVAL when size is
 * not a power of two in 1..VIRTQ_SIZE_MAX. */
int virtq_init(struct virtq *q, u16 size, void *mem, bool legacy);
/* Chains n_out device-readable buffers then n_in device-writable ones and makes the chain available.
 * Returns 0, or FERRY_EBUSY when there are not enough free descriptors (nothing is changed). The
 * caller notifies the device if virtq_needs_notify(). */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, u32 n_out, u32 n_in, void *token);
bool virtq_needs_notify(const struct virtq *q);
/* The next chain the device has finished with: its token and the bytes it wrote; NULL when none.
 * The chain's descriptors are free again. A used id the driver never made available (a broken
 * device) returns NULL and sets *len to ~0; a length beyond the chain's device-writable bytes
 * returns the token with *len ~0 (the chain is free, its contents not to be trusted). */
void *virtq_get_used(struct virtq *q, u32 *len);
/* Whether the device has finished a chain virtq_get_used() has not returned yet. */
bool virtq_has_used(const struct virtq *q);
static inline u16 virtq_free(const struct virtq *q) { return q->nfree; }

/* ---- virtio-mmio (4.2) ---- */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000 /* "virt" */
#define VIRTIO_MMIO_VERSION 0x004     /* 1 legacy, 2 modern */
#define VIRTIO_MMIO_DEVICE_ID 0x008   /* 0: an empty slot */
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028 /* legacy */
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_ALIGN 0x03c /* legacy */
#define VIRTIO_MMIO_QUEUE_PFN 0x040   /* legacy */
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG 0x100
#define VIRTIO_MMIO_MAGIC 0x74726976u

#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_FAILED 128u

#define VIRTIO_ID_NET 1u
#define VIRTIO_F_VERSION_1 32u  /* feature bit: the modern interface */
#define VIRTIO_NET_F_MTU 3u     /* config has the link's MTU (QEMU: -device ...,host_mtu=N) */
#define VIRTIO_NET_F_MAC 5u     /* config has the MAC */
#define VIRTIO_NET_F_STATUS 16u /* config has the link status */
#define VIRTIO_NET_CFG_MAC 0x00
#define VIRTIO_NET_CFG_STATUS 0x06
#define VIRTIO_NET_CFG_MTU 0x0a
#define VIRTIO_NET_S_LINK_UP 1u
#define VIRTIO_NET_HDR_LEN 12u        /* struct virtio_net_hdr with num_buffers (modern) */
#define VIRTIO_NET_HDR_LEN_LEGACY 10u /* without num_buffers (legacy, no MRG_RXBUF) */

/* ---- virtio-net, the hypervisor's own NIC (net_el2.c) ---- */
#define VNET_ETH_HDR 14u
#define VNET_FRAME_MIN 1514u  /* a link without VIRTIO_NET_F_MTU: standard Ethernet */
#define VNET_FRAME_MAX 65536u /* the largest frame ferry sends (migration frames are <= this) */

struct vnet_stats {
	u64 tx_frames, tx_bytes, tx_busy;
	u64 rx_frames, rx_bytes, rx_bad; /* bad: the device reported a length we cannot use */
	u64 irqs;
};

struct vnet_info {
	u64 base;    /* virtio-mmio window */
	u32 intid;   /* its SPI, 0 when unknown */
	u32 version; /* 1 legacy, 2 modern */
	u8 mac[6];
	u32 mtu;       /* from the device, 0 when it gives none */
	u32 frame_max; /* largest Ethernet frame (no FCS) sent or received */
	u16 rxq, txq;  /* queue sizes */
	bool link_up;
};

/* Finds the first virtio-mmio slot holding a network device, negotiates (modern preferred, legacy
 * accepted), sets up the queues and fills the receive ring. FERRY_ENOENT: no network device. */
int vnet_init(const u64 *slots, const u32 *intids, u32 nslots);
bool vnet_present(void);
const struct vnet_info *vnet_info(void);
const struct vnet_stats *vnet_stats(void);
/* Copies one frame (Ethernet header included, no FCS) into a transmit buffer and hands it to the
 * device. 0, FERRY_EBUSY (every buffer in flight: try again after a poll) or FERRY_EINVAL (too
 * long). */
int vnet_send(const void *frame, size_t len);
/* The most the device's header takes before a frame sent in place. */
#define VNET_HEADROOM VIRTIO_NET_HDR_LEN
/* Hands a frame to the device where it lies, without copying it: the device's header goes into
 * the VNET_HEADROOM bytes before the frame, which must be the caller's too, and the device reads
 * the frame later. The caller writes neither until vnet_tx_holds() says the device is done. The
 * memory must be ferry's own, identity-mapped (the device reads it by physical address). Returns
 * as vnet_send (FERRY_EBUSY: every descriptor in flight). */
int vnet_send_in_place(u8 *frame, size_t len);
/* Whether the device still holds a frame sent in place at this address (reclaims first). */
bool vnet_tx_holds(const void *frame);
/* The next received frame, or NULL. It stays valid until vnet_recv_done(), which must come before
 * the next vnet_recv(). */
const u8 *vnet_recv(size_t *len);
void vnet_recv_done(void);
/* Reclaims transmitted buffers: plain memory, no device register. Call it from the loop that polls
 * the NIC, as often as it likes. */
void vnet_poll(void);
/* Before the polling loop sleeps: acknowledges the device's interrupt (its level-triggered SPI stays
 * asserted until then) and says whether a frame came meanwhile (then do not sleep). A register
 * access, so not on every poll: under QEMU each one takes the machine's global lock, which its I/O
 * thread needs to move the frames. */
bool vnet_irq_done(void);

#endif
