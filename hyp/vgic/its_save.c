/* SPDX-License-Identifier: Apache-2.0 */
/* The ITS's migration blob, version 2 (docs/vgic.md "LPIs and the ITS" gives it byte by byte): the
 * ITS's registers and ferry-held collection table, the cached LPI configuration, and each
 * redistributor's LPI state (EnableLPIs, PROPBASER, PENDBASER, pending LPIs). The device table and
 * the ITTs are in guest memory and move with it. Little-endian, fixed layout, a CRC32C over the
 * whole; restore checks everything before it changes anything. */
#include <string.h>

#include "lib/lib.h"
#include "vgic/its.h"
#include "vgic/vgic_internal.h"

#define HDR_LEN VGIC_BLOB_HDR_LEN
#define OFF_CRC 12u
#define OFF_REGS 32u
#define OFF_COLL 64u
#define OFF_CFG (OFF_COLL + ITS_NR_COLLECTIONS)
#define OFF_CPUS (OFF_CFG + VGIC_NR_LPIS)
#define CPU_REC_LEN (24u + VGIC_NR_LPIS / 8)
#define F_ENABLED 1u
#define F_STALLED 2u
#define CF_LPIS 1u
#define CF_PTZ 2u

static size_t blob_size(u32 nr_vcpus) { return OFF_CPUS + (size_t)CPU_REC_LEN * nr_vcpus; }

size_t its_save_size(const struct its *its) { return blob_size(its->g->nr_vcpus); }

int its_save(const struct its *its, u8 *buf, size_t len, size_t *out_len)
{
	if (vgic_any_in_guest(its->g))
		return FERRY_EBUSY; /* an LR may hold an LPI's pending state */
	return its_save_model(its, buf, len, out_len);
}

int its_save_model(const struct its *its, u8 *buf, size_t len, size_t *out_len)
{
	const struct vgic *g = its->g;
	size_t size = its_save_size(its);
	int err = vgic_blob_begin(buf, len, ITS_SAVE_MAGIC, ITS_SAVE_VERSION, size, g->nr_vcpus);
	u8 *p;

	if (err)
		return err;
	put_le16(buf + 18, (u16)((its->enabled ? F_ENABLED : 0) | (its->stalled ? F_STALLED : 0)));
	put_le64(buf + OFF_REGS, its->cbaser);
	put_le64(buf + OFF_REGS + 8, its->cwriter);
	put_le64(buf + OFF_REGS + 16, its->creadr);
	put_le64(buf + OFF_REGS + 24, its->baser_dev);
	put_le64(buf + 24, its->baser_coll);
	memcpy(buf + OFF_COLL, its->coll, ITS_NR_COLLECTIONS);
	memcpy(buf + OFF_CFG, g->lpi_cfg, VGIC_NR_LPIS);
	p = buf + OFF_CPUS;
	for (u32 i = 0; i < g->nr_vcpus; i++, p += CPU_REC_LEN) {
		const struct vgic_cpu *c = &g->cpu[i];

		put_le32(p, (c->lpis_enabled ? CF_LPIS : 0) | (c->pend_ptz ? CF_PTZ : 0));
		put_le64(p + 8, c->propbaser);
		put_le64(p + 16, c->pendbaser);
		for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++)
			put_le64(p + 24 + 8 * w, c->lpi_pending[w]);
	}
	put_le32(buf + OFF_CRC, crc32c(0, buf, size));
	*out_len = size;
	return FERRY_OK;
}

