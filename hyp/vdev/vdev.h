/* SPDX-License-Identifier: Apache-2.0 */
/* Emulated firmware and devices guests see: PSCI 1.1 (vpsci), the PL011 (vpl011). Pure code, driven by
 * the core's trap handlers and unit-tested on the host; their state is plain data, which is also what
 * migration will carry. */
#ifndef FERRY_VDEV_H
#define FERRY_VDEV_H

#include "config/config.h"
#include "types.h"

/* ---- PSCI 1.1 and SMCCC 1.1 (DEN0022, DEN0028) ---- */
#define PSCI_RET_SUCCESS 0
#define PSCI_RET_NOT_SUPPORTED (-1)
#define PSCI_RET_INVALID_PARAMETERS (-2)
#define PSCI_RET_DENIED (-3)
#define PSCI_RET_ALREADY_ON (-4)
#define PSCI_RET_ON_PENDING (-5)
#define PSCI_RET_INTERNAL_FAILURE (-6)
#define PSCI_RET_INVALID_ADDRESS (-9)

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND_32 0x84000001u
#define PSCI_CPU_SUSPEND_64 0xc4000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_32 0x84000003u
#define PSCI_CPU_ON_64 0xc4000003u
#define PSCI_AFFINITY_INFO_32 0x84000004u
#define PSCI_AFFINITY_INFO_64 0xc4000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au
#define SMCCC_VERSION 0x80000000u
#define SMCCC_ARCH_FEATURES 0x80000001u

enum vpsci_cpu_state {
	VPSCI_OFF = 0,
	VPSCI_ON_PENDING,
	VPSCI_ON
};

struct vpsci_cpu {
	volatile u32 state; /* enum vpsci_cpu_state */
	u64 entry, context; /* for a pending CPU_ON */
};

/* One VM's view; the caller holds the VM's lock around vpsci_call(), which is what makes two vCPUs
 * racing CPU_ON for one target get one SUCCESS and one ON_PENDING/ALREADY_ON. */
struct vpsci_vm {
	u32 nvcpus;
	u64 ram_base, ram_size;
	struct vpsci_cpu cpu[CONFIG_MAX_VCPUS];
};

enum vpsci_action {
	VPSCI_ACT_NONE = 0,
	VPSCI_ACT_WAKE,         /* .target went OFF → ON_PENDING: wake its physical CPU */
	VPSCI_ACT_CPU_OFF,      /* the caller turned itself off: do not return to it */
	VPSCI_ACT_SYSTEM_OFF,   /* the VM powers off */
	VPSCI_ACT_SYSTEM_RESET, /* the VM restarts */
};

struct vpsci_result {
	s64 ret; /* goes to the caller's x0 (unless the action ends the caller) */
	enum vpsci_action action;
	u32 target;
};

/* The virtual MPIDR of vCPU i: Aff0 = i, bit 31 RES1. Guests name CPUs by the affinity fields. */
u64 vpsci_mpidr(u32 vcpu);
/* Returns false when fid is not a PSCI/SMCCC call at all (the caller then answers NOT_SUPPORTED). */
bool vpsci_call(struct vpsci_vm *vm, u32 caller, u64 fid, u64 a1, u64 a2, u64 a3,
		struct vpsci_result *res);
const char *vpsci_fid_name(u64 fid);

/* ---- PL011 (ARM DDI 0183): output leaves in whole lines; input through a receive FIFO ---- */
#define VPL011_BASE 0x09000000ULL
#define VPL011_SIZE 0x1000ULL
#define VPL011_INTID 33u /* SPI 1, as on QEMU virt */
#define VPL011_LINE_MAX 200

typedef void (*vpl011_line_fn)(void *ctx, const char *line, size_t len);

#define VPL011_RX_FIFO 32 /* a PL011's receive FIFO depth */

struct vpl011 {
	char line[VPL011_LINE_MAX];
	u32 len;
	u32 cr, lcr, ibrd, fbrd, imsc, ifls;
	u8 rx[VPL011_RX_FIFO]; /* received, not yet read: rx_head is the oldest */
	u32 rx_head, rx_count;
};

void vpl011_reset(struct vpl011 *u);
u32 vpl011_read(struct vpl011 *u, u64 offset);
void vpl011_write(struct vpl011 *u, u64 offset, u32 value, vpl011_line_fn out, void *ctx);
/* A received byte; false when the FIFO is full and the byte was not taken (the caller keeps it). */
bool vpl011_rx_push(struct vpl011 *u, u8 c);
/* The interrupt output (UARTINTR): a masked interrupt status bit is set. */
bool vpl011_irq_line(const struct vpl011 *u);
/* Emits what is buffered (e.g. when the VM stops mid-line). */
void vpl011_flush(struct vpl011 *u, vpl011_line_fn out, void *ctx);
/* Migration: the state as a blob (returns its length, or FERRY_EINVAL when cap is too small) and
 * back (FERRY_EINVAL for a malformed blob; u is then unchanged only if the header was wrong). */
int vpl011_save(const struct vpl011 *u, u8 *buf, size_t cap);
int vpl011_load(struct vpl011 *u, const u8 *buf, size_t len);

/* ---- the doorbells of a shared-memory region (docs/shared-memory.md) ----
 * One region's doorbells: every VM mapping the region (a *member*, numbered by its position in the
 * config) has a 4 KiB register page; a write there rings other members, whose interrupt line stays
 * high until they acknowledge. All registers are 32 bits wide and 4-byte aligned. */
#define VDOORBELL_ID 0x00           /* RO: VDOORBELL_MAGIC */
#define VDOORBELL_SELF 0x04         /* RO: this member's index */
#define VDOORBELL_MEMBERS 0x08      /* RO: how many members the region has */
#define VDOORBELL_RING 0x0c         /* WO: a member's index: ring that member */
#define VDOORBELL_RING_MASK 0x10    /* WO: a nonzero mask of members: ring each of them */
#define VDOORBELL_STATUS 0x14       /* RO: bit j set = member j rang, not yet acknowledged */
#define VDOORBELL_ACK 0x18          /* WO: clears the STATUS bits written as 1 */
#define VDOORBELL_ERRORS 0x1c       /* RO: this member's rejected accesses (saturating) */
#define VDOORBELL_RINGS 0x20        /* RO: rings this member received (STATUS bits set, wrapping) */
#define VDOORBELL_MAGIC 0x31424446u /* "FDB1" as little-endian bytes */

struct vdoorbell {
	u32 members;
	u32 status[CONFIG_MAX_VMS];
	u32 errors[CONFIG_MAX_VMS];
	u32 rings[CONFIG_MAX_VMS];
};

void vdoorbell_init(struct vdoorbell *d, u32 members);
/* Member `self`'s access at offset off (< 4 KiB) of its page. Returns 0, or FERRY_EINVAL for
 * anything the table above does not allow (a size or alignment other than 4 bytes, an unknown
 * offset, a read of a write-only register or the reverse, a member index or mask naming no member,
 * an empty mask): such an access changes nothing but the ERRORS count, and a read returns 0.
 * *changed gets the mask of members whose line may have changed (the glue updates their
 * interrupt). */
int vdoorbell_access(struct vdoorbell *d, u32 self, u64 off, u32 size, bool write, u64 *value,
		     u32 *changed);
/* Member m's interrupt line: high while its STATUS is not zero. */
bool vdoorbell_line(const struct vdoorbell *d, u32 m);
/* Member m restarts: nothing is pending for it any more. */
void vdoorbell_reset_member(struct vdoorbell *d, u32 m);

#endif
