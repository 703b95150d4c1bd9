# SPDX-License-Identifier: Apache-2.0
"""The hypervisor shell on the real console: help, vms, stats, stop, start."""
import ferry_qemu


def test_shell_commands(machine):
    # Long-running guests so the shell has time to act on them.
    m = machine(config="tests/system/configs/long.dtb")
    m.expect(r"ferry: shell on this console")
    m.shell("help")
    m.expect(r"stop <vm>")
    m.shell("stats")
    m.expect(r"stats: uptime \d+ ms, 2 VMs, 3 CPUs")
    m.expect(r"stats: exits mmio=\d+")
    m.shell("nonsense")
    m.expect(r"unknown command 'nonsense'")
    m.shell("stop nosuchvm")
    m.expect(r"stop: no such VM 'nosuchvm'")
    m.expect(r"\[alpha\] memstress: round 1/")
    m.shell("stop alpha")
    m.expect(r"stop: vm 'alpha' stopped")
    m.shell("vms")
    m.expect(r"vm alpha\s+stopped\s+vmid 1 cpus 1 ram 64 MiB @ 0x40000000 exits mmio=\d+.* -- "
             r"stopped from the shell")
    m.expect(r"vm beta\s+running")
    # beta ends on its own; alpha is restarted from its image and runs to its verdict.
    m.shell("start alpha")
    # The restarted guest (on CPU 1) may print before the shell (on CPU 0) answers: either order.
    seen = set()
    while len(seen) < 2:
        seen.add(m.child.expect([r"start: vm 'alpha' started", r"\[alpha\] memstress: start"],
                                timeout=30))
    m.shell("stop beta")
    m.expect(r"stop: vm 'beta' stopped")
    m.shell("start beta")
    m.expect(r"start: vm 'beta' started")
    for _ in range(2):
        m.expect(r"\[(alpha|beta)\] memstress: PASS", timeout=180)
    m.expect(r"ferry: all VMs have ended: 2 powered off, 0 migrated, 0 faulted; exit 0")
    assert m.wait_exit(timeout=30) == ferry_qemu.EXIT_CLEAN
