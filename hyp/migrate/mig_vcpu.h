/* SPDX-License-Identifier: Apache-2.0 */
/* One vCPU's registers as a migration carries them (the MIG_BLOB_VCPU blob, mig_vmstate.c): what
 * struct vcpu holds for a migration and what the arch layer fills, without the rest of mig_vmstate.h. */
#ifndef FERRY_MIG_VCPU_H
#define FERRY_MIG_VCPU_H

#include "types.h"

/* Registers of one vCPU, in blob order. PC and PSTATE are the guest's ELR_EL2/SPSR_EL2 at the
 * pause; CNTP_CVAL travels relative to the physical count at the pause (the two machines' counters
 * differ); CNTV_CVAL is in guest virtual time, which MIG_BLOB_VM carries. */
enum mig_vcpu_reg {
	MIG_R_X0 = 0, /* ... X30 */
	MIG_R_PC = 31,
	MIG_R_PSTATE,
	MIG_R_SP_EL0,
	MIG_R_SP_EL1,
	MIG_R_ELR_EL1,
	MIG_R_SPSR_EL1,
	MIG_R_SCTLR_EL1,
	MIG_R_CPACR_EL1,
	MIG_R_TTBR0_EL1,
	MIG_R_TTBR1_EL1,
	MIG_R_TCR_EL1,
	MIG_R_ESR_EL1,
	MIG_R_AFSR0_EL1,
	MIG_R_AFSR1_EL1,
	MIG_R_FAR_EL1,
	MIG_R_MAIR_EL1,
	MIG_R_AMAIR_EL1,
	MIG_R_VBAR_EL1,
	MIG_R_CONTEXTIDR_EL1,
	MIG_R_TPIDR_EL1,
	MIG_R_TPIDR_EL0,
	MIG_R_TPIDRRO_EL0,
	MIG_R_CNTKCTL_EL1,
	MIG_R_PAR_EL1,
	MIG_R_CSSELR_EL1,
	MIG_R_MDSCR_EL1,
	MIG_R_CNTV_CTL,
	MIG_R_CNTV_CVAL,
	MIG_R_CNTP_CTL,
	MIG_R_CNTP_CVAL_REL,
	MIG_R_FPCR,
	MIG_R_FPSR,
	/* Pointer authentication keys (FEAT_PAuth; 0 without it): Linux signs return addresses
	 * with them, so a guest resumed with other keys fails its first authenticated return. */
	MIG_R_APIAKEYLO,
	MIG_R_APIAKEYHI,
	MIG_R_APIBKEYLO,
	MIG_R_APIBKEYHI,
	MIG_R_APDAKEYLO,
	MIG_R_APDAKEYHI,
	MIG_R_APDBKEYLO,
	MIG_R_APDBKEYHI,
	MIG_R_APGAKEYLO,
	MIG_R_APGAKEYHI,
	MIG_R_V0,                    /* V0..V31, two u64 each (low half first): 64 entries */
	MIG_R_ENTRY = MIG_R_V0 + 64, /* a CPU_ON still pending: where and with what x0 */
	MIG_R_CONTEXT,
	/* Self-hosted debug, which guests use directly (ferry passes it through): the breakpoint
	 * and watchpoint value and control registers, 16 slots each (those the CPU lacks are 0),
	 * and the OS Lock (OSLSR_EL1.OSLK: 0 or 1), without which none of them fires. */
	MIG_R_DBGBVR0,
	MIG_R_DBGBCR0 = MIG_R_DBGBVR0 + 16,
	MIG_R_DBGWVR0 = MIG_R_DBGBCR0 + 16,
	MIG_R_DBGWCR0 = MIG_R_DBGWVR0 + 16,
	MIG_R_OSLK = MIG_R_DBGWCR0 + 16,
	MIG_R_NR,
};

enum mig_vcpu_power {
	MIG_VCPU_OFF = 0,
	MIG_VCPU_ON_PENDING = 1,
	MIG_VCPU_ON = 2
};

struct mig_vcpu_state {
	u32 index;
	u32 power; /* enum mig_vcpu_power */
	u64 r[MIG_R_NR];
};

#endif
