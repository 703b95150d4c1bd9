/* SPDX-License-Identifier: Apache-2.0 */
/* The doorbells of a shared-memory region: pure state, driven by the guests' trapped accesses to
 * their doorbell pages (hyp/core/shm.c holds the lock and turns lines into SPIs). Every value a guest
 * writes is checked: an access that is not exactly one of the registers does nothing but count as
 * an error, so a hostile or buggy guest can neither fault ferry nor ring a member that is not
 * there. */
#include <string.h>

#include "vdev/vdev.h"

void vdoorbell_init(struct vdoorbell *d, u32 members)
{
	memset(d, 0, sizeof(*d));
	d->members = members > CONFIG_MAX_VMS ? CONFIG_MAX_VMS : members;
}

static u32 all_members(const struct vdoorbell *d)
{
	return d->members >= 32 ? ~0u : (1u << d->members) - 1;
}

/* Sets self's bit in the STATUS of every member in mask; returns the members whose STATUS was
 * zero (their line rises). */
static u32 ring(struct vdoorbell *d, u32 self, u32 mask)
{
	u32 rose = 0;

	for (u32 m = 0; m < d->members; m++) {
		if (!(mask & (1u << m)))
			continue;
		if (!d->status[m])
			rose |= 1u << m;
		if (!(d->status[m] & (1u << self)))
			d->rings[m]++;
		d->status[m] |= 1u << self;
	}
	return rose;
}

static int reject(struct vdoorbell *d, u32 self, bool write, u64 *value)
{
	if (d->errors[self] != ~0u)
		d->errors[self]++;
	if (!write)
		*value = 0;
	return FERRY_EINVAL;
}

int vdoorbell_access(struct vdoorbell *d, u32 self, u64 off, u32 size, bool write, u64 *value,
		     u32 *changed)
{
	u64 v = write ? *value : 0;

	*changed = 0;
	if (self >= d->members) /* the glue never asks; nothing to count it against */
		return FERRY_EINVAL;
	if (size != 4 || (off & 3))
		return reject(d, self, write, value);
	if (write) {
		switch (off) {
		case VDOORBELL_RING:
			if (v >= d->members)
				return reject(d, self, write, value);
			*changed = ring(d, self, 1u << v);
			return 0;
		case VDOORBELL_RING_MASK:
			if (!v || (v & ~(u64)all_members(d)))
				return reject(d, self, write, value);
			*changed = ring(d, self, (u32)v);
			return 0;
		case VDOORBELL_ACK:
			if (v & ~(u64)all_members(d))
				return reject(d, self, write, value);
			if (d->status[self] && !(d->status[self] & ~(u32)v))
				*changed = 1u << self; /* its line falls */
			d->status[self] &= ~(u32)v;
			return 0;
		default:
			return reject(d, self, write, value);
		}
	}
	switch (off) {
	case VDOORBELL_ID:
		*value = VDOORBELL_MAGIC;
		return 0;
	case VDOORBELL_SELF:
		*value = self;
		return 0;
	case VDOORBELL_MEMBERS:
		*value = d->members;
		return 0;
	case VDOORBELL_STATUS:
		*value = d->status[self];
		return 0;
	case VDOORBELL_ERRORS:
		*value = d->errors[self];
		return 0;
	case VDOORBELL_RINGS:
		*value = d->rings[self];
		return 0;
	default:
		return reject(d, self, write, value);
	}
}

bool vdoorbell_line(const struct vdoorbell *d, u32 m)
{
	return m < d->members && d->status[m] != 0;
}

void vdoorbell_reset_member(struct vdoorbell *d, u32 m)
{
	if (m < d->members)
		d->status[m] = 0;
}
