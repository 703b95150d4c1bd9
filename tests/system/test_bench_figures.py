# SPDX-License-Identifier: Apache-2.0
"""bench/migrate's arithmetic on made-up migration results, no QEMU: post-copy's figures come from
the right fields, a run that never switched is not counted as post-copy, the target line says
held or not as the figures say, the host's threads are summed per role, and the link's round trip
(netping) is read and set against the migration's."""
import importlib.machinery
import importlib.util
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "bench", "migrate"))
import figures as fig  # noqa: E402


def load_run():
    loader = importlib.machinery.SourceFileLoader(
        "bench_run", os.path.join(TOP, "bench", "migrate", "run"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def result(postcopy):
    """What ferry_migrate.migrate returns, the fields the figures read."""
    r = {"total_ms": 3216.0, "downtime_ms": 2.1, "rounds": 8, "goodput_MBps": 170.0,
         "bytes_sent": 557e6, "phases_ms": {"commit_ack": 0.25, "resume": 0.15, "state": 1.3},
         "pause_end_to_end_ms": 2.5, "audit": "off"}
    if postcopy:
        # pc "total_ms" is the whole migration, start to the last page verified (pc_total_ns).
        r["postcopy"] = {"pages_after_switch": 15264, "time_to_last_page_ms": 531.0,
                         "total_ms": 3751.0, "verify": "match", "demand_faults": 205,
                         "fault_ms_max": 5.04, "verify_destination": "match"}
    return r


def test_postcopy_figures():
    f = fig.postcopy_figures(result(True))
    assert f["switched"] and f["end_to_end_ms"] == 3751.0 and f["pages_after_switch"] == 15264
    assert f["demand_faults"] == 205 and f["verify"] == "match"
    assert not fig.postcopy_figures(result(False))["switched"]


def figures(postcopy, ok=True):
    x = fig.ferry_figures(result(postcopy), 1000.0)
    x.update(fig.postcopy_figures(result(postcopy)))
    x["ok"] = ok
    return x


def test_postcopy_rows_and_target():
    run = load_run()
    qemu = [{"total_ms": 313.0, "downtime_ms": 10.0, "blackout_ms": 10.8, "ok": False}]
    said = []
    rows = run.postcopy_rows(lambda o: figures(True), 1, said.append, "Linux at 0", qemu)
    assert rows["ferry"][0]["ok"] and said == ["Linux at 0: ferry, postcopy=auto"]
    line = fig.postcopy_row("unpaced", rows["ferry"], rows["qemu"])
    # The pause end to end: the downtime, the destination's wait for the COMMIT's ack, its resume.
    assert line.split("|")[1].split()[:2] == ["2.1", "2.5"] and line.rstrip().endswith("0.21")

    # A run that converged without switching is no post-copy figure.
    never = run.postcopy_rows(lambda o: figures(False), 1, said.append, "Linux at 0", qemu)
    assert not never["ferry"][0]["ok"] and "no switch" in never["ferry"][0]["why"]

    out = {"rates": {}, "sweep": {}, "linux": {}, "postcopy": {}, "linux_postcopy": {"0": rows}}
    assert any("post-copy" in t and "held (1 of 1)" in t for t in run.targets(out))
    out["linux_postcopy"]["0"] = never
    assert any("post-copy" in t and "NOT held" in t for t in run.targets(out))
    # A pause above QEMU's downtime does not hold either.
    slow = dict(figures(True), downtime_ms=12.0)
    out["linux_postcopy"]["0"] = {"ferry": [slow], "qemu": qemu}
    assert any("post-copy" in t and "NOT held" in t for t in run.targets(out))


def test_host_figures_and_table():
    host = {"seconds": 2.0, "source": [
        {"thread": "CPU 1/TCG", "tid": 11, "core_pct": 70.0, "sleeps": 3, "preemptions": 50},
        {"thread": "CPU 0/TCG", "tid": 10, "core_pct": 50.0, "sleeps": 9, "preemptions": 3000},
        {"thread": "CPU 2/TCG", "tid": 12, "core_pct": 10.0, "sleeps": 90, "preemptions": 1},
        {"thread": "qemu-system-aar", "tid": 9, "core_pct": 6.0, "sleeps": 900,
         "preemptions": 40}],
        "destination": [
        {"thread": "CPU 0/TCG", "tid": 20, "core_pct": 40.0, "sleeps": 4000, "preemptions": 8}]}
    r = dict(result(False), host_threads=host)
    h = fig.ferry_figures(r, 1000.0)["host"]
    assert h == {"src_mgmt_pct": 50.0, "guest_pct": 80.0, "dst_mgmt_pct": 40.0,
                 "src_mgmt_preempt_per_s": 1500.0}
    assert fig.ferry_figures(result(False), 1000.0)["host"] is None  # a run without them
    table = fig.host_table([("idle", [{"host": h}, {"host": None}])]).splitlines()
    assert table[2].split("|")[1].split() == ["50%", "80%", "40%", "1500"]


def test_round_trip_figures_table_and_spread():
    r = dict(result(False), rtt_min_ms=0.3, phases_ms={"commit_rtt": 1.2, "resume": 0.1})
    x = fig.ferry_figures(r, 1000.0, {"min_ms": 0.2, "median_ms": 0.6, "max_ms": 4.0})
    assert (x["link_rtt_min_ms"], x["link_rtt_ms"], x["rtt_min_ms"], x["commit_rtt_ms"]) == (
        0.2, 0.6, 0.3, 1.2)
    y = dict(x, link_rtt_ms=0.4, commit_rtt_ms=2.0)
    # No netping figure (none answered): left out of the table and the spread.
    none = fig.ferry_figures(r, 1000.0, None)
    assert none["link_rtt_ms"] is None
    table = fig.rtt_table([("idle", [x]), ("20000", [y]), ("lost", [none])]).splitlines()
    assert " ".join(table[2].split("|")[1:]).split() == ["0.20", "0.60", "0.30", "1.20", "1.50",
                                                         "2.00"]
    assert table[3].split("|")[3].split() == ["1.50", "5.00"]
    assert not any(line.startswith("lost") for line in table)
    (lo, hi), (flo, fhi) = fig.rtt_spread([("idle", [x]), ("20000", [y]), ("lost", [none])])
    assert (lo, hi) == (2.0, 5.0) and abs(flo - 1.5) < 1e-9 and abs(fhi - 1.5) < 1e-9
    assert fig.rtt_spread([("lost", [none])]) is None


class FakeFerry:
    """A console that answers `netping` as a ferry does."""
    def __init__(self, answer):
        self.lines, self.answer = [], answer

    def send(self, line):
        self.lines += [line, self.answer]

    def wait_for(self, pattern, timeout, start=0):
        import re
        for i, line in enumerate(self.lines[start:], start):
            m = re.search(pattern, line)
            if m:
                return i, m
        raise TimeoutError(pattern)


def test_ping_reads_netping():
    src = FakeFerry("netping: 20 of 20 answered, round trip min 205 us, median 558 us, "
                    "max 3956 us")
    assert fig.ping(src) == {"min_ms": 0.205, "median_ms": 0.558, "max_ms": 3.956}
    assert src.lines[0] == "netping 20"
    lost = FakeFerry("netping: 0 of 20 answered, round trip min 0 us, median 0 us, max 0 us")
    assert fig.ping(lost) is None


def test_row_end_to_end_and_hidden_gap():
    # The guest's gap across the pause is left out of the median when the host hid it (None), and
    # end to end counts the destination's wait for the COMMIT's ack.
    qemu = [{"total_ms": 313.0, "downtime_ms": 2.0, "blackout_ms": 5.0, "rounds": 3, "ok": True}]
    runs = [dict(figures(False), gap_ms=g) for g in (None, 9.0, 11.0)]
    cells = fig.row("memstress", runs, qemu).split("|")[1].split()
    assert cells[1:4] == ["2.1", "2.5", "10"]
    assert fig.row("memstress", runs[:1], qemu).split("|")[1].split()[3] == "nan"
