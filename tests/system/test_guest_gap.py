# SPDX-License-Identifier: Apache-2.0
"""tools/ferry-migrate's reading of the guest's gap across the pause, on made-up memstress lines,
no QEMU: the gap that began before the guest's clock stopped and ended after it went on is found
among the round's longest and its longest while writing, a hidden one is not made up, and a
memstress or ferry that gives no positions yields no gap at all."""
import ferry_migrate as fm

SRC = {"guest_clock_paused_ns": 1_107_831_000}   # the guest's clock at the source's park
DST = {"guest_clock_resumed_ns": 1_110_231_000}  # where the destination started it: 2.4 ms on


def line(rnd, longest, writing):
    """memstress's gap line: (us, at us) for the longest gap, then for those while writing."""
    return ("[mover] memstress: round %d/40 gaps: longest %d us at %d us; while writing %s"
            % ((rnd,) + longest + (", ".join("%d us at %d us" % w for w in writing),)))


def found(*lines, src=SRC, dst=DST):
    gaps = fm.guest_gaps(lines)
    rounds = [int(fm.GUEST_GAPS.search(s).group(2)) for s in lines]
    return fm.gap_across_pause([(r, gaps.get(r)) for r in rounds], src, dst)


def test_gap_while_writing_behind_a_longer_boundary():
    # The round's longest gap is its boundary, 80 ms before the pause; the third longest while
    # writing began 0.3 ms before the park and ended 9 ms after the restart.
    r = found(line(4, (52959, 1028117), [(12000, 1190000), (9500, 1160000),
                                         (11700, 1107531)]))
    assert r == {"guest_clock_jump_us": 2400, "guest_round_after": 4, "guest_gap_us": 11700,
                 "guest_gap_where": "while writing"}


def test_gap_between_rounds_in_the_second_round():
    # The pause fell while vCPU 0 verified: the gap before round 5's first write holds it.
    r = found(line(4, (20000, 1000000), [(900, 1050000)]),
              line(5, (41000, 1090000), [(700, 1200000)]))
    assert (r["guest_gap_us"], r["guest_gap_where"], r["guest_round_after"]) == (
        41000, "between rounds", 5)


def test_the_longest_is_also_while_writing():
    r = found(line(4, (15000, 1100000), [(15000, 1100000)]))
    assert r["guest_gap_where"] == "while writing"


def test_hidden_gap_is_not_made_up():
    # Every gap listed ends before the clock went on or begins after it stopped.
    r = found(line(4, (52959, 1028117), [(9000, 1100000), (8000, 1111000), (7500, 1140000)]),
              line(5, (30000, 1200000), [(6000, 1250000)]))
    assert r == {"guest_clock_jump_us": 2400, "guest_round_after": 4}


def test_no_positions_no_gap():
    # A memstress without gap lines, or a ferry that does not report the guest's clock.
    assert fm.gap_across_pause([(4, None)], SRC, DST) == {"guest_clock_jump_us": 2400,
                                                          "guest_round_after": 4}
    assert found(line(4, (52959, 1028117), [(11700, 1107531)]), src={}) == {}


def test_gap_lines_parsed():
    text = ["[mover] memstress: round 3/40 gaps: longest 19978 us at 848104 us; while writing "
            "7499 us at 870328 us, 1200 us at 900000 us, 900 us at 910000 us",
            "[mover] memstress: round 3/40 wrote 1209 pages, verified 4096 pages, errors 0, "
            "writes took 159063 us, longest gap 19978 us"]
    assert fm.guest_gaps(text) == {3: [(19978, 848104, "between rounds"),
                                       (7499, 870328, "while writing"),
                                       (1200, 900000, "while writing"),
                                       (900, 910000, "while writing")]}
    assert fm.GUEST_ROUND.search(text[1]).group(7) == "19978"
