/* SPDX-License-Identifier: Apache-2.0 */
/* hostile's attacks through the CPU's own state: trapped and hidden system registers, SIMD
 * registers across an injected abort, and a stage-2 fault from AArch32 EL0. */
#include <string.h>

#include "hostile.h"

/* ---- system registers: trapped, hidden, odd values ---- */
#define MRS_CAUGHT(reg, out)                                              \
	({                                                                \
		u64 v_ = 0x5a5a;                                          \
		catch_on();                                               \
		__asm__ volatile("mrs %0, " reg : "+r"(v_) : : "memory"); \
		(out) = v_;                                               \
		catch_off();                                              \
	})
#define MSR_CAUGHT(reg, val)                                                        \
	({                                                                          \
		catch_on();                                                         \
		__asm__ volatile("msr " reg ", %0" : : "r"((u64)(val)) : "memory"); \
		catch_off();                                                        \
	})

static bool undef(u64 n) { return n == 1 && ec_of(guest_catch.esr) == EC_UNKNOWN; }

void atk_sysregs(void)
{
	u64 v, n, w;

	/* Implementation-defined registers (CRn 11 and 15): with TIDCP they trap and ferry makes
	 * them undefined. QEMU 7.2 ignores TIDCP for the Cortex-A registers its "max" CPU models
	 * (CPUACTLR_EL1 at S3_1_C15_C2_0 reads there, RAZ/WI); the unmodelled ones are undefined. */
	n = MRS_CAUGHT("S3_0_C15_C0_0", v);
	w = MSR_CAUGHT("S3_0_C11_C0_0", 1);
	NOTE("impdef S3_0_C15_C0_0 read: %llu exception(s) ESR 0x%llx; S3_0_C11_C0_0 write: %llu",
	     (unsigned long long)n, (unsigned long long)guest_catch.esr, (unsigned long long)w);
	report("impdef registers (TIDCP)", undef(n) && w == 1);
	w = MSR_CAUGHT("actlr_el1", ~0ULL);
	n = MRS_CAUGHT("actlr_el1", v);
	NOTE("ACTLR_EL1 after writing all ones: 0x%llx, exceptions %llu", (unsigned long long)v,
	     (unsigned long long)(n + w));
	report("ACTLR_EL1 (TACR)", n == 0 && w == 0 && v == 0);
	n = MRS_CAUGHT("S3_0_C10_C4_7", v);          /* LORID_EL1 */
	w = MSR_CAUGHT("S3_0_C10_C4_0", 0x40000000); /* LORSA_EL1 */
	NOTE("LORID_EL1: %llu exception(s) ESR 0x%llx; LORSA_EL1 write %llu", (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)w);
	report("LORegions (TLOR)", n == 1 && w == 1);
	n = MRS_CAUGHT("S3_0_C5_C3_0", v); /* ERRIDR_EL1 */
	NOTE("ERRIDR_EL1 = 0x%llx, %llu exception(s)", (unsigned long long)v,
	     (unsigned long long)n);
	report("RAS error records (TERR)", (n == 0 && v == 0) || undef(n));
	n = MRS_CAUGHT("S3_3_C13_C2_1", v); /* AMCNTENSET0_EL0 */
	NOTE("AMCNTENSET0_EL0: %llu exception(s) ESR 0x%llx", (unsigned long long)n,
	     (unsigned long long)guest_catch.esr);
	report("activity monitors (TAM)", undef(n));
	n = MRS_CAUGHT("S2_1_C0_C1_0", v); /* TRCPRGCTLR */
	NOTE("TRCPRGCTLR: %llu exception(s) ESR 0x%llx", (unsigned long long)n,
	     (unsigned long long)guest_catch.esr);
	report("trace registers (TTA)", undef(n));
	u64 cpacr, sve_shown;

	/* CPACR_EL1.ZEN on, so the SVE instruction gets past EL1's own trap to ferry's (CPTR_EL2.TZ).
	 * Where ferry shows SVE (ID_AA64PFR0_EL1.SVE) the guest owns it and RDVL must just work;
	 * where it does not, RDVL must be undefined, as on a CPU without SVE. */
	__asm__ volatile("mrs %0, id_aa64pfr0_el1" : "=r"(sve_shown));
	sve_shown = (sve_shown >> 32) & 0xf;
	__asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
	__asm__ volatile("msr cpacr_el1, %0; isb" : : "r"(cpacr | (3ULL << 16)));
	catch_on();
	register u64 vl __asm__("x0") = 0;
	__asm__ volatile(".inst 0x04bf5020" : "+r"(vl) : : "memory"); /* RDVL X0, #1 */
	/* x0 holds VL only until the next call (catch_off, if not inlined, returns in x0). */
	u64 vl_bytes = vl;

	n = catch_off();
	__asm__ volatile("msr cpacr_el1, %0; isb" : : "r"(cpacr));
	NOTE("SVE shown %llu; RDVL: %llu exception(s) ESR 0x%llx, VL %llu bytes",
	     (unsigned long long)sve_shown, (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)vl_bytes);
	if (sve_shown)
		report("SVE instruction (the guest's)",
		       n == 0 && vl_bytes >= 16 && vl_bytes <= 256 && !(vl_bytes % 16));
	else
		report("SVE instruction", undef(n));
	/* The PMU, where the CPU has a PMUv3, is the guest's (ID_AA64DFR0_EL1.PMUVer says so):
	 * its registers do not trap, and PMCR_EL0.N shows only the counters below MDCR_EL2.HPMN,
	 * never more than the CPU has. Without one they read as zero and ignore writes. */
	u64 dfr0, pmcr0;

	n = MRS_CAUGHT("id_aa64dfr0_el1", dfr0);
	n += MRS_CAUGHT("pmcr_el0", pmcr0);
	w = MSR_CAUGHT("pmcr_el0", ~0ULL);
	n += MRS_CAUGHT("pmcr_el0", v);
	__asm__ volatile("msr pmcr_el0, xzr; isb");
	NOTE("PMUVer %llu, PMCR_EL0 0x%llx, after writing all ones 0x%llx",
	     (unsigned long long)((dfr0 >> 8) & 0xf), (unsigned long long)pmcr0,
	     (unsigned long long)v);
	if (((dfr0 >> 8) & 0xf) == 0)
		report("PMU registers (TPM)", n == 0 && w == 0 && v == 0);
	else
		report("PMU registers (HPMN)",
		       n == 0 && w == 0 && ((v >> 11) & 0x1f) == ((pmcr0 >> 11) & 0x1f) &&
			       ((pmcr0 >> 11) & 0x1f) <= 31);
	u64 pfr0, mmfr1, zfr0;

	n = MRS_CAUGHT("id_aa64pfr0_el1", pfr0) + MRS_CAUGHT("id_aa64mmfr1_el1", mmfr1) +
	    MRS_CAUGHT("S3_0_C0_C4_4", zfr0);
	NOTE("ID_AA64PFR0 0x%llx ID_AA64MMFR1 0x%llx ID_AA64ZFR0 0x%llx", (unsigned long long)pfr0,
	     (unsigned long long)mmfr1, (unsigned long long)zfr0);
	/* SVE's features (ZFR0) are shown exactly when SVE is. */
	report("ID registers hide", n == 0 && (pfr0 & 0xff) == 0x11 && ((mmfr1 >> 16) & 0xf) == 0 &&
					    (((pfr0 >> 32) & 0xf) != 0 || zfr0 == 0));
	/* Odd values in EL1 registers ferry never switches: they stay this VM's business. */
	u64 kctl;

	n = MSR_CAUGHT("cntkctl_el1", ~0ULL) + MSR_CAUGHT("S2_0_C1_C0_4", 1) /* OSLAR_EL1 */ +
	    MSR_CAUGHT("contextidr_el1", ~0ULL) + MSR_CAUGHT("tpidr_el0", ~0ULL) +
	    MSR_CAUGHT("S2_0_C1_C0_4", 0);
	__asm__ volatile("mrs %0, cntkctl_el1" : "=r"(kctl));
	__asm__ volatile("msr cntkctl_el1, %0; msr contextidr_el1, xzr" : : "r"(0ULL));
	NOTE("CNTKCTL_EL1 reads 0x%llx after all ones; %llu exceptions", (unsigned long long)kctl,
	     (unsigned long long)n);
	report("odd EL1 register values", n == 0 && kctl != 0);
}

