/* SPDX-License-Identifier: Apache-2.0 */
/* SVE for guests (core/sve.c). */
#ifndef FERRY_CORE_SVE_H
#define FERRY_CORE_SVE_H

#include "types.h"

struct vcpu;
struct vm;

void sve_load_controls(void); /* on the vCPU's CPU before it runs */
int sve_vm_init(struct vm *vm);
void sve_ctx_save(struct vcpu *v);
void sve_ctx_load(struct vcpu *v);
int sve_blob_save(struct vcpu *v, void *buf, size_t cap);
int sve_blob_load(struct vcpu *v, const void *buf, size_t len, const char **why);

#endif
