/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor shell on the real console (management CPU): one table of commands, from which
 * both the dispatch and `help` are made, so neither can forget one. */
#include "core/shell.h"

#include <stdio.h>
#include <string.h>

#include "arch/aarch64/asm.h"
#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/console.h"
#include "core/exit.h"
#include "core/lifecycle.h"
#include "core/machine.h"
#include "core/pcpu.h"
#include "core/shm.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "drivers/pl011.h"
#include "lib/spinlock.h"
#include "migrate/migrate_el2.h"
#include "mm/dirty.h"
#include "mm/dirty_el2.h"
#include "mm/tlbi.h"
#include "vdev/traps.h"
#include "vdev/vvnet_el2.h"
#include "vgic/its.h"

/* The VM the console is attached to (`console <vm>`), or NULL: the shell has it. */
struct vm *volatile console_vm;

static const char *const exit_class_names[EXITC_NR] = {
	[EXITC_MMIO] = "mmio",   [EXITC_HVC] = "hvc",       [EXITC_SMC] = "smc",
	[EXITC_WFX] = "wfx",     [EXITC_SYSREG] = "sysreg", [EXITC_IRQ] = "irq",
	[EXITC_DIRTY] = "dirty", [EXITC_ABORT] = "abort",   [EXITC_OTHER] = "other",
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
			off += (size_t)snprintf(cpus + off, sizeof(cpus) - off, "%s%u",
						j ? "," : "", vm->vcpu[j].pcpu);
		vm_exits(vm, ex);
		format_exits(ex, exits, sizeof(exits));
		con_printf("vm %-8s %-8s vmid %u cpus %s ram %llu MiB @ 0x%llx exits %s%s%s",
			   vm->cfg->name, vm_state_name(vm->state), vm->vmid, cpus,
			   (unsigned long long)(vm->cfg->ram_size >> 20),
			   (unsigned long long)vm->cfg->ram_base, exits,
			   vm->reason[0] ? " -- " : "", vm->reason);
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
	con_printf(
		"stats: dirty write faults: fast path %llu (%llu EL2 instructions each, vector to "
		"ERET), generic %llu (%llu each, round trip)",
		(unsigned long long)fast, (unsigned long long)(fast ? fast_insns / fast : 0),
		(unsigned long long)slow, (unsigned long long)(slow ? slow_insns / slow : 0));
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
	vvnet_print_stats();
}

static void cmd_start(struct vm *vm)
{
	if (vm->state == VM_RUNNING) {
		con_printf("start: vm '%s' is already running", vm->cfg->name);
		return;
	}
	if (vm_restart(vm))
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
			   "CNTHCTL_EL2 0x%llx",
			   vm->cfg->name, i, (unsigned long long)t->hcr,
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
			con_printf(
				"traps: vm '%s' vcpu %u: fine-grained traps absent (no FEAT_FGT)",
				vm->cfg->name, i);
		con_printf(
			"traps: vm '%s' vcpu %u: set/way operations %llu, RAM flushes for them %llu",
			vm->cfg->name, i, (unsigned long long)v->setway_ops,
			(unsigned long long)v->setway_flushes);
	}
	/* The ITS's counters (docs/vgic.md "LPIs and the ITS"): what the guest's commands did. */
	struct its its;

	spin_lock(&vm->lock);
	its = vm->its;
	spin_unlock(&vm->lock);
	con_printf("traps: vm '%s' ITS: %s%s, commands %llu, errors %llu (last %u, command 0x%x), "
		   "MSIs %llu",
		   vm->cfg->name, its.enabled ? "enabled" : "disabled",
		   its.stalled ? ", stalled" : "", (unsigned long long)its.commands,
		   (unsigned long long)its.errors, its.last_error, its.last_error_cmd,
		   (unsigned long long)its.translations);
}

