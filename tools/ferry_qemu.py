"""Start ferry under QEMU: the one place that knows the command line.

Used by tools/ferry-run (make run), the system tests and the benchmarks, so all of them boot ferry
the same way: QEMU virt with virtualization=on (ferry enters at EL2), GICv3, semihosting on (ferry's
exit status becomes QEMU's), a VM configuration either built in or loaded at the config slot.
"""
import os
import shlex
import subprocess

QEMU = "qemu-system-aarch64"
# platform/qemu-virt/platform.h: PLAT_CONFIG_SLOT
CONFIG_SLOT = 0x43F00000

# Exit statuses (docs/architecture.md).
EXIT_CLEAN = 0      # every VM powered off
EXIT_VM_FAILED = 1  # a VM faulted (or the TLBI sanitizer stopped it)
EXIT_BOOT_ERROR = 2  # bad config, missing hardware
EXIT_PANIC = 3      # hypervisor bug


def build_dir():
    return os.environ.get("FERRY_BUILD", "build")


def qemu_args(image=None, config=None, cpu="max", smp=3, mem="1G", icount=False,
              serial="mon:stdio", extra=()):
    """The QEMU command line for one ferry machine."""
    image = image or os.path.join(build_dir(), "ferry.bin")
    args = [QEMU, "-M", "virt,virtualization=on,gic-version=3", "-cpu", cpu,
            "-smp", str(smp), "-m", mem, "-nographic", "-no-reboot",
            "-semihosting-config", "enable=on,target=native",
            "-serial", serial, "-monitor", "none", "-kernel", image]
    if icount:
        # Deterministic instruction counts: the PMU's INST_RETIRED exists only with a fixed shift.
        args += ["-icount", "shift=0,sleep=off"]
    if config:
        args += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (config, CONFIG_SLOT)]
    args += list(extra)
    return args


# The largest Ethernet frame each link carries, given to ferry as the NIC's MTU (virtio-net's
# host_mtu; frame = MTU + 14). QEMU's stream netdev frames packets with a length prefix and takes
# up to 64 KiB; dgram sends each frame as one UDP datagram, at most 65507 bytes.
LINK_MTU = {"stream": 65522, "socket": 65522, "dgram": 65493, "ethernet": 1500}


def net_args(link, role, port, mac, legacy=False, mtu=None):
    """-netdev/-device for ferry's migration NIC. link: stream (TCP), socket (TCP, QEMU's older
    netdev), dgram (UDP, lossy when pushed). role: "server"/"client" (stream/socket) or "a"/"b"
    (dgram: a binds port, b binds port+1, each sends to the other)."""
    host = "127.0.0.1"
    if link == "stream":
        nd = ("stream,id=mig,server=%s,addr.type=inet,addr.host=%s,addr.port=%d"
              % ("on" if role == "server" else "off", host, port))
    elif link == "socket":
        nd = ("socket,id=mig,listen=%s:%d" % (host, port) if role == "server"
              else "socket,id=mig,connect=%s:%d" % (host, port))
    elif link == "dgram":
        mine, theirs = (port, port + 1) if role in ("a", "server") else (port + 1, port)
        nd = ("dgram,id=mig,local.type=inet,local.host=%s,local.port=%d,"
              "remote.type=inet,remote.host=%s,remote.port=%d" % (host, mine, host, theirs))
    else:
        raise ValueError("link must be stream, socket or dgram")
    mtu = mtu or LINK_MTU[link]
    dev = "virtio-net-device,netdev=mig,mac=%s" % mac
    if mtu and mtu != 1500:
        dev += ",host_mtu=%d" % mtu
    return ["-global", "virtio-mmio.force-legacy=%s" % ("true" if legacy else "false"),
            "-netdev", nd, "-device", dev]


def linux_loader_args(config, out, image, initrd, bootargs=None):
    """For a config that names a kernel and an initrd by image-pa/initrd-pa (such as
    tests/system/configs/linux.dtb): copies it to `out` with image-size and initrd-size set to the
    files' sizes (and bootargs, if given) in every VM that has them, and returns the QEMU loader
    options that put both files where the config says. Use with qemu_args(config=out, extra=...)."""
    def get(path, prop):
        return subprocess.run(["fdtget", "-t", "x", config, path, prop], check=True,
                              capture_output=True, text=True).stdout.split()

    with open(config, "rb") as f:
        blob = f.read()
    with open(out, "wb") as f:
        f.write(blob)
    vms = subprocess.run(["fdtget", "-l", config, "/vms"], check=True, capture_output=True,
                         text=True).stdout.split()
    extra = []
    for vm in vms:
        path = "/vms/" + vm
        props = subprocess.run(["fdtget", "-p", config, path], check=True, capture_output=True,
                               text=True).stdout.split()
        for prop, size_prop, fname in (("image-pa", "image-size", image),
                                       ("initrd-pa", "initrd-size", initrd)):
            if prop not in props:
                continue
            hi, lo = (int(x, 16) for x in get(path, prop))
            size = os.path.getsize(fname)
            subprocess.run(["fdtput", "-t", "x", out, path, size_prop,
                            "%x" % (size >> 32), "%x" % (size & 0xffffffff)], check=True)
            extra += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (fname, hi << 32 | lo)]
        if bootargs is not None:
            subprocess.run(["fdtput", "-t", "s", out, path, "bootargs", bootargs], check=True)
    return extra


def command_line(**kw):
    return " ".join(shlex.quote(a) for a in qemu_args(**kw))
