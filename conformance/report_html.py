"""``--html FILE``: one self-contained static page (no scripts, no external files; plots are base64 PNGs).

Sections: the verdict line, the profile and what produced the verdict (dredconf
version, host, platform, model hashes); the summary table (vector × layer); the
failures with their first departing field, the packet's bytes and the commands
that reproduce it (and the decoder's standard error when it crashed, hung or
wrote malformed output); what the profile needed and did not get; the feature
metric. Plots (matplotlib, Agg) are drawn only where they tell something: a
vector whose features are all exact gets a line of text, not a chart, so the
report costs little on a conforming run.
"""
from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

from dredconf.conformance.audio_metric import AudioThresholds
from dredconf.conformance.feature_metric import FeatureThresholds as FeatureLimits
from dredconf.conformance.report_terminal import reproduce
from dredconf.conformance.results import FeatureTrace, VectorResult
from dredconf.conformance.run_report import CheckReport
from dredconf.conformance.verdicts import BAD, LAYERS, NOTHING_TO_TEST, Layer, Verdict

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
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)  # a fixed canvas: a "tight" box would draw every figure twice
    plt.close(fig)
    return '<img alt="plot" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode("ascii") + '">'


def _limits(report: CheckReport) -> FeatureLimits:
    return FeatureLimits(**report.options["thresholds"])


def _inexact(score) -> bool:
    """A score worth a chart: some error is not zero (an exact decoder gets a line of text instead)."""
    return score is not None and any(v != 0 for v in (score.tot, score.max, score.pitch_for(True)))


def _cell(r: VectorResult, l: Layer) -> str:
    s = r.layers[l]
    if r.dut.failure_kind:
        return f"<td>{_badge(Verdict.ERROR)}</td>"
    if s.verdict is Verdict.NOT_TESTED:
        text = "n/a" if s.reason == NOTHING_TO_TEST else ("untested" if s.required else "not output")
        return f"<td>{_badge(Verdict.NOT_TESTED, text)}</td>"
    text = f"pass ({s.tested})" if s.verdict is Verdict.PASS else (
        f"{s.verdict.value} {s.failed}/{s.tested}" if s.failed else f"{s.verdict.value} (vector metric)")
    extra = ""
    if l is Layer.FEATURES and s.score is not None:
        extra = (f'<div class="small">tot {s.score.tot:.4f}<br>max {s.score.max:.4f}<br>'
                 f'pitch {s.score.pitch_for(True):.5f}</div>')
    if s.untested:
        extra += f'<div class="small"><b>untested:</b> {_e(", ".join(s.untested))}</div>'
    return f"<td>{_badge(s.verdict, text)}{extra}</td>"


def _audio_summary(report: CheckReport) -> str:
    audio = [r for r in report.results if Layer.FRAMING not in r.layers]
    if not audio:
        return ""
    th = _audio_limits(report)
    rows = ["<table><tr><th>vector</th><th>count</th><th>stage</th><th>expectations</th><th>err4 / err16 / pitch</th>"
            "<th>against the original (information)</th><th>verdict</th><th>time</th></tr>"]
    for r in audio:
        (layer, s), = r.layers.items()
        metric = f"<code>{_e(s.audio.describe(th))}</code>" if s.audio else _e(r.headline())
        orig = f"<code>{_e(r.against_original.short())}</code>" if r.against_original else ""
        rows.append(f"<tr><td><b>{_e(r.name)}</b></td><td class=num>{r.count}</td><td>{layer.value}</td>"
                    f"<td class=small>{_e(r.expected_source)}</td><td>{metric}</td><td>{orig}</td>"
                    f"<td>{_badge(r.verdict)}</td><td class=num>{r.dut.elapsed:.2f}s</td></tr>")
    return "\n".join(rows) + "</table>"


def _audio_limits(report: CheckReport) -> AudioThresholds:
    return AudioThresholds(**report.options["audio_thresholds"])


def _summary(report: CheckReport) -> str:
    packets = [r for r in report.results if Layer.FRAMING in r.layers]
    if not packets:
        return _audio_summary(report)
    rows = ["<table><tr><th>vector</th><th>count</th><th>expectations</th>"
            + "".join(f"<th>{l.value}</th>" for l in LAYERS) + "<th>verdict</th><th>first departure</th><th>time</th></tr>"]
    for r in packets:
        classes = f"<br>not valid: {_e(r.classes())}" if r.classes() else ""
        rows.append(f"<tr><td><b>{_e(r.name)}</b></td><td class=num>{r.count}</td>"
                    f"<td class=small>{_e(r.expected_source)}{classes}</td>" + "".join(_cell(r, l) for l in LAYERS)
                    + f"<td>{_badge(r.verdict)}</td><td><code>{_e(r.headline())}</code></td>"
                    f"<td class=num>{r.dut.elapsed:.2f}s</td></tr>")
    rows.append("</table>")
    return "\n".join(rows) + _audio_summary(report)


