/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU virt (-M virt,virtualization=on,gic-version=3): the physical memory ferry keeps for itself.
 * Everything else (devices, CPUs, RAM size) is read from the DTB QEMU passes in x0. */
#ifndef FERRY_PLATFORM_H
#define FERRY_PLATFORM_H

/* QEMU loads an arm64 Image at RAM base + text_offset; RAM starts at 0x40000000 on virt. */
#define PLAT_RAM_BASE 0x40000000ULL
#define PLAT_TEXT_OFFSET 0x200000ULL
/* ferry keeps [RAM base, RAM base + 64 MiB): its image, stacks, page-table pool and the config slot.
 * Guest RAM is carved from what lies above. QEMU's own DTB (at RAM base + 128 MiB for RAM >= 256 MiB)
 * falls in guest RAM, so it is copied into ferry's memory before any guest exists. */
#define PLAT_HYP_RESERVED (64ULL << 20)
/* A VM configuration DTB loaded with `-device loader,file=cfg.dtb,addr=0x43f00000,force-raw=on`
 * overrides the built-in default. 1 MiB at most. */
#define PLAT_CONFIG_SLOT (PLAT_RAM_BASE + PLAT_HYP_RESERVED - (1ULL << 20))
#define PLAT_CONFIG_SLOT_SIZE (1ULL << 20)

#endif
