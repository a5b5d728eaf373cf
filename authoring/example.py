"""``spec example``: one packet's DRED worked by hand, RFC style: its bytes, the TOC and frame count byte, the
padding length, every padding element with its header byte drawn as bits, the DRED envelope, then each
range-coded field with the coder's state after it, the initial state, the first latent and the stop rule.

The framing comes from ``spec`` (the schemas' parse), the range-coder steps from the C core's decoder
(``reference.rangecoder.RangeDecoder``) driven by ``spec.dred.DRED_HEADER``; before anything is printed, every
decoded value is checked against the reference decoder's record of the packet."""
from __future__ import annotations

from dataclasses import dataclass, field

from dredconf.errors import DredconfError
from dredconf.reference.payload import decode_dred_payload
from dredconf.reference.rangecoder import RangeDecoder
from dredconf.spec import find_dred, parse_extensions, parse_packet
from dredconf.spec.dred import (
    DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID, DRED_HEADER, FRAME_OFFSET_UNIT, LATENT_MIN_BITS, MAX_LEVEL, dred_level, is_dred,
    qmax_total,
)
from dredconf.spec.elements import (
    FIRST_LONG_ID, ExtensionHeader, FrameSeparator, PaddingByte, PaddingRest, RawBytes,
    RepeatTheseExtensions,
)
from dredconf.spec.packet import FrameCountByte, FrameLength, PaddingLength, Toc
from dredconf.spec.record import LATENT_DIM, MAX_LATENTS, STATE_DIM, dred_offset

from .figures import bit_fields, diagram, length_rule, schema_cells
from .formats import Heading, Pre, Prose, WIDTH

HEX_PER_ROW = 16
VALUES_PER_ROW = 10


class ExampleError(ValueError):
    """The packet cannot be worked as an example (no DRED, broken framing): one line saying why."""


@dataclass
class _Walk:
    """The decoder's steps, as printed: (name, call, value, rng, val, tell) per header field, and the values."""

    header: list[tuple] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def hex_rows(data: bytes) -> list[str]:
    """The bytes as rows of 16, each led by its offset in hex."""
    width = max(4, len(f"{len(data):x}"))
    return [f"{i:0{width}x}  " + " ".join(f"{b:02x}" for b in data[i:i + HEX_PER_ROW])
            for i in range(0, len(data), HEX_PER_ROW)]


def _value_rows(name: str, values: list[int]) -> list[str]:
    """Up to 10 values a row, fewer where large values would pass 72 columns."""
    rows, i = [], 0
    while i < len(values):
        for n in range(min(VALUES_PER_ROW, len(values) - i), 0, -1):
            row = f"{name}[{i}..{i + n - 1}] = " + " ".join(map(str, values[i:i + n]))
            if len(row) <= WIDTH:
                break
        rows.append(row)
        i += n
    return rows


def _byte_bits(schema, byte: int, values: dict) -> list[str]:
    """A header byte as its bits, field by field (the ruler left out), with what they say."""
    cells, at = [], 0
    bits = f"{byte:08b}"
    for f, c in zip(bit_fields(schema), schema_cells(schema)):
        cells.append(c._replace(label=" ".join(bits[at:at + c.bits])))
        at += c.bits
    lines = diagram(cells)[2:]
    say = ", ".join(f"{k} = {int(v)}" for k, v in values.items())
    lines[1] += f"  {say}"
    return lines


def _run_of(coded: bytes) -> str:
    """Length bytes as printed: each, or a long run of 255s counted."""
    if len(coded) <= 4:
        return " ".join(map(str, coded))
    if len(set(coded)) == 1:
        return f"{coded[0]} (x {len(coded)})"
    return f"{coded[0]} (x {len(coded) - 1}) {coded[-1]}" if len(set(coded[:-1])) == 1 else " ".join(map(str, coded))


def _bytes(n: int) -> str:
    return f"{n} byte{'' if n == 1 else 's'}"


def _span(start: int, length: int) -> str:
    return f"bytes {start}..{start + length - 1}" if length else f"byte {start} (empty)"


