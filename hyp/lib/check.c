/* SPDX-License-Identifier: Apache-2.0 */
/* CHECK()'s failure path: a panic at EL2, an abort on the host (lib/check.h). */
#include "lib/check.h"

#ifdef FERRY_HOST
#include <stdio.h>
#include <stdlib.h>

void check_failed(const char *cond, const char *file, int line)
{
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", file, line, cond);
	abort();
}
#else
void check_failed(const char *cond, const char *file, int line)
{
	panic("CHECK(%s) failed at %s:%d", cond, file, line);
}
#endif
