/* The hypervisor shell on the real console (management CPU), and the management CPU's other duty:
 * restarting VMs that asked for it and ending the run when every VM is done.
 *
 * End of run: when every VM has powered off (PSCI SYSTEM_OFF) or faulted, ferry prints one verdict
 * line and exits QEMU through semihosting with status 0 if every VM powered off cleanly, 1 if any
 * VM faulted (docs/architecture.md). VMs stopped from the shell keep ferry running: they can be
 * started again. */
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/core.h"
#include "drivers/pl011.h"
#include "mm/tlbi.h"

/* The VM the console is attached to (`console <vm>`), or NULL: the shell has it. */
struct vm *volatile console_vm;

static const char *const exit_class_names[EXITC_NR] = {
	[EXITC_MMIO] = "mmio", [EXITC_HVC] = "hvc", [EXITC_SMC] = "smc", [EXITC_WFX] = "wfx",
	[EXITC_SYSREG] = "sysreg", [EXITC_IRQ] = "irq", [EXITC_DIRTY] = "dirty", [EXITC_ABORT] = "abort",
	[EXITC_OTHER] = "other",
};

void tlbi_san_print(const char *line, void *ctx)
{
	(void)ctx;
	con_printf("tlbi: %s", line);
}

static void vm_exits(const struct vm *vm, u64 out[EXITC_NR])
{
	memset(out, 0, sizeof(u64) * EXITC_NR);
	for (u32 i = 0; i < vm->nvcpus; i++)
		for (u32 k = 0; k < EXITC_NR; k++)
			out[k] += vm->vcpu[i].exits[k];
}

static void format_exits(const u64 ex[EXITC_NR], char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (u32 k = 0; k < EXITC_NR && off < len; k++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s=%llu", k ? " " : "",
					exit_class_names[k], (unsigned long long)ex[k]);
}

/* Splits off the next space-separated word (picolibc's strtok keeps state in TLS, which ferry does
 * not have at EL2: TPIDR_EL0 belongs to the guest). */
static char *next_word(char **s)
{
	char *w = *s;

	while (*w == ' ' || *w == '\t')
		w++;
	if (!*w)
		return NULL;
	*s = w;
	while (**s && **s != ' ' && **s != '\t')
		(*s)++;
	if (**s)
		*(*s)++ = 0;
	return w;
}

static void cmd_vms(void)
{
	char exits[160], cpus[40];
	u64 ex[EXITC_NR];

	for (u32 i = 0; i < nvms; i++) {
		const struct vm *vm = &vms[i];
		size_t off = 0;

		cpus[0] = 0;
		for (u32 j = 0; j < vm->nvcpus && off < sizeof(cpus); j++)
			off += (size_t)snprintf(cpus + off, sizeof(cpus) - off, "%s%u", j ? "," : "",
						vm->vcpu[j].pcpu);
		vm_exits(vm, ex);
		format_exits(ex, exits, sizeof(exits));
		con_printf("vm %-8s %-8s vmid %u cpus %s ram %llu MiB @ 0x%llx exits %s%s%s",
			   vm->cfg->name, vm_state_name(vm->state), vm->vmid, cpus,
			   (unsigned long long)(vm->cfg->ram_size >> 20),
			   (unsigned long long)vm->cfg->ram_base, exits, vm->reason[0] ? " -- " : "",
			   vm->reason);
	}
}

/* Average EL2 instructions per exit of each class, over all vCPUs (needs the PMU counter). */
static void stats_el2_insns(void)
{
	u64 n[EXITC_NR] = { 0 }, insns[EXITC_NR] = { 0 }, avg[EXITC_NR];
	char line[200];

	for (u32 i = 0; i < nvms; i++)
		for (u32 j = 0; j < vms[i].nvcpus; j++)
			for (u32 k = 0; k < EXITC_NR; k++) {
				n[k] += vms[i].vcpu[j].exits[k];
				insns[k] += vms[i].vcpu[j].exit_insns[k];
			}
	/* Write faults the vector's fast path handled are counted as dirty exits by their vCPU; their
	 * instructions are kept per CPU (vectors.S), with the few the counter cannot see added. */
	u64 fast = 0, fast_insns = 0, slow = n[EXITC_DIRTY], slow_insns = insns[EXITC_DIRTY];

	for (u32 c = 0; c < MAX_CPUS; c++)
		if (pcpus[c].pmu_idx && pcpus[c].fast_dirty) {
			fast += pcpus[c].fast_dirty;
			fast_insns += pcpus[c].fast_dirty_insns +
				      pcpus[c].fast_dirty * FAST_UNCOUNTED_INSNS;
		}
	slow = slow >= fast ? slow - fast : 0;
	insns[EXITC_DIRTY] += fast_insns;
	for (u32 k = 0; k < EXITC_NR; k++)
		avg[k] = n[k] ? insns[k] / n[k] : 0;
	format_exits(avg, line, sizeof(line));
	con_printf("stats: EL2 instructions per exit %s", line);
	con_printf("stats: dirty write faults: fast path %llu (%llu EL2 instructions each, vector to "
		   "ERET), generic %llu (%llu each, round trip)", (unsigned long long)fast,
		   (unsigned long long)(fast ? fast_insns / fast : 0), (unsigned long long)slow,
		   (unsigned long long)(slow ? slow_insns / slow : 0));
}

