# SPDX-License-Identifier: Apache-2.0
"""The hostile guest (guest/hostile) attacks ferry from inside a VM while a memstress VM verifies
beside it and the shell is asked to answer; a third VM runs the attack that must stop it alone.
Each attack checks its own outcome in the guest (PASS/FAIL lines); this test checks what only the
outside sees: every attack passed, ferry never panicked, the other VM verified clean throughout, the
shell answered, no raw control byte of a guest reached the terminal, and the trap controls ferry
programmed (docs/isolation.md)."""
import re

import pytest

CONFIG = "tests/system/configs/hostile.dtb"

# HCR_EL2, MDCR_EL2, CPTR_EL2 bits (vdev/traps.h, docs/isolation.md).
HCR_SET = {"VM": 0, "SWIO": 1, "PTW": 2, "FMO": 3, "IMO": 4, "AMO": 5, "FB": 9, "BSU_IS": 10,
           "TWI": 13, "TID3": 18, "TSC": 19, "TIDCP": 20, "TACR": 21, "TSW": 22, "RW": 31}
# QEMU's "max" CPU has FEAT_RAS and FEAT_LOR: their traps must be on too.
HCR_SET_MAX = {"TLOR": 35, "TERR": 36, "TEA": 37}
HCR_CLEAR = {"TWE": 14, "TGE": 27, "TVM": 26, "E2H": 34, "DC": 12}


def run_attacks(m):
    """Drives the run; returns the transcript of the hostile VM's attack phase."""
    m.expect(r"ferry: shell on this console")
    # The VM built for the fatal attack stops alone, registers printed.
    m.expect(r"ferry: vm 'fatal' vcpu 0 stopped: MMIO access the hardware did not describe "
             r"\(ISV=0\) \(ESR 0x[0-9a-f]+ EC 0x24 .* FAR 0x9000000 HPFAR 0x90000 ELR 0x[0-9a-f]+\)",
             timeout=120)
    m.expect(r"\[hostile\] hostile: attack 01 SYSTEM_RESET loop\s+PASS", timeout=300)
    # The shell answers while the attacks run.
    m.expect(r"\[hostile\] hostile: attack 05 ", timeout=120)
    m.shell("vms")
    m.expect(r"vm victim\s+running", timeout=60)
    m.expect(r"vm fatal\s+faulted .* -- MMIO access the hardware did not describe", timeout=60)
    m.expect(r"\[hostile\] hostile: waiting for dirty logging", timeout=600)
    m.shell("dirtylog hostile start wp")
    m.expect(r"\[hostile\] hostile: DONE attacks=(\d+) passed=(\d+) failed=(\d+)", timeout=120)
    return m.child.match


