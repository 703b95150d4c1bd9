/* SPDX-License-Identifier: Apache-2.0 */
/* What a test guest needs from its DTB, read once at boot with libfdt into struct guest_platform
 * (so the blob may be overwritten afterwards: memstress's working set may cover it). */
#include <libfdt.h>
#include <string.h>

#include "guest.h"

/* A `cells`-cell big-endian number (1 or 2 cells; DT addresses on arm64 need no more). */
static u64 plat_cells(const fdt32_t *p, int cells)
{
	u64 v = 0;

	for (int i = 0; i < cells; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

/* The first (address, size) of `node`'s reg, with its parent's #address-cells/#size-cells. */
static int plat_reg(const void *fdt, int node, u64 *addr, u64 *size)
{
	int parent = fdt_parent_offset(fdt, node), len;
	int ac = parent >= 0 ? fdt_address_cells(fdt, parent) : 2;
	int sc = parent >= 0 ? fdt_size_cells(fdt, parent) : 1;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg)
		return len;
	if (ac < 1 || ac > 2 || sc < 0 || sc > 2 || len < (ac + sc) * 4)
		return -FDT_ERR_BADNCELLS;
	*addr = plat_cells(reg, ac);
	if (size)
		*size = plat_cells(reg + ac, sc);
	return 0;
}

static bool plat_enabled(const void *fdt, int node)
{
	const char *status = fdt_getprop(fdt, node, "status", NULL);

	return !status || !strcmp(status, "okay") || !strcmp(status, "ok");
}

static void plat_read_psci(const void *fdt, struct guest_platform *out)
{
	static const char *const compatibles[] = { "arm,psci-1.0", "arm,psci-0.2", "arm,psci" };
	int node = fdt_path_offset(fdt, "/psci");
	const char *method;

	for (size_t i = 0; node < 0 && i < sizeof(compatibles) / sizeof(compatibles[0]); i++)
		node = fdt_node_offset_by_compatible(fdt, -1, compatibles[i]);
	if (node < 0)
		return;
	method = fdt_getprop(fdt, node, "method", NULL);
	if (!method)
		return;
	out->have_psci = true;
	out->psci_smc = !strcmp(method, "smc");
}

static void plat_read_cpus(const void *fdt, struct guest_platform *out)
{
	int cpus = fdt_path_offset(fdt, "/cpus"), node, ac, len;

	if (cpus < 0)
		return;
	ac = fdt_address_cells(fdt, cpus);
	if (ac < 1 || ac > 2)
		return;
	fdt_for_each_subnode (node, fdt, cpus) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

		if (!type || strcmp(type, "cpu") || !reg || len < ac * 4 ||
		    !plat_enabled(fdt, node))
			continue;
		if (out->ncpus == GUEST_MAX_CPUS)
			return;
		out->cpu_mpidr[out->ncpus++] = plat_cells(reg, ac);
	}
}

int plat_read_fdt(const void *fdt, struct guest_platform *out)
{
	int node, len, err;
	const char *s;

	memset(out, 0, sizeof(*out));
	err = fdt_check_header(fdt);
	if (err)
		return err;
	node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", sizeof("memory"));
	if (node < 0)
		return node;
	err = plat_reg(fdt, node, &out->ram_base, &out->ram_size);
	if (err)
		return err;

	node = fdt_path_offset(fdt, "/chosen");
	s = node >= 0 ? fdt_getprop(fdt, node, "bootargs", &len) : NULL;
	if (s) {
		if ((size_t)len > sizeof(out->bootargs))
			return -FDT_ERR_NOSPACE;
		memcpy(out->bootargs, s, (size_t)len);
		out->bootargs[sizeof(out->bootargs) - 1] = 0;
	}

	for (node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011"); node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "arm,pl011"))
		if (plat_enabled(fdt, node) && !plat_reg(fdt, node, &out->uart_base, NULL))
			break;

	plat_read_psci(fdt, out);
	plat_read_cpus(fdt, out);
	return 0;
}