static void cmd_stats(void)
{
	u64 total[EXITC_NR] = { 0 }, ex[EXITC_NR];
	u64 freq = sysreg_read(cntfrq_el0), now = sysreg_read(cntpct_el0);
	char exits[160];

	for (u32 i = 0; i < nvms; i++) {
		vm_exits(&vms[i], ex);
		for (u32 k = 0; k < EXITC_NR; k++)
			total[k] += ex[k];
	}
	format_exits(total, exits, sizeof(exits));
	con_printf("stats: uptime %llu ms, %u VMs, %u CPUs, page pool %llu KiB free",
		   (unsigned long long)(now / (freq / 1000)), nvms, machine.ncpus,
		   (unsigned long long)(pool_free_pages() * 4));
	con_printf("stats: exits %s", exits);
	stats_el2_insns();
	shm_print_stats();
}

static int restart_vm(struct vm *vm)
{
	int err;

	if (migrate_busy(vm))
		return FERRY_EBUSY;
	for (u64 spin = 0; !vm_quiescent(vm); spin++)
		if (spin > (1ULL << 28))
			return FERRY_EBUSY;
	err = vm_build(vm);
	if (!err)
		vm_start(vm);
	return err;
}

static void cmd_start(struct vm *vm)
{
	if (vm->state == VM_RUNNING) {
		con_printf("start: vm '%s' is already running", vm->cfg->name);
		return;
	}
	if (restart_vm(vm))
		con_printf("start: vm '%s' could not be started", vm->cfg->name);
	else
		con_printf("start: vm '%s' started", vm->cfg->name);
}

/* The EL2 controls each vCPU of the VM runs under, as its CPU read them back after writing them
 * (docs/isolation.md explains every bit; the system test checks them). */
static void cmd_traps(struct vm *vm)
{
	for (u32 i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = &vm->vcpu[i];
		const struct trap_config *t = &v->ctl;

		if (!__atomic_load_n(&v->ctl_loaded, __ATOMIC_ACQUIRE)) {
			con_printf("traps: vm '%s' vcpu %u: not run yet", vm->cfg->name, i);
			continue;
		}
		con_printf("traps: vm '%s' vcpu %u: HCR_EL2 0x%llx MDCR_EL2 0x%llx CPTR_EL2 0x%llx "
			   "CNTHCTL_EL2 0x%llx", vm->cfg->name, i, (unsigned long long)t->hcr,
			   (unsigned long long)t->mdcr, (unsigned long long)t->cptr,
			   (unsigned long long)t->cnthctl);
		if (t->has_hcrx)
			con_printf("traps: vm '%s' vcpu %u: HCRX_EL2 0x%llx", vm->cfg->name, i,
				   (unsigned long long)t->hcrx);
		else
			con_printf("traps: vm '%s' vcpu %u: HCRX_EL2 absent (no FEAT_HCX)",
				   vm->cfg->name, i);
		if (t->has_fgt)
			con_printf("traps: vm '%s' vcpu %u: HFGRTR_EL2 0x%llx HFGWTR_EL2 0x%llx "
				   "HFGITR_EL2 0x%llx HDFGRTR_EL2 0x%llx HDFGWTR_EL2 0x%llx",
				   vm->cfg->name, i, (unsigned long long)t->hfgrtr,
				   (unsigned long long)t->hfgwtr, (unsigned long long)t->hfgitr,
				   (unsigned long long)t->hdfgrtr, (unsigned long long)t->hdfgwtr);
		else
			con_printf("traps: vm '%s' vcpu %u: fine-grained traps absent (no FEAT_FGT)",
				   vm->cfg->name, i);
		con_printf("traps: vm '%s' vcpu %u: set/way operations %llu, RAM flushes for them %llu",
			   vm->cfg->name, i, (unsigned long long)v->setway_ops,
			   (unsigned long long)v->setway_flushes);
	}
	/* The ITS's counters (docs/vgic.md "LPIs and the ITS"): what the guest's commands did. */
	struct its its;

	spin_lock(&vm->lock);
	its = vm->its;
	spin_unlock(&vm->lock);
	con_printf("traps: vm '%s' ITS: %s%s, commands %llu, errors %llu (last %u, command 0x%x), "
		   "MSIs %llu", vm->cfg->name, its.enabled ? "enabled" : "disabled",
		   its.stalled ? ", stalled" : "", (unsigned long long)its.commands,
		   (unsigned long long)its.errors, its.last_error, its.last_error_cmd,
		   (unsigned long long)its.translations);
}