def test_hostile_guest(machine):
    m = machine(config=CONFIG, smp=5, timeout=120)
    done = run_attacks(m)
    total, passed, failed = (int(done.group(i)) for i in (1, 2, 3))
    out = m.output()
    attacks = re.findall(r"\[hostile\] hostile: attack (\d+) (.*?)\s+(PASS|FAIL) ?(.*)", out)
    fails = [a for a in attacks if a[2] != "PASS"]
    assert not fails, "attacks failed: %s" % fails
    assert total >= 30 and failed == 0 and passed == total == len(attacks)
    assert [int(a[0]) for a in attacks] == list(range(1, total + 1))
    # Eight SYSTEM_RESETs, each rebuilt by ferry.
    assert len(re.findall(r"ferry: vm 'hostile' resets", out)) == 8

    # The shell still answers after the attacks; the victim has verified clean all along.
    m.shell("traps hostile")
    m.expect(r"traps: vm 'hostile' vcpu 1: set/way operations \d+[^\r\n]*\r")
    # Attack 06's ITS commands: the queue past RAM stalled it (an error), then MAPD, MAPTI and INT
    # each met a table outside its RAM (ITS_E_MEMORY = 11) and were skipped; the last was INT.
    its = m.expect(r"traps: vm 'hostile' ITS: (\w+)(, stalled)?, commands (\d+), errors (\d+) "
                   r"\(last (\d+), command 0x(\w+)\), MSIs (\d+)")
    assert its.groups() == ("disabled", None, "3", "4", "11", "3", "0"), its.group(0)
    out = m.output()
    lines = re.findall(r"^traps: vm 'hostile' vcpu (\d): (.*?)\r", out, re.M)
    ctl = {}
    for vcpu, text in lines:
        ctl.setdefault(vcpu, []).append(text)
    assert set(ctl) == {"0", "1"} and len(ctl["0"]) == 4
    assert ctl["0"][:3] == ctl["1"][:3], "both vCPUs run under the same controls"
    regs = dict(re.findall(r"(\w+_EL2) (0x[0-9a-f]+)", ctl["0"][0]))
    hcr, mdcr, cptr, cnthctl = (int(regs[r], 16) for r in
                                ("HCR_EL2", "MDCR_EL2", "CPTR_EL2", "CNTHCTL_EL2"))
    hcrx, fgt = ctl["0"][1], ctl["0"][2]
    setway = int(re.search(r"set/way operations (\d+)", ctl["0"][3]).group(1))
    assert setway == 3 * 2 * 512 * 8, "every set/way operation trapped (TSW)"
    for name, bit in {**HCR_SET, **HCR_SET_MAX}.items():
        assert hcr >> bit & 1, "HCR_EL2.%s clear in 0x%x" % (name, hcr)
    for name, bit in HCR_CLEAR.items():
        assert not hcr >> bit & 1, "HCR_EL2.%s set in 0x%x" % (name, hcr)
    # -cpu max has a PMUv3: it is the guest's (counters below HPMN), so the PMU does not trap.
    assert not mdcr & (1 << 6) and not mdcr & (1 << 5), "MDCR_EL2.TPM and TPMCR clear"
    assert 0 < mdcr & 0x1f <= 31, "MDCR_EL2.HPMN gives the guest its counters"
    assert not mdcr & (1 << 8) and not mdcr & (1 << 9), "TDE and TDA stay clear (docs)"
    assert cptr & (1 << 20), "CPTR_EL2.TTA"
    # -cpu max has SVE: it is the guest's (TZ clear); SME stays trapped (TSM).
    assert not cptr & (1 << 8), "CPTR_EL2.TZ clear: SVE is the guest's"
    assert cptr & (1 << 12), "CPTR_EL2.TSM: SME traps"
    assert not cptr & (1 << 10), "FP/SIMD is the guest's own (TFP clear)"
    assert cnthctl == 3
    assert hcrx == "HCRX_EL2 0x0" or hcrx.startswith("HCRX_EL2 absent")
    assert fgt.startswith("fine-grained traps absent") or \
        set(re.findall(r"0x([0-9a-f]+)", fgt)) == {"0"}

    m.shell("vms")
    m.expect(r"vm hostile\s+off")
    victim = m.expect(r"vm victim\s+running")
    out = m.output()
    rounds = re.findall(r"^\[victim\] memstress: round (\d+)/\d+ .*errors (\d+)", out, re.M)
    assert len(rounds) >= 5, "the victim kept verifying during the attacks"
    assert all(e == "0" for _, e in rounds)
    assert not re.search(r"^\[victim\] .*(FAIL|exception)", out, re.M)
    # Never a panic; no raw control byte of a guest on the terminal (the flood came escaped).
    assert "PANIC" not in out
    assert "\x1b" not in out and "\x07" not in out
    assert re.search(r"^\[hostile\] hostile: flood 00 \^\[\[2J\^\[\]0;owned\^G", out, re.M)
    # The flood beyond the rate limit was dropped and counted, the victim lost nothing.
    dropped = re.findall(r"ferry: vm 'hostile': (\d+) bytes of console output dropped", out)
    assert dropped and sum(int(d) for d in dropped) > 20000
    assert "ferry: vm 'victim'" not in out.replace("ferry: vm 'victim' (VMID", "")
    shown = len(re.findall(r"^\[hostile\] hostile: rate \d{4} ", out, re.M))
    assert 300 < shown < 1600
    # The forged prefix stays inside the hostile VM's own line.
    assert not re.search(r"^\[victim\] memstress: FAIL forged", out, re.M)
    m.shell("stop victim")
    m.expect(r"stop: vm 'victim' stopped")
