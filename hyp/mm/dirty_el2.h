/* SPDX-License-Identifier: Apache-2.0 */
/* Dirty logging at EL2 (mm/dirty_el2.c): the per-VM glue around mm/dirty.c, the write-fault paths,
 * the shell's `dirtylog`, ferry's checking hypercall and what a migration takes. */
#ifndef FERRY_DIRTY_EL2_H
#define FERRY_DIRTY_EL2_H

#include "mm/dirty.h"
#include "types.h"

struct vcpu;
struct vm;

/* ferry's own hypercalls, in SMCCC's vendor-specific hypervisor service range (owner 6). */
#define FERRY_HC_DIRTY_ROUND \
	0xc6000001u /* x1 round, x2 IPA of the guest's written-page bitmap, x3 bits */
/* The gradual start's default chunk (KVM/QEMU clear their initially-set log 1 GiB at a time too). */
#define DIRTYLOG_GRADUAL_MIB 1024

/* gradual_pages: 0 for the eager start (all RAM write-protected now), else the gradual start
 * (nothing protected now; each collection arms that many more pages: docs/dirty-logging.md). */
int dirtylog_start(struct vm *vm, enum dirty_mode mode, u64 gradual_pages);
/* Parses a `gradual` or `gradual=MiB` word into pages per collection (DIRTYLOG_GRADUAL_MIB by
 * default): true when the word is one, with *pages 0 for a bad size. */
bool dirtylog_parse_gradual(const char *word, u64 *pages);
int dirtylog_stop(struct vm *vm);
s64 dirtylog_collect(struct vm *vm);
/* A write permission fault at ipa: true when dirty logging handled it. */
bool dirtylog_write_fault(struct vm *vm, ipa_t ipa);
/* Called from the lower-EL synchronous vector (vectors.S) for a level-3 write permission fault,
 * with only the caller-saved registers spilled: true when it logged the page and made it writable
 * (the vector ERETs straight back), false to take the generic exit. */
bool dirtylog_fast_write_fault(void);
/* struct gmem's `wrote` for a VM's RAM (ctx: the VM): ferry wrote [ipa, ipa + len) itself. */
void dirtylog_note_write(void *ctx, u64 ipa, u64 len);
s64 dirtylog_hypercall_round(struct vcpu *v, u64 round, u64 map_ipa, u64 nbits);
enum dirty_mode dirtylog_default_mode(const struct vm *vm);
void dirtylog_print_stats(const struct vm *vm);
/* The migration's collection: everything written since its previous one, including what other
 * collections (the guest's checking hypercall, the shell) took meanwhile, ORed into bitmap. */
int dirtylog_take_for_migration(struct vm *vm, u64 *bitmap, u64 *added);

#endif
