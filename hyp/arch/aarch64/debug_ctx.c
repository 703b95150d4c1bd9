/* SPDX-License-Identifier: Apache-2.0 */
/* The self-hosted debug registers of a vCPU (debug_ctx.h). DBGBVR<n>_EL1 and its kin are separate
 * system registers whose number is part of the instruction, so each slot is one case of a switch;
 * the slots a CPU lacks are UNDEFINED to touch (ID_AA64DFR0_EL1 says how many exist). */
#include "arch/aarch64/debug_ctx.h"

#include "arch/aarch64/sysreg.h"
#include "migrate/mig_vcpu.h"

/* Laid out by hand: clang-format reflows these lists differently on each pass. */
/* clang-format off */
#define SLOTS(X, reg)                                                                   \
	X(reg, 0) X(reg, 1) X(reg, 2) X(reg, 3) X(reg, 4) X(reg, 5) X(reg, 6) X(reg, 7) \
	X(reg, 8) X(reg, 9) X(reg, 10) X(reg, 11) X(reg, 12) X(reg, 13) X(reg, 14) X(reg, 15)
#define READ_CASE(reg, n)                              \
	case n:                                        \
		return sysreg_read(dbg##reg##n##_el1);
#define WRITE_CASE(reg, n)                             \
	case n:                                        \
		sysreg_write(dbg##reg##n##_el1, v);    \
		return;
/* clang-format on */

static u64 slot_read(u32 base, u32 n)
{
	switch (base) {
	case MIG_R_DBGBVR0:
		switch (n) {
			SLOTS(READ_CASE, bvr)
		}
		break;
	case MIG_R_DBGBCR0:
		switch (n) {
			SLOTS(READ_CASE, bcr)
		}
		break;
	case MIG_R_DBGWVR0:
		switch (n) {
			SLOTS(READ_CASE, wvr)
		}
		break;
	case MIG_R_DBGWCR0:
		switch (n) {
			SLOTS(READ_CASE, wcr)
		}
		break;
	}
	return 0;
}

static void slot_write(u32 base, u32 n, u64 v)
{
	switch (base) {
	case MIG_R_DBGBVR0:
		switch (n) {
			SLOTS(WRITE_CASE, bvr)
		}
		break;
	case MIG_R_DBGBCR0:
		switch (n) {
			SLOTS(WRITE_CASE, bcr)
		}
		break;
	case MIG_R_DBGWVR0:
		switch (n) {
			SLOTS(WRITE_CASE, wvr)
		}
		break;
	case MIG_R_DBGWCR0:
		switch (n) {
			SLOTS(WRITE_CASE, wcr)
		}
		break;
	}
}

u32 debug_nr_breakpoints(void) { return (u32)FIELD_GET(sysreg_read(id_aa64dfr0_el1), 15, 12) + 1; }

u32 debug_nr_watchpoints(void) { return (u32)FIELD_GET(sysreg_read(id_aa64dfr0_el1), 23, 20) + 1; }

void debug_ctx_save(u64 *r)
{
	const u32 nb = debug_nr_breakpoints(), nw = debug_nr_watchpoints();

	for (u32 n = 0; n < 16; n++) {
		r[MIG_R_DBGBVR0 + n] = n < nb ? slot_read(MIG_R_DBGBVR0, n) : 0;
		r[MIG_R_DBGBCR0 + n] = n < nb ? slot_read(MIG_R_DBGBCR0, n) : 0;
		r[MIG_R_DBGWVR0 + n] = n < nw ? slot_read(MIG_R_DBGWVR0, n) : 0;
		r[MIG_R_DBGWCR0 + n] = n < nw ? slot_read(MIG_R_DBGWCR0, n) : 0;
	}
	r[MIG_R_OSLK] = FIELD_GET(sysreg_read(oslsr_el1), 1, 1);
}

/* The destination has at least as many slots as the source (the migration's CPU feature check
 * compares the counts), so no slot the guest used is dropped here. */
void debug_ctx_load(const u64 *r)
{
	const u32 nb = debug_nr_breakpoints(), nw = debug_nr_watchpoints();

	for (u32 n = 0; n < 16; n++) {
		if (n < nb) {
			slot_write(MIG_R_DBGBVR0, n, r[MIG_R_DBGBVR0 + n]);
			slot_write(MIG_R_DBGBCR0, n, r[MIG_R_DBGBCR0 + n]);
		}
		if (n < nw) {
			slot_write(MIG_R_DBGWVR0, n, r[MIG_R_DBGWVR0 + n]);
			slot_write(MIG_R_DBGWCR0, n, r[MIG_R_DBGWCR0 + n]);
		}
	}
	sysreg_write(oslar_el1, r[MIG_R_OSLK]);
}
