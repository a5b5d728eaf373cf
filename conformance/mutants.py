"""Mutants: the reference decoder with one rule broken the way a real implementation might break it.

The runner checks itself with them: each must be caught at its layer on the
shipped vectors (``tests/test_conformance_mutants.py``), while the honest
reference passes everything. Each is a ``python:`` DUT
(``dredconf check --decoder mutant:NAME``), run in its own process.

How they are built:

* post-processing the reference's record where that is exactly what the bug
  does (a decoder that reads ``extra_offset`` but forgets to apply it gets
  every other field right);
* re-decoding with a bent copy of the payload syntax where the bug
  desynchronises the range decoder: :func:`read_payload` reads a DRED payload
  with the C core's range decoder (``reference.rangecoder.RangeDecoder``) in the
  order of SPEC-NOTES §3, with the quantizer schedule and the Laplace-p0
  escape as parameters; unbent, it equals the C core (a test checks this);
* re-locating the DRED payload with ``spec`` (first vs last DRED extension).

``layer`` is where the runner must catch the mutant (None: it must *pass*:
the change is within the feature tolerance); ``failure`` is set for mutants
that crash or hang instead.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dredconf.conformance.verdicts import Layer
from dredconf.spec.dred import DQ_TABLE, dred_level

#: The packet index on which the crash and hang mutants misbehave (every shipped vector has it).
FAULT_PACKET = 5
#: Bound on escape draws, so a bent reader past the end of its bytes cannot spin forever.
MAX_ESCAPES = 1000


# ---------------------------------------------------------------------------
# A bendable DRED payload reader


level_libopus = dred_level  # libopus compute_quantizer: the honest schedule


def level_truncating(q0: int, dQ: int, qmax: int, k: int) -> int:
    """The schedule without the rounding term: (dQ_table[dQ]*k) >> 4."""
    return min(qmax, q0 + ((DQ_TABLE[dQ] * k) >> 4))


def laplace_p0(dec, p0: int, decay: int, escape: int = 7) -> int:
    """libopus ``ec_laplace_decode_p0`` on the C range decoder; ``escape`` is the symbol that continues the magnitude."""
    sign_icdf = [32768 - p0, (32768 - p0) // 2, 0]
    s = dec.icdf16(sign_icdf, 15)
    if s == 2:
        s = -1
    if s == 0:
        return 0
    icdf = [max(7, decay)]
    for i in range(1, 7):
        icdf.append(max(7 - i, (icdf[-1] * decay) >> 15))
    icdf.append(0)
    value = 1
    for _ in range(MAX_ESCAPES):
        v = dec.icdf16(icdf, 15)
        value += v
        if v != escape:
            break
    return s * value


def _values(dec, r, p0, laplace: Callable) -> list[int]:
    return [0 if int(ri) == 0 or int(pi) == 255 else laplace(dec, int(pi) << 7, int(ri) << 7) for ri, pi in zip(r, p0)]


def read_payload(payload: bytes, frame_offset: int, stats: Any, *, level: Callable = level_libopus,
                 laplace: Callable = laplace_p0, max_latents: int = 26):
    """A DRED payload's integers (``reference.payload.DredPayload``), read in Python with the C range decoder."""
    from dredconf.reference.payload import DredPayload
    from dredconf.reference.rangecoder import RangeDecoder

    data = bytes(payload)
    dec = RangeDecoder(data)
    q0 = dec.uint(16)
    dQ = dec.uint(8)
    extra_flag = bool(dec.uint(2))
    extra = dec.uint(256) if extra_flag else 0
    offset = dec.uint(32)
    qmax = 15
    if q0 < 14 and dQ > 0:
        n = 14 - q0
        s = dec.decode(2 * n)
        if s >= n:
            qmax = q0 + 1 + (s - n)
            dec.update(s, s + 1, 2 * n)
        else:
            dec.update(0, n, 2 * n)
    state = _values(dec, stats.state_r[q0], stats.state_p0[q0], laplace)
    levels, latents = [], []
    for k in range(max_latents):
        if 8 * len(data) - dec.tell() <= 7:
            break
        q = level(q0, dQ, qmax, k)
        levels.append(q)
        latents.append(_values(dec, stats.latent_r[q], stats.latent_p0[q], laplace))
    return DredPayload(q0=q0, dQ=dQ, extra_offset=extra, offset=offset, qmax=qmax,
                       dred_offset=16 - offset - 32 * extra + frame_offset, frame_offset=frame_offset,
                       latent_count=len(latents), levels=levels, state=state, latents=latents,
                       bits_total=8 * len(data), extra_flag=extra_flag)


