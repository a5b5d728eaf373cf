"""``dredconf check``: run a decoder under test on a vector set, judge it layer by layer, say whether it conforms.

Everything that can be wrong before a decoder runs is a usage error (exit 2)
found before it runs: the decoder spec, the profile, an output path that
cannot be written, the vector set (validated end to end), the model the
reference needs. Exit 0 only when the run conforms to its profile (or
every failure is listed in ``--expect-fail``), 1 otherwise.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from dredconf.conformance.adapters import AdapterError, parse_decoder
from dredconf.conformance.expect_fail import ExpectFailError, read_expect_fail
from dredconf.conformance.feature_metric import FeatureThresholds
from dredconf.conformance.judge import Rules
from dredconf.conformance.process import DEFAULT_TIMEOUT
from dredconf.conformance.audio_metric import AudioThresholds
from dredconf.conformance.profile import PROFILE_LAYERS, Profile, ProfileError, default_profile
from dredconf.conformance.report_html import write_html
from dredconf.conformance.report_json import write_json
from dredconf.conformance.report_junit import write_junit
from dredconf.conformance.report_terminal import print_report
from dredconf.conformance.report_terminal import progress as progress_bar
from dredconf.conformance.runner import CheckOptions, plan, run_check
from dredconf.errors import ModelError
from dredconf.vectors.sets import VectorSetError, load_vector_set

DECODER_HELP = (
    "The decoder under test: 'reference' (the suite's own: a self-check), 'cmd:TEMPLATE' (a program; {input} is "
    "the stream, {output} the JSON to write), 'libopus-features:TEMPLATE' (raw float32 feature rows to {output}), "
    "'python:MODULE:CALLABLE', or 'mutant:NAME'. See docs/DECODER-CONTRACT.md."
)
POSITIVE = click.FloatRange(min=0, min_open=True)


def writable_path(path: str | None, option: str) -> None:
    """A report path that can be written (``-`` is standard output), checked before the run, not after it."""
    if path is None or path == "-":
        return
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise click.BadParameter(f"{path}: is a directory", param_hint=option)
    if not parent.is_dir():
        raise click.BadParameter(f"{path}: the directory {parent} does not exist", param_hint=option)
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise click.BadParameter(f"{path}: not writable", param_hint=option)


@click.command()
@click.option("--decoder", "-d", required=True, metavar="SPEC", help=DECODER_HELP)
@click.option("--vectors", "-V", required=True, metavar="PATH",
              help="A vector set: a directory (libopus's X.bit + X.expected.json.gz, libopus's X_dred.bit + "
                   "X_dred_dec.f32, or a generated corpus with manifest.json) or one stream file.")
@click.option("--vector", "names", multiple=True, metavar="NAME", help="Check only this vector (repeatable).")
@click.option("--packet", type=click.IntRange(min=0), metavar="N",
              help="Rerun only packet (or record) N of the one --vector given: reproduce one failure.")
@click.option("--profile", metavar="LAYERS",
              help=f"The layers the decoder claims, a comma list of {', '.join(PROFILE_LAYERS)} (default "
                   "framing,dred,features on packet sets, features for a libopus-features decoder, vocoder or "
                   "integration on those sets). Each must be tested on every vector that has it.")
@click.option("--allow-not-tested", is_flag=True,
              help="Do not fail a run because a layer the profile claims was not tested (the verdict line says so).")
@click.option("--expect-fail", "expect_fail", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Known failures by id (S1#17 or S1) with reasons: reported, not counted against the exit status.")
@click.option("--feature-scope", type=click.Choice(["packet", "vector"]), default="packet", show_default=True,
              help="packet: each packet's features must pass libopus's metric (and each vector's); vector: only "
                   "the metric over a whole vector decides, as dred_compare on whole files.")
@click.option("--tot", type=POSITIVE, default=None, help="Feature threshold for tot (default: libopus's 0.5).")
@click.option("--max", "max_", type=POSITIVE, default=None, help="Feature threshold for max (default: libopus's 0.15).")
@click.option("--pitch", type=POSITIVE, default=None, help="Feature threshold for pitch (default: libopus's 0.02).")
@click.option("--audio-thresholds", nargs=3, type=POSITIVE, default=None, metavar="E4 E16 P",
              help="The vocoder and integration stages' limits on libopus's audio metric (err4, err16, pitch; "
                   "dred_compare -audio -thresholds; default 0.25 1.0 0.15, or those a captured set records).")
@click.option("--timeout", type=POSITIVE, default=DEFAULT_TIMEOUT, show_default=True,
              help="Time limit in seconds for each decoder run (one per vector); the decoder is killed past it.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Vectors checked in parallel (processes); results equal a serial run.")
@click.option("--model", metavar="PATH",
              help="Model for the reference decoder (the 'reference' decoder, and sets without expected features).")
@click.option("--json", "json_path", metavar="FILE", help="Write the machine report ('-': standard output).")
@click.option("--junit", "junit_path", metavar="FILE", help="Write JUnit XML (one testcase per vector and layer).")
@click.option("--html", "html_path", metavar="FILE", help="Write a self-contained HTML report.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on when standard error is a terminal).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line.")
def check(decoder, vectors, names, packet, profile, allow_not_tested, expect_fail, feature_scope, tot, max_, pitch,
          audio_thresholds, timeout, jobs, model, json_path, junit_path, html_path, progress, quiet):
    """Check a decoder against a vector set: per vector and packet, does it conform, where does it first depart
    (framing, DRED header, latents, features), and by how much.

    Exit status: 0 when the decoder conforms to its profile on every vector (or every failure is listed in
    --expect-fail), 1 when it does not, 2 on usage errors (including a broken vector set).
    """
    for path, option in ((json_path, "--json"), (junit_path, "--junit"), (html_path, "--html")):
        writable_path(path, option)
    if packet is not None and len(names) != 1:
        raise click.UsageError("--packet N reruns one packet of one vector: give exactly one --vector")
    try:
        adapter = parse_decoder(decoder, model=model)
        adapter.preflight()
    except AdapterError as e:
        raise click.BadParameter(str(e), param_hint="--decoder") from None
    try:
        chosen = Profile.parse(profile) if profile else None
    except ProfileError as e:
        raise click.BadParameter(str(e), param_hint="--profile") from None
    try:
        known = read_expect_fail(expect_fail) if expect_fail else None
    except ExpectFailError as e:
        raise click.BadParameter(str(e), param_hint="--expect-fail") from None
    rules = Rules(FeatureThresholds().replace(tot=tot, max=max_, pitch=pitch), feature_scope)
    try:
        vset = load_vector_set(vectors).select(list(names))
        chosen = chosen or default_profile(adapter.default_profile(), vset.kinds())
        audio = (AudioThresholds(*audio_thresholds) if audio_thresholds
                 else AudioThresholds(**vset.capture["thresholds"]) if vset.capture else AudioThresholds())
        options = CheckOptions(chosen, rules, audio, timeout, jobs, model, packet=packet)
        planned = plan(adapter, vset, options)
    except (VectorSetError, AdapterError, ModelError) as e:
        raise click.UsageError(str(e) if not isinstance(e, ModelError) else
                               f"the set's features are judged against the reference decoder, which needs the model: {e}"
                               ) from None
    # Reports to standard output push the human one to standard error; not a terminal (a CI log): lines unwrapped.
    to_err = json_path == "-"
    tty = (sys.stderr if to_err else sys.stdout).isatty()
    out = Console(stderr=to_err, highlight=False, width=None if tty else 100, soft_wrap=not tty)
    err = Console(stderr=True)
    show_bar = err.is_terminal and not quiet if progress is None else progress
    with progress_bar(err, len(planned), bool(show_bar)) as advance:
        report = run_check(adapter, vset, options, on_result=advance, allow_not_tested=allow_not_tested,
                           expected_failures=known)
    if json_path:
        write_json(report, json_path)
    if junit_path:
        write_junit(report, junit_path)
    if html_path:
        write_html(report, html_path)
    if quiet:
        click.echo(report.verdict_line(), err=to_err)
    else:
        print_report(report, out)
    sys.exit(report.exit_status)

