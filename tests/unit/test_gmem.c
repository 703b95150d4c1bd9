/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory access (hyp/lib/gmem.c), which the ITS and the vGIC's LPIs read their tables
 * through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gmem.h"
#include "lib/lib.h"

/* lib/gmem: whole ranges inside RAM only, no wrap at the top of the address space. */
static void test_gmem(void **state)
{
	u8 small[16] = { 0 }, b[8];
	struct gmem m = { .ipa = 0x1000, .size = sizeof(small), .host = small },
		    top = { .ipa = ~0ULL - 15, .size = 16, .host = small };
	u64 v;

	(void)state;
	assert_int_equal(gmem_write64(&m, 0x1008, 0x0102030405060708ULL), 0);
	assert_int_equal(small[8], 0x08);
	assert_int_equal(small[15], 0x01);
	assert_int_equal(gmem_read64(&m, 0x1008, &v), 0);
	assert_int_equal(v, 0x0102030405060708ULL);
	assert_int_equal(gmem_read(&m, 0x1009, b, 8), FERRY_ERANGE); /* one byte past the end */
	assert_int_equal(gmem_read(&m, 0xfff, b, 2), FERRY_ERANGE);  /* one byte before */
	assert_int_equal(gmem_read(&m, 0x1010, b, 1), FERRY_ERANGE);
	assert_int_equal(gmem_read(&m, 0x1000, b, 0), FERRY_ERANGE);    /* nothing to copy */
	assert_int_equal(gmem_read(&m, ~0ULL - 3, b, 8), FERRY_ERANGE); /* would wrap */
	assert_int_equal(gmem_write(NULL, 0x1000, b, 1), FERRY_ERANGE);
	assert_int_equal(gmem_read64(&top, ~0ULL - 7, &v), 0); /* ends exactly at 2^64 */
	assert_int_equal(gmem_read64(&top, ~0ULL - 6, &v), FERRY_ERANGE);
	m.size = ~0ULL; /* a window that is itself not representable: refused */
	assert_int_equal(gmem_read(&m, 0x1000, b, 1), FERRY_ERANGE);
}

/* Post-copy: a page not yet here is never read or written through gmem; fetch waits for it. */
static int gmem_fetch_calls;
static u64 gmem_fake_absent[1];

static int fake_fetch(void *ctx, u64 ipa, u64 len)
{
	(void)ipa;
	(void)len;
	gmem_fetch_calls++;
	if (!ctx)
		return FERRY_EAGAIN;  /* e.g. on the CPU that would have to fetch it */
	gmem_fake_absent[0] &= ~2ULL; /* the page at 0x2000 arrives */
	return 0;
}

static void test_gmem_absent_pages(void **state)
{
	static u8 pages[4 * 4096];
	struct gmem m = {
		.ipa = 0x1000, .size = sizeof(pages), .host = pages, .absent = gmem_fake_absent
	};
	u8 b[16] = { 0 };
	u64 v;

	(void)state;
	memset(pages, 0xee, sizeof(pages));
	gmem_fake_absent[0] = 2;                                     /* the page at 0x2000 */
	assert_int_equal(gmem_read64(&m, 0x1ff8, &v), 0);            /* the page before */
	assert_int_equal(gmem_read(&m, 0x1ffc, b, 8), FERRY_EAGAIN); /* straddles into it */
	assert_int_equal(gmem_write64(&m, 0x2800, 1), FERRY_EAGAIN);
	assert_int_equal(pages[0x1800], 0xee); /* nothing written */
	assert_true(gmem_absent(&m, 0x2fff, 1));
	assert_false(gmem_absent(&m, 0x3000, 8));
	m.fetch = fake_fetch; /* fails: still refused */
	assert_int_equal(gmem_read64(&m, 0x2000, &v), FERRY_EAGAIN);
	assert_int_equal(gmem_fetch_calls, 1);
	m.fetch_ctx = &m; /* fetches: the access goes on */
	assert_int_equal(gmem_write64(&m, 0x2800, 0x1122), 0);
	assert_int_equal(gmem_fetch_calls, 2);
	assert_int_equal(pages[0x1800], 0x22);
	assert_int_equal(gmem_read64(&m, 0x2800, &v), 0);
	assert_int_equal(gmem_fetch_calls, 2); /* here now: no fetch */
	assert_int_equal(v, 0x1122);
}

/* Every write that succeeds is reported after its bytes are in place, with its range; a refused one
 * is not (dirty logging's record of ferry's own writes to guest memory). */
static u64 wrote_ipa, wrote_len;
static int wrote_calls;
static u8 *wrote_page;

static void fake_wrote(void *ctx, u64 ipa, u64 len)
{
	assert_ptr_equal(ctx, &wrote_calls);
	wrote_calls++;
	wrote_ipa = ipa;
	wrote_len = len;
	assert_int_equal(wrote_page[ipa - 0x1000], 0x5a); /* the first byte is already written */
}

static void test_gmem_reports_writes(void **state)
{
	static u8 page[4096];
	struct gmem m = { .ipa = 0x1000,
			  .size = sizeof(page),
			  .host = page,
			  .wrote = fake_wrote,
			  .wrote_ctx = &wrote_calls };
	u8 b[3] = { 0x5a, 0x5a, 0x5a };
	u16 v;

	(void)state;
	wrote_page = page;
	assert_int_equal(gmem_write(&m, 0x1ffd, b, 3), 0);
	assert_int_equal(wrote_calls, 1);
	assert_int_equal(wrote_ipa, 0x1ffd);
	assert_int_equal(wrote_len, 3);
	assert_int_equal(gmem_write64(&m, 0x1100, 0x5a), 0);
	assert_int_equal(wrote_calls, 2);
	assert_int_equal(wrote_len, 8);
	assert_int_equal(gmem_store16_release(&m, 0x1200, 0x5a5a), 0);
	assert_int_equal(wrote_calls, 3);
	assert_int_equal(wrote_ipa, 0x1200);
	assert_int_equal(wrote_len, 2);
	/* Refused: outside, unaligned, wrapping. Reads report nothing. */
	assert_int_equal(gmem_write(&m, 0x1ffe, b, 3), FERRY_ERANGE);
	assert_int_equal(gmem_store16_release(&m, 0x1201, 1), FERRY_ERANGE);
	assert_int_equal(gmem_write64(&m, ~0ULL - 3, 1), FERRY_ERANGE);
	assert_int_equal(gmem_read(&m, 0x1000, b, 3), 0);
	assert_int_equal(gmem_load16_acquire(&m, 0x1200, &v), 0);
	assert_int_equal(wrote_calls, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gmem),
		cmocka_unit_test(test_gmem_absent_pages),
		cmocka_unit_test(test_gmem_reports_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
