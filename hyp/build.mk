# SPDX-License-Identifier: Apache-2.0
# The EL2 image. Every .c/.S under hyp/ is part of it; the pure folders (mk/pure.mk) are also
# compiled for the host by tests/unit/build.mk.
#
# Variants share the sources and differ in defines:
#   ferry              release (make run, make demo); no migration test hooks
#   ferry-san          TLBI sanitizer on, migration test hooks (corrupt=N, lose=1) on: the system
#                      tests use it
#   ferry-san-linux66  sanitizer on, flush planner replaced by Linux v6.6's (bug reproduction)
#   ferry-san-linux68  sanitizer on, flush planner replaced by Linux v6.8's (the seed's bug)
#   ferry-noflush      dirty-log collection skips its flush (proves the dirty-log test can fail)

HYP_C := $(sort $(wildcard hyp/*/*.c hyp/arch/aarch64/*.c))
HYP_S := $(sort $(wildcard hyp/arch/aarch64/*.S hyp/core/*.S))
HYP_INC := -Ihyp/include -Ihyp -Iplatform/$(PLATFORM)
HYP_LDS := platform/$(PLATFORM)/hyp.lds
HYP_VARIANTS := ferry ferry-san ferry-san-linux66 ferry-san-linux68 ferry-noflush

HYP_DEFS_ferry :=
# Every build but the release one is a test build: it has the migration test hooks.
HYP_TEST_HOOKS := -DFERRY_MIG_TEST_HOOKS=1
HYP_DEFS_ferry-san := -DFERRY_TLBI_SANITIZER=1 $(HYP_TEST_HOOKS)
HYP_DEFS_ferry-san-linux66 := -DFERRY_TLBI_SANITIZER=1 -DFERRY_TLBI_ALGO=TLBI_ALGO_LINUX_6_6 \
	$(HYP_TEST_HOOKS)
HYP_DEFS_ferry-san-linux68 := -DFERRY_TLBI_SANITIZER=1 -DFERRY_TLBI_ALGO=TLBI_ALGO_LINUX_6_8 \
	$(HYP_TEST_HOOKS)
HYP_DEFS_ferry-noflush := -DFERRY_DIRTY_SKIP_COLLECT_FLUSH=1 $(HYP_TEST_HOOKS)

# Images the hypervisor carries for its guests (hyp/core/images.S includes them by name) and the
# default VM configuration of the platform (used when no config is loaded at the config slot).
HYP_BLOBS := $(GUEST_BINS) $(BUILD)/platform/$(PLATFORM)/default.dtb

define hyp_variant
$(1)_OBJ := $$(patsubst %,$(BUILD)/hyp/$(1)/%.o,$$(HYP_C) $$(HYP_S))
$(BUILD)/hyp/$(1)/%.c.o: %.c | deps-stamp
	@mkdir -p $$(@D)
	$$(TCC) $$(TARGET_CFLAGS) $$(HYP_INC) $$(HYP_DEFS_$(1)) -MMD -MP -c $$< -o $$@
$(BUILD)/hyp/$(1)/%.S.o: %.S $$(HYP_BLOBS) | deps-stamp
	@mkdir -p $$(@D)
	$$(TCC) $$(TARGET_CFLAGS) $$(HYP_INC) $$(HYP_DEFS_$(1)) \
		-DIMAGE_MEMSTRESS=\"$(BUILD)/guest/memstress.bin\" \
		-DIMAGE_PINGPONG=\"$(BUILD)/guest/pingpong.bin\" \
		-DIMAGE_CONFORMANCE=\"$(BUILD)/guest/conformance.bin\" \
		-DIMAGE_HOSTILE=\"$(BUILD)/guest/hostile.bin\" \
		-DIMAGE_LATENCY=\"$(BUILD)/guest/latency.bin\" \
		-DDEFAULT_CONFIG_DTB=\"$(BUILD)/platform/$(PLATFORM)/default.dtb\" -MMD -MP -c $$< -o $$@
$(BUILD)/$(1).elf: $$($(1)_OBJ) $(HYP_LDS) $(ARM64_LIBFDT) $(ARM64_LIBSODIUM)
	$$(TCC) $$(TARGET_LDFLAGS) -T$(HYP_LDS) $$($(1)_OBJ) $(ARM64_LIBFDT) $(ARM64_LIBSODIUM) \
		-lc -lgcc -o $$@
$(BUILD)/$(1).bin: $(BUILD)/$(1).elf
	$$(TOBJCOPY) -O binary $$< $$@
-include $$($(1)_OBJ:.o=.d)
endef
$(foreach v,$(HYP_VARIANTS),$(eval $(call hyp_variant,$(v))))

.PHONY: hyp deps-stamp
hyp: $(foreach v,$(HYP_VARIANTS),$(BUILD)/$(v).bin)

# Building needs the arm64 libfdt.a that `make deps` unpacks; say so instead of failing obscurely.
deps-stamp:
	@test -f $(ARM64_LIBFDT) || { echo "missing $(ARM64_LIBFDT): run 'make deps' first"; exit 1; }
	@test -f $(ARM64_LIBSODIUM) || { echo "missing $(ARM64_LIBSODIUM): run 'make deps' first"; \
		exit 1; }
