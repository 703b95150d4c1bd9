/* SPDX-License-Identifier: Apache-2.0 */
/* The machine, as the host DTB describes it (core/hostdt.c) and the boot CPU's ID registers add
 * to it (core/main.c). */
#ifndef FERRY_CORE_MACHINE_H
#define FERRY_CORE_MACHINE_H

#include "arch/aarch64/asm.h"
#include "types.h"

struct machine {
	u64 ram_base, ram_size;
	u32 ncpus;
	u64 mpidr[MAX_CPUS];
	u64 uart_pa;
	u32 uart_intid;
	u64 gicd_pa, gicr_pa, gicr_stride;
	u32 nvirtio;
	u64 virtio_pa[32];
	u32 virtio_intid[32];
	u64 rtc_pa; /* the host's PL031 (0: none): the wall clock of the guests' PL031s */
	/* The DTB QEMU booted ferry with, where it left it (in RAM a VM may be given). */
	u64 boot_dtb_pa, boot_dtb_size;
	bool psci_smc; /* PSCI conduit: SMC under virtualization=on */
	/* CPU features (ID registers), printed in the boot banner. */
	u64 isar0, mmfr0, mmfr1, mmfr2;
	u32 vmid_bits, pa_bits, ich_lrs;
	u32 pa_range_field; /* ID_AA64MMFR0_EL1.PARange, for VTCR_EL2.PS */
	bool tlbi_range, hafdbs, ttl;
	bool sve; /* FEAT_SVE (ID_AA64PFR0_EL1.SVE): guests get it (core/sve.c) */
	bool pmu; /* a PMUv3 (ID_AA64DFR0_EL1.PMUVer 1..14): guests get its counters below HPMN */
};
extern struct machine machine;
int hostdt_parse(const void *fdt, struct machine *m);

#endif
