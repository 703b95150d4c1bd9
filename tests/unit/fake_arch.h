/* SPDX-License-Identifier: Apache-2.0 */
/* Host stand-ins for hyp/arch/arch.h: every barrier and TLBI a pure function issues is appended to
 * a log that unit tests read back. */
#ifndef FERRY_FAKE_ARCH_H
#define FERRY_FAKE_ARCH_H

#include "types.h"

enum fake_arch_kind {
	FAKE_DSB_ISHST = 1000,
	FAKE_DSB_ISH,
	FAKE_ISB,
	/* arch_tlbi() entries carry the tlbi kind (below 1000) in .kind */
};

struct fake_arch_event {
	unsigned kind;
	u16 vmid;
	u64 operand;
};

#define FAKE_ARCH_LOG_MAX (1u << 20)

extern struct fake_arch_event *fake_arch_log;
extern size_t fake_arch_log_len;
/* Optional observer, called for every event as it is recorded (e.g. a reference TLB model). */
extern void (*fake_arch_observer)(const struct fake_arch_event *ev, void *ctx);
extern void *fake_arch_observer_ctx;

void fake_arch_reset(void);

#endif
