#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One migration of a 512 MiB memstress guest (1 vCPU) between two ferries over -netdev stream,
with the build and the tools of the tree at TOP (this one, or an older checkout built with
`make build/ferry.bin`: the version-1 protocol for comparison); prints the source's figures as
one JSON line. The guest runs long (500 rounds) so that it is still running when the migration
ends; the result does not wait for its verdict. RATE: full (all RAM non-zero, then only read),
idle (64 MiB working set, not written), or 2000 (that working set, 25% written per round at 2000
pages/s).

    bench/mac/one_migration.py /path/to/tree full

docs/migration-protocol.md ("What a tag costs") has what it measured, run alternately on the two
trees."""
import json, os, subprocess, sys, tempfile
top, rate = sys.argv[1], sys.argv[2]
os.chdir(top)
sys.path.insert(0, os.path.join(top, "tools"))
import ferry_migrate as fm
CONFIG = """/dts-v1/;
/ { compatible = "ferry,config-v1"; vms { mover { ram-base = <0x0 0x40000000>;
 ram-size = <0x0 0x20000000>; cpus = <1>; devices = "uart"; %s }; }; };
"""
boot = {"full": "rounds=500 seed=1 frac=0 rate=0",
        "idle": "rounds=500 seed=1 pages=16384 frac=0 rate=0",
        "2000": "rounds=500 seed=1 pages=16384 frac=25 rate=2000"}[rate]
tmp = tempfile.mkdtemp()
cfg = []
for name, body in (("src", 'image = "memstress"; bootargs = "%s";' % boot), ("dst", "incoming;")):
    dts, dtb = os.path.join(tmp, name + ".dts"), os.path.join(tmp, name + ".dtb")
    open(dts, "w").write(CONFIG % body)
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", dtb, dts], check=True)
    cfg.append(dtb)
src, dst = fm.start_pair(cfg[0], cfg[1], link="stream", variant="ferry", mem="1024M")
try:
    r = fm.migrate(src, dst, "mover", trigger=r"memstress: round 1/", timeout=600,
                   wait_guest=False)
    s = r["source"]
    print(json.dumps({"tree": top, "rate": rate, "ok": r["ok"], "total_ms": s["total_ns"] / 1e6,
                      "downtime_ms": s["downtime_ns"] / 1e6, "rounds": s["rounds"],
                      "pages": s["pages"], "zero": s["zero_pages"],
                      "last_pages_ms": s.get("last_pages_ns", 0) / 1e6,
                      "verify_ms": s.get("verify_ns", 0) / 1e6,
                      "commit_rtt_ms": s.get("commit_rtt_ns", 0) / 1e6,
                      "retrans": s["retransmissions"]}))
finally:
    src.kill()
    dst.kill()
