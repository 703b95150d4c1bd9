/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/esr.h"

void esr_decode_dabt(u64 esr, struct dabt_info *out)
{
	out->isv = (esr >> 24) & 1;
	out->size = 1u << FIELD_GET(esr, 23, 22);
	out->sign_extend = (esr >> 21) & 1;
	out->srt = (u32)FIELD_GET(esr, 20, 16);
	out->sf = (esr >> 15) & 1;
	out->s1ptw = (esr >> 7) & 1;
	out->write = (esr >> 6) & 1;
	out->dfsc = (u32)FIELD_GET(esr, 5, 0);
}

/* DFSC encodings 0b0001LL (translation), 0b0010LL (access flag), 0b0011LL (permission), LL = level
 * 0..3. FEAT_LPA2's level -1 encodings are not used with ferry's 4K, 48-bit-or-less stage 2. */
bool esr_fsc_is_translation(u32 fsc) { return (fsc & 0x3c) == 0x04; }
bool esr_fsc_is_access_flag(u32 fsc) { return (fsc & 0x3c) == 0x08; }
bool esr_fsc_is_permission(u32 fsc) { return (fsc & 0x3c) == 0x0c; }

u64 esr_fault_ipa(u64 hpfar, u64 far) { return (FIELD_GET(hpfar, 43, 4) << 12) | (far & 0xfff); }

const char *esr_class_name(u32 ec)
{
	switch (ec) {
	case 0x00:
		return "unknown";
	case 0x01:
		return "WFI/WFE";
	case 0x07:
		return "FP/SIMD access";
	case 0x0e:
		return "illegal execution state";
	case 0x16:
		return "HVC";
	case 0x17:
		return "SMC";
	case 0x18:
		return "system register";
	case 0x19:
		return "SVE access";
	case 0x20:
		return "instruction abort (lower EL)";
	case 0x22:
		return "PC alignment";
	case 0x24:
		return "data abort (lower EL)";
	case 0x26:
		return "SP alignment";
	case 0x2f:
		return "SError";
	case 0x30:
		return "breakpoint (lower EL)";
	case 0x32:
		return "software step (lower EL)";
	case 0x34:
		return "watchpoint (lower EL)";
	case 0x3c:
		return "BRK";
	default:
		return "other";
	}
}
