/* SPDX-License-Identifier: Apache-2.0 */
/* The vGIC's migration blob, version 1: little-endian, fixed layout (docs/vgic.md gives it byte by
 * byte), a CRC32C over the whole of it. Restore checks everything before it changes anything, so a
 * truncated, corrupted or foreign blob leaves the VM's vGIC as it was.
 *
 *   header   32 bytes: magic, version, header length, total length, CRC32C, nr_vcpus, nr_spis,
 *            GICD_CTLR enables, two reserved words
 *   SPIs     12 bytes each: priority, state, active vCPU, reserved, IROUTER (u64)
 *   vCPUs   176 bytes each: affinity, GICR_WAKER, ICH_VMCR_EL2 (u64), ICH_AP0R0-3, ICH_AP1R0-3,
 *            then 32 SGI/PPI records of 4 bytes: priority, state, reserved u16 */
#include <string.h>

#include "lib/lib.h"
#include "vgic/vgic_internal.h"

#define HDR_LEN VGIC_BLOB_HDR_LEN
#define SPI_REC_LEN 12u
#define PRIV_REC_LEN 4u
#define CPU_REC_LEN (48u + VGIC_NR_PRIVATE * PRIV_REC_LEN)
#define OFF_CRC 12u

/* Per-interrupt state bits on the wire: fixed by the format, whatever the flags are inside. */
#define W_ENABLED (1u << 0)
#define W_GROUP1 (1u << 1)
#define W_EDGE (1u << 2)
#define W_LATCH (1u << 3)
#define W_LINE (1u << 4)
#define W_ACTIVE (1u << 5)
#define W_ALL 0x3fu

#define W_WAKER_ASLEEP 0x6u /* ProcessorSleep | ChildrenAsleep */

static const struct {
	u32 flag, wire;
} state_map[] = {
	{ VGIC_F_ENABLED, W_ENABLED }, { VGIC_F_GROUP1, W_GROUP1 }, { VGIC_F_EDGE, W_EDGE },
	{ VGIC_F_LATCH, W_LATCH },     { VGIC_F_LINE, W_LINE },     { VGIC_F_ACTIVE, W_ACTIVE },
};

static u8 to_wire(u32 flags)
{
	u32 w = 0;

	for (size_t i = 0; i < ARRAY_SIZE(state_map); i++)
		if (flags & state_map[i].flag)
			w |= state_map[i].wire;
	return (u8)w;
}

static u32 from_wire(u8 w)
{
	u32 flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(state_map); i++)
		if (w & state_map[i].wire)
			flags |= state_map[i].flag;
	return flags;
}

static size_t blob_size(u32 nr_vcpus, u32 nr_spis)
{
	return HDR_LEN + (size_t)nr_spis * SPI_REC_LEN + (size_t)nr_vcpus * CPU_REC_LEN;
}

size_t vgic_save_size(const struct vgic *g) { return blob_size(g->nr_vcpus, g->nr_spis); }

static u32 blob_crc(const u8 *buf, size_t len)
{
	static const u8 zero[4];
	u32 crc = crc32c(0, buf, OFF_CRC);

	crc = crc32c(crc, zero, sizeof(zero));
	return crc32c(crc, buf + OFF_CRC + 4, len - OFF_CRC - 4);
}

static void put_priv(u8 *p, const struct vgic_irq *irq)
{
	p[0] = irq->priority;
	p[1] = to_wire(irq->flags);
	put_le16(p + 2, 0);
}

int vgic_save(const struct vgic *g, const struct vgic_cpu_hw hw[], u8 *buf, size_t len,
	      size_t *out_len)
{
	if (vgic_any_in_guest(g))
		return FERRY_EBUSY; /* its LRs hold state the model does not have yet */
	return vgic_save_model(g, hw, buf, len, out_len);
}

int vgic_save_model(const struct vgic *g, const struct vgic_cpu_hw hw[], u8 *buf, size_t len,
		    size_t *out_len)
{
	size_t size = vgic_save_size(g);
	int err = vgic_blob_begin(buf, len, VGIC_SAVE_MAGIC, VGIC_SAVE_VERSION, size, g->nr_vcpus);
	u8 *p;

	if (err)
		return err;
	put_le16(buf + 18, (u16)g->nr_spis);
	put_le32(buf + 20, g->ctlr);
	p = buf + HDR_LEN;
	for (u32 i = 0; i < g->nr_spis; i++, p += SPI_REC_LEN) {
		const struct vgic_irq *irq = &g->spi[i];

		p[0] = irq->priority;
		p[1] = to_wire(irq->flags);
		p[2] = (irq->flags & VGIC_F_ACTIVE) ? irq->active_vcpu : VGIC_NO_VCPU;
		p[3] = 0;
		put_le64(p + 4, g->irouter[i]);
	}
	for (u32 c = 0; c < g->nr_vcpus; c++, p += CPU_REC_LEN) {
		const struct vgic_cpu *cpu = &g->cpu[c];

		put_le32(p, cpu->aff);
		put_le32(p + 4, cpu->asleep ? W_WAKER_ASLEEP : 0);
		put_le64(p + 8, hw[c].vmcr);
		for (u32 k = 0; k < 4; k++) {
			put_le32(p + 16 + 4 * k, hw[c].ap0r[k]);
			put_le32(p + 32 + 4 * k, hw[c].ap1r[k]);
		}
		for (u32 i = 0; i < VGIC_NR_PRIVATE; i++)
			put_priv(p + 48 + i * PRIV_REC_LEN, &cpu->priv[i]);
	}
	put_le32(buf + OFF_CRC, blob_crc(buf, size));
	*out_len = size;
	return FERRY_OK;
}

