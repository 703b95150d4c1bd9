/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/lib/kimage: the Image header as hostile input. The crafted headers here made the loader's old
 * check (`offset + need > room`) wrap and copy the image below the VM's RAM, over ferry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/kimage.h"
#include "lib/lib.h"

#define ROOM (62ULL << 20) /* a 64 MiB VM less the 2 MiB kept for its DTB */

static void header(u8 *img, u64 text_offset, u64 image_size)
{
	memset(img, 0, 64);
	put_le64(img + 8, text_offset);
	put_le64(img + 16, image_size);
	put_le32(img + 0x38, 0x644d5241u);
}

static void test_plain_image_at_load_offset(void **state)
{
	u8 img[128] = { 0 };
	struct kimage_layout l;
	const char *what;
	(void)state;
	assert_int_equal(kimage_layout(img, sizeof(img), 0x80000, ROOM, 0, &l, &what), FERRY_OK);
	assert_int_equal(l.offset, 0x80000);
	assert_int_equal(l.need, sizeof(img));
	assert_int_equal(l.initrd_off, 0);
}

static void test_header_offset_and_bss(void **state)
{
	u8 img[4096];
	struct kimage_layout l;
	const char *what;
	(void)state;
	header(img, 0x200000, 0x100000);
	assert_int_equal(kimage_layout(img, sizeof(img), 0x80000, ROOM, 0, &l, &what), FERRY_OK);
	assert_int_equal(l.offset, 0x200000);
	assert_int_equal(l.need, 0x100000);
	/* exactly filling the room */
	header(img, ROOM - 0x100000, 0x100000);
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_OK);
	/* one byte more */
	header(img, ROOM - 0x100000, 0x100001);
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_ERANGE);
	assert_string_equal(what, "image");
}

static void test_wrapping_headers_rejected(void **state)
{
	u8 img[4096];
	struct kimage_layout l;
	const char *what;
	(void)state;
	/* text_offset 64 MiB below 2^64 and image_size 64 MiB + 4 KiB: offset + need wrapped to 4 KiB,
	 * the copy landed 64 MiB below the VM's RAM (ferry's image and page pool under the default
	 * layout). */
	header(img, 0ULL - (64ULL << 20), (64ULL << 20) + 4096);
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_ERANGE);
	header(img, 0ULL - (64ULL << 20), 0);
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_ERANGE);
	header(img, 0ULL - 4096, 4096); /* sum exactly 2^64 == 0 */
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_ERANGE);
	header(img, 0x80000, ~0ULL); /* image_size wraps the sum */
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_ERANGE);
	header(img, ~0ULL, 1);
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_ERANGE);
	header(img, 0x80002, 0); /* not an instruction address */
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 0, &l, &what), FERRY_ERANGE);
	assert_string_equal(what, "image");
	/* A load offset past the room without a header. */
	memset(img, 0, sizeof(img));
	assert_int_equal(kimage_layout(img, sizeof(img), ~0ULL - 3, ROOM, 0, &l, &what),
			 FERRY_ERANGE);
}

static void test_short_file_has_no_header(void **state)
{
	u8 img[63];
	struct kimage_layout l;
	const char *what;
	(void)state;
	memset(img, 0xff, sizeof(img));
	assert_int_equal(kimage_layout(img, sizeof(img), 0x80000, ROOM, 0, &l, &what), FERRY_OK);
	assert_int_equal(l.offset, 0x80000);
	assert_int_equal(kimage_layout(img, 0, 0x80000, ROOM, 0, &l, &what), FERRY_OK);
}

static void test_initrd_edges(void **state)
{
	u8 img[4096];
	struct kimage_layout l;
	const char *what;
	(void)state;
	header(img, 0x200000, 0x1000000);
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, 1 << 20, &l, &what), FERRY_OK);
	assert_int_equal(l.initrd_off, ROOM - (2ULL << 20));
	assert_true(l.initrd_off + (1 << 20) <= ROOM);
	/* bigger than the room, and 2^64 - 1 (room - size wrapped before) */
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, ROOM + 1, &l, &what),
			 FERRY_ERANGE);
	assert_string_equal(what, "initrd");
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, ~0ULL, &l, &what), FERRY_ERANGE);
	/* reaching into the image */
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, ROOM - 0x1200000 + 1, &l, &what),
			 FERRY_ERANGE);
	/* touching it exactly */
	assert_int_equal(kimage_layout(img, sizeof(img), 0, ROOM, ROOM - 0x1200000, &l, &what),
			 FERRY_OK);
	assert_int_equal(l.initrd_off, 0x1200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_image_at_load_offset),
		cmocka_unit_test(test_header_offset_and_bss),
		cmocka_unit_test(test_wrapping_headers_rejected),
		cmocka_unit_test(test_short_file_has_no_header),
		cmocka_unit_test(test_initrd_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
