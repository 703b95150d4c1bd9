/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration at EL2, shared by its files only (the rest of ferry calls migrate_el2.h): the glue
 * between the pure protocol machines (hyp/migrate), the NIC (hyp/virtio), dirty logging, the vCPUs
 * and the shell. Everything here runs on the management CPU; the only thing a vCPU's CPU does for a
 * migration is park itself (saving its EL1 context) when asked, load a context it was given before
 * it next runs, and rehearse the save (and load) once into scratch (core/vcpu.c).
 *
 *   source:       migrate <vm> → HELLO … rounds of pages (dirty logging) … pause → last pages →
 *                 state blobs → hash → COMMIT → the VM has MIGRATED here; any failure → resume.
 *   destination:  a VM configured `incoming` waits; pages, blobs, hash; commit → install the state
 *                 and run. A failed attempt leaves it waiting for the next one.
 *
 * Ethernet frames with EtherType 0x88B5 belong to the protocol; 0x88B6 carries `netblast` and
 * `netping`, the raw link measurements the benchmark compares migration's goodput and round trips
 * with (linkprobe.h).
 *
 *   mig_nic_el2.c     the NIC: frames out and in, link configuration, workspace, boot, the poll
 *   mig_src_el2.c     the source's callbacks and its end
 *   mig_dst_el2.c     the destination's callbacks, listening, the commit, the switch to post-copy
 *   postcopy_el2.c    post-copy's faults and waits on the destination
 *   rehearse_el2.c    the pause's code run once before the pause: the loopback migration at boot,
 *                     the VM's state and vCPU contexts per migration
 *   mig_report_el2.c  progress lines and the JSON summaries
 *   mig_shell_el2.c   the shell's migrate and migration
 *   linkprobe_el2.c   the shell's netblast and netping, and every ferry's part in them */
#ifndef FERRY_MIGRATE_MIG_EL2_H
#define FERRY_MIGRATE_MIG_EL2_H

#include "config/config.h"
#include "core/vm.h"
#include "migrate/mig_dst.h"
#include "migrate/mig_src.h"
#include "migrate/mig_vmstate.h"
#include "migrate/migrate_el2.h"
#include "mm/dirty.h"
#include "vdev/vdev.h"
#include "virtio/virtio.h"

/* The test hooks (`corrupt=N`, `lose=1`, `pcdrop=1`, `nosave=N`) exist only in test builds (every
 * variant but the release ferry.bin, hyp/build.mk): a release hypervisor has no switch that damages
 * a migration. */
#ifndef FERRY_MIG_TEST_HOOKS
#define FERRY_MIG_TEST_HOOKS 0
#endif
#if FERRY_MIG_TEST_HOOKS
#define HOOK_USAGE " [corrupt=N] [lose=1] [pcdrop=1] [nosave=N]"
#else
#define HOOK_USAGE ""
#endif

#define PAUSE_TIMEOUT_NS (2ULL * 1000000000ULL)
#define REHEARSAL_WAIT_NS (100ULL * 1000000ULL) /* a vCPU's rehearsal takes microseconds */
#define PROGRESS_EVERY_NS (500ULL * 1000000ULL)
#define NS_PER_S 1000000000ULL

enum role {
	ROLE_NONE = 0,
	ROLE_SRC,
	ROLE_DST
};

struct mig_el2 {
	enum role role;
	struct vm *vm;
	struct mig_src src;
	struct mig_dst dst;
	u8 *ws;
	size_t ws_len;
	u32 sessions;
	u64 last_progress;
	/* source options and state */
	bool started_logging;
	u32 corrupt_every;   /* test hook: flip one bit in every Nth frame sent */
	bool lose_one;       /* test hook: leave one page out of the final round */
	bool read_untouched; /* untouched=read: round 0 reads RAM never touched too */
	u32 nosave_blob;     /* test hook: state blob N-1 cannot be serialized (0: none) */
	u64 lost_page;       /* that page + 1, once chosen */
	u64 frames_out, corrupted;
	u64 vcount_at_pause; /* source: the guest's virtual counter when its vCPUs stopped */
	u64 park_us;         /* printed once the pause is over (quiet()) */
	/* destination: state staged until commit */
	u32 norestore_blob; /* test hook: the incoming rehearsal hands blob N-1 over cut short */
	struct mig_vm_state vmstate;
	struct vpl011 uart;
	u32 blobs_ok; /* bit 0: VM, 1..n: vCPUs, n+1: UART, n+2: vGIC, n+3: PL031, n+4..2n+3: SVE,
		       * then the ITS */
	u64 *written; /* pages of the incoming VM written since power-on (dst_zero_pages) */
	u64 written_pages;
	u64 t_first_blob;
	u64 resume_ns; /* destination: committed → the last vCPU back in its guest */
	/* destination, after the commit: the vCPUs it kicked (bits), the counter then, and when the
	 * summary goes out at the latest if one of them never gets back to its guest */
	u32 resume_wait;
	u64 resume_cnt, report_by;
	u8 staged; /* destination: the VM's state put in place at our COMMIT (dst_stage) */
#define STAGED_NOT 0
#define STAGED_OK 1
#define STAGED_REFUSED 2
	u64 vcount_at_resume; /* destination: the guest's virtual counter it goes on from */
	bool audit_reported;  /* source: the audit's line is out */
	u8 scratch[VNET_FRAME_MAX];
};

