# SPDX-License-Identifier: Apache-2.0
# guest/memstress: a flat arm64 Image (header at 0, text_offset 0x80000), linked to run at
# 0x40080000 (RAM base of QEMU virt and of ferry's VMs), on guest/lib, picolibc and Debian's libfdt.
MEMSTRESS_SRC := guest/memstress/memstress.c guest/memstress/rtc.c
MEMSTRESS_OBJ := $(patsubst guest/memstress/%,$(BUILD)/guest/memstress/%.o,$(MEMSTRESS_SRC))
GUEST_BINS += $(BUILD)/guest/memstress.bin

$(BUILD)/guest/memstress/%.o: guest/memstress/% guest/memstress/shared.h guest/memstress/rtc.h \
		guest/lib/guest.h | deps-stamp
	@mkdir -p $(@D)
	$(TCC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/memstress.elf: $(MEMSTRESS_OBJ) $(GUEST_LIB_OBJ) $(GUEST_LIB_LDS) $(ARM64_LIBFDT)
	$(TCC) $(TARGET_LDFLAGS) -T$(GUEST_LIB_LDS) $(MEMSTRESS_OBJ) $(GUEST_LIB_OBJ) $(ARM64_LIBFDT) \
		-lc -lgcc -o $@

$(BUILD)/guest/memstress.bin: $(BUILD)/guest/memstress.elf
	$(TOBJCOPY) -O binary $< $@
