/* SPDX-License-Identifier: Apache-2.0 */
/* The TLBI model tests' state: the reference TLB model fed every TLBI and barrier the flush code
 * issues (fake_arch reset around each case), the capabilities they run under, and the
 * sanitizer's report and ring-dump lines captured for the checks. */
#ifndef FERRY_TLBI_FIXTURE_H
#define FERRY_TLBI_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "mm/tlbi.h"
#include "tlb_model.h"

#define SEED_IPA 0x40000000ULL
#define SEED_PAGES 0x200000ULL
#define VMID 1

extern const struct tlbi_caps caps_range, caps_range_ttl, caps_none, caps_none_ttl;

extern struct tlb_model model;

/* Captured report/dump lines. */
extern char lines[128][TLBI_LINE_MAX];
extern size_t nlines;
void capture(const char *line, void *ctx);
bool captured(const char *needle);

/* Every case: fake_arch, the TLBI state and the model fresh, no lines captured. */
int setup_each(void **state);
int teardown_each(void **state);

void model_op(unsigned kind, u16 vmid, u64 operand);
/* Pages of [first, first + pages) still translated by a stage-2 or combined entry in the model. */
u64 stale_s2(u16 vmid, u64 first, u64 pages);

/* Entry i of fake_arch's log is this TLBI or barrier. */
void assert_event(size_t i, unsigned kind, u16 vmid, u64 operand);
/* Caches stage-2 and combined entries for the range, downgrades it, flushes with `algo` and
 * returns the stage-2 pages the model still holds. */
u64 write_protect(enum tlbi_algo algo, const struct tlbi_caps *caps, u64 addr, u64 pages, int level,
		  int fill_level, struct tlb_model_range *stale, size_t max, size_t *nstale);

#endif
