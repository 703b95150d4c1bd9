/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2: what it prints. Progress lines on the console, and one JSON summary each end
 * for tools/ferry-migrate. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/console.h"
#include "migrate/mig_el2.h"

/* While the VM is paused, or the destination is about to resume it, the consoles stay quiet: the
 * management CPU writes the UART itself, a register access per character, each one a trip into
 * QEMU under its global lock (docs/qemu-facts.md). The lines come after the commit. */
static bool quiet(bool src)
{
	if (src)
		return mig.src.paused && mig.src.phase < MIG_SRC_LINGER;
	return (mig.dst.stats.t_paused || mig.dst.hash_early) && mig.dst.phase != MIG_DST_FAILED;
}

void migel2_progress_line(bool src, bool force)
{
	char line[256];

	if (quiet(src) && !force)
		return;

	if (src)
		mig_src_describe(&mig.src, line, sizeof(line));
	else
		mig_dst_describe(&mig.dst, line, sizeof(line));
	con_printf("%s: vm '%s': %s", src ? "migrate" : "incoming", mig.vm->cfg->name, line);
	mig.last_progress = migrate_now_ns(NULL);
}

/* ---- summaries: one JSON object each end, for tools/ferry-migrate ---- */

/* The object goes out in console lines of at most JSON_LINE characters (a console line holds
 * 400 with its prefix, and vsnprintf would cut a longer one silently: that once dropped the comma
 * between two fields). Fields are added whole; a field that would not fit starts the next line,
 * its separating comma with it, so the concatenated lines are always the exact object. */
#define JSON_LINE 300

struct json_out {
	const char *who;
	char line[JSON_LINE + 1];
	size_t len;
	bool first_line, first_field;
};

static void json_flush(struct json_out *j, bool last)
{
	con_printf("%s-json%s%s%s", j->who, j->first_line ? ": " : "+ ", j->line, last ? "}" : "");
	j->first_line = false;
	j->len = 0;
	j->line[0] = 0;
}

