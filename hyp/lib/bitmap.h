/* SPDX-License-Identifier: Apache-2.0 */
/* Bitmaps of 64-bit words, with the atomic operations dirty logging needs: several vCPUs set bits
 * concurrently (write faults), while the management CPU takes whole words (collect). Pure code. */
#ifndef FERRY_BITMAP_H
#define FERRY_BITMAP_H

#include "types.h"

#define BITMAP_WORDS(nbits) (((nbits) + 63) / 64)

static inline bool bitmap_test(const u64 *map, u64 bit)
{
	return (__atomic_load_n(&map[bit / 64], __ATOMIC_RELAXED) >> (bit % 64)) & 1;
}

/* Returns the bit's previous value. */
static inline bool bitmap_set_atomic(u64 *map, u64 bit)
{
	u64 mask = 1ULL << (bit % 64);

	return (__atomic_fetch_or(&map[bit / 64], mask, __ATOMIC_RELAXED) & mask) != 0;
}

/* Set bits in a word. Not __builtin_popcountll: under -mgeneral-regs-only that calls libgcc, which
 * counts with SIMD registers, and on a vCPU's CPU those belong to the guest. */
static inline u64 popcount64(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

static inline void bitmap_set(u64 *map, u64 bit) { map[bit / 64] |= 1ULL << (bit % 64); }
static inline void bitmap_clear(u64 *map, u64 bit) { map[bit / 64] &= ~(1ULL << (bit % 64)); }

void bitmap_zero(u64 *map, u64 nbits);
void bitmap_fill_range(u64 *map, u64 first, u64 count);
/* The same, a word at a time with an atomic OR: other CPUs may set bits in the same words. */
void bitmap_fill_range_atomic(u64 *map, u64 first, u64 count);
u64 bitmap_weight(const u64 *map, u64 nbits);
u64 bitmap_weight_range(const u64 *map, u64 first, u64 count);
/* First set bit at or after `from`, or nbits when there is none. */
u64 bitmap_next_set(const u64 *map, u64 nbits, u64 from);
/* First clear bit at or after `from`, or nbits. */
u64 bitmap_next_clear(const u64 *map, u64 nbits, u64 from);
/* Atomically moves the bits [first, first + count) of src into dst (ORed into dst at the same
 * positions) and clears them in src: no bit set concurrently in src is lost or taken twice. Returns
 * how many bits were taken. */
u64 bitmap_take_range(u64 *src, u64 *dst, u64 first, u64 count);

#endif
