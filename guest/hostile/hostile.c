/* SPDX-License-Identifier: Apache-2.0 */
/* hostile: a bare-metal EL1 guest that attacks the hypervisor it runs on, from inside a VM: memory
 * outside its RAM, accesses MMIO emulation cannot describe, every width and misalignment on the
 * emulated devices, huge INTIDs and odd SGIs, PSCI with bad targets, entry points and races, reset
 * loops, unknown SMC/HVC calls, ferry's own hypercall with wrapping ranges, maintenance and WFI/WFE
 * storms, trapped and hidden system registers, AArch32 EL0, SIMD state across an injected abort, a
 * console flood with control bytes. Each attack checks its own expected outcome (an error code, an
 * exception the guest takes and recognizes, a value) and prints one PASS/FAIL line; the system test
 * (tests/system/test_hostile.py) checks what only the outside can see: ferry never panics, another VM
 * verifies clean, the shell answers. docs/isolation.md tables the attacks and their outcomes.
 *
 * Bootargs: `fatal=1` runs only the last attack, which must stop this VM (ferry prints its
 * registers); `resets=N` (default 8) SYSTEM_RESET loops before the attacks; `groups=MASK` runs only
 * some groups of attacks (bits in the order of guest_main's calls: 0x1 memory ... 0x1000 the
 * hypercall), to show one fix at a time against an older ferry. */
#include <stdio.h>
#include <string.h>

#include "guest.h"

#define HC_DIRTY_ROUND 0xc6000001ULL
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_32 0x84000003u
#define PSCI_AFFINITY_INFO_32 0x84000004u
#define PSCI_AFFINITY_INFO_64 0xc4000004u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au
#define RET_NOT_SUPPORTED (-1)
#define RET_INVALID_PARAMETERS (-2)
#define RET_ALREADY_ON (-4)
#define RET_ON_PENDING (-5)
#define RET_INVALID_ADDRESS (-9)

#define GICD 0x08000000ULL
#define GICR 0x080a0000ULL
#define GICR_STRIDE 0x20000ULL
#define EC_UNKNOWN 0x00
#define EC_IABT_CUR 0x21
#define EC_DABT_LOW 0x24
#define EC_DABT_CUR 0x25
#define FSC_SEA 0x10
#define FSC_ALIGN 0x21

/* The persistent record of the reset loop: RAM ferry does not reload on a reset (above the image,
 * below the DTB). */
#define RESET_MAGIC 0x686f7374696c6521ULL
struct reset_record {
	u64 magic, resets;
};

static struct guest_platform plat;
static u64 uart;
static u64 passed, failed, number;
static u64 opt_resets = 8, opt_fatal, opt_groups = ~0ULL;

void hostile_simd_abort(u64 seed, u64 addr, u64 *out);
u64 hostile_a32_run(u64 pc, u64 r1);
void hostile_call_mmu_off(u64 target);

void guest_fatal(void)
{
	con_printf("FAIL: unexpected exception (attacks so far: %llu passed, %llu failed)",
		   (unsigned long long)passed, (unsigned long long)failed);
	psci_system_off();
}

/* ---- catching the exceptions an attack provokes ---- */
static void catch_on(void)
{
	guest_catch.esr = guest_catch.far = guest_catch.count = guest_catch.elr = 0;
	guest_catch.vector = ~0ULL;
	__atomic_store_n(&guest_catch.armed, 1, __ATOMIC_SEQ_CST);
}

static u64 catch_off(void)
{
	__atomic_store_n(&guest_catch.armed, 0, __ATOMIC_SEQ_CST);
	return guest_catch.count;
}

static u64 ec_of(u64 esr) { return (esr >> 26) & 0x3f; }
static u64 fsc_of(u64 esr) { return esr & 0x3f; }

static u64 rd64(u64 addr)
{
	u64 v = 0xbadbadbadULL;

	__asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(addr) : "memory");
	return v;
}

