# SPDX-License-Identifier: Apache-2.0
"""The TLBI sanitizer catches both historical Linux planners on the seed's 8 GiB write-protect, and is
silent with ferry's. QEMU itself over-invalidates range operations, so the guest alone would never
notice: only the sanitizer (and the host TLB model in tests/unit) can show a wrong operand."""
import pytest

import ferry_qemu

SEED = "tests/system/configs/seed-8g.dtb"


def start_seed(machine, variant):
    m = machine(variant=variant, config=SEED, mem="9G", smp=2, timeout=90)
    m.expect(r"vm 'seed' \(VMID 1\): 1 vCPU, 8192 MiB at IPA 0x40000000")
    m.expect(r"\[seed\] memstress: round 1/")
    m.shell("dirtylog seed start wp")
    return m


@pytest.mark.parametrize("variant,operand", [
    ("ferry-san-linux66", "0x400000040000"),
    ("ferry-san-linux68", "0xffff708000040000"),
])
def test_historical_planner_is_caught(machine, variant, operand):
    m = start_seed(machine, variant)
    m.expect(r"tlbi: [^\r\n]*VMID 1")
    m.expect_exact(operand)
    m.expect(r"ferry: vm 'seed' vcpu 0 stopped: TLBI sanitizer: stage-2 entries left stale")
    m.expect(r"ferry: all VMs have ended: 0 powered off, 0 migrated, 1 faulted; exit 1")
    assert m.wait_exit() == ferry_qemu.EXIT_VM_FAILED


def test_ferry_planner_is_silent(machine):
    m = start_seed(machine, "ferry-san")
    # `dirtylog start` lists the TLBI ops it issued (the ring, dumped under the VM's stage-2 lock).
    # One range op for the whole 8 GiB: SCALE 3 NUM 31 (0x7f8000040000 without a level hint). The
    # start splits the 2 MiB blocks and write-protects in one pass, with one break-before-make
    # flush for both; what may be cached is the old blocks, and -cpu max has FEAT_TTL, so ferry
    # adds TTL 2: 0x7fc000040000.
    m.expect(r"RIPAS2E1IS 0x7fc000040000 SCALE 3 NUM 31 TTL 2: IPA 0x40000000-0x23fffffff "
             r"\(2097152 pages\)")
    m.expect(r"dirtylog: vm 'seed': started \(wp\), 2097152 pages write-protected")
    m.expect(r"dirty log \(wp\): round \d+: written \d+ collected \d+ missed 0")
    m.expect(r"\[seed\] memstress: PASS", timeout=120)
    m.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 0 faulted; exit 0")
    assert "TLBI sanitizer" not in m.output()
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN
