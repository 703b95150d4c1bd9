/* SPDX-License-Identifier: Apache-2.0 */
/* Overflow-safe checks on (base, size) ranges. Every range a guest, an image header or a config
 * supplies goes through these: `base + size` is never computed where it could wrap around 2^64. */
#ifndef FERRY_RANGE_H
#define FERRY_RANGE_H

#include "types.h"

/* Whether [base, base + size) is representable: its last byte is at most 2^64 - 1. A range of size 0
 * is representable anywhere; one ending exactly at 2^64 (base 2^64 - 1, size 1) is too. */
bool range_valid(u64 base, u64 size);

/* Whether [base, base + size) lies entirely inside the region [lo, lo + len), which must itself be
 * valid. A range of size 0 is inside when its base is in [lo, lo + len]. */
bool range_within(u64 base, u64 size, u64 lo, u64 len);

/* Whether two ranges share at least one byte; empty ranges overlap nothing. Both must be valid. */
bool range_overlaps(u64 a, u64 alen, u64 b, u64 blen);

/* The granules (of 2^shift bytes, shift 12..30) of [base, base + (n << shift)) that any byte of
 * [at, at + len) falls in: *first and *last (inclusive), and true; false when there is none. at
 * and len are any values (a range running past 2^64 is clipped); the region must be valid. */
bool range_granules(u64 base, u64 n, unsigned shift, u64 at, u64 len, u64 *first, u64 *last);

#endif
