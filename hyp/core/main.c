/* SPDX-License-Identifier: Apache-2.0 */
/* Boot: the boot CPU maps memory, reads the machine from the DTB, prints the banner, takes the VM
 * configuration, brings the other CPUs up with PSCI CPU_ON and starts the VMs; then it stays ferry's
 * management CPU (shell, VM restarts, the end of the run). */
#include <libfdt.h>
#include <string.h>

#include "arch/aarch64/asm.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/mmu.h"
#include "arch/aarch64/pmu.h"
#include "arch/aarch64/smc.h"
#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/board.h"
#include "core/console.h"
#include "core/images.h"
#include "core/lifecycle.h"
#include "core/machine.h"
#include "core/migkey.h"
#include "core/passthrough.h"
#include "core/pcpu.h"
#include "core/shell.h"
#include "core/shm.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "drivers/gicv3.h"
#include "drivers/pl011.h"
#include "migrate/migrate_el2.h"
#include "platform.h"
#include "vdev/traps.h"
#include "vdev/vdev.h"
#include "vdev/vvnet_el2.h"

u8 hyp_stacks[MAX_CPUS][HYP_STACK_SLOT] __attribute__((aligned(4096)));
/* Where an exception taken at EL2 is reported from (vectors.S): the stack it came from may be the
 * one that overflowed into its guard page. Shared: a second CPU's panic powers off at once. */
u8 hyp_emergency_stack[HYP_EMERGENCY_STACK_SIZE] __attribute__((aligned(16)));
static u8 host_fdt[64 << 10] __attribute__((aligned(8)));
static struct ferry_config config;

extern u8 __image_start[], __text_end[], __image_end[];
extern const u8 image_memstress_start[], image_memstress_end[];
extern const u8 image_pingpong_start[], image_pingpong_end[];
extern const u8 image_conformance_start[], image_conformance_end[];
extern const u8 image_hostile_start[], image_hostile_end[];
extern const u8 image_latency_start[], image_latency_end[];
void secondary_entry(void);
void hyp_main_primary(u64 dtb_pa);
void hyp_main_secondary(u64 idx);

#define EL2_TICK_INTID 26 /* CNTHP, the EL2 physical timer's PPI */

static const struct builtin_image builtin_images[] = {
	{ "memstress", image_memstress_start, image_memstress_end },
	{ "pingpong", image_pingpong_start, image_pingpong_end },
	{ "conformance", image_conformance_start, image_conformance_end },
	{ "hostile", image_hostile_start,
	  image_hostile_end }, /* guest/hostile: docs/isolation.md */
	{ "latency", image_latency_start,
	  image_latency_end }, /* guest/latency: docs/interference.md */
};

const struct builtin_image *builtin_image_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtin_images); i++)
		if (!strcmp(builtin_images[i].name, name))
			return &builtin_images[i];
	return NULL;
}

static bool image_exists(const char *name) { return builtin_image_find(name) != NULL; }

static void read_features(struct machine *m)
{
	static const u8 pa_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	u64 vtr;

	m->isar0 = sysreg_read(id_aa64isar0_el1);
	m->mmfr0 = sysreg_read(id_aa64mmfr0_el1);
	m->mmfr1 = sysreg_read(id_aa64mmfr1_el1);
	m->mmfr2 = sysreg_read(id_aa64mmfr2_el1);
	m->tlbi_range = FIELD_GET(m->isar0, 59, 56) >= 2;
	m->hafdbs = FIELD_GET(m->mmfr1, 3, 0) >= 2;
	m->ttl = FIELD_GET(m->mmfr2, 51, 48) >= 1;
	m->pmu = trap_guest_pmu(sysreg_read(id_aa64dfr0_el1));
	m->sve = trap_guest_sve(sysreg_read(id_aa64pfr0_el1));
	m->vmid_bits = FIELD_GET(m->mmfr1, 7, 4) == 2 ? 16 : 8;
	m->pa_range_field = (u32)FIELD_GET(m->mmfr0, 3, 0);
	m->pa_bits = m->pa_range_field < ARRAY_SIZE(pa_bits) ? pa_bits[m->pa_range_field] : 0;
	vtr = sysreg_read(ich_vtr_el2);
	m->ich_lrs = (u32)FIELD_GET(vtr, 4, 0) + 1;
}

static void banner(const struct machine *m)
{
	con_printf("ferry: EL2 hypervisor, %u CPUs, RAM %llu MiB at 0x%llx", m->ncpus,
		   (unsigned long long)(m->ram_size >> 20), (unsigned long long)m->ram_base);
	con_printf("ferry: features: TLBIRANGE=%s TTL=%s HAFDBS=%s VMID=%u-bit PA=%u-bit LRs=%u",
		   m->tlbi_range ? "yes" : "no", m->ttl ? "yes" : "no", m->hafdbs ? "yes" : "no",
		   m->vmid_bits, m->pa_bits, m->ich_lrs);
	con_printf(
		"ferry: devices: PL011 0x%llx, GICv3 dist 0x%llx redist 0x%llx, %u virtio-mmio slots, "
		"PSCI via %s",
		(unsigned long long)m->uart_pa, (unsigned long long)m->gicd_pa,
		(unsigned long long)m->gicr_pa, m->nvirtio, m->psci_smc ? "SMC" : "HVC");
}

