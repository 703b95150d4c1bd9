/* SPDX-License-Identifier: Apache-2.0 */
/* The shell's `netblast` and `netping` (linkprobe.h), and every ferry's answers to them: a ferry
 * with a NIC times the blasts it receives and answers every ping, whatever else it is doing. */
#include <stdio.h>
#include <string.h>

#include "core/console.h"
#include "migrate/linkprobe.h"
#include "migrate/mig_el2.h"
#include "migrate/migrate_el2.h"

static const u8 broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* netblast receiver */
static struct {
	u64 frames, bytes, t0, t_last;
	u32 total;
} blast;

static struct netping ping;

/* A count in 1..max. */
static bool parse_count(const char *s, u64 max, u64 *out)
{
	return migel2_parse_u64(s, out) && *out && *out <= max;
}

/* netblast <MiB>: frames of the largest size, as fast as the NIC takes them, to every peer. The
 * receiving ferry times them: the raw link rate migration's goodput is compared with. The shell
 * waits for the NIC meanwhile, as a migration's source does with a full ring. */
void linkprobe_netblast(char *args)
{
	struct linkprobe_hdr h = { .kind = LINKPROBE_BLAST };
	u64 mib, total, t0, sent = 0;
	u32 len = vnet_present() ? vnet_info()->frame_max : 0;

	if (!parse_count(args, 65536, &mib)) {
		con_printf("usage: netblast <MiB>   (1..65536)");
		return;
	}
	if (!len) {
		con_printf("netblast: no network device");
		return;
	}
	total = (mib << 20) / len + 1;
	memset(mig.scratch, 0, len);
	h.count = (u32)total;
	t0 = migrate_now_ns(NULL);
	while (sent < total) {
		h.seq = (u32)sent;
		linkprobe_put(mig.scratch, broadcast, vnet_info()->mac, &h);
		if (vnet_send(mig.scratch, len) == 0)
			sent++;
		else
			vnet_poll();
	}
	u64 dt = migrate_now_ns(NULL) - t0;

	con_printf("netblast: sent %llu frames of %u bytes (%llu MiB) in %llu ms",
		   (unsigned long long)sent, len, (unsigned long long)(sent * len >> 20),
		   (unsigned long long)(dt / 1000000));
}

/* netping [N]: N pings (20 by default) to every peer, one at a time, driven by the management
 * loop: between them the CPU sleeps on the NIC's interrupt as it does in a migration, so that a
 * round trip includes waking both ends, as a migration's does. */
void linkprobe_netping(char *args)
{
	u64 n = 20;

	if (args && *args && !parse_count(args, NETPING_MAX, &n)) {
		con_printf("usage: netping [N]   (1..%u, default 20)", NETPING_MAX);
		return;
	}
	if (!vnet_present()) {
		con_printf("netping: no network device");
		return;
	}
	if (ping.active) {
		con_printf("netping: one is under way");
		return;
	}
	netping_start(&ping, (u32)n, migrate_now_ns(NULL));
}

static void send_probe(const u8 dst[6], u8 kind, u32 seq, u32 count)
{
	struct linkprobe_hdr h = { .kind = kind, .seq = seq, .count = count };
	u8 f[LINKPROBE_MIN_FRAME] = { 0 };

	linkprobe_put(f, dst, vnet_info()->mac, &h);
	/* A ring with no free slot drops it: the pinger counts it lost. */
	(void)vnet_send(f, sizeof(f));
}

static void blast_rx(const struct linkprobe_hdr *h, size_t len, u64 now)
{
	if (h->seq == 0 || !blast.frames) {
		blast.frames = blast.bytes = 0;
		blast.t0 = now;
		blast.total = h->count;
	}
	blast.frames++;
	blast.bytes += len;
	blast.t_last = now;
}

void linkprobe_rx(const u8 *f, size_t len)
{
	struct linkprobe_hdr h;
	u64 now = migrate_now_ns(NULL);

	if (!linkprobe_parse(f, len, &h))
		return;
	if (h.kind == LINKPROBE_BLAST)
		blast_rx(&h, len, now);
	else if (h.kind == LINKPROBE_PING)
		send_probe(f + 6, LINKPROBE_PONG, h.seq, h.count);
	else
		netping_answer(&ping, h.seq, now);
}

static void blast_report(u64 now)
{
	u64 dt;

	if (!blast.frames)
		return;
	/* Done when the last frame came, or when nothing came for 500 ms (frames were lost). */
	if (blast.frames < blast.total && now - blast.t_last < 500000000ULL)
		return;
	dt = blast.t_last - blast.t0;
	con_printf("netblast: received %llu of %u frames, %llu bytes in %llu us: %llu MB/s",
		   (unsigned long long)blast.frames, blast.total, (unsigned long long)blast.bytes,
		   (unsigned long long)(dt / 1000),
		   (unsigned long long)(dt ? blast.bytes * 1000 / dt : 0));
	blast.frames = 0;
}

bool linkprobe_poll(void)
{
	u64 now = migrate_now_ns(NULL);
	struct netping_summary s;
	u32 seq;

	blast_report(now);
	if (netping_due(&ping, now, &seq)) {
		send_probe(broadcast, LINKPROBE_PING, seq, ping.count);
		return true;
	}
	if (!netping_finished(&ping))
		return false;
	netping_summarize(&ping, &s);
	con_printf(
		"netping: %u of %u answered, round trip min %llu us, median %llu us, max %llu us",
		s.answered, s.sent, (unsigned long long)(s.min_ns / 1000),
		(unsigned long long)(s.median_ns / 1000), (unsigned long long)(s.max_ns / 1000));
	return true;
}
