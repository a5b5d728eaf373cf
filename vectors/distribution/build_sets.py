#!/usr/bin/env python3
"""Build the data of opus-dred-conformance-vectors from ../shared: ``python vectors/distribution/build_sets.py``.

Writes ``vectors/distribution/dredconf_vectors/sets/``, one directory per libopus 1.6.1 ground-truth set of
``../shared/vectors``, in the form the distribution ships, the same bytes on every run:

* streams, loss patterns, feature files and gzip files: the ../shared bytes as they are (gzip included: the
  expected JSON is already gzip there, so its SHA-256 stays the one ../shared lists);
* PCM (``.sw``): FLAC through soundfile at a fixed compression level (libFLAC writes no date; the bytes depend only
  on the libFLAC version, recorded in ``index.json``), decoding to the ../shared samples;
* a file over PART_BYTES: cut into even parts ``X.00``, ``X.01``, … (``cat X.?? > X`` rebuilds it), so that every
  committed file stays under 2 MB (the one such file, S2.expected.json.gz, is 4.1 MB, and still 3.3 MB as xz:
  recompressing would not avoid the cut and would lose the ../shared bytes);
* the set's README (../shared's; the standalone set has none there: its section of libopus-1.6.1/README.md),
  PROVENANCE.md (each file: where it comes from, its source audio, the libopus build and command, the licence)
  and SHA256SUMS of every file shipped;
* ``index.json``: each set's name, kind, source and the SHA-256 of its SHA256SUMS, and the FLAC encoder.

Every source recording's licence is in SOURCES; an item whose source may not be redistributed is left out (none
is: see vectors/distribution/README.md). ``--check`` builds into a temporary directory and compares with the
committed data instead (exit 1 on a difference, naming it).
"""
from __future__ import annotations

import argparse
import os
import filecmp
import hashlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dredconf.sums import format_sums, read_sums
from dredconf.vectors.installed import INDEX_NAME, INDEX_SCHEMA, SET_KINDS
from dredconf.vectors.sets import load_vector_set  # the shipped set must be what dredconf reads

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "dredconf_vectors" / "sets"
PART_BYTES = 2_000_000
FLAC_LEVEL = 1.0  # soundfile's compression_level, 0..1: libFLAC's level 8


@dataclass(frozen=True)
class Source:
    """A recording the vectors were made from, and the terms it may be redistributed under."""

    what: str
    licence: str
    licence_file: str | None
    redistributable: bool
    why: str


SOURCES = {
    "slt": Source(
        "synthetic speech in the CMU ARCTIC voice slt, 16 kHz s16le mono, 10.5 s (`libopus-1.6.1/source/slt_16k`), "
        "made with Debian's festvox packages: festvox-us-slt-hts 0.2010.10.25-4 holds the voice "
        "(cmu_us_slt_arctic_hts, built from the CMU ARCTIC slt recordings), run by Festival 2.5.0; ../shared does not "
        "record the text spoken",
        "Carnegie Mellon University's festvox licence (Debian: EST-2003 for the voice, EST-2000 for its festvox "
        "files): \"Permission to use, copy, modify, and licence this software and its documentation for any purpose, "
        "is hereby granted without fee, subject to the following conditions: 1. The code must retain the above "
        "copyright notice, this list of conditions and the following disclaimer. 2. Any modifications must be "
        "clearly marked as such. 3. Original authors' names are not deleted.\"",
        "CMU-ARCTIC-slt.txt", True,
        "the licence permits use, copying, modification and redistribution without fee; this distribution keeps "
        "the notice (LICENSES/), marks what was made from the speech (this table) and deletes no author's name"),
    "alsaA": Source(
        "recorded human speech: alsa-utils's speaker-test samples `Front_Center.wav` (68,545 samples, SHA-256 "
        "0d61518bcd3f13b0c709a5298e939caf698b80d31d71d50475365ee0e5536cc9) followed by `Front_Left.wav` "
        "(71,042 samples, SHA-256 9f97e8458785da2f0aa0ec60bf9cc81520cbf80a4683e83eca9cb5f2958e9fef), "
        "48 kHz s16le mono, 2.9 s "
        "(`libopus-1.6.1/source/alsaA_48k`; checked sample for sample against Debian alsa-utils 1.2.8-1's "
        "/usr/share/sounds/alsa)",
        "GPL-2.0 (Debian's alsa-utils copyright: \"Files: * / Copyright: 1998-2022 Jarsolav Kysela <perex@suse.cz> "
        "and others / License: GPL-2\"; upstream ships the samples under the package's COPYING, GPL-2, with no "
        "notice of their own)",
        "alsa-utils-GPL-2.0.txt", True,
        "the GPL-2 permits redistribution, of the recording and of works made from it, under the GPL-2: the items "
        "made from alsaA are distributed under it, with its text (LICENSES/), this table saying what was made and "
        "how, and their source, the recording itself, shipped alongside (libopus-1.6.1/source/alsaA_48k.flac)"),
    "none": Source("no recording: a synthetic stream (see the file's row)", "—", None, True,
                   "no recording is involved"),
}
LIBOPUS_LICENCE = ("libopus 1.6.1's outputs: BSD-3-Clause, libopus's COPYING (LICENSES/libopus-BSD-3-Clause.txt)")
PROJECT_LICENCE = "BSD-3-Clause (opus-dred-conformance)"
LIBOPUS_BUILD = ("libopus 1.6.1 built with DRED (`--enable-dred`) and the model of ../shared/model/opus-1.6.1 "
                 "(opus_data-a5177ec6…, DRED version 12); every expected file from its generic-C build (no SIMD "
                 "intrinsics)")

