# SPDX-License-Identifier: Apache-2.0
"""What bench/migrate/run and bench/migrate/linux share: the raw link measured in the very pair of
ferries about to migrate (while the source's guest runs its workload: its rate by `netblast`, its
round trip by `netping`), the downtime's phases from the migration JSON, medians, ratios and the
tables that print them.

ferry's downtime is the source's pause request to the destination's COMMIT (`downtime_ns`); the
destination then resumes the guest (`resume_ns`). QEMU's `downtime` field is counted on the source
from its stop to the end of the stream; its blackout is the source's STOP event to the
destination's RESUME event. Both are printed, and ratios are taken field to field (ferry's downtime
over QEMU's downtime) and end to end (ferry's downtime plus resume over QEMU's blackout)."""
import statistics
import sys

# The downtime's phases in the order they happen (docs/migration.md, "Downtime, phase by phase").
PHASES = ("park", "last_collect", "last_pages", "state", "verify", "commit_rtt", "commit_ack",
          "resume")
PHASE_NAMES = ("park", "collect", "pages", "state", "verify", "commit", "ack", "resume")

GUEST_BAD = "the guest found errors after the move, or the source's audit found pages that differ"
NETBLAST = r"netblast: received (\d+) of (\d+) frames, (\d+) bytes in (\d+) us"
NETPING = (r"netping: (\d+) of (\d+) answered, round trip min (\d+) us, median (\d+) us, "
           r"max (\d+) us")
PING_COUNT = 20


def blast(src, dst, mib, tries=3):
    """`netblast <mib>` from src to dst; dst times what it received. Returns MB/s (10^6 B/s).
    The receiver reports once the last frame came or after 500 ms without one, so a sender
    stalled that long on a loaded host splits one blast into two partial reports: then it is
    measured again, up to `tries` times, and the last partial figure is taken with a warning."""
    for attempt in range(tries):
        s0, d0 = len(src.lines), len(dst.lines)
        src.send("netblast %d" % mib)
        src.wait_for(r"netblast: sent \d+ frames", timeout=120, start=s0)
        i, m = dst.wait_for(NETBLAST, timeout=120, start=d0)
        got, total, nbytes, us = (int(x) for x in m.groups())
        rate = nbytes / us if us else 0.0
        if got == total:
            return rate
        # The rest of this blast is reported apart, 500 ms after its last frame: let it come.
        try:
            dst.wait_for(NETBLAST, timeout=5, start=i + 1)
        except TimeoutError:
            pass
    print("bench/migrate: netblast: %d of %d frames in one piece after %d tries, %.0f MB/s taken"
          % (got, total, tries, rate), file=sys.stderr)
    return rate


def ping(src, count=PING_COUNT):
    """`netping <count>` from src (its peer answers each ping as it comes). The link's round trip,
    both management CPUs asleep between frames as in a migration: {"min_ms", "median_ms",
    "max_ms"}, or None when no ping was answered."""
    s0 = len(src.lines)
    src.send("netping %d" % count)
    _, m = src.wait_for(NETPING, timeout=60, start=s0)
    answered, _, lo, mid, hi = (int(x) for x in m.groups())
    if not answered:
        return None
    return {"min_ms": lo / 1e3, "median_ms": mid / 1e3, "max_ms": hi / 1e3}


def label(case):
    """A case's name in tables and pictures: memstress's and linstress's rate 0 is unpaced."""
    return {"0": "unpaced"}.get(str(case), str(case))


def bar_panels(table):
    """ferry_plot.grouped_bars panels for {case: {"ferry": [...], "qemu": [...]}}: total time and
    downtime (log scale), medians, ferry next to QEMU's own."""
    return [(ylabel, [(name, [med([x.get(key) for x in table[c][who]]) for c in table])
                      for name, who in (("ferry", "ferry"), ("QEMU's own", "qemu"))], log)
            for ylabel, key, log in (("total time (ms)", "total_ms", False),
                                     ("downtime (ms, log scale)", "downtime_ms", True))]


def med(values):
    values = [v for v in values if v is not None and v == v]
    return statistics.median(values) if values else float("nan")


