/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the migration state blobs as the destination takes them (mig_dst_el2.c,
 * dst_put_state): the VM and vCPU blobs (mig_vm_decode, mig_vcpu_decode), the PL011's (vpl011_load),
 * the vGIC's (vgic_restore), the PL031's (vpl031_load) and the SVE one (mig_sve_decode). Input byte
 * 0 picks the blob (low 3 bits) and whether its checksum is made right first (bit 3), so mutations
 * reach the checks behind it; the vGIC's geometry and the SVE vector length and vCPU come from the
 * next bytes; the rest is the blob, in a heap block of exactly its size. A refused blob leaves the
 * destination's state as it was; an accepted one is in range and encodes back to the same bytes
 * (the PL011 and PL031 to a blob that loads to the same state). Built with -DFUZZ_SEEDS it instead
 * writes one valid blob of each kind to a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "lib/lib.h"
#include "migrate/mig_sve.h"
#include "migrate/mig_vmstate.h"
#include "migrate/mig_wire.h"
#include "vdev/board.h"
#include "vdev/vdev.h"
#include "vgic/vgic.h"

enum {
	B_VM,
	B_VCPU,
	B_UART,
	B_VGIC,
	B_RTC,
	B_SVE,
	B_NR
};
#define FIX_CRC 0x08u

static struct vgic G, G0;

/* The vGIC as the destination has it: initialized from its own config, before the blob. */
static void vgic_dst(u8 shape)
{
	struct vgic_config cfg = { 1 + shape % 4,       32 * ((shape / 4) % 9), 4,     NULL,
				   VGIC_GICD_BASE_VIRT, VGIC_GICR_BASE_VIRT,    false, NULL };

	if (vgic_init(&G, &cfg, NULL, NULL))
		abort();
}

static u32 sve_vl(u8 b) { return 16u * (1u + b % 16u); }

/* The blob's own CRC32C, computed with its field zero, at `off`. */
static void fix_crc(u8 *b, size_t len, size_t off)
{
	if (len < off + 4)
		return;
	put_le32(b + off, 0);
	put_le32(b + off, crc32c(0, b, len));
}

static void vm_blob(const u8 *b, size_t len)
{
	struct mig_vm_state s;
	const char *why = NULL;
	u8 out[MIG_VM_BLOB_LEN];

	if (mig_vm_decode(b, len, &s, &why)) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(len == MIG_VM_BLOB_LEN && s.cntfrq != 0);
	FUZZ_CHECK(mig_vm_encode(out, sizeof(out), &s) == (int)len && !memcmp(out, b, len));
}

static void vcpu_blob(const u8 *b, size_t len)
{
	struct mig_vcpu_state s;
	const char *why = NULL;
	static u8 out[MIG_VCPU_BLOB_LEN];

	if (mig_vcpu_decode(b, len, &s, &why)) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(len == MIG_VCPU_BLOB_LEN && s.power <= MIG_VCPU_ON);
	/* Never above EL1, never AArch32: M[4:0] EL0t, EL1t or EL1h. */
	if (s.power == MIG_VCPU_ON)
		FUZZ_CHECK((s.r[MIG_R_PSTATE] & 0x1f) == 0 || (s.r[MIG_R_PSTATE] & 0x1f) == 4 ||
			   (s.r[MIG_R_PSTATE] & 0x1f) == 5);
	FUZZ_CHECK(s.r[MIG_R_FPCR] >> 32 == 0 && s.r[MIG_R_FPSR] >> 32 == 0);
	FUZZ_CHECK(mig_vcpu_encode(out, sizeof(out), &s) == (int)len && !memcmp(out, b, len));
}

static void uart_blob(const u8 *b, size_t len)
{
	struct vpl011 u, before;
	u8 out[36 + VPL011_LINE_MAX + VPL011_RX_FIFO];
	int n;

	vpl011_reset(&u);
	vpl011_rx_push(&u, 'x');
	before = u;
	if (vpl011_load(&u, b, len)) {
		/* The header is checked before anything changes. */
		if (len < 36)
			FUZZ_CHECK(!memcmp(&u, &before, sizeof(u)));
		return;
	}
	FUZZ_CHECK(u.len < VPL011_LINE_MAX && u.rx_count <= VPL011_RX_FIFO &&
		   u.rx_head < VPL011_RX_FIFO);
	n = vpl011_save(&u, out, sizeof(out));
	FUZZ_CHECK(n == (int)len && !memcmp(out, b, 8) && !memcmp(out + 32, b + 32, len - 32));
	for (int i = 8; i < 32; i += 4)
		FUZZ_CHECK((get_le32(out + i) & ~get_le32(b + i)) == 0);
}