ENC = "libopus 1.6.1 encoder: `opus_demo -e {}`"
PARSE = ("libopus 1.6.1 generic-C: each packet through `opus_packet_parse_impl`, the extension iterator, "
         "`opus_dred_parse` + `opus_dred_process` (README.md gives the JSON schema)")
DECODE = "libopus 1.6.1 generic-C: `opus_demo -d 16000 1 -lossfile {0}.loss {0}.bit {0}.expected.sw`"
PLC_ONLY = "the same decode with DRED ignored (every loss concealed by ordinary PLC): the negative control"
LOSS = "the loss pattern: one 0/1 per packet, `opus_demo -lossfile`'s format"
SAME = "the bytes of `libopus-1.6.1/{}`"


def _integration(name: str, source: str, bit: str) -> dict:
    return {f"{name}.bit": (source, bit, True), f"{name}.loss": ("none", LOSS, False),
            f"{name}.expected.sw": (source, DECODE.format(name), True),
            f"{name}.plc-only.sw": (source, PLC_ONLY, True)}


def _vocoder(name: str, source: str, orig: str) -> dict:
    return {f"{name}.orig.sw": (source, orig, False),
            f"{name}.features.f32": (source, "libopus 1.6.1 feature extraction: "
                                             f"`fargan_demo -features {name}.orig.sw`", True),
            f"{name}.expected.sw": (source, "libopus 1.6.1 generic-C FARGAN: `fargan_demo -fargan-synthesis "
                                            f"{name}.features.f32 {name}.expected.sw`", True)}


@dataclass(frozen=True)
class SetSpec:
    """A set of ../shared/vectors: one line on where it comes from, and every file: (source, made by, by libopus)."""

    name: str
    summary: str
    files: dict[str, tuple[str, str, bool]]
    #: PCM files that are not at 16 kHz.
    rates: tuple[tuple[str, int], ...] = ()


