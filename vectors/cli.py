"""``dredconf vectors ...``: generate, verify, cover, list and convert the corpus.

The commands that generate, decode or cover import the generator, the reference (its C core) and numpy when
they run, so that ``dredconf`` itself starts without them."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import click

from dredconf.errors import DredconfError, StreamError
from dredconf.inputs import MODEL_HELP
from dredconf.spec import read_stream, write_stream
from dredconf.spec.ogg import parse_ogg_opus, write_ogg_opus
from dredconf.spec.standalone import check_record, read_standalone

from .losses import gilbert_elliott, loss_text
from .manifest import MANIFEST_NAME, ManifestError, load_manifest, verify_corpus
from .installed import (DISTRIBUTION, INSTALL, InstalledSet, installed_sets, load_installed, resolve_vectors, sets_dir,
                        size)
from .sets import VectorSet, VectorSetError, counted, load_vector_set



def _fail(e: Exception):
    raise click.ClickException(str(e)) from None


@click.group()
def vectors():
    """The vector corpus: reproducible vectors covering the whole DRED and extension syntax."""


@vectors.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Corpus seed.")
@click.option("--model", help=MODEL_HELP)
@click.option("--ogg", is_flag=True, help="Also write each stream as Ogg Opus (GROUP.opus).")
@click.option("--group", "groups", multiple=True, help="Only these groups (repeatable; default all).")
@click.option("--repeat", type=click.IntRange(min=1), default=1, help="Generate N times and report the median time.")
def generate(out, seed, model, ogg, groups, repeat):
    """Write the corpus for SEED into OUT: GROUP.bit streams (libopus test-tool format) and manifest.json."""
    from dredconf.reference.model import load_model

    from .expectations import GenerationError
    from .generate import generate as gen

    try:
        m = load_model(model, parts=("stats", "fargan") if not groups or "vocoder" in groups else ("stats",))
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            manifest = gen(out, seed, m, groups=list(groups) or None, ogg=ogg)
            times.append(time.perf_counter() - t)
    except (DredconfError, GenerationError, ValueError) as e:
        _fail(e)
    total = sum(f["bytes"] for f in manifest["files"]) + (Path(out) / "manifest.json").stat().st_size
    results = {}
    for v in manifest["vectors"]:
        results[v["result"]] = results.get(v["result"], 0) + 1
    vocoder = len(manifest.get("vocoder", ()))
    click.echo(f"{out}: {len(manifest['vectors'])} vectors ({', '.join(f'{n} {r}' for r, n in results.items())}) "
               f"in {len(manifest['streams'])} streams" + (f" and {vocoder} vocoder items" if vocoder else "")
               + f", {total} bytes with the manifest, seed {seed}, "
               f"{statistics.median(times):.2f} s" + (f" (median of {repeat})" if repeat > 1 else ""))


@vectors.command()
@click.argument("path", required=False, metavar="[SET]")
@click.option("--decode/--no-decode", default=True, show_default=True,
              help="A generated corpus: also decode every stream with the reference and compare each packet with its "
                   "expected record (a changed expectation).")
@click.option("--model", help=MODEL_HELP)
def verify(path, decode, model):
    """Check a vector set before trusting it: SET is the name of an installed set (`dredconf vectors list`) or a
    path; with no SET, every installed set. A corpus is checked against its manifest (files, hashes, and by default
    every expectation re-decoded), an installed set against the index and its SHA256SUMS (which must list every file
    of the set), any other set against its SHA256SUMS; every vector is read end to end.

    Exit status: 0 when it verifies, 1 when it does not.
    """
    if path is None:
        _verify_installed()
    try:
        root, installed = resolve_vectors(path)
    except VectorSetError as e:
        click.echo(f"error: {e}")
        sys.exit(1)
    if installed is not None:
        sys.exit(0 if _verify_one(installed) else 1)
    if root.is_dir() and (root / MANIFEST_NAME).is_file():
        try:
            rep = verify_corpus(root, decode=decode, model=model)
        except DredconfError as e:
            _fail(e)
        for line in rep.lines():
            click.echo(line)
        if rep.ok:
            click.echo(f"{path}: matches its manifest" + (" (expectations re-decoded by the reference)" if decode else ""))
        sys.exit(0 if rep.ok else 1)
    try:
        vset = load_vector_set(root)
    except VectorSetError as e:
        click.echo(f"error: {e}")
        sys.exit(1)
    sums = (f"{len(vset.sums.checked)} files match its SHA256SUMS" if vset.sums is not None
            else "no SHA256SUMS to check hashes against")
    click.echo(f"{path}: {sums}; {_kinds(vset)}: every file read end to end")
    sys.exit(0)


def _kinds(vset: VectorSet) -> str:
    return ", ".join(counted(sum(v.kind == k for v in vset.vectors), k) for k in vset.kinds())


def _installed() -> list[InstalledSet]:
    """The installed sets; none installed, or a broken index, ends the command (exit 1)."""
    try:
        sets = installed_sets()
    except VectorSetError as e:
        click.echo(f"error: {e}")
        sys.exit(1)
    if not sets:
        click.echo(f"error: no vector set installed ({INSTALL})")
        sys.exit(1)
    return sets


def _verify_one(s: InstalledSet) -> bool:
    try:
        vset = load_installed(s)
    except VectorSetError as e:
        click.echo(f"{s.name}: error: {e}")
        return False
    click.echo(f"{s.name}: SHA256SUMS {s.sha256sums[:16]}... as the index says, listing every file of the set; "
               f"{len(vset.sums.checked)} files match it; {_kinds(vset)}: every file read end to end")
    return True


def _verify_installed() -> None:
    sets = _installed()
    ok = [_verify_one(s) for s in sets]
    click.echo(f"{sum(ok)} of {len(sets)} installed sets verify ({sets_dir()})")
    sys.exit(0 if all(ok) else 1)


@vectors.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--model", help=MODEL_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the markdown there instead of stdout.")
@click.option("--strict", is_flag=True, help="Exit 1 when a required class has no vector.")
def coverage(directory, model, output, strict):
    """Print (markdown) each syntax element and value class with the number of vectors exercising it."""
    from .coverage import compute_coverage

    try:
        m = load_manifest(directory)
        table = compute_coverage(directory, model)
    except (DredconfError, ManifestError) as e:
        _fail(e)
    text = table.markdown(f"Corpus coverage (seed {m['seed']}, generator {m['generator']['version']})")
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    empty = table.empty_cells()
    for cell in empty:
        click.echo(f"empty: {cell}", err=True)
    sys.exit(1 if strict and empty else 0)


@vectors.command()
@click.argument("packets", type=click.IntRange(min=2))
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Pattern seed.")
@click.option("--rate", type=click.FloatRange(0, 1, max_open=True), default=0.2, show_default=True,
              help="Long-run fraction of packets lost.")
@click.option("--burst", type=click.FloatRange(min=1), default=3.0, show_default=True,
              help="Mean burst length, in packets.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the pattern there instead of stdout.")
def losses(packets, seed, rate, burst, output):
    """Write a seeded Gilbert-Elliott loss pattern for PACKETS packets in opus_demo's -lossfile format (one 0/1 per
    packet; the first and the last are never lost)."""
    try:
        flags = gilbert_elliott(packets, seed=seed, rate=rate, burst=burst)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    text = loss_text(flags)
    if output:
        Path(output).write_text(text, encoding="ascii")
        click.echo(f"{output}: {packets} packets, {sum(flags)} lost ({100 * sum(flags) / packets:.1f} %), seed {seed}",
                   err=True)
    else:
        click.echo(text, nl=False)


@vectors.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--decoder", "-d", required=True, metavar="cmd:TEMPLATE",
              help="A trusted whole decoder: cmd:TEMPLATE with {input}, {loss} and {output}, e.g. "
                   "'cmd:opus_demo -d 16000 1 -lossfile {loss} {input} {output}'.")
@click.option("--streams", required=True, type=click.Path(exists=True, file_okay=False), help="Directory of X.bit.")
@click.option("--losses", "losses_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Directory of X.loss (one per stream to capture).")
@click.option("--thresholds", nargs=3, type=click.FloatRange(min=0, min_open=True), default=(0.25, 1.0, 0.15),
              show_default=True, metavar="E4 E16 P", help="Thresholds the set is to be judged at (recorded).")
def capture(out, decoder, streams, losses_dir, thresholds):
    """Record an integration set: run a trusted decoder on every stream with a loss pattern and keep its output as
    the expectation, with a SHA256SUMS and capture.json (hashes, decoder, its reported version, thresholds)."""
    # the capture runs a decoder through the conformance adapters: loaded only for this command
    from dredconf.conformance.adapters import AdapterError
    from dredconf.conformance.audio_metric import AudioThresholds

    from .capture import CaptureError, capture as run_capture

    if not decoder.startswith("cmd:"):
        raise click.BadParameter("a capture runs a command: cmd:TEMPLATE", param_hint="--decoder")
    try:
        m = run_capture(decoder[4:], Path(streams), Path(losses_dir), Path(out), thresholds=AudioThresholds(*thresholds))
    except AdapterError as e:
        raise click.BadParameter(str(e), param_hint="--decoder") from None
    except CaptureError as e:
        _fail(e)
    streams_n = sum(1 for f in m["files"] if f["path"].endswith(".bit"))
    click.echo(f"{out}: {streams_n} streams captured with {decoder[4:]!r} ({m['decoder_reported'] or 'no version reported'})")


@vectors.command("list")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--flag", "flags", multiple=True, help="Only vectors carrying this flag (repeatable: all of them).")
@click.option("--result", type=click.Choice(["valid", "invalid", "acceptable"]), help="Only this result.")
@click.option("--json", "as_json", is_flag=True, help="The installed sets as JSON.")
def list_vectors(directory, flags, result, as_json):
    """With no DIRECTORY, the installed vector sets: name, kind, what each holds, where it comes from and the
    SHA-256 of its SHA256SUMS. With DIRECTORY, a generated corpus's vector ids (stream, packet, result, comment).

    Exit status: 1 when no set is installed or one is broken (a file missing or changed).
    """
    if directory is None:
        if flags or result:
            raise click.UsageError("--flag and --result filter a corpus's vectors: give its DIRECTORY")
        _list_installed(as_json)
    try:
        m = load_manifest(directory)
    except ManifestError as e:
        _fail(e)
    for v in m["vectors"]:
        if result and v["result"] != result:
            continue
        if any(f not in v["flags"] for f in flags):
            continue
        click.echo(f"{v['id']}\t{v['stream']}#{v['packet']}\t{v['result']}\t{v['comment']}")


def _list_installed(as_json: bool) -> None:
    sets, rows, broken = _installed(), [], 0
    for s in sets:
        try:
            held = size(load_installed(s, validate=False))
        except VectorSetError as e:
            held, broken = f"error: {e}", broken + 1
        rows.append({"name": s.name, "kind": s.kind, "holds": held, "source": s.source, "sha256sums": s.sha256sums,
                     "path": str(s.path)})
    if as_json:
        click.echo(json.dumps({"distribution": DISTRIBUTION, "sets": rows}, indent=1))
    else:
        from importlib.metadata import PackageNotFoundError, version

        try:
            dist = f"{DISTRIBUTION} {version(DISTRIBUTION)}"
        except PackageNotFoundError:
            dist = DISTRIBUTION
        click.echo(f"{len(sets)} vector sets installed ({dist}: {sets_dir()})")
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            click.echo(f"{r['name']:<{width}}  {r['kind']:<11}  {r['holds']}")
            click.echo(f"{'':<{width}}  {r['source']}; SHA256SUMS {r['sha256sums']}")
    sys.exit(1 if broken else 0)


@vectors.command("export-standalone")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--features", is_flag=True, help="Also write OUT's _dec.f32: reference RDOVAE features, fargan_demo layout.")
@click.option("--model", help=MODEL_HELP)
def export_standalone_cmd(directory, out, features, model):
    """Write the corpus's DRED vectors as libopus standalone records (fargan_demo -dred-decoding input)."""
    from .standalone import export_standalone

    try:
        info = export_standalone(directory, out, model=model, features=features)
    except (DredconfError, ValueError) as e:
        _fail(e)
    click.echo(f"{out}: {info['count']} records; {out}.json lists what each holds"
               + (f"; features in {info['features']}" if "features" in info else ""))


