/* SPDX-License-Identifier: Apache-2.0 */
/* The ITS (IHI 0069 "The ITS" and "LPIs") as a bare-metal program drives it: LPIs enabled at vCPU
 * 0's redistributor with a configuration and a pending table in its memory, a device table (and a
 * collection table where the ITS wants one), a command queue; then MAPD/MAPC/MAPTI and INT must
 * deliver the LPI, CLEAR and DISCARD must take it back, INV must make a changed enable bit count,
 * the priority mask must hold LPIs back as any other interrupt, a write to GITS_TRANSLATER is an
 * MSI, and commands with errors must not stop the queue. QEMU virt's ITS is the reference. */
#include "conf.h"

#define ITS_BASE 0x08080000ULL
#define GITS_CTLR 0x0000
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER 0x0100
#define GITS_PIDR2 0xffe8
#define GITS_TRANSLATER 0x10040
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078

/* Normal Inner Write-back read/write-allocate, Inner Shareable: the tables are ordinary cached
 * memory, as Linux asks for them. */
#define ATTR_RAWAWB (7ULL << 59 | 1ULL << 10)
#define CFG_PRIO_DEFAULT 0xa0
#define CFG_RES1 0x02
#define CFG_ENABLE 0x01
#define LPI0 8192u
#define SETTLE_MS 20
#define QUEUE_SIZE 0x1000u

static u8 prop_tab[0x10000] __attribute__((aligned(0x10000)));
static u8 pend_tab[0x10000] __attribute__((aligned(0x10000)));
static u8 tables[4][0x10000] __attribute__((aligned(0x10000)));
static u64 cmdq[QUEUE_SIZE / 8] __attribute__((aligned(0x10000)));
static u8 itt[0x1000] __attribute__((aligned(0x1000)));
static u32 cw;
static u64 rdbase0;
static bool its_up;