static void wr32(u64 addr, u32 v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}
static u32 rd32(u64 addr)
{
	u32 v = 0xbad;

	__asm__ volatile("ldr %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
	return v;
}

/* One access of `size` bytes at addr (a read, or a write of zero). */
static void access(u64 addr, u32 size, bool write)
{
	u64 v = 0;

	switch (size * 2 + write) {
	case 2:
		__asm__ volatile("ldrb %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 3:
		__asm__ volatile("strb wzr, [%0]" : : "r"(addr) : "memory");
		break;
	case 4:
		__asm__ volatile("ldrh %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 5:
		__asm__ volatile("strh wzr, [%0]" : : "r"(addr) : "memory");
		break;
	case 8:
		__asm__ volatile("ldr %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 9:
		__asm__ volatile("str wzr, [%0]" : : "r"(addr) : "memory");
		break;
	case 16:
		__asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(addr) : "memory");
		break;
	case 17:
		__asm__ volatile("str xzr, [%0]" : : "r"(addr) : "memory");
		break;
	default:
		break;
	}
}

/* An SMCCC call with a chosen conduit and immediate (imm is part of the instruction). */
#define CALL(insn, fid, a1, a2, a3)                                                               \
	({                                                                                        \
		register u64 x0_ __asm__("x0") = (fid);                                           \
		register u64 x1_ __asm__("x1") = (a1);                                            \
		register u64 x2_ __asm__("x2") = (a2);                                            \
		register u64 x3_ __asm__("x3") = (a3);                                            \
		__asm__ volatile(insn : "+r"(x0_), "+r"(x1_), "+r"(x2_), "+r"(x3_) : : "memory"); \
		(s64) x0_;                                                                        \
	})

static s64 hc(u64 fid, u64 a1, u64 a2, u64 a3) { return psci_call(fid, a1, a2, a3); }

/* ---- reporting ---- */
static char detail[200];

static void report(const char *name, bool ok)
{
	number++;
	if (ok)
		passed++;
	else
		failed++;
	con_printf("attack %02llu %-26s %s %s", (unsigned long long)number, name,
		   ok ? "PASS" : "FAIL", detail);
	detail[0] = 0;
}

#define NOTE(...) snprintf(detail, sizeof(detail), __VA_ARGS__)

/* ---- memory outside the VM's RAM: an external abort is injected (on-abort = "inject") ---- */
static bool sea_at(u64 addr, bool write)
{
	u64 n;

	catch_on();
	if (write)
		access(addr, 8, true);
	else
		(void)rd64(addr);
	n = catch_off();
	NOTE("0x%llx: %llu exception(s), ESR 0x%llx FAR 0x%llx", (unsigned long long)addr,
	     (unsigned long long)n, (unsigned long long)guest_catch.esr,
	     (unsigned long long)guest_catch.far);
	return n == 1 && ec_of(guest_catch.esr) == EC_DABT_CUR &&
	       fsc_of(guest_catch.esr) == FSC_SEA && guest_catch.far == addr;
}

static void wr64(u64 addr, u64 v)
{
	__asm__ volatile("str %0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

#define ITS 0x08080000ULL
static u64 its_queue[512] __attribute__((aligned(4096)));

/* The ITS is ferry's model (docs/vgic.md "LPIs and the ITS"): whatever addresses it is given, it
 * reaches only this VM's RAM. A command queue just past the end of RAM stalls it
 * (GITS_CREADR.Stalled); with the queue in RAM, a device table at the top of the IPA space and an
 * ITT just past RAM make MAPD/MAPTI/INT skipped commands: the queue goes on, nothing faults, and
 * the memstress VM beside keeps verifying. */
static bool its_outside_ram(u64 end)
{
	u64 n, stalled, creadr;

	catch_on();
	wr32(ITS, 0);
	wr64(ITS + 0x80, 1ULL << 63 | end);
	wr32(ITS, 1);
	wr64(ITS + 0x88, 0x20);
	stalled = rd64(ITS + 0x90);
	wr32(ITS, 0);
	wr64(ITS + 0x100, 1ULL << 63 | (((1ULL << 39) - 0x10000) & ~0xffffULL) | 2ULL << 8);
	wr64(ITS + 0x80, 1ULL << 63 | (u64)(uintptr_t)its_queue);
	its_queue[0] = 0x08; /* MAPD device 0, ITT past RAM */
	its_queue[1] = 4;
	its_queue[2] = 1ULL << 63 | end;
	its_queue[4] = 0x0a | 5ULL << 32; /* MAPTI device 5 (table outside RAM) */
	its_queue[5] = 8192ULL << 32;
	its_queue[8] = 0x03; /* INT device 0 event 0 */
	__asm__ volatile("dsb sy" ::: "memory");
	wr32(ITS, 1);
	wr64(ITS + 0x88, 0x60);
	creadr = rd64(ITS + 0x90);
	wr32(ITS, 0);
	n = catch_off();
	NOTE("queue past RAM: GITS_CREADR 0x%llx; tables outside RAM: 0x%llx; %llu exception(s)",
	     (unsigned long long)stalled, (unsigned long long)creadr, (unsigned long long)n);
	return n == 0 && stalled == 1 && creadr == 0x60;
}

static void atk_memory(void)
{
	u64 end = plat.ram_base + plat.ram_size, n;
	bool ok = true;

	report("read below RAM", sea_at(plat.ram_base - 8, false));
	report("write just past RAM", sea_at(end, true));
	/* Where ferry places other VMs' RAM (physical addresses above its own 64 MiB), as IPAs. */
	for (u64 a = 0x44000000; a < 0x54000000 && ok; a += 0x4000000)
		if (a < plat.ram_base || a >= end)
			ok = sea_at(a + 0x1000, false);
	report("other VMs' PA range as IPA", ok);
	report("top of the IPA space", sea_at((1ULL << 39) - 8, false));
	report("ITS tables outside its RAM", its_outside_ram(end));
	/* QEMU puts ferry's own NIC in the virtio-mmio window's last slot. A guest sees only the
	 * empty slots ferry emulates there: magic and version, device ID 0 (not 1, a network card),
	 * and its writes (here: the device status) go nowhere. */
	u32 magic, dev_id, status;

	catch_on();
	magic = rd32(0x0a003e00);
	dev_id = rd32(0x0a003e08);
	wr32(0x0a003e70, 0xff);
	status = rd32(0x0a003e70);
	n = catch_off();
	NOTE("slot 31: magic 0x%x device %u status 0x%x, %llu exception(s)", magic, dev_id, status,
	     (unsigned long long)n);
	report("ferry's virtio-mmio NIC",
	       n == 0 && magic == 0x74726976 && dev_id == 0 && status == 0);
	report("GICR of an absent vCPU", sea_at(GICR + 2 * GICR_STRIDE, false));
	/* 8 bytes at the PL011 window's last 4: the access does not lie in the window. */

	catch_on();
	access(uart + 0xffc, 8, false);
	n = catch_off();
	NOTE("8 bytes at 0x%llx: %llu exception(s), ESR 0x%llx", (unsigned long long)(uart + 0xffc),
	     (unsigned long long)n, (unsigned long long)guest_catch.esr);
	report("PL011 window straddled", n == 1 && ec_of(guest_catch.esr) == EC_DABT_CUR &&
						 (fsc_of(guest_catch.esr) == FSC_SEA ||
						  fsc_of(guest_catch.esr) == FSC_ALIGN));
}

static void atk_fetch(void)
{
	u64 n;

	catch_on();
	__asm__ volatile("blr %0" : : "r"(0x48000000ULL) : "x30", "memory");
	n = catch_off();
	NOTE("%llu exception(s), ESR 0x%llx ELR 0x%llx", (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)guest_catch.elr);
	report("fetch outside RAM", n == 1 && ec_of(guest_catch.esr) == EC_IABT_CUR &&
					    fsc_of(guest_catch.esr) == FSC_SEA &&
					    guest_catch.elr == 0x48000000);
	/* Stage 1 makes device memory execute-never: with the MMU off, the fetch reaches stage 2. */
	catch_on();
	hostile_call_mmu_off(uart);
	n = catch_off();
	NOTE("%llu exception(s), ESR 0x%llx ELR 0x%llx", (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)guest_catch.elr);
	report("fetch from the PL011", n == 1 && ec_of(guest_catch.esr) == EC_IABT_CUR &&
					       fsc_of(guest_catch.esr) == FSC_SEA &&
					       guest_catch.elr == uart);
}

/* ---- MMIO accesses with no syndrome (ISV = 0): nothing to emulate, an abort is injected ---- */
static bool no_syndrome(const char *what, u64 addr, int kind)
{
	u64 n, a = addr, x = 0, y = 0;

	catch_on();
	switch (kind) {
	case 0:
		__asm__ volatile("ldp %0, %1, [%2]" : "+r"(x), "+r"(y) : "r"(a) : "memory");
		break;
	case 1:
		__asm__ volatile("stp %0, %1, [%2]" : : "r"(x), "r"(y), "r"(a) : "memory");
		break;
	case 2:
		__asm__ volatile("ldr %w0, [%1], #4" : "+r"(x), "+r"(a) : : "memory");
		break;
	case 3:
		__asm__ volatile(".arch_extension lse\n\tldadd %w1, %w0, [%2]"
				 : "+r"(x)
				 : "r"(y), "r"(a)
				 : "memory");
		break;
	case 4:
		__asm__ volatile("dc zva, %0" : : "r"(a) : "memory");
		break;
	default:
		break;
	}
	n = catch_off();
	NOTE("%s: %llu exception(s), ESR 0x%llx (FSC 0x%llx)", what, (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)fsc_of(guest_catch.esr));
	/* LDP/STP/writeback/atomics reach stage 2 with no syndrome: ferry injects an external abort.
	 * DC ZVA to Device memory is the guest's own alignment fault (stage 1) or, where the CPU
	 * lets it through, the same injected abort. */
	return n == 1 && ec_of(guest_catch.esr) == EC_DABT_CUR &&
	       (fsc_of(guest_catch.esr) == FSC_SEA ||
		(kind >= 3 &&
		 (fsc_of(guest_catch.esr) == FSC_ALIGN || fsc_of(guest_catch.esr) == 0x35)));
}

static void atk_no_syndrome(void)
{
	report("LDP from the PL011", no_syndrome("ldp", uart, 0));
	report("STP to the GICD", no_syndrome("stp", GICD + 0x100, 1));
	report("post-index LDR, PL011", no_syndrome("ldr writeback", uart + 0x18, 2));
	report("LDADD on the GICD", no_syndrome("ldadd", GICD + 0x100, 3));
	report("DC ZVA on the PL011", no_syndrome("dc zva", uart, 4));
}

/* ---- every width and misalignment on an emulated device: aligned accesses are emulated (or
 * RAZ/WI), misaligned ones are the guest's own alignment faults on Device memory ---- */
static bool widths(const char *what, u64 base, u64 span)
{
	u64 misaligned = 0, faults = 0, bad = 0;

	for (u64 off = 0; off < span; off++)
		for (u32 size = 1; size <= 8; size *= 2)
			for (int write = 0; write < 2; write++) {
				bool mis = off & (size - 1);

				catch_on();
				access(base + off, size, write);
				if (catch_off()) {
					faults++;
					if (!mis || fsc_of(guest_catch.esr) != FSC_ALIGN)
						bad++;
				}
				misaligned += mis;
			}
	NOTE("%s: %llu misaligned accesses, %llu alignment faults, %llu other exceptions", what,
	     (unsigned long long)misaligned, (unsigned long long)faults, (unsigned long long)bad);
	/* A misaligned access to Device memory is the guest's own alignment fault on hardware;
	 * QEMU lets it through to stage 2, where ferry emulates it (RAZ/WI for the sizes and offsets
	 * the register does not take). Either way: no other exception, no stop. */
	return bad == 0 && (faults == 0 || faults == misaligned);
}

static void atk_widths(void)
{
	/* Registers whose writes of zero are harmless: GICD_IGROUPR1.. (SPIs), GICR_WAKER area is
	 * avoided (sleeping the redistributor), the PL011's ILPR/IBRD/FBRD. */
	report("widths on the GICD", widths("GICD 0x84", GICD + 0x84, 16));
	report("widths on the GICR", widths("GICR 0x10000+0x84", GICR + 0x10000 + 0x80, 16));
	report("widths on the PL011", widths("PL011 0x20", uart + 0x20, 16));
}

/* ---- the vGIC: INTIDs past what it has, odd SGIs ---- */
static void atk_gic(void)
{
	u32 typer = rd32(GICD + 0x4), lines = 32 * ((typer & 0x1f) + 1);
	u64 bad = 0;

	/* Set-enable, priority and routing of every INTID up to 1023, and 1024-1055 beyond. */
	for (u32 id = lines; id < 1024; id += 32)
		wr32(GICD + 0x100 + id / 8, ~0u);
	for (u32 id = lines; id < 1024; id += 4)
		wr32(GICD + 0x400 + id, ~0u);
	for (u32 id = lines; id < 1020; id++) {
		__asm__ volatile("str %0, [%1]"
				 :
				 : "r"(~0ULL), "r"(GICD + 0x6000 + 8ULL * id)
				 : "memory");
		if (rd64(GICD + 0x6000 + 8ULL * id))
			bad++;
	}
	for (u32 id = lines; id < 1024; id += 32)
		if (rd32(GICD + 0x100 + id / 8))
			bad++;
	NOTE("%u INTIDs implemented; %llu registers past them read non-zero", lines,
	     (unsigned long long)bad);
	report("INTIDs up to 1023", bad == 0);
	/* SGIs: IRM (all but self), every RS, absent Aff1-3, INTID 15, target lists of all ones. */
	catch_on();
	for (u64 rs = 0; rs < 16; rs++) {
		u64 v = (1ULL << 40) | (rs << 44) | (0xffULL << 48) | (0xffULL << 32) |
			(0xffULL << 16) | (15ULL << 24) | 0xffff;

		__asm__ volatile("msr S3_0_C12_C11_5, %0" : : "r"(v)); /* ICC_SGI1R_EL1 */
		__asm__ volatile("msr S3_0_C12_C11_6, %0" : : "r"(v & ~(1ULL << 40))); /* ASGI1R */
		__asm__ volatile("msr S3_0_C12_C11_7, %0" : : "r"(v));                 /* SGI0R */
	}
	NOTE("48 SGI register writes, %llu exceptions", (unsigned long long)guest_catch.count);
	report("SGIs: IRM, RS, absent aff", catch_off() == 0);
}

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

static void atk_psci(void)
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
static void atk_smccc(void)
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
static void atk_storms(void)
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

static void atk_sysregs(void)
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
	n = catch_off();
	__asm__ volatile("msr cpacr_el1, %0; isb" : : "r"(cpacr));
	NOTE("SVE shown %llu; RDVL: %llu exception(s) ESR 0x%llx, VL %llu bytes",
	     (unsigned long long)sve_shown, (unsigned long long)n,
	     (unsigned long long)guest_catch.esr, (unsigned long long)vl);
	if (sve_shown)
		report("SVE instruction (the guest's)",
		       n == 0 && vl >= 16 && vl <= 256 && !(vl % 16));
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
static void atk_simd(void)
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

static void atk_aarch32(void)
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

/* ---- the console: a flood with control bytes and a forged prefix ---- */
static void atk_console(void)
{
	for (int i = 0; i < 40; i++)
		con_printf(
			"flood %02d \x1b[2J\x1b]0;owned\x07\r[victim] memstress: FAIL forged\b\b\x1b[31m",
			i);
	NOTE("40 lines with ESC sequences, BEL, CR, BS and a forged [victim] prefix");
	report("console flood, escapes", true);
	/* Three times the burst ferry lets a VM print at once, faster than its rate: the rest is
	 * dropped and counted by ferry (the test checks its line). Then quiet for a second, so that
	 * the rate limit lets the next reports through. */
	u64 t0 = cnt_ticks();

	for (int i = 0; i < 1600; i++)
		con_printf(
			"rate %04d ......................................................................"
			"...................",
			i);
	NOTE("1600 lines of 120 bytes in %llu ms",
	     (unsigned long long)((cnt_ticks() - t0) * 1000 / cnt_freq()));
	for (t0 = cnt_ticks(); cnt_ticks() - t0 < cnt_freq();)
		cpu_relax();
	report("console rate limit", true);
}

/* ---- ferry's own hypercall: the written-page bitmap range is checked without overflow ---- */
static void atk_hypercall(void)
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

static void parse_args(void)
{
	u64 v;

	if (bootarg_u64(plat.bootargs, "resets", &v) == BOOTARG_SET)
		opt_resets = v;
	if (bootarg_u64(plat.bootargs, "fatal", &v) == BOOTARG_SET)
		opt_fatal = v;
	if (bootarg_u64(plat.bootargs, "groups", &v) == BOOTARG_SET)
		opt_groups = v;
}

/* The one attack that must stop this VM: an MMIO pair with no syndrome, under on-abort = "stop"
 * (the config of the VM that runs it). */
static void fatal_attack(void)
{
	u64 x = 0, y = 0;

	con_printf("fatal: LDP from the PL011 under on-abort = stop: this VM must stop here");
	__asm__ volatile("mov x19, #0x1111; mov x20, #0x2222; ldp %0, %1, [%2]"
			 : "+r"(x), "+r"(y)
			 : "r"(uart)
			 : "x19", "x20", "memory");
	con_printf("FAIL: still running after the fatal attack");
	psci_system_off();
}

void guest_main(u64 dtb, u64 entry_el)
{
	int err;
	struct reset_record *rec;

	(void)entry_el;
	con_set_prefix("hostile: ");
	err = plat_read_fdt((const void *)(uintptr_t)dtb, &plat);
	if (err) {
		con_printf("FAIL: no usable device tree (libfdt error %d)", err);
		psci_system_off();
	}
	con_set_base(plat.uart_base);
	uart = plat.uart_base;
	psci_set_conduit_smc(plat.psci_smc);
	parse_args();
	if (opt_fatal)
		fatal_attack();

	/* SYSTEM_RESET loop: ferry rebuilds the VM each time; RAM outside the image survives. */
	rec = (struct reset_record *)(uintptr_t)(plat.ram_base + plat.ram_size / 2 + GUEST_PAGE);
	if (rec->magic != RESET_MAGIC) {
		rec->magic = RESET_MAGIC;
		rec->resets = 0;
	}
	if (rec->resets < opt_resets) {
		rec->resets++;
		con_printf("reset %llu of %llu", (unsigned long long)rec->resets,
			   (unsigned long long)opt_resets);
		__asm__ volatile("dsb sy" ::: "memory");
		hc(PSCI_SYSTEM_RESET, 0, 0, 0);
		con_printf("FAIL: SYSTEM_RESET returned");
		psci_system_off();
	}
	con_printf("start: ram 0x%llx %llu MiB, %u vCPUs, uart 0x%llx, psci %s, after %llu resets",
		   (unsigned long long)plat.ram_base, (unsigned long long)(plat.ram_size >> 20),
		   plat.ncpus, (unsigned long long)uart, plat.psci_smc ? "smc" : "hvc",
		   (unsigned long long)rec->resets);
	NOTE("%llu SYSTEM_RESETs, each rebuilt by ferry", (unsigned long long)rec->resets);
	report("SYSTEM_RESET loop", rec->resets == opt_resets);

	static void (*const groups[])(void) = {
		atk_memory, atk_fetch,   atk_no_syndrome, atk_widths,  atk_gic,
		atk_smccc,  atk_sysregs, atk_simd,        atk_aarch32, atk_psci,
		atk_storms, atk_console, atk_hypercall,
	};

	for (u32 g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		if (opt_groups >> g & 1 && (groups[g] != atk_psci || plat.ncpus >= 2))
			groups[g]();
	con_printf("DONE attacks=%llu passed=%llu failed=%llu", (unsigned long long)number,
		   (unsigned long long)passed, (unsigned long long)failed);
	psci_system_off();
}
