/* SPDX-License-Identifier: Apache-2.0 */
/* A handshake at the authentication layer only: the HELLO and WELCOME frames the machines would
 * send, sealed and checked through the frame codec. */
#include "mig_auth_pair.h"

#include <stdlib.h>
#include <string.h>

const u8 MIG_TEST_KEY[MIG_KEY_LEN] = "0123456789abcdef0123456789abcde";

static const u8 MAC_S[6] = { 2, 0, 0, 0, 0, 1 };
static const u8 MAC_D[6] = { 2, 0, 0, 0, 0, 2 };

static void must(bool ok, const char *what)
{
	if (!ok)
		abort(); /* the tests using the pair would prove nothing */
	(void)what;
}

void mig_test_auth_pair_seeded(struct mig_auth *src, struct mig_auth *dst, u32 session,
			       u8 nonce_seed, const u8 *dst_key)
{
	static u8 f[256];
	u8 ns[MIG_NONCE_LEN], nd[MIG_NONCE_LEN];
	struct mig_hello h = { .caps = 0,
			       .frame_max = 1514,
			       .rx_window = 4,
			       .compat = { 0x40000000, 1 << 20, 0, 1, 4096 } };
	struct mig_hdr hd = {
		.version = MIG_VERSION, .type = MIG_T_HELLO, .session = session, .seq = 1, .ack = 1
	};
	struct mig_frame fr;
	int len;

	for (u32 i = 0; i < MIG_NONCE_LEN; i++) {
		ns[i] = (u8)(nonce_seed * 31 + i + 1);
		nd[i] = (u8)(nonce_seed * 17 + 2 * i + 1);
	}
	must(!mig_auth_init(src, MIG_TEST_KEY, MIG_ROLE_SRC, ns), "src init");
	must(!mig_auth_init(dst, dst_key ? dst_key : MIG_TEST_KEY, MIG_ROLE_DST, nd), "dst init");
	mig_auth_start(src, session);
	memcpy(h.nonce, ns, MIG_NONCE_LEN);
	hd.payload_len = mig_hello_encode(f + MIG_FRAME_OVERHEAD, &h);
	len = mig_frame_seal(f, sizeof(f), MAC_D, MAC_S, &hd, src);
	must(len > 0, "seal HELLO");
	if (mig_frame_parse(f, (size_t)len, &fr, dst) != MIG_REJ_NONE)
		return; /* different keys: the caller checks that nothing was established */
	mig_auth_accept(dst, fr.hdr.ctr);
	memcpy(h.nonce, nd, MIG_NONCE_LEN);
	hd.type = MIG_T_WELCOME;
	hd.payload_len = mig_hello_encode(f + MIG_FRAME_OVERHEAD, &h);
	hd.ack = 2;
	len = mig_frame_seal(f, sizeof(f), MAC_S, MAC_D, &hd, dst);
	must(len > 0, "seal WELCOME");
	must(mig_frame_parse(f, (size_t)len, &fr, src) == MIG_REJ_NONE, "WELCOME verifies");
	mig_auth_accept(src, fr.hdr.ctr);
}

void mig_test_auth_pair(struct mig_auth *src, struct mig_auth *dst, u32 session)
{
	mig_test_auth_pair_seeded(src, dst, session, 1, NULL);
}
