/* SPDX-License-Identifier: Apache-2.0 */
/* The management CPU's shell (core/shell.c), and the console it can attach to a VM: input goes to
 * that VM's PL011, its output comes out raw. */
#ifndef FERRY_CORE_SHELL_H
#define FERRY_CORE_SHELL_H

struct vm;

void shell_poll(void);
extern struct vm *volatile console_vm;
#define CONSOLE_ESCAPE 0x1d /* Ctrl-]: back to the shell */

void tlbi_san_print(const char *line, void *ctx); /* emit callback for tlbi reports */

#endif
