/* SPDX-License-Identifier: Apache-2.0 */
/* The stage-2 targeted tests' tables: one set up on the counting allocator of s2_fixture.h with a
 * break-before-make callback that counts, remembers the last flush and can run a hook, a
 * teardown that checks every page came back, and reading a translation back (level, PA,
 * permissions, the raw leaf descriptor). */
#ifndef FERRY_S2_WALK_FIXTURE_H
#define FERRY_S2_WALK_FIXTURE_H

#include "mm/s2.h"
#include "s2_fixture.h"

#define RAM 0x40000000ULL
#define PA0 0x8000000000ULL

/* The tables' break-before-make callback: counts, keeps the last flush, runs bbm_hook. */
void bbm(void *ctx, ipa_t start, u64 pages, int level);
extern int bbm_calls;
extern struct s2_flush bbm_last;
extern void (*bbm_hook)(void);
extern struct s2_pgtable *cur; /* the table pgt_setup() initialised last */

void pgt_setup(struct s2_pgtable *pgt, unsigned ia_bits);
void pgt_teardown(struct s2_pgtable *pgt);

/* The level of the leaf translating ipa, -1 if none. */
int level_of(struct s2_pgtable *pgt, u64 ipa);
/* ipa's translation, which must exist. */
u64 pa_of(struct s2_pgtable *pgt, u64 ipa);
unsigned prot_of(struct s2_pgtable *pgt, u64 ipa);
/* The raw descriptor of the leaf translating ipa. */
u64 raw_leaf(struct s2_pgtable *pgt, u64 ipa);

#endif
