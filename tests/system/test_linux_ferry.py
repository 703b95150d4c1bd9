# SPDX-License-Identifier: Apache-2.0
"""The Linux guest recipe as a ferry VM (docs/linux-guest.md, "Running under ferry"): Debian's kernel
and our initramfs, loaded by QEMU's loader (tests/system/configs/linux.dts), on 2 vCPUs with the
vGICv3, the virtual timer and the PL011's receive side. The console is attached to the VM with the
shell's `console linux`, then: the ready line, 2 CPUs online, timer interrupts and IPIs counting on
both CPUs, `sleep 2` taking 2 s, a typed command answering, Ctrl-] back to the shell, and a clean
power-off ending the run with status 0."""
import os
import re
import sys
import time

import pexpect
import pytest

import test_linux_direct as direct

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ferry_qemu  # noqa: E402

BUILD = direct.BUILD
CONFIG = os.path.join(BUILD, "tests", "system", "configs", "linux.dtb")
IMAGE = os.path.join(BUILD, "ferry-san.bin")
BOOTARGS = "console=ttyAMA0 linstress=" + direct.LINSTRESS


class LinuxOnFerry(direct.Linux):
    """direct.Linux's console helpers, on ferry's console attached to the VM."""

    def __init__(self, cpu, workdir):
        direct.require_guest()
        self.transcript = []
        self.commands = 0
        config = os.path.join(workdir, "linux-%s.dtb" % cpu)
        extra = ferry_qemu.linux_loader_args(CONFIG, config, direct.IMAGE, direct.INITRD,
                                             bootargs=BOOTARGS)
        args = ferry_qemu.qemu_args(image=IMAGE, config=config, cpu=direct.CPUS[cpu], smp=3,
                                    mem="1G", extra=extra)
        self.started = time.monotonic()
        self.child = pexpect.spawn(args[0], args[1:], encoding="utf-8", codec_errors="replace",
                                   timeout=30, cwd=TOP)
        self.child.logfile_read = self
        self.expect(r"ferry: shell on this console")
        self.child.send("console linux\r")
        self.expect(r"console: attached to vm 'linux'")
        self.expect(r"ferry-linux: ready\r*\n", timeout=120)
        self.boot_seconds = time.monotonic() - self.started
        self.expect(r"/ # ")
        self.wait_console(direct.VERDICT, timeout=60)

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)


@pytest.fixture(scope="module", params=sorted(direct.CPUS), ids=lambda c: "cpu=" + c)
def linux(request, tmp_path_factory):
    guest = LinuxOnFerry(request.param, str(tmp_path_factory.mktemp("linux")))
    yield guest
    guest.close()


def test_ready_and_two_cpus(linux):
    out = linux.output()
    assert "ferry-linux: cpus 2 online 0-1" in out
    assert linux.run("cat /sys/devices/system/cpu/online") == ("0-1", 0)
    assert linux.run("nproc") == ("2", 0)
    sys.stderr.write("linux under ferry: ready after %.1f s\n" % linux.boot_seconds)
    assert linux.boot_seconds < 120


def test_timer_and_ipis_count_on_both_cpus(linux):
    direct.test_timer_and_ipis_count_on_both_cpus(linux)


def test_sleep_2_takes_2_seconds(linux):
    direct.test_sleep_2_takes_2_seconds(linux)


def test_typed_command_answers(linux):
    direct.test_typed_command_answers(linux)


def test_cpu_hotplug(linux):
    """CPU 1 offline (PSCI CPU_OFF) and online again (CPU_ON: a fresh vCPU reset, its virtual CPU
    interface out of reset), then it takes timer interrupts again."""
    assert linux.run("echo 0 > /sys/devices/system/cpu/cpu1/online")[1] == 0
    assert linux.run("cat /sys/devices/system/cpu/online") == ("0", 0)
    assert linux.run("echo 1 > /sys/devices/system/cpu/cpu1/online")[1] == 0
    assert linux.run("cat /sys/devices/system/cpu/online") == ("0-1", 0)
    direct.test_timer_and_ipis_count_on_both_cpus(linux)


