/* SPDX-License-Identifier: Apache-2.0 */
/* `migbench` in the shell (core/migbench.c): EL2 instructions per frame of each tag candidate. */
#ifndef FERRY_CORE_MIGBENCH_H
#define FERRY_CORE_MIGBENCH_H

void migbench_shell(void);

#endif
