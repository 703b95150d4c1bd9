/* The hypervisor core: physical CPUs, VMs and vCPUs, the console, the run loop and its services.
 * EL2-only. */
#ifndef FERRY_CORE_H
#define FERRY_CORE_H

#include "arch/aarch64/asm.h"
#include "config/config.h"
#include "lib/check.h"
#include "lib/spinlock.h"
#include "migrate/mig.h"
#include "migrate/mig_sve.h"
#include "mm/dirty.h"
#include "mm/s2.h"
#include "types.h"
#include "vdev/board.h"
#include "vdev/traps.h"
#include "vdev/vdev.h"
#include "vgic/its.h"
#include "vgic/vgic.h"

/* ---- console (core/console.c) ---- */
/* Whole lines only, under a lock, so output from several CPUs never interleaves mid-line. */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void con_write_line(const char *prefix, const char *text, size_t len);
int con_getc(void);       /* -1 when nothing is waiting */
void con_put_raw(char c); /* one character of an attached VM's console, as it comes */
struct vm;
/* A guest's line (without newline), or a byte for its attached console: into the VM's buffer, never
 * waiting on the UART; the management CPU writes them out (con_drain, true while more remain). */
void con_guest_line(struct vm *vm, const char *text, size_t len);
void con_guest_raw(struct vm *vm, char c);
bool con_drain(void);
void con_drain_all(void);
/* snprintf that keeps this CPU's FP/SIMD registers (a guest's, on a vCPU's CPU): picolibc's
 * formatting uses them. Every formatting on a vCPU's CPU goes through this or con_printf. */
int con_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- the machine, as the host DTB describes it (core/hostdt.c) ---- */
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
	u64 rtc_pa;    /* the host's PL031 (0: none): the wall clock of the guests' PL031s */
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

/* ---- physical CPUs ---- */
enum pcpu_state {
	PCPU_OFF = 0,
	PCPU_IDLE,
	PCPU_RUNNING
};
struct vcpu;
struct pcpu {
	struct guest_regs *regs; /* PCPU_REGS: must stay first (vectors.S) */
	u32 idx;
	volatile u32 state;
	struct vcpu *vcpu;    /* the vCPU this CPU owns (static partitioning), or NULL */
	u32 pmu_idx;          /* EL2 instruction counter + 1, 0 when absent */
	u64 fast_dirty_insns; /* PCPU_FAST: EL2 instructions of the faults below (PMU, -icount) */
	u64 fast_dirty;       /* PCPU_FAST + 8: write faults the vectors' fast path handled here */
	void *pmu_read;       /* PCPU_PMU_READ: vectors.S stub giving x0 = EL2 instructions */
};
extern struct pcpu pcpus[MAX_CPUS];
struct pcpu *this_pcpu(void);

/* ---- VMs and vCPUs (core/vm.c, core/vcpu.c) ---- */
struct guest_regs {
	u64 x[31];
	u64 elr, spsr;
};

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

struct vm;
struct vcpu {
	struct guest_regs regs;
	struct vm *vm;
	u32 idx;              /* vCPU index in its VM; its virtual MPIDR's Aff0 */
	u32 pcpu;             /* the physical CPU it owns */
	volatile u32 request; /* REQ_* bits other CPUs set, then kick this CPU */
	u64 exits[EXITC_NR];
	u64 exit_insns[EXITC_NR]; /* EL2 instructions per class, round trip (PMU, with -icount) */
	/* Migration (core/migrate.c): REQ_PAUSE parks the vCPU on its CPU, which saves its EL1 context
	 * into `state` and sets `parked`; `restore` makes it load `state` before it next runs. */
	volatile u32 parked;
	volatile bool restore;
	struct mig_vcpu_state state;
	struct vgic_cpu_hw gic_hw; /* its virtual CPU interface's registers, saved with `state` */
	struct mig_sve_state
		*sve;  /* its SVE registers, saved with `state` (core/sve.c; NULL: no SVE) */
	u32 lrs_in_hw; /* list registers that may hold something (core/virq.c) */
	u32 reports;   /* injected exceptions reported on the console (the rest are only counted) */
	u64 setway_ops,
		setway_flushes; /* trapped DC ISW/CSW/CISW, and the RAM flushes they caused */
	/* The EL2 controls as read back after the vCPU's CPU wrote them (`traps` in the shell). */
	struct trap_config ctl;
	volatile bool ctl_loaded;
	volatile u64
		pc_wait; /* post-copy: IPA + 1 of the page this vCPU waits for (core/postcopy.c) */
};
/* Dirty logging: how many first collections `dirtylog stats` itemizes, and the gradual start's
 * default chunk (KVM/QEMU clear their initially-set log 1 GiB at a time too). */
