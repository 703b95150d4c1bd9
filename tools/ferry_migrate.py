# SPDX-License-Identifier: Apache-2.0
"""Two ferries joined by a network link, and a live migration between them.

Used by tools/ferry-migrate (make demo), the migration system tests and bench/migrate, so all of
them drive a migration the same way:

    src, dst = start_pair(src_config, dst_config, link="stream")
    result = migrate(src, dst, "mover")        # a dict: the summary (and the raw JSON of both ends)

Each ferry is a QEMU process (QEMU virt, virtualization=on) whose console is read by a thread, so
neither side's output ever waits for the other. The link is QEMU's: -netdev stream (TCP, in order,
no loss), socket (the same over the older netdev) or dgram (UDP: frames are dropped when the
receiver lags, which exercises retransmission).
"""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_qemu  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRESS = re.compile(r"migrate: vm '[^']+': migrating: round (\d+)( \(paused\))?, (\d+) pages "
                      r"left, dirty (\d+) pages/s, (\d+) MiB/s, (\d+) retransmissions")
GUEST_ROUND = re.compile(r"\[(\S+)\] memstress: round (\d+)/(\d+) wrote (\d+) pages, verified \d+ "
                         r"pages, errors (\d+), writes took (\d+) us, longest gap (\d+) us")
GUEST_GAPS = re.compile(r"\[(\S+)\] memstress: round (\d+)/\d+ gaps: longest (\d+) us at (\d+) us; "
                        r"while writing (.*)")
GAP = re.compile(r"(\d+) us at (\d+) us")
VERDICT = re.compile(r"\[(\S+)\] memstress: (PASS|FAIL) rounds=(\d+) pages=(\d+) errors=(\d+)")


def guest_gaps(lines):
    """memstress's gap lines: {round: [(us, at us, kind), ...]}, its longest gap first, then its
    longest few while writing (docs/memstress.md)."""
    out = {}
    for m in filter(None, map(GUEST_GAPS.search, lines)):
        out[int(m.group(2))] = [(int(m.group(3)), int(m.group(4)), "between rounds")] + [
            (int(a), int(b), "while writing") for a, b in GAP.findall(m.group(5))]
    return out


class Ferry:
    """One ferry under QEMU; its console is collected by a thread into `lines`."""

    def __init__(self, name, args, log=None):
        self.name = name
        self.args = args
        self.lines = []
        self.cond = threading.Condition()
        self.log = open(log, "w") if log else None
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=TOP)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
            if self.log:
                self.log.write(line + "\n")
                self.log.flush()
        with self.cond:
            self.cond.notify_all()

    def send(self, command):
        self.proc.stdin.write((command + "\r").encode())
        self.proc.stdin.flush()

    def wait_for(self, pattern, timeout=60, start=0):
        """First line at index >= start matching the regex: (index, match). TimeoutError."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.time()
                # Ended only once the reader has taken every line: QEMU can exit while the
                # last lines it printed are still in the pipe.
                if left <= 0 or (not self.thread.is_alive() and i >= len(self.lines)):
                    raise TimeoutError("%s: no line matching %r (%s)" % (
                        self.name, pattern, "exited %s" % self.proc.returncode
                        if self.proc.poll() is not None else "timeout"))
                self.cond.wait(min(left, 0.2))

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(2)
        if self.log:
            self.log.close()
            self.log = None


def free_port(udp=False):
    """A port nothing listens on now (for dgram: two consecutive ones)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not udp:
            return port
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise RuntimeError("no free port")


# The migration key both ferries get from the shell (`migkey`) unless told otherwise. A fixed,
# public key is fine for tests and demos on one host; real machines share a secret one
# (docs/config.md, migration-key).
DEMO_KEY = "6665727279206d6967726174696f6e2064656d6f206b6579202d207075626c69"


def set_key(side, key):
    """`migkey <key>` on one ferry; returns once it is taken."""
    start = len(side.lines)
    side.send("migkey " + key)
    side.wait_for(r"migkey: set, fingerprint [0-9a-f]{8}", timeout=30, start=start)


