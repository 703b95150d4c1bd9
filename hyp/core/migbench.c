/* `migbench`: what each candidate tag for the migration link costs at EL2, in EL2 instructions
 * (the PMU's INST_RETIRED at EL2 only; QEMU needs -icount, e.g. tools/ferry-run --icount), per
 * 4 KiB page frame (4184 bytes: a PAGES frame of one page record) and per full 64 KiB frame of 15
 * pages. These are the portable C versions libsodium runs at EL2 (no sodium_init, no SIMD
 * selection). docs/migration-protocol.md, "What a tag costs", has the figures and the choice. */
#include <sodium/crypto_aead_chacha20poly1305.h>
#include <sodium/crypto_auth_hmacsha512256.h>
#include <sodium/crypto_generichash.h>
#include <string.h>

#include "core/core.h"

enum {
	C_XXH64,
	C_AEAD_AD,
	C_HMAC,
	C_BLAKE2B,
	C_AEAD_ENC,
	C_N
};

static const char *const cand_name[C_N] = {
	"XXH64, unkeyed (version 1)", "ChaCha20-Poly1305, frame as AD (v2)", "HMAC-SHA-512-256",
	"keyed BLAKE2b-128",          "ChaCha20-Poly1305, encrypting",
};

static u8 buf[61754], out[61754 + 16], tag[32], key[32], npub[12];

static void run_one(int c, size_t len)
{
	unsigned long long tl;

	switch (c) {
	case C_XXH64:
		put_le64(tag, hash64(buf, len, 0));
		break;
	case C_AEAD_AD:
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, tag, &tl, out, 0, buf, len,
								   NULL, npub, key);
		break;
	case C_HMAC:
		crypto_auth_hmacsha512256(tag, buf, len, key);
		break;
	case C_BLAKE2B:
		crypto_generichash(tag, 16, buf, len, key, sizeof(key));
		break;
	case C_AEAD_ENC:
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, tag, &tl, buf, len, NULL, 0,
								   NULL, npub, key);
		break;
	}
	npub[0]++;
}

void migbench_shell(void)
{
	static const size_t sizes[2] = { 4184, 61754 };

	if (!pmu_el2_init()) {
		con_printf("migbench: no EL2 instruction counter (QEMU needs -icount shift=0)");
		return;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + (i >> 9));
	memset(key, 0x5c, sizeof(key));
	con_printf(
		"migbench: EL2 instructions per frame: 4 KiB page frame, 64 KiB frame (15 pages)");
	for (int c = 0; c < C_N; c++) {
		u64 n[2];

		for (int s = 0; s < 2; s++) {
			u64 t0;

			run_one(c, sizes[s]); /* warm: first-use paths out of the count */
			t0 = pmu_el2_read();
			for (int i = 0; i < 4; i++)
				run_one(c, sizes[s]);
			n[s] = (pmu_el2_read() - t0) / 4;
		}
		con_printf("migbench: %-36s %8llu %9llu", cand_name[c], (unsigned long long)n[0],
			   (unsigned long long)n[1]);
	}
}
