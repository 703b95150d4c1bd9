/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's context to and from a migration register file (core/vcpu_ctx.c), on its own CPU. */
#ifndef FERRY_CORE_VCPU_CTX_H
#define FERRY_CORE_VCPU_CTX_H

struct vcpu;
struct mig_vcpu_state;

void vcpu_ctx_save(struct vcpu *v, struct mig_vcpu_state *s);
void vcpu_ctx_load(struct vcpu *v, const struct mig_vcpu_state *s);

#endif
