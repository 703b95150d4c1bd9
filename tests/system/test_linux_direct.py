# SPDX-License-Identifier: Apache-2.0
"""The Linux guest recipe directly under QEMU, no hypervisor: the reference a Linux VM under ferry
is compared with (docs/linux-guest.md).

One boot per CPU model (`max` with cheap pointer authentication, and `cortex-a72`: no range TLBI,
no hardware dirty state), then on its console: the ready line, 2 CPUs online, timer interrupts
and IPIs counting on both CPUs, `sleep 2` taking 2 s by the guest's clock, a typed command
answering, linstress started from the kernel command line passing, and linstress's self-test
corruption failing (so a PASS means something)."""
import os
import re
import time

import pexpect
import pytest

import ferry_qemu  # tools/, on sys.path through conftest.py

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("FERRY_BUILD", "build"))
LINUX = os.path.join(BUILD, "guest", "linux")
IMAGE = os.path.join(LINUX, "Image")
INITRD = os.path.join(LINUX, "initramfs.cpio.gz")
# -cpu max emulates QARMA pointer authentication, which dominates the kernel's boot under TCG;
# pauth-impdef=on halves it (docs/qemu-facts.md).
CPUS = {"max": "max,pauth-impdef=on", "cortex-a72": "cortex-a72"}
LINSTRESS = "--mib=8,--rate=2000,--rounds=3,--interval-ms=500"
APPEND = "console=ttyAMA0 linstress=" + LINSTRESS
ROUND = re.compile(r"linstress: round (\d+) wrote (\d+) pages, verified (\d+) pages, errors (\d+), "
                   r"uptime (\d+\.\d+) s, max gap (\d+\.\d) ms")
VERDICT = re.compile(r"linstress: (PASS|FAIL) rounds=(\d+) pages=(\d+) errors=(\d+) max gap "
                     r"(\d+\.\d) ms")


def require_guest():
    if os.path.exists(IMAGE) and os.path.exists(INITRD):
        return
    reason = os.path.join(LINUX, "unavailable")
    if os.path.exists(reason):
        with open(reason) as f:
            pytest.skip("Linux guest not fetched: " + f.read().strip())
    pytest.fail("missing %s or %s: run make linux-guest" % (IMAGE, INITRD))


