/* SPDX-License-Identifier: Apache-2.0 */
/* The migration wire format: sealing and checking frames, encoding and decoding payloads. Every
 * byte layout here is documented in docs/migration-protocol.md; a change to one is a new version.
 *
 * Fields are read and written byte by byte, never through a cast pointer: frames arrive at any
 * alignment (the payload starts 54 bytes into a frame) and EL2 code runs with -mstrict-align. */
#include "migrate/mig_wire.h"

#include <stdio.h>
#include <string.h>

/* Offsets inside the migration header (which starts at MIG_ETH_HDR_LEN). */
enum {
	H_MAGIC = 0,
	H_VERSION = 4,
	H_TYPE = 5,
	H_FLAGS = 6,
	H_SESSION = 8,
	H_SEQ = 12,
	H_ACK = 16,
	H_SACK = 20,
	H_LEN = 24,
	H_CTR = 28, /* 8 bytes: the sender's transmission counter, the tag's nonce */
};
_Static_assert(H_CTR + 8 == MIG_HDR_LEN, "header layout");

static bool type_is_sequenced(u32 type) { return type != MIG_T_ACK && type != MIG_T_ABORT; }

int mig_frame_seal(u8 *frame, size_t cap, const u8 dst[6], const u8 src[6], const struct mig_hdr *h,
		   struct mig_auth *a)
{
	size_t len = MIG_FRAME_COST + (size_t)h->payload_len;
	u8 *hp = frame + MIG_ETH_HDR_LEN;
	int rc;

	if (len > cap || len > MIG_FRAME_MAX)
		return FERRY_EINVAL;
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = (u8)(MIG_ETHERTYPE >> 8);
	frame[13] = (u8)MIG_ETHERTYPE;
	put_le32(hp + H_MAGIC, MIG_MAGIC);
	hp[H_VERSION] = h->version;
	hp[H_TYPE] = h->type;
	put_le16(hp + H_FLAGS, h->flags);
	put_le32(hp + H_SESSION, h->session);
	put_le32(hp + H_SEQ, h->seq);
	put_le32(hp + H_LEN, h->payload_len);
	rc = mig_frame_update_ack(frame, h->ack, h->sack, a);
	if (rc)
		return rc;
	if (len < MIG_ETH_MIN_FRAME) {
		if (cap < MIG_ETH_MIN_FRAME)
			return FERRY_EINVAL;
		memset(frame + len, 0, MIG_ETH_MIN_FRAME - len);
		len = MIG_ETH_MIN_FRAME;
	}
	return (int)len;
}

int mig_frame_update_ack(u8 *frame, u32 ack, u32 sack, struct mig_auth *a)
{
	u8 *hp = frame + MIG_ETH_HDR_LEN;
	size_t flen = MIG_FRAME_OVERHEAD + (size_t)get_le32(hp + H_LEN);
	u64 ctr = mig_auth_next(a);

	put_le32(hp + H_ACK, ack);
	put_le32(hp + H_SACK, sack);
	put_le64(hp + H_CTR, ctr);
	/* The tag covers the Ethernet header too: the frame is bound to the addresses it was
	 * sealed for, so a copy re-addressed elsewhere does not verify. */
	return mig_auth_tag(a, hp[H_TYPE], ctr, frame, flen, frame + flen);
}

static enum mig_reject payload_check(const struct mig_frame *f)
{
	const u8 *p = f->payload;
	u32 len = f->hdr.payload_len;
	int rc = 0;

