# SPDX-License-Identifier: Apache-2.0
# bench/mac: the migration link's tag candidates per 4 KiB page frame, on the host.
$(BUILD)/bench/mac_bench: bench/mac/mac_bench.c hyp/lib/hash64.c
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -Ihyp/include -Ihyp $^ -lsodium -o $@
BENCH_BINS += $(BUILD)/bench/mac_bench
BENCH_RUN += $(BUILD)/bench/mac_bench
