/* SPDX-License-Identifier: Apache-2.0 */
/* The vGICv3's register frames (hyp/vgic/vgic_mmio.c), swept: every offset of GICD and of each GICR
 * frame with every access size against an independent table of what IHI 0069 allows, and RAZ/WI
 * for every offset that implements nothing. The registers' semantics are in test_vgic_mmio.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vgic_fixture.h"

static void setup(u32 nr_vcpus, u32 nr_spis) { setup_map(nr_vcpus, nr_spis, 4, NULL); }

/* What IHI 0069 allows, written independently of the implementation. */
static bool valid_size(u32 size) { return size == 1 || size == 2 || size == 4 || size == 8; }

static bool dist_allowed(u64 off, u32 size)
{
	if (!valid_size(size) || off % size)
		return false;
	if (size == 4)
		return true;
	if (size == 1)
		return (off >= 0x400 && off < 0xc00) || (off >= 0xf10 && off < 0xf30);
	if (size == 8)
		return off >= 0x6000 && off < 0x8000;
	return false;
}

static bool rd_allowed(u64 off, u32 size)
{
	static const u64 regs64[] = { 0x8, 0x40, 0x48, 0x70, 0x78, 0xa0, 0xb0 };

	if (!valid_size(size) || off % size)
		return false;
	if (size == 4)
		return true;
	if (size == 8)
		for (size_t i = 0; i < ARRAY_SIZE(regs64); i++)
			if (off == regs64[i])
				return true;
	return false;
}

static bool sgi_allowed(u64 off, u32 size)
{
	if (!valid_size(size) || off % size)
		return false;
	return size == 4 || (size == 1 && off >= 0x400 && off < 0x420);
}

/* A bad access reads 0 and changes nothing: the sweep compares the whole state with this copy
 * every 256 offsets (a copy per access would make the sweep slow). */
static struct vgic sweep_start;

static void check_bad_access(u64 ipa, u32 size)
{
	u64 v = 0x1234;

	assert_int_equal(vgic_mmio_read(&G, ipa, size, &v), FERRY_EINVAL);
	assert_int_equal(v, 0);
	assert_int_equal(vgic_mmio_write(&G, ipa, size, ~0ULL), FERRY_EINVAL);
	if ((ipa & 0xff) == 0)
		assert_memory_equal(&sweep_start, &G, sizeof(G));
}

static void test_access_sizes(void **state)
{
	static const u32 sizes[] = { 1, 2, 4, 8, 3, 0, 16 };
	u64 v;
	(void)state;
	setup(2, 64);
	sweep_start = G;
	for (u64 off = 0; off < VGIC_GICD_SIZE; off++)
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
			if (dist_allowed(off, sizes[s]))
				assert_int_equal(vgic_mmio_read(&G, GICD(off), sizes[s], &v), 0);
			else
				check_bad_access(GICD(off), sizes[s]);
		}
	for (u32 f = 0; f < 2; f++)
		for (u64 off = 0; off < VGIC_GICR_SGI_OFFSET; off++)
			for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
				if (rd_allowed(off, sizes[s]))
					assert_int_equal(
						vgic_mmio_read(&G, GICR(f, off), sizes[s], &v), 0);
				else
					check_bad_access(GICR(f, off), sizes[s]);
				if (sgi_allowed(off, sizes[s]))
					assert_int_equal(
						vgic_mmio_read(&G, SGIB(f, off), sizes[s], &v), 0);
				else
					check_bad_access(SGIB(f, off), sizes[s]);
			}
	assert_memory_equal(&sweep_start, &G, sizeof(G));
	assert_int_equal(kicks[0] + kicks[1], 0);
	/* Outside both windows: not the vGIC's. */
	assert_int_equal(vgic_mmio_read(&G, GICD(VGIC_GICD_SIZE), 4, &v), FERRY_ENOENT);
	assert_int_equal(vgic_mmio_read(&G, GICD(0) - 4, 4, &v), FERRY_ENOENT);
	assert_int_equal(vgic_mmio_read(&G, GICR(2, 0), 4, &v), FERRY_ENOENT);
	assert_int_equal(vgic_mmio_read(&G, VGIC_GICR_BASE_VIRT - 4, 4, &v), FERRY_ENOENT);
}

