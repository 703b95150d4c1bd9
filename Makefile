# SPDX-License-Identifier: Apache-2.0
# ferry: a standalone AArch64 EL2 hypervisor. `make help` lists the targets.
BUILD ?= build
PLATFORM ?= qemu-virt

.DEFAULT_GOAL := all
.PHONY: all deps run linux demo demo-linux stress test unit unit-asan systest format format-check help clean

include mk/flags.mk
include mk/pure.mk
include guest/build.mk
include platform/$(PLATFORM)/build.mk
include hyp/build.mk
include tools/build.mk
include tests/unit/build.mk
include bench/build.mk
include tests/fuzz/build.mk
# Optional parts that add themselves to `all` through EXTRA_ALL (the Linux guest recipe).
-include guest/linux/build.mk

all: hyp guests configs tools $(EXTRA_ALL)

deps:
	@./mk/deps.sh

help:
	@echo "make deps    install every Debian package ferry needs (idempotent)"
	@echo "make         build the hypervisor images, guests, VM configs and host tools"
	@echo "make run     boot ferry on QEMU virt with the default configuration (two VMs)"
	@echo "make linux   boot the Linux guest as a ferry VM, the console attached to it (Ctrl-] = shell)"
	@echo "make demo    live-migrate a running VM between two ferries (tools/ferry-migrate)"
	@echo "make demo-linux  the same with the Linux guest running linstress (ferry-migrate --kernel)"
	@echo "make test    host unit tests + QEMU system tests, ends with 'N passed, N failed'"
	@echo "make unit    host unit tests only"
	@echo "make unit-asan  the host unit tests built with AddressSanitizer and UBSan"
	@echo "make format  lay out every C file with clang-format (.clang-format); format-check: only check"
	@echo "make systest QEMU system tests only (pytest + pexpect)"
	@echo "make stress  the migration system tests STRESS_N times (default 10), failures with logs"
	@echo "make bench   run the benchmarks in bench/"
	@echo "make fuzz    every libFuzzer target in tests/fuzz, FUZZ_SECONDS (20) each (docs/fuzzing.md)"

run: deps
	@$(MAKE) --no-print-directory all
	@FERRY_BUILD=$(BUILD) tools/ferry-run

linux: deps
	@$(MAKE) --no-print-directory all
	@FERRY_BUILD=$(BUILD) tools/ferry-run --linux

demo: deps
	@$(MAKE) --no-print-directory all
	@FERRY_BUILD=$(BUILD) /usr/bin/python3 tools/ferry-migrate

# The recipe's Linux guest (guest/linux) moves while linstress rewrites 64 MiB at 5000 pages/s and
# verifies every page; on the destination its next rounds must be clean and its shell must answer.
LINUX_GUEST := $(BUILD)/guest/linux
demo-linux: deps
	@$(MAKE) --no-print-directory all
	@FERRY_BUILD=$(BUILD) /usr/bin/python3 tools/ferry-migrate --kernel $(LINUX_GUEST)/Image \
		--initrd $(LINUX_GUEST)/initramfs.cpio.gz --cpu max,pauth-impdef=on \
		--append "console=ttyAMA0 linstress=--mib=64,--rate=5000,--rounds=0,--interval-ms=500" \
		$(DEMO_ARGS)

test: deps
	@$(MAKE) --no-print-directory all unit-build
	@tests/run-all $(BUILD)

unit: deps
	@$(MAKE) --no-print-directory unit-build
	@tests/unit/run $(BUILD)/tests/unit

# The same unit tests built again, in their own tree, with gcc's AddressSanitizer and UBSan: an
# out-of-bounds access or undefined behaviour in the pure code fails the test that caused it.
# Warnings stay errors in the normal build; the sanitizers' instrumentation makes gcc see value
# ranges it does not see otherwise (false -Wconversion and -Wformat-truncation), so not here.
UNIT_ASAN_CFLAGS := $(HOST_CFLAGS) -Wno-error -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
unit-asan: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan HOST_CFLAGS="$(UNIT_ASAN_CFLAGS)" unit-build
	@# Leaks are not checked: the tests' own helpers keep the strings they build.
	@ASAN_OPTIONS=detect_leaks=0 tests/unit/run $(BUILD)/asan/tests/unit

# The C layout (.clang-format) applied to every tracked .c and .h; format-check fails on any file
# that differs from it (CI runs it).
FORMAT_FILES = $(shell git ls-files '*.c' '*.h')
format: deps
	@clang-format -i $(FORMAT_FILES)
format-check: deps
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: $(words $(FORMAT_FILES)) files laid out as .clang-format says"

systest: deps
	@$(MAKE) --no-print-directory all
	@/usr/bin/python3 -m pytest -q tests/system

stress: deps
	@$(MAKE) --no-print-directory all
	@tests/stress/run

clean:
	rm -rf $(BUILD)/hyp $(BUILD)/guest $(BUILD)/platform $(BUILD)/tests $(BUILD)/tools $(BUILD)/bench
