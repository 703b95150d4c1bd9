# SPDX-License-Identifier: Apache-2.0
"""tools/ferry-migrate's reading of the guest's gap across the pause, on made-up memstress lines,
no QEMU: the gap that began before the guest's clock stopped and ended after it went on is found
among the round's longest and its longest while writing, a hidden one is not made up, and a
memstress or ferry that gives no positions yields no gap at all."""
import ferry_migrate as fm

SRC = {"guest_clock_paused_ns": 1_107_831_000}   # the guest's clock at the source's park
DST = {"guest_clock_resumed_ns": 1_110_231_000}  # where the destination started it: 2.4 ms on


def line(rnd, longest, writing):
    """A memstress round line: (us, at us) for the longest gap, then for those while writing."""
    more = "".join(", %d us at %d us" % w for w in writing[1:])
    return ("[mover] memstress: round %d/40 wrote 1211 pages, verified 4096 pages, errors 0, "
            "writes took 156190 us, longest gap %d us at %d us, while writing %d us at %d us%s"
            % ((rnd,) + longest + writing[0] + (more,)))


def found(*lines, src=SRC, dst=DST):
    return fm.gap_across_pause([fm.GUEST_ROUND.search(s) for s in lines], src, dst)


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
    old = ("[mover] memstress: round 4/40 wrote 1211 pages, verified 4096 pages, errors 0, "
           "writes took 156190 us, longest gap 52959 us")
    assert "guest_gap_us" not in found(old)
    assert found(line(4, (52959, 1028117), [(11700, 1107531)]), src={}) == {}
