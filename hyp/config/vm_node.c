/* SPDX-License-Identifier: Apache-2.0 */
/* A VM node of the config (/vms/<name>, docs/config.md): its name, RAM, CPUs, image, placement,
 * devices, flags and passthrough paths, each checked against the machine and against the VMs
 * before it. Pure code (libfdt only). */
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "config/parser.h"
#include "lib/range.h"

/* ---- the properties a VM node may have ---- */

static const char *const vm_properties[] = {
	"ram-base",    "ram-size", "ram-pa",    "cpus",        "image",    "image-pa", "image-size",
	"load-offset", "entry",    "initrd-pa", "initrd-size", "bootargs", "devices",  "dirty-log",
	"on-abort",    "incoming", "console",   "passthrough", "vnet",     "vnet-mac", NULL,
};

static const char *const dirty_mode_names[] = { "auto", "wp", "dbm", NULL };
static const char *const abort_policy_names[] = { "stop", "inject", NULL };

static const struct {
	const char *name;
	u32 bit;
} device_names[] = {
	{ "uart", CONFIG_DEV_UART },
};

/* The VM's name is its node's name under /vms. It cannot be a `name` property: dtc rejects a `name`
 * that differs from the node's name and deletes one that matches (its name_properties check). */
static int parse_name(struct config_parser *p, int node, struct vm_config *vm, u32 index)
{
	int err = config_node_name(p, node, "VM", vm->name);

	if (err)
		return err;
	/* dtc refuses two nodes of one name; a DTB made by other means might still have them. */
	for (u32 i = 0; i < index; i++)
		if (!strcmp(p->out->vm[i].name, vm->name))
			return config_fail(p, NULL, "two VMs are named '%s'", vm->name);
	snprintf(p->who, sizeof(p->who), "vm '%s'", vm->name);
	if (fdt_getprop(p->fdt, node, "name", NULL))
		return config_fail(p, "name", "not a property: the VM's name is its node's name");
	return 0;
}

static int parse_ram(struct config_parser *p, int node, struct vm_config *vm, u32 index,
		     u64 window_bytes)
{
	u64 total = 0;
	int err;

	if ((err = config_prop_guest_base(p, node, "ram-base", CONFIG_RAM_ALIGN, "2 MiB",
					  "GIC, UART, virtio", &vm->ram_base)))
		return err;
	if ((err = config_prop_size(p, node, "ram-size", CONFIG_RAM_ALIGN, "2 MiB", &vm->ram_size)))
		return err;
	if (vm->ram_size < CONFIG_RAM_MIN)
		return config_fail(
			p, "ram-size",
			"0x%llx is less than 4 MiB (the top 2 MiB hold the guest's device "
			"tree)",
			(unsigned long long)vm->ram_size);
	if (vm->ram_base >= CONFIG_IPA_LIMIT || vm->ram_size > CONFIG_IPA_LIMIT - vm->ram_base)
		return config_fail(p, "ram-size",
				   "RAM 0x%llx + 0x%llx ends beyond the 40-bit IPA space (1 TiB)",
				   (unsigned long long)vm->ram_base,
				   (unsigned long long)vm->ram_size);
	/* Each size is below 2^40 here, so the sum of at most CONFIG_MAX_VMS cannot overflow. */
	for (u32 i = 0; i < index; i++)
		total += p->out->vm[i].ram_size;
	total += vm->ram_size;
	if (total > window_bytes)
		return config_fail(
			p, "ram-size",
			"the VMs up to this one need %llu MiB of RAM, the machine has %llu "
			"MiB for guests",
			config_mib(total), config_mib(window_bytes));
	return 0;
}

