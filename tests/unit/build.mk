# SPDX-License-Identifier: Apache-2.0
# Host unit tests (cmocka). Each tests/unit/test_*.c becomes one binary, linked with every pure
# source (the folders of mk/pure.mk) compiled for the host, and with the recording stand-ins for
# arch/ in tests/unit/fake_arch.c. Files named *_el2.c stay EL2-only.

PURE_C := $(filter-out %_el2.c,$(sort $(wildcard $(addsuffix /*.c,$(PURE_DIRS)))))
PURE_HOST_OBJ := $(patsubst %,$(BUILD)/host/%.o,$(PURE_C))
# Shared test support: every tests/unit/*.c that is not a test_*.c (fake_arch.c, models, helpers).
UNIT_SUPPORT := $(filter-out tests/unit/test_%,$(sort $(wildcard tests/unit/*.c)))
UNIT_SUPPORT_OBJ := $(patsubst %,$(BUILD)/host/%.o,$(UNIT_SUPPORT))
UNIT_TESTS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_TESTS))
HOST_INC := -Ihyp/include -Ihyp -Itests/unit

$(BUILD)/host/%.c.o: %.c
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) $(HOST_INC) -MMD -MP -c $< -o $@

$(BUILD)/host/pure.a: $(PURE_HOST_OBJ) $(UNIT_SUPPORT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/host/pure.a
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -Wno-missing-prototypes $(HOST_INC) -MMD -MP $< $(BUILD)/host/pure.a \
		-lcmocka -lfdt -lsodium -o $@

-include $(PURE_HOST_OBJ:.o=.d) $(UNIT_SUPPORT_OBJ:.o=.d) $(UNIT_BINS:=.d)

.PHONY: unit-build
unit-build: $(UNIT_BINS)
