/* SPDX-License-Identifier: Apache-2.0 */
/* VM configuration parser: reads the config DTB (docs/config.md) with libfdt and checks everything that
 * can be checked before a VM exists, so that boot either takes the whole config or stops with one line
 * naming the VM and the property. Pure code: the host unit tests run it on the same .dtb files. */
#include "config/config.h"

#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/range.h"

#define CONFIG_COMPATIBLE "ferry,config-v1"

/* Everything below 1 GiB of the guest's IPA space is its device area, as on QEMU virt: GICv3 at
 * 0x08000000, PL011 at 0x09000000, virtio-mmio at 0x0a000000, later PCIe. Asking RAM to start at or
 * above 1 GiB keeps every present and future emulated device out of RAM with one simple rule. */
#define CONFIG_RAM_BASE_MIN 0x40000000ULL
/* Stage 2 is built with a 40-bit IPA space (1 TiB): plenty on virt, and every CPU model QEMU offers
 * supports it (PARange >= 40 bits). */
#define CONFIG_IPA_BITS 40
#define CONFIG_IPA_LIMIT (1ULL << CONFIG_IPA_BITS)
/* RAM is mapped with 2 MiB blocks where possible, and the top 2 MiB of a VM's RAM hold the guest's
 * device tree (hyp/core/vm.c), so a VM needs at least one more 2 MiB for its image. */
#define CONFIG_RAM_ALIGN SZ_2M
#define CONFIG_RAM_MIN (2 * SZ_2M)
#define CONFIG_GUEST_DTB_RESERVE SZ_2M
#define CONFIG_DEFAULT_LOAD_OFFSET 0x80000ULL

struct config_parser {
	const void *fdt;
	const struct config_limits *lim;
	struct ferry_config *out;
	char *err;
	size_t errlen;
	/* Who the next error is about: "vm 'alpha'" once the name is known, else the node's path. */
	char who[48];
};

/* Writes "config: <who>: property '<prop>': <message>" and returns FERRY_EINVAL. Names and strings
 * in it come from the blob: any byte that is not printable ASCII becomes '?', so the message stays
 * one console line whatever the blob holds. */
