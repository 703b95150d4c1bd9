# SPDX-License-Identifier: Apache-2.0
"""Live migration between two ferries on two QEMU machines joined by a QEMU netdev.

The guest is memstress on two vCPUs, writing all the time at a paced rate and checking every page
against its own ledger: after the migration it must finish its rounds on the destination with zero
mismatches. Failures must leave the source VM running and verifying clean: a destination that
dies, one that refuses (different RAM size), and a memory hash that differs (a test hook leaves a
written page out of the final round). Corrupted frames must be rejected and sent again.
"""
import os
import re
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ferry_migrate as fm  # noqa: E402
import ferry_qemu  # noqa: E402

CFG = os.path.join(TOP, ferry_qemu.build_dir(), "tests", "system", "configs")
SRC = os.path.join(CFG, "mig-src.dtb")
DST = os.path.join(CFG, "mig-dst.dtb")
SRC_ITS = os.path.join(CFG, "mig-src-its.dtb")
TRIGGER = r"memstress: round 2/"


@pytest.fixture
def pair(ferry_pair):
    """Starts a source and a destination; after the test, every JSON object either printed (on
    success, refusal and every failure path the tests take) must parse, with no negative number
    printed as an unsigned one."""
    started = []

    def start(dst=DST, src=SRC, **kw):
        kw.setdefault("variant", "ferry-san")
        src, dst_ = ferry_pair(src, dst, **kw)
        started.extend([src, dst_])
        return src, dst_

    yield start
    for side in started:
        fm.check_json(side)


def check_committed(src, dst, r):
    assert r["ok"], r
    d = r["destination"]
    assert d and d["ok"]
    # The verification value (the sum of the page digests by default, the full-memory hash with
    # verify=full), equal on both sides; by default the source audited all its RAM after the
    # commit against what it sent, and found nothing.
    assert r["source"]["local_hash"] == d["local_hash"] == d["peer_hash"]
    if r["source"]["verify"] == "digest":
        assert r["source"]["audit"] == "clean" and r["source"]["audit_bad_pages"] == 0
    # The downtime's phases are measured and fit in it.
    s = r["source"]
    phases = sum(s[k] for k in ("park_ns", "last_collect_ns", "last_pages_ns", "state_ns",
                                "verify_ns", "commit_rtt_ns"))
    assert 0 < phases <= s["downtime_ns"] * 1.01 + 10 ** 6
    # The destination's resume ends when the last vCPU is back in its guest; its summary waits
    # for that up to 1 s, so a vCPU that never got back would show as 1 s or more.
    assert 0 < r["phases_ms"]["resume"] < 1000
    assert r["pause_end_to_end_ms"] > r["downtime_ms"]
    # The fastest round trip is recorded and the smoothed one, a weighted mean of them, not below.
    assert 0 < s["rtt_min_ns"] <= s["rtt_ns"]
    # VM, 2 vCPUs, PL011, vGIC, PL031, on -cpu max (SVE) one SVE blob per vCPU, the ITS
    assert r["source"]["state_blobs"] == d["state_blobs"] == 9
    assert r["rounds"] >= 2 and r["zero_pages"] > 0
    assert r["pages"] >= 16384  # round 0 moves every page of the 64 MiB
    # The guest goes on on the destination and finishes its 40 rounds with a clean ledger.
    verdict, errors, rounds = fm.guest_verdict(dst, timeout=120)
    assert (verdict, errors, rounds) == ("PASS", 0, 40)
    # On the source, every guest round checked against ferry's dirty log while the migration
    # tracked it (if one ended in time) missed nothing; the destination logs nothing.
    src_text = src.text()
    assert "hypervisor missed" not in src_text
    checked = re.findall(r"dirty log \(\w+\): round \d+: written \d+ collected \d+ missed (\d+)",
                         src_text)
    assert all(m == "0" for m in checked)
    # The source ended the VM (migrated) and then itself, cleanly.
    assert src.wait_exit(30) == 0
    assert "ferry: all VMs have ended: 0 powered off, 1 migrated, 0 faulted; exit 0" in src.text()
    return r


