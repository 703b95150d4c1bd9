/* SPDX-License-Identifier: Apache-2.0 */
/* The migration key and the handshake's fresh values (docs/migration-protocol.md,
 * "Authentication"). The key comes from the config's `migration-key` or from the shell
 * (`migkey <64 hex digits>`); it is never printed, only a fingerprint of it. */
#include "core/migkey.h"

#include <sodium/crypto_generichash.h>
#include <sodium/utils.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/console.h"
#include "lib/lib.h"
#include "migrate/migrate_el2.h"
#include "virtio/virtio.h"

static u8 key[MIG_KEY_LEN];
static bool have_key;
static u64 nonces; /* values handed out since boot: part of every one */

void migkey_boot(const u8 *config_key)
{
	if (config_key) {
		memcpy(key, config_key, MIG_KEY_LEN);
		have_key = true;
	}
}

/* FEAT_RNG's RNDR (ID_AA64ISAR0_EL1.RNDR, bits [63:60]): a random 64-bit value, or false when
 * the CPU has none or it failed (NZCV.Z set) a few times in a row. */
static bool rndr(u64 *v)
{
	if (FIELD_GET(sysreg_read(id_aa64isar0_el1), 63, 60) < 1)
		return false;
	for (int i = 0; i < 8; i++) {
		u64 x, nzcv;

		__asm__ volatile("mrs %0, s3_3_c2_c4_0\n\tmrs %1, nzcv" : "=r"(x), "=r"(nzcv));
		if (!(nzcv & (1u << 30))) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* A fresh value per handshake: what only has to be unique, not secret. Where the CPU has
 * RNDR, 128 random bits; everywhere also the physical count, how many values this boot handed
 * out and the NIC's MAC, hashed (BLAKE2b keyed with the migration key) into 16 bytes. Without
 * RNDR, a second boot that reaches a handshake at the very same count (QEMU -icount replaying a
 * run exactly) repeats the value: the protocol document says what that allows. */
static void fresh_value(u8 out[MIG_NONCE_LEN])
{
	u8 in[16 + 8 + 8 + 6] = { 0 };
	u64 r0 = 0, r1 = 0;

	if (rndr(&r0) && rndr(&r1)) {
		put_le64(in, r0);
		put_le64(in + 8, r1);
	}
	put_le64(in + 16, sysreg_read(cntpct_el0));
	put_le64(in + 24, ++nonces);
	if (vnet_present())
		memcpy(in + 32, vnet_info()->mac, 6);
	crypto_generichash(out, MIG_NONCE_LEN, in, sizeof(in), key, MIG_KEY_LEN);
}

int migkey_fill(u8 k[MIG_KEY_LEN], u8 nonce[MIG_NONCE_LEN])
{
	if (!have_key)
		return FERRY_ENOENT;
	memcpy(k, key, MIG_KEY_LEN);
	fresh_value(nonce);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A short public name for the key, to compare two machines' keys by eye. */
static u32 fingerprint(void)
{
	static const u8 what[] = "ferry migration key fingerprint";
	u8 h[4];

	crypto_generichash(h, sizeof(h), what, sizeof(what), key, MIG_KEY_LEN);
	return get_le32(h);
}

/* migkey                 whether a key is set, and its fingerprint
 * migkey <64 hex digits> set the key (both ferries need the same) */
void migkey_shell(char *args)
{
	u8 k[MIG_KEY_LEN];
	size_t n = args ? strlen(args) : 0;
	u8 any = 0;

	while (n && args[n - 1] == ' ')
		args[--n] = 0;
	if (!n) {
		if (have_key)
			con_printf("migkey: set, fingerprint %08x", fingerprint());
		else
			con_printf("migkey: none: migrations are refused (set one: migkey <64 hex "
				   "digits>, or migration-key in the config)");
		return;
	}
	if (n != 2 * MIG_KEY_LEN) {
		con_printf("migkey: %u characters, expected %u hex digits", (unsigned)n,
			   2 * MIG_KEY_LEN);
		return;
	}
	for (u32 i = 0; i < MIG_KEY_LEN; i++) {
		int hi = hexval(args[2 * i]), lo = hexval(args[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			con_printf("migkey: not a hex digit at %u", 2 * i + (hi < 0 ? 0 : 1));
			return;
		}
		k[i] = (u8)(hi << 4 | lo);
		any |= k[i];
	}
	if (!any) {
		con_printf("migkey: all zero: not a key");
		return;
	}
	memcpy(key, k, MIG_KEY_LEN);
	sodium_memzero(k, sizeof(k));
	memset(args, 'x', n); /* the line buffer: leave no copy of the key behind */
	have_key = true;
	con_printf("migkey: set, fingerprint %08x", fingerprint());
	migrate_key_changed();
}
