/* SPDX-License-Identifier: Apache-2.0 */
/* svecheck: holds a pattern in every SVE register (Z0-Z31, P0-P15, FFR) of its thread for N
 * seconds, storing and comparing them all over and over without a system call (Linux may drop the
 * SVE state above V0-V31 at a syscall); prints one verdict line. The state has to survive Linux's
 * context switches and, in test_linux_migration, the VM's migration to another machine.
 *
 *   svecheck [SECONDS]      -> "svecheck: PASS vl 64 checks 123456" / FAIL ... / SKIP no SVE
 *
 * Built with -mgeneral-regs-only: the compiled code never touches the FP/SIMD registers (the low
 * halves of Z0-Z31) between the load and the last store. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>

#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22)
#endif
#define VL_MAX 256u
#define REGS_BYTES(vl) (32u * (vl) + 17u * ((vl) / 8u))

void sve_store(unsigned char *buf);
void sve_load(const unsigned char *buf);
unsigned long sve_vl(void);

__asm__(".arch_extension sve\n"
	".text\n"
	".global sve_vl\n sve_vl:\n rdvl x0, #1\n ret\n"
	".global sve_store\n sve_store:\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	" str z\\n, [x0, #\\n, mul vl]\n .endr\n"
	" addvl x0, x0, #16\n addvl x0, x0, #16\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n str p\\n, [x0, #\\n, mul vl]\n .endr\n"
	" rdffr p0.b\n str p0, [x0, #16, mul vl]\n ldr p0, [x0, #0, mul vl]\n ret\n"
	".global sve_load\n sve_load:\n"
	" addvl x1, x0, #16\n addvl x1, x1, #16\n ldr p0, [x1, #16, mul vl]\n wrffr p0.b\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n ldr p\\n, [x1, #\\n, mul vl]\n .endr\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	" ldr z\\n, [x0, #\\n, mul vl]\n .endr\n ret\n");

static unsigned char want[REGS_BYTES(VL_MAX)] __attribute__((aligned(16)));
static unsigned char got[REGS_BYTES(VL_MAX)] __attribute__((aligned(16)));

static unsigned long counter(void)
{
	unsigned long t;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(t));
	return t;
}

int main(int argc, char **argv)
{
	unsigned long secs = argc > 1 ? strtoul(argv[1], NULL, 0) : 10, freq, end, checks = 0;
	unsigned int vl, n, i, bad = 0, first = 0;

	if (!(getauxval(AT_HWCAP) & HWCAP_SVE)) {
		printf("svecheck: SKIP no SVE\n");
		return 0;
	}
	if (secs < 1 || secs > 3600) {
		fprintf(stderr, "svecheck: SECONDS must be 1..3600\n");
		return 2;
	}
	vl = (unsigned int)sve_vl();
	if (vl < 16 || vl > VL_MAX || vl % 16) {
		printf("svecheck: FAIL vector length %u\n", vl);
		return 1;
	}
	n = REGS_BYTES(vl);
	for (i = 0; i < n; i++)
		want[i] = (unsigned char)(i * 37u + 11u);
	for (i = 0; i < vl / 8; i++) /* FFR: monotonic, as WRFFR wants */
		want[32u * vl + 16u * (vl / 8) + i] = i < vl / 16 ? 0xff : 0;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	printf("svecheck: start vl %u bytes for %lu s\n", vl, secs);
	fflush(stdout);
	end = counter() + secs * freq;
	sve_load(want);
	while (!bad && counter() < end) {
		sve_store(got);
		for (i = 0; i < n; i++)
			if (got[i] != want[i]) {
				bad = 1;
				first = i;
				break;
			}
		checks++;
	}
	if (bad)
		printf("svecheck: FAIL vl %u byte %u is 0x%02x, expected 0x%02x after %lu checks\n",
		       vl, first, got[first], want[first], checks);
	else
		printf("svecheck: PASS vl %u checks %lu\n", vl, checks);
	return bad;
}
