/* CRC32C, slice-by-8: eight 256-entry tables let the loop fold 8 input bytes per step with table
 * look-ups only (no carry-less multiply, which EL2 code may not use under -mgeneral-regs-only). */
#include "lib/lib.h"

#include <string.h>

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

static inline u32 load_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

u32 crc32c(u32 crc, const void *data, size_t len)
{
	const u8 *p = data;
	u32 c = ~crc;

	if (!crc32c_ready)
		crc32c_init_tables();
	while (len >= 8) {
		u32 lo = load_le32(p) ^ c, hi = load_le32(p + 4);

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