def ratio(a, b):
    """a / b; infinite when QEMU reports 0 ms (its downtime field counts whole milliseconds)."""
    if a != a or b != b or b is None:
        return float("nan")
    return a / b if b else (float("inf") if a > 0 else float("nan"))


def ferry_figures(r, link_mbps, link_ping=None):
    """The figures of one ferry migration (ferry_migrate.migrate's result) that the tables print;
    link_ping: ping's result just before it."""
    ph = r.get("phases_ms", {})
    link_ping = link_ping or {}
    return {"total_ms": r["total_ms"], "downtime_ms": r["downtime_ms"],
            "link_rtt_ms": link_ping.get("median_ms"), "link_rtt_min_ms": link_ping.get("min_ms"),
            "rtt_min_ms": r.get("rtt_min_ms"), "commit_rtt_ms": ph.get("commit_rtt"),
            "commit_ack_ms": ph.get("commit_ack"), "resume_ms": ph.get("resume"),
            # Without the destination's summary (a failed run), the downtime alone.
            "pause_end_to_end_ms": r.get("pause_end_to_end_ms", r["downtime_ms"]),
            "rounds": r["rounds"],
            "goodput_MBps": r["goodput_MBps"], "link_MBps": link_mbps,
            "goodput_ratio": ratio(r["goodput_MBps"], link_mbps),
            "wire_MB": r["bytes_sent"] / 1e6, "phases_ms": dict(ph), "audit": r.get("audit"),
            "host": host_figures(r.get("host_threads"))}


def host_figures(host):
    """Where the host's cores went during one migration (ferry_migrate.thread_use, both QEMUs):
    the share of one host core of the source's management CPU (CPU 0, which reads, tags and sends
    the pages), of the guest's vCPUs (the source's other CPUs, together), of the destination's
    management CPU, and how often a second the host preempted the source's management CPU. None
    for a run without the figures."""
    if not host or not host["seconds"]:
        return None

    def pct(side, pred):
        return sum(t["core_pct"] for t in host[side] if pred(t["thread"]))

    mgmt = [t for t in host["source"] if t["thread"] == "CPU 0/TCG"]
    return {"src_mgmt_pct": pct("source", lambda n: n == "CPU 0/TCG"),
            "guest_pct": pct("source", lambda n: n.startswith("CPU ") and n != "CPU 0/TCG"),
            "dst_mgmt_pct": pct("destination", lambda n: n == "CPU 0/TCG"),
            "src_mgmt_preempt_per_s": (mgmt[0]["preemptions"] if mgmt else 0) / host["seconds"]}


def postcopy_figures(r):
    """Post-copy's own figures, beside ferry_figures: what moved after the switch and what the
    guest on the destination waited for."""
    pc = r.get("postcopy") or {}
    return {"switched": bool(pc), "pages_after_switch": pc.get("pages_after_switch", 0),
            "last_page_ms": pc.get("time_to_last_page_ms"),
            "end_to_end_ms": pc.get("total_ms"),  # the start to the last page, verified
            "demand_faults": pc.get("demand_faults", 0), "fault_ms_max": pc.get("fault_ms_max"),
            "verify": pc.get("verify_destination") or pc.get("verify")}


PC_HEAD = ("%-8s | %7s %7s %4s %8s %8s %7s %7s %8s %4s | %6s %6s | %6s" % (
    "case", "pause", "+resume", "rnds", "switch", "end", "after", "faults", "fault max", "ok",
    "down", "black", "p/d"))
PC_UNITS = ("%-8s | %7s %7s %4s %8s %8s %7s %7s %8s %4s | %6s %6s | %6s" % (
    "", "ms", "ms", "", "ms", "ms", "pages", "", "ms", "", "ms", "ms", "f/q"))


