/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual ITS (its.h): its registers, the command queue and translation. Every value the guest
 * supplies (register contents, command fields, table entries it may have scribbled on) is checked
 * before use; every table access goes through gmem, range-checked against the VM's RAM. */
#include "vgic/its.h"

#include <string.h>

#include "vgic/vgic_internal.h"

#define GITS_CTLR 0x0000
#define GITS_IIDR 0x0004
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER0 0x0100
#define GITS_BASER1 0x0108
#define GITS_BASER_END 0x0140
#define GITS_PIDR2 0xFFE8

#define GITS_CTLR_ENABLED (1u << 0)
#define GITS_CTLR_QUIESCENT (1u << 31)

/* Implementer Arm's JEP106 code and ProductID 'F', as the vGIC's IIDR; no Linux ITS erratum
 * matches it. PIDR2: ArchRev 3 (Linux refuses an ITS whose ArchRev is neither 3 nor 4). */
#define ITS_IIDR (0x46u << 24 | 0x43bu)
#define ITS_PIDR2 0x3bu

#define GITS_TYPER_PHYSICAL BIT(0)
#define GITS_CBASER_VALID BIT(63)
#define GITS_BASER_VALID BIT(63)
#define GITS_BASER_TYPE_DEVICE 1ULL
#define GITS_BASER_TYPE_COLLECTION 4ULL
#define GITS_BASER_PAGE_64K (2ULL << 8)
#define GITS_TYPER_CIL BIT(36)
#define GITS_CREADR_STALLED BIT(0)
#define GITS_CWRITER_RETRY BIT(0)

#define DTE_VALID BIT(63)
#define DTE_ITT_MASK GENMASK(51, 8)
#define DTE_SIZE_MASK GENMASK(4, 0)
#define ITE_VALID BIT(63)

enum {
	CMD_MOVI = 0x01,
	CMD_INT = 0x03,
	CMD_CLEAR = 0x04,
	CMD_SYNC = 0x05,
	CMD_MAPD = 0x08,
	CMD_MAPC = 0x09,
	CMD_MAPTI = 0x0a,
	CMD_MAPI = 0x0b,
	CMD_INV = 0x0c,
	CMD_INVALL = 0x0d,
	CMD_MOVALL = 0x0e,
	CMD_DISCARD = 0x0f,
};

/* CIDbits + 1 = 4 collection ID bits (CIL): exactly the ITS_NR_COLLECTIONS that HCC holds. */
static u64 its_typer(void)
{
	return GITS_TYPER_PHYSICAL | (u64)(ITS_ITE_SIZE - 1) << 4 | (u64)(ITS_EVENT_BITS - 1) << 8 |
	       (u64)(ITS_DEV_BITS - 1) << 13 | (u64)ITS_NR_COLLECTIONS << 24 |
	       (u64)(__builtin_ctz(ITS_NR_COLLECTIONS) - 1) << 32 | GITS_TYPER_CIL;
}

static u64 baser_read(u64 kept, u64 type, u32 entry_size)
{
	return kept | type << 56 | (u64)(entry_size - 1) << 48;
}

void its_reset(struct its *its)
{
	its->enabled = its->stalled = false;
	its->cbaser = its->cwriter = its->creadr = 0;
	its->baser_dev = its->baser_coll = GITS_BASER_PAGE_64K;
	memset(its->coll, ITS_NO_VCPU, sizeof(its->coll));
	its->commands = its->errors = its->translations = 0;
	its->last_error = ITS_OK;
	its->last_error_cmd = 0;
}

void its_init(struct its *its, struct vgic *g, const struct gmem *mem, u64 base)
{
	its->g = g;
	its->mem = mem;
	its->base = base;
	its_reset(its);
}

/* ---- tables ---- */

/* GITS_BASER0's page size in bytes (4K, 16K, 64K; the reserved encoding as 64K). */
static u64 baser_page(u64 baser)
{
	static const u64 sz[4] = { 0x1000, 0x4000, 0x10000, 0x10000 };

	return sz[FIELD_GET(baser, 9, 8)];
}