static void cmd_dirtylog(struct vm *vm, char *line)
{
	char *what = next_word(&line), *word;
	const char *name = vm->cfg->name;
	enum dirty_mode m = DIRTY_OFF;
	u64 chunk = 0;
	s64 n;
	int err;

	if (!what) {
		con_printf("dirtylog: start [wp|dbm] [gradual[=MiB]] | stop | collect | stats");
	} else if (!strcmp(what, "start")) {
		while ((word = next_word(&line)) != NULL) {
			if (!strcmp(word, "wp") || !strcmp(word, "dbm")) {
				m = word[0] == 'w' ? DIRTY_WP : DIRTY_DBM;
			} else if (!dirtylog_parse_gradual(word, &chunk) || !chunk) {
				con_printf(
					"dirtylog: unknown start option '%s' (wp, dbm, gradual or "
					"gradual=MiB, an even number)",
					word);
				return;
			}
		}
		if (m == DIRTY_OFF)
			m = dirtylog_default_mode(vm);
		err = dirtylog_start(vm, m, chunk);
		if (err)
			con_printf("dirtylog: vm '%s': cannot start (%s)%s", name,
				   ferry_strerror(err),
				   err == FERRY_ENOTSUP ? ": this CPU has no FEAT_HAFDBS" : "");
		else if (chunk)
			con_printf("dirtylog: vm '%s': started (%s), gradual: 0 of %llu pages "
				   "write-protected, %llu more at each collection",
				   name, dirty_mode_name(m), (unsigned long long)vm->dirty.npages,
				   (unsigned long long)chunk);
		else
			con_printf("dirtylog: vm '%s': started (%s), %llu pages write-protected",
				   name, dirty_mode_name(m), (unsigned long long)vm->dirty.npages);
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
			con_printf("dirtylog: vm '%s': collected %lld dirty pages", name,
				   (long long)n);
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

static void cmd_stop(struct vm *vm)
{
	vm_request_stop(vm, VM_STOPPED, "stopped from the shell");
	con_printf("stop: vm '%s' %s", vm->cfg->name, vm_state_name(vm->state));
}

static void cmd_tlbi(struct vm *vm) { tlbi_ring_dump(vm->vmid, tlbi_san_print, NULL); }

static void cmd_help(void);

/* How a command takes its words: none, a VM's name (then the rest), or the whole rest of the
 * line (the migration commands parse their own). */
enum shell_arg {
	SH_NONE,
	SH_VM,
	SH_LINE
};

static const struct shell_cmd {
	const char *name, *usage; /* usage: what follows the name, for help */
	enum shell_arg arg;
	union {
		void (*none)(void);
		void (*vm)(struct vm *vm);
		void (*vm_line)(struct vm *vm, char *rest);
		void (*line)(const char *cmd, char *rest);
	} run;
	bool with_rest;      /* SH_VM: run.vm_line gets the words after the VM */
	const char *help[5]; /* lines of help, NULL-terminated */
} shell_cmds[] = {
	{ "help", "", SH_NONE, { .none = cmd_help }, false, { "this list" } },
	{ "vms",
	  "",
	  SH_NONE,
	  { .none = cmd_vms },
	  false,
	  { "each VM: state, VMID, CPUs, RAM, exits by class" } },
	{ "stats",
	  "",
	  SH_NONE,
	  { .none = cmd_stats },
	  false,
	  { "uptime, page pool, exits of all VMs, shared regions, network links" } },
	{ "stop",
	  "<vm>",
	  SH_VM,
	  { .vm = cmd_stop },
	  false,
	  { "stop a VM (its CPUs idle; 'start' builds it afresh)" } },
	{ "start",
	  "<vm>",
	  SH_VM,
	  { .vm = cmd_start },
	  false,
	  { "start a stopped, powered-off or faulted VM from its image" } },
	{ "tlbi",
	  "<vm>",
	  SH_VM,
	  { .vm = cmd_tlbi },
	  false,
	  { "the last TLB maintenance operations issued for a VM" } },
	{ "traps",
	  "<vm>",
	  SH_VM,
	  { .vm = cmd_traps },
	  false,
	  { "the EL2 trap controls its vCPUs run under (docs/isolation.md)" } },
	{ "console",
	  "<vm>",
	  SH_VM,
	  { .vm = cmd_console },
	  false,
	  { "attach the console to a VM: what you type goes to its PL011,",
	    "its output comes unprefixed; Ctrl-] comes back to the shell" } },
	{ "dirtylog",
	  "<vm> start [wp|dbm] [gradual[=MiB]] | stop | collect | stats",
	  SH_VM,
	  { .vm_line = cmd_dirtylog },
	  true,
	  { "stage-2 dirty logging: write faults (wp) or hardware DBM (dbm);",
	    "without a mode, the config's dirty-log property (auto: dbm if the",
	    "CPU has FEAT_HAFDBS); gradual: protect nothing now, count every",
	    "page dirty, each collection protects MiB more (default 1024)" } },
#if FERRY_MIG_TEST_HOOKS
	{ "migrate",
	  "<vm> [postcopy] [postcopy=off|auto|now] [downtime=MS] [rounds=N] [mode=wp|dbm] "
	  "[start=eager|gradual] [untouched=skip|read] [verify=digest|full] [audit=0|1] "
	  "[corrupt=N] [lose=1] "
	  "[pcdrop=1] [nosave=N]",
#else
	{ "migrate",
	  "<vm> [postcopy] [postcopy=off|auto|now] [downtime=MS] [rounds=N] [mode=wp|dbm] "
	  "[start=eager|gradual] [untouched=skip|read] [verify=digest|full] [audit=0|1]",
#endif
	  SH_LINE,
	  { .line = migrate_shell },
	  false,
	  { "live-migrate a running VM to the peer ferry (docs/migration.md);",
	    "'migrate cancel' gives up, the VM runs on; mode: dirty logging by",
	    "write faults (wp, the default) or DBM; untouched=read: read unused",
	    "RAM in round 0 too; postcopy: run it on the peer after round 0, the",
	    "rest after (auto: once rounds stop converging; a lost link stops both)" } },
	{ "migration",
	  "",
	  SH_LINE,
	  { .line = migrate_shell },
	  false,
	  { "the NIC and the migration in progress (either end)" } },
#if FERRY_MIG_TEST_HOOKS
	{ "incoming",
	  "norestore=N|off",
	  SH_LINE,
	  { .line = migrate_shell },
	  false,
	  { "test builds: the incoming VM listens again, its rehearsal handing",
	    "state blob N to the decoder one byte short (off: as it is)" } },
#endif
	{ "migkey",
	  "[<64 hex digits>]",
	  SH_LINE,
	  { .line = migrate_shell },
	  false,
	  { "set the key both ferries of a migration share (or the config's",
	    "migration-key); without one, show its fingerprint" } },
	{ "migbench",
	  "",
	  SH_LINE,
	  { .line = migrate_shell },
	  false,
	  { "EL2 instructions per frame of each migration-link tag candidate",
	    "(needs QEMU's -icount)" } },
	{ "netblast",
	  "<MiB>",
	  SH_LINE,
	  { .line = migrate_shell },
	  false,
	  { "send MiB of largest frames: the peer prints the raw link rate" } },
	{ "netping",
	  "[N]",
	  SH_LINE,
	  { .line = migrate_shell },
	  false,
	  { "N small frames (20) to the peer, one at a time, each answered at",
	    "once: the link's round trip, min, median, max" } },
};

/* "  name usage" padded to the help column (16) with the first help line beside it when it fits,
 * else alone with every help line below it. */
static void cmd_help(void)
{
	con_printf("commands:");
	for (size_t i = 0; i < ARRAY_SIZE(shell_cmds); i++) {
		const struct shell_cmd *c = &shell_cmds[i];
		char head[224]; /* the longest usage (migrate, test builds) is 173 */
		size_t k = 0;

		snprintf(head, sizeof(head), "%s%s%s", c->name, *c->usage ? " " : "", c->usage);
		if (strlen(head) <= 14)
			con_printf("  %-13s %s", head, c->help[k++]);
		else
			con_printf("  %s", head);
		for (; k < ARRAY_SIZE(c->help) && c->help[k]; k++)
			con_printf("                %s", c->help[k]);
	}
}

static void shell_exec(char *line)
{
	char *cmd = next_word(&line), *arg;
	const struct shell_cmd *c = NULL;
	struct vm *vm;

	if (!cmd)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(shell_cmds) && !c; i++)
		if (!strcmp(cmd, shell_cmds[i].name))
			c = &shell_cmds[i];
	if (!c) {
		con_printf("unknown command '%s'; type 'help'", cmd);
		return;
	}
	switch (c->arg) {
	case SH_NONE:
		c->run.none();
		return;
	case SH_LINE:
		while (line && *line == ' ')
			line++;
		c->run.line(cmd, line);
		return;
	case SH_VM:
		arg = next_word(&line);
		if (!arg || !(vm = vm_by_name(arg))) {
			con_printf("%s: no such VM '%s' (see 'vms')", cmd, arg ? arg : "");
			return;
		}
		if (c->with_rest)
			c->run.vm_line(vm, line);
		else
			c->run.vm(vm);
		return;
	}
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