def start_pair(src_config, dst_config, link="stream", legacy=False, variant="ferry", cpu="max",
               mem="1G", smp=3, log_dir=None, dst_link=None, src_extra=(), dst_extra=(),
               key=DEMO_KEY, src_key=None, dst_key=None, extra_net=None):
    """Starts the destination, then the source, each with a virtio-net on the shared link; returns
    (src, dst) once both shells are up and hold their migration keys (key, or src_key/dst_key for
    one end; None: only what the config gives). src_extra: more QEMU options for the source (the
    loader devices of a Linux guest, ferry_qemu.linux_loader_args); dst_extra: the
    destination's. extra_net(role, port, mac): the network options instead of the usual link's
    (a hub a third party also joins)."""
    build = ferry_qemu.build_dir()
    image = os.path.join(build, variant + ".bin")
    link = "dgram" if link == "lossy" else link
    port = free_port(udp=(link == "dgram"))
    logs = [os.path.join(log_dir, n + ".log") if log_dir else None for n in ("src", "dst")]
    dst_args = ferry_qemu.qemu_args(image=image, config=dst_config, cpu=cpu, mem=mem, smp=smp,
                                    serial="stdio",
                                    extra=list(dst_extra) +
                                    (extra_net("server", port, "52:54:00:fe:00:02")
                                     if extra_net else
                                     ferry_qemu.net_args(dst_link or link, "server", port,
                                                         "52:54:00:fe:00:02", legacy)))
    dst = Ferry("destination", dst_args, logs[1])
    try:
        dst.wait_for(r"ferry: shell on this console", timeout=60)
        src_args = ferry_qemu.qemu_args(image=image, config=src_config, cpu=cpu, mem=mem, smp=smp,
                                        serial="stdio",
                                        extra=list(src_extra) +
                                        (extra_net("client", port, "52:54:00:fe:00:01")
                                         if extra_net else
                                         ferry_qemu.net_args(link, "client", port,
                                                             "52:54:00:fe:00:01", legacy)))
        src = Ferry("source", src_args, logs[0])
        try:
            src.wait_for(r"ferry: shell on this console", timeout=60)
            if dst_key or key:
                set_key(dst, dst_key or key)
            if src_key or key:
                set_key(src, src_key or key)
        except Exception:
            src.kill()
            raise
    except Exception:
        dst.kill()
        raise
    return src, dst


def collect_json(side, who, start, timeout):
    """The JSON summary a ferry prints in pieces (`<who>-json: {` ... `<who>-json+ ...}`)."""
    i, _ = side.wait_for(r"^%s-json: \{" % who, timeout=timeout, start=start)
    j, _ = side.wait_for(r"^%s-json\+ .*\}$" % who, timeout=30, start=i)
    with side.cond:
        # Other CPUs' lines (the guest's) may come in between: keep only ours.
        parts = [re.sub(r"^%s-json(: |\+ )" % who, "", line) for line in side.lines[i:j + 1]
                 if line.startswith(who + "-json")]
    data = json.loads("".join(parts))
    data["round_stats"] = [data.pop("r%d" % r) for r in range(data["nrounds"]) if "r%d" % r in data]
    return data, j


def all_json(side):
    """Every JSON object the ferry printed (`migrate-json`, `incoming-json`, ...), in order, as
    (who, text): the text is the concatenation of its console pieces, ready for json.loads. An
    object still open when the console ended comes last with its text so far."""
    out, cur = [], None
    with side.cond:
        lines = list(side.lines)
    for line in lines:
        m = re.match(r"^([a-z]+)-json(: |\+ )(.*)$", line)
        if not m:
            continue
        who, kind, rest = m.groups()
        if kind == ": ":
            if cur:
                out.append(tuple(cur))
            cur = [who, rest]
        elif cur and cur[0] == who:
            cur[1] += rest
        else:
            out.append((who, "+" + rest))  # a continuation with no start: never valid
            continue
        if cur and cur[1].endswith("}"):
            out.append(tuple(cur))
            cur = None
    if cur:
        out.append(tuple(cur))
    return out


