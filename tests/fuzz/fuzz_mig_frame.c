/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the migration frame parser and the destination state machine that consumes
 * its output. Input byte 0 picks the mode:
 *   bit 0 clear: the rest is one raw frame for mig_frame_parse, once checked as the transport
 *                checks a new frame (the tag must be right by luck, so this exercises the header
 *                checks) and once as a frame verified earlier (structure and payload decoders);
 *   bit 0 set:   the rest is a sequence of frames, each prefixed by a 2-byte little-endian length;
 *                each gets a valid EtherType, magic, version, session and tag written in (sealed
 * under the session key the source learnt from the destination's WELCOME), so the fuzzer reaches
 * payload decoding and the destination machine (which first receives a valid HELLO for a 1 MiB
 * VM). Every guest write is checked to stay inside that VM's RAM: a write
 * outside it aborts, which libFuzzer reports. Built with -DFUZZ_SEEDS it is instead a small
 * program writing seed inputs to a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/mig_dst.h"
#include "migrate/mig_wire.h"

#define FZ_RAM_BASE 0x40000000ULL
#define FZ_RAM_SIZE (1ULL << 20)
#define FZ_SESSION 0x5eed

static u8 fz_ram[FZ_RAM_SIZE];
static u64 fz_now;
static const u8 FZ_KEY[MIG_KEY_LEN] = "fuzzing key, not a secret at all";
static const u8 FZ_SRC_NONCE[MIG_NONCE_LEN] = "source's value.";
static const u8 FZ_DST_NONCE[MIG_NONCE_LEN] = "destination's..";
static struct mig_auth fz_src; /* the source's side: seals what the fuzzer sends */

static void fz_src_reset(void)
{
	if (mig_auth_init(&fz_src, FZ_KEY, MIG_ROLE_SRC, FZ_SRC_NONCE))
		abort();
	mig_auth_start(&fz_src, FZ_SESSION);
}

/* The source learns the session key from the destination's WELCOME, as mig_src does. */
static void fz_learn(const u8 *f, size_t len)
{
	struct mig_frame view;

	if (mig_frame_parse(f, len, &view, &fz_src) != MIG_REJ_NONE)
		abort();
	mig_auth_accept(&fz_src, view.hdr.ctr);
}

static int fz_send(void *ctx, const void *f, size_t len)
{
	const u8 *b = f;

	(void)ctx;
	if (len < MIG_ETH_MIN_FRAME || len > MIG_FRAME_MAX)
		abort();
	if (!fz_src.have_session && b[MIG_ETH_HDR_LEN + 5] == MIG_T_WELCOME)
		fz_learn(b, len);
	return 0;
}

static u64 fz_time(void *ctx)
{
	(void)ctx;
	return fz_now;
}

static u64 fz_page(ipa_t ipa, u64 len)
{
	u64 a = ipa_addr(ipa);

	if (a < FZ_RAM_BASE || a + len > FZ_RAM_BASE + FZ_RAM_SIZE || len == 0)
		abort();
	return a - FZ_RAM_BASE;
}

static int fz_write(void *ctx, ipa_t ipa, u32 off, const void *src, u32 len)
{
	(void)ctx;
	if (off + len > MIG_PAGE_SIZE)
		abort();
	memcpy(fz_ram + fz_page(ipa, MIG_PAGE_SIZE) + off, src, len);
	return 0;
}

static int fz_zero(void *ctx, ipa_t ipa, u64 n)
{
	(void)ctx;
	memset(fz_ram + fz_page(ipa, n * MIG_PAGE_SIZE), 0, n * MIG_PAGE_SIZE);
	return 0;
}

static int fz_read(void *ctx, ipa_t ipa, void *dst)
{
	(void)ctx;
	memcpy(dst, fz_ram + fz_page(ipa, MIG_PAGE_SIZE), MIG_PAGE_SIZE);
	return 0;
}

static int fz_put_state(void *ctx, u32 index, u32 tag, const void *buf, u32 len)
{
	(void)ctx;
	(void)index;
	(void)tag;
	if (len > MIG_STATE_BLOB_MAX || (len && !buf))
		abort();
	return 0;
}

static const struct mig_dst_ops fz_ops = {
	.send_frame = fz_send,
	.now_ns = fz_time,
	.write_page = fz_write,
	.zero_pages = fz_zero,
	.read_page = fz_read,
	.put_state = fz_put_state,
};

static const u8 MAC_S[6] = { 2, 0, 0, 0, 0, 1 }, MAC_D[6] = { 2, 0, 0, 0, 0, 2 };

static struct mig_compat fz_compat(void)
{
	return (struct mig_compat){ FZ_RAM_BASE, FZ_RAM_SIZE, 1, 1, MIG_PAGE_SIZE };
}

/* Writes a frame carrying `payload` with every header field valid. */
static size_t fz_frame(u8 *out, size_t cap, u8 type, u16 flags, u32 seq, const u8 *payload, u32 len)
{
	struct mig_hdr h = { .version = MIG_VERSION,
			     .type = type,
			     .flags = flags,
			     .session = FZ_SESSION,
			     .seq = seq,
			     .ack = 1,
			     .sack = 0,
			     .payload_len = len };
	int n;

	if ((size_t)len + MIG_FRAME_COST > cap)
		return 0;
	memmove(out + MIG_FRAME_OVERHEAD, payload, len);
	n = mig_frame_seal(out, cap, MAC_D, MAC_S, &h, &fz_src);
	return n < 0 ? 0 : (size_t)n;
}

static void fz_hello(u8 *p, u32 *len)
{
	struct mig_hello h = { MIG_CAPS_V1, MIG_FRAME_MIN, 16, fz_compat(), { 0 } };

	memcpy(h.nonce, FZ_SRC_NONCE, MIG_NONCE_LEN);
	*len = mig_hello_encode(p, &h);
}

/* Header fix-ups for mode 1: the fuzzer's bytes become type, flags, seq, ack, sack and payload. */
static void fz_fixup(u8 *f, size_t len)
{
	u8 *hp = f + MIG_ETH_HDR_LEN;
	u32 plen = (u32)(len - MIG_FRAME_COST);

	f[12] = (u8)(MIG_ETHERTYPE >> 8);
	f[13] = (u8)MIG_ETHERTYPE;
	hp[0] = 'F', hp[1] = 'M', hp[2] = 'I', hp[3] = 'G';
	hp[4] = MIG_VERSION;
	for (int i = 0; i < 4; i++) {
		hp[8 + i] = (u8)(FZ_SESSION >> (8 * i));
		hp[24 + i] = (u8)(plen >> (8 * i));
	}
	/* The tag under the session key (the counter too is written here). */
	mig_frame_update_ack(
		f, (u32)hp[16] | (u32)hp[17] << 8 | (u32)hp[18] << 16 | (u32)hp[19] << 24,
		(u32)hp[20] | (u32)hp[21] << 8 | (u32)hp[22] << 16 | (u32)hp[23] << 24, &fz_src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mig_dst m;
	static u8 ws[1 << 20] __attribute__((aligned(64)));
	static u8 f[MIG_FRAME_MAX];
	struct mig_dst_config cfg = { .compat = fz_compat() };
	struct mig_frame view;
	u8 hello[MIG_HELLO_LEN];
	u32 hlen;
	size_t pos = 1, n;
	char line[256];

	if (size < 1)
		return 0;
	fz_src_reset();
	if (!(data[0] & 1)) {
		struct mig_auth d;

		if (mig_auth_init(&d, FZ_KEY, MIG_ROLE_DST, FZ_DST_NONCE))
			abort();
		mig_frame_parse(data + 1, size - 1, &view, &d);
		mig_frame_parse(data + 1, size - 1, &view, NULL);
		return 0;
	}
	memcpy(cfg.local_mac, MAC_D, 6);
	memcpy(cfg.key, FZ_KEY, MIG_KEY_LEN);
	memcpy(cfg.nonce, FZ_DST_NONCE, MIG_NONCE_LEN);
	cfg.link.frame_max = MIG_FRAME_MAX;
	cfg.link.rx_window = 8;
	if (mig_dst_workspace_size(&cfg) > sizeof(ws))
		abort();
	fz_now = 1000;
	if (mig_dst_init(&m, &cfg, &fz_ops, NULL, ws, sizeof(ws)) || mig_dst_listen(&m))
		abort();
	fz_hello(hello, &hlen);
	n = fz_frame(f, sizeof(f), MIG_T_HELLO, 0, 1, hello, hlen);
	if (!mig_res_ok(mig_dst_input(&m, f, n)) || m.phase != MIG_DST_RECEIVE ||
	    !fz_src.have_session)
		abort();
	while (pos + 2 <= size) {
		size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;

		pos += 2;
		len = MIN(len, size - pos);
		if (len >= MIG_FRAME_COST && len <= sizeof(f)) {
			memcpy(f, data + pos, len);
			fz_fixup(f, len);
			mig_dst_input(&m, f, len);
		} else {
			memcpy(f, data + pos, len);
			mig_dst_input(&m, f, len);
		}
		pos += len;
		fz_now += 1000000;
		mig_dst_poll(&m);
	}
	for (int i = 0; i < 64 && mig_dst_poll(&m) == MIG_RUNNING; i++)
		fz_now += 1000000;
	mig_dst_describe(&m, line, sizeof(line));
	return 0;
}

#ifdef FUZZ_SEEDS
/* Seeds: one raw frame of each type, and mode-1 sequences of valid messages. */
static void write_seed(const char *dir, const char *name, const u8 *d, size_t n)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(d, 1, n, fp) != n) {
		perror(path);
		exit(1);
	}
	fclose(fp);
}

