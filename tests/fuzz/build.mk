# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets (tests/fuzz/run runs them; docs/fuzzing.md says what each covers). Each
# tests/fuzz/fuzz_<name>.c is one target, linked with the same pure sources the unit tests use
# (PURE_C, tests/unit/build.mk), compiled by clang with ASan and UBSan. A target whose file also
# builds with -DFUZZ_SEEDS gets a seed writer, compiled by the host compiler against the unit
# tests' build/host/pure.a. Needs clang with libFuzzer and the sanitizer runtimes: on Debian
# bookworm the packages `clang` (clang-14) and `libclang-rt-14-dev` (mk/deps.sh).

FUZZ_CC ?= clang
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SEEDED := mig_blobs mig_frame
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) -D_DEFAULT_SOURCE -DFERRY_HOST=1 $(HOST_INC) -Itests/fuzz
FUZZ_OBJ := $(patsubst %,$(BUILD)/fuzz/%.o,$(PURE_C))
FUZZ_BINS := $(addprefix $(BUILD)/tests/fuzz/fuzz_,$(FUZZ_NAMES))
FUZZ_SEED_BINS := $(addprefix $(BUILD)/tests/fuzz/seeds_,$(FUZZ_SEEDED))

$(BUILD)/fuzz/%.c.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/fuzz/pure.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.h $(BUILD)/fuzz/pure.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -MMD -MP $< $(BUILD)/fuzz/pure.a \
		-lfdt -lsodium -o $@

$(BUILD)/tests/fuzz/seeds_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.h $(BUILD)/host/pure.a
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) $(HOST_INC) -Itests/fuzz -DFUZZ_SEEDS $< $(BUILD)/host/pure.a \
		-lfdt -lsodium -o $@

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BINS:=.d)

.PHONY: fuzz-build fuzz
fuzz-build: $(FUZZ_BINS) $(FUZZ_SEED_BINS) configs

# Every target for FUZZ_SECONDS (default 20) each; FUZZ_TARGETS="vgic virtq" picks some.
FUZZ_SECONDS ?= 20
fuzz: fuzz-build
	@tests/fuzz/run $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
