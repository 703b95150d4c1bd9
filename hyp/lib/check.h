/* SPDX-License-Identifier: Apache-2.0 */
/* panic() and CHECK(cond).
 *
 * CHECK(cond): an invariant the code relies on, not an error a guest or a peer can cause (those are
 * returned as errors). A false one is a bug in ferry: at EL2 it panics with the file and line (one
 * machine stopped and reported beats VMs run on corrupted page tables); on the host (unit tests,
 * fuzzers, tools) it aborts, so a test or a fuzzer stops at it. */
#ifndef FERRY_CHECK_H
#define FERRY_CHECK_H

/* Stops the machine with a message (core/console.c; exit status 3 under QEMU). */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

void check_failed(const char *cond, const char *file, int line) __attribute__((noreturn));

#define CHECK(cond)                                              \
	do {                                                     \
		if (__builtin_expect(!(cond), 0))                \
			check_failed(#cond, __FILE__, __LINE__); \
	} while (0)

#endif