static void vgic_blob(const u8 *b, size_t len)
{
	struct vgic_cpu_hw hw[VGIC_MAX_VCPUS], hw0[VGIC_MAX_VCPUS];
	static u8 out[1 << 13];
	size_t n;
	int err;

	memset(hw, 0x5a, sizeof(hw));
	memcpy(hw0, hw, sizeof(hw));
	G0 = G;
	err = vgic_restore(&G, hw, b, len);
	if (err) {
		FUZZ_CHECK(err == FERRY_EINVAL);
		FUZZ_CHECK(!memcmp(&G, &G0, sizeof(G)) && !memcmp(hw, hw0, sizeof(hw)));
		return;
	}
	FUZZ_CHECK(vgic_save(&G, hw, out, sizeof(out), &n) == 0);
	FUZZ_CHECK(n == len && !memcmp(out, b, len));
	/* The restored model works: every vCPU flushes and syncs. */
	for (u32 v = 0; v < G.nr_vcpus; v++) {
		u64 lr[VGIC_MAX_LRS], hcr;
		u32 nlr;

		FUZZ_CHECK(vgic_flush_lrs(&G, v, lr, &nlr, &hcr) == 0 && nlr <= G.nr_lrs);
		FUZZ_CHECK(vgic_sync_lrs(&G, v, lr, nlr) == 0);
	}
}

static void rtc_blob(const u8 *b, size_t len, u64 now)
{
	struct vpl031 r, before, r2;
	u8 out[VPL031_BLOB_LEN], out2[VPL031_BLOB_LEN];

	vpl031_reset(&r, 1000);
	before = r;
	if (vpl031_load(&r, now, b, len)) {
		FUZZ_CHECK(!memcmp(&r, &before, sizeof(r)));
		return;
	}
	FUZZ_CHECK(len == VPL031_BLOB_LEN);
	/* A match still to come is at most 2^32 - 1 seconds ahead. */
	if (r.armed)
		FUZZ_CHECK(r.match_at > now && r.match_at - now <= 0xffffffffu);
	/* Saved again at the same moment and loaded: the same clock, the same blob. */
	FUZZ_CHECK(vpl031_save(&r, now, out, sizeof(out)) == VPL031_BLOB_LEN);
	FUZZ_CHECK(vpl031_load(&r2, now, out, sizeof(out)) == 0);
	FUZZ_CHECK(vpl031_save(&r2, now, out2, sizeof(out2)) == VPL031_BLOB_LEN);
	FUZZ_CHECK(!memcmp(out, out2, sizeof(out)));
	FUZZ_CHECK(vpl031_read(&r, 0, 4, now) == vpl031_read(&r2, 0, 4, now));
}

