/* SPDX-License-Identifier: Apache-2.0 */
/* Stage-2 page tables: the batched split (one bbm flush, a DSB ISHST before every table is linked)
 * and table contents visible before they are published, checked at every barrier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "mm/s2.h"
#include "s2_walk_fixture.h"

/* ---- the batched split, and tables visible before they are published ---- */

/* At every barrier, bbm flush and at the end of an operation: every table a walker can reach now
 * and could not at the last DSB ISHST existed then, with the same contents. So no walker can see
 * a linked table whose contents (or zeroing) were not made visible first. */
struct seen {
	void *p;
	bool reachable;
	u64 hash;
};
static struct seen seen[S2FX_MAX_LIVE];
static long nseen;

static u64 page_hash(const void *p)
{
	const u64 *w = p;
	u64 h = 1469598103934665603ULL;

	for (int i = 0; i < 512; i++)
		h = (h ^ w[i]) * 1099511628211ULL;
	return h;
}

static bool mark[S2FX_MAX_LIVE];

static int visit_mark(const struct s2_visit_ctx *ctx)
{
	void *t = s2fx_p2v(ctx->desc & S2_DESC_ADDR);

	for (long i = 0; i < nseen; i++)
		if (seen[i].p == t)
			mark[i] = true;
	return 0;
}

/* mark[j]: seen[j] is reachable from the root now */
static void reachable_now(void)
{
	const struct s2_walker w = { visit_mark, S2_WALK_TABLE_PRE, NULL };

	memset(mark, 0, sizeof(mark));
	assert_int_equal(s2_walk(cur, ipa_init(0), 1ULL << cur->ia_bits, &w), 0);
}

static long publish_checks;

static void check_published_if(bool check)
{
	long i, j;

	/* Pages allocated since the last barrier join, as unreachable then with no contents
	 * made visible: reachable already means linked without a DSB ISHST in between. */
	for (i = 0; i < s2fx.nlive; i++) {
		for (j = 0; j < nseen; j++)
			if (seen[j].p == s2fx_live[i])
				break;
		if (j == nseen)
			seen[nseen++] = (struct seen){ s2fx_live[i], false, ~0ULL };
	}
	reachable_now();
	for (j = 0; j < nseen && check; j++)
		if (mark[j] && !seen[j].reachable) {
			assert_int_equal(page_hash(seen[j].p), seen[j].hash);
			publish_checks++;
		}
}

static void check_published(void) { check_published_if(true); }

/* check: false for the baseline taken before an operation */
static void record_barrier(bool check)
{
	/* forget freed pages */
	for (long j = 0; j < nseen;) {
		bool alive = false;

		for (long i = 0; i < s2fx.nlive; i++)
			alive |= s2fx_live[i] == seen[j].p;
		if (!alive)
			seen[j] = seen[--nseen];
		else
			j++;
	}
	check_published_if(check);
	for (long j = 0; j < nseen; j++) {
		seen[j].reachable = mark[j];
		seen[j].hash = page_hash(seen[j].p);
	}
}

static void observer(const struct fake_arch_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->kind == FAKE_DSB_ISHST)
		record_barrier(true);
}

static void watch_start(void)
{
	nseen = 0;
	record_barrier(false); /* what exists before the operation counts as published */
	fake_arch_observer = observer;
	bbm_hook = check_published;
}

static void watch_end(void)
{
	check_published();
	fake_arch_observer = NULL;
	bbm_hook = NULL;
}

static struct s2_pgtable *split_pgt;
static void bbm_all_broken(void)
{
	/* At the flush every block of the range is already invalid: one flush for all. */
	for (u64 a = RAM; a < RAM + SZ_1G + 16 * SZ_2M; a += SZ_2M)
		assert_int_equal(level_of(split_pgt, a), -1);
	check_published();
}

static void test_split_batched(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	size_t dsb = 0;
	(void)state;
	pgt_setup(&pgt, 39);
	/* one 1 GiB block and 16 2 MiB blocks */
	assert_int_equal(s2_map(&pgt, ipa_init(RAM), pa_init(PA0), SZ_1G + 16 * SZ_2M,
				S2_PROT_R | S2_PROT_W, &owed),
			 0);
	assert_int_equal(level_of(&pgt, RAM), 1);
	fake_arch_reset();
	bbm_calls = 0;
	split_pgt = &pgt;
	nseen = 0;
	record_barrier(false);
	fake_arch_observer = observer;
	bbm_hook = bbm_all_broken;
	assert_int_equal(s2_split(&pgt, ipa_init(RAM), SZ_1G + 16 * SZ_2M, &owed), 0);
	watch_end();
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(ipa_addr(bbm_last.start), RAM);
	assert_int_equal(bbm_last.pages, (SZ_1G + 16 * SZ_2M) >> 12);
	assert_int_equal(bbm_last.level, -1); /* level 1 and level 2 blocks */
	assert_int_equal(owed.pages, 0);
	/* one DSB ISHST before each of the 17 links, nothing else */
	for (size_t i = 0; i < fake_arch_log_len; i++)
		dsb += fake_arch_log[i].kind == FAKE_DSB_ISHST;
	assert_int_equal(dsb, 17);
	assert_int_equal(fake_arch_log_len, 17);
	/* 1 (level-2) + 512 + 16 level-3 tables */
	assert_int_equal(pgt.tables, 1 + 1 + 1 + 512 + 16);
	for (u64 a = RAM; a < RAM + SZ_1G + 16 * SZ_2M; a += 4096 * 97) {
		assert_int_equal(level_of(&pgt, a), 3);
		assert_int_equal(pa_of(&pgt, a), PA0 + (a - RAM));
		assert_int_equal(prot_of(&pgt, a), S2_PROT_R | S2_PROT_W);
	}
	/* Again: nothing to break. */
	assert_int_equal(s2_split(&pgt, ipa_init(RAM), SZ_1G + 16 * SZ_2M, &owed), 0);
	assert_int_equal(bbm_calls, 1);
	pgt_teardown(&pgt);
}

static void test_publish_random(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	srandom(77);
	pgt_setup(&pgt, 39);
	publish_checks = 0;
	for (int k = 0; k < 3000; k++) {
		u64 first = (u64)random() % 4096, n = 1 + (u64)random() % MIN(4096 - first, 1500);
		u64 ipa = RAM + first * 4096;
		struct s2_flush owed = { 0 };
		int r = (int)(random() % 4);

		if (random() % 3 == 0) { /* aligned to 2 MiB */
			ipa = ALIGN_DOWN(ipa, SZ_2M);
			n = ALIGN_UP(n, 512);
			if (ipa + n * 4096 > RAM + 4096 * 4096)
				n = (RAM + 4096 * 4096 - ipa) >> 12;
		}
		watch_start();
		switch (r) {
		case 0:
			assert_int_equal(s2_map(&pgt, ipa_init(ipa),
						pa_init(PA0 + (ipa - RAM) + (random() % 2) * 4096),
						n * 4096, S2_PROT_R, &owed),
					 0);
			break;
		case 1:
			assert_int_equal(s2_unmap(&pgt, ipa_init(ipa), n * 4096, &owed), 0);
			break;
		case 2:
			assert_int_equal(s2_protect(&pgt, ipa_init(ipa), n * 4096,
						    (unsigned)(random() % 8), &owed),
					 0);
			break;
		default:
			assert_int_equal(s2_split(&pgt, ipa_init(ipa), n * 4096, &owed), 0);
			break;
		}
		watch_end();
	}
	assert_true(publish_checks > 200); /* tables really were published under watch (307) */
	pgt_teardown(&pgt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_batched),
		cmocka_unit_test(test_publish_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
