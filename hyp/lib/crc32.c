/* SPDX-License-Identifier: Apache-2.0 */
/* CRC32C, slice-by-8: eight 256-entry tables let the loop fold 8 input bytes per step with table
 * look-ups only (no carry-less multiply, which EL2 code may not use under -mgeneral-regs-only). */
#include <string.h>

#include "lib/lib.h"

#define CRC32C_POLY_REFLECTED 0x82F63B78u

static u32 crc32c_table[8][256];
static bool crc32c_ready;

static void crc32c_init_tables(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
		crc32c_table[0][i] = c;
	}
	for (u32 i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++) {
			u32 prev = crc32c_table[t - 1][i];

			crc32c_table[t][i] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
		}
	crc32c_ready = true;
}

#if defined(__aarch64__) && !defined(FERRY_HOST)
/* FEAT_CRC32's CRC32C instructions work on general registers, so EL2 code may use them; under TCG
 * one instruction per 8 bytes instead of eight table look-ups makes migration frames several times
 * cheaper to seal and check. Off until crc32c_use_hw() turns it on (it checks a known vector). */
static bool crc32c_hw;

static u32 crc32c_insn(u32 c, const u8 *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		__asm__(".arch_extension crc\n\tcrc32cb %w0, %w0, %w1" : "+r"(c) : "r"((u32)*p));
		p++;
		len--;
	}
	for (; len >= 8; p += 8, len -= 8)
		__asm__(".arch_extension crc\n\tcrc32cx %w0, %w0, %x1"
			: "+r"(c)
			: "r"(*(const u64 *)(const void *)p));
	for (; len; p++, len--)
		__asm__(".arch_extension crc\n\tcrc32cb %w0, %w0, %w1" : "+r"(c) : "r"((u32)*p));
	return c;
}

bool crc32c_use_hw(bool on)
{
	crc32c_hw = false;
	if (on) {
		crc32c_hw = true;
		if (crc32c(0, "123456789", 9) != 0xE3069283u)
			crc32c_hw = false;
	}
	return crc32c_hw;
}
#else
bool crc32c_use_hw(bool on)
{
	(void)on;
	return false;
}
#endif

u32 crc32c(u32 crc, const void *data, size_t len)
{
	const u8 *p = data;
	u32 c = ~crc;

#if defined(__aarch64__) && !defined(FERRY_HOST)
	if (crc32c_hw)
		return ~crc32c_insn(c, p, len);
#endif
	if (!crc32c_ready)
		crc32c_init_tables();
	while (len >= 8) {
		u32 lo = get_le32(p) ^ c, hi = get_le32(p + 4);

		c = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
		    crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
		    crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
		    crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
	return ~c;
}
