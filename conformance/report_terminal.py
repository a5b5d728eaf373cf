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

from dredconf.conformance.feature_metric import FeatureThresholds
from dredconf.conformance.results import CheckReport, PacketResult, VectorResult
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


def summary_table(report: CheckReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title_justify="left",
                  title=f"dredconf check: {escape(report.decoder)} (profile {escape(report.profile)})")
    table.add_column("vector", style="bold", max_width=18, overflow="ellipsis", no_wrap=True)
    table.add_column("count", justify="right")
    for layer in LAYERS:
        table.add_column(layer.value, no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for r in report.results:
        v = r.verdict
        word = "known" if r.failed and r not in report.unresolved() else v.value
        table.add_row(escape(r.name), str(r.count), *(cell(r, l) for l in LAYERS), f"[{STYLE[v]}]{word}[/]")
    return table


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
    for r in report.results:
        if r.dut.failure_kind:
            console.print(f"[bold magenta]{escape(r.name)}[/]: {escape(r.dut.failure_kind)}: {escape(r.dut.failure or '')}")
            if r.dut.argv:
                console.print(f"  command: {escape(shlex.join(r.dut.argv))}", style="dim")
            for line in [l for l in r.dut.stderr.strip().splitlines() if l.strip()][-5:]:
                console.print(f"  stderr: {escape(line)}", style="dim")
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


def print_report(report: CheckReport, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(report))
    sources = sorted({r.expected_source for r in report.results})
    console.print(f"expectations: {escape('; '.join(sources))}", style="dim")
    classes = [f"{r.name}: {r.classes()}" for r in report.results if r.classes()]
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
