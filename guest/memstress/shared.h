/* SPDX-License-Identifier: Apache-2.0 */
/* The memstress shared record: what memstress tells whoever can read its memory (a hypervisor, a
 * migration test, a debugger) about where it is and which pages it wrote in the current round.
 *
 * It sits at a fixed place: the page at image + 0x1000, IPA 0x40081000 for the image loaded at
 * 0x40080000 (guest/lib/guest.lds); memstress also prints it ("memstress: shared 0x40081000").
 * Layout version 1, little-endian, every field naturally aligned; docs/memstress.md has the table.
 * A reader that finds another magic or version must not interpret the rest. */
#ifndef GUEST_MEMSTRESS_SHARED_H
#define GUEST_MEMSTRESS_SHARED_H

#include <stdint.h>

#define MEMSTRESS_SHARED_MAGIC 0x31535254534d454dULL /* "MEMSTRS1" in memory order */
#define MEMSTRESS_SHARED_VERSION 1
#define MEMSTRESS_SHARED_OFFSET 0x1000 /* from the image start */

/* The states, in the order a run goes through them; a round goes WRITING -> WRITTEN -> VERIFYING. */
enum memstress_state {
	MEMSTRESS_BOOT = 0,    /* not yet set up: the other fields mean nothing */
	MEMSTRESS_FILLING = 1, /* round 0: every working-set page is being written */
	MEMSTRESS_WRITING = 2, /* `round` is writing; its bitmap grows */
	MEMSTRESS_WRITTEN = 3, /* `round`'s writes are all done: its bitmap is final */
	MEMSTRESS_VERIFYING =
		4,            /* reading every page back (no writes, except repairs of bad pages) */
	MEMSTRESS_PASSED = 5, /* finished, no errors */
	MEMSTRESS_FAILED = 6, /* finished with errors, or stopped by an exception */
};

struct memstress_shared {
	uint64_t magic;      /* 0x00 MEMSTRESS_SHARED_MAGIC */
	uint32_t version;    /* 0x08 MEMSTRESS_SHARED_VERSION */
	uint32_t state;      /* 0x0c enum memstress_state; written last (store-release) */
	uint64_t round;      /* 0x10 0 = the fill, then 1..rounds */
	uint64_t rounds;     /* 0x18 the rounds= bootarg */
	uint64_t bitmap_ipa; /* 0x20 written-page bitmap: bit i (word i/64, bit i%64) = page at */
	uint64_t
		bitmap_bits; /* 0x28   ram_base + i * 4096 was written in `round`; bits = RAM pages */
	uint64_t ram_base;   /* 0x30 from the DTB */
	uint64_t ram_size;   /* 0x38 */
	uint64_t ws_ipa;     /* 0x40 first working-set page (2 MiB aligned) */
	uint64_t ws_pages;   /* 0x48 working-set pages */
	uint64_t ledger_ipa;    /* 0x50 u32 per working-set page: the generation last written */
	uint64_t round_written; /* 0x58 pages written in `round` so far (final once WRITTEN) */
	uint64_t errors;        /* 0x60 mismatching pages found so far, all rounds */
	uint64_t seed;          /* 0x68 the seed= bootarg */
	uint64_t updates;       /* 0x70 +1 at every state change: a reader sees that it moved */
	uint64_t smp;           /* 0x78 vCPUs writing */
};

_Static_assert(sizeof(struct memstress_shared) == 0x80, "layout version 1 is 128 bytes");

#endif