def test_dirty_logging_under_linstress(linux):
    """Stage-2 dirty logging started, collected and stopped from the shell while linstress
    rewrites 32 MiB at 5000 pages/s: write faults (wp), then hardware dirty state (dbm) where the
    CPU has it; a write fault that races with `dirtylog stop` is retried, not taken for a stray
    access. linstress's ledger holds throughout."""
    linux.run("rm -f /tmp/dl")
    linux.child.send("(linstress --mib 32 --rate 5000 --rounds 6 --interval-ms 500 >/tmp/dl 2>&1;"
                     " echo rc=$? >>/tmp/dl) &\r")
    linux.expect(r"/ # ")
    time.sleep(1)
    linux.child.send("\x1d")
    linux.expect(r"console: back to the shell")
    for mode in ("wp", "dbm"):
        linux.child.send("dirtylog linux start %s\r" % mode)
        m = linux.expect(r"dirtylog: vm 'linux': (started \(%s\)|cannot start)" % mode)
        if m.group(1) == "cannot start":
            continue
        for _ in range(3):
            time.sleep(0.3)
            linux.child.send("dirtylog linux collect\r")
            linux.expect(r"dirtylog: vm 'linux': collected \d+ dirty pages")
        linux.child.send("dirtylog linux stop\r")
        linux.expect(r"dirtylog: vm 'linux': stopped")
    linux.child.send("console linux\r")
    linux.expect(r"console: attached to vm 'linux'")
    out = ""
    for _ in range(40):
        out, status = linux.run("cat /tmp/dl")
        if "rc=" in out:
            break
        time.sleep(0.5)
    assert "rc=0" in out, out
    v = direct.VERDICT.search(out)
    assert v and v.groups()[:4] == ("PASS", "6", "8192", "0"), out
    assert not re.search(r"data abort at IPA 0x(?!20000000)", linux.output())


def test_stray_access_is_a_bus_error(linux):
    """on-abort = "inject": a load from an IPA with neither RAM nor a device (through /dev/mem)
    becomes a synchronous external abort in the guest, which Linux turns into SIGBUS for the
    process; the VM runs on."""
    out, status = linux.run("devmem 0x20000000 32 2>&1")
    assert status == 135 and "Bus error" in out, out
    assert re.search(r"ferry: vm 'linux' vcpu \d: data abort at IPA 0x20000000 outside its memory "
                     r"and devices \(ELR 0x[0-9a-f]+\): synchronous external abort injected",
                     linux.output())
    assert linux.run("echo $((6*7))") == ("42", 0)


def test_board_devices_and_pmu(linux):
    """What guest-view.md promises Linux sees: the PL031 as rtc0 on the host's wall clock, the
    virtio-mmio slots reading as empty (magic "virt", device ID 0), and the PMU (its driver
    probes; a cycles counter counts through perf_event_open, which busybox lacks: /proc shows the
    PMU's interrupt instead, and the driver's line in the kernel log)."""
    out, status = linux.run("cat /sys/class/rtc/rtc0/name /sys/class/rtc/rtc0/since_epoch")
    assert status == 0, out
    assert "pl031" in out and abs(int(out.split()[-1]) - time.time()) < 120, out
    out, status = linux.run("devmem 0x0a000000 32; devmem 0x0a003e08 32")
    assert status == 0 and out.split()[-2:] == ["0x74726976", "0x00000000"], out
    out, status = linux.run("dmesg | grep -c 'hw perfevents: enabled'; grep -c arm-pmu /proc/interrupts")
    assert status == 0 and out.split()[-2:] == ["1", "1"], out


def test_pmu_counts_through_perf_events(linux):
    """The guest's own PMU counts under ferry as on bare QEMU (test_linux_direct): cycles of a
    known loop through perf_event_open, the interface `perf stat -e cycles,instructions` uses, and
    instructions exactly as QEMU offers them (only under -icount)."""
    cycles, _ = direct.pmucheck(linux)
    assert cycles > 1000000


def test_its_probed_and_lpis_enabled(linux):
    """The vGIC's ITS (docs/vgic.md "LPIs and the ITS"): Linux finds it in the DT, sizes its flat
    device table from GITS_TYPER and GITS_BASER0 (the page size and shareability it writes stick),
    gives each CPU's redistributor an LPI pending table (EnableLPIs), and its commands (MAPC,
    INVALL, SYNC for each CPU) are consumed: GITS_CREADR reaches GITS_CWRITER, which a stuck
    queue would leave behind (Linux then logs "ITS queue timeout")."""
    out = linux.output()
    assert "ITS [mem 0x08080000-0x0809ffff]" in out, out[-4000:]
    assert re.search(r"ITS@0x0000000008080000: allocated 65536 Devices @[0-9a-f]+ "
                     r"\(flat, esz 8, psz 64K, shr 1\)", out), out[-4000:]
    assert re.search(r"GICv3: using LPI property table @0x[0-9a-f]+", out), out[-4000:]
    for cpu in (0, 1):
        assert re.search(r"GICv3: CPU%d: using allocated LPI pending table @0x[0-9a-f]+" % cpu,
                         out), out[-4000:]
    assert "its@8080000 domain created" in out
    assert "ITS queue timeout" not in out and "cache flushing" not in out
    regs, status = linux.run("devmem 0x08080000 32; devmem 0x08080088 64; devmem 0x08080090 64")
    assert status == 0, regs
    ctlr, cwriter, creadr = (int(x, 16) for x in regs.split()[-3:])
    assert ctlr == 0x80000001, regs          # Enabled, Quiescent
    assert creadr == cwriter >= 4 * 32, regs  # at least MAPC and INVALL for both CPUs
    # ferry's count of them: every command Linux issued was valid.
    linux.child.send("\x1d")
    linux.expect(r"console: back to the shell")
    linux.child.send("traps linux\r")
    its = linux.expect(r"traps: vm 'linux' ITS: (\w+)(, stalled)?, commands (\d+), errors (\d+) ")
    linux.child.send("console linux\r")
    linux.expect(r"console: attached to vm 'linux'")
    assert its.group(1) == "enabled" and its.group(2) is None, its.group(0)
    assert int(its.group(3)) == cwriter // 32 and its.group(4) == "0", its.group(0)


