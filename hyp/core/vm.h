/* SPDX-License-Identifier: Apache-2.0 */
/* VMs and their vCPUs: the structs every part of the core shares, and the VM operations
 * (core/vm.c). Each subsystem's state inside them comes from that subsystem's own header. */
#ifndef FERRY_CORE_VM_H
#define FERRY_CORE_VM_H

#include "arch/aarch64/vectors.h"
#include "config/config.h"
#include "lib/gmem.h"
#include "lib/spinlock.h"
#include "migrate/mig_vcpu.h"
#include "mm/dirty.h"
#include "mm/s2.h"
#include "types.h"
#include "vdev/board.h"
#include "vdev/traps.h"
#include "vdev/vdev.h"
#include "vgic/its.h"
#include "vgic/vgic.h"
#include "vgic/vgic_hw.h"

/* INCOMING: built without an image, waiting for a live migration to fill it (config `incoming`);
 * MIGRATED: it moved to a peer ferry and ended here. */
enum vm_state {
	VM_CREATED = 0,
	VM_RUNNING,
	VM_OFF,
	VM_STOPPED,
	VM_FAULTED,
	VM_INCOMING,
	VM_MIGRATED
};

/* Exit counters by class, for `vms` and `stats`. */
enum exit_class {
	EXITC_MMIO,
	EXITC_HVC,
	EXITC_SMC,
	EXITC_WFX,
	EXITC_SYSREG,
	EXITC_IRQ,
	EXITC_DIRTY,
	EXITC_ABORT,
	EXITC_OTHER,
	EXITC_NR
};

struct mig_sve_state;
struct vm;
struct vcpu {
	struct guest_regs regs;
	struct vm *vm;
	u32 idx;              /* vCPU index in its VM; its virtual MPIDR's Aff0 */
	u32 pcpu;             /* the physical CPU it owns */
	volatile u32 request; /* REQ_* bits other CPUs set, then kick this CPU */
	u64 exits[EXITC_NR];
	u64 exit_insns[EXITC_NR]; /* EL2 instructions per class, round trip (PMU, with -icount) */
	/* Migration (mig_src_el2.c): REQ_PAUSE parks the vCPU on its CPU, which saves its EL1 context
	 * into `state` and sets `parked`; `restore` makes it load `state` before it next runs. */
	volatile u32 parked;
	volatile bool restore;
	bool restored;            /* `state` loaded: stamp restored_at at the entry that follows */
	volatile u64 restored_at; /* counter at its first entry into the guest after `restore` */
	struct mig_vcpu_state state;
	struct vgic_cpu_hw gic_hw; /* its virtual CPU interface's registers, saved with `state` */
	struct mig_sve_state
		*sve;  /* its SVE registers, saved with `state` (core/sve.c; NULL: no SVE) */
	u32 lrs_in_hw; /* list registers that may hold something (vgic/vgic_el2.c) */
	u32 reports;   /* injected exceptions reported on the console (the rest are only counted) */
	u64 setway_ops,
		setway_flushes; /* trapped DC ISW/CSW/CISW, and the RAM flushes they caused */
	/* The EL2 controls as read back after the vCPU's CPU wrote them (`traps` in the shell). */
	struct trap_config ctl;
	volatile bool ctl_loaded;
	volatile u64
		pc_wait; /* post-copy: IPA + 1 of the page this vCPU waits for (migrate/postcopy_el2.c) */
};
/* How many first collections `dirtylog stats` itemizes (mm/dirty_el2.c). */
#define DIRTYLOG_FIRST 8

#define REQ_STOP BIT(0)
#define REQ_PAUSE BIT(1)
/* Run the context save (and, on a CPU with no guest running, the load) once into scratch: the
 * migration's rehearsal (migrate/rehearse_el2.c). */
#define REQ_REHEARSE BIT(2)

