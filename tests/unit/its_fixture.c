/* SPDX-License-Identifier: Apache-2.0 */
#include "its_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"

u8 *ram;
struct gmem mem;
struct its I;
u32 cw;

u64 mmio_rd(u64 ipa, u32 size)
{
	u64 v;

	assert_int_equal(ipa >= ITS && ipa < ITS + ITS_FRAME_SIZE
				 ? its_mmio_read(&I, ipa, size, &v)
				 : vgic_mmio_read(&G, ipa, size, &v),
			 0);
	return v;
}

void mmio_wr(u64 ipa, u32 size, u64 v)
{
	assert_int_equal(ipa >= ITS && ipa < ITS + ITS_FRAME_SIZE
				 ? its_mmio_write(&I, ipa, size, v)
				 : vgic_mmio_write(&G, ipa, size, v),
			 0);
}

void put64(u64 ipa, u64 v) { assert_int_equal(gmem_write64(&mem, ipa, v), 0); }
u64 get64(u64 ipa)
{
	u64 v;

	assert_int_equal(gmem_read64(&mem, ipa, &v), 0);
	return v;
}

int setup_vm(u32 nr)
{
	struct vgic_config cfg = { nr,   64,  4, NULL, VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,
				   true, &mem };

	if (!ram)
		ram = malloc(RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	mem = (struct gmem){ .ipa = RAM_IPA, .size = RAM_SIZE, .host = ram };
	assert_int_equal(vgic_init(&G, &cfg, &ops, &G), 0);
	its_init(&I, &G, &mem, ITS);
	mmio_wr(GICD(0), 4, 3);
	memset(kicks, 0, sizeof(kicks));
	cw = 0;
	return 0;
}

void enable_lpis(u32 vcpu)
{
	for (u32 i = 0; i < 256; i++)
		ram[PROP - RAM_IPA + i] = 0xa0 | 2 | 1;
	mmio_wr(GICR(vcpu, 0x70), 8, PROP | 13);
	mmio_wr(GICR(vcpu, 0x78), 8, PEND);
	mmio_wr(GICR(vcpu, 0), 4, 1);
}

void its_on(void)
{
	mmio_wr(ITS + 0x100, 8, BIT(63) | DEVT | 0); /* 4K pages, 1 page: DeviceIDs 0..511 */
	mmio_wr(ITS + 0x80, 8, BIT(63) | CMDQ | 0);  /* one 4K page: 128 commands */
	mmio_wr(ITS + 0x88, 8, 0);
	mmio_wr(ITS + 0, 4, 1);
}

void cmd(u64 d0, u64 d1, u64 d2, u64 d3)
{
	put64(CMDQ + cw, d0);
	put64(CMDQ + cw + 8, d1);
	put64(CMDQ + cw + 16, d2);
	put64(CMDQ + cw + 24, d3);
	cw = (cw + 32) % 0x1000;
	mmio_wr(ITS + 0x88, 8, cw);
}

u32 flush_peek(u32 vcpu, u64 lr[VGIC_MAX_LRS])
{
	u64 hcr;
	u32 n;

	assert_int_equal(vgic_flush_lrs(&G, vcpu, lr, &n, &hcr), 0);
	assert_int_equal(vgic_sync_lrs(&G, vcpu, lr, n), 0);
	return n;
}

u32 deliver(u32 vcpu, u32 out[VGIC_MAX_LRS])
{
	u64 lr[VGIC_MAX_LRS], hcr;
	u32 n;

	assert_int_equal(vgic_flush_lrs(&G, vcpu, lr, &n, &hcr), 0);
	for (u32 i = 0; i < n; i++) {
		out[i] = (u32)lr[i];
		lr[i] = (lr[i] & ~ICH_LR_PENDING) | ICH_LR_ACTIVE;
	}
	assert_int_equal(vgic_sync_lrs(&G, vcpu, lr, n), 0);
	return n;
}

void standard(u32 nr)
{
	setup_vm(nr);
	for (u32 v = 0; v < nr; v++)
		enable_lpis(v);
	its_on();
	MAPD(0, 5, ITT0);
	for (u32 v = 0; v < nr; v++)
		MAPC(v, v);
	for (u32 ev = 0; ev < 8; ev++)
		MAPTI(0, ev, VGIC_LPI_BASE + ev, 0);
	assert_int_equal(I.errors, 0);
}