/* Word offsets with guest-visible behaviour, for a VM with nr_spis SPIs; everything else must be
 * RAZ/WI. */
static bool dist_implemented(u64 off, u32 nr_spis)
{
	u32 words = nr_spis / 32;

	if (off <= 0x8 || off == 0xffe8)
		return true;
	for (u64 bank = 0x80; bank < 0x400; bank += 0x80)
		if (off >= bank + 4 && off < bank + 4 + 4 * words)
			return true;
	if (off >= 0x420 && off < 0x420 + nr_spis)
		return true;
	if (off >= 0xc08 && off < 0xc08 + nr_spis / 4)
		return true;
	return off >= 0x6100 && off < 0x6100 + 8ULL * nr_spis;
}

static bool rd_implemented(u64 off)
{
	return off == 0x4 || off == 0x8 || off == 0xc || off == 0x14 || off == 0xffe8;
}

static bool sgi_implemented(u64 off)
{
	for (u64 bank = 0x80; bank < 0x400; bank += 0x80)
		if (off == bank)
			return true;
	return (off >= 0x400 && off < 0x420) || off == 0xc00 || off == 0xc04;
}

static void check_raz_wi(u64 ipa)
{
	struct vgic before = G;

	assert_int_equal(rd32(ipa), 0);
	wr32(ipa, 0xffffffff);
	wr32(ipa, 0);
	assert_memory_equal(&before, &G, sizeof(G));
	assert_int_equal(rd32(ipa), 0);
}

static void test_raz_wi(void **state)
{
	static const u32 spis[] = { 0, 64, 256 };
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(spis); i++) {
		setup(2, spis[i]);
		/* Make everything that could leak into a RAZ register non-zero first. */
		wr32(GICD(0), 3);
		for (u32 v = 0; v < 2; v++) {
			wr32(GICR(v, 0x14), 0);
			wr32(SGIB(v, 0x100), ~0u);
			wr32(SGIB(v, 0x200), ~0u);
			wr32(SGIB(v, 0x300), ~0u);
			for (u32 k = 0; k < 8; k++)
				wr32(SGIB(v, 0x400 + 4 * k), ~0u);
		}
		for (u32 w = 1; w <= spis[i] / 32; w++)
			for (u64 bank = 0x100; bank < 0x400; bank += 0x100)
				wr32(GICD(bank + 4 * w), ~0u);
		for (u32 k = 0; k < spis[i]; k += 4)
			wr32(GICD(0x420 + k), ~0u);
		for (u32 k = 0; k < spis[i] / 16; k++)
			wr32(GICD(0xc08 + 4 * k), ~0u);
		for (u32 k = 0; k < spis[i]; k++)
			wr(GICD(0x6100 + 8 * k), 8, 1);
		memset(kicks, 0, sizeof(kicks));

		for (u64 off = 0; off < VGIC_GICD_SIZE; off += 4)
			if (!dist_implemented(off, spis[i]))
				check_raz_wi(GICD(off));
		for (u32 f = 0; f < 2; f++)
			for (u64 off = 0; off < VGIC_GICR_SGI_OFFSET; off += 4) {
				if (!rd_implemented(off))
					check_raz_wi(GICR(f, off));
				if (!sgi_implemented(off))
					check_raz_wi(SGIB(f, off));
			}
		/* Read-only registers ignore writes. */
		{
			struct vgic before = G;

			wr32(GICD(0x4), 0);
			wr32(GICD(0x8), 0);
			wr32(GICD(0xffe8), 0);
			wr(GICR(1, 0x8), 8, 0);
			wr32(GICR(1, 0x4), 0);
			wr32(SGIB(1, 0xc00), 0);
			wr32(SGIB(1, 0xc04), ~0u);
			assert_memory_equal(&before, &G, sizeof(G));
		}
		assert_int_equal(kicks[0] + kicks[1], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_sizes),
		cmocka_unit_test(test_raz_wi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