static bool blob_ok(const struct its *its, const u8 *buf, size_t len)
{
	const struct vgic *g = its->g;
	size_t size = its_save_size(its);
	u8 tmp[4] = { 0, 0, 0, 0 };
	u32 crc;
	const u8 *p;

	if (len != size || get_le32(buf) != ITS_SAVE_MAGIC ||
	    get_le16(buf + 4) != ITS_SAVE_VERSION || get_le16(buf + 6) != HDR_LEN ||
	    get_le32(buf + 8) != size)
		return false;
	crc = crc32c(0, buf, OFF_CRC);
	crc = crc32c(crc, tmp, 4);
	crc = crc32c(crc, buf + OFF_CRC + 4, size - OFF_CRC - 4);
	if (crc != get_le32(buf + OFF_CRC))
		return false;
	/* Geometry, then every value the registers could not hold, even under a valid CRC. */
	if (get_le16(buf + 16) != g->nr_vcpus || (get_le16(buf + 18) & ~(F_ENABLED | F_STALLED)) ||
	    get_le32(buf + 20) || (get_le64(buf + 24) & ~ITS_BASER_RW))
		return false;
	if ((get_le64(buf + OFF_REGS) & ~ITS_CBASER_RW) ||
	    (get_le64(buf + OFF_REGS + 8) & ~ITS_OFFSET_MASK) ||
	    (get_le64(buf + OFF_REGS + 16) & ~ITS_OFFSET_MASK) ||
	    (get_le64(buf + OFF_REGS + 24) & ~ITS_BASER_RW))
		return false;
	for (u32 i = 0; i < ITS_NR_COLLECTIONS; i++)
		if (buf[OFF_COLL + i] != ITS_NO_VCPU && buf[OFF_COLL + i] >= g->nr_vcpus)
			return false;
	p = buf + OFF_CPUS;
	for (u32 i = 0; i < g->nr_vcpus; i++, p += CPU_REC_LEN) {
		u32 f = get_le32(p);
		bool any = false;

		if ((f & ~(CF_LPIS | CF_PTZ)) || get_le32(p + 4) ||
		    (get_le64(p + 8) & ~PROPBASER_RW) || (get_le64(p + 16) & ~PENDBASER_RW))
			return false;
		for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++)
			any |= get_le64(p + 24 + 8 * w) != 0;
		/* Pending LPIs need a redistributor with LPIs on; none exist without LPIs. */
		if (any && (!(f & CF_LPIS) || !g->lpis))
			return false;
		if ((f & CF_LPIS) && !g->lpis)
			return false;
	}
	return true;
}

int its_restore(struct its *its, const u8 *buf, size_t len)
{
	struct vgic *g = its->g;
	const u8 *p;
	u16 flags;

	if (vgic_any_in_guest(g))
		return FERRY_EBUSY;
	if (!blob_ok(its, buf, len))
		return FERRY_EINVAL;
	flags = get_le16(buf + 18);
	its->enabled = flags & F_ENABLED;
	its->stalled = flags & F_STALLED;
	its->cbaser = get_le64(buf + OFF_REGS);
	its->cwriter = get_le64(buf + OFF_REGS + 8);
	its->creadr = get_le64(buf + OFF_REGS + 16);
	its->baser_dev = get_le64(buf + OFF_REGS + 24);
	its->baser_coll = get_le64(buf + 24);
	memcpy(its->coll, buf + OFF_COLL, ITS_NR_COLLECTIONS);
	memcpy(g->lpi_cfg, buf + OFF_CFG, VGIC_NR_LPIS);
	p = buf + OFF_CPUS;
	for (u32 i = 0; i < g->nr_vcpus; i++, p += CPU_REC_LEN) {
		struct vgic_cpu *c = &g->cpu[i];
		u32 f = get_le32(p);

		c->lpis_enabled = f & CF_LPIS;
		c->pend_ptz = f & CF_PTZ;
		c->propbaser = get_le64(p + 8);
		c->pendbaser = get_le64(p + 16);
		c->lpi_npending = 0;
		for (u32 w = 0; w < VGIC_NR_LPIS / 64; w++) {
			c->lpi_pending[w] = get_le64(p + 24 + 8 * w);
			c->lpi_npending += (u32)__builtin_popcountll(c->lpi_pending[w]);
		}
	}
	vgic_kick_all(g);
	return FERRY_OK;
}