#define DIRTYLOG_FIRST 8
#define DIRTYLOG_GRADUAL_MIB 1024

#define REQ_STOP BIT(0)
#define REQ_PAUSE BIT(1)

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
	struct vgic vgic;     /* the VM's GICv3 model, changed under lock (core/virq.c) */
	struct its its;       /* its ITS (LPIs from MSIs), changed under lock (core/virq.c) */
	struct gmem ram;      /* its RAM as the ITS and LPI tables reach it (core/virq.c) */
	struct vpl031 rtc;    /* its PL031, changed under lock (core/board.c) */
	u64 started_at;       /* CNTPCT when it last started */
	u64 cntvoff;          /* CNTVOFF_EL2: guest virtual time = physical count - cntvoff */
	volatile bool reset_pending; /* PSCI SYSTEM_RESET: the management CPU rebuilds it */
	/* Dirty logging (core/dirtylog.c). mm_lock serializes every change to this VM's stage 2:
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
	/* Post-copy on the destination (core/postcopy.c): the pages not here yet, unmapped from its
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
void vcpu_run_loop(struct pcpu *p) __attribute__((noreturn));
extern u8 hyp_stacks[MAX_CPUS][HYP_STACK_SLOT]; /* each CPU's guard page and stack (main.c) */
void vcpu_kick(struct vcpu *v);
/* A byte for the VM's PL011 receive FIFO; false when it is full (the byte was not taken). */
bool vcpu_console_input(struct vm *vm, char c);

/* ---- virtual interrupts: the vGIC's EL2 glue and the guest timers (core/virq.c) ---- */
int virq_vm_init(struct vm *vm);
void virq_vcpu_reset(struct vcpu *v);
void virq_flush(struct vcpu *v); /* before each entry */
void virq_sync(struct vcpu *v);  /* after each exit */
void virq_take_irqs(void);       /* physical IRQs at this CPU: kicks, maintenance, timers */
void virq_wfi(struct vcpu *v);
void virq_sgi(struct vcpu *v, u32 op2, u64 value);
bool virq_mmio_window(const struct vm *vm, u64 ipa, u64 size); /* all of [ipa, ipa + size) */
void virq_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value);
void virq_set_line_locked(struct vm *vm, u32 intid, bool level);

/* ---- shared-memory regions and their doorbells (core/shm.c, docs/shared-memory.md) ---- */
int shm_create_all(const struct ferry_config *cfg);   /* after vm_create_all: carves and zeroes */
int shm_map_vm(struct vm *vm, struct s2_flush *owed); /* the VM's regions into its stage 2 */
void shm_vm_reset(struct vm *vm); /* the VM (re)starts: nothing pending at its doorbells */
bool shm_doorbell_window(const struct vm *vm, u64 ipa);
void shm_doorbell_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *value);
const char *shm_region_of(const struct vm *vm);  /* the first region it maps, or NULL */
bool shm_refuses_migration(const struct vm *vm); /* true (and says so) when it maps one */
void shm_print_stats(void); /* `stats`: rings and refused accesses per region */
const char *shm_region_at(const struct vm *vm, u64 ipa, bool *read_only);
/* What a VM sees of region `index` (false when it does not map it), for its device tree. */
struct shm_vm_view {
	const char *name;
	u64 ipa, size, doorbell_ipa;
	u32 member, members, intid;
	bool read_only;
};
bool shm_view(const struct vm *vm, u32 index, struct shm_vm_view *out);
/* ---- board devices: each VM's PL031 and the empty virtio-mmio window (core/board.c) ---- */
void board_init(void);    /* at boot: the host's wall clock */
u64 board_wall_now(void); /* the host's wall clock, in seconds */
void board_vm_reset(struct vm *vm);
bool board_mmio_window(u64 ipa);
void board_mmio(struct vcpu *v, u64 ipa, u32 size, bool write, u64 *val);
void board_poll_locked(struct vm *vm);
void board_service(struct vm *vm);                        /* the management CPU's tick */
int board_rtc_save(struct vm *vm, void *buf, size_t cap); /* migration: length or <0 */
int board_rtc_load(struct vm *vm, const void *buf, size_t len);

