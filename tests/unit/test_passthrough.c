/* SPDX-License-Identifier: Apache-2.0 */
/* Device passthrough's resolution and ownership checks (hyp/config/passthrough.c) on a machine
 * device tree shaped like QEMU virt's, plus devices made to break each rule: every error line is
 * checked exactly, and a rejected table is left all zero. */
#include <libfdt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/passthrough.h"

static const char machine_dts[] =
	"/dts-v1/;\n"
	"/ {\n"
	"  #address-cells = <2>; #size-cells = <2>; interrupt-parent = <&gic>;\n"
	"  memory@40000000 { device_type = \"memory\"; reg = <0 0x40000000 0 0x40000000>; };\n"
	"  gic: intc@8000000 { compatible = \"arm,gic-v3\"; #interrupt-cells = <3>;\n"
	"    interrupt-controller; reg = <0 0x8000000 0 0x10000 0 0x80a0000 0 0xf60000>; };\n"
	"  clk: apb-pclk { compatible = \"fixed-clock\"; #clock-cells = <0>; };\n"
	"  pl011@9000000 { reg = <0 0x9000000 0 0x1000>; interrupts = <0 1 4>; };\n"
	"  pl031@9010000 { compatible = \"arm,pl031\", \"arm,primecell\";\n"
	"    reg = <0 0x9010000 0 0x1000>; interrupts = <0 2 4>; clocks = <&clk>; };\n"
	"  notrtc@9010000 { reg = <0 0x9010000 0 0x1000>; };\n"
	"  pl031@a620000 { compatible = \"arm,pl031\"; reg = <0 0xa620000 0 0x1000>;\n"
	"    interrupts = <0 2 4>; };\n"
	"  pl061@9030000 { compatible = \"arm,pl061\"; reg = <0 0x9030000 0 0x1000>;\n"
	"    interrupts = <0 7 4>; clocks = <&clk>; clock-names = \"apb_pclk\"; };\n"
	"  virtio_mmio@a001000 { reg = <0 0xa001000 0 0x200>; interrupts = <0 24 1>;\n"
	"    dma-coherent; };\n"
	"  virtio_mmio@a002000 { reg = <0 0xa002000 0 0x200>; interrupts = <0 32 1>; };\n"
	"  virtio_mmio@a002200 { reg = <0 0xa002200 0 0x200>; interrupts = <0 33 1>; };\n"
	"  two@a010000 { reg = <0 0xa010000 0 0x1000 0 0xa011000 0 0x800>;\n"
	"    interrupts = <0 40 4 0 41 1>; };\n"
	"  ppi@a100000 { reg = <0 0xa100000 0 0x1000>; interrupts = <1 7 4>; };\n"
	"  huge@10000000 { reg = <0 0x10000000 0 0x10000000>; };\n"
	"  wrap@fffffffffffff000 { reg = <0xffffffff 0xfffff000 0 0x2000>; };\n"
	"  inram@7f000000 { reg = <0 0x7f000000 0 0x1000>; };\n"
	"  bigspi@a200000 { reg = <0 0xa200000 0 0x1000>; interrupts = <0 300 4>; };\n"
	"  falling@a300000 { reg = <0 0xa300000 0 0x1000>; interrupts = <0 41 2>; };\n"
	"  bus { #address-cells = <1>; #size-cells = <1>; child@0 { reg = <0 0x1000>; }; };\n"
	"  off@a400000 { status = \"disabled\"; reg = <0 0xa400000 0 0x1000>; };\n"
	"  badclock@a500000 { reg = <0 0xa500000 0 0x1000>; clocks = <&gic>; };\n"
	"  db@b000000 { reg = <0 0xb000000 0 0x1000>; };\n"
	"  rtcirq@a600000 { reg = <0 0xa600000 0 0x1000>; interrupts = <0 2 4>; };\n"
	"  irqtwin@a610000 { reg = <0 0xa610000 0 0x1000>; interrupts = <0 7 4>; };\n"
	"  noreg@a700000 { interrupts = <0 50 4>; };\n"
	"  ext@a800000 { reg = <0 0xa800000 0 0x1000>; interrupts-extended = <&gic 0 51 4>; };\n"
	"  uartirq@a900000 { reg = <0 0xa900000 0 0x1000>; interrupts = <0 1 4>; };\n"
	"  high@50000000 { reg = <0 0x40001000 0 0x1000>; };\n"
	"};\n";

static void *host_fdt;

static void *dtc(const char *dts)
{
	char path[] = "/tmp/ferry-test-pt-XXXXXX", cmd[256];
	int fd = mkstemp(path);
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	FILE *f;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, dts, strlen(dts)), (ssize_t)strlen(dts));
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o - '%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0)
		len += n;
	assert_int_equal(pclose(f), 0);
	unlink(path);
	return buf;
}

