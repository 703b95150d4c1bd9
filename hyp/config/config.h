/* SPDX-License-Identifier: Apache-2.0 */
/* VM configuration: parsed from a DTB compiled by dtc from platform/<p>/<name>.dts (docs/config.md).
 * Pure code (libfdt only): the host unit tests run the same parser on the same .dtb files.
 *
 * Every error names the VM and the property in one line, e.g.
 *   config: vm 'beta': property 'cpus': CPU 1 is already owned by vm 'alpha'
 * and boot stops; a config is taken whole or not at all. */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include "types.h"

#define CONFIG_MAX_VMS 8
#define CONFIG_MAX_VCPUS 8
#define CONFIG_NAME_MAX 16 /* including the NUL */
#define CONFIG_IMAGE_NAME_MAX 32
#define CONFIG_BOOTARGS_MAX 256
#define CONFIG_ERR_MAX 192 /* the longest message (test_longest_messages) is 160 */

/* Shared-memory regions (node /shared-memory, docs/shared-memory.md): each is mapped into 2 or more
 * VMs, each VM with its own IPA and permission, and has one doorbell page per VM at a fixed IPA in
 * the guest's device area that raises a fixed SPI. */
#define CONFIG_MAX_REGIONS 4
#define CONFIG_REGION_ALIGN 0x1000ULL      /* size and IPA: whole 4 KiB pages */
#define CONFIG_REGION_MAX (64ULL << 20)    /* 64 MiB: a channel, not a second RAM */
#define CONFIG_DOORBELL_BASE 0x0b000000ULL /* region r's doorbell at BASE + r * SIZE in every VM */
#define CONFIG_DOORBELL_SIZE 0x1000ULL
#define CONFIG_DOORBELL_INTID 80u /* region r's doorbell raises SPI INTID 80 + r */

/* Machine devices a VM owns (property `passthrough`, a list of paths in the machine's device tree;
 * docs/passthrough.md). The parser checks the strings; hyp/config/passthrough.c resolves them
 * against the machine's device tree and checks ownership. */
#define CONFIG_MAX_PASSTHROUGH 4
#define CONFIG_PT_PATH_MAX 64 /* including the NUL */

/* Virtual network links (property `vnet` naming the peer VM, `vnet-mac`; docs/vnet.md): each end
 * gets an emulated virtio-net in virtio-mmio slot 0, and the frames one end sends go to the other.
 * One link per VM, so at most CONFIG_MAX_VMS / 2 links. */
#define CONFIG_VNET_MAC_LEN 6u

/* Devices a VM may be given (property `devices`, a string list). */
enum config_device {
	CONFIG_DEV_UART = 1u << 0, /* "uart": emulated PL011 at IPA 0x09000000 */
};

/* Dirty-logging mode preference (property `dirty-log`); used from the dirty-logging issue on. */
enum config_dirty_mode {
	CONFIG_DIRTY_AUTO =
		0,        /* "auto": hardware DBM when the CPU has FEAT_HAFDBS, else write faults */
	CONFIG_DIRTY_WP,  /* "wp" */
	CONFIG_DIRTY_DBM, /* "dbm" */
};

/* What to do on a guest access to an IPA that has neither RAM nor a device (property `on-abort`). */
enum config_abort_policy {
	CONFIG_ABORT_STOP = 0, /* "stop": stop the VM, print ESR/FAR/HPFAR/ELR (the default) */
	CONFIG_ABORT_INJECT, /* "inject": synchronous external abort into the guest, as KVM does */
};