	switch (f->hdr.type) {
	case MIG_T_HELLO:
	case MIG_T_WELCOME: {
		struct mig_hello h;

		rc = mig_hello_decode(p, len, &h);
		break;
	}
	case MIG_T_REFUSE: {
		struct mig_refusal r;

		rc = mig_refusal_decode(p, len, &r);
		break;
	}
	case MIG_T_PAGES: {
		struct mig_pages_iter it;
		struct mig_page_rec rec;

		rc = mig_pages_iter_init(&it, p, len);
		while (!rc && (rc = mig_pages_iter_next(&it, &rec)) == 1)
			rc = 0;
		break;
	}
	case MIG_T_STATE: {
		struct mig_state_iter it;
		struct mig_state_chunk c;

		rc = mig_state_iter_init(&it, p, len);
		while (!rc && (rc = mig_state_iter_next(&it, &c)) == 1)
			rc = 0;
		break;
	}
	case MIG_T_HASH: {
		struct mig_hash_msg h;

		rc = mig_hash_decode(p, len, &h);
		break;
	}
	case MIG_T_COMMIT:
		rc = len == MIG_COMMIT_LEN ? 0 : FERRY_EINVAL;
		break;
	case MIG_T_ABORT: {
		struct mig_abort_msg a;

		rc = mig_abort_decode(p, len, &a);
		break;
	}
	case MIG_T_ACK:
		rc = len == 0 ? 0 : FERRY_EINVAL;
		break;
	case MIG_T_PCMAP:
		/* whole words after the header, at least one */
		rc = len > MIG_PCMAP_HDR_LEN && (len - MIG_PCMAP_HDR_LEN) % 8 == 0 ? 0
										   : FERRY_EINVAL;
		break;
	case MIG_T_PCREQ: {
		u32 n = len >= MIG_PCREQ_HDR_LEN ? get_le32(p) : 0;

		rc = n && n <= MIG_PCREQ_MAX && len == MIG_PCREQ_HDR_LEN + 8 * n && !get_le32(p + 4)
			     ? 0
			     : FERRY_EINVAL;
		break;
	}
	case MIG_T_PCDONE:
		rc = len == MIG_PCDONE_LEN && get_le32(p + 8) <= MIG_PCV_MISSING ? 0 : FERRY_EINVAL;
		break;
	default:
		return MIG_REJ_TYPE;
	}
	return rc ? MIG_REJ_PAYLOAD : MIG_REJ_NONE;
}

enum mig_reject mig_frame_parse(const u8 *frame, size_t len, struct mig_frame *out,
				struct mig_auth *a)
{
	const u8 *hp = frame + MIG_ETH_HDR_LEN;
	struct mig_hdr *h = &out->hdr;

	if (len < MIG_ETH_HDR_LEN)
		return MIG_REJ_SHORT;
	if (((u32)frame[12] << 8 | frame[13]) != MIG_ETHERTYPE)
		return MIG_REJ_ETHERTYPE;
	if (len < MIG_FRAME_COST)
		return MIG_REJ_SHORT;
	if (get_le32(hp + H_MAGIC) != MIG_MAGIC)
		return MIG_REJ_MAGIC;
	/* Version before the tag: magic and version are the only fields every version keeps in
	 * place, so a peer speaking another version is told apart from a forged frame. */
	if (hp[H_VERSION] != MIG_VERSION)
		return MIG_REJ_VERSION;
	memcpy(out->dst, frame, 6);
	memcpy(out->src, frame + 6, 6);
	h->version = hp[H_VERSION];
	h->type = hp[H_TYPE];
	h->flags = get_le16(hp + H_FLAGS);
	h->session = get_le32(hp + H_SESSION);
	h->seq = get_le32(hp + H_SEQ);
	h->ack = get_le32(hp + H_ACK);
	h->sack = get_le32(hp + H_SACK);
	h->payload_len = get_le32(hp + H_LEN);
	h->ctr = get_le64(hp + H_CTR);
	out->payload = frame + MIG_FRAME_OVERHEAD;
	if (h->payload_len > len - MIG_FRAME_COST ||
	    h->payload_len > MIG_FRAME_MAX - MIG_FRAME_COST)
		return MIG_REJ_LENGTH;
	/* The tag before anything reads the payload: a frame nobody with the key sealed is
	 * never interpreted. */
	if (a && mig_auth_verify(a, frame, MIG_FRAME_OVERHEAD + (size_t)h->payload_len, h->type,
				 h->session, h->ctr, out->payload, h->payload_len))
		return MIG_REJ_MAC;
	if (h->type == 0 || h->type > MIG_T_MAX || (h->seq != 0) != type_is_sequenced(h->type))
		return MIG_REJ_TYPE;
	return payload_check(out);
}

