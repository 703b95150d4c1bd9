/* SPDX-License-Identifier: Apache-2.0 */
/* A virtual GICv3 Interrupt Translation Service (IHI 0069 "The ITS"): the guest's MSIs, a write of
 * an EventID to GITS_TRANSLATER or an INT command, become LPIs at a redistributor of the vGIC
 * (vgic.h). docs/vgic.md "LPIs and the ITS" gives the rules and choices.
 *
 * - Physical LPIs only (no GICv4 virtual LPIs); 16 DeviceID bits, 16 EventID bits, 8-byte device
 *   table and ITT entries; RDbase is a processor number (GITS_TYPER.PTA = 0).
 * - The device table is a flat table in guest memory (GITS_BASER0, Type Device); each device's ITT
 *   is in guest memory too (MAPD). Both move with the VM's RAM when it migrates.
 * - The collection table is held by ferry: GITS_TYPER says 16 collection IDs exist (CIL, CIDbits)
 *   and all 16 are held in the ITS (HCC), which covers every vCPU a VM can have; ferry validates
 *   them once (at MAPC) instead of at every translation, and they travel in the ITS's migration
 *   blob. GITS_BASER1 (Type Collection) still exists, as on QEMU's and KVM's ITS, because guests
 *   look for it (kvm-unit-tests asserts it): it keeps what the guest writes and its table is never
 *   read, which IHI 0069 allows when HCC covers every collection ID.
 * - Both BASERs reset to 64 KiB pages, as QEMU's and KVM's do (guests that support only that size
 *   check it before writing), and take 4, 16 or 64 KiB.
 * - Commands are processed when the guest writes GITS_CWRITER (or enables the ITS), to completion:
 *   GITS_CTLR.Quiescent always reads 1 and GITS_CREADR equals GITS_CWRITER after the write.
 * - A command with an error (DeviceID, EventID or ICID out of range, device or event not mapped,
 *   pINTID not an LPI, RDbase not a vCPU, a table entry outside the VM's RAM) is ignored and
 *   processing goes on (IHI 0069 lets an ITS without SEIS do that); it is counted. A command queue
 *   ferry cannot read (outside RAM, CWRITER beyond the queue) stalls the ITS: GITS_CREADR.Stalled
 *   reads 1 until the guest writes GITS_CWRITER with Retry or rewrites GITS_CBASER.
 *
 * Pure code, serialized by the caller (the VM's lock), like the vGIC. */
#ifndef FERRY_ITS_H
#define FERRY_ITS_H

#include "lib/gmem.h"
#include "types.h"
#include "vgic/vgic.h"

#define ITS_BASE_VIRT 0x08080000ULL /* QEMU virt's ITS: between the GICD and the GICRs */
#define ITS_FRAME_SIZE 0x20000ULL   /* ITS_base (control) and translation frame, 64 KiB each */
#define ITS_TRANSLATER_OFF 0x10040ULL
#define ITS_DEV_BITS 16u
#define ITS_EVENT_BITS 16u
#define ITS_NR_COLLECTIONS 16u
#define ITS_DTE_SIZE 8u
#define ITS_CTE_SIZE 8u /* GITS_BASER1's Entry_Size: the table is never read */
#define ITS_ITE_SIZE 8u
#define ITS_CMD_SIZE 32u
#define ITS_NO_VCPU 0xffu
/* The register fields ferry keeps (the rest are read-only or RES0): GITS_CBASER (Valid,
 * cacheability, shareability, address, Size), GITS_BASER0 (the same with Page_Size; Indirect RAZ/WI),
 * GITS_CWRITER/CREADR offsets. */
#define ITS_CBASER_RW                                                                      \
	(BIT(63) | GENMASK(61, 59) | GENMASK(55, 53) | GENMASK(51, 12) | GENMASK(11, 10) | \
	 GENMASK(7, 0))
#define ITS_BASER_RW                                                                       \
	(BIT(63) | GENMASK(61, 59) | GENMASK(55, 53) | GENMASK(47, 12) | GENMASK(11, 10) | \
	 GENMASK(9, 8) | GENMASK(7, 0))
