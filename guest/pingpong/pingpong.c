/* SPDX-License-Identifier: Apache-2.0 */
/* pingpong: a bare-metal EL1 guest for ferry's shared-memory regions (docs/shared-memory.md). Two
 * VMs that map one region exchange `count` messages each way over two single-producer rings in it,
 * each ringing the other's doorbell when it published messages or freed slots, and waiting for its
 * own doorbell when it can do neither: as an interrupt (the vGIC's SPI, taken with WFI) or by
 * polling the doorbell's STATUS register (wait=poll). Every message carries a sequence number and
 * a check word: the receiver counts anything lost, duplicated or damaged, and prints one verdict.
 *
 * Bootargs: count=N (messages each way, default 100000), wait=irq|poll (default irq), window=N
 * (messages in flight each way, 1..256, default 256: window=1 is a strict ping-pong, one doorbell
 * each way per message). With count=0 the guest checks its doorbell and ends at once, without
 * touching the region. drop=N and dup=N make the sender misbehave on purpose (it skips sequence
 * number N, or sends N twice), so that the tests see the receiver catch a loss or a duplicate. */
#include <libfdt.h>
#include <string.h>

#include "guest.h"

#define RING_SLOTS 256u
#define HELLO 0x6f6c6c6568676e70ULL /* "pnghello" */

/* The doorbell's registers (hyp/vdev/vdev.h, VDOORBELL_*). */
#define DB_ID 0x00
#define DB_SELF 0x04
#define DB_MEMBERS 0x08
#define DB_RING 0x0c
#define DB_RING_MASK 0x10
#define DB_STATUS 0x14
#define DB_ACK 0x18
#define DB_ERRORS 0x1c
#define DB_MAGIC 0x31424446u

/* The vGICv3 at QEMU virt's addresses (what ferry's guest DTB says). */
#define GICD 0x08000000ULL
#define GICR 0x080a0000ULL
#define GICD_CTLR 0x0
#define GICD_IGROUPR 0x80
#define GICD_ISENABLER 0x100
#define GICD_IPRIORITYR 0x400
#define GICD_IROUTER 0x6000
#define GICR_WAKER 0x14
#define GICD_CTLR_ENABLE_G1 (1u << 1)
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)

struct msg {
	u64 seq;   /* 1, 2, ... count */
	u64 check; /* check_word(seq, sender) */
};

/* One direction: the producer writes head and the slots, the consumer writes tail; each on its own
 * cache line. head and tail count messages since the start (never wrap at 2^64 here). */
struct ring {
	u64 head;
	u8 pad0[56];
	u64 tail;
	u8 pad1[56];
	struct msg slot[RING_SLOTS];
};

/* The region: member m says hello in hello[m] and produces into ring[m]. */
struct layout {
	u64 hello[2];
	u8 pad[112];
	struct ring ring[2];
};

static struct guest_platform plat;
static u64 region, region_size, doorbell;
static u32 self, members, intid;
static bool read_only, poll_mode;
static u64 count = 100000, window = RING_SLOTS, drop_seq, dup_seq;
static u64 lost, dups, damaged, rings, waits;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}

static void verdict(u64 received, const char *why)
{
	bool ok = !why && !lost && !dups && !damaged && received == count;

	say("%s member=%u messages=%llu received=%llu lost=%llu duplicates=%llu damaged=%llu "
	    "rings=%llu waits=%llu%s%s",
	    ok ? "PASS" : "FAIL", self, (unsigned long long)count, (unsigned long long)received,
	    (unsigned long long)lost, (unsigned long long)dups, (unsigned long long)damaged,
	    (unsigned long long)rings, (unsigned long long)waits, why ? " " : "", why ? why : "");
}

void guest_fatal(void)
{
	verdict(0, "(unexpected exception)");
	psci_system_off();
}

void guest_secondary(u64 cpu) { (void)cpu; }

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	verdict(0, "(cannot run)");
	psci_system_off();
}

/* ---- MMIO: single 32-bit loads and stores (a trapped access must be one the hardware describes
 * in the syndrome: no writeback, no pairs) ---- */
