/* SPDX-License-Identifier: Apache-2.0 */
/* TLBI operand encoders and decoders: round trips over every field value, every field boundary,
 * rejection of what the operand cannot hold, and the three operands of the seed report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mm/tlbi.h"

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rng(void)
{
	/* xorshift64*: reproducible samples of the 37-bit base and of whole operands */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void test_range_round_trip_every_field(void **state)
{
	static const u64 bases[] = {
		0, 1, 0x40000, 0x1fffffffffULL, 0x1000000000ULL, 0x155555555ULL
	};
	(void)state;
	for (size_t b = 0; b < ARRAY_SIZE(bases) + 64; b++) {
		u64 base = b < ARRAY_SIZE(bases) ? bases[b] : rng() & GENMASK(36, 0);

		for (u32 tg = 1; tg <= 3; tg++)
			for (u32 scale = 0; scale <= 3; scale++)
				for (u32 num = 0; num <= 31; num++)
					for (u32 ttl = 0; ttl <= 3; ttl++) {
						struct tlbi_range_fields f = { base,  ttl, num,
									       scale, tg,  0 },
									 g;
						u64 op = 0;

						assert_int_equal(tlbi_range_encode(&f, &op), 0);
						/* Bit positions straight from the Arm ARM's field table. */
						assert_true(op ==
							    (base | (u64)ttl << 37 |
							     (u64)num << 39 | (u64)scale << 44 |
							     (u64)tg << 46));
						memset(&g, 0xa5, sizeof(g));
						tlbi_range_decode(op, &g);
						assert_true(g.base_page == base);
						assert_int_equal(g.ttl, ttl);
						assert_int_equal(g.num, num);
						assert_int_equal(g.scale, scale);
						assert_int_equal(g.tg, tg);
						assert_int_equal(g.high, 0);
						assert_true(tlbi_range_pages(&g) ==
							    ((u64)num + 1) << (5 * scale + 1));
					}
	}
}

static void test_range_rejects_out_of_range_fields(void **state)
{
	const struct tlbi_range_fields ok = { 0x40000, 0, 31, 3, 1, 0 };
	struct tlbi_range_fields f;
	u64 op = 0x1234;
	(void)state;

	f = ok;
	assert_int_equal(tlbi_range_encode(&f, &op), 0);
	assert_true(op == 0x7f8000040000ULL);
	op = 0x1234;
#define REJECT(field, value)                                                \
	do {                                                                \
		f = ok;                                                     \
		f.field = value;                                            \
		assert_int_equal(tlbi_range_encode(&f, &op), FERRY_EINVAL); \
		assert_true(op == 0x1234);                                  \
	} while (0)
	REJECT(base_page, 1ULL << 37);
	REJECT(base_page, ~0ULL);
	REJECT(ttl, 4);
	REJECT(num, 32);
	REJECT(num, 0xffffffffu);
	REJECT(scale, 4);
	REJECT(scale, 0xfffffff7u); /* the seed's scale of -9, as an unsigned field */
	REJECT(tg, 0);
	REJECT(tg, 4);
	REJECT(high, 1);
	REJECT(high, 0x8000);
#undef REJECT
	/* Largest value of each field accepted. */
	f = (struct tlbi_range_fields){ GENMASK(36, 0), 3, 31, 3, 3, 0 };
	assert_int_equal(tlbi_range_encode(&f, &op), 0);
	assert_true(op == GENMASK(47, 0));
}

static void test_range_decode_total(void **state)
{
	(void)state;
	/* Every operand decodes, and re-encoding the decoded fields gives back bits [47:0]. */
	for (int i = 0; i < 200000; i++) {
		u64 op = rng();
		struct tlbi_range_fields f;
		u64 again;

		tlbi_range_decode(op, &f);
		assert_int_equal(f.high, op >> 48);
		f.high = 0;
		if (f.tg == 0) {
			assert_int_equal(tlbi_range_encode(&f, &again), FERRY_EINVAL);
			continue;
		}
		assert_int_equal(tlbi_range_encode(&f, &again), 0);
		assert_true(again == (op & GENMASK(47, 0)));
	}
}

