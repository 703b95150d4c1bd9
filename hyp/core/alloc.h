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

/* Guest RAM is handed out from [start, end), 2 MiB aligned; fixed 0 asks for the next free
 * placement, any other the config's own (already checked against the others). */
void guest_ram_init(pa_t start, pa_t end);
int guest_ram_alloc(u64 size, pa_t fixed, pa_t *out);

#endif