static int config_fail(struct config_parser *p, const char *prop, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int config_fail(struct config_parser *p, const char *prop, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return FERRY_EINVAL;
	n = snprintf(p->err, p->errlen, "config: %s%s", p->who, p->who[0] ? ": " : "");
	if (n >= 0 && (size_t)n < p->errlen && prop)
		n += snprintf(p->err + n, p->errlen - (size_t)n, "property '%.40s': ", prop);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	for (char *c = p->err; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	return FERRY_EINVAL;
}

static unsigned long long mib(u64 bytes) { return (unsigned long long)(bytes >> 20); }

/* ---- typed property readers: each returns 0, FERRY_ENOENT when absent and not required, or the
 * error from config_fail. ---- */

static const void *prop_get(struct config_parser *p, int node, const char *prop, int *len)
{
	const void *v = fdt_getprop(p->fdt, node, prop, len);

	if (!v && *len != -FDT_ERR_NOTFOUND)
		*len = -1; /* a damaged property: fdt_check_full() makes this unreachable */
	return v;
}

static int prop_missing(struct config_parser *p, const char *prop, bool required, int len)
{
	if (len == -FDT_ERR_NOTFOUND)
		return required ? config_fail(p, prop, "missing") : FERRY_ENOENT;
	return config_fail(p, prop, "unreadable (libfdt)");
}

static int prop_cells_error(struct config_parser *p, const char *prop, int len, const char *want)
{
	if (len % 4)
		return config_fail(p, prop, "%d bytes, not a whole number of 32-bit cells", len);
	return config_fail(p, prop, "%d cell%s, expected %s", len / 4, len == 4 ? "" : "s", want);
}

/* A 64-bit value written as two cells, <hi lo>, as in the memory nodes of 64-bit device trees. */
static int prop_u64(struct config_parser *p, int node, const char *prop, bool required, u64 *val)
{
	int len;
	const fdt32_t *v = prop_get(p, node, prop, &len);

	if (!v)
		return prop_missing(p, prop, required, len);
	if (len != 8)
		return prop_cells_error(p, prop, len, "2 (a 64-bit value written <hi lo>)");
	*val = ((u64)fdt32_ld(&v[0]) << 32) | fdt32_ld(&v[1]);
	return 0;
}

/* One NUL-terminated string that fits in buf (buflen includes the NUL). */
static int prop_string(struct config_parser *p, int node, const char *prop, bool required,
		       bool allow_empty, char *buf, size_t buflen)
{
	int len;
	const char *v = prop_get(p, node, prop, &len);
	size_t n;

	if (!v)
		return prop_missing(p, prop, required, len);
	if (len == 0)
		return config_fail(p, prop, "has no value, expected a string");
	n = strnlen(v, (size_t)len);
	if (n == (size_t)len)
		return config_fail(p, prop, "not a NUL-terminated string");
	if (n + 1 != (size_t)len)
		return config_fail(p, prop, "a list of strings, expected one string");
	if (n == 0 && !allow_empty)
		return config_fail(p, prop, "empty string");
	if (n >= buflen)
		return config_fail(p, prop, "%u characters, at most %u", (unsigned)n,
				   (unsigned)(buflen - 1));
	memcpy(buf, v, n + 1);
	return 0;
}

/* A string that must be one of `choices` (NULL-terminated); *index gets its position. */
static int prop_choice(struct config_parser *p, int node, const char *prop,
		       const char *const *choices, u32 *index)
{
	char buf[16], list[64];
	size_t used = 0;
	int err = prop_string(p, node, prop, false, false, buf, sizeof(buf));

	if (err == FERRY_ENOENT)
		return err;
	if (!err) {
		for (u32 i = 0; choices[i]; i++)
			if (!strcmp(buf, choices[i])) {
				*index = i;
				return 0;
			}
	}
	list[0] = 0;
	for (u32 i = 0; choices[i] && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 choices[i]);
	if (err) /* too long for buf: the generic message would hide the choices */
		return config_fail(p, prop, "not one of %s", list);
	return config_fail(p, prop, "'%s' is not one of %s", buf, list);
}

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

static bool name_in(const char *name, const char *const *list)
{
	for (u32 i = 0; list[i]; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

static int check_unknown_properties(struct config_parser *p, int node, const char *const *known)
{
	int off;

	fdt_for_each_property_offset (off, p->fdt, node) {
		const char *name;
		int len;

		if (!fdt_getprop_by_offset(p->fdt, off, &name, &len) || !name)
			return config_fail(p, NULL, "unreadable property (libfdt)");
		if (!name_in(name, known))
			return config_fail(p, name,
					   "unknown (a typo? docs/config.md lists every property)");
	}
	return 0;
}

/* Names become console prefixes ("[alpha] ...") and shell arguments ("stop alpha"): keep them to
 * characters that need no quoting. */
static bool vm_name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* A node's name as a VM or region name: the characters above, shorter than CONFIG_NAME_MAX. `kind`
 * is "VM" or "region". */
static int node_name(struct config_parser *p, int node, const char *kind, char *out)
{
	int len;
	const char *name = fdt_get_name(p->fdt, node, &len);

	if (!name || len <= 0)
		return config_fail(p, NULL, "unreadable node name (libfdt)");
	for (int i = 0; i < len; i++)
		if (!vm_name_char_ok(name[i]))
			return config_fail(
				p, NULL,
				"%s name '%.31s' has a character other than a-z A-Z 0-9 - _ "
				"(the node's name is the %s's name)",
				kind, name, kind);
	if (len >= CONFIG_NAME_MAX)
		return config_fail(p, NULL, "%s name '%.31s' is %d characters, at most %u", kind,
				   name, len, (unsigned)(CONFIG_NAME_MAX - 1));
	memcpy(out, name, (size_t)len);
	out[len] = 0;
	return 0;
}

/* The VM's name is its node's name under /vms. It cannot be a `name` property: dtc rejects a `name`
 * that differs from the node's name and deletes one that matches (its name_properties check). */
static int parse_name(struct config_parser *p, int node, struct vm_config *vm, u32 index)
{
	int err = node_name(p, node, "VM", vm->name);

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

	if ((err = prop_u64(p, node, "ram-base", true, &vm->ram_base)))
		return err;
	if (!IS_ALIGNED(vm->ram_base, CONFIG_RAM_ALIGN))
		return config_fail(p, "ram-base", "0x%llx is not 2 MiB aligned",
				   (unsigned long long)vm->ram_base);
	if (vm->ram_base < CONFIG_RAM_BASE_MIN)
		return config_fail(
			p, "ram-base",
			"0x%llx is below 0x40000000, the guest's device area (GIC, UART, "
			"virtio)",
			(unsigned long long)vm->ram_base);
	if ((err = prop_u64(p, node, "ram-size", true, &vm->ram_size)))
		return err;
	if (!vm->ram_size)
		return config_fail(p, "ram-size", "zero");
	if (!IS_ALIGNED(vm->ram_size, CONFIG_RAM_ALIGN))
		return config_fail(p, "ram-size", "0x%llx is not a multiple of 2 MiB",
				   (unsigned long long)vm->ram_size);
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
			mib(total), mib(window_bytes));
	return 0;
}

static int parse_ram_pa(struct config_parser *p, int node, struct vm_config *vm, u32 index,
			u64 window_pa, u64 window_bytes)
{
	int err = prop_u64(p, node, "ram-pa", false, &vm->ram_pa);

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
	const fdt32_t *v = prop_get(p, node, "cpus", &len);
	u32 n;

	if (!v)
		return prop_missing(p, "cpus", true, len);
	if (len == 0)
		return config_fail(p, "cpus", "empty, expected at least one CPU index");
	if (len % 4)
		return prop_cells_error(p, "cpus", len, "CPU indices");
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
	int epa = prop_u64(p, node, pa_prop, false, pa);
	int esize;

	if (epa && epa != FERRY_ENOENT)
		return epa;
	esize = prop_u64(p, node, size_prop, false, size);
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
	int err = prop_string(p, node, "image", false, false, vm->image, sizeof(vm->image));

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
	int err = prop_u64(p, node, "load-offset", false, &vm->load_offset);

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

	err = prop_u64(p, node, "entry", false, &vm->entry);
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
	int len, n;

	vm->devices = 0;
	if (!prop_get(p, node, "devices", &len))
		return prop_missing(p, "devices", false, len) == FERRY_ENOENT ? 0 : FERRY_EINVAL;
	if (len == 0)
		return config_fail(p, "devices", "has no value, expected a list of strings");
	n = fdt_stringlist_count(p->fdt, node, "devices");
	if (n < 0)
		return config_fail(p, "devices", "not a list of NUL-terminated strings");
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
		if (!vm_name_char_ok(*s) && !strchr("/,.+@", *s))
			return false;
	return true;
}

/* `passthrough`: paths of machine devices the VM owns. Only the strings are checked here; the
 * machine's device tree says what they name (hyp/config/passthrough.c). */
static int parse_passthrough(struct config_parser *p, int node, struct vm_config *vm)
{
	int len, n;

	vm->npassthrough = 0;
	if (!prop_get(p, node, "passthrough", &len))
		return prop_missing(p, "passthrough", false, len) == FERRY_ENOENT ? 0
										  : FERRY_EINVAL;
	if (len == 0)
		return config_fail(p, "passthrough", "has no value, expected a list of paths");
	n = fdt_stringlist_count(p->fdt, node, "passthrough");
	if (n < 0)
		return config_fail(p, "passthrough", "not a list of NUL-terminated strings");
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

/* `vnet = "peer"` and `vnet-mac = [6 bytes]`: this VM's end of a link. The peer is resolved once
 * every VM is known (check_vnet_links). */
static int parse_vnet(struct config_parser *p, int node, struct vm_config *vm, u32 index)
{
	int len, err;
	const u8 *mac = prop_get(p, node, "vnet-mac", &len);

	err = prop_string(p, node, "vnet", false, false, vm->vnet_peer, sizeof(vm->vnet_peer));
	if (err == FERRY_ENOENT) {
		vm->vnet_peer[0] = 0;
		if (mac)
			return config_fail(p, "vnet-mac", "given without 'vnet'");
		return 0;
	}
	if (err)
		return fdt_stringlist_count(p->fdt, node, "vnet") > 1
			       ? config_fail(p, "vnet", "one link per VM (names one peer VM)")
			       : err;
	vm->has_vnet = true;
	if (!strcmp(vm->vnet_peer, vm->name))
		return config_fail(p, "vnet", "names the VM itself (a link joins two VMs)");
	if (vm->incoming)
		return config_fail(p, "vnet",
				   "an incoming VM cannot have a link (migration refuses VMs "
				   "that do)");
	if (!mac) {
		if (len != -FDT_ERR_NOTFOUND)
			return prop_missing(p, "vnet-mac", false, len);
		/* Locally administered, unicast (IEEE 802: bits 1 and 0 of the first byte). */
		const u8 def[CONFIG_VNET_MAC_LEN] = { 0x02, 0x66, 0x72, 0, 0, (u8)(index + 1) };

		memcpy(vm->vnet_mac, def, sizeof(def));
		return 0;
	}
	if (len != (int)CONFIG_VNET_MAC_LEN)
		return config_fail(p, "vnet-mac",
				   "%d bytes, expected 6 (written [02 00 00 00 00 01])", len);
	if (mac[0] & 1)
		return config_fail(p, "vnet-mac",
				   "%02x:%02x:%02x:%02x:%02x:%02x is a multicast address", mac[0],
				   mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return config_fail(p, "vnet-mac", "all zero: not an address");
	memcpy(vm->vnet_mac, mac, CONFIG_VNET_MAC_LEN);
	return 0;
}

/* Once every VM is known: each link's peer exists, names this VM back, and has another MAC. */
static int check_vnet_links(struct config_parser *p)
{
	struct ferry_config *cfg = p->out;

	for (u32 i = 0; i < cfg->nvms; i++) {
		struct vm_config *vm = &cfg->vm[i];
		const struct vm_config *peer;
		u32 j;

		if (!vm->has_vnet)
			continue;
		snprintf(p->who, sizeof(p->who), "vm '%s'", vm->name);
		for (j = 0; j < cfg->nvms && strcmp(cfg->vm[j].name, vm->vnet_peer); j++)
			;
		if (j == cfg->nvms)
			return config_fail(p, "vnet", "no VM named '%s'", vm->vnet_peer);
		peer = &cfg->vm[j];
		if (!peer->has_vnet || strcmp(peer->vnet_peer, vm->name))
			return config_fail(p, "vnet",
					   "vm '%s' does not name '%s' back (both ends of a link "
					   "declare it)",
					   peer->name, vm->name);
		if (!memcmp(peer->vnet_mac, vm->vnet_mac, CONFIG_VNET_MAC_LEN))
			return config_fail(p, "vnet-mac", "the same as vm '%s''s", peer->name);
		vm->vnet_peer_index = j;
	}
	p->who[0] = 0;
	return 0;
}

static int parse_flag(struct config_parser *p, int node, const char *prop, bool *val)
{
	int len;

	*val = false;
	if (!prop_get(p, node, prop, &len))
		return prop_missing(p, prop, false, len) == FERRY_ENOENT ? 0 : FERRY_EINVAL;
	if (len != 0)
		return config_fail(p, prop, "a flag takes no value (write '%s;')", prop);
	*val = true;
	return 0;
}

static int parse_vm(struct config_parser *p, int node, u32 index, u64 window_pa, u64 window_bytes)
{
	struct vm_config *vm = &p->out->vm[index];
	u32 choice = 0;
	bool loaded;
	int err;

	if ((err = parse_name(p, node, vm, index)))
		return err;
	if ((err = check_unknown_properties(p, node, vm_properties)))
		return err;
	if ((err = parse_ram(p, node, vm, index, window_bytes)))
		return err;
	if ((err = parse_ram_pa(p, node, vm, index, window_pa, window_bytes)))
		return err;
	if ((err = parse_cpus(p, node, vm, index)))
		return err;
	/* `incoming` first: it decides whether an image is required. */
	if ((err = parse_flag(p, node, "incoming", &vm->incoming)))
		return err;
	if ((err = parse_image(p, node, vm, vm->incoming)))
		return err;
	if ((err = parse_placement(p, node, vm)))
		return err;
	if ((err = parse_loaded_range(p, node, "initrd-pa", "initrd-size", &vm->initrd_pa,
				      &vm->initrd_size, &loaded)))
		return err;
	err = prop_string(p, node, "bootargs", false, true, vm->bootargs, sizeof(vm->bootargs));
	if (err == FERRY_ENOENT)
		vm->bootargs[0] = 0;
	else if (err)
		return err;
	if ((err = parse_devices(p, node, vm)))
		return err;
	if ((err = parse_flag(p, node, "console", &vm->console)))
		return err;
	if (vm->console && !(vm->devices & CONFIG_DEV_UART))
		return config_fail(p, "console", "the VM has no 'uart' device to attach it to");
	for (u32 i = 0; vm->console && i < index; i++)
		if (p->out->vm[i].console)
			return config_fail(p, "console", "vm '%s' has the console already",
					   p->out->vm[i].name);
	err = prop_choice(p, node, "dirty-log", dirty_mode_names, &choice);
	if (err && err != FERRY_ENOENT)
		return err;
	vm->dirty_mode = err ? CONFIG_DIRTY_AUTO : (enum config_dirty_mode)choice;
	err = prop_choice(p, node, "on-abort", abort_policy_names, &choice);
	if (err && err != FERRY_ENOENT)
		return err;
	vm->on_abort = err ? CONFIG_ABORT_STOP : (enum config_abort_policy)choice;
	if ((err = parse_passthrough(p, node, vm)))
		return err;
	return parse_vnet(p, node, vm, index);
}

/* ---- shared-memory regions: /shared-memory/<region>/<vm> ---- */

static const char *const access_names[] = { "rw", "ro", NULL };

static u64 range_last(u64 base, u64 size)
{
	return base + size - 1; /* callers checked base + size for overflow */
}

/* One VM's mapping of region r: the subnode `node` named after the VM. */
static int parse_region_map(struct config_parser *p, int node, u32 r, struct region_map *m)
{
	static const char *const map_properties[] = { "ipa", "access", NULL };
	const struct ferry_config *cfg = p->out;
	const struct region_config *rc = &cfg->region[r];
	const struct vm_config *vm;
	char name[CONFIG_NAME_MAX];
	u32 choice = 0;
	int err;

	snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
	if ((err = node_name(p, node, "VM", name)))
		return err;
	for (m->vm = 0; m->vm < cfg->nvms && strcmp(cfg->vm[m->vm].name, name); m->vm++)
		;
	if (m->vm == cfg->nvms)
		return config_fail(p, NULL,
				   "no VM named '%s' (a region's subnodes are named after "
				   "the VMs that map it)",
				   name);
	for (u32 k = 0; k < rc->nmaps; k++)
		if (rc->map[k].vm == m->vm)
			return config_fail(p, NULL, "vm '%s' maps it twice", name);
	vm = &cfg->vm[m->vm];
	snprintf(p->who, sizeof(p->who), "region '%s', vm '%s'", rc->name, vm->name);
	if (vm->incoming)
		return config_fail(p, NULL,
				   "an incoming VM cannot map a shared region (migration "
				   "refuses VMs that do)");
	if ((err = check_unknown_properties(p, node, map_properties)))
		return err;
	if ((err = prop_u64(p, node, "ipa", true, &m->ipa)))
		return err;
	if (!IS_ALIGNED(m->ipa, CONFIG_REGION_ALIGN))
		return config_fail(p, "ipa", "0x%llx is not 4 KiB aligned",
				   (unsigned long long)m->ipa);
	if (m->ipa < CONFIG_RAM_BASE_MIN)
		return config_fail(
			p, "ipa",
			"0x%llx is below 0x40000000, the guest's device area (GIC, UART, "
			"virtio, doorbells)",
			(unsigned long long)m->ipa);
	if (m->ipa >= CONFIG_IPA_LIMIT || rc->size > CONFIG_IPA_LIMIT - m->ipa)
		return config_fail(p, "ipa",
				   "0x%llx + 0x%llx ends beyond the 40-bit IPA space (1 TiB)",
				   (unsigned long long)m->ipa, (unsigned long long)rc->size);
	if (range_overlaps(m->ipa, rc->size, vm->ram_base, vm->ram_size))
		return config_fail(p, "ipa", "0x%llx-0x%llx overlaps the VM's RAM at 0x%llx-0x%llx",
				   (unsigned long long)m->ipa,
				   (unsigned long long)range_last(m->ipa, rc->size),
				   (unsigned long long)vm->ram_base,
				   (unsigned long long)range_last(vm->ram_base, vm->ram_size));
	for (u32 i = 0; i < r; i++)
		for (u32 k = 0; k < cfg->region[i].nmaps; k++) {
			const struct region_config *o = &cfg->region[i];

			if (o->map[k].vm == m->vm &&
			    range_overlaps(m->ipa, rc->size, o->map[k].ipa, o->size))
				return config_fail(
					p, "ipa",
					"0x%llx-0x%llx overlaps region '%s' at "
					"0x%llx-0x%llx",
					(unsigned long long)m->ipa,
					(unsigned long long)range_last(m->ipa, rc->size), o->name,
					(unsigned long long)o->map[k].ipa,
					(unsigned long long)range_last(o->map[k].ipa, o->size));
		}
	err = prop_choice(p, node, "access", access_names, &choice);
	if (err && err != FERRY_ENOENT)
		return err;
	m->access = err ? CONFIG_ACCESS_RW : (enum config_access)choice;
	return 0;
}

static int parse_region(struct config_parser *p, int node, u32 r)
{
	static const char *const region_properties[] = { "size", NULL };
	struct region_config *rc = &p->out->region[r];
	int sub, err;

	if ((err = node_name(p, node, "region", rc->name)))
		return err;
	for (u32 i = 0; i < r; i++)
		if (!strcmp(p->out->region[i].name, rc->name))
			return config_fail(p, NULL, "two regions are named '%s'", rc->name);
	snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
	if ((err = check_unknown_properties(p, node, region_properties)))
		return err;
	if ((err = prop_u64(p, node, "size", true, &rc->size)))
		return err;
	if (!rc->size)
		return config_fail(p, "size", "zero");
	if (!IS_ALIGNED(rc->size, CONFIG_REGION_ALIGN))
		return config_fail(p, "size", "0x%llx is not a multiple of 4 KiB",
				   (unsigned long long)rc->size);
	if (rc->size > CONFIG_REGION_MAX)
		return config_fail(p, "size", "%llu MiB, at most %llu MiB",
				   (unsigned long long)ALIGN_UP(rc->size, 1ULL << 20) >> 20,
				   mib(CONFIG_REGION_MAX));
	fdt_for_each_subnode (sub, p->fdt, node) {
		if (rc->nmaps == CONFIG_MAX_VMS)
			return config_fail(p, NULL, "more than %u VMs map it",
					   (unsigned)CONFIG_MAX_VMS);
		if ((err = parse_region_map(p, sub, r, &rc->map[rc->nmaps])))
			return err;
		rc->nmaps++;
	}
	snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
	if (rc->nmaps < 2)
		return config_fail(p, NULL,
				   "mapped by %u VM%s, a region is shared by at least 2 (one "
				   "subnode per VM, named after it)",
				   (unsigned)rc->nmaps, rc->nmaps == 1 ? "" : "s");
	return 0;
}

static int parse_regions(struct config_parser *p, int node)
{
	static const char *const no_properties[] = { NULL };
	int sub, err;
	u32 n = 0;

	snprintf(p->who, sizeof(p->who), "node /shared-memory");
	if ((err = check_unknown_properties(p, node, no_properties)))
		return err;
	fdt_for_each_subnode (sub, p->fdt, node)
		n++;
	if (n > CONFIG_MAX_REGIONS)
		return config_fail(p, NULL, "%u regions, at most %u", (unsigned)n,
				   (unsigned)CONFIG_MAX_REGIONS);
	n = 0;
	fdt_for_each_subnode (sub, p->fdt, node) {
		const char *name = fdt_get_name(p->fdt, sub, NULL);

		snprintf(p->who, sizeof(p->who), "node /shared-memory/%.24s", name ? name : "?");
		if ((err = parse_region(p, sub, n)))
			return err;
		p->out->nregions = ++n;
	}
	p->who[0] = 0;
	return 0;
}

/* Places every VM's RAM exactly as guest_ram_alloc() (hyp/core/alloc.c) will: fixed `ram-pa` ones
 * first, in config order, then the others one after another above the highest fixed end. So a config
 * that passes here cannot fail later for want of room, and loaded images and initrds can be checked
 * against the RAM that will be written over them. */
static int check_placement(struct config_parser *p, u64 window_pa, u64 window_end)
{
	struct ferry_config *cfg = p->out;
	u64 placed[CONFIG_MAX_VMS];
	u64 next = window_pa;

	for (u32 i = 0; i < cfg->nvms; i++)
		if (cfg->vm[i].ram_pa) {
			placed[i] = cfg->vm[i].ram_pa;
			next = MAX(next, placed[i] + cfg->vm[i].ram_size);
		}
	for (u32 i = 0; i < cfg->nvms; i++) {
		const struct vm_config *vm = &cfg->vm[i];

		if (vm->ram_pa)
			continue;
		snprintf(p->who, sizeof(p->who), "vm '%s'", vm->name);
		if (vm->ram_size > window_end - next)
			return config_fail(
				p, "ram-size",
				"no room for %llu MiB: VMs without ram-pa go above the fixed "
				"ones, where %llu MiB are free",
				mib(vm->ram_size), mib(window_end - next));
		placed[i] = next;
		next += vm->ram_size;
	}
	/* Regions after every VM, in config order, each in whole 2 MiB (carved as VM RAM is). */
	for (u32 r = 0; r < cfg->nregions; r++) {
		struct region_config *rc = &cfg->region[r];
		u64 need = ALIGN_UP(rc->size, CONFIG_RAM_ALIGN);

		snprintf(p->who, sizeof(p->who), "region '%s'", rc->name);
		if (need > window_end - next)
			return config_fail(
				p, "size",
				"no room for %llu MiB above the VMs' RAM, where %llu MiB are "
				"free",
				mib(need), mib(window_end - next));
		rc->pa = next;
		next += need;
	}
	for (u32 i = 0; i < cfg->nvms; i++) {
		const struct vm_config *vm = &cfg->vm[i];
		const struct {
			const char *prop;
			u64 pa, size;
		} loaded[2] = {
			{ "image-pa", vm->image_pa, vm->image_size },
			{ "initrd-pa", vm->initrd_pa, vm->initrd_size },
		};

		snprintf(p->who, sizeof(p->who), "vm '%s'", vm->name);
		for (u32 k = 0; k < ARRAY_SIZE(loaded); k++) {
			u64 pa = loaded[k].pa, size = loaded[k].size;

			if (!size)
				continue;
			/* ferry copies from there each time the VM (re)starts: it must stay intact,
			 * so it lies in the guest window but in no VM's RAM. */
			if (!range_within(pa, size, window_pa, window_end - window_pa))
				return config_fail(p, loaded[k].prop,
						   "0x%llx-0x%llx is outside the guest RAM window "
						   "0x%llx-0x%llx",
						   (unsigned long long)pa,
						   (unsigned long long)(pa + size - 1),
						   (unsigned long long)window_pa,
						   (unsigned long long)(window_end - 1));
			for (u32 r = 0; r < cfg->nregions; r++)
				if (range_overlaps(pa, size, cfg->region[r].pa,
						   ALIGN_UP(cfg->region[r].size, CONFIG_RAM_ALIGN)))
					return config_fail(
						p, loaded[k].prop,
						"0x%llx-0x%llx overlaps region '%s' at 0x%llx-0x%llx",
						(unsigned long long)pa,
						(unsigned long long)(pa + size - 1),
						cfg->region[r].name,
						(unsigned long long)cfg->region[r].pa,
						(unsigned long long)range_last(
							cfg->region[r].pa,
							ALIGN_UP(cfg->region[r].size,
								 CONFIG_RAM_ALIGN)));
			for (u32 j = 0; j < cfg->nvms; j++)
				if (range_overlaps(pa, size, placed[j], cfg->vm[j].ram_size))
					return config_fail(
						p, loaded[k].prop,
						"0x%llx-0x%llx overlaps the RAM of vm '%s' at "
						"0x%llx-0x%llx",
						(unsigned long long)pa,
						(unsigned long long)(pa + size - 1),
						cfg->vm[j].name, (unsigned long long)placed[j],
						(unsigned long long)(placed[j] +
								     cfg->vm[j].ram_size - 1));
		}
	}
	return 0;
}

/* `migration-key = [32 bytes];` at the root: the key that authenticates the migration link. A key
 * of another length, or of zeros only, is an error rather than a weaker key. */
static int parse_migration_key(struct config_parser *p)
{
	int len;
	const u8 *v = prop_get(p, 0, "migration-key", &len);
	u8 any = 0;

	if (!v)
		return len == -FDT_ERR_NOTFOUND ? 0 : prop_missing(p, "migration-key", false, len);
	if (len != (int)CONFIG_MIGRATION_KEY_LEN)
		return config_fail(p, "migration-key",
				   "%d bytes, expected %u (written [00 11 ...])", len,
				   CONFIG_MIGRATION_KEY_LEN);
	for (int i = 0; i < len; i++)
		any |= v[i];
	if (!any)
		return config_fail(p, "migration-key", "all zero: not a key");
	memcpy(p->out->migration_key, v, CONFIG_MIGRATION_KEY_LEN);
	p->out->has_migration_key = true;
	return 0;
}

static int parse_root(struct config_parser *p, u64 window_pa, u64 window_bytes)
{
	static const char *const root_properties[] = { "compatible", "migration-key", NULL };
	static const char *const vms_properties[] = { NULL };
	const void *fdt = p->fdt;
	int len, vms, node, err;
	const char *compat;
	u32 n = 0;

	if ((err = check_unknown_properties(p, 0, root_properties)))
		return err;
	compat = fdt_getprop(fdt, 0, "compatible", &len);
	if (!compat)
		return config_fail(p, "compatible", "missing (expected \"%s\")", CONFIG_COMPATIBLE);
	if (len < 1 || compat[len - 1] || strcmp(compat, CONFIG_COMPATIBLE))
		return config_fail(p, "compatible", "\"%.40s\" is not \"%s\"",
				   len > 0 && strnlen(compat, (size_t)len) < (size_t)len ? compat
											 : "?",
				   CONFIG_COMPATIBLE);
	if ((err = parse_migration_key(p)))
		return err;
	fdt_for_each_subnode (node, fdt, 0) {
		const char *name = fdt_get_name(fdt, node, NULL);

		if (!name || (strcmp(name, "vms") && strcmp(name, "shared-memory")))
			return config_fail(p, NULL,
					   "node /%.40s: unknown (the root holds only /vms and "
					   "/shared-memory)",
					   name ? name : "?");
	}
	vms = fdt_subnode_offset(fdt, 0, "vms");
	if (vms < 0)
		return config_fail(p, NULL, "node /vms: missing");
	snprintf(p->who, sizeof(p->who), "node /vms");
	if ((err = check_unknown_properties(p, vms, vms_properties)))
		return err;
	fdt_for_each_subnode (node, fdt, vms)
		n++;
	if (!n)
		return config_fail(p, NULL, "no VMs");
	if (n > CONFIG_MAX_VMS)
		return config_fail(p, NULL, "%u VMs, at most %u", (unsigned)n,
				   (unsigned)CONFIG_MAX_VMS);
	n = 0;
	fdt_for_each_subnode (node, fdt, vms) {
		const char *name = fdt_get_name(fdt, node, NULL);

		int sub;

		snprintf(p->who, sizeof(p->who), "node /vms/%.30s", name ? name : "?");
		sub = fdt_first_subnode(fdt, node);
		if (sub >= 0)
			return config_fail(p, NULL, "a VM node has no subnodes (found '%.30s')",
					   fdt_get_name(fdt, sub, NULL));
		if ((err = parse_vm(p, node, n, window_pa, window_bytes)))
			return err;
		p->who[0] = 0;
		p->out->nvms = ++n;
	}
	if ((err = check_vnet_links(p)))
		return err;
	node = fdt_subnode_offset(fdt, 0, "shared-memory");
	if (node >= 0 && (err = parse_regions(p, node)))
		return err;
	return check_placement(p, window_pa, window_pa + window_bytes);
}

int config_parse(const void *fdt, const struct config_limits *lim, struct ferry_config *out,
		 char *err, size_t errlen)
{
	struct config_parser p = {
		.fdt = fdt, .lim = lim, .out = out, .err = err, .errlen = errlen
	};
	u64 window_pa, window_bytes;
	int ret;

	if (err && errlen)
		err[0] = 0;
	memset(out, 0, sizeof(*out));
	/* The guest window as guest_ram_init() will use it: its start rounded up to 2 MiB. */
	window_pa = ALIGN_UP(lim->guest_ram_pa, CONFIG_RAM_ALIGN);
	window_bytes = window_pa - lim->guest_ram_pa < lim->guest_ram_bytes
			       ? lim->guest_ram_bytes - (window_pa - lim->guest_ram_pa)
			       : 0;
	/* The config may come from any memory QEMU loaded: check every offset in it once, so that the
	 * libfdt calls below can trust the structure. */
	ret = fdt_check_header(fdt);
	/* Before version 16 node names were full paths; libfdt's full check dereferences NULL on
	 * such a blob whose root is not named "/" (libfdt 1.6.1). dtc has written 17 since 2007. */
	if (!ret && fdt_version(fdt) < 16)
		ret = config_fail(
			&p, NULL,
			"device tree blob version %u, expected 16 or later (dtc writes 17)",
			(unsigned)fdt_version(fdt));
	else {
		if (!ret)
			ret = fdt_check_full(fdt, fdt_totalsize(fdt));
		if (ret)
			ret = config_fail(&p, NULL, "not a valid device tree blob (libfdt: %s)",
					  fdt_strerror(ret));
		else
			ret = parse_root(&p, window_pa, window_bytes);
	}
	/* Taken whole or not at all: on error the caller gets no VM, not the ones parsed so far. */
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}
