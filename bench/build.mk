# SPDX-License-Identifier: Apache-2.0
# Benchmarks; each bench/<name>/build.mk adds its binaries to BENCH_BINS and its runner to BENCH_RUN.
BENCH_BINS :=
BENCH_RUN :=
-include $(sort $(wildcard bench/*/build.mk))
.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@set -e; for b in $(BENCH_RUN); do $$b; done