/* The device table's address: PA[47:12] (16K pages: aligned down; 64K pages: PA[47:16], with
 * bits [15:12] of the register giving PA[51:48]). */
static u64 baser_addr(u64 baser)
{
	u64 page = baser_page(baser);

	if (page == 0x10000)
		return (baser & GENMASK(47, 16)) | FIELD_GET(baser, 15, 12) << 48;
	return baser & GENMASK(47, 12) & ~(page - 1);
}

static int dte_addr(const struct its *its, u32 devid, u64 *addr)
{
	u64 b = its->baser_dev;
	/* At most 256 pages of 64 KiB: no overflow in either product. */
	u64 table = (FIELD_GET(b, 7, 0) + 1) * baser_page(b);

	if (devid >= (1u << ITS_DEV_BITS))
		return ITS_E_DEVID;
	if (!(b & GITS_BASER_VALID))
		return ITS_E_NO_DEVICE;
	if ((u64)devid * ITS_DTE_SIZE >= table)
		return ITS_E_DEVID;
	*addr = baser_addr(b) + (u64)devid * ITS_DTE_SIZE; /* < 2^52 + 2^24: no wrap */
	return ITS_OK;
}

static int read_dte(const struct its *its, u32 devid, u64 *dte)
{
	u64 a;
	int e = dte_addr(its, devid, &a);

	if (e)
		return e;
	if (gmem_read64(its->mem, a, dte))
		return ITS_E_MEMORY;
	return (*dte & DTE_VALID) ? ITS_OK : ITS_E_NO_DEVICE;
}

/* The ITT entry of (devid, event): its address, after the device and EventID checks. The DTE is
 * guest memory the guest can overwrite: its size field is checked again here. */
static int ite_addr(const struct its *its, u32 devid, u32 event, u64 *addr)
{
	u64 dte;
	u32 bits;
	int e = read_dte(its, devid, &dte);

	if (e)
		return e;
	bits = (u32)(dte & DTE_SIZE_MASK) + 1;
	if (bits > ITS_EVENT_BITS)
		return ITS_E_NO_DEVICE;
	if (event >= (1u << bits))
		return ITS_E_EVENTID;
	*addr = (dte & DTE_ITT_MASK) + (u64)event * ITS_ITE_SIZE; /* < 2^52 + 2^19 */
	return ITS_OK;
}

struct ite {
	u64 addr;
	u32 intid;
	u16 icid;
	u8 vcpu; /* the collection's target, ITS_NO_VCPU if unmapped */
};

/* Looks up a mapped event: device, ITT entry valid, an LPI, a collection in range. */
static int read_ite(const struct its *its, u32 devid, u32 event, struct ite *ite)
{
	u64 v;
	int e = ite_addr(its, devid, event, &ite->addr);

	if (e)
		return e;
	if (gmem_read64(its->mem, ite->addr, &v))
		return ITS_E_MEMORY;
	if (!(v & ITE_VALID))
		return ITS_E_NO_EVENT;
	ite->intid = (u32)v;
	ite->icid = (u16)(v >> 32);
	if (!vgic_is_lpi(ite->intid))
		return ITS_E_INTID;
	if (ite->icid >= ITS_NR_COLLECTIONS)
		return ITS_E_ICID;
	ite->vcpu = its->coll[ite->icid];
	return ITS_OK;
}

static u64 make_ite(u32 intid, u16 icid) { return ITE_VALID | (u64)icid << 32 | intid; }

/* ---- commands ---- */

static int rdbase_vcpu(const struct its *its, u64 dw, u32 *vcpu)
{
	u64 rd = FIELD_GET(dw, 50, 16); /* PTA = 0: a processor number */

	if (rd >= its->g->nr_vcpus)
		return ITS_E_RDBASE;
	*vcpu = (u32)rd;
	return ITS_OK;
}

/* An event's LPI at its collection's vCPU (INT, CLEAR, INV, DISCARD, MOVI need a mapped one). */
static int mapped_ite(const struct its *its, u32 devid, u32 event, struct ite *ite)
{
	int e = read_ite(its, devid, event, ite);

	if (!e && ite->vcpu == ITS_NO_VCPU)
		return ITS_E_NO_COLL;
	return e;
}

