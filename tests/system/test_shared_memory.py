# SPDX-License-Identifier: Apache-2.0
"""Shared-memory regions with doorbells (docs/shared-memory.md): two ping-pong guests exchange
messages over a ring in a region and both check every sequence number; a read-only member that
writes is stopped as a stray access; migrate refuses a VM that maps a region and it runs on."""
import os
import re
import subprocess

import pytest

import ferry_qemu
from conftest import TOP

PINGPONG = os.path.join(TOP, "tests", "system", "configs", "pingpong.dts")


def pingpong_config(tmp_path, bootargs, pong_bootargs=None, pong_access=None, pong_abort=None,
                    extra_vm=None):
    """pingpong.dts with the guests' bootargs (pong's may differ), pong's access and on-abort
    replaced, and optionally one more VM (its node's source)."""
    with open(PINGPONG) as f:
        dts = f.read()
    pong_bootargs = bootargs if pong_bootargs is None else pong_bootargs
    parts = dts.split('bootargs = "count=100000";')
    assert len(parts) == 3
    dts = (parts[0] + 'bootargs = "%s";' % bootargs + parts[1] + 'bootargs = "%s";' % pong_bootargs
           + parts[2])
    if pong_access:
        dts = dts.replace("pong { ipa = <0x0 0x60000000>; };",
                          'pong { ipa = <0x0 0x60000000>; access = "%s"; };' % pong_access)
        assert pong_access in dts
    if pong_abort:
        head, tail = dts.split("cpus = <2>;")
        dts = head + 'cpus = <2>;\n\t\t\ton-abort = "%s";' % pong_abort + tail
    if extra_vm:
        head, tail = dts.split("\tshared-memory {")
        dts = head.rstrip().rstrip("};").rstrip() + "\n" + extra_vm + "\t};\n\tshared-memory {" + tail
    src, out = tmp_path / "pp.dts", tmp_path / "pp.dtb"
    src.write_text(dts)
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(src)], check=True)
    return str(out)


VERDICT = re.compile(r"\[(ping|pong)\] pingpong: (PASS|FAIL) member=(\d) messages=(\d+) "
                     r"received=(\d+) lost=(\d+) duplicates=(\d+) damaged=(\d+) rings=(\d+)")
CLEAN_END = r"ferry: all VMs have ended: 2 powered off, 0 migrated, 0 faulted; exit 0"


def verdicts(m, count):
    """Both guests' verdicts, read from the whole console once both VMs have ended (a verdict may
    come before or after any line the test waited for); each must be PASS with every message
    received once."""
    m.expect(CLEAN_END)
    got = {v.group(1): v for v in VERDICT.finditer(m.output())}
    assert set(got) == {"ping", "pong"}, got
    for name, v in got.items():
        assert v.group(2) == "PASS", v.group(0)
        assert int(v.group(4)) == count and int(v.group(5)) == count
        assert v.group(6) == v.group(7) == v.group(8) == "0"
    return got


@pytest.mark.parametrize("bootargs", ["count=100000", "count=400 window=1",
                                      "count=3000 window=3 wait=poll"],
                         ids=["irq", "irq-strict", "poll"])
def test_pingpong(machine, tmp_path, bootargs):
    m = machine(config=pingpong_config(tmp_path, bootargs), timeout=240)
    m.expect(r"ferry: region 'ring': 64 KiB at PA 0x[0-9a-f]+, doorbell IPA 0xb000000 INTID 80: "
             r"ping rw@0x50000000 pong rw@0x60000000")
    # Each found its region and doorbell in its device tree, at its own IPA.
    m.expect(r"\[(ping|pong)\] pingpong: start member \d of 2 region 0x[56]0000000 \(64 KiB\)")
    # The doorbell refused every malformed access (counted, no ring) and the guests ran on.
    m.expect(r"9 hostile accesses refused")
    got = verdicts(m, int(re.search(r"count=(\d+)", bootargs).group(1)))
    assert {v.group(3) for v in got.values()} == {"0", "1"}
    if "window=1" in bootargs:
        # A strict ping-pong: each message and each freed slot rang the peer.
        assert all(int(v.group(9)) >= 400 for v in got.values())
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN


@pytest.mark.parametrize("fault,counter", [("drop", 4), ("dup", 5)])  # lost, duplicates
def test_receiver_catches_a_lost_or_duplicated_message(machine, tmp_path, fault, counter):
    """pong skips (drop) or repeats (dup) sequence number 700 on purpose: ping's own check must
    count exactly that one message and say FAIL; pong, which got all of ping's, says PASS."""
    m = machine(config=pingpong_config(tmp_path, "count=2000", "count=2000 %s=700" % fault),
                timeout=120)
    got = {}
    for _ in range(2):
        v = m.expect(r"\[(ping|pong)\] pingpong: (PASS|FAIL) member=\d messages=2000 "
                     r"received=(\d+) lost=(\d+) duplicates=(\d+) damaged=(\d+)")
        got[v.group(1)] = v
    assert got["pong"].group(2) == "PASS"
    assert got["ping"].group(2) == "FAIL"
    assert got["ping"].group(3) == "2000"
    assert [int(got["ping"].group(i)) for i in (4, 5, 6)] == [1 if counter == i else 0
                                                            for i in (4, 5, 6)]
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN


def test_read_only_member_that_writes_is_stopped(machine, tmp_path):
    """pong maps the region read-only and still says hello in it: its write is a stray access,
    stopped (on-abort "stop"); ping (count=0: it only checks its doorbell) powers off cleanly."""
    m = machine(config=pingpong_config(tmp_path, "count=0", "count=10", "ro"), timeout=120)
    m.expect(r"pong ro@0x60000000")
    m.expect(r"\[pong\] pingpong: start member 1 of 2 region 0x60000000 \(64 KiB, read-only\)")
    fault = m.expect(r"ferry: vm 'pong' vcpu 0 stopped: data abort at IPA (0x[0-9a-f]+) in shared "
                     r"region 'ring' \(read-only\) \(ESR (0x[0-9a-f]+) EC 0x24")
    assert int(fault.group(1), 16) == 0x60000008  # hello[1]
    esr = int(fault.group(2), 16)
    assert (esr >> 6) & 1 == 1  # WnR: a write
    assert (esr & 0x3c) == 0x0c  # a permission fault
    m.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 1 faulted; exit 1")
    # ping's verdict may come before or after pong's fault.
    assert "[ping] pingpong: PASS member=0 messages=0" in m.output()
    assert "[pong] pingpong: PASS" not in m.output()
    assert m.wait_exit() == ferry_qemu.EXIT_VM_FAILED


def test_read_only_member_gets_its_abort_injected(machine, tmp_path):
    """The same write with on-abort "inject": pong's own exception handler sees a synchronous
    external abort (guest/lib prints it, pingpong's verdict is FAIL); nothing else is affected."""
    m = machine(config=pingpong_config(tmp_path, "count=0", "count=10", "ro", "inject"),
                timeout=120)
    m.expect(r"ferry: vm 'pong' vcpu 0: data abort at IPA 0x60000008 in shared region 'ring' "
             r"\(read-only\) \(ELR 0x[0-9a-f]+\): synchronous external abort injected")
    m.expect(r"\[pong\] pingpong: FAIL member=1 [^\r\n]*\(unexpected exception\)")
    m.expect(r"ferry: all VMs have ended: 2 powered off, 0 migrated, 0 faulted; exit 0")
    assert "[ping] pingpong: PASS member=0 messages=0" in m.output()
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN


def test_a_vm_outside_the_region_cannot_reach_it(machine, tmp_path):
    """A third VM writes at the IPA where ping sees the region: in its own IPA space nothing is
    there (no mapping, no doorbell), so it is stopped alone; ping and pong exchange on."""
    outsider = ('\t\toutsider {\n\t\t\tram-base = <0x0 0x40000000>;\n\t\t\tram-size = '
                '<0x0 0x01000000>;\n\t\t\tcpus = <3>;\n\t\t\timage = "memstress";\n\t\t\t'
                'bootargs = "rounds=1 wild=0x50000000";\n\t\t\tdevices = "uart";\n\t\t};\n')
    m = machine(config=pingpong_config(tmp_path, "count=20000", extra_vm=outsider), smp=4,
                timeout=120)
    # The outsider's stop and the pair's verdicts come in whichever order the three CPUs reach
    # them: read the whole run, then check each.
    m.expect(r"ferry: all VMs have ended: 2 powered off, 0 migrated, 1 faulted; exit 1")
    assert m.wait_exit() == ferry_qemu.EXIT_VM_FAILED
    out = m.output()
    assert re.search(r"ferry: vm 'outsider' vcpu 0 stopped: data abort at IPA 0x50000000 outside "
                     r"its memory and devices", out), out
    for name in ("ping", "pong"):
        assert re.search(r"\[%s\] pingpong: PASS member=\d messages=20000 received=20000 lost=0 "
                         r"duplicates=0 damaged=0" % name, out), out


def test_migrate_refuses_a_sharing_vm(machine, tmp_path):
    # Long enough (seconds) that both commands land while the guests exchange.
    m = machine(config=pingpong_config(tmp_path, "count=300000"), timeout=300)
    m.expect(r"\[ping\] pingpong: doorbell")
    m.shell("migrate ping")
    m.shell("vms")
    m.expect_exact("migrate: vm 'ping' maps shared region 'ring' (its peers stay here): refused, "
                   "it runs on")
    m.expect(r"vm ping\s+running")
    verdicts(m, 300000)
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN
