/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel-command-line style arguments: words separated by spaces, each `key=value`. Values are
 * parsed here, not with strtoull: picolibc's sets errno, which lives in TLS these guests lack. */
#include <string.h>

#include "guest.h"

static bool bootarg_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

/* Decimal or 0x-hex, the whole of [p, end): anything else (empty, junk, overflow) is false. */
static bool bootarg_parse(const char *p, const char *end, u64 *out)
{
	u64 v = 0, base = 10;

	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (p == end)
		return false;
	for (; p < end; p++) {
		u64 digit;
		char lower = (char)(*p | 0x20);

		if (*p >= '0' && *p <= '9')
			digit = (u64)(*p - '0');
		else if (base == 16 && lower >= 'a' && lower <= 'f')
			digit = (u64)(lower - 'a' + 10);
		else
			return false;
		if (v > (UINT64_MAX - digit) / base)
			return false;
		v = v * base + digit;
	}
	*out = v;
	return true;
}

enum bootarg_status bootarg_u64(const char *args, const char *key, u64 *value)
{
	size_t key_len = strlen(key);

	for (const char *p = args; *p;) {
		const char *end;

		while (bootarg_space(*p))
			p++;
		for (end = p; *end && !bootarg_space(*end); end++)
			;
		if ((size_t)(end - p) > key_len && !strncmp(p, key, key_len) && p[key_len] == '=')
			return bootarg_parse(p + key_len + 1, end, value) ? BOOTARG_SET
									  : BOOTARG_BAD;
		p = end;
	}
	return BOOTARG_ABSENT;
}

void bootarg_check_keys(const char *args, const char *const *known,
			void (*unknown)(const char *word, size_t len))
{
	for (const char *p = args; *p;) {
		const char *end, *eq;
		bool found = false;

		while (bootarg_space(*p))
			p++;
		if (!*p)
			return;
		for (end = p; *end && !bootarg_space(*end); end++)
			;
		for (eq = p; eq < end && *eq != '='; eq++)
			;
		for (const char *const *k = known; *k && !found; k++)
			found = strlen(*k) == (size_t)(eq - p) && !strncmp(p, *k, (size_t)(eq - p));
		if (!found)
			unknown(p, (size_t)(end - p));
		p = end;
	}
}
