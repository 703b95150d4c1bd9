/* SPDX-License-Identifier: Apache-2.0 */
/* Device passthrough, the EL2 side (docs/passthrough.md): the table hyp/config/passthrough.c
 * checked at boot becomes each owner's stage-2 device pages, its hardware-backed virtual SPIs and
 * its device-tree nodes.
 *
 * Interrupts: a passthrough SPI is routed to the CPU of its owner's vCPU 0. When it fires there,
 * ferry drops the priority only (EOImode = 1) and leaves it active, and makes the virtual SPI of the
 * same INTID pending as GICD_ISPENDR would; the vGIC delivers it through a list register with
 * HW = 1 and pINTID = the SPI, so the guest's deactivation deactivates the physical SPI, and a level
 * that is still high fires again then. An SPI held active that the guest no longer has pending,
 * active or in a list register (it disabled it first) is deactivated here, as the timers' PPIs are. */
#include "core/passthrough.h"

#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/passthrough.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/pcpu.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "lib/range.h"
#include "lib/spinlock.h"
#include "mm/s2.h"
#include "vgic/vgic.h"

#define GICD_ISPENDR 0x200

static struct pt_table pt;
static const void *host_fdt;
/* SPIs acknowledged at EL2 and still active, per VM (bit = INTID). */
static u64 held[CONFIG_MAX_VMS][(32 + VGIC_MAX_SPIS + 63) / 64];

int pt_boot(const void *fdt, const struct ferry_config *cfg, char *err, size_t errlen)
{
	struct pt_limits lim = {
		.ram_base = machine.ram_base,
		.ram_size = machine.ram_size,
		.nown = 3,
		.own = {
			{ "ferry's console (PL011)", machine.uart_pa, PT_PAGE, machine.uart_intid },
			{ "the GICv3 distributor", machine.gicd_pa, 0x10000, 0 },
			{ "the GICv3 redistributors", machine.gicr_pa,
			  machine.gicr_stride * machine.ncpus, 0 },
		},
		.spi_end = 32 + VGIC_MAX_SPIS,
	};
	u32 kept = 0;
	int ret;

	host_fdt = fdt;
	ret = pt_resolve(fdt, cfg, &lim, &pt, err, errlen);
	if (ret)
		return ret;
	for (u32 i = 0; i < pt.ndev; i++) {
		const struct pt_device *d = &pt.dev[i];
		char irqs[64] = "";
		size_t n = 0;

		for (u32 j = 0; j < d->nirqs && n < sizeof(irqs); j++)
			n += (size_t)snprintf(irqs + n, sizeof(irqs) - n, " INTID %u (%s)",
					      d->intid[j], d->edge[j] ? "edge" : "level");
		con_printf("ferry: passthrough: vm '%s' owns '%s': 0x%llx-0x%llx%s%s",
			   cfg->vm[d->vm].name, d->path, (unsigned long long)d->base[0],
			   (unsigned long long)(d->base[0] + d->size[0] - 1),
			   d->nregs > 1 ? " (and more)" : "", irqs);
	}
	/* ferry's own NIC is taken from the virtio-mmio slots no VM owns a page of: a guest never
	 * reaches the device that carries migrations. */
	for (u32 i = 0; i < machine.nvirtio; i++) {
		if (pt_owner_of(&pt, machine.virtio_pa[i], 0x200))
			continue;
		machine.virtio_pa[kept] = machine.virtio_pa[i];
		machine.virtio_intid[kept++] = machine.virtio_intid[i];
	}
	machine.nvirtio = kept;
	return 0;
}

int pt_map_vm(struct vm *vm, struct s2_flush *owed)
{
	for (u32 i = 0; i < pt.ndev; i++)
		for (u32 w = 0; pt.dev[i].vm == vm->id && w < pt.dev[i].nregs; w++) {
			/* IPA = PA, device memory, never executable. */
			int err = s2_map(&vm->s2, ipa_init(pt.dev[i].base[w]),
					 pa_init(pt.dev[i].base[w]), pt.dev[i].size[w],
					 S2_PROT_R | S2_PROT_W | S2_PROT_DEVICE, owed);
			if (err)
				return err;
		}
	return 0;
}

