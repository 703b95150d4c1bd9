/* SPDX-License-Identifier: Apache-2.0 */
/* The one lock primitive of ferry: a test-and-set spinlock whose waiters sleep in WFE and whose
 * unlocker sends SEV, as Linux's arm64 locks do. Besides saving power, it matters under QEMU: a
 * broadcast TLBI is run as "safe work" once every vCPU has left its execution loop, and a CPU
 * spinning in a tight loop on a lock whose holder waits for such a flush never lets it run under
 * -icount: both CPUs then wait for ever. On the host (unit tests, tools) the same code runs with
 * plain spinning. All inline: the write-fault fast path takes and drops a lock without a call. */
#ifndef FERRY_SPINLOCK_H
#define FERRY_SPINLOCK_H

#include "types.h"

typedef struct {
	volatile u32 locked;
} spinlock_t;

#ifdef FERRY_HOST
static inline void spin_wait(void) {}
static inline void spin_wake(void) {}
#else
static inline void spin_wait(void) { __asm__ volatile("wfe" : : : "memory"); }
/* The store must be visible before the event: a woken waiter reloads the lock word. */
static inline void spin_wake(void) { __asm__ volatile("dsb ishst; sev" : : : "memory"); }
#endif

/* One attempt, no waiting: the vector's fast path takes the slow path rather than spin. */
static inline bool spin_trylock(spinlock_t *l)
{
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_lock(spinlock_t *l)
{
	while (!spin_trylock(l))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			spin_wait();
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	spin_wake();
}

#endif
