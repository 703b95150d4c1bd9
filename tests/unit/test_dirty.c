/* SPDX-License-Identifier: Apache-2.0 */
/* Dirty logging (hyp/mm/dirty.c) over real stage-2 tables: start splits and write-protects with every
 * downgrade flushed (the sanitizer stays clean), write faults set bits and relax, collection takes
 * exactly the faulted pages and re-protects them with one covering flush, DBM collection finds the
 * descriptors the hardware made writable. The tables themselves are tested in test_s2*.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"
#include "lib/bitmap.h"
#include "mm/dirty.h"
#include "mm/s2.h"
#include "s2_fixture.h"

#define IPA_BASE 0x40000000ULL
#define PA_BASE 0x80000000ULL

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

static void setup_table_ops(struct s2_pgtable *pgt, const struct s2_mm_ops *mm)
{
	fake_arch_reset();
	bbm_calls = 0;
	bbm_pages = 0;
	assert_int_equal(s2_init(pgt, 39, 7, mm, NULL, bbm, NULL), 0);
}

static void setup_table(struct s2_pgtable *pgt) { setup_table_ops(pgt, &s2fx_mm); }

/* 16 MiB of RAM mapped read-write at IPA_BASE, and a log of all of it started in mode. */
static void map_and_start(struct s2_pgtable *pgt, struct dirty_log *dl,
			  const struct tlbi_caps *caps, enum dirty_mode mode, u64 *bits)
{
	struct s2_flush owed = { 0 };

	setup_table(pgt);
	tlbi_state_reset();
	assert_int_equal(s2_map(pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), 16 << 20,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed),
			 0);
	memset(bits, 0, BITMAP_WORDS(4096) * 8);
	assert_int_equal(dirty_log_start(dl, pgt, caps, 7, mode, IPA_BASE, 4096, bits), 0);
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
	map_and_start(&pgt, &dl, &caps, DIRTY_WP, bits);
	assert_false(tlbi_san_pending(7)); /* every downgrade flushed */
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 0x5000), &pa, &prot, &level), 0);
	assert_int_equal(prot, S2_PROT_R | S2_PROT_X);
	assert_int_equal(level, 3);
	/* Faults on pages 5, 6, 7 and 100 (7 twice: another vCPU). */
	for (u64 p = 5; p <= 7; p++)
		assert_int_equal(
			dirty_log_handle_fault(&dl, &pgt, ipa_init(IPA_BASE + p * 4096 + 8)), 0);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, ipa_init(IPA_BASE + 7 * 4096)), 0);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, ipa_init(IPA_BASE + 100 * 4096)), 0);
	assert_int_equal(dl.spurious, 1);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, ipa_init(IPA_BASE + 4096 * 4096)),
			 FERRY_ENOENT);
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 6 * 4096), &pa, &prot, &level), 0);
	assert_true(prot & S2_PROT_W);
	memset(out, 0, sizeof(out));
	u64 flushes_before = dl.flushes;
	assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 4096, out), 4);
	assert_int_equal(dl.flushes - flushes_before,
			 1); /* one covering flush for runs 5-7 and 100 */
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
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, ipa_init(IPA_BASE + 9 * 4096)),
			 FERRY_ENOENT);
	assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE + 9 * 4096), 4096,
				    S2_PROT_R | S2_PROT_W | S2_PROT_X | S2_PROT_DBM, &owed),
			 0);
	assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE + 4095 * 4096), 4096,
				    S2_PROT_R | S2_PROT_W | S2_PROT_X | S2_PROT_DBM, &owed),
			 0);
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
	assert_int_equal(s2fx.nlive, 0);
}

/* The fast path takes exactly the faults the generic path would log (a WP page made read-only by
 * dirty logging), with the same effect (bit set, page writable), and refuses everything else
 * unchanged: writable pages, DBM pages, blocks, IPAs outside the log or the tables. */
