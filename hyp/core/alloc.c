/* SPDX-License-Identifier: Apache-2.0 */
/* Two simple allocators, both fixed at boot:
 *  - the page pool: 4 KiB pages for stage-2 tables and other hypervisor data, a free list over the
 *    memory between ferry's image and the config slot;
 *  - guest RAM: 2 MiB-aligned bump allocation of each VM's RAM from everything above ferry's reserve
 *    (or a fixed placement the config asks for with ram-pa). VMs are created once, so nothing is
 *    ever returned (a restarted VM reuses its RAM). */
#include "core/alloc.h"

#include <string.h>

#include "lib/spinlock.h"

static spinlock_t pool_lock;
static u64 pool_next, pool_end, pool_nfree;
static void *pool_freelist;

void pool_init(u64 start, u64 end)
{
	pool_next = ALIGN_UP(start, PAGE_SIZE);
	pool_end = ALIGN_DOWN(end, PAGE_SIZE);
}

void *pool_zalloc_page(void)
{
	void *p = NULL;

	spin_lock(&pool_lock);
	if (pool_freelist) {
		p = pool_freelist;
		pool_freelist = *(void **)p;
		pool_nfree--;
	} else if (pool_next < pool_end) {
		p = (void *)(uintptr_t)pool_next;
		pool_next += PAGE_SIZE;
	}
	spin_unlock(&pool_lock);
	if (p)
		memset(p, 0, PAGE_SIZE);
	return p;
}

void *pool_zalloc_contig(u64 pages)
{
	void *p = NULL;

	spin_lock(&pool_lock);
	if (pool_next + pages * PAGE_SIZE <= pool_end) {
		p = (void *)(uintptr_t)pool_next;
		pool_next += pages * PAGE_SIZE;
	}
	spin_unlock(&pool_lock);
	if (p)
		memset(p, 0, pages * PAGE_SIZE);
	return p;
}

void pool_free_page(void *page)
{
	spin_lock(&pool_lock);
	*(void **)page = pool_freelist;
	pool_freelist = page;
	pool_nfree++;
	spin_unlock(&pool_lock);
}

u64 pool_free_pages(void) { return (pool_end - pool_next) / PAGE_SIZE + pool_nfree; }

static u64 gram_next, gram_start, gram_end;

void guest_ram_init(pa_t start, pa_t end)
{
	gram_start = gram_next = ALIGN_UP(pa_addr(start), SZ_2M);
	gram_end = pa_addr(end);
}

/* The config parser has already checked that fixed placements lie in the window and do not overlap
 * each other; dynamic ones are placed above every fixed one handed out so far. */
int guest_ram_alloc(u64 size, pa_t fixed, pa_t *out)
{
	u64 fixed_pa = pa_addr(fixed);

	if (fixed_pa) {
		if (fixed_pa < gram_start || fixed_pa + size > gram_end)
			return FERRY_ERANGE;
		*out = pa_init(fixed_pa);
		if (fixed_pa + size > gram_next)
			gram_next = fixed_pa + size;
		return 0;
	}
	if (gram_next + size > gram_end)
		return FERRY_ENOMEM;
	*out = pa_init(gram_next);
	gram_next += size;
	return 0;
}
