"""The ``dredconf`` command line: inspect, decode, compare, model (check and vectors plug in below)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dredconf.errors import DredconfError, StreamError

MODEL_HELP = "Model directory or opus_data-*.tar.gz (else $DREDCONF_MODEL, the user cache, ../shared/model/opus-1.6.1)."


def _read_input(file: str | None, hex_packet: str | None) -> tuple[bytes, bool]:
    """The bytes to read and whether they are one raw packet (``--hex``) rather than a stream file."""
    if hex_packet is not None:
        try:
            return bytes.fromhex(hex_packet.replace(":", "")), True
        except ValueError as e:
            raise click.BadParameter(f"not hex: {e}", param_hint="--hex") from None
    if file is None:
        raise click.UsageError("give a stream FILE or --hex PACKET")
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as e:
        raise click.FileError(file, hint=e.strerror) from None
    from dredconf.spec.ogg import is_ogg, read_ogg_opus

    if is_ogg(data):  # an Ogg Opus file: its packets, numbered from 0 (byte offsets then refer to the packets)
        from dredconf.spec import write_stream

        try:
            data = write_stream(read_ogg_opus(data))
        except StreamError as e:
            raise click.ClickException(f"{file}: {e}") from None
    return data, False


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


def _echo_json(records) -> None:
    """``{"packets": [...]}`` written record by record (the same bytes as one json.dumps of the whole list)."""
    click.echo('{"packets":[', nl=False)
    for i, rec in enumerate(records):
        click.echo(("," if i else "") + json.dumps(rec, separators=(",", ":")), nl=False)
    click.echo("]}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="opus-dred-conformance")
def main() -> None:
    """Conformance and reference bitstream suite for Opus DRED (libopus 1.6.1, DRED version 12)."""


@main.command()
@click.argument("file", required=False)
@click.option("--hex", "hex_packet", metavar="PACKET", help="Inspect one raw packet given in hex instead of a stream file.")
@click.option("--packet", "-p", type=int, help="Show only packet N, in full detail (bit positions, state, latents).")
@click.option("--json", "as_json", is_flag=True, help="Print the ground-truth JSON schema ({\"packets\": [...]}, no features).")
@click.option("--model", help=MODEL_HELP)
def inspect(file, hex_packet, packet, as_json, model):
    """Show an Opus stream (libopus test-tool format, or Ogg Opus) or one packet field by field."""
    data, raw = _read_input(file, hex_packet)
    decoder = _decoder(model, features=False)
    results, status = _selected(decoder, data, raw, packet)
    if as_json:
        _echo_json(r.to_json(with_features=False) for r in results)
    else:
        from dredconf.view import render

        render(results, detail=packet is not None)
    sys.exit(1 if status["broken"] else 0)


@main.command()
@click.argument("file", required=False)
@click.option("--hex", "hex_packet", metavar="PACKET", help="Decode one raw packet given in hex instead of a stream file.")
@click.option("--packet", "-p", type=int, help="Decode only packet N.")
@click.option("--json", "as_json", is_flag=True, help="Print the ground-truth JSON schema, with features.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write features as raw float32 rows (20 each), packet after packet.")
@click.option("--model", help=MODEL_HELP)
@click.option("--arith", type=click.Choice(["exact", "fixed"]), default="exact", show_default=True,
              help="exact: libopus's float32 features bit for bit (integer soft-float); fixed: the faster fixed-point path.")
def decode(file, hex_packet, packet, as_json, output, model, arith):
    """Decode DRED features (integer-only RDOVAE) for every packet that carries DRED."""
    data, raw = _read_input(file, hex_packet)
    decoder = _decoder(model, features=True, arith=arith)
    results, status = _selected(decoder, data, raw, packet)
    rows = open(output, "wb") if output else None  # written packet by packet, as the JSON
    try:
        def records():
            for r in results:
                if rows is not None and r.features is not None:
                    rows.write(r.features.astype("<f4").tobytes())
                yield r.to_json(with_features=True)

        if as_json or not output:
            _echo_json(records())
        else:
            for _ in records():
                pass
    finally:
        if rows is not None:
            rows.close()
    sys.exit(1 if status["broken"] else 0)


@main.command()
@click.option("--features", "mode", flag_value="features", default=True, help="Compare feature files (dred_compare -features).")
@click.argument("reference", type=click.Path(exists=True, dir_okay=False))
@click.argument("test", type=click.Path(exists=True, dir_okay=False))
@click.option("--tot", type=float, default=None, help="Threshold for tot (default: libopus's 0.5).")
@click.option("--max", "max_", type=float, default=None, help="Threshold for max (default: libopus's 0.15).")
@click.option("--pitch", type=float, default=None, help="Threshold for pitch (default: libopus's 0.02).")
def compare(mode, reference, test, tot, max_, pitch):
    """Compare two raw float32 feature files with libopus's dred_compare -features metric."""
    from dredconf.conformance import metrics

    ref, dut = metrics.read_f32_features(reference), metrics.read_f32_features(test)
    if ref.shape != dut.shape:
        raise click.ClickException(f"{test}: {dut.shape[0]} rows, expected {ref.shape[0]} as in {reference}")
    err = metrics.feature_errors(ref, dut)
    limits = metrics.Thresholds.libopus().replace(tot=tot, max=max_, pitch=pitch)
    verdict = limits.judge(err)
    click.echo(f"tot {err.tot:.6f} (<= {limits.tot})  max {err.max:.6f} (<= {limits.max})  pitch {err.pitch:.6f} (<= {limits.pitch})")
    click.echo("PASS" if verdict else "FAIL")
    sys.exit(0 if verdict else 1)


@main.group()
def model():
    """The DRED model files: where they are, what they hold, how to get them."""


@model.command("info")
@click.option("--model", "model_path", help=MODEL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def model_info(model_path, as_json):
    """Print what was loaded: path, file hashes, dimensions."""
    from dredconf.reference.model import load_model

    try:
        m = load_model(model_path, parts=("stats", "decoder"))
    except DredconfError as e:
        raise click.ClickException(str(e)) from None
    info = m.info()
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    from dredconf.view import render_model_info

    render_model_info(info)


@model.command("fetch")
@click.option("--url", help="Where to download the tarball from (default: the URL libopus's download_model.sh uses).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache directory (default: the user cache).")
@click.option("--sha256", help="Expected SHA-256 of the tarball (default: the one libopus 1.6.1 pins).")
def model_fetch(url, cache_dir, sha256):
    """Download libopus's pinned model tarball into the cache and verify its SHA-256."""
    from dredconf.reference.model import MODEL_SHA256, fetch_model

    try:
        path = fetch_model(url, Path(cache_dir) if cache_dir else None, sha256=sha256 or MODEL_SHA256)
    except DredconfError as e:
        raise click.ClickException(str(e)) from None
    click.echo(str(path))


from dredconf.conformance.cli import check  # noqa: E402

main.add_command(check)

from dredconf.vectors.cli import vectors  # noqa: E402

main.add_command(vectors)
