"""Runs a Python decoder callable as a DUT process: ``python -m dredconf.conformance.python_dut MODULE:CALLABLE IN OUT``.

``--check MODULE:CALLABLE`` only loads the callable (exit 2 with the reason on
standard error when it cannot): the runner's preflight. ``--reference IN OUT``
decodes a whole stream with the reference decoder (its DRED payloads in
batches). ``--standalone IN OUT`` decodes libopus's standalone records with the
reference RDOVAE and writes features as ``fargan_demo -dred-decoding`` does;
``--synth IN OUT`` synthesises a features file with the reference FARGAN and
writes 16 kHz s16le as ``fargan_demo -fargan-synthesis`` does.

This is how ``python:``, ``reference`` and ``mutant:`` decoders are run, so
they get the time limit and crash handling of any command (see
:mod:`dredconf.conformance.adapters` for the contract). It reads the stream
(libopus test-tool format) with ``dredconf.spec.read_stream``, calls the
callable once per packet and writes ``{"packets": [...]}`` to OUT. An
exception becomes ``{"index": i, "error": "..."}`` for that packet (with the
traceback on standard error); a stream error ends the stream and is printed
on standard error.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

_reference = None


def _reference_decoder():
    global _reference
    if _reference is None:
        from dredconf.reference.decoder import ReferenceDecoder

        _reference = ReferenceDecoder(os.environ.get("DREDCONF_MODEL") or None, features=True,
                                      arith=os.environ.get("DREDCONF_ARITH") or None)
    return _reference


def standalone_features(data: bytes) -> bytes:
    """The reference's features for libopus's standalone records, laid out as fargan_demo writes them."""
    from dredconf.reference.payload import decode_dred_standalone
    from dredconf.spec.standalone import read_standalone

    dec = _reference_decoder()
    out = []
    for r in read_standalone(data):
        p = decode_dred_standalone(r.data, r.q0, r.nb_latents, dec.model.stats)
        out.append(dec.rdovae.decode_standalone(r.q0, p.state, p.latents).astype("<f4").tobytes())
    return b"".join(out)


def synth_pcm(data: bytes) -> bytes:
    """The reference's FARGAN synthesis of a raw float32 features file, as fargan_demo writes it (model from
    ``$DREDCONF_MODEL``, arithmetic from ``$DREDCONF_ARITH``)."""
    import numpy as np

    from dredconf.reference.fargan import FarganSynthesizer

    vocoder = FarganSynthesizer(os.environ.get("DREDCONF_MODEL") or None,
                                arith=os.environ.get("DREDCONF_ARITH") or "exact")
    return vocoder.synthesize(np.frombuffer(data, dtype="<f4")).astype("<i2").tobytes()


def load_callable(target: str) -> Callable[[bytes, int], Any]:
    """``module:name`` → the callable; a class is instantiated once and its ``decode_packet`` used."""
    module_name, sep, attr = target.partition(":")
    if not sep:
        raise ValueError(f"{target!r}: want MODULE:CALLABLE")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, type):
        obj = obj()
        obj = getattr(obj, "decode_packet", obj)
    elif not callable(obj) and hasattr(obj, "decode_packet"):
        obj = obj.decode_packet
    if not callable(obj):
        raise TypeError(f"{target!r} is not callable")
    return obj


def as_record(result: Any) -> dict:
    if isinstance(result, dict):
        return result
    if hasattr(result, "to_json"):
        try:
            return result.to_json(with_features=True)
        except TypeError:
            return result.to_json()
    raise TypeError(f"the decoder returned {type(result).__name__}, expected a dict")


def decode_file(fn: Callable[[bytes, int], Any], data: bytes) -> list[dict]:
    from dredconf.errors import StreamError
    from dredconf.spec import read_stream

    records = []
    for rec in read_stream(data):
        if isinstance(rec, StreamError):
            print(f"stream error: {rec}", file=sys.stderr)
            break
        try:
            out = dict(as_record(fn(bytes(rec.packet), rec.index)))
            out.setdefault("index", rec.index)
        except Exception as e:  # noqa: BLE001 - the DUT's bug becomes its verdict
            traceback.print_exc()
            out = {"index": rec.index, "error": f"{type(e).__name__}: {e}"}
        records.append(out)
    return records


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--check":
        try:
            load_callable(args[1])
        except Exception as e:  # noqa: BLE001 - any failure to load is the reason, said in one line
            print(f"cannot load {args[1]}: {type(e).__name__}: {e}", file=sys.stderr)
            return 2
        return 0
    if len(args) == 3 and args[0] == "--standalone":
        Path(args[2]).write_bytes(standalone_features(Path(args[1]).read_bytes()))
        return 0
    if len(args) == 3 and args[0] == "--synth":
        Path(args[2]).write_bytes(synth_pcm(Path(args[1]).read_bytes()))
        return 0
    if len(args) == 3 and args[0] == "--reference":
        # The whole stream at once: the reference decodes its DRED payloads in batches, not packet by packet.
        with open(args[2], "w", encoding="utf-8") as f:
            json.dump({"packets": _reference_decoder().decode_stream(Path(args[1]).read_bytes())["packets"]}, f,
                      separators=(",", ":"))
        return 0
    if len(args) != 3:
        print("usage: python -m dredconf.conformance.python_dut MODULE:CALLABLE INPUT OUTPUT", file=sys.stderr)
        return 2
    target, inp, outp = args
    fn = load_callable(target)
    records = decode_file(fn, Path(inp).read_bytes())
    with open(outp, "w", encoding="utf-8") as f:
        json.dump({"packets": records}, f, separators=(",", ":"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
