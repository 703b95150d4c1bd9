/* SPDX-License-Identifier: Apache-2.0 */
/* VMs: created once from the config (RAM placed, vCPUs bound to their physical CPUs), built (stage 2,
 * image, device tree) each time they start, and stopped alone when they end or misbehave. */
#include "core/vm.h"

#include <stdio.h>
#include <string.h>

#include "arch/aarch64/sysreg.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/board.h"
#include "core/console.h"
#include "core/guest_fdt.h"
#include "core/images.h"
#include "core/machine.h"
#include "core/passthrough.h"
#include "core/pcpu.h"
#include "core/shm.h"
#include "core/sve.h"
#include "core/vcpu.h"
#include "lib/kimage.h"
#include "lib/spinlock.h"
#include "mm/s2.h"
#include "mm/tlbi.h"
#include "mm/untouched_el2.h"
#include "vdev/vdev.h"
#include "vdev/vvnet_el2.h"
#include "vgic/vgic_el2.h"

struct vm vms[CONFIG_MAX_VMS];
u32 nvms;

/* The guest DTB goes in the top 2 MiB of RAM, where QEMU also puts it: an image's BSS and stack grow
 * up from its load address and never reach it. */
#define GUEST_DTB_SIZE (64u << 10)
#define GUEST_DTB_RESERVE SZ_2M

static void *s2_zalloc(void *ctx)
{
	(void)ctx;
	return pool_zalloc_page();
}
static void s2_free(void *ctx, void *page)
{
	(void)ctx;
	pool_free_page(page);
}
static u64 s2_v2p(void *va) { return (u64)(uintptr_t)va; }
static void *s2_p2v(u64 pa) { return (void *)(uintptr_t)pa; }
static const struct s2_mm_ops s2_pool_ops = {
	.zalloc_page = s2_zalloc,
	.free_page = s2_free,
	.virt_to_phys = s2_v2p,
	.phys_to_virt = s2_p2v,
	.identity = true,
};

static struct tlbi_caps tlbi_caps_of_machine(void)
{
	struct tlbi_caps caps;

	tlbi_caps_from_idregs(machine.isar0, machine.mmfr2, &caps);
	return caps;
}

/* Break-before-make inside the page-table code: the broken entries must be gone from every TLB before
 * the new ones are written (Arm ARM D8.14.1). */
static void s2_bbm_flush(void *ctx, ipa_t start, u64 pages, int level)
{
	struct vm *vm = ctx;
	struct tlbi_caps caps = tlbi_caps_of_machine();

	tlbi_san_downgrade(vm->vmid, start, pages);
	tlbi_flush_s2_range(&caps, vm->vmid, start, pages, level);
}

void vm_s2_flush_owed(struct vm *vm, const struct s2_flush *owed)
{
	struct tlbi_caps caps = tlbi_caps_of_machine();

	if (!owed->pages)
		return;
	tlbi_san_downgrade(vm->vmid, owed->start, owed->pages);
	tlbi_flush_s2_range(&caps, vm->vmid, owed->start, owed->pages, owed->level);
}

const char *vm_state_name(u32 state)
{
	switch (state) {
	case VM_CREATED:
		return "created";
	case VM_RUNNING:
		return "running";
	case VM_OFF:
		return "off";
	case VM_STOPPED:
		return "stopped";
	case VM_FAULTED:
		return "faulted";
	case VM_INCOMING:
		return "incoming";
	case VM_MIGRATED:
		return "migrated";
	default:
		return "?";
	}
}

struct vm *vm_by_name(const char *name)
{
	for (u32 i = 0; i < nvms; i++)
		if (!strcmp(vms[i].cfg->name, name))
			return &vms[i];
	return NULL;
}

static int alloc_ram(struct vm *vm, const struct vm_config *c)
{
	int err = guest_ram_alloc(c->ram_size, pa_init(c->ram_pa), &vm->ram_pa);

	if (err)
		con_printf(
			"config: vm '%s': property 'ram-size': cannot place %llu MiB of RAM (%s)",
			c->name, (unsigned long long)(c->ram_size >> 20), ferry_strerror(err));
	return err;
}