static void fast_fault(const struct s2_mm_ops *mm)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	struct dirty_log dl = { 0 };
	struct tlbi_caps caps = { .range = true, .ttl = true };
	static u64 bits[BITMAP_WORDS(4096)], out[BITMAP_WORDS(4096)];
	pa_t pa;
	unsigned prot;
	int level;
	setup_table_ops(&pgt, mm);
	tlbi_state_reset();
	/* 16 MiB logged, and a 2 MiB block right after it that logging does not cover. */
	assert_int_equal(s2_map(&pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), 18 << 20,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed),
			 0);
	memset(bits, 0, sizeof(bits));
	dl.mode = DIRTY_OFF;
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE), FERRY_ENOENT);
	assert_int_equal(dirty_log_start(&dl, &pgt, &caps, 7, DIRTY_WP, IPA_BASE, 4096, bits), 0);
	for (u64 p = 0; p < 4096; p += 97) {
		assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + p * 4096 + 0x10), 0);
		assert_true(bitmap_test(bits, p));
		assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + p * 4096), &pa, &prot, &level),
				 0);
		assert_int_equal(prot, S2_PROT_R | S2_PROT_W | S2_PROT_X);
		assert_true(pa_addr(pa) == PA_BASE + p * 4096);
		/* Now writable: not the fast path's (the generic path counts it spurious). */
		assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + p * 4096),
				 FERRY_ENOENT);
	}
	assert_int_equal(bitmap_weight(bits, 4096), (4096 + 96) / 97);
	assert_int_equal(dl.faults, (4096 + 96) / 97);
	/* Neighbours untouched. */
	assert_int_equal(s2_lookup(&pgt, ipa_init(IPA_BASE + 4096), &pa, &prot, &level), 0);
	assert_int_equal(prot, S2_PROT_R | S2_PROT_X);
	assert_false(bitmap_test(bits, 1));
	/* Outside the log (below, above: the unlogged block), and beyond the IPA space. */
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE - 4096), FERRY_ENOENT);
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + (16 << 20)), FERRY_ENOENT);
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, 1ULL << 45), FERRY_ENOENT);
	/* A read-only page logging did not protect the way it expects: a block in range. */
	struct dirty_log wide = dl;

	wide.npages = 4096 + 512;
	assert_int_equal(s2_protect(&pgt, ipa_init(IPA_BASE + (16 << 20)), 2 << 20,
				    S2_PROT_R | S2_PROT_X, &owed),
			 0);
	assert_int_equal(dirty_log_fast_fault(&wide, &pgt, IPA_BASE + (16 << 20)), FERRY_ENOENT);
	tlbi_flush_s2_vmid(7);
	/* Collection re-protects; the fast path then logs the page again. */
	memset(out, 0, sizeof(out));
	assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 4096, out), (4096 + 96) / 97);
	assert_false(tlbi_san_pending(7));
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + 97 * 4096), 0);
	assert_int_equal(dirty_log_stop(&dl, &pgt), 0);
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + 194 * 4096), FERRY_ENOENT);
	/* DBM pages belong to the hardware: never the fast path's. */
	memset(bits, 0, sizeof(bits));
	assert_int_equal(dirty_log_start(&dl, &pgt, &caps, 7, DIRTY_DBM, IPA_BASE, 4096, bits), 0);
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + 5 * 4096), FERRY_ENOENT);
	dl.mode = DIRTY_WP; /* even if the mode said otherwise, a DBM descriptor is refused */
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + 5 * 4096), FERRY_ENOENT);
	assert_int_equal(bitmap_weight(bits, 4096), 0);
	dl.mode = DIRTY_DBM;
	assert_int_equal(dirty_log_stop(&dl, &pgt), 0);
	s2_destroy(&pgt);
	assert_int_equal(s2fx.nlive, 0);
}

static void test_fast_fault(void **state)
{
	struct s2_pgtable pgt;
	struct s2_flush owed = { 0 };
	struct dirty_log dl = { 0 };
	struct tlbi_caps caps = { .range = true };
	static u64 bits[BITMAP_WORDS(4096)];
	(void)state;

	fast_fault(&s2fx_mm_identity);
	/* Tables not mapped at their physical address: the fast path declines every fault (the
	 * generic path handles them), and changes nothing. */
	setup_table(&pgt);
	assert_int_equal(s2_map(&pgt, ipa_init(IPA_BASE), pa_init(PA_BASE), 16 << 20,
				S2_PROT_R | S2_PROT_W | S2_PROT_X, &owed),
			 0);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(dirty_log_start(&dl, &pgt, &caps, 7, DIRTY_WP, IPA_BASE, 4096, bits), 0);
	assert_int_equal(dirty_log_fast_fault(&dl, &pgt, IPA_BASE + 0x5000), FERRY_ENOENT);
	assert_int_equal(bitmap_weight(bits, 4096), 0);
	assert_int_equal(dirty_log_handle_fault(&dl, &pgt, ipa_init(IPA_BASE + 0x5000)), 0);
	assert_int_equal(dirty_log_stop(&dl, &pgt), 0);
	s2_destroy(&pgt);
}

