# SPDX-License-Identifier: Apache-2.0
# Toolchains and flags shared by every build fragment.

CROSS ?= aarch64-linux-gnu-
TCC := $(CROSS)gcc
TLD := $(CROSS)ld
TOBJCOPY := $(CROSS)objcopy
TAR := $(CROSS)ar
HOSTCC ?= gcc
DTC ?= dtc

SYSROOT := $(BUILD)/sysroot
ARM64_LIBFDT := $(SYSROOT)/usr/lib/aarch64-linux-gnu/libfdt.a
# The migration link's tags and key derivation (hyp/migrate/mig_auth.c).
ARM64_LIBSODIUM := $(SYSROOT)/usr/lib/aarch64-linux-gnu/libsodium.a
PICOLIBC_SPECS := /usr/lib/picolibc/aarch64-linux-gnu/picolibc.specs

WARN := -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Werror

# Freestanding EL2/EL1 code: picolibc for libc, no FP/SIMD in our own code (guest FP state is
# saved explicitly), no PIE, small code model is fine for the identity-mapped image.
TARGET_CFLAGS := -std=c11 -O2 -g $(WARN) -specs=$(PICOLIBC_SPECS) -ffreestanding \
	-mgeneral-regs-only -fno-pie -fno-pic -mstrict-align -fno-omit-frame-pointer \
	-mbranch-protection=none -mno-outline-atomics -fstack-protector-strong -ffunction-sections -fdata-sections \
	-DPICOLIBC_INTEGER_PRINTF_SCANF -D_DEFAULT_SOURCE -isystem $(SYSROOT)/usr/include
TARGET_LDFLAGS := -specs=$(PICOLIBC_SPECS) -nostartfiles -static -Wl,--gc-sections \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
	-DPICOLIBC_INTEGER_PRINTF_SCANF -Wl,--defsym=vfprintf=__i_vfprintf

# Host builds of the pure sources (unit tests, tools, benchmarks).
HOST_CFLAGS := -std=c11 -O2 -g $(WARN) -D_DEFAULT_SOURCE -DFERRY_HOST=1