def check_json(side, max_ns=600 * 10 ** 9):
    """Asserts that every JSON object the ferry printed parses, and that no count or duration in
    it is a negative number printed as unsigned (nothing here reaches 2^63; no duration reaches
    max_ns). Returns the parsed objects."""
    parsed = []
    for who, text in all_json(side):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise AssertionError("%s: %s-json is not valid JSON (%s): %s" % (side.name, who, e,
                                                                            text))
        for key, val in data.items():
            vals = val if isinstance(val, list) else [val]
            for v in vals:
                if isinstance(v, bool) or not isinstance(v, int):
                    continue
                assert 0 <= v < 2 ** 63, "%s: %s-json %s = %d" % (side.name, who, key, v)
            if key.endswith("_ns") and isinstance(val, int):
                assert val < max_ns, "%s: %s-json %s = %d ns" % (side.name, who, key, val)
            if re.match(r"^r\d+$", key):
                assert len(val) == 4 and val[3] < max_ns, "%s: %s-json %s = %r" % (
                    side.name, who, key, val)
        parsed.append((who, data))
    return parsed


class Progress:
    """A one-line progress bar on a terminal; plain lines otherwise."""

    def __init__(self, stream=sys.stderr, enabled=True):
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.total = None

    def update(self, m):
        if not self.enabled:
            return
        rnd, paused, left, dirty, mibs, retx = m.groups()
        left = int(left)
        if self.total is None or int(rnd) == 0 and left > self.total:
            self.total = max(left, 1)
        done = 1 - min(left, self.total) / self.total if int(rnd) == 0 else 1.0
        bar = "#" * int(done * 30) + "." * (30 - int(done * 30))
        text = ("[%s] round %s%s: %d pages left, %s MiB/s, dirty %s pages/s, %s retransmissions"
                % (bar, rnd, " (paused)" if paused else "", left, mibs, dirty, retx))
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self):
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def thread_times(pid):
    """{(name, tid): (CPU seconds, voluntary, involuntary context switches)} of every thread of
    process pid, from Linux's /proc (a QEMU under TCG runs a thread per CPU: "CPU 0/TCG" ...)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as f:
                name = f.read().strip()
            with open(base + "stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(base + "status") as f:
                status = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        sw = [int(re.search(r"^%s_ctxt_switches:\s+(\d+)" % k, status, re.M).group(1))
              for k in ("voluntary", "nonvoluntary")]
        out[(name, int(tid))] = ((int(fields[11]) + int(fields[12])) / tick, sw[0], sw[1])
    return out


def thread_use(before, after, seconds):
    """What each thread did between two thread_times: share of one host core, sleeps (voluntary
    switches: a halted CPU's WFI, a wait) and preemptions (involuntary: the host gave its core
    to another thread), busiest first; threads that did nothing left out."""
    rows = []
    for key, (cpu, vol, inv) in after.items():
        c0, v0, i0 = before.get(key, (0, 0, 0))
        if cpu - c0 or vol - v0 or inv - i0:
            rows.append({"thread": key[0], "tid": key[1],
                         "core_pct": 100.0 * (cpu - c0) / seconds if seconds else 0.0,
                         "sleeps": vol - v0, "preemptions": inv - i0})
    return sorted(rows, key=lambda r: -r["core_pct"])


class ThreadWatch:
    """thread_times of some processes now and, until finish(), every 50 ms in the background: a
    ferry whose last VM has left exits right after its summary, so the last look at its threads
    that still found them all stands for the end."""

    def __init__(self, pids):
        self.pids = pids
        self.t0 = time.time()
        self.first = [thread_times(p) for p in pids]
        self.last = (self.t0, self.first)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def look(self):
        try:
            now = [thread_times(p) for p in self.pids]
        except (OSError, AttributeError, IndexError, ValueError):
            return  # a process gone, or going: its files no longer whole
        if all(set(k for k in a if k[0].startswith("CPU ")) <= set(b)
               for a, b in zip(self.first, now)):
            self.last = (time.time(), now)

    def run(self):
        while not self.stop.wait(0.05):
            self.look()

    def finish(self):
        """(seconds, [thread_use of each process]) from the start to the last complete look."""
        self.stop.set()
        self.thread.join()
        self.look()
        t, now = self.last
        return t - self.t0, [thread_use(a, b, t - self.t0) for a, b in zip(self.first, now)]


def follow(src, vm, options, start, timeout, progress):
    """Types `migrate <vm> <options>` into src and follows its progress lines (into progress) to
    the summary; a refusal of the command raises RuntimeError."""
    src.send(("migrate %s %s" % (vm, options)).strip())
    pos = start
    while True:
        i, m = src.wait_for(r"migrating: round|^migrate-json: \{|migrate: (usage|no |busy|bad "
                            r"option|vm '[^']+' is|out of memory)|could not start", timeout=timeout,
                            start=pos)
        pos = i + 1
        line = src.lines[i]
        if line.startswith("migrate-json"):
            break
        if "migrating: round" in line:
            pm = PROGRESS.search(line)
            if pm and progress:
                progress.update(pm)
            continue
        raise RuntimeError("source refused the command: " + line)
    if progress:
        progress.done()


def migrate(src, dst, vm, options="", trigger=None, timeout=300, progress=None,
            wait_guest=True, threads=False):
    """Triggers `migrate <vm> <options>` on src once `trigger` (a regex) appears on its console,
    follows it to the end and returns the summary dict. On failure the dict has ok=False and why.
    wait_guest: after a commit, wait for the guest's next rounds (and verdict, if it gives one)
    on the destination. threads: record what each thread of both QEMUs did from the command to
    the source's summary (host_threads, thread_use)."""
    if trigger:
        src.wait_for(trigger, timeout=timeout)
    start_src = len(src.lines)
    start_dst = len(dst.lines)
    t0 = time.time()
    watch = ThreadWatch([src.proc.pid, dst.proc.pid]) if threads else None
    try:
        follow(src, vm, options, start_src, timeout, progress)
    except BaseException:
        if watch:
            watch.stop.set()
        raise
    wall = time.time() - t0
    host = None
    if watch:
        seconds, (s_use, d_use) = watch.finish()
        host = {"seconds": seconds, "source": s_use, "destination": d_use}
    src_json, _ = collect_json(src, "migrate", start_src, timeout)
    result = {"vm": vm, "ok": src_json["ok"], "why": src_json["why"], "wall_s": wall,
              "source": src_json}
    if host:
        result["host_threads"] = host
    reason = [ln for ln in src.lines[start_src:] if re.search(
        r"migrate: vm '[^']+': (migration failed|destination (refused|aborted))", ln)]
    if reason:
        result["reason"] = reason[-1].split(": ", 2)[-1]
    try:
        dst_json, _ = collect_json(dst, "incoming", start_dst, 30 if src_json["ok"] else 10)
        result["destination"] = dst_json
    except TimeoutError:
        result["destination"] = None
    if src_json["ok"] and wait_guest:
        _, cm = dst.wait_for(r"incoming: vm '%s': committed; resuming \(paused here (\d+) ms\)"
                             % re.escape(vm), timeout=30, start=start_dst)
        result["dst_paused_ms"] = int(cm.group(1))
        # The pause fell in the round in progress (its writes) or between it and the next one
        # (the gap before the next round's first write): the gap is counted in one of the first
        # two rounds that end on the destination.
        i, gm = dst.wait_for(GUEST_ROUND.pattern, timeout=60, start=start_dst)
        rounds = [int(gm.group(2))]
        try:
            rounds.append(int(dst.wait_for(GUEST_ROUND.pattern, timeout=60, start=i + 1)[1]
                              .group(2)))
        except TimeoutError:
            pass  # the guest ended after one more round
        gaps = guest_gaps(dst.lines[start_dst:])
        result.update(gap_across_pause([(r, gaps.get(r)) for r in rounds], src_json,
                                       result["destination"]))
        # For scale: the longest gap of the same kind (while writing, or across a round's
        # boundary) in the rounds that ended before the command, when the guest only had the
        # host's scheduling to wait for.
        kind = result.get("guest_gap_where", "between rounds")
        before = [max(g for g, _, k in gs if k == kind)
                  for gs in guest_gaps(src.lines[:start_src]).values()]
        if before:
            result["guest_gap_before_us"] = max(before)
    summarize(result)
    return result


