"""``dredconf vectors coverage``: which syntax elements and value classes a corpus exercises.

Computed from the corpus itself: every stream is decoded with the reference
decoder (framing by ``spec.parse_packet``, extensions by
``spec.parse_extensions``, the DRED payload by the C core) and each packet is
classified from what was decoded, not from what the generator meant to
write. The padding elements that produce no extension (0x01, 0x00, 0x02,
0x03 n, the RTE byte) are read from the bytes between the extensions the
parser reports. Only the ``result`` rows come from the manifest.

Every element has a fixed list of required classes; the table lists each
with its count of vectors (0 is an empty cell, a hole in the corpus).
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

from dredconf.errors import StreamError
from dredconf.spec import DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID, read_stream
from dredconf.spec.dred import DQ_TABLE

from .manifest import load_manifest

_MS = {120: "2.5 ms", 240: "5 ms", 480: "10 ms", 960: "20 ms", 1920: "40 ms", 2880: "60 ms"}


def _required() -> "OrderedDict[str, list[str]]":
    r: OrderedDict[str, list[str]] = OrderedDict()
    r["result"] = ["valid", "invalid", "acceptable"]
    r["toc.code"] = ["0", "1", "2", "3"]
    r["toc.mode"] = ["SILK 10 ms", "SILK 20 ms", "SILK 40 ms", "SILK 60 ms", "Hybrid 10 ms", "Hybrid 20 ms",
                     "CELT 2.5 ms", "CELT 5 ms", "CELT 10 ms", "CELT 20 ms"]
    r["toc.stereo"] = ["mono", "stereo"]
    r["code3.framing"] = ["CBR", "VBR", "VBR 2-byte frame length"]
    r["code3.frames"] = ["1", "2", "3", "4-47", "48"]
    r["padding.length"] = ["no padding flag", "0", "1-254, one length byte", "one 255 byte", "two or more 255 bytes"]
    r["padding.element"] = ["0x01 padding", "0x00 rest", "0x02 separator", "0x03 n=0", "0x03 n=1", "0x03 n>=2",
                            "RTE L=1", "RTE L=0", "bytes ignored after the end"]
    r["ext.id"] = ["3-31", "32-125", "126", "127"]
    r["ext.short"] = ["L=0", "L=1", "repeated"]
    r["ext.long L=1 length"] = ["0", "1", "2-253", "254", "255", "256", "257-509", "510", "511+"]
    r["ext.long L=0 length"] = ["0", "1-254", "255+"]
    r["ext.long repeated"] = ["explicit length", "L=0 to the end"]
    r["ext.error"] = ["ext-separator-past-last-frame", "ext-separator-increment-missing",
                      "ext-short-payload-missing", "ext-long-length-truncated", "ext-long-length-past-end",
                      "ext-rte-short-payload-missing", "ext-rte-long-length-truncated",
                      "ext-rte-long-length-past-end", "ext-rte-trailing-shorts-missing"]
    r["ext.error prefix kept"] = ["nothing before the error", "extensions before the error"]
    r["dred.locate"] = ["found", "other version ignored", "no 'D' ignored", "2 bytes or less ignored",
                        "second on the same frame", "second on a later frame", "found through RTE",
                        "found on frame > 0", "found before an extension error", "first in bitstream, later frame"]
    r["dred.extension coding"] = ["L=1", "L=0", "repeated"]
    r["dred.payload bytes"] = ["1", "2-254", "255+"]
    r["dred.q0"] = [str(i) for i in range(16)]
    r["dred.dQ"] = [str(i) for i in range(8)]
    r["dred.qmax"] = ["implicit (q0 >= 14)", "implicit (dQ = 0)", "coded: 15"] + [f"coded: {q}" for q in range(1, 15)]
    r["dred.extra_offset"] = ["flag 0", "flag 1, 0", "1", "2-254", "255"]
    r["dred.offset"] = [str(i) for i in range(32)]
    r["dred.dred_offset"] = ["< -32", "-32..-1", "0", "1..16", "> 16"]
    r["dred.frame"] = ["0", "1", "2-46", "47"]
    r["dred.frame duration (frame > 0)"] = ["2.5 ms", "5 ms", "10 ms", "20 ms", "40 ms", "60 ms"]
    r["dred.frames in packet"] = [str(m) for m in range(1, 49)]
    r["dred.latent_count"] = [str(i) for i in range(27)]
    r["dred.end of payload"] = [f"{b} bits left" for b in range(8)] + ["last latent read past the end",
                                                                       "26 read, more coded"]
    r["dred.levels"] = ["constant (dQ = 0)", "rising", "capped at qmax < 15", "capped at 15"]
    r["dred.magnitude"] = ["all 0", "1-7", "8-21 (1-2 escapes)", "22-99 (3+ escapes)", "100+"]
    return r


REQUIRED = _required()


@dataclass
class CoverageTable:
    counts: Counter
    grid: Counter  # (q0, dQ) -> vectors
    vectors: int

    def empty_cells(self) -> list[str]:
        out = [f"{el}: {cls}" for el, classes in REQUIRED.items() for cls in classes if not self.counts[(el, cls)]]
        out += [f"dred.q0 x dQ: q0 {q} dQ {d}" for q in range(16) for d in range(8) if not self.grid[(q, d)]]
        return out

    def markdown(self, title: str | None = None) -> str:
        lines = []
        if title:
            lines += [f"# {title}", ""]
        lines += ["Produced by `dredconf vectors generate OUT --seed 1 && dredconf vectors coverage OUT` "
                  "(docs/VECTORS.md). "
                  f"{self.vectors} vectors. Counts are vectors (packets) exercising each class, found by decoding "
                  "the corpus with the reference decoder; 0 would be a hole in the corpus.", ""]
        lines += ["| element | class | vectors |", "|---|---|---:|"]
        for el, classes in REQUIRED.items():
            extra = sorted(c for (e, c) in self.counts if e == el and c not in classes)
            for cls in classes + extra:
                lines.append(f"| {el} | {cls} | {self.counts[(el, cls)]} |")
        lines += ["", "DRED q0 (rows) x dQ (columns):", "",
                  "| q0 \\ dQ | " + " | ".join(str(d) for d in range(8)) + " |",
                  "|---|" + "---:|" * 8]
        for q in range(16):
            lines.append(f"| {q} | " + " | ".join(str(self.grid[(q, d)]) for d in range(8)) + " |")
        return "\n".join(lines) + "\n"


def _padding_elements(pad: bytes, exts, error) -> set[str]:
    """Classes of the padding elements that produce no extension, read between the reported extensions."""
    covered = bytearray(len(pad))
    for e in exts:
        for i in range(e.header_offset, e.offset + e.length):
            covered[i] = 1
    stop = len(pad) if error is None or error.offset is None else error.offset
    out = set()
    i = 0
    while i < stop:
        if covered[i]:
            i += 1
            continue
        b = pad[i]
        ident, L = b >> 1, b & 1
        if ident == 0:
            if L:
                out.add("0x01 padding")
            else:
                out.add("0x00 rest")
                break
        elif ident == 1:
            if L:
                n = pad[i + 1] if i + 1 < len(pad) else None
                out.add("0x03 n=0" if n == 0 else "0x03 n=1" if n == 1 else "0x03 n>=2")
                i += 1
            else:
                out.add("0x02 separator")
        elif ident == 2:
            out.add("RTE L=1" if L else "RTE L=0")
        else:
            # an uncovered extension byte: only after the end of the extensions (L = 0 RTE past the last frame)
            out.add("bytes ignored after the end")
            break
        i += 1
    return out


def _classify(res, counts: Counter, grid: Counter, result: str | None) -> None:
    def add(el, cls):
        counts[(el, cls)] += 1

    seen = set()

    def once(el, cls):
        if (el, cls) not in seen:
            seen.add((el, cls))
            add(el, cls)

    if result:
        once("result", result)
    p = res.packet
    if p is None:
        return
    once("toc.code", str(p.code))
    once("toc.mode", f"{p.mode} {_MS[p.frame_samples]}")
    once("toc.stereo", "stereo" if p.stereo else "mono")
    if p.code == 3:
        once("code3.framing", "VBR" if p.vbr else "CBR")
        data = p.data
        if p.vbr:
            pos = 2
            if p.padding_flag:
                while data[pos] == 255:
                    pos += 1
                pos += 1
            for _ in range(p.frame_count - 1):
                if data[pos] >= 252:
                    once("code3.framing", "VBR 2-byte frame length")
                    pos += 2
                else:
                    pos += 1
        m = p.frame_count
        once("code3.frames", "1" if m == 1 else "2" if m == 2 else "3" if m == 3 else "48" if m == 48 else "4-47")
        n = p.padding.length
        if not p.padding_flag:
            once("padding.length", "no padding flag")
        elif n == 0:
            once("padding.length", "0")
        else:
            chain = 0
            while data[2 + chain] == 255:
                chain += 1
            once("padding.length", "1-254, one length byte" if chain == 0 else "one 255 byte" if chain == 1
                 else "two or more 255 bytes")
    exts = res.extensions.extensions if res.extensions is not None else ()
    error = res.extensions.error if res.extensions is not None else None
    pad = p.padding_bytes
    for cls in _padding_elements(pad, exts, error):
        once("padding.element", cls)
    for e in exts:
        once("ext.id", "3-31" if e.id < 32 else "126" if e.id == 126 else "127" if e.id == 127 else "32-125")
        if e.id < 32:
            once("ext.short", "repeated" if e.repeated else f"L={e.length}")
            continue
        if e.repeated:
            once("ext.long repeated", "explicit length" if e.offset > e.header_offset else "L=0 to the end")
            continue
        if pad[e.header_offset] & 1:
            n = e.length
            cls = ("0" if n == 0 else "1" if n == 1 else "2-253" if n < 254 else "254" if n == 254 else "255"
                   if n == 255 else "256" if n == 256 else "257-509" if n < 510 else "510" if n == 510 else "511+")
            once("ext.long L=1 length", cls)
        else:
            once("ext.long L=0 length", "0" if e.length == 0 else "1-254" if e.length < 255 else "255+")
    if error is not None:
        once("ext.error", error.rule)
        once("ext.error prefix kept", "extensions before the error" if exts else "nothing before the error")
    # the DRED envelope
    dred_exts = [e for e in exts if e.id == DRED_EXTENSION_ID]
    pre = DRED_EXPERIMENTAL_PREFIX
    for e in dred_exts:
        if e.data[:1] == b"D" and len(e.data) > 2 and e.data[1:2] != pre[1:2]:
            once("dred.locate", "other version ignored")
        elif len(e.data) <= 2:
            once("dred.locate", "2 bytes or less ignored")
        elif e.data[:1] != b"D":
            once("dred.locate", "no 'D' ignored")
    loc = res.location
    if loc is None:
        return
    used = exts[loc.extension_index]
    once("dred.locate", "found")
    valid = [e for e in dred_exts if len(e.data) > 2 and e.data.startswith(pre)]
    later = valid[valid.index(used) + 1:]
    if any(e.frame == used.frame for e in later):
        once("dred.locate", "second on the same frame")
    if any(e.frame > used.frame for e in later):
        once("dred.locate", "second on a later frame")
    if any(e.frame < used.frame for e in later):
        once("dred.locate", "first in bitstream, later frame")
    if used.repeated:
        once("dred.locate", "found through RTE")
        once("dred.extension coding", "repeated")
    else:
        once("dred.extension coding", "L=1" if pad[used.header_offset] & 1 else "L=0")
    if used.frame > 0:
        once("dred.locate", "found on frame > 0")
        once("dred.frame duration (frame > 0)", _MS[p.frame_samples])
    if error is not None:
        once("dred.locate", "found before an extension error")
    f = used.frame
    once("dred.frame", "0" if f == 0 else "1" if f == 1 else "47" if f == 47 else "2-46")
    once("dred.frames in packet", str(p.frame_count))
    nbytes = len(loc.payload)
    once("dred.payload bytes", "1" if nbytes == 1 else "2-254" if nbytes < 255 else "255+")
    d = res.payload
    once("dred.q0", str(d.q0))
    once("dred.dQ", str(d.dQ))
    grid[(d.q0, d.dQ)] += 1
    if "qmax" in d.fields:
        once("dred.qmax", f"coded: {d.qmax}")
    else:
        once("dred.qmax", "implicit (q0 >= 14)" if d.q0 >= 14 else "implicit (dQ = 0)")
    if not d.extra_flag:
        once("dred.extra_offset", "flag 0")
    else:
        e = d.extra_offset
        once("dred.extra_offset", "flag 1, 0" if e == 0 else "1" if e == 1 else "255" if e == 255 else "2-254")
    once("dred.offset", str(d.offset))
    o = d.dred_offset
    once("dred.dred_offset", "< -32" if o < -32 else "-32..-1" if o < 0 else "0" if o == 0 else "1..16" if o <= 16
         else "> 16")
    once("dred.latent_count", str(d.latent_count))
    left = 8 * nbytes - d.bits_total
    if d.latent_count == 26 and left > 7:
        once("dred.end of payload", "26 read, more coded")
    elif left < 0:
        once("dred.end of payload", "last latent read past the end")
    elif d.latent_count:
        once("dred.end of payload", f"{left} bits left")
    if d.latent_count > 1:
        if d.dQ == 0:
            once("dred.levels", "constant (dQ = 0)")
        else:
            once("dred.levels", "rising")
            uncapped = [d.q0 + (DQ_TABLE[d.dQ] * k + 8) // 16 for k in range(d.latent_count)]
            if any(u > d.qmax for u in uncapped):
                once("dred.levels", "capped at 15" if d.qmax == 15 else "capped at qmax < 15")
    values = list(d.state) + [v for x in d.latents for v in x]
    big = max((abs(v) for v in values), default=0)
    once("dred.magnitude", "all 0" if big == 0 else "1-7" if big < 8 else "8-21 (1-2 escapes)" if big < 22
         else "22-99 (3+ escapes)" if big < 100 else "100+")


def compute_coverage(directory: str | Path, model=None) -> CoverageTable:
    """Decode every stream the manifest lists and count the classes each vector exercises."""
    from dredconf.reference.decoder import ReferenceDecoder

    root = Path(directory)
    m = load_manifest(root)
    results = {(v["stream"], v["packet"]): v["result"] for v in m["vectors"]}
    dec = ReferenceDecoder(model)
    counts: Counter = Counter()
    grid: Counter = Counter()
    n = 0
    for s in m["streams"]:
        for rec in read_stream((root / s["path"]).read_bytes()):
            if isinstance(rec, StreamError):
                raise rec
            res = dec.decode_packet(rec.packet, rec.index)
            _classify(res, counts, grid, results.get((s["path"], rec.index)))
            n += 1
    return CoverageTable(counts, grid, n)