static void test_seed_operands(void **state)
{
	struct tlbi_range_fields f;
	u64 start, end;
	(void)state;

	/* Linux 6.8, 2^21 pages at 0x40000000: SCALE underflowed to -9. */
	tlbi_range_decode(0xffff708000040000ULL, &f);
	assert_true(f.base_page == 0x40000);
	assert_int_equal(f.ttl, 0);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.scale, 3);
	assert_int_equal(f.tg, TLBI_TG_4K);
	assert_int_equal(f.high, 0xffff);
	assert_true(tlbi_range_ipa_span(&f, &start, &end));
	assert_true(start == 0x40000000ULL && end == 0x60000000ULL); /* 512 MiB of the 8 GiB */

	/* Linux 6.6: SCALE 4 landed on TG's low bit. */
	tlbi_range_decode(0x400000040000ULL, &f);
	assert_int_equal(f.scale, 0);
	assert_int_equal(f.num, 0);
	assert_int_equal(f.tg, TLBI_TG_4K);
	assert_true(tlbi_range_ipa_span(&f, &start, &end));
	assert_true(start == 0x40000000ULL && end == 0x40002000ULL); /* 2 pages */

	/* The fix: SCALE 3 NUM 31 = 2^21 pages. */
	tlbi_range_decode(0x7f8000040000ULL, &f);
	assert_int_equal(f.scale, 3);
	assert_int_equal(f.num, 31);
	assert_true(tlbi_range_ipa_span(&f, &start, &end));
	assert_true(start == 0x40000000ULL && end == 0x240000000ULL);
	assert_true(tlbi_range_pages(&f) == TLBI_RANGE_MAX_PAGES);
}

static void test_range_other_granule_covers_nothing(void **state)
{
	struct tlbi_range_fields f = { 0x40000, 0, 31, 3, 3, 0 };
	struct tlbi_cover c;
	u64 op, start, end;
	(void)state;

	assert_int_equal(tlbi_range_encode(&f, &op), 0);
	assert_false(tlbi_range_ipa_span(&f, &start, &end));
	tlbi_op_cover(TLBI_RIPAS2E1IS, op, &c);
	assert_true(c.pages == 0);
	tlbi_op_cover(TLBI_RIPAS2E1IS, op & ~GENMASK(47, 46), &c); /* TG 0b00: reserved */
	assert_true(c.pages == 0);
}

static void test_range_ttl_alignment(void **state)
{
	struct tlbi_cover c;
	(void)state;

	/* TTL 2 needs BaseADDR[20:12] == 0, TTL 1 needs BaseADDR[29:12] == 0 (4K granule). */
	tlbi_op_cover(TLBI_RIPAS2E1IS, 1ULL << 46 | 2ULL << 37 | 0x40200, &c);
	assert_false(c.unpredictable);
	assert_int_equal(c.level, 2);
	tlbi_op_cover(TLBI_RIPAS2E1IS, 1ULL << 46 | 2ULL << 37 | 0x40201, &c);
	assert_true(c.unpredictable);
	tlbi_op_cover(TLBI_RIPAS2E1IS, 1ULL << 46 | 1ULL << 37 | 0x40000, &c);
	assert_false(c.unpredictable);
	tlbi_op_cover(TLBI_RIPAS2E1IS, 1ULL << 46 | 1ULL << 37 | 0x40200, &c);
	assert_true(c.unpredictable);
	tlbi_op_cover(TLBI_RIPAS2E1IS, 1ULL << 46 | 3ULL << 37 | 0x40201, &c);
	assert_false(c.unpredictable);
	assert_int_equal(c.level, 3);
}