/* Checks the blob; with apply, also loads it (only ever called with apply after a clean check). */
static int load(struct vgic *g, struct vgic_cpu_hw hw[], const u8 *buf, size_t len, bool apply)
{
	u64 irouter_mask = vgic_irouter_mask(g);
	const u8 *p;
	u32 ctlr;

	if (len < HDR_LEN || get_le32(buf) != VGIC_SAVE_MAGIC ||
	    get_le16(buf + 4) != VGIC_SAVE_VERSION || get_le16(buf + 6) != HDR_LEN ||
	    get_le32(buf + 8) != len || get_le16(buf + 16) != g->nr_vcpus ||
	    get_le16(buf + 18) != g->nr_spis || len != vgic_save_size(g) ||
	    get_le32(buf + OFF_CRC) != blob_crc(buf, len))
		return FERRY_EINVAL;
	ctlr = get_le32(buf + 20);
	if ((ctlr & ~(GICD_CTLR_ENABLE_G0 | GICD_CTLR_ENABLE_G1)) || get_le32(buf + 24) ||
	    get_le32(buf + 28))
		return FERRY_EINVAL;
	if (apply)
		g->ctlr = ctlr;

	p = buf + HDR_LEN;
	for (u32 i = 0; i < g->nr_spis; i++, p += SPI_REC_LEN) {
		struct vgic_irq *irq = &g->spi[i];
		u64 irouter = get_le64(p + 4);
		u8 st = p[1], av = p[2];

		/* An active SPI names the vCPU that must deactivate it (or none, if it was made
		 * active while routed nowhere); an inactive one names none. */
		if ((p[0] & ~VGIC_PRIO_MASK) || (st & ~W_ALL) || p[3] ||
		    (irouter & ~irouter_mask) ||
		    ((st & W_ACTIVE) ? (av != VGIC_NO_VCPU && av >= g->nr_vcpus)
				     : av != VGIC_NO_VCPU))
			return FERRY_EINVAL;
		if (!apply)
			continue;
		irq->priority = p[0];
		irq->flags = from_wire(st) | (irq->flags & VGIC_F_HW);
		irq->active_vcpu = av;
		irq->owner = VGIC_NO_VCPU;
		g->irouter[i] = irouter;
		irq->target = vgic_route_target(g, irouter);
		vgic_update_live(g, irq);
	}
	for (u32 c = 0; c < g->nr_vcpus; c++, p += CPU_REC_LEN) {
		struct vgic_cpu *cpu = &g->cpu[c];
		u32 waker = get_le32(p + 4);

		if (get_le32(p) != cpu->aff || (waker != 0 && waker != W_WAKER_ASLEEP))
			return FERRY_EINVAL;
		for (u32 i = 0; i < VGIC_NR_PRIVATE; i++) {
			const u8 *r = p + 48 + i * PRIV_REC_LEN;
			/* SGIs are edge-triggered and have no line; PPIs are level-sensitive. */
			u8 fixed = vgic_is_sgi(i) ? W_EDGE : 0;
			u8 forbidden = vgic_is_sgi(i) ? W_LINE : 0;

			if ((r[0] & ~VGIC_PRIO_MASK) || (r[1] & ~W_ALL) || get_le16(r + 2) ||
			    (r[1] & W_EDGE) != fixed || (r[1] & forbidden))
				return FERRY_EINVAL;
		}
		if (!apply)
			continue;
		cpu->asleep = waker != 0;
		cpu->lr_used = 0;
		hw[c].vmcr = get_le64(p + 8);
		for (u32 k = 0; k < 4; k++) {
			hw[c].ap0r[k] = get_le32(p + 16 + 4 * k);
			hw[c].ap1r[k] = get_le32(p + 32 + 4 * k);
		}
		for (u32 i = 0; i < VGIC_NR_PRIVATE; i++) {
			const u8 *r = p + 48 + i * PRIV_REC_LEN;
			struct vgic_irq *irq = &cpu->priv[i];

			irq->priority = r[0];
			irq->flags = from_wire(r[1]) | (irq->flags & VGIC_F_HW);
			irq->active_vcpu = (irq->flags & VGIC_F_ACTIVE) ? (u8)c : VGIC_NO_VCPU;
			irq->owner = VGIC_NO_VCPU;
			vgic_update_live(g, irq);
		}
	}
	return FERRY_OK;
}

int vgic_restore(struct vgic *g, struct vgic_cpu_hw hw[], const u8 *buf, size_t len)
{
	int err;

	if (vgic_any_in_guest(g))
		return FERRY_EBUSY;
	err = load(g, hw, buf, len, false);
	return err ? err : load(g, hw, buf, len, true);
}
