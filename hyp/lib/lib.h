/* SPDX-License-Identifier: Apache-2.0 */
/* Checksums and hashes picolibc does not give: CRC32C for every migration frame, and a 64-bit
 * streaming hash for the whole-memory check at the end of a migration. Pure code, no tables shared
 * with hardware, no floating point. */
#ifndef FERRY_LIB_H
#define FERRY_LIB_H

#include "types.h"

/* Little-endian fields in byte buffers (wire formats, migration blobs), byte by byte: buffers come
 * at any alignment and EL2 code is built with -mstrict-align. */
static inline void put_le16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static inline void put_le32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline void put_le64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline u16 get_le16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }

static inline u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u64 get_le64(const u8 *p) { return (u64)get_le32(p) | (u64)get_le32(p + 4) << 32; }

/* The bytes an MMIO write of `size` bytes (1, 2, 4 or 8) stores: the glue passes Xt/Wt, possibly
 * with stale upper bits. */
static inline u64 mmio_write_bytes(u64 value, u32 size)
{
	return size < 8 ? value & ((1ULL << (8 * size)) - 1) : value;
}

/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final xor ~0): the same
 * function as iSCSI/ext4/SCTP, so `crc32c(0, "123456789", 9) == 0xE3069283`. Chains:
 * crc32c(crc32c(0, a), b) equals crc32c(0, a followed by b). The first call fills a 8 KiB table
 * (slice-by-8), so the first caller must not race another first caller (migration runs on one
 * management CPU). */
u32 crc32c(u32 crc, const void *data, size_t len);
/* Use the CPU's CRC32C instructions (EL2 with FEAT_CRC32; never on the host build). Returns whether
 * they are now in use: they must reproduce the check value of the table code first. */
bool crc32c_use_hw(bool on);

/* XXH64 (Debian's xxhash.h, hyp/lib/hash64.c): fast on 64-bit integer units and good at catching
 * any difference between two copies of memory. It is not a cryptographic hash: it guards against
 * bugs (a dirty page missed), not against an attacker. */
struct hash64_state {
	_Alignas(8) u8 opaque[88]; /* xxhash's XXH64_state_t */
};

void hash64_init(struct hash64_state *st, u64 seed);
void hash64_update(struct hash64_state *st, const void *data, size_t len);
/* Does not modify the state: more data may follow and a later final covers it too. */
u64 hash64_final(const struct hash64_state *st);
u64 hash64(const void *data, size_t len, u64 seed);
/* XXH3-64, the same header's newer hash: only `migbench` uses it, to compare. */
u64 hash64_xxh3(const void *data, size_t len, u64 seed);

#endif
