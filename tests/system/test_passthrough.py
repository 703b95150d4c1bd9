# SPDX-License-Identifier: Apache-2.0
"""Device passthrough (docs/passthrough.md). Bare-metal part: the machine's PL061 given to VM
'owner' (tests/system/configs/passthrough-gpio.dts): its write to the device completes, the same
write from VM 'other' is a stage-2 fault that stops 'other' alone, `migrate owner` is refused naming
the device while owner runs on, and configs that break an ownership rule stop boot with their line.
The Linux part (virtio-blk and virtio-net through virtio-mmio, Debian's modules) is in
test_linux_passthrough.py."""
import re
import subprocess

import ferry_qemu

GPIO = "tests/system/configs/passthrough-gpio.dtb"
RTC = "tests/system/configs/passthrough-rtc.dtb"


def test_owner_reaches_device_other_faults_migrate_refused(machine):
    m = machine(config=GPIO, timeout=240)
    m.expect_exact("ferry: passthrough: vm 'owner' owns '/pl061@9030000': 0x9030000-0x9030fff "
                   "INTID 39 (level)")
    m.expect(r"\[owner\] memstress: round 2/40")
    m.shell("migrate owner")
    m.expect_exact("migrate: vm 'owner' owns the machine's device '/pl061@9030000' (passthrough): "
                   "refused, it runs on")
    m.shell("vms")
    m.expect(r"vm owner\s+running")
    m.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 1 faulted; exit 1")
    assert m.wait_exit() == ferry_qemu.EXIT_VM_FAILED
    out = m.output()
    # The owner's write reached the PL061 (mapped at stage 2): no fault, and it verified on.
    assert "[owner] memstress: wild write to 0x9030000 completed without a fault" in out, out
    assert "[owner] memstress: PASS rounds=40" in out, out
    # The other VM's identical write found nothing in its stage 2: stopped alone.
    fault = re.search(r"ferry: vm 'other' vcpu 0 stopped: data abort at IPA 0x9030000 outside "
                      r"its memory and devices \(ESR (0x[0-9a-f]+) EC 0x24 [^\r\n]*?HPFAR "
                      r"(0x[0-9a-f]+)", out)
    assert fault, out
    assert int(fault.group(2), 16) == 0x9030000 >> 8
    assert "[other] memstress: wild write to 0x9030000 completed" not in out


def test_owner_has_the_machine_rtc_other_its_emulated_one(machine):
    """Both VMs probe the PL031 at 0x9010000 (memstress rtc=, guest/memstress/rtc.c). Each finds
    one PL031 node there and an RTC that advances; the owner's is the machine's device, mapped at
    stage 2, so its load pair completes, while the other's is ferry's emulation, which cannot
    decode a load pair (ISV = 0): 'other' is stopped there, and nothing else is. `migrate owner`
    is refused naming the PL031, and owner runs on."""
    m = machine(config=RTC, timeout=120)
    m.expect_exact("ferry: passthrough: vm 'owner' owns '/pl031@9010000': 0x9010000-0x9010fff "
                   "INTID 34 (level)")
    m.expect(r"\[owner\] memstress: round 2/40")
    m.shell("migrate owner")
    m.expect_exact("migrate: vm 'owner' owns the machine's device '/pl031@9010000' (passthrough): "
                   "refused, it runs on")
    m.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 1 faulted; exit 1")
    assert m.wait_exit() == ferry_qemu.EXIT_VM_FAILED
    out = m.output()
    for vm in ("owner", "other"):
        assert ("[%s] memstress: rtc: the device tree has 1 arm,pl031 node(s), one at the "
                "RTC's address" % vm) in out, out
        ticks = re.search(r"\[%s\] memstress: rtc: RTCDR (\d+), then (\d+) after 1500 ms" % vm,
                          out)
        assert ticks and int(ticks.group(2)) > int(ticks.group(1)), out
        assert "[%s] memstress: rtc: load pair from 0x9010000" % vm in out, out
    # The machine's PL031 answered the owner's load pair, with the time it read before.
    pair = re.search(r"\[owner\] memstress: rtc: load pair completed: RTCDR (\d+) RTCMR", out)
    before = re.search(r"\[owner\] memstress: rtc: RTCDR \d+, then (\d+) after", out)
    assert pair and int(pair.group(1)) >= int(before.group(1)), out
    assert "[owner] memstress: PASS rounds=40" in out, out
    # The other VM's page is ferry's trap window: its plain reads were emulated, its pair is not.
    assert re.search(r"ferry: vm 'other' vcpu 0 stopped: MMIO access the hardware did not "
                     r"describe \(ISV=0\) \(ESR 0x[0-9a-f]+ EC 0x24 [^\r\n]*?HPFAR "
                     r"0x90100 ", out), out
    assert "[other] memstress: rtc: load pair completed" not in out, out


