# SPDX-License-Identifier: Apache-2.0
"""Every QEMU command line ferry's tools, tests and benchmarks build names what it wants and lets
QEMU add nothing by default (-nodefaults): on a fresh machine a default NIC stops QEMU at once, for
want of an option ROM that `make deps` does not install.

Three checks: the guard that every system test's QEMU goes through is really first on PATH and
really refuses; every launcher's command line passes the rule; and no file starts QEMU except
through tools/ferry_qemu.py, so the first two cover them all."""
import os
import re
import shutil
import subprocess
import sys

import pytest

import ferry_qemu
from conftest import QEMU_GUARD, TOP

GUARD = os.path.join(QEMU_GUARD, ferry_qemu.QEMU)


def guard(*args):
    return subprocess.run([GUARD] + list(args), capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_guard_first_on_path():
    assert shutil.which(ferry_qemu.QEMU) == GUARD


@pytest.mark.parametrize("args", [
    ["-M", "virt", "-cpu", "max", "-nographic", "-kernel", "/dev/null"],
    # -nic none keeps the NIC out but not the default serial, parallel and monitor devices.
    ["-M", "virt", "-nic", "none", "-nographic", "-kernel", "/dev/null"],
])
def test_guard_refuses_defaults(args):
    r = guard(*args)
    assert r.returncode == 125 and "qemu-guard: refused" in r.stderr, r


def test_guard_runs_real_qemu():
    r = guard("--version")
    assert r.returncode == 0 and "QEMU emulator version" in r.stdout, r
    # A complete machine that ends at once: QEMU starts and the guard does not object.
    r = guard(*ferry_qemu.direct_args("/dev/null", mem="64M")[1:] + ["-S", "-qmp", "stdio"])
    assert "qemu-guard" not in r.stderr and "romfile" not in r.stderr, r.stderr


def _tool(name):
    import importlib.machinery
    import importlib.util
    path = os.path.join(TOP, name)
    loader = importlib.machinery.SourceFileLoader(os.path.basename(name).replace("-", "_"), path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def launcher_command_lines():
    """Each launcher's command line, built by the launcher's own code."""
    lines = {
        "ferry_qemu.qemu_args": ferry_qemu.qemu_args(),
        "ferry_qemu.qemu_args icount+config+net": ferry_qemu.qemu_args(
            config="x.dtb", icount=True, serial="stdio",
            extra=ferry_qemu.net_args("stream", "server", 5555, "52:54:00:fe:00:02")),
        "ferry_qemu.direct_args": ferry_qemu.direct_args("Image", initrd="initrd", append="x"),
    }
    run = subprocess.run([sys.executable, os.path.join(TOP, "tools", "ferry-run"), "--print"],
                         capture_output=True, text=True, cwd=TOP, check=True)
    lines["tools/ferry-run --print"] = run.stdout.split()
    sys.path.insert(0, os.path.join(TOP, "bench", "migrate"))
    import qemu_native
    lines["bench/migrate/qemu_native"] = qemu_native.qemu_command("m.bin", "512M", "", "s", "q")
    return lines


@pytest.mark.parametrize("name", sorted(launcher_command_lines()))
def test_launcher_names_its_devices(name):
    args = launcher_command_lines()[name]
    assert ferry_qemu.missing_defaults(args) is None, (name, args)
    assert "-serial" in args and "-monitor" in args, (name, args)


# Files that may name the QEMU binary: the one place that builds command lines, the guard, and
# this test. (Package names such as qemu-system-arm or qemu-system-gui are not the binary.)
ALLOWED = {"tools/ferry_qemu.py", "tests/qemu-guard/qemu-system-aarch64",
           "tests/system/test_qemu_command_lines.py"}


def test_only_ferry_qemu_starts_qemu():
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=TOP,
                           check=True).stdout.split()
    offenders = []
    for f in files:
        if f in ALLOWED or f.endswith(".md") or f.startswith("docs/"):
            continue
        try:
            with open(os.path.join(TOP, f), encoding="utf-8") as fh:
                text = fh.read()
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        if re.search(r"qemu-system-aarch64", text):
            offenders.append(f)
    assert not offenders, "start QEMU through tools/ferry_qemu.py: %s" % offenders
