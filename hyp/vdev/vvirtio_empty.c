/* SPDX-License-Identifier: Apache-2.0 */
/* An empty virtio-mmio slot (virtio 1.x, "MMIO Device Register Layout"): "a device ID of zero
 * indicates that there is no device behind this slot", which the driver must find by reading the
 * magic value and the version first. QEMU virt has 32 slots at 0x0a000000 and some bare-metal
 * programs scan them all; ferry's VMs get the same window, every slot empty until a device is
 * assigned there. */
#include "vdev/board.h"

#define VIRTIO_MAGIC_VALUE 0x000
#define VIRTIO_VERSION 0x004
#define VIRTIO_DEVICE_ID 0x008
#define VIRTIO_VENDOR_ID 0x00c

u32 vvirtio_empty_read(u64 offset, u32 size)
{
	if (size != 4 || (offset & 3))
		return 0;
	switch (offset) {
	case VIRTIO_MAGIC_VALUE:
		return VVIRTIO_MAGIC;
	case VIRTIO_VERSION:
		return VVIRTIO_VERSION;
	case VIRTIO_DEVICE_ID:
		return 0;
	case VIRTIO_VENDOR_ID:
		return VVIRTIO_VENDOR;
	default:
		return 0;
	}
}