# ---------------------------------------------------------------------------
# The mutants


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str  # what it breaks, in a few words
    layer: Layer | None  # where it must be caught; None: it must pass (within tolerance)
    failure: str | None = None  # "crash" / "timeout" instead of a layer
    #: Where the difference shows first, as the runner names it (a prefix of the departure's field).
    field: str | None = None
    #: The kind of vector it decodes: packet mutants are python: decoders; audio ones run as
    #: ``python -m dredconf.conformance.mutants NAME INPUT OUTPUT``.
    kind: str = "packets"

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_").replace(".", "_")


class _Base:
    """Shared machinery: one reference decoder (with features) per process."""

    def __init__(self, mutant: Mutant):
        self.mutant = mutant
        self._dec = None
        self._rdovae = None

    @property
    def decoder(self):
        if self._dec is None:
            from dredconf.reference.decoder import ReferenceDecoder

            self._dec = ReferenceDecoder(os.environ.get("DREDCONF_MODEL") or None, features=True)
        return self._dec

    def features_of(self, payload) -> list[list[float]]:
        if self._rdovae is None:
            from dredconf.reference.rdovae import RdovaeDecoder

            self._rdovae = RdovaeDecoder(self.decoder.model)
        return self._rdovae.decode(payload).tolist()

    def reference(self, data: bytes, index: int):
        return self.decoder.decode_packet(data, index)

    def dred_json(self, payload, with_features: bool = True) -> dict:
        d = {k: getattr(payload, k) for k in ("frame_offset", "q0", "dQ", "extra_offset", "offset", "qmax",
                                              "dred_offset", "latent_count")}
        d["levels"] = list(payload.levels)
        d["state"] = list(payload.state)
        d["latents"] = [list(x) for x in payload.latents]
        if with_features:
            d["features"] = self.features_of(payload)
        return d

    def __call__(self, data: bytes, index: int) -> dict:
        res = self.reference(data, index)
        return self.mutate(res, res.to_json(with_features=True), index)

    def mutate(self, res, rec: dict, index: int) -> dict:  # pragma: no cover - overridden
        return rec


class _Redecode(_Base):
    """Re-reads the DRED payload the reference located, with a bent reader."""

    def __init__(self, mutant: Mutant, **bend):
        super().__init__(mutant)
        self.bend = bend

    def mutate(self, res, rec, index):
        if res.location is None:
            return rec
        p = read_payload(res.location.payload, res.location.frame_offset, self.decoder.model.stats, **self.bend)
        rec["dred"] = self.dred_json(p)
        return rec


class _IgnoreExtraOffset(_Base):
    def mutate(self, res, rec, index):
        d = rec.get("dred")
        if d:
            d["dred_offset"] += 32 * d["extra_offset"]  # dred_offset computed as if extra_offset were 0
        return rec


class _RepeatsKeepFrame(_Base):
    def mutate(self, res, rec, index):
        # Repeat These Extensions expanded, but the copies keep the frame of the extension they repeat.
        if res.extensions is None:
            return rec
        exts = list(res.extensions.extensions)
        out = []
        for i, e in enumerate(exts):
            frame = e.frame
            if e.repeated:
                src = next((x for x in reversed(exts[:i]) if not x.repeated and x.id == e.id), None)
                frame = src.frame if src is not None else e.frame
            out.append({"id": e.id, "frame": frame, "length": e.length})
        rec["extensions"] = out
        return rec