SETS = (
    SetSpec("libopus-1.6.1", "libopus 1.6.1 streams with DRED and its per-packet decode (slt, alsaA, synthetic)", {
        "S1.bit": ("slt", ENC.format("voip 16000 1 24000 -loss 20 -dred 100 source/slt_16k.sw S1.bit"), True),
        "S1.expected.json.gz": ("slt", PARSE, True),
        "S2.bit": ("slt", ENC.format("voip 16000 1 64000 -loss 50 -dred 104 source/slt_16k.sw S2.bit"), True),
        "S2.expected.json.gz": ("slt", PARSE, True),
        "S3.bit": ("alsaA", ENC.format("voip 48000 1 32000 -framesize 40 -loss 30 -dred 50 source/alsaA_48k.sw "
                                       "S3.bit"), True),
        "S3.expected.json.gz": ("alsaA", PARSE, True),
        "SYN.bit": ("none", "synthetic: one 70-byte wideband 20 ms SILK frame, repeated in code-3 packets of 1–3 "
                            "frames; padding from libopus's extension generator; DRED payloads of chosen and random "
                            "integers written with libopus's range coder (README.md)", True),
        "SYN.expected.json.gz": ("none", PARSE, True),
        "source/slt_16k.sw": ("slt", "the slt speech (see Source audio)", False),
        "source/alsaA_48k.sw": ("alsaA", "the alsaA speech (see Source audio)", False),
    }, rates=(("source/alsaA_48k.sw", 48000),)),
    SetSpec("libopus-1.6.1-edge", "libopus 1.6.1's decode of DRED edge cases (payloads over 1,000 bytes, "
                                  "DRED before an extension error; slt)", {
        "BIGP.bit": ("slt", "S2.bit's SILK frames, each with one DRED extension of 1,001 to 13,227 bytes (a real "
                            "payload, then random bytes) in its padding (README.md)", True),
        "BIGP.expected.json.gz": ("slt", PARSE, True),
        "DERR.bit": ("slt", "S2.bit's SILK frames, each padding a valid DRED extension then a malformed (60) or "
                            "well-formed (15) extension (README.md)", True),
        "DERR.expected.json.gz": ("slt", PARSE, True),
    }),
    SetSpec("libopus-1.6.1-standalone", "libopus 1.6.1's fargan_demo -dred-decoding on its standalone records (slt)", {
        "vector_dred.bit": ("slt", "libopus's standalone feature-decoder records: the integers of 174 packets of "
                                   "S2.bit, re-coded at each packet's q0", True),
        "vector_dred_dec.f32.gz": ("slt", "libopus 1.6.1 generic-C: `fargan_demo -dred-decoding vector_dred.bit "
                                          "vector_dred_dec.f32`, gzip", True),
    }),
    SetSpec("libopus-1.6.1-vocoder", "libopus 1.6.1 FARGAN synthesis from speech features (slt, alsaA)", {
        **_vocoder("slt_16k", "slt", SAME.format("source/slt_16k.sw")),
        **_vocoder("alsaA_16k", "alsaA", "`libopus-1.6.1/source/alsaA_48k.sw` resampled to 16 kHz"),
    }),
    SetSpec("libopus-1.6.1-integration", "libopus 1.6.1 opus_demo decoding streams with losses, DRED on and off "
                                         "(slt, alsaA)", {
        **_integration("S1", "slt", SAME.format("S1.bit")),
        **_integration("S1L", "slt", SAME.format("S1.bit")),
        **_integration("S2", "slt", SAME.format("S2.bit")),
        **_integration("S3", "alsaA", SAME.format("S3.bit")),
        **_integration("S4", "alsaA", ENC.format("voip 48000 1 32000 -framesize 60 -loss 30 -dred 100 "
                                                 "source/alsaA_48k.sw S4.bit")),
    }),
)


