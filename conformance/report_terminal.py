"""The terminal report: a rich table per vector and layer, the first departures, and a progress bar."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dredconf.conformance.layers import LAYERS, NOTHING_TO_TEST, FeatureLimits, Layer, Verdict
from dredconf.conformance.results import CheckReport, VectorResult

STYLE = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.ERROR: "bold magenta", Verdict.NOT_TESTED: "dim"}
#: Failing packets listed per vector and layer below the table.
LISTED_PACKETS = 5


def _cell(result: VectorResult, layer: Layer) -> str:
    s = result.layers[layer]
    style = STYLE[s.verdict]
    if result.dut.failure_kind:
        return f"[{style}]error[/]"
    if s.verdict is Verdict.NOT_TESTED:
        return f"[{style}]{'n/a' if s.reason == NOTHING_TO_TEST else 'not tested'}[/]"
    text = s.verdict.value
    if s.verdict is Verdict.PASS:
        text = f"pass {s.tested}"
    elif s.failed:
        text = f"{s.verdict.value} {s.failed}/{s.tested}"
    else:
        text = f"{s.verdict.value} (metric)"
    return f"[{style}]{escape(text)}[/]"


def _metric(result: VectorResult) -> str:
    s = result.layers[Layer.FEATURES].score
    if s is None:
        return ""
    return f"{s.tot:.4f} / {s.max:.4f} / {s.pitch:.5f}"


def summary_table(report: CheckReport) -> Table:
    table = Table(title=f"dredconf check: {escape(report.decoder)}", title_justify="left", show_lines=False)
    classes = any(r.classes() for r in report.results)
    table.add_column("vector", style="bold")
    table.add_column("packets", justify="right")
    if classes:
        table.add_column("not valid")
    for layer in LAYERS:
        table.add_column(layer.value)
    table.add_column("tot / max / pitch", justify="right")
    table.add_column("verdict")
    table.add_column("time", justify="right")
    for r in report.results:
        v = r.verdict
        table.add_row(escape(r.name), str(r.packet_count), *((escape(r.classes()),) if classes else ()),
                      *(_cell(r, l) for l in LAYERS),
                      _metric(r), f"[{STYLE[v]}]{v.value}[/]", f"{r.dut.elapsed:.1f}s")
    return table


def details(report: CheckReport, console: Console) -> None:
    """The first departures and DUT failures, vector by vector."""
    limits = FeatureLimits(**{k: report.options["limits"][k] for k in ("tot", "max", "pitch", "scope")})
    for r in report.results:
        if r.dut.failure_kind:
            console.print(f"[bold magenta]{escape(r.name)}[/]: {escape(r.dut.failure_kind)}: {escape(r.dut.failure or '')}")
            if r.dut.argv:
                console.print(f"  command: {escape(' '.join(r.dut.argv))}", style="dim")
            tail = [l for l in r.dut.stderr.strip().splitlines() if l.strip()][-5:]
            for line in tail:
                console.print(f"  stderr: {escape(line)}", style="dim")
            continue
        for layer in LAYERS:
            s = r.layers[layer]
            if s.verdict not in (Verdict.FAIL, Verdict.ERROR):
                continue
            first = r.departure_label(s.first) if s.first else ""
            console.print(f"[{STYLE[s.verdict]}]{escape(r.name)} {layer.value}[/]: {escape(first)}")
            bad = [p for p in r.packets if p.verdicts.get(layer) in (Verdict.FAIL, Verdict.ERROR)]
            for p in bad[1:LISTED_PACKETS]:
                d = next((x for x in p.departures if x.layer is layer), None)
                if d is not None:
                    console.print(f"    {escape(r.departure_label(d))}", style="dim")
            if len(bad) > LISTED_PACKETS:
                console.print(f"    … {len(bad) - LISTED_PACKETS} more packets", style="dim")
        for p in r.alternative_matches():
            console.print(f"[green]{escape(r.name)} {escape(p.label())}[/]: {escape(p.behaviour or '')}")
        feat = r.layers[Layer.FEATURES]
        if feat.score is not None and feat.verdict is Verdict.PASS:
            console.print(f"[green]{escape(r.name)} features[/]: {escape(feat.score.describe(limits))}", style="dim")
    skipped = sorted({l.value for r in report.results for l, s in r.layers.items()
                      if s.verdict is Verdict.NOT_TESTED and s.reason != NOTHING_TO_TEST and not r.dut.failure_kind})
    partial = sorted({f"{l.value}.{f}" for r in report.results for l, s in r.layers.items()
                      if s.verdict is not Verdict.NOT_TESTED and not r.dut.failure_kind for f in s.skipped})
    if skipped:
        console.print(f"not tested (the decoder does not output them): {', '.join(skipped)}", style="yellow")
    if partial:
        console.print(f"fields skipped within tested layers: {', '.join(partial)}", style="yellow")
    if any(s.reason == NOTHING_TO_TEST for r in report.results for s in r.layers.values()):
        console.print("n/a: the vector has nothing for that layer (no DRED, or no expected features)", style="dim")


def print_report(report: CheckReport, console: Console | None = None, *, verbose: bool = False) -> None:
    console = console or Console()
    console.print(summary_table(report))
    sources = sorted({r.expected_source for r in report.results})
    console.print(f"expectations: {escape('; '.join(sources))}", style="dim")
    details(report, console)
    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    if report.ok:
        console.print(f"[bold green]PASS[/]: {summary} ({report.elapsed:.1f}s); everything tested passes")
    elif not report.tested_anything:
        console.print(f"[bold red]FAIL[/]: nothing was tested ({summary})")
    else:
        console.print(f"[bold red]FAIL[/]: {summary} ({report.elapsed:.1f}s)")


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
