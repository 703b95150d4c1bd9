/* SPDX-License-Identifier: Apache-2.0 */
/* TLBI operand encoders and decoders, what each op covers, and the text forms of ops.
 *
 * Encoders and decoders are separate, total functions: an encoder range-checks every field and
 * refuses (FERRY_EINVAL) what the operand cannot represent, because the seed bug was a value that
 * wrapped into neighbouring fields; a decoder reads every bit the way the hardware does, so the
 * sanitizer, the reference TLB model and tools/tlbi all see what a PE would see. */
#include "mm/tlbi.h"

/* Field positions, Arm ARM C5.5 (RIPAS2E1IS and IPAS2E1IS operand layouts). */
#define RANGE_BASE_HI 36
#define RANGE_TTL_LO 37
#define RANGE_NUM_LO 39
#define RANGE_SCALE_LO 44
#define RANGE_TG_LO 46
#define HIGH_LO 48
#define IPA_PAGE_HI 39
#define IPA_TTL_LO 44

void tlbi_caps_from_idregs(u64 id_aa64isar0, u64 id_aa64mmfr2, struct tlbi_caps *caps)
{
	/* ISAR0.TLB: 0b0001 = TLBI *OS only, 0b0010 = outer shareable and range ops. */
	caps->range = FIELD_GET(id_aa64isar0, 59, 56) == 2;
	caps->ttl = FIELD_GET(id_aa64mmfr2, 51, 48) != 0;
}

const char *tlbi_algo_name(enum tlbi_algo algo)
{
	switch (algo) {
	case TLBI_ALGO_FERRY:
		return "ferry";
	case TLBI_ALGO_LINUX_6_6:
		return "linux-6.6";
	case TLBI_ALGO_LINUX_6_8:
		return "linux-6.8";
	case TLBI_ALGO_LINUX_FIXED:
		return "linux-fixed";
	case TLBI_ALGO_FERRY_OVER:
		return "ferry-over";
	default:
		return "?";
	}
}

const char *tlbi_kind_name(unsigned kind)
{
	switch (kind) {
	case TLBI_IPAS2E1IS:
		return "IPAS2E1IS";
	case TLBI_RIPAS2E1IS:
		return "RIPAS2E1IS";
	case TLBI_VMALLS12E1IS:
		return "VMALLS12E1IS";
	case TLBI_VMALLE1IS:
		return "VMALLE1IS";
	default:
		return "TLBI?";
	}
}

int tlbi_range_encode(const struct tlbi_range_fields *f, u64 *operand)
{
	if (f->base_page > GENMASK(RANGE_BASE_HI, 0) || f->ttl > 3 || f->num > 31 || f->scale > 3 ||
	    f->tg == 0 || f->tg > 3 || f->high != 0)
		return FERRY_EINVAL;
	*operand = f->base_page | (u64)f->ttl << RANGE_TTL_LO | (u64)f->num << RANGE_NUM_LO |
		   (u64)f->scale << RANGE_SCALE_LO | (u64)f->tg << RANGE_TG_LO;
	return 0;
}

void tlbi_range_decode(u64 operand, struct tlbi_range_fields *f)
{
	f->base_page = FIELD_GET(operand, RANGE_BASE_HI, 0);
	f->ttl = (u32)FIELD_GET(operand, 38, RANGE_TTL_LO);
	f->num = (u32)FIELD_GET(operand, 43, RANGE_NUM_LO);
	f->scale = (u32)FIELD_GET(operand, 45, RANGE_SCALE_LO);
	f->tg = (u32)FIELD_GET(operand, 47, RANGE_TG_LO);
	f->high = (u32)FIELD_GET(operand, 63, HIGH_LO);
}

u64 tlbi_range_pages(const struct tlbi_range_fields *f)
{
	return (u64)(f->num + 1) << (5 * f->scale + 1);
}