def _packet_rows(report: CheckReport, r: VectorResult, l: Layer) -> list[str]:
    bad = r.failing_packets(l)
    if not bad:
        return []
    out = ["<table><tr><th>id</th><th>first departing field</th><th>bytes</th><th>reproduce</th></tr>"]
    for p in bad[:LISTED_PACKETS]:
        d = p.departures.get(l)
        known = f"<div class=small>expected failure: {_e(p.expected_failure)}</div>" if p.expected_failure else ""
        data = ""
        if p.data:
            data = (f"<code>{_e(p.data['hex'])}</code><div class=small>{p.data['bytes']} bytes"
                    + (f", sha256 {_e(p.data['sha256'])}" if "sha256" in p.data else "") + "</div>")
        cmds = "<br>".join(f"<code>{_e(c)}</code>" for c in reproduce(report, r, p.index))
        out.append(f"<tr><td>{_e(r.stable_id(p.index))}<div class=small>{_e(p.tag)}</div></td>"
                   f"<td><code>{_e(d.what() if d else '')}</code>{known}</td><td>{data}</td><td>{cmds}</td></tr>")
    out.append("</table>")
    if len(bad) > LISTED_PACKETS:
        out.append(f"<p class=small>… and {len(bad) - LISTED_PACKETS} more (all in the JSON report).</p>")
    return out


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
        for l, s in r.layers.items():
            if s.verdict in BAD:
                what = f"{s.failed} of {s.tested} {r.unit}s" if s.failed else "the whole-vector metric"
                out.append(f"<h3>{_e(r.name)}, {l.value}: {_badge(s.verdict, what)}</h3>")
                out.append(f"<p>first departure: <code>{_e(r.departure_label(s.first) if s.first else '')}</code></p>")
                out += _packet_rows(report, r, l)
            if not s.complete:
                fields = ", ".join(f"{l.value}.{f}" for f in s.untested) or l.value
                out.append(f"<h3>{_e(r.name)}, {l.value}: {_badge(Verdict.NOT_TESTED, 'untested')}</h3>"
                           f"<p>{_e(fields)}: not output by the decoder; the profile {_e(report.profile)} requires it.</p>")
    return "\n".join(out) if out else "<p>None: every layer the profile claims was tested, and passes.</p>"


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

    scored = [r for r in report.results if _inexact(_feature_score(r))]
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
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_ylim(top=max(3.0, ax.get_ylim()[1]))
    fig.subplots_adjust(left=0.1, right=0.82, bottom=0.12)
    return _png(fig)


def _per_feature_plot(results: list[VectorResult], limits: FeatureLimits) -> str:
    """One figure for every inexact vector: each feature's RMS error against the ``max`` threshold."""
    import matplotlib.pyplot as plt
    import numpy as np

    floor = 1e-8
    fig, ax = plt.subplots(figsize=(9, 2.8))
    width = 0.8 / len(results)
    for k, r in enumerate(results):
        s = r.layers[Layer.FEATURES].score
        vals = np.array([v if math.isfinite(v) else 1e3 for v in s.per_feature_rms])
        ax.bar(np.arange(len(vals)) + k * width - 0.4 + width / 2, np.maximum(vals, floor), width, label=r.name)
    ax.axhline(limits.max, color="#cf222e", linestyle="--", linewidth=1.2, label=f"max {limits.max:g}")
    ax.set_yscale("log")
    ax.set_xticks(range(len(FEATURE_NAMES)), FEATURE_NAMES, rotation=60, fontsize=8)
    ax.set_ylabel("RMS error")
    ax.set_title("Per-feature RMS error over each vector (pitch is judged by mean |error| where corr > 0.2); "
                 f"bars at {floor:g} are exact", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.subplots_adjust(left=0.08, right=0.84, bottom=0.22)
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
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.2, top=0.8, wspace=0.25)
    return _png(fig)


def _feature_score(r: VectorResult):
    s = r.layers.get(Layer.FEATURES)
    return s.score if s is not None else None


def _features(report: CheckReport, limits: FeatureLimits) -> str:
    out = []
    if any(_inexact(_feature_score(r)) for r in report.results):
        out.append(_metric_plot(report, limits))
    for r in report.results:
        s = r.layers.get(Layer.FEATURES)
        if s is None:
            continue
        if s.score is None:
            continue
        out.append(f"<h3>{_e(r.name)} {_badge(s.verdict)}</h3><p><code>{_e(s.score.describe(limits))}</code> "
                   f"over {s.score.rows} rows</p>")
        if not _inexact(s.score):
            out.append("<p class=small>Every feature equals the expected value: nothing to plot.</p>")
            continue
        traces = [t for t in r.traces if _inexact(t.score)]
        if traces:
            out.append("<p class=small>The packet furthest towards its thresholds (expected solid, decoder dashed; "
                       "rows in time order, oldest left):</p>")
            out += [_trace_plot(r, t, limits) for t in traces]
    inexact = [r for r in report.results if _inexact(_feature_score(r))]
    if inexact:
        out.insert(1, _per_feature_plot(inexact, limits))
    return "\n".join(out) or "<p>No feature layer was tested.</p>"


