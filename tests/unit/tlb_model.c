/* SPDX-License-Identifier: Apache-2.0 */
/* Reference TLB model: see tlb_model.h for the rules it applies. */
#include "tlb_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/tlbi.h"

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (!q) {
		fprintf(stderr, "tlb_model: out of memory\n");
		abort();
	}
	return q;
}

static void set_reserve(struct tlb_model_set *s, size_t n)
{
	if (n <= s->cap)
		return;
	s->cap = MAX(n, 2 * s->cap + 8);
	s->r = xrealloc(s->r, s->cap * sizeof(*s->r));
}

static void set_add(struct tlb_model_set *s, u64 a, u64 b)
{
	size_t i = 0, j;

	if (a >= b)
		return;
	while (i < s->n && s->r[i].end < a)
		i++;
	j = i;
	while (j < s->n && s->r[j].start <= b) {
		a = MIN(a, s->r[j].start);
		b = MAX(b, s->r[j].end);
		j++;
	}
	/* Replace r[i..j) by [a, b). */
	set_reserve(s, s->n + 1);
	memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(*s->r));
	s->n = s->n - (j - i) + 1;
	s->r[i] = (struct tlb_model_range){ a, b };
}

static void set_remove(struct tlb_model_set *s, u64 a, u64 b)
{
	size_t w = 0;
	struct tlb_model_range *out;

	if (a >= b || !s->n)
		return;
	out = xrealloc(NULL, (s->n + 1) * sizeof(*out));
	for (size_t i = 0; i < s->n; i++) {
		struct tlb_model_range r = s->r[i];

		if (r.end <= a || r.start >= b) {
			out[w++] = r;
			continue;
		}
		if (r.start < a)
			out[w++] = (struct tlb_model_range){ r.start, a };
		if (r.end > b)
			out[w++] = (struct tlb_model_range){ b, r.end };
	}
	free(s->r);
	s->r = out;
	s->n = w;
	s->cap = s->n + 1;
}

static struct tlb_model_vm *vm_of(struct tlb_model *m, u16 vmid, bool create)
{
	for (int i = 0; i < TLB_MODEL_VMIDS; i++)
		if (m->vm[i].used && m->vm[i].vmid == vmid)
			return &m->vm[i];
	if (!create)
		return NULL;
	for (int i = 0; i < TLB_MODEL_VMIDS; i++)
		if (!m->vm[i].used) {
			m->vm[i].used = true;
			m->vm[i].vmid = vmid;
			return &m->vm[i];
		}
	fprintf(stderr, "tlb_model: more than %d VMIDs\n", TLB_MODEL_VMIDS);
	abort();
}

static const struct tlb_model_vm *vm_of_const(const struct tlb_model *m, u16 vmid)
{
	for (int i = 0; i < TLB_MODEL_VMIDS; i++)
		if (m->vm[i].used && m->vm[i].vmid == vmid)
			return &m->vm[i];
	return NULL;
}

void tlb_model_init(struct tlb_model *m) { memset(m, 0, sizeof(*m)); }

void tlb_model_free(struct tlb_model *m)
{
	for (int i = 0; i < TLB_MODEL_VMIDS; i++) {
		for (int l = 0; l < 4; l++)
			free(m->vm[i].s2[l].r);
		free(m->vm[i].combined.r);
	}
	free(m->pending);
	memset(m, 0, sizeof(*m));
}

static u64 block_pages(int level) { return 1ULL << (9 * (3 - level)); }

void tlb_model_fill_s2(struct tlb_model *m, u16 vmid, u64 first, u64 pages, int level)
{
	u64 bs = block_pages(level);

	if (level < 1 || level > 3 || first % bs || pages % bs) {
		fprintf(stderr, "tlb_model: fill of level %d not block-aligned\n", level);
		abort();
	}
	set_add(&vm_of(m, vmid, true)->s2[level], first, first + pages);
}