int pt_vm_irqs(struct vm *vm)
{
	for (u32 i = 0; i < pt.ndev; i++)
		for (u32 j = 0; pt.dev[i].vm == vm->id && j < pt.dev[i].nirqs; j++) {
			u32 intid = pt.dev[i].intid[j];
			int err = vgic_map_hw(&vm->vgic, 0, intid, intid);

			if (err)
				return err;
			/* Whatever the VM's previous life left active or pending goes first. */
			gic_spi_reset(intid, pt.dev[i].edge[j]);
			held[vm->id][intid / 64] &= ~BIT(intid % 64);
			gic_enable_irq(vm->vcpu[0].pcpu, intid);
		}
	return 0;
}

bool pt_take(u32 intid)
{
	struct vcpu *v = this_pcpu()->vcpu;
	struct vm *vm = v ? v->vm : NULL;
	u64 bank = VGIC_GICD_BASE_VIRT + GICD_ISPENDR + 4 * (intid / 32);

	if (!vm || intid < 32 || intid >= 32 + VGIC_MAX_SPIS ||
	    !pt_vm_owns_intid(&pt, vm->id, intid))
		return false;
	if (vm->state != VM_RUNNING) {
		gic_eoi(intid);
		return true;
	}
	gic_priority_drop(intid);
	held[vm->id][intid / 64] |= BIT(intid % 64);
	spin_lock(&vm->lock);
	vgic_mmio_write(&vm->vgic, bank, 4, BIT(intid % 32));
	spin_unlock(&vm->lock);
	return true;
}

void pt_sync(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (v->idx != 0)
		return; /* the SPIs are acknowledged on vCPU 0's CPU only */
	for (u32 i = 0; i < pt.ndev; i++)
		for (u32 j = 0; pt.dev[i].vm == vm->id && j < pt.dev[i].nirqs; j++) {
			u32 intid = pt.dev[i].intid[j];
			u32 st;

			if (!(held[vm->id][intid / 64] & BIT(intid % 64)))
				continue;
			spin_lock(&vm->lock);
			st = vgic_irq_status(&vm->vgic, 0, intid);
			spin_unlock(&vm->lock);
			if (st & (VGIC_ST_PENDING | VGIC_ST_ACTIVE | VGIC_ST_IN_LR))
				continue;
			held[vm->id][intid / 64] &= ~BIT(intid % 64);
			gic_spi_deactivate(intid);
		}
}

bool pt_page_of_vm(const struct vm *vm, u64 pa)
{
	const struct pt_device *d = pt_owner_of(&pt, pa, 1);

	return d && d->vm == vm->id;
}

bool pt_owns_rtc(const struct vm *vm) { return pt_vm_owns_rtc(&pt, vm->id); }

bool pt_refuses_migration(const struct vm *vm)
{
	for (u32 i = 0; i < pt.ndev; i++)
		if (pt.dev[i].vm == vm->id) {
			con_printf("migrate: vm '%s' owns the machine's device '%s' (passthrough): "
				   "refused, it runs on",
				   vm->cfg->name, pt.dev[i].path);
			return true;
		}
	return false;
}

/* The machine's node, copied: every property but the machine's phandles. `clocks` names the
 * guest's fixed clock instead (the resolver took only fixed clocks); the interrupt specifiers stay
 * as they are, for the guest's GICv3 has the same INTIDs and the root's interrupt-parent. */
int pt_fdt_nodes(const struct vm *vm, void *fdt, u32 clock_phandle)
{
	for (u32 i = 0; i < pt.ndev; i++) {
		const struct pt_device *d = &pt.dev[i];
		const char *name = fdt_get_name(host_fdt, d->node, NULL);
		int off, err;

		if (d->vm != vm->id)
			continue;
		if (!name || (err = fdt_begin_node(fdt, name)) < 0)
			return name ? err : -FDT_ERR_BADSTRUCTURE;
		fdt_for_each_property_offset (off, host_fdt, d->node) {
			const char *pname;
			int len;
			const void *val = fdt_getprop_by_offset(host_fdt, off, &pname, &len);

			if (!val || !pname || !strcmp(pname, "phandle") ||
			    !strcmp(pname, "linux,phandle") || !strcmp(pname, "interrupt-parent"))
				continue;
			if (!strcmp(pname, "clocks")) {
				fdt32_t clk[4];

				for (int k = 0; k < len / 4 && k < 4; k++)
					clk[k] = cpu_to_fdt32(clock_phandle);
				err = fdt_property(fdt, pname, clk, len);
			} else {
				err = fdt_property(fdt, pname, val, len);
			}
			if (err < 0)
				return err;
		}
		if ((err = fdt_end_node(fdt)) < 0)
			return err;
	}
	return 0;
}
