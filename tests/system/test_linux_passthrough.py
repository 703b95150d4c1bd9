# SPDX-License-Identifier: Apache-2.0
"""Device passthrough to the Linux guest (docs/passthrough.md): QEMU virt's virtio-blk and
virtio-net (virtio-mmio transports 16 and 8) and its PL061 given to the VM of
tests/system/configs/linux-passthrough.dts. Debian's own virtio_mmio, virtio_blk and virtio_net
modules load from the initramfs and drive the real devices: the guest reads the MiB the host wrote
to the disk image, writes a fresh MiB and reads it back, and the host finds that MiB in the image
after the run; the guest pings QEMU's gateway and fetches a file from a server on the host's
loopback; each device's interrupts arrive (hardware-backed virtual SPIs)."""
import hashlib
import http.server
import os
import re
import sys
import threading
import time

import pexpect
import pytest

import test_linux_direct as direct

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ferry_qemu  # noqa: E402

CONFIG = os.path.join(direct.BUILD, "tests", "system", "configs", "linux-passthrough.dtb")
IMAGE = os.path.join(direct.BUILD, "ferry-san.bin")
MiB = 1 << 20


class Blob(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        if self.path != "/blob":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A server on the host's loopback (QEMU's user network forwards 10.0.2.2 to it) for one
    request or a few; stopped after the test."""
    Blob.body = os.urandom(300 * 1024)
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Blob)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd.server_address[1], hashlib.sha256(Blob.body).hexdigest()
    httpd.shutdown()
    httpd.server_close()


class LinuxPassthrough(direct.Linux):
    def __init__(self, workdir, disk):
        direct.require_guest()
        self.transcript = []
        self.commands = 0
        config = os.path.join(workdir, "linux-passthrough.dtb")
        extra = ferry_qemu.linux_loader_args(CONFIG, config, direct.IMAGE, direct.INITRD,
                                             bootargs="console=ttyAMA0")
        extra += ferry_qemu.passthrough_args(disk=disk, net=True)
        args = ferry_qemu.qemu_args(image=IMAGE, config=config, smp=3, mem="1G", extra=extra)
        self.child = pexpect.spawn(args[0], args[1:], encoding="utf-8", codec_errors="replace",
                                   timeout=30, cwd=TOP)
        self.child.logfile_read = self
        self.expect(r"ferry: shell on this console")
        self.child.send("console linux\r")
        self.expect(r"console: attached to vm 'linux'")
        self.expect(r"ferry-linux: ready\r*\n", timeout=300)
        self.expect(r"/ # ")

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)


def test_virtio_disk_and_network_passed_through(tmp_path, server):
    port, blob_sum = server
    disk = str(tmp_path / "disk.img")
    first = os.urandom(MiB)
    with open(disk, "wb") as f:
        f.write(first)
        f.truncate(4 * MiB)
    guest = LinuxPassthrough(str(tmp_path), disk)
    try:
        out = guest.output()
        for line in ("ferry: passthrough: vm 'linux' owns '/virtio_mmio@a002000': "
                     "0xa002000-0xa002fff INTID 64 (edge)",
                     "ferry: passthrough: vm 'linux' owns '/virtio_mmio@a001000': "
                     "0xa001000-0xa001fff INTID 56 (edge)",
                     "ferry: passthrough: vm 'linux' owns '/pl061@9030000': "
                     "0x9030000-0x9030fff INTID 39 (level)"):
            assert line in out, out
        # Debian's modules, loaded by /init from the initramfs, in dependency order.
        assert re.search(r"ferry-linux: modules virtio_mmio virtio_blk (failover net_failover )?"
                         r"virtio_net", out), out
        text, status = guest.run("ptcheck %d" % port, timeout=300)
        sys.stderr.write("linux guest (passthrough):\n%s\n" % text)
        assert status == 0 and "ptcheck: done" in text, text
        assert "ptcheck: disk size 8192 sectors" in text, text
        m = re.search(r"ptcheck: disk first MiB sha256 ([0-9a-f]{64})", text)
        assert m and m.group(1) == hashlib.sha256(first).hexdigest(), text
        m = re.search(r"ptcheck: disk wrote sha256 ([0-9a-f]{64}) read back ([0-9a-f]{64})", text)
        assert m and m.group(1) == m.group(2), text
        wrote = m.group(1)
        assert "ptcheck: net ping 3 packets received" in text, text
        m = re.search(r"ptcheck: net fetched (\d+) bytes sha256 ([0-9a-f]{64})", text)
        assert m and int(m.group(1)) == 300 * 1024 and m.group(2) == blob_sum, text
        for dev in ("a001000.virtio_mmio driver virtio-mmio", "a002000.virtio_mmio driver "
                    "virtio-mmio", "9030000.pl061 driver pl061_gpio"):
            assert "ptcheck: device " + dev in text, text
        assert re.search(r"ptcheck: gpio gpiochip\d+ label 9030000.pl061 ngpio 8", text), text
        # Each virtio device's interrupts arrived through the vGIC, at the machine's INTID.
        for intid in (64, 56):
            m = re.search(r"ptcheck: irq +\d+: (\d+) (\d+) GICv3 %d Edge virtio\d" % intid, text)
            assert m and int(m.group(1)) + int(m.group(2)) > 0, text
        # A VM that owns devices does not migrate; it runs on.
        guest.child.send("\x1d")
        guest.expect(r"console: back to the shell")
        guest.child.send("migrate linux\r")
        guest.expect(r"migrate: vm 'linux' owns the machine's device '/virtio_mmio@a002000' "
                     r"\(passthrough\): refused, it runs on")
        guest.child.send("console linux\r")
        guest.expect(r"console: attached to vm 'linux'")
        assert guest.run("cat /sys/block/vda/size") == ("8192", 0)
        guest.child.send("poweroff -f\r")
        guest.child.expect(pexpect.EOF, timeout=120)
    finally:
        guest.close()
    # The guest's MiB is in the image file, where it wrote it.
    with open(disk, "rb") as f:
        f.seek(MiB)
        assert hashlib.sha256(f.read(MiB)).hexdigest() == wrote
