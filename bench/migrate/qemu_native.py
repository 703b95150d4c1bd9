#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/migrate/qemu_native.py: QEMU's own live migration of the memstress guest, run directly
under QEMU (no ferry): the reference that ferry's migration is compared with.

One run: a SOURCE QEMU boots build/guest/memstress.bin (`-M virt -cpu max -m <mem> -smp 1`); a
DESTINATION QEMU with the same arguments waits with `-incoming defer`, then `migrate-incoming
tcp:127.0.0.1:0` (QEMU picks the port, query-migrate names it: no race with other runs). Once the
guest on the source has filled its working set and is in its rewrite rounds, the source's QMP gets
`migrate`, and query-migrate is polled until it completes. The destination resumes by itself;
its serial output (a file) is read until memstress's verdict, which must be PASS with 0 errors:
the guest went on with its rounds on the destination and verified every page against its ledger.
memstress then powers off (PSCI SYSTEM_OFF) and the destination QEMU must exit with status 0.

QMP is spoken directly over the `-qmp unix:` sockets (no Python packages beyond the standard
library). Use as a module (`run_qemu_migration(...)` returns a dict) or as a CLI:

    bench/migrate/qemu_native.py --mem 512 --rates idle,2000,20000,0 [--json out.json]

Rates are memstress `rate=` values (pages/s the guest rewrites, paced by its virtual counter):
`0` is memstress's "as fast as possible" (the heaviest load, not idle); `idle` means frac=0, rounds
that write nothing and only verify."""
import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = os.path.join(TOP, os.environ.get("FERRY_BUILD", "build"), "guest", "memstress.bin")
sys.path.insert(0, os.path.join(TOP, "tools"))
import ferry_qemu  # noqa: E402

QEMU = ferry_qemu.QEMU

FILLED = re.compile(r"memstress: filled (\d+) pages")
ROUND = re.compile(r"memstress: round (\d+)/(\d+) wrote (\d+) pages, verified (\d+) pages, "
                   r"errors (\d+), writes took (\d+) us(?:, longest gap (\d+) us)?")
VERDICT = re.compile(r"memstress: (PASS|FAIL) rounds=(\d+) pages=(\d+) errors=(\d+)(.*)")

# memstress's working set: pages from the next 2 MiB boundary after the image and its bookkeeping
# to the end of RAM (docs/memstress.md: 32256 of 128 MiB); the ledger grows with it, so leave 4 MiB.
WS_DEFAULT = 16384          # 64 MiB of written, non-zero pages: short fills at any rate
FRAC = 25                   # memstress's default share rewritten per round


class QMPError(Exception):
    pass


class QMP:
    """A QMP client over a unix socket: one JSON object per line each way; events arrive between
    replies and are kept, with QEMU's own timestamps, in `events`."""

    def __init__(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QMPError("cannot connect to QMP socket %s" % path)
                time.sleep(0.02)
        self.buf = b""
        self.events = []
        self.sock.settimeout(timeout)
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise QMPError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **arguments):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise QMPError("%s: %s" % (name, reply["error"].get("desc", reply["error"])))
            elif "return" in reply:
                return reply["return"]

    def event_time(self, name):
        """QEMU's host timestamp (seconds) of the first `name` event seen so far, or None."""
        for e in self.events:
            if e["event"] == name:
                ts = e["timestamp"]
                return ts["seconds"] + ts["microseconds"] / 1e6
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class SerialLog:
    """Reads a QEMU `-serial file:` log as it grows."""

    def __init__(self, path):
        self.path = path

    def text(self):
        try:
            with open(self.path, "rb") as f:
                return f.read().decode("utf-8", "replace").replace("\r\n", "\n")
        except FileNotFoundError:
            return ""

    def wait(self, regex, timeout, alive=()):
        """Waits for `regex` in the log; returns the match, or None at the timeout or when one of
        the `alive` processes has exited (one last look first)."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(regex, self.text())
            if m:
                return m
            if time.monotonic() > deadline or any(p.poll() is not None for p in alive):
                return re.search(regex, self.text())
            time.sleep(0.01)


def qemu_command(image, mem, bootargs, serial, qmp, cpu="max", icount=False, extra=()):
    """The guest's machine (identical on both sides) plus this side's serial file and QMP socket.
    `mem` is QEMU's -m value. `-nographic` as in docs/memstress.md; `-monitor none` keeps the HMP
    monitor off stdin."""
    return ferry_qemu.direct_args(image, machine="virt", cpu=cpu, smp=1, mem=mem, append=bootargs,
                                  serial="file:" + serial, icount=icount,
                                  extra=["-qmp", "unix:%s,server=on,wait=off" % qmp] + list(extra))


def _spawn(args, log):
    with open(log, "wb") as out:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _incoming_port(dst_qmp):
    info = dst_qmp.cmd("query-migrate")
    for addr in info.get("socket-address", []):
        if addr.get("type") in ("inet", "ipv4") and int(addr.get("port", 0)):
            return int(addr["port"])
    raise QMPError("destination names no listening port: %r" % info)


def default_rounds(rate, pages, frac, migrate_s, icount=False):
    """Enough rounds that the guest is still writing when a migration of up to `migrate_s`
    seconds ends, and not many more, since the destination runs the rest. A round writes
    frac% of the pages at `rate` pages/s (unpaced: about 1.2 us a page, measured) and then
    verifies all of them (about 2.5 us a page under TCG, measured: 40 ms for 64 MiB; about 60 us
    under -icount shift=0, where rates are in virtual time, one instruction a nanosecond)."""
    written = frac * pages / 100.0
    per_page = 60e-6 if icount else 2.5e-6
    per_round = (written / rate if rate else written * per_page / 2) + pages * per_page
    return max(4, int(math.ceil(migrate_s / max(per_round, 0.01))) + 2)


def run_qemu_migration(mem_mib=512, bootargs="", rate=0, *, pages=WS_DEFAULT, frac=None,
                       rounds=None, seed=1, after_round=0, max_bandwidth=None,
                       downtime_limit_ms=50, auto_converge=False, force_after=None, icount=False,
                       ram_extra_kib=0, cpu="max", timeout=120.0, image=IMAGE, keep=None,
                       log=None, rounds_after=None):
    """Migrates a running memstress guest from one QEMU to another with QEMU's own migration.

    rate: memstress `rate=` (pages/s per round, 0 = unpaced), or "idle" (frac=0: rounds only
    verify). pages: working-set pages (None: all of RAM; the fill is paced at `rate` too, so a
    large set makes slow fills). after_round: migrate once the source has finished this many
    rounds (0: as soon as the fill is done). max_bandwidth: bytes/s for QEMU (None: 100 GiB/s,
    i.e. unthrottled; QEMU's own default is 32 MiB/s). downtime_limit_ms: QEMU's downtime-limit
    (default 50, ferry's default downtime budget; QEMU's own default is 300). auto_converge:
    QEMU's vCPU throttling capability. force_after: seconds after which a migration that has not
    converged is finished by pausing the source (`stop`), reported as forced. ram_extra_kib: RAM
    beyond mem_mib (8 avoids QEMU 7.2's lost-write bug under TCG, see README.md). keep: a directory
    to keep the serial logs and QEMU output in. rounds_after: judge the guest by the first
    rounds_after rounds that end on the destination (each verifies every page) instead of waiting
    for its verdict, so that many rounds can be given for a slow migration without running them
    all; the destination is then stopped. Returns a dict of figures; `ok` says whether the
    guest passed on the destination and both QEMUs ended cleanly."""
    say = log or (lambda s: None)
    if not os.path.exists(image):
        raise FileNotFoundError("missing %s: run make" % image)
    idle = rate == "idle"
    rate_val = 0 if idle else int(rate)
    frac = 0 if idle else (FRAC if frac is None else frac)
    if rounds is None:
        ws = pages or (mem_mib - 4) * 256
        # Unthrottled, QEMU needs well under a second here; allow 2 s, plus twice the working
        # set at a set bandwidth, plus the time before a forced finish.
        migrate_s = 2.0 + (2.0 * ws * 4096 / max_bandwidth if max_bandwidth else 0)
        if force_after is not None:
            migrate_s = max(migrate_s, force_after + 1.0)
        rounds = default_rounds(rate_val, ws, frac, migrate_s, icount) + after_round
    boot = "rounds=%d seed=%d rate=%d frac=%d" % (rounds, seed, rate_val, frac)
    if pages:
        boot += " pages=%d" % pages
    if bootargs:
        boot += " " + bootargs
    mem = "%dM" % mem_mib if not ram_extra_kib else "%dK" % (mem_mib * 1024 + ram_extra_kib)
    work = tempfile.mkdtemp(prefix="qemu-native-")
    paths = {k: os.path.join(work, k) for k in
             ("src.serial", "dst.serial", "src.qmp", "dst.qmp", "src.out", "dst.out")}
    src = dst = sq = dq = None
    r = {"mem_mib": mem_mib, "qemu_m": mem, "rate": "idle" if idle else rate_val, "frac": frac,
         "rounds": rounds,
         "bootargs": boot, "icount": icount, "downtime_limit_ms": downtime_limit_ms,
         "max_bandwidth": max_bandwidth, "auto_converge": auto_converge, "forced": False,
         "status": None, "verdict": None, "errors": None, "ok": False}
    try:
        # The destination first: it must be listening when the source is told to migrate.
        dst = _spawn(qemu_command(image, mem, boot, paths["dst.serial"], paths["dst.qmp"],
                                  cpu, icount, ["-incoming", "defer"]), paths["dst.out"])
        dq = QMP(paths["dst.qmp"])
        dq.cmd("migrate-incoming", uri="tcp:127.0.0.1:0")
        port = _incoming_port(dq)
        t_boot = time.monotonic()
        src = _spawn(qemu_command(image, mem, boot, paths["src.serial"], paths["src.qmp"],
                                  cpu, icount), paths["src.out"])
        sq = QMP(paths["src.qmp"])
        caps = [{"capability": "events", "state": True}]
        if auto_converge:
            caps.append({"capability": "auto-converge", "state": True})
        sq.cmd("migrate-set-capabilities", capabilities=caps)
        sq.cmd("migrate-set-parameters", **{
            "max-bandwidth": int(max_bandwidth or 100 << 30),
            "downtime-limit": int(downtime_limit_ms)})
        serial = SerialLog(paths["src.serial"])
        m = serial.wait(FILLED.pattern, timeout, (src,))
        if not m:
            raise RuntimeError("source guest never finished its fill:\n" + serial.text()[-2000:])
        r["pages"] = int(m.group(1))
        r["fill_s"] = round(time.monotonic() - t_boot, 3)
        if after_round:
            pat = r"memstress: round %d/%d " % (after_round, rounds)
            if not serial.wait(pat, timeout, (src,)):
                raise RuntimeError("source guest never reached round %d" % after_round)
        before = ROUND.findall(serial.text())
        r["source_rounds_before"] = len(before)
        say("  migrating from round %d/%d (source pid %d -> destination pid %d, port %d)" % (
            len(before) + 1, rounds, src.pid, dst.pid, port))
        t0 = time.monotonic()
        sq.cmd("migrate", uri="tcp:127.0.0.1:%d" % port)
        info = {}
        while True:
            try:
                info = sq.cmd("query-migrate")
            except (QMPError, OSError):
                try:
                    src.wait(2)
                except subprocess.TimeoutExpired:
                    raise
            if src.poll() is not None:
                # memstress powered off on the source before the migration ended.
                raise RuntimeError("source QEMU exited (status %s) during migration: the guest "
                                   "finished first (rounds=%d too few, or no convergence)" %
                                   (src.returncode, rounds))
            st = info.get("status")
            if st in ("completed", "failed", "cancelled"):
                break
            if force_after is not None and not r["forced"] and time.monotonic() - t0 > force_after:
                # Not converging: finish it the way `virsh migrate --timeout` does, by pausing the
                # source; what is left goes across while the guest is stopped.
                sq.cmd("stop")
                r["forced"] = True
                say("  not converged after %.1f s: source paused to finish" % force_after)
            if time.monotonic() - t0 > timeout:
                sq.cmd("migrate_cancel")
                raise RuntimeError("migration not complete after %.0f s: %r" % (timeout, info))
            time.sleep(0.01)
        r["wall_ms"] = round((time.monotonic() - t0) * 1000, 1)
        r["migration_status"] = info.get("status")
        if info.get("status") != "completed":
            raise RuntimeError("migration %s: %s" % (info.get("status"),
                                                     info.get("error-desc", info)))
        # QEMU 7.2 sets "completed" before it computes total-time and downtime
        # (migration_completion, then migration_calculate_complete): a query in between reads
        # zeros. The source's run state becomes postmigrate only after that, so wait for it.
        deadline = time.monotonic() + 10
        while sq.cmd("query-status").get("status") != "postmigrate":
            if time.monotonic() > deadline:
                raise RuntimeError("source never reached postmigrate")
            time.sleep(0.005)
        info = sq.cmd("query-migrate")
        ram = info.get("ram", {})
        r.update({
            "total_ms": info.get("total-time"),
            "downtime_ms": info.get("downtime"),
            "setup_ms": info.get("setup-time"),
            "transferred_bytes": ram.get("transferred"),
            "total_bytes": ram.get("total"),
            "normal_pages": ram.get("normal"),
            "normal_bytes": ram.get("normal-bytes"),
            "zero_pages": ram.get("duplicate"),
            "skipped_pages": ram.get("skipped"),
            "iterations": ram.get("dirty-sync-count"),
            "mbps": ram.get("mbps"),
            "precopy_bytes": ram.get("precopy-bytes"),
            "downtime_bytes": ram.get("downtime-bytes"),
            "page_size": ram.get("page-size"),
            "dirty_pages_rate": ram.get("dirty-pages-rate"),
            "throttle_pct": info.get("cpu-throttle-percentage"),
        })
        # Host-clock blackout: the source's STOP to the destination's RESUME (QEMU timestamps
        # both with the same host clock). The guest itself cannot see it: its virtual counter
        # stops with the VM (QEMU_CLOCK_VIRTUAL) and travels with the migration stream.
        # The destination resumes on its own (no -S) when the source was running at the end;
        # after a forced finish (source paused) it stays paused, as the source was, and needs
        # `cont`. Its status is "inmigrate" until the stream is loaded.
        deadline = time.monotonic() + 10
        while True:
            st = dq.cmd("query-status").get("status")
            if st != "inmigrate" or dq.event_time("RESUME"):
                break
            if time.monotonic() > deadline or dst.poll() is not None:
                raise RuntimeError("destination did not take over (status %s)" % st)
            time.sleep(0.005)
        r["destination_state"] = st
        if st in ("paused", "postmigrate") and not dq.event_time("RESUME"):
            dq.cmd("cont")
            deadline = time.monotonic() + 10
            while not dq.event_time("RESUME") and time.monotonic() < deadline:
                dq.cmd("query-status")
                time.sleep(0.005)
        stop_t, resume_t = sq.event_time("STOP"), dq.event_time("RESUME")
        if stop_t and resume_t:
            # After a forced finish this includes the pause: the guest's real downtime.
            r["blackout_ms"] = round((resume_t - stop_t) * 1000, 1)
        # The source stays paused (postmigrate) with its guest's pre-migration output.
        src_out = serial.text()
        r["source_rounds"] = len(ROUND.findall(src_out))
        sq.cmd("quit")
        sq.close()
        sq = None
        src.wait(10)
        # The guest goes on on the destination and ends with its verdict.
        dserial = SerialLog(paths["dst.serial"])
        by_rounds = False
        if rounds_after:
            deadline = time.monotonic() + timeout
            while (len(ROUND.findall(dserial.text())) < rounds_after and dst.poll() is None
                   and not VERDICT.search(dserial.text()) and time.monotonic() < deadline):
                time.sleep(0.05)
        v = dserial.wait(VERDICT.pattern, 0 if rounds_after else timeout, (dst,))
        dst_out = dserial.text()
        rounds_dst = ROUND.findall(dst_out)
        if rounds_after and not v and len(rounds_dst) >= rounds_after:
            # Enough rounds, no verdict yet: the rounds' own error counts are the verdict.
            errors = sum(int(x[4]) for x in rounds_dst)
            v = VERDICT.search("memstress: %s rounds=%d pages=0 errors=%d" % (
                "PASS" if errors == 0 else "FAIL", len(rounds_dst), errors))
            by_rounds = True
            _stop(dst)
        r["destination_rounds"] = len(rounds_dst)
        r["destination_errors_per_round"] = [int(x[4]) for x in rounds_dst]
        if rounds_dst and rounds_dst[0][6]:
            # The first round that ends on the destination spans the pause. QEMU stops the
            # guest's virtual counter with the VM and migrates it, so this gap shows the
            # stalls the running vCPU had, not the pause (ferry keeps guest time running).
            r["guest_round_after"] = int(rounds_dst[0][0])
            r["guest_gap_us"] = int(rounds_dst[0][6])
            later = [int(x[6]) for x in rounds_dst[1:] if x[6]]
            if later:
                r["guest_gap_after_us"] = max(later)
        if v:
            r["verdict"], r["errors"] = v.group(1), int(v.group(4))
            r["verdict_line"] = v.group(0).strip()
        try:
            r["status"] = 0 if by_rounds else dst.wait(15)
        except subprocess.TimeoutExpired:
            r["status"] = None
        r["ok"] = (r["verdict"] == "PASS" and r["errors"] == 0 and r["status"] == 0
                   and len(rounds_dst) > 0 and src.returncode == 0)
        r["mismatches"] = re.findall(r"memstress: mismatch .*", dst_out)[:10]
        r["summary"] = summary(r)
        if not r["ok"]:
            r["error"] = "destination: %s" % (dst_out[-1500:] or "no output")
    except (RuntimeError, QMPError, OSError, subprocess.TimeoutExpired) as e:
        r["error"] = str(e)
    finally:
        for q in (sq, dq):
            if q:
                q.close()
        _stop(src)
        _stop(dst)
        if keep:
            os.makedirs(keep, exist_ok=True)
            tag = "rate-%s.%s" % (r["rate"], os.path.basename(work).rsplit("-", 1)[-1])
            r["kept"] = os.path.join(keep, tag)
            for k in ("src.serial", "dst.serial", "src.out", "dst.out"):
                if os.path.exists(paths[k]):
                    shutil.copy(paths[k], os.path.join(keep, "%s.%s" % (tag, k)))
        shutil.rmtree(work, ignore_errors=True)
    return r


def summary(r):
    """The figures under the names tools/ferry_migrate.py gives ferry's own (side by side):
    rounds are QEMU's dirty-bitmap syncs, pages those sent (normal + zero), goodput the non-zero
    page data per second of total time, wire_per_data bytes sent per byte of that data."""
    data, ms = r.get("normal_bytes") or 0, r.get("total_ms") or 0
    return {
        "ok": r["ok"], "total_ms": ms, "downtime_ms": r.get("downtime_ms"),
        "blackout_ms": r.get("blackout_ms"), "rounds": r.get("iterations"),
        "pages": (r.get("normal_pages") or 0) + (r.get("zero_pages") or 0),
        "zero_pages": r.get("zero_pages"), "bytes_sent": r.get("transferred_bytes"),
        "wire_per_data": r["transferred_bytes"] / data if data else None,
        "goodput_MBps": data / (ms / 1e3) / 1e6 if ms else None,
        "guest_gap_us": r.get("guest_gap_us"), "verdict": r.get("verdict"),
        "errors": r.get("errors"), "forced": r.get("forced"),
    }


def _mb(b):
    return b / 1e6 if b is not None else float("nan")


def print_table(rows, out=sys.stdout):
    head = ("rate", "total ms", "downtime ms", "blackout ms", "setup ms", "MB sent", "MB/s",
            "iters", "normal", "zero", "verdict")
    fmt = "%-6s %9s %12s %12s %9s %9s %8s %6s %8s %8s  %s"
    print(fmt % head, file=out)
    for r in rows:
        if r.get("total_ms") is None:
            print(fmt % (r["rate"], "-", "-", "-", "-", "-", "-", "-", "-", "-",
                         "ERROR: " + r.get("error", "?").splitlines()[0]), file=out)
            continue
        secs = r["total_ms"] / 1000.0
        mbs = _mb(r["transferred_bytes"]) / secs if secs else float("nan")
        verdict = "%s errors=%s" % (r["verdict"], r["errors"]) if r["verdict"] else "no verdict"
        if r["forced"]:
            verdict += " (forced)"
        if not r["ok"] and r["verdict"]:
            verdict += " exit=%s" % r["status"]
        print(fmt % (r["rate"], r["total_ms"], r["downtime_ms"], r.get("blackout_ms", "-"),
                     r["setup_ms"], "%.1f" % _mb(r["transferred_bytes"]), "%.0f" % mbs,
                     r["iterations"], r["normal_pages"], r["zero_pages"], verdict), file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mem", type=int, default=512, help="guest RAM in MiB (default 512)")
    ap.add_argument("--rates", default="idle,2000,20000,0",
                    help="comma-separated memstress rate= values; 0 = unpaced (heaviest), "
                         "idle = frac=0 (default idle,2000,20000,0)")
    ap.add_argument("--pages", type=int, default=WS_DEFAULT,
                    help="working-set pages (default %d = 64 MiB; 0 = all of RAM: slow paced fills)"
                    % WS_DEFAULT)
    ap.add_argument("--frac", type=int, default=None, help="percent rewritten per round (25)")
    ap.add_argument("--rounds", type=int, default=None, help="memstress rounds (default: enough)")
    ap.add_argument("--after-round", type=int, default=0,
                    help="migrate after this many rounds on the source (0: right after the fill)")
    ap.add_argument("--downtime-limit", type=int, default=50, help="QEMU downtime-limit, ms (50)")
    ap.add_argument("--max-bandwidth", type=int, default=None,
                    help="QEMU max-bandwidth, bytes/s (default 100 GiB/s: unthrottled)")
    ap.add_argument("--auto-converge", action="store_true", help="QEMU auto-converge capability")
    ap.add_argument("--force-after", type=float, default=None,
                    help="pause the source after this many seconds if not converged")
    ap.add_argument("--icount", action="store_true", help="add -icount shift=0,sleep=off")
    ap.add_argument("--ram-extra-kib", type=int, default=0,
                    help="add this much RAM (8: a size QEMU 7.2 syncs page by page, which avoids "
                         "its TCG lost-write bug; see README.md)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per rate")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--keep", metavar="DIR", help="keep serial logs and QEMU output here")
    ap.add_argument("--json", metavar="FILE", help="write the results here")
    a = ap.parse_args(argv)
    rates = []
    for x in a.rates.split(","):
        x = x.strip()
        rates.append(x if x == "idle" else int(x))
    print("QEMU's own migration: %d MiB guest, memstress working set %s pages, downtime-limit "
          "%d ms, max-bandwidth %s%s" % (a.mem, a.pages or "all", a.downtime_limit,
                                         a.max_bandwidth or "unthrottled",
                                         ", icount" if a.icount else ""))
    rows = []
    for rate in rates:
        for _ in range(a.repeat):
            print("rate %s ..." % rate, file=sys.stderr, flush=True)
            r = run_qemu_migration(a.mem, "", rate, pages=a.pages or None, frac=a.frac,
                                   rounds=a.rounds, after_round=a.after_round,
                                   max_bandwidth=a.max_bandwidth,
                                   downtime_limit_ms=a.downtime_limit,
                                   auto_converge=a.auto_converge, force_after=a.force_after,
                                   icount=a.icount, ram_extra_kib=a.ram_extra_kib,
                                   timeout=a.timeout, keep=a.keep,
                                   log=lambda s: print(s, file=sys.stderr, flush=True))
            rows.append(r)
    print_table(rows)
    lost = [r for r in rows if r.get("mismatches")]
    if lost and not a.ram_extra_kib:
        print("FAIL: the guest found pages newer than its ledger on the destination: writes to "
              "the ledger were lost.\nThat is QEMU 7.2's TCG dirty-bitmap bug (fixed in 9.0, "
              "commit 03bfc2188f); --ram-extra-kib 8 avoids it (bench/migrate/README.md).")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"kind": "qemu-native", "qemu": QEMU, "runs": rows}, f, indent=1)
            f.write("\n")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
