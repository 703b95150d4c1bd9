# SPDX-License-Identifier: Apache-2.0
"""What a migration's pause runs for the first time, as QEMU's translator logs it.

Under TCG each block of ferry's code that runs for the first time is translated first, 10-50 µs a
block; the rehearsal (hyp/migrate/rehearse_el2.c) runs the pause's code before the pause so that
the pause does not pay for it. Both QEMUs log their translations (-d in_asm) through one
migration, and tools/tcg_blocks.py names what each end translated between the start of its pause
and its end (the source: the park to its summary; the destination: the first state blob to the
guest's first instruction). The serializers the source runs in the pause and the destination's
way into the guest must not be among them.
"""
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ferry_migrate as fm  # noqa: E402
import ferry_qemu  # noqa: E402
import tcg_blocks  # noqa: E402

BUILD = os.path.join(TOP, ferry_qemu.build_dir())
CFG = os.path.join(BUILD, "tests", "system", "configs")
ELF = os.path.join(BUILD, "ferry.elf")

# Rehearsed on the source, in the rehearsal's park: the state serializers as the pause calls them.
# Only functions whose blocks do not depend on the state they see: a serializer that meets a flag
# in the pause it did not meet in the rehearsal (an interrupt pending, a key typed) runs a block
# for the first time, rightly, and must not fail the test.
SOURCE_REHEARSED = {"migel2_get_state", "vgic_save", "its_save", "sve_blob_save"}
# Rehearsed on the destination's vCPUs: their way into the guest, short of entering it (the same
# rule: not the timers or the list registers, whose work depends on what is pending).
DESTINATION_REHEARSED = {"vcpu_load_controls", "sve_load_controls", "trap_config_compute",
                         "vcpu_ctx_load"}


def log_args(path):
    return ["-d", "in_asm", "-D", path]


def test_the_pause_runs_rehearsed_code(ferry_pair, tmp_path):
    logs = {end: str(tmp_path / (end + "-tcg.log")) for end in ("src", "dst")}
    src, dst = ferry_pair(os.path.join(CFG, "mig-src.dtb"), os.path.join(CFG, "mig-dst.dtb"),
                          variant="ferry", src_extra=log_args(logs["src"]),
                          dst_extra=log_args(logs["dst"]))
    r = fm.migrate(src, dst, "mover", trigger=r"memstress: round 2/")
    assert r["ok"], r
    src.kill()
    dst.kill()
    spans = {end: tcg_blocks.between(logs[end], ELF, *tcg_blocks.PAUSE[end])
             for end in ("src", "dst")}
    # Both spans were found: each end's pause began with its first function and the pause did
    # translate something (src_pause itself, at least).
    assert spans["src"] and spans["dst"], spans
    assert spans["src"][0] == "src_pause" and spans["dst"][0] == "dst_put_state"
    assert not SOURCE_REHEARSED & set(spans["src"]), tcg_blocks.describe(spans["src"])
    assert not DESTINATION_REHEARSED & set(spans["dst"]), tcg_blocks.describe(spans["dst"])
    # The destination's span ends at the guest's first instruction, which its vCPUs only ran
    # after the commit: the log holds that block after the span.
    after = tcg_blocks.between(logs["dst"], ELF, "dst_put_state")
    assert "guest_enter" in after and len(after) > len(spans["dst"])


def test_blocks_between_two_functions(tmp_path):
    """The log's parsing and the span, on a log written here from the build's own symbols."""
    addrs, names = tcg_blocks.symbols(ELF)
    at = {n: a for a, n in zip(addrs, names)}
    order = ["hyp_main_primary", "src_pause", "vgic_save", "src_pause", "mig_src_describe",
             "vgic_save"]
    log = tmp_path / "in_asm.log"
    log.write_text("".join("----------------\nIN: %s\n0x%016x:  d503201f  nop\n0x%016x:  "
                           "d65f03c0  ret\n\n" % (n, at[n], at[n] + 4) for n in order) +
                   "IN: \n0x0000000000001000:  d503201f  nop\n")
    assert tcg_blocks.block_starts(str(log))[:2] == [at["hyp_main_primary"], at["src_pause"]]
    assert tcg_blocks.between(str(log), ELF, "src_pause", ("mig_src_describe",)) == [
        "src_pause", "vgic_save", "src_pause"]
    # No end: to the end of the log, the guest's block (outside ferry) left out.
    assert tcg_blocks.between(str(log), ELF, "vgic_save") == [
        "vgic_save", "src_pause", "mig_src_describe", "vgic_save"]
    assert tcg_blocks.between(str(log), ELF, "dst_start") is None  # not in this log
    assert tcg_blocks.describe(["a", "b", "a"]) == "3 blocks: a (2), b (1)"
