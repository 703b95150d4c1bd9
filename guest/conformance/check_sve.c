/* SPDX-License-Identifier: Apache-2.0 */
/* SVE at EL1 (Arm ARM "The Scalable Vector Extension"): the ID registers, the vector length
 * ZCR_EL1 selects (RDVL), and the whole register state (Z0-Z31, P0-P15, FFR) surviving what makes
 * a hypervisor take the CPU: MMIO to the GIC, PSCI calls, SGIs and timer interrupts taken, WFI. */
#include <string.h>

#include "conf.h"

#define VL_MAX 256u
#define REGS_BYTES(vl) (32u * (vl) + 17u * ((vl) / 8u))

u64 conf_sve_vl(void);
void conf_sve_store(u8 *buf);
void conf_sve_load(const u8 *buf);

static u8 want[REGS_BYTES(VL_MAX)] __attribute__((aligned(16)));
static u8 got[REGS_BYTES(VL_MAX)] __attribute__((aligned(16)));

static void set_zcr(u64 len)
{
	SYSREG_WRITE("S3_0_C1_C2_0", len); /* ZCR_EL1 */
	isb();
}

void check_sve(void)
{
	u64 pfr0 = SYSREG_READ("id_aa64pfr0_el1"), cpacr;
	u32 sve = (pfr0 >> 32) & 0xf, vl, vl_min, bad = 0, first = 0;
	volatile u32 *sgis = &irqlog[0].count[1];

	if (!sve) {
		report("sve.vector_length", V_SKIP, "no SVE");
		report("sve.state_across_exits", V_SKIP, "no SVE");
		return;
	}
	cpacr = SYSREG_READ("cpacr_el1");
	SYSREG_WRITE("cpacr_el1", cpacr | (3u << 16)); /* ZEN: no SVE traps at EL1/EL0 */
	isb();
	set_zcr(0);
	vl_min = (u32)conf_sve_vl();
	set_zcr(0xf);
	vl = (u32)conf_sve_vl();
	report("sve.vector_length",
	       pass_if(vl_min == 16 && vl >= 16 && vl <= VL_MAX && vl % 16 == 0),
	       "RDVL %u bytes at ZCR_EL1.LEN 0, %u at 15", vl_min, vl);
	if (vl < 16 || vl > VL_MAX || vl % 16) {
		report("sve.state_across_exits", V_FAIL, "vector length %u", vl);
		return;
	}
	for (u32 i = 0; i < REGS_BYTES(vl); i++)
		want[i] = (u8)(i * 37u + 11u);
	/* FFR: a monotonic predicate (the first elements true), what WRFFR is defined for. */
	for (u32 i = 0; i < vl / 8; i++)
		want[32u * vl + 16u * (vl / 8) + i] = i < vl / 16 ? 0xff : 0;
	irq_log_clear(0);
	gic_clear(0, 1);
	gic_set_prio(0, 1, 0x80);
	gic_enable(0, 1, true);
	gic_clear(0, INTID_VTIMER);
	gic_set_prio(0, INTID_VTIMER, 0x80);
	gic_enable(0, INTID_VTIMER, true);
	conf_sve_load(want);
	/* From here to the store, only code that leaves SVE registers alone: general-purpose
	 * registers only (the guest is built -mgeneral-regs-only), no library calls. */
	for (u32 i = 0; i < 20; i++) {
		(void)mmio_read32(GICD_BASE + GICD_CTLR);
		(void)psci_call(0x84000000u, 0, 0, 0);
		irq_unmask();
		send_sgi(sgi1r_value(1, 1, false));
		SYSREG_WRITE("cntv_tval_el0", ms_to_ticks(1));
		SYSREG_WRITE("cntv_ctl_el0", 1);
		isb();
		wfi_flag(&irqlog[0].count[INTID_VTIMER], 100);
		irqlog[0].count[INTID_VTIMER] = 0;
		irq_mask();
	}
	conf_sve_store(got);
	SYSREG_WRITE("cntv_ctl_el0", 0);
	gic_clear(0, INTID_VTIMER);
	gic_clear(0, 1);
	for (u32 i = 0; i < REGS_BYTES(vl); i++)
		if (got[i] != want[i] && !bad++)
			first = i;
	SYSREG_WRITE("cpacr_el1", cpacr);
	isb();
	report("sve.state_across_exits", pass_if(!bad && *sgis == 20),
	       "%u of %u bytes of Z/P/FFR differ (first at %u), %u SGIs taken", bad, REGS_BYTES(vl),
	       first, *sgis);
}
