/* SPDX-License-Identifier: Apache-2.0 */
#include "s2_walk_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_arch.h"

int bbm_calls;
struct s2_flush bbm_last;
void (*bbm_hook)(void);
void bbm(void *ctx, ipa_t start, u64 pages, int level)
{
	(void)ctx;
	bbm_calls++;
	bbm_last = (struct s2_flush){ start, pages, level };
	if (bbm_hook)
		bbm_hook();
}

struct s2_pgtable *cur;

void pgt_setup(struct s2_pgtable *pgt, unsigned ia_bits)
{
	s2_fixture_reset();
	s2fx.fail_at = -1;
	bbm_calls = 0;
	bbm_hook = NULL;
	fake_arch_reset();
	cur = pgt;
	assert_int_equal(s2_init_concat(pgt, ia_bits, 9, &s2fx_mm, &s2fx_root_ops, NULL, bbm, NULL),
			 0);
}

void pgt_teardown(struct s2_pgtable *pgt)
{
	s2_destroy(pgt);
	assert_int_equal(s2fx.nlive, 0);
	assert_int_equal(pgt->tables, 0);
	assert_null(pgt->root);
}

int level_of(struct s2_pgtable *pgt, u64 ipa)
{
	pa_t pa;
	unsigned prot;
	int level;

	return s2_lookup(pgt, ipa_init(ipa), &pa, &prot, &level) ? -1 : level;
}

u64 pa_of(struct s2_pgtable *pgt, u64 ipa)
{
	pa_t pa;
	unsigned prot;
	int level;

	assert_int_equal(s2_lookup(pgt, ipa_init(ipa), &pa, &prot, &level), 0);
	return pa_addr(pa);
}

unsigned prot_of(struct s2_pgtable *pgt, u64 ipa)
{
	pa_t pa;
	unsigned prot;
	int level;

	assert_int_equal(s2_lookup(pgt, ipa_init(ipa), &pa, &prot, &level), 0);
	return prot;
}

u64 raw_leaf(struct s2_pgtable *pgt, u64 ipa)
{
	u64 *t = pgt->root, idx_mask = 512ULL * pgt->root_pages - 1;

	for (int l = (int)pgt->start_level; l <= 3; l++, idx_mask = 511) {
		u64 d = t[(ipa >> s2_level_shift(l)) & idx_mask];

		if (!s2_desc_is_table(d, l))
			return d;
		t = s2fx_p2v(d & S2_DESC_ADDR);
	}
	return 0;
}
