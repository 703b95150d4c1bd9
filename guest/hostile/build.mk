# SPDX-License-Identifier: Apache-2.0
# guest/hostile: the attacking guest (docs/isolation.md), built like memstress: a flat arm64 Image (header at 0, text_offset 0x80000), linked to run at
# 0x40080000 (RAM base of QEMU virt and of ferry's VMs), on guest/lib, picolibc and Debian's libfdt.
HOSTILE_SRC := guest/hostile/hostile.c guest/hostile/hostile_memory.c guest/hostile/hostile_gic.c \
	guest/hostile/hostile_mmio.c guest/hostile/hostile_system.c guest/hostile/hostile_cpu.c \
	guest/hostile/asm.S
HOSTILE_OBJ := $(patsubst guest/hostile/%,$(BUILD)/guest/hostile/%.o,$(HOSTILE_SRC))
GUEST_BINS += $(BUILD)/guest/hostile.bin

$(BUILD)/guest/hostile/%.o: guest/hostile/% guest/hostile/hostile.h guest/lib/guest.h | deps-stamp
	@mkdir -p $(@D)
	$(TCC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/hostile.elf: $(HOSTILE_OBJ) $(GUEST_LIB_OBJ) $(GUEST_LIB_LDS) $(ARM64_LIBFDT)
	$(TCC) $(TARGET_LDFLAGS) -T$(GUEST_LIB_LDS) $(HOSTILE_OBJ) $(GUEST_LIB_OBJ) $(ARM64_LIBFDT) \
		-lc -lgcc -o $@

$(BUILD)/guest/hostile.bin: $(BUILD)/guest/hostile.elf
	$(TOBJCOPY) -O binary $< $@
