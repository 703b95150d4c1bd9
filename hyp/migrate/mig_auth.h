/* SPDX-License-Identifier: Apache-2.0 */
/* Authentication of the migration link (docs/migration-protocol.md, "Authentication").
 *
 * Both ferries hold the same 32-byte key. Each end brings a fresh 16-byte value to the handshake
 * (the source's in HELLO, the destination's in WELCOME or REFUSE); the session key is derived from
 * the shared key, the session number and both values, so no frame of an earlier session verifies
 * in this one. Every frame carries a 16-byte tag: ChaCha20-Poly1305 (IETF, libsodium) with the
 * whole frame up to the tag as associated data and an empty message, under a 96-bit nonce made of
 * the sender's direction and a counter that grows with every transmission, carried in the header.
 * A frame is thus never sealed twice under one (key, nonce): the one-time Poly1305 key is new for
 * every frame sent, retransmissions included.
 *
 * Keys: HELLO is sealed under a hello key derived from the shared key, the session number and the
 * source's value (nothing else exists yet); every other frame under the session key. */
#ifndef FERRY_MIG_AUTH_H
#define FERRY_MIG_AUTH_H

#include "types.h"

#define MIG_KEY_LEN 32u
#define MIG_NONCE_LEN 16u /* each end's fresh value in the handshake */
#define MIG_TAG_LEN 16u

enum mig_role {
	MIG_ROLE_SRC = 'S',
	MIG_ROLE_DST = 'D'
};

struct mig_auth {
	u8 shared[MIG_KEY_LEN];
	u8 local_nonce[MIG_NONCE_LEN];
	u8 hello_key[MIG_KEY_LEN];   /* valid when have_hello */
	u8 session_key[MIG_KEY_LEN]; /* valid when have_session */
	u8 role;                     /* enum mig_role: this end */
	bool have_hello, have_session;
	u64 tx_ctr;     /* the last counter sealed (the next frame gets tx_ctr + 1) */
	u64 rx_ctr_max; /* the highest counter of an accepted frame */
	/* Keys derived from a frame whose tag verified, installed by mig_auth_accept once the
	 * transport has accepted the frame as well (another session's HELLO verifies but is
	 * refused: it must not replace the keys in use). */
	u8 pend_hello[MIG_KEY_LEN], pend_session[MIG_KEY_LEN];
	bool pend_has_hello, pend_has_session;
	/* Destination, set by the transport: nothing but a HELLO has been accepted, so a HELLO
	 * that verifies under its own hello key (another attempt's) may start the handshake again;
	 * pend_restart says the frame just verified is such a HELLO. */
	bool rehello, pend_restart;
};

/* 0, or FERRY_EINVAL for an all-zero key or nonce (nothing configured). */
int mig_auth_init(struct mig_auth *a, const u8 key[MIG_KEY_LEN], u8 role,
		  const u8 nonce[MIG_NONCE_LEN]);
/* Source: derives the hello key for this session (before HELLO is sealed). */
void mig_auth_start(struct mig_auth *a, u32 session);
/* The counter for the next frame sealed: 1, 2, ... (never 0, never repeated under one key). */
u64 mig_auth_next(struct mig_auth *a);
/* The tag of frame[0, flen) (Ethernet + header with the counter ctr in it + payload) into tag.
 * FERRY_EPERM when no key exists yet for a frame of this type (a source's ACK before WELCOME). */
int mig_auth_tag(struct mig_auth *a, u8 type, u64 ctr, const u8 *frame, size_t flen, u8 *tag);
/* Checks the tag at frame + flen (flen already checked against the frame's length). 0 when it
 * verifies (keys the frame brings are kept pending; pend_restart when it is a HELLO of another
 * attempt that replaces the one taken), FERRY_EPERM when not. */
int mig_auth_verify(struct mig_auth *a, const u8 *frame, size_t flen, u8 type, u32 session, u64 ctr,
		    const u8 *payload, u32 payload_len);
/* The transport accepted the frame just verified, whose header counter is ctr: install pending
 * keys (after a restart, counters start over with them), remember the counter. Returns whether
 * ctr is beyond every counter accepted so far (only such a frame shows the peer alive, and only
 * such an unsequenced frame is acted upon). */
bool mig_auth_accept(struct mig_auth *a, u64 ctr);
/* The counter must be fresh for an unsequenced frame (ACK, ABORT) to be used at all. */
bool mig_auth_fresh(const struct mig_auth *a, u64 ctr);

#endif
