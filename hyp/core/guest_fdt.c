/* Each guest's device tree, written with libfdt's sequential-write API into the top of its RAM:
 * memory, cpus (PSCI enable method, reg = the vCPU's affinity), psci, the PL011 with the apb_pclk
 * fixed clock Linux insists on, chosen. Nodes only for what the VM really has. */
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define PHANDLE_APB_PCLK 1

#define TRY(x)                   \
	do {                     \
		int __e = (x);   \
		if (__e < 0)     \
			return __e; \
	} while (0)

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

/* Returns 0 or a libfdt error (negative). */
int guest_fdt_write(const struct vm *vm, void *buf, size_t size);
int guest_fdt_write(const struct vm *vm, void *buf, size_t size)
{
	const struct vm_config *c = vm->cfg;
	char name[48];
	static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
	static const char uart_compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";

	TRY(fdt_create(buf, (int)size));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(prop_str(buf, "compatible", "ferry,vm"));
	snprintf(name, sizeof(name), "ferry VM %s", c->name);
	TRY(prop_str(buf, "model", name));

	TRY(fdt_begin_node(buf, "chosen"));
	TRY(prop_str(buf, "bootargs", c->bootargs));
	if (c->devices & CONFIG_DEV_UART)
		TRY(prop_str(buf, "stdout-path", "/pl011@9000000"));
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

	if (c->devices & CONFIG_DEV_UART) {
		TRY(fdt_begin_node(buf, "apb-pclk"));
		TRY(prop_str(buf, "compatible", "fixed-clock"));
		TRY(fdt_property_u32(buf, "#clock-cells", 0));
		TRY(fdt_property_u32(buf, "clock-frequency", 24000000));
		TRY(prop_str(buf, "clock-output-names", "clk24mhz"));
		TRY(fdt_property_u32(buf, "phandle", PHANDLE_APB_PCLK));
		TRY(fdt_end_node(buf));

		TRY(fdt_begin_node(buf, "pl011@9000000"));
		TRY(fdt_property(buf, "compatible", uart_compat, sizeof(uart_compat)));
		TRY(prop_u64_pair(buf, "reg", VPL011_BASE, VPL011_SIZE));
		{
			fdt32_t clk[2] = { cpu_to_fdt32(PHANDLE_APB_PCLK),
					   cpu_to_fdt32(PHANDLE_APB_PCLK) };
			TRY(fdt_property(buf, "clocks", clk, sizeof(clk)));
		}
		TRY(fdt_property(buf, "clock-names", clock_names, sizeof(clock_names)));
		TRY(fdt_end_node(buf));
	}

	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return 0;
}
