# SPDX-License-Identifier: Apache-2.0
"""tools/tlbi: the decoder and planner CLI (host only, no QEMU). Runs $FERRY_BUILD/tools/tlbi."""
import os
import subprocess

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(TOP, os.environ.get("FERRY_BUILD", "build"), "tools", "tlbi")


def run(*args):
    if not os.path.exists(TOOL):
        pytest.fail("missing %s: run 'make tools'" % TOOL)
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=30)


def test_decode_seed_operand():
    r = run("decode", "0xffff708000040000")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for field in ("TG       = 1 (4K)", "SCALE    = 3", "NUM      = 1", "TTL      = 0",
                  "BaseADDR = 0x40000 (IPA 0x40000000)", "NS/RES0  = 0xffff"):
        assert field in out, out
    assert "covers IPA 0x40000000-0x5fffffff (131072 pages, 512 MiB)" in out


def test_decode_ipas2e1is():
    r = run("decode", "0x600000040000", "--kind", "ipas2e1is")
    assert r.returncode == 0, r.stderr
    assert "IPA 0x40000000" in r.stdout and "level 2 only" in r.stdout


@pytest.mark.parametrize("algo,operand,stale", [
    ("ferry", "0x7f8000040000", None),
    ("linux-6.6", "0x400000040000", "IPA 0x40002000-0x23fffffff (2097150 pages)"),
    ("linux-6.8", "0xffff708000040000", "IPA 0x60000000-0x23fffffff (1966080 pages)"),
])
def test_plan_seed_case(algo, operand, stale):
    r = run("plan", "--ipa", "0x40000000", "--size", "8G", "--algo", algo)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "RIPAS2E1IS %s" % operand in out
    assert "ops: 1 invalidation op + VMALLE1IS" in out
    lines = [l.split(None, 1)[1] for l in out.splitlines() if l[:4].strip().isdigit()]
    assert lines[0] == "DSB ISHST" and lines[2] == "DSB ISH" and lines[-1] == "ISB"
    assert lines[3].startswith("VMALLE1IS") and lines[4] == "DSB ISH"
    if stale is None:
        assert "stale: none" in out
    else:
        assert stale in out


def test_plan_without_range_ops():
    r = run("plan", "--ipa", "0x40000000", "--size", "8G", "--no-range")
    assert r.returncode == 0, r.stderr
    assert "VMALLS12E1IS" in r.stdout and "stale: none" in r.stdout
    r = run("plan", "--ipa", "0x40000000", "--size", "1G", "--no-range", "--level", "2", "--ttl")
    assert r.returncode == 0, r.stderr
    assert "ops: 512 invalidation ops" in r.stdout
    assert "IPAS2E1IS 0x600000040200" in r.stdout


def test_plan_side_by_side_over_coverage():
    # 12 KiB: exact is 2 ops; ferry-over one 4-page op that reaches one page past the range.
    r = run("plan", "--ipa", "0x40000000", "--size", "12K")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "exact vs over-covering (cost = ops * 64 + pages outside the range * 1):" in out
    row = [l for l in out.splitlines() if l.startswith("  #1 ")][0]
    left, right = row.split("|")
    assert "RIPAS2E1IS 0x40000000-0x40001fff (2)" in left
    assert "RIPAS2E1IS 0x40000000-0x40003fff (4)" in right
    assert "over-coverage: 1 page (4 KiB): IPA 0x40003000-0x40003fff" in out
    assert "cost: 128" in out and "cost: 65" in out
    # ferry-over's own plan: one op, nothing stale, and it says it reaches outside.
    r = run("plan", "--ipa", "0x40000000", "--size", "12K", "--algo", "ferry-over")
    assert "ops: 1 invalidation op + VMALLE1IS" in r.stdout and "stale: none" in r.stdout
    assert "outside: some op reaches beyond the range" in r.stdout
    # Refills priced high: ferry-over falls back to two ops and nothing outside.
    r = run("plan", "--ipa", "0x40000000", "--size", "12K", "--algo", "ferry-over",
            "--refill-cost", "1000")
    assert "ops: 2 invalidation ops" in r.stdout and "outside:" not in r.stdout
    # 1 GiB + 12 KiB: two overlapping 1 GiB ops, no page outside.
    r = run("plan", "--ipa", "0x40000000", "--size", "1048588K", "--algo", "ferry-over")
    assert "IPA 0x40003000-0x80002fff (262144 pages)" in r.stdout
    assert "ops: 2 invalidation ops" in r.stdout and "outside:" not in r.stdout


def test_help():
    r = run("--help")
    assert r.returncode == 0
    assert "tlbi decode" in r.stdout and "tlbi plan" in r.stdout


@pytest.mark.parametrize("args", [
    ("decode",),
    ("decode", "0xzz"),
    ("decode", "1", "2"),
    ("plan", "--ipa", "0x40000000"),
    ("plan", "--ipa", "0x40000800", "--size", "8G"),
    ("plan", "--ipa", "0x40000000", "--size", "5000"),
    ("plan", "--ipa", "0x40000000", "--size", "8X"),
    ("plan", "--ipa", "0x40000000", "--size", "8G", "--algo", "linux-7"),
    ("plan", "--ipa", "0x40000000", "--size", "8G", "--level", "4"),
    ("plan", "--ipa", "0x40000000", "--size", "8G", "--op-cost", "-1"),
    ("plan", "--ipa", "0x40000000", "--size", "8G", "--refill-cost", "99999999"),
    ("plan", "--ipa", "0x2000000000000", "--size", "8G"),
    ("frobnicate",),
    (),
])
def test_bad_input_is_one_line_exit_2(args):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tlbi: error: "), r.stderr