/* ---- payloads -------------------------------------------------------------------------------- */

static void compat_put(u8 *p, const struct mig_compat *c)
{
	put_le64(p, c->ram_base);
	put_le64(p + 8, c->ram_size);
	put_le64(p + 16, c->cpu_features);
	put_le32(p + 24, c->vcpus);
	put_le32(p + 28, c->page_size);
}

static void compat_get(const u8 *p, struct mig_compat *c)
{
	c->ram_base = get_le64(p);
	c->ram_size = get_le64(p + 8);
	c->cpu_features = get_le64(p + 16);
	c->vcpus = get_le32(p + 24);
	c->page_size = get_le32(p + 28);
}

u32 mig_hello_encode(u8 *p, const struct mig_hello *h)
{
	put_le32(p, h->caps);
	put_le32(p + 4, h->frame_max);
	put_le32(p + 8, h->rx_window);
	put_le32(p + 12, 0);
	compat_put(p + 16, &h->compat);
	memcpy(p + MIG_HELLO_NONCE_OFF, h->nonce, MIG_NONCE_LEN);
	return MIG_HELLO_LEN;
}

int mig_hello_decode(const u8 *p, u32 len, struct mig_hello *h)
{
	if (len != MIG_HELLO_LEN || get_le32(p + 12) != 0)
		return FERRY_EINVAL;
	h->caps = get_le32(p);
	h->frame_max = get_le32(p + 4);
	h->rx_window = get_le32(p + 8);
	compat_get(p + 16, &h->compat);
	memcpy(h->nonce, p + MIG_HELLO_NONCE_OFF, MIG_NONCE_LEN);
	if (h->rx_window == 0)
		return FERRY_EINVAL;
	return 0;
}

u32 mig_refusal_encode(u8 *p, const struct mig_refusal *r)
{
	put_le32(p, r->reason);
	put_le32(p + 4, r->detail);
	compat_put(p + 8, &r->compat);
	memcpy(p + MIG_REFUSE_NONCE_OFF, r->nonce, MIG_NONCE_LEN);
	return MIG_REFUSE_LEN;
}

int mig_refusal_decode(const u8 *p, u32 len, struct mig_refusal *r)
{
	if (len != MIG_REFUSE_LEN)
		return FERRY_EINVAL;
	r->reason = get_le32(p);
	r->detail = get_le32(p + 4);
	compat_get(p + 8, &r->compat);
	memcpy(r->nonce, p + MIG_REFUSE_NONCE_OFF, MIG_NONCE_LEN);
	return 0;
}

int mig_pages_iter_init(struct mig_pages_iter *it, const u8 *payload, u32 len)
{
	if (len < MIG_PAGES_HDR_LEN)
		return FERRY_EINVAL;
	it->p = payload;
	it->len = len;
	it->pos = MIG_PAGES_HDR_LEN;
	it->round = get_le32(payload);
	it->nrec = get_le16(payload + 4);
	it->flags = get_le16(payload + 6);
	it->seen = 0;
	return it->flags == 0 ? 0 : FERRY_EINVAL;
}

int mig_pages_iter_next(struct mig_pages_iter *it, struct mig_page_rec *rec)
{
	const u8 *r;

	if (it->pos == it->len)
		return it->seen == it->nrec ? 0 : FERRY_EINVAL;
	if (it->len - it->pos < MIG_PAGE_REC_LEN || it->seen == it->nrec)
		return FERRY_EINVAL;
	r = it->p + it->pos;
	rec->ipa = get_le64(r);
	rec->kind = r[8];
	rec->offset = get_le16(r + 10);
	rec->length = get_le32(r + 12);
	rec->data = NULL;
	if (r[9] != 0 || !IS_ALIGNED(rec->ipa, (u64)MIG_PAGE_SIZE))
		return FERRY_EINVAL;
	it->pos += MIG_PAGE_REC_LEN;
	switch (rec->kind) {
	case MIG_REC_DATA:
		if (rec->length == 0 || (u32)rec->offset + rec->length > MIG_PAGE_SIZE ||
		    rec->length > it->len - it->pos)
			return FERRY_EINVAL;
		rec->data = it->p + it->pos;
		it->pos += rec->length;
		break;
	case MIG_REC_ZERO:
		if (rec->length == 0 || rec->offset != 0)
			return FERRY_EINVAL;
		break;
	default:
		return FERRY_EINVAL;
	}
	it->seen++;
	return 1;
}

