/* Stage-2 page tables (hyp/mm/s2_pgtable.c) against a reference model: page → (PA, prot), through
 * thousands of random map/unmap/protect/split operations, plus the TLB obligations each change
 * reports and the break-before-make sequence of a split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fake_arch.h"
#include "lib/bitmap.h"
#include "mm/dirty.h"
#include "mm/s2.h"

#define IPA_BASE 0x40000000ULL
#define NPAGES (4096 + 512) /* 18 MiB: several 2 MiB blocks and a tail */
#define PA_BASE 0x80000000ULL

static long live_pages;
static void *zalloc(void *ctx)
{
	(void)ctx;
	void *p = aligned_alloc(4096, 4096);
	if (p) {
		memset(p, 0, 4096);
		live_pages++;
	}
	return p;
}
static void pfree(void *ctx, void *p)
{
	(void)ctx;
	live_pages--;
	free(p);
}
static u64 v2p(void *va) { return (u64)(uintptr_t)va; }
static void *p2v(u64 pa) { return (void *)(uintptr_t)pa; }
static const struct s2_mm_ops ops = { zalloc, pfree, v2p, p2v };

static int bbm_calls;
static u64 bbm_pages;
static void bbm(void *ctx, ipa_t start, u64 pages, int level)
{
	(void)ctx;
	(void)start;
	(void)level;
	bbm_calls++;
	bbm_pages += pages;
}

struct ref { u64 pa; unsigned prot; bool mapped; };
static struct ref model[NPAGES];

static void check_all(struct s2_pgtable *pgt)
{
	for (u64 i = 0; i < NPAGES; i++) {
		pa_t pa;
		unsigned prot;
		int level, err = s2_lookup(pgt, ipa_init(IPA_BASE + i * 4096), &pa, &prot, &level);

		if (!model[i].mapped) {
			assert_int_equal(err, FERRY_ENOENT);
			continue;
		}
		assert_int_equal(err, 0);
		assert_int_equal(pa_addr(pa), model[i].pa);
		assert_int_equal(prot, model[i].prot);
	}
}

static void setup_table(struct s2_pgtable *pgt)
{
	memset(model, 0, sizeof(model));
	fake_arch_reset();
	bbm_calls = 0;
	bbm_pages = 0;
	assert_int_equal(s2_init(pgt, 39, 7, &ops, NULL, bbm, NULL), 0);
}

static void test_blocks_where_aligned(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	pa_t pa;
	unsigned prot;
	int level;
	(void)state;
	setup_table(&pgt);
	/* 2 MiB-aligned IPA and PA: blocks; the unaligned tail: pages. */
	assert_int_equal(s2_map(&pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), NPAGES * 4096ULL,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed), 0);
	assert_int_equal(owed.pages, 0); /* mapping into nothing owes nothing */
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 0x1234), &pa, &prot, &level), 0);
	assert_int_equal(level, 2);
	assert_int_equal(pa_addr(pa), PA_BASE + 0x1234);
	/* A misaligned PA gives pages throughout. */
	assert_int_equal(s2_map(&pgt, ipa_init(0x100000000ULL), pa_init(PA_BASE + 4096), 4 << 20,
				S2_PROT_R, &owed), 0);
	assert_int_equal(s2_lookup(&pgt, ipa_init(0x100000000ULL), &pa, &prot, &level), 0);
	assert_int_equal(level, 3);
	assert_int_equal(prot, S2_PROT_R);
	/* Beyond the 39-bit IPA space. */
	assert_int_equal(s2_map(&pgt, ipa_init(1ULL << 39), pa_init(0), 4096, S2_PROT_R, &owed),
			 FERRY_ERANGE);
	s2_destroy(&pgt);
	assert_int_equal(live_pages, 0);
}

