/* SPDX-License-Identifier: Apache-2.0 */
/* `migbench`: what each candidate tag for the migration link costs at EL2, in EL2 instructions
 * (the PMU's INST_RETIRED at EL2 only; QEMU needs -icount, e.g. tools/ferry-run --icount), per
 * 4 KiB page frame (4184 bytes: a PAGES frame of one page record) and per full 64 KiB frame of 15
 * pages. These are the portable C versions libsodium runs at EL2 (no sodium_init, no SIMD
 * selection). docs/migration-protocol.md, "What a tag costs", has the figures and the choice. */
#include "core/migbench.h"

#include <sodium/crypto_aead_chacha20poly1305.h>
#include <sodium/crypto_auth_hmacsha512256.h>
#include <sodium/crypto_generichash.h>
#include <string.h>

#include "arch/aarch64/pmu.h"
#include "arch/aarch64/sysreg.h"
#include "core/console.h"
#include "core/pcpu.h"
#include "lib/lib.h"
#include "migrate/mig_link.h"
#include "migrate/mig_wire.h"
#include "migrate/migrate_el2.h"

enum {
	C_XXH64,
	C_XXH3,
	C_CRC32C,
	C_AEAD_AD,
	C_HMAC,
	C_BLAKE2B,
	C_AEAD_ENC,
	C_COPY,
	C_N
};

static const char *const cand_name[C_N] = {
	"XXH64 (page digests; v1 checksum)",
	"XXH3-64, scalar",
	"CRC32C (state blobs)",
	"ChaCha20-Poly1305, frame as AD (v2)",
	"HMAC-SHA-512-256",
	"keyed BLAKE2b-128",
	"ChaCha20-Poly1305, encrypting",
	"memcpy (what zero-copy would save)",
};

static u8 buf[61754], out[61754 + 16], tag[32], key[32], npub[12];

static void run_one(int c, size_t len)
{
	unsigned long long tl;

	switch (c) {
	case C_XXH64:
		put_le64(tag, hash64(buf, len, 0));
		break;
	case C_XXH3:
		put_le64(tag, hash64_xxh3(buf, len, 0));
		break;
	case C_CRC32C:
		put_le64(tag, crc32c(0, buf, len));
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
	case C_COPY: /* the source's copy of pages into the frame */
		memcpy(out, buf, len);
		break;
	}
	npub[0]++;
}

void migbench_shell(void)
{
	static const size_t sizes[2] = { 4184, 61754 };
	const bool insns = pcpu_pmu_init();

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + (i >> 9));
	memset(key, 0x5c, sizeof(key));
	/* As the migration code does: the CRC32C instructions where the CPU has them. */
	con_printf("migbench: CRC32C in %s",
		   crc32c_use_hw(FIELD_GET(sysreg_read(id_aa64isar0_el1), 19, 16) >= 1)
			   ? "hardware"
			   : "software (no FEAT_CRC32)");
	/* Instructions are exact only under -icount (QEMU counts none otherwise); time is real only
	 * without it (under -icount the counter follows the instruction count). */
	con_printf("migbench: per 4 KiB page frame and per 64 KiB frame (15 pages): %s",
		   insns ? "EL2 instructions, then ns"
			 : "ns (no EL2 instruction counter: no -icount)");
	for (int c = 0; c < C_N; c++) {
		u64 n[2] = { 0, 0 }, ns[2];

		for (int s = 0; s < 2; s++) {
			const u64 reps =
				MAX(16, (1u << 20) / sizes[s]); /* a MiB or more: timer noise */
			u64 t0, c0;

			run_one(c, sizes[s]); /* warm: first-use paths out of the count */
			c0 = insns ? pmu_el2_read() : 0;
			t0 = migrate_now_ns(NULL);
			for (u64 i = 0; i < reps; i++)
				run_one(c, sizes[s]);
			ns[s] = (migrate_now_ns(NULL) - t0) / reps;
			if (insns)
				n[s] = (pmu_el2_read() - c0) / reps;
		}
		if (insns)
			con_printf("migbench: %-36s %8llu %9llu  %8llu %9llu", cand_name[c],
				   (unsigned long long)n[0], (unsigned long long)n[1],
				   (unsigned long long)ns[0], (unsigned long long)ns[1]);
		else
			con_printf("migbench: %-36s %8llu %9llu", cand_name[c],
				   (unsigned long long)ns[0], (unsigned long long)ns[1]);
	}
}
