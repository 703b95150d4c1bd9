# SPDX-License-Identifier: Apache-2.0
"""memstress directly under QEMU, no hypervisor: the reference every ferry run is compared with.

Checks the guest itself: the Image header (QEMU passes the DTB and -append), its output lines and
verdict, PSCI SYSTEM_OFF ending QEMU with status 0, two vCPUs via PSCI CPU_ON, the EL2 entry path,
the wild write reported as an exception, and a deliberate corruption that must give FAIL (so a
PASS means something)."""
import os
import re
import struct

import pytest

import ferry_qemu  # tools/, on sys.path through conftest.py
from conftest import run_to_exit

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("FERRY_BUILD", "build"))
IMAGE = os.path.join(BUILD, "guest", "memstress.bin")
ROUND = re.compile(r"memstress: round (\d+)/(\d+) wrote (\d+) pages, verified (\d+) pages, "
                   r"errors (\d+)")
VERDICT = re.compile(r"memstress: (PASS|FAIL) rounds=(\d+) pages=(\d+) errors=(\d+)")


def run(append, smp=1, mem="128M", machine="virt", timeout=60):
    """Boots memstress.bin with `append` as its bootargs; returns (output, exit status)."""
    assert os.path.exists(IMAGE), "missing %s: run make guests" % IMAGE
    args = ferry_qemu.direct_args(IMAGE, machine=machine, cpu="max", smp=smp, mem=mem,
                                  append=append)
    out, status = run_to_exit(args, timeout)
    return out.replace("\r\n", "\n"), status


def verdicts(out):
    return VERDICT.findall(out)


def test_image_header():
    with open(IMAGE, "rb") as f:
        head = f.read(64)
    code0, text_offset, image_size, flags = struct.unpack_from("<I4xQQQ", head)
    assert code0 >> 26 == 0b000101            # a B instruction
    assert text_offset == 0x80000
    assert flags == 0xa                       # little-endian, 4K, anywhere
    assert head[0x38:0x3c] == b"ARM\x64"
    assert image_size >= os.path.getsize(IMAGE) and image_size % 4096 == 0


def test_rounds_and_pass():
    out, status = run("rounds=3 seed=7")
    start = re.search(r"memstress: start ram 0x40000000 128 MiB pages (\d+) at (0x[0-9a-f]+) "
                      r"seed 7 rounds 3 rate 0 frac 25 smp 1", out)
    assert start, out
    pages = int(start.group(1))
    assert int(start.group(2), 16) % (2 << 20) == 0
    # Everything above the image and its bookkeeping: most of the 128 MiB.
    assert pages > 120 * 256
    assert re.search(r"memstress: shared 0x40081000 \(bitmap 0x[0-9a-f]+, 32768 bits; ledger "
                     r"0x[0-9a-f]+\) psci hvc", out), out
    assert "memstress: filled %d pages" % pages in out
    rounds = ROUND.findall(out)
    assert [r[:2] for r in rounds] == [("1", "3"), ("2", "3"), ("3", "3")]
    for r in rounds:
        wrote, verified, errors = int(r[2]), int(r[3]), int(r[4])
        assert 0.2 * pages < wrote < 0.3 * pages    # frac=25, pseudo-random
        assert verified == pages and errors == 0
    assert verdicts(out) == [("PASS", "3", str(pages), "0")]
    assert status == 0                        # PSCI SYSTEM_OFF ends QEMU cleanly


def test_same_seed_same_choice():
    """The page choice depends on the seed alone: two runs write the same counts, another seed
    differs."""
    a = ROUND.findall(run("rounds=2 seed=11 pages=2048")[0])
    b = ROUND.findall(run("rounds=2 seed=11 pages=2048")[0])
    c = ROUND.findall(run("rounds=2 seed=12 pages=2048")[0])
    assert a == b and len(a) == 2
    assert [r[2] for r in a] != [r[2] for r in c]


