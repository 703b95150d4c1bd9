# SPDX-License-Identifier: Apache-2.0
"""ferry boots at EL2 on QEMU virt, runs two VMs on their own CPUs, and ends cleanly."""
import pytest

import ferry_qemu


def test_banner_and_two_vms_verify(machine):
    m = machine()
    m.expect(r"ferry: EL2 hypervisor, 3 CPUs, RAM 1024 MiB at 0x40000000")
    feats = m.expect(r"ferry: features: TLBIRANGE=(\w+) TTL=(\w+) HAFDBS=(\w+) VMID=(\d+)-bit "
                     r"PA=(\d+)-bit LRs=(\d+)")
    # docs/qemu-facts.md, measured on QEMU 7.2 -cpu max.
    assert feats.group(1) == "yes" and feats.group(3) == "yes"
    assert feats.group(4) == "16" and feats.group(5) == "52" and feats.group(6) == "4"
    m.expect(r"PSCI via SMC")
    # EL2's own code is read-only (checked with AT S1E2W), its data writable (docs/isolation.md).
    m.expect(r"ferry: EL2 memory: code 0x40200000-0x402[0-9a-f]{5} read-only and executable, the "
             r"rest execute-never \(a write to code: refused; to data: allowed\); stack guard pages: "
             r"8 of 8 unmapped")
    m.expect(r"vm 'alpha' \(VMID 1\): 1 vCPU")
    m.expect(r"vm 'beta' \(VMID 2\): 1 vCPU")
    out = ""
    for _ in range(2):
        out += m.expect(r"\[(alpha|beta)\] memstress: (PASS|FAIL)[^\r\n]*").group(0)
    assert "alpha] memstress: PASS" in out and "beta] memstress: PASS" in out
    m.expect(r"ferry: all VMs have ended: 2 powered off, 0 migrated, 0 faulted; exit 0")
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN


def test_vms_run_on_their_own_cpus(machine):
    m = machine()
    m.expect(r"\[alpha\] memstress: round 1/")
    m.shell("vms")
    alpha = m.expect(r"vm alpha\s+(\w+)\s+vmid 1 cpus (\S+) ")
    beta = m.expect(r"vm beta\s+(\w+)\s+vmid 2 cpus (\S+) ")
    assert alpha.group(2) == "1" and beta.group(2) == "2"
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN


@pytest.mark.parametrize("cpu", ["cortex-a72", "neoverse-n1"])
def test_other_cpu_models(machine, cpu):
    """The fallback rows of docs/qemu-facts.md's table: no range TLBI (and no DBM, 8-bit VMIDs on A72)."""
    m = machine(cpu=cpu)
    feats = m.expect(r"TLBIRANGE=(\w+) TTL=\w+ HAFDBS=(\w+) VMID=(\d+)-bit")
    assert feats.group(1) == "no"
    assert feats.group(2) == ("yes" if cpu == "neoverse-n1" else "no")
    assert feats.group(3) == ("16" if cpu == "neoverse-n1" else "8")
    m.expect(r"ferry: all VMs have ended: 2 powered off, 0 migrated, 0 faulted; exit 0", timeout=120)
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN


def test_psci_cpu_on_second_vcpu(machine):
    m = machine(config="platform/qemu-virt/smp2.dtb")
    m.expect(r"vm '\w+' \(VMID 1\): 2 vCPUs")
    m.expect(r"memstress: vcpu 1", timeout=60)
    m.expect(r"memstress: PASS", timeout=120)
    assert m.wait_exit() == ferry_qemu.EXIT_CLEAN
