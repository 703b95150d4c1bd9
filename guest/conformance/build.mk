# SPDX-License-Identifier: Apache-2.0
# guest/conformance: ferry's bare-metal conformance guest (docs/guest-view.md). A flat arm64 Image
# like memstress (guest/lib's head, map and console), with its own exception vectors: it takes
# interrupts and expected faults, where memstress treats every exception as fatal.
CONFORMANCE_SRC := $(sort $(wildcard guest/conformance/*.c guest/conformance/*.S))
CONFORMANCE_OBJ := $(patsubst guest/conformance/%,$(BUILD)/guest/conformance/%.o,$(CONFORMANCE_SRC))
GUEST_BINS += $(BUILD)/guest/conformance.bin

$(BUILD)/guest/conformance/%.o: guest/conformance/% guest/conformance/conf.h guest/lib/guest.h | deps-stamp
	@mkdir -p $(@D)
	$(TCC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/conformance.elf: $(CONFORMANCE_OBJ) $(GUEST_LIB_OBJ) $(GUEST_LIB_LDS) $(ARM64_LIBFDT)
	$(TCC) $(TARGET_LDFLAGS) -T$(GUEST_LIB_LDS) $(CONFORMANCE_OBJ) $(GUEST_LIB_OBJ) $(ARM64_LIBFDT) \
		-lc -lgcc -o $@

$(BUILD)/guest/conformance.bin: $(BUILD)/guest/conformance.elf
	$(TOBJCOPY) -O binary $< $@
