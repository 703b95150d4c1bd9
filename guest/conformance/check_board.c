/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU virt's board devices that bare-metal programs hard-code: the 32 virtio-mmio slots at
 * 0x0a000000 (virtio 1.x "MMIO Device Register Layout": an empty slot reads the magic "virt", a
 * version and device ID 0) and the PL031 real-time clock at 0x09010000 (ARM DDI 0224). Every read
 * goes through probe_read32, so a device that is missing gives a FAIL line, not a crash. */
#include "conf.h"

#define RTCDR 0x000
#define RTCMR 0x004
#define RTCLR 0x008
#define RTCCR 0x00c
#define RTCIMSC 0x010
#define RTCRIS 0x014
#define RTCMIS 0x018
#define RTCICR 0x01c

static void check_virtio(void)
{
	u32 bad = 0, first = 0;
	u64 esr = 0, magic = 0, version = 0, devid = 0;

	for (u32 s = 0; s < VIRTIO_MMIO_SLOTS; s++) {
		u64 base = VIRTIO_MMIO_BASE + s * VIRTIO_MMIO_STRIDE, e1, e2, e3;
		u64 m = probe_read32(base + 0x000, &e1);
		u64 v = probe_read32(base + 0x004, &e2);
		u64 d = probe_read32(base + 0x008, &e3);

		if (e1 || e2 || e3 || m != 0x74726976 || (v != 1 && v != 2) || d != 0) {
			if (!bad++) {
				first = s;
				esr = e1 | e2 | e3;
				magic = m, version = v, devid = d;
			}
		}
	}
	if (bad)
		report("virtio_mmio.empty_slots", V_FAIL,
		       "%u of 32 slots wrong, first %u: magic 0x%llx "
		       "version %llu device %llu ESR 0x%llx",
		       bad, first, (unsigned long long)magic, (unsigned long long)version,
		       (unsigned long long)devid, (unsigned long long)esr);
	else
		report("virtio_mmio.empty_slots", V_PASS,
		       "32 slots: magic, version 1 or 2, device 0");
}

static u64 rtc(u32 off, u64 *esr) { return probe_read32(PL031_BASE + off, esr); }

