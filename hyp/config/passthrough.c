/* SPDX-License-Identifier: Apache-2.0 */
/* Device passthrough: resolving and checking the config's `passthrough` paths against the machine's
 * device tree (passthrough.h, docs/passthrough.md). Pure code: the unit tests run it on a device tree
 * shaped like QEMU virt's. */
#include "config/passthrough.h"

#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/range.h"
#include "vdev/board.h"
#include "vdev/vdev.h"
#include "vgic/vgic.h"

/* GIC binding: <type number flags>; type 0 SPI; flags 1 rising edge, 4 level high (the only
 * triggers a GICv3 SPI has). */
#define GIC_SPI 0
#define GIC_EDGE_RISING 1
#define GIC_LEVEL_HIGH 4

struct pt_ctx {
	const void *fdt;
	const struct ferry_config *cfg;
	const struct pt_limits *lim;
	struct pt_table *out;
	char *err;
	size_t errlen;
	bool rtc; /* the VM being resolved takes the machine's PL031 in place of its emulated one */
};

static int pt_fail(struct pt_ctx *c, const struct pt_device *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int pt_fail(struct pt_ctx *c, const struct pt_device *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return FERRY_EINVAL;
	n = snprintf(c->err, c->errlen,
		     "config: vm '%s': property 'passthrough': '%s': ", c->cfg->vm[d->vm].name,
		     d->path);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return FERRY_EINVAL;
}

static u64 cells(const fdt32_t *p, int n)
{
	u64 v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_ld(&p[i]);
	return v;
}

/* `reg`: 1..PT_MAX_REGS windows, each page aligned, not empty, at most PT_MAX_SIZE, representable
 * once rounded up to whole pages. The root's cell sizes (the node sits directly under it). */
static int read_regs(struct pt_ctx *c, struct pt_device *d)
{
	int ac = fdt_address_cells(c->fdt, 0), sc = fdt_size_cells(c->fdt, 0), len, n;
	const fdt32_t *reg = fdt_getprop(c->fdt, d->node, "reg", &len);

	if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
		return pt_fail(c, d, "the machine's root has #address-cells %d, #size-cells %d", ac,
			       sc);
	if (!reg || len <= 0)
		return pt_fail(c, d, "has no 'reg': nothing to map");
	if (len % (4 * (ac + sc)))
		return pt_fail(c, d, "'reg' of %d bytes is not whole (address, size) pairs", len);
	n = len / (4 * (ac + sc));
	if (n > PT_MAX_REGS)
		return pt_fail(c, d, "%d 'reg' windows, at most %d", n, PT_MAX_REGS);
	for (int i = 0; i < n; i++) {
		u64 base = cells(reg + i * (ac + sc), ac),
		    size = cells(reg + i * (ac + sc) + ac, sc);

		if (!size || size > PT_MAX_SIZE)
			return pt_fail(c, d, "window 0x%llx of 0x%llx bytes: not 1 byte to 64 MiB",
				       (unsigned long long)base, (unsigned long long)size);
		if (!IS_ALIGNED(base, PT_PAGE))
			return pt_fail(c, d,
				       "0x%llx is not 4 KiB aligned (stage 2 maps whole pages, "
				       "and a page shared with another device would go with it)",
				       (unsigned long long)base);
		size = ALIGN_UP(size, PT_PAGE); /* size <= 64 MiB: cannot wrap */
		if (!range_valid(base, size))
			return pt_fail(c, d, "window 0x%llx + 0x%llx wraps around",
				       (unsigned long long)base, (unsigned long long)size);
		d->base[i] = base;
		d->size[i] = size;
	}
	d->nregs = (u32)n;
	return 0;
}

/* The node's interrupt parent (its own `interrupt-parent` or its nearest ancestor's), which must be
 * the GICv3 with three-cell specifiers. */
static int check_irq_parent(struct pt_ctx *c, struct pt_device *d)
{
	const fdt32_t *ph = NULL;
	int len, gic, node = d->node;

	for (int depth = 0; node >= 0 && depth < 8 && !ph; depth++) {
		ph = fdt_getprop(c->fdt, node, "interrupt-parent", &len);
		if (ph && len != 4)
			return pt_fail(c, d, "'interrupt-parent' is not one phandle");
		if (!ph)
			node = node ? fdt_parent_offset(c->fdt, node) : -1;
	}
	if (!ph)
		return pt_fail(c, d, "no interrupt parent");
	gic = fdt_node_offset_by_phandle(c->fdt, fdt32_ld(ph));
	if (gic < 0 || fdt_node_check_compatible(c->fdt, gic, "arm,gic-v3"))
		return pt_fail(c, d, "its interrupt parent is not the GICv3");
	ph = fdt_getprop(c->fdt, gic, "#interrupt-cells", &len);
	if (!ph || len != 4 || fdt32_ld(ph) != 3)
		return pt_fail(c, d, "the GICv3 does not have 3-cell interrupt specifiers");
	return 0;
}

/* The VM's interrupts ferry emulates: the PL011's (with `uart`), the PL031's (unless the VM owns
 * the machine's), the doorbells'. */
static bool emulated_intid(const struct pt_ctx *c, const struct vm_config *vm, u32 intid)
{
	return (intid == VPL011_INTID && (vm->devices & CONFIG_DEV_UART)) ||
	       (intid == VPL031_INTID && !c->rtc) ||
	       (intid >= CONFIG_DOORBELL_INTID &&
		intid < CONFIG_DOORBELL_INTID + CONFIG_MAX_REGIONS);
}

static int read_irqs(struct pt_ctx *c, struct pt_device *d)
{
	int len, n, err;
	const fdt32_t *irq;

	if (fdt_getprop(c->fdt, d->node, "interrupts-extended", &len))
		return pt_fail(c, d, "'interrupts-extended' is not supported (use 'interrupts')");
	irq = fdt_getprop(c->fdt, d->node, "interrupts", &len);
	if (!irq)
		return 0; /* a device without interrupts (polled) */
	if (len <= 0 || len % 12)
		return pt_fail(c, d, "'interrupts' of %d bytes is not whole 3-cell specifiers",
			       len);
	if ((err = check_irq_parent(c, d)))
		return err;
	n = len / 12;
	if (n > PT_MAX_IRQS)
		return pt_fail(c, d, "%d interrupts, at most %d", n, PT_MAX_IRQS);
	for (int i = 0; i < n; i++) {
		u32 type = fdt32_ld(&irq[3 * i]), num = fdt32_ld(&irq[3 * i + 1]);
		u32 flags = fdt32_ld(&irq[3 * i + 2]) & 0xf, intid;

		if (type != GIC_SPI)
			return pt_fail(c, d,
				       "interrupt %d is not an SPI (type %u): only SPIs can be "
				       "given to one VM",
				       i, type);
		if ((u64)num + 32 >= c->lim->spi_end)
			return pt_fail(c, d, "SPI %u is beyond the vGIC's INTIDs 32-%u", num,
				       c->lim->spi_end - 1);
		if (flags != GIC_EDGE_RISING && flags != GIC_LEVEL_HIGH)
			return pt_fail(c, d,
				       "SPI %u has trigger flags %u (a GICv3 SPI is rising "
				       "edge, 1, or level high, 4)",
				       num, flags);
		intid = 32 + num;
		d->intid[i] = intid;
		d->edge[i] = flags == GIC_EDGE_RISING;
	}
	d->nirqs = (u32)n;
	return 0;
}

/* `clocks` would name the machine's clock nodes by phandle: the guest's DT has its own. Only fixed
 * clocks (all of QEMU virt's PrimeCells' apb_pclk) are taken: the guest's apb-pclk stands in. */
static int check_clocks(struct pt_ctx *c, struct pt_device *d)
{
	int len;
	const fdt32_t *clk = fdt_getprop(c->fdt, d->node, "clocks", &len);

	if (!clk)
		return 0;
	if (len <= 0 || len % 4 || len > 16)
		return pt_fail(c, d, "'clocks' of %d bytes: 1 to 4 phandles expected", len);
	for (int i = 0; i < len / 4; i++) {
		int node = fdt_node_offset_by_phandle(c->fdt, fdt32_ld(&clk[i]));
		const fdt32_t *cc =
			node >= 0 ? fdt_getprop(c->fdt, node, "#clock-cells", NULL) : NULL;

		if (node < 0 || fdt_node_check_compatible(c->fdt, node, "fixed-clock") || !cc ||
		    fdt32_ld(cc) != 0)
			return pt_fail(c, d, "clock %d is not a fixed clock", i);
	}
	d->clocks = true;
	return 0;
}

/* What the owner's address space already has where the device would appear (IPA = PA). */
static int check_vm_layout(struct pt_ctx *c, const struct pt_device *d, u64 base, u64 size)
{
	const struct vm_config *vm = &c->cfg->vm[d->vm];
	const struct {
		const char *what;
		u64 base, size;
		bool has;
	} fixed[] = {
		{ "the VM's RAM", vm->ram_base, vm->ram_size, true },
		{ "the vGIC's distributor", VGIC_GICD_BASE_VIRT, VGIC_GICD_SIZE, true },
		{ "the vGIC's redistributors", VGIC_GICR_BASE_VIRT,
		  VGIC_GICR_STRIDE * CONFIG_MAX_VCPUS, true },
		{ "the VM's emulated PL011", VPL011_BASE, VPL011_SIZE,
		  (vm->devices & CONFIG_DEV_UART) != 0 },
		{ "the VM's emulated PL031", VPL031_BASE, VPL031_SIZE, !c->rtc },
		{ "the doorbells", CONFIG_DOORBELL_BASE, CONFIG_DOORBELL_SIZE * CONFIG_MAX_REGIONS,
		  true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (fixed[i].has && range_overlaps(base, size, fixed[i].base, fixed[i].size))
			return pt_fail(c, d, "0x%llx-0x%llx overlaps %s at 0x%llx-0x%llx",
				       (unsigned long long)base,
				       (unsigned long long)(base + size - 1), fixed[i].what,
				       (unsigned long long)fixed[i].base,
				       (unsigned long long)(fixed[i].base + fixed[i].size - 1));
	for (u32 r = 0; r < c->cfg->nregions; r++) {
		const struct region_config *rc = &c->cfg->region[r];

		for (u32 m = 0; m < rc->nmaps; m++)
			if (rc->map[m].vm == d->vm &&
			    range_overlaps(base, size, rc->map[m].ipa, rc->size))
				return pt_fail(c, d,
					       "0x%llx-0x%llx overlaps region '%s' in this VM",
					       (unsigned long long)base,
					       (unsigned long long)(base + size - 1), rc->name);
	}
	return 0;
}

static int check_ownership(struct pt_ctx *c, const struct pt_device *d)
{
	const struct pt_limits *lim = c->lim;

	for (u32 w = 0; w < d->nregs; w++) {
		u64 base = d->base[w], size = d->size[w];
		const struct pt_device *other = pt_owner_of(c->out, base, size);
		int err;

		if (range_overlaps(base, size, lim->ram_base, lim->ram_size))
			return pt_fail(c, d, "0x%llx-0x%llx overlaps the machine's RAM",
				       (unsigned long long)base,
				       (unsigned long long)(base + size - 1));
		for (u32 i = 0; i < lim->nown; i++)
			if (range_overlaps(base, size, lim->own[i].base, lim->own[i].size))
				return pt_fail(
					c, d, "0x%llx-0x%llx holds %s", (unsigned long long)base,
					(unsigned long long)(base + size - 1), lim->own[i].what);
		if (other && other->vm != d->vm)
			return pt_fail(c, d, "0x%llx-0x%llx is already owned by vm '%s' ('%s')",
				       (unsigned long long)base,
				       (unsigned long long)(base + size - 1),
				       c->cfg->vm[other->vm].name, other->path);
		if (other && other->node == d->node)
			return pt_fail(c, d, "the same node as '%s'", other->path);
		if ((err = check_vm_layout(c, d, base, size)))
			return err;
	}
	for (u32 i = 0; i < d->nirqs; i++) {
		for (u32 k = 0; k < lim->nown; k++)
			if (lim->own[k].intid == d->intid[i])
				return pt_fail(c, d, "INTID %u belongs to %s", d->intid[i],
					       lim->own[k].what);
		if (emulated_intid(c, &c->cfg->vm[d->vm], d->intid[i]))
			return pt_fail(c, d, "INTID %u is an emulated device's in this VM",
				       d->intid[i]);
		for (u32 k = 0; k < c->out->ndev; k++)
			for (u32 j = 0; j < c->out->dev[k].nirqs; j++)
				if (c->out->dev[k].intid[j] == d->intid[i])
					return pt_fail(c, d,
						       "INTID %u is already owned by vm '%s' "
						       "('%s')",
						       d->intid[i],
						       c->cfg->vm[c->out->dev[k].vm].name,
						       c->out->dev[k].path);
	}
	return 0;
}

static int resolve_one(struct pt_ctx *c, u32 vm, const char *path)
{
	struct pt_device *d = &c->out->dev[c->out->ndev];
	int err, len;
	const char *status;

	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->path = path;
	/* The config's path is at most CONFIG_PT_PATH_MAX - 1 characters (vm_node.c). */
	d->node = fdt_path_offset(c->fdt, path);
	if (d->node < 0)
		return pt_fail(c, d, "no such node in the machine's device tree");
	if (d->node == 0 || fdt_parent_offset(c->fdt, d->node) != 0)
		return pt_fail(c, d,
			       "not a node directly under the root (ferry does not translate "
			       "bus addresses)");
	status = fdt_getprop(c->fdt, d->node, "status", &len);
	if (status && len > 0 && strncmp(status, "okay", (size_t)len) &&
	    strncmp(status, "ok", (size_t)len))
		return pt_fail(c, d, "its status is not \"okay\"");
	if ((err = read_regs(c, d)) || (err = read_irqs(c, d)) || (err = check_clocks(c, d)) ||
	    (err = check_ownership(c, d)))
		return err;
	/* Without an SMMU a device's DMA addresses are physical: the guest gives it IPAs, which
	 * name its own RAM only where IPA = PA. */
	if (fdt_getprop(c->fdt, d->node, "dma-coherent", &len) &&
	    c->cfg->vm[vm].ram_pa != c->cfg->vm[vm].ram_base)
		return pt_fail(c, d,
			       "does DMA ('dma-coherent'), and without an SMMU it sees physical "
			       "addresses: give the VM ram-pa = ram-base");
	c->out->ndev++;
	return 0;
}

/* A PL031 (compatible "arm,pl031") whose one window is the emulated PL031's page: the machine's
 * RTC where QEMU virt has it. A VM given it owns it instead of the emulated one (no trap window, no
 * emulated node: core/board.c, core/guest_fdt.c). Any other device in that page is still refused.
 * Decided from the VM's whole list first, so the order of its paths does not matter. */
static bool takes_rtc(const struct pt_ctx *c, u32 vm, const char *path)
{
	struct pt_ctx quiet = { .fdt = c->fdt, .cfg = c->cfg, .lim = c->lim };
	struct pt_device d = { .vm = vm, .path = path };

	d.node = fdt_path_offset(c->fdt, path);
	return d.node > 0 && !fdt_node_check_compatible(c->fdt, d.node, "arm,pl031") &&
	       !read_regs(&quiet, &d) && d.nregs == 1 && d.base[0] == VPL031_BASE &&
	       d.size[0] == VPL031_SIZE;
}

int pt_resolve(const void *fdt, const struct ferry_config *cfg, const struct pt_limits *lim,
	       struct pt_table *out, char *err, size_t errlen)
{
	struct pt_ctx c = { fdt, cfg, lim, out, err, errlen, false };
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = 0;
	for (u32 v = 0; v < cfg->nvms && !ret; v++) {
		const struct vm_config *vm = &cfg->vm[v];

		c.rtc = false;
		for (u32 i = 0; i < vm->npassthrough && i < CONFIG_MAX_PASSTHROUGH; i++)
			c.rtc = c.rtc || takes_rtc(&c, v, vm->passthrough[i]);
		for (u32 i = 0; i < vm->npassthrough && i < CONFIG_MAX_PASSTHROUGH && !ret; i++) {
			if (out->ndev == PT_MAX_DEVICES)
				ret = FERRY_EINVAL;
			else
				ret = resolve_one(&c, v, vm->passthrough[i]);
		}
	}
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

const struct pt_device *pt_owner_of(const struct pt_table *t, u64 pa, u64 size)
{
	for (u32 i = 0; i < t->ndev; i++)
		for (u32 w = 0; w < t->dev[i].nregs; w++)
			if (range_overlaps(pa, size, t->dev[i].base[w], t->dev[i].size[w]))
				return &t->dev[i];
	return NULL;
}

bool pt_vm_owns_intid(const struct pt_table *t, u32 vm, u32 intid)
{
	for (u32 i = 0; i < t->ndev; i++)
		for (u32 j = 0; t->dev[i].vm == vm && j < t->dev[i].nirqs; j++)
			if (t->dev[i].intid[j] == intid)
				return true;
	return false;
}

bool pt_vm_owns_rtc(const struct pt_table *t, u32 vm)
{
	const struct pt_device *d = pt_owner_of(t, VPL031_BASE, VPL031_SIZE);

	return d && d->vm == vm;
}