int vm_create_all(const struct ferry_config *cfg)
{
	int err;

	nvms = cfg->nvms;
	for (u32 i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];
		const struct vm_config *c = &cfg->vm[i];

		vm->cfg = c;
		vm->id = i;
		vm->vmid = (u16)(i + 1); /* VMID 0 stays unused: the management CPU's idle value */
		vm->nvcpus = c->ncpus;
		for (u32 j = 0; j < c->ncpus; j++) {
			vm->vcpu[j].vm = vm;
			vm->vcpu[j].idx = j;
			vm->vcpu[j].pcpu = c->cpus[j];
			pcpus[c->cpus[j]].vcpu = &vm->vcpu[j];
		}
	}
	/* Fixed placements first, so the dynamic ones are carved above them. */
	for (u32 pass = 0; pass < 2; pass++)
		for (u32 i = 0; i < nvms; i++)
			if ((pass == 0) == (cfg->vm[i].ram_pa != 0) &&
			    (err = alloc_ram(&vms[i], &cfg->vm[i])))
				return err;
	for (u32 i = 0; i < nvms; i++)
		if ((err = untouched_init(&vms[i])))
			return err;
	return 0;
}

static const u8 *image_source(const struct vm_config *c, u64 *size)
{
	const struct builtin_image *img;

	if (c->image_pa) {
		*size = c->image_size;
		return (const u8 *)(uintptr_t)c->image_pa;
	}
	img = builtin_image_find(c->image);
	if (!img)
		return NULL;
	*size = (u64)(img->end - img->start);
	return img->start;
}

/* Copies the image (and initrd) into guest RAM where kimage_layout() says: an arm64 Image header
 * (magic "ARM\x64" at 0x38) gives the load offset and the memory the image needs beyond its file
 * (BSS); anything else loads at load-offset. The header is checked like any other input. */
static int load_image(struct vm *vm, char *why, size_t whylen)
{
	const struct vm_config *c = vm->cfg;
	u64 size; /* the parser fills in load-offset 0x80000 when absent */
	const u8 *src = image_source(c, &size);
	struct kimage_layout l;
	const char *what;

	if (!src) {
		snprintf(why, whylen, "image '%s' not found", c->image);
		return FERRY_ENOENT;
	}
	if (kimage_layout(src, size, c->load_offset, c->ram_size - GUEST_DTB_RESERVE,
			  c->initrd_size, &l, &what)) {
		if (!strcmp(what, "initrd"))
			snprintf(why, whylen, "initrd of %llu KiB does not fit above the image",
				 (unsigned long long)(c->initrd_size >> 10));
		else
			snprintf(why, whylen,
				 "image header asks for 0x%llx bytes at offset 0x%llx: "
				 "not inside its RAM",
				 (unsigned long long)l.need, (unsigned long long)l.offset);
		return FERRY_ERANGE;
	}
	memcpy((void *)(uintptr_t)pa_addr(pa_add(vm->ram_pa, l.offset)), src, size);
	untouched_note(vm, c->ram_base + l.offset, size);
	vm->entry_ipa = c->has_entry ? c->entry : c->ram_base + l.offset;
	vm->initrd_ipa = 0;
	if (!c->initrd_size)
		return 0;
	memcpy((void *)(uintptr_t)pa_addr(pa_add(vm->ram_pa, l.initrd_off)),
	       (const void *)(uintptr_t)c->initrd_pa, c->initrd_size);
	untouched_note(vm, c->ram_base + l.initrd_off, c->initrd_size);
	vm->initrd_ipa = c->ram_base + l.initrd_off;
	return 0;
}