static int parse_ram_pa(struct config_parser *p, int node, struct vm_config *vm, u32 index,
			u64 window_pa, u64 window_bytes)
{
	int err = config_prop_u64(p, node, "ram-pa", false, &vm->ram_pa);

	if (err == FERRY_ENOENT) {
		vm->ram_pa = 0;
		return 0;
	}
	if (err)
		return err;
	if (!IS_ALIGNED(vm->ram_pa, CONFIG_RAM_ALIGN))
		return config_fail(p, "ram-pa", "0x%llx is not 2 MiB aligned",
				   (unsigned long long)vm->ram_pa);
	if (vm->ram_pa < window_pa || vm->ram_pa - window_pa > window_bytes ||
	    vm->ram_size > window_bytes - (vm->ram_pa - window_pa))
		return config_fail(p, "ram-pa",
				   "0x%llx-0x%llx is outside the guest RAM window 0x%llx-0x%llx",
				   (unsigned long long)vm->ram_pa,
				   (unsigned long long)(vm->ram_pa + vm->ram_size - 1),
				   (unsigned long long)window_pa,
				   (unsigned long long)(window_pa + window_bytes - 1));
	for (u32 i = 0; i < index; i++) {
		const struct vm_config *o = &p->out->vm[i];

		if (o->ram_pa && range_overlaps(vm->ram_pa, vm->ram_size, o->ram_pa, o->ram_size))
			return config_fail(
				p, "ram-pa",
				"0x%llx-0x%llx overlaps the RAM of vm '%s' at 0x%llx-0x%llx",
				(unsigned long long)vm->ram_pa,
				(unsigned long long)(vm->ram_pa + vm->ram_size - 1), o->name,
				(unsigned long long)o->ram_pa,
				(unsigned long long)(o->ram_pa + o->ram_size - 1));
	}
	return 0;
}

static int parse_cpus(struct config_parser *p, int node, struct vm_config *vm, u32 index)
{
	const struct config_limits *lim = p->lim;
	int len;
	const fdt32_t *v = config_prop_get(p, node, "cpus", &len);
	u32 n;

	if (!v)
		return config_prop_missing(p, "cpus", true, len);
	if (len == 0)
		return config_fail(p, "cpus", "empty, expected at least one CPU index");
	if (len % 4)
		return config_prop_cells_error(p, "cpus", len, "CPU indices");
	n = (u32)len / 4;
	if (n > CONFIG_MAX_VCPUS)
		return config_fail(p, "cpus", "%u CPUs, at most %u", (unsigned)n,
				   (unsigned)CONFIG_MAX_VCPUS);
	for (u32 j = 0; j < n; j++) {
		u32 cpu = fdt32_ld(&v[j]);

		if (cpu >= lim->ncpus)
			return config_fail(p, "cpus",
					   "CPU %u does not exist (the machine has %u: 0-%u)",
					   (unsigned)cpu, (unsigned)lim->ncpus,
					   (unsigned)(lim->ncpus ? lim->ncpus - 1 : 0));
		if (cpu < 32 && (lim->reserved_cpu_mask & (1u << cpu)))
			return config_fail(
				p, "cpus",
				"CPU %u is ferry's own (its management CPU runs the shell and "
				"migration)",
				(unsigned)cpu);
		for (u32 k = 0; k < j; k++)
			if (vm->cpus[k] == cpu)
				return config_fail(p, "cpus", "CPU %u is given twice",
						   (unsigned)cpu);
		for (u32 i = 0; i < index; i++)
			for (u32 k = 0; k < p->out->vm[i].ncpus; k++)
				if (p->out->vm[i].cpus[k] == cpu)
					return config_fail(p, "cpus",
							   "CPU %u is already owned by vm '%s'",
							   (unsigned)cpu, p->out->vm[i].name);
		vm->cpus[j] = cpu;
	}
	vm->ncpus = n;
	return 0;
}

/* A memory range QEMU's -device loader filled (`<what>-pa` + `<what>-size`): both or neither. */
static int parse_loaded_range(struct config_parser *p, int node, const char *pa_prop,
			      const char *size_prop, u64 *pa, u64 *size, bool *present)
{
	int epa = config_prop_u64(p, node, pa_prop, false, pa);
	int esize;

	if (epa && epa != FERRY_ENOENT)
		return epa;
	esize = config_prop_u64(p, node, size_prop, false, size);
	if (esize && esize != FERRY_ENOENT)
		return esize;
	*present = !epa;
	if (epa && !esize)
		return config_fail(p, size_prop, "given without '%s'", pa_prop);
	if (!epa && esize)
		return config_fail(p, size_prop, "missing ('%s' needs it)", pa_prop);
	if (epa) {
		*pa = *size = 0;
		return 0;
	}
	if (!*size)
		return config_fail(p, size_prop, "zero");
	if (!range_valid(*pa, *size))
		return config_fail(p, pa_prop, "0x%llx + 0x%llx overflows", (unsigned long long)*pa,
				   (unsigned long long)*size);
	return 0;
}

