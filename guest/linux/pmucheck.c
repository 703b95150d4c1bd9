/* SPDX-License-Identifier: Apache-2.0 */
/* pmucheck: counts the CPU cycles and retired instructions of a known loop through
 * perf_event_open(2), the interface `perf stat -e cycles,instructions` uses (Debian's perf needs
 * shared libraries the initramfs does not carry), and says whether the guest's PMU counts.
 *
 * The loop is ITER iterations of two instructions (SUBS, B.NE) at EL0, so a working instructions
 * counter reads at least 2 * ITER with the kernel excluded. An event the CPU does not implement
 * (QEMU counts instructions only under -icount) is reported as "not supported", as perf does;
 * the cycles counter must count. Prints one line per event, then "pmucheck: PASS" or
 * "pmucheck: FAIL <why>"; exit status 0 or 1.
 *
 * Usage: pmucheck [ITER]   (default 10000000) */
#define _GNU_SOURCE /* syscall() */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_counter(uint64_t config)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_HARDWARE;
	a.size = sizeof(a);
	a.config = config;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static void spin(uint64_t n)
{
	__asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
}

int main(int argc, char **argv)
{
	uint64_t iter = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ULL;
	int cyc = open_counter(PERF_COUNT_HW_CPU_CYCLES);
	int ins = open_counter(PERF_COUNT_HW_INSTRUCTIONS);
	int ins_errno = errno;
	uint64_t c = 0, i = 0;

	if (iter < 1000) {
		fprintf(stderr, "pmucheck: ITER must be at least 1000\n");
		return 2;
	}
	if (cyc < 0) {
		printf("pmucheck: FAIL no cycles counter (%s)\n", strerror(errno));
		return 1;
	}
	ioctl(cyc, PERF_EVENT_IOC_RESET, 0);
	if (ins >= 0)
		ioctl(ins, PERF_EVENT_IOC_RESET, 0);
	ioctl(cyc, PERF_EVENT_IOC_ENABLE, 0);
	if (ins >= 0)
		ioctl(ins, PERF_EVENT_IOC_ENABLE, 0);
	spin(iter);
	ioctl(cyc, PERF_EVENT_IOC_DISABLE, 0);
	if (ins >= 0)
		ioctl(ins, PERF_EVENT_IOC_DISABLE, 0);
	if (read(cyc, &c, sizeof(c)) != (ssize_t)sizeof(c)) {
		printf("pmucheck: FAIL reading the cycles counter\n");
		return 1;
	}
	printf("pmucheck: cycles %llu\n", (unsigned long long)c);
	if (ins < 0) {
		printf("pmucheck: instructions not supported (%s)\n", strerror(ins_errno));
	} else {
		if (read(ins, &i, sizeof(i)) != (ssize_t)sizeof(i)) {
			printf("pmucheck: FAIL reading the instructions counter\n");
			return 1;
		}
		printf("pmucheck: instructions %llu for a loop of %llu\n", (unsigned long long)i,
		       (unsigned long long)(2 * iter));
		if (i < 2 * iter) {
			printf("pmucheck: FAIL instructions counted fewer than the loop's\n");
			return 1;
		}
	}
	if (c == 0) {
		printf("pmucheck: FAIL the cycles counter did not count\n");
		return 1;
	}
	printf("pmucheck: PASS\n");
	return 0;
}
