# SPDX-License-Identifier: Apache-2.0
"""The authenticated migration link (docs/migration-protocol.md, "Authentication" and "Threat
model"), end to end on two QEMU machines.

- Mismatched keys: the destination cannot verify the HELLO, answers nothing, and counts the frames
  as failing authentication; the source gives up for want of an answer and its VM runs on, its
  rounds verifying clean.
- An attacker on the link: both machines' frames pass through a relay on the host (UDP, QEMU's
  dgram netdev), which also plays the attacker without the key. During the migration it replays
  HELLO, PAGES and acknowledgements, forges PAGES (a recorded frame with its page contents
  changed, and a frame made up whole) and COMMIT frames, and a HELLO of another session. The
  migration completes unharmed: the guest's own ledger check passes on the destination, both ends'
  memory digests agree and the source's audit finds every page as it sent it; and each end counted
  the forgeries as failing authentication.
- A stale HELLO: the HELLOs of an attempt that gave up reach the destination ahead of the next
  attempt's; the destination starts its handshake again under the new one, which moves the VM.
"""
import os
import socket
import struct
import sys
import threading

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import ferry_migrate as fm  # noqa: E402
import ferry_qemu  # noqa: E402

CFG = os.path.join(TOP, ferry_qemu.build_dir(), "tests", "system", "configs")
SRC = os.path.join(CFG, "mig-src-auth.dtb")   # the key in the config (migration-key)
DST = os.path.join(CFG, "mig-dst-auth.dtb")
TRIGGER = r"memstress: round 2/"
OTHER_KEY = "00" * 31 + "01"

T_HELLO, T_PAGES, T_COMMIT, T_ACK = 1, 4, 7, 9


def clean_rounds(side, start, n=3):
    """The guest's next n rounds on this side from line `start` on: each checks every page against
    the guest's own ledger, and must find nothing wrong."""
    for _ in range(n):
        start, m = side.wait_for(fm.GUEST_ROUND.pattern, timeout=120, start=start)
        start += 1
        assert m.group(5) == "0", m.group(0)


def frame_type(f):
    if len(f) < 20 or f[12:14] != b"\x88\xb5":
        return None
    return f[19]


