# SPDX-License-Identifier: Apache-2.0
# guest/latency: the timer-latency guest of bench/interference (docs/interference.md). A flat arm64
# Image like memstress (guest/lib's head, map and console), with its own vectors: its IRQ vector
# reads the counters first thing.
LATENCY_SRC := guest/latency/latency.c guest/latency/vectors.S
LATENCY_OBJ := $(patsubst guest/latency/%,$(BUILD)/guest/latency/%.o,$(LATENCY_SRC))
GUEST_BINS += $(BUILD)/guest/latency.bin

$(BUILD)/guest/latency/%.o: guest/latency/% guest/lib/guest.h | deps-stamp
	@mkdir -p $(@D)
	$(TCC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/latency.elf: $(LATENCY_OBJ) $(GUEST_LIB_OBJ) $(GUEST_LIB_LDS) $(ARM64_LIBFDT)
	$(TCC) $(TARGET_LDFLAGS) -T$(GUEST_LIB_LDS) $(LATENCY_OBJ) $(GUEST_LIB_OBJ) $(ARM64_LIBFDT) \
		-lc -lgcc -o $@

$(BUILD)/guest/latency.bin: $(BUILD)/guest/latency.elf
	$(TOBJCOPY) -O binary $< $@