static inline u32 mmio_read32(u64 addr)
{
	u32 v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(u64 addr, u32 v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline void mmio_write8(u64 addr, u8 v)
{
	__asm__ volatile("strb %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline void mmio_write64(u64 addr, u64 v)
{
	__asm__ volatile("str %0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

/* ---- the device tree: the first ferry,shared-memory node and the doorbell it names ---- */
static int reg_of(const void *fdt, int node, u64 *base, u64 *size)
{
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg || len != 16)
		return -1;
	*base = (u64)fdt32_to_cpu(reg[0]) << 32 | fdt32_to_cpu(reg[1]);
	*size = (u64)fdt32_to_cpu(reg[2]) << 32 | fdt32_to_cpu(reg[3]);
	return 0;
}

static void find_region(const void *fdt)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "ferry,shared-memory"), db, len;
	const fdt32_t *ph, *irq;
	u64 dbsize;

	if (node < 0)
		fail("no ferry,shared-memory node in the device tree");
	if (reg_of(fdt, node, &region, &region_size))
		fail("the shared-memory node has no reg of 2+2 cells");
	read_only = fdt_getprop(fdt, node, "read-only", NULL) != NULL;
	ph = fdt_getprop(fdt, node, "ferry,doorbell", &len);
	db = ph && len == 4 ? fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*ph)) : -1;
	if (db < 0 || reg_of(fdt, db, &doorbell, &dbsize))
		fail("the shared-memory node names no usable doorbell");
	ph = fdt_getprop(fdt, db, "ferry,member", &len);
	self = ph && len == 4 ? fdt32_to_cpu(*ph) : ~0u;
	ph = fdt_getprop(fdt, db, "ferry,members", &len);
	members = ph && len == 4 ? fdt32_to_cpu(*ph) : 0;
	irq = fdt_getprop(fdt, db, "interrupts", &len);
	if (!irq || len != 12 || fdt32_to_cpu(irq[0]) != 0)
		fail("the doorbell has no SPI in 'interrupts'");
	intid = fdt32_to_cpu(irq[1]) + 32;
	if (members != 2 || self >= 2)
		fail("pingpong needs a region of exactly 2 members (member %u of %u)", self,
		     members);
	if (region_size < sizeof(struct layout))
		fail("the region has %llu bytes, pingpong needs %llu",
		     (unsigned long long)region_size, (unsigned long long)sizeof(struct layout));
}

/* The doorbell answers as the DT says, and every malformed access is refused (counted in ERRORS)
 * without ringing anyone: a guest cannot hurt ferry or its peer through it. */
static void check_doorbell(void)
{
	u32 e0, e1, status0, status1, got;

	if (mmio_read32(doorbell + DB_ID) != DB_MAGIC || mmio_read32(doorbell + DB_SELF) != self ||
	    mmio_read32(doorbell + DB_MEMBERS) != members)
		fail("doorbell at 0x%llx: ID/SELF/MEMBERS disagree with the device tree",
		     (unsigned long long)doorbell);
	e0 = mmio_read32(doorbell + DB_ERRORS);
	status0 = mmio_read32(doorbell + DB_STATUS);
	mmio_write32(doorbell + DB_RING, 99); /* no such member */
	mmio_write32(doorbell + DB_RING, 0xffffffff);
	mmio_write32(doorbell + DB_RING_MASK, 0); /* rings nobody */
	mmio_write32(doorbell + DB_RING_MASK, 1u << members);
	mmio_write32(doorbell + DB_ACK, 0xfffffff0); /* bits of no member */
	mmio_write8(doorbell + DB_RING, 1);          /* not a 32-bit access */
	mmio_write32(doorbell + DB_STATUS, 0);       /* read-only */
	mmio_write32(doorbell + 0x800, 0x12345678);  /* no register */
	got = mmio_read32(doorbell + DB_RING);       /* write-only: reads 0 */
	e1 = mmio_read32(doorbell + DB_ERRORS);
	status1 = mmio_read32(doorbell + DB_STATUS);
	/* The write of 0 to STATUS must clear nothing; the peer, already running, may ring meanwhile
	 * and set a bit (so equality would be a race with it). */
	if (e1 - e0 != 9 || got != 0 || (status0 & ~status1))
		fail("doorbell: hostile accesses: errors went %u -> %u (want +9), RING read %u, "
		     "STATUS 0x%x -> 0x%x",
		     e0, e1, got, status0, status1);
	say("doorbell 0x%llx INTID %u: member %u of %u, 9 hostile accesses refused",
	    (unsigned long long)doorbell, intid, self, members);
}

/* The SPI to vCPU 0 (IROUTER 0), group 1, enabled; the CPU interface takes group 1 at any
 * priority. PSTATE.I stays masked: WFI wakes on the pending interrupt and the loop acknowledges it
 * through ICC_IAR1_EL1, without an exception. */
static void gic_setup(void)
{
	u32 n = intid / 32, bit = 1u << (intid % 32);
	u64 prio = GICD + GICD_IPRIORITYR + (intid & ~3u);

	mmio_write32(GICR + GICR_WAKER,
		     mmio_read32(GICR + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
	mmio_write32(GICD + GICD_IGROUPR + 4 * n, mmio_read32(GICD + GICD_IGROUPR + 4 * n) | bit);
	mmio_write32(prio, (mmio_read32(prio) & ~(0xffu << (8 * (intid & 3)))) |
				   (0x80u << (8 * (intid & 3))));
	mmio_write64(GICD + GICD_IROUTER + 8ULL * intid, 0);
	mmio_write32(GICD + GICD_ISENABLER + 4 * n, bit);
	mmio_write32(GICD + GICD_CTLR, mmio_read32(GICD + GICD_CTLR) | GICD_CTLR_ENABLE_G1);
	__asm__ volatile("msr s3_0_c4_c6_0, %0" : : "r"(0xffULL));     /* ICC_PMR_EL1 */
	__asm__ volatile("msr s3_0_c12_c12_7, %0; isb" : : "r"(1ULL)); /* ICC_IGRPEN1_EL1 */
}

static void ring_peer(void)
{
	rings++;
	mmio_write32(doorbell + DB_RING, 1 - self);
}

/* Until the peer rings: the doorbell's STATUS acknowledged, so the next ring raises the line
 * again. */
static void wait_doorbell(void)
{
	u32 st;

	waits++;
	if (poll_mode) {
		while (!(st = mmio_read32(doorbell + DB_STATUS)))
			cpu_relax();
		mmio_write32(doorbell + DB_ACK, st);
		return;
	}
	for (;;) {
		u64 iar;

		__asm__ volatile("dsb sy; wfi" ::: "memory");
		__asm__ volatile("mrs %0, s3_0_c12_c12_0"
				 : "=r"(iar)
				 :
				 : "memory"); /* ICC_IAR1_EL1 */
		if ((iar & 0xffffff) >= 1020)
			continue; /* spurious: nothing taken, wait again */
		st = mmio_read32(doorbell + DB_STATUS);
		mmio_write32(doorbell + DB_ACK, st); /* the line falls before the EOI */
		__asm__ volatile("msr s3_0_c12_c12_1, %0; isb" : : "r"(iar)); /* ICC_EOIR1_EL1 */
		if ((iar & 0xffffff) == intid)
			return;
		say("unexpected INTID %llu", (unsigned long long)(iar & 0xffffff));
	}
}

static inline u64 check_word(u64 seq, u32 sender)
{
	u64 x = seq * 0x9e3779b97f4a7c15ULL ^ ((u64)sender << 56 | 0x5a5a);

	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ULL;
}

static void unknown_key(const char *word, size_t len)
{
	fail("unknown bootarg '%.*s' (count, wait, window, drop, dup)", (int)len, word);
}

static u64 exchange(struct layout *l)
{
	struct ring *tx = &l->ring[self], *rx = &l->ring[1 - self];
	u32 peer = 1 - self;
	u64 sent = 0, received = 0, expect = 1;

	/* Hello: the peer is up and its rings are what it will use. */
	__atomic_store_n(&l->hello[self], HELLO, __ATOMIC_RELEASE);
	ring_peer();
	while (__atomic_load_n(&l->hello[peer], __ATOMIC_ACQUIRE) != HELLO)
		wait_doorbell();
	while (sent < count || received < count) {
		bool progress = false;
		u64 head = tx->head, tail = __atomic_load_n(&tx->tail, __ATOMIC_ACQUIRE), t, h;

		if (head - tail > RING_SLOTS)
			fail("the peer's tail %llu is beyond our head %llu",
			     (unsigned long long)tail, (unsigned long long)head);
		while (sent < count && head - tail < window) {
			struct msg *m = &tx->slot[head % RING_SLOTS];
			/* The test hooks: numbers from N on shifted by one, up (drop) or down (dup). */
			u64 seq = sent + 1 + (drop_seq && sent + 1 >= drop_seq) -
				  (dup_seq && sent + 1 > dup_seq);

			m->seq = seq;
			m->check = check_word(seq, self);
			head++;
			sent++;
		}
		if (head != tx->head) {
			__atomic_store_n(&tx->head, head, __ATOMIC_RELEASE);
			ring_peer();
			progress = true;
		}
		h = __atomic_load_n(&rx->head, __ATOMIC_ACQUIRE);
		t = rx->tail;
		if (h - t > RING_SLOTS)
			fail("the peer's head %llu is beyond its ring (tail %llu)",
			     (unsigned long long)h, (unsigned long long)t);
		for (; t != h; t++) {
			const struct msg *m = &rx->slot[t % RING_SLOTS];
			u64 seq = m->seq;

			if (m->check != check_word(seq, peer)) {
				damaged++;
			} else if (seq < expect) {
				dups++;
			} else {
				lost += seq - expect;
				expect = seq + 1;
			}
			received++;
		}
		if (t != rx->tail) {
			__atomic_store_n(&rx->tail, t, __ATOMIC_RELEASE);
			ring_peer();
			progress = true;
		}
		if (!progress && (sent < count || received < count))
			wait_doorbell();
	}
	return received;
}

void guest_main(u64 dtb, u64 entry_el)
{
	enum bootarg_status st;
	static const char *const known[] = { "count", "wait", "window", "drop", "dup", NULL };
	u64 t0, t1, received;
	const char *w;
	int err;

	(void)entry_el;
	con_set_prefix("pingpong: ");
	err = plat_read_fdt((const void *)(uintptr_t)dtb, &plat);
	if (err)
		fail("no usable device tree at 0x%llx (libfdt error %d)", (unsigned long long)dtb,
		     err);
	con_set_base(plat.uart_base);
	psci_set_conduit_smc(plat.psci_smc);
	bootarg_check_keys(plat.bootargs, known, unknown_key);
	st = bootarg_u64(plat.bootargs, "count", &count);
	if (st == BOOTARG_BAD)
		fail("count= wants a number");
	st = bootarg_u64(plat.bootargs, "window", &window);
	if (st == BOOTARG_BAD || window < 1 || window > RING_SLOTS)
		fail("window= wants 1..%u", RING_SLOTS);
	if (bootarg_u64(plat.bootargs, "drop", &drop_seq) == BOOTARG_BAD ||
	    bootarg_u64(plat.bootargs, "dup", &dup_seq) == BOOTARG_BAD)
		fail("drop= and dup= want a sequence number");
	w = strstr(plat.bootargs, "wait=");
	poll_mode = w && !strncmp(w + 5, "poll", 4);
	if (w && !poll_mode && strncmp(w + 5, "irq", 3))
		fail("wait= is irq or poll");
	find_region((const void *)(uintptr_t)dtb);
	say("start member %u of %u region 0x%llx (%llu KiB%s) count %llu window %llu wait %s", self,
	    members, (unsigned long long)region, (unsigned long long)(region_size >> 10),
	    read_only ? ", read-only" : "", (unsigned long long)count, (unsigned long long)window,
	    poll_mode ? "poll" : "irq");
	check_doorbell();
	if (!poll_mode)
		gic_setup();
	if (!count) {
		verdict(0, NULL);
		psci_system_off();
	}
	t0 = cnt_ticks();
	received = exchange((struct layout *)(uintptr_t)region);
	t1 = cnt_ticks();
	say("%llu messages each way in %llu us", (unsigned long long)count,
	    (unsigned long long)((t1 - t0) * 1000000 / cnt_freq()));
	verdict(received, NULL);
	psci_system_off();
}
