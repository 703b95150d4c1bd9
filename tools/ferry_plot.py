# SPDX-License-Identifier: Apache-2.0
"""Pictures of what ferry's tools and benchmarks measure, drawn with Debian's python3-matplotlib
into SVG (or PNG: the file's extension decides). Nothing here measures: each function draws
figures that a tool or benchmark has already printed as text, so the picture never shows a number
the text does not.

- migration(result, path): one migration (tools/ferry-migrate --plot): pages sent per round
  against time, the dirty rate the source met in each round, the pause marked.
- grouped_bars(...): a table of figures side by side, in one or more panels (bench/migrate:
  ferry next to QEMU's own migration).
- lines(...): a figure against a swept variable (bench/migrate: downtime against RAM).
- cdfs(...): distributions given as histograms, one CDF per series, in one or more panels
  (bench/interference: timer interrupt latency per case).
bench/tlbi and bench/dirty (the start and first collections per mode, eager next to gradual, and
each target's figure over its limit) draw figures of their own and save them with _save().
"""
import matplotlib

matplotlib.use("Agg")  # no display: files only
# Text stays text in an SVG (searchable, and a test can read it) instead of glyph outlines.
matplotlib.rcParams["svg.fonttype"] = "none"
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, path):
    fig.tight_layout()
    # No date in the file: the same figures give the same picture.
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return path


def migration_rounds(source):
    """Per round, from the source's JSON (round_stats: [pages, zero pages, wire bytes, ns]):
    (start ms, duration ms, pages sent, dirty rate in pages/s). Rounds follow each other, so a
    round starts where the previous ended. The pages round r sends were written during round r-1:
    their count over round r-1's duration is the dirty rate the source met then."""
    out, t = [], 0.0
    stats = source.get("round_stats", [])
    final = source.get("final_round") if source.get("t_paused_ns") else None
    for r, (pages, _zero, _bytes, ns) in enumerate(stats):
        ms = ns / 1e6
        if r == final:
            t = source["t_paused_ns"] / 1e6   # the last round starts once the VM is paused
        rate = None
        if r + 1 < len(stats) and ns > 0:
            rate = stats[r + 1][0] / (ns / 1e9)
        out.append((t, ms, pages, rate))
        t += ms
    return out


def migration(result, path, title=None):
    """One migration, from ferry-migrate's result (the source's JSON, and the destination's if it
    answered): bars of pages sent per round placed at the round's time, the dirty rate per round
    on a second axis, and the pause (source paused to commit) shaded."""
    src = result["source"]
    rounds = migration_rounds(src)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if rounds:
        ax.bar([r[0] for r in rounds], [r[2] for r in rounds],
               width=[max(r[1], 0.5) for r in rounds], align="edge", color="#4c72b0",
               edgecolor="black", linewidth=0.4, label="pages sent in the round")
        for i, r in enumerate(rounds):
            ax.annotate(str(i), (r[0] + r[1] / 2, r[2]), ha="center", va="bottom", fontsize=7)
    ax.set_xlabel("time since the migration started (ms)")
    ax.set_ylabel("pages sent (log scale)")
    ax.set_yscale("log")
    rated = [(r[0] + r[1] / 2, r[3]) for r in rounds if r[3] is not None]
    ax2 = ax.twinx()
    if rated:
        ax2.plot([x for x, _ in rated], [y for _, y in rated], "o-", color="#dd8452",
                 label="dirty rate (pages/s)")
    ax2.set_ylabel("dirty rate (pages/s)")
    ax2.set_ylim(bottom=0)
    paused = src.get("t_paused_ns", 0) / 1e6
    commit = src.get("t_commit_ns", 0) / 1e6
    if paused and commit >= paused:
        ax.axvspan(paused, max(commit, paused + 0.5), color="#c44e52", alpha=0.3,
                   label="paused: %.1f ms downtime" % (src.get("downtime_ns", 0) / 1e6))
    handles = ax.get_legend_handles_labels()
    handles2 = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], loc="upper right", fontsize=8)
    verdict = "committed" if result.get("ok") else "failed: %s" % result.get("why", "")
    ax.set_title(title or "migration of '%s': %d rounds, total %.0f ms, %s" % (
        result.get("vm", "?"), src.get("rounds", len(rounds)), src.get("total_ns", 0) / 1e6,
        verdict), fontsize=10)
    return _save(fig, path)


def grouped_bars(path, categories, panels, title):
    """Side-by-side bars, one panel per figure: panels = [(ylabel, series, log)], series =
    [(name, [value or None per category])]. A missing value (None) leaves a gap, never a zero
    bar; each bar carries its value."""
    fig, axes = plt.subplots(1, len(panels), figsize=(max(6, 1.2 * len(categories) + 2) *
                                                      len(panels), 4.5), squeeze=False)
    for ax, (ylabel, series, log) in zip(axes[0], panels):
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, values) in enumerate(series):
            pts = [(j + (i - (n - 1) / 2) * width, v) for j, v in enumerate(values)
                   if v is not None and v == v]       # v == v: not NaN
            bars = ax.bar([x for x, _ in pts], [v for _, v in pts], width=width, label=name,
                          color="C%d" % i,
                          edgecolor="black", linewidth=0.4)
            for b, (_, v) in zip(bars, pts):
                ax.annotate("%g" % float("%.3g" % v), (b.get_x() + b.get_width() / 2, v),
                            ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels(categories, fontsize=8)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def lines(path, xs, series, xlabel, ylabel, title, logx=False, logy=False, step=True):
    """series: [(name, [y per x])], drawn as steps (the figures are counts per size) or, with
    step=False, as measured points joined by lines (a missing value, None or NaN, is left out)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, ys in series:
        if step:
            ax.step(xs, ys, where="post", label=name)
            continue
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None and y == y and (y > 0 or not logy)]
        ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", label=name)
    if logx:
        ax.set_xscale("log", base=2)
        if not step:   # measured points: label each where it was measured
            ax.set_xticks(xs)
            ax.set_xticklabels([str(x) for x in xs])
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return _save(fig, path)


def cdfs(path, panels, title, logx=True):
    """panels = [(panel title, xlabel, series)], series = [(name, [(bucket value, count)], style)]
    with style a dict of matplotlib line options (or None): each series drawn as the fraction of
    samples at or below each bucket, rising from 0 at its first bucket. On a log axis a value of
    0 is drawn at 1."""
    cols = 2 if len(panels) > 1 else 1
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 3.8 * rows), squeeze=False)
    for ax, (ptitle, xlabel, series) in zip(axes.flat, panels):
        for i, (name, buckets, style) in enumerate(series):
            buckets = sorted(buckets)
            total = sum(n for _, n in buckets)
            if not total:
                continue
            first = max(buckets[0][0], 1) if logx else buckets[0][0]
            xs, ys, acc = [first], [0.0], 0
            for value, n in buckets:
                acc += n
                xs.append(max(value, 1) if logx else value)
                ys.append(acc / total)
            ax.step(xs, ys, where="post", label=name, **(style or {"color": "C%d" % i}))
        if logx:
            ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction of samples")
        ax.set_title(ptitle, fontsize=9)
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)
