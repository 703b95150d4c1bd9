/* SPDX-License-Identifier: Apache-2.0 */
/* ESR_EL2 data-abort ISS decoding, exhaustively over every ISS field combination that matters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/esr.h"

static void test_dabt_all_fields(void **state)
{
	(void)state;
	for (u64 isv = 0; isv < 2; isv++)
		for (u64 sas = 0; sas < 4; sas++)
			for (u64 sse = 0; sse < 2; sse++)
				for (u64 srt = 0; srt < 32; srt++)
					for (u64 sf = 0; sf < 2; sf++)
						for (u64 wnr = 0; wnr < 2; wnr++)
							for (u64 fsc = 0; fsc < 64; fsc++) {
								u64 esr =
									(0x24ULL << 26) |
									(1ULL << 25) | (isv << 24) |
									(sas << 22) | (sse << 21) |
									(srt << 16) | (sf << 15) |
									(wnr << 6) | fsc;
								struct dabt_info d;

								esr_decode_dabt(esr, &d);
								assert_int_equal(d.isv, isv);
								assert_int_equal(d.size, 1u << sas);
								assert_int_equal(d.sign_extend,
										 sse);
								assert_int_equal(d.srt, srt);
								assert_int_equal(d.sf, sf);
								assert_int_equal(d.write, wnr);
								assert_int_equal(d.dfsc, fsc);
								assert_int_equal(ESR_EC(esr), 0x24);
								assert_int_equal(ESR_IL(esr), 1);
							}
}

/* The syndrome of `str w1, [x0]` to an unmapped IPA, assembled from the Arm ARM's field layout:
 * EC 0x24, IL, ISV, 32-bit, x1, write, translation fault at level 1. */
static void test_dabt_real_syndrome(void **state)
{
	struct dabt_info d;
	(void)state;
	esr_decode_dabt(0x93810045, &d);
	assert_true(d.isv);
	assert_int_equal(d.size, 4);
	assert_int_equal(d.srt, 1);
	assert_true(d.write);
	assert_false(d.sf);
	assert_true(esr_fsc_is_translation(d.dfsc));
	assert_false(esr_fsc_is_permission(d.dfsc));
}

static void test_fsc_classes(void **state)
{
	(void)state;
	for (u32 lvl = 0; lvl < 4; lvl++) {
		assert_true(esr_fsc_is_translation(0x04 + lvl));
		assert_true(esr_fsc_is_access_flag(0x08 + lvl));
		assert_true(esr_fsc_is_permission(0x0c + lvl));
		assert_false(esr_fsc_is_permission(0x04 + lvl));
	}
	assert_false(esr_fsc_is_translation(0x10)); /* synchronous external abort */
	assert_false(esr_fsc_is_permission(0x21));  /* alignment */
}

static void test_fault_ipa(void **state)
{
	(void)state;
	/* HPFAR_EL2.FIPA holds IPA[51:12] in bits [43:4]; FAR gives the offset within the page. */
	assert_int_equal(esr_fault_ipa(0x800000, 0x80000123), 0x80000123);
	assert_int_equal(esr_fault_ipa(0x90000, 0xffff000000000abcULL), 0x9000abc);
	assert_int_equal(esr_fault_ipa(0xfffffffffff0ULL, 0), 0xffffffffff000ULL);
	assert_string_equal(esr_class_name(0x24), "data abort (lower EL)");
	assert_string_equal(esr_class_name(0x3d), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dabt_all_fields),
		cmocka_unit_test(test_dabt_real_syndrome),
		cmocka_unit_test(test_fsc_classes),
		cmocka_unit_test(test_fault_ipa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