static void sve_blob(const u8 *b, size_t len, u32 vcpu, u32 vl)
{
	static struct mig_sve_state s;
	static u8 out[MIG_SVE_HDR + MIG_SVE_REGS_BYTES(MIG_SVE_VL_MAX)];
	const char *why = NULL;

	memset(&s, 0x77, sizeof(s));
	if (mig_sve_decode(b, len, vcpu, vl, &s, &why)) {
		FUZZ_CHECK(why != NULL && s.vl == 0x77777777u);
		return;
	}
	FUZZ_CHECK(s.vl == vl && len == mig_sve_blob_len(vl) && (s.zcr_el1 & ~0xfULL) == 0);
	FUZZ_CHECK(mig_sve_encode(&s, vcpu, out, sizeof(out)) == (int)len && !memcmp(out, b, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u8 kind = take_u8(&in), p1 = take_u8(&in), p2 = take_u8(&in);
	u64 now = take_u64(&in);
	u8 *b = malloc(in.n ? in.n : 1);
	size_t len = in.n;

	memcpy(b, in.p, len);
	switch (kind % 8) {
	case B_VM:
		vm_blob(b, len);
		break;
	case B_VCPU:
		vcpu_blob(b, len);
		break;
	case B_UART:
		uart_blob(b, len);
		break;
	case B_VGIC:
		vgic_dst(p1);
		if (kind & FIX_CRC)
			fix_crc(b, len, 12);
		vgic_blob(b, len);
		break;
	case B_RTC:
		if (kind & FIX_CRC)
			fix_crc(b, len, 36);
		rtc_blob(b, len, now);
		break;
	case B_SVE:
		if (kind & FIX_CRC)
			fix_crc(b, len, 12);
		sve_blob(b, len, p2 % 8, sve_vl(p1));
		break;
	default:
		break;
	}
	free(b);
	return 0;
}

#ifdef FUZZ_SEEDS
static void seed(const char *dir, const char *name, u8 kind, u8 p1, u8 p2, const u8 *blob,
		 size_t len)
{
	static u8 buf[1 << 14];
	char path[512];
	FILE *f;

	buf[0] = kind | FIX_CRC, buf[1] = p1, buf[2] = p2;
	put_le64(buf + 3, 5000);
	memcpy(buf + 11, blob, len);
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, 11 + len, f) != 11 + len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	static u8 blob[1 << 14];
	static struct mig_sve_state sve;
	struct mig_vm_state vm = { 2, 62500000, 123456789, 0x40000000, 64 << 20 };
	struct mig_vcpu_state cpu = { .index = 1, .power = MIG_VCPU_ON };
	struct vgic_cpu_hw hw[VGIC_MAX_VCPUS] = { { 0xf0000003, { 0 }, { 1 } } };
	struct vpl011 u;
	struct vpl031 r;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed(argv[1], "vm", B_VM, 0, 0, blob, (size_t)mig_vm_encode(blob, sizeof(blob), &vm));
	cpu.r[MIG_R_PSTATE] = 0x3c5;
	cpu.r[MIG_R_PC] = 0x40080000;
	seed(argv[1], "vcpu", B_VCPU, 0, 0, blob,
	     (size_t)mig_vcpu_encode(blob, sizeof(blob), &cpu));
	vpl011_reset(&u);
	memcpy(u.line, "half a line", 11);
	u.len = 11;
	vpl011_rx_push(&u, 'a');
	vpl011_rx_push(&u, 'b');
	seed(argv[1], "uart", B_UART, 0, 0, blob, (size_t)vpl011_save(&u, blob, sizeof(blob)));
	/* 2 vCPUs and 64 SPIs (shape 1 + 4 * 2), some interrupts enabled, pending and routed. */
	vgic_dst(1 + 4 * 2);
	vgic_mmio_write(&G, VGIC_GICD_BASE_VIRT, 4, 3);
	vgic_mmio_write(&G, VGIC_GICD_BASE_VIRT + 0x104, 4, 0xff00ff);
	vgic_mmio_write(&G, VGIC_GICD_BASE_VIRT + 0x204, 4, 0x0f00f0);
	vgic_mmio_write(&G, VGIC_GICD_BASE_VIRT + 0x6000 + 8 * 40, 8, 1);
	vgic_mmio_write(&G, VGIC_GICR_BASE_VIRT + VGIC_GICR_SGI_OFFSET + 0x100, 4, 0xffff);
	vgic_set_level(&G, 0, 27, true);
	vgic_save(&G, hw, blob, sizeof(blob), &n);
	seed(argv[1], "vgic", B_VGIC, 1 + 4 * 2, 0, blob, n);
	vpl031_reset(&r, 4000);
	vpl031_write(&r, 0x4, 4, 0x7fffffff, 4000);
	vpl031_write(&r, 0x10, 4, 1, 4000);
	seed(argv[1], "rtc", B_RTC, 0, 0, blob, (size_t)vpl031_save(&r, 4500, blob, sizeof(blob)));
	sve.vl = 32;
	sve.zcr_el1 = 1;
	memset(sve.regs, 0xab, MIG_SVE_REGS_BYTES(32));
	seed(argv[1], "sve", B_SVE, 1, 3, blob,
	     (size_t)mig_sve_encode(&sve, 3, blob, sizeof(blob)));
	return 0;
}
#endif