/* ferry's own devices on the system tests' machine (hyp/core/main.c fills the same). */
static const struct pt_limits lim = {
	.ram_base = 0x40000000,
	.ram_size = 0x40000000,
	.nown = 3,
	.own = {
		{ "ferry's console (PL011)", 0x9000000, 0x1000, 33 },
		{ "the GICv3 distributor", 0x8000000, 0x10000, 0 },
		{ "the GICv3 redistributors", 0x80a0000, 0xf60000, 0 },
	},
	.spi_end = 288,
};

static struct ferry_config cfg;

/* Two VMs; alpha has the `uart`, beta has not. Each gets the paths given (NULL-terminated). */
static void set_vms(const char *const *alpha, const char *const *beta)
{
	const char *const *lists[2] = { alpha, beta };

	memset(&cfg, 0, sizeof(cfg));
	cfg.nvms = 2;
	for (u32 v = 0; v < 2; v++) {
		snprintf(cfg.vm[v].name, sizeof(cfg.vm[v].name), "%s", v ? "beta" : "alpha");
		cfg.vm[v].ram_base = v ? 0x48000000 : 0x44000000; /* IPA = PA: DMA allowed */
		cfg.vm[v].ram_size = 0x4000000;
		cfg.vm[v].devices = v ? 0 : CONFIG_DEV_UART;
		cfg.vm[v].ram_pa = v ? 0x48000000 : 0x44000000;
		for (u32 i = 0; lists[v] && lists[v][i]; i++)
			snprintf(cfg.vm[v].passthrough[cfg.vm[v].npassthrough++],
				 CONFIG_PT_PATH_MAX, "%s", lists[v][i]);
	}
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

static struct pt_table table;

static bool all_zero(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i])
			return false;
	return true;
}

static void expect_err(const char *const *alpha, const char *const *beta, const char *want)
{
	char err[192];

	set_vms(alpha, beta);
	memset(&table, 0xa5, sizeof(table));
	assert_int_equal(pt_resolve(host_fdt, &cfg, &lim, &table, err, sizeof(err)), FERRY_EINVAL);
	if (strcmp(err, want))
		fprintf(stderr, "want: %s\ngot:  %s\n", want, err);
	assert_string_equal(err, want);
	assert_true(all_zero(&table, sizeof(table)));
}

