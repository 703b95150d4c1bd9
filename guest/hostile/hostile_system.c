/* SPDX-License-Identifier: Apache-2.0 */
/* hostile's attacks on the calls into ferry: PSCI with bad targets, entry points and races,
 * unknown SMC/HVC calls, storms of traps, and ferry's own hypercall with wrapping ranges. */
#include "hostile.h"

/* ---- PSCI ---- */
static volatile u64 sec_starts, sec_off_returned, sec_mode;

void guest_secondary(u64 cpu)
{
	(void)cpu;
	__atomic_fetch_add(&sec_starts, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		/* CPU_OFF does not return on success: if it does, the vCPU was resumed after it. */
		hc(PSCI_CPU_OFF, 0, 0, 0);
		__atomic_fetch_add(&sec_off_returned, 1, __ATOMIC_SEQ_CST);
	}
}

void atk_psci(void)
{
	u64 entry = (u64)(uintptr_t)guest_secondary_entry, mp1 = plat.cpu_mpidr[1];
	u64 end = plat.ram_base + plat.ram_size;
	s64 r[6];

	r[0] = psci_cpu_on(0xff00ff00ffULL, 1);
	NOTE("CPU_ON(0xff00ff00ff) = %lld", (long long)r[0]);
	report("CPU_ON absent target", r[0] == RET_INVALID_PARAMETERS);
	r[0] = hc(PSCI_CPU_ON_64, mp1, 0, 1);
	r[1] = hc(PSCI_CPU_ON_64, mp1, end, 1);
	r[2] = hc(PSCI_CPU_ON_64, mp1, entry + 2, 1);
	r[3] = hc(PSCI_CPU_ON_64, mp1, ~3ULL, 1);
	r[4] = hc(PSCI_CPU_ON_64, mp1, plat.ram_base - 4, 1);
	NOTE("entries 0, RAM end, +2, 2^64-4, base-4: %lld %lld %lld %lld %lld", (long long)r[0],
	     (long long)r[1], (long long)r[2], (long long)r[3], (long long)r[4]);
	report("CPU_ON bad entry points",
	       r[0] == RET_INVALID_ADDRESS && r[1] == RET_INVALID_ADDRESS &&
		       r[2] == RET_INVALID_ADDRESS && r[3] == RET_INVALID_ADDRESS &&
		       r[4] == RET_INVALID_ADDRESS);
	r[0] = psci_cpu_on(plat.cpu_mpidr[0], 0);
	NOTE("CPU_ON(self) = %lld", (long long)r[0]);
	report("CPU_ON self", r[0] == RET_ALREADY_ON);
	r[0] = hc(PSCI_AFFINITY_INFO_64, 5, 0, 0);
	r[1] = hc(PSCI_AFFINITY_INFO_64, plat.cpu_mpidr[0], 3, 0);
	/* A 32-bit call ignores the upper halves of its arguments (SMCCC): target 0 is on. */
	r[2] = hc(PSCI_AFFINITY_INFO_32, 0xdeadbeef00000000ULL | plat.cpu_mpidr[0], 0, 0);
	r[3] = hc(PSCI_FEATURES, 0xc400ffffULL, 0, 0);
	NOTE("AFFINITY_INFO(5) %lld, level 3 %lld, 32-bit garbage %lld; FEATURES(unknown) %lld",
	     (long long)r[0], (long long)r[1], (long long)r[2], (long long)r[3]);
	report("AFFINITY_INFO, FEATURES", r[0] == RET_INVALID_PARAMETERS &&
						  r[1] == RET_INVALID_PARAMETERS && r[2] == 0 &&
						  r[3] == RET_NOT_SUPPORTED);

	/* CPU_ON raced against the target's own CPU_OFF, hundreds of times: the target must start
	 * from its entry point each time, never resume after its CPU_OFF. */
	u64 ons = 0, tries = 0, t0 = cnt_ticks(), limit = cnt_freq() * 20;

	while (ons < 300 && cnt_ticks() - t0 < limit) {
		s64 ret = psci_cpu_on(mp1, 1);

		tries++;
		if (ret == 0)
			ons++;
		else if (ret != RET_ALREADY_ON && ret != RET_ON_PENDING)
			break;
	}
	/* Let the last one reach its CPU_OFF. */
	for (u64 t = cnt_ticks(); cnt_ticks() - t < cnt_freq() / 10;)
		cpu_relax();
	NOTE("%llu CPU_ONs succeeded in %llu tries; vCPU 1 started %llu times, CPU_OFF returned %llu "
	     "times",
	     (unsigned long long)ons, (unsigned long long)tries, (unsigned long long)sec_starts,
	     (unsigned long long)sec_off_returned);
	report("CPU_OFF raced by CPU_ON", ons == 300 && sec_off_returned == 0 && sec_starts == ons);
}