static void json_field(struct json_out *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void json_field(struct json_out *j, const char *fmt, ...)
{
	char piece[JSON_LINE];
	va_list ap;
	int n;

	piece[0] = ',';
	va_start(ap, fmt);
	n = vsnprintf(piece + 1, sizeof(piece) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(piece) - 1)
		return; /* cannot happen for the fields below; never emit half a field */
	const char *p = j->first_field ? piece + 1 : piece;
	size_t plen = strlen(p);

	if (j->len + plen > JSON_LINE)
		json_flush(j, false);
	memcpy(j->line + j->len, p, plen + 1);
	j->len += plen;
	j->first_field = false;
}

static void json_begin(struct json_out *j, const char *who)
{
	j->who = who;
	j->len = 0;
	j->line[0] = '{';
	j->line[1] = 0;
	j->len = 1;
	j->first_line = j->first_field = true;
}

/* A string value: the VM's name comes from the configuration, so quotes, backslashes and control
 * characters are escaped rather than trusted. */
static void json_str(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
}

/* Durations from two clock readings: never negative (a round a failure cut short has no end yet;
 * it ends at the failure). */
static u64 span(u64 from, u64 to) { return to > from ? to - from : 0; }

void migel2_print_json(const char *who, const struct mig_stats *s, bool ok, const char *why)
{
	const struct vnet_stats *ns = vnet_stats();
	struct json_out j;
	char name[6 * CONFIG_NAME_MAX + 8], why_s[128];
	u64 end = s->t_commit ? s->t_commit : s->t_end;

	json_str(name, sizeof(name), mig.vm->cfg->name);
	json_str(why_s, sizeof(why_s), why);
	json_begin(&j, who);
	json_field(&j, "\"vm\":\"%s\"", name);
	json_field(&j, "\"ok\":%s", ok ? "true" : "false");
	json_field(&j, "\"why\":\"%s\"", why_s);
	json_field(&j, "\"rounds\":%u", s->rounds);
	json_field(&j, "\"final_round\":%u", s->final_round);
#define U64(key, v) json_field(&j, "\"" key "\":%llu", (unsigned long long)(v))
	U64("pages", s->pages_sent);
	U64("zero_pages", s->zero_pages);
	U64("untouched_pages", s->untouched_pages);
	U64("data_bytes", s->data_bytes);
	U64("state_blobs", s->state_blobs);
	U64("state_bytes", s->state_bytes);
	U64("frames_sent", s->frames_sent);
	U64("bytes_sent", s->bytes_sent);
	U64("frames_received", s->frames_received);
	U64("bytes_received", s->bytes_received);
	U64("retransmissions", s->retransmissions);
	U64("fast_retransmissions", s->fast_retransmissions);
	U64("corrupt", s->corrupt);
	U64("auth_failed", s->rejected[MIG_REJ_MAC]);
	U64("stale", s->stale);
	U64("hello_restarts", s->hello_restarts);
	U64("duplicates", s->duplicates);
	U64("reordered", s->reordered);
	U64("corrupted_by_hook", mig.corrupted);
	U64("downtime_ns", s->downtime_ns);
	U64("total_ns", span(s->t_start, end));
	U64("hash_ns", s->hash_ns);
	json_field(&j, "\"local_hash\":\"%016llx\"", (unsigned long long)s->local_hash);
	json_field(&j, "\"peer_hash\":\"%016llx\"", (unsigned long long)s->peer_hash);
	U64("throughput", s->throughput);
	U64("frame_max", mig.role == ROLE_SRC ? mig.src.link.frame_max : mig.dst.link.frame_max);
	U64("nic_tx_busy", ns->tx_busy);
	U64("nic_rx_bad", ns->rx_bad);
	U64("rtt_ns", s->rtt_ns);
	U64("rtt_min_ns", s->rtt_min_ns);
	U64("t_paused_ns", s->t_paused ? span(s->t_start, s->t_paused) : 0);
	U64("t_commit_ns", s->t_commit ? span(s->t_start, s->t_commit) : 0);
	/* The downtime phase by phase (docs/migration.md); resume_ns on the destination. */
	json_field(&j, "\"verify\":\"%s\"", s->verify == MIG_VERIFY_FULL ? "full" : "digest");
	U64("inflight_at_pause", s->inflight_at_pause);
	U64("park_ns", s->park_ns);
	U64("last_collect_ns", s->last_collect_ns);
	U64("last_pages_ns", s->last_pages_ns);
	U64("state_ns", s->state_ns);
	U64("verify_ns", s->verify_ns);
	U64("commit_rtt_ns", s->commit_rtt_ns);
	U64("resume_ns", mig.role == ROLE_DST ? mig.resume_ns : 0);
	U64("commit_ack_ns", s->commit_ack_ns);
	/* The guest's own clock (its virtual counter, in ns) where the source stopped it and where
	 * the destination started it again: a guest's timestamps place themselves against the pause
	 * with these (tools/ferry-migrate finds the guest's gap across it). */
	U64("guest_clock_paused_ns",
	    mig.role == ROLE_SRC && s->t_paused ? migrate_ticks_ns(mig.vcount_at_pause) : 0);
	U64("guest_clock_resumed_ns",
	    mig.role == ROLE_DST ? migrate_ticks_ns(mig.vcount_at_resume) : 0);
	json_field(&j, "\"audit\":\"%s\"",
		   s->audit == MIG_AUDIT_CLEAN     ? "clean"
		   : s->audit == MIG_AUDIT_DIFFERS ? "differs"
		   : s->audit                      ? "unfinished"
						   : "off");
	U64("audit_bad_pages", s->audit_bad_pages);
	json_field(&j, "\"audit_first_bad\":\"0x%llx\"", (unsigned long long)s->audit_first_bad);
	U64("audit_ns", s->audit_ns);
	/* Post-copy (docs/migration.md, "Post-copy"): fault figures are the destination's. */
	json_field(&j, "\"postcopy\":%s", s->pc ? "true" : "false");
	U64("pc_pages", s->pc_pages);
	U64("pc_requested", s->pc_requested);
	U64("pc_requests_late", s->pc_requests_late);
	U64("pc_duplicates", s->pc_duplicates);
	U64("pc_last_page_ns", s->t_pc_last ? span(s->t_commit, s->t_pc_last) : 0);
	U64("pc_total_ns", s->pc ? span(s->t_start, s->t_end) : 0);
	U64("pc_faults", s->pc_faults);
	U64("pc_fault_ns_mean", s->pc_faults ? s->pc_fault_ns_sum / s->pc_faults : 0);
	U64("pc_fault_ns_max", s->pc_fault_ns_max);
	json_field(&j, "\"pc_verify\":\"%s\"",
		   s->pc_verify == MIG_PCV_MATCH     ? "match"
		   : s->pc_verify == MIG_PCV_DIFFERS ? "differs"
		   : s->pc_verify == MIG_PCV_MISSING ? "missing"
						     : "none");
#undef U64
	for (u32 r = 0; r < s->rounds && r < MIG_ROUNDS_MAX; r++) {
		u64 r_end = s->r[r].end_ns ? s->r[r].end_ns : s->t_end;

		json_field(
			&j, "\"r%u\":[%llu,%llu,%llu,%llu]", r, (unsigned long long)s->r[r].pages,
			(unsigned long long)s->r[r].zero_pages, (unsigned long long)s->r[r].bytes,
			(unsigned long long)span(s->r[r].start_ns, r_end));
	}
	json_field(&j, "\"nrounds\":%u", MIN(s->rounds, MIG_ROUNDS_MAX));
	json_flush(&j, true);
}