/* ---- SIMD registers across an injected abort: ferry formats its message without them ---- */
void atk_simd(void)
{
	static u64 out[66];
	u64 seed = 0x1234567800000000ULL, bad = 0;

	catch_on();
	hostile_simd_abort(seed, 0x48000000, out);
	catch_off();
	for (u64 i = 0; i < 32; i++)
		if (out[2 * i] != seed + 2 * i || out[2 * i + 1] != ~(seed + 2 * i))
			bad++;
	NOTE("%llu exception(s); %llu of 32 SIMD registers changed; FPSR 0x%llx",
	     (unsigned long long)guest_catch.count, (unsigned long long)bad,
	     (unsigned long long)out[64]);
	report("SIMD across injected abort",
	       guest_catch.count == 1 && bad == 0 && out[64] == 0x8000000);
}

/* ---- AArch32 EL0 (hidden in the ID registers, but the CPU runs it): a stage-2 fault taken from
 * there reaches ferry through its AArch32 vectors ---- */
static u64 a32_l1[512] __attribute__((aligned(4096)));
static const u32 a32_code[2]
	__attribute__((aligned(8))) = { 0xe5910000, 0xef000000 }; /* ldr r0,[r1]; svc 0 */
extern const u64 guest_idmap_l1[512];

void atk_aarch32(void)
{
	u64 ttbr, pc, n;

	memcpy(a32_l1, guest_idmap_l1, sizeof(a32_l1));
	/* VA 0x80000000: IPA 0x80000000 (outside RAM), EL0 read/write, never executable. */
	a32_l1[2] = 0x80000000ULL | 1 | (1 << 2) | (1 << 6) | (3 << 8) | (1 << 10) | (3ULL << 53);
	/* VA 0xc0000000: an alias of the RAM GiB, read-only, executable at EL0 only. */
	a32_l1[3] = 0x40000000ULL | 1 | (1 << 2) | (3 << 6) | (3 << 8) | (1 << 10) | (1ULL << 53);
	__asm__ volatile(
		"dsb ish; mrs %0, ttbr0_el1; msr ttbr0_el1, %1; isb; tlbi vmalle1; dsb nsh; isb"
		: "=&r"(ttbr)
		: "r"((u64)(uintptr_t)a32_l1)
		: "memory");
	pc = 0xc0000000ULL + ((u64)(uintptr_t)a32_code - 0x40000000ULL);
	catch_on();
	hostile_a32_run(pc, 0x80000000ULL);
	n = catch_off();
	__asm__ volatile("msr ttbr0_el1, %0; isb; tlbi vmalle1; dsb nsh; isb"
			 :
			 : "r"(ttbr)
			 : "memory");
	NOTE("%llu exception(s) at vector %llu, ESR 0x%llx FAR 0x%llx ELR 0x%llx",
	     (unsigned long long)n, (unsigned long long)guest_catch.vector,
	     (unsigned long long)guest_catch.esr, (unsigned long long)guest_catch.far,
	     (unsigned long long)guest_catch.elr);
	report("AArch32 EL0 stage-2 fault",
	       n == 1 && guest_catch.vector == 12 && ec_of(guest_catch.esr) == EC_DABT_LOW &&
		       fsc_of(guest_catch.esr) == FSC_SEA && guest_catch.elr == pc);
}
