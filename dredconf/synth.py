"""``dredconf synth``: speech from features with the reference FARGAN vocoder (libopus's fargan_demo, bit for bit).

Two inputs: a features file (20 float32 per 10 ms frame, what ``fargan_demo -features`` and ``dredconf decode
-o`` write), or an Opus stream whose DRED is decoded first: ``--packet N`` for one packet's redundancy,
``--all`` for every packet that carries DRED. Output by extension: raw s16le for .sw/.raw/.pcm, WAV or FLAC
through soundfile, all 16 kHz mono. Every input and output is checked before any synthesis.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import click
import numpy as np

from dredconf.errors import DredconfError, StreamError
from dredconf.inputs import MODEL_HELP, BadInput, writable_path

RAW = (".sw", ".raw", ".pcm")
SOUNDFILE = {".wav": "WAV", ".flac": "FLAC"}
FRAME_BYTES = 80  # 20 float32



def encode(pcm: np.ndarray, suffix: str) -> bytes:
    """16 kHz int16 samples as the bytes of a file with this extension."""
    if suffix in RAW:
        return pcm.astype("<i2").tobytes()
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, pcm, 16000, format=SOUNDFILE[suffix], subtype="PCM_16")
    return buf.getvalue()


def _suffix(path: str, option: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in RAW and suffix not in SOUNDFILE:
        raise click.BadParameter(f"{path}: say the format by the extension: {', '.join(RAW + tuple(SOUNDFILE))}",
                                 param_hint=option)
    return suffix


def _output_dir(path: str) -> Path:
    """--all's directory: made if missing, refused if it cannot take files."""
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise click.BadParameter(f"{path}: not a directory (--all writes one file per packet into it)",
                                 param_hint="-o/--output")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise click.BadParameter(f"{path}: cannot create the directory ({e.strerror})", param_hint="-o/--output") \
            from None
    if not os.access(d, os.W_OK):
        raise click.BadParameter(f"{path}: not writable", param_hint="-o/--output")
    return d


def read_features(path: str) -> np.ndarray:
    """A raw float32 features file as (frames, 20); BadInput for a missing, empty or ragged one."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror}") from None
    if not data:
        raise BadInput(f"{path}: empty: no frame of features (20 float32 each)")
    if len(data) % FRAME_BYTES:
        raise BadInput(f"{path}: {len(data)} bytes, not a whole number of {FRAME_BYTES}-byte frames "
                       f"(20 float32 each): {len(data) // FRAME_BYTES} whole frames and {len(data) % FRAME_BYTES} bytes over")
    return np.frombuffer(data, dtype="<f4").reshape(-1, 20)


def dred_features(path: str, packet: int | None, model, arith: str = "exact") -> list[tuple[int, np.ndarray]]:
    """(packet index, its DRED's features oldest first) for packet ``packet``, or for every packet with DRED."""
    from dredconf.inputs import read_input
    from dredconf.reference.decoder import ReferenceDecoder
    from dredconf.reference.rdovae import RdovaeDecoder

    data, _ = read_input(path, None)
    rdovae = RdovaeDecoder(model, arith=arith)
    found, seen = [], 0
    for r in ReferenceDecoder(model).decode_records(data):   # integers only: features for the chosen packets
        if isinstance(r, StreamError):
            if packet is None or packet >= seen:
                raise BadInput(f"{path}: {r}")
            break
        seen += 1
        if packet is not None and r.index != packet:
            continue
        if r.payload is not None and r.payload.latent_count > 0:
            found.append((r.index, rdovae.decode(r.payload)[::-1].copy()))   # fec_features order: newest first
        elif packet is not None:
            why = "no DRED extension" if r.payload is None else "a DRED with no latent"
            raise BadInput(f"{path}: packet {packet} carries {why}: nothing to synthesise")
        if packet is not None:
            break
    if packet is not None and not found:
        raise BadInput(f"{path}: no packet {packet} (the stream has {seen})")
    if not found:
        raise BadInput(f"{path}: no packet carries DRED")
    return found


def _written(path: Path, data: bytes, samples: int, packet: int | None) -> dict:
    path.write_bytes(data)
    d = {"path": str(path), "samples": samples, "seconds": samples / 16000, "sha256": hashlib.sha256(data).hexdigest()}
    return d if packet is None else {"packet": packet, **d}


@click.command()
@click.argument("input", metavar="FEATURES.f32|STREAM")
@click.option("-o", "--output", required=True,
              help="The file to write (.sw/.raw/.pcm raw s16le, .wav, .flac; 16 kHz mono), or with --all a directory.")
@click.option("--packet", "-p", type=click.IntRange(min=0), metavar="N",
              help="INPUT is an Opus stream: synthesise packet N's DRED (its features oldest first).")
@click.option("--all", "every", is_flag=True, help="INPUT is an Opus stream: one file per packet with DRED, into -o DIR.")
@click.option("--format", "fmt", type=click.Choice(["wav", "flac", "sw"]), default="wav", show_default=True,
              help="With --all: the files' format (packet-N.wav ...).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written: path, samples, seconds, sha256.")
@click.option("--model", help=MODEL_HELP)
@click.option("--arith", type=click.Choice(["exact", "softfloat"]), default="exact", show_default=True,
              help="Both give libopus's samples bit for bit; softfloat: integer arithmetic only.")
def synth(input, output, packet, every, fmt, as_json, model, arith):
    """Speech from features with libopus's FARGAN vocoder (fargan_demo -fargan-synthesis, bit for bit).

    FEATURES.f32: 20 float32 per 10 ms frame, oldest first; 160 samples at 16 kHz come out per frame. With
    --packet N or --all, INPUT is an Opus stream (libopus test-tool format or Ogg Opus) and the reference
    decodes each packet's DRED to features first: what that packet's redundancy sounds like.
    """
    from dredconf.reference.fargan import FarganSynthesizer
    from dredconf.reference.model import load_model

    if packet is not None and every:
        raise click.UsageError("give --packet N or --all, not both")
    stream = packet is not None or every
    if every:
        directory, suffix = _output_dir(output), f".{fmt}"
    else:
        writable_path(output, "-o/--output")
        suffix = _suffix(output, "-o/--output")
    if not stream and Path(input).suffix.lower() in (".bit", ".opus", ".ogg"):
        raise click.UsageError(f"{input} looks like an Opus stream: give --packet N or --all to synthesise its DRED")
    try:
        m = load_model(model, parts=("stats", "decoder", "fargan") if stream else ("fargan",))
        vocoder = FarganSynthesizer(m, arith=arith)
        jobs = dred_features(input, packet, m, arith) if stream else [(None, read_features(input))]
    except DredconfError as e:
        raise click.ClickException(str(e)) from None
    written = []
    for index, features in jobs:
        pcm = vocoder.synthesize(features)
        path = directory / f"packet-{index}{suffix}" if every else Path(output)
        written.append(_written(path, encode(pcm, suffix), pcm.size, index))
        if not as_json:
            w = written[-1]
            click.echo(f"{w['path']}: {w['samples']} samples, {w['seconds']:.2f} s at 16 kHz"
                       + (f" (packet {index}, {len(features)} frames of DRED features)" if index is not None else ""))
    if as_json:
        click.echo(json.dumps({"files": written} if every else written[0]))
