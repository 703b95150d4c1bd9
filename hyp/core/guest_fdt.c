/* SPDX-License-Identifier: Apache-2.0 */
/* Each guest's device tree, written with libfdt's sequential-write API into the top of its RAM:
 * memory, cpus (PSCI enable method, reg = the vCPU's affinity), psci, the GICv3 (no ITS: the vGIC
 * has no LPIs), the arch timer, the PL031 and the 32 (empty) virtio-mmio slots of QEMU virt, the
 * PL011 with the apb_pclk fixed clock Linux insists on, chosen (bootargs, initrd), the shared-memory
 * regions and doorbells. Nodes only for what the VM really has. */
#include "core/guest_fdt.h"

#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/machine.h"
#include "core/passthrough.h"
#include "core/shm.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "vdev/board.h"
#include "vdev/vdev.h"
#include "vdev/vvnet.h"
#include "vdev/vvnet_el2.h"
#include "vgic/its.h"
#include "vgic/vgic.h"

#define PHANDLE_APB_PCLK 1
#define PHANDLE_GIC 2
#define PHANDLE_ITS 3
#define PHANDLE_DOORBELL0 16 /* + the region's index */

/* Interrupt specifiers of the arm,gic-v3 binding: <type number flags>, type 0 SPI, 1 PPI. */
#define FDT_IRQ_SPI 0
#define FDT_IRQ_PPI 1
#define FDT_IRQ_EDGE_RISING 1
#define FDT_IRQ_LEVEL_HIGH 4

#define TRY(x)                      \
	do {                        \
		int __e = (x);      \
		if (__e < 0)        \
			return __e; \
	} while (0)

static int prop_irqs(void *fdt, const char *name, const u32 *spec, u32 n)
{
	fdt32_t v[12];

	for (u32 i = 0; i < n && i < ARRAY_SIZE(v); i++)
		v[i] = cpu_to_fdt32(spec[i]);
	return fdt_property(fdt, name, v, (int)(sizeof(fdt32_t) * n));
}

static int prop_u64_pair(void *fdt, const char *name, u64 a, u64 b)
{
	fdt32_t v[4] = { cpu_to_fdt32((u32)(a >> 32)), cpu_to_fdt32((u32)a),
			 cpu_to_fdt32((u32)(b >> 32)), cpu_to_fdt32((u32)b) };

	return fdt_property(fdt, name, v, sizeof(v));
}

/* libfdt's fdt_property_string() macro passes strlen()+1 as an int, which -Wconversion rejects. */
static int prop_str(void *fdt, const char *name, const char *s)
{
	return fdt_property(fdt, name, s, (int)strlen(s) + 1);
}

/* A shared region the VM maps, and its doorbell (docs/shared-memory.md). The region's node says
 * where and how big it is, whether the VM may write it, and which doorbell is its own; the doorbell's
 * says the VM's member index, how many members there are, and its interrupt. */
static int shm_nodes(void *fdt, const struct vm *vm, u32 index)
{
	struct shm_vm_view r;
	char name[48];

	if (!shm_view(vm, index, &r))
		return 0;
	snprintf(name, sizeof(name), "shared-memory@%llx", (unsigned long long)r.ipa);
	TRY(fdt_begin_node(fdt, name));
	TRY(prop_str(fdt, "compatible", "ferry,shared-memory"));
	TRY(prop_u64_pair(fdt, "reg", r.ipa, r.size));
	TRY(prop_str(fdt, "label", r.name));
	if (r.read_only)
		TRY(fdt_property(fdt, "read-only", NULL, 0));
	TRY(fdt_property_u32(fdt, "ferry,doorbell", PHANDLE_DOORBELL0 + index));
	TRY(fdt_end_node(fdt));

	snprintf(name, sizeof(name), "doorbell@%llx", (unsigned long long)r.doorbell_ipa);
	TRY(fdt_begin_node(fdt, name));
	TRY(prop_str(fdt, "compatible", "ferry,doorbell"));
	TRY(prop_u64_pair(fdt, "reg", r.doorbell_ipa, CONFIG_DOORBELL_SIZE));
	TRY(prop_str(fdt, "label", r.name));
	TRY(fdt_property_u32(fdt, "ferry,member", r.member));
	TRY(fdt_property_u32(fdt, "ferry,members", r.members));
	{
		const u32 irq[3] = { FDT_IRQ_SPI, r.intid - 32, FDT_IRQ_LEVEL_HIGH };

		TRY(prop_irqs(fdt, "interrupts", irq, 3));
	}
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_DOORBELL0 + index));
	return fdt_end_node(fdt);
}

