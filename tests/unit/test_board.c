/* SPDX-License-Identifier: Apache-2.0 */
/* The PL031 and the empty virtio-mmio slots (hyp/vdev/vpl031.c, vvirtio_empty.c) against ARM DDI
 * 0224 and the virtio 1.x MMIO layout: IDs, the counter following the wall clock, RTCLR, the match
 * and its interrupt (masked, cleared, wrapping), access sizes, and the migration blob: round trip,
 * time going on across it, every corruption refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "vdev/board.h"

#define T0 1700000000ULL

static u32 rd(struct vpl031 *r, u64 off, u64 now) { return vpl031_read(r, off, 4, now); }
static void wr(struct vpl031 *r, u64 off, u32 v, u64 now) { vpl031_write(r, off, 4, v, now); }

static void test_ids_and_count(void **state)
{
	static const u8 id[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	struct vpl031 r;

	(void)state;
	vpl031_reset(&r, T0);
	for (u32 i = 0; i < 8; i++)
		assert_int_equal(rd(&r, 0xfe0 + 4 * i, T0), id[i]);
	assert_int_equal(rd(&r, 0x000, T0), (u32)T0);
	assert_int_equal(rd(&r, 0x000, T0 + 5), (u32)(T0 + 5));
	assert_int_equal(rd(&r, 0x00c, T0), 1); /* RTCCR: running */
	wr(&r, 0x00c, 0, T0);                   /* cannot be stopped */
	assert_int_equal(rd(&r, 0x00c, T0), 1);
	/* Only whole, aligned words. */
	assert_int_equal(vpl031_read(&r, 0x000, 1, T0), 0);
	assert_int_equal(vpl031_read(&r, 0x002, 4, T0), 0);
	assert_int_equal(vpl031_read(&r, 0x1000, 4, T0), 0);
	vpl031_write(&r, 0x008, 2, 5, T0);
	assert_int_equal(rd(&r, 0x000, T0), (u32)T0);
	assert_int_equal(rd(&r, 0x020, T0), 0); /* reserved */
}

static void test_load(void **state)
{
	struct vpl031 r;

	(void)state;
	vpl031_reset(&r, T0);
	wr(&r, 0x008, 1000, T0 + 3);
	assert_int_equal(rd(&r, 0x008, T0 + 3), 1000);
	assert_int_equal(rd(&r, 0x000, T0 + 3), 1000);
	assert_int_equal(rd(&r, 0x000, T0 + 13), 1010);
	/* Wrapping at 2^32. */
	wr(&r, 0x008, 0xfffffffe, T0);
	assert_int_equal(rd(&r, 0x000, T0 + 3), 1);
}

static void test_match(void **state)
{
	struct vpl031 r;

	(void)state;
	vpl031_reset(&r, T0);
	assert_false(vpl031_irq_line(&r, T0 + 100)); /* MR 0 is not armed out of reset */
	assert_int_equal(rd(&r, 0x014, T0 + 100), 0);
	wr(&r, 0x004, (u32)T0 + 5, T0);
	assert_int_equal(rd(&r, 0x004, T0), (u32)T0 + 5);
	assert_int_equal(rd(&r, 0x014, T0 + 4), 0);
	assert_int_equal(rd(&r, 0x014, T0 + 5), 1); /* RIS */
	assert_int_equal(rd(&r, 0x018, T0 + 5), 0); /* MIS: masked */
	assert_false(vpl031_irq_line(&r, T0 + 5));
	wr(&r, 0x010, 1, T0 + 6);
	assert_int_equal(rd(&r, 0x010, T0 + 6), 1);
	assert_int_equal(rd(&r, 0x018, T0 + 6), 1);
	assert_true(vpl031_irq_line(&r, T0 + 6));
	wr(&r, 0x01c, 1, T0 + 6); /* ICR */
	assert_false(vpl031_irq_line(&r, T0 + 6));
	assert_int_equal(rd(&r, 0x014, T0 + 100), 0); /* a match happens once */
	/* A match register equal to the count matches at once. */
	wr(&r, 0x004, (u32)T0 + 200, T0 + 200);
	assert_true(vpl031_irq_line(&r, T0 + 200));
	wr(&r, 0x01c, 1, T0 + 200);
	/* One in the past lies 2^32 seconds ahead, not behind. */
	wr(&r, 0x004, (u32)T0, T0 + 300);
	assert_false(vpl031_irq_line(&r, T0 + 100000));
	/* RTCLR moves the count and re-arms relative to it. */
	wr(&r, 0x008, (u32)T0 - 2, T0 + 300);
	assert_false(vpl031_irq_line(&r, T0 + 301));
	assert_true(vpl031_irq_line(&r, T0 + 302));
	/* Clearing IMSC lowers the line, RIS stays. */
	wr(&r, 0x010, 0, T0 + 303);
	assert_false(vpl031_irq_line(&r, T0 + 303));
	assert_int_equal(rd(&r, 0x014, T0 + 303), 1);
}

