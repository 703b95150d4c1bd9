# SPDX-License-Identifier: Apache-2.0
"""bench/migrate's arithmetic on made-up migration results, no QEMU: post-copy's figures come from
the right fields, a run that never switched is not counted as post-copy, the target line says
held or not as the figures say, and the host's threads are summed per role."""
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
         "bytes_sent": 557e6, "phases_ms": {"resume": 0.15, "state": 1.3}, "audit": "off"}
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
    assert line.split("|")[1].split()[:2] == ["2.1", "2.2"] and line.rstrip().endswith("0.21")

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
