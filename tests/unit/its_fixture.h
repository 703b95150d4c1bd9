/* SPDX-License-Identifier: Apache-2.0 */
/* The ITS host tests' VM: a guest RAM buffer with the ITS's tables and command queue in it, a vGIC
 * with LPIs and a virtual ITS on top, register accesses that must succeed (ITS frame or vGIC by
 * address), the commands as macros writing the queue, and LPI delivery through the list
 * registers. */
#ifndef FERRY_ITS_FIXTURE_H
#define FERRY_ITS_FIXTURE_H

#include "vgic/its.h"
#include "vgic_fixture.h"

#define RAM_IPA 0x40000000ULL
#define RAM_SIZE (4ULL << 20)
#define PROP (RAM_IPA + 0x100000)
#define PEND (RAM_IPA + 0x110000)
#define DEVT (RAM_IPA + 0x120000)
#define CMDQ (RAM_IPA + 0x130000)
#define ITT0 (RAM_IPA + 0x140000)
#define ITT1 (RAM_IPA + 0x150000)
#define ITS ITS_BASE_VIRT

extern u8 *ram;
extern struct gmem mem;
extern struct its I;
extern u32 cw; /* the command queue's write offset */

/* The ITS frame or the vGIC's, by address. */
u64 mmio_rd(u64 ipa, u32 size);
void mmio_wr(u64 ipa, u32 size, u64 v);
void put64(u64 ipa, u64 v);
u64 get64(u64 ipa);

/* A VM of nr vCPUs whose guest enabled the distributor; LPIs not yet on. */
int setup_vm(u32 nr);
void enable_lpis(u32 vcpu);
void its_on(void);
/* Queues one command and moves GITS_CWRITER past it. */
void cmd(u64 d0, u64 d1, u64 d2, u64 d3);

#define MAPD(dev, bits, itt) cmd(0x08 | (u64)(dev) << 32, (bits)-1, BIT(63) | (itt), 0)
#define MAPC(icid, vcpu) cmd(0x09, 0, BIT(63) | (u64)(vcpu) << 16 | (icid), 0)
#define MAPTI(dev, ev, intid, icid) cmd(0x0a | (u64)(dev) << 32, (ev) | (u64)(intid) << 32, icid, 0)
#define MAPI(dev, ev, icid) cmd(0x0b | (u64)(dev) << 32, ev, icid, 0)
#define EVCMD(op, dev, ev) cmd((op) | (u64)(dev) << 32, ev, 0, 0)
#define INT(dev, ev) EVCMD(0x03, dev, ev)
#define CLEAR(dev, ev) EVCMD(0x04, dev, ev)
#define INV(dev, ev) EVCMD(0x0c, dev, ev)
#define DISCARD(dev, ev) EVCMD(0x0f, dev, ev)
#define MOVI(dev, ev, icid) cmd(0x01 | (u64)(dev) << 32, ev, icid, 0)
#define MOVALL(from, to) cmd(0x0e, 0, (u64)(from) << 16, (u64)(to) << 16)
#define INVALL(icid) cmd(0x0d, 0, icid, 0)
#define SYNC(vcpu) cmd(0x05, 0, (u64)(vcpu) << 16, 0)

/* The list registers vcpu would enter with, synced back as if the guest did nothing. */
u32 flush_peek(u32 vcpu, u64 lr[VGIC_MAX_LRS]);
/* Enters vcpu and acknowledges every LR (the LPIs are then gone); returns the INTIDs, best first. */
u32 deliver(u32 vcpu, u32 out[VGIC_MAX_LRS]);
/* nr vCPUs with LPIs on, the ITS on, device 0 (ITT0) with events 0..7 as LPIs 8192.. on vCPU 0. */
void standard(u32 nr);

#endif
