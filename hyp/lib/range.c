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
