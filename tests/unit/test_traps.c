/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/vdev/traps: the trap baseline for CPUs with and without the optional features, the ID
 * registers guests read, and what each trapped system register becomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vdev/traps.h"

#define HCR_BASE                                                                           \
	(HCR_VM | HCR_SWIO | HCR_PTW | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | HCR_BSU_IS | \
	 HCR_TWI | HCR_TID3 | HCR_TSC | HCR_TIDCP | HCR_TACR | HCR_TSW | HCR_RW)

static void test_plain_armv8_cpu(void **state)
{
	struct trap_idregs id = { 0 }; /* no RAS, LOR, SPE, TRF, AMU, FGT, HCX, PAuth */
	struct trap_config t;
	(void)state;
	trap_config_compute(&id, 0x6 | MDCR_HPME | (1ULL << 8) /* TDE: not ours */, &t);
	assert_int_equal(t.hcr, HCR_BASE);
	assert_false(t.hcr & HCR_TWE); /* each vCPU owns its CPU: WFE spins cost nobody else */
	assert_int_equal(t.mdcr, 0x6 | MDCR_HPME | MDCR_TPM | MDCR_TPMCR);
	assert_int_equal(t.cptr, CPTR_RES1_TZ_TSM | CPTR_TTA);
	assert_int_equal(t.cnthctl, 3);
	assert_false(t.has_hcrx);
	assert_false(t.has_fgt);
}

static void test_every_optional_feature(void **state)
{
	struct trap_idregs id = {
		.pfr0 = (1ULL << 28) /* RAS */ | (1ULL << 44) /* AMU */,
		.dfr0 = (1ULL << 32) /* SPE */ | (1ULL << 40) /* TRF */,
		.isar1 = 1ULL << 4 /* APA */,
		.mmfr0 = 1ULL << 56 /* FGT */,
		.mmfr1 = (1ULL << 16) /* LOR */ | (1ULL << 40) /* HCX */,
	};
	struct trap_config t;
	(void)state;
	trap_config_compute(&id, 0x5, &t);
	assert_int_equal(t.hcr, HCR_BASE | HCR_TERR | HCR_TEA | HCR_TLOR | HCR_API | HCR_APK);
	assert_int_equal(t.mdcr, 0x5 | MDCR_TPM | MDCR_TPMCR | MDCR_TPMS | MDCR_TTRF | MDCR_TDCC);
	assert_int_equal(t.cptr, CPTR_RES1_TZ_TSM | CPTR_TTA | CPTR_TAM);
	assert_true(t.has_hcrx);
	assert_int_equal(t.hcrx, 0);
	assert_true(t.has_fgt);
	assert_int_equal(t.hfgrtr | t.hfgwtr | t.hfgitr | t.hdfgrtr | t.hdfgwtr, 0);
	/* PAuth from the other two fields. */
	id = (struct trap_idregs){ .isar1 = 1ULL << 24 };
	trap_config_compute(&id, 0, &t);
	assert_true(t.hcr & HCR_API);
	id = (struct trap_idregs){ .isar2 = 1ULL << 12 };
	trap_config_compute(&id, 0, &t);
	assert_true(t.hcr & HCR_APK);
}

static void test_guest_pmu(void **state)
{
	/* A PMUv3 (PMUVer 6: PMUv3p5) is the guest's: no PMU traps, PMUVer visible... */
	struct trap_idregs id = { .dfr0 = 6ULL << 8 };
	struct trap_config t;
	(void)state;
	trap_config_compute(&id, 0x6, &t);
	assert_int_equal(t.mdcr, 0x6);
	/* ...but with a counter of ferry's (HPME), its accesses trap to vdev/vpmu.c. */
	trap_config_compute(&id, 0x5 | MDCR_HPME, &t);
	assert_int_equal(t.mdcr, 0x5 | MDCR_HPME | MDCR_TPM | MDCR_TPMCR);
	assert_true(trap_guest_pmu(id.dfr0));
	assert_int_equal(trap_id_reg_value(5, 0, 0x0000000010305616ULL), 0x0000000010305606ULL);
	/* An IMPLEMENTATION DEFINED PMU (0xf) is not: it traps and is hidden. */
	id.dfr0 = 0xfULL << 8;
	trap_config_compute(&id, 0, &t);
	assert_int_equal(t.mdcr, MDCR_TPM | MDCR_TPMCR);
	assert_false(trap_guest_pmu(id.dfr0));
	assert_int_equal(trap_id_reg_value(5, 0, 0xf06ULL), 0x006ULL);
}

static void test_guest_sve(void **state)
{
	/* SVE (PFR0.SVE 1) is the guest's: CPTR_EL2.TZ clear, TSM (SME) still set. */
	struct trap_idregs id = { .pfr0 = 1ULL << 32 };
	struct trap_config t;
	(void)state;
	assert_true(trap_guest_sve(id.pfr0));
	trap_config_compute(&id, 0, &t);
	assert_int_equal(t.cptr, (CPTR_RES1_TZ_TSM & ~CPTR_TZ) | CPTR_TTA);
	assert_true(t.cptr & BIT(12));
	assert_false(trap_guest_sve(0));
}

