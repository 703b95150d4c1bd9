/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2, what the rest of ferry calls (the *_el2.c files of hyp/migrate, map in
 * mig_el2.h): the NIC, the source and destination machines of hyp/migrate driven from the
 * management loop, the shell's `migrate` and `migration`. */
#ifndef FERRY_MIGRATE_MIGRATE_EL2_H
#define FERRY_MIGRATE_MIGRATE_EL2_H

#include "types.h"

struct vm;

void migrate_boot(void); /* NIC probe; listens for VMs configured `incoming` */
bool migrate_poll(void); /* management loop; true while it has work (do not sleep) */
void migrate_shell(const char *cmd, char *args);
void migrate_key_changed(void); /* a key was set: an incoming VM that could not listen now can */
bool migrate_busy(const struct vm *vm);
u64 migrate_now_ns(void *ctx);   /* the physical counter in ns; ctx unused (a mig_ops callback) */
u64 migrate_ticks_ns(u64 ticks); /* a span of the counter in ns */

#endif