static int cmd_mapti(struct its *its, u32 devid, u32 event, u32 intid, u64 dw2)
{
	u16 icid = (u16)dw2;
	u64 a;
	int e = ite_addr(its, devid, event, &a);

	if (e)
		return e;
	if (!vgic_is_lpi(intid))
		return ITS_E_INTID;
	if (icid >= ITS_NR_COLLECTIONS)
		return ITS_E_ICID;
	return gmem_write64(its->mem, a, make_ite(intid, icid)) ? ITS_E_MEMORY : ITS_OK;
}

static int cmd_mapd(struct its *its, u32 devid, u64 dw1, u64 dw2)
{
	u32 size = (u32)(dw1 & DTE_SIZE_MASK);
	u64 a;
	int e = dte_addr(its, devid, &a);

	if (e)
		return e;
	if (!(dw2 & BIT(63)))
		return gmem_write64(its->mem, a, 0) ? ITS_E_MEMORY : ITS_OK;
	if (size + 1 > ITS_EVENT_BITS)
		return ITS_E_SIZE;
	return gmem_write64(its->mem, a, DTE_VALID | (dw2 & DTE_ITT_MASK) | size) ? ITS_E_MEMORY
										  : ITS_OK;
}

static int cmd_mapc(struct its *its, u64 dw2)
{
	u16 icid = (u16)dw2;
	u32 vcpu;
	int e;

	if (icid >= ITS_NR_COLLECTIONS)
		return ITS_E_ICID;
	if (!(dw2 & BIT(63))) {
		its->coll[icid] = ITS_NO_VCPU;
		return ITS_OK;
	}
	e = rdbase_vcpu(its, dw2, &vcpu);
	if (!e)
		its->coll[icid] = (u8)vcpu;
	return e;
}

static int cmd_movi(struct its *its, u32 devid, u32 event, u64 dw2)
{
	u16 icid = (u16)dw2;
	struct ite ite;
	int e = mapped_ite(its, devid, event, &ite);

	if (e)
		return e;
	if (icid >= ITS_NR_COLLECTIONS)
		return ITS_E_ICID;
	if (its->coll[icid] == ITS_NO_VCPU)
		return ITS_E_NO_COLL;
	if (gmem_write64(its->mem, ite.addr, make_ite(ite.intid, icid)))
		return ITS_E_MEMORY;
	/* A pending LPI follows its event to the new redistributor. */
	if (its->coll[icid] != ite.vcpu && vgic_lpi_clear_pending(its->g, ite.vcpu, ite.intid))
		vgic_lpi_set_pending(its->g, its->coll[icid], ite.intid);
	return ITS_OK;
}

static int cmd_movall(struct its *its, u64 dw2, u64 dw3)
{
	u32 from, to;
	int e = rdbase_vcpu(its, dw2, &from);

	if (!e)
		e = rdbase_vcpu(its, dw3, &to);
	if (!e)
		vgic_lpi_move_all(its->g, from, to);
	return e;
}

