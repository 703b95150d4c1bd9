/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the arm64 Image header reader (hyp/lib/kimage.c). Input: load_offset, room
 * and initrd size (u64 each), then the image file itself, copied to a buffer of exactly its size so
 * that ASan catches a read past it. On success the layout must lie inside the room without any sum
 * wrapping: the image at a 4-byte aligned offset, occupying at least its file, the initrd 2 MiB
 * aligned above the image's end and inside the room. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "lib/kimage.h"
#include "lib/lib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u64 load_offset = take_u64(&in), room = take_u64(&in), initrd = take_u64(&in);
	u8 *img = malloc(in.n ? in.n : 1);
	struct kimage_layout l;
	const char *what = NULL;
	bool header;
	int err;

	memcpy(img, in.p, in.n);
	header = in.n >= 64 && get_le32(img + 0x38) == 0x644d5241u;
	err = kimage_layout(img, in.n, load_offset, room, initrd, &l, &what);
	FUZZ_CHECK(what && (!strcmp(what, "image") || !strcmp(what, "initrd")));
	/* The offset and need are reported either way (the caller's message names them). */
	FUZZ_CHECK(l.offset == (header ? get_le64(img + 8) : load_offset));
	FUZZ_CHECK(l.need >= in.n);
	if (header)
		FUZZ_CHECK(l.need == MAX((u64)in.n, get_le64(img + 16)));
	if (err == FERRY_OK) {
		FUZZ_CHECK(l.offset % 4 == 0);
		FUZZ_CHECK(l.offset <= room && l.need <= room - l.offset);
		if (initrd) {
			FUZZ_CHECK(l.initrd_off % (2u << 20) == 0);
			FUZZ_CHECK(l.initrd_off >= l.offset + l.need);
			FUZZ_CHECK(initrd <= room && l.initrd_off <= room - initrd);
		} else {
			FUZZ_CHECK(l.initrd_off == 0);
		}
	} else {
		FUZZ_CHECK(err == FERRY_ERANGE && l.initrd_off == 0);
		/* Refused only for a reason: recompute the verdict without the code's shortcuts. */
		if (!strcmp(what, "image"))
			FUZZ_CHECK(l.offset % 4 || l.offset > room || l.need > room - l.offset);
		else
			FUZZ_CHECK(initrd > room ||
				   ((room - initrd) & ~((u64)(2u << 20) - 1)) < l.offset + l.need);
	}
	free(img);
	return 0;
}