# ------------------------------------------------------------------------------------------------ the shipped forms


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def flac_bytes(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM as FLAC."""
    import io

    import numpy as np
    import soundfile

    out = io.BytesIO()
    soundfile.write(out, np.frombuffer(pcm, dtype="<i2"), rate, format="FLAC", subtype="PCM_16",
                    compression_level=FLAC_LEVEL)
    return out.getvalue()


def flac_vendor(data: bytes) -> str:
    """The encoder's vendor string (VORBIS_COMMENT) of a FLAC file: which libFLAC wrote it."""
    pos = 4
    while pos + 4 <= len(data):
        last, kind, size = data[pos] >> 7, data[pos] & 0x7F, int.from_bytes(data[pos + 1:pos + 4], "big")
        if kind == 4:
            n = int.from_bytes(data[pos + 4:pos + 8], "little")
            return data[pos + 8:pos + 8 + n].decode("utf-8")
        if last:
            break
        pos += 4 + size
    raise ValueError("no VORBIS_COMMENT block")


def parts(data: bytes) -> list[bytes]:
    """``data`` cut into the fewest even parts of at most PART_BYTES (one part when it fits)."""
    n = -(-len(data) // PART_BYTES)
    size = -(-len(data) // n)
    return [data[i:i + size] for i in range(0, len(data), size)]


def shipped(name: str, data: bytes, rate: int) -> list[tuple[str, bytes]]:
    """The files (name, bytes) that ship a ../shared file."""
    if name.endswith(".sw"):
        name, data = name[:-3] + ".flac", flac_bytes(data, rate)
    cut = parts(data)
    return [(name, data)] if len(cut) == 1 else [(f"{name}.{i:02d}", p) for i, p in enumerate(cut)]


# ------------------------------------------------------------------------------------------------ the text


def standalone_readme(shared: Path) -> str:
    """The standalone set's README: the section of libopus-1.6.1/README.md about it."""
    text = (shared / "vectors" / "libopus-1.6.1" / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## libopus's standalone feature-decoder format"):].split("\n", 1)[1]
    return ("# libopus 1.6.1's standalone feature-decoder vectors\n" + section
            .replace("`../libopus-1.6.1-standalone/vector_dred.bit`", "`vector_dred.bit`")
            .replace("order used above", "order of the JSON in `../libopus-1.6.1/README.md`")
            + "\n(This README is that section of `../libopus-1.6.1/README.md`; the packets of S2 are those of "
              "`../libopus-1.6.1/S2.bit`.)\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def provenance(spec: SetSpec, shared_sums: str, rows: list[tuple[str, str, str, str, str, str]],
               left_out: list[str]) -> str:
    used = sorted({r[3] for r in rows if r[3] != "none"})
    lines = [
        f"# {spec.name}: provenance", "",
        f"Shipped by opus-dred-conformance-vectors. Built by `vectors/distribution/build_sets.py` of "
        f"opus-dred-conformance from `../shared/vectors/{spec.name}` (whose SHA256SUMS has SHA-256 `{shared_sums}`). "
        "The ground truth is unchanged: streams, loss patterns, feature files and gzip files are the ../shared bytes; "
        "PCM is FLAC that decodes to the ../shared samples (`X.expected.sw` → `X.expected.flac`); a file over "
        f"{PART_BYTES:,} bytes comes in parts `X.00`, `X.01`, … (`cat X.?? > X` rebuilds it). dredconf reads these "
        f"forms as they are; `dredconf vectors verify {spec.name}` checks every file against SHA256SUMS.", "",
        "## Files", "",
        "| shipped | ../shared file (SHA-256) | made by | source audio | licence |",
        "|---|---|---|---|---|",
    ]
    for shipped_names, name, digest, source, made, licence in rows:
        lines.append(f"| {shipped_names} | `{name}` ({digest}) | {_cell(made)} | {source} | {_cell(licence)} |")
    lines += ["", "## libopus", "", LIBOPUS_BUILD + ". " + LIBOPUS_LICENCE + ": it covers every file libopus made "
              "(the licence column says which); where libopus made a file from a recording, the recording's terms "
              "apply to it as well.", "", "## Source audio", ""]
    for key in used:
        s = SOURCES[key]
        lines += [f"### {key}", "", f"What: {s.what}.", "", f"Licence: {s.licence} "
                  f"(`../../LICENSES/{s.licence_file}`).", "", f"Redistributed because {s.why}.", ""]
    lines += ["## Left out", ""]
    lines += [f"- {x}" for x in left_out] if left_out else ["Nothing: every file of the ../shared set is here."]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ the build


def build_set(spec: SetSpec, shared: Path, out: Path) -> dict:
    """Write one set into ``out/NAME``; its index entry."""
    src = shared / "vectors" / spec.name
    sums = read_sums(src / "SHA256SUMS")
    if sorted(sums) != sorted(spec.files):
        raise SystemExit(f"{src}/SHA256SUMS lists {sorted(set(sums) ^ set(spec.files))} that build_sets.py does not "
                         "know, or the other way round: describe every file in SETS")
    dest = out / spec.name
    dest.mkdir(parents=True)
    rates = dict(spec.rates)
    rows, left_out, written = [], [], {}
    for name in sorted(spec.files):
        data = (src / name).read_bytes()
        if sha256(data) != sums[name]:
            raise SystemExit(f"{src / name}: SHA-256 {sha256(data)}, its SHA256SUMS says {sums[name]}: "
                             "../shared changed")
        source, made, by_libopus = spec.files[name]
        if not SOURCES[source].redistributable:
            left_out.append(f"`{name}`: made from {source}, whose licence does not allow redistribution")
            continue
        files = shipped(name, data, rates.get(name, 16000))
        for fname, fdata in files:
            (dest / fname).parent.mkdir(parents=True, exist_ok=True)
            (dest / fname).write_bytes(fdata)
            written[fname] = sha256(fdata)
        licences = [SOURCES[source].licence.split(" (")[0]] if source != "none" else []
        licences.append("libopus's BSD-3-Clause" if by_libopus else PROJECT_LICENCE if source == "none" else "")
        rows.append((", ".join(f"`{f}`" for f, _ in files), name, sums[name], source,
                     made, "; ".join(x for x in licences if x)))
    readme = src / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else standalone_readme(shared)
    (dest / "README.md").write_text(text, encoding="utf-8")
    (dest / "PROVENANCE.md").write_text(provenance(spec, sha256((src / "SHA256SUMS").read_bytes()), rows, left_out),
                                        encoding="utf-8")
    for extra in ("README.md", "PROVENANCE.md"):
        written[extra] = sha256((dest / extra).read_bytes())
    (dest / "SHA256SUMS").write_text(format_sums({n: written[n] for n in sorted(written)}), encoding="utf-8")
    kinds = load_vector_set(dest).kinds()
    return {"name": spec.name, "kind": SET_KINDS[kinds[0]], "source": spec.summary,
            "sha256sums": sha256((dest / "SHA256SUMS").read_bytes())}


def build(shared: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    entries = [build_set(spec, shared, out) for spec in SETS]
    import soundfile

    some_flac = next(out.rglob("*.flac"))
    index = {"schema": INDEX_SCHEMA, "sets": entries,
             "flac": {"encoder": flac_vendor(some_flac.read_bytes()), "libsndfile": soundfile.__libsndfile_version__,
                      "compression_level": FLAC_LEVEL}}
    (out / INDEX_NAME).write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")


def differences(a: Path, b: Path) -> list[str]:
    """What differs between two built trees (relative paths). Built with another libFLAC than ``a`` records, FLAC
    files and what hashes them may differ in their bytes only: they are compared by their samples instead."""
    fa = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    out = [f"{n}: only in {a}" for n in sorted(fa - fb)] + [f"{n}: only in {b}" for n in sorted(fb - fa)]
    changed = [n for n in sorted(fa & fb) if not filecmp.cmp(a / n, b / n, shallow=False)]
    encoders = [json.loads((d / INDEX_NAME).read_text())["flac"]["encoder"] for d in (a, b)]
    if encoders[0] != encoders[1]:
        import numpy as np
        import soundfile

        print(f"FLAC written by {encoders[1]}, the committed data by {encoders[0]}: FLAC compared by samples")
        same = {n for n in changed if n.endswith(".flac")
                and np.array_equal(soundfile.read(a / n, dtype="int16")[0], soundfile.read(b / n, dtype="int16")[0])}
        changed = [n for n in changed if n not in same and not n.endswith(("SHA256SUMS", INDEX_NAME))]
    return out + [f"{n}: differs" for n in changed]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("DREDCONF_SHARED", ROOT.parent / "shared")),
                    help="../shared (default: $DREDCONF_SHARED, else beside the checkout)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"where the sets go (default: {OUT.relative_to(ROOT)})")
    ap.add_argument("--check", action="store_true", help="build into a temporary directory and compare with --out")
    args = ap.parse_args(argv)
    if not args.check:
        build(args.shared, args.out)
        total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
        print(f"{args.out}: {len(SETS)} sets, {total:,} bytes")
        return 0
    with tempfile.TemporaryDirectory(prefix="dredconf-sets-") as tmp:
        build(args.shared, Path(tmp) / "sets")
        diff = differences(args.out, Path(tmp) / "sets")
    for line in diff:
        print(line)
    print(f"{args.out}: " + ("rebuilt byte for byte" if not diff else f"{len(diff)} differences"))
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
