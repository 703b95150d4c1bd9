/* SPDX-License-Identifier: Apache-2.0 */
/* The raw link measurements' frames and netping's bookkeeping (linkprobe.h). */
#include "migrate/linkprobe.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

void linkprobe_put(u8 *f, const u8 dst[6], const u8 src[6], const struct linkprobe_hdr *h)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = LINKPROBE_ETHERTYPE >> 8;
	f[13] = LINKPROBE_ETHERTYPE & 0xff;
	f[14] = h->kind;
	f[15] = f[16] = f[17] = 0;
	put_le32(f + 18, h->seq);
	put_le32(f + 22, h->count);
}

bool linkprobe_parse(const u8 *f, size_t len, struct linkprobe_hdr *h)
{
	if (len < LINKPROBE_HDR_LEN || (u16)(f[12] << 8 | f[13]) != LINKPROBE_ETHERTYPE)
		return false;
	h->kind = f[14];
	h->seq = get_le32(f + 18);
	h->count = get_le32(f + 22);
	return h->kind >= LINKPROBE_BLAST && h->kind <= LINKPROBE_PONG;
}

bool netping_start(struct netping *p, u32 count, u64 now)
{
	u32 seq = p->seq;

	if (!count || count > NETPING_MAX)
		return false;
	memset(p, 0, sizeof(*p));
	p->seq = seq; /* on from the last run: its late answers match nothing here */
	p->active = true;
	p->count = count;
	p->next_ns = now;
	return true;
}

bool netping_due(struct netping *p, u64 now, u32 *seq)
{
	if (!p->active)
		return false;
	if (p->waiting) {
		if (now - p->t_sent < NETPING_TIMEOUT_NS)
			return false;
		p->waiting = false; /* lost: the next goes at once */
		p->next_ns = now;
	}
	if (p->sent == p->count || now < p->next_ns)
		return false;
	p->seq++;
	p->sent++;
	p->waiting = true;
	p->t_sent = now;
	*seq = p->seq;
	return true;
}

bool netping_answer(struct netping *p, u32 seq, u64 now)
{
	if (!p->active || !p->waiting || seq != p->seq)
		return false;
	p->rtt[p->answered++] = now - p->t_sent;
	p->waiting = false;
	p->next_ns = now + NETPING_GAP_NS;
	return true;
}

bool netping_finished(const struct netping *p)
{
	return p->active && p->sent == p->count && !p->waiting;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

void netping_summarize(struct netping *p, struct netping_summary *s)
{
	u32 n = p->answered;

	memset(s, 0, sizeof(*s));
	s->sent = p->sent;
	s->answered = n;
	p->active = false;
	if (!n)
		return;
	qsort(p->rtt, n, sizeof(p->rtt[0]), cmp_u64);
	s->min_ns = p->rtt[0];
	s->max_ns = p->rtt[n - 1];
	/* The lower median for an even count: a time one ping really took. */
	s->median_ns = p->rtt[(n - 1) / 2];
}
