# SPDX-License-Identifier: Apache-2.0
"""System-test fixtures: boot ferry (or a guest directly) under QEMU, driven through pexpect.

Every QEMU run has a timeout; on failure the whole console transcript is printed by pytest.
Every QEMU started by a test goes through tests/qemu-guard first (put first on PATH here), which
refuses a command line that would let QEMU add a default device.
"""
import os
import re
import sys

import pexpect
import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ferry_qemu  # noqa: E402

BUILD = os.path.join(TOP, os.environ.get("FERRY_BUILD", "build"))
QEMU_GUARD = os.path.join(TOP, "tests", "qemu-guard")
if os.environ.get("PATH", "").split(os.pathsep)[0] != QEMU_GUARD:
    os.environ["PATH"] = QEMU_GUARD + os.pathsep + os.environ.get("PATH", "")


def build_path(*parts):
    return os.path.join(BUILD, *parts)


def run_to_exit(args, timeout):
    """Runs a QEMU command line until QEMU exits; returns (its console output, exit status)."""
    child = pexpect.spawn(args[0], args[1:], encoding="utf-8", codec_errors="replace",
                          timeout=timeout, cwd=TOP)
    try:
        child.expect(pexpect.EOF)
        out = child.before
    finally:
        child.close(force=True)
    return out, child.exitstatus


class Machine:
    """One QEMU running ferry; expect() on its console, shell() commands, wait_exit() for status."""

    def __init__(self, variant="ferry-san", config=None, timeout=60, **kw):
        image = build_path(variant + ".bin")
        assert os.path.exists(image), "missing %s: run make" % image
        if config and not os.path.isabs(config):
            config = build_path(config)
        args = ferry_qemu.qemu_args(image=image, config=config, **kw)
        self.transcript = []
        self.child = pexpect.spawn(args[0], args[1:], encoding="utf-8", codec_errors="replace",
                                   timeout=timeout, cwd=TOP)
        self.child.logfile_read = _Tee(self.transcript)

    def expect(self, pattern, timeout=-1):
        """Wait for a regex; returns the match."""
        self.child.expect(pattern, timeout=timeout)
        return self.child.match

    def expect_exact(self, text, timeout=-1):
        self.child.expect_exact(text, timeout=timeout)

    def shell(self, command):
        self.child.send(command + "\r")

    def wait_exit(self, timeout=120):
        """Waits for QEMU to exit and returns its exit status."""
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return self.child.exitstatus

    def output(self):
        return "".join(self.transcript)

    def kill(self):
        if self.child.isalive():
            self.child.terminate(force=True)


class _Tee:
    def __init__(self, sink):
        self.sink = sink

    def write(self, s):
        self.sink.append(s)

    def flush(self):
        pass


@pytest.fixture
def machine(request):
    """Factory: machine(variant=..., config=..., cpu=..., smp=...). Killed after the test."""
    started = []

    def start(**kw):
        m = Machine(**kw)
        started.append(m)
        return m

    yield start
    for m in started:
        m.kill()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            sys.stderr.write("---- console ----\n" + m.output() + "\n")


@pytest.fixture
def ferry_pair(request):
    """Factory: ferry_pair(src_config, dst_config, **start_pair options) starts two ferries joined
    by a link (tools/ferry_migrate.py) and returns (src, dst); both are killed after the test, and
    their consoles printed if it failed."""
    sys.path.insert(0, os.path.join(TOP, "tools"))
    import ferry_migrate
    started = []

    def start(src_config, dst_config, **kw):
        src, dst = ferry_migrate.start_pair(src_config, dst_config, **kw)
        started.extend([src, dst])
        return src, dst

    yield start
    failed = getattr(request.node, "rep_call", None) and request.node.rep_call.failed
    for side in started:
        side.kill()
        if failed:
            sys.stderr.write("---- %s console ----\n%s\n" % (side.name, side.text()))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def expect_line(config_dts):
    """The `/* expect: ... */` line at the top of a bad-config source."""
    with open(config_dts) as f:
        m = re.search(r"/\*\s*expect:\s*(.*?)\s*\*/", f.read())
    assert m, "%s has no expect: comment" % config_dts
    return m.group(1)
