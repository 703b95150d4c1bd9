# SPDX-License-Identifier: Apache-2.0
# bench/tlbi: ops issued per planner for a table of range sizes; the binary is its own runner and
# exits non-zero unless ferry's plan is correct and minimal. Built from the planner sources directly.
BENCH_TLBI_SRC := bench/tlbi/bench_tlbi.c hyp/mm/tlbi_encode.c hyp/mm/tlbi_plan.c hyp/lib/strerror.c

$(BUILD)/bench/tlbi/bench_tlbi: $(BENCH_TLBI_SRC) hyp/mm/tlbi.h hyp/include/types.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -Ihyp/include -Ihyp $(BENCH_TLBI_SRC) -o $@

BENCH_BINS += $(BUILD)/bench/tlbi/bench_tlbi
BENCH_RUN += bench/tlbi/run