def gap_across_pause(rounds, src_json, dst_json):
    """The guest's gap between two writes that holds the pause, from memstress's gap lines:
    rounds is [(round, its gaps as guest_gaps gives them, or None)], the first two that end on
    the destination.

    The guest's clock jumps at the pause from where the source stopped it to where the
    destination started it (guest_clock_paused_ns, guest_clock_resumed_ns): the gap across the
    pause is the one that began before the first and ended after the second. memstress gives,
    per round, its longest gap and its three longest while writing, each with where it began;
    the gap across the pause is one of them unless the host stalled the guest longer elsewhere
    more often than that (then it is shorter than all of them, and not reported)."""
    paused = (src_json or {}).get("guest_clock_paused_ns")
    resumed = (dst_json or {}).get("guest_clock_resumed_ns")
    if not paused or not resumed:
        return {}  # a ferry that does not report the guest's clock
    p_us, r_us = paused // 1000, resumed // 1000
    out = {"guest_clock_jump_us": r_us - p_us, "guest_round_after": rounds[0][0]}
    for rnd, gaps in rounds:
        for gap, at, where in gaps or []:
            # Both ends truncated to whole microseconds: one either way.
            if at <= p_us + 1 and at + gap + 1 >= r_us:
                if (gap, at, "while writing") in gaps:
                    where = "while writing"  # the same gap (the boundary was shorter)
                out.update(guest_gap_us=gap, guest_round_after=rnd, guest_gap_where=where)
                return out
    return out


