/* SPDX-License-Identifier: Apache-2.0 */
#include "vgic_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

struct vgic G;
u32 kicks[VGIC_MAX_VCPUS];

static void kick(void *ctx, u32 vcpu)
{
	assert_ptr_equal(ctx, &G);
	assert_true(vcpu < G.nr_vcpus);
	kicks[vcpu]++;
}

const struct vgic_ops ops = { kick };

void setup_map(u32 nr_vcpus, u32 nr_spis, u32 nr_lrs, const u64 *mpidr)
{
	struct vgic_config cfg = {
		nr_vcpus, nr_spis, nr_lrs, mpidr, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,
		false,    NULL
	};

	assert_int_equal(vgic_init(&G, &cfg, &ops, &G), 0);
	memset(kicks, 0, sizeof(kicks));
}

u64 rd(u64 ipa, u32 size)
{
	u64 v = 0xdead;

	assert_int_equal(vgic_mmio_read(&G, ipa, size, &v), 0);
	return v;
}

void wr(u64 ipa, u32 size, u64 v) { assert_int_equal(vgic_mmio_write(&G, ipa, size, v), 0); }
u32 rd32(u64 ipa) { return (u32)rd(ipa, 4); }
void wr32(u64 ipa, u32 v) { wr(ipa, 4, v); }
void wr8(u64 ipa, u8 v) { wr(ipa, 1, v); }
