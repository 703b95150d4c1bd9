/* SPDX-License-Identifier: Apache-2.0 */
/* memstress `rtc=<address>`: the PL031 there, as this guest sees it (tests/system/test_passthrough.py,
 * docs/passthrough.md). Three things, each printed:
 *   - the arm,pl031 nodes of the guest's device tree: one, at that address, whether ferry emulates
 *     the device or the VM owns the machine's;
 *   - RTCDR twice, 1.5 s of the generic counter apart: a running RTC has advanced;
 *   - a load pair (LDP) of RTCDR and RTCMR. A device mapped at stage 2 answers it like any load; a
 *     trapped, emulated one cannot, for the abort of a load pair carries no syndrome (ISV = 0) to
 *     emulate from, and ferry stops the VM. So the pair tells the machine's device from ferry's. */
#include "rtc.h"

#include <libfdt.h>

#define RTCDR 0x000
#define RTC_WAIT_MS 1500

static int pl031_nodes(const void *fdt, u64 base, bool *at_base)
{
	int n = 0;

	*at_base = false;
	for (int node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl031"); node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "arm,pl031")) {
		int len;
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

		/* ferry's guest trees have #address-cells = #size-cells = 2. */
		if (reg && len >= 16 &&
		    (((u64)fdt32_ld(&reg[0]) << 32) | fdt32_ld(&reg[1])) == base)
			*at_base = true;
		n++;
	}
	return n;
}

const char *rtc_probe(const void *fdt, u64 base)
{
	volatile u32 *dr = (volatile u32 *)(uintptr_t)(base + RTCDR);
	u64 freq = cnt_freq(), t0;
	u32 first, second, pair_dr, pair_mr;
	bool at_base;
	int n = pl031_nodes(fdt, base, &at_base);

	con_printf("rtc: the device tree has %d arm,pl031 node(s)%s", n,
		   at_base ? ", one at the RTC's address" : ", none at the RTC's address");
	if (n != 1 || !at_base)
		return "not one PL031 node, at its address";
	first = *dr;
	t0 = cnt_ticks();
	while (cnt_ticks() - t0 < freq * RTC_WAIT_MS / 1000)
		cpu_relax();
	second = *dr;
	con_printf("rtc: RTCDR %u, then %u after %u ms", first, second, RTC_WAIT_MS);
	if (second <= first)
		return "the RTC did not advance";
	con_printf("rtc: load pair from 0x%llx", (unsigned long long)base);
	__asm__ volatile("ldp %w0, %w1, [%2]"
			 : "=r"(pair_dr), "=r"(pair_mr)
			 : "r"((uintptr_t)dr)
			 : "memory");
	con_printf("rtc: load pair completed: RTCDR %u RTCMR %u", pair_dr, pair_mr);
	if (pair_dr < second)
		return "the RTC went back";
	return NULL;
}
