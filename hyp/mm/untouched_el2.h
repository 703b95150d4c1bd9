/* SPDX-License-Identifier: Apache-2.0 */
/* RAM that nothing wrote since it was zero, so that a migration's round 0 need not read it
 * (docs/migration.md, "Round 0: RAM never touched"). Two records, both only ever growing:
 *   - the guest's accesses: RAM is mapped with the stage-2 access flag clear when the VM first
 *     starts (QEMU's RAM is zero then); the first access sets it, the hardware with VTCR_EL2.HA,
 *     else ferry on the access flag fault (untouched_af_fault);
 *   - ferry's own writes (and QEMU's, before ferry ran): a bit per 2 MiB of RAM, set for the
 *     image, initrd and device tree ferry copies in, the DTB QEMU left there, and every write
 *     through the VM's gmem (the ITS's and LPI tables, a virtual network's frames).
 * A page is untouched while both say so. A restarted or incoming VM's RAM is not zero: every page
 * of it counts as touched. */
#ifndef FERRY_UNTOUCHED_EL2_H
#define FERRY_UNTOUCHED_EL2_H

#include "types.h"

struct vm;

/* Allocates the VM's record (at creation, after its RAM is placed). FERRY_ENOMEM. */
int untouched_init(struct vm *vm);
/* Something other than the guest wrote [ipa, ipa + len) (any values: clipped to its RAM). */
void untouched_note(struct vm *vm, u64 ipa, u64 len);
/* struct gmem's `wrote` for a VM's RAM (ctx: the VM): the record above and dirty logging's. */
void vm_ram_wrote(void *ctx, u64 ipa, u64 len);
/* An access flag fault at ipa in the VM's RAM: the flag is set (or was, by another vCPU); true
 * to retry the access, false when no valid leaf maps ipa. */
bool untouched_af_fault(struct vm *vm, u64 ipa);
/* How many pages from page index `page` on (at most max) are untouched; 0 when it is not. */
u64 untouched_run(struct vm *vm, u64 page, u64 max);

#endif
