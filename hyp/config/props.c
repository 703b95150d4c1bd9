/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser's typed property readers and its one-line error messages (parser.h): what every
 * node of the schema is read with, so that each property gets the same checks and the same wording
 * wherever it appears. Pure code (libfdt only). */
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/parser.h"

int config_fail(struct config_parser *p, const char *prop, const char *fmt, ...)
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

const void *config_prop_get(struct config_parser *p, int node, const char *prop, int *len)
{
	const void *v = fdt_getprop(p->fdt, node, prop, len);

	if (!v && *len != -FDT_ERR_NOTFOUND)
		*len = -1; /* a damaged property: fdt_check_full() makes this unreachable */
	return v;
}

int config_prop_missing(struct config_parser *p, const char *prop, bool required, int len)
{
	if (len == -FDT_ERR_NOTFOUND)
		return required ? config_fail(p, prop, "missing") : FERRY_ENOENT;
	return config_fail(p, prop, "unreadable (libfdt)");
}

int config_prop_cells_error(struct config_parser *p, const char *prop, int len, const char *want)
{
	if (len % 4)
		return config_fail(p, prop, "%d bytes, not a whole number of 32-bit cells", len);
	return config_fail(p, prop, "%d cell%s, expected %s", len / 4, len == 4 ? "" : "s", want);
}

int config_prop_u64(struct config_parser *p, int node, const char *prop, bool required, u64 *val)
{
	int len;
	const fdt32_t *v = config_prop_get(p, node, prop, &len);

	if (!v)
		return config_prop_missing(p, prop, required, len);
	if (len != 8)
		return config_prop_cells_error(p, prop, len, "2 (a 64-bit value written <hi lo>)");
	*val = ((u64)fdt32_ld(&v[0]) << 32) | fdt32_ld(&v[1]);
	return 0;
}

int config_prop_string(struct config_parser *p, int node, const char *prop, bool required,
		       bool allow_empty, char *buf, size_t buflen)
{
	int len;
	const char *v = config_prop_get(p, node, prop, &len);
	size_t n;

	if (!v)
		return config_prop_missing(p, prop, required, len);
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

int config_prop_choice(struct config_parser *p, int node, const char *prop,
		       const char *const *choices, u32 *index)
{
	char buf[16], list[64];
	size_t used = 0;
	int err = config_prop_string(p, node, prop, false, false, buf, sizeof(buf));

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

int config_prop_strings(struct config_parser *p, int node, const char *prop, const char *what,
			int *n)
{
	int len;

	if (!config_prop_get(p, node, prop, &len))
		return config_prop_missing(p, prop, false, len);
	if (len == 0)
		return config_fail(p, prop, "has no value, expected %s", what);
	*n = fdt_stringlist_count(p->fdt, node, prop);
	if (*n < 0)
		return config_fail(p, prop, "not a list of NUL-terminated strings");
	return 0;
}

int config_prop_flag(struct config_parser *p, int node, const char *prop, bool *val)
{
	int len;

	*val = false;
	if (!config_prop_get(p, node, prop, &len))
		return config_prop_missing(p, prop, false, len) == FERRY_ENOENT ? 0 : FERRY_EINVAL;
	if (len != 0)
		return config_fail(p, prop, "a flag takes no value (write '%s;')", prop);
	*val = true;
	return 0;
}

static bool name_in(const char *name, const char *const *list)
{
	for (u32 i = 0; list[i]; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

int config_check_unknown(struct config_parser *p, int node, const char *const *known)
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
bool config_name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int config_node_name(struct config_parser *p, int node, const char *kind, char *out)
{
	int len;
	const char *name = fdt_get_name(p->fdt, node, &len);

	if (!name || len <= 0)
		return config_fail(p, NULL, "unreadable node name (libfdt)");
	for (int i = 0; i < len; i++)
		if (!config_name_char_ok(name[i]))
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

int config_prop_size(struct config_parser *p, int node, const char *prop, u64 align,
		     const char *align_name, u64 *size)
{
	int err = config_prop_u64(p, node, prop, true, size);

	if (err)
		return err;
	if (!*size)
		return config_fail(p, prop, "zero");
	if (!IS_ALIGNED(*size, align))
		return config_fail(p, prop, "0x%llx is not a multiple of %s",
				   (unsigned long long)*size, align_name);
	return 0;
}

int config_prop_guest_base(struct config_parser *p, int node, const char *prop, u64 align,
			   const char *align_name, const char *devices, u64 *ipa)
{
	int err = config_prop_u64(p, node, prop, true, ipa);

	if (err)
		return err;
	if (!IS_ALIGNED(*ipa, align))
		return config_fail(p, prop, "0x%llx is not %s aligned", (unsigned long long)*ipa,
				   align_name);
	if (*ipa < CONFIG_RAM_BASE_MIN)
		return config_fail(p, prop,
				   "0x%llx is below 0x40000000, the guest's device area (%s)",
				   (unsigned long long)*ipa, devices);
	return 0;
}