int mig_state_iter_init(struct mig_state_iter *it, const u8 *payload, u32 len)
{
	*it = (struct mig_state_iter){ .p = payload, .len = len };
	return len < MIG_STATE_HDR_LEN ? FERRY_EINVAL : 0; /* at least one chunk */
}

int mig_state_iter_next(struct mig_state_iter *it, struct mig_state_chunk *c)
{
	const u8 *p = it->p + it->pos;
	u32 room = it->len - it->pos;

	if (room == 0)
		return 0;
	if (room < MIG_STATE_HDR_LEN)
		return FERRY_EINVAL;
	c->index = get_le32(p);
	c->tag = get_le32(p + 4);
	c->total_len = get_le32(p + 8);
	c->offset = get_le32(p + 12);
	if (c->index >= MIG_STATE_BLOBS_MAX || c->total_len > MIG_STATE_BLOB_MAX ||
	    c->offset > c->total_len)
		return FERRY_EINVAL;
	room -= MIG_STATE_HDR_LEN;
	c->len = MIN(c->total_len - c->offset, room);
	c->data = p + MIG_STATE_HDR_LEN;
	/* Only an empty blob may have an empty chunk: a zero-length chunk elsewhere makes no
	 * progress. */
	if (c->len == 0 && c->total_len != 0)
		return FERRY_EINVAL;
	/* A chunk that follows another in the frame begins the blob after that one's. */
	if (it->nchunks && (c->offset != 0 || c->index != it->next_index))
		return FERRY_EINVAL;
	it->pos += MIG_STATE_HDR_LEN + c->len;
	it->nchunks++;
	it->next_index = c->index + 1;
	return 1;
}

u32 mig_state_put_hdr(u8 *p, u32 index, u32 tag, u32 total_len, u32 offset)
{
	put_le32(p, index);
	put_le32(p + 4, tag);
	put_le32(p + 8, total_len);
	put_le32(p + 12, offset);
	return MIG_STATE_HDR_LEN;
}

u32 mig_hash_encode(u8 *p, const struct mig_hash_msg *h)
{
	put_le64(p, h->hash);
	put_le64(p + 8, h->pages);
	put_le32(p + 16, h->blobs);
	put_le32(p + 20, h->final_round);
	return MIG_HASH_LEN;
}

int mig_hash_decode(const u8 *p, u32 len, struct mig_hash_msg *h)
{
	if (len != MIG_HASH_LEN)
		return FERRY_EINVAL;
	h->hash = get_le64(p);
	h->pages = get_le64(p + 8);
	h->blobs = get_le32(p + 16);
	h->final_round = get_le32(p + 20);
	return 0;
}

u32 mig_abort_encode(u8 *p, const struct mig_abort_msg *a)
{
	put_le32(p, a->reason);
	put_le32(p + 4, 0);
	put_le64(p + 8, a->detail);
	return MIG_ABORT_LEN;
}

int mig_abort_decode(const u8 *p, u32 len, struct mig_abort_msg *a)
{
	if (len != MIG_ABORT_LEN || get_le32(p + 4) != 0)
		return FERRY_EINVAL;
	a->reason = get_le32(p);
	a->detail = get_le64(p + 8);
	return 0;
}

/* ---- compatibility --------------------------------------------------------------------------- */

