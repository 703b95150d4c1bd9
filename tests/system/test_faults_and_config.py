# SPDX-License-Identifier: Apache-2.0
"""A misbehaving guest is stopped alone; a bad config stops boot with one line naming VM and property."""
import glob
import os
import re

import pytest

import ferry_qemu
from conftest import TOP, expect_line


def test_wild_guest_is_stopped_alone(machine):
    m = machine(config="tests/system/configs/wild.dtb")
    # The two VMs' lines come in whichever order their CPUs reach them: read the whole run.
    m.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 1 faulted; exit 1", timeout=120)
    assert m.wait_exit() == ferry_qemu.EXIT_VM_FAILED
    out = m.output()
    assert "[wild] memstress: wild write to 0x80000000" in out, out
    fault = re.search(r"ferry: vm 'wild' vcpu 0 stopped: data abort at IPA 0x80000000 outside its "
                      r"memory and devices \(ESR (0x[0-9a-f]+) EC 0x24 [^\r\n]*?FAR (0x[0-9a-f]+) "
                      r"HPFAR (0x[0-9a-f]+) ELR (0x[0-9a-f]+)\)", out)
    assert fault, out
    esr, far, hpfar = (int(fault.group(i), 16) for i in (1, 2, 3))
    assert (esr >> 26) == 0x24 and (esr >> 6) & 1 == 1  # a data abort, a write
    assert hpfar >> 4 == 0x80000000 >> 12
    # The other VM kept running to its own verdict.
    assert re.search(r"\[calm\] memstress: PASS", out), out


BAD = sorted(glob.glob(os.path.join(TOP, "tests/system/configs/bad-*.dts")))


@pytest.mark.parametrize("dts", BAD, ids=[os.path.basename(p)[:-4] for p in BAD])
def test_bad_config_stops_boot(machine, dts):
    want = expect_line(dts)
    dtb = os.path.relpath(dts, TOP)[:-4] + ".dtb"
    m = machine(config=dtb, timeout=30)
    m.expect_exact(want)
    m.expect_exact("ferry: boot stopped")
    assert m.wait_exit() == ferry_qemu.EXIT_BOOT_ERROR
    assert "memstress" not in m.output()


def test_bad_configs_exist():
    kinds = {os.path.basename(p) for p in BAD}
    for k in ("bad-overlap-pa.dts", "bad-cpu-twice.dts", "bad-ram-too-big.dts",
              "bad-missing-image.dts"):
        assert k in kinds
