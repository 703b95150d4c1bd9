/* SPDX-License-Identifier: Apache-2.0 */
/* The migration link's frame tags and key schedule (mig_auth.h; docs/migration-protocol.md,
 * "Authentication"). The cryptography is libsodium's: ChaCha20-Poly1305 (IETF) for the tags, keyed
 * BLAKE2b for key derivation, its constant-time tag comparison. Nothing here needs sodium_init()
 * or randombytes: these primitives use their portable implementations from the start, and the
 * only fresh values (the handshake's) come from the integrator. */
#include <sodium/crypto_aead_chacha20poly1305.h>
#include <sodium/crypto_generichash.h>
#include <sodium/utils.h>
#include <string.h>

#include "migrate/mig_wire.h"

_Static_assert(crypto_aead_chacha20poly1305_IETF_ABYTES == MIG_TAG_LEN, "tag size");
_Static_assert(crypto_aead_chacha20poly1305_IETF_KEYBYTES == MIG_KEY_LEN, "key size");
_Static_assert(crypto_aead_chacha20poly1305_IETF_NPUBBYTES == 12, "nonce size");

/* Labels keep the two derivations apart: a hello key can never equal a session key. */
static const u8 LABEL_HELLO[16] = "ferry mig hello";
static const u8 LABEL_SESSION[16] = "ferry mig sessn";