def _burst_plot(r: VectorResult, th: AudioThresholds) -> str:
    """The stream-equivalent err4 and err16 of each burst along time, the loss pattern drawn under it."""
    import matplotlib.pyplot as plt

    fig, (ax, lossax) = plt.subplots(2, 1, figsize=(10, 2.8), sharex=True, gridspec_kw={"height_ratios": [4, 1]})
    for b in r.bursts:
        eq = b.stream_equivalent or b.score
        mid, width = (b.start_ms + b.stop_ms) / 2000, (b.stop_ms - b.start_ms) / 1000
        ax.bar(mid, eq.err4 / th.err4, width, color="#0969da", alpha=0.8)
        ax.plot([mid], [eq.err16 / th.err16], "o", color="#8250df", markersize=4)
        lossax.broken_barh([(b.start_ms / 1000, b.gap_ms / 1000)], (0, 1),
                           color="#cf222e" if b.beyond_reach_ms else "#6e7781")
    ax.axhline(1.0, color="#cf222e", linestyle="--", linewidth=1)
    ax.set_ylabel("x threshold", fontsize=8)
    ax.set_title(f"{r.name}: each loss burst, stream-equivalent err4 (bars) and err16 (dots) over its thresholds",
                 fontsize=9)
    lossax.set_yticks([])
    lossax.set_ylabel("lost", fontsize=8)
    lossax.set_xlabel("s (red: losses reaching past the DRED)", fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2, top=0.88, hspace=0.1)
    return _png(fig)


def _bursts(report: CheckReport) -> str:
    streams = [r for r in report.results if r.bursts]
    if not streams:
        return ""
    from dredconf.conformance.report_terminal import burst_line

    th = _audio_limits(report)
    out = ["<h2>Loss bursts</h2><p class=small>Per burst, the audio metric over its span (the lost packets and the "
           "first received one), scaled to read against the stream's thresholds; the loss pattern under it. Only the "
           "whole stream is judged.</p>"]
    for r in streams:
        out.append(f"<h3>{_e(r.name)}</h3>" + _burst_plot(r, th))
        out.append("<details><summary>every burst</summary><pre>"
                   + _e("\n".join(burst_line(b) for b in r.bursts)) + "</pre></details>")
    return "\n".join(out)


def _environment(report: CheckReport) -> str:
    env = report.environment
    model = env.get("model")
    rows = [("profile", report.profile), ("dredconf", env.get("dredconf", "")), ("host", env.get("host", "")),
            ("platform", env.get("platform", "")), ("python", env.get("python", ""))]
    if isinstance(model, dict):
        rows.append(("model", f"{model['path']} (model id {model['model_id']})"))
        rows += [(f"  {n}", h) for n, h in sorted(model["files"].items())]
    elif model:
        rows.append(("model", model))
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in rows) + "</table>"


def render_html(report: CheckReport) -> str:
    limits = _limits(report)
    verdict = Verdict.PASS if report.conforms else (Verdict.NOT_TESTED if report.exit_status == 0 else Verdict.FAIL)
    if any(r.bursts or _inexact(_feature_score(r)) for r in report.results):
        import matplotlib

        matplotlib.use("Agg", force=True)
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>dredconf check: {_e(report.decoder)}</title><style>{CSS}</style></head><body>",
        f"<h1>dredconf check {_badge(verdict, 'CONFORMS' if report.conforms else 'DOES NOT CONFORM', 'v badge')}</h1>",
        f"<p><b>{_e(report.verdict_line())}</b></p>",
        f"<p>decoder <code>{_e(report.decoder)}</code> on <code>{_e(report.vectors)}</code> ({_e(report.layout)}); "
        f"{report.elapsed:.1f}s; started {_e(report.started)}.</p>",
        f"<p class=small>Feature thresholds (libopus <code>dred_compare -features</code>): tot ≤ {limits.tot:g}, "
        f"max ≤ {limits.max:g}, pitch ≤ {limits.pitch:g}, judged per {_e(report.options['feature_scope'])} "
        f"(and over each whole vector). Time limit per decoder run {report.options.get('timeout')} s, "
        f"{report.options.get('jobs')} job(s).</p>",
        _environment(report),
    ]
    if report.expect_fail_passing:
        parts.append(f"<p>Listed in <code>{_e(report.expect_fail)}</code> but not failing: "
                     f"<b>{_e(', '.join(report.expect_fail_passing))}</b>.</p>")
    parts += ["<h2>Summary</h2>", _summary(report), "<h2>Failures</h2>", _failures(report), _acceptable(report)]
    if any(Layer.FEATURES in r.layers for r in report.results):
        parts += ["<h2>Features</h2>", _features(report, limits)]
    parts += [_bursts(report), "</body></html>"]
    return "\n".join(parts)


def write_html(report: CheckReport, path: str | Path) -> None:
    Path(path).write_text(render_html(report), encoding="utf-8")
