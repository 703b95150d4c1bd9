# SPDX-License-Identifier: Apache-2.0
"""tools/ferry-migrate as a user runs it: a Linux guest given by its files (--kernel, --initrd,
--append, --ram, --vcpus) moves while linstress runs and is checked on the destination, --plot
draws the migration from the JSON both ends print, and --threads shows what the host's threads
did."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import test_linux_direct as direct
from conftest import BUILD, TOP

TOOL = os.path.join(TOP, "tools", "ferry-migrate")


def run(args, tmp_path, timeout=300):
    env = dict(os.environ, FERRY_BUILD=BUILD)
    r = subprocess.run([sys.executable, TOOL, "--quiet", "--logs", str(tmp_path / "logs"),
                        "--json", str(tmp_path / "r.json"), "--plot", str(tmp_path / "m.svg")]
                       + args, capture_output=True, text=True, timeout=timeout, env=env, cwd=TOP)
    if r.returncode != 0:
        for n in ("src.log", "dst.log"):
            p = tmp_path / "logs" / n
            if p.exists():
                sys.stderr.write("---- %s ----\n%s\n" % (n, p.read_text()))
    return r


def check_plot(path, result):
    root = ET.parse(path).getroot()        # a well-formed SVG
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "migration of '%s'" % result["vm"] in text
    assert "downtime" in text              # the pause is marked


def test_linux_guest_from_the_command_line(tmp_path):
    direct.require_guest()
    r = run(["--kernel", direct.IMAGE, "--initrd", direct.INITRD, "--ram", "256M", "--vcpus", "2",
             "--cpu", direct.CPUS["max"], "--append",
             "console=ttyAMA0 linstress=--mib=32,--rate=5000,--rounds=0,--interval-ms=500"],
            tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "guest on the destination: clean (linstress round" in r.stdout, r.stdout
    assert "the console answers" in r.stdout
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["ok"] and result["guest_verdict"] == "PASS"
    assert result["vm"] == "linux"
    # The VM has the RAM and vCPUs asked for: 256 MiB of pages offered, and both vCPUs' state.
    assert result["source"]["pages"] == 256 * 256 + sum(
        r["pages"] for r in result["rounds_detail"][1:])
    assert result["source"]["state_blobs"] == 9      # VM, 2 vCPUs, PL011, vGIC, PL031, SVE per vCPU (max), ITS
    check_plot(tmp_path / "m.svg", result)


def test_usage_errors(tmp_path):
    r = run(["--append", "console=ttyAMA0"], tmp_path, timeout=30)
    assert r.returncode == 2 and "--initrd and --append go with --kernel" in r.stderr
    r = run(["--kernel", str(tmp_path / "missing")], tmp_path, timeout=30)
    assert r.returncode == 2 and "no such file" in r.stderr
    r = run(["--kernel", TOOL, "--ram", "lots"], tmp_path, timeout=30)
    assert r.returncode == 2 and "--ram" in r.stderr


def test_memstress_plot(tmp_path):
    r = run(["--threads"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["guest_verdict"] == "PASS" and result["guest_errors"] == 0
    check_plot(tmp_path / "m.svg", result)
    # --threads: both management CPUs (CPU 0) worked during the migration, and the table says so.
    host = result["host_threads"]
    for side in ("source", "destination"):
        mgmt = [t for t in host[side] if t["thread"] == "CPU 0/TCG"]
        assert len(mgmt) == 1 and mgmt[0]["core_pct"] > 1, host[side]
        assert "  %-12s %-18s" % (side, "CPU 0/TCG") in r.stdout, r.stdout
