# SPDX-License-Identifier: Apache-2.0
"""A virtual network link between two Linux VMs (docs/vnet.md): tests/system/configs/linux-vnet.dts
gives `alpha` and `beta` one end each of a link, and `gamma` none. Debian's own virtio_mmio and
virtio_net modules (loaded by the initramfs' /init) drive ferry's emulated virtio-net; the guests
configure addresses with busybox, ping each other and move a few MiB of random data over TCP with
busybox nc, whose sha256 must match on both ends. gamma has no network device at all, and
ferry's per-end counters show that every frame went from one end of the link to the other."""
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

CONFIG = os.path.join(direct.BUILD, "tests", "system", "configs", "linux-vnet.dtb")
IMAGE = os.path.join(direct.BUILD, "ferry-san.bin")
VMS = ("alpha", "beta", "gamma")
ADDR = {"alpha": "10.66.0.1", "beta": "10.66.0.2"}
MIB = 4
ESC = "\x1d"  # Ctrl-]: the console back to ferry's shell


class Machine(direct.Linux):
    """One ferry with the three VMs; run(vm, command) attaches the console to vm, types the
    command and returns its output and exit status. The console transcript and expect() are
    test_linux_direct's."""

    def __init__(self, workdir, image=IMAGE, config=CONFIG, vms=VMS, kernel=None, initrd=None):
        direct.require_guest()
        self.transcript = []
        self.commands = 0
        self.attached = None
        out = os.path.join(workdir, "linux-vnet.dtb")
        extra = ferry_qemu.linux_loader_args(config, out, kernel or direct.IMAGE,
                                             initrd or direct.INITRD, bootargs="console=ttyAMA0")
        args = ferry_qemu.qemu_args(image=image, config=out, smp=len(vms) + 1, mem="1G",
                                    extra=extra)
        self.child = pexpect.spawn(args[0], args[1:], encoding="utf-8", codec_errors="replace",
                                   timeout=30, cwd=TOP)
        self.child.logfile_read = self
        self.expect(r"ferry: shell on this console")
        for vm in vms:
            self.wait_console(r"\[%s\] ferry-linux: ready" % vm, timeout=600)
        # Then each shell's banner, up to its blank line: a VM still printing it while another's
        # console is attached puts its lines between that VM's output (a marker split in two).
        for vm in vms:
            self.wait_console(r"\[%s\] Enter 'help' for a list of built-in commands\.\r*\n"
                              r"\[%s\] *\r*\n" % (vm, vm), timeout=120)

    def wait_console(self, regex, timeout=30):
        """As test_linux_direct's, but a pattern that does not come is a failure."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(regex, self.output())
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError("no %r on the console; it was:\n%s" %
                                     (regex, self.output()[-8000:]))
            try:
                self.child.expect(pexpect.TIMEOUT, timeout=0.2)
            except pexpect.EOF:
                raise AssertionError("QEMU ended:\n" + self.output()[-8000:])

    def attach(self, vm):
        if self.attached == vm:
            return
        self.detach()
        self.child.send("console %s\r" % vm)
        self.expect(r"console: attached to vm '%s'" % vm)
        self.attached = vm

    def detach(self):
        if self.attached:
            self.child.send(ESC)
            self.expect(r"console: back to the shell \(vm '%s' running\)" % self.attached)
            self.attached = None

    def run(self, vm, command, timeout=60):
        self.attach(vm)
        return direct.Linux.run(self, command, timeout=timeout)

    def shell(self, command, until):
        """A ferry shell command; returns the console from it up to `until`."""
        self.detach()
        start = len(self.output())
        self.child.send(command + "\r")
        self.wait_console(until)
        return self.output()[start:]

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)


def checked(machine, vm, command, timeout=60):
    text, status = machine.run(vm, command, timeout=timeout)
    assert status == 0, "%s: %r failed (%d):\n%s" % (vm, command, status, text)
    return text


def up(machine, vm):
    checked(machine, vm, "ip addr add %s/24 dev eth0 && ip link set eth0 up" % ADDR[vm])


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    m = Machine(str(tmp_path_factory.mktemp("vnet")))
    yield m
    m.close()


def test_devices_and_boot_lines(machine):
    out = machine.output()
    assert ("ferry: vnet: 'alpha' 02:66:72:00:00:0a <-> 'beta' 02:66:72:00:00:0b, virtio-mmio "
            "0xa000000 INTID 48 in each") in out, out
    for vm in ("alpha", "beta"):
        text = checked(machine, vm, "cat /sys/class/net/eth0/address; "
                       "readlink /sys/class/net/eth0/device/driver; ls /sys/class/net")
        mac = "02:66:72:00:00:0a" if vm == "alpha" else "02:66:72:00:00:0b"
        assert mac in text and "virtio_net" in text, text
    text = checked(machine, "gamma", "ls /sys/class/net")
    assert text.split() == ["lo"], text


def test_ping_both_ways(machine):
    up(machine, "alpha")
    up(machine, "beta")
    for src, dst in (("alpha", "beta"), ("beta", "alpha")):
        text = checked(machine, src, "ping -c 5 -W 5 %s" % ADDR[dst], timeout=120)
        assert "5 packets transmitted, 5 packets received" in text, text


def test_tcp_transfer_checksum(machine):
    checked(machine, "alpha", "dd if=/dev/urandom of=/tmp/d bs=1M count=%d 2>/dev/null; "
            "sha256sum /tmp/d" % MIB)
    sent = re.search(r"([0-9a-f]{64})  /tmp/d", machine.run("alpha", "sha256sum /tmp/d")[0])
    assert sent
    # beta listens in the background; its verdict lines come to the console, prefixed, once the
    # console is back on alpha.
    checked(machine, "beta", "(nc -l -p 5001 > /tmp/r; echo vnetrx $(sha256sum /tmp/r) "
            "$(wc -c < /tmp/r) done) & true")
    t0 = time.monotonic()
    checked(machine, "alpha", "time nc -w 30 %s 5001 < /tmp/d" % ADDR["beta"], timeout=600)
    m = machine.wait_console(r"\[beta\] vnetrx ([0-9a-f]{64}) /tmp/r (\d+) done", timeout=120)
    seconds = time.monotonic() - t0
    sys.stderr.write("vnet: %d MiB over TCP in %.1f s\n" % (MIB, seconds))
    assert m.group(1) == sent.group(1) and int(m.group(2)) == MIB << 20, machine.output()[-4000:]


def test_stats_count_the_frames_and_gamma_nothing(machine):
    out = machine.shell("stats", r"stats: vnet 'beta': [^\n]*refused accesses \d+\r*\n")
    rx = {}
    sys.stderr.write("".join(re.findall(r"stats: vnet [^\n]*\n", out)))
    for vm in ("alpha", "beta"):
        m = re.search(r"stats: vnet '%s': tx (\d+) frames (\d+) bytes, rx (\d+) frames (\d+) "
                      r"bytes" % vm, out)
        assert m, out
        rx[vm] = int(m.group(4))
    assert rx["beta"] >= MIB << 20, out
    assert "vnet 'gamma'" not in out, out


def test_migrate_refused(machine):
    out = machine.shell("migrate alpha", r"migrate: [^\n]*\r*\n")
    assert ("migrate: vm 'alpha' has the virtual network device 'vnet' linked to vm 'beta' (its "
            "peer stays here): refused, it runs on") in out, out