bool tlbi_range_ipa_span(const struct tlbi_range_fields *f, u64 *start, u64 *end)
{
	if (f->tg != TLBI_TG_4K) {
		*start = *end = 0;
		return false;
	}
	*start = f->base_page << PAGE_SHIFT;
	*end = *start + (tlbi_range_pages(f) << PAGE_SHIFT);
	return true;
}

int tlbi_ipa_encode(const struct tlbi_ipa_fields *f, u64 *operand)
{
	if (f->ipa_page > GENMASK(IPA_PAGE_HI, 0) || f->ttl > 15 || f->high != 0 ||
	    f->res0_43_40 != 0)
		return FERRY_EINVAL;
	*operand = f->ipa_page | (u64)f->ttl << IPA_TTL_LO;
	return 0;
}

void tlbi_ipa_decode(u64 operand, struct tlbi_ipa_fields *f)
{
	f->ipa_page = FIELD_GET(operand, IPA_PAGE_HI, 0);
	f->res0_43_40 = (u32)FIELD_GET(operand, 43, 40);
	f->ttl = (u32)FIELD_GET(operand, 47, IPA_TTL_LO);
	f->high = (u32)FIELD_GET(operand, 63, HIGH_LO);
}

void tlbi_op_cover(unsigned kind, u64 operand, struct tlbi_cover *c)
{
	struct tlbi_range_fields rf;
	struct tlbi_ipa_fields pf;

	c->start_page = 0;
	c->pages = 0;
	c->level = -1;
	c->all_stage2 = false;
	c->all_stage1 = false;
	c->unpredictable = false;
	switch (kind) {
	case TLBI_IPAS2E1IS:
		tlbi_ipa_decode(operand, &pf);
		c->start_page = pf.ipa_page;
		/* TTL<3:2> names the granule of the entry; a 16K/64K claim is "an incorrect value of
		 * the TTL field" for our 4K entries, and then nothing is required to go. 0b0100 without
		 * LPA2 is treated as "no information". */
		if ((pf.ttl >> 2) == 0 || pf.ttl == 4) {
			c->pages = 1;
		} else if ((pf.ttl >> 2) == 1) {
			c->pages = 1;
			c->level = (int)(pf.ttl & 3);
		}
		break;
	case TLBI_RIPAS2E1IS:
		tlbi_range_decode(operand, &rf);
		if (rf.tg != TLBI_TG_4K)
			break;
		c->start_page = rf.base_page;
		c->pages = tlbi_range_pages(&rf);
		if (rf.ttl)
			c->level = (int)rf.ttl;
		/* 4K: TTL 0b01 needs BaseADDR[29:12] zero, TTL 0b10 needs BaseADDR[20:12] zero. */
		if ((rf.ttl == 1 && (rf.base_page & GENMASK(17, 0))) ||
		    (rf.ttl == 2 && (rf.base_page & GENMASK(8, 0))))
			c->unpredictable = true;
		break;
	case TLBI_VMALLS12E1IS:
		c->all_stage2 = true;
		c->all_stage1 = true;
		break;
	case TLBI_VMALLE1IS:
		c->all_stage1 = true;
		break;
	default:
		break;
	}
}

void tlbi_cover_widen(struct tlbi_cover *c, int level)
{
	if (level <= 0)
		level = c->level;
	if (level <= 0 || level > 3 || !c->pages)
		return;
	u64 bs = 1ULL << (9 * (3 - level));
	u64 end = ALIGN_UP(c->start_page + c->pages, bs);

	c->start_page = ALIGN_DOWN(c->start_page, bs);
	c->pages = end - c->start_page;
}

void tlbi_line_init(struct tlbi_line *l)
{
	l->len = 0;
	l->cut = false;
	l->buf[0] = '\0';
}

static void line_putc(struct tlbi_line *l, char ch)
{
	if (l->len + 1 >= sizeof(l->buf)) {
		l->cut = true;
		return;
	}
	l->buf[l->len++] = ch;
	l->buf[l->len] = '\0';
}

void tlbi_line_str(struct tlbi_line *l, const char *s)
{
	while (*s)
		line_putc(l, *s++);
}