def summarize(result):
    s = result["source"]
    rounds = s.get("round_stats", [])
    nonzero = s["pages"] - s["zero_pages"]
    result.update({
        "rounds": s["rounds"],
        "pages": s["pages"],
        "zero_pages": s["zero_pages"],
        "untouched_pages": s.get("untouched_pages", 0),
        "bytes_sent": s["bytes_sent"],
        "wire_per_data": (s["bytes_sent"] / (nonzero * 4096.0)) if nonzero else None,
        "total_ms": s["total_ns"] / 1e6,
        "downtime_ms": s["downtime_ns"] / 1e6,
        "hash_ms": s["hash_ns"] / 1e6,
        "goodput_MBps": (nonzero * 4096.0 / (s["total_ns"] / 1e9) / 1e6) if s["total_ns"] else 0,
        "retransmissions": s["retransmissions"],
        # The fastest of the link's round trips (the path with nothing queued ahead) and the
        # smoothed one, which carries the window's frames queued ahead of each acked one.
        "rtt_min_ms": s.get("rtt_min_ns", 0) / 1e6,
        "rtt_ms": s.get("rtt_ns", 0) / 1e6,
        "verify": s.get("verify", "full"),
        "audit": s.get("audit", "off"),
        # The downtime, phase by phase: the source's, then the destination's wait for the
        # COMMIT's ack and its resume.
        "phases_ms": {k: s.get(k + "_ns", 0) / 1e6 for k in
                      ("park", "last_collect", "last_pages", "state", "verify", "commit_rtt")},
        "rounds_detail": [{"round": r, "pages": p, "zero": z, "bytes": b, "ms": ns / 1e6}
                          for r, (p, z, b, ns) in enumerate(rounds)],
    })
    if s.get("postcopy"):
        # Post-copy: the pause ends at the switch's COMMIT; the rest moves while the VM runs on
        # the destination, whose guest waits on each page it touches before it arrives.
        result["postcopy"] = {
            "pages_after_switch": s["pc_pages"],
            "served_on_demand": s["pc_requested"],
            "time_to_last_page_ms": s["pc_last_page_ns"] / 1e6,
            "total_ms": s["pc_total_ns"] / 1e6,
            "verify": s["pc_verify"],
        }
    d = result.get("destination")
    if d and d.get("postcopy") and "postcopy" in result:
        result["postcopy"].update({
            "demand_faults": d["pc_faults"],
            "pages_requested": d["pc_requested"],
            "fault_ms_mean": d["pc_fault_ns_mean"] / 1e6,
            "fault_ms_max": d["pc_fault_ns_max"] / 1e6,
            "verify_destination": d["pc_verify"],
            "duplicates_dropped": d["pc_duplicates"],
        })
    if d:
        result["phases_ms"]["commit_ack"] = d.get("commit_ack_ns", 0) / 1e6
        result["phases_ms"]["resume"] = d.get("resume_ns", 0) / 1e6
        # From the source's park to the destination's last vCPU back in its guest (the ack's
        # wait also holds the COMMIT's way to the source, which the downtime has already: at
        # most the pause, never less).
        result["pause_end_to_end_ms"] = (result["downtime_ms"] + result["phases_ms"]["commit_ack"]
                                         + result["phases_ms"]["resume"])
        result["corrupt_rejected"] = d["corrupt"]
        result["duplicates"] = d["duplicates"]
    return result


