"""``dredconf check``: run a decoder under test on a vector set, judge it layer by layer, say whether it conforms.

Everything that can be wrong before a decoder runs is a usage error (exit 2)
found before it runs: the decoder spec, the profile, an output path that
cannot be written, the vector set (validated end to end), the model the
reference needs. Exit 0 only when the run conforms to its profile (or
every failure is listed in ``--expect-fail``), 1 otherwise.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from dredconf.inputs import POSITIVE, writable_path

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
from dredconf.vectors.installed import INSTALL, installed_sets, load_installed, load_vectors, validate_all
from dredconf.vectors.sets import KIND_LAYERS, VectorSet
from dredconf.vectors.setfiles import VectorSetError

DECODER_HELP = (
    "The decoder under test: 'reference' (the suite's own: a self-check), 'cmd:TEMPLATE' (a program; {input} is "
    "the stream, {output} the JSON to write), 'libopus-features:TEMPLATE' (raw float32 feature rows to {output}), "
    "'python:MODULE:CALLABLE', or 'mutant:NAME'. See docs/DECODER-CONTRACT.md."
)


@click.command()
@click.option("--decoder", "-d", required=True, metavar="SPEC", help=DECODER_HELP)
@click.option("--vectors", "-V", metavar="SET",
              help="A vector set: the name of an installed set (dredconf vectors list), or a path: a directory "
                   "(libopus's X.bit + X.expected.json.gz, libopus's X_dred.bit + X_dred_dec.f32, a generated corpus "
                   "with manifest.json, X.features.f32 + X.expected.sw, X.bit + X.loss + X.expected.sw) or one "
                   "stream file. Default: every installed set the decoder takes and the profile covers.")
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
    """Check a decoder against a vector set (with no --vectors, every installed set it takes and its profile
    covers): per vector and packet, does it conform, where does it first depart (framing, DRED header, latents,
    features), and by how much.

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

    def options_for(vset: VectorSet, profile: Profile) -> CheckOptions:
        audio = (AudioThresholds(*audio_thresholds) if audio_thresholds
                 else AudioThresholds(**vset.capture["thresholds"]) if vset.capture else AudioThresholds())
        return CheckOptions(profile, rules, audio, timeout, jobs, model, packet=packet)

    try:
        if vectors is not None:
            vset = load_vectors(vectors).select(list(names))
            options = options_for(vset, chosen or default_profile(adapter.default_profile(), vset.kinds()))
            runs, skipped = [(None, vset, options, plan(adapter, vset, options))], []
        else:
            if names or packet is not None or expect_fail:
                raise click.UsageError("--vector, --packet and --expect-fail name vectors of one set: give --vectors")
            if "-" in (json_path, junit_path, html_path):
                raise click.UsageError("a report to standard output is one set's: give --vectors")
            runs, skipped = _installed_runs(adapter, chosen, options_for)
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
    reports = []
    for name, vset, options, planned in runs:
        if name is not None and not quiet:
            out.print(f"[bold]{name}[/] ({vset.root})", highlight=False)
        with progress_bar(err, len(planned), bool(show_bar)) as advance:
            report = run_check(adapter, vset, options, on_result=advance, allow_not_tested=allow_not_tested,
                               expected_failures=known)
        for path, write in ((json_path, write_json), (junit_path, write_junit), (html_path, write_html)):
            if path:
                write(report, path if name is None else _per_set(path, name))
        if quiet:
            click.echo(report.verdict_line() if name is None else f"{name}: {report.verdict_line()}", err=to_err)
        else:
            print_report(report, out)
        reports.append((name, report))
    if runs[0][0] is not None:
        click.echo(_installed_verdict(reports, skipped))
    sys.exit(max(r.exit_status for _, r in reports))


#: Decoders whose every stage is known (the suite's own): without --profile they claim every kind they decode. A
#: command may be anything, so it claims its default profile only (``--profile vocoder`` puts it on vocoder sets).
BUILT_IN = ("reference", "mutant")


def claimed(adapter, chosen: Profile | None) -> Profile:
    """The layers a run over the installed sets covers: ``--profile``, else what the decoder claims."""
    if chosen is not None:
        return chosen
    if adapter.kind in BUILT_IN:
        return Profile.parse(",".join(layer for k in adapter.kinds for layer in KIND_LAYERS[k]))
    return adapter.default_profile()


def _installed_runs(adapter, chosen: Profile | None, options_for) -> tuple[list, list[str]]:
    """Every installed set the decoder takes and its profile covers, validated and planned (each under the profile
    a run on that set alone would have); the others, with why."""
    sets = installed_sets()
    if not sets:
        raise click.UsageError(f"no --vectors given and no vector set installed: {INSTALL}, or give --vectors PATH")
    covers = claimed(adapter, chosen)
    runs, skipped = [], []
    for s in sets:
        vset = load_installed(s, validate=False)
        kinds = {v.kind for v in vset.vectors}
        if cannot := adapter.cannot_decode(kinds):
            skipped.append(f"{s.name} ({adapter.describe()!r} cannot decode {', '.join(cannot)} vectors)")
            continue
        try:
            adapter.check_kinds(kinds)  # what else the decoder needs for these kinds (a template's placeholders)
        except AdapterError as e:
            skipped.append(f"{s.name} ({e})")
            continue
        if not any(covers.covers(v.layers) for v in vset.vectors):
            skipped.append(f"{s.name} (profile {covers} has no layer of its {s.kind} vectors)")
            continue
        options = options_for(vset, chosen or default_profile(adapter.default_profile(), vset.kinds()))
        runs.append((s.name, validate_all(vset), options, plan(adapter, vset, options)))
    if not runs:
        raise click.UsageError(f"no installed set for --decoder {adapter.describe()!r} and profile {covers}: "
                               f"{'; '.join(skipped)}")
    return runs, skipped


def _per_set(path: str, name: str) -> str:
    """``report.json`` -> ``report.SET.json``: one report file per set."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.{name}{p.suffix}"))


def _installed_verdict(reports: list, skipped: list[str]) -> str:
    """The last line of a run on the installed sets."""
    bad = [name for name, r in reports if r.exit_status]
    names = ", ".join(name for name, _ in reports)
    line = (f"CONFORMS on every installed set run ({names})" if not bad
            else f"DOES NOT CONFORM on {len(bad)} of {len(reports)} installed sets ({', '.join(bad)})")
    return line + (f"; not run: {'; '.join(skipped)}" if skipped else "")