/* ---- unknown SMC/HVC function IDs and immediates ---- */
void atk_smccc(void)
{
	static const u64 fids[] = { 0xc2000000, 0x82000001, 0xbf00ff00, 0xc6000002, 0x8400ffff,
				    0xffffffff, 0x84000012, 0xc400000e, 0x0 };
	u64 bad = 0;

	for (u32 i = 0; i < sizeof(fids) / sizeof(fids[0]); i++) {
		if (CALL("smc #0", fids[i], 1, 2, 3) != RET_NOT_SUPPORTED)
			bad++;
		if (CALL("hvc #0", fids[i], 1, 2, 3) != RET_NOT_SUPPORTED)
			bad++;
	}
	NOTE("%u function IDs by SMC and HVC: %llu answers other than NOT_SUPPORTED",
	     (unsigned)(sizeof(fids) / sizeof(fids[0])), (unsigned long long)bad);
	report("unknown function IDs", bad == 0);
	s64 a = CALL("smc #1", 0x84000000ULL, 0, 0, 0),
	    b = CALL("hvc #0x1234", 0x84000000ULL, 0, 0, 0);
	s64 c = CALL("hvc #0xffff", HC_DIRTY_ROUND, 0, 0, 0),
	    d = CALL("smc #0xffff", 0x84000008ULL, 0, 0, 0);

	NOTE("PSCI_VERSION by SMC #1 %lld, HVC #0x1234 %lld; ferry's call by HVC #0xffff %lld; "
	     "SYSTEM_OFF by SMC #0xffff %lld",
	     (long long)a, (long long)b, (long long)c, (long long)d);
	report("SMC/HVC immediates", a == RET_NOT_SUPPORTED && b == RET_NOT_SUPPORTED &&
					     c == RET_NOT_SUPPORTED && d == RET_NOT_SUPPORTED);
}

