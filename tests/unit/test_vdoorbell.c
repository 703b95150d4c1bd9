/* SPDX-License-Identifier: Apache-2.0 */
/* A shared region's doorbells: ringing by index and by mask, STATUS and ACK with the line each
 * member's interrupt follows, and every hostile access rejected without effect but an error count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vdev.h"

static int wr(struct vdoorbell *d, u32 self, u64 off, u64 v, u32 *changed)
{
	return vdoorbell_access(d, self, off, 4, true, &v, changed);
}

static u64 rd(struct vdoorbell *d, u32 self, u64 off)
{
	u64 v = 0xdead;
	u32 changed;

	assert_int_equal(vdoorbell_access(d, self, off, 4, false, &v, &changed), 0);
	assert_int_equal(changed, 0);
	return v;
}

static void test_identity(void **state)
{
	struct vdoorbell d;

	(void)state;
	vdoorbell_init(&d, 3);
	assert_int_equal(rd(&d, 0, VDOORBELL_ID), VDOORBELL_MAGIC);
	assert_int_equal(rd(&d, 2, VDOORBELL_SELF), 2);
	assert_int_equal(rd(&d, 1, VDOORBELL_MEMBERS), 3);
	assert_int_equal(rd(&d, 1, VDOORBELL_STATUS), 0);
	assert_false(vdoorbell_line(&d, 0));
	assert_false(vdoorbell_line(&d, 3)); /* not a member */
}

