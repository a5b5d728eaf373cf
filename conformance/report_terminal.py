"""The terminal report: a table per vector and layer (within 80 columns), the failures with how to reproduce
each, and the verdict line last."""
from __future__ import annotations

import shlex
from contextlib import contextmanager
from typing import Callable, Iterator

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dredconf.conformance.audio_metric import AudioThresholds
from dredconf.conformance.feature_metric import FeatureThresholds
from dredconf.conformance.results import PacketResult, VectorResult
from dredconf.conformance.run_report import CheckReport, beyond_allowance
from dredconf.conformance.verdicts import BAD, LAYERS, NOTHING_TO_TEST, Layer, Verdict

STYLE = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.ERROR: "bold magenta", Verdict.NOT_TESTED: "yellow"}
#: Failing packets listed per vector and layer.
LISTED_PACKETS = 5


def cell(result: VectorResult, layer: Layer) -> str:
    """One table cell: ``pass 524``, ``FAIL 3/522``, ``error 73``, ``untested``, ``n/a`` or ``-`` (not claimed)."""
    s = result.layers[layer]
    if result.dut.failure_kind:
        return "[bold magenta]error[/]"
    if s.verdict is Verdict.NOT_TESTED:
        if s.reason == NOTHING_TO_TEST:
            return "[dim]n/a[/]"
        return "[bold yellow]untested[/]" if s.required else "[dim]-[/]"
    if s.verdict in BAD:
        word = "FAIL" if s.verdict is Verdict.FAIL else "error"
        text = f"{word} {s.failed}/{s.tested}" if s.failed else f"{word} (all)"
        return f"[{STYLE[s.verdict]}]{text}[/]"
    if s.untested:
        return "[bold yellow]incomplete[/]"
    return f"[green]pass {s.tested}[/]"


def _verdict_cell(report: CheckReport, r: VectorResult) -> str:
    v = r.verdict
    if beyond_allowance(r):
        return "[yellow]beyond[/]"
    word = "known" if r.failed and r not in report.unresolved() else v.value
    return f"[{STYLE[v]}]{word}[/]"


def _table(title: str | None) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title_justify="left", title=title)
    table.add_column("vector", style="bold", max_width=18, overflow="ellipsis", no_wrap=True)
    table.add_column("count", justify="right")
    return table


def summary_tables(report: CheckReport) -> list[Table]:
    """One table for packet vectors (a column per layer), one for audio vectors (the metric per stage)."""
    title = f"dredconf check: {escape(report.decoder)} (profile {escape(report.profile)})"
    packets = [r for r in report.results if Layer.FRAMING in r.layers]
    audio = [r for r in report.results if Layer.FRAMING not in r.layers]
    tables = []
    if packets:
        table = _table(title)
        for layer in LAYERS:
            table.add_column(layer.value, no_wrap=True)
        table.add_column("verdict", no_wrap=True)
        for r in packets:
            table.add_row(escape(r.name), str(r.count), *(cell(r, l) for l in LAYERS), _verdict_cell(report, r))
        tables.append(table)
    if audio:
        table = _table(None if packets else title)
        table.add_column("stage", no_wrap=True)
        table.add_column("err4 / err16 / pitch", justify="right", no_wrap=True)
        table.add_column("verdict", no_wrap=True)
        for r in audio:
            (layer, s), = r.layers.items()
            metric = s.audio.short() if s.audio else ("error" if r.dut.failure_kind else "")
            table.add_row(escape(r.name), str(r.count), layer.value, metric, _verdict_cell(report, r))
        tables.append(table)
    return tables


def reproduce(report: CheckReport, r: VectorResult, index: int) -> list[str]:
    """The commands that show one failing packet: inspect it, and run the check on it alone."""
    cmds = []
    if r.kind == "packets":
        cmds.append(f"dredconf inspect {shlex.quote(r.input)} --packet {index}")
    cmds.append(f"dredconf check -d {shlex.quote(report.decoder)} -V {shlex.quote(report.vectors)} "
                f"--profile {report.profile} --vector {shlex.quote(r.name)} --packet {index}")
    return cmds


def _packet_lines(report: CheckReport, r: VectorResult, p: PacketResult, layer: Layer, first: bool) -> list[str]:
    d = p.departures.get(layer)
    line = r.departure_label(d) if d else f"{r.stable_id(p.index)}: {p.verdicts[layer].value}"
    if p.expected_failure:
        line += f"  [expected failure: {p.expected_failure}]"
    out = [line]
    if first and p.data:
        sha = f", sha256 {p.data['sha256']}" if "sha256" in p.data else ""
        shown = "" if "sha256" not in p.data else f" (first {len(p.data['hex']) // 2})"
        out.append(f"    {r.unit} bytes{shown}: {p.data['hex']} ({p.data['bytes']} bytes{sha})")
        out += [f"    reproduce: {c}" for c in reproduce(report, r, p.index)]
    return out


