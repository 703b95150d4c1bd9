/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's side of a partitioned PMU (hyp/vdev/vpmu.c) over a PMU that, like QEMU 7.2's,
 * applies MDCR_EL2.HPMN to nothing: every register is an array slot, so whatever reaches the
 * "hardware" is seen exactly. Counter 5 is ferry's (HPMN = 5 of 6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "vdev/vpmu.h"

static u64 hwreg[VPMU_NR];
static u32 writes;

/* Each set/clear pair is one register of the PMU: its state lives in the set slot. */
static u32 state_of(u32 reg)
{
	return reg == VPMU_CNTENCLR   ? VPMU_CNTENSET
	       : reg == VPMU_INTENCLR ? VPMU_INTENSET
	       : reg == VPMU_OVSCLR   ? VPMU_OVSSET
				      : reg;
}

static u64 hw_read(u32 reg)
{
	assert_true(reg < VPMU_NR && reg != VPMU_SWINC); /* write-only: never read at EL2 */
	return hwreg[state_of(reg)];
}

static void hw_write(u32 reg, u64 val)
{
	assert_true(reg < VPMU_NR && reg != VPMU_CEID0 && reg != VPMU_CEID1);
	writes++;
	if (reg == VPMU_CNTENSET || reg == VPMU_INTENSET || reg == VPMU_OVSSET)
		hwreg[reg] |= val;
	else if (state_of(reg) != reg)
		hwreg[state_of(reg)] &= ~val;
	else
		hwreg[reg] = val;
}

static struct vpmu_hw hw = { hw_read, hw_write, false };

static void reset(void)
{
	memset(hwreg, 0, sizeof(hwreg));
	hwreg[VPMU_PMCR] = 6ULL << 11; /* six event counters */
	hwreg[VPMU_CNTENSET] = BIT(5); /* ferry's counter runs */
	hwreg[VPMU_EVCNTR0 + 5] = 123456;
	hwreg[VPMU_EVTYPER0 + 5] = 0x08;
	writes = 0;
}

static u64 rd(u32 reg)
{
	u64 v = ~0ULL;

	assert_int_equal(vpmu_access(&hw, 5, reg, true, &v), FERRY_OK);
	return v;
}

static void wr(u32 reg, u64 v) { assert_int_equal(vpmu_access(&hw, 5, reg, false, &v), FERRY_OK); }

static void test_decode(void **state)
{
	(void)state;
	assert_int_equal(vpmu_reg_of(3, 9, 12, 0), VPMU_PMCR);
	assert_int_equal(vpmu_reg_of(3, 9, 12, 5), VPMU_SELR);
	assert_int_equal(vpmu_reg_of(3, 9, 13, 2), VPMU_XEVCNTR);
	assert_int_equal(vpmu_reg_of(3, 9, 14, 0), VPMU_USERENR);
	assert_int_equal(vpmu_reg_of(0, 9, 14, 1), VPMU_INTENSET);
	assert_int_equal(vpmu_reg_of(0, 9, 14, 2), VPMU_INTENCLR);
	assert_int_equal(vpmu_reg_of(3, 9, 14, 3), VPMU_OVSSET);
	assert_int_equal(vpmu_reg_of(3, 14, 8, 5), VPMU_EVCNTR0 + 5);
	assert_int_equal(vpmu_reg_of(3, 14, 11, 6), VPMU_EVCNTR0 + 30);
	assert_int_equal(vpmu_reg_of(3, 14, 11, 7), -1); /* no PMEVCNTR31 */
	assert_int_equal(vpmu_reg_of(3, 14, 13, 1), VPMU_EVTYPER0 + 9);
	assert_int_equal(vpmu_reg_of(3, 14, 15, 7), VPMU_CCFILTR);
	assert_int_equal(vpmu_reg_of(0, 9, 14, 0), -1);
	assert_int_equal(vpmu_reg_of(3, 9, 13, 3), -1);
	assert_int_equal(vpmu_reg_of(0, 1, 0, 0), -1);
}

/* Every set/clear pair: bit 5 is neither seen nor changed; the guest's and the cycle bit are. */
static void test_bit_registers_hide_ferrys_counter(void **state)
{
	static const u32 pairs[][2] = { { VPMU_CNTENSET, VPMU_CNTENCLR },
					{ VPMU_INTENSET, VPMU_INTENCLR },
					{ VPMU_OVSSET, VPMU_OVSCLR } };

	(void)state;
	reset();
	wr(VPMU_CNTENSET, 0x7fffffff); /* kvm-unit-tests' "enable all, implemented or not" */
	assert_int_equal(hwreg[VPMU_CNTENSET], 0x3f);
	assert_int_equal(rd(VPMU_CNTENSET), 0x1f);
	assert_int_equal(rd(VPMU_CNTENCLR), 0x1f);
	for (u32 i = 0; i < ARRAY_SIZE(pairs); i++) {
		reset();
		hwreg[pairs[i][0]] = BIT(5) | BIT(2);
		assert_int_equal(rd(pairs[i][0]), BIT(2));
		assert_int_equal(rd(pairs[i][1]), BIT(2));
		wr(pairs[i][0], ~0ULL);
		assert_int_equal(hwreg[pairs[i][0]], 0x8000003fULL);
		wr(pairs[i][1], ~0ULL);
		assert_int_equal(hwreg[pairs[i][0]], BIT(5)); /* ferry's stays as it was */
	}
}

