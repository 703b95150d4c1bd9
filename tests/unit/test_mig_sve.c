/* SPDX-License-Identifier: Apache-2.0 */
/* The SVE migration blob (hyp/migrate/mig_sve.c): round trips at every vector length, the layout's
 * header, and every truncation, bit flip and impossible field refused with the output unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "migrate/mig_sve.h"

static struct mig_sve_state a, b, before;
static u8 blob[MIG_SVE_HDR + MIG_SVE_REGS_BYTES(MIG_SVE_VL_MAX)], bad[sizeof(blob)];

static void fill(struct mig_sve_state *s, u32 vl, u32 seed)
{
	memset(s, 0, sizeof(*s));
	s->vl = vl;
	s->zcr_el1 = (vl / 16 - 1) & 0xf;
	for (u32 i = 0; i < MIG_SVE_REGS_BYTES(vl); i++)
		s->regs[i] = (u8)(i * 131u + seed);
}

static void test_round_trip(void **state)
{
	const char *why;

	(void)state;
	for (u32 vl = 16; vl <= MIG_SVE_VL_MAX; vl += 16) {
		int n;

		fill(&a, vl, vl);
		n = mig_sve_encode(&a, 3, blob, sizeof(blob));
		assert_int_equal(n, 32 + 32 * vl + 17 * (vl / 8));
		assert_int_equal(get_le32(blob), 0x45565346);
		assert_int_equal(get_le16(blob + 18), vl);
		memset(&b, 0xaa, sizeof(b));
		assert_int_equal(mig_sve_decode(blob, (size_t)n, 3, vl, &b, &why), 0);
		assert_int_equal(b.vl, vl);
		assert_int_equal(b.zcr_el1, a.zcr_el1);
		assert_memory_equal(b.regs, a.regs, MIG_SVE_REGS_BYTES(vl));
	}
	fill(&a, 24, 1);
	assert_int_equal(mig_sve_encode(&a, 0, blob, sizeof(blob)), FERRY_EINVAL);
	fill(&a, 64, 1);
	assert_int_equal(mig_sve_encode(&a, 0, blob, 100), FERRY_EINVAL);
}

static void test_refused(void **state)
{
	const char *why;
	int n;

	(void)state;
	fill(&a, 64, 7);
	n = mig_sve_encode(&a, 1, blob, sizeof(blob));
	fill(&b, 64, 9);
	before = b;
	/* Another vCPU, another vector length. */
	assert_int_equal(mig_sve_decode(blob, (size_t)n, 0, 64, &b, &why), FERRY_EINVAL);
	assert_string_equal(why, "SVE blob for another vCPU");
	assert_int_equal(mig_sve_decode(blob, (size_t)n, 1, 32, &b, &why), FERRY_EINVAL);
	/* Every truncation and single-bit flip. */
	for (int len = 0; len < n; len++)
		assert_int_equal(mig_sve_decode(blob, (size_t)len, 1, 64, &b, &why), FERRY_EINVAL);
	for (int i = 0; i < 8 * n; i++) {
		memcpy(bad, blob, (size_t)n);
		bad[i / 8] ^= (u8)(1u << (i % 8));
		assert_int_equal(mig_sve_decode(bad, (size_t)n, 1, 64, &b, &why), FERRY_EINVAL);
	}
	/* ZCR_EL1 bits beyond LEN under a valid CRC. */
	memcpy(bad, blob, (size_t)n);
	put_le64(bad + 24, 0x10);
	put_le32(bad + 12, 0);
	put_le32(bad + 12, crc32c(0, bad, (size_t)n));
	assert_int_equal(mig_sve_decode(bad, (size_t)n, 1, 64, &b, &why), FERRY_EINVAL);
	assert_memory_equal(&b, &before, sizeof(b));
	assert_int_equal(mig_sve_decode(blob, (size_t)n, 1, 64, &b, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