class _LastDred(_Base):
    def mutate(self, res, rec, index):
        from dredconf.reference.payload import decode_dred_payload
        from dredconf.spec import DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID

        if res.extensions is None or res.location is None:
            return rec
        found = [e for e in res.extensions.extensions if e.id == DRED_EXTENSION_ID
                 and len(e.data) > len(DRED_EXPERIMENTAL_PREFIX) and e.data.startswith(DRED_EXPERIMENTAL_PREFIX)]
        last = found[-1]
        if last is found[0]:
            return rec
        frame_offset = last.frame * res.packet.frame_samples // 120
        p = decode_dred_payload(last.data[len(DRED_EXPERIMENTAL_PREFIX):], frame_offset, self.decoder.model.stats)
        rec["dred"] = self.dred_json(p)
        return rec


class _StopOneEarly(_Base):
    def mutate(self, res, rec, index):
        d = rec.get("dred")
        if d and d["latent_count"] > 0:
            # The latent loop ends one iteration early; the network then sees one latent fewer (the oldest).
            d["latent_count"] -= 1
            d["levels"] = d["levels"][:-1]
            d["latents"] = d["latents"][:-1]
            d["features"] = d["features"][: 4 * d["latent_count"]]
        return rec


class _ScaleFeatures(_Base):
    def __init__(self, mutant: Mutant, factor: float):
        super().__init__(mutant)
        self.factor = factor

    def mutate(self, res, rec, index):
        d = rec.get("dred")
        if d and d.get("features"):
            d["features"] = [[x * self.factor for x in row] for row in d["features"]]
        return rec


class _PitchOffset(_Base):
    def __init__(self, mutant: Mutant, delta: float):
        super().__init__(mutant)
        self.delta = delta

    def mutate(self, res, rec, index):
        d = rec.get("dred")
        if d and d.get("features"):
            for row in d["features"]:
                row[18] += self.delta
        return rec


class _Crash(_Base):
    def __call__(self, data, index):
        if index == FAULT_PACKET:
            os.kill(os.getpid(), signal.SIGSEGV)
        return super().__call__(data, index)

    def mutate(self, res, rec, index):
        return rec


class _Hang(_Base):
    def __call__(self, data, index):
        if index == FAULT_PACKET:
            while True:
                time.sleep(3600)
        return super().__call__(data, index)

    def mutate(self, res, rec, index):
        return rec


_DEFS: list[tuple[Mutant, Callable[[Mutant], _Base]]] = [
    (Mutant("quantizer-rounding", "latent level (dQ_table[dQ]*k) >> 4, without the +8 rounding", Layer.LATENTS, field="levels["),
     lambda m: _Redecode(m, level=level_truncating)),
    (Mutant("ignore-extra-offset", "dred_offset computed without 32*extra_offset", Layer.HEADER, field="dred_offset"),
     _IgnoreExtraOffset),
    (Mutant("rte-repeats-keep-frame", "Repeat These Extensions copies keep the frame they were coded in", Layer.FRAMING,
            field="extensions["), _RepeatsKeepFrame),
    (Mutant("last-dred", "uses the last DRED extension instead of the first", Layer.HEADER, field="frame_offset"),
     _LastDred),
    (Mutant("laplace-escape", "Laplace-p0 magnitude escape on symbol 6 instead of 7", Layer.LATENTS),
     lambda m: _Redecode(m, laplace=lambda dec, p0, decay: laplace_p0(dec, p0, decay, escape=6))),
    (Mutant("stop-one-early", "the latent loop stops one latent early", Layer.LATENTS, field="latent_count"),
     _StopOneEarly),
    (Mutant("features-scaled-1.01", "features multiplied by 1.01 (within libopus's tolerance: must pass)", None),
     lambda m: _ScaleFeatures(m, 1.01)),
    (Mutant("features-scaled-1.1", "features multiplied by 1.1", Layer.FEATURES, field="features"),
     lambda m: _ScaleFeatures(m, 1.1)),
    (Mutant("pitch-offset", "pitch feature offset by +0.05", Layer.FEATURES, field="features"),
     lambda m: _PitchOffset(m, 0.05)),
    (Mutant("crash", f"killed by SIGSEGV on packet {FAULT_PACKET}", None, failure="crash"), _Crash),
    (Mutant("hang", f"never returns from packet {FAULT_PACKET}", None, failure="timeout"), _Hang),
]

