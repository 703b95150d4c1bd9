#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Which blocks of ferry's own code QEMU's TCG translated between two points of a run.

Under TCG the first execution of a block of guest code (here: ferry's EL2 code) costs its
translation, 10-50 µs a block on the machines we measure on (docs/qemu-facts.md), against well
under a µs to run it again. Code that a migration's pause runs for the first time is therefore slow
in the pause, which is what the rehearsal (hyp/migrate/rehearse_el2.c) exists to prevent. QEMU logs
every translation with `-d in_asm -D FILE`, in the order it made them, each block starting with its
first address; with the ELF's symbols that says which function each block is in. Between the first
translation of a function that only the pause runs (`src_pause` on the source, `dst_put_state` on
the destination: the rehearsals call neither) and the first of one that runs only after it
(`mig_src_describe`, the source's summary; `guest_enter` on a destination whose vCPUs never ran a
guest before), every translated block of ferry's is one the pause paid for.

  tools/tcg_blocks.py LOG [--elf build/ferry.elf] --from FUNC [--to FUNC]

`tools/ferry-migrate --tcg-log DIR` writes both machines' logs and prints both counts."""
import argparse
import bisect
import collections
import re
import subprocess
import sys

# The source ends its pause at COMMIT; its summary (mig_src_describe) is the first code of its own
# that runs after it. The destination's pause ends at its vCPUs' first entry into the guest.
PAUSE = {"src": ("src_pause", ("mig_src_describe",)),
         "dst": ("dst_put_state", ("guest_enter",))}


def symbols(elf):
    """(addresses, names) of the ELF's code symbols, sorted by address."""
    out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True, check=True).stdout
    syms = [(int(p[0], 16), p[2]) for p in (ln.split() for ln in out.splitlines())
            if len(p) == 3 and p[1] in "tTwW"]
    return [a for a, _ in syms], [n for _, n in syms]


def block_starts(log):
    """The first address of every block the log shows translated, in order."""
    starts, want = [], False
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("IN:"):
                want = True
            elif want:
                m = re.match(r"0x([0-9a-f]+):", line)
                if m:
                    starts.append(int(m.group(1), 16))
                    want = False
    return starts


def between(log, elf, start_fn, end_fns=()):
    """The functions of ferry's blocks translated from start_fn's first block up to (not
    including) the first block of any of end_fns, in order; None if start_fn never appears.
    Blocks outside ferry's symbols (the guest's) are left out."""
    addrs, names = symbols(elf)
    lo, hi = addrs[0], addrs[-1] + 4096

    def name(a):
        i = bisect.bisect_right(addrs, a) - 1
        return names[i] if i >= 0 else None

    funcs = [name(a) for a in block_starts(log) if lo <= a < hi]
    if start_fn not in funcs:
        return None
    funcs = funcs[funcs.index(start_fn):]
    for i, f in enumerate(funcs):
        if f in end_fns:
            return funcs[:i]
    return funcs


def describe(funcs):
    """'N blocks: f (3), g (1), ...', the functions by number of blocks, most first."""
    if funcs is None:
        return "its first function never appears in the log"
    c = collections.Counter(funcs)
    return "%d blocks: %s" % (len(funcs), ", ".join("%s (%d)" % kv for kv in c.most_common()))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("log", help="QEMU's -d in_asm log")
    p.add_argument("--elf", default="build/ferry.elf", help="the ferry build that ran")
    p.add_argument("--from", dest="start", required=True, help="the first function")
    p.add_argument("--to", action="append", default=[], help="a function that ends the span")
    a = p.parse_args()
    print(describe(between(a.log, a.elf, a.start, tuple(a.to))))


if __name__ == "__main__":
    sys.exit(main())