def _framing(p) -> list:
    toc = Toc.parse(p.data[:1])
    blocks = [Heading("TOC byte (RFC 6716 section 3.1)"),
              Pre(_byte_bits(Toc, p.data[0], {"config": toc.config, "s": toc.stereo, "c": toc.code}) + [
                  f"toc = 0x{p.toc:02x}",
                  f"config {toc.config}: {toc.mode} {toc.bandwidth}, {toc.frame_samples / 48:g} ms frames; "
                  f"{'stereo' if toc.stereo else 'mono'}; code {toc.code}"])]
    fc = FrameCountByte.parse(p.data[1:2])
    lines = _byte_bits(FrameCountByte, p.data[1], {"v": fc.vbr, "p": fc.padded, "M": fc.count})
    lines.append(f"frame_count = {fc.count}")
    _, step = length_rule(PaddingLength)
    f = p.padding_length_field
    if f.length > 1:
        lines.append(f"{_span(f.offset, f.length - 1)} = {_run_of(p.data[f.offset:f.offset + f.length - 1])}: "
                     f"each adds {step} and another follows")
    last = f.offset + f.length - 1
    lines.append(f"byte {last} = {p.data[last]}: adds {p.data[last]}, the last length byte")
    lines.append(f"padding_length = {p.padding.length}: the last {p.padding.length} bytes, "
                 f"{_span(p.padding.offset, p.padding.length)}")
    for i, span in enumerate(p.frame_length_fields):
        lines.append(f"{_span(span.offset, span.length)}: frame {i} length "
                     f"{FrameLength.parse(p.data[span.offset:span.offset + span.length])}")
    for i, span in enumerate(p.frames):
        lines.append(f"frame {i}: {_span(span.offset, span.length)} ({_bytes(span.length)})")
    blocks += [Heading("Frame count byte, padding length, frames (RFC 6716 section 3.2.5)"), Pre(lines)]
    return blocks


def _element_lines(p, exts, traced) -> list[str]:
    """One padding element: where it is, its header byte as bits, its length bytes and payload."""
    base = p.padding.offset
    start, el = base + traced.span.offset, traced.element
    head = p.data[start]
    if isinstance(el, RawBytes):
        return [f"{_span(start, traced.span.length)}: ignored (after the end of the extensions)"]
    hdr = ExtensionHeader.parse(bytes([head]))
    lines = [f"byte {start} = 0x{head:02x}:"] + _byte_bits(ExtensionHeader, head, {"ID": hdr.id, "L": hdr.L})
    if isinstance(el, PaddingByte):
        lines.append("one padding byte")
    elif isinstance(el, PaddingRest):
        lines.append(f"the rest is padding: {_span(start + 1, len(el.fill))}")
    elif isinstance(el, FrameSeparator):
        lines.append("next frame" if el.increment is None else
                     f"byte {start + 1} = {el.increment}: advance {el.increment} frame(s)")
    elif isinstance(el, RepeatTheseExtensions):
        lines.append("repeat the extensions of this frame since the last separator or repeat:")
        for e in exts.extensions:
            if e.repeated and traced.span.offset <= e.header_offset < traced.span.offset + traced.span.length:
                lines += _payload_lines(base, e, "  ", p.data)
    else:
        lines += _payload_lines(base, next(e for e in exts.extensions if e.header_offset == traced.span.offset
                                           and not e.repeated), "", p.data)
    return lines


def _payload_lines(base: int, e, indent: str, data: bytes) -> list[str]:
    kind = "long" if e.id >= FIRST_LONG_ID else "short"
    out = [f"{indent}{kind} extension {e.id} on frame {e.frame}" + (" (repeated)" if e.repeated else "")]
    lf = e.length_field
    if lf.length:
        coded = data[base + lf.offset:base + lf.offset + lf.length]
        out.append(f"{indent}{_span(base + lf.offset, lf.length)} = {_run_of(coded)}: length {e.length}")
    elif e.id >= FIRST_LONG_ID:
        out.append(f"{indent}no length (L = 0): the payload runs to the end")
    out.append(f"{indent}payload: {_span(base + e.offset, e.length)}")
    if e.id == DRED_EXTENSION_ID:
        out.append(f"{indent}" + ("it starts 'D', 12: DRED" if is_dred(e.id, e.data)
                                  else "no 'D', 12 prefix (or nothing after it): not DRED"))
    return out


def _padding(p, exts) -> list:
    blocks = [Heading("Padding extensions (draft-ietf-mlcodec-opus-extension)")]
    lines: list[str] = []
    elements = exts.elements()
    i = 0
    while i < len(elements):
        run = i
        while run < len(elements) and isinstance(elements[run].element, PaddingByte):
            run += 1
        if run - i > 1:  # a run of 0x01 bytes is drawn once
            start = p.padding.offset + elements[i].span.offset
            lines += _element_lines(p, exts, elements[i])[:-1] + [f"{_span(start, run - i)}: {run - i} padding "
                                                                   "bytes 0x01", ""]
            i = run
            continue
        lines += _element_lines(p, exts, elements[i]) + [""]
        i += 1
    failure = exts.failure
    if failure is not None:
        at = p.padding.offset + failure.span.offset
        lines += [f"byte {at} = 0x{p.data[at]:02x}: where parsing stops"]
        lines += _byte_bits(ExtensionHeader, p.data[at], {"ID": failure.id, "L": failure.L})
        if failure.span.length > 1:
            lines.append(f"then {_span(at + 1, failure.span.length - 1)} of it, and the padding ends")
    blocks.append(Pre(lines[:-1] if lines and not lines[-1] else lines))
    if exts.error is not None:
        err = exts.error.at(offset_base=p.padding.offset)
        blocks.append(Prose(f"Error at byte {err.offset}: {err.message} [{err.rule}]. libopus stops here "
                            f"(OPUS_INVALID_PACKET), keeps the {len(exts)} extension(s) found before, and still "
                            "decodes the frames."))
    listed = [f"#{i}: id = {e.id}, frame = {e.frame}, length = {e.length}" for i, e in enumerate(exts)]
    blocks += [Prose("The extensions a decoder lists, in libopus's order (bitstream order, repeats expanded):"),
               Pre(listed + [f"extension_error = {'invalid packet' if exts.error is not None else 'null'}"])]
    return blocks


