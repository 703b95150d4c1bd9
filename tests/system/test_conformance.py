# SPDX-License-Identifier: Apache-2.0
"""The conformance guest (guest/conformance, docs/guest-view.md): the same image directly under QEMU
at EL1 (-M virt,gic-version=3, no virtualization: QEMU's own GIC, timers, PSCI and board devices)
and as a ferry VM, on -cpu max and cortex-a72. Every check must give the same verdict both ways;
QEMU's run, the reference, must also pass every check (a check that fails there is a wrong check)."""
import os
import re

import pytest

import ferry_qemu  # tools/, on sys.path through conftest.py
from conftest import build_path, run_to_exit

IMAGE = build_path("guest", "conformance.bin")
CONFIG = "tests/system/configs/conformance.dtb"
VERDICT = re.compile(r"conformance: ([a-z0-9_.]+): (PASS|FAIL|SKIP)\b")
SUMMARY = re.compile(r"conformance: summary: pass=(\d+) fail=(\d+) skip=(\d+)(?! FATAL)")
CPUS = ["max", "cortex-a72"]


def verdicts(text):
    found = VERDICT.findall(text.replace("\r", ""))
    names = [n for n, _ in found]
    assert len(names) == len(set(names)), "a check reported twice: %s" % names
    return dict(found)


def run_direct(cpu):
    assert os.path.exists(IMAGE), "missing %s: run make guests" % IMAGE
    args = ferry_qemu.direct_args(IMAGE, cpu=cpu, smp=2, mem="128M")
    return run_to_exit(args, timeout=120)


@pytest.fixture(scope="module")
def direct():
    return {cpu: run_direct(cpu) for cpu in CPUS}


@pytest.mark.parametrize("cpu", CPUS)
def test_same_verdicts_direct_and_under_ferry(machine, direct, cpu):
    out, status = direct[cpu]
    ref = verdicts(out)
    assert status == 0, out                      # PSCI SYSTEM_OFF ends QEMU
    summary = SUMMARY.search(out)
    assert summary, out
    assert len(ref) >= 50 and sum(int(x) for x in summary.groups()) == len(ref), out
    # Only what the CPU model lacks may be skipped: SVE on cortex-a72.
    failing = {n: v for n, v in ref.items()
               if v != "PASS" and not (v == "SKIP" and cpu != "max" and n.startswith("sve."))}
    assert not failing, "the reference run fails checks: %s\n%s" % (failing, out)

    m = machine(config=CONFIG, cpu=cpu, timeout=180)
    m.expect(r"conformance: summary: pass=\d+ fail=\d+ skip=\d+")
    assert m.wait_exit() == 0                   # the VM powered off; ferry ended clean
    got = verdicts(m.output())
    diff = {n: (ref.get(n), got.get(n)) for n in set(ref) | set(got) if ref.get(n) != got.get(n)}
    assert not diff, "checks that differ (direct, ferry): %s" % diff
