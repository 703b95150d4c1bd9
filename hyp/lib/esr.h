/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding of ESR_EL2 syndromes (Arm ARM D19.2.45): pure, unit-tested on the host. */
#ifndef FERRY_ESR_H
#define FERRY_ESR_H

#include "types.h"

#define ESR_EC(esr) ((u32)FIELD_GET(esr, 31, 26))
#define ESR_IL(esr) (((esr) >> 25) & 1)

/* A data abort's ISS, when ISV=1 the hardware tells us the access; ISV=0 (e.g. a load/store pair or
 * a post-indexed access) cannot be emulated without decoding the instruction, and ferry refuses it. */
struct dabt_info {
	bool isv;
	u32 size; /* bytes: 1, 2, 4, 8 */
	bool sign_extend;
	u32 srt; /* register number; 31 means XZR/WZR */
	bool sf; /* 64-bit register */
	bool write;
	bool s1ptw; /* fault on the guest's own stage-1 table walk */
	u32 dfsc;   /* fault status code */
};

void esr_decode_dabt(u64 esr, struct dabt_info *out);
/* Fault status classes of DFSC/IFSC. */
bool esr_fsc_is_translation(u32 fsc);
bool esr_fsc_is_permission(u32 fsc);
bool esr_fsc_is_access_flag(u32 fsc);
const char *esr_class_name(u32 ec);
/* The faulting IPA from HPFAR_EL2 (FIPA, bits [43:4] → IPA[51:12]) and FAR_EL2's page offset. */
u64 esr_fault_ipa(u64 hpfar, u64 far);

#endif
