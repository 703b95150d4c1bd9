/* SPDX-License-Identifier: Apache-2.0 */
/* bench/mac: what each candidate for the migration link's tag costs per 4 KiB page frame, on the
 * host (libsodium, the same library and version the EL2 image links). Prints ns per 4 KiB and per
 * 64 KiB frame for: XXH64 (the unkeyed checksum version 1 used), ChaCha20-Poly1305 with the frame
 * as associated data (what version 2 uses: one ChaCha20 block for the one-time key, Poly1305 over
 * the frame), HMAC-SHA-512-256 (crypto_auth), keyed BLAKE2b-128 (crypto_generichash), and
 * ChaCha20-Poly1305 encrypting the payload (confidentiality too).
 * The host's libsodium picks its SIMD versions (sodium_init); ferry's EL2 runs the portable ones
 * (no sodium_init, general registers only), so these are the ranking, not EL2's figures.
 * Build and run: make bench (bench/mac/build.mk), or build/bench/mac_bench. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"

static unsigned char buf[65536], key[32], tag[64], npub[12], out[65536 + 16];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

enum {
	XXH,
	AEAD_AD,
	HMAC,
	BLAKE,
	AEAD_ENC,
	N
};
static const char *const names[N] = {
	"XXH64 (v1, unkeyed)",
	"ChaCha20-Poly1305, frame as AD (v2)",
	"HMAC-SHA-512-256 (crypto_auth)",
	"keyed BLAKE2b-128 (generichash)",
	"ChaCha20-Poly1305, encrypting",
};

static volatile unsigned long long sink;

static void one(int which, size_t len)
{
	unsigned long long tl;

	switch (which) {
	case XXH:
		sink += hash64(buf, len, 0);
		break;
	case AEAD_AD:
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, tag, &tl, out, 0, buf, len,
								   NULL, npub, key);
		break;
	case HMAC:
		crypto_auth_hmacsha512256(tag, buf, len, key);
		break;
	case BLAKE:
		crypto_generichash(tag, 16, buf, len, key, 32);
		break;
	case AEAD_ENC:
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, tag, &tl, buf, len, NULL, 0,
								   NULL, npub, key);
		break;
	}
	sink += tag[0];
	npub[0]++;
}

int main(void)
{
	static const size_t sizes[] = { 4096 + 16 + 8 + 66, 61754 };

	if (sodium_init() < 0)
		return 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 9));
	memset(key, 0x5c, sizeof(key));
	printf("%-38s %14s %16s\n", "candidate", "ns/4 KiB frame", "ns/64 KiB frame");
	for (int w = 0; w < N; w++) {
		double r[2] = { 1e18, 1e18 };

		/* The fastest of 7 runs: the machine is shared, and slower runs measure the others. */
		for (int rep = 0; rep < 7; rep++)
			for (int s = 0; s < 2; s++) {
				int iters = s ? 500 : 8000;
				double t0, t;

				for (int i = 0; i < 50; i++)
					one(w, sizes[s]);
				t0 = now_ns();
				for (int i = 0; i < iters; i++)
					one(w, sizes[s]);
				t = (now_ns() - t0) / iters;
				r[s] = t < r[s] ? t : r[s];
			}
		printf("%-38s %14.0f %16.0f\n", names[w], r[0], r[1]);
	}
	return 0;
}