static int execute(struct its *its, const u64 c[4])
{
	u8 op = (u8)c[0];
	u32 devid = (u32)(c[0] >> 32), event = (u32)c[1];
	struct ite ite;
	u32 vcpu;
	int e;

	switch (op) {
	case CMD_MAPD:
		return cmd_mapd(its, devid, c[1], c[2]);
	case CMD_MAPC:
		return cmd_mapc(its, c[2]);
	case CMD_MAPTI:
		return cmd_mapti(its, devid, event, (u32)(c[1] >> 32), c[2]);
	case CMD_MAPI:
		return cmd_mapti(its, devid, event, event, c[2]);
	case CMD_MOVI:
		return cmd_movi(its, devid, event, c[2]);
	case CMD_MOVALL:
		return cmd_movall(its, c[2], c[3]);
	case CMD_SYNC:
		return rdbase_vcpu(its, c[2], &vcpu); /* everything is done already */
	case CMD_INVALL:
		if ((u16)c[2] >= ITS_NR_COLLECTIONS)
			return ITS_E_ICID;
		if (its->coll[(u16)c[2]] == ITS_NO_VCPU)
			return ITS_E_NO_COLL;
		vgic_lpi_invall(its->g, its->coll[(u16)c[2]]);
		return ITS_OK;
	case CMD_INT:
	case CMD_CLEAR:
	case CMD_INV:
	case CMD_DISCARD:
		break;
	default:
		return ITS_E_UNKNOWN_CMD;
	}
	e = mapped_ite(its, devid, event, &ite);
	if (e)
		return e;
	switch (op) {
	case CMD_INT:
		/* A redistributor with LPIs disabled cannot hold it: dropped, as for an MSI. */
		vgic_lpi_set_pending(its->g, ite.vcpu, ite.intid);
		break;
	case CMD_CLEAR:
		vgic_lpi_clear_pending(its->g, ite.vcpu, ite.intid);
		break;
	case CMD_INV:
		vgic_lpi_inv(its->g, ite.vcpu, ite.intid);
		break;
	default: /* DISCARD: the pending state goes with the mapping */
		vgic_lpi_clear_pending(its->g, ite.vcpu, ite.intid);
		if (gmem_write64(its->mem, ite.addr, 0))
			return ITS_E_MEMORY;
		break;
	}
	return ITS_OK;
}

static u64 queue_size(const struct its *its) { return (FIELD_GET(its->cbaser, 7, 0) + 1) * 0x1000; }

/* Runs the queue from CREADR to CWRITER. Bounded: CREADR advances by one slot per command and the
 * loop ends when it reaches CWRITER, which is inside the queue. */
static void process(struct its *its)
{
	u64 size = queue_size(its), base = its->cbaser & GENMASK(51, 12);

	if (!its->enabled || !(its->cbaser & GITS_CBASER_VALID) || its->stalled)
		return;
	if (its->cwriter >= size || its->creadr >= size) {
		its->stalled = true;
		its->last_error = ITS_E_QUEUE;
		its->errors++;
		return;
	}
	while (its->creadr != its->cwriter) {
		u8 raw[ITS_CMD_SIZE];
		u64 c[4] = { 0, 0, 0, 0 };
		int e;

		if (gmem_read(its->mem, base + its->creadr, raw, sizeof(raw))) {
			its->stalled = true;
			its->last_error = ITS_E_QUEUE;
			its->errors++;
			return;
		}
		for (u32 w = 0; w < 4; w++)
			for (int i = 7; i >= 0; i--)
				c[w] = c[w] << 8 | raw[8 * w + (u32)i];
		e = execute(its, c);
		its->commands++;
		if (e) {
			its->errors++;
			its->last_error = (u32)e;
			its->last_error_cmd = (u8)c[0];
		}
		its->creadr = (its->creadr + ITS_CMD_SIZE) % size;
	}
}

int its_translate(struct its *its, u32 devid, u32 event)
{
	struct ite ite;
	int e;

	if (!its->enabled)
		return -ITS_E_NO_DEVICE;
	e = mapped_ite(its, devid, event, &ite);
	if (!e && vgic_lpi_set_pending(its->g, ite.vcpu, ite.intid))
		e = ITS_E_NO_COLL;
	if (!e)
		its->translations++;
	return -e;
}

/* ---- registers ---- */

static bool is64(u64 off)
{
	return off == GITS_TYPER || off == GITS_CBASER || off == GITS_CWRITER ||
	       off == GITS_CREADR || (off >= GITS_BASER0 && off < GITS_BASER_END);
}

static u64 reg64(const struct its *its, u64 off)
{
	switch (off) {
	case GITS_TYPER:
		return its_typer();
	case GITS_CBASER:
		return its->cbaser;
	case GITS_CWRITER:
		return its->cwriter;
	case GITS_CREADR:
		return its->creadr | (its->stalled ? GITS_CREADR_STALLED : 0);
	case GITS_BASER0:
		return baser_read(its->baser_dev, GITS_BASER_TYPE_DEVICE, ITS_DTE_SIZE);
	case GITS_BASER1:
		return baser_read(its->baser_coll, GITS_BASER_TYPE_COLLECTION, ITS_CTE_SIZE);
	default:
		return 0; /* BASER2..7: Type 0, unimplemented */
	}
}

