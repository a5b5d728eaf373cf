"""``dredconf vectors coverage``: which syntax elements and value classes a corpus exercises.

Computed from the corpus itself: every stream is decoded with the reference
decoder (framing by ``spec.parse_packet``, with the length fields it read;
extensions by ``spec.parse_extensions``, with the trace of every padding
element it went through; the DRED payload by the C core) and each packet is
classified from what was decoded, not from what the generator meant to
write. Only the ``result`` rows come from the manifest.

Every element has a fixed list of required classes; the table lists each
with its count of vectors (0 is an empty cell, a hole in the corpus).
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

from dredconf.errors import StreamError
from dredconf.reference.decoder import ReferenceDecoder
from dredconf.spec import DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID, read_stream
from dredconf.spec.dred import is_dred, uncapped_level
from dredconf.spec.elements import REPEAT_ID, FrameSeparator, PaddingByte, PaddingRest, RawBytes, RepeatTheseExtensions

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
    r["dred.kept before ext.error"] = [rule for rule in r["ext.error"]]
    r["dred.extension coding"] = ["L=1", "L=0", "repeated"]
    r["dred.payload bytes"] = ["1", "2-254", "255-1000", "1001-65535", "65536+"]
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


def _element_class(el) -> str | None:
    """The padding.element class of an element that codes no extension of its own (None for an extension)."""
    if isinstance(el, PaddingByte):
        return "0x01 padding"
    if isinstance(el, PaddingRest):
        return "0x00 rest"
    if isinstance(el, FrameSeparator):
        n = el.increment
        return "0x02 separator" if n is None else "0x03 n=0" if n == 0 else "0x03 n=1" if n == 1 else "0x03 n>=2"
    if isinstance(el, RepeatTheseExtensions):
        return "RTE L=1" if el.L else "RTE L=0"
    if isinstance(el, RawBytes):
        return "bytes ignored after the end"
    return None


class _Once:
    """Counts each (element, class) once per packet."""

    def __init__(self, counts: Counter):
        self.counts = counts
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, el: str, cls: str) -> None:
        if (el, cls) not in self.seen:
            self.seen.add((el, cls))
            self.counts[(el, cls)] += 1


def _classify_packet(p, once: _Once) -> None:
    """TOC and code 3 framing, from the parse and its length fields."""
    once("toc.code", str(p.code))
    once("toc.mode", f"{p.mode} {_MS[p.frame_samples]}")
    once("toc.stereo", "stereo" if p.stereo else "mono")
    if p.code != 3:
        return
    once("code3.framing", "VBR" if p.vbr else "CBR")
    if any(f.length == 2 for f in p.frame_length_fields):
        once("code3.framing", "VBR 2-byte frame length")
    m = p.frame_count
    once("code3.frames", "1" if m == 1 else "2" if m == 2 else "3" if m == 3 else "48" if m == 48 else "4-47")
    if not p.padding_flag:
        once("padding.length", "no padding flag")
    elif p.padding.length == 0:
        once("padding.length", "0")
    else:
        chain = p.padding_length_field.length - 1  # the 255 bytes before the last length byte
        once("padding.length", "1-254, one length byte" if chain == 0 else "one 255 byte" if chain == 1
             else "two or more 255 bytes")


def _classify_extensions(found, once: _Once) -> None:
    """The padding elements, each extension's ID and coding, the error."""
    for t in found.elements():
        cls = _element_class(t.element)
        if cls is not None:
            once("padding.element", cls)
    failed = found.failure
    if failed is not None and failed.id == REPEAT_ID and failed.span.length:  # an RTE whose repeats fail
        once("padding.element", "RTE L=1" if failed.L else "RTE L=0")
    for e in found:
        once("ext.id", "3-31" if e.id < 32 else "126" if e.id == 126 else "127" if e.id == 127 else "32-125")
        if e.id < 32:
            once("ext.short", "repeated" if e.repeated else f"L={e.length}")
        elif e.repeated:
            once("ext.long repeated", "explicit length" if e.L else "L=0 to the end")
        elif e.L:
            n = e.length
            cls = ("0" if n == 0 else "1" if n == 1 else "2-253" if n < 254 else "254" if n == 254 else "255"
                   if n == 255 else "256" if n == 256 else "257-509" if n < 510 else "510" if n == 510 else "511+")
            once("ext.long L=1 length", cls)
        else:
            once("ext.long L=0 length", "0" if e.length == 0 else "1-254" if e.length < 255 else "255+")
    if found.error is not None:
        once("ext.error", found.error.rule)
        once("ext.error prefix kept", "extensions before the error" if len(found) else "nothing before the error")


def _classify_locate(res, once: _Once) -> None:
    """Which ID 126 extensions are ignored, which is used, and what else the packet holds."""
    p, found, loc = res.packet, res.extensions, res.location
    dred_exts = [e for e in found if e.id == DRED_EXTENSION_ID]
    for e in dred_exts:
        if e.data[:1] == b"D" and len(e.data) > 2 and e.data[1:2] != DRED_EXPERIMENTAL_PREFIX[1:2]:
            once("dred.locate", "other version ignored")
        elif len(e.data) <= 2:
            once("dred.locate", "2 bytes or less ignored")
        elif e.data[:1] != b"D":
            once("dred.locate", "no 'D' ignored")
    if loc is None:
        return
    used = found[loc.extension_index]
    once("dred.locate", "found")
    valid = [e for e in dred_exts if is_dred(e.id, e.data)]
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
        once("dred.extension coding", "L=1" if used.L else "L=0")
    if used.frame > 0:
        once("dred.locate", "found on frame > 0")
        once("dred.frame duration (frame > 0)", _MS[p.frame_samples])
    if found.error is not None:
        once("dred.locate", "found before an extension error")
        once("dred.kept before ext.error", found.error.rule)
    f = used.frame
    once("dred.frame", "0" if f == 0 else "1" if f == 1 else "47" if f == 47 else "2-46")
    once("dred.frames in packet", str(p.frame_count))
    nbytes = len(loc.payload)
    once("dred.payload bytes", "1" if nbytes == 1 else "2-254" if nbytes < 255 else "255-1000" if nbytes <= 1000
         else "1001-65535" if nbytes < 65536 else "65536+")


def _classify_payload(d, nbytes: int, once: _Once, grid: Counter) -> None:
    """The DRED header fields, latent count, end of payload, levels and magnitudes."""
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
            if any(uncapped_level(d.q0, d.dQ, k) > d.qmax for k in range(d.latent_count)):
                once("dred.levels", "capped at 15" if d.qmax == 15 else "capped at qmax < 15")
    values = list(d.state) + [v for x in d.latents for v in x]
    big = max((abs(v) for v in values), default=0)
    once("dred.magnitude", "all 0" if big == 0 else "1-7" if big < 8 else "8-21 (1-2 escapes)" if big < 22
         else "22-99 (3+ escapes)" if big < 100 else "100+")


def _classify(res, counts: Counter, grid: Counter, result: str | None) -> None:
    once = _Once(counts)
    if result:
        once("result", result)
    if res.packet is None:
        return
    _classify_packet(res.packet, once)
    _classify_extensions(res.extensions, once)
    _classify_locate(res, once)
    if res.location is not None:
        _classify_payload(res.payload, len(res.location.payload), once, grid)


def compute_coverage(directory: str | Path, model=None) -> CoverageTable:
    """Decode every stream the manifest lists and count the classes each vector exercises."""
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
