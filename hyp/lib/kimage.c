/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 Image header, read as untrusted input: a text_offset or image_size near 2^64 must not
 * make `offset + need` wrap below the room and send the copy outside the VM's RAM. */
#include "lib/kimage.h"

#include "lib/lib.h"
#include "lib/range.h"

#define KIMAGE_MAGIC 0x644d5241u /* "ARM\x64" */

int kimage_layout(const u8 *img, u64 size, u64 load_offset, u64 room, u64 initrd_size,
		  struct kimage_layout *out, const char **what)
{
	u64 offset = load_offset, need = size;

	out->offset = out->need = out->initrd_off = 0;
	*what = "image";
	if (size >= 64 && get_le32(img + 0x38) == KIMAGE_MAGIC) {
		offset = get_le64(img + 8);
		need = MAX(size, get_le64(img + 16));
	}
	out->offset = offset; /* also on failure: the caller's message names them */
	out->need = need;
	/* The entry is the first byte of the image: it must be an instruction address. */
	if (!IS_ALIGNED(offset, 4) || !range_within(offset, need, 0, room))
		return FERRY_ERANGE;
	if (!initrd_size)
		return FERRY_OK;
	/* The initrd goes high, 2 MiB aligned, as QEMU places it: far from the image's BSS. */
	*what = "initrd";
	if (initrd_size > room)
		return FERRY_ERANGE;
	out->initrd_off = (room - initrd_size) & ~(SZ_2M - 1);
	/* offset + need <= room here: it cannot wrap. */
	if (out->initrd_off < offset + need) {
		out->initrd_off = 0;
		return FERRY_ERANGE;
	}
	return FERRY_OK;
}