class Linux:
    """The guest on QEMU's console: run() types a command and returns its output and status."""

    def __init__(self, cpu):
        self.transcript = []
        args = ferry_qemu.direct_args(IMAGE, cpu=CPUS[cpu], smp=2, mem="512M", initrd=INITRD,
                                      append=APPEND)
        self.started = time.monotonic()
        self.child = pexpect.spawn(args[0], args[1:], encoding="utf-8",
                                   codec_errors="replace", timeout=30, cwd=TOP)
        self.child.logfile_read = self
        self.commands = 0
        self.expect(r"ferry-linux: ready\r*\n", timeout=60)
        self.boot_seconds = time.monotonic() - self.started
        self.expect(r"/ # ")
        # The linstress started by /init (APPEND) runs ~2 s: let it end, so that its lines do not
        # fall into the output of the commands typed next.
        self.wait_console(VERDICT, timeout=60)

    # pexpect's logfile: the whole console, for assertions on asynchronous output (linstress
    # writes to the console while commands run) and for the report of a failure.
    def write(self, s):
        self.transcript.append(s)

    def flush(self):
        pass

    def output(self):
        # The guest's tty turns "\n" into "\r\n", and so does the pty pexpect reads QEMU from.
        return re.sub(r"\r+\n", "\n", "".join(self.transcript))

    def expect(self, pattern, timeout=-1):
        try:
            self.child.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            raise AssertionError("no %r on the console; it was:\n%s" %
                                 (pattern, self.output()[-6000:])) from e
        return self.child.match

    def run(self, command, timeout=30):
        """Types `command`; returns (its output without kernel messages, which may come in
        between, and its exit status). The markers are typed with a pair of quotes in them, so
        only the shell's output, not the echo of the typed line, matches."""
        n = self.commands = self.commands + 1
        self.child.send('echo "@@%d""B"; %s; echo "@@%d""E $?"\r' % (n, command, n))
        m = self.expect(r"@@%dB\r*\n(.*?)@@%dE (\d+)\r*\n" % (n, n), timeout=timeout)
        lines = [l for l in re.split(r"\r*\n", m.group(1))
                 if l and not re.match(r"\[ *\d+\.\d+\] ", l)]
        return "\n".join(lines), int(m.group(2))

    def wait_console(self, regex, timeout=30):
        """Waits until `regex` appears anywhere in the transcript (output already consumed by
        an earlier expect included)."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(regex, self.output())
            if m or time.monotonic() > deadline:
                return m
            try:
                self.child.expect(pexpect.TIMEOUT, timeout=0.2)
            except pexpect.EOF:
                return re.search(regex, self.output())

    def close(self):
        if self.child.isalive():
            self.child.send("poweroff -f\r")
            try:
                self.child.expect(pexpect.EOF, timeout=10)
            except pexpect.TIMEOUT:
                pass
        self.child.close(force=True)


@pytest.fixture(scope="module", params=sorted(CPUS), ids=lambda c: "cpu=" + c)
def linux(request):
    require_guest()
    guest = Linux(request.param)
    yield guest
    guest.close()


def interrupts(guest):
    """/proc/interrupts as {name: [count on CPU0, count on CPU1]}, named by its last column for
    device interrupts (arch_timer) and by its first for IPIs (IPI0 ...)."""
    out, status = guest.run("cat /proc/interrupts")
    assert status == 0
    rows = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        if len(f) < 3 or not f[1].isdigit() or not f[2].isdigit():
            continue
        key = f[0].rstrip(":") if f[0].startswith("IPI") else f[-1]
        rows[key] = [int(f[1]), int(f[2])]
    return rows


def test_ready_and_two_cpus(linux):
    out = linux.output()
    assert "ferry-linux: cpus 2 online 0-1" in out
    with open(os.path.join(LINUX, "kernel-version")) as f:
        package, version, release = f.read().split()
    assert re.search(r"ferry-linux: kernel %s #1 SMP Debian %s " % (re.escape(release),
                                                                    re.escape(version)), out)
    assert linux.run("cat /sys/devices/system/cpu/online") == ("0-1", 0)
    assert linux.run("nproc") == ("2", 0)
    assert linux.boot_seconds < 60


def test_timer_and_ipis_count_on_both_cpus(linux):
    before = interrupts(linux)
    # Keep both CPUs busy for a while, one shell loop pinned to each: a busy CPU takes its
    # scheduler tick (an idle one may stop it), and starting and reaping them sends IPIs.
    loop = "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done"
    assert linux.run("taskset 1 sh -c '%s' & taskset 2 sh -c '%s' & wait" % (loop, loop))[1] == 0
    after = interrupts(linux)
    assert "arch_timer" in after, after
    ticks = [a - b for a, b in zip(after["arch_timer"], before["arch_timer"])]
    assert all(t > 0 for t in ticks), ticks
    ipis = [k for k in after if k.startswith("IPI")]
    assert ipis, after
    sent = [sum(after[k][c] - before[k][c] for k in ipis) for c in (0, 1)]
    assert sum(sent) > 0, (before, after)
    assert all(sum(after[k][c] for k in ipis) > 0 for c in (0, 1)), after


def test_sleep_2_takes_2_seconds(linux):
    started = time.monotonic()
    out, status = linux.run("time sleep 2 2>&1")
    host = time.monotonic() - started
    m = re.search(r"real\s+(\d+)m\s*(\d+\.\d+)s", out)
    assert status == 0 and m, out
    guest = int(m.group(1)) * 60 + float(m.group(2))
    assert 1.5 <= guest <= 3.0, out
    # The guest's counter follows the host's clock under TCG.
    assert 1.5 <= host <= 10, host


def test_typed_command_answers(linux):
    linux.child.send("echo $((6*7))\r")
    linux.expect(r"\n42\r*\n")
    linux.expect(r"/ # ")
    assert linux.run("uname -m") == ("aarch64", 0)


def test_linstress_from_command_line(linux):
    verdict = linux.wait_console(VERDICT, timeout=30)
    assert verdict, linux.output()[-4000:]
    out = linux.output()
    start = re.search(r"linstress: start 8 MiB pages 2048 at 0x[0-9a-f]+ seed 1 rate 2000 pages/s "
                      r"rounds 3 interval 500 ms pid \d+", out)
    assert start, out
    assert re.search(r"linstress: filled 2048 pages in \d+\.\d ms", out)
    rounds = ROUND.findall(out)
    assert [r[0] for r in rounds] == ["1", "2", "3"]
    for _, wrote, verified, errors, _, gap in rounds:
        # 2000 pages/s over 500 ms; the round ends when both its time is up and its sweep done.
        # Less when the loop was held up for more than the 50 ms of catch-up it allows itself
        # (a busy host).
        assert 700 <= int(wrote) <= 1200
        assert int(verified) == 2048 and int(errors) == 0
        assert float(gap) < 500
    uptimes = [float(r[4]) for r in rounds]
    assert all(0.45 < b - a < 1.0 for a, b in zip(uptimes, uptimes[1:])), uptimes
    assert verdict.groups()[:4] == ("PASS", "3", "2048", "0")


def test_linstress_selftest_corruption_fails(linux):
    out, status = linux.run("linstress --mib 4 --rate 1000 --rounds 2 --interval-ms 300 "
                            "--selftest-corrupt 2>&1")
    assert status == 1, out
    flipped = re.search(r"linstress: selftest: flipped bit 0 of word 7 of page (\d+) without "
                        r"updating the ledger", out)
    assert flipped and flipped.group(1) == "512", out
    assert re.search(r"linstress: mismatch page 512 \(offset 0x200000\) expected generation \d+, "
                     r"found 0x[0-9a-f]{16} at word 7 \(expected 0x[0-9a-f]{16}\)", out), out
    assert [r[3] for r in ROUND.findall(out)] == ["1", "0"]   # counted once, then repaired
    v = VERDICT.search(out)
    assert v and v.groups()[:4] == ("FAIL", "2", "1024", "1"), out
    assert linux.run("linstress --mib 1 --rounds 1 --interval-ms 1 >/dev/null")[1] == 0


def test_linstress_refuses_bad_options(linux):
    out, status = linux.run("linstress --mib 12abc 2>&1")
    assert status == 2 and "linstress: --mib '12abc': not a number in 1..1048576" in out
    out, status = linux.run("linstress --rounds 2>&1")
    assert status == 2 and "usage: linstress" in out


def test_linstress_reports_a_pause(linux):
    """A stopped process sees what a paused VM sees: its clock jumps. The round reports the gap,
    the ledger holds, and the writes resume at their rate instead of catching up the backlog."""
    # The shell's `wait` may return when its child stops or continues: it waits for a subshell.
    out, status = linux.run("(linstress --mib 4 --rate 2000 --rounds 3 --interval-ms 1000; "
                            "echo rc=$?) >/tmp/pause 2>&1 & s=$!; sleep 1.3; "
                            "kill -STOP $(pidof linstress); sleep 1.5; "
                            "kill -CONT $(pidof linstress); wait $s; cat /tmp/pause")
    assert status == 0 and "rc=0" in out, out
    rounds = ROUND.findall(out)
    assert len(rounds) == 3 and all(r[3] == "0" for r in rounds), out
    gaps = [float(r[5]) for r in rounds]
    paused = max(range(3), key=lambda i: gaps[i])
    assert 1400 <= gaps[paused] <= 3000, out
    assert all(g < 500 for i, g in enumerate(gaps) if i != paused), out
    assert int(rounds[paused][1]) < 2000 * 1.1, out
    assert VERDICT.search(out).groups()[:4] == ("PASS", "3", "1024", "0")


def test_svecheck(linux, request):
    """svecheck, the SVE check test_linux_migration runs across a migration: its pattern survives
    Linux's context switches for 3 s (linstress may run beside it) on max, and it skips on
    cortex-a72, which has no SVE."""
    out, status = linux.run("svecheck 3")
    cpu = request.node.callspec.params["linux"]
    want = "svecheck: PASS" if cpu == "max" else "svecheck: SKIP no SVE"
    assert status == 0 and want in out, out


def pmucheck(linux):
    """pmucheck's figures: (cycles, instructions or None when not supported). The same checks
    run under ferry (test_linux_ferry): a guest's PMU counts there as it does here."""
    out, status = linux.run("pmucheck 20000000")
    assert status == 0 and "pmucheck: PASS" in out, out
    cycles = int(re.search(r"pmucheck: cycles (\d+)", out).group(1))
    m = re.search(r"pmucheck: instructions (\d+) for a loop of (\d+)", out)
    if m:
        assert int(m.group(1)) >= int(m.group(2)), out
    else:
        # QEMU counts instructions only under -icount: the event is absent from PMCEID0.
        assert "pmucheck: instructions not supported" in out, out
    return cycles, int(m.group(1)) if m else None


def test_pmu_counts_through_perf_events(linux):
    """`perf stat -e cycles,instructions`, as pmucheck does it (perf_event_open): the cycles
    counter counts a 40-million-instruction loop; instructions count or are honestly absent."""
    cycles, _ = pmucheck(linux)
    assert cycles > 1000000