static int parse_image(struct config_parser *p, int node, struct vm_config *vm, bool incoming)
{
	const struct config_limits *lim = p->lim;
	bool loaded;
	int err = config_prop_string(p, node, "image", false, false, vm->image, sizeof(vm->image));

	if (err && err != FERRY_ENOENT)
		return err;
	if (!err && fdt_getprop(p->fdt, node, "image-pa", NULL))
		return config_fail(p, "image", "give either 'image' or 'image-pa', not both");
	if (!err) {
		if (fdt_getprop(p->fdt, node, "image-size", NULL))
			return config_fail(p, "image-size", "only goes with 'image-pa'");
		if (!lim->image_exists || !lim->image_exists(vm->image))
			return config_fail(p, "image", "no built-in image '%s'", vm->image);
		return 0;
	}
	vm->image[0] = 0;
	err = parse_loaded_range(p, node, "image-pa", "image-size", &vm->image_pa, &vm->image_size,
				 &loaded);
	if (err)
		return err;
	/* A VM waiting for an incoming migration gets its memory from the source: no image. */
	if (!loaded && !incoming)
		return config_fail(p, "image",
				   "missing (give 'image', or 'image-pa' and 'image-size')");
	return 0;
}

static int parse_placement(struct config_parser *p, int node, struct vm_config *vm)
{
	int err = config_prop_u64(p, node, "load-offset", false, &vm->load_offset);

	if (err == FERRY_ENOENT)
		vm->load_offset = CONFIG_DEFAULT_LOAD_OFFSET;
	else if (err)
		return err;
	else if (!IS_ALIGNED(vm->load_offset, 4) ||
		 vm->load_offset >= vm->ram_size - CONFIG_GUEST_DTB_RESERVE)
		return config_fail(
			p, "load-offset",
			"0x%llx is not a 4-byte aligned offset below 0x%llx (RAM without "
			"its top 2 MiB)",
			(unsigned long long)vm->load_offset,
			(unsigned long long)(vm->ram_size - CONFIG_GUEST_DTB_RESERVE));

	err = config_prop_u64(p, node, "entry", false, &vm->entry);
	vm->has_entry = !err;
	if (err == FERRY_ENOENT) {
		vm->entry = 0;
		return 0;
	}
	if (err)
		return err;
	if (!IS_ALIGNED(vm->entry, 4) || vm->entry < vm->ram_base ||
	    vm->entry - vm->ram_base >= vm->ram_size)
		return config_fail(
			p, "entry",
			"0x%llx is not a 4-byte aligned IPA in the VM's RAM 0x%llx-0x%llx",
			(unsigned long long)vm->entry, (unsigned long long)vm->ram_base,
			(unsigned long long)(vm->ram_base + vm->ram_size - 1));
	return 0;
}

static int parse_devices(struct config_parser *p, int node, struct vm_config *vm)
{
	int n, err;

	vm->devices = 0;
	err = config_prop_strings(p, node, "devices", "a list of strings", &n);
	if (err)
		return err == FERRY_ENOENT ? 0 : err;
	for (int i = 0; i < n; i++) {
		const char *dev = fdt_stringlist_get(p->fdt, node, "devices", i, NULL);
		u32 bit = 0;

		if (!dev)
			return config_fail(p, "devices", "unreadable (libfdt)");
		for (size_t k = 0; k < ARRAY_SIZE(device_names); k++)
			if (!strcmp(dev, device_names[k].name))
				bit = device_names[k].bit;
		if (!bit)
			return config_fail(p, "devices", "unknown device '%.32s' (known: uart)",
					   dev);
		if (vm->devices & bit)
			return config_fail(p, "devices", "'%s' is given twice", dev);
		vm->devices |= bit;
	}
	return 0;
}

/* A device-tree path: '/' then node names (characters of the DT spec's node names, and '/'). */
static bool dt_path_ok(const char *s)
{
	if (s[0] != '/' || !s[1])
		return false;
	for (; *s; s++)
		if (!config_name_char_ok(*s) && !strchr("/,.+@", *s))
			return false;
	return true;
}

