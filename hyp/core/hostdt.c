/* SPDX-License-Identifier: Apache-2.0 */
/* What the machine has, from the DTB QEMU (or the boot loader) passed in x0. */
#include <libfdt.h>
#include <string.h>

#include "arch/aarch64/asm.h"
#include "core/machine.h"

struct machine machine;

static u64 read_cells(const fdt32_t *p, int cells)
{
	u64 v = 0;

	for (int i = 0; i < cells; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

/* reg entry `index` of a node, with the root's cell sizes (QEMU virt: 2 and 2 everywhere). */
static int node_reg(const void *fdt, int node, int index, u64 *addr, u64 *size)
{
	int ac = fdt_address_cells(fdt, fdt_parent_offset(fdt, node));
	int sc = fdt_size_cells(fdt, fdt_parent_offset(fdt, node));
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (ac < 1 || sc < 0 || !reg || len < (index + 1) * (ac + sc) * 4)
		return FERRY_ENOENT;
	reg += index * (ac + sc);
	*addr = read_cells(reg, ac);
	*size = sc ? read_cells(reg + ac, sc) : 0;
	return 0;
}

/* The node's first interrupt as a GIC INTID. GIC binding: <type number flags>, type 0 = SPI
 * (INTID 32 + n), 1 = PPI (16 + n). 0 when it has none. */
static u32 node_intid(const void *fdt, int node)
{
	int len;
	const fdt32_t *irq = fdt_getprop(fdt, node, "interrupts", &len);

	if (!irq || len < 12)
		return 0;
	return fdt32_to_cpu(irq[1]) + (fdt32_to_cpu(irq[0]) ? 16 : 32);
}

static int first_compatible(const void *fdt, const char *compat)
{
	return fdt_node_offset_by_compatible(fdt, -1, compat);
}

int hostdt_parse(const void *fdt, struct machine *m)
{
	int node, cpus, len;
	u64 size;
	const char *method;

	memset(m, 0, sizeof(*m));
	if (fdt_check_header(fdt))
		return FERRY_EINVAL;

	node = fdt_path_offset(fdt, "/memory");
	if (node < 0)
		node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
	if (node < 0 || node_reg(fdt, node, 0, &m->ram_base, &m->ram_size))
		return FERRY_ENOENT;

	cpus = fdt_path_offset(fdt, "/cpus");
	if (cpus < 0)
		return FERRY_ENOENT;
	fdt_for_each_subnode (node, fdt, cpus) {
		const char *type = fdt_getprop(fdt, node, "device_type", &len);
		const fdt32_t *reg;

		if (!type || strcmp(type, "cpu"))
			continue;
		if (m->ncpus == MAX_CPUS)
			break; /* ferry uses the first MAX_CPUS; the rest stay off */
		reg = fdt_getprop(fdt, node, "reg", &len);
		if (!reg || len < 4)
			return FERRY_EINVAL;
		m->mpidr[m->ncpus++] = read_cells(reg, len >= 8 ? 2 : 1);
	}
	if (!m->ncpus)
		return FERRY_ENOENT;

	node = first_compatible(fdt, "arm,pl011");
	if (node < 0 || node_reg(fdt, node, 0, &m->uart_pa, &size))
		return FERRY_ENOENT;
	m->uart_intid = node_intid(fdt, node);

	/* The host's RTC, if any: where guests' PL031s take the wall-clock time from. */
	node = first_compatible(fdt, "arm,pl031");
	if (node < 0 || node_reg(fdt, node, 0, &m->rtc_pa, &size))
		m->rtc_pa = 0;

	node = first_compatible(fdt, "arm,gic-v3");
	if (node < 0 || node_reg(fdt, node, 0, &m->gicd_pa, &size) ||
	    node_reg(fdt, node, 1, &m->gicr_pa, &size))
		return FERRY_ENOENT;
	m->gicr_stride = 0x20000; /* GICv3 without VLPIs: RD_base + SGI_base, 64 KiB each */

	fdt_for_each_subnode (node, fdt, 0) {
		const char *c = fdt_getprop(fdt, node, "compatible", &len);
		u64 a;

		if (c && !strcmp(c, "virtio,mmio") && m->nvirtio < ARRAY_SIZE(m->virtio_pa) &&
		    !node_reg(fdt, node, 0, &a, &size)) {
			m->virtio_intid[m->nvirtio] = node_intid(fdt, node);
			m->virtio_pa[m->nvirtio++] = a;
		}
	}

	node = first_compatible(fdt, "arm,psci-1.0");
	if (node < 0)
		node = first_compatible(fdt, "arm,psci-0.2");
	method = node >= 0 ? fdt_getprop(fdt, node, "method", &len) : NULL;
	if (!method)
		return FERRY_ENOENT;
	/* At EL2 an HVC would trap to ferry itself: firmware must be reached by SMC. */
	m->psci_smc = !strcmp(method, "smc");
	return 0;
}
