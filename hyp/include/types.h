/* SPDX-License-Identifier: Apache-2.0 */
/* Types every ferry subsystem shares: fixed-width integers, distinct address types, error codes.
 * Pure code (the folders of mk/pure.mk) includes only this, its own folders' headers and libc
 * headers, so it builds for the host unit tests unchanged. */
#ifndef FERRY_TYPES_H
#define FERRY_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

/* Guest-physical (IPA) and host-physical (PA) addresses are different types so that one can never be
 * passed where the other is meant (Hafnium's convention). */
typedef struct {
	u64 ipa;
} ipa_t;
typedef struct {
	u64 pa;
} pa_t;

static inline ipa_t ipa_init(u64 a) { return (ipa_t){ a }; }
static inline u64 ipa_addr(ipa_t a) { return a.ipa; }
static inline ipa_t ipa_add(ipa_t a, u64 off) { return (ipa_t){ a.ipa + off }; }
static inline pa_t pa_init(u64 a) { return (pa_t){ a }; }
static inline u64 pa_addr(pa_t a) { return a.pa; }
static inline pa_t pa_add(pa_t a, u64 off) { return (pa_t){ a.pa + off }; }

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define SZ_2M (1ULL << 21)
#define SZ_1G (1ULL << 30)

#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define BIT(n) (1ULL << (n))
/* Bits [hi:lo] of a 64-bit value, as in the Arm ARM's field notation. */
#define GENMASK(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))
#define FIELD_GET(v, hi, lo) (((v)&GENMASK(hi, lo)) >> (lo))

/* Errors: functions return 0 or a negative ferry_err; nothing fails silently. */
enum ferry_err {
	FERRY_OK = 0,
	FERRY_EPERM = -1, /* no key for it, or a tag that does not verify */
	FERRY_ENOENT = -2,
	FERRY_EIO = -5,
	FERRY_EAGAIN = -11, /* not yet: a post-copy page that has not arrived (lib/gmem.h) */
	FERRY_ENOMEM = -12,
	FERRY_EBUSY = -16,
	FERRY_EEXIST = -17,
	FERRY_EINVAL = -22,
	FERRY_ERANGE = -34,
	FERRY_ENOTSUP = -95,
	FERRY_ETIMEDOUT = -110,
};

const char *ferry_strerror(int err);

#endif