struct vm {
	const struct vm_config *cfg;
	u32 id;
	u16 vmid;
	volatile u32 state; /* enum vm_state */
	spinlock_t lock;
	pa_t ram_pa;
	struct s2_pgtable s2;
	struct vcpu vcpu[CONFIG_MAX_VCPUS];
	u32 nvcpus;
	u64 dtb_ipa, entry_ipa;
	u64 initrd_ipa;       /* where the config's initrd was copied (0: none); size in cfg */
	char reason[256];     /* why it stopped, for `vms` */
	struct vpsci_vm psci; /* vCPU power states; changed under lock */
	struct vpl011 uart;   /* changed under lock: by the VM's vCPUs, and input by the shell */
	struct vgic vgic;     /* the VM's GICv3 model, changed under lock (vgic/vgic_el2.c) */
	struct its its;       /* its ITS (LPIs from MSIs), changed under lock (vgic/vgic_el2.c) */
	struct gmem ram;      /* its RAM as the ITS and LPI tables reach it (vgic/vgic_el2.c) */
	/* RAM nothing wrote since it was zero (mm/untouched_el2.c): ram_untouched while its stage 2
	 * is the first one, built with the access flag clear; ferry_wrote, a bit per 2 MiB that
	 * something other than the guest wrote. built: vm_build ran before. */
	bool ram_untouched, built;
	u64 *ferry_wrote;
	struct vpl031 rtc; /* its PL031, changed under lock (core/board.c) */
	u64 started_at;    /* CNTPCT when it last started */
	u64 cntvoff;       /* CNTVOFF_EL2: guest virtual time = physical count - cntvoff */
	volatile bool reset_pending; /* PSCI SYSTEM_RESET: the management CPU rebuilds it */
	/* Dirty logging (mm/dirty_el2.c). mm_lock serializes every change to this VM's stage 2:
	 * write faults on its vCPUs against collection and start/stop on the management CPU. */
	spinlock_t mm_lock;
	struct dirty_log dirty;
	u64 *dirty_bitmap;   /* the log's own bits (pool memory, never mapped to the guest) */
	u64 *collect_bitmap; /* where a collection puts what it took */
	u64 dirty_checked_rounds, dirty_missed, dirty_extra;
	bool dirty_synced; /* a collection since logging started: rounds can be checked */
	/* EL2 instructions (PMU, with -icount) spent in start, stop and all collections */
	u64 dirty_insns_start, dirty_insns_stop, dirty_insns_collect, dirty_pages_collected;
	/* ... and in each of the first collections after the start, with the pages each took (a
	 * gradual start moves the protecting into these) */
	u64 dirty_first_insns[DIRTYLOG_FIRST], dirty_first_pages[DIRTYLOG_FIRST];
	u32 dirty_ncollect;
	/* While a migration tracks this VM, every collection (also the guest's checking hypercall)
	 * ORs what it took in here, under mm_lock, for the migration to pick up. */
	u64 *mig_acc;
	u64 *mig_taken; /* what the migration took, until the next other collection sees it */
	u64 *mig_scratch;
	u64 *mig_acc_mem; /* memory for the three, allocated once */
	/* Post-copy on the destination (migrate/postcopy_el2.c): the pages not here yet, unmapped from its
	 * stage 2 (NULL: none). A bit is cleared only once the page is written and mapped. */
	u64 *pc_absent;
	u64 *pc_absent_mem;        /* allocated once */
	volatile u64 pc_gmem_wait; /* IPA + 1 an EL2 access (gmem) waits for */
	u64 pc_faults, pc_fault_ns_sum, pc_fault_ns_max; /* guest accesses that waited */
};
extern struct vm vms[CONFIG_MAX_VMS];
extern u32 nvms;

int vm_create_all(const struct ferry_config *cfg);
int vm_build(struct vm *vm); /* stage 2, image, guest DTB; (re)starts from scratch */
void vm_start(struct vm *vm);
bool vm_quiescent(const struct vm *vm);
void vm_request_stop(struct vm *vm, enum vm_state why, const char *reason);
struct vm *vm_by_name(const char *name);
const char *vm_state_name(u32 state);
/* The flush a stage-2 change owes (sanitizer first, then one planned range flush). */
struct s2_flush;
void vm_s2_flush_owed(struct vm *vm, const struct s2_flush *owed);

#endif
