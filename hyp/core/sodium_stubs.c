/* SPDX-License-Identifier: Apache-2.0 */
/* What libsodium.a (Debian's arm64 build, made for a hosted Linux with glibc) needs beyond
 * picolibc to link at EL2. ferry calls few primitives (hyp/migrate/mig_auth.c: ChaCha20-Poly1305,
 * keyed BLAKE2b, sodium_memzero), but a static link takes whole object files, and the one with
 * sodium_memzero (utils.o) also holds sodium_malloc and friends, which reach for mmap, mlock and
 * the random device. Three kinds of stand-ins:
 *  - real, because the code ferry runs uses them: __explicit_bzero_chk (glibc's checked
 *    explicit_bzero, what sodium_memzero compiles to) and __errno_location;
 *  - trivially correct here: pthread_mutex_lock/unlock (libsodium guards sodium_init and its
 *    locked allocator with a global mutex). Everything that reaches libsodium runs on the
 *    management CPU (CPU 0) in its one loop, with no threads and no preemption: there is never a
 *    second holder to exclude;
 *  - unreachable: the memory-locking allocator and the random device (sodium_malloc, sodium_mlock,
 *    randombytes_*), which ferry never calls (tags need no randomness; the handshake's fresh
 *    values come from core/migkey.c). Each panics, naming itself, should that ever change.
 * abort and __assert_fail are libsodium's reports of misuse or a failed assertion: a bug, so a
 * panic, as ferry does for its own (picolibc's abort would go through signals ferry lacks). */
#include <stddef.h>
#include <string.h>

#include "lib/check.h"

/* The stand-ins below ignore their arguments: they only stop. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

int pthread_mutex_lock(void *m);
int pthread_mutex_unlock(void *m);
void __assert_fail(const char *expr, const char *file, unsigned int line, const char *func);
void abort(void);
void __explicit_bzero_chk(void *p, size_t len, size_t dstlen);
int *__errno_location(void);

int pthread_mutex_lock(void *m)
{
	(void)m;
	return 0;
}

int pthread_mutex_unlock(void *m)
{
	(void)m;
	return 0;
}

void __assert_fail(const char *expr, const char *file, unsigned int line, const char *func)
{
	panic("libsodium: assertion '%s' failed at %s:%u (%s)", expr, file, line, func);
}

void abort(void) { panic("libsodium: abort (misuse of an API)"); }

void __explicit_bzero_chk(void *p, size_t len, size_t dstlen)
{
	if (len > dstlen)
		panic("libsodium: explicit_bzero of %zu bytes into %zu", len, dstlen);
	memset(p, 0, len);
	/* The stores must happen even though nothing reads the memory again. */
	__asm__ volatile("" : : "r"(p) : "memory");
}

int *__errno_location(void)
{
	static int err;

	return &err;
}

/* Unreachable from what ferry calls (see above). */
#define UNREACHABLE(ret, name, ...) \
	ret name(__VA_ARGS__);      \
	ret name(__VA_ARGS__) { panic("libsodium called " #name ": not available at EL2"); }

UNREACHABLE(void *, mmap, void *a, size_t l, int p, int f, int fd, long o)
UNREACHABLE(int, munmap, void *a, size_t l)
UNREACHABLE(int, mprotect, void *a, size_t l, int p)
UNREACHABLE(int, madvise, void *a, size_t l, int advice)
UNREACHABLE(int, mlock, const void *a, size_t l)
UNREACHABLE(int, munlock, const void *a, size_t l)
UNREACHABLE(long, sysconf, int name)
UNREACHABLE(int, open, const char *path, int flags, ...)
UNREACHABLE(int, close, int fd)
UNREACHABLE(long, read, int fd, void *buf, size_t n)
UNREACHABLE(int, fstat, int fd, void *st)
UNREACHABLE(int, fcntl, int fd, int cmd, ...)
UNREACHABLE(int, poll, void *fds, unsigned long n, int timeout)
UNREACHABLE(long, getrandom, void *buf, size_t n, unsigned int flags)
UNREACHABLE(void *, malloc, size_t n)
UNREACHABLE(void, free, void *p)
UNREACHABLE(int, raise, int sig)