static void test_migration_blob(void **state)
{
	struct vpl031 a, b, before;
	u8 blob[VPL031_BLOB_LEN], bad[VPL031_BLOB_LEN];

	(void)state;
	vpl031_reset(&a, T0);
	wr(&a, 0x008, 5000, T0); /* the guest set its clock */
	wr(&a, 0x004, 5100, T0); /* match 100 s ahead */
	wr(&a, 0x010, 1, T0);
	assert_int_equal(vpl031_save(&a, T0 + 10, blob, 8), FERRY_EINVAL);
	assert_int_equal(vpl031_save(&a, T0 + 10, blob, sizeof(blob)), VPL031_BLOB_LEN);
	/* Loaded 2 s later by a clock that agrees: the count went on by 2 s. */
	vpl031_reset(&b, T0 + 12);
	assert_int_equal(vpl031_load(&b, T0 + 12, blob, sizeof(blob)), 0);
	assert_int_equal(rd(&b, 0x000, T0 + 12), 5012);
	assert_int_equal(rd(&b, 0x004, T0 + 12), 5100);
	assert_int_equal(rd(&b, 0x008, T0 + 12), 5000);
	assert_int_equal(rd(&b, 0x010, T0 + 12), 1);
	assert_false(vpl031_irq_line(&b, T0 + 99));
	assert_true(vpl031_irq_line(&b, T0 + 100)); /* the match is still at count 5100 */
	/* A destination clock behind the source's: the count does not go back. */
	vpl031_reset(&b, 1000);
	assert_int_equal(vpl031_load(&b, 1000, blob, sizeof(blob)), 0);
	assert_int_equal(rd(&b, 0x000, 1000), 5010);
	/* A match that came due during the migration is raised at once. */
	vpl031_reset(&b, T0 + 200);
	assert_int_equal(vpl031_load(&b, T0 + 200, blob, sizeof(blob)), 0);
	assert_true(vpl031_irq_line(&b, T0 + 200));
	/* Every single-bit flip, truncation and length is refused, leaving the device unchanged. */
	vpl031_reset(&b, T0);
	wr(&b, 0x008, 77, T0);
	before = b;
	for (u32 i = 0; i < 8 * VPL031_BLOB_LEN; i++) {
		memcpy(bad, blob, sizeof(bad));
		bad[i / 8] ^= (u8)(1u << (i % 8));
		assert_int_equal(vpl031_load(&b, T0, bad, sizeof(bad)), FERRY_EINVAL);
		assert_memory_equal(&b, &before, sizeof(b));
	}
	for (u32 n = 0; n < VPL031_BLOB_LEN; n++)
		assert_int_equal(vpl031_load(&b, T0, blob, n), FERRY_EINVAL);
	/* Impossible flags under a valid CRC. */
	memcpy(bad, blob, sizeof(bad));
	put_le32(bad + 20, 8);
	put_le32(bad + 36, 0);
	put_le32(bad + 36, crc32c(0, bad, sizeof(bad)));
	assert_int_equal(vpl031_load(&b, T0, bad, sizeof(bad)), FERRY_EINVAL);
	memcpy(bad, blob, sizeof(bad));
	put_le32(bad + 32, 0); /* armed, but no time to the match */
	put_le32(bad + 36, 0);
	put_le32(bad + 36, crc32c(0, bad, sizeof(bad)));
	assert_int_equal(vpl031_load(&b, T0, bad, sizeof(bad)), FERRY_EINVAL);
	assert_memory_equal(&b, &before, sizeof(b));
}

static void test_virtio_empty(void **state)
{
	(void)state;
	assert_int_equal(vvirtio_empty_read(0x000, 4), 0x74726976);
	assert_int_equal(vvirtio_empty_read(0x004, 4), 2);
	assert_int_equal(vvirtio_empty_read(0x008, 4), 0);
	assert_int_equal(vvirtio_empty_read(0x00c, 4), 0x554d4551);
	for (u64 off = 0x010; off < VVIRTIO_STRIDE; off += 4)
		assert_int_equal(vvirtio_empty_read(off, 4), 0);
	assert_int_equal(vvirtio_empty_read(0x000, 1), 0);
	assert_int_equal(vvirtio_empty_read(0x002, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_count), cmocka_unit_test(test_load),
		cmocka_unit_test(test_match),         cmocka_unit_test(test_migration_blob),
		cmocka_unit_test(test_virtio_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
