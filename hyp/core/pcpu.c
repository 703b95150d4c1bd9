/* SPDX-License-Identifier: Apache-2.0 */
/* The physical CPUs: each one's struct pcpu, found through TPIDR_EL2, and what the arch layer asks of
 * the core about them (arch/aarch64/cpu.h). */
#include "core/pcpu.h"

#include <stddef.h>

#include "arch/aarch64/asm.h"
#include "arch/aarch64/cpu.h"
#include "arch/aarch64/pmu.h"
#include "arch/aarch64/sysreg.h"
#include "arch/aarch64/vectors.h"

struct pcpu pcpus[MAX_CPUS];

/* vectors.S reads these fields by offset. */
_Static_assert(offsetof(struct pcpu, regs) == PCPU_REGS, "PCPU_REGS");
_Static_assert(offsetof(struct pcpu, fast_dirty_insns) == PCPU_FAST, "PCPU_FAST");
_Static_assert(offsetof(struct pcpu, fast_dirty) == PCPU_FAST + 8, "PCPU_FAST + 8");
_Static_assert(offsetof(struct pcpu, pmu_read) == PCPU_PMU_READ, "PCPU_PMU_READ");

struct pcpu *this_pcpu(void) { return (struct pcpu *)(uintptr_t)sysreg_read(tpidr_el2); }

u32 cpu_index(void) { return this_pcpu()->idx; }

bool pcpu_pmu_init(void)
{
	struct pcpu *p = this_pcpu();
	u32 n;

	p->pmu_read = el2_insns_stub(8); /* reads 0 until a counter is set up */
	n = pmu_el2_init();
	if (!n)
		return false;
	p->pmu_idx = n;                      /* counter n - 1, plus one */
	p->pmu_read = el2_insns_stub(n - 1); /* what the vectors call to read it */
	return true;
}
