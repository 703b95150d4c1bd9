/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_arch.h"

#include <stdio.h>
#include <stdlib.h>

#include "arch/arch.h"

struct fake_arch_event *fake_arch_log;
size_t fake_arch_log_len;
void (*fake_arch_observer)(const struct fake_arch_event *ev, void *ctx);
void *fake_arch_observer_ctx;

void fake_arch_reset(void)
{
	fake_arch_log_len = 0;
	fake_arch_observer = NULL;
	fake_arch_observer_ctx = NULL;
}

static void record(unsigned kind, u16 vmid, u64 operand)
{
	struct fake_arch_event ev = { kind, vmid, operand };

	if (!fake_arch_log) {
		fake_arch_log = calloc(FAKE_ARCH_LOG_MAX, sizeof(*fake_arch_log));
		if (!fake_arch_log) {
			fprintf(stderr, "fake_arch: out of memory\n");
			abort();
		}
	}
	if (fake_arch_log_len < FAKE_ARCH_LOG_MAX)
		fake_arch_log[fake_arch_log_len++] = ev;
	if (fake_arch_observer)
		fake_arch_observer(&ev, fake_arch_observer_ctx);
}

void arch_dsb_ishst(void) { record(FAKE_DSB_ISHST, 0, 0); }
void arch_dsb_ish(void) { record(FAKE_DSB_ISH, 0, 0); }
void arch_isb(void) { record(FAKE_ISB, 0, 0); }
void arch_tlbi(u16 vmid, unsigned kind, u64 operand) { record(kind, vmid, operand); }