def postcopy_row(case, ferry, qemu):
    """One line of the post-copy table: ferry with postcopy=auto against QEMU's pre-copy of the
    same case (medians)."""
    def fm(key):
        return med_of(ferry, key)

    def qm(key):
        return med_of(qemu, key)

    return ("%-8s | %7.1f %7.1f %4.0f %8.0f %8.0f %7.0f %7.0f %8.2f %4s | %6.1f %6.1f | %6.2f" % (
        case, fm("downtime_ms"), down_resume_ms(ferry), fm("rounds"), fm("total_ms"),
        fm("end_to_end_ms"), fm("pages_after_switch"), fm("demand_faults"), fm("fault_ms_max"),
        ok_count(ferry), qm("downtime_ms"), qm("blackout_ms"),
        ratio(fm("downtime_ms"), qm("downtime_ms"))))


def qemu_figures(q):
    """The same figures from QEMU's side (total, downtime field, blackout, iterations)."""
    return {"total_ms": q.get("total_ms"), "downtime_ms": q.get("downtime_ms"),
            "blackout_ms": q.get("blackout_ms"), "rounds": q.get("rounds")}


HEAD = ("%-8s | %7s %7s %7s %7s %4s %7s %7s %5s %4s | %7s %6s %6s %4s %4s | %6s %6s %6s" % (
    "case", "total", "down", "+resume", "gap", "rnds", "goodput", "link", "/link", "ok",
    "total", "down", "black", "rnds", "ok", "total", "down", "d+r/bl"))
UNITS = ("%-8s | %7s %7s %7s %7s %4s %7s %7s %5s %4s | %7s %6s %6s %4s %4s | %6s %6s %6s" % (
    "", "ms", "ms", "ms", "ms", "", "MB/s", "MB/s", "", "", "ms", "ms", "ms", "", "", "f/q",
    "f/q", "f/q"))


def med_of(runs, key):
    """The median of one figure over runs (those without it left out)."""
    return med([x.get(key) for x in runs])


def down_resume_ms(runs):
    """The median of ferry's pause end to end, as tools/ferry-migrate adds it up (its
    pause_end_to_end_ms: the downtime, the destination's wait for the COMMIT's ack and its
    resume, from the source's park to the last vCPU back in its guest)."""
    return med_of(runs, "pause_end_to_end_ms")


def ok_count(runs):
    return "%d/%d" % (sum(1 for x in runs if x.get("ok")), len(runs))


def row(case, ferry, qemu):
    """One line of the side-by-side table: medians over runs (dicts from ferry_figures with the
    guest's gap and ok added, and qemu_figures with ok added)."""
    def fm(key):
        return med_of(ferry, key)

    def qm(key):
        return med_of(qemu, key)

    down_resume = down_resume_ms(ferry)
    return ("%-8s | %7.0f %7.1f %7.1f %7.0f %4.0f %7.0f %7.0f %5.2f %4s | %7.0f %6.1f %6.1f "
            "%4.0f %4s | %6.2f %6.2f %6.2f" % (
                case, fm("total_ms"), fm("downtime_ms"), down_resume, fm("gap_ms"),
                fm("rounds"), fm("goodput_MBps"), fm("link_MBps"), fm("goodput_ratio"),
                ok_count(ferry), qm("total_ms"), qm("downtime_ms"), qm("blackout_ms"),
                qm("rounds"), ok_count(qemu),
                ratio(fm("total_ms"), qm("total_ms")), ratio(fm("downtime_ms"), qm("downtime_ms")),
                ratio(down_resume, qm("blackout_ms"))))


def legend():
    return ("ferry: total, down (source pause to COMMIT), +resume (down + the destination's "
            "wait for the COMMIT's ack + its resume), gap (memstress: its gap between two "
            "writes across the pause, nan when the host stalled it longer elsewhere in the same "
            "round, which hides it; Linux: linstress's longest gap in its first two rounds "
            "after the move), rnds, "
            "goodput (non-zero pages x 4 KiB / total), link (netblast between the same two "
            "ferries just before, the source guest running the same workload), /link; QEMU's "
            "own: total, down (its downtime field), black (source STOP to destination RESUME), "
            "rnds (dirty syncs); f/q: ferry over QEMU (down over down, d+r/bl: +resume over "
            "black); ok: the guest went on with every page verified\n"
            "post-copy tables: pause (source pause to the switch's COMMIT), +resume, rnds (live "
            "rounds before the switch), switch (start to that COMMIT), end (start to the last "
            "page, verified), after (pages sent after the switch), faults (guest accesses on "
            "the destination that waited for a page) and the longest wait; QEMU's pre-copy "
            "down and black; p/d: the pause over QEMU's downtime")


