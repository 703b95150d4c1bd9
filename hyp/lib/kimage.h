/* SPDX-License-Identifier: Apache-2.0 */
/* Where a VM's kernel image and initrd go in its RAM, from the arm64 Image header (Linux's
 * Documentation/arch/arm64/booting.rst: text_offset at byte 8, image_size at 16, magic "ARM\x64" at
 * 0x38). Images are input like any other: every header field is checked without overflow. */
#ifndef FERRY_KIMAGE_H
#define FERRY_KIMAGE_H

#include "types.h"

struct kimage_layout {
	u64 offset; /* where the image goes, from the start of RAM */
	u64 need;   /* bytes it occupies from there: its file or the header's image_size (BSS) */
	u64 initrd_off; /* where the initrd goes (0 when there is none) */
};

/* img/size: the image file; load_offset: where an image without a header goes; room: the RAM the
 * image and initrd may use (from offset 0); initrd_size: 0 for none. Returns FERRY_OK, or
 * FERRY_ERANGE with *what naming what does not fit ("image" or "initrd"); offset and need are
 * filled in either way. */
int kimage_layout(const u8 *img, u64 size, u64 load_offset, u64 room, u64 initrd_size,
		  struct kimage_layout *out, const char **what);

#endif
