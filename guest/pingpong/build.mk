# SPDX-License-Identifier: Apache-2.0
# guest/pingpong: two VMs exchanging messages over a shared region with doorbells
# (docs/shared-memory.md); built like guest/memstress, on guest/lib, picolibc and Debian's libfdt.
PINGPONG_OBJ := $(BUILD)/guest/pingpong/pingpong.c.o
GUEST_BINS += $(BUILD)/guest/pingpong.bin

$(BUILD)/guest/pingpong/%.o: guest/pingpong/% guest/lib/guest.h | deps-stamp
	@mkdir -p $(@D)
	$(TCC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/pingpong.elf: $(PINGPONG_OBJ) $(GUEST_LIB_OBJ) $(GUEST_LIB_LDS) $(ARM64_LIBFDT)
	$(TCC) $(TARGET_LDFLAGS) -T$(GUEST_LIB_LDS) $(PINGPONG_OBJ) $(GUEST_LIB_OBJ) $(ARM64_LIBFDT) \
		-lc -lgcc -o $@

$(BUILD)/guest/pingpong.bin: $(BUILD)/guest/pingpong.elf
	$(TOBJCOPY) -O binary $< $@