static void test_random_against_model(void **state)
{
	struct s2_pgtable pgt;
	(void)state;
	srand(12345);
	setup_table(&pgt);
	for (int iter = 0; iter < 20000; iter++) {
		u64 first = (u64)rand() % NPAGES, n = 1 + (u64)rand() % MIN(NPAGES - first, 1200);
		unsigned prot = (unsigned)(rand() % 8);
		struct s2_flush owed = { 0 };
		bool downgrade = false;
		int op = rand() % 4;

		switch (op) {
		case 0: { /* map (over nothing or over leaves) */
			u64 pa = PA_BASE + ((u64)(rand() % 4) << 21) + first * 4096;
			int err = s2_map(&pgt, ipa_init(IPA_BASE + first * 4096), pa_init(pa), n * 4096,
					 prot | S2_PROT_R, &owed);
			assert_int_equal(err, 0);
			for (u64 i = first; i < first + n; i++)
				model[i] = (struct ref){ pa + (i - first) * 4096, prot | S2_PROT_R, true };
			break;
		}
		case 1:
			assert_int_equal(s2_unmap(&pgt, ipa_init(IPA_BASE + first * 4096), n * 4096, &owed), 0);
			for (u64 i = first; i < first + n; i++) {
				downgrade |= model[i].mapped;
				model[i].mapped = false;
			}
			break;
		case 2:
			assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE + first * 4096), n * 4096, prot,
						    &owed), 0);
			for (u64 i = first; i < first + n; i++)
				if (model[i].mapped) {
					downgrade |= (model[i].prot & ~prot & 7) != 0;
					model[i].prot = prot;
				}
			break;
		default:
			assert_int_equal(s2_split(&pgt, ipa_init(IPA_BASE + first * 4096), n * 4096, &owed), 0);
			break;
		}
		/* A downgrade owes a flush, and what it owes lies within the range changed. */
		if (downgrade) {
			assert_true(owed.pages > 0);
			assert_true(ipa_addr(owed.start) >= IPA_BASE + first * 4096);
			assert_true(ipa_addr(owed.start) + owed.pages * 4096 <=
				    IPA_BASE + (first + n) * 4096);
		} else {
			assert_int_equal(owed.pages, 0);
		}
		if (iter % 50 == 0)
			check_all(&pgt);
	}
	check_all(&pgt);
	s2_destroy(&pgt);
	assert_int_equal(live_pages, 0);
}

static void test_relax_owes_nothing_downgrade_owes_exactly(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	(void)state;
	setup_table(&pgt);
	assert_int_equal(s2_map(&pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), 8 << 20, S2_PROT_R, &owed), 0);
	assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE), 8 << 20, S2_PROT_R | S2_PROT_W, &owed), 0);
	assert_int_equal(owed.pages, 0);
	assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE + 0x200000), 0x400000, S2_PROT_R, &owed), 0);
	assert_int_equal(ipa_addr(owed.start), IPA_BASE + 0x200000);
	assert_int_equal(owed.pages, 1024);
	assert_int_equal(owed.level, 2);
	s2_destroy(&pgt);
}

/* Splitting 16 MiB of blocks: one break-before-make flush for all of them, tables published only
 * after a DSB ISHST, and every page still maps the same PA with the same permissions. */
static void test_split_batched_bbm(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	size_t dsbs = 0;
	(void)state;
	setup_table(&pgt);
	assert_int_equal(s2_map(&pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), 16 << 20,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed), 0);
	for (u64 i = 0; i < 4096; i++)
		model[i] = (struct ref){ PA_BASE + i * 4096, S2_PROT_R | S2_PROT_W | S2_PROT_X, true };
	fake_arch_reset();
	assert_int_equal(s2_split(&pgt, ipa_init(IPA_BASE), 16 << 20, &owed), 0);
	assert_int_equal(bbm_calls, 1);
	assert_int_equal(bbm_pages, 4096);
	for (size_t i = 0; i < fake_arch_log_len; i++)
		dsbs += fake_arch_log[i].kind == FAKE_DSB_ISHST;
	assert_true(dsbs >= 8);
	check_all(&pgt);
	for (u64 i = 0; i < 4096; i += 511) {
		pa_t pa;
		unsigned prot;
		int level;
		assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + i * 4096), &pa, &prot, &level), 0);
		assert_int_equal(level, 3);
	}
	/* Splitting again finds nothing to break. */
	assert_int_equal(s2_split(&pgt, ipa_init(IPA_BASE), 16 << 20, &owed), 0);
	assert_int_equal(bbm_calls, 1);
	s2_destroy(&pgt);
	assert_int_equal(live_pages, 0);
}