static void test_id_registers(void **state)
{
	(void)state;
	/* ID_AA64PFR0: AArch32 at EL0 and EL1 (2) reads as AArch64 only; MPAM, AMU hidden; the
	 * rest (FP, AdvSIMD, GIC, RAS, SVE...) kept. */
	assert_int_equal(trap_id_reg_value(4, 0, 0x1201111123111122ULL), 0x1201001123111111ULL);
	/* ID_AA64MMFR1: LO and HCX hidden, VMIDBits/HAFDBS kept. */
	assert_int_equal(trap_id_reg_value(7, 1, 0x0000011110212122ULL), 0x0000001110202122ULL);
	/* ID_AA64ISAR2: MOPS hidden. */
	assert_int_equal(trap_id_reg_value(6, 2, 0x00000000000f1100ULL), 0x0000000000001100ULL);
	/* Hidden wholesale, and the reserved encodings. */
	assert_int_equal(trap_id_reg_value(4, 5, ~0ULL), 0); /* SMFR0 */
	assert_int_equal(trap_id_reg_value(7, 3, ~0ULL), 0); /* MMFR3 */
	assert_int_equal(trap_id_reg_value(3, 3, ~0ULL), 0);
	assert_int_equal(trap_id_reg_value(5, 2, ~0ULL), 0);
	/* Passed through. */
	assert_int_equal(trap_id_reg_value(6, 0, 0x1234), 0x1234); /* ISAR0 */
	assert_int_equal(trap_id_reg_value(7, 0, 0x5678), 0x5678); /* MMFR0 */
	assert_int_equal(trap_id_reg_value(1, 0, 0x31), 0x31);     /* ID_PFR0 */
	assert_int_equal(trap_id_reg_value(4, 4, 0x9abc), 0x9abc); /* ZFR0 (zero without SVE) */
}

static void test_sysreg_classification(void **state)
{
	(void)state;
	assert_int_equal(trap_sysreg_classify(3, 0, 12, 11, 5, false), TRAP_SR_SGI);
	assert_int_equal(trap_sysreg_classify(3, 0, 12, 11, 5, true), TRAP_SR_UNDEF);
	assert_int_equal(trap_sysreg_classify(3, 0, 0, 4, 0, true), TRAP_SR_ID);
	assert_int_equal(trap_sysreg_classify(3, 0, 0, 4, 0, false), TRAP_SR_UNDEF);
	assert_int_equal(trap_sysreg_classify(1, 0, 7, 6, 2, false), TRAP_SR_SETWAY);  /* DC ISW */
	assert_int_equal(trap_sysreg_classify(1, 0, 7, 10, 2, false), TRAP_SR_SETWAY); /* DC CSW */
	assert_int_equal(trap_sysreg_classify(1, 0, 7, 14, 2, false), TRAP_SR_SETWAY); /* DC CISW */
	assert_int_equal(trap_sysreg_classify(3, 3, 9, 12, 0, true), TRAP_SR_PMU);  /* PMCR_EL0 */
	assert_int_equal(trap_sysreg_classify(3, 3, 14, 8, 0, true), TRAP_SR_PMU);  /* PMEVCNTR0 */
	assert_int_equal(trap_sysreg_classify(3, 0, 9, 14, 1, false), TRAP_SR_PMU); /* PMINTENSET */
	assert_int_equal(trap_sysreg_classify(3, 0, 1, 0, 1, false), TRAP_SR_RAZWI); /* ACTLR_EL1 */
	assert_int_equal(trap_sysreg_classify(3, 0, 5, 3, 0, true), TRAP_SR_RAZWI);  /* ERRIDR */
	assert_int_equal(trap_sysreg_classify(3, 0, 5, 4, 2, true), TRAP_SR_RAZWI);  /* ERXSTATUS */
	assert_int_equal(trap_sysreg_classify(3, 0, 10, 4, 7, true), TRAP_SR_UNDEF); /* LORID */
	assert_int_equal(trap_sysreg_classify(3, 1, 15, 2, 0, true), TRAP_SR_UNDEF); /* impdef */
	assert_int_equal(trap_sysreg_classify(3, 0, 11, 0, 0, false), TRAP_SR_UNDEF); /* impdef */
	assert_int_equal(trap_sysreg_classify(3, 3, 13, 2, 1, true), TRAP_SR_UNDEF);  /* AMU */
	assert_int_equal(trap_sysreg_classify(2, 1, 0, 1, 0, true), TRAP_SR_UNDEF);   /* trace */
	assert_int_equal(trap_sysreg_classify(3, 0, 9, 10, 0, true), TRAP_SR_UNDEF);  /* SPE */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_armv8_cpu),
		cmocka_unit_test(test_every_optional_feature),
		cmocka_unit_test(test_guest_pmu),
		cmocka_unit_test(test_guest_sve),
		cmocka_unit_test(test_id_registers),
		cmocka_unit_test(test_sysreg_classification),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