#define ITS_OFFSET_MASK GENMASK(19, 5)

/* Why the last failing command failed (its.last_error), for the shell and the tests. */
enum its_error {
	ITS_OK = 0,
	ITS_E_UNKNOWN_CMD,
	ITS_E_DEVID,     /* DeviceID >= 2^ITS_DEV_BITS or beyond the device table */
	ITS_E_NO_DEVICE, /* no valid device table, or the device's entry is not valid */
	ITS_E_EVENTID,   /* EventID beyond the device's ITT */
	ITS_E_NO_EVENT,  /* the ITT entry is not valid */
	ITS_E_ICID,      /* ICID >= ITS_NR_COLLECTIONS */
	ITS_E_NO_COLL,   /* the collection is not mapped */
	ITS_E_RDBASE,    /* RDbase names no vCPU */
	ITS_E_INTID,     /* pINTID is not an LPI */
	ITS_E_SIZE,      /* MAPD Size beyond ITS_EVENT_BITS */
	ITS_E_MEMORY,    /* a table entry outside the VM's RAM */
	ITS_E_QUEUE,     /* the command queue cannot be read: stalled */
};

struct its {
	struct vgic *g;
	const struct gmem *mem;
	u64 base;                    /* guest-physical address of ITS_base */
	bool enabled;                /* GITS_CTLR.Enabled */
	bool stalled;                /* GITS_CREADR.Stalled */
	u64 cbaser;                  /* GITS_CBASER as ferry keeps it */
	u64 cwriter;                 /* GITS_CWRITER.Offset */
	u64 creadr;                  /* GITS_CREADR.Offset */
	u64 baser_dev;               /* GITS_BASER0's writable fields */
	u64 baser_coll;              /* GITS_BASER1's writable fields (the table is never read) */
	u8 coll[ITS_NR_COLLECTIONS]; /* vCPU each collection targets, ITS_NO_VCPU if unmapped */
	/* statistics */
	u64 commands, errors, translations;
	u32 last_error; /* enum its_error */
	u8 last_error_cmd;
};

void its_init(struct its *its, struct vgic *g, const struct gmem *mem, u64 base);
void its_reset(struct its *its);
/* FERRY_ENOENT outside the ITS's two frames; FERRY_EINVAL for an access size or alignment the
 * register does not take (treated as RAZ/WI). size is 1, 2, 4 or 8. */
int its_mmio_read(struct its *its, u64 ipa, u32 size, u64 *value);
int its_mmio_write(struct its *its, u64 ipa, u32 size, u64 value);
/* An MSI: EventID event from DeviceID devid, as a write to GITS_TRANSLATER by that device would
 * be. Returns 0 or the enum its_error (negated) of why nothing was made pending. */
int its_translate(struct its *its, u32 devid, u32 event);

/* ---- migration (its_save.c; docs/vgic.md gives the blob) ---- */
#define ITS_SAVE_MAGIC 0x53544946u /* "FITS" */
#define ITS_SAVE_VERSION 2u
size_t its_save_size(const struct its *its);
/* The ITS's registers and collections and the LPI state of every redistributor (enable, tables,
 * pending LPIs). Every vCPU must be synced (FERRY_EBUSY). FERRY_ERANGE when len is too small. */
int its_save(const struct its *its, u8 *buf, size_t len, size_t *out_len);
/* Without the check, for a rehearsal's thrown-away bytes only (as vgic_save_model). */
int its_save_model(const struct its *its, u8 *buf, size_t len, size_t *out_len);

/* Into an ITS over a vGIC with the same nr_vcpus. Checks the whole blob first (FERRY_EINVAL: length,
 * magic, version, CRC, geometry, every value no register could hold); on any error nothing changes.
 * The LPI configuration cache travels as it is: a guest that changed its table without INV sees
 * the same cached values on the destination. FERRY_EBUSY while a vCPU is between flush and sync. */
int its_restore(struct its *its, const u8 *buf, size_t len);

#endif