def _walk(bits: bytes, fo: int, stats) -> _Walk:
    """Decode the DRED bits step by step with the C core's range decoder, as ``spec.dred.DRED_HEADER`` says."""
    w = _Walk()
    dec = RangeDecoder(bits)
    h: dict[str, int] = {"extra_offset": 0, "qmax": MAX_LEVEL}
    w.header.append(("init", "ec_dec_init", None, dec.rng, dec.val, dec.tell()))
    for f in DRED_HEADER:
        if f.present is not True and not f.present(h):
            continue
        if f.ft is not None:
            h[f.name] = dec.uint(f.ft)
            w.header.append((f.name, f"ec_dec_uint({f.ft})", h[f.name], dec.rng, dec.val, dec.tell()))
            continue
        total = qmax_total(h["q0"])
        n = total // 2
        s = dec.decode(total)
        if s >= n:
            h["qmax"], fl, fh = h["q0"] + 1 + (s - n), s, s + 1
        else:
            fl, fh = 0, n
        dec.update(fl, fh, total)
        w.header.append((f.name, f"ec_decode({total})", h["qmax"], dec.rng, dec.val, dec.tell()))
        w.notes.append(f"qmax: s = {s} {'>=' if s >= n else '<'} n = {n}: ec_dec_update({fl}, {fh}, {total})")
    h["frame_offset"] = fo
    h["dred_offset"] = dred_offset(h["offset"], h["extra_offset"], fo)
    w.values.update(h)
    w.values["state"] = _values(dec, stats.state_r[h["q0"]], stats.state_p0[h["q0"]], STATE_DIM)
    w.values["after_state"] = (dec.rng, dec.val, dec.tell())
    latents, levels, steps = [], [], []
    for k in range(MAX_LATENTS):
        left = 8 * len(bits) - dec.tell()
        if left < LATENT_MIN_BITS:
            w.values["stop"] = (k, left)
            break
        q = dred_level(h["q0"], h["dQ"], h["qmax"], k)
        levels.append(q)
        latents.append(_values(dec, stats.latent_r[q], stats.latent_p0[q], LATENT_DIM))
        steps.append((k, q, left, dec.rng, dec.val, dec.tell()))
    w.values.update(latents=latents, levels=levels, steps=steps, latent_count=len(latents))
    return w


def _values(dec: RangeDecoder, r, p0, dim: int) -> list[int]:
    """dim values at one level: 0 where r = 0 or p0 = 255 (not coded), else Laplace-p0 with the Q8 tables << 7."""
    return [dec.laplace_p0(int(p0[i]) << 7, int(r[i]) << 7) if r[i] and p0[i] != 255 else 0 for i in range(dim)]


def _check(w: _Walk, bits: bytes, fo: int, stats) -> None:
    """The walk must say what the reference decoder says of these bits (the C core's own loop)."""
    ref = decode_dred_payload(bits, fo, stats)
    v = w.values
    mine = (v["q0"], v["dQ"], v["extra_offset"], v["offset"], v["qmax"], v["dred_offset"], v["state"], v["levels"],
            v["latents"])
    theirs = (ref.q0, ref.dQ, ref.extra_offset, ref.offset, ref.qmax, ref.dred_offset, ref.state, ref.levels,
              ref.latents)
    if mine != theirs:
        raise RuntimeError("the worked example disagrees with the reference decoder (a bug in dredconf)")


def _coder(rng: int, val: int, tell: int) -> str:
    return f"rng={rng:08x} val={val:08x} tell={tell}"


