"""libopus's standalone feature-decoder records (``fargan_demo -dred-decoding``; SPEC-NOTES §5).

A file is a sequence of records, each::

    q0         4-byte big-endian integer, 0..15
    nb_chunks  4-byte big-endian integer, even: 2 per latent
    nb_bytes   4-byte big-endian integer
    bytes      range-coded: the 50 state values, then nb_chunks/2 latents (newest
               first), every value at level q0's tables; no header fields, no stop rule

libopus's tool reads at most 50 chunks (25 latents, its ``DRED_CHUNKS``) and
100000 bytes (``MAX_DRED_PACKET``) per record; :func:`check_record` says so.
Its output, for each record, is ``2 * nb_chunks`` rows of 20 little-endian
float32, oldest row first.

:func:`export_standalone` turns a corpus's DRED vectors into such records so
libopus's own tool can decode our payloads (and, with features from the
reference RDOVAE, be compared with ``dred_compare -features``).
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dredconf.errors import StreamError

HEADER = struct.Struct(">III")
#: libopus fargan_demo.c limits.
LIBOPUS_MAX_CHUNKS = 50
LIBOPUS_MAX_BYTES = 100000


@dataclass(frozen=True)
class StandaloneRecord:
    q0: int
    nb_chunks: int
    data: bytes

    @property
    def nb_latents(self) -> int:
        return self.nb_chunks // 2

    def to_bytes(self) -> bytes:
        return HEADER.pack(self.q0, self.nb_chunks, len(self.data)) + bytes(self.data)


def read_standalone(data: bytes) -> list[StandaloneRecord]:
    """Every record of a standalone file; StreamError (rule ``standalone-*``) on broken framing."""
    out = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < HEADER.size:
            raise StreamError(f"record header truncated: {len(data) - pos} of {HEADER.size} bytes",
                              rule="standalone-header-truncated", packet=len(out), offset=pos)
        q0, chunks, nbytes = HEADER.unpack_from(data, pos)
        if q0 > 15:
            raise StreamError(f"q0 {q0} outside 0..15", rule="standalone-q0", packet=len(out), offset=pos)
        if chunks % 2 or chunks > 52:
            raise StreamError(f"nb_chunks {chunks}: must be even and at most 52 (26 latents)",
                              rule="standalone-chunks", packet=len(out), offset=pos + 4)
        start = pos + HEADER.size
        if nbytes > len(data) - start:
            raise StreamError(f"nb_bytes {nbytes} runs past the end of the file ({len(data) - start} left)",
                              rule="standalone-length-past-end", packet=len(out), offset=pos + 8)
        out.append(StandaloneRecord(q0, chunks, bytes(data[start:start + nbytes])))
        pos = start + nbytes
    return out


def write_standalone(records) -> bytes:
    return b"".join(r.to_bytes() for r in records)


def check_record(rec: StandaloneRecord) -> list[str]:
    """What libopus's fargan_demo would refuse or mishandle in this record (empty when fine)."""
    out = []
    if rec.nb_chunks > LIBOPUS_MAX_CHUNKS:
        out.append(f"{rec.nb_chunks} chunks: fargan_demo holds at most {LIBOPUS_MAX_CHUNKS}")
    if len(rec.data) > LIBOPUS_MAX_BYTES:
        out.append(f"{len(rec.data)} bytes: fargan_demo reads at most {LIBOPUS_MAX_BYTES}")
    return out


def decode_record(rec: StandaloneRecord, stats):
    """The integers of one record (a ``reference.payload.DredPayload``: q0, state, latents at level q0)."""
    from dredconf.reference.payload import decode_dred_standalone

    return decode_dred_standalone(rec.data, rec.q0, rec.nb_latents, stats)


def encode_record(q0: int, state, latents, stats) -> StandaloneRecord:
    """A record coding ``state`` and ``latents`` (newest first) at level ``q0``."""
    from dredconf.reference.payload import encode_dred_standalone

    latents = [list(map(int, x)) for x in latents]
    data = encode_dred_standalone({"q0": q0, "state": list(map(int, state)), "latents": latents}, stats)
    return StandaloneRecord(int(q0), 2 * len(latents), data)


def recode_at_q0(q0: int, state, latents, stats) -> tuple[list[int], list[list[int]], int]:
    """Values as a record at level q0 can carry them: dimensions q0's tables do not code become 0.

    Returns (state, latents, number of values zeroed).
    """
    zeroed = 0
    r, p0 = np.asarray(stats.state_r[q0], int), np.asarray(stats.state_p0[q0], int)
    st = []
    for v, ri, pi in zip(state, r, p0):
        if (ri == 0 or pi == 255) and v:
            zeroed += 1
            v = 0
        st.append(int(v))
    lr, lp = np.asarray(stats.latent_r[q0], int), np.asarray(stats.latent_p0[q0], int)
    lats = []
    for x in latents:
        row = []
        for v, ri, pi in zip(x, lr, lp):
            if (ri == 0 or pi == 255) and v:
                zeroed += 1
                v = 0
            row.append(int(v))
        lats.append(row)
    return st, lats, zeroed


def export_standalone(corpus_dir: str | Path, out: str | Path, *, model=None, features: bool = False,
                      max_latents: int = LIBOPUS_MAX_CHUNKS // 2) -> dict:
    """Write ``OUT`` (records) and ``OUT.json`` (what each record holds) from a corpus's DRED vectors.

    Each vector whose expected record has a DRED with at least one latent
    becomes a record: its state and newest ``max_latents`` latents re-coded at
    its q0 (values in dimensions level q0 does not code become 0, counted in
    the sidecar). ``features`` also writes ``OUT_dec.f32``: the reference
    RDOVAE's output in fargan_demo's layout (oldest row first, level input
    q0/8 - 1 for every latent), for ``dred_compare -features``.
    """
    from dredconf.reference.model import load_model

    from .manifest import load_manifest

    if model is None or isinstance(model, (str, Path)):
        model = load_model(model, parts=("stats", "decoder") if features else ("stats",))
    m = load_manifest(corpus_dir)
    records, sidecar, rows = [], [], []
    rdovae = None
    if features:
        from dredconf.reference.rdovae import RdovaeDecoder

        rdovae = RdovaeDecoder(model)
    for v in m["vectors"]:
        d = v["expected"]["dred"]
        if d is None or d["latent_count"] == 0:
            continue
        q0 = d["q0"]
        lat = d["latents"][:max_latents]
        state, lat, zeroed = recode_at_q0(q0, d["state"], lat, model.stats)
        rec = encode_record(q0, state, lat, model.stats)
        back = decode_record(rec, model.stats)
        if back.state != state or back.latents != lat:
            raise ValueError(f"{v['id']}: standalone record does not decode to what was coded")
        records.append(rec)
        sidecar.append({"vector": v["id"], "q0": q0, "nb_chunks": rec.nb_chunks, "nb_bytes": len(rec.data),
                        "zeroed_values": zeroed, "truncated_latents": d["latent_count"] - len(lat),
                        "state": state, "latents": lat})
        if rdovae is not None:
            rows.append(np.asarray(rdovae.decode_standalone(q0, state, lat), dtype="<f4"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(write_standalone(records))
    info = {"source": str(corpus_dir), "seed": m["seed"], "records": sidecar}
    Path(str(out) + ".json").write_text(json.dumps(info, separators=(",", ":")) + "\n", encoding="utf-8")
    if rdovae is not None:
        feat_path = out.with_name(out.name[:-4] + "_dec.f32" if out.name.endswith(".bit") else out.name + "_dec.f32")
        feats = np.concatenate(rows) if rows else np.zeros((0, 20), "<f4")
        feat_path.write_bytes(feats.astype("<f4").tobytes())
        info["features"] = str(feat_path)
    info["path"] = str(out)
    info["count"] = len(records)
    return info
