/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2: the shell's `migrate` and `migration` (`netblast` and `netping`, the raw
 * link's measurements, are linkprobe_el2.c's). */
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/migbench.h"
#include "core/migkey.h"
#include "core/passthrough.h"
#include "core/shm.h"
#include "migrate/mig_el2.h"
#include "migrate/migrate_el2.h"
#include "mm/dirty_el2.h"
#include "vdev/vvnet_el2.h"

/* ---- shell ---- */

/* Decimal only (picolibc's strtoull sets errno, which lives in TLS ferry does not have). */
bool migel2_parse_u64(const char *s, u64 *out)
{
	u64 v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	return true;
}

static void cmd_migrate(char *args)
{
	char *name = strsep(&args, " "), *opt;
	struct mig_src_config cfg;
	struct vm *vm;
	void *ws;
	u64 v;
	int err;

	if (!name || !*name) {
		con_printf("usage: migrate <vm> [postcopy] [postcopy=off|auto|now] [downtime=MS] "
			   "[rounds=N] [mode=wp|dbm] [start=eager|gradual] [verify=digest|full] "
			   "[audit=0|1]" HOOK_USAGE);
		return;
	}
	if (!strcmp(name, "cancel")) {
		if (mig.role == ROLE_SRC)
			mig_src_cancel(&mig.src);
		else
			con_printf("migrate: nothing to cancel");
		return;
	}
	vm = vm_by_name(name);
	if (!vm) {
		con_printf("migrate: no VM named '%s'", name);
		return;
	}
	if (shm_refuses_migration(vm) || pt_refuses_migration(vm) || vvnet_refuses_migration(vm))
		return;
	if (!vnet_present()) {
		con_printf(
			"migrate: no network device (QEMU: -device virtio-net-device,netdev=...)");
		return;
	}
	if (mig.role != ROLE_NONE) {
		con_printf("migrate: busy: %s vm '%s'",
			   mig.role == ROLE_SRC ? "migrating" : "waiting for an incoming",
			   mig.vm->cfg->name);
		return;
	}
	if (vm->state != VM_RUNNING) {
		con_printf("migrate: vm '%s' is %s, not running", name, vm_state_name(vm->state));
		return;
	}

	memset(&cfg, 0, sizeof(cfg));
	migel2_compat_of(vm, &cfg.compat);
	migel2_forced_mode = DIRTY_OFF;
	migel2_start_chunk = 0;
	mig.corrupt_every = 0;
	mig.lose_one = false;
	mig.read_untouched = false;
	mig.nosave_blob = 0;
	mig.lost_page = 0;
	while ((opt = strsep(&args, " ")) != NULL) {
		char *val = strchr(opt, '=');

		if (!*opt)
			continue;
		if (val)
			*val++ = 0;
		if (!val && !strcmp(opt, "postcopy"))
			cfg.postcopy = MIG_PC_NOW;
		else if (val && !strcmp(opt, "postcopy") && !strcmp(val, "off"))
			cfg.postcopy = MIG_PC_OFF;
		else if (val && !strcmp(opt, "postcopy") && !strcmp(val, "auto"))
			cfg.postcopy = MIG_PC_AUTO;
		else if (val && !strcmp(opt, "postcopy") && !strcmp(val, "now"))
			cfg.postcopy = MIG_PC_NOW;
		else if (val && !strcmp(opt, "downtime") && migel2_parse_u64(val, &v) && v)
			cfg.downtime_ns = v * 1000000ULL;
		else if (val && !strcmp(opt, "rounds") && migel2_parse_u64(val, &v) && v &&
			 v <= MIG_ROUNDS_MAX - 2)
			cfg.max_rounds = (u32)v;
		else if (val && !strcmp(opt, "verify") && !strcmp(val, "full"))
			cfg.verify = MIG_VERIFY_FULL;
		else if (val && !strcmp(opt, "verify") && !strcmp(val, "digest"))
			cfg.verify = MIG_VERIFY_DIGEST;
		else if (val && !strcmp(opt, "audit") && (!strcmp(val, "0") || !strcmp(val, "1")))
			cfg.no_audit = val[0] == '0';
		else if (val && !strcmp(opt, "mode") && !strcmp(val, "wp"))
			migel2_forced_mode = DIRTY_WP;
		else if (val && !strcmp(opt, "mode") && !strcmp(val, "dbm") && machine.hafdbs)
			migel2_forced_mode = DIRTY_DBM;
		else if (val && !strcmp(opt, "untouched") &&
			 (!strcmp(val, "skip") || !strcmp(val, "read")))
			mig.read_untouched = val[0] == 'r';
		else if (val && !strcmp(opt, "start") && !strcmp(val, "eager"))
			migel2_start_chunk = 0;
		else if (val && !strcmp(opt, "start") && !strcmp(val, "gradual"))
			(void)dirtylog_parse_gradual(val, &migel2_start_chunk);
#if FERRY_MIG_TEST_HOOKS
		else if (val && !strcmp(opt, "corrupt") && migel2_parse_u64(val, &v) && v &&
			 v < (1u << 30))
			mig.corrupt_every = (u32)v;
		else if (val && !strcmp(opt, "lose") && !strcmp(val, "1"))
			mig.lose_one = cfg.keep_digests = true;
		else if (val && !strcmp(opt, "pcdrop") && !strcmp(val, "1"))
			cfg.pc_drop_one = true;
		else if (val && !strcmp(opt, "nosave") && migel2_parse_u64(val, &v) && v < 64)
			mig.nosave_blob = (u32)v + 1;
#endif
		else {
			con_printf("migrate: bad option '%s%s%s' (postcopy, postcopy=off|auto|now, "
				   "downtime=MS, rounds=1..%u, mode=wp|dbm%s, start=eager|gradual, "
				   "untouched=skip|read, verify=digest|full, audit=0|1%s)",
				   opt, val ? "=" : "", val ? val : "", MIG_ROUNDS_MAX - 2,
				   machine.hafdbs ? "" : " (no dbm on this CPU)",
				   FERRY_MIG_TEST_HOOKS ? ", corrupt=N, lose=1, pcdrop=1, nosave=N"
							: "");
			return;
		}
	}
	if (migkey_fill(cfg.key, cfg.nonce)) {
		con_printf(
			"migrate: no migration key: set the same on both ferries (migkey <64 hex "
			"digits>, or migration-key in the config)");
		return;
	}
	cfg.session = (u32)(sysreg_read(cntpct_el0) * 2654435761u) ^ ++mig.sessions;
	if (!cfg.session)
		cfg.session = 1;
	memcpy(cfg.local_mac, vnet_info()->mac, 6);
	memset(cfg.peer_mac, 0xff, 6);
	migel2_link_config(&cfg.link);
	ws = migel2_workspace(mig_src_workspace_size(&cfg));
	if (!ws) {
		con_printf("migrate: out of memory for the migration workspace");
		return;
	}
	mig.vm = vm;
	mig.frames_out = mig.corrupted = 0;
	mig.audit_reported = false;
	err = mig_src_init(&mig.src, &cfg, &migel2_src_ops, vm, ws, mig.ws_len);
	if (!err) {
		mig.role = ROLE_SRC;
		con_printf("migrate: vm '%s': %llu MiB, %u vCPU%s, frames of %u bytes, downtime "
			   "budget %llu ms",
			   name, (unsigned long long)(vm->cfg->ram_size >> 20), vm->nvcpus,
			   vm->nvcpus == 1 ? "" : "s", cfg.link.frame_max,
			   (unsigned long long)(cfg.downtime_ns ? cfg.downtime_ns / 1000000 : 50));
		err = mig_src_start(&mig.src);
	}
	if (err) {
		mig.role = ROLE_NONE;
		con_printf("migrate: vm '%s': could not start: %s", name, ferry_strerror(err));
	}
}

