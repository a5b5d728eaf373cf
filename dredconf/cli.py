"""The ``dredconf`` command line: inspect, decode, compare, model (check and vectors plug in below)."""
from __future__ import annotations

import importlib
import itertools
import json
import sys
from pathlib import Path

import click

from dredconf.errors import DredconfError, StreamError
from dredconf.inputs import MODEL_HELP, POSITIVE, BadInput, read_input, writable_path



def _decoder(model: str | None, features: bool, arith: str | None = None):
    from dredconf.reference.decoder import ReferenceDecoder

    try:
        return ReferenceDecoder(model, features=features, arith=arith)
    except DredconfError as e:
        raise click.ClickException(str(e)) from None


def _results(decoder, data: bytes, raw: bool, packet: int | None, status: dict):
    """Decode results in stream order, one at a time, so memory does not grow with the stream; each packet's
    errors and the stream error go to stderr as they come (``status["broken"]``: the stream's framing broke)."""
    records = [decoder.decode_packet(data, 0)] if raw else decoder.decode_records(data)
    for r in records:
        if isinstance(r, StreamError):
            click.echo(f"error: {r}", err=True)
            status["broken"] = True
            continue
        if packet is None or r.index == packet:
            for e in r.errors:
                click.echo(f"error: {e}", err=True)
            yield r


def _selected(decoder, data: bytes, raw: bool, packet: int | None):
    """The results to show (an iterator) and the status they fill; ``--packet N`` is found before any output."""
    status = {"broken": False}
    results = _results(decoder, data, raw, packet, status)
    if packet is not None:
        results = list(results)
        if not results:
            raise click.ClickException(f"no packet {packet} in the input")
    return results, status


#: ``json.dumps(obj, separators=(",", ":"))``, its encoder made once; records hold no cycles to look for.
_encode_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
#: Records ``_echo_json`` encodes and writes together.
JSON_CHUNK = 64


def _echo_json(records) -> None:
    """``{"packets": [...]}`` written ``JSON_CHUNK`` records at a time (the same bytes as one json.dumps of the
    whole list; memory does not grow with the stream)."""
    click.echo('{"packets":[', nl=False)
    records, sep = iter(records), ""
    while chunk := list(itertools.islice(records, JSON_CHUNK)):
        click.echo(sep + _encode_json(chunk)[1:-1], nl=False)  # the chunk's records without the list's brackets
        sep = ","
    click.echo("]}")


class _Commands(click.Group):
    """The command line: the commands below, and those of the other packages, imported only when named (so that
    ``inspect`` does not pay for ``check``'s imports at every start)."""

    ELSEWHERE = {"check": "dredconf.conformance.cli", "vectors": "dredconf.vectors.cli", "synth": "dredconf.synth",
                 "spec": "dredconf.authoring.cli"}  # command name -> the module defining it under that name

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.ELSEWHERE])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.ELSEWHERE:
            return getattr(importlib.import_module(self.ELSEWHERE[name]), name)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="opus-dred-conformance")
def main() -> None:
    """Conformance and reference bitstream suite for Opus DRED (libopus 1.6.1, DRED version 12)."""


@main.command()
@click.argument("file", required=False)
@click.option("--hex", "hex_packet", metavar="PACKET", help="Inspect one raw packet given in hex instead of a stream file.")
@click.option("--packet", "-p", type=int, help="Show only packet N, in full detail (bit positions, state, latents).")
@click.option("--json", "as_json", is_flag=True, help="Print the ground-truth JSON schema ({\"packets\": [...]}, no features).")
@click.option("--loss", "loss_file", type=click.Path(exists=True, dir_okay=False),
              help="A loss pattern (opus_demo -lossfile: one 0/1 per packet): show each burst against what the "
                   "next arriving packet's DRED covers.")
@click.option("--model", help=MODEL_HELP)
def inspect(file, hex_packet, packet, as_json, loss_file, model):
    """Show an Opus stream (libopus test-tool format, or Ogg Opus) or one packet field by field."""
    if loss_file is not None and (hex_packet is not None or packet is not None):
        raise click.UsageError("--loss reads a whole stream file: not with --hex or --packet")
    data, raw = read_input(file, hex_packet)
    decoder = _decoder(model, features=False)
    if loss_file is not None:
        return _loss_view(decoder, data, Path(loss_file), as_json)  # exits with the view's status
    results, status = _selected(decoder, data, raw, packet)
    if as_json:
        _echo_json(r.to_json(with_features=False) for r in results)
    else:
        from dredconf.view import render

        render(results, detail=packet is not None)
    sys.exit(1 if status["broken"] else 0)


