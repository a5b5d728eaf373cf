"""The integers of libopus's standalone feature-decoder records (the records themselves: ``spec.standalone``).

:func:`decode_record` / :func:`encode_record` use the reference core (state then
nb_chunks/2 latents, all at level q0, no stop rule). :func:`export_standalone` turns a
corpus's DRED vectors into such records so libopus's own tool can decode our
payloads (and, with features from the reference RDOVAE, be compared with
``dred_compare -features``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dredconf.reference.model import load_model
from dredconf.reference.payload import decode_dred_standalone, encode_dred_standalone
from dredconf.reference.rdovae import RdovaeDecoder
from dredconf.spec.standalone import LIBOPUS_MAX_CHUNKS, StandaloneRecord, write_standalone

from .manifest import load_manifest


def decode_record(rec: StandaloneRecord, stats):
    """The integers of one record (a ``reference.payload.DredPayload``: q0, state, latents at level q0)."""
    return decode_dred_standalone(rec.data, rec.q0, rec.nb_latents, stats)


def encode_record(q0: int, state, latents, stats) -> StandaloneRecord:
    """A record coding ``state`` and ``latents`` (newest first) at level ``q0``."""
    latents = [list(map(int, x)) for x in latents]
    data = encode_dred_standalone({"q0": q0, "state": list(map(int, state)), "latents": latents}, stats)
    return StandaloneRecord(int(q0), 2 * len(latents), data)


def _coded_only(values, r_row, p0_row) -> tuple[list[int], int]:
    """``values`` with 0 in the dimensions a level does not code (r 0 or p0 255), and how many became 0."""
    coded = (np.asarray(r_row, int) != 0) & (np.asarray(p0_row, int) != 255)
    out = [int(v) if c else 0 for v, c in zip(values, coded)]
    return out, sum(1 for v, c in zip(values, coded) if v and not c)


def recode_at_q0(q0: int, state, latents, stats) -> tuple[list[int], list[list[int]], int]:
    """Values as a record at level q0 can carry them: dimensions q0's tables do not code become 0.

    Returns (state, latents, number of values zeroed).
    """
    st, zeroed = _coded_only(state, stats.state_r[q0], stats.state_p0[q0])
    lats = []
    for x in latents:
        row, z = _coded_only(x, stats.latent_r[q0], stats.latent_p0[q0])
        lats.append(row)
        zeroed += z
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
    if model is None or isinstance(model, (str, Path)):
        model = load_model(model, parts=("stats", "decoder") if features else ("stats",))
    m = load_manifest(corpus_dir)
    records, sidecar, rows = [], [], []
    rdovae = None
    if features:
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
