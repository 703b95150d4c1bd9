/* SPDX-License-Identifier: Apache-2.0 */
/* The device side of a split virtqueue (virtio 1.1, 2.6) whose rings and buffers are in a guest's
 * RAM: what ferry's emulated virtio-net (hyp/vdev/vvnet.c) reads and writes. Pure, host-tested.
 *
 * Every index, descriptor, length and address there is the guest's and hostile, and the guest may
 * change them while ferry reads them (another of its vCPUs runs meanwhile). So each value is read
 * from guest memory once, into ferry's own copy, and checked there: the queue size against the
 * ring, each descriptor's index against the queue size, each buffer against the VM's RAM
 * (lib/gmem.h, overflow-safe), and a chain may not be longer than the queue (a loop). What ferry
 * later writes goes only where that copy, already checked, says. */
#ifndef FERRY_VIRTQ_DEV_H
#define FERRY_VIRTQ_DEV_H

#include "lib/gmem.h"
#include "types.h"
#include "virtio/virtio.h"

#define VIRTQ_DESC_F_INDIRECT 4u      /* not offered (no VIRTIO_F_INDIRECT_DESC): refused */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u /* the driver asks for no used-buffer interrupt */
/* Feature bit (virtio 1.1 2.6.7, 2.6.10): the driver says with used_event (after the avail ring)
 * up to which used index it wants no interrupt, the device with avail_event (after the used ring)
 * up to which avail index it wants no notification. */
#define VIRTIO_F_EVENT_IDX 29u

/* One queue as the driver set it up (IPAs in the guest), and the device's own position in it. */
struct virtq_dev {
	u16 num;   /* queue size: a power of two, 1..VIRTQ_SIZE_MAX (the register model checks) */
	u64 desc;  /* descriptor table, 16-byte aligned */
	u64 avail; /* driver area, 2-byte aligned */
	u64 used;  /* device area, 4-byte aligned */
	u16 last_avail; /* the next avail entry the device takes */
	u16 used_idx;   /* the device's copy of used->idx: never read back from the guest */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated: used_event and avail_event in use */
};

/* A chain as ferry read it: every segment inside the RAM, all device-readable or all
 * device-writable (a network queue never mixes them). */
struct virtq_dev_chain {
	u16 head;
	u16 nsegs;
	bool writable;
	u64 total; /* sum of the segments' lengths (at most VIRTQ_SIZE_MAX * 4 GiB: no overflow) */
	struct virtq_buf seg[VIRTQ_SIZE_MAX];
};

/* The next available chain, without taking it. 0: *c holds it. FERRY_ENOENT: nothing available.
 * FERRY_EINVAL: the queue is broken (avail->idx more than num ahead of the device, a head or
 * next index >= num, a chain longer than num descriptors, an indirect descriptor, a buffer or
 * ring entry outside the RAM, a chain mixing readable and writable buffers): the caller stops
 * using the queue until the driver resets the device. */
int virtq_dev_peek(const struct virtq_dev *q, const struct gmem *m, struct virtq_dev_chain *c);
/* Takes the chain virtq_dev_peek() returned. */
void virtq_dev_take(struct virtq_dev *q);
/* Gives chain `head` back as used with `len` bytes written, then publishes the new used->idx
 * (release). FERRY_ERANGE when the used ring is outside the RAM (then nothing is published). */
int virtq_dev_push(struct virtq_dev *q, const struct gmem *m, u16 head, u32 len);
/* Whether the driver wants a used-buffer interrupt now for the buffers used since used->idx was
 * `old` (read after the used->idx store with a full barrier): without event_idx, unless
 * avail->flags says NO_INTERRUPT (2.6.7.2); with it, when used->idx passed used_event since
 * `old` (2.6.10). An unreadable ring: yes. */
bool virtq_dev_wants_irq(const struct virtq_dev *q, const struct gmem *m, u16 old);
/* With event_idx, asks the driver to notify when it makes a buffer available after avail index
 * `at` (writes avail_event), then, after a full barrier, says whether the avail index has moved
 * past last_avail meanwhile (a buffer the driver made available without notifying, having read
 * the old avail_event: the caller takes it now). Without event_idx: nothing, false. */
bool virtq_dev_arm_notify(const struct virtq_dev *q, const struct gmem *m, u16 at);
/* Copies len bytes at byte offset off of the chain out to buf (gather) or from buf into it
 * (scatter). FERRY_ERANGE when [off, off + len) is not inside the chain's total. */
int virtq_dev_gather(const struct gmem *m, const struct virtq_dev_chain *c, u64 off, void *buf,
		     u64 len);
int virtq_dev_scatter(const struct gmem *m, const struct virtq_dev_chain *c, u64 off,
		      const void *buf, u64 len);

#endif