enum mig_refuse mig_compat_check(const struct mig_compat *src, const struct mig_compat *dst)
{
	if (src->page_size != dst->page_size || src->page_size != MIG_PAGE_SIZE)
		return MIG_REFUSE_PAGE_SIZE;
	if (src->ram_base != dst->ram_base)
		return MIG_REFUSE_RAM_BASE;
	if (src->ram_size != dst->ram_size || src->ram_size % MIG_PAGE_SIZE || !src->ram_size)
		return MIG_REFUSE_RAM_SIZE;
	if (src->vcpus != dst->vcpus)
		return MIG_REFUSE_VCPUS;
	/* A guest that has seen a feature keeps using it: the destination must offer every one. */
	if (src->cpu_features & ~dst->cpu_features)
		return MIG_REFUSE_CPU_FEATURES;
	return MIG_REFUSE_NONE;
}

/* "64 MiB", "1 GiB", "12 KiB" or bytes: exact, because a refusal must show the real difference. */
static int format_size(char *buf, size_t len, u64 v)
{
	if (v && !(v % SZ_1G))
		return snprintf(buf, len, "%llu GiB", (unsigned long long)(v / SZ_1G));
	if (v && !(v % (1ULL << 20)))
		return snprintf(buf, len, "%llu MiB", (unsigned long long)(v >> 20));
	if (v && !(v % 1024))
		return snprintf(buf, len, "%llu KiB", (unsigned long long)(v >> 10));
	return snprintf(buf, len, "%llu bytes", (unsigned long long)v);
}

int mig_refusal_format(char *buf, size_t len, u32 reason, u32 detail, const struct mig_compat *src,
		       const struct mig_compat *dst)
{
	char a[32], b[32];
	const char *what = mig_refuse_name(reason);

	switch (reason) {
	case MIG_REFUSE_RAM_SIZE:
		format_size(a, sizeof(a), src->ram_size);
		format_size(b, sizeof(b), dst->ram_size);
		return snprintf(buf, len, "%s: source %s, destination %s", what, a, b);
	case MIG_REFUSE_RAM_BASE:
	case MIG_REFUSE_CPU_FEATURES: {
		bool base = reason == MIG_REFUSE_RAM_BASE;
		u64 s = base ? src->ram_base : src->cpu_features;
		u64 d = base ? dst->ram_base : dst->cpu_features;

		if (base)
			return snprintf(buf, len, "%s: source 0x%llx, destination 0x%llx", what,
					(unsigned long long)s, (unsigned long long)d);
		return snprintf(buf, len, "%s: source 0x%llx, destination 0x%llx, missing 0x%llx",
				what, (unsigned long long)s, (unsigned long long)d,
				(unsigned long long)(s & ~d));
	}
	case MIG_REFUSE_VCPUS:
		return snprintf(buf, len, "%s: source %u, destination %u", what, src->vcpus,
				dst->vcpus);
	case MIG_REFUSE_PAGE_SIZE:
		return snprintf(buf, len, "%s: source %u, destination %u", what, src->page_size,
				dst->page_size);
	case MIG_REFUSE_VERSION:
		return snprintf(buf, len, "%s: source %u, destination speaks up to %u", what,
				MIG_VERSION, detail);
	default:
		return snprintf(buf, len, "%s", what);
	}
}

/* ---- names ----------------------------------------------------------------------------------- */