/* ---- SVE for guests (core/sve.c) ---- */
void sve_load_controls(void); /* on the vCPU's CPU before it runs */
int sve_vm_init(struct vm *vm);
void sve_ctx_save(struct vcpu *v);
void sve_ctx_load(struct vcpu *v);
int sve_blob_save(struct vcpu *v, void *buf, size_t cap);
int sve_blob_load(struct vcpu *v, const void *buf, size_t len, const char **why);

/* ---- the console attached to a VM (core/shell.c): input goes to its PL011, output is raw ---- */
extern struct vm *volatile console_vm;
#define CONSOLE_ESCAPE 0x1d /* Ctrl-]: back to the shell */

/* ---- dirty logging glue (core/dirtylog.c) ---- */
/* ferry's own hypercalls, in SMCCC's vendor-specific hypervisor service range (owner 6). */
#define FERRY_HC_DIRTY_ROUND \
	0xc6000001u /* x1 round, x2 IPA of the guest's written-page bitmap, x3 bits */
/* gradual_pages: 0 for the eager start (all RAM write-protected now), else the gradual start
 * (nothing protected now; each collection arms that many more pages: docs/dirty-logging.md). */
int dirtylog_start(struct vm *vm, enum dirty_mode mode, u64 gradual_pages);
/* Parses a `gradual` or `gradual=MiB` word into pages per collection (DIRTYLOG_GRADUAL_MIB by
 * default): true when the word is one, with *pages 0 for a bad size. */
bool dirtylog_parse_gradual(const char *word, u64 *pages);
int dirtylog_stop(struct vm *vm);
s64 dirtylog_collect(struct vm *vm);
/* A write permission fault at ipa: true when dirty logging handled it. */
bool dirtylog_write_fault(struct vm *vm, u64 ipa);
/* Called from the lower-EL synchronous vector (vectors.S) for a level-3 write permission fault,
 * with only the caller-saved registers spilled: true when it logged the page and made it writable
 * (the vector ERETs straight back), false to take the generic exit. */
bool dirtylog_fast_write_fault(void);
s64 dirtylog_hypercall_round(struct vcpu *v, u64 round, u64 map_ipa, u64 nbits);
enum dirty_mode dirtylog_default_mode(const struct vm *vm);
void dirtylog_print_stats(const struct vm *vm);

/* ---- live migration (core/migrate.c) ---- */
void migrate_boot(void); /* NIC probe; listens for VMs configured `incoming` */
bool migrate_poll(void); /* management loop; true while it has work (do not sleep) */
void migrate_shell(const char *cmd, char *args);
void migrate_key_changed(void); /* a key was set: an incoming VM that could not listen now can */
/* The migration key (core/migkey.c): from the config at boot, or the `migkey` shell command. */
void migkey_boot(const u8 *config_key);                        /* NULL: none configured */
int migkey_fill(u8 key[MIG_KEY_LEN], u8 nonce[MIG_NONCE_LEN]); /* FERRY_ENOENT: no key */
void migkey_shell(char *args);
void migbench_shell(void); /* core/migbench.c: EL2 instructions per frame of each tag candidate */
bool migrate_busy(const struct vm *vm);
void vcpu_ctx_save(struct vcpu *v, struct mig_vcpu_state *s); /* on the vCPU's own CPU */
void vcpu_ctx_load(struct vcpu *v, const struct mig_vcpu_state *s);
int dirtylog_take_for_migration(struct vm *vm, u64 *bitmap, u64 *added);

/* ---- pieces of the world switch (arch/aarch64) ---- */
u64 guest_enter(struct guest_regs *regs);
/* This CPU's FP/SIMD registers (its vCPU's: ferry's C never uses them) to and from 66 words:
 * V0..V31 (low half first), FPCR, FPSR (arch/aarch64/fpsimd.S). */
#define FPSIMD_WORDS 66
void fpsimd_save(u64 *buf);
void fpsimd_load(const u64 *buf);
void arch_mmu_init_primary(u64 ram_base, u64 ram_size);
void arch_mmu_enable(void);
bool arch_el2_can_access(u64 va, bool write); /* AT S1E2R/W on the management CPU */
u64 arch_smc(u64 fid, u64 a1, u64 a2, u64 a3);
void arch_semihost_exit(u32 code) __attribute__((noreturn));
/* vectors.S: the stub that reads counter n (0..7) into x0, or returns 0 (n > 7). */
void *el2_insns_stub(u64 n);
bool pmu_el2_init(void); /* EL2-only INST_RETIRED counter; false when absent (no -icount) */
u64 pmu_el2_read(void);