struct vm_config {
	char name[CONFIG_NAME_MAX];
	u64 ram_base; /* guest-physical base of RAM (IPA), 2 MiB aligned */
	u64 ram_size; /* bytes, a multiple of 2 MiB */
	u64 ram_pa;   /* host-physical placement, 0 = ferry chooses (property `ram-pa`) */
	u32 cpus[CONFIG_MAX_VCPUS]; /* physical CPU index (the order of /cpus in the host DTB) per vCPU */
	u32 ncpus;
	/* The guest image: either a built-in image by name (`image = "memstress"`) or memory that
	 * QEMU's -device loader filled (`image-pa`, `image-size`). */
	char image[CONFIG_IMAGE_NAME_MAX];
	u64 image_pa;
	u64 image_size;
	/* An initial RAM disk QEMU's -device loader filled (`initrd-pa`, `initrd-size`; both 0 when
	 * absent): copied into guest RAM and named in the guest DTB's /chosen (Linux guests). */
	u64 initrd_pa;
	u64 initrd_size;
	u64 load_offset; /* for images without an arm64 Image header; default 0x80000 */
	bool has_entry;  /* `entry`: overrides the entry point (an IPA) */
	u64 entry;
	char bootargs[CONFIG_BOOTARGS_MAX]; /* goes to the guest DTB's /chosen/bootargs */
	u32 devices;                        /* enum config_device bits */
	enum config_dirty_mode dirty_mode;
	enum config_abort_policy on_abort;
	bool incoming; /* boots waiting for an incoming migration (migration issue) */
	bool console;  /* the console is attached to it at boot (`console <vm>` in the shell) */
	char passthrough[CONFIG_MAX_PASSTHROUGH][CONFIG_PT_PATH_MAX]; /* machine DT paths it owns */
	u32 npassthrough;
	bool has_vnet;                    /* `vnet`: one end of a virtual network link */
	char vnet_peer[CONFIG_NAME_MAX];  /* the VM at the other end (names this one back) */
	u32 vnet_peer_index;              /* its index in ferry_config.vm[] */
	u8 vnet_mac[CONFIG_VNET_MAC_LEN]; /* `vnet-mac`, or 02:66:72:00:00:<VMID> */
};

enum config_access {
	CONFIG_ACCESS_RW = 0, /* "rw" (the default) */
	CONFIG_ACCESS_RO,     /* "ro": a write is a stray access (the VM's `on-abort`) */
};

/* One VM's view of a region: a subnode of the region named after the VM. Its position in map[] is
 * the VM's member index (what a peer writes to the doorbell to ring it). */
struct region_map {
	u32 vm;  /* index in ferry_config.vm[] */
	u64 ipa; /* guest-physical base in that VM */
	enum config_access access;
};

struct region_config {
	char name[CONFIG_NAME_MAX]; /* the node's name under /shared-memory */
	u64 size;                   /* bytes, whole 4 KiB pages, at most CONFIG_REGION_MAX */
	u64 pa; /* host-physical placement the parser computed (as vm_create_all makes it) */
	u32 nmaps;
	struct region_map map[CONFIG_MAX_VMS];
};

#define CONFIG_MIGRATION_KEY_LEN 32u

struct ferry_config {
	struct vm_config vm[CONFIG_MAX_VMS];
	u32 nvms;
	struct region_config region[CONFIG_MAX_REGIONS];
	u32 nregions;
	/* The key both ferries of a migration share (`migration-key`, 32 bytes; docs/config.md). */
	u8 migration_key[CONFIG_MIGRATION_KEY_LEN];
	bool has_migration_key;
};

/* What the machine offers, so the parser can reject impossible configs. */
struct config_limits {
	u32 ncpus;             /* physical CPUs found in the host DTB */
	u32 reserved_cpu_mask; /* CPUs no VM may own (bit 0: ferry's management CPU) */
	u64 guest_ram_pa;      /* host-physical window guest RAM is carved from */
	u64 guest_ram_bytes;
	/* Returns true when a built-in image of that name exists. */
	bool (*image_exists)(const char *name);
};

/* Parses and validates the whole config. On error returns a negative ferry_err, writes the one-line
 * message (without trailing newline) to err, and leaves *out all zero (nvms == 0): nothing of a
 * rejected config is usable. On success unused vm[] entries are zero. The caller guarantees that
 * fdt_totalsize(fdt) bytes at fdt are readable (ferry checks it against the config slot's size);
 * within them the blob may be anything, every offset is checked before use. */
int config_parse(const void *fdt, const struct config_limits *lim, struct ferry_config *out,
		 char *err, size_t errlen);

#endif