static bool all_zero(const u8 *p, size_t n)
{
	u8 acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int mig_auth_init(struct mig_auth *a, const u8 key[MIG_KEY_LEN], u8 role,
		  const u8 nonce[MIG_NONCE_LEN])
{
	memset(a, 0, sizeof(*a));
	if (all_zero(key, MIG_KEY_LEN) || all_zero(nonce, MIG_NONCE_LEN) ||
	    (role != MIG_ROLE_SRC && role != MIG_ROLE_DST))
		return FERRY_EINVAL;
	memcpy(a->shared, key, MIG_KEY_LEN);
	memcpy(a->local_nonce, nonce, MIG_NONCE_LEN);
	a->role = role;
	return 0;
}

/* key = BLAKE2b-256 keyed with the shared key, over label || session || N_src [|| N_dst]. */
static void derive(const struct mig_auth *a, const u8 label[16], u32 session, const u8 *n_src,
		   const u8 *n_dst, u8 out[MIG_KEY_LEN])
{
	u8 in[16 + 4 + 2 * MIG_NONCE_LEN];
	size_t len = 16 + 4 + MIG_NONCE_LEN;

	memcpy(in, label, 16);
	put_le32(in + 16, session);
	memcpy(in + 20, n_src, MIG_NONCE_LEN);
	if (n_dst) {
		memcpy(in + 20 + MIG_NONCE_LEN, n_dst, MIG_NONCE_LEN);
		len += MIG_NONCE_LEN;
	}
	crypto_generichash(out, MIG_KEY_LEN, in, len, a->shared, MIG_KEY_LEN);
}

void mig_auth_start(struct mig_auth *a, u32 session)
{
	derive(a, LABEL_HELLO, session, a->local_nonce, NULL, a->hello_key);
	a->have_hello = true;
	a->have_session = false;
	a->pend_has_hello = a->pend_has_session = false;
}

u64 mig_auth_next(struct mig_auth *a) { return ++a->tx_ctr; }

/* The AEAD nonce: the sender's direction, then its counter. The two ends share the session key,
 * so the direction keeps their counters from ever meeting. */
static void make_npub(u8 npub[12], u8 dir, u64 ctr)
{
	npub[0] = dir;
	npub[1] = 'F';
	npub[2] = 'M';
	npub[3] = 'G';
	put_le64(npub + 4, ctr);
}

int mig_auth_tag(struct mig_auth *a, u8 type, u64 ctr, const u8 *frame, size_t flen, u8 *tag)
{
	const u8 *key = type == MIG_T_HELLO ? (a->have_hello ? a->hello_key : NULL)
					    : (a->have_session ? a->session_key : NULL);
	u8 npub[12], none[1] = { 0 };
	unsigned long long taglen;

	if (!key || ctr == 0)
		return FERRY_EPERM;
	make_npub(npub, a->role, ctr);
	/* An empty message: the whole frame is associated data, authenticated, not encrypted. */
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(none, tag, &taglen, none, 0, frame, flen,
							   NULL, npub, key);
	return 0;
}

static int check(const u8 *key, u8 dir, u64 ctr, const u8 *frame, size_t flen)
{
	u8 npub[12], none[1] = { 0 };

	make_npub(npub, dir, ctr);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(none, NULL, none, 0, frame + flen,
								  frame, flen, npub, key)
		       ? FERRY_EPERM
		       : 0;
}

int mig_auth_verify(struct mig_auth *a, const u8 *frame, size_t flen, u8 type, u32 session, u64 ctr,
		    const u8 *payload, u32 payload_len)
{
	u8 peer = a->role == MIG_ROLE_SRC ? MIG_ROLE_DST : MIG_ROLE_SRC;
	u8 hk[MIG_KEY_LEN], sk[MIG_KEY_LEN];
	int rc;

	a->pend_has_hello = a->pend_has_session = a->pend_restart = false;
	if (ctr == 0)
		return FERRY_EPERM;
	if (type == MIG_T_HELLO) {
		/* Only the destination receives HELLO. Before one is accepted, the hello key is
		 * derived from the nonce the frame carries; afterwards the accepted one verifies (a
		 * retransmission of it), and, while nothing else has been accepted (rehello),
		 * another attempt's HELLO under its own key. */
		if (a->role != MIG_ROLE_DST)
			return FERRY_EPERM;
		if (a->have_hello) {
			rc = check(a->hello_key, peer, ctr, frame, flen);
			if (!rc || !a->rehello)
				return rc;
		}
		if (payload_len < MIG_HELLO_NONCE_OFF + MIG_NONCE_LEN)
			return FERRY_EPERM;
		derive(a, LABEL_HELLO, session, payload + MIG_HELLO_NONCE_OFF, NULL, hk);
		rc = check(hk, peer, ctr, frame, flen);
		if (!rc) {
			memcpy(a->pend_hello, hk, MIG_KEY_LEN);
			derive(a, LABEL_SESSION, session, payload + MIG_HELLO_NONCE_OFF,
			       a->local_nonce, a->pend_session);
			a->pend_has_hello = a->pend_has_session = true;
			a->pend_restart = a->have_hello;
		}
		sodium_memzero(hk, sizeof(hk));
		return rc;
	}
	if (a->have_session)
		return check(a->session_key, peer, ctr, frame, flen);
	/* The source learns the session key from the destination's answer: its nonce is in
	 * WELCOME and REFUSE. Nothing else can verify before. */
	if (a->role != MIG_ROLE_SRC || !a->have_hello)
		return FERRY_EPERM;
	if (type == MIG_T_WELCOME && payload_len >= MIG_HELLO_NONCE_OFF + MIG_NONCE_LEN)
		derive(a, LABEL_SESSION, session, a->local_nonce, payload + MIG_HELLO_NONCE_OFF,
		       sk);
	else if (type == MIG_T_REFUSE && payload_len >= MIG_REFUSE_NONCE_OFF + MIG_NONCE_LEN)
		derive(a, LABEL_SESSION, session, a->local_nonce, payload + MIG_REFUSE_NONCE_OFF,
		       sk);
	else
		return FERRY_EPERM;
	rc = check(sk, peer, ctr, frame, flen);
	if (!rc) {
		memcpy(a->pend_session, sk, MIG_KEY_LEN);
		a->pend_has_session = true;
	}
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

bool mig_auth_fresh(const struct mig_auth *a, u64 ctr) { return ctr > a->rx_ctr_max; }

bool mig_auth_accept(struct mig_auth *a, u64 ctr)
{
	bool fresh;

	/* The new attempt's counters start at 1 again: the old attempt's must not make them
	 * look stale. */
	if (a->pend_restart)
		a->rx_ctr_max = 0;
	a->pend_restart = false;
	fresh = ctr > a->rx_ctr_max;

	if (a->pend_has_hello) {
		memcpy(a->hello_key, a->pend_hello, MIG_KEY_LEN);
		a->have_hello = true;
	}
	if (a->pend_has_session) {
		memcpy(a->session_key, a->pend_session, MIG_KEY_LEN);
		a->have_session = true;
	}
	a->pend_has_hello = a->pend_has_session = false;
	if (fresh)
		a->rx_ctr_max = ctr;
	return fresh;
}