static u64 merge(u64 old, u64 off, u32 size, u64 value)
{
	if (size == 8)
		return value;
	if (off & 4)
		return (old & 0xffffffffULL) | value << 32;
	return (old & ~0xffffffffULL) | (u32)value;
}

/* The translation frame: GITS_TRANSLATER takes 16- and 32-bit writes; a write by a CPU carries no
 * DeviceID, and ferry gives it DeviceID 0, as QEMU does for its CPUs' writes. */
static int translater(struct its *its, u64 off, u32 size, bool write, u64 *value)
{
	if (!write) {
		*value = 0;
		return FERRY_OK;
	}
	if (off != ITS_TRANSLATER_OFF)
		return FERRY_OK;
	if (size != 2 && size != 4)
		return FERRY_EINVAL;
	its_translate(its, 0, (u32)*value);
	return FERRY_OK;
}

static void reg_write(struct its *its, u64 off, u32 size, u64 value)
{
	u64 r = off & ~7ULL;

	if (off == GITS_CTLR) {
		bool en = value & GITS_CTLR_ENABLED;

		if (en && !its->enabled) {
			its->enabled = true;
			process(its);
		}
		its->enabled = en;
		return;
	}
	if (!is64(r))
		return;
	value = merge(reg64(its, r), off, size, value);
	switch (r) {
	case GITS_CBASER:
		/* Written while enabled: UNPREDICTABLE (IHI 0069 "GITS_CBASER"), ignored. A write
		 * resets GITS_CREADR to the start of the queue. */
		if (its->enabled)
			return;
		its->cbaser = value & ITS_CBASER_RW;
		its->creadr = 0;
		its->stalled = false;
		break;
	case GITS_CWRITER:
		its->cwriter = value & ITS_OFFSET_MASK;
		if ((value & GITS_CWRITER_RETRY) && (size == 8 || !(off & 4)))
			its->stalled = false;
		process(its);
		break;
	case GITS_BASER0:
	case GITS_BASER1:
		if (its->enabled)
			return;
		/* Indirect (bit 62) RAZ/WI: flat tables only; Type and Entry_Size read-only. */
		*(r == GITS_BASER0 ? &its->baser_dev : &its->baser_coll) = value & ITS_BASER_RW;
		break;
	default:
		break; /* TYPER, CREADR, BASER2..7: read-only or unimplemented */
	}
}

static int access(struct its *its, u64 ipa, u32 size, bool write, u64 *value)
{
	u64 off = ipa - its->base;

	if (ipa < its->base || off >= ITS_FRAME_SIZE)
		return FERRY_ENOENT;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return FERRY_EINVAL;
	if (off & (size - 1)) {
		*value = 0;
		return FERRY_EINVAL;
	}
	if (off >= 0x10000)
		return translater(its, off, size, write, value);
	if (size != 4 && !(size == 8 && is64(off))) {
		*value = 0;
		return FERRY_EINVAL;
	}
	if (write) {
		reg_write(its, off, size, *value);
		return FERRY_OK;
	}
	if (is64(off & ~7ULL)) {
		u64 v = reg64(its, off & ~7ULL) >> (8 * (off & 4));

		*value = size == 8 ? v : (u32)v;
		return FERRY_OK;
	}
	switch (off) {
	case GITS_CTLR:
		*value = (its->enabled ? GITS_CTLR_ENABLED : 0) | GITS_CTLR_QUIESCENT;
		break;
	case GITS_IIDR:
		*value = ITS_IIDR;
		break;
	case GITS_PIDR2:
		*value = ITS_PIDR2;
		break;
	default:
		*value = 0;
		break;
	}
	return FERRY_OK;
}

int its_mmio_read(struct its *its, u64 ipa, u32 size, u64 *value)
{
	*value = 0;
	return access(its, ipa, size, false, value);
}

int its_mmio_write(struct its *its, u64 ipa, u32 size, u64 value)
{
	value = mmio_write_bytes(value, size);
	return access(its, ipa, size, true, &value);
}