const char *mig_type_name(u32 type)
{
	static const char *const names[] = {
		[MIG_T_HELLO] = "HELLO",   [MIG_T_WELCOME] = "WELCOME", [MIG_T_REFUSE] = "REFUSE",
		[MIG_T_PAGES] = "PAGES",   [MIG_T_STATE] = "STATE",     [MIG_T_HASH] = "HASH",
		[MIG_T_COMMIT] = "COMMIT", [MIG_T_ABORT] = "ABORT",     [MIG_T_ACK] = "ACK",
		[MIG_T_PCMAP] = "PCMAP",   [MIG_T_PCREQ] = "PCREQ",     [MIG_T_PCDONE] = "PCDONE",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "?";
}

const char *mig_reject_name(enum mig_reject r)
{
	static const char *const names[MIG_REJ_COUNT] = {
		[MIG_REJ_NONE] = "accepted",
		[MIG_REJ_SHORT] = "too short",
		[MIG_REJ_ETHERTYPE] = "not a migration frame",
		[MIG_REJ_MAGIC] = "bad magic",
		[MIG_REJ_VERSION] = "unsupported version",
		[MIG_REJ_LENGTH] = "bad payload length",
		[MIG_REJ_MAC] = "authentication failed",
		[MIG_REJ_TYPE] = "bad type or header field",
		[MIG_REJ_PAYLOAD] = "malformed payload",
		[MIG_REJ_SESSION] = "not this session",
	};

	return (unsigned)r < MIG_REJ_COUNT ? names[r] : "?";
}

const char *mig_fail_name(u32 reason)
{
	static const char *const names[MIG_FAIL_COUNT] = {
		[MIG_FAIL_NONE] = "no failure",
		[MIG_FAIL_NO_ANSWER] = "no answer from the destination (is it waiting, incoming?)",
		[MIG_FAIL_LINK_DEAD] = "link dead: nothing heard from the peer",
		[MIG_FAIL_NO_PROGRESS] = "link stalled: the peer acknowledges nothing",
		[MIG_FAIL_REFUSED] = "refused",
		[MIG_FAIL_PEER_ABORT] = "the peer aborted",
		[MIG_FAIL_HASH_MISMATCH] = "memory hash differs",
		[MIG_FAIL_STATE] = "state blob error",
		[MIG_FAIL_MEMORY] = "guest memory access failed",
		[MIG_FAIL_PROTOCOL] = "protocol violation",
		[MIG_FAIL_CANCELLED] = "cancelled",
		[MIG_FAIL_PAUSE] = "could not pause the VM",
		[MIG_FAIL_SEND] = "the network device failed",
		[MIG_FAIL_TRACKING] = "dirty tracking failed",
		[MIG_FAIL_COMMIT_UNCONFIRMED] = "COMMIT sent but never acknowledged",
		[MIG_FAIL_CONFIG] = "bad configuration",
		[MIG_FAIL_POSTCOPY_LOST] =
			"post-copy link lost: the VM cannot continue (its memory is split between the two machines)",
	};

	return reason < MIG_FAIL_COUNT ? names[reason] : "unknown reason";
}

const char *mig_refuse_name(u32 reason)
{
	static const char *const names[MIG_REFUSE_COUNT] = {
		[MIG_REFUSE_NONE] = "accepted",
		[MIG_REFUSE_VERSION] = "protocol version differs",
		[MIG_REFUSE_PAGE_SIZE] = "page size differs",
		[MIG_REFUSE_RAM_BASE] = "RAM base differs",
		[MIG_REFUSE_RAM_SIZE] = "RAM size differs",
		[MIG_REFUSE_VCPUS] = "vCPU count differs",
		[MIG_REFUSE_CPU_FEATURES] = "CPU features missing on the destination",
		[MIG_REFUSE_CAPS] = "required capability missing",
		[MIG_REFUSE_FRAME_SIZE] = "frame size too small",
		[MIG_REFUSE_BUSY] = "no VM waiting to come in",
	};

	return reason < MIG_REFUSE_COUNT ? names[reason] : "unknown reason";
}

u64 mig_muldiv(u64 a, u64 b, u64 c)
{
	unsigned __int128 r;

	if (!c)
		return ~0ULL;
	r = (unsigned __int128)a * b / c;
	return r > ~0ULL ? ~0ULL : (u64)r;
}

/* MurmurHash3's 64-bit finalizer: a bijection, so distinct inputs never collide here. */
static u64 mix64(u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

u64 mig_page_digest(u64 ipa, u64 content_hash)
{
	/* A zero page counts for nothing: memory never sent is zero on both ends, and a run of zero
	 * pages then costs an end only the pages whose digest it takes back (dst_apply). */
	if (content_hash == mig_zero_page_hash())
		return 0;
	return mix64(content_hash ^ mix64(ipa ^ 0x9e3779b97f4a7c15ULL));
}

u64 mig_zero_page_hash(void)
{
	static const u8 zero[MIG_PAGE_SIZE];
	static u64 h;
	static bool done;

	/* Computed once: the management CPU is the only caller. */
	if (!done) {
		h = hash64(zero, sizeof(zero), 0);
		done = true;
	}
	return h;
}
