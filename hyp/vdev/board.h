/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU virt's board devices every ferry VM sees besides the PL011: the PL031 real-time clock and
 * the virtio-mmio window's empty slots. Pure code (time is passed in), host-tested in
 * tests/unit/test_board.c; the EL2 glue is hyp/core/board.c. docs/guest-view.md lists them. */
#ifndef FERRY_VDEV_BOARD_H
#define FERRY_VDEV_BOARD_H

#include "types.h"

/* ---- PL031 (ARM DDI 0224): a 32-bit seconds counter, a match register and its interrupt ---- */
#define VPL031_BASE 0x09010000ULL
#define VPL031_SIZE 0x1000ULL
#define VPL031_INTID 34u /* SPI 2, as on QEMU virt */
#define VPL031_BLOB_LEN 40u

struct vpl031 {
	s64 offset; /* the guest's count minus the host's wall-clock seconds */
	u32 mr, lr; /* match and last loaded value (RTCMR, RTCLR) */
	bool imsc;  /* RTCIMSC: the match interrupt is unmasked */
	bool ris;   /* RTCRIS: a match happened and was not cleared */
	bool armed; /* a match is still to come, at host second match_at */
	u64 match_at;
};

/* `now` is always the host's wall clock in whole seconds (UNIX time). Out of reset the guest's
 * counter reads the host's time. */
void vpl031_reset(struct vpl031 *r, u64 now);
/* A 32-bit access at `offset` in the device's 4 KiB; other sizes read 0 and write nothing. */
u32 vpl031_read(struct vpl031 *r, u64 offset, u32 size, u64 now);
void vpl031_write(struct vpl031 *r, u64 offset, u32 size, u32 value, u64 now);
/* The interrupt output (RTCINTR) at `now`: a match that came due is latched into RTCRIS first. */
bool vpl031_irq_line(struct vpl031 *r, u64 now);
/* Migration: the state as a VPL031_BLOB_LEN-byte blob, the count kept relative to the wall clock
 * (returns the length, or FERRY_EINVAL when cap is too small), and back: FERRY_EINVAL for anything
 * malformed, r then unchanged. The destination's count goes on from the source's, plus the wall
 * time between the save and the load (never backwards). */
int vpl031_save(const struct vpl031 *r, u64 now, u8 *buf, size_t cap);
int vpl031_load(struct vpl031 *r, u64 now, const u8 *buf, size_t len);

/* ---- virtio-mmio (virtio 1.x, "MMIO Device Register Layout"): empty slots ---- */
#define VVIRTIO_BASE 0x0a000000ULL
#define VVIRTIO_SLOTS 32u
#define VVIRTIO_STRIDE 0x200ULL
#define VVIRTIO_FIRST_INTID 48u   /* SPI 16 + slot, as on QEMU virt */
#define VVIRTIO_MAGIC 0x74726976u /* "virt" */
#define VVIRTIO_VERSION 2u
#define VVIRTIO_VENDOR 0x554d4551u /* "QEMU", what QEMU's empty slots say */

/* A read at `offset` inside a slot with no device: magic, version, device ID 0 (no device), the
 * vendor; everything else 0. Writes to an empty slot are ignored. */
u32 vvirtio_empty_read(u64 offset, u32 size);

#endif
