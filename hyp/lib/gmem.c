/* SPDX-License-Identifier: Apache-2.0 */
/* Range-checked guest memory accesses (gmem.h). */
#include "lib/gmem.h"

#include <string.h>

#include "lib/range.h"

#define GMEM_PAGE_SHIFT 12

bool gmem_absent(const struct gmem *m, u64 ipa, u64 len)
{
	if (!m || !m->absent || !len || !range_within(ipa, len, m->ipa, m->size))
		return false;
	for (u64 p = (ipa - m->ipa) >> GMEM_PAGE_SHIFT;
	     p <= (ipa - m->ipa + len - 1) >> GMEM_PAGE_SHIFT; p++)
		if ((__atomic_load_n(&m->absent[p / 64], __ATOMIC_ACQUIRE) >> (p % 64)) & 1)
			return true;
	return false;
}

static u8 *gmem_at(const struct gmem *m, u64 ipa, u64 len)
{
	if (!m || !m->host || !len || !range_within(ipa, len, m->ipa, m->size))
		return NULL;
	return m->host + (ipa - m->ipa);
}

/* Post-copy: 0 once every page of [ipa, ipa + len) is here (fetched if need be), else
 * FERRY_EAGAIN. Every access that reads or writes guest bytes asks this after gmem_at. */
static int gmem_here(const struct gmem *m, u64 ipa, u64 len)
{
	if (!gmem_absent(m, ipa, len))
		return FERRY_OK;
	if (m->fetch && !m->fetch(m->fetch_ctx, ipa, len) && !gmem_absent(m, ipa, len))
		return FERRY_OK;
	return FERRY_EAGAIN;
}

/* The host address of [ipa, ipa + len) when it is all in range and here (gmem_here); NULL with
 * *err set otherwise. */
static u8 *gmem_span(const struct gmem *m, u64 ipa, u64 len, int *err)
{
	u8 *p = gmem_at(m, ipa, len);

	*err = FERRY_ERANGE;
	if (!p)
		return NULL;
	*err = gmem_here(m, ipa, len);
	return *err ? NULL : p;
}

int gmem_read(const struct gmem *m, u64 ipa, void *buf, u64 len)
{
	int err;
	const u8 *p = gmem_span(m, ipa, len, &err);

	if (p)
		memcpy(buf, p, len);
	return err;
}

int gmem_write(const struct gmem *m, u64 ipa, const void *buf, u64 len)
{
	int err;
	u8 *p = gmem_span(m, ipa, len, &err);

	if (p) {
		memcpy(p, buf, len);
		if (m->wrote)
			m->wrote(m->wrote_ctx, ipa, len);
	}
	return err;
}

int gmem_read64(const struct gmem *m, u64 ipa, u64 *val)
{
	u8 b[8];
	int err = gmem_read(m, ipa, b, 8);

	if (err)
		return err;
	*val = 0;
	for (int i = 7; i >= 0; i--)
		*val = *val << 8 | b[i];
	return FERRY_OK;
}

int gmem_write64(const struct gmem *m, u64 ipa, u64 val)
{
	u8 b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (u8)(val >> (8 * i));
	return gmem_write(m, ipa, b, 8);
}

/* A naturally aligned 16-bit field that is here (gmem_here), for the single-copy atomic accesses
 * below; NULL with *err set otherwise. */
static u16 *gmem_at16(const struct gmem *m, u64 ipa, int *err)
{
	u16 *p = (u16 *)(void *)gmem_at(m, ipa, 2);

	*err = FERRY_ERANGE;
	if (!p || (ipa & 1) || ((uintptr_t)p & 1))
		return NULL;
	*err = gmem_here(m, ipa, 2);
	return *err ? NULL : p;
}

int gmem_load16_acquire(const struct gmem *m, u64 ipa, u16 *val)
{
	int err;
	u16 *p = gmem_at16(m, ipa, &err);

	if (p)
		*val = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return err;
}

int gmem_store16_release(const struct gmem *m, u64 ipa, u16 val)
{
	int err;
	u16 *p = gmem_at16(m, ipa, &err);

	if (p) {
		__atomic_store_n(p, val, __ATOMIC_RELEASE);
		if (m->wrote)
			m->wrote(m->wrote_ctx, ipa, 2);
	}
	return err;
}
