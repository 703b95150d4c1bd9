/* SPDX-License-Identifier: Apache-2.0 */
/* The architecture hooks pure code may call. At EL2 they are real instructions (arch/aarch64/);
 * in host unit tests tests/unit/fake_arch.c records them, so tests can assert on the exact sequence
 * of barriers and TLB maintenance a page-table change issued. */
#ifndef FERRY_ARCH_H
#define FERRY_ARCH_H

#include "types.h"

/* Barriers. dsb_ishst orders descriptor writes before a following TLBI (Arm ARM D8.13, "Ordering of
 * memory accesses from translation table walks"); dsb_ish completes TLBIs; isb resynchronizes. */
void arch_dsb_ishst(void);
void arch_dsb_ish(void);
void arch_isb(void);

/* Issue one already-encoded TLB maintenance instruction (enum tlbi_kind from mm/tlbi.h) for the
 * stage-2 context whose VMID is given. At EL2 the emitter makes that VMID current in VTTBR_EL2
 * for the duration when it is not already, because IPAS2E1IS, RIPAS2E1IS, VMALLS12E1IS and
 * VMALLE1IS all act on the current VMID. */
void arch_tlbi(u16 vmid, unsigned kind, u64 operand);

#endif