def details(report: CheckReport, console: Console) -> None:
    """Per vector: the decoder's failure, or each failing layer's packets, then what was not tested."""
    th = FeatureThresholds(**report.options["thresholds"])
    ath = AudioThresholds(**report.options["audio_thresholds"])
    for r in report.results:
        if r.dut.failure_kind:
            console.print(f"[bold magenta]{escape(r.name)}[/]: {escape(r.dut.failure_kind)}: {escape(r.dut.failure or '')}")
            if r.dut.argv:
                console.print(f"  command: {escape(shlex.join(r.dut.argv))}", style="dim")
            for line in [l for l in r.dut.stderr.strip().splitlines() if l.strip()][-5:]:
                console.print(f"  stderr: {escape(line)}", style="dim")
            continue
        if Layer.FRAMING not in r.layers:
            _audio_details(r, ath, console)
            continue
        for layer in LAYERS:
            s = r.layers[layer]
            if s.verdict not in BAD:
                continue
            bad = r.failing_packets(layer)
            what = f"{s.failed} of {s.tested} {r.unit}s" if s.failed else "the whole-vector metric"
            console.print(f"[{STYLE[s.verdict]}]{escape(r.name)} {layer.value}[/]: {what} depart")
            if not bad and s.first:
                console.print(f"  {escape(r.departure_label(s.first))}")
            for k, p in enumerate(bad[:LISTED_PACKETS]):
                for line in _packet_lines(report, r, p, layer, first=k == 0):
                    console.print(f"  {escape(line)}", style=None if k == 0 else "dim")
            if len(bad) > LISTED_PACKETS:
                console.print(f"  … {len(bad) - LISTED_PACKETS} more (all in --json)", style="dim")
        for l, s in r.layers.items():
            if not s.complete:
                fields = ", ".join(f"{l.value}.{f}" for f in s.untested) or l.value
                console.print(f"[bold yellow]{escape(r.name)}[/]: not tested: {escape(fields)} "
                              f"(not output by the decoder; the profile {escape(report.profile)} requires it)")
        for p in r.alternative_matches():
            console.print(f"[green]{escape(r.name)} {escape(p.label())}[/]: {escape(p.behaviour or '')}", style="dim")
        feat = r.layers[Layer.FEATURES]
        if feat.score is not None and feat.verdict is Verdict.PASS:
            console.print(f"{escape(r.name)} features over {feat.score.rows} rows: {escape(feat.score.describe(th))}",
                          style="dim")


#: Bursts listed per integration vector (the worst, by their stream-equivalent figure).
LISTED_BURSTS = 5


def _audio_details(r: VectorResult, th: AudioThresholds, console: Console) -> None:
    (layer, s), = r.layers.items()
    if s.audio is None:
        return
    style = STYLE[s.verdict] if s.verdict in BAD else "dim"
    console.print(f"[{style}]{escape(r.name)} {layer.value}[/]: {escape(s.audio.describe(th))} over "
                  f"{s.audio.frames} frames", style=None if s.verdict in BAD else "dim")
    if r.against_original is not None:
        o = r.against_original
        verdict = "passes" if o.passes(AudioThresholds(), unvoiced_ok=False) else "fails"
        console.print(f"  against the original speech (information, not judged): {o.short()}; libopus's own check "
                      f"at 0.25 / 1.0 / 0.15 {verdict}", style="dim")
    if r.bursts:
        worst = sorted(r.bursts, key=lambda b: -(b.stream_equivalent or b.score).badness(th))
        worst = worst[:LISTED_BURSTS]
        console.print(f"  {len(r.bursts)} loss bursts; the worst, by the stream-equivalent metric "
                      "(err4 / err16 / pitch, read against the thresholds):", style="dim")
        for b in worst:
            console.print(f"    {escape(burst_line(b))}", style="dim")


def burst_line(b) -> str:
    """``packets 50-72 (23 lost, 460 ms; DRED reaches 135 ms, 325 ms beyond): 0.18 / 0.54 / - (span 0.79 / ...)``"""
    reach = "no DRED" if b.reach_ms is None else f"DRED reaches {b.reach_ms:g} ms"
    beyond = f", {b.beyond_reach_ms:g} ms beyond" if b.beyond_reach_ms else ""
    last = b.first + b.lost - 1
    eq = b.stream_equivalent.short() if b.stream_equivalent else "-"
    return (f"packets {b.first}-{last} ({b.lost} lost, {b.gap_ms:g} ms; {reach}{beyond}): {eq} "
            f"(over the span alone {b.score.short()})")


def print_report(report: CheckReport, console: Console | None = None) -> None:
    console = console or Console()
    for table in summary_tables(report):
        console.print(table)
    sources = sorted({r.expected_source for r in report.results})
    console.print(f"expectations: {escape('; '.join(sources))}", style="dim")
    classes = [f"{r.name}: {r.classes()}" for r in report.results if r.classes() and Layer.FRAMING in r.layers]
    if classes:
        console.print(f"packets not valid (judged by their result class): {escape('; '.join(classes))}", style="dim")
    details(report, console)
    if report.expect_fail_passing:
        console.print(f"[yellow]listed in {escape(report.expect_fail or '')} but not failing[/]: "
                      f"{escape(', '.join(report.expect_fail_passing))}")
    style = "bold green" if report.conforms else ("bold yellow" if report.exit_status == 0 else "bold red")
    console.print(f"[{style}]{escape(report.verdict_line())}[/] ({report.elapsed:.1f} s)", soft_wrap=True)


@contextmanager
def progress(console: Console, total: int, enabled: bool) -> Iterator[Callable[[VectorResult], None]]:
    """A callback advancing a progress bar per finished vector (no bar when not enabled, e.g. not a TTY)."""
    if not enabled:
        yield lambda result: None
        return
    bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                   TimeElapsedColumn(), console=console, transient=True)
    with bar:
        task = bar.add_task("", total=total)

        def advance(result: VectorResult) -> None:
            bar.update(task, advance=1, description=f"{result.name}: {result.verdict.value}")

        yield advance
