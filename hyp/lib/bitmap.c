/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/bitmap.h"

void bitmap_zero(u64 *map, u64 nbits)
{
	for (u64 i = 0; i < BITMAP_WORDS(nbits); i++)
		map[i] = 0;
}

/* Mask of the bits [first, first + count) that fall in word w. */
static u64 word_mask(u64 w, u64 first, u64 count)
{
	u64 lo = w * 64, hi = lo + 64, a = MAX(first, lo), b = MIN(first + count, hi);

	if (a >= b)
		return 0;
	if (b - a == 64)
		return ~0ULL;
	return ((1ULL << (b - a)) - 1) << (a - lo);
}

void bitmap_fill_range(u64 *map, u64 first, u64 count)
{
	if (!count)
		return;
	for (u64 w = first / 64; w <= (first + count - 1) / 64; w++)
		map[w] |= word_mask(w, first, count);
}

void bitmap_fill_range_atomic(u64 *map, u64 first, u64 count)
{
	if (!count)
		return;
	for (u64 w = first / 64; w <= (first + count - 1) / 64; w++)
		__atomic_fetch_or(&map[w], word_mask(w, first, count), __ATOMIC_RELAXED);
}

u64 bitmap_weight_range(const u64 *map, u64 first, u64 count)
{
	u64 n = 0;

	if (!count)
		return 0;
	for (u64 w = first / 64; w <= (first + count - 1) / 64; w++)
		n += popcount64(map[w] & word_mask(w, first, count));
	return n;
}

u64 bitmap_weight(const u64 *map, u64 nbits) { return bitmap_weight_range(map, 0, nbits); }

static u64 next_bit(const u64 *map, u64 nbits, u64 from, u64 invert)
{
	while (from < nbits) {
		u64 w = (map[from / 64] ^ invert) >> (from % 64);

		if (w) {
			from += (u64)__builtin_ctzll(w);
			return MIN(from, nbits);
		}
		from = ALIGN_DOWN(from, 64) + 64;
	}
	return nbits;
}

u64 bitmap_next_set(const u64 *map, u64 nbits, u64 from) { return next_bit(map, nbits, from, 0); }
u64 bitmap_next_clear(const u64 *map, u64 nbits, u64 from)
{
	return next_bit(map, nbits, from, ~0ULL);
}

u64 bitmap_take_range(u64 *src, u64 *dst, u64 first, u64 count)
{
	u64 n = 0;

	if (!count)
		return 0;
	for (u64 w = first / 64; w <= (first + count - 1) / 64; w++) {
		u64 mask = word_mask(w, first, count);
		/* fetch_and clears exactly the taken bits; a concurrent setter's bit is either taken
		 * now (it was set before) or stays for the next collection. */
		u64 old = __atomic_fetch_and(&src[w], ~mask, __ATOMIC_ACQ_REL) & mask;

		dst[w] |= old;
		n += popcount64(old);
	}
	return n;
}
