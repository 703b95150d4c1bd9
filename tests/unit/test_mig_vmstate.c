/* SPDX-License-Identifier: Apache-2.0 */
/* ferry's VM state blobs: vCPU and VM records and the PL011's, round trips with random contents,
 * every truncation and every single-byte change of the header refused, and the values a guest must
 * never be resumed with (PSTATE at EL2, AArch32, an unknown power state). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "migrate/mig_vmstate.h"
#include "migrate/mig_wire.h"
#include "vdev/vdev.h"

static u64 rnd64(void) { return (u64)rand() << 42 ^ (u64)rand() << 21 ^ (u64)rand(); }

static void random_vcpu(struct mig_vcpu_state *s)
{
	s->index = (u32)rand() % 8;
	s->power = (u32)rand() % 3;
	for (u32 i = 0; i < MIG_R_NR; i++)
		s->r[i] = rnd64();
	s->r[MIG_R_PSTATE] = (rnd64() & ~0x1fULL) | 0x5;
	s->r[MIG_R_FPCR] &= 0xffffffff;
	s->r[MIG_R_FPSR] &= 0xffffffff;
	s->r[MIG_R_OSLK] &= 1;
}

static void test_vcpu_round_trip(void **state)
{
	u8 buf[MIG_VCPU_BLOB_LEN + 8];
	struct mig_vcpu_state a, b;
	const char *why = NULL;
	(void)state;

	srand(1);
	for (int k = 0; k < 1000; k++) {
		random_vcpu(&a);
		assert_int_equal(mig_vcpu_encode(buf, sizeof(buf), &a), MIG_VCPU_BLOB_LEN);
		memset(&b, 0, sizeof(b));
		assert_int_equal(mig_vcpu_decode(buf, MIG_VCPU_BLOB_LEN, &b, &why), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	assert_int_equal(mig_vcpu_encode(buf, MIG_VCPU_BLOB_LEN - 1, &a), FERRY_EINVAL);
}

static void test_vcpu_rejects(void **state)
{
	u8 buf[MIG_VCPU_BLOB_LEN];
	struct mig_vcpu_state a, b;
	const char *why;
	(void)state;

	srand(2);
	random_vcpu(&a);
	a.power = MIG_VCPU_ON;
	mig_vcpu_encode(buf, sizeof(buf), &a);
	for (size_t len = 0; len < MIG_VCPU_BLOB_LEN; len++) {
		why = NULL;
		assert_int_equal(mig_vcpu_decode(buf, len, &b, &why), FERRY_EINVAL);
		assert_non_null(why);
	}
	for (size_t i = 0; i < 8; i++) /* every header byte */
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (u8)(1u << bit);
			assert_int_equal(mig_vcpu_decode(buf, sizeof(buf), &b, &why), FERRY_EINVAL);
			buf[i] ^= (u8)(1u << bit);
		}
	/* PSTATE: only AArch64 EL0t/EL1t/EL1h. */
	for (u64 m = 0; m < 32; m++) {
		a.r[MIG_R_PSTATE] = 0x3c0 | m;
		mig_vcpu_encode(buf, sizeof(buf), &a);
		assert_int_equal(mig_vcpu_decode(buf, sizeof(buf), &b, &why),
				 m == 0 || m == 4 || m == 5 ? 0 : FERRY_EINVAL);
	}
	/* A vCPU that is off carries no PSTATE worth checking. */
	a.power = MIG_VCPU_OFF;
	a.r[MIG_R_PSTATE] = 0x9; /* EL2h */
	mig_vcpu_encode(buf, sizeof(buf), &a);
	assert_int_equal(mig_vcpu_decode(buf, sizeof(buf), &b, &why), 0);
	a.power = 3;
	mig_vcpu_encode(buf, sizeof(buf), &a);
	assert_int_equal(mig_vcpu_decode(buf, sizeof(buf), &b, &why), FERRY_EINVAL);
	a.power = MIG_VCPU_OFF;
	a.r[MIG_R_FPSR] = 1ULL << 32;
	mig_vcpu_encode(buf, sizeof(buf), &a);
	assert_int_equal(mig_vcpu_decode(buf, sizeof(buf), &b, &why), FERRY_EINVAL);
	/* The OS Lock is one bit; a breakpoint's registers are any value the guest could write. */
	a.r[MIG_R_FPSR] = 0;
	a.r[MIG_R_OSLK] = 2;
	mig_vcpu_encode(buf, sizeof(buf), &a);
	assert_int_equal(mig_vcpu_decode(buf, sizeof(buf), &b, &why), FERRY_EINVAL);
	assert_string_equal(why, "OS Lock neither 0 nor 1");
	a.r[MIG_R_OSLK] = 1;
	a.r[MIG_R_DBGBCR0 + 5] = ~0ULL;
	mig_vcpu_encode(buf, sizeof(buf), &a);
	assert_int_equal(mig_vcpu_decode(buf, sizeof(buf), &b, &why), 0);
	assert_true(b.r[MIG_R_DBGBCR0 + 5] == ~0ULL && b.r[MIG_R_OSLK] == 1);
	assert_string_equal(mig_vcpu_reg_name(MIG_R_DBGWCR0 + 3), "DBGWCR<n>_EL1");
	/* A VM blob is not a vCPU blob. */
	struct mig_vm_state vm = { 2, 62500000, 5, 0x40000000, 1 << 27 };
	u8 vbuf[MIG_VCPU_BLOB_LEN] = { 0 };

	mig_vm_encode(vbuf, sizeof(vbuf), &vm);
	assert_int_equal(mig_vcpu_decode(vbuf, sizeof(vbuf), &b, &why), FERRY_EINVAL);
}

