/* SPDX-License-Identifier: Apache-2.0 */
/* Memory ferry hands out (core/alloc.c): the page pool for its own allocations, and guest RAM. */
#ifndef FERRY_CORE_ALLOC_H
#define FERRY_CORE_ALLOC_H

#include "types.h"

void pool_init(u64 start, u64 end);
void *pool_zalloc_page(void);
void pool_free_page(void *page);
void *pool_zalloc_contig(u64 pages); /* physically contiguous, never freed */
u64 pool_free_pages(void);

void guest_ram_init(u64 start, u64 end);
int guest_ram_alloc(u64 size, u64 fixed_pa, pa_t *out);

#endif
