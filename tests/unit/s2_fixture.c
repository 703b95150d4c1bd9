/* SPDX-License-Identifier: Apache-2.0 */
/* The stage-2 host tests' memory (s2_fixture.h). */
#include "s2_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct s2_fixture s2fx = { .fail_at = -1 };
void *s2fx_live[S2FX_MAX_LIVE];
static long live_gen[S2FX_MAX_LIVE];

void s2_fixture_reset(void) { s2fx = (struct s2_fixture){ .fail_at = -1 }; }

static void *track(void *p, long gen)
{
	assert_true(s2fx.nlive < S2FX_MAX_LIVE);
	live_gen[s2fx.nlive] = gen;
	s2fx_live[s2fx.nlive++] = p;
	s2fx.allocs++;
	return p;
}

static void *zalloc(void *ctx)
{
	void *p;

	(void)ctx;
	if (s2fx.fail_at >= 0 && s2fx.allocs >= s2fx.fail_at)
		return NULL;
	p = aligned_alloc(4096, 4096);
	assert_non_null(p);
	memset(p, 0xa5, 4096); /* what a reused page holds: must never be seen unzeroed */
	memset(p, 0, 4096);
	return track(p, s2fx.op_gen);
}

static void pfree(void *ctx, void *p)
{
	(void)ctx;
	for (long i = s2fx.nlive - 1; i >= 0; i--)
		if (s2fx_live[i] == p) {
			if (live_gen[i] == s2fx.op_gen)
				s2fx.wasted++; /* allocated and freed by the same operation */
			s2fx_live[i] = s2fx_live[--s2fx.nlive];
			live_gen[i] = live_gen[s2fx.nlive];
			s2fx.frees++;
			free(p);
			return;
		}
	fail_msg("free of a page never allocated: %p", p);
}

static void *zalloc_pages(void *ctx, unsigned n)
{
	void *p;

	(void)ctx;
	if (s2fx.fail_at >= 0 && s2fx.allocs >= s2fx.fail_at)
		return NULL;
	p = aligned_alloc(4096ULL * n, 4096ULL * n);
	assert_non_null(p);
	memset(p, 0, 4096ULL * n);
	return track(p, -1);
}

static void free_pages(void *ctx, void *p, unsigned n)
{
	(void)n;
	pfree(ctx, p);
}

const struct s2_mm_ops s2fx_mm = { .zalloc_page = zalloc,
				   .free_page = pfree,
				   .virt_to_phys = s2fx_v2p,
				   .phys_to_virt = s2fx_p2v };
const struct s2_mm_ops s2fx_mm_identity = { .zalloc_page = zalloc,
					    .free_page = pfree,
					    .virt_to_phys = s2fx_v2p,
					    .phys_to_virt = s2fx_p2v,
					    .identity = true };
const struct s2_root_ops s2fx_root_ops = { zalloc_pages, free_pages };
