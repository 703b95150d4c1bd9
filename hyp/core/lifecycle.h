/* SPDX-License-Identifier: Apache-2.0 */
/* VMs' lives after boot (core/lifecycle.c): restarts VMs that asked, ends the run when all are
 * done. */
#ifndef FERRY_CORE_LIFECYCLE_H
#define FERRY_CORE_LIFECYCLE_H

struct vm;

void ferry_service_vms(void);
int vm_restart(struct vm *vm); /* builds the VM afresh and starts it (not while it migrates) */

#endif
