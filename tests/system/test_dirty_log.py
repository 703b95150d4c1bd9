# SPDX-License-Identifier: Apache-2.0
"""Stage-2 dirty logging misses nothing: memstress reports exactly which pages it wrote each round
(two vCPUs writing), ferry collects and compares (hypercall FERRY_HC_DIRTY_ROUND), in both modes and
on the CPU models of docs/qemu-facts.md's table, with the eager start and the gradual one (pages
armed chunk by chunk at the first collections). With the flush after collection skipped, misses
appear. The gradual start's shell options, and a migration that starts logging gradually."""
import re

import pytest

import ferry_qemu

CONFIG = "tests/system/configs/dirty.dtb"


# The gradual start arms 8 MiB per collection: the 64 MiB VM is fully write-protected only at its
# 8th collection, so the first checked rounds run with part of RAM never protected (reported whole).
GRADUAL = "gradual=8"
PAGES = 16384


def run_logged(machine, variant, cpu, mode, config=CONFIG, start="eager"):
    m = machine(variant=variant, config=config, cpu=cpu, timeout=180)
    m.expect(r"\[dirt\] memstress: filled")
    if start == "gradual":
        m.shell("dirtylog dirt start %s %s" % (mode, GRADUAL))
        m.expect(r"dirtylog: vm 'dirt': started \(%s\), gradual: 0 of %d pages write-protected, "
                 r"2048 more at each collection" % (mode, PAGES))
    else:
        m.shell("dirtylog dirt start %s" % mode)
        m.expect(r"dirtylog: vm 'dirt': started \(%s\), %d pages write-protected" % (mode, PAGES))
    m.expect(r"\[dirt\] memstress: (PASS|FAIL)[^\r\n]*", timeout=180)
    verdict = m.child.match.group(1)
    # Printed by ferry when a logged VM powers off.
    stats = m.expect(r"dirtylog: vm 'dirt': mode (\w+) faults (\d+) spurious (\d+) collections (\d+) "
                     r"reported (\d+) flushes (\d+); checked rounds (\d+) missed (\d+) extra (\d+)")
    if start == "gradual":
        m.expect(r"dirtylog: vm 'dirt': gradual start: %d of %d pages armed, 2048 per collection, "
                 r"in \d+ EL2 instructions" % (PAGES, PAGES))
    rounds = re.findall(r"dirty log \(%s\): round \d+: written (\d+) collected (\d+) missed (\d+) "
                        r"extra (\d+)" % mode, m.output())
    m.kill()
    return verdict, stats, rounds


@pytest.mark.parametrize("start", ["eager", "gradual"])
@pytest.mark.parametrize("cpu,mode", [("max", "wp"), ("max", "dbm"), ("cortex-a72", "wp"),
                                      ("neoverse-n1", "dbm")])
def test_no_write_is_missed(machine, cpu, mode, start):
    verdict, stats, rounds = run_logged(machine, "ferry-san", cpu, mode, start=start)
    assert verdict == "PASS"
    assert stats.group(1) == mode
    checked, missed = int(stats.group(7)), int(stats.group(8))
    assert checked >= 10 and len(rounds) == checked
    assert missed == 0 and all(r[2] == "0" for r in rounds)
    # Every round wrote pages and all were collected.
    assert all(int(r[0]) > 0 and int(r[1]) >= int(r[0]) for r in rounds)
    if start == "gradual":
        # The synchronizing collection armed the first 8 MiB; each checked round's collection
        # reported every page still unarmed, then armed 8 MiB more.
        for i, r in enumerate(rounds[:7]):
            assert int(r[1]) >= PAGES - 2048 * (i + 1), (i, r)
        # Once all is armed, collections report what was written, not all of RAM.
        assert all(int(r[1]) < PAGES // 2 for r in rounds[7:])
    if mode == "wp":
        assert int(stats.group(2)) > 0   # write faults did the logging
    else:
        assert int(stats.group(2)) == 0  # the hardware did


def test_dbm_refused_without_hafdbs(machine):
    m = machine(config=CONFIG, cpu="cortex-a72")
    m.expect(r"\[dirt\] memstress: filled")
    m.shell("dirtylog dirt start dbm")
    m.expect(r"dirtylog: vm 'dirt': cannot start \(not supported\): this CPU has no FEAT_HAFDBS")


@pytest.mark.parametrize("start", ["eager", "gradual"])
def test_skipping_the_flush_misses_writes(machine, start):
    """The test above can fail: without the TLBI after re-protecting, vCPUs keep writable TLB
    entries and their writes leave no trace (docs/qemu-facts.md: measured on QEMU 7.2)."""
    verdict, stats, rounds = run_logged(machine, "ferry-noflush", "max", "wp",
                                        config="tests/system/configs/dirty-long.dtb", start=start)
    assert int(stats.group(8)) > 0, "no misses without the flush: the test could not fail"


def test_gradual_start_options(machine):
    """Sizes the shell refuses; `gradual` alone arms 1 GiB per collection, so the whole 64 MiB VM
    at its first collection, which reports every page; the next reports only what was written."""
    m = machine(config=CONFIG)
    m.expect(r"\[dirt\] memstress: filled")
    for bad in ("gradual=3", "gradual=0", "gradual=", "gradual=12345678", "gradually"):
        m.shell("dirtylog dirt start wp %s" % bad)
        m.expect(r"dirtylog: unknown start option '%s'" % bad)
    m.shell("dirtylog dirt start gradual wp")
    m.expect(r"dirtylog: vm 'dirt': started \(wp\), gradual: 0 of %d pages write-protected, "
             r"262144 more at each collection" % PAGES)
    m.shell("dirtylog dirt collect")
    m.expect(r"dirtylog: vm 'dirt': collected (\d+) dirty pages")
    m.shell("dirtylog dirt stats")
    m.expect(r"gradual start: %d of %d pages armed" % (PAGES, PAGES))
    # Whoever collected first (this shell or the guest's own check, which may come first)
    # reported every page.
    # Up to the next space or the line's end: a number still arriving would match short.
    g = m.expect(r"first collections, EL2 instructions/pages: \d+/(\d+)[ \r\n]")
    assert int(g.group(1)) == PAGES
    m.shell("dirtylog dirt collect")
    second = int(m.expect(r"dirtylog: vm 'dirt': collected (\d+) dirty pages").group(1))
    assert second < PAGES // 2
    m.shell("dirtylog dirt stop")
    m.expect(r"dirtylog: vm 'dirt': stopped")


def test_migration_with_gradual_start(ferry_pair):
    """`migrate <vm> start=gradual`: logging starts with nothing protected; round 0 sends all RAM
    and the first collection reports all of it again (nothing was armed while round 0 ran: why the
    migration's default stays eager); the guest goes on clean on the destination."""
    import ferry_migrate as fm
    from test_migration import DST, SRC, TRIGGER, check_committed
    src, dst = ferry_pair(SRC, DST, link="stream", variant="ferry-san")
    r = fm.migrate(src, dst, "mover", "mode=wp start=gradual", trigger=TRIGGER)
    check_committed(src, dst, r)
    stats = r["source"]["round_stats"]
    assert stats[0][0] == 16384 and stats[1][0] == 16384
    fm.check_json(src)
    fm.check_json(dst)