/* PMSWINC is emulated: enabled SW_INCR counters step, wrap at 32 bits (64 with LP), overflow. */
static void test_software_increment(void **state)
{
	(void)state;
	reset();
	hwreg[VPMU_EVTYPER0 + 5] = 0; /* even were ferry's counter SW_INCR */
	hwreg[VPMU_EVCNTR0 + 0] = 0xfffffffe;
	hwreg[VPMU_EVCNTR0 + 1] = 7;
	hwreg[VPMU_EVTYPER0 + 1] = 0x11; /* CPU_CYCLES: not stepped */
	hwreg[VPMU_EVCNTR0 + 2] = 3;     /* SW_INCR but not enabled */
	hwreg[VPMU_CNTENSET] |= 0x3;
	wr(VPMU_SWINC, 0x7);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 0], 0xfffffffe); /* PMCR.E clear: nothing */
	hwreg[VPMU_PMCR] |= 1;
	wr(VPMU_SWINC, 0x27);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 0], 0xffffffff);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 1], 7);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 2], 3);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 5], 123456);
	assert_int_equal(hwreg[VPMU_OVSSET], 0);
	wr(VPMU_SWINC, 0x1);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 0], 0);
	assert_int_equal(hwreg[VPMU_OVSSET], BIT(0));
	/* 64-bit counters (PMUv3p5): they count on past 32 bits, overflowing there without
	 * PMCR.LP and at 64 bits with it. */
	hw.wide = true;
	hwreg[VPMU_OVSSET] = 0;
	hwreg[VPMU_EVCNTR0 + 0] = 0xffffffff;
	wr(VPMU_SWINC, 0x1);
	assert_true(hwreg[VPMU_EVCNTR0 + 0] == 0x100000000ULL && hwreg[VPMU_OVSSET] == BIT(0));
	hwreg[VPMU_PMCR] |= BIT(7);
	hwreg[VPMU_OVSSET] = 0;
	hwreg[VPMU_EVCNTR0 + 0] = 0xffffffff;
	wr(VPMU_SWINC, 0x1);
	assert_true(hwreg[VPMU_EVCNTR0 + 0] == 0x100000000ULL && !hwreg[VPMU_OVSSET]);
	hwreg[VPMU_EVCNTR0 + 0] = ~0ULL;
	wr(VPMU_SWINC, 0x1);
	assert_true(hwreg[VPMU_EVCNTR0 + 0] == 0 && hwreg[VPMU_OVSSET] == BIT(0));
	hw.wide = false;
	assert_int_equal(rd(VPMU_SWINC), 0);
}

static void test_pmcr(void **state)
{
	(void)state;
	reset();
	hwreg[VPMU_EVCNTR0 + 0] = 7;
	hwreg[VPMU_EVCNTR0 + 4] = 9;
	assert_int_equal((rd(VPMU_PMCR) >> 11) & 0x1f, 5);
	wr(VPMU_PMCR, 1 | 2); /* E, P */
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 0], 0);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 4], 0);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 5], 123456); /* ferry's count goes on */
	assert_int_equal(hwreg[VPMU_PMCR], 1);
}

static void test_counters_beyond_hpmn_undefined(void **state)
{
	u64 v = 0;

	(void)state;
	reset();
	assert_int_equal(vpmu_access(&hw, 5, VPMU_EVCNTR0 + 5, true, &v), FERRY_EINVAL);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_EVCNTR0 + 5, false, &v), FERRY_EINVAL);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_EVTYPER0 + 5, false, &v), FERRY_EINVAL);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_EVCNTR0 + 30, true, &v), FERRY_EINVAL);
	assert_int_equal(hwreg[VPMU_EVCNTR0 + 5], 123456);
	assert_int_equal(hwreg[VPMU_EVTYPER0 + 5], 0x08);
	wr(VPMU_EVCNTR0 + 4, 77);
	assert_int_equal(rd(VPMU_EVCNTR0 + 4), 77);
	/* Through PMSELR: SEL 5 undefined, SEL 31 is the cycle counter's filter, SEL 4 the guest's. */
	wr(VPMU_SELR, 5);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_XEVCNTR, true, &v), FERRY_EINVAL);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_XEVTYPER, false, &v), FERRY_EINVAL);
	wr(VPMU_SELR, 31);
	wr(VPMU_XEVTYPER, 0x1234);
	wr(VPMU_SELR, 4);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_XEVCNTR, true, &v), FERRY_OK);
	/* Read-only and absent registers. */
	assert_int_equal(vpmu_access(&hw, 5, VPMU_CEID0, false, &v), FERRY_EINVAL);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_CEID1, true, &v), FERRY_OK);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_CCFILTR + 1, true, &v), FERRY_EINVAL);
	assert_int_equal(vpmu_access(&hw, 5, VPMU_NR, true, &v), FERRY_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_bit_registers_hide_ferrys_counter),
		cmocka_unit_test(test_software_increment),
		cmocka_unit_test(test_pmcr),
		cmocka_unit_test(test_counters_beyond_hpmn_undefined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
