/* SPDX-License-Identifier: Apache-2.0 */
/* The migration key (core/migkey.c): from the config at boot, or the `migkey` shell command. */
#ifndef FERRY_CORE_MIGKEY_H
#define FERRY_CORE_MIGKEY_H

#include "migrate/mig_auth.h"
#include "types.h"

void migkey_boot(const u8 *config_key);                        /* NULL: none configured */
int migkey_fill(u8 key[MIG_KEY_LEN], u8 nonce[MIG_NONCE_LEN]); /* FERRY_ENOENT: no key */
void migkey_shell(char *args);

#endif