def phase_table(title, cases):
    """cases: [(name, [ferry figure dicts])]: the downtime's phases, medians, ms."""
    out = [title, "%-10s | %7s | %s" % ("case", "down", " ".join("%7s" % n for n in PHASE_NAMES))]
    for name, runs in cases:
        phases = [med([x["phases_ms"].get(p) for x in runs]) for p in PHASES]
        out.append("%-10s | %7.1f | %s" % (name, med([x["downtime_ms"] for x in runs]),
                                          " ".join("%7.1f" % v for v in phases)))
    out.append("park, last collection, last pages, state, verification, commit round trip "
               "(source; they add up to down), the destination's wait for the COMMIT's ack and "
               "its resume, from the migration JSON")
    return "\n".join(out)


HOST_KEYS = ("src_mgmt_pct", "guest_pct", "dst_mgmt_pct", "src_mgmt_preempt_per_s")


def host_table(cases):
    """cases: [(name, [ferry figure dicts])]: host_figures' medians per case."""
    out = ["where the host's cores went while ferry migrated (medians; % of one host core)",
           "%-10s | %9s %9s %9s %12s" % ("case", "src CPU 0", "guest", "dst CPU 0",
                                          "preempt/s")]
    for name, runs in cases:
        h = [x["host"] for x in runs if x.get("host")]
        if h:
            v = [med([x[k] for x in h]) for k in HOST_KEYS]
            out.append("%-10s | %8.0f%% %8.0f%% %8.0f%% %12.0f" % (name, *v))
    out.append("CPU 0 is each ferry's management CPU (it reads, tags and sends, or receives, "
               "checks and writes, the pages); the guest's vCPUs are the source's other CPUs; "
               "preempt/s: how often the host took the source's CPU 0 off its core "
               "(tools/ferry-migrate --threads)")
    return "\n".join(out)


RTT_KEYS = ("link_rtt_min_ms", "link_rtt_ms", "rtt_min_ms", "commit_rtt_ms")


def rtt_figures(runs):
    """RTT_KEYS' medians over runs, then the migration's fastest round trip over netping's
    fastest and its commit round trip over netping's median."""
    v = [med_of(runs, k) for k in RTT_KEYS]
    return v + [ratio(v[2], v[0]), ratio(v[3], v[1])]


def rtt_spread(cases):
    """The commit round trip over the link's median and the fastest over the link's fastest:
    (lowest, highest) of each over the cases that have both, or None."""
    figs = [rtt_figures(r) for _, r in cases]
    a, b = [f[5] for f in figs if f[5] == f[5]], [f[4] for f in figs if f[4] == f[4]]
    return ((min(a), max(a)), (min(b), max(b))) if a and b else None


def rtt_table(cases):
    """cases: [(name, [ferry figure dicts])]: the link's round trip against the migration's,
    medians, ms."""
    out = ["round trips: the link's (netping, just before, under the same load) against the "
           "migration's (medians, ms)",
           "%-10s | %8s %8s | %8s %8s | %8s %8s" % ("case", "link min", "link med", "fastest",
                                                   "commit", "fst/min", "cmt/med")]
    for name, runs in cases:
        v = rtt_figures(runs)
        if v[1] == v[1]:
            out.append("%-10s | %8.2f %8.2f | %8.2f %8.2f | %8.2f %8.2f" % (name, *v))
    out.append("link: netping's fastest and median round trip; fastest: the migration's fastest "
               "round trip (a frame with nothing queued ahead); commit: its commit round trip "
               "(HASH out, COMMIT back, the destination's last blobs and check between)")
    return "\n".join(out)


def dominant_phase(runs):
    """(name, median ms) of the largest phase over these runs."""
    phases = [(med([x["phases_ms"].get(p) for x in runs]), n) for p, n in zip(PHASES, PHASE_NAMES)]
    ms, name = max(phases, key=lambda t: t[0] if t[0] == t[0] else -1)
    return name, ms