static void cmd_help(void)
{
	con_printf("commands:");
	con_printf("  help          this list");
	con_printf("  vms           each VM: state, VMID, CPUs, RAM, exits by class");
	con_printf("  stats         uptime, page pool, exits of all VMs");
	con_printf("  stop <vm>     stop a VM (its CPUs idle; 'start' builds it afresh)");
	con_printf("  start <vm>    start a stopped, powered-off or faulted VM from its image");
	con_printf("  tlbi <vm>     the last TLB maintenance operations issued for a VM");
	con_printf("  traps <vm>    the EL2 trap controls its vCPUs run under (docs/isolation.md)");
	con_printf("  console <vm>  attach the console to a VM: what you type goes to its PL011,");
	con_printf("                its output comes unprefixed; Ctrl-] comes back to the shell");
	con_printf("  dirtylog <vm> start [wp|dbm] | stop | collect | stats");
	con_printf("                stage-2 dirty logging: write faults (wp) or hardware DBM (dbm);");
	con_printf("                without a mode, the config's dirty-log property (auto: dbm if the");
	con_printf("                CPU has FEAT_HAFDBS)");
#if FERRY_MIG_TEST_HOOKS
	con_printf("  migrate <vm> [downtime=MS] [rounds=N] [mode=wp|dbm] [verify=digest|full] "
		   "[audit=0|1] [corrupt=N] [lose=1]");
#else
	con_printf("  migrate <vm> [downtime=MS] [rounds=N] [mode=wp|dbm] [verify=digest|full] "
		   "[audit=0|1]");
#endif
	con_printf("                live-migrate a running VM to the peer ferry on the network");
	con_printf("                (docs/migration.md); 'migrate cancel' gives up, the VM runs on");
	con_printf("  migration     the NIC and the migration in progress (either end)");
	con_printf("  netblast <MiB> send MiB of largest frames: the peer prints the raw link rate");
}

static void cmd_dirtylog(struct vm *vm, char *line)
{
	char *what = next_word(&line), *mode = next_word(&line);
	const char *name = vm->cfg->name;
	enum dirty_mode m;
	s64 n;
	int err;

	if (!what) {
		con_printf("dirtylog: start [wp|dbm] | stop | collect | stats");
	} else if (!strcmp(what, "start")) {
		m = !mode ? dirtylog_default_mode(vm) : !strcmp(mode, "wp") ? DIRTY_WP :
			!strcmp(mode, "dbm") ? DIRTY_DBM : DIRTY_OFF;
		if (m == DIRTY_OFF) {
			con_printf("dirtylog: unknown mode '%s' (wp or dbm)", mode);
			return;
		}
		err = dirtylog_start(vm, m);
		if (err)
			con_printf("dirtylog: vm '%s': cannot start (%s)%s", name, ferry_strerror(err),
				   err == FERRY_ENOTSUP ? ": this CPU has no FEAT_HAFDBS" : "");
		else
			con_printf("dirtylog: vm '%s': started (%s), %llu pages write-protected", name,
				   dirty_mode_name(m), (unsigned long long)vm->dirty.npages);
	} else if (!strcmp(what, "stop")) {
		err = dirtylog_stop(vm);
		if (err)
			con_printf("dirtylog: vm '%s': %s", name, ferry_strerror(err));
		else
			con_printf("dirtylog: vm '%s': stopped, %llu 2 MiB blocks rebuilt", name,
				   (unsigned long long)vm->dirty.blocks_rebuilt);
	} else if (!strcmp(what, "collect")) {
		n = dirtylog_collect(vm);
		if (n < 0)
			con_printf("dirtylog: vm '%s': %s", name, ferry_strerror((int)n));
		else
			con_printf("dirtylog: vm '%s': collected %lld dirty pages", name, (long long)n);
	} else if (!strcmp(what, "stats")) {
		dirtylog_print_stats(vm);
	} else {
		con_printf("dirtylog: unknown action '%s'", what);
	}
}

static void cmd_console(struct vm *vm)
{
	if (!(vm->cfg->devices & CONFIG_DEV_UART) || vm->state != VM_RUNNING) {
		con_printf("console: vm '%s' %s", vm->cfg->name,
			   vm->state != VM_RUNNING ? "is not running" : "has no uart");
		return;
	}
	con_printf("console: attached to vm '%s'; Ctrl-] returns to the shell", vm->cfg->name);
	console_vm = vm;
}