def test_two_vcpus():
    out, status = run("rounds=3 seed=7 smp=2", smp=2)
    assert re.search(r"memstress: start .* smp 2", out), out
    assert "memstress: vcpu 1 up" in out
    assert re.search(r"memstress: vcpu 1 filled \d+ pages", out)
    work = {int(c): int(w) for c, w in
            re.findall(r"memstress: vcpu (\d+) wrote (\d+) pages, errors 0 in its pages", out)}
    assert sorted(work) == [0, 1] and all(w > 0 for w in work.values())
    pages = int(verdicts(out)[0][2])
    # The fill (every page once) plus three rounds, shared between the two.
    assert sum(work.values()) == pages + sum(int(r[2]) for r in ROUND.findall(out))
    # Interleaved pages: each vCPU owns half.
    assert abs(work[0] - work[1]) < 0.05 * pages
    assert verdicts(out) == [("PASS", "3", str(pages), "0")]
    assert status == 0


def test_entered_at_el2_drops_to_el1():
    """QEMU virtualization=on: entry at EL2, PSCI over SMC, CPU_ON brings the second vCPU in at
    EL2 as well."""
    out, status = run("rounds=2 smp=2 pages=4096", smp=2, machine="virt,virtualization=on")
    assert "memstress: entered at EL2: running at EL1" in out
    assert "psci smc" in out and "memstress: vcpu 1 up" in out
    assert verdicts(out) == [("PASS", "2", "4096", "0")]
    assert status == 0


def test_rate_paces_writes():
    out, _ = run("rounds=2 pages=1024 rate=2000")
    rows = re.findall(r"round \d+/2 wrote (\d+) pages, verified \d+ pages, errors 0, writes took "
                      r"(\d+) us", out)
    assert len(rows) == 2, out
    for n, us in rows:
        # n pages at 2000 pages/s: the pacing holds to the virtual counter.
        want = int(n) / 2000 * 1e6
        assert want <= int(us) < want * 1.5 + 20000


def test_selftest_corruption_fails():
    """The checker can fail: one flipped bit, not in the ledger, is exactly one error."""
    out, status = run("rounds=3 seed=7 selftest-corrupt=1")
    flipped = re.search(r"memstress: selftest: flipped bit 0 of word 7 of page (0x[0-9a-f]+)", out)
    assert flipped, out
    assert re.search(r"memstress: mismatch page %s \(vcpu 0's\) expected generation \d+, found "
                     r"0x[0-9a-f]+ at word 7" % flipped.group(1), out)
    errors = [int(r[4]) for r in ROUND.findall(out)]
    assert errors == [1, 0, 0]                # repaired after it was counted
    v = verdicts(out)
    assert len(v) == 1 and v[0][0] == "FAIL" and v[0][3] == "1"
    assert status == 0


def test_wild_write_is_reported():
    """Outside RAM there is nothing on QEMU virt: the write ends in an exception memstress
    reports (ESR/FAR/ELR) before its FAIL verdict. Under ferry the same write stops the VM."""
    out, _ = run("wild=0x80000000 rounds=2 pages=1024")
    assert "memstress: wild write to 0x80000000" in out
    exc = re.search(r"memstress: exception on vcpu 0: .*ESR (0x[0-9a-f]+) .*FAR (0x[0-9a-f]+) "
                    r"ELR 0x[0-9a-f]+", out)
    assert exc, out
    assert int(exc.group(2), 16) == 0x80000000
    v = verdicts(out)
    assert len(v) == 1 and v[0][0] == "FAIL"


@pytest.mark.parametrize("append,message", [
    ("rounds=many", "bootarg 'rounds': not a number"),
    ("seed=12abc", "bootarg 'seed': not a number"),
    ("pages=0x", "bootarg 'pages': not a number"),
])
def test_bad_bootargs_refused(append, message):
    out, status = run(append)
    assert "memstress: " + message in out
    assert verdicts(out)[0][0] == "FAIL" and status == 0


def test_unknown_bootarg_is_named():
    out, _ = run("rounds=1 pages=512 roudns=9")
    assert "memstress: ignoring unknown bootarg 'roudns=9'" in out
    assert verdicts(out) == [("PASS", "1", "512", "0")]
