/* XXH64, from its specification: four 64-bit lanes each absorb 8 bytes per 32-byte stripe with a
 * multiply-rotate-multiply round, which keeps a 64-bit core busy and lets one bit of difference
 * anywhere reach every output bit after the final avalanche. */
#include <string.h>

#include "lib/lib.h"

#define H64_P1 0x9E3779B185EBCA87ULL
#define H64_P2 0xC2B2AE3D27D4EB4FULL
#define H64_P3 0x165667B19E3779F9ULL
#define H64_P4 0x85EBCA77C2B2AE63ULL
#define H64_P5 0x27D4EB2F165667C5ULL

static inline u64 rotl64(u64 x, unsigned r) { return (x << r) | (x >> (64 - r)); }

/* EL2 runs with the MMU on, Normal memory and SCTLR_EL2.A clear, where an unaligned load is fine,
 * but it is built with -mstrict-align, which would split this into eight byte loads (the hash of
 * all guest RAM, paid inside a migration's downtime, ran 3x slower): say it in assembly.
 * (Migration frame payloads start 54 bytes into the frame: never aligned.) */
static inline u64 le64(const u8 *p)
{
#if defined(__aarch64__) && !defined(FERRY_HOST) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	u64 v;

	__asm__("ldr %0, %1" : "=r"(v) : "m"(*(const u8(*)[8])p));
	return v;
#else
	return get_le64(p);
#endif
}

static inline u64 h64_round(u64 acc, u64 lane)
{
	acc += lane * H64_P2;
	acc = rotl64(acc, 31);
	return acc * H64_P1;
}

static inline u64 h64_merge(u64 h, u64 acc)
{
	h ^= h64_round(0, acc);
	return h * H64_P1 + H64_P4;
}

static void h64_stripe(u64 acc[4], const u8 *p)
{
	acc[0] = h64_round(acc[0], le64(p));
	acc[1] = h64_round(acc[1], le64(p + 8));
	acc[2] = h64_round(acc[2], le64(p + 16));
	acc[3] = h64_round(acc[3], le64(p + 24));
}

void hash64_init(struct hash64_state *st, u64 seed)
{
	st->seed = seed;
	st->acc[0] = seed + H64_P1 + H64_P2;
	st->acc[1] = seed + H64_P2;
	st->acc[2] = seed;
	st->acc[3] = seed - H64_P1;
	st->total = 0;
	st->buflen = 0;
}

void hash64_update(struct hash64_state *st, const void *data, size_t len)
{
	const u8 *p = data;

	st->total += len;
	if (st->buflen) {
		size_t take = MIN(len, (size_t)(32 - st->buflen));

		memcpy(st->buf + st->buflen, p, take);
		st->buflen += (u32)take;
		p += take;
		len -= take;
		if (st->buflen < 32)
			return;
		h64_stripe(st->acc, st->buf);
		st->buflen = 0;
	}
	while (len >= 32) {
		h64_stripe(st->acc, p);
		p += 32;
		len -= 32;
	}
	if (len) {
		memcpy(st->buf, p, len);
		st->buflen = (u32)len;
	}
}

u64 hash64_final(const struct hash64_state *st)
{
	const u8 *p = st->buf, *end = st->buf + st->buflen;
	u64 h;

	if (st->total >= 32) {
		h = rotl64(st->acc[0], 1) + rotl64(st->acc[1], 7) + rotl64(st->acc[2], 12) +
		    rotl64(st->acc[3], 18);
		for (int i = 0; i < 4; i++)
			h = h64_merge(h, st->acc[i]);
	} else {
		h = st->seed + H64_P5;
	}
	h += st->total;
	for (; p + 8 <= end; p += 8)
		h = rotl64(h ^ h64_round(0, le64(p)), 27) * H64_P1 + H64_P4;
	if (p + 4 <= end) {
		h = rotl64(h ^ (u64)get_le32(p) * H64_P1, 23) * H64_P2 + H64_P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl64(h ^ (u64)*p * H64_P5, 11) * H64_P1;
	h ^= h >> 33;
	h *= H64_P2;
	h ^= h >> 29;
	h *= H64_P3;
	h ^= h >> 32;
	return h;
}

u64 hash64(const void *data, size_t len, u64 seed)
{
	struct hash64_state st;

	hash64_init(&st, seed);
	hash64_update(&st, data, len);
	return hash64_final(&st);
}