int guest_fdt_write(const struct vm *vm, void *buf, size_t size)
{
	const struct vm_config *c = vm->cfg;
	char name[48];
	static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
	static const char uart_compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";
	static const char rtc_compat[] = "arm,pl031\0arm,primecell";

	TRY(fdt_create(buf, (int)size));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(prop_str(buf, "compatible", "ferry,vm"));
	snprintf(name, sizeof(name), "ferry VM %s", c->name);
	TRY(prop_str(buf, "model", name));
	TRY(fdt_property_u32(buf, "interrupt-parent", PHANDLE_GIC));

	TRY(fdt_begin_node(buf, "chosen"));
	TRY(prop_str(buf, "bootargs", c->bootargs));
	if (c->devices & CONFIG_DEV_UART)
		TRY(prop_str(buf, "stdout-path", "/pl011@9000000"));
	if (vm->initrd_ipa) {
		TRY(fdt_property_u64(buf, "linux,initrd-start", vm->initrd_ipa));
		TRY(fdt_property_u64(buf, "linux,initrd-end", vm->initrd_ipa + c->initrd_size));
	}
	TRY(fdt_end_node(buf));

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)c->ram_base);
	TRY(fdt_begin_node(buf, name));
	TRY(prop_str(buf, "device_type", "memory"));
	TRY(prop_u64_pair(buf, "reg", c->ram_base, c->ram_size));
	TRY(fdt_end_node(buf));

	TRY(fdt_begin_node(buf, "cpus"));
	TRY(fdt_property_u32(buf, "#address-cells", 1));
	TRY(fdt_property_u32(buf, "#size-cells", 0));
	for (u32 i = 0; i < vm->nvcpus; i++) {
		snprintf(name, sizeof(name), "cpu@%u", (unsigned)i);
		TRY(fdt_begin_node(buf, name));
		TRY(prop_str(buf, "device_type", "cpu"));
		TRY(prop_str(buf, "compatible", "arm,armv8"));
		TRY(fdt_property_u32(buf, "reg", (u32)(vpsci_mpidr(i) & 0xffffff)));
		TRY(prop_str(buf, "enable-method", "psci"));
		TRY(fdt_end_node(buf));
	}
	TRY(fdt_end_node(buf));

	TRY(fdt_begin_node(buf, "psci"));
	TRY(fdt_property(buf, "compatible", psci_compat, sizeof(psci_compat)));
	/* Guest HVCs trap to ferry (HCR_EL2.HCD=0), as SMCs do with TSC=1; HVC is what KVM offers. */
	TRY(prop_str(buf, "method", "hvc"));
	TRY(fdt_end_node(buf));

	/* The vGICv3 at QEMU virt's addresses, one redistributor frame per vCPU. The maintenance
	 * interrupt is named as the binding wants; a guest at EL1 never sees it. */
	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)VGIC_GICD_BASE_VIRT);
	TRY(fdt_begin_node(buf, name));
	TRY(prop_str(buf, "compatible", "arm,gic-v3"));
	TRY(fdt_property_u32(buf, "#interrupt-cells", 3));
	TRY(fdt_property(buf, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(buf, "#redistributor-regions", 1));
	{
		fdt32_t reg[8];
		const u64 r[4] = { VGIC_GICD_BASE_VIRT, VGIC_GICD_SIZE, VGIC_GICR_BASE_VIRT,
				   VGIC_GICR_STRIDE * vm->nvcpus };

		for (int i = 0; i < 4; i++) {
			reg[2 * i] = cpu_to_fdt32((u32)(r[i] >> 32));
			reg[2 * i + 1] = cpu_to_fdt32((u32)r[i]);
		}
		TRY(fdt_property(buf, "reg", reg, sizeof(reg)));
	}
	{
		const u32 maint[3] = { FDT_IRQ_PPI, VGIC_PPI_MAINTENANCE - 16, FDT_IRQ_LEVEL_HIGH };

		TRY(prop_irqs(buf, "interrupts", maint, 3));
	}
	TRY(fdt_property_u32(buf, "phandle", PHANDLE_GIC));
	/* The ITS (docs/vgic.md "LPIs and the ITS") as a child of the GIC, as on QEMU virt: the GIC
	 * node then needs cells and an identity ranges for the child's reg. */
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(fdt_property(buf, "ranges", NULL, 0));
	snprintf(name, sizeof(name), "its@%llx", (unsigned long long)ITS_BASE_VIRT);
	TRY(fdt_begin_node(buf, name));
	TRY(prop_str(buf, "compatible", "arm,gic-v3-its"));
	TRY(fdt_property(buf, "msi-controller", NULL, 0));
	TRY(fdt_property_u32(buf, "#msi-cells", 1));
	{
		const fdt32_t reg[4] = { cpu_to_fdt32(0), cpu_to_fdt32((u32)ITS_BASE_VIRT),
					 cpu_to_fdt32(0), cpu_to_fdt32((u32)ITS_FRAME_SIZE) };

		TRY(fdt_property(buf, "reg", reg, sizeof(reg)));
	}
	TRY(fdt_property_u32(buf, "phandle", PHANDLE_ITS));
	TRY(fdt_end_node(buf));
	TRY(fdt_end_node(buf));

	/* The arch timer: secure physical, non-secure physical, virtual, hypervisor PPIs, in the
	 * binding's order (QEMU virt's numbers). A guest at EL1 uses the virtual one. */
	TRY(fdt_begin_node(buf, "timer"));
	TRY(prop_str(buf, "compatible", "arm,armv8-timer"));
	{
		const u32 ppis[4] = { 29, VGIC_PPI_PTIMER, VGIC_PPI_VTIMER, VGIC_PPI_HYP_TIMER };
		u32 spec[12];

		for (int i = 0; i < 4; i++) {
			spec[3 * i] = FDT_IRQ_PPI;
			spec[3 * i + 1] = ppis[i] - 16;
			spec[3 * i + 2] = FDT_IRQ_LEVEL_HIGH;
		}
		TRY(prop_irqs(buf, "interrupts", spec, 12));
	}
	TRY(fdt_property(buf, "always-on", NULL, 0));
	TRY(fdt_end_node(buf));

	/* The PMU (PMUv3), its overflow interrupt a level-sensitive PPI 23, as on QEMU virt. */
	if (machine.pmu) {
		const u32 irq[3] = { FDT_IRQ_PPI, GIC_PPI_PMU - 16, FDT_IRQ_LEVEL_HIGH };

		TRY(fdt_begin_node(buf, "pmu"));
		TRY(prop_str(buf, "compatible", "arm,armv8-pmuv3"));
		TRY(prop_irqs(buf, "interrupts", irq, 3));
		TRY(fdt_end_node(buf));
	}

	/* The APB clock every PrimeCell names (the PL031 always, the PL011 when present). */
	TRY(fdt_begin_node(buf, "apb-pclk"));
	TRY(prop_str(buf, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(buf, "#clock-cells", 0));
	TRY(fdt_property_u32(buf, "clock-frequency", 24000000));
	TRY(prop_str(buf, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(buf, "phandle", PHANDLE_APB_PCLK));
	TRY(fdt_end_node(buf));

	/* The PL031 (core/board.c), as on QEMU virt; the owner of the machine's PL031 gets that
	 * node instead, copied with the other passthrough nodes (pt_fdt_nodes()). */
	if (!pt_owns_rtc(vm)) {
		const u32 irq[3] = { FDT_IRQ_SPI, VPL031_INTID - 32, FDT_IRQ_LEVEL_HIGH };

		TRY(fdt_begin_node(buf, "pl031@9010000"));
		TRY(fdt_property(buf, "compatible", rtc_compat, sizeof(rtc_compat)));
		TRY(prop_u64_pair(buf, "reg", VPL031_BASE, VPL031_SIZE));
		TRY(fdt_property_u32(buf, "clocks", PHANDLE_APB_PCLK));
		TRY(prop_str(buf, "clock-names", "apb_pclk"));
		TRY(prop_irqs(buf, "interrupts", irq, 3));
		TRY(fdt_end_node(buf));
	}

	/* QEMU virt's 32 virtio-mmio slots, each empty (device ID 0: drivers skip it). */
	for (u32 i = 0; i < VVIRTIO_SLOTS; i++) {
		u64 base = VVIRTIO_BASE + i * VVIRTIO_STRIDE;
		/* The link's device (vvnet_el2.c) drives a level: high until the driver acks. */
		const u32 irq[3] = { FDT_IRQ_SPI, VVIRTIO_FIRST_INTID - 32 + i,
				     i == VVNET_SLOT && vvnet_of_vm(vm) ? FDT_IRQ_LEVEL_HIGH
									: FDT_IRQ_EDGE_RISING };

		if (pt_page_of_vm(vm, base))
			continue; /* the machine's slots there are the VM's own (passthrough) */
		snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)base);
		TRY(fdt_begin_node(buf, name));
		TRY(prop_str(buf, "compatible", "virtio,mmio"));
		TRY(prop_u64_pair(buf, "reg", base, VVIRTIO_STRIDE));
		TRY(prop_irqs(buf, "interrupts", irq, 3));
		TRY(fdt_property(buf, "dma-coherent", NULL, 0));
		TRY(fdt_end_node(buf));
	}

	if (c->devices & CONFIG_DEV_UART) {

		TRY(fdt_begin_node(buf, "pl011@9000000"));
		TRY(fdt_property(buf, "compatible", uart_compat, sizeof(uart_compat)));
		TRY(prop_u64_pair(buf, "reg", VPL011_BASE, VPL011_SIZE));
		{
			fdt32_t clk[2] = { cpu_to_fdt32(PHANDLE_APB_PCLK),
					   cpu_to_fdt32(PHANDLE_APB_PCLK) };
			TRY(fdt_property(buf, "clocks", clk, sizeof(clk)));
		}
		TRY(fdt_property(buf, "clock-names", clock_names, sizeof(clock_names)));
		{
			const u32 irq[3] = { FDT_IRQ_SPI, VPL011_INTID - 32, FDT_IRQ_LEVEL_HIGH };

			TRY(prop_irqs(buf, "interrupts", irq, 3));
		}
		TRY(fdt_end_node(buf));
	}

	for (u32 i = 0; i < CONFIG_MAX_REGIONS; i++)
		TRY(shm_nodes(buf, vm, i));
	TRY(pt_fdt_nodes(vm, buf, PHANDLE_APB_PCLK));

	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return 0;
}
