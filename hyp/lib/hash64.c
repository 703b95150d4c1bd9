/* SPDX-License-Identifier: Apache-2.0 */
/* XXH64, from Debian's xxhash.h (libxxhash-dev), compiled here with ferry's own flags instead of
 * linked from libxxhash.a: that library's arm64 build uses NEON (for XXH3), and EL2 code must not
 * touch the SIMD registers, which hold a guest's state on a vCPU's CPU. The header, inlined whole,
 * gives the same XXH64 that ferry once wrote by hand, in 29% fewer EL2 instructions per page
 * (docs/migration-protocol.md, "What a tag costs"). */
#define XXH_INLINE_ALL
#define XXH_VECTOR 0 /* XXH_SCALAR: general-purpose registers only */
#if defined(__aarch64__) && !defined(FERRY_HOST)
/* EL2 is built with -mstrict-align, which makes the header's default loads (through packed
 * structs) byte by byte; a plain unaligned load is right at EL2 (MMU on, Normal memory,
 * SCTLR_EL2.A clear), and migration frame payloads are never 8-byte aligned. */
#define XXH_FORCE_MEMORY_ACCESS 2
#endif
#include <string.h>
#include <xxhash.h>

#include "lib/lib.h"

/* The state is kept as bytes so that lib.h need not include the header; copied in and out, which
 * is a few dozen instructions against the thousands a page costs. */
_Static_assert(sizeof(XXH64_state_t) <= sizeof(((struct hash64_state *)0)->opaque),
	       "struct hash64_state too small for xxhash's XXH64 state");

void hash64_init(struct hash64_state *st, u64 seed)
{
	XXH64_state_t x;

	XXH64_reset(&x, seed);
	memcpy(st->opaque, &x, sizeof(x));
}

void hash64_update(struct hash64_state *st, const void *data, size_t len)
{
	XXH64_state_t x;

	memcpy(&x, st->opaque, sizeof(x));
	XXH64_update(&x, data, len);
	memcpy(st->opaque, &x, sizeof(x));
}

u64 hash64_final(const struct hash64_state *st)
{
	XXH64_state_t x;

	memcpy(&x, st->opaque, sizeof(x));
	return XXH64_digest(&x);
}

u64 hash64(const void *data, size_t len, u64 seed) { return XXH64(data, len, seed); }

u64 hash64_xxh3(const void *data, size_t len, u64 seed)
{
	return XXH3_64bits_withSeed(data, len, seed);
}
