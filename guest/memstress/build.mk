# guest/memstress: a flat arm64 Image (header at 0, text_offset 0x80000), linked to run at
# 0x40080000 (RAM base of QEMU virt and of ferry's default VMs), with picolibc and Debian's libfdt.
MEMSTRESS_SRC := guest/memstress/head.S guest/memstress/memstress.c
MEMSTRESS_OBJ := $(patsubst %,$(BUILD)/guest/memstress/%.o,$(notdir $(MEMSTRESS_SRC)))
GUEST_BINS += $(BUILD)/guest/memstress.bin

$(BUILD)/guest/memstress/%.o: guest/memstress/% | deps-stamp
	@mkdir -p $(@D)
	$(TCC) $(TARGET_CFLAGS) -c $< -o $@

$(BUILD)/guest/memstress.elf: $(MEMSTRESS_OBJ) guest/memstress/memstress.lds $(ARM64_LIBFDT)
	$(TCC) $(TARGET_LDFLAGS) -Tguest/memstress/memstress.lds $(MEMSTRESS_OBJ) $(ARM64_LIBFDT) \
		-lc -lgcc -o $@

$(BUILD)/guest/memstress.bin: $(BUILD)/guest/memstress.elf
	$(TOBJCOPY) -O binary $< $@