@pytest.mark.parametrize("mode", ["dbm", "wp"])
def test_migrate_stream(pair, mode):
    src, dst = pair(link="stream")
    r = fm.migrate(src, dst, "mover", "mode=" + mode, trigger=TRIGGER)
    check_committed(src, dst, r)
    assert "dirty logging (%s) on" % mode in src.text()
    # The guest's clock ran on across the pause by the pause the destination saw: from the first
    # final-round frame to the resume, which waits for the source's ack of the COMMIT. Never back,
    # and never more than the source's downtime (the park to the COMMIT's arrival) plus that wait.
    jump = r["guest_clock_jump_us"]
    wait = r["phases_ms"]["commit_ack"] + r["phases_ms"]["resume"]
    assert r["phases_ms"]["commit_ack"] > 0
    assert 0.9 * r["dst_paused_ms"] * 1000 <= jump <= (r["downtime_ms"] + wait) * 1010 + 1000
    # The guest sees it: a gap between two of its writes holds the jump, in one of the first two
    # rounds that end on the destination, so their longest gap is at least the jump.
    on_dst = list(fm.GUEST_ROUND.finditer(dst.text()))
    assert max(int(m.group(7)) for m in on_dst[:2]) >= jump
    # Found, that gap is the jump plus what the host's scheduler took from the guest on either
    # side of it, which the guest's own gaps elsewhere bound (a busy host stretches them to
    # hundreds of ms now and then).
    first_two = {int(m.group(2)) for m in on_dst[:2]}
    others = [g for rnd, gs in fm.guest_gaps(src.lines).items() for g in gs] + [
        g for rnd, gs in fm.guest_gaps(dst.lines).items() if rnd not in first_two for g in gs]
    if "guest_gap_us" in r:
        own = max(g for g, _, kind in others if kind == r["guest_gap_where"])
        assert jump <= r["guest_gap_us"] <= jump + 2 * own + 50000
        # The gaps before the command are there for scale, and are the guest's own too.
        assert 0 < r["guest_gap_before_us"] <= own


def test_migrate_lossy_link(pair):
    # UDP between the QEMUs drops frames whenever the receiver lags; the link's goodput falls below
    # this guest's dirty rate, so the live rounds are capped (rounds=4) and the rest moves paused.
    # The guest writes more slowly than in the other tests (mig-src-paced.dts): on a loaded host
    # the dgram link falls to a few MiB/s, and the faster guest finished before the migration.
    src, dst = pair(link="dgram", src=os.path.join(CFG, "mig-src-paced.dtb"))
    r = fm.migrate(src, dst, "mover", "rounds=4", trigger=TRIGGER)
    check_committed(src, dst, r)
    assert r["rounds"] <= 6
    # Frames were lost (and sent again) or at least counted as such.
    assert r["source"]["retransmissions"] > 0


def test_corrupted_frames_rejected_and_resent(pair):
    src, dst = pair(link="stream")
    r = fm.migrate(src, dst, "mover", "corrupt=5 rounds=4", trigger=TRIGGER)
    check_committed(src, dst, r)
    hooked = r["source"]["corrupted_by_hook"]
    assert hooked > 10
    # The corrupted frames were caught by the tag (a few bits land in the magic, version or length,
    # which are rejected under their own names) and came again; the guest verified every page,
    # so none slipped through.
    assert hooked * 0.7 <= r["destination"]["corrupt"] <= hooked
    assert r["source"]["retransmissions"] >= r["destination"]["corrupt"] * 0.7


def test_legacy_virtio_mmio(pair):
    src, dst = pair(link="stream", legacy=True)
    assert "virtio-net (legacy)" in src.text()
    r = fm.migrate(src, dst, "mover", trigger=TRIGGER)
    check_committed(src, dst, r)