static void shell_exec(char *line)
{
	char *cmd = next_word(&line), *arg;
	struct vm *vm = NULL;

	if (!cmd)
		return;
	if (!strcmp(cmd, "migrate") || !strcmp(cmd, "migration") || !strcmp(cmd, "netblast")) {
		while (line && *line == ' ')
			line++;
		return migrate_shell(cmd, line);
	}
	arg = next_word(&line);
	if (!strcmp(cmd, "help"))
		return cmd_help();
	if (!strcmp(cmd, "vms"))
		return cmd_vms();
	if (!strcmp(cmd, "stats"))
		return cmd_stats();
	if (!strcmp(cmd, "stop") || !strcmp(cmd, "start") || !strcmp(cmd, "tlbi") ||
	    !strcmp(cmd, "dirtylog") || !strcmp(cmd, "console") || !strcmp(cmd, "traps")) {
		if (!arg || !(vm = vm_by_name(arg))) {
			con_printf("%s: no such VM '%s' (see 'vms')", cmd, arg ? arg : "");
			return;
		}
		if (!strcmp(cmd, "stop")) {
			vm_request_stop(vm, VM_STOPPED, "stopped from the shell");
			con_printf("stop: vm '%s' %s", vm->cfg->name, vm_state_name(vm->state));
		} else if (!strcmp(cmd, "start")) {
			cmd_start(vm);
		} else if (!strcmp(cmd, "dirtylog")) {
			cmd_dirtylog(vm, line);
		} else if (!strcmp(cmd, "console")) {
			cmd_console(vm);
		} else if (!strcmp(cmd, "traps")) {
			cmd_traps(vm);
		} else {
			tlbi_ring_dump(vm->vmid, tlbi_san_print, NULL);
		}
		return;
	}
	con_printf("unknown command '%s'; type 'help'", cmd);
}

void shell_poll(void)
{
	static char line[96];
	static u32 len;
	static int held = -1; /* a byte the attached VM's full FIFO could not take yet */
	static bool rx_off;
	int c;

	if (rx_off) {
		rx_off = false;
		pl011_rx_irq(true);
	}
	while ((c = held >= 0 ? held : con_getc()) >= 0) {
		struct vm *vm = console_vm;

		held = -1;

		if (vm && (c == CONSOLE_ESCAPE || vm->state != VM_RUNNING)) {
			console_vm = NULL;
			con_printf("%s", "");
			con_printf("console: back to the shell (vm '%s' %s)", vm->cfg->name,
				   vm_state_name(vm->state));
			if (c == CONSOLE_ESCAPE)
				continue;
		} else if (vm) {
			/* Input the guest has not read yet waits (in QEMU's UART beyond this byte) until
			 * the next tick, instead of being lost: pexpect and pastes type faster than a
			 * guest drains a 32-byte FIFO. */
			if (!vcpu_console_input(vm, (char)c)) {
				held = c;
				rx_off = true;
				pl011_rx_irq(false);
				return;
			}
			continue;
		}
		if (c == '\r' || c == '\n') {
			line[len] = 0;
			len = 0;
			shell_exec(line);
		} else if ((c == 0x7f || c == 0x08) && len) {
			len--;
		} else if (c >= 0x20 && c < 0x7f && len < sizeof(line) - 1) {
			line[len++] = (char)c;
		}
	}
}

void ferry_service_vms(void)
{
	u32 done = 0, faulted = 0, migrated = 0;

	for (u32 i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];

		if (vm->reset_pending && vm_quiescent(vm)) {
			vm->reset_pending = false;
			con_drain_all(); /* its last lines before the reset's */
			con_printf("ferry: vm '%s' resets", vm->cfg->name);
			if (restart_vm(vm))
				con_printf("ferry: vm '%s' could not be restarted", vm->cfg->name);
		}
		if (vm->state == VM_OFF || vm->state == VM_FAULTED || vm->state == VM_MIGRATED)
			done++;
		if (vm->state == VM_FAULTED)
			faulted++;
		if (vm->state == VM_MIGRATED)
			migrated++;
	}
	if (!nvms || done < nvms)
		return;
	/* A migration still answering its peer (or telling it why it stops) finishes first. */
	for (u32 i = 0; i < nvms; i++)
		if (migrate_busy(&vms[i]))
			return;
	for (u32 i = 0; i < nvms; i++)
		while (!vm_quiescent(&vms[i]))
			;
	con_drain_all(); /* their last words first */
	con_printf("ferry: all VMs have ended: %u powered off, %u migrated, %u faulted; exit %u",
		   done - faulted - migrated, migrated, faulted, faulted ? 1u : 0u);
	arch_semihost_exit(faulted ? 1 : 0);
}