def format_summary(r):
    out = []
    if not r["ok"]:
        out.append("migration FAILED: %s" % r.get("reason", r["why"]))
    out.append("%-8s %10s %10s %12s %9s" % ("round", "pages", "zero", "wire bytes", "ms"))
    for d in r["rounds_detail"]:
        out.append("%-8d %10d %10d %12d %9.1f" % (d["round"], d["pages"], d["zero"], d["bytes"],
                                                  d["ms"]))
    out.append("pages %d (%d zero, sent as headers only; %d of them never touched, not read), "
               "%.1f MiB on the wire (%.3f x the non-zero pages)"
               % (r["pages"], r["zero_pages"], r["untouched_pages"], r["bytes_sent"] / 2 ** 20,
                  r["wire_per_data"] or 0))
    if r["verify"] == "full":
        how = "memory hash %.0f ms per side" % r["hash_ms"]
    else:
        how = "page digests, checked in %.1f ms" % r["phases_ms"]["verify"]
    out.append("total %.0f ms, downtime %.0f ms (%s), goodput %.0f MB/s, %d retransmissions" % (
        r["total_ms"], r["downtime_ms"], how, r["goodput_MBps"], r["retransmissions"]))
    ph = r["phases_ms"]
    if r["downtime_ms"]:
        out.append("downtime phases: park %.1f, last collection %.1f, last pages %.1f, state %.1f,"
                   " verification %.1f, commit round trip %.1f ms; on the destination, the "
                   "COMMIT's ack %.1f, resume %.1f ms; end to end %.1f ms" % (
                       ph["park"], ph["last_collect"], ph["last_pages"], ph["state"],
                       ph["verify"], ph["commit_rtt"], ph.get("commit_ack", 0),
                       ph.get("resume", 0), r.get("pause_end_to_end_ms", r["downtime_ms"])))
    if r.get("rtt_min_ms"):
        out.append("round trips on the link: fastest %.2f ms, smoothed %.2f ms (with the frames "
                   "queued ahead of each one acked)" % (r["rtt_min_ms"], r["rtt_ms"]))
    pc = r.get("postcopy")
    if pc:
        out.append("post-copy: %d pages moved after the switch while the VM ran on the "
                   "destination, last one %.0f ms after it (%.0f ms in all); %d pages served on "
                   "demand" % (pc["pages_after_switch"], pc["time_to_last_page_ms"],
                               pc["total_ms"], pc["served_on_demand"]))
        if "demand_faults" in pc:
            out.append("post-copy faults on the destination: %d guest accesses waited for a "
                       "page, mean %.2f ms, max %.2f ms; verification after the last page: %s"
                       % (pc["demand_faults"], pc["fault_ms_mean"], pc["fault_ms_max"],
                          pc["verify_destination"]))
    if "corrupt_rejected" in r:
        out.append("destination: %d corrupt frames rejected, %d duplicates dropped" % (
            r["corrupt_rejected"], r["duplicates"]))
    if "guest_clock_jump_us" in r:
        before = r.get("guest_gap_before_us")
        before = "; its longest gap before the migration %.1f ms" % (before / 1e3) if before else ""
        if "guest_gap_us" in r:
            out.append("downtime as the guest saw it: %.1f ms (its gap between two writes across "
                       "the pause, %s, round %d; its clock jumped %.1f ms%s)" % (
                           r["guest_gap_us"] / 1e3, r["guest_gap_where"], r["guest_round_after"],
                           r["guest_clock_jump_us"] / 1e3, before))
        else:
            out.append("downtime as the guest saw it: not isolated (the host stalled it longer "
                       "elsewhere in round %d; its clock jumped %.1f ms at the pause%s)" % (
                           r["guest_round_after"], r["guest_clock_jump_us"] / 1e3, before))
    host = r.get("host_threads")
    if host:
        out.append("host threads from the command to the summary (%.2f s; %% of one host core, "
                   "sleeps, preemptions):" % host["seconds"])
        for side in ("source", "destination"):
            for t in host[side]:
                if t["core_pct"] >= 1 or t["preemptions"] >= 10:
                    out.append("  %-12s %-18s %6.1f%% %7d %7d" % (
                        side, t["thread"], t["core_pct"], t["sleeps"], t["preemptions"]))
    if r["ok"]:
        d = r.get("destination") or {}
        out.append("verification: %s %s on both sides%s" % (
            "memory hash" if r["verify"] == "full" else "sum of page digests",
            r["source"]["local_hash"],
            "" if d.get("local_hash") == r["source"]["local_hash"] else " (destination differs!)"))
        if r["audit"] != "off":
            out.append("audit after commit (source, all RAM against what was sent): %s%s" % (
                r["audit"], "" if r["audit"] != "differs" else
                " (%d pages, first at IPA %s)" % (r["source"]["audit_bad_pages"],
                                                  r["source"]["audit_first_bad"])))
    return "\n".join(out)


