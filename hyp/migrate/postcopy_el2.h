/* SPDX-License-Identifier: Apache-2.0 */
/* Post-copy on the destination (postcopy_el2.c, docs/migration.md "Post-copy"): the pages not
 * here yet are unmapped from the VM's stage 2; a guest access to one waits for it. */
#ifndef FERRY_MIGRATE_POSTCOPY_EL2_H
#define FERRY_MIGRATE_POSTCOPY_EL2_H

#include "types.h"

struct vm;
struct vcpu;

int postcopy_begin(struct vm *vm, const u64 *absent);      /* before the vCPUs start */
void postcopy_arrived(struct vm *vm, u64 ipa);             /* written: map it, wake waiters */
void postcopy_collect(struct vm *vm, int (*ask)(u64 ipa)); /* pages someone waits for */
void postcopy_end(struct vm *vm);                          /* every page is here */
bool postcopy_fault(struct vcpu *v, u64 ipa);              /* a guest access to an absent page */

#endif