static void cmd_migration(void)
{
	const struct vnet_info *ni = vnet_info();
	char line[256];

	if (!vnet_present())
		con_printf("migration: no network device");
	else
		con_printf(
			"migration: NIC virtio-mmio v%u at 0x%llx, MAC %02x:%02x:%02x:%02x:%02x:%02x, "
			"frames up to %u bytes, link %s; sent %llu frames, received %llu",
			ni->version, (unsigned long long)ni->base, ni->mac[0], ni->mac[1],
			ni->mac[2], ni->mac[3], ni->mac[4], ni->mac[5], ni->frame_max,
			ni->link_up ? "up" : "down", (unsigned long long)vnet_stats()->tx_frames,
			(unsigned long long)vnet_stats()->rx_frames);
	if (mig.role == ROLE_SRC)
		mig_src_describe(&mig.src, line, sizeof(line));
	else if (mig.role == ROLE_DST)
		mig_dst_describe(&mig.dst, line, sizeof(line));
	else
		snprintf(line, sizeof(line), "idle");
	con_printf("migration: %s%s%s", mig.role != ROLE_NONE ? mig.vm->cfg->name : "",
		   mig.role != ROLE_NONE ? ": " : "", line);
	if (mig.role != ROLE_NONE) {
		const struct mig_stats *s =
			mig.role == ROLE_SRC ? mig_src_stats(&mig.src) : mig_dst_stats(&mig.dst);

		con_printf("migration: frames failed authentication %llu, stale %llu",
			   (unsigned long long)s->rejected[MIG_REJ_MAC],
			   (unsigned long long)s->stale);
	}
}

#if FERRY_MIG_TEST_HOOKS
/* `incoming norestore=N|off`: the incoming VM listens again, its rehearsal handing state blob N to
 * the decoder one byte short (docs/migration.md, test hooks). */
static void cmd_incoming(char *args)
{
	u64 v;

	if (args && !strcmp(args, "norestore=off")) {
		mig.norestore_blob = 0;
	} else if (args && !strncmp(args, "norestore=", 10) && migel2_parse_u64(args + 10, &v) &&
		   v < 64) {
		mig.norestore_blob = (u32)v + 1;
	} else {
		con_printf("incoming: usage: incoming norestore=N|off");
		return;
	}
	migrate_key_changed(); /* listen again, through the rehearsal */
}
#endif

void migrate_shell(const char *cmd, char *args)
{
	if (!strcmp(cmd, "migrate"))
		cmd_migrate(args);
	else if (!strcmp(cmd, "migration"))
		cmd_migration();
	else if (!strcmp(cmd, "netblast"))
		linkprobe_netblast(args);
	else if (!strcmp(cmd, "netping"))
		linkprobe_netping(args);
	else if (!strcmp(cmd, "migkey"))
		migkey_shell(args);
	else if (!strcmp(cmd, "migbench"))
		migbench_shell();
#if FERRY_MIG_TEST_HOOKS
	else if (!strcmp(cmd, "incoming"))
		cmd_incoming(args);
#endif
}
