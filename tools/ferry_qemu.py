"""Start ferry under QEMU: the one place that knows the command line.

Used by tools/ferry-run (make run), the system tests and the benchmarks, so all of them boot ferry
the same way: QEMU virt with virtualization=on (ferry enters at EL2), GICv3, semihosting on (ferry's
exit status becomes QEMU's), a VM configuration either built in or loaded at the config slot.
"""
import os
import shlex

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


def command_line(**kw):
    return " ".join(shlex.quote(a) for a in qemu_args(**kw))