/* The config: a DTB loaded at the config slot (-device loader) wins over the built-in default. */
static const void *find_config(const char **where)
{
	const void *slot = (const void *)(uintptr_t)PLAT_CONFIG_SLOT;

	if (fdt_magic(slot) == FDT_MAGIC && fdt_totalsize(slot) <= PLAT_CONFIG_SLOT_SIZE) {
		*where = "loaded at the config slot";
		return slot;
	}
	*where = "built in";
	return builtin_config_start;
}

/* QEMU's DTB claims 1 MiB (totalsize) but uses about 8 KiB, and libfdt's fdt_open_into() would move
 * all of it: copy just the blocks, then let libfdt re-pack them in place. */
static int copy_host_fdt(const void *fdt)
{
	u64 used;

	if (fdt_magic(fdt) != FDT_MAGIC || fdt_version(fdt) < 17)
		return FERRY_EINVAL;
	used = MAX((u64)fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt),
		   (u64)fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt));
	if (used > sizeof(host_fdt))
		return FERRY_ENOMEM;
	memcpy(host_fdt, fdt, used);
	fdt_set_totalsize(host_fdt, (u32)used);
	return fdt_open_into(host_fdt, host_fdt, sizeof(host_fdt)) ? FERRY_EINVAL : 0;
}

static void boot_error(const char *msg) __attribute__((noreturn));
static void boot_error(const char *msg)
{
	con_printf("%s", msg);
	con_printf("ferry: boot stopped");
	arch_semihost_exit(2);
}

static void start_secondaries(void)
{
	for (u32 i = 1; i < machine.ncpus; i++) {
		s64 ret = (s64)arch_smc(PSCI_CPU_ON_64, machine.mpidr[i],
					(u64)(uintptr_t)secondary_entry, i);
		if (ret)
			con_printf("ferry: CPU %u (MPIDR 0x%llx) did not start: PSCI %lld", i,
				   (unsigned long long)machine.mpidr[i], (long long)ret);
	}
	for (u32 i = 1; i < machine.ncpus; i++)
		for (u64 spin = 0; pcpus[i].state == PCPU_OFF && spin < (1ULL << 28); spin++)
			;
}

static void arm_tick(void)
{
	/* 10 ms: how often the management CPU looks at the VMs when no key is pressed. */
	sysreg_write(cnthp_tval_el2, sysreg_read(cntfrq_el0) / 100);
	sysreg_write(cnthp_ctl_el2, 1);
}

static void management_loop(void) __attribute__((noreturn));
static void management_loop(void)
{
	gic_enable_irq(0, EL2_TICK_INTID);
	if (machine.uart_intid) {
		gic_enable_irq(0, machine.uart_intid);
		pl011_rx_irq(true);
	}
	arm_tick();
	for (;;) {
		shell_poll();
		ferry_service_vms();
		for (u32 i = 0; i < nvms; i++)
			board_service(&vms[i]);
		/* A migration in flight polls the NIC flat out, and guests' output still waiting goes
		 * out before any sleep; otherwise sleep until the tick, a key, a frame or a VM's
		 * first line. */
		if (con_drain() | migrate_poll())
			continue;
		wfi();
		/* Re-arm first: the timer's interrupt is level-triggered and stays asserted until then. */
		arm_tick();
		gic_drain();
	}
}