static void test_vm_blob(void **state)
{
	struct mig_vm_state a = { 2, 62500000, 0x123456789, 0x40000000, 512ULL << 20 }, b;
	u8 buf[MIG_VM_BLOB_LEN];
	const char *why;
	(void)state;

	assert_int_equal(mig_vm_encode(buf, sizeof(buf), &a), MIG_VM_BLOB_LEN);
	assert_int_equal(mig_vm_decode(buf, sizeof(buf), &b, &why), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	for (size_t len = 0; len < sizeof(buf); len++)
		assert_int_equal(mig_vm_decode(buf, len, &b, &why), FERRY_EINVAL);
	buf[12] = 1; /* reserved */
	assert_int_equal(mig_vm_decode(buf, sizeof(buf), &b, &why), FERRY_EINVAL);
	a.cntfrq = 0;
	mig_vm_encode(buf, sizeof(buf), &a);
	assert_int_equal(mig_vm_decode(buf, sizeof(buf), &b, &why), FERRY_EINVAL);
	assert_string_equal(mig_vcpu_reg_name(MIG_R_X0 + 30), "X30");
	assert_string_equal(mig_vcpu_reg_name(MIG_R_FPSR), "FPSR");
	assert_string_equal(mig_vcpu_reg_name(MIG_R_CONTEXT), "CPU_ON context");
}

static void line(void *ctx, const char *l, size_t len)
{
	(void)ctx;
	(void)l;
	(void)len;
}

static void test_uart_blob(void **state)
{
	struct vpl011 a, b;
	u8 buf[64 + VPL011_LINE_MAX];
	(void)state;

	vpl011_reset(&a);
	vpl011_write(&a, 0x30, 0x301, line, NULL);
	vpl011_write(&a, 0x38, 0x50, line, NULL);
	for (const char *p = "half a line"; *p; p++)
		vpl011_write(&a, 0, (u32)*p, line, NULL);
	/* Typed input the guest has not read yet, wrapped around the FIFO's end. */
	for (int i = 0; i < VPL011_RX_FIFO - 3; i++)
		vpl011_rx_push(&a, 'x');
	for (int i = 0; i < VPL011_RX_FIFO - 5; i++)
		vpl011_read(&a, 0);
	vpl011_rx_push(&a, 'l');
	vpl011_rx_push(&a, 's');
	vpl011_rx_push(&a, '\r');
	int n = vpl011_save(&a, buf, sizeof(buf));

	assert_int_equal(n, 36 + 11 + 5);
	assert_int_equal(vpl011_load(&b, buf, (size_t)n), 0);
	assert_memory_equal(b.line, a.line, a.len);
	assert_int_equal(b.len, a.len);
	/* The guest reads the same bytes, in the same order, from either. */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(vpl011_read(&b, 0x018), vpl011_read(&a, 0x018)); /* FR */
		assert_int_equal(vpl011_read(&b, 0) & 0xff, vpl011_read(&a, 0) & 0xff);
	}
	for (int len = 0; len < n; len++)
		assert_int_equal(vpl011_load(&b, buf, (size_t)len), FERRY_EINVAL);
	assert_int_equal(vpl011_save(&a, buf, 40), FERRY_EINVAL);
	buf[32] = VPL011_RX_FIFO + 1; /* more input than the FIFO holds */
	assert_int_equal(vpl011_load(&b, buf, (size_t)n), FERRY_EINVAL);
	buf[32] = 5;
	buf[6] = 0xff; /* a line longer than the UART holds */
	assert_int_equal(vpl011_load(&b, buf, (size_t)n), FERRY_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_round_trip),
		cmocka_unit_test(test_vcpu_rejects),
		cmocka_unit_test(test_vm_blob),
		cmocka_unit_test(test_uart_blob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