/* ---- storms: each must finish, and only this VM's CPU pays for it ---- */
void atk_storms(void)
{
	u64 t0 = cnt_ticks(), n;

	catch_on();
	for (u64 level = 0; level < 2; level++)
		for (u64 set = 0; set < 512; set++)
			for (u64 way = 0; way < 8; way++) {
				u64 v = (way << 29) | (set << 6) | (level << 1);

				__asm__ volatile("dc isw, %0" : : "r"(v) : "memory");
				__asm__ volatile("dc cisw, %0" : : "r"(v) : "memory");
				__asm__ volatile("dc csw, %0" : : "r"(v) : "memory");
			}
	n = catch_off();
	NOTE("24576 set/way operations in %llu ms, %llu exceptions",
	     (unsigned long long)((cnt_ticks() - t0) * 1000 / cnt_freq()), (unsigned long long)n);
	report("set/way storm", n == 0);
	t0 = cnt_ticks();
	for (u64 i = 0; i < 20000; i++) {
		__asm__ volatile("tlbi vmalle1is" ::: "memory");
		__asm__ volatile("tlbi vae1is, %0" : : "r"(i) : "memory");
		__asm__ volatile("tlbi aside1is, %0" : : "r"(i << 48) : "memory");
	}
	__asm__ volatile("dsb ish; isb" ::: "memory");
	NOTE("60000 broadcast TLBIs in %llu ms",
	     (unsigned long long)((cnt_ticks() - t0) * 1000 / cnt_freq()));
	report("TLBI storm", true);
	t0 = cnt_ticks();
	for (u64 i = 0; i < 20000; i++)
		__asm__ volatile("wfi" ::: "memory");
	NOTE("20000 WFIs with no interrupt enabled in %llu ms",
	     (unsigned long long)((cnt_ticks() - t0) * 1000 / cnt_freq()));
	report("WFI storm", cnt_ticks() - t0 < 30 * cnt_freq());
	t0 = cnt_ticks();
	for (u64 i = 0; i < 20000; i++)
		__asm__ volatile("sev; wfe" ::: "memory");
	NOTE("20000 SEV+WFE in %llu ms",
	     (unsigned long long)((cnt_ticks() - t0) * 1000 / cnt_freq()));
	report("WFE storm", cnt_ticks() - t0 < 30 * cnt_freq());
	/* The virtual timer firing all the time while the guest masks interrupts. */
	u64 ctl;

	__asm__ volatile("msr cntv_cval_el0, xzr; msr cntv_ctl_el0, %0; isb" : : "r"(1ULL));
	t0 = cnt_ticks();
	for (u64 i = 0; cnt_ticks() - t0 < cnt_freq() / 5; i++)
		cpu_relax();
	__asm__ volatile("mrs %0, cntv_ctl_el0" : "=r"(ctl));
	__asm__ volatile("msr cntv_ctl_el0, xzr; isb");
	NOTE("200 ms with the virtual timer pending and masked: CNTV_CTL 0x%llx",
	     (unsigned long long)ctl);
	report("timer storm, masked", (ctl & 5) == 5);
}

/* ---- ferry's own hypercall: the written-page bitmap range is checked without overflow ---- */
void atk_hypercall(void)
{
	u64 pages = plat.ram_size / GUEST_PAGE, end = plat.ram_base + plat.ram_size;
	u64 map = plat.ram_base + plat.ram_size / 2, t0 = cnt_ticks();
	s64 r0 = hc(HC_DIRTY_ROUND, 0, map, 64), r[8];

	NOTE("before dirty logging: %lld", (long long)r0);
	report("hypercall, logging off", r0 == RET_NOT_SUPPORTED);
	con_printf("waiting for dirty logging (dirtylog hostile start)");
	while (hc(HC_DIRTY_ROUND, 0, map, 64) == RET_NOT_SUPPORTED &&
	       cnt_ticks() - t0 < 120 * cnt_freq())
		for (u64 t = cnt_ticks(); cnt_ticks() - t < cnt_freq() / 50;)
			cpu_relax();
	r[0] = hc(HC_DIRTY_ROUND, 1, 0xfffffffffffffff8ULL, 64);    /* end wraps to 0 */
	r[1] = hc(HC_DIRTY_ROUND, 1, 0xffffffffffffff00ULL, pages); /* wraps into RAM */
	r[2] = hc(HC_DIRTY_ROUND, 1, plat.ram_base + 4, 64);        /* unaligned */
	r[3] = hc(HC_DIRTY_ROUND, 1, plat.ram_base, ~0ULL);         /* huge */
	r[4] = hc(HC_DIRTY_ROUND, 1, plat.ram_base, pages + 1);     /* one bit too many */
	r[5] = hc(HC_DIRTY_ROUND, 1, end - 8, 65);                  /* one word past RAM */
	r[6] = hc(HC_DIRTY_ROUND, 1, plat.ram_base - 8, 64);        /* one word below RAM */
	r[7] = hc(HC_DIRTY_ROUND, 1, end - 8, 64);                  /* the last word: accepted */
	NOTE("wrap %lld, wrap into RAM %lld, unaligned %lld, huge %lld, too many bits %lld, past "
	     "end %lld, below %lld, last word %lld",
	     (long long)r[0], (long long)r[1], (long long)r[2], (long long)r[3], (long long)r[4],
	     (long long)r[5], (long long)r[6], (long long)r[7]);
	bool ok = r[7] >= 0;

	for (int i = 0; i < 7; i++)
		ok = ok && r[i] == RET_INVALID_PARAMETERS;
	report("hypercall bitmap ranges", ok);
}
