"""Stage-2 dirty logging misses nothing: memstress reports exactly which pages it wrote each round
(two vCPUs writing), ferry collects and compares (hypercall FERRY_HC_DIRTY_ROUND), in both modes and
on the CPU models of docs/qemu-facts.md's table. With the flush after collection skipped, misses appear."""
import re

import pytest

import ferry_qemu

CONFIG = "tests/system/configs/dirty.dtb"


def run_logged(machine, variant, cpu, mode, config=CONFIG):
    m = machine(variant=variant, config=config, cpu=cpu, timeout=180)
    m.expect(r"\[dirt\] memstress: filled")
    m.shell("dirtylog dirt start %s" % mode)
    m.expect(r"dirtylog: vm 'dirt': started \(%s\), 16384 pages write-protected" % mode)
    m.expect(r"\[dirt\] memstress: (PASS|FAIL)[^\r\n]*", timeout=180)
    verdict = m.child.match.group(1)
    # Printed by ferry when a logged VM powers off.
    stats = m.expect(r"dirtylog: vm 'dirt': mode (\w+) faults (\d+) spurious (\d+) collections (\d+) "
                     r"reported (\d+) flushes (\d+); checked rounds (\d+) missed (\d+) extra (\d+)")
    rounds = re.findall(r"dirty log \(%s\): round \d+: written (\d+) collected (\d+) missed (\d+) "
                        r"extra (\d+)" % mode, m.output())
    m.kill()
    return verdict, stats, rounds


@pytest.mark.parametrize("cpu,mode", [("max", "wp"), ("max", "dbm"), ("cortex-a72", "wp"),
                                      ("neoverse-n1", "dbm")])
def test_no_write_is_missed(machine, cpu, mode):
    verdict, stats, rounds = run_logged(machine, "ferry-san", cpu, mode)
    assert verdict == "PASS"
    assert stats.group(1) == mode
    checked, missed = int(stats.group(7)), int(stats.group(8))
    assert checked >= 10 and len(rounds) == checked
    assert missed == 0 and all(r[2] == "0" for r in rounds)
    # Every round wrote pages and all were collected.
    assert all(int(r[0]) > 0 and int(r[1]) >= int(r[0]) for r in rounds)
    if mode == "wp":
        assert int(stats.group(2)) > 0   # write faults did the logging
    else:
        assert int(stats.group(2)) == 0  # the hardware did


def test_dbm_refused_without_hafdbs(machine):
    m = machine(config=CONFIG, cpu="cortex-a72")
    m.expect(r"\[dirt\] memstress: filled")
    m.shell("dirtylog dirt start dbm")
    m.expect(r"dirtylog: vm 'dirt': cannot start \(not supported\): this CPU has no FEAT_HAFDBS")


def test_skipping_the_flush_misses_writes(machine):
    """The test above can fail: without the TLBI after re-protecting, vCPUs keep writable TLB
    entries and their writes leave no trace (docs/qemu-facts.md: measured on QEMU 7.2)."""
    verdict, stats, rounds = run_logged(machine, "ferry-noflush", "max", "wp",
                                        config="tests/system/configs/dirty-long.dtb")
    assert int(stats.group(8)) > 0, "no misses without the flush: the test could not fail"
