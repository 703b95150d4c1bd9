/* SPDX-License-Identifier: Apache-2.0 */
/* A whole migration in memory: this build's source machine sends a small scratch "VM" (32 pages,
 * four state blobs) to this build's destination machine over a link that hands each frame
 * straight to the other side, through every step a real migration takes: the handshake, round 0,
 * the pause, the final pages, the state, the hash, COMMIT, the audit and the close (or, in
 * post-copy, the switch, the map, the stream and PCDONE).
 *
 * ferry runs it at boot on the management CPU, pre-copy then post-copy (rehearse_el2.c), for two
 * reasons. It is a
 * self-test: the machines, the frame authentication (libsodium) and the hashes work on this CPU,
 * and both sides agree on what moved. And under QEMU's TCG it translates the machines' code
 * before a real pause has to (docs/migration.md, "The rehearsal"): ferry's pause runs the
 * machines' final-round, state, hash and commit code, which nothing else runs, and each block of
 * it costs 40-50 µs to translate the first time. */
#ifndef FERRY_MIGRATE_MIG_LOOPBACK_H
#define FERRY_MIGRATE_MIG_LOOPBACK_H

#include "types.h"

/* The memory mig_loopback_run needs for frames of frame_max bytes. */
size_t mig_loopback_workspace_size(u32 frame_max);

/* Runs the loopback migration in ws (at least mig_loopback_workspace_size(frame_max) bytes, any
 * contents) with frames of frame_max bytes (MIG_FRAME_MIN..MIG_FRAME_MAX) and the integrator's
 * clock: pre-copy, or with postcopy the switch right after round 0 and the rest streamed after it.
 * 0 when both machines finished and the destination holds exactly the source's pages and blobs;
 * otherwise an error, with what went wrong in why. */
int mig_loopback_run(void *ws, size_t ws_len, u32 frame_max, bool postcopy,
		     u64 (*now_ns)(void *ctx), char *why, size_t why_len);

#endif
