# SPDX-License-Identifier: Apache-2.0
# VM configurations: every platform/qemu-virt/*.dts, and the system tests' configs, compiled by dtc.
# dtc's warnings are errors too: a config with a doubtful node is a config to fix.
CONFIG_DTS := $(sort $(wildcard platform/$(PLATFORM)/*.dts))
CONFIG_DTB := $(patsubst %.dts,$(BUILD)/%.dtb,$(CONFIG_DTS))
TEST_CONFIG_DTS := $(sort $(wildcard tests/system/configs/*.dts bench/*/*.dts))
TEST_CONFIG_DTB := $(patsubst %.dts,$(BUILD)/%.dtb,$(TEST_CONFIG_DTS))

$(BUILD)/%.dtb: %.dts
	@mkdir -p $(@D)
	$(DTC) -q -I dts -O dtb -W no-unit_address_vs_reg -o $@ $<

.PHONY: configs
configs: $(CONFIG_DTB) $(TEST_CONFIG_DTB)
