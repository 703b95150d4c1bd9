# SPDX-License-Identifier: Apache-2.0
# guest/lib: the support library of the bare-metal test guests (head, MMU, console, PSCI, DTB,
# bootargs, exceptions). Each guest links $(GUEST_LIB_OBJ) with guest/lib/guest.lds.
# (Included by guest/build.mk before the guests that link it.)
GUEST_LIB_SRC := $(sort $(wildcard guest/lib/*.c guest/lib/*.S))
GUEST_LIB_OBJ := $(patsubst guest/lib/%,$(BUILD)/guest/lib/%.o,$(GUEST_LIB_SRC))
GUEST_LIB_LDS := guest/lib/guest.lds
GUEST_CFLAGS := $(TARGET_CFLAGS) -Iguest/lib

$(BUILD)/guest/lib/%.o: guest/lib/% guest/lib/guest.h | deps-stamp
	@mkdir -p $(@D)
	$(TCC) $(GUEST_CFLAGS) -c $< -o $@
