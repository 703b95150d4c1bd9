/* SPDX-License-Identifier: Apache-2.0 */
/* The stage-2 host tests' memory: a page allocator that counts, injects failures and checks every
 * free, and the mm/root operations that hand its pages to the walker (host pointers are their own
 * "physical" addresses). One for every stage-2 test file. */
#ifndef FERRY_S2_FIXTURE_H
#define FERRY_S2_FIXTURE_H

#include <stdint.h>

#include "mm/s2.h"

struct s2_fixture {
	long nlive;  /* pages allocated and not yet freed */
	long allocs; /* allocations so far (pages and roots) */
	long frees;
	long fail_at; /* the allocation with this index and all after it fail (-1: none) */
	long op_gen;  /* the test's operation number: a page allocated and freed in one is wasted */
	long wasted;
};
extern struct s2_fixture s2fx;

#define S2FX_MAX_LIVE 65536
extern void *s2fx_live[S2FX_MAX_LIVE]; /* the pages allocated and not freed: s2fx.nlive of them */

/* Host pointers are their own "physical" addresses. */
static inline u64 s2fx_v2p(void *va) { return (u64)(uintptr_t)va; }
static inline void *s2fx_p2v(u64 pa) { return (void *)(uintptr_t)pa; }

/* Zero every counter, no failure injected; pages still live are forgotten (not freed). */
void s2_fixture_reset(void);

extern const struct s2_mm_ops s2fx_mm;          /* tables addressed through virt_to_phys */
extern const struct s2_mm_ops s2fx_mm_identity; /* the same, read as EL2 reads them */
extern const struct s2_root_ops s2fx_root_ops;

#endif