/* Dirty logging over the same tables: write faults set bits and relax; collect takes exactly the
 * faulted pages, re-protects them and owes one flush per run; DBM collection finds descriptors the
 * "hardware" made writable. */
static void test_dirty_log_wp_and_dbm(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	struct dirty_log dl;
	struct tlbi_caps caps = { .range = true, .ttl = true };
	static u64 bits[BITMAP_WORDS(4096)], out[BITMAP_WORDS(4096)];
	pa_t pa;
	unsigned prot;
	int level;
	(void)state;
	setup_table(&pgt);
	tlbi_state_reset();
	assert_int_equal(s2_map(&pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), 16 << 20,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed), 0);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(dirty_log_start(&dl, &pgt, &caps, 7, DIRTY_WP, IPA_BASE, 4096, bits), 0);
	assert_false(tlbi_san_pending(7)); /* every downgrade flushed */
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 0x5000), &pa, &prot, &level), 0);
	assert_int_equal(prot, S2_PROT_R | S2_PROT_X);
	assert_int_equal(level, 3);
	/* Faults on pages 5, 6, 7 and 100 (7 twice: another vCPU). */
	for (u64 p = 5; p <= 7; p++)
		assert_int_equal(dirty_log_handle_fault(&dl, &pgt, IPA_BASE + p * 4096 + 8), 0);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, IPA_BASE + 7 * 4096), 0);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, IPA_BASE + 100 * 4096), 0);
	assert_int_equal(dl.spurious, 1);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, IPA_BASE + 4096 * 4096), FERRY_ENOENT);
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 6 * 4096), &pa, &prot, &level), 0);
	assert_true(prot & S2_PROT_W);
	memset(out, 0, sizeof(out));
	u64 flushes_before = dl.flushes;
	assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 4096, out), 4);
	assert_int_equal(dl.flushes - flushes_before, 1); /* one covering flush for runs 5-7 and 100 */
	assert_false(tlbi_san_pending(7));
	assert_true(bitmap_test(out, 5) && bitmap_test(out, 6) && bitmap_test(out, 7) &&
		    bitmap_test(out, 100));
	assert_int_equal(bitmap_weight(out, 4096), 4);
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 6 * 4096), &pa, &prot, &level), 0);
	assert_false(prot & S2_PROT_W);
	memset(out, 0, sizeof(out));
	assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 4096, out), 0);
	assert_int_equal(dirty_log_stop(&dl, &pgt), 0);

	/* DBM: start sets DBM read-only; emulate the hardware making pages 9 and 4095 writable. */
	memset(bits, 0, sizeof(bits));
	assert_int_equal(dirty_log_start(&dl, &pgt, &caps, 7, DIRTY_DBM, IPA_BASE, 4096, bits), 0);
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 9 * 4096), &pa, &prot, &level), 0);
	assert_int_equal(prot, S2_PROT_R | S2_PROT_X | S2_PROT_DBM);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, IPA_BASE + 9 * 4096), FERRY_ENOENT);
	assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE + 9 * 4096), 4096,
				    S2_PROT_R | S2_PROT_W | S2_PROT_X | S2_PROT_DBM, &owed), 0);
	assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE + 4095 * 4096), 4096,
				    S2_PROT_R | S2_PROT_W | S2_PROT_X | S2_PROT_DBM, &owed), 0);
	memset(out, 0, sizeof(out));
	fake_arch_reset();
	assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 4096, out), 2);
	assert_true(bitmap_test(out, 9) && bitmap_test(out, 4095));
	assert_false(tlbi_san_pending(7));
	assert_true(fake_arch_log_len > 0); /* the cleaned pages were flushed */
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 9 * 4096), &pa, &prot, &level), 0);
	assert_int_equal(prot, S2_PROT_R | S2_PROT_X | S2_PROT_DBM);
	assert_int_equal(dirty_log_stop(&dl, &pgt), 0);
	s2_destroy(&pgt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_where_aligned),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_relax_owes_nothing_downgrade_owes_exactly),
		cmocka_unit_test(test_split_batched_bbm),
		cmocka_unit_test(test_dirty_log_wp_and_dbm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
