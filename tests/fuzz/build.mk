# libFuzzer target for the migration frame parser and destination machine (tests/fuzz/run runs it).
# Needs clang with libFuzzer and the sanitizer runtimes: on Debian bookworm the packages `clang`
# (clang-14) and `libclang-rt-14-dev`.

FUZZ_CC ?= clang
FUZZ_SRC := $(sort $(wildcard hyp/migrate/*.c)) hyp/lib/crc32.c hyp/lib/hash64.c hyp/lib/bitmap.c \
	hyp/lib/strerror.c
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) -D_DEFAULT_SOURCE -DFERRY_HOST=1 -Ihyp/include -Ihyp
FUZZ_BIN := $(BUILD)/tests/fuzz/fuzz_mig_frame
FUZZ_SEEDS_BIN := $(BUILD)/tests/fuzz/mig_fuzz_seeds

$(FUZZ_BIN): tests/fuzz/fuzz_mig_frame.c $(FUZZ_SRC) hyp/migrate/mig.h hyp/lib/lib.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		tests/fuzz/fuzz_mig_frame.c $(FUZZ_SRC) -lsodium -o $@

$(FUZZ_SEEDS_BIN): tests/fuzz/fuzz_mig_frame.c $(FUZZ_SRC) hyp/migrate/mig.h hyp/lib/lib.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -Ihyp/include -Ihyp -DMIG_FUZZ_SEEDS tests/fuzz/fuzz_mig_frame.c \
		$(FUZZ_SRC) -lsodium -o $@

.PHONY: fuzz-build fuzz
fuzz-build: $(FUZZ_BIN) $(FUZZ_SEEDS_BIN)

# FUZZ_SECONDS=20 by default.
fuzz: fuzz-build
	@tests/fuzz/run $(BUILD) $(FUZZ_SECONDS)