def _replay_plc_only(inp: Path, out: Path) -> None:
    """A decoder without DRED: what libopus decodes with every loss concealed by ordinary PLC (the set's
    X.plc-only.sw, or .flac, beside the stream)."""
    from dredconf.vectors.setfiles import pcm_file, read_pcm

    base = inp.with_name(inp.name.removesuffix(".bit") + ".plc-only")
    src = pcm_file(base)
    if src is None:
        raise FileNotFoundError(f"{base}.sw (or .flac): missing")
    out.write_bytes(read_pcm(src))


def _bent_vocoder(bend: Callable[[Any], None]) -> Callable[[Path, Path], None]:
    """A vocoder that bends the features (a (frames, 20) float32 array, in place) before the reference FARGAN."""
    def run(inp: Path, out: Path) -> None:
        import numpy as np

        from dredconf.reference.fargan import FarganSynthesizer

        features = np.fromfile(inp, dtype="<f4").reshape(-1, 20).copy()
        bend(features)
        out.write_bytes(FarganSynthesizer(os.environ.get("DREDCONF_MODEL") or None).synthesize(features)
                        .astype("<i2").tobytes())
    return run


def _pitch_off(f) -> None:
    f[:, 18] += 0.08


def _flat_envelope(f) -> None:
    f[:, 1:18] *= 0.8


#: Audio mutants: name -> (the mutant, what it writes from INPUT to OUTPUT).
AUDIO: dict[str, tuple[Mutant, Callable[[Path, Path], None]]] = {
    "plc-only": (Mutant("plc-only", "ignores DRED: every loss concealed by the classical PLC (replays X.plc-only.sw)",
                        Layer.INTEGRATION, kind="integration"), _replay_plc_only),
    "vocoder-pitch-off": (Mutant("vocoder-pitch-off", "pitch feature (18) + 0.08 before the reference FARGAN",
                                 Layer.VOCODER, kind="vocoder"), _bent_vocoder(_pitch_off)),
    "vocoder-flat-envelope": (Mutant("vocoder-flat-envelope", "cepstra 1..17 x 0.8 before the reference FARGAN: a "
                                     "flatter spectral envelope", Layer.VOCODER, kind="vocoder"),
                              _bent_vocoder(_flat_envelope)),
}

#: name → Mutant.
MUTANTS: dict[str, Mutant] = {m.name: m for m, _ in _DEFS} | {m.name: m for m, _ in AUDIO.values()}
_FACTORIES = {m.attr: (m, f) for m, f in _DEFS}
_instances: dict[str, _Base] = {}


def get(name: str) -> _Base:
    """The callable DUT of a mutant (by name or attribute name), created once per process."""
    attr = MUTANTS[name].attr if name in MUTANTS else name
    if attr not in _instances:
        m, factory = _FACTORIES[attr]
        _instances[attr] = factory(m)
    return _instances[attr]


def main(argv: list[str] | None = None) -> int:
    """``python -m dredconf.conformance.mutants NAME INPUT OUTPUT``: an audio mutant as a command."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in AUDIO:
        print(f"usage: python -m dredconf.conformance.mutants {{{','.join(AUDIO)}}} INPUT OUTPUT", file=sys.stderr)
        return 2
    AUDIO[args[0]][1](Path(args[1]), Path(args[2]))
    return 0


def __getattr__(attr: str):
    """``dredconf.conformance.mutants:quantizer_rounding`` (what ``python_dut`` loads) → that mutant's DUT."""
    if attr in _FACTORIES:
        return get(attr)
    raise AttributeError(attr)


if __name__ == "__main__":
    sys.exit(main())