def _loss_view(decoder, data: bytes, loss_file: Path, as_json: bool) -> None:
    """``inspect --loss``: each loss burst, the gap, and how far the arriving packet's DRED reaches back."""
    from dredconf.reference.loss import dred_reach
    from dredconf.vectors.setfiles import VectorSetError, read_loss

    results = []
    for r in decoder.decode_records(data):
        if isinstance(r, StreamError):
            raise click.ClickException(str(r))
        results.append(r)
    try:
        loss = read_loss(loss_file, len(results))
    except VectorSetError as e:
        raise BadInput(str(e)) from None
    durations = [r.packet.duration_samples / 48 if r.packet is not None else 0.0 for r in results]
    dred = [(r.payload.dred_offset, r.payload.latent_count) if r.payload is not None else None for r in results]
    bursts = dred_reach(durations, loss, dred)
    if as_json:
        click.echo(json.dumps({"bursts": [_burst_json(b) for b in bursts],
                               "lost_ms": sum(b.gap_ms for b in bursts),
                               "covered_ms": sum(b.covered_ms for b in bursts)}))
    else:
        from dredconf.view import render_bursts

        render_bursts(bursts, len(results))
    sys.exit(0)


def _burst_json(b) -> dict:
    full, part, none = b.reached()
    return {"first": b.first, "lost": b.lost, "packet_ms": b.packet_ms, "gap_ms": b.gap_ms, "arriving": b.arriving,
            "dred_offset": b.dred_offset, "latent_count": b.latent_count, "reach_ms": b.reach_ms,
            "covered_ms": b.covered_ms, "reached": full, "partly_reached": part, "not_reached": none}


@main.command()
@click.argument("file", required=False)
@click.option("--hex", "hex_packet", metavar="PACKET", help="Decode one raw packet given in hex instead of a stream file.")
@click.option("--packet", "-p", type=int, help="Decode only packet N.")
@click.option("--json", "as_json", is_flag=True, help="Print the ground-truth JSON schema, with features.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write features as raw float32 rows (20 each), packet after packet.")
@click.option("--model", help=MODEL_HELP)
@click.option("--arith", type=click.Choice(["exact", "softfloat"]), default="exact", show_default=True,
              help="Both give libopus's float32 features bit for bit; softfloat: integer arithmetic only.")
def decode(file, hex_packet, packet, as_json, output, model, arith):
    """Decode DRED features (libopus's RDOVAE, bit for bit) for every packet that carries DRED: a summary per
    packet, --json for the records with features, -o for the raw float32 rows."""

    writable_path(output, "-o/--output")
    data, raw = read_input(file, hex_packet)
    decoder = _decoder(model, features=True, arith=arith)
    results, status = _selected(decoder, data, raw, packet)
    rows = open(output, "wb") if output else None  # written packet by packet, as the JSON
    try:
        def records():
            for r in results:
                if rows is not None and r.features is not None:
                    rows.write(r.features.astype("<f4").tobytes())
                yield r.to_json(with_features=True)

        if as_json:
            _echo_json(records())
        elif output:
            for _ in records():
                pass
        else:
            from dredconf.view import render_features

            render_features(results)
    finally:
        if rows is not None:
            rows.close()
    sys.exit(1 if status["broken"] else 0)




@main.command()
@click.option("--features", "mode", flag_value="features", default=True,
              help="Compare raw float32 feature files (dred_compare -features), the default.")
@click.option("--audio", "mode", flag_value="audio",
              help="Compare 16 kHz mono PCM (dred_compare -audio): raw s16le .sw/.raw/.pcm, or WAV/FLAC.")
