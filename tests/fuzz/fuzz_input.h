/* SPDX-License-Identifier: Apache-2.0 */
/* A fuzzer's input read as a stream of operations: each take_*() consumes the next bytes, little-
 * endian, and gives 0 once the input is exhausted, so every input is a complete, finite program. */
#ifndef FERRY_FUZZ_INPUT_H
#define FERRY_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct fuzz_in {
	const u8 *p;
	size_t n;
};

static inline bool fuzz_more(const struct fuzz_in *in) { return in->n > 0; }

static inline u64 fuzz_take(struct fuzz_in *in, unsigned bytes)
{
	u64 v = 0;

	for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (u64)*in->p << (8 * i);
	return v;
}

static inline u8 take_u8(struct fuzz_in *in) { return (u8)fuzz_take(in, 1); }
static inline u16 take_u16(struct fuzz_in *in) { return (u16)fuzz_take(in, 2); }
static inline u32 take_u32(struct fuzz_in *in) { return (u32)fuzz_take(in, 4); }
static inline u64 take_u64(struct fuzz_in *in) { return fuzz_take(in, 8); }

/* Invariant checks stay on whatever NDEBUG says: a violated one aborts, which libFuzzer reports as a
 * crash with the input that caused it. */
#define FUZZ_CHECK(cond)                                                                       \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, \
				#cond);                                                        \
			abort();                                                               \
		}                                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
