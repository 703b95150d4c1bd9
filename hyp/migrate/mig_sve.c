/* SPDX-License-Identifier: Apache-2.0 */
/* The SVE blob (mig_sve.h): little-endian, a 32-byte header, then the registers as the CPU stores
 * them (STR Zn / STR Pn byte order), CRC32C over the whole blob with its own field zero. */
#include "migrate/mig_sve.h"

#include <string.h>

#include "lib/lib.h"

#define SVE_MAGIC 0x45565346u /* "FSVE" */
#define SVE_VERSION 1u
#define ZCR_LEN_MASK 0xfULL /* ZCR_EL1.LEN; the rest is RES0 */

static bool vl_ok(u32 vl) { return vl >= 16 && vl <= MIG_SVE_VL_MAX && vl % 16 == 0; }

u32 mig_sve_blob_len(u32 vl) { return MIG_SVE_HDR + MIG_SVE_REGS_BYTES(vl); }

int mig_sve_encode(const struct mig_sve_state *s, u32 vcpu, u8 *buf, size_t cap)
{
	u32 len;

	if (!vl_ok(s->vl) || cap < mig_sve_blob_len(s->vl))
		return FERRY_EINVAL;
	len = mig_sve_blob_len(s->vl);
	memset(buf, 0, MIG_SVE_HDR);
	put_le32(buf + 0, SVE_MAGIC);
	put_le16(buf + 4, SVE_VERSION);
	put_le16(buf + 6, MIG_SVE_HDR);
	put_le32(buf + 8, len);
	put_le16(buf + 16, (u16)vcpu);
	put_le16(buf + 18, (u16)s->vl);
	put_le64(buf + 24, s->zcr_el1);
	memcpy(buf + MIG_SVE_HDR, s->regs, MIG_SVE_REGS_BYTES(s->vl));
	put_le32(buf + 12, crc32c(0, buf, len));
	return (int)len;
}

int mig_sve_decode(const u8 *buf, size_t len, u32 vcpu, u32 vl, struct mig_sve_state *out,
		   const char **why)
{
	u32 crc;
	u8 hdr[MIG_SVE_HDR];

	*why = "malformed SVE state";
	if (!vl_ok(vl) || len != mig_sve_blob_len(vl) || get_le32(buf) != SVE_MAGIC ||
	    get_le16(buf + 4) != SVE_VERSION || get_le16(buf + 6) != MIG_SVE_HDR ||
	    get_le32(buf + 8) != len || get_le32(buf + 20) != 0)
		return FERRY_EINVAL;
	memcpy(hdr, buf, sizeof(hdr));
	put_le32(hdr + 12, 0);
	crc = crc32c(crc32c(0, hdr, sizeof(hdr)), buf + MIG_SVE_HDR, len - MIG_SVE_HDR);
	if (crc != get_le32(buf + 12))
		return FERRY_EINVAL;
	if (get_le16(buf + 16) != vcpu) {
		*why = "SVE blob for another vCPU";
		return FERRY_EINVAL;
	}
	if (get_le16(buf + 18) != vl) {
		*why = "SVE vector length differs";
		return FERRY_EINVAL;
	}
	if (get_le64(buf + 24) & ~ZCR_LEN_MASK)
		return FERRY_EINVAL;
	out->vl = vl;
	out->zcr_el1 = get_le64(buf + 24);
	memcpy(out->regs, buf + MIG_SVE_HDR, MIG_SVE_REGS_BYTES(vl));
	return 0;
}
