/* SPDX-License-Identifier: Apache-2.0 */
/* hyp/migrate/linkprobe: the raw link measurements' frames, and netping's bookkeeping: one ping at
 * a time, lost ones given up, answers matched to the ping waited for only, the figures it reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "migrate/linkprobe.h"

#define MS 1000000ULL

static const u8 DST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 SRC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void test_frame_round_trip(void **state)
{
	u8 f[LINKPROBE_MIN_FRAME];
	struct linkprobe_hdr h = { .kind = LINKPROBE_PING, .seq = 0x01020304u, .count = 77 }, g;
	(void)state;
	memset(f, 0xee, sizeof(f));
	linkprobe_put(f, DST, SRC, &h);
	assert_memory_equal(f, DST, 6);
	assert_memory_equal(f + 6, SRC, 6);
	assert_int_equal(f[12] << 8 | f[13], LINKPROBE_ETHERTYPE);
	assert_int_equal(f[18], 0x04); /* little-endian, as the migration protocol's fields */
	assert_true(linkprobe_parse(f, sizeof(f), &g));
	assert_int_equal(g.kind, LINKPROBE_PING);
	assert_int_equal(g.seq, h.seq);
	assert_int_equal(g.count, 77);
	assert_int_equal(f[LINKPROBE_HDR_LEN], 0xee); /* nothing written past the header */
}

static void test_parse_refuses_what_is_not_a_probe(void **state)
{
	u8 f[LINKPROBE_MIN_FRAME] = { 0 };
	struct linkprobe_hdr h = { .kind = LINKPROBE_BLAST, .seq = 1, .count = 2 }, g;
	(void)state;
	linkprobe_put(f, DST, SRC, &h);
	for (size_t len = 0; len < LINKPROBE_HDR_LEN; len++)
		assert_false(linkprobe_parse(f, len, &g));
	assert_true(linkprobe_parse(f, LINKPROBE_HDR_LEN, &g));
	for (unsigned k = 0; k < 256; k++) {
		f[14] = (u8)k;
		assert_int_equal(linkprobe_parse(f, sizeof(f), &g),
				 k >= LINKPROBE_BLAST && k <= LINKPROBE_PONG);
	}
	f[14] = LINKPROBE_BLAST;
	f[13] ^= 1; /* the migration protocol's EtherType, 0x88B5 */
	assert_false(linkprobe_parse(f, sizeof(f), &g));
}

static void test_count_range(void **state)
{
	static struct netping p;
	(void)state;
	assert_false(netping_start(&p, 0, 0));
	assert_false(netping_start(&p, NETPING_MAX + 1, 0));
	assert_false(p.active);
	assert_true(netping_start(&p, NETPING_MAX, 0));
	assert_true(netping_start(&p, 1, 0));
}

/* Three pings: answered, lost, answered; what is sent when, and what is reported. */
static void test_one_at_a_time_with_a_loss(void **state)
{
	static struct netping p;
	struct netping_summary s;
	u32 seq, first;
	(void)state;
	assert_true(netping_start(&p, 3, 1000));
	assert_true(netping_due(&p, 1000, &first));
	/* Waiting: nothing more goes out, however often asked, until the answer or the timeout. */
	assert_false(netping_due(&p, 1000, &seq));
	assert_false(netping_due(&p, 1000 + NETPING_TIMEOUT_NS - 1, &seq));
	assert_false(netping_answer(&p, first + 1, 2000)); /* not the ping waited for */
	assert_false(netping_answer(&p, first - 1, 2000));
	assert_true(netping_answer(&p, first, 1000 + 300000));  /* 300 us */
	assert_false(netping_answer(&p, first, 1000 + 400000)); /* its duplicate */
	assert_false(netping_finished(&p));
	/* The next one after the gap, counted from the answer. */
	assert_false(netping_due(&p, 301000 + NETPING_GAP_NS - 1, &seq));
	assert_true(netping_due(&p, 301000 + NETPING_GAP_NS, &seq));
	assert_int_equal(seq, first + 1);
	/* Lost: given up after the timeout, and the next goes at once. */
	u64 t = 301000 + NETPING_GAP_NS + NETPING_TIMEOUT_NS;
	assert_true(netping_due(&p, t, &seq));
	assert_int_equal(seq, first + 2);
	assert_false(netping_answer(&p, first + 1, t + 10)); /* the lost one, late: ignored */
	assert_true(netping_answer(&p, first + 2, t + 100000));
	assert_true(netping_finished(&p));
	assert_false(netping_due(&p, t + 10 * NETPING_TIMEOUT_NS, &seq));
	netping_summarize(&p, &s);
	assert_int_equal(s.sent, 3);
	assert_int_equal(s.answered, 2);
	assert_int_equal(s.min_ns, 100000);
	assert_int_equal(s.median_ns, 100000); /* the lower of two */
	assert_int_equal(s.max_ns, 300000);
	assert_false(p.active);
	assert_false(netping_finished(&p));
}