def test_destination_killed_midway(pair):
    # The live rounds must outlast the kill: the unpaced guest cannot converge under these
    # options (see test_cancel_keeps_source_running).
    src, dst = pair(link="stream", src=os.path.join(CFG, "mig-src-unpaced.dtb"))
    src.wait_for(TRIGGER, timeout=60)
    start = len(src.lines)
    src.send("migrate mover rounds=20 downtime=1")
    src.wait_for(r"migrating: round [1-9]", timeout=60, start=start)
    dst.kill()
    i, m = src.wait_for(r"migrate: vm 'mover': migration failed: (.*); the VM keeps running here",
                        timeout=30, start=start)
    assert "nothing heard from the peer" in m.group(1) or "link" in m.group(1)
    # The source VM was never paused for good: it finishes its rounds here, clean.
    verdict, errors, rounds = fm.guest_verdict(src, start=i, timeout=300)
    assert (verdict, errors, rounds) == ("PASS", 0, 200)
    assert src.wait_exit(30) == 0
    assert "1 powered off, 0 migrated" in src.text()


def test_destination_with_other_ram_size_refuses(pair):
    src, dst = pair(link="stream", dst=os.path.join(CFG, "mig-dst-128m.dtb"))
    r = fm.migrate(src, dst, "mover", trigger=TRIGGER, wait_guest=False)
    assert not r["ok"]
    assert r["reason"] == ("destination refused: RAM size differs: source 64 MiB, destination "
                           "128 MiB; the VM keeps running here")
    dst.wait_for(r"incoming: vm 'mover': refused the source: RAM size differs: source 64 MiB, "
                 r"destination 128 MiB", timeout=10)
    # The refusing ferry waits for another source; the source VM runs on and verifies clean.
    dst.wait_for(r"incoming: vm 'mover': waiting for a source", timeout=10, start=5)
    verdict, errors, _ = fm.guest_verdict(src, timeout=120)
    assert (verdict, errors) == ("PASS", 0)
    assert r["source"]["pages"] == 0


def test_its_in_use_moves_whole(pair):
    # The conformance guest's ITS soak (its-soak=100, mig-src-its.dts): every round it remaps four
    # events of a device to other LPIs through the ITS command queue (DISCARD, MAPTI, SYNC), raises
    # two by INT and two by an MSI to GITS_TRANSLATER, and checks that each LPI taken is the one
    # mapped now. Moved mid-run, the rounds go on on the destination, numbered on, every one right:
    # the tables the guest gave the ITS, its mappings, the command queue's position and the LPIs'
    # configuration arrived whole; the second vCPU sat in WFI throughout.
    src, dst = pair(src=SRC_ITS, link="stream")
    r = fm.migrate(src, dst, "mover", trigger=r"its-soak: round 10/", wait_guest=False)
    assert r["ok"], r
    # The first wrong round ends the wait (each wrong LPI is waited for 2 s).
    _, m = dst.wait_for(r"its-soak: (done: (\d+) rounds, (\d+) errors|round .* LPIs wrong.*)",
                        timeout=120)
    assert m.group(2, 3) == ("100", "0"), m.group(0)
    rounds = re.compile(r"its-soak: round (\d+)/100: (.*)")
    before = [int(x.group(1)) for x in map(rounds.search, src.lines) if x]
    after = [(int(x.group(1)), x.group(2)) for x in map(rounds.search, dst.lines) if x]
    assert before and after, (src.text()[-2000:], dst.text()[-2000:])
    assert after[0][0] == before[-1] + 1, (before[-3:], after[:3])
    assert [n for n, _ in after] == list(range(after[0][0], 101))
    assert all(v == "4 LPIs ok" for _, v in after), [a for a in after if a[1] != "4 LPIs ok"]
    assert not re.search(r"LPIs wrong", src.text())