@click.argument("reference", type=click.Path(exists=True, dir_okay=False))
@click.argument("test", type=click.Path(exists=True, dir_okay=False))
@click.option("--tot", type=POSITIVE, default=None, help="Features: threshold for tot (default: libopus's 0.5).")
@click.option("--max", "max_", type=POSITIVE, default=None, help="Features: threshold for max (default: libopus's 0.15).")
@click.option("--pitch", type=POSITIVE, default=None, help="Features: threshold for pitch (default: libopus's 0.02).")
@click.option("--thresholds", nargs=3, type=POSITIVE, default=None, metavar="E4 E16 P",
              help="Audio: thresholds for err4, err16, pitch (default: libopus's 0.25 1.0 0.15).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"err4", "err16", "pitch", "pass"} (audio) or {"tot", "max", "pitch", "pass"} (features).')
def compare(mode, reference, test, tot, max_, pitch, thresholds, as_json):
    """Compare TEST with REFERENCE as libopus's dred_compare does (REFERENCE first): -features or -audio.

    Exit status: 0 when every error is within its threshold, 1 when not (or an error is NaN), 2 when the files
    cannot be compared (the message says why, and what to trim when the lengths differ).
    """
    if mode == "audio":
        _compare_audio(reference, test, thresholds, as_json)
    _compare_features(reference, test, tot, max_, pitch, as_json)


def _verdict(ok: bool, figures: dict, as_json: bool, text: str) -> None:
    click.echo(json.dumps({**figures, "pass": ok}) if as_json else f"{text}\n{'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


def _compare_audio(reference: str, test: str, thresholds, as_json: bool) -> None:
    from dredconf.conformance import audio_metric as am

    try:
        ref, dut = am.read_pair(reference, test)
        e = am.audio_errors(ref, dut)
    except am.AudioInputError as err:
        raise BadInput(str(err)) from None
    limits = am.AudioThresholds(*thresholds) if thresholds else am.AudioThresholds()
    from dredconf.conformance.results import AudioScore

    score = AudioScore.of(e)
    figures = {k: (None if v != v else v) for k, v in (("err4", e.err4), ("err16", e.err16), ("pitch", e.pitch))}
    _verdict(score.passes(limits, unvoiced_ok=False), figures, as_json,
             f"{score.describe(limits, unvoiced_ok=False)} over {e.frames} frames"
             + ("; no voiced frame: the pitch error is NaN, and dred_compare fails it" if not e.pitch_count else ""))


def _compare_features(reference: str, test: str, tot, max_, pitch, as_json: bool) -> None:
    import numpy as np

    from dredconf.conformance import feature_metric as fm

    try:
        ref, dut = fm.read_f32_features(reference), fm.read_f32_features(test)
    except (ValueError, OSError) as e:
        raise BadInput(str(e)) from None
    if ref.shape != dut.shape:
        raise BadInput(f"{test}: {dut.shape[0]} rows, expected {ref.shape[0]} as in {reference}")
    if not len(ref):
        raise BadInput(f"{reference}: no rows to compare")
    bad = np.argwhere(~np.isfinite(dut))
    if len(bad):
        raise BadInput(f"{test}: row {bad[0][0]}, feature {bad[0][1]} is {dut[tuple(bad[0])]} (not a finite "
                       "number): the metric would be NaN")
    score = fm.feature_score(ref, dut)
    limits = fm.FeatureThresholds().replace(tot=tot, max=max_, pitch=pitch)
    figures = {k: (None if v != v else v) for k, v in (("tot", score.tot), ("max", score.max), ("pitch", score.pitch))}
    _verdict(score.passes(limits, unvoiced_ok=False), figures, as_json,
             score.describe(limits, unvoiced_ok=False) + f" over {score.rows} rows"
             + ("; no row has pitch correlation > 0.2: the pitch error is NaN, and dred_compare fails it"
                if not score.pitch_rows else ""))


@main.group()
def model():
    """The DRED model files: where they are, what they hold, how to get them."""


@model.command("info")
@click.option("--model", "model_path", help=MODEL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def model_info(model_path, as_json):
    """Print what was loaded: path, file hashes, dimensions."""
    from dredconf.reference.model import MODEL_SHA256, load_model

    try:
        m = load_model(model_path, parts=("stats", "decoder"))
    except DredconfError as e:
        raise click.ClickException(str(e)) from None
    from dredconf.reference.rdovae import platform_check

    info = m.info()
    info["model_id_is"] = ("SHA-256 of what `sha256sum dred_rdovae_dec_data.c dred_rdovae_stats_data.c` prints: the "
                           "normative decoder weights and entropy tables, as loaded")
    info["libopus_model"] = {"id": MODEL_SHA256[:8], "sha256": MODEL_SHA256,
                             "is": "SHA-256 of the model tarball libopus 1.6.1 pins (opus_data-<sha256>.tar.gz, "
                                   "dnn/download_model.sh): the README's a5177ec6"}
    check = platform_check()   # the C core's self-check: whether "exact" runs on the hardware here
    info["exact arithmetic"] = {"hardware float": check["hardware_float"], "kernels": check["simd"],
                                "self-check failures": "; ".join(check["failures"]) or "none"}
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    from dredconf.view import render_model_info

    render_model_info(info)


@model.command("fetch")
@click.option("--url", help="Where to download the tarball from (default: the URL libopus's download_model.sh uses).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache directory (default: the user cache).")
@click.option("--sha256", help="Expected SHA-256 of the tarball (default: the one libopus 1.6.1 pins).")
@click.option("--if-missing", is_flag=True,
              help="Download nothing when a model is found already ($DREDCONF_MODEL, the cache, ../shared/model): "
                   "print where it is.")
def model_fetch(url, cache_dir, sha256, if_missing):
    """Download libopus's pinned model tarball into the cache and verify its SHA-256."""
    from dredconf.reference.model import MODEL_SHA256, fetch_model, resolve_model_dir

    if if_missing:
        try:
            found = resolve_model_dir(None)
        except DredconfError:
            found = None
        if found is not None:
            click.echo(f"{found}: a model is there already, nothing fetched")
            return

    try:
        path = fetch_model(url, Path(cache_dir) if cache_dir else None, sha256=sha256 or MODEL_SHA256)
    except DredconfError as e:
        raise click.ClickException(str(e)) from None
    click.echo(str(path))