def guest_verdict(side, start=0, timeout=120):
    """(verdict, errors, rounds) of the memstress guest's final line on this side."""
    _, m = side.wait_for(VERDICT.pattern, timeout=timeout, start=start)
    return m.group(2), int(m.group(5)), int(m.group(3))


def dump_json(result, path):
    with open(path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


# ---- a Linux guest given by its files (ferry-migrate --kernel/--initrd/--append) ----

RAM_BASE = 0x40000000          # platform/qemu-virt/platform.h: PLAT_RAM_BASE
HYP_RESERVED = 64 << 20        # PLAT_HYP_RESERVED: ferry's image, pool and config slot
LINSTRESS_ROUND = re.compile(r"linstress: round (\d+) wrote \d+ pages, verified \d+ pages, "
                             r"errors (\d+), uptime (\d+\.\d+) s, max gap (\d+\.\d) ms")


def _align(x, a):
    return (x + a - 1) // a * a


def linux_configs(workdir, kernel, initrd=None, append="console=ttyAMA0", ram_mib=512, vcpus=2,
                  vm="linux"):
    """Both ends' configurations for a Linux guest given by its files: the source runs `kernel`
    (an arm64 Image) with `initrd` and `append` in a VM of `ram_mib` MiB on `vcpus` vCPUs; the
    destination has the same VM, incoming. QEMU's loader puts the files in the machine's RAM above
    the VM's (ferry copies them in at VM start). Returns a dict: src and dst (.dtb paths), extra
    (the source's loader options), mem and smp (the machines' -m and -smp)."""
    if ram_mib < 64 or ram_mib % 2:
        raise ValueError("--ram: at least 64 MiB, a multiple of 2 MiB")
    if not 1 <= vcpus <= 7:
        raise ValueError("--vcpus: 1 to 7 (CPU 0 is ferry's own)")
    vm_pa = RAM_BASE + HYP_RESERVED
    image_pa = _align(vm_pa + (ram_mib << 20), 2 << 20)
    image_size = os.path.getsize(kernel)
    end = image_pa + image_size
    files = [("image", image_pa, image_size, kernel)]
    if initrd:
        initrd_pa = _align(end, 2 << 20)
        files.append(("initrd", initrd_pa, os.path.getsize(initrd), initrd))
        end = initrd_pa + os.path.getsize(initrd)
    mem_mib = max(1024, _align(end - RAM_BASE, 128 << 20) >> 20)
    cpus = " ".join(str(c) for c in range(1, vcpus + 1))

    def cells(x):
        return "<0x%x 0x%x>" % (x >> 32, x & 0xffffffff)

    common = ["ram-base = %s;" % cells(RAM_BASE), "ram-size = %s;" % cells(ram_mib << 20),
              "cpus = <%s>;" % cpus, 'devices = "uart";', 'on-abort = "inject";']
    src = common + ["%s-pa = %s;\n\t\t\t%s-size = %s;" % (k, cells(pa), k, cells(size))
                    for k, pa, size, _ in files] + ['bootargs = "%s";' % append.replace('"', '\\"')]
    dst = common + ["incoming;"]
    out = {"extra": [], "mem": "%dM" % mem_mib, "smp": vcpus + 1}
    for side, props in (("src", src), ("dst", dst)):
        dts = os.path.join(workdir, "linux-%s.dts" % side)
        with open(dts, "w") as f:
            f.write("/dts-v1/;\n/ {\n\tcompatible = \"ferry,config-v1\";\n\tvms {\n\t\t%s {\n"
                    "\t\t\t%s\n\t\t};\n\t};\n};\n" % (vm, "\n\t\t\t".join(props)))
        out[side] = dts[:-4] + ".dtb"
        subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out[side], dts], check=True)
    for _, pa, _, path in files:
        out["extra"] += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (path, pa)]
    return out


