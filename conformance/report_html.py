"""``--html FILE``: one self-contained static page (no scripts, no external files; plots are base64 PNGs).

Sections: the verdict and settings; the summary table (vector × layer); the
failures with their first departing field (and the DUT's standard error when
it crashed, hung or wrote malformed output); the feature metric of every
vector against the thresholds; per-feature RMS errors against the ``max``
threshold; feature trajectories, DUT against expected, for the worst packets
of each vector. Plots are drawn with matplotlib's Agg backend.
"""
from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

from dredconf.conformance.layers import LAYERS, NOTHING_TO_TEST, FeatureLimits, Layer, Verdict
from dredconf.conformance.results import CheckReport, FeatureTrace, VectorResult

LISTED_PACKETS = 30
#: Columns plotted in the trajectories: (index, label).
TRACE_FEATURES = ((0, "cepstrum 0"), (1, "cepstrum 1"), (18, "pitch"), (19, "pitch correlation"))
FEATURE_NAMES = [f"c{i}" for i in range(18)] + ["pitch", "corr"]
COLORS = {Verdict.PASS: "#1a7f37", Verdict.FAIL: "#cf222e", Verdict.ERROR: "#8250df", Verdict.NOT_TESTED: "#6e7781"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;color:#1f2328;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0} th,td{border:1px solid #d0d7de;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
.v{font-weight:600;border-radius:4px;padding:.1em .45em;color:#fff;white-space:nowrap}
.small{color:#57606a;font-size:.9em} code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;max-height:20em} img{max-width:100%;border:1px solid #d0d7de;margin:.5em 0}
.badge{font-size:1.1em;padding:.2em .7em}
"""


def _e(x) -> str:
    return html.escape(str(x))


def _badge(v: Verdict, text: str | None = None, cls: str = "v") -> str:
    return f'<span class="{cls}" style="background:{COLORS[v]}">{_e(text or v.value)}</span>'


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return '<img alt="plot" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode("ascii") + '">'


def _limits(report: CheckReport) -> FeatureLimits:
    l = report.options["limits"]
    return FeatureLimits(l["tot"], l["max"], l["pitch"], l.get("scope", "vector"))


def _summary(report: CheckReport) -> str:
    rows = ["<table><tr><th>vector</th><th>packets</th><th>expectations</th>"
            + "".join(f"<th>{l.value}</th>" for l in LAYERS) + "<th>verdict</th><th>first departure</th><th>time</th></tr>"]
    for r in report.results:
        cells = []
        for l in LAYERS:
            s = r.layers[l]
            if r.dut.failure_kind:
                cells.append(f"<td>{_badge(Verdict.ERROR)}</td>")
                continue
            text = s.verdict.value
            if s.verdict is Verdict.NOT_TESTED and s.reason == NOTHING_TO_TEST:
                text = "n/a"
            if s.verdict is Verdict.PASS:
                text = f"pass ({s.tested})"
            elif s.verdict in (Verdict.FAIL, Verdict.ERROR):
                text = f"{s.verdict.value} {s.failed}/{s.tested}" if s.failed else f"{s.verdict.value} (vector metric)"
            extra = ""
            if l is Layer.FEATURES and s.score is not None:
                extra = f'<div class="small">tot {s.score.tot:.4f}<br>max {s.score.max:.4f}<br>pitch {s.score.pitch:.5f}</div>'
            if s.skipped and s.verdict is not Verdict.NOT_TESTED:
                extra += f'<div class="small">skipped: {_e(", ".join(s.skipped))}</div>'
            cells.append(f"<td>{_badge(s.verdict, text)}{extra}</td>")
        classes = f"<br>not valid: {_e(r.classes())}" if r.classes() else ""
        rows.append(f"<tr><td><b>{_e(r.name)}</b></td><td class=num>{r.packet_count}</td><td class=small>{_e(r.expected_source)}{classes}</td>"
                    + "".join(cells) + f"<td>{_badge(r.verdict)}</td><td><code>{_e(r.headline())}</code></td>"
                    f"<td class=num>{r.dut.elapsed:.2f}s</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _failures(report: CheckReport) -> str:
    out = []
    for r in report.results:
        if r.dut.failure_kind:
            out.append(f"<h3>{_e(r.name)}: {_badge(Verdict.ERROR, r.dut.failure_kind)}</h3>"
                       f"<p>{_e(r.dut.failure)}</p><p class=small>command: <code>{_e(' '.join(r.dut.argv))}</code>"
                       f", exit status {_e(r.dut.exit_status)}, {r.dut.elapsed:.2f}s</p>")
            if r.dut.stderr.strip():
                out.append(f"<pre>{_e(r.dut.stderr)}</pre>")
            continue
        for l in LAYERS:
            s = r.layers[l]
            if s.verdict not in (Verdict.FAIL, Verdict.ERROR):
                continue
            what = f"{s.failed} of {s.tested} packets" if s.failed else f"metric over {s.score.rows if s.score else 0} rows"
            out.append(f"<h3>{_e(r.name)}, {l.value} layer: {_badge(s.verdict, what)}</h3>")
            out.append(f"<p>first departure: <code>{_e(r.departure_label(s.first) if s.first else '')}</code></p>")
            bad = [p for p in r.packets if p.verdicts.get(l) in (Verdict.FAIL, Verdict.ERROR)]
            if bad:
                tagged = any(p.tag for p in bad)
                out.append("<table><tr><th>packet</th>" + ("<th>vector (result)</th>" if tagged else "")
                           + "<th>first departing field</th><th>other layers departing</th></tr>")
                for p in bad[:LISTED_PACKETS]:
                    d = next((x for x in p.departures if x.layer is l), None)
                    others = ", ".join(x.layer.value for x in p.departures if x.layer is not l)
                    tag = f"<td>{_e(p.tag)}</td>" if tagged else ""
                    out.append(f"<tr><td class=num>{p.index}</td>{tag}<td><code>{_e(d.what() if d else '')}</code></td><td>{_e(others)}</td></tr>")
                out.append("</table>")
                if len(bad) > LISTED_PACKETS:
                    out.append(f"<p class=small>… and {len(bad) - LISTED_PACKETS} more packets (all in the JSON report).</p>")
    return "\n".join(out) if out else "<p>None: every tested layer of every vector passes.</p>"


def _acceptable(report: CheckReport) -> str:
    """The acceptable packets (several behaviours allowed) and the behaviour the DUT matched."""
    rows = []
    for r in report.results:
        for p in r.packets:
            if p.alternatives:
                what = p.behaviour or "matches none (see the failures)"
                rows.append(f"<tr><td>{_e(r.name)}</td><td class=num>{p.index}</td><td>{_e(p.id or '')}</td>"
                            f"<td>{_badge(Verdict.PASS if p.ok else Verdict.FAIL)}</td><td>{_e(what)}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Acceptable packets</h2><p class=small>Packets where more than one behaviour is allowed: each passes "
            "a layer by matching the expected record or one of its alternatives.</p>"
            "<table><tr><th>vector</th><th>packet</th><th>id</th><th>verdict</th><th>behaviour</th></tr>"
            + "\n".join(rows) + "</table>")


def _metric_plot(report: CheckReport, limits: FeatureLimits) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    scored = [r for r in report.results if r.layers[Layer.FEATURES].score is not None]
    if not scored:
        return "<p>No feature layer was tested.</p>"
    names = ["tot", "max", "pitch"]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    width = 0.8 / len(scored)
    x = np.arange(len(names))
    for i, r in enumerate(scored):
        s = r.layers[Layer.FEATURES].score
        vals = [getattr(s, n) / getattr(limits, n) for n in names]
        vals = [v if math.isfinite(v) else 10.0 for v in vals]
        ax.bar(x + i * width - 0.4 + width / 2, [max(v, 1e-9) for v in vals], width, label=r.name)
    ax.axhline(1.0, color="#cf222e", linestyle="--", linewidth=1.2, label="threshold")
    ax.set_xticks(x, [f"{n} / {getattr(limits, n):g}" for n in names])
    ax.set_yscale("log")
    ax.set_ylabel("metric / threshold")
    ax.set_title("Feature metric per vector, as a fraction of its threshold (below the line passes)")
    ax.legend(fontsize=8, ncol=min(len(scored) + 1, 6), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    ax.set_ylim(bottom=min(1e-6, ax.get_ylim()[0]), top=max(3.0, ax.get_ylim()[1]))
    return _png(fig)


def _per_feature_plot(r: VectorResult, limits: FeatureLimits) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    s = r.layers[Layer.FEATURES].score
    if s is None or not s.per_feature:
        return ""
    vals = np.array([v if math.isfinite(v) else 1e3 for v in s.per_feature])
    floor = 1e-8
    fig, ax = plt.subplots(figsize=(9, 2.8))
    colors = ["#0969da" if i != 18 else "#6e7781" for i in range(len(vals))]
    colors = [("#cf222e" if (i != 18 and v > limits.max) else c) for i, (v, c) in enumerate(zip(vals, colors))]
    ax.bar(range(len(vals)), np.maximum(vals, floor), color=colors)
    ax.axhline(limits.max, color="#cf222e", linestyle="--", linewidth=1.2, label=f"max threshold {limits.max:g}")
    ax.set_yscale("log")
    ax.set_ylim(floor / 2, max(limits.max * 3, float(vals.max()) * 2))
    ax.set_xticks(range(len(vals)), FEATURE_NAMES[: len(vals)], rotation=60, fontsize=8)
    ax.set_ylabel("RMS error")
    ax.set_title(f"{r.name}: per-feature RMS error over {s.rows} rows (pitch, grey, is judged by mean |error| "
                 f"where corr > 0.2: {s.pitch:.5f} vs {limits.pitch:g}); bars at {floor:g} are exact", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _png(fig)


def _trace_plot(r: VectorResult, t: FeatureTrace, limits: FeatureLimits) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    exp = np.asarray(t.expected, dtype=float)[::-1]  # oldest first
    act = np.asarray(t.actual, dtype=float)[::-1]
    n = len(exp)
    time = np.arange(n) * 10.0 - 10.0 * (n - 1)
    fig, axes = plt.subplots(1, len(TRACE_FEATURES), figsize=(12, 2.6))
    for ax, (col, label) in zip(axes, TRACE_FEATURES):
        ax.plot(time, exp[:, col], color="#1f2328", linewidth=1.6, label="expected")
        ax.plot(time, act[:, col], color="#cf222e", linewidth=1.0, linestyle="--", label="DUT")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("ms (0 = newest)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{r.name} packet {t.packet}: {t.score.describe(limits)}", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _features(report: CheckReport, limits: FeatureLimits) -> str:
    out = [_metric_plot(report, limits)]
    for r in report.results:
        s = r.layers[Layer.FEATURES]
        if s.score is None:
            continue
        out.append(f"<h3>{_e(r.name)} {_badge(s.verdict)}</h3><p><code>{_e(s.score.describe(limits))}</code> over {s.score.rows} rows</p>")
        out.append(_per_feature_plot(r, limits))
        if r.traces:
            out.append(f"<p class=small>Trajectories of the {len(r.traces)} packets furthest towards their thresholds "
                       "(expected solid, DUT dashed; rows in time order, oldest left):</p>")
            for t in r.traces:
                out.append(_trace_plot(r, t, limits))
    return "\n".join(out)


def render_html(report: CheckReport) -> str:
    import matplotlib

    matplotlib.use("Agg", force=True)
    limits = _limits(report)
    verdict = Verdict.PASS if report.ok else Verdict.FAIL
    counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
    skipped = sorted({f"{l.value}" for r in report.results for l, s in r.layers.items()
                      if s.verdict is Verdict.NOT_TESTED and s.reason != NOTHING_TO_TEST and not r.dut.failure_kind})
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>dredconf check: {_e(report.decoder)}</title><style>{CSS}</style></head><body>",
        f"<h1>dredconf check {_badge(verdict, verdict.value.upper(), 'v badge')}</h1>",
        f"<p>decoder <code>{_e(report.decoder)}</code> on <code>{_e(report.vectors)}</code> ({_e(report.vector_set_kind)}); {counts}; "
        f"{report.elapsed:.1f}s; started {_e(report.started)}; dredconf {_e(report.version)}.</p>",
        f"<p class=small>Feature thresholds (libopus <code>dred_compare -features</code>): tot ≤ {limits.tot:g}, "
        f"max ≤ {limits.max:g}, pitch ≤ {limits.pitch:g}, judged per {_e(limits.scope)}. "
        f"Time limit per DUT run {report.options.get('timeout')} s, {report.options.get('jobs')} job(s).</p>",
    ]
    if skipped:
        parts.append(f"<p>Not tested (the decoder does not output them): <b>{_e(', '.join(skipped))}</b>.</p>")
    parts += ["<h2>Summary</h2>", _summary(report), "<h2>Failures</h2>", _failures(report), _acceptable(report),
              "<h2>Features</h2>", _features(report, limits), "</body></html>"]
    return "\n".join(parts)


def write_html(report: CheckReport, path: str | Path) -> None:
    Path(path).write_text(render_html(report), encoding="utf-8")