@vectors.command("read-standalone")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Decode every record's integers and print JSON.")
@click.option("--model", help=MODEL_HELP)
def read_standalone_cmd(file, as_json, model):
    """Show the records of a libopus standalone feature-decoder file (e.g. vector_dred.bit)."""
    from .standalone import decode_record

    try:
        records = read_standalone(Path(file).read_bytes())
    except DredconfError as e:
        _fail(e)
    if not as_json:
        for i, r in enumerate(records):
            notes = "; ".join(check_record(r))
            click.echo(f"{i}: q0 {r.q0}, {r.nb_chunks} chunks ({r.nb_latents} latents), {len(r.data)} bytes"
                       + (f"  [{notes}]" if notes else ""))
        click.echo(f"{len(records)} records")
        return
    from dredconf.reference.model import load_model

    stats = load_model(model, parts=("stats",)).stats
    out = []
    for r in records:
        p = decode_record(r, stats)
        out.append({"q0": r.q0, "nb_chunks": r.nb_chunks, "nb_bytes": len(r.data), "bits": p.bits_total,
                    "state": p.state, "latents": p.latents})
    click.echo(json.dumps({"records": out}, separators=(",", ":")))


@vectors.command("to-ogg")
@click.argument("stream", type=click.Path(exists=True, dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--channels", type=click.IntRange(1, 2), default=1, show_default=True)
def to_ogg(stream, out, channels):
    """Wrap a libopus test-tool stream's packets in Ogg Opus (RFC 7845)."""
    packets = []
    for rec in read_stream(Path(stream).read_bytes()):
        if isinstance(rec, StreamError):
            _fail(rec)
        packets.append(rec.packet)
    Path(out).write_bytes(write_ogg_opus(packets, channels=channels))
    click.echo(f"{out}: {len(packets)} packets")


@vectors.command("from-ogg")
@click.argument("opus_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
def from_ogg(opus_file, out):
    """Extract an Ogg Opus file's packets into a libopus test-tool stream (final range 0)."""
    try:
        s = parse_ogg_opus(Path(opus_file).read_bytes())
    except DredconfError as e:
        _fail(e)
    Path(out).write_bytes(write_stream(s.packets))
    click.echo(f"{out}: {len(s.packets)} packets ({s.head.channels} channel(s), pre-skip {s.head.pre_skip}, "
               f"vendor {s.vendor!r})")
