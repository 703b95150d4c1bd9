/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's self-hosted debug state (breakpoints, watchpoints, the OS Lock) to and from the
 * migration registers (mig_vcpu.h, MIG_R_DBGBVR0 on), on the vCPU's own CPU. Guests program these
 * registers directly: ferry does not trap them (docs/guest-view.md), so they live in the CPU. */
#ifndef FERRY_DEBUG_CTX_H
#define FERRY_DEBUG_CTX_H

#include "types.h"

/* ID_AA64DFR0_EL1: BRPs and WRPs, the numbers of breakpoint and watchpoint slots (2..16). */
u32 debug_nr_breakpoints(void);
u32 debug_nr_watchpoints(void);
/* r: a mig_vcpu_state's registers. Slots the CPU lacks are saved as 0 and never written. */
void debug_ctx_save(u64 *r);
void debug_ctx_load(const u64 *r);

#endif
