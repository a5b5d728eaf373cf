"""``dredconf check``: run a decoder under test on a vector set and judge it layer by layer."""
from __future__ import annotations

import sys

import click

from dredconf.conformance.adapters import DEFAULT_TIMEOUT

DECODER_HELP = (
    "The decoder under test: 'reference' (the suite's own, a self-check), 'cmd:TEMPLATE' (a program; {input} is the "
    "stream, {output} the JSON to write), 'libopus-features:TEMPLATE' (raw float32 feature rows), "
    "'python:MODULE:CALLABLE', or 'mutant:NAME'. See docs/DECODER-CONTRACT.md."
)


@click.command()
@click.option("--decoder", "-d", required=True, metavar="SPEC", help=DECODER_HELP)
@click.option("--vectors", "-V", required=True, type=click.Path(exists=True), metavar="PATH",
              help="A vector set: a directory with manifest.json, a directory of *.bit with *.expected.json.gz, or one *.bit.")
@click.option("--vector", "names", multiple=True, metavar="NAME", help="Check only this vector (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT, show_default=True,
              help="Time limit in seconds for each DUT invocation (one per vector); the DUT is killed past it.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Vectors checked in parallel (processes); results equal a serial run.")
@click.option("--tot", type=float, default=None, help="Feature threshold for tot (default: libopus's 0.5).")
@click.option("--max", "max_", type=float, default=None, help="Feature threshold for max (default: libopus's 0.15).")
@click.option("--pitch", type=float, default=None, help="Feature threshold for pitch (default: libopus's 0.02).")
@click.option("--feature-scope", type=click.Choice(["vector", "packet"]), default="vector", show_default=True,
              help="vector: the metric over each whole vector decides (libopus); packet: every packet's metric must pass too.")
@click.option("--model", envvar="DREDCONF_MODEL", metavar="PATH",
              help="Model for the reference decoder (the 'reference' DUT and sets without expectations).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE", help="Write the machine report.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Write JUnit XML (one testcase per vector and layer).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Write a self-contained HTML report with plots.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on when standard error is a terminal).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the final verdict line.")
def check(decoder, vectors, names, timeout, jobs, tot, max_, pitch, feature_scope, model,
          json_path, junit_path, html_path, progress, quiet):
    """Check a decoder against a vector set: per vector and packet, does it conform, where does it first depart
    (framing, DRED header, latents, features), and by how much.

    Exit status: 0 when everything tested passes, 1 otherwise, 2 on usage errors.
    """
    from rich.console import Console

    from dredconf.conformance.adapters import parse_decoder
    from dredconf.conformance.layers import FeatureLimits
    from dredconf.conformance.report_terminal import print_report
    from dredconf.conformance.report_terminal import progress as progress_bar
    from dredconf.conformance.runner import CheckOptions, run_check
    from dredconf.conformance.vectorsets import load_vector_set

    try:
        adapter = parse_decoder(decoder, model=model)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--decoder") from None
    try:
        vset = load_vector_set(vectors).select(list(names))
    except (ValueError, KeyError, OSError) as e:
        raise click.BadParameter(str(e).strip("'\""), param_hint="--vectors/--vector") from None
    options = CheckOptions(FeatureLimits.from_metrics(tot, max_, pitch, feature_scope), timeout, jobs, model)
    # Not a terminal (CI logs, pipes): wide enough for the table rather than rich's 80 columns.
    out = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True)
    show_bar = err.is_terminal and not quiet if progress is None else progress
    with progress_bar(err, len(vset.vectors), bool(show_bar)) as advance:
        report = run_check(adapter, vset, options, on_result=advance)
    if json_path:
        from dredconf.conformance.report_json import write_json

        write_json(report, json_path)
    if junit_path:
        from dredconf.conformance.report_junit import write_junit

        write_junit(report, junit_path)
    if html_path:
        from dredconf.conformance.report_html import write_html

        write_html(report, html_path)
    if quiet:
        counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
        click.echo(f"{'PASS' if report.ok else 'FAIL'}: {counts}")
    else:
        print_report(report, out)
    sys.exit(report.exit_status)