static inline void mmio_write64(u64 a, u64 v)
{
	__asm__ volatile("str %x0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}

static void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }

/* One command; true once GITS_CREADR has caught up with GITS_CWRITER (the ITS took it). */
static bool its_cmd(u64 d0, u64 d1, u64 d2, u64 d3)
{
	u64 *c = &cmdq[cw / 8];
	u64 end = cnt_ticks() + ms_to_ticks(200);

	c[0] = d0;
	c[1] = d1;
	c[2] = d2;
	c[3] = d3;
	cw = (cw + 32) % QUEUE_SIZE;
	dsb();
	mmio_write64(ITS_BASE + GITS_CWRITER, cw);
	while ((mmio_read64(ITS_BASE + GITS_CREADR) & 0xfffe0) != cw)
		if (cnt_ticks() > end)
			return false;
	return true;
}

#define C_MOVI 0x01
#define C_INT 0x03
#define C_CLEAR 0x04
#define C_SYNC 0x05
#define C_MAPD 0x08
#define C_MAPC 0x09
#define C_MAPTI 0x0a
#define C_INV 0x0c
#define C_DISCARD 0x0f

static bool ev_cmd(u32 op, u32 dev, u32 ev) { return its_cmd(op | (u64)dev << 32, ev, 0, 0); }
static bool mapti(u32 dev, u32 ev, u32 intid, u32 icid)
{
	return its_cmd(C_MAPTI | (u64)dev << 32, ev | (u64)intid << 32, icid, 0);
}
static bool sync0(void) { return its_cmd(C_SYNC, 0, rdbase0, 0); }

static void set_cfg(u32 intid, u8 cfg)
{
	prop_tab[intid - LPI0] = cfg;
	dsb();
}

/* Waits for an LPI at vCPU 0 (IRQs unmasked); the handler logs LPIs with the SPIs. */
static bool lpi_taken(u32 intid, u64 ms)
{
	bool got = wait_flag(&irqlog[0].spi_count, ms);

	return got && irqlog[0].last == intid;
}

static bool its_setup(void)
{
	u64 typer = mmio_read64(ITS_BASE + GITS_TYPER);
	u64 rd = gicr_base(0);
	bool ok = true;

	/* LPIs at vCPU 0: 14 INTID bits (8192 LPIs), tables zeroed but for the LPIs used. */
	for (u32 i = 0; i < 64; i++)
		prop_tab[i] = CFG_PRIO_DEFAULT | CFG_RES1 | CFG_ENABLE;
	dsb();
	mmio_write64(rd + GICR_PROPBASER, (u64)(uintptr_t)prop_tab | ATTR_RAWAWB | 13);
	mmio_write64(rd + GICR_PENDBASER, (u64)(uintptr_t)pend_tab | ATTR_RAWAWB);
	mmio_write32(rd + GICR_CTLR, mmio_read32(rd + GICR_CTLR) | 1);
	dsb();
	ok &= mmio_read32(rd + GICR_CTLR) & 1;

	/* Device and collection tables where the ITS has a BASER for them: one 64 KiB page each. */
	mmio_write32(ITS_BASE + GITS_CTLR, 0);
	for (u32 n = 0, t = 0; n < 8 && t < 4; n++) {
		u64 b = mmio_read64(ITS_BASE + GITS_BASER + 8 * n);
		u64 type = (b >> 56) & 7;

		if (type != 1 && type != 4)
			continue;
		mmio_write64(ITS_BASE + GITS_BASER + 8 * n,
			     1ULL << 63 | (b & (7ULL << 56 | 0x1fULL << 48)) | ATTR_RAWAWB |
				     (u64)(uintptr_t)tables[t++] | 2ULL << 8);
		b = mmio_read64(ITS_BASE + GITS_BASER + 8 * n);
		ok &= (b >> 63) && ((b >> 8) & 3) == 2;
	}
	mmio_write64(ITS_BASE + GITS_CBASER, 1ULL << 63 | ATTR_RAWAWB | (u64)(uintptr_t)cmdq);
	mmio_write64(ITS_BASE + GITS_CWRITER, 0);
	cw = 0;
	mmio_write32(ITS_BASE + GITS_CTLR, 1);
	dsb();
	/* RDbase: the redistributor's address with GITS_TYPER.PTA, else its processor number. */
	rdbase0 = (typer >> 19) & 1 ? rd : ((mmio_read64(rd + GICR_TYPER) >> 8) & 0xffff) << 16;
	/* Device 0 with 5 EventID bits, collection 0 to vCPU 0, events 0..3 to LPIs 8192..8195. */
	ok &= its_cmd(C_MAPD, 4, 1ULL << 63 | (u64)(uintptr_t)itt, 0);
	ok &= its_cmd(C_MAPC, 0, 1ULL << 63 | rdbase0, 0);
	for (u32 ev = 0; ev < 4; ev++)
		ok &= mapti(0, ev, LPI0 + ev, 0);
	ok &= sync0();
	return ok;
}

static void check_probe(void)
{
	u32 pidr2 = mmio_read32(ITS_BASE + GITS_PIDR2);
	u64 typer = mmio_read64(ITS_BASE + GITS_TYPER);
	u32 gicd_typer = mmio_read32(GICD_BASE + GICD_TYPER);
	u64 rtyper = mmio_read64(gicr_base(0) + GICR_TYPER);
	u32 arch = (pidr2 >> 4) & 0xf;

	report("its.probe",
	       pass_if((arch == 3 || arch == 4) && (typer & 1) && ((typer >> 4) & 0xf) >= 7 &&
		       ((gicd_typer >> 17) & 1) && ((gicd_typer >> 19) & 0x1f) >= 13 &&
		       (rtyper & 1)),
	       "GITS_PIDR2 0x%x GITS_TYPER 0x%llx GICD_TYPER 0x%x GICR_TYPER.PLPIS %llu", pidr2,
	       (unsigned long long)typer, gicd_typer, (unsigned long long)(rtyper & 1));
}

static void check_int(void)
{
	bool got;

	irq_log_clear(0);
	irq_unmask();
	got = ev_cmd(C_INT, 0, 0) && lpi_taken(LPI0, WAIT_MS);
	report("its.int_delivers", pass_if(got), "INT dev 0 event 0 -> LPI %u taken: %d (last %u)",
	       LPI0, got, irqlog[0].last);
}

/* With IRQs masked the LPI waits; CLEAR (or DISCARD) must remove it before they are unmasked. */
static void check_clear_discard(void)
{
	u64 hppir_before, hppir_after;
	bool cmds;

	irq_log_clear(0);
	irq_mask();
	cmds = ev_cmd(C_INT, 0, 1);
	hppir_before = SYSREG_READ(ICC_HPPIR1) & 0xffffff;
	cmds &= ev_cmd(C_CLEAR, 0, 1) && sync0();
	hppir_after = SYSREG_READ(ICC_HPPIR1) & 0xffffff;
	irq_unmask();
	delay_ms(SETTLE_MS);
	report("its.clear",
	       pass_if(cmds && hppir_before == LPI0 + 1 && hppir_after == INTID_SPURIOUS &&
		       irqlog[0].spi_count == 0),
	       "HPPIR1 %llu after INT, %llu after CLEAR, taken %u",
	       (unsigned long long)hppir_before, (unsigned long long)hppir_after,
	       irqlog[0].spi_count);

	irq_log_clear(0);
	irq_mask();
	cmds = ev_cmd(C_INT, 0, 2);
	hppir_before = SYSREG_READ(ICC_HPPIR1) & 0xffffff;
	cmds &= ev_cmd(C_DISCARD, 0, 2) && sync0();
	irq_unmask();
	/* The event is unmapped now: a new INT for it is a command error, ignored. */
	cmds &= ev_cmd(C_INT, 0, 2);
	delay_ms(SETTLE_MS);
	report("its.discard", pass_if(cmds && hppir_before == LPI0 + 2 && irqlog[0].spi_count == 0),
	       "HPPIR1 %llu after INT, taken after DISCARD %u", (unsigned long long)hppir_before,
	       irqlog[0].spi_count);
	mapti(0, 2, LPI0 + 2, 0);
	sync0();
}

/* Clear the enable bit, INV: an INT leaves the LPI pending but not delivered; enable, INV: it comes. */
static void check_inv(void)
{
	bool cmds, held, got;

	irq_log_clear(0);
	irq_unmask();
	set_cfg(LPI0 + 3, CFG_PRIO_DEFAULT | CFG_RES1);
	cmds = ev_cmd(C_INV, 0, 3) && ev_cmd(C_INT, 0, 3) && sync0();
	delay_ms(SETTLE_MS);
	held = irqlog[0].spi_count == 0;
	set_cfg(LPI0 + 3, CFG_PRIO_DEFAULT | CFG_RES1 | CFG_ENABLE);
	cmds &= ev_cmd(C_INV, 0, 3) && sync0();
	got = lpi_taken(LPI0 + 3, WAIT_MS);
	report("its.inv_enable", pass_if(cmds && held && got),
	       "disabled: held %d; enabled after INV: taken %d", held, got);
}

/* An LPI of priority 0xc0 under ICC_PMR_EL1 0x80 waits; opening the mask delivers it. */
static void check_priority(void)
{
	bool cmds, held, got;

	irq_log_clear(0);
	irq_unmask();
	set_cfg(LPI0 + 1, 0xc0 | CFG_RES1 | CFG_ENABLE);
	cmds = ev_cmd(C_INV, 0, 1) && sync0();
	SYSREG_WRITE(ICC_PMR, 0x80);
	isb();
	cmds &= ev_cmd(C_INT, 0, 1);
	delay_ms(SETTLE_MS);
	held = irqlog[0].spi_count == 0;
	SYSREG_WRITE(ICC_PMR, 0xff);
	isb();
	got = lpi_taken(LPI0 + 1, WAIT_MS);
	report("its.priority_mask", pass_if(cmds && held && got),
	       "PMR 0x80 holds a 0xc0 LPI: %d; PMR 0xff: taken %d", held, got);
	set_cfg(LPI0 + 1, CFG_PRIO_DEFAULT | CFG_RES1 | CFG_ENABLE);
	ev_cmd(C_INV, 0, 1);
}

/* A CPU's write of an EventID to GITS_TRANSLATER is an MSI of DeviceID 0 on both QEMU and ferry. */
static void check_translater(void)
{
	bool got;

	irq_log_clear(0);
	irq_unmask();
	mmio_write32(ITS_BASE + GITS_TRANSLATER, 2);
	dsb();
	got = lpi_taken(LPI0 + 2, WAIT_MS);
	report("its.translater_msi", pass_if(got),
	       "event 2 written to GITS_TRANSLATER: LPI %u taken %d", LPI0 + 2, got);
}

/* Commands with errors (an unmapped device, an EventID beyond the ITT, a collection that names
 * nothing, a pINTID that is no LPI) are skipped; the queue goes on and later commands work. */
static void check_errors(void)
{
	bool cmds, quiet, got;

	irq_log_clear(0);
	irq_unmask();
	cmds = ev_cmd(C_INT, 7, 0);          /* device 7 never mapped */
	cmds &= ev_cmd(C_INT, 0, 1000);      /* event beyond the 32 of device 0's ITT */
	cmds &= mapti(0, 9, 100, 0);         /* pINTID 100 is no LPI */
	cmds &= mapti(0, 1000, LPI0 + 9, 0); /* event out of range */
	cmds &= ev_cmd(C_INT, 0, 9) && sync0();
	delay_ms(SETTLE_MS);
	quiet = irqlog[0].spi_count == 0;
	got = ev_cmd(C_INT, 0, 0) && lpi_taken(LPI0, WAIT_MS);
	report("its.errors_skipped", pass_if(cmds && quiet && got),
	       "queue kept going %d, nothing delivered by bad commands %d, INT after them %d", cmds,
	       quiet, got);
}

void check_its(void)
{
	bool ok;

	check_probe();
	ok = its_setup();
	its_up = ok;
	report("its.setup", pass_if(ok), "LPIs enabled, tables set, MAPD/MAPC/MAPTI/SYNC consumed");
	if (!its_up)
		return;
	check_int();
	check_clear_discard();
	check_inv();
	check_priority();
	check_translater();
	check_errors();
	irq_mask();
}

/* `its-soak=N` (bootargs), instead of the checks: the ITS set up once, then N rounds about 100 ms
 * apart. Each round maps events 0..3 of device 0 to the other half of LPIs 8192..8199 (DISCARD,
 * MAPTI, SYNC through the command queue), raises each event once, two by INT and two by an MSI
 * written to GITS_TRANSLATER, and checks that the LPI now mapped is the one taken. Migrated mid-run
 * (tests/system/test_migration.py), it shows the ITS arriving whole: the tables the guest gave it,
 * the mappings its commands made, the command queue's position, the LPIs' configuration, an LPI
 * pending across the pause. */
void its_soak(u32 rounds)
{
	u32 errors = 0;

	if (!its_setup()) {
		con_printf("its-soak: the ITS does not come up");
		guest_fatal();
	}
	irq_unmask();
	for (u32 r = 1; r <= rounds; r++) {
		u32 bad = 0, want = 0, got = 0;

		for (u32 ev = 0; ev < 4; ev++) {
			u32 lpi = LPI0 + (r % 2) * 4 + ev;
			bool ok = ev_cmd(C_DISCARD, 0, ev) && mapti(0, ev, lpi, 0) && sync0();

			irq_log_clear(0);
			if (ev < 2) {
				ok = ok && ev_cmd(C_INT, 0, ev);
			} else {
				mmio_write32(ITS_BASE + GITS_TRANSLATER, ev);
				dsb();
			}
			if (!ok || !lpi_taken(lpi, WAIT_MS)) {
				bad++;
				want = lpi;
				got = irqlog[0].last;
			}
		}
		errors += bad;
		if (bad)
			con_printf(
				"its-soak: round %u/%u: %u of 4 LPIs wrong (wanted %u, last taken %u)",
				r, rounds, bad, want, got);
		else
			con_printf("its-soak: round %u/%u: 4 LPIs ok", r, rounds);
		delay_ms(100);
	}
	irq_mask();
	con_printf("its-soak: done: %u rounds, %u errors", rounds, errors);
}