def test_linstress_from_command_line(linux):
    verdict = linux.wait_console(direct.VERDICT, timeout=30)
    assert verdict and verdict.groups()[:4] == ("PASS", "3", "2048", "0"), linux.output()[-4000:]


def test_detach_and_power_off(linux):
    """Ctrl-] gives the console back to the shell while the VM runs on; the shell's `vms` shows
    it running; attached again, `poweroff -f` ends the VM and with it the run, status 0."""
    linux.child.send("\x1d")
    linux.expect(r"console: back to the shell \(vm 'linux' running\)")
    linux.child.send("vms\r")
    linux.expect(r"vm linux +running +vmid 1 cpus 1,2 ram 512 MiB")
    linux.child.send("console linux\r")
    linux.expect(r"console: attached to vm 'linux'")
    linux.child.send("\r")
    linux.expect(r"/ # ")
    linux.child.send("poweroff -f\r")
    linux.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 0 faulted; exit 0",
                 timeout=60)
    linux.child.expect(pexpect.EOF, timeout=30)
    linux.child.close()
    assert linux.child.exitstatus == 0


def test_panic_resets_linux_alone_beside_memstress(tmp_path):
    """Linux beside a memstress VM: a panic forced in Linux (panic=-1: it reboots) resets that VM
    alone, with the reason printed, and it boots again; memstress runs on and verifies; the run
    ends with status 0 once both have powered off. memstress's lines never cut one of Linux's."""
    direct.require_guest()
    config = str(tmp_path / "linux-memstress.dtb")
    extra = ferry_qemu.linux_loader_args(
        os.path.join(BUILD, "tests", "system", "configs", "linux-memstress.dtb"), config,
        direct.IMAGE, direct.INITRD)
    args = ferry_qemu.qemu_args(image=IMAGE, config=config, cpu=direct.CPUS["max"], smp=4,
                                mem="1G", extra=extra)
    child = pexpect.spawn(args[0], args[1:], encoding="utf-8", codec_errors="replace",
                          timeout=120, cwd=TOP)
    transcript = []

    class Tee:
        write = transcript.append

        def flush(self):
            pass

    child.logfile_read = Tee()
    try:
        child.expect(r"ferry: shell on this console")
        child.send("console linux\r")
        child.expect(r"console: attached to vm 'linux'")
        child.expect(r"ferry-linux: ready")
        child.expect(r"/ # ")
        child.send("echo c > /proc/sysrq-trigger\r")
        child.expect(r"Kernel panic - not syncing: sysrq triggered crash")
        child.expect(r"ferry: vm 'linux' resets")
        child.expect(r"ferry-linux: ready")
        child.expect(r"/ # ")
        child.send("echo $((6*7))\r")
        child.expect(r"\n42\r*\n")
        child.send("poweroff -f\r")
        child.expect(r"ferry: all VMs have ended: 2 powered off, 0 migrated, 0 faulted; exit 0")
        child.expect(pexpect.EOF, timeout=30)
        child.close()
        assert child.exitstatus == 0
        out = "".join(transcript)
        assert re.search(r"\[mem\] memstress: PASS rounds=30 pages=\d+ errors=0", out), out[-3000:]
        assert "[mem] memstress: round 30/30" in out
        # The other VM's lines never land inside the attached console's line (its prompt, a
        # line Linux is still printing): each starts a line of its own.
        assert not re.search(r"[^\n]\[mem\]", out), out[-3000:]
    except pexpect.TIMEOUT:
        print("".join(transcript)[-6000:])  # pytest shows it with the failure
        raise
    finally:
        if child.isalive():
            child.terminate(force=True)


def test_ferry_run_linux_starts_attached():
    """`make linux` (tools/ferry-run --linux): the config's `console` flag attaches the console to
    the VM at boot, so a newcomer lands in Linux's shell."""
    direct.require_guest()
    child = pexpect.spawn(os.path.join(TOP, "tools", "ferry-run"),
                          ["--linux", "--variant", "ferry-san"], encoding="utf-8",
                          codec_errors="replace", timeout=120, cwd=TOP,
                          env=dict(os.environ, FERRY_BUILD=BUILD))
    try:
        child.expect(r"console: attached to vm 'linux' \(config 'console'\)")
        child.expect(r"ferry-linux: ready")
        child.expect(r"/ # ")
        child.send("echo $((6*7))\r")
        child.expect(r"\n42\r*\n")
        child.send("poweroff -f\r")
        child.expect(r"ferry: all VMs have ended: 1 powered off, 0 migrated, 0 faulted; exit 0")
        child.expect(pexpect.EOF, timeout=30)
        child.close()
        assert child.exitstatus == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