/* ---- physical GICv3: just enough for SGIs that kick a CPU out of its guest (drivers/gicv3.c) ---- */
void gic_init_dist(void);
void gic_init_cpu(u32 cpu);
void gic_send_sgi(u32 cpu, u32 intid);
u32 gic_ack(void);
void gic_eoi(u32 intid);
void gic_enable_irq(u32 cpu, u32 intid);
void gic_drain(void); /* acknowledge and end everything pending */
/* EOImode = 1: gic_eoi() drops the priority and deactivates. A guest timer's PPI is only held:
 * priority dropped, left active (masked) until the guest deactivates it through a list register
 * with HW = 1, or gic_deactivate() when no list register took it. gic_complete() picks. */
void gic_hold(u32 intid);
bool gic_held(u32 intid); /* held on this CPU and not yet given to gic_deactivate() */
void gic_deactivate(u32 intid);
void gic_complete(u32 intid);
#define SGI_KICK 1
void gic_priority_drop(u32 intid); /* a passthrough SPI: EOIR only */
void gic_spi_deactivate(u32 intid);
void gic_spi_reset(u32 intid, bool edge); /* neither pending nor active, edge or level */

/* ---- device passthrough (core/passthrough.c, docs/passthrough.md) ---- */
/* At boot, after the config: resolves and checks every `passthrough` path (0, or an error line in
 * err), and keeps the owned virtio-mmio slots out of ferry's choice of NIC. */
int pt_boot(const void *host_fdt, const struct ferry_config *cfg, char *err, size_t errlen);
int pt_map_vm(struct vm *vm, struct s2_flush *owed); /* its devices' pages, IPA = PA */
int pt_vm_irqs(struct vm *vm); /* after vgic_init: its SPIs HW-mapped and routed to vCPU 0 */
bool pt_take(u32 intid);       /* an acknowledged IRQ: true when it was a passthrough SPI */
void pt_sync(struct vcpu *v);  /* after each exit: held SPIs the guest dropped, deactivated */
bool pt_page_of_vm(const struct vm *vm, u64 pa); /* pa lies in a page the VM owns */
bool pt_refuses_migration(const struct vm *vm);  /* true (and says so) when it owns a device */
int pt_fdt_nodes(const struct vm *vm, void *fdt, u32 clock_phandle);

#define GIC_PPI_MAINTENANCE 25
#define GIC_PPI_VTIMER 27
#define GIC_PPI_PTIMER 30
#define GIC_PPI_PMU 23 /* the PMU's overflow interrupt, as on QEMU virt */

/* ---- page pool for hypervisor allocations (core/alloc.c) ---- */
void pool_init(u64 start, u64 end);
void *pool_zalloc_page(void);
void pool_free_page(void *page);
void *pool_zalloc_contig(u64 pages); /* physically contiguous, never freed */
/* The flush a stage-2 change owes (sanitizer first, then one planned range flush). */
void vm_s2_flush_owed(struct vm *vm, const struct s2_flush *owed);
/* Post-copy on the destination (core/postcopy.c, docs/migration.md "Post-copy"). */
int postcopy_begin(struct vm *vm, const u64 *absent);      /* before the vCPUs start */
void postcopy_arrived(struct vm *vm, u64 ipa);             /* written: map it, wake waiters */
void postcopy_collect(struct vm *vm, int (*ask)(u64 ipa)); /* pages someone waits for */
void postcopy_end(struct vm *vm);                          /* every page is here */
bool postcopy_fault(struct vcpu *v, u64 ipa);              /* a guest access to an absent page */
u64 pool_free_pages(void);

/* ---- guest RAM (core/alloc.c) ---- */
void guest_ram_init(u64 start, u64 end);
int guest_ram_alloc(u64 size, u64 fixed_pa, pa_t *out);

/* ---- services ---- */
void shell_poll(void);
void tlbi_san_print(const char *line, void *ctx); /* emit callback for tlbi reports */
/* core/lifecycle.c: restarts VMs that asked, ends the run when all are done. */
void ferry_service_vms(void);
int vm_restart(struct vm *vm); /* builds the VM afresh and starts it (not while it migrates) */

/* Built-in guest images (core/images.S). */
struct builtin_image {
	const char *name;
	const u8 *start;
	const u8 *end;
};
const struct builtin_image *builtin_image_find(const char *name);
extern const u8 builtin_config_start[], builtin_config_end[];

#endif
