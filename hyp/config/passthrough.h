/* SPDX-License-Identifier: Apache-2.0 */
/* Device passthrough (docs/passthrough.md): the machine devices a config's `passthrough` property
 * gives to VMs, resolved against the machine's device tree and checked for ownership once, at boot.
 * Pure code (libfdt only), host-tested in tests/unit/test_passthrough.c with a device tree shaped
 * like QEMU virt's.
 *
 * A device is a node directly under the machine DT's root. Its `reg` windows are mapped into the
 * owner's stage 2 at the same addresses (IPA = PA) with device attributes, whole 4 KiB pages; its
 * `interrupts` (SPIs of the GICv3) reach the owner as hardware-backed virtual interrupts of the
 * same INTID. Every value comes from a config or a device tree and is checked without overflow. */
#ifndef FERRY_PASSTHROUGH_H
#define FERRY_PASSTHROUGH_H

#include "config/config.h"

#define PT_MAX_DEVICES (CONFIG_MAX_VMS * CONFIG_MAX_PASSTHROUGH)
#define PT_MAX_REGS 2
#define PT_MAX_IRQS 4
#define PT_PAGE 0x1000ULL
#define PT_MAX_SIZE (64ULL << 20) /* one window: a device, not a second RAM */

struct pt_device {
	u32 vm;           /* index in ferry_config.vm[] */
	const char *path; /* the config's string */
	int node;         /* its offset in the machine's device tree */
	u32 nregs;
	u64 base[PT_MAX_REGS]; /* page aligned */
	u64 size[PT_MAX_REGS]; /* rounded up to whole pages */
	u32 nirqs;
	u32 intid[PT_MAX_IRQS]; /* SPIs: 32..lim->spi_end-1 */
	bool edge[PT_MAX_IRQS]; /* rising edge (flags 1), else level high (flags 4) */
	bool clocks;            /* has `clocks`: all fixed clocks, the guest's apb-pclk */
};

struct pt_table {
	struct pt_device dev[PT_MAX_DEVICES];
	u32 ndev;
};

/* What ferry keeps for itself and what every VM already has at a fixed address. */
struct pt_limits {
	u64 ram_base, ram_size; /* the machine's RAM: never a device */
	u32 nown;
	struct {
		const char *what; /* "ferry's console (PL011)" */
		u64 base, size;
		u32 intid; /* 0: none */
	} own[4];
	u32 spi_end; /* one past the last INTID the vGIC has (32 + its SPIs) */
};

/* Resolves and checks every VM's `passthrough` entries. 0, or FERRY_EINVAL with one line in err:
 *   config: vm '<name>': property 'passthrough': '<path>': <what is wrong>
 * On error *out is all zero. */
int pt_resolve(const void *fdt, const struct ferry_config *cfg, const struct pt_limits *lim,
	       struct pt_table *out, char *err, size_t errlen);

/* The device whose page range holds any byte of [pa, pa + size), or NULL. */
const struct pt_device *pt_owner_of(const struct pt_table *t, u64 pa, u64 size);
/* Whether INTID intid belongs to a device of VM vm. */
bool pt_vm_owns_intid(const struct pt_table *t, u32 vm, u32 intid);
/* Whether VM vm owns the machine's PL031 in place of its emulated one (in a checked table, a VM
 * owns something in the emulated PL031's page only then). */
bool pt_vm_owns_rtc(const struct pt_table *t, u32 vm);

#endif