class AttackingRelay:
    """Relays frames between the two machines and attacks without the key: records frames, and
    once the source has sent `after` PAGES frames, sends its replays and forgeries (each a few
    times, to both ends). Counts what it sent."""

    def __init__(self, after=40):
        self.a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # faces the source
        self.b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # faces the destination
        for s in (self.a, self.b):
            # Room for a window of 64 KiB frames (the default buffer holds three): as root the
            # limit does not apply, otherwise take what the system allows.
            for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
                try:
                    if opt is not None:
                        s.setsockopt(socket.SOL_SOCKET, opt, 16 << 20)
                        break
                except OSError:
                    continue
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.2)
        self.src_port = fm.free_port(udp=True)
        self.dst_port = self.src_port + 1
        self.after = after
        self.seen = {}            # type -> first frame of that type, per direction
        self.pages_from_src = 0
        self.attacks = 0
        self.stop = False
        self.threads = [threading.Thread(target=self.pump, args=(self.a, self.b, self.dst_port, True),
                                         daemon=True),
                        threading.Thread(target=self.pump, args=(self.b, self.a, self.src_port, False),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def net(self, role, port, mac):
        if role == "server":   # the destination
            return ferry_qemu.hub_net_args(self.dst_port, self.b.getsockname()[1], mac)
        return ferry_qemu.hub_net_args(self.src_port, self.a.getsockname()[1], mac)

    def pump(self, rx, tx, to_port, from_src):
        while not self.stop:
            try:
                f, _ = rx.recvfrom(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            for g in self.forward(f, from_src):
                tx.sendto(g, ("127.0.0.1", to_port))
            t = frame_type(f)
            if t is None:
                continue
            self.seen.setdefault((from_src, t), f)
            if from_src and t == T_PAGES:
                self.pages_from_src += 1
                if self.pages_from_src == self.after or self.pages_from_src == self.after * 4:
                    self.attack()

    def forward(self, f, from_src):
        """What goes on for a frame received: by default the frame itself."""
        return [f]

    def to_dst(self, f):
        self.b.sendto(f, ("127.0.0.1", self.dst_port))
        self.attacks += 1

    def to_src(self, f):
        self.a.sendto(f, ("127.0.0.1", self.src_port))
        self.attacks += 1

    def attack(self):
        hello = self.seen.get((True, T_HELLO))
        pages = self.seen.get((True, T_PAGES))
        ack = self.seen.get((False, T_ACK))
        for _ in range(3):
            if hello:
                self.to_dst(hello)                      # replayed HELLO (retransmission-like)
                other = bytearray(hello)
                other[22:26] = struct.pack("<I", 0x0badf00d)   # another session's HELLO
                self.to_dst(bytes(other))
            if pages:
                self.to_dst(pages)                      # replayed PAGES: an old sequence number
                forged = bytearray(pages)
                # The page contents changed, header and tag kept: what an attacker who cannot
                # seal would most like to get installed.
                for i in range(80, min(len(forged) - 16, 80 + 4096)):
                    forged[i] = 0xAA
                self.to_dst(bytes(forged))
                made = bytearray(pages)
                seq = struct.unpack("<I", made[26:30])[0]
                made[26:30] = struct.pack("<I", seq + 1)    # a later sequence number, made up
                made[-16:] = os.urandom(16)
                self.to_dst(bytes(made))
            if ack:
                self.to_src(ack)                        # replayed acknowledgement
                commit = bytearray(ack)
                commit[19] = T_COMMIT                   # a forged COMMIT, 8 bytes of hash
                commit[26:30] = struct.pack("<I", 99)
                commit[38:42] = struct.pack("<I", 8)
                body = bytes(commit[:50]) + b"\x11" * 8 + os.urandom(16)
                self.to_src(body)

    def close(self):
        self.stop = True
        for t in self.threads:
            t.join(timeout=2)
        self.a.close()
        self.b.close()


def test_mismatched_keys_fail_closed(ferry_pair):
    # The source keeps its config's key; the destination is given another one from the shell.
    src, dst = ferry_pair(SRC, DST, variant="ferry-san", key=None, dst_key=OTHER_KEY)
    r = fm.migrate(src, dst, "mover", trigger=TRIGGER, wait_guest=False)
    after = len(src.lines)
    assert not r["ok"]
    assert r["source"]["why"].startswith("no answer from the destination"), r["source"]["why"]
    assert r["source"]["pages"] == 0
    # The destination still waits, having refused every frame as unauthentic.
    start = len(dst.lines)
    dst.send("migration")
    _, m = dst.wait_for(r"migration: frames failed authentication (\d+), stale (\d+)",
                        timeout=30, start=start)
    assert int(m.group(1)) >= 3
    # The source VM never stopped: its next rounds (each checks every page against the guest's
    # ledger) go on clean. (Its whole run, 150 rounds, would take a minute more.)
    clean_rounds(src, after)


class StaleHelloRelay(AttackingRelay):
    """Keeps the destination from hearing a first attempt at all (its HELLOs are recorded, not
    passed on), then, when the next attempt's first HELLO comes, passes the first attempt's
    HELLOs on ahead of it: what a destination sees when it starts to listen while a given-up
    attempt's retransmissions are still on their way."""

    def __init__(self):
        super().__init__(after=10 ** 9)
        self.first_session = None
        self.stale = []
        self.replayed = 0

    def forward(self, f, from_src):
        if not from_src or frame_type(f) != T_HELLO:
            return [f] if self.first_session is None or not from_src or self.replayed else []
        session = f[22:26]
        if self.first_session is None:
            self.first_session = session
        if session == self.first_session:
            self.stale.append(f)
            return []
        if not self.replayed:
            self.replayed = len(self.stale)
            return self.stale + [f]
        return [f]


def test_stale_hello_from_an_attempt_that_gave_up(ferry_pair):
    # The first attempt's HELLOs never reach the destination, and it gives up (no answer). The
    # destination then takes those stale HELLOs first, answers the first, and takes the next
    # attempt's HELLO in its place (docs/migration-protocol.md, "A stale HELLO"): the next attempt
    # moves the VM, and the guest's rounds on the destination (each checks every page against its
    # ledger) find nothing wrong.
    relay = StaleHelloRelay()
    try:
        src, dst = ferry_pair(SRC, DST, variant="ferry-san", extra_net=relay.net, key=None)
        dst.wait_for(r"incoming: vm 'mover': waiting for a source", timeout=30)
        r = fm.migrate(src, dst, "mover", "", trigger=TRIGGER, timeout=120, wait_guest=False)
        assert not r["ok"] and r["reason"].startswith("migration failed: no answer"), r
        assert len(relay.stale) >= 2, len(relay.stale)
        start = len(dst.lines)
        r = fm.migrate(src, dst, "mover", "rounds=3", timeout=600, wait_guest=False)
        assert relay.replayed >= 2, relay.replayed
        assert r["ok"], r
        assert r["destination"]["hello_restarts"] == 1, r["destination"]
        clean_rounds(dst, start)
    finally:
        relay.close()


def test_attacker_on_the_link_changes_nothing(ferry_pair):
    relay = AttackingRelay(after=40)
    try:
        # Both keys from the configs alone.
        src, dst = ferry_pair(SRC, DST, variant="ferry-san", extra_net=relay.net, key=None)
        dst.wait_for(r"incoming: vm 'mover': waiting for a source", timeout=30)
        # At most 3 live rounds: the relay is slow, and the point is the attack, not convergence.
        start = len(dst.lines)
        r = fm.migrate(src, dst, "mover", "rounds=3", trigger=TRIGGER, timeout=600,
                       wait_guest=False)
        assert relay.attacks > 0, "the attacker never struck"
        assert r["ok"], r
        s, d = r["source"], r["destination"]
        assert s["local_hash"] == d["local_hash"] == d["peer_hash"]
        assert s["audit"] == "clean" and s["audit_bad_pages"] == 0
        # The forgeries reached both ends and were refused there; the replays were taken for
        # what they are: a PAGES frame already delivered (a duplicate), an old ACK (stale).
        assert d["auth_failed"] >= 3, d
        assert s["auth_failed"] >= 1, s
        assert d["duplicates"] >= 1, d
        assert s["stale"] >= 1, s
        # The guest checks every page against its own ledger on the destination, every round.
        clean_rounds(dst, start)
    finally:
        relay.close()