static void test_ipa_round_trip_and_rejects(void **state)
{
	struct tlbi_ipa_fields f, g;
	struct tlbi_cover c;
	u64 op = 0x77;
	(void)state;

	for (int i = 0; i < 100000; i++) {
		f = (struct tlbi_ipa_fields){ rng() & GENMASK(39, 0), (u32)(rng() & 15), 0, 0 };
		assert_int_equal(tlbi_ipa_encode(&f, &op), 0);
		assert_true(op == (f.ipa_page | (u64)f.ttl << 44));
		tlbi_ipa_decode(op, &g);
		assert_true(g.ipa_page == f.ipa_page);
		assert_int_equal(g.ttl, f.ttl);
		assert_int_equal(g.high, 0);
		assert_int_equal(g.res0_43_40, 0);
	}
	op = 0x77;
	f = (struct tlbi_ipa_fields){ 1ULL << 40, 0, 0, 0 };
	assert_int_equal(tlbi_ipa_encode(&f, &op), FERRY_EINVAL);
	f = (struct tlbi_ipa_fields){ 0, 16, 0, 0 };
	assert_int_equal(tlbi_ipa_encode(&f, &op), FERRY_EINVAL);
	f = (struct tlbi_ipa_fields){ 0, 0, 1, 0 };
	assert_int_equal(tlbi_ipa_encode(&f, &op), FERRY_EINVAL);
	f = (struct tlbi_ipa_fields){ 0, 0, 0, 1 };
	assert_int_equal(tlbi_ipa_encode(&f, &op), FERRY_EINVAL);
	assert_true(op == 0x77);

	/* TTL: 0b01xx is a 4K leaf at level xx (0b0100 = no information without LPA2); 0b10xx and
	 * 0b11xx name another granule, so our 4K entries need not go at all. */
	tlbi_op_cover(TLBI_IPAS2E1IS, 0x40000 | 0x6ULL << 44, &c);
	assert_true(c.start_page == 0x40000 && c.pages == 1 && c.level == 2);
	tlbi_op_cover(TLBI_IPAS2E1IS, 0x40000 | 0x4ULL << 44, &c);
	assert_true(c.pages == 1 && c.level == -1);
	tlbi_op_cover(TLBI_IPAS2E1IS, 0x40000, &c);
	assert_true(c.pages == 1 && c.level == -1);
	tlbi_op_cover(TLBI_IPAS2E1IS, 0x40000 | 0xbULL << 44, &c);
	assert_true(c.pages == 0);
}

static void test_caps_from_idregs(void **state)
{
	struct tlbi_caps caps;
	(void)state;

	/* QEMU -cpu max: ISAR0.TLB = 2. neoverse-n1 / cortex-a72: 0. TLB = 1 is TLBIOS only. */
	tlbi_caps_from_idregs(2ULL << 56, 1ULL << 48, &caps);
	assert_true(caps.range && caps.ttl);
	tlbi_caps_from_idregs(1ULL << 56, 0, &caps);
	assert_false(caps.range);
	assert_false(caps.ttl);
	tlbi_caps_from_idregs(~(0xfULL << 56) | 2ULL << 56, ~(0xfULL << 48), &caps);
	assert_true(caps.range);
	assert_false(caps.ttl);
	tlbi_caps_from_idregs(0, 0, &caps);
	assert_false(caps.range);
}

static void test_describe(void **state)
{
	char buf[TLBI_DESCRIBE_MAX];
	char tiny[8];
	(void)state;

	assert_int_equal(tlbi_op_describe(TLBI_RIPAS2E1IS, 0xffff708000040000ULL, buf, sizeof(buf)),
			 0);
	assert_string_equal(buf,
			    "RIPAS2E1IS 0xffff708000040000 SCALE 3 NUM 1 TTL 0 [63:48]=0xffff: "
			    "IPA 0x40000000-0x5fffffff (131072 pages)");
	assert_int_equal(tlbi_op_describe(TLBI_IPAS2E1IS, 0x40000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "IPAS2E1IS 0x40000: IPA 0x40000000-0x40000fff (1 page)");
	assert_int_equal(tlbi_op_describe(TLBI_VMALLE1IS, 0, tiny, sizeof(tiny)), FERRY_ERANGE);
	assert_string_equal(tiny, "VMALLE1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_round_trip_every_field),
		cmocka_unit_test(test_range_rejects_out_of_range_fields),
		cmocka_unit_test(test_range_decode_total),
		cmocka_unit_test(test_seed_operands),
		cmocka_unit_test(test_range_other_granule_covers_nothing),
		cmocka_unit_test(test_range_ttl_alignment),
		cmocka_unit_test(test_ipa_round_trip_and_rejects),
		cmocka_unit_test(test_caps_from_idregs),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