/* The last ping lost: the run ends once it is given up, with nothing answered. */
static void test_all_lost(void **state)
{
	static struct netping p;
	struct netping_summary s;
	u32 seq;
	u64 t = 5;
	(void)state;
	assert_true(netping_start(&p, 4, t));
	for (int i = 0; i < 4; i++) {
		assert_true(netping_due(&p, t, &seq));
		assert_false(netping_finished(&p));
		t += NETPING_TIMEOUT_NS;
	}
	assert_false(netping_due(&p, t, &seq)); /* gives the fourth up; none left to send */
	assert_true(netping_finished(&p));
	netping_summarize(&p, &s);
	assert_int_equal(s.sent, 4);
	assert_int_equal(s.answered, 0);
	assert_int_equal(s.min_ns, 0);
	assert_int_equal(s.median_ns, 0);
	assert_int_equal(s.max_ns, 0);
}

/* A run's sequence numbers go on from the last run's: an answer to the last run's ping, late, is
 * not taken for this run's first. */
static void test_late_answer_from_an_earlier_run(void **state)
{
	static struct netping p;
	u32 a, b;
	(void)state;
	assert_true(netping_start(&p, 1, 0));
	assert_true(netping_due(&p, 0, &a));
	assert_false(netping_due(&p, NETPING_TIMEOUT_NS, &b));
	assert_true(netping_finished(&p));
	assert_true(netping_start(&p, 1, 2 * NETPING_TIMEOUT_NS));
	assert_true(netping_due(&p, 2 * NETPING_TIMEOUT_NS, &b));
	assert_int_not_equal(a, b);
	assert_false(netping_answer(&p, a, 2 * NETPING_TIMEOUT_NS + 5));
	assert_true(netping_answer(&p, b, 2 * NETPING_TIMEOUT_NS + 7));
}

/* Medians and extremes against a sorted reference, for every count up to 40 and shuffled round
 * trips. */
static void test_summary_against_reference(void **state)
{
	static struct netping p;
	u64 want[40];
	(void)state;
	srand(7);
	for (u32 n = 1; n <= 40; n++) {
		struct netping_summary s;
		u64 t = 0;
		u32 seq;

		assert_true(netping_start(&p, n, t));
		for (u32 i = 0; i < n; i++) {
			u64 r = 1000 + (u64)(rand() % 5000);

			want[i] = r;
			t += NETPING_GAP_NS;
			assert_true(netping_due(&p, t, &seq));
			assert_true(netping_answer(&p, seq, t + r));
			t += r;
		}
		for (u32 i = 1; i < n; i++) /* insertion sort: the reference */
			for (u32 j = i; j && want[j - 1] > want[j]; j--) {
				u64 x = want[j];

				want[j] = want[j - 1];
				want[j - 1] = x;
			}
		assert_true(netping_finished(&p));
		netping_summarize(&p, &s);
		assert_int_equal(s.answered, n);
		assert_int_equal(s.min_ns, want[0]);
		assert_int_equal(s.max_ns, want[n - 1]);
		assert_int_equal(s.median_ns, want[(n - 1) / 2]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_parse_refuses_what_is_not_a_probe),
		cmocka_unit_test(test_count_range),
		cmocka_unit_test(test_one_at_a_time_with_a_loss),
		cmocka_unit_test(test_all_lost),
		cmocka_unit_test(test_late_answer_from_an_earlier_run),
		cmocka_unit_test(test_summary_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
