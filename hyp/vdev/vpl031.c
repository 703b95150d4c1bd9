/* SPDX-License-Identifier: Apache-2.0 */
/* The PL031 real-time clock (ARM DDI 0224, "PrimeCell Real Time Clock"): RTCDR counts seconds,
 * RTCLR loads it, RTCMR raises RTCRIS when the count reaches it, RTCIMSC masks that into the
 * interrupt, RTCICR clears it. RTCCR's start bit reads 1 (the counter always runs), as QEMU's. The
 * count is kept as an offset from the host's wall clock, so it needs no timer of its own, and it
 * moves across a migration as a count, not as an offset between two machines' clocks. */
#include <string.h>

#include "lib/lib.h"
#include "vdev/board.h"

#define RTCDR 0x000
#define RTCMR 0x004
#define RTCLR 0x008
#define RTCCR 0x00c
#define RTCIMSC 0x010
#define RTCRIS 0x014
#define RTCMIS 0x018
#define RTCICR 0x01c
#define RTC_ID 0xfe0 /* PeriphID0..3, PCellID0..3: one byte each, in the low 8 bits of a word */

static const u8 pl031_id[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

#define BLOB_MAGIC 0x43545246u /* "FRTC" */
#define BLOB_VERSION 1u
#define F_IMSC 1u
#define F_RIS 2u
#define F_ARMED 4u

static u32 count(const struct vpl031 *r, u64 now) { return (u32)(now + (u64)r->offset); }

/* The next match: the 32-bit counter reaches MR after (MR - count) mod 2^32 seconds; equal now
 * means at once (QEMU's behaviour for a match register written with the current count). */
static void arm_match(struct vpl031 *r, u64 now)
{
	u32 ahead = r->mr - count(r, now);

	if (ahead == 0) {
		r->ris = true;
		r->armed = false;
	} else {
		r->armed = true;
		r->match_at = now + ahead;
	}
}

static void update(struct vpl031 *r, u64 now)
{
	if (r->armed && now >= r->match_at) {
		r->ris = true;
		r->armed = false;
	}
}

void vpl031_reset(struct vpl031 *r, u64 now)
{
	/* No match is armed until RTCMR or RTCLR is written (as QEMU's), so MR = 0 raises nothing. */
	*r = (struct vpl031){ .match_at = now };
}

u32 vpl031_read(struct vpl031 *r, u64 offset, u32 size, u64 now)
{
	if (size != 4 || (offset & 3) || offset >= VPL031_SIZE)
		return 0;
	update(r, now);
	if (offset >= RTC_ID)
		return pl031_id[(offset - RTC_ID) / 4];
	switch (offset) {
	case RTCDR:
		return count(r, now);
	case RTCMR:
		return r->mr;
	case RTCLR:
		return r->lr;
	case RTCCR:
		return 1;
	case RTCIMSC:
		return r->imsc;
	case RTCRIS:
		return r->ris;
	case RTCMIS:
		return r->ris && r->imsc;
	default:
		return 0;
	}
}

void vpl031_write(struct vpl031 *r, u64 offset, u32 size, u32 value, u64 now)
{
	if (size != 4 || (offset & 3) || offset >= VPL031_SIZE)
		return;
	update(r, now);
	switch (offset) {
	case RTCMR:
		r->mr = value;
		arm_match(r, now);
		break;
	case RTCLR:
		r->lr = value;
		r->offset = (s64)((u64)value - now);
		arm_match(r, now);
		break;
	case RTCIMSC:
		r->imsc = value & 1;
		break;
	case RTCICR:
		if (value & 1)
			r->ris = false;
		break;
	default:
		break; /* RTCCR (the counter always runs), read-only and reserved registers */
	}
}

bool vpl031_irq_line(struct vpl031 *r, u64 now)
{
	update(r, now);
	return r->ris && r->imsc;
}

int vpl031_save(const struct vpl031 *r, u64 now, u8 *buf, size_t cap)
{
	struct vpl031 s = *r;
	u32 flags;

	if (cap < VPL031_BLOB_LEN)
		return FERRY_EINVAL;
	update(&s, now);
	flags = (s.imsc ? F_IMSC : 0) | (s.ris ? F_RIS : 0) | (s.armed ? F_ARMED : 0);
	memset(buf, 0, VPL031_BLOB_LEN);
	put_le32(buf + 0, BLOB_MAGIC);
	put_le16(buf + 4, BLOB_VERSION);
	put_le16(buf + 6, VPL031_BLOB_LEN);
	put_le32(buf + 8, count(&s, now));
	put_le32(buf + 12, s.mr);
	put_le32(buf + 16, s.lr);
	put_le32(buf + 20, flags);
	put_le64(buf + 24, now);
	/* Seconds from the save to the match (a match is at most 2^32 - 1 seconds ahead). */
	put_le32(buf + 32, s.armed ? (u32)(s.match_at - now) : 0);
	put_le32(buf + 36, crc32c(0, buf, VPL031_BLOB_LEN));
	return VPL031_BLOB_LEN;
}

int vpl031_load(struct vpl031 *r, u64 now, const u8 *buf, size_t len)
{
	u8 tmp[VPL031_BLOB_LEN];
	struct vpl031 s = { 0 };
	u32 flags, cnt, match_in;
	u64 saved_at, elapsed;

	if (len != VPL031_BLOB_LEN || get_le32(buf) != BLOB_MAGIC ||
	    get_le16(buf + 4) != BLOB_VERSION || get_le16(buf + 6) != VPL031_BLOB_LEN)
		return FERRY_EINVAL;
	memcpy(tmp, buf, sizeof(tmp));
	put_le32(tmp + 36, 0);
	if (crc32c(0, tmp, sizeof(tmp)) != get_le32(buf + 36))
		return FERRY_EINVAL;
	cnt = get_le32(buf + 8);
	flags = get_le32(buf + 20);
	saved_at = get_le64(buf + 24);
	match_in = get_le32(buf + 32);
	if (flags & ~(F_IMSC | F_RIS | F_ARMED) || (!(flags & F_ARMED) && match_in) ||
	    ((flags & F_ARMED) && !match_in))
		return FERRY_EINVAL;
	/* The wall time the migration took, as the two clocks see it; a destination clock behind
	 * the source's must not turn the guest's clock back. */
	elapsed = now > saved_at ? now - saved_at : 0;
	s.offset = (s64)((u64)cnt + elapsed - now);
	s.mr = get_le32(buf + 12);
	s.lr = get_le32(buf + 16);
	s.imsc = flags & F_IMSC;
	s.ris = flags & F_RIS;
	s.armed = flags & F_ARMED;
	s.match_at = s.armed ? now - MIN(elapsed, (u64)match_in) + match_in : now;
	update(&s, now);
	*r = s;
	return 0;
}