extern struct mig_el2 mig;

static inline u8 *guest_ptr(const struct vm *vm, u64 ipa)
{
	return (u8 *)(uintptr_t)(pa_addr(vm->ram_pa) + (ipa - vm->cfg->ram_base));
}

static inline bool ipa_ok(const struct vm *vm, u64 ipa, u64 bytes)
{
	const struct vm_config *c = vm->cfg;

	return ipa >= c->ram_base && bytes <= c->ram_size &&
	       ipa - c->ram_base <= c->ram_size - bytes;
}

/* mig_nic_el2.c */
int migel2_send_frame(void *ctx, const void *frame, size_t len);
int migel2_send_in_place(void *ctx, u8 *frame, size_t len); /* the source's window frames */
bool migel2_frame_held(void *ctx, const u8 *frame);
void migel2_compat_of(const struct vm *vm, struct mig_compat *c);
void migel2_link_config(struct mig_link_config *l);
void *migel2_workspace(size_t need);

/* mig_src_el2.c */
extern enum dirty_mode migel2_forced_mode;
extern u64 migel2_start_chunk;
extern const struct mig_src_ops migel2_src_ops;
int migel2_src_read_page(void *ctx, ipa_t ipa, void *dst);
int migel2_hash_pages(void *ctx, ipa_t ipa, u64 npages, struct hash64_state *st);
u32 migel2_its_blob_index(const struct vm *vm);
/* State blob `index` of vm (the source's get_state). A rehearsal (the VM runs: rehearse_el2.c)
 * writes nothing of the VM's and serializes the vGIC and the ITS without waiting for its vCPUs to
 * be synced; its bytes are for nothing but throwing away. */
int migel2_get_state(struct vm *vm, u32 index, void *buf, size_t cap, u32 *tag, bool rehearsal);
void migel2_src_finished(enum mig_status st);
/* Stop every vCPU of vm at EL2 (its EL1 context saved) and wait until all have stopped; after
 * PAUSE_TIMEOUT_NS, release them and fail. The source's pause, and its rehearsal. */
int migel2_park_vcpus(struct vm *vm);
void migel2_release_vcpus(struct vm *vm);

/* rehearse_el2.c: once before the pause's code is needed (the source before round 0, the
 * destination when it starts to listen); an error means a blob cannot be serialized (source) or its
 * own state does not go back into the incoming VM (destination). */
int migel2_rehearse(struct vm *vm, bool incoming);
/* At boot, with a network device: the loopback migration (mig_loopback.h) in the migration
 * workspace, which it allocates for the largest migration these VMs need; prints the verdict. */
void migel2_rehearse_machines(void);

/* mig_dst_el2.c */
struct vm *migel2_incoming_vm(void);
/* State blob `index` into the incoming vm (the destination's put_state); records it in
 * mig.blobs_ok, the VM blob in mig.vmstate and the PL011's in mig.uart. */
int migel2_put_state(struct vm *vm, u32 index, u32 tag, const void *buf, u32 len);
void migel2_listen_incoming(struct vm *vm);
void migel2_dst_finished(enum mig_status st);
bool migel2_dst_report(void);
void migel2_dst_postcopy_start(void);
void migel2_dst_committing(void);
int migel2_dst_ask(u64 ipa);

/* mig_report_el2.c */
void migel2_progress_line(bool src, bool force);
void migel2_print_json(const char *who, const struct mig_stats *s, bool ok, const char *why);

/* mig_shell_el2.c */
bool migel2_parse_u64(const char *s, u64 *out);

/* linkprobe_el2.c */
void linkprobe_netblast(char *args);
void linkprobe_netping(char *args);
/* A frame of EtherType 0x88B6: a blast's is timed, a ping answered, a pong taken. */
void linkprobe_rx(const u8 *f, size_t len);
/* The blast's report once it is over, netping's next ping and its report; true when it sent or
 * printed anything. */
bool linkprobe_poll(void);

#endif
