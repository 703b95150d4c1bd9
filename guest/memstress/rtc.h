/* SPDX-License-Identifier: Apache-2.0 */
/* memstress `rtc=<address>` (rtc.c): the PL031 at that address, as this guest sees it. */
#ifndef MEMSTRESS_RTC_H
#define MEMSTRESS_RTC_H

#include "guest.h"

/* Prints what it finds; NULL, or why the RTC is not a working one. */
const char *rtc_probe(const void *fdt, u64 base);

#endif
