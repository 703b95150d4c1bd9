# SPDX-License-Identifier: Apache-2.0
"""The timer-latency guest (guest/latency, docs/interference.md) under ferry and directly under QEMU,
both with -icount shift=0,sleep=off, where guest time is instructions and host load does not
count: 200 deadlines of the virtual timer in a busy loop and in WFI, every interrupt taken within
10 ms of its deadline and none later than 100 us (ferry's path takes about 2.3 us there). The
guest's own verdict decides; a lost or late timer interrupt is a FAIL line, not a hang (in WFI
the physical timer is its watchdog)."""
import os
import re
import subprocess


import ferry_qemu  # tools/, on sys.path through conftest.py
from conftest import build_path, run_to_exit

IMAGE = build_path("guest", "latency.bin")
CONFIG = "tests/system/configs/latency.dtb"
# Whole lines: a pattern ending in a number would match a prefix of it.
RESULT = re.compile(r"latency: result timer=vtimer wait=(busy|wfi) samples=(\d+) lost=(\d+) "
                    r"min=\d+ p50=\d+ p90=\d+ p99=\d+ p999=\d+ max=(\d+) mean=\d+ ticks\n")


def check(out):
    assert "latency: PASS: 2 cases of 200 samples" in out, out
    found = {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(4)))
             for m in RESULT.finditer(out.replace("\r", ""))}
    assert set(found) == {"busy", "wfi"}, out
    for wait, (n, lost, worst) in found.items():
        # 100 us at 62.5 MHz: the guest's bound, checked again from its figures.
        assert n == 200 and lost == 0 and worst <= 6250, (wait, out)


def config_bootargs():
    return subprocess.run(["fdtget", build_path(CONFIG), "/vms/lat", "bootargs"], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_latency_under_ferry(machine):
    m = machine(config=CONFIG, icount=True, timeout=30)
    m.expect(r"latency: (PASS|FAIL)[^\r\n]*\r*\n")
    assert m.wait_exit() == 0, m.output()
    check(m.output())


def test_latency_direct():
    assert os.path.exists(IMAGE), "missing %s: run make guests" % IMAGE
    args = ferry_qemu.direct_args(IMAGE, smp=1, mem="128M", icount=True,
                                  append=config_bootargs())
    out, status = run_to_exit(args, timeout=30)
    assert status == 0, out
    check(out)