def write_config(tmp_path, name, vms):
    """A config of memstress VMs: vms is [(name, cpu, extra property lines)]; an extra ram-base
    replaces the default one."""
    body = ""
    for vm, cpu, extra in vms:
        base = "" if any(e.startswith("ram-base") for e in extra) else \
            "\t\t\tram-base = <0x0 0x40000000>;\n"
        body += ('\t\t%s {\n%s\t\t\tram-size = <0x0 0x04000000>;'
                 '\n\t\t\tcpus = <%d>;\n\t\t\timage = "memstress";\n\t\t\tdevices = "uart";\n'
                 '%s\t\t};\n' % (vm, base, cpu, "".join("\t\t\t%s\n" % e for e in extra)))
    dts = tmp_path / (name + ".dts")
    dts.write_text('/dts-v1/;\n/ {\n\tcompatible = "ferry,config-v1";\n\tvms {\n%s\t};\n};\n'
                   % body)
    dtb = tmp_path / (name + ".dtb")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(dtb), str(dts)], check=True)
    return str(dtb)


BAD = [
    ("console", [("a", 1, ['passthrough = "/pl011@9000000";'])],
     "config: vm 'a': property 'passthrough': '/pl011@9000000': 0x9000000-0x9000fff holds "
     "ferry's console (PL011)"),
    ("twice", [("a", 1, ['passthrough = "/pl061@9030000";']),
               ("b", 2, ['passthrough = "/pl061@9030000";'])],
     "config: vm 'b': property 'passthrough': '/pl061@9030000': 0x9030000-0x9030fff is already "
     "owned by vm 'a' ('/pl061@9030000')"),
    ("missing", [("a", 1, ['passthrough = "/pl061@9040000";'])],
     "config: vm 'a': property 'passthrough': '/pl061@9040000': no such node in the machine's "
     "device tree"),
    ("unaligned", [("a", 1, ['passthrough = "/virtio_mmio@a000200";'])],
     "config: vm 'a': property 'passthrough': '/virtio_mmio@a000200': 0xa000200 is not 4 KiB "
     "aligned (stage 2 maps whole pages, and a page shared with another device would go with "
     "it)"),
    ("rtc-twice", [("a", 1, ['passthrough = "/pl031@9010000";']),
                   ("b", 2, ['passthrough = "/pl031@9010000";'])],
     "config: vm 'b': property 'passthrough': '/pl031@9010000': 0x9010000-0x9010fff is already "
     "owned by vm 'a' ('/pl031@9010000')"),
]


def test_ownership_errors_stop_boot(machine, tmp_path):
    for name, vms, want in BAD:
        m = machine(config=write_config(tmp_path, name, vms), timeout=60)
        m.expect_exact(want)
        m.expect_exact("ferry: boot stopped")
        assert m.wait_exit() == ferry_qemu.EXIT_BOOT_ERROR
        assert "memstress" not in m.output()


def test_ferry_never_takes_an_owned_nic(machine, tmp_path):
    """The machine's only virtio-net is owned by 'owner' (RAM at IPA = PA, as its DMA needs):
    ferry keeps it out of its own choice of NIC, so it has none, and says so to a migrate of
    'other'. (memstress is linked for RAM at 0x40000000, so 'owner', whose RAM is at 0x44000000,
    faults at its first access and is stopped: only its config matters here.)"""
    dtb = write_config(tmp_path, "nic", [
        ("owner", 1, ["ram-base = <0x0 0x44000000>;", "ram-pa = <0x0 0x44000000>;",
                      'bootargs = "rounds=30";', 'passthrough = "/virtio_mmio@a001000";']),
        ("other", 2, ['bootargs = "rounds=30";'])])
    m = machine(config=dtb, timeout=240, extra=ferry_qemu.passthrough_args(net=True))
    m.expect_exact("ferry: passthrough: vm 'owner' owns '/virtio_mmio@a001000': "
                   "0xa001000-0xa001fff INTID 56 (edge)")
    m.expect(r"\[other\] memstress: round 1/30")
    m.shell("migrate other")
    m.expect_exact("migrate: no network device")
    m.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 1 faulted; exit 1")
    assert m.wait_exit() == ferry_qemu.EXIT_VM_FAILED
    out = m.output()
    assert "ferry: network: virtio-net" not in out, out
    assert "[other] memstress: PASS rounds=30" in out, out