static void test_ring_and_ack(void **state)
{
	struct vdoorbell d;
	u32 changed;

	(void)state;
	vdoorbell_init(&d, 3);
	/* Member 0 rings 1: 1's line rises, and only 1's. */
	assert_int_equal(wr(&d, 0, VDOORBELL_RING, 1, &changed), 0);
	assert_int_equal(changed, 1u << 1);
	assert_true(vdoorbell_line(&d, 1));
	assert_false(vdoorbell_line(&d, 0));
	assert_false(vdoorbell_line(&d, 2));
	assert_int_equal(rd(&d, 1, VDOORBELL_STATUS), 1u << 0);
	assert_int_equal(rd(&d, 1, VDOORBELL_RINGS), 1);
	/* Ringing again before the ACK coalesces: the line is already high, nothing changes. */
	assert_int_equal(wr(&d, 0, VDOORBELL_RING, 1, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(rd(&d, 1, VDOORBELL_RINGS), 1);
	/* Member 2 rings 1 as well: two bits, the line stays high. */
	assert_int_equal(wr(&d, 2, VDOORBELL_RING_MASK, 1u << 1, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(rd(&d, 1, VDOORBELL_STATUS), (1u << 0) | (1u << 2));
	assert_int_equal(rd(&d, 1, VDOORBELL_RINGS), 2);
	/* Acknowledging one of the two keeps the line high; the second one drops it. */
	assert_int_equal(wr(&d, 1, VDOORBELL_ACK, 1u << 0, &changed), 0);
	assert_int_equal(changed, 0);
	assert_true(vdoorbell_line(&d, 1));
	assert_int_equal(wr(&d, 1, VDOORBELL_ACK, 1u << 2, &changed), 0);
	assert_int_equal(changed, 1u << 1);
	assert_false(vdoorbell_line(&d, 1));
	/* ACK of nothing pending is harmless and changes no line. */
	assert_int_equal(wr(&d, 1, VDOORBELL_ACK, 7, &changed), 0);
	assert_int_equal(changed, 0);
	/* A mask rings several members at once (and may include the ringer itself). */
	assert_int_equal(wr(&d, 1, VDOORBELL_RING_MASK, 7, &changed), 0);
	assert_int_equal(changed, 7);
	for (u32 m = 0; m < 3; m++)
		assert_int_equal(rd(&d, m, VDOORBELL_STATUS), 1u << 1);
	/* A member that restarts has nothing pending; the others keep theirs. */
	vdoorbell_reset_member(&d, 2);
	assert_false(vdoorbell_line(&d, 2));
	assert_true(vdoorbell_line(&d, 0));
	assert_int_equal(rd(&d, 0, VDOORBELL_ERRORS), 0);
	assert_int_equal(rd(&d, 1, VDOORBELL_ERRORS), 0);
}

/* Every rejected access: no STATUS changes anywhere, no line changes, a read gets 0, and the
 * accessing member's ERRORS counts it. */
static void test_hostile(void **state)
{
	static const struct {
		u64 off;
		u32 size;
		bool write;
		u64 value;
	} bad[] = {
		{ VDOORBELL_RING, 4, true, 2 }, /* no member 2 */
		{ VDOORBELL_RING, 4, true, 0xffffffff },
		{ VDOORBELL_RING, 4, true, 1ULL << 32 | 1 }, /* a 64-bit value, never truncated */
		{ VDOORBELL_RING_MASK, 4, true, 0 },         /* rings nobody */
		{ VDOORBELL_RING_MASK, 4, true, 4 },         /* names no member */
		{ VDOORBELL_RING_MASK, 4, true, 0x80000001 },
		{ VDOORBELL_ACK, 4, true, 1u << 5 },
		{ VDOORBELL_RING, 1, true, 1 }, /* only 32-bit accesses */
		{ VDOORBELL_RING, 2, true, 1 },
		{ VDOORBELL_RING, 8, true, 1 },
		{ VDOORBELL_RING + 1, 4, true, 1 }, /* misaligned */
		{ VDOORBELL_STATUS, 4, true, 0 },   /* read-only */
		{ VDOORBELL_ID, 4, true, 0 },
		{ VDOORBELL_ERRORS, 4, true, 0 },
		{ 0x24, 4, true, 1 }, /* no register */
		{ 0xffc, 4, true, 1 },
		{ VDOORBELL_RING, 4, false, 0 }, /* write-only */
		{ VDOORBELL_ACK, 4, false, 0 },
		{ 0x800, 4, false, 0 },
		{ VDOORBELL_STATUS, 8, false, 0 },
		{ VDOORBELL_STATUS + 2, 4, false, 0 },
	};
	struct vdoorbell d, before;
	u32 changed;

	(void)state;
	vdoorbell_init(&d, 2);
	assert_int_equal(wr(&d, 1, VDOORBELL_RING, 0, &changed), 0); /* something pending */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u64 v = bad[i].value;

		memcpy(&before, &d, sizeof(d));
		changed = 0xdead;
		assert_int_equal(vdoorbell_access(&d, 0, bad[i].off, bad[i].size, bad[i].write, &v,
						  &changed),
				 FERRY_EINVAL);
		assert_int_equal(changed, 0);
		if (!bad[i].write)
			assert_int_equal(v, 0);
		assert_memory_equal(d.status, before.status, sizeof(d.status));
		assert_memory_equal(d.rings, before.rings, sizeof(d.rings));
		assert_int_equal(d.errors[0], before.errors[0] + 1);
		assert_int_equal(d.errors[1], before.errors[1]);
	}
	assert_int_equal(rd(&d, 0, VDOORBELL_ERRORS), sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(rd(&d, 0, VDOORBELL_STATUS), 1u << 1);
	/* The count saturates instead of wrapping to zero. */
	d.errors[0] = ~0u - 1;
	for (int i = 0; i < 3; i++) {
		u64 v = 9;

		vdoorbell_access(&d, 0, VDOORBELL_RING, 4, true, &v, &changed);
	}
	assert_int_equal(d.errors[0], ~0u);
	/* A member index the glue would never pass is refused, not used as an array index. */
	{
		u64 v = 0;

		assert_int_equal(vdoorbell_access(&d, 2, VDOORBELL_RING, 4, true, &v, &changed),
				 FERRY_EINVAL);
		assert_int_equal(
			vdoorbell_access(&d, ~0u, VDOORBELL_STATUS, 4, false, &v, &changed),
			FERRY_EINVAL);
	}
}

/* Random accesses from every member: STATUS never holds a bit of a member that does not exist,
 * a line is high exactly when STATUS is not zero, and `changed` names every line that moved. */
static void test_random(void **state)
{
	struct vdoorbell d;
	u64 rng = 0x243f6a8885a308d3ULL;

	(void)state;
	vdoorbell_init(&d, 3);
	for (int i = 0; i < 200000; i++) {
		bool line_before[3], write;
		u32 self, size, changed;
		u64 off, v;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		self = (u32)(rng % 3);
		off = (rng >> 8) % 12 * 4 + ((rng >> 16) % 16 == 0 ? 1 : 0);
		size = (rng >> 20) % 8 == 0 ? 2 : 4;
		write = (rng >> 24) & 1;
		v = (rng >> 28) % 4 == 0 ? rng : (rng >> 32) % 9;
		for (u32 m = 0; m < 3; m++)
			line_before[m] = vdoorbell_line(&d, m);
		vdoorbell_access(&d, self, off, size, write, &v, &changed);
		for (u32 m = 0; m < 3; m++) {
			assert_int_equal(d.status[m] & ~7u, 0);
			assert_int_equal(vdoorbell_line(&d, m), d.status[m] != 0);
			if (line_before[m] != vdoorbell_line(&d, m))
				assert_true(changed & (1u << m));
		}
		assert_int_equal(changed & ~7u, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_ring_and_ack),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