void tlbi_line_hex(struct tlbi_line *l, u64 v)
{
	static const char digits[] = "0123456789abcdef";
	int shift = 60;

	tlbi_line_str(l, "0x");
	while (shift > 0 && ((v >> shift) & 0xf) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		line_putc(l, digits[(v >> shift) & 0xf]);
}

void tlbi_line_dec(struct tlbi_line *l, u64 v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		line_putc(l, tmp[--n]);
}

void tlbi_line_pages(struct tlbi_line *l, u64 start_page, u64 pages)
{
	tlbi_line_str(l, "IPA ");
	tlbi_line_hex(l, start_page << PAGE_SHIFT);
	tlbi_line_str(l, "-");
	tlbi_line_hex(l, ((start_page + pages) << PAGE_SHIFT) - 1);
	tlbi_line_str(l, " (");
	tlbi_line_dec(l, pages);
	tlbi_line_str(l, pages == 1 ? " page)" : " pages)");
}

/* ": " and the pages an IPA-based operation covers, or `none` and why when it covers none. */
static void line_cover(struct tlbi_line *l, const struct tlbi_cover *c, const char *none)
{
	tlbi_line_str(l, ": ");
	if (c->pages)
		tlbi_line_pages(l, c->start_page, c->pages);
	else
		tlbi_line_str(l, none);
}

void tlbi_line_op(struct tlbi_line *l, unsigned kind, u64 operand)
{
	struct tlbi_range_fields rf;
	struct tlbi_ipa_fields pf;
	struct tlbi_cover c;

	tlbi_line_str(l, tlbi_kind_name(kind));
	tlbi_op_cover(kind, operand, &c);
	switch (kind) {
	case TLBI_RIPAS2E1IS:
		tlbi_range_decode(operand, &rf);
		tlbi_line_str(l, " ");
		tlbi_line_hex(l, operand);
		tlbi_line_str(l, " SCALE ");
		tlbi_line_dec(l, rf.scale);
		tlbi_line_str(l, " NUM ");
		tlbi_line_dec(l, rf.num);
		tlbi_line_str(l, " TTL ");
		tlbi_line_dec(l, rf.ttl);
		if (rf.high) {
			tlbi_line_str(l, " [63:48]=");
			tlbi_line_hex(l, rf.high);
		}
		line_cover(l, &c, "nothing (TG is not 4K)");
		break;
	case TLBI_IPAS2E1IS:
		tlbi_ipa_decode(operand, &pf);
		tlbi_line_str(l, " ");
		tlbi_line_hex(l, operand);
		if (pf.ttl) {
			tlbi_line_str(l, " TTL ");
			tlbi_line_dec(l, pf.ttl);
		}
		line_cover(l, &c, "nothing (TTL names another granule)");
		break;
	case TLBI_VMALLS12E1IS:
		tlbi_line_str(l, ": every stage-1, stage-2 and combined entry of the VMID");
		break;
	case TLBI_VMALLE1IS:
		tlbi_line_str(l, ": every stage-1 and combined stage-1+2 entry of the VMID");
		break;
	default:
		tlbi_line_str(l, " ");
		tlbi_line_hex(l, operand);
		break;
	}
	if (c.level > 0) {
		tlbi_line_str(l, " (level ");
		tlbi_line_dec(l, (u64)c.level);
		tlbi_line_str(l, " leaves only)");
	}
	if (c.unpredictable)
		tlbi_line_str(l, " UNPREDICTABLE: BaseADDR not aligned to the TTL level");
}

int tlbi_op_describe(unsigned kind, u64 operand, char *buf, size_t len)
{
	struct tlbi_line l;
	size_t i;

	if (!len)
		return FERRY_ERANGE;
	tlbi_line_init(&l);
	tlbi_line_op(&l, kind, operand);
	for (i = 0; i + 1 < len && i < l.len; i++)
		buf[i] = l.buf[i];
	buf[i] = '\0';
	return (l.cut || i < l.len) ? FERRY_ERANGE : 0;
}
