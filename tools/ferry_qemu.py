# SPDX-License-Identifier: Apache-2.0
"""Start QEMU: the one place that knows its command lines.

Used by tools/ferry-run (make run), tools/ferry-migrate, the system tests and the benchmarks, so all
of them boot the same way. qemu_args() is ferry's machine: QEMU virt with virtualization=on (ferry
enters at EL2), GICv3, semihosting on (ferry's exit status becomes QEMU's), a VM configuration either
built in or loaded at the config slot. direct_args() runs a guest directly under QEMU at EL1, the
reference a ferry VM is compared with.

Every command line starts with -nodefaults: QEMU's virt board otherwise adds a virtio-net-pci NIC
to any command line that names no network, and that NIC needs an option ROM (efi-virtio.rom) from
the ipxe-qemu package, which `make deps` does not install. With -nodefaults QEMU adds nothing; the
serial port and the monitor are named explicitly. missing_defaults() tells whether a command line
leaves QEMU free to add a default device; tests/qemu-guard refuses such command lines during the
system tests.
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


# Options that keep QEMU from adding anything the command line does not name, and from reading
# a user's or the system's configuration files.
NO_DEFAULTS = ["-nodefaults", "-no-user-config"]


def base_args(machine, cpu, smp, mem, serial="mon:stdio", monitor="none", icount=False):
    """The start every command line shares: the board, CPUs, RAM, the serial port and monitor
    named (there are no defaults), no display, no reboot (a guest's reset ends QEMU)."""
    args = [QEMU] + NO_DEFAULTS + ["-M", machine, "-cpu", cpu, "-smp", str(smp), "-m", mem,
                                   "-nographic", "-no-reboot", "-serial", serial,
                                   "-monitor", monitor]
    # Each vCPU's host thread named for its CPU ("CPU 1/TCG"): what top, perf and /proc show.
    args += ["-name", "ferry,debug-threads=on"]
    if icount:
        # Deterministic instruction counts: the PMU's INST_RETIRED exists only with a fixed shift.
        args += ["-icount", "shift=0,sleep=off"]
    return args


def qemu_args(image=None, config=None, cpu="max", smp=3, mem="1G", icount=False,
              serial="mon:stdio", extra=()):
    """The QEMU command line for one ferry machine."""
    image = image or os.path.join(build_dir(), "ferry.bin")
    args = base_args("virt,virtualization=on,gic-version=3", cpu, smp, mem, serial=serial,
                     icount=icount)
    args += ["-semihosting-config", "enable=on,target=native", "-kernel", image]
    if config:
        args += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (config, CONFIG_SLOT)]
    args += list(extra)
    return args


def direct_args(image, machine="virt,gic-version=3", cpu="max", smp=1, mem="128M", initrd=None,
                append=None, serial="mon:stdio", icount=False, extra=()):
    """A guest directly under QEMU, entered at EL1 (or at EL2 with machine=virt,virtualization=on),
    with QEMU's own DTB in x0: the reference run for memstress, the Linux guest and QEMU's own
    migration."""
    args = base_args(machine, cpu, smp, mem, serial=serial, icount=icount) + ["-kernel", image]
    if initrd:
        args += ["-initrd", initrd]
    if append is not None:
        args += ["-append", append]
    return args + list(extra)


# Invocations that ask QEMU a question and start no machine.
_QUERIES = {"--version", "-version", "--help", "-help", "-h"}


def missing_defaults(args):
    """Why the QEMU command line `args` (program name first) would let QEMU add a default device,
    or None if it would not. Only -nodefaults keeps every default out: -nic none alone still lets
    QEMU add its default serial, parallel and monitor devices."""
    rest = list(args[1:])
    if not rest or _QUERIES.intersection(rest) or "help" in rest or "?" in rest:
        return None
    if "-nodefaults" not in rest and "--nodefaults" not in rest:
        return "no -nodefaults: QEMU adds a default NIC (needs ipxe-qemu's ROM), serial and monitor"
    return None


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


def hub_net_args(local_port, hub_port, mac):
    """-netdev/-device for a migration NIC whose frames go, as UDP datagrams, to a program on the
    host at hub_port that relays them to the other machine (and may do more: the system test of
    the authenticated link puts an attacker there). The frames come back from it to local_port."""
    nd = ("dgram,id=mig,local.type=inet,local.host=127.0.0.1,local.port=%d,"
          "remote.type=inet,remote.host=127.0.0.1,remote.port=%d" % (local_port, hub_port))
    return ["-global", "virtio-mmio.force-legacy=false", "-netdev", nd,
            "-device", "virtio-net-device,netdev=mig,mac=%s,host_mtu=%d" % (mac, LINK_MTU["dgram"])]


# Device passthrough (docs/passthrough.md): QEMU virt's virtio-mmio transport N sits at
# 0xa000000 + N * 0x200 with SPI 16 + N. Transports 16 and 8 start pages of their own, so each device
# can be given to a VM whole (ferry maps 4 KiB pages).
PT_BLK_BUS, PT_NET_BUS = 16, 8


def passthrough_args(disk=None, net=False):
    """-drive/-netdev/-device options for the devices a passthrough config gives a VM: a virtio-blk
    on transport 16 (0xa002000, INTID 64) backed by the raw image `disk`, and a virtio-net on
    transport 8 (0xa001000, INTID 56) on QEMU's user network, where the guest reaches QEMU's
    gateway at 10.0.2.2 and, through it, the host's loopback."""
    args = []
    if disk:
        args += ["-drive", "file=%s,format=raw,if=none,id=ptdisk" % disk,
                 "-device", "virtio-blk-device,drive=ptdisk,bus=virtio-mmio-bus.%d" % PT_BLK_BUS]
    if net:
        args += ["-netdev", "user,id=ptnet",
                 "-device", "virtio-net-device,netdev=ptnet,bus=virtio-mmio-bus.%d" % PT_NET_BUS]
    return args


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
            loader = "loader,file=%s,addr=0x%x,force-raw=on" % (fname, hi << 32 | lo)
            if loader not in extra:  # VMs that share an image share its one copy
                extra += ["-device", loader]
        if bootargs is not None:
            subprocess.run(["fdtput", "-t", "s", out, path, "bootargs", bootargs], check=True)
    return extra


def command_line(**kw):
    return " ".join(shlex.quote(a) for a in qemu_args(**kw))