def _dred(p, exts, loc, stats) -> list:
    e = exts[loc.extension_index]
    prefix = DRED_EXPERIMENTAL_PREFIX
    start = p.padding.offset + e.offset
    bits_at = loc.payload_offset
    n = len(loc.payload)
    env = [f"extension #{loc.extension_index}: ID {e.id} on frame {e.frame}" + (" (repeated)" if e.repeated else ""),
           f"payload: {_span(start, e.length)}",
           f"byte {start} = 0x{prefix[0]:02x} '{chr(prefix[0])}', byte {start + 1} = {prefix[1]}: "
           f"DRED version {prefix[1]}",
           f"DRED bits: {_span(bits_at, n)} ({n} bytes, {8 * n} bits)",
           f"frame_offset = {e.frame} * {p.frame_samples} / {FRAME_OFFSET_UNIT} = {loc.frame_offset} (2.5 ms units)"]
    others = [i for i, x in enumerate(exts) if is_dred(x.id, x.data) and i != loc.extension_index]
    blocks = [Heading("DRED envelope (draft-ietf-mlcodec-opus-dred)"), Pre(env)]
    if others:
        blocks.append(Prose(f"Also DRED: {', '.join(f'#{i}' for i in others)}. A decoder uses the first "
                            "one found."))
    w = _walk(loc.payload, loc.frame_offset, stats)
    _check(w, loc.payload, loc.frame_offset, stats)
    v = w.values
    rows = [f"{'field = value':<20}{'call':<17}coder after (hex; tell in bits)"]
    for name, call, value, rng, val, tell in w.header:
        rows.append(f"{name if value is None else f'{name} = {value}':<20}{call:<17}{_coder(rng, val, tell)}")
    if not any(row[0] == "qmax" for row in w.header):
        rows.append(f"{f'qmax = {MAX_LEVEL}':<20}not coded (q0 >= 14 or dQ = 0)")
    rows += w.notes + [
        f"dred_offset = 16 - {v['offset']} - 32 * {v['extra_offset']} + {v['frame_offset']} = {v['dred_offset']}"]
    blocks += [Heading("Range-coded header"), Pre(rows)]
    q0 = v["q0"]
    uncoded = sum(1 for i in range(STATE_DIM) if not (stats.state_r[q0][i] and stats.state_p0[q0][i] != 255))
    blocks += [Heading(f"Initial state: {STATE_DIM} values at level q0 = {q0}"),
               Pre(_value_rows("state", v["state"]) + [
                   f"({uncoded} dimension(s) not coded at this level: 0)",
                   "after the state: " + _coder(*v["after_state"])])]
    blocks += _latents(v, n)
    return blocks


def _latents(v: dict, n: int) -> list:
    steps = v["steps"]
    if not steps:
        k, left = v["stop"]
        return [Heading("Latents and the stop rule"),
                Pre([f"before latent 0: bits left = 8 * {n} - tell = {left} < {LATENT_MIN_BITS}: stop",
                     "latent_count = 0", "levels = none"])]
    k, q, left, rng, val, tell = steps[0]
    blocks = [Heading(f"Latent 0 (the newest): {LATENT_DIM} values at level {q}"),
              Pre([f"before it: bits left = 8 * {n} - tell = {left} >= {LATENT_MIN_BITS}: decode",
                   f"level = min(qmax, q0 + ((dQ_table[dQ] * 0 + 8) >> 4)) = {q}"]
                  + _value_rows("latent0", v["latents"][0]) + ["after latent 0: " + _coder(rng, val, tell)])]
    lines = [f"latent {k}: level {q}, bits left before {left}, tell after {tell}" for k, q, left, _, _, tell in steps]
    if "stop" in v:
        k, left = v["stop"]
        lines.append(f"before latent {k}: bits left = 8 * {n} - tell = {left} < {LATENT_MIN_BITS}: stop")
    else:
        lines.append(f"{MAX_LATENTS} latents: the most a decoder reads (bits left {8 * n - steps[-1][5]})")
    lines.append(f"latent_count = {v['latent_count']}")
    lines += _wrapped("levels = ", v["levels"])
    return blocks + [Heading("Latents and the stop rule"), Pre(lines)]


def _wrapped(lead: str, values: list[int]) -> list[str]:
    out, line = [], lead
    for x in map(str, values):
        if len(line) + len(x) + 1 > WIDTH:
            out.append(line.rstrip())
            line = " " * len(lead)
        line += x + " "
    return out + [line.rstrip()]


def worked_example(data: bytes, stats, *, title: str) -> list:
    """The blocks of one packet's worked example; ``ExampleError`` if it cannot be framed or has no DRED."""
    try:
        p = parse_packet(data)
    except DredconfError as e:
        raise ExampleError(f"{title}: {e}") from None
    exts = parse_extensions(p.padding_bytes, p.frame_count)
    loc = find_dred(p, exts)
    if loc is None:
        raise ExampleError(f"{title}: no DRED extension (ID 126 with 'D' and version 12, with DRED bits after it); "
                           "spec example works a packet that carries one")
    blocks = [Heading(title), Prose(f"An Opus packet of {len(data)} bytes (length = {len(data)}), in hex. Every "
                                    "offset below is a byte offset into it, counted from 0."),
              Pre(hex_rows(data))]
    return blocks + _framing(p) + _padding(p, exts) + _dred(p, exts, loc, stats)
