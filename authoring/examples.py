"""``spec examples DIR``: a short curated set of worked examples, drawn from the corpus generator so each one's id,
flags and expected record are the corpus's own."""
from __future__ import annotations

import json
from pathlib import Path

from dredconf.vectors.generate import DEFAULT_SEED, build_manifest
from dredconf.vectors.groups import build_corpus

from .example import worked_example
from .formats import render_doc

#: (vector id, its group, what it teaches), in reading order.
CURATED = (
    ("dred-qmax-q0-09-qmax-13", "dred-header",
     "a single-frame packet with DRED: qmax coded (13), latent levels rising with dQ and capped at qmax"),
    ("dred-frame-01-of-02", "dred-position",
     "DRED on the second frame of a two-frame code 3 packet: a 0x02 separator, frame_offset 8"),
    ("dred-via-repeat", "dred-envelope",
     "Repeat These Extensions repeating an ID 126 extension into later frames: the frame-1 repeat is the DRED"),
    ("dred-long-length-chain", "dred-envelope",
     "a DRED extension over 255 bytes: its length coded 255 then the rest, and the padding length chained"),
    ("dred-before-length-error", "dred-envelope",
     "malformed padding: a long extension whose length runs past the end; libopus stops there, keeps the DRED"),
)
SUFFIX = {"text": "txt", "markdown": "md"}


def write_examples(out: str | Path, model, *, seed: int = DEFAULT_SEED, fmt: str = "text") -> list[dict]:
    """Write ``<id>.txt`` (or ``.md``) and ``<id>.json`` per curated vector and an index; returns the entries."""
    groups = sorted({g for _, g, _ in CURATED})
    corpus = build_corpus(seed, model.stats, groups)
    entries = {e["id"]: e for e in build_manifest(corpus, model, [])["vectors"]}
    packets = {v.id: v.packet for v in corpus.vectors()}
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    index = ["# Worked examples", "", f"Drawn from the corpus of `dredconf vectors generate --seed {seed}` "
             "(vector ids, flags and expected records are the corpus's).", ""]
    written = []
    for i, (vid, group, teaches) in enumerate(CURATED, 1):
        entry = entries[vid]
        title = f"Example {i}: {vid} ({group}.bit, packet {entry['packet']})"
        doc = worked_example(packets[vid], model.stats, title=title)
        (outdir / f"{vid}.{SUFFIX[fmt]}").write_text(render_doc(doc, fmt))
        (outdir / f"{vid}.json").write_text(json.dumps(entry, indent=1) + "\n")
        index.append(f"{i}. `{vid}` ({entry['result']}): {teaches}. Flags: {', '.join(entry['flags'])}.")
        written.append(entry)
    (outdir / "README.md").write_text("\n".join(index) + "\n")
    return written