def test_hash_mismatch_keeps_source_running(pair):
    # `lose=1` leaves one page the guest wrote out of the final round, as a dirty-tracking bug
    # would (the no-flush build does it by accident, but only when the guest happens to write
    # through a stale TLB entry in time): nothing sends it afterwards, so the destination's memory
    # differs, the hashes say so, and nothing is committed.
    src, dst = pair(link="stream")
    r = fm.migrate(src, dst, "mover", "verify=full lose=1", trigger=TRIGGER, wait_guest=False)
    assert re.search(r"migrate: test hook: page at IPA 0x[0-9a-f]+ left out of the final round",
                     src.text())
    # The hook leaves out a page whose contents differ from what was sent (it compares them with
    # the digests): the destination's copy is old, and the hashes must differ.
    assert not r["ok"], r
    assert r["reason"].startswith("destination aborted: memory hash differs (source ")
    assert r["reason"].endswith("; the VM keeps running here")
    dst.wait_for(r"incoming: vm 'mover': incoming migration failed: memory hash differs",
                 timeout=10)
    # The source resumes the VM, whose memory was never touched: it finishes clean here.
    verdict, errors, rounds = fm.guest_verdict(src, timeout=120)
    assert (verdict, errors, rounds) == ("PASS", 0, 40)
    assert src.wait_exit(30) == 0
    assert "1 powered off, 0 migrated" in src.text()


def test_unserializable_state_fails_before_round_0(pair):
    # Before round 0 the source serializes every state blob once (the rehearsal of its pause).
    # A blob it cannot serialize (`nosave=N` makes blob N one) fails the migration there: no page
    # has moved, the VM runs on, and the destination listens again, so that the next attempt,
    # without the hook, moves the VM and it verifies clean over there.
    src, dst = pair(link="stream")
    r = fm.migrate(src, dst, "mover", "nosave=1", trigger=TRIGGER, wait_guest=False)
    assert not r["ok"]
    assert re.search(r"migrate: vm 'mover': state blob 1 cannot be serialized", src.text())
    assert r["reason"] == ("migration failed: state blob error (invalid argument); the VM keeps "
                           "running here"), r
    assert r["source"]["pages"] == 0
    dst.wait_for(r"incoming: vm 'mover': waiting for a source", timeout=10, start=5)
    r = fm.migrate(src, dst, "mover", trigger=r"memstress: round 4/")
    assert r["ok"], r
    verdict, errors, _ = fm.guest_verdict(dst, timeout=120)
    assert (verdict, errors) == ("PASS", 0)


def test_incoming_rehearsal_refusal(pair):
    # The destination puts its incoming VM's own state through its decoders before it listens (the
    # rehearsal). A blob its decoder refuses (`incoming norestore=N` cuts blob N one byte short)
    # stops it listening, saying which blob and why: a source that tries then finds nobody and its
    # VM runs on, clean. With the hook off it listens again and the VM moves and verifies there.
    src, dst = pair(link="stream")
    dst.wait_for(r"incoming: vm 'mover': waiting for a source", timeout=60)
    start = len(dst.lines)
    dst.send("incoming norestore=0")
    dst.wait_for(r"incoming: vm 'mover': state blob 0 refused: ", timeout=30, start=start)
    dst.wait_for(r"incoming: vm 'mover': cannot listen: ", timeout=30, start=start)
    assert not re.search(r"waiting for a source", "\n".join(dst.lines[start:]))
    src.wait_for(TRIGGER, timeout=60)
    s = len(src.lines)
    src.send("migrate mover")
    _, m = src.wait_for(r"migrate: vm 'mover': migration failed: (.*); the VM keeps running here",
                        timeout=60, start=s)
    assert m.group(1).startswith("no answer from the destination"), m.group(1)
    s_json, _ = fm.collect_json(src, "migrate", s, 30)  # all of it, before the next attempt
    assert not s_json["ok"] and s_json["pages"] == 0
    # The failed attempt's last HELLOs may still be on their way when the destination listens
    # again at once: it answers them, then takes the next attempt's HELLO in their place
    # (docs/migration-protocol.md, "A stale HELLO").
    start = len(dst.lines)
    dst.send("incoming norestore=off")
    dst.wait_for(r"incoming: vm 'mover': waiting for a source", timeout=30, start=start)
    r = fm.migrate(src, dst, "mover", trigger=None)
    assert r["ok"], r
    verdict, errors, _ = fm.guest_verdict(dst, timeout=120)
    assert (verdict, errors) == ("PASS", 0)


