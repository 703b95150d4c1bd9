/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net over virtio-mmio: ferry's own NIC, used by the management CPU only (no locking).
 *
 * Modern (version 2) devices are preferred; QEMU 7.2 offers them with
 * `-global virtio-mmio.force-legacy=false`, and legacy (version 1, its default) is accepted too.
 * No offloads, no mergeable buffers: every receive buffer holds a whole frame, which is what lets a
 * TCP netdev carry 64 KiB frames (their size comes from VIRTIO_NET_F_MTU, i.e. QEMU's host_mtu). */
#include <string.h>

#include "core/alloc.h"
#include "virtio/virtio.h"

#define RING_BYTES_TARGET (4u << 20) /* buffer memory per direction */
#define RXQ_MIN 16u
#define TXQ_MIN 16u

static struct {
	bool present;
	bool legacy;
	u32 hdr_len;
	u32 buf_size; /* header + frame_max, rounded */
	struct vnet_info info;
	struct vnet_stats st;
	struct virtq rx, tx;
	u8 *rx_bufs, *tx_bufs;
	u16 nrx, ntx;
	u16 tx_free[VIRTQ_SIZE_MAX]; /* indices of idle transmit buffers */
	u16 ntx_free;
	/* frames sent in place (vnet_send_in_place) the device has not given back yet */
	const u8 *held[VIRTQ_SIZE_MAX];
	u16 nheld;
	/* the frame vnet_recv handed out */
	u8 *cur;
	bool have_cur;
} net;

static u32 rd32(u64 off) { return *(volatile u32 *)(uintptr_t)(net.info.base + off); }
static void wr32(u64 off, u32 v) { *(volatile u32 *)(uintptr_t)(net.info.base + off) = v; }
static u8 rdcfg8(u64 off)
{
	return *(volatile u8 *)(uintptr_t)(net.info.base + VIRTIO_MMIO_CONFIG + off);
}

static u64 dev_features(void)
{
	u64 f;

	wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd32(VIRTIO_MMIO_DEVICE_FEATURES);
	if (!net.legacy) {
		wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
		f |= (u64)rd32(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	}
	return f;
}

static void set_features(u64 f)
{
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (u32)f);
	if (!net.legacy) {
		wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
		wr32(VIRTIO_MMIO_DRIVER_FEATURES, (u32)(f >> 32));
	}
}

static int setup_queue(u32 index, struct virtq *q, u16 want)
{
	u32 max;
	u16 size;
	void *mem;
	u64 pa;

	wr32(VIRTIO_MMIO_QUEUE_SEL, index);
	if (!net.legacy && rd32(VIRTIO_MMIO_QUEUE_READY))
		return FERRY_EBUSY;
	max = rd32(VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max)
		return FERRY_ENOENT;
	for (size = VIRTQ_SIZE_MAX; size > want || size > max; size >>= 1)
		;
	mem = pool_zalloc_contig(ALIGN_UP(virtq_ring_bytes(size, net.legacy), PAGE_SIZE) /
				 PAGE_SIZE);
	if (!mem)
		return FERRY_ENOMEM;
	virtq_init(q, size, mem, net.legacy);
	wr32(VIRTIO_MMIO_QUEUE_NUM, size);
	if (net.legacy) {
		wr32(VIRTIO_MMIO_QUEUE_ALIGN, VIRTQ_LEGACY_ALIGN);
		wr32(VIRTIO_MMIO_QUEUE_PFN, (u32)((u64)(uintptr_t)mem >> PAGE_SHIFT));
		return 0;
	}
	pa = (u64)(uintptr_t)q->desc;
	wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)pa);
	wr32(VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(pa >> 32));
	pa = (u64)(uintptr_t)q->avail;
	wr32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)pa);
	wr32(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (u32)(pa >> 32));
	pa = (u64)(uintptr_t)q->used;
	wr32(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)pa);
	wr32(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (u32)(pa >> 32));
	wr32(VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static u8 *rx_buf(u16 i) { return net.rx_bufs + (size_t)i * net.buf_size; }
static u8 *tx_buf(u16 i) { return net.tx_bufs + (size_t)i * net.buf_size; }

/* Tokens are buffer index + 1: a token is never NULL. */
static void rx_post(u16 i)
{
	struct virtq_buf b = { (u64)(uintptr_t)rx_buf(i), net.buf_size };

	virtq_add(&net.rx, &b, 0, 1, (void *)(uintptr_t)(i + 1u));
}

static void notify(u32 queue) { wr32(VIRTIO_MMIO_QUEUE_NOTIFY, queue); }

static int probe(u64 base, u32 intid)
{
	u64 feat, want;
	u32 status;
	int err;

	net.info.base = base;
	if (rd32(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    rd32(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_NET)
		return FERRY_ENOENT;
	net.info.version = rd32(VIRTIO_MMIO_VERSION);
	if (net.info.version != 1 && net.info.version != 2)
		return FERRY_ENOTSUP;
	net.legacy = net.info.version == 1;
	net.info.intid = intid;

	wr32(VIRTIO_MMIO_STATUS, 0); /* reset */
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	feat = dev_features();
	want = feat & (BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_NET_F_STATUS));
	if (!net.legacy) {
		if (!(feat & BIT(VIRTIO_F_VERSION_1)))
			goto fail;
		want |= BIT(VIRTIO_F_VERSION_1);
	}
	set_features(want);
	status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	if (!net.legacy) {
		wr32(VIRTIO_MMIO_STATUS, status | VIRTIO_STATUS_FEATURES_OK);
		if (!(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
			goto fail;
		status |= VIRTIO_STATUS_FEATURES_OK;
	} else {
		wr32(VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE_SIZE);
	}
	net.hdr_len = net.legacy ? VIRTIO_NET_HDR_LEN_LEGACY : VIRTIO_NET_HDR_LEN;

	for (int i = 0; i < 6; i++)
		net.info.mac[i] =
			(want & BIT(VIRTIO_NET_F_MAC)) ? rdcfg8(VIRTIO_NET_CFG_MAC + i) : 0;
	if (!(want & BIT(VIRTIO_NET_F_MAC))) /* a locally administered address of our own */
		memcpy(net.info.mac, (const u8[]){ 0x02, 0x66, 0x65, 0x72, 0x72, 0x79 }, 6);
	net.info.mtu =
		(want & BIT(VIRTIO_NET_F_MTU))
			? (u32)rdcfg8(VIRTIO_NET_CFG_MTU) | (u32)rdcfg8(VIRTIO_NET_CFG_MTU + 1) << 8
			: 0;
	net.info.link_up = !(want & BIT(VIRTIO_NET_F_STATUS)) ||
			   (rdcfg8(VIRTIO_NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP);
	net.info.frame_max =
		net.info.mtu ? MIN(net.info.mtu + VNET_ETH_HDR, VNET_FRAME_MAX) : VNET_FRAME_MIN;
	net.info.frame_max = MAX(net.info.frame_max, VNET_FRAME_MIN);
	net.buf_size = (u32)ALIGN_UP(net.hdr_len + net.info.frame_max, 64u);

	u32 per_dir = MAX(RING_BYTES_TARGET / net.buf_size, RXQ_MIN);

	if ((err = setup_queue(0, &net.rx, (u16)MIN(per_dir, VIRTQ_SIZE_MAX))) ||
	    (err = setup_queue(1, &net.tx, (u16)MIN(per_dir, VIRTQ_SIZE_MAX))))
		goto fail;
	net.nrx = net.rx.size;
	net.ntx = net.tx.size; /* one descriptor per frame */
	net.rx_bufs =
		pool_zalloc_contig(ALIGN_UP((u64)net.nrx * net.buf_size, PAGE_SIZE) / PAGE_SIZE);
	net.tx_bufs =
		pool_zalloc_contig(ALIGN_UP((u64)net.ntx * net.buf_size, PAGE_SIZE) / PAGE_SIZE);
	if (!net.rx_bufs || !net.tx_bufs)
		goto fail;
	for (u16 i = 0; i < net.nrx; i++)
		rx_post(i);
	for (u16 i = 0; i < net.ntx; i++)
		net.tx_free[i] = i;
	net.ntx_free = net.ntx;
	net.info.rxq = net.rx.size;
	net.info.txq = net.tx.size;
	wr32(VIRTIO_MMIO_STATUS, status | VIRTIO_STATUS_DRIVER_OK);
	notify(0);
	net.present = true;
	return 0;
fail:
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
	return FERRY_EIO;
}

int vnet_init(const u64 *slots, const u32 *intids, u32 nslots)
{
	for (u32 i = 0; i < nslots; i++) {
		int err = probe(slots[i], intids[i]);

		if (err != FERRY_ENOENT)
			return err;
	}
	return FERRY_ENOENT;
}

bool vnet_present(void) { return net.present; }
const struct vnet_info *vnet_info(void) { return &net.info; }
const struct vnet_stats *vnet_stats(void) { return &net.st; }

/* A transmit token is a buffer index + 1, or the address of a frame sent in place (never that
 * small: it lies in ferry's memory). */
static bool in_place_token(const void *tok) { return (uintptr_t)tok > VIRTQ_SIZE_MAX; }

static void tx_reclaim(void)
{
	void *tok;
	u32 len;

	while ((tok = virtq_get_used(&net.tx, &len)) != NULL) {
		if (!in_place_token(tok)) {
			net.tx_free[net.ntx_free++] = (u16)((uintptr_t)tok - 1);
			continue;
		}
		for (u16 i = 0; i < net.nheld; i++)
			if (net.held[i] == tok) {
				net.held[i] = net.held[--net.nheld];
				break;
			}
	}
}

/* A descriptor was added: tell the device unless it said it need not be told, and count. */
static void tx_kick(size_t len)
{
	if (virtq_needs_notify(&net.tx))
		notify(1);
	net.st.tx_frames++;
	net.st.tx_bytes += len;
}

int vnet_send(const void *frame, size_t len)
{
	struct virtq_buf b;
	u16 i;

	if (!net.present)
		return FERRY_ENOENT;
	if (len > net.info.frame_max)
		return FERRY_EINVAL;
	if (!net.ntx_free)
		tx_reclaim();
	if (!net.ntx_free) {
		net.st.tx_busy++;
		return FERRY_EBUSY;
	}
	i = net.tx_free[net.ntx_free - 1];
	/* An all-zero header: no checksum offload, no segmentation. */
	memset(tx_buf(i), 0, net.hdr_len);
	memcpy(tx_buf(i) + net.hdr_len, frame, len);
	b.addr = (u64)(uintptr_t)tx_buf(i);
	b.len = (u32)(net.hdr_len + len);
	/* Frames sent in place take descriptors without buffers: a free buffer is not enough. */
	if (virtq_add(&net.tx, &b, 1, 0, (void *)(uintptr_t)(i + 1u))) {
		net.st.tx_busy++;
		return FERRY_EBUSY;
	}
	net.ntx_free--;
	tx_kick(len);
	return 0;
}

int vnet_send_in_place(u8 *frame, size_t len)
{
	struct virtq_buf b;

	if (!net.present)
		return FERRY_ENOENT;
	if (len > net.info.frame_max)
		return FERRY_EINVAL;
	tx_reclaim();
	memset(frame - net.hdr_len, 0, net.hdr_len);
	b.addr = (u64)(uintptr_t)(frame - net.hdr_len);
	b.len = (u32)(net.hdr_len + len);
	if (virtq_add(&net.tx, &b, 1, 0, frame)) {
		net.st.tx_busy++;
		return FERRY_EBUSY;
	}
	/* Never full: a descriptor was free, and each one held is one descriptor. */
	net.held[net.nheld++] = frame;
	tx_kick(len);
	return 0;
}

bool vnet_tx_holds(const void *frame)
{
	if (!net.present)
		return false;
	tx_reclaim();
	for (u16 i = 0; i < net.nheld; i++)
		if (net.held[i] == frame)
			return true;
	return false;
}

const u8 *vnet_recv(size_t *len)
{
	void *tok;
	u32 n;

	if (!net.present || net.have_cur)
		return NULL;
	for (;;) {
		tok = virtq_get_used(&net.rx, &n);
		if (!tok)
			return NULL;
		u16 i = (u16)((uintptr_t)tok - 1);

		if (n < net.hdr_len + VNET_ETH_HDR || n > net.buf_size) {
			net.st.rx_bad++;
			rx_post(i);
			continue;
		}
		net.cur = rx_buf(i);
		net.have_cur = true;
		*len = n - net.hdr_len;
		net.st.rx_frames++;
		net.st.rx_bytes += *len;
		return net.cur + net.hdr_len;
	}
}

void vnet_recv_done(void)
{
	if (!net.have_cur)
		return;
	net.have_cur = false;
	rx_post((u16)((net.cur - net.rx_bufs) / net.buf_size));
	if (virtq_needs_notify(&net.rx))
		notify(0);
}

void vnet_poll(void)
{
	if (net.present)
		tx_reclaim();
}

bool vnet_irq_done(void)
{
	u32 isr;

	if (!net.present)
		return false;
	isr = rd32(VIRTIO_MMIO_INTERRUPT_STATUS);
	if (isr) {
		wr32(VIRTIO_MMIO_INTERRUPT_ACK, isr);
		net.st.irqs++;
	}
	/* A frame that came before the acknowledgement raised no interrupt of its own. */
	return !net.have_cur && virtq_has_used(&net.rx);
}