int vm_build(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct s2_flush owed = { 0 };
	char why[96];
	int err;
	void *dtb;

	/* First: no frame from its peer may land in its RAM while the image is written there. */
	vvnet_vm_reset(vm);
	if (vm->s2.mm)
		s2_destroy(&vm->s2);
	vm->dirty.mode = DIRTY_OFF; /* the new tables are not logged */
	/* Only the first life of a VM booted here starts from zeroed RAM (QEMU's): mapped with the
	 * access flag clear, its untouched pages need not be read by a migration's round 0. */
	vm->ram_untouched = !c->incoming && !vm->built;
	vm->built = true;
	err = s2_init(&vm->s2, 39, vm->vmid, &s2_pool_ops, NULL, s2_bbm_flush, vm);
	if (!err)
		err = s2_map(&vm->s2, ipa_init(c->ram_base), vm->ram_pa, c->ram_size,
			     S2_PROT_R | S2_PROT_W | S2_PROT_X |
				     (vm->ram_untouched ? S2_PROT_UNTOUCHED : 0),
			     &owed);
	if (!err)
		err = shm_map_vm(vm, &owed);
	if (!err)
		err = pt_map_vm(vm, &owed);
	if (err) {
		con_printf("ferry: vm '%s': stage 2: %s", c->name, ferry_strerror(err));
		return err;
	}
	/* A rebuilt VM reuses its VMID: nothing of its previous life may survive in any TLB. */
	tlbi_flush_s2_vmid(vm->vmid);

	/* An incoming VM's memory, image and device tree included, all come from the source. */
	if (!c->incoming) {
		err = load_image(vm, why, sizeof(why));
		if (err) {
			con_printf("config: vm '%s': property 'image': %s", c->name, why);
			return err;
		}
		vm->dtb_ipa = c->ram_base + c->ram_size - GUEST_DTB_RESERVE;
		dtb = (void *)(uintptr_t)pa_addr(
			pa_add(vm->ram_pa, c->ram_size - GUEST_DTB_RESERVE));
		err = guest_fdt_write(vm, dtb, GUEST_DTB_SIZE);
		untouched_note(vm, vm->dtb_ipa, GUEST_DTB_RESERVE);
		if (err) {
			con_printf("ferry: vm '%s': guest device tree: libfdt error %d", c->name,
				   err);
			return FERRY_EINVAL;
		}
	}

	memset(&vm->psci, 0, sizeof(vm->psci));
	vm->psci.nvcpus = vm->nvcpus;
	vm->psci.ram_base = c->ram_base;
	vm->psci.ram_size = c->ram_size;
	/* vCPU 0 starts at the image entry with x0 = the DTB, per the arm64 boot protocol; the others
	 * wait for PSCI CPU_ON. */
	vm->psci.cpu[0].entry = vm->entry_ipa;
	vm->psci.cpu[0].context = vm->dtb_ipa;
	vm->psci.cpu[0].state = c->incoming ? VPSCI_OFF : VPSCI_ON_PENDING;
	vpl011_reset(&vm->uart);
	board_vm_reset(vm);
	err = sve_vm_init(vm);
	if (err) {
		con_printf("ferry: vm '%s': SVE state: %s", c->name, ferry_strerror(err));
		return err;
	}
	err = virq_vm_init(vm);
	if (err) {
		con_printf("ferry: vm '%s': vGIC: %s", c->name, ferry_strerror(err));
		return err;
	}
	for (u32 i = 0; i < vm->nvcpus; i++) {
		vm->vcpu[i].request = 0;
		vm->vcpu[i].restore = false;
		memset(vm->vcpu[i].exits, 0, sizeof(vm->vcpu[i].exits));
		vm->vcpu[i].reports = 0;
	}
	vm->reason[0] = 0;
	/* Release: a peer ringing this VM's doorbell (core/shm.c) touches its vGIC only once it reads
	 * VM_CREATED, and must then see the vGIC virq_vm_init() just built. */
	__atomic_store_n(&vm->state, c->incoming ? VM_INCOMING : VM_CREATED, __ATOMIC_RELEASE);
	shm_vm_reset(vm);
	return 0;
}

void vm_start(struct vm *vm)
{
	vm->started_at = sysreg_read(cntpct_el0);
	vm->cntvoff = vm->started_at; /* guest virtual time starts at zero */
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	vcpu_kick(&vm->vcpu[0]);
}

void vm_request_stop(struct vm *vm, enum vm_state why, const char *reason)
{
	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		spin_unlock(&vm->lock);
		return;
	}
	con_snprintf(vm->reason, sizeof(vm->reason), "%s", reason); /* also on vCPUs' CPUs */
	__atomic_store_n(&vm->state, why, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	for (u32 i = 0; i < vm->nvcpus; i++) {
		__atomic_or_fetch(&vm->vcpu[i].request, REQ_STOP, __ATOMIC_RELEASE);
		if (vm->vcpu[i].pcpu != this_pcpu()->idx)
			vcpu_kick(&vm->vcpu[i]);
	}
}

/* True once none of the VM's physical CPUs is inside the guest any more. */
bool vm_quiescent(const struct vm *vm)
{
	for (u32 i = 0; i < vm->nvcpus; i++)
		if (pcpus[vm->vcpu[i].pcpu].state == PCPU_RUNNING)
			return false;
	return true;
}