def test_missed_page_found_by_the_audit(pair):
    # The same bug under the default verification: each end's page digests cover what was sent,
    # so they agree and the VM moves; the audit after the commit reads all of the source's RAM and
    # names the page that was left out. (The guest on the destination then sees the old contents
    # of that page: that is what the audit reports.)
    src, dst = pair(link="stream")
    r = fm.migrate(src, dst, "mover", "lose=1", trigger=TRIGGER, wait_guest=False)
    assert r["ok"], r
    _, m = src.wait_for(r"migrate: test hook: page at IPA (0x[0-9a-f]+) left out of the final round",
                        timeout=10)
    src.wait_for(r"migrate: vm 'mover': AUDIT after commit: 1 pages differ from what was sent, "
                 r"the first at IPA %s: a write dirty tracking missed" % m.group(1), timeout=10)
    assert r["source"]["audit"] == "differs" and r["source"]["audit_bad_pages"] == 1
    assert r["source"]["audit_first_bad"] == m.group(1)


def test_full_verification(pair):
    # verify=full: both ends hash all guest RAM while the VM is paused; no audit afterwards.
    src, dst = pair(link="stream")
    r = fm.migrate(src, dst, "mover", "verify=full", trigger=TRIGGER)
    check_committed(src, dst, r)
    assert r["source"]["verify"] == r["destination"]["verify"] == "full"
    assert r["source"]["audit"] == "off"
    assert r["source"]["hash_ns"] > 0 and r["destination"]["hash_ns"] > 0


def test_cancel_keeps_source_running(pair):
    # A cancel during the live rounds: both ends print their JSON (the failure path), the source's
    # VM was never paused and finishes its run here, clean. The guest writes as fast as it can, so
    # pre-copy cannot converge and the live rounds last until the cancel (the paced guest of the
    # other tests now moves in about 300 ms, and once committed before the cancel arrived).
    src, dst = pair(link="stream", src=os.path.join(CFG, "mig-src-unpaced.dtb"))
    src.wait_for(TRIGGER, timeout=60)
    start = len(src.lines)
    src.send("migrate mover rounds=20 downtime=1")
    src.wait_for(r"migrating: round [1-9]", timeout=60, start=start)
    src.send("migrate cancel")
    src.wait_for(r"migrate: vm 'mover': migration failed: cancelled", timeout=30, start=start)
    s_json, _ = fm.collect_json(src, "migrate", start, 30)
    d_json, _ = fm.collect_json(dst, "incoming", 0, 30)
    assert not s_json["ok"] and s_json["why"] == "cancelled"
    assert not d_json["ok"]
    assert all(r[3] >= 0 for r in s_json["round_stats"])
    verdict, errors, rounds = fm.guest_verdict(src, start=start, timeout=300)
    assert (verdict, errors, rounds) == ("PASS", 0, 200)


def test_release_build_has_no_test_hooks(ferry_pair):
    # The hooks that damage a migration on purpose exist only in test builds.
    src, dst = ferry_pair(SRC, DST, link="stream", variant="ferry")
    src.send("migrate mover corrupt=5")
    _, m = src.wait_for(r"migrate: bad option 'corrupt=5' \((.*)\)$", timeout=30)
    assert "corrupt" not in m.group(1) and "lose" not in m.group(1) and "nosave" not in m.group(1)
    src.send("migrate mover lose=1")
    src.wait_for(r"migrate: bad option 'lose=1'", timeout=30)
    assert fm.all_json(src) == []
    dst.send("incoming norestore=0")
    dst.wait_for(r"unknown command 'incoming'; type 'help'", timeout=30)


def test_migrate_without_network_device(machine):
    m = machine(config=SRC)
    m.expect(r"ferry: shell on this console")
    m.shell("migrate mover")
    m.expect(r"migrate: no network device \(QEMU: -device virtio-net-device,netdev=\.\.\.\)")
    m.shell("migrate nosuch")
    m.expect(r"migrate: no VM named 'nosuch'")
    m.shell("migration")
    m.expect(r"migration: no network device")
