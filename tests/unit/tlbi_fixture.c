/* SPDX-License-Identifier: Apache-2.0 */
#include "tlbi_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_arch.h"

const struct tlbi_caps caps_range = { .range = true, .ttl = false };
const struct tlbi_caps caps_range_ttl = { .range = true, .ttl = true };
const struct tlbi_caps caps_none = { .range = false, .ttl = false };
const struct tlbi_caps caps_none_ttl = { .range = false, .ttl = true };

struct tlb_model model;

char lines[128][TLBI_LINE_MAX];
size_t nlines;

void capture(const char *line, void *ctx)
{
	(void)ctx;
	if (nlines < ARRAY_SIZE(lines))
		snprintf(lines[nlines++], sizeof(lines[0]), "%s", line);
}

bool captured(const char *needle)
{
	for (size_t i = 0; i < nlines; i++)
		if (strstr(lines[i], needle))
			return true;
	return false;
}

int setup_each(void **state)
{
	(void)state;
	fake_arch_reset();
	tlbi_state_reset();
	tlb_model_init(&model);
	nlines = 0;
	return 0;
}

int teardown_each(void **state)
{
	(void)state;
	tlb_model_free(&model);
	fake_arch_reset();
	return 0;
}

void model_op(unsigned kind, u16 vmid, u64 operand)
{
	tlb_model_event(&model, kind, vmid, operand);
}

u64 stale_s2(u16 vmid, u64 first, u64 pages)
{
	struct tlb_model_range r[4];
	size_t n;

	return tlb_model_stale_s2(&model, vmid, first, pages, r, ARRAY_SIZE(r), &n);
}

void assert_event(size_t i, unsigned kind, u16 vmid, u64 operand)
{
	assert_true(i < fake_arch_log_len);
	assert_int_equal(fake_arch_log[i].kind, kind);
	assert_int_equal(fake_arch_log[i].vmid, vmid);
	assert_true(fake_arch_log[i].operand == operand);
}

u64 write_protect(enum tlbi_algo algo, const struct tlbi_caps *caps, u64 addr, u64 pages, int level,
		  int fill_level, struct tlb_model_range *stale, size_t max, size_t *nstale)
{
	u64 first = addr >> PAGE_SHIFT;

	tlb_model_free(&model);
	tlb_model_init(&model);
	fake_arch_reset();
	fake_arch_observer = tlb_model_observer;
	fake_arch_observer_ctx = &model;
	/* Neighbours on both sides must survive: no op outside the range. */
	tlb_model_fill_s2(&model, VMID, first - 512, 512, 3);
	tlb_model_fill_s2(&model, VMID, first, pages, fill_level);
	tlb_model_fill_s2(&model, VMID, first + pages, 512, 3);
	tlb_model_fill_combined(&model, VMID, first, pages);
	tlb_model_write_tables(&model);
	tlbi_san_downgrade(VMID, ipa_init(addr), pages);
	assert_int_equal(tlbi_flush_s2_range_algo(algo, caps, VMID, ipa_init(addr), pages, level),
			 0);
	fake_arch_observer = NULL;
	assert_true(model.ordering_violations == 0);
	assert_true(model.unpredictable_ops == 0);
	assert_true(tlb_model_stale_combined(&model, VMID, first, pages) == 0);
	return tlb_model_stale_s2(&model, VMID, first, pages, stale, max, nstale);
}
