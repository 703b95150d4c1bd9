/* SPDX-License-Identifier: Apache-2.0 */
/* Range checks written so that no intermediate sum can wrap: only differences of values already
 * known to be ordered are taken. */
#include "lib/range.h"

bool range_valid(u64 base, u64 size) { return size == 0 || size - 1 <= ~0ULL - base; }

bool range_within(u64 base, u64 size, u64 lo, u64 len)
{
	if (!range_valid(lo, len) || base < lo)
		return false;
	/* base - lo cannot wrap (base >= lo), nor can len - (base - lo) once it is known <= len. */
	return base - lo <= len && size <= len - (base - lo);
}

bool range_overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	if (!alen || !blen)
		return false;
	return a <= b ? b - a < alen : a - b < blen;
}

bool range_granules(u64 base, u64 n, unsigned shift, u64 at, u64 len, u64 *first, u64 *last)
{
	u64 in_granule, room, end;

	if (at < base) { /* the part from base on, if any */
		if (len <= base - at)
			return false;
		len -= base - at;
		at = base;
	}
	if (!len || !n)
		return false;
	*first = (at - base) >> shift;
	if (*first >= n)
		return false;
	/* The last byte, counted from the first granule's start and clipped to the region: `room`
	 * bytes remain from there (more than in_granule), and in_granule + len - 1 is only summed once
	 * it is known to stay below room. */
	in_granule = (at - base) & ((1ULL << shift) - 1);
	room = (n - *first) << shift;
	end = len - 1 >= room - in_granule ? room - 1 : in_granule + len - 1;
	*last = *first + (end >> shift);
	return true;
}