static void test_virt_devices_resolve(void **state)
{
	char err[192] = "x";
	const struct pt_device *d;

	(void)state;
	set_vms(L("/virtio_mmio@a002000", "/pl061@9030000"),
		L("/virtio_mmio@a001000", "/two@a010000"));
	assert_int_equal(pt_resolve(host_fdt, &cfg, &lim, &table, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(table.ndev, 4);
	d = &table.dev[0];
	assert_int_equal(d->vm, 0);
	assert_string_equal(d->path, "/virtio_mmio@a002000");
	assert_int_equal(d->nregs, 1);
	assert_int_equal(d->base[0], 0xa002000);
	assert_int_equal(d->size[0], 0x1000); /* 0x200 rounded up to the page */
	assert_int_equal(d->nirqs, 1);
	assert_int_equal(d->intid[0], 64);
	assert_true(d->edge[0]);
	assert_false(d->clocks);
	d = &table.dev[1];
	assert_int_equal(d->intid[0], 39);
	assert_false(d->edge[0]);
	assert_true(d->clocks);
	d = &table.dev[3];
	assert_int_equal(d->vm, 1);
	assert_int_equal(d->nregs, 2);
	assert_int_equal(d->size[1], 0x1000);
	assert_int_equal(d->nirqs, 2);
	assert_int_equal(d->intid[1], 73);
	assert_true(d->edge[1]);

	assert_ptr_equal(pt_owner_of(&table, 0xa002000, 4), &table.dev[0]);
	assert_ptr_equal(pt_owner_of(&table, 0xa002e00, 0x200), &table.dev[0]); /* same page */
	assert_ptr_equal(pt_owner_of(&table, 0xa011fff, 1), &table.dev[3]);
	assert_null(pt_owner_of(&table, 0xa003000, 0x200));
	assert_null(pt_owner_of(&table, 0xa001fff + 1 + 0x1000, 1));
	assert_true(pt_vm_owns_intid(&table, 0, 64));
	assert_false(pt_vm_owns_intid(&table, 1, 64));
	assert_true(pt_vm_owns_intid(&table, 1, 56));
	assert_false(pt_vm_owns_intid(&table, 0, 57));
}

/* A device shared by nobody is fine for a VM with no `uart` even at INTID 33's neighbours; the
 * PL011's INTID is refused in a VM that emulates one and taken by ferry's console anyway. */
static void test_errors(void **state)
{
	(void)state;
	expect_err(L("/nope@1"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/nope@1': no such node in the "
		   "machine's device tree");
	expect_err(
		L("/bus/child@0"), NULL,
		"config: vm 'alpha': property 'passthrough': '/bus/child@0': not a node directly "
		"under the root (ferry does not translate bus addresses)");
	expect_err(L("/off@a400000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/off@a400000': its status is not "
		   "\"okay\"");
	expect_err(
		L("/pl011@9000000"), NULL,
		"config: vm 'alpha': property 'passthrough': '/pl011@9000000': 0x9000000-0x9000fff "
		"holds ferry's console (PL011)");
	expect_err(
		L("/intc@8000000"), NULL,
		"config: vm 'alpha': property 'passthrough': '/intc@8000000': 0x8000000-0x800ffff "
		"holds the GICv3 distributor");
}

static void test_errors_more(void **state)
{
	(void)state;
	expect_err(
		L("/virtio_mmio@a002200"), NULL,
		"config: vm 'alpha': property 'passthrough': '/virtio_mmio@a002200': 0xa002200 is "
		"not 4 KiB aligned (stage 2 maps whole pages, and a page shared with another "
		"device would go with it)");
	expect_err(
		L("/ppi@a100000"), NULL,
		"config: vm 'alpha': property 'passthrough': '/ppi@a100000': interrupt 0 is not an "
		"SPI (type 1): only SPIs can be given to one VM");
	expect_err(
		L("/huge@10000000"), NULL,
		"config: vm 'alpha': property 'passthrough': '/huge@10000000': window 0x10000000 "
		"of 0x10000000 bytes: not 1 byte to 64 MiB");
	expect_err(L("/wrap@fffffffffffff000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/wrap@fffffffffffff000': window "
		   "0xfffffffffffff000 + 0x2000 wraps around");
	expect_err(L("/inram@7f000000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/inram@7f000000': "
		   "0x7f000000-0x7f000fff overlaps the machine's RAM");
	expect_err(L("/high@50000000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/high@50000000': "
		   "0x40001000-0x40001fff overlaps the machine's RAM");
	expect_err(
		L("/bigspi@a200000"), NULL,
		"config: vm 'alpha': property 'passthrough': '/bigspi@a200000': SPI 300 is beyond "
		"the vGIC's INTIDs 32-287");
	expect_err(L("/falling@a300000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/falling@a300000': SPI 41 has "
		   "trigger flags 2 (a GICv3 SPI is rising edge, 1, or level high, 4)");
	expect_err(
		L("/badclock@a500000"), NULL,
		"config: vm 'alpha': property 'passthrough': '/badclock@a500000': clock 0 is not a "
		"fixed clock");
	expect_err(L("/db@b000000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/db@b000000': 0xb000000-0xb000fff "
		   "overlaps the doorbells at 0xb000000-0xb003fff");
	expect_err(L("/rtcirq@a600000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/rtcirq@a600000': INTID 34 is an "
		   "emulated device's in this VM");
	expect_err(NULL, L("/uartirq@a900000"),
		   "config: vm 'beta': property 'passthrough': '/uartirq@a900000': INTID 33 "
		   "belongs to ferry's console (PL011)");
	expect_err(L("/uartirq@a900000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/uartirq@a900000': INTID 33 "
		   "belongs to ferry's console (PL011)");
	expect_err(L("/noreg@a700000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/noreg@a700000': has no 'reg': "
		   "nothing to map");
	expect_err(
		L("/ext@a800000"), NULL,
		"config: vm 'alpha': property 'passthrough': '/ext@a800000': 'interrupts-extended' "
		"is not supported (use 'interrupts')");
}

/* The machine's PL031, at the emulated one's page, replaces it in its owner: neither its window
 * nor its INTID 34 is the emulated device's any more. Anything else there is still refused, and a
 * PL031 elsewhere leaves the emulated one (and its INTID) in place. */
static void expect_ok(const char *const *alpha, const char *const *beta)
{
	char err[192] = "x";

	set_vms(alpha, beta);
	assert_int_equal(pt_resolve(host_fdt, &cfg, &lim, &table, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_rtc_replaces_emulated(void **state)
{
	(void)state;
	expect_ok(L("/pl061@9030000", "/pl031@9010000"), NULL);
	assert_int_equal(table.ndev, 2);
	assert_int_equal(table.dev[1].base[0], 0x9010000);
	assert_int_equal(table.dev[1].intid[0], 34);
	assert_true(table.dev[1].clocks);
	assert_true(pt_vm_owns_rtc(&table, 0));
	assert_false(pt_vm_owns_rtc(&table, 1));
	assert_true(pt_vm_owns_intid(&table, 0, 34));

	expect_ok(L("/pl061@9030000"), L("/pl031@9010000")); /* beta has no `uart`: the same */
	assert_false(pt_vm_owns_rtc(&table, 0));
	assert_true(pt_vm_owns_rtc(&table, 1));

	expect_ok(L("/pl061@9030000"), NULL);
	assert_false(pt_vm_owns_rtc(&table, 0));

	expect_err(L("/notrtc@9010000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/notrtc@9010000': "
		   "0x9010000-0x9010fff overlaps the VM's emulated PL031 at 0x9010000-0x9010fff");
	expect_err(L("/pl031@a620000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/pl031@a620000': INTID 34 is an "
		   "emulated device's in this VM");
	/* The emulated device is gone whatever the order of the VM's paths: INTID 34 is then the
	 * PL031's, and a second device with it is refused as any shared INTID is. */
	expect_err(L("/rtcirq@a600000", "/pl031@9010000"), NULL,
		   "config: vm 'alpha': property 'passthrough': '/pl031@9010000': INTID 34 is "
		   "already owned by vm 'alpha' ('/rtcirq@a600000')");
	expect_err(L("/pl031@9010000"), L("/pl031@9010000"),
		   "config: vm 'beta': property 'passthrough': '/pl031@9010000': "
		   "0x9010000-0x9010fff is already owned by vm 'alpha' ('/pl031@9010000')");
}

/* A DMA-capable device needs the VM's RAM at IPA = PA (there is no SMMU to translate). */
static void test_dma_needs_identity_ram(void **state)
{
	(void)state;
	set_vms(NULL, L("/virtio_mmio@a001000"));
	cfg.vm[1].ram_pa = 0;
	{
		char err[192];

		assert_int_equal(pt_resolve(host_fdt, &cfg, &lim, &table, err, sizeof(err)),
				 FERRY_EINVAL);
		assert_string_equal(
			err, "config: vm 'beta': property 'passthrough': "
			     "'/virtio_mmio@a001000': does DMA ('dma-coherent'), and "
			     "without an SMMU it sees physical addresses: give the VM ram-pa "
			     "= ram-base");
	}
}

/* One owner: the same device, or the same page, or the same INTID, in two VMs. */
static void test_one_owner(void **state)
{
	(void)state;
	expect_err(
		L("/pl061@9030000"), L("/pl061@9030000"),
		"config: vm 'beta': property 'passthrough': '/pl061@9030000': 0x9030000-0x9030fff "
		"is already owned by vm 'alpha' ('/pl061@9030000')");
	expect_err(L("/pl061@9030000"), L("/virtio_mmio@a002000", "/irqtwin@a610000"),
		   "config: vm 'beta': property 'passthrough': '/irqtwin@a610000': INTID 39 is "
		   "already owned by vm 'alpha' ('/pl061@9030000')");
}

/* A VM's region at the device's address collides in that VM only. */
static void test_region_overlap(void **state)
{
	char err[192];

	(void)state;
	set_vms(L("/pl061@9030000"), NULL);
	cfg.nregions = 1;
	snprintf(cfg.region[0].name, sizeof(cfg.region[0].name), "r");
	cfg.region[0].size = 0x10000;
	cfg.region[0].nmaps = 2;
	cfg.region[0].map[0] = (struct region_map){ .vm = 1, .ipa = 0x9030000 };
	cfg.region[0].map[1] = (struct region_map){ .vm = 0, .ipa = 0x50000000 };
	if (pt_resolve(host_fdt, &cfg, &lim, &table, err, sizeof(err)))
		fprintf(stderr, "%s\n", err);
	assert_int_equal(table.ndev, 1);
	cfg.region[0].map[1].ipa = 0x9028000;
	assert_int_equal(pt_resolve(host_fdt, &cfg, &lim, &table, err, sizeof(err)), FERRY_EINVAL);
	assert_string_equal(err, "config: vm 'alpha': property 'passthrough': '/pl061@9030000': "
				 "0x9030000-0x9030fff overlaps region 'r' in this VM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virt_devices_resolve),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_more),
		cmocka_unit_test(test_rtc_replaces_emulated),
		cmocka_unit_test(test_one_owner),
		cmocka_unit_test(test_dma_needs_identity_ram),
		cmocka_unit_test(test_region_overlap),
	};

	host_fdt = dtc(machine_dts);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