static void check_pl031(void)
{
	static const u8 id[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	u64 esr = 0, e, now;
	bool ids = true;

	for (u32 i = 0; i < 8; i++) {
		u64 v = rtc(0xfe0 + 4 * i, &e);

		esr |= e;
		ids &= (v & 0xff) == id[i];
	}
	report("pl031.ids", pass_if(ids && !esr), "PrimeCell and peripheral IDs, ESR 0x%llx",
	       (unsigned long long)esr);
	if (!ids || esr) {
		report("pl031.wall_clock", V_SKIP, "no PL031");
		report("pl031.ticks", V_SKIP, "no PL031");
		report("pl031.load", V_SKIP, "no PL031");
		report("pl031.match", V_SKIP, "no PL031");
		return;
	}
	now = rtc(RTCDR, &e);
	report("pl031.wall_clock", pass_if(now > 1600000000u && (rtc(RTCCR, &e) & 1)),
	       "RTCDR %llu, RTCCR enabled", (unsigned long long)now);
	{
		/* One second apart by the counter: from one change of RTCDR to the next. */
		u64 a = rtc(RTCDR, &e), b, end = cnt_ticks() + ms_to_ticks(2500), t0 = 0, t1 = 0;

		while ((b = rtc(RTCDR, &e)) == a && cnt_ticks() < end)
			;
		t0 = cnt_ticks();
		while (rtc(RTCDR, &e) == b && cnt_ticks() < end)
			;
		t1 = cnt_ticks();
		u64 ms = (t1 - t0) * 1000 / cnt_freq();

		report("pl031.ticks", pass_if(b == a + 1 && t1 < end && ms > 600 && ms < 1400),
		       "RTCDR %llu -> %llu, one second = %llu ms of the counter",
		       (unsigned long long)a, (unsigned long long)b, (unsigned long long)ms);
	}
	{
		u64 before = rtc(RTCDR, &e), lr, dr;

		mmio_write32(PL031_BASE + RTCLR, 1000000000u);
		lr = rtc(RTCLR, &e);
		dr = rtc(RTCDR, &e);
		mmio_write32(PL031_BASE + RTCLR, (u32)(before + 1));
		report("pl031.load",
		       pass_if(lr == 1000000000u && dr >= 1000000000u && dr <= 1000000001u),
		       "RTCLR 1000000000 reads %llu, RTCDR %llu", (unsigned long long)lr,
		       (unsigned long long)dr);
	}
	{
		u64 t = rtc(RTCDR, &e), ris0, ris = 0, mis = 0, after;
		u64 end = cnt_ticks() + ms_to_ticks(3000);

		mmio_write32(PL031_BASE + RTCICR, 1);
		mmio_write32(PL031_BASE + RTCMR, (u32)(t + 1));
		ris0 = rtc(RTCRIS, &e);
		while (!((ris = rtc(RTCRIS, &e)) & 1) && cnt_ticks() < end)
			;
		mis = rtc(RTCMIS, &e); /* masked: RTCIMSC is 0 */
		mmio_write32(PL031_BASE + RTCICR, 1);
		after = rtc(RTCRIS, &e);
		report("pl031.match",
		       pass_if(!(ris0 & 1) && (ris & 1) && !(mis & 1) && !(after & 1)),
		       "RIS before %llu, at the match %llu, MIS %llu, after ICR %llu",
		       (unsigned long long)ris0, (unsigned long long)ris, (unsigned long long)mis,
		       (unsigned long long)after);
	}
}

/* The match interrupt through the GIC: SPI 34 routed to vCPU 0 (GICD_IROUTER), Group 1, enabled;
 * taken while the vCPU spins with IRQs unmasked. */
static void check_pl031_irq(void)
{
	u64 e, t, mpidr = mpidr_of[0], route, t0;
	volatile u32 *n = &irqlog[0].spi_count;
	u32 last;
	bool got;

	if (rtc(0xfe0, &e) != 0x31 || e) {
		report("pl031.match_irq", V_SKIP, "no PL031");
		return;
	}
	route = (mpidr & 0xffffff) | ((mpidr >> 32) & 0xff) << 32;
	mmio_write32(GICD_BASE + 0x6000 + 8 * INTID_PL031, (u32)route);
	mmio_write32(GICD_BASE + 0x6000 + 8 * INTID_PL031 + 4, (u32)(route >> 32));
	mmio_write32(GICD_BASE + 0x80 + 4,
		     mmio_read32(GICD_BASE + 0x80 + 4) | 1u << (INTID_PL031 - 32));
	mmio_write8(GICD_BASE + 0x400 + INTID_PL031, 0x80);
	mmio_write32(GICD_BASE + 0x100 + 4, 1u << (INTID_PL031 - 32));
	irq_log_clear(0);
	mmio_write32(PL031_BASE + RTCICR, 1);
	mmio_write32(PL031_BASE + RTCIMSC, 1);
	irq_unmask();
	t = rtc(RTCDR, &e);
	t0 = cnt_ticks();
	mmio_write32(PL031_BASE + RTCMR, (u32)(t + 2));
	got = wait_flag(n, 4000);
	last = irqlog[0].last;
	irq_mask();
	mmio_write32(PL031_BASE + RTCIMSC, 0);
	mmio_write32(PL031_BASE + RTCICR, 1);
	mmio_write32(GICD_BASE + 0x180 + 4, 1u << (INTID_PL031 - 32));
	report("pl031.match_irq", pass_if(got && last == INTID_PL031 && *n == 1),
	       "INTID %u taken %u times, %llu ms after the match was set 2 s ahead", last, *n,
	       (unsigned long long)((cnt_ticks() - t0) * 1000 / cnt_freq()));
}

void check_board(void)
{
	check_virtio();
	check_pl031();
	check_pl031_irq();
}