def linux_after_commit(dst, vm, start=0, rounds=3, timeout=120):
    """The Linux guest on the destination after the commit: linstress's next `rounds` rounds must
    be clean (rounds=0: linstress is not running), and the console, attached to the VM, must
    answer a computed echo. Returns (ok, what was seen)."""
    c, _ = dst.wait_for(r"incoming: vm '%s': committed; resuming" % re.escape(vm), timeout=30,
                        start=start)
    seen = []
    ok = True
    pos = c
    for _ in range(rounds):
        i, m = dst.wait_for(LINSTRESS_ROUND.pattern, timeout=timeout, start=pos)
        pos = i + 1
        seen.append("linstress round %s: %s errors" % (m.group(1), m.group(2)))
        ok = ok and m.group(2) == "0"
    dst.send("console " + vm)
    dst.wait_for(r"console: attached to vm '%s'" % re.escape(vm), timeout=10, start=c)
    dst.send("echo ferry-alive-$((6*7))")
    try:
        dst.wait_for(r"(^|\] )ferry-alive-42$", timeout=30, start=c)
        seen.append("the console answers")
    except TimeoutError:
        ok = False
        seen.append("the console does not answer")
    dst.send("\x1d")        # Ctrl-]: the console back to ferry's shell
    return ok, "; ".join(seen)