/* ferry's own writes (dirty_log_note_write): every logged page that a byte of [ipa, ipa + len)
 * falls in, and no other, for ranges before, across, inside and past the log, lengths up to 2^64 - 1
 * and a log ending at the top of the address space; checked against a 128-bit reference. */
static void note_case(struct dirty_log *dl, u64 *bits, u64 ipa, u64 len)
{
	unsigned __int128 lo = ipa, hi = (unsigned __int128)ipa + len; /* [lo, hi) */
	unsigned __int128 base = dl->base;
	u64 want = 0, got;

	memset(bits, 0, BITMAP_WORDS(dl->npages) * 8);
	got = dirty_log_note_write(dl, ipa, len);
	for (u64 p = 0; p < dl->npages; p++) {
		unsigned __int128 ps = base + ((unsigned __int128)p << PAGE_SHIFT),
				  pe = ps + PAGE_SIZE;
		bool in = dl->mode != DIRTY_OFF && len && lo < pe && ps < hi;

		want += in;
		if (bitmap_test(bits, p) != in)
			fail_msg("ipa 0x%llx len 0x%llx: page %llu %s", (unsigned long long)ipa,
				 (unsigned long long)len, (unsigned long long)p,
				 in ? "not marked" : "marked");
	}
	assert_int_equal(got, want);
}

static void test_note_write(void **state)
{
	static u64 bits[BITMAP_WORDS(8)];
	const u64 lens[] = { 0,
			     1,
			     2,
			     8,
			     PAGE_SIZE - 1,
			     PAGE_SIZE,
			     PAGE_SIZE + 1,
			     3 * PAGE_SIZE,
			     8 * PAGE_SIZE,
			     9 * PAGE_SIZE,
			     1ULL << 40,
			     ~0ULL / 2,
			     ~0ULL - 1,
			     ~0ULL };
	const u64 bases[] = { IPA_BASE, 0x1000, 0 - 8 * PAGE_SIZE };
	struct dirty_log dl;
	(void)state;

	for (unsigned b = 0; b < ARRAY_SIZE(bases); b++)
		for (int mode = DIRTY_OFF; mode <= DIRTY_DBM; mode++) {
			dl = (struct dirty_log){ .mode = (enum dirty_mode)mode,
						 .base = bases[b],
						 .npages = 8,
						 .bitmap = bits };
			/* From three pages before the log to three after, in steps that land on
			 * every offset class of a page's first, middle and last bytes. */
			for (u64 off = 0; off < 14 * PAGE_SIZE; off += PAGE_SIZE / 2 - 1)
				for (unsigned l = 0; l < ARRAY_SIZE(lens); l++)
					note_case(&dl, bits, bases[b] - 3 * PAGE_SIZE + off,
						  lens[l]);
			for (unsigned l = 0; l < ARRAY_SIZE(lens); l++) {
				note_case(&dl, bits, ~0ULL, lens[l]); /* the last byte of all */
				note_case(&dl, bits, 0, lens[l]);
			}
		}
}

/* A page ferry wrote while logging is reported by the next collection in WP mode (its descriptor
 * stays read-only: nothing faulted) and in DBM mode, and not again after that. */
static void test_note_write_collected(void **state)
{
	struct s2_pgtable pgt;
	struct dirty_log dl;
	struct tlbi_caps caps = { .range = true, .ttl = true };
	static u64 bits[BITMAP_WORDS(4096)], out[BITMAP_WORDS(4096)];
	(void)state;

	for (int mode = DIRTY_WP; mode <= DIRTY_DBM; mode++) {
		map_and_start(&pgt, &dl, &caps, (enum dirty_mode)mode, bits);
		/* An ITS table entry straddling pages 5 and 6. */
		assert_int_equal(dirty_log_note_write(&dl, IPA_BASE + 0x6000 - 4, 8), 2);
		memset(out, 0, sizeof(out));
		assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 4096, out), 2);
		assert_true(bitmap_test(out, 5) && bitmap_test(out, 6));
		memset(out, 0, sizeof(out));
		assert_int_equal(dirty_log_collect(&dl, &pgt, 0, 4096, out), 0);
		assert_int_equal(dl.noted, 2);
		assert_int_equal(dirty_log_stop(&dl, &pgt), 0);
		assert_int_equal(dirty_log_note_write(&dl, IPA_BASE, 8), 0); /* off: nothing */
		s2_destroy(&pgt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_log_wp_and_dbm),
		cmocka_unit_test(test_fast_fault),
		cmocka_unit_test(test_note_write),
		cmocka_unit_test(test_note_write_collected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