static size_t seq_add(u8 *buf, size_t pos, const u8 *frame, size_t n)
{
	buf[pos] = (u8)n;
	buf[pos + 1] = (u8)(n >> 8);
	memcpy(buf + pos + 2, frame, n);
	return pos + 2 + n;
}

int main(int argc, char **argv)
{
	static u8 f[MIG_FRAME_MAX], out[1 << 18], p[8192];
	struct mig_hash_msg hm = { 0, FZ_RAM_SIZE / MIG_PAGE_SIZE, 1, 1 };
	struct mig_abort_msg ab = { MIG_FAIL_CANCELLED, 0 };
	size_t n, pos = 1;
	u32 len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	fz_src_reset();
	fz_hello(p, &len);
	out[0] = 0;
	n = fz_frame(out + 1, sizeof(out) - 1, MIG_T_HELLO, 0, 1, p, len);
	write_seed(argv[1], "raw-hello", out, n + 1);
	{
		/* A destination's answer gives the source its session key (fz_fixup reseals the
		 * seeds' frames under the fuzzing run's own one anyway). */
		struct mig_auth d;
		struct mig_frame view;
		struct mig_hdr h = { .version = MIG_VERSION,
				     .type = MIG_T_WELCOME,
				     .session = FZ_SESSION,
				     .seq = 1,
				     .ack = 2 };

		if (mig_auth_init(&d, FZ_KEY, MIG_ROLE_DST, FZ_DST_NONCE) ||
		    mig_frame_parse(out + 1, n, &view, &d) != MIG_REJ_NONE)
			abort();
		mig_auth_accept(&d, view.hdr.ctr);
		h.payload_len = len;
		memcpy(f + MIG_FRAME_OVERHEAD, p, len);
		memcpy(f + MIG_FRAME_OVERHEAD + MIG_HELLO_NONCE_OFF, FZ_DST_NONCE, MIG_NONCE_LEN);
		fz_learn(f, (size_t)mig_frame_seal(f, sizeof(f), MAC_S, MAC_D, &h, &d));
	}
	n = fz_frame(out + 1, sizeof(out) - 1, MIG_T_ACK, 0, 0, NULL, 0);
	write_seed(argv[1], "raw-ack", out, n + 1);

	/* A whole small migration after the HELLO: pages (zero run, data, a split page), a state
	 * blob in two chunks, the hash. */
	out[0] = 1;
	memset(p, 0, sizeof(p));
	p[4] = 3;
	put_le64(p + 8, FZ_RAM_BASE);
	p[16] = MIG_REC_ZERO;
	p[20] = 4;
	put_le64(p + 24, FZ_RAM_BASE + 0x8000);
	p[32] = MIG_REC_DATA;
	p[37] = 0x10;
	memset(p + 40, 0x77, 4096);
	put_le64(p + 4136, FZ_RAM_BASE + 0x9000);
	p[4144] = MIG_REC_DATA;
	p[4148] = 100;
	n = fz_frame(f, sizeof(f), MIG_T_PAGES, 0, 2, p, 4136 + 16 + 100);
	pos = seq_add(out, pos, f, n);
	memset(p, 0, 64);
	p[8] = 40;
	n = fz_frame(f, sizeof(f), MIG_T_STATE, 0, 3, p, 16 + 20);
	pos = seq_add(out, pos, f, n);
	memset(p, 0, 64);
	p[8] = 40;
	p[12] = 20;
	n = fz_frame(f, sizeof(f), MIG_T_STATE, 0, 4, p, 16 + 20);
	pos = seq_add(out, pos, f, n);
	n = fz_frame(f, sizeof(f), MIG_T_HASH, 0, 5, p, mig_hash_encode(p, &hm));
	pos = seq_add(out, pos, f, n);
	write_seed(argv[1], "seq-migration", out, pos);

	pos = 1;
	n = fz_frame(f, sizeof(f), MIG_T_ABORT, 0, 0, p, mig_abort_encode(p, &ab));
	pos = seq_add(out, pos, f, n);
	write_seed(argv[1], "seq-abort", out, pos);
	return 0;
}
#endif