void tlb_model_fill_combined(struct tlb_model *m, u16 vmid, u64 first, u64 pages)
{
	set_add(&vm_of(m, vmid, true)->combined, first, first + pages);
}

void tlb_model_write_tables(struct tlb_model *m) { m->tables_unordered = true; }

static void apply(struct tlb_model *m, const struct tlb_model_pending *p)
{
	struct tlb_model_vm *vm = vm_of(m, p->vmid, false);
	struct tlbi_cover c;

	m->completed_ops++;
	if (!vm || p->ineffective)
		return;
	tlbi_op_cover(p->kind, p->operand, &c);
	if (c.unpredictable) {
		m->unpredictable_ops++;
		return;
	}
	if (c.all_stage2)
		for (int l = 1; l <= 3; l++)
			vm->s2[l].n = 0;
	if (c.all_stage1)
		vm->combined.n = 0;
	if (!c.pages)
		return;
	for (int l = 1; l <= 3; l++) {
		u64 bs = block_pages(l);

		if (c.level > 0 && c.level != l)
			continue;
		/* Every block entry of this level that would translate any IPA of the op. */
		set_remove(&vm->s2[l], c.start_page / bs * bs,
			   (c.start_page + c.pages + bs - 1) / bs * bs);
	}
}

void tlb_model_event(struct tlb_model *m, unsigned kind, u16 vmid, u64 operand)
{
	switch (kind) {
	case FAKE_DSB_ISHST:
		m->tables_unordered = false;
		break;
	case FAKE_DSB_ISH:
		m->tables_unordered = false;
		for (size_t i = 0; i < m->npending; i++)
			apply(m, &m->pending[i]);
		m->npending = 0;
		break;
	case FAKE_ISB:
		break;
	default:
		if (m->npending == m->cap_pending) {
			m->cap_pending = 2 * m->cap_pending + 64;
			m->pending = xrealloc(m->pending, m->cap_pending * sizeof(*m->pending));
		}
		if (m->tables_unordered)
			m->ordering_violations++;
		m->pending[m->npending++] = (struct tlb_model_pending){
			vmid,
			kind,
			operand,
			m->tables_unordered,
		};
		break;
	}
}

void tlb_model_observer(const struct fake_arch_event *ev, void *ctx)
{
	tlb_model_event(ctx, ev->kind, ev->vmid, ev->operand);
}

u64 tlb_model_stale_s2(const struct tlb_model *m, u16 vmid, u64 first, u64 pages,
		       struct tlb_model_range *out, size_t max, size_t *nout)
{
	const struct tlb_model_vm *vm = vm_of_const(m, vmid);
	struct tlb_model_set all = { 0 };
	u64 end = first + pages, stale = 0;

	*nout = 0;
	if (!vm)
		return 0;
	/* Union over the levels, clipped to the query (set_add merges). */
	for (int l = 1; l <= 3; l++)
		for (size_t i = 0; i < vm->s2[l].n; i++) {
			struct tlb_model_range r = vm->s2[l].r[i];

			set_add(&all, MAX(r.start, first), MIN(r.end, end));
		}
	for (size_t i = 0; i < all.n; i++) {
		stale += all.r[i].end - all.r[i].start;
		if (i < max)
			out[i] = all.r[i];
	}
	*nout = MIN(all.n, max);
	free(all.r);
	return stale;
}

u64 tlb_model_stale_combined(const struct tlb_model *m, u16 vmid, u64 first, u64 pages)
{
	const struct tlb_model_vm *vm = vm_of_const(m, vmid);
	u64 end = first + pages, stale = 0;

	if (!vm)
		return 0;
	for (size_t i = 0; i < vm->combined.n; i++) {
		u64 a = MAX(vm->combined.r[i].start, first), b = MIN(vm->combined.r[i].end, end);

		if (a < b)
			stale += b - a;
	}
	return stale;
}