void hyp_main_primary(u64 dtb_pa)
{
	char err[CONFIG_ERR_MAX];
	struct config_limits lim;
	const char *where;
	const void *cfg_fdt;
	u64 guest_start, ram_end;
	int ret;

	pcpus[0].idx = 0;
	sysreg_write(tpidr_el2, (u64)(uintptr_t)&pcpus[0]);
	/* Map the first GiB of RAM (ferry and the DTB QEMU put there) until the DTB says more. */
	arch_mmu_init_primary(PLAT_RAM_BASE, SZ_1G);
	arch_mmu_enable();
	con_printf("ferry: booting");
	if (copy_host_fdt((const void *)(uintptr_t)dtb_pa))
		boot_error("ferry: no usable device tree in x0 (boot ferry as an arm64 Image)");
	if (hostdt_parse(host_fdt, &machine))
		boot_error("ferry: the device tree lacks memory, cpus, a PL011, a GICv3 or PSCI");
	machine.boot_dtb_pa = dtb_pa;
	machine.boot_dtb_size = fdt_totalsize((const void *)(uintptr_t)dtb_pa);
	arch_mmu_init_primary(machine.ram_base, machine.ram_size);
	dsb(ish);
	isb();
	pl011_init(machine.uart_pa);
	board_init();
	read_features(&machine);
	pcpus[0].state = PCPU_IDLE;
	banner(&machine);
	{
		u64 code = (u64)(uintptr_t)__image_start, data = (u64)(uintptr_t)&machine;

		/* Checked, not assumed (arch/aarch64/mmu.c): the test asserts this line. */
		u32 guards = 0;

		for (u32 cpu = 0; cpu < MAX_CPUS; cpu++)
			guards += !arch_el2_can_access((u64)(uintptr_t)hyp_stacks[cpu], false);
		con_printf(
			"ferry: EL2 memory: code 0x%llx-0x%llx read-only and executable, the rest "
			"execute-never (a write to code: %s; to data: %s); stack guard pages: %u of "
			"%u unmapped",
			(unsigned long long)code, (unsigned long long)(uintptr_t)__text_end,
			arch_el2_can_access(code, true) ? "allowed" : "refused",
			arch_el2_can_access(data, true) ? "allowed" : "refused", guards, MAX_CPUS);
	}
	con_printf("ferry: EL2 instruction counter (PMU INST_RETIRED): %s",
		   pcpu_pmu_init() ? "on" : "not available (QEMU needs -icount shift=N)");

	ram_end = machine.ram_base + machine.ram_size;
	guest_start = PLAT_RAM_BASE + PLAT_HYP_RESERVED;
	if (machine.ram_base != PLAT_RAM_BASE || ram_end <= guest_start)
		boot_error("ferry: RAM must start at 0x40000000 and exceed 64 MiB");
	pool_init((u64)(uintptr_t)__image_end, PLAT_CONFIG_SLOT);
	guest_ram_init(pa_init(guest_start), pa_init(ram_end));

	cfg_fdt = find_config(&where);
	lim = (struct config_limits){
		.ncpus = machine.ncpus,
		.reserved_cpu_mask = 1u << 0,
		.guest_ram_pa = guest_start,
		.guest_ram_bytes = ram_end - guest_start,
		.image_exists = image_exists,
	};
	ret = config_parse(cfg_fdt, &lim, &config, err, sizeof(err));
	if (ret)
		boot_error(err);
	con_printf("ferry: config %s: %u VM%s", where, config.nvms, config.nvms == 1 ? "" : "s");
	migkey_boot(config.has_migration_key ? config.migration_key : NULL);
	{
		char pt_err[256];

		if (pt_boot(host_fdt, &config, pt_err, sizeof(pt_err)))
			boot_error(pt_err);
	}

	gic_init_dist(machine.gicd_pa, machine.gicr_pa, machine.gicr_stride, machine.mpidr);
	gic_init_cpu(0);
	start_secondaries();
	if (vm_create_all(&config) || shm_create_all(&config) || vvnet_create_all(&config))
		boot_error("ferry: VMs could not be created");
	for (u32 i = 0; i < nvms; i++) {
		for (u32 j = 0; j < vms[i].nvcpus; j++)
			if (pcpus[vms[i].vcpu[j].pcpu].state == PCPU_OFF)
				boot_error("ferry: a VM's CPU did not come online");
		if (vm_build(&vms[i]))
			boot_error("ferry: boot stopped while building VMs");
	}
	for (u32 i = 0; i < nvms; i++) {
		const struct vm_config *c = vms[i].cfg;

		if (c->incoming) {
			con_printf(
				"ferry: vm '%s' (VMID %u): %u vCPU%s, %llu MiB at IPA 0x%llx (PA "
				"0x%llx), incoming: waits for a live migration",
				c->name, vms[i].vmid, c->ncpus, c->ncpus == 1 ? "" : "s",
				(unsigned long long)(c->ram_size >> 20),
				(unsigned long long)c->ram_base,
				(unsigned long long)pa_addr(vms[i].ram_pa));
			continue;
		}
		con_printf(
			"ferry: vm '%s' (VMID %u): %u vCPU%s, %llu MiB at IPA 0x%llx (PA 0x%llx), "
			"image '%s' entry 0x%llx",
			c->name, vms[i].vmid, c->ncpus, c->ncpus == 1 ? "" : "s",
			(unsigned long long)(c->ram_size >> 20), (unsigned long long)c->ram_base,
			(unsigned long long)pa_addr(vms[i].ram_pa),
			c->image[0] ? c->image : "(loaded)", (unsigned long long)vms[i].entry_ipa);
		vm_start(&vms[i]);
	}
	migrate_boot();
	con_printf("ferry: shell on this console; type 'help'");
	for (u32 i = 0; i < nvms; i++)
		if (vms[i].cfg->console && vms[i].state == VM_RUNNING) {
			con_printf(
				"console: attached to vm '%s' (config 'console'); Ctrl-] returns to "
				"the shell",
				vms[i].cfg->name);
			console_vm = &vms[i];
		}
	management_loop();
}

void hyp_main_secondary(u64 idx)
{
	struct pcpu *p = &pcpus[idx];

	arch_mmu_enable();
	p->idx = (u32)idx;
	sysreg_write(tpidr_el2, (u64)(uintptr_t)p);
	gic_init_cpu((u32)idx);
	pcpu_pmu_init();
	dsb(ish);
	p->state = PCPU_IDLE;
	vcpu_run_loop(p);
}