/* `passthrough`: paths of machine devices the VM owns. Only the strings are checked here; the
 * machine's device tree says what they name (hyp/config/passthrough.c). */
static int parse_passthrough(struct config_parser *p, int node, struct vm_config *vm)
{
	int n, err;

	vm->npassthrough = 0;
	err = config_prop_strings(p, node, "passthrough", "a list of paths", &n);
	if (err)
		return err == FERRY_ENOENT ? 0 : err;
	if (n > CONFIG_MAX_PASSTHROUGH)
		return config_fail(p, "passthrough", "%d devices, at most %d", n,
				   CONFIG_MAX_PASSTHROUGH);
	if (vm->incoming)
		return config_fail(p, "passthrough",
				   "an incoming VM cannot own a device (migration "
				   "refuses VMs that do)");
	for (int i = 0; i < n; i++) {
		int slen;
		const char *path = fdt_stringlist_get(p->fdt, node, "passthrough", i, &slen);

		if (!path)
			return config_fail(p, "passthrough", "unreadable (libfdt)");
		if (slen >= CONFIG_PT_PATH_MAX)
			return config_fail(p, "passthrough", "path of %d characters, at most %d",
					   slen, CONFIG_PT_PATH_MAX - 1);
		if (!dt_path_ok(path))
			return config_fail(p, "passthrough",
					   "'%s' is not a device-tree path such as "
					   "\"/pl061@9030000\"",
					   path);
		for (u32 k = 0; k < vm->npassthrough; k++)
			if (!strcmp(vm->passthrough[k], path))
				return config_fail(p, "passthrough", "'%s' is given twice", path);
		memcpy(vm->passthrough[vm->npassthrough++], path, (size_t)slen + 1);
	}
	return 0;
}

int config_parse_vm(struct config_parser *p, int node, u32 index, u64 window_pa, u64 window_bytes)
{
	struct vm_config *vm = &p->out->vm[index];
	u32 choice = 0;
	bool loaded;
	int err;

	if ((err = parse_name(p, node, vm, index)))
		return err;
	if ((err = config_check_unknown(p, node, vm_properties)))
		return err;
	if ((err = parse_ram(p, node, vm, index, window_bytes)))
		return err;
	if ((err = parse_ram_pa(p, node, vm, index, window_pa, window_bytes)))
		return err;
	if ((err = parse_cpus(p, node, vm, index)))
		return err;
	/* `incoming` first: it decides whether an image is required. */
	if ((err = config_prop_flag(p, node, "incoming", &vm->incoming)))
		return err;
	if ((err = parse_image(p, node, vm, vm->incoming)))
		return err;
	if ((err = parse_placement(p, node, vm)))
		return err;
	if ((err = parse_loaded_range(p, node, "initrd-pa", "initrd-size", &vm->initrd_pa,
				      &vm->initrd_size, &loaded)))
		return err;
	err = config_prop_string(p, node, "bootargs", false, true, vm->bootargs,
				 sizeof(vm->bootargs));
	if (err == FERRY_ENOENT)
		vm->bootargs[0] = 0;
	else if (err)
		return err;
	if ((err = parse_devices(p, node, vm)))
		return err;
	if ((err = config_prop_flag(p, node, "console", &vm->console)))
		return err;
	if (vm->console && !(vm->devices & CONFIG_DEV_UART))
		return config_fail(p, "console", "the VM has no 'uart' device to attach it to");
	for (u32 i = 0; vm->console && i < index; i++)
		if (p->out->vm[i].console)
			return config_fail(p, "console", "vm '%s' has the console already",
					   p->out->vm[i].name);
	err = config_prop_choice(p, node, "dirty-log", dirty_mode_names, &choice);
	if (err && err != FERRY_ENOENT)
		return err;
	vm->dirty_mode = err ? CONFIG_DIRTY_AUTO : (enum config_dirty_mode)choice;
	err = config_prop_choice(p, node, "on-abort", abort_policy_names, &choice);
	if (err && err != FERRY_ENOENT)
		return err;
	vm->on_abort = err ? CONFIG_ABORT_STOP : (enum config_abort_policy)choice;
	if ((err = parse_passthrough(p, node, vm)))
		return err;
	return config_parse_vnet(p, node, vm, index);
}
