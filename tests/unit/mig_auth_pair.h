/* SPDX-License-Identifier: Apache-2.0 */
/* Two ends' authentication state after a real handshake (tests/unit/mig_auth_pair.c). */
#ifndef FERRY_TEST_MIG_AUTH_PAIR_H
#define FERRY_TEST_MIG_AUTH_PAIR_H

#include "migrate/mig_wire.h"

extern const u8 MIG_TEST_KEY[MIG_KEY_LEN];
/* src as a source and dst as a destination, both with MIG_TEST_KEY, after a HELLO sealed by src
 * was verified by dst and a WELCOME sealed by dst was verified by src: both hold the session key.
 * nonce_seed makes both ends' fresh values (as a new handshake would). */
void mig_test_auth_pair(struct mig_auth *src, struct mig_auth *dst, u32 session);
void mig_test_auth_pair_seeded(struct mig_auth *src, struct mig_auth *dst, u32 session,
			       u8 nonce_seed, const u8 *dst_key);

#endif
