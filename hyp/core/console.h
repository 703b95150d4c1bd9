/* SPDX-License-Identifier: Apache-2.0 */
/* ferry's console (core/console.c): its own lines, the guests' lines and the attached console's
 * bytes, all through the one physical PL011. panic() is in lib/check.h. */
#ifndef FERRY_CORE_CONSOLE_H
#define FERRY_CORE_CONSOLE_H

#include "types.h"

struct vm;

/* Whole lines only, under a lock, so output from several CPUs never interleaves mid-line. */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void con_write_line(const char *prefix, const char *text, size_t len);
int con_getc(void);       /* -1 when nothing is waiting */
void con_put_raw(char c); /* one character of an attached VM's console, as it comes */
/* A guest's line (without newline), or a byte for its attached console: into the VM's buffer, never
 * waiting on the UART; the management CPU writes them out (con_drain, true while more may go out
 * now: other VMs' lines wait briefly while an attached console's line is open). */
void con_guest_line(struct vm *vm, const char *text, size_t len);
void con_guest_raw(struct vm *vm, char c);
bool con_drain(void);
void con_drain_all(void);
/* snprintf that keeps this CPU's FP/SIMD registers (a guest's, on a vCPU's CPU): picolibc's
 * formatting uses them. Every formatting on a vCPU's CPU goes through this or con_printf. */
int con_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
