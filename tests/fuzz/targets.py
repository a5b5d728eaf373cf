"""The fuzz targets: one function per input surface, each checking the contract.

The contract (docs/ERRORS.md): on any bytes, a target's code under test either
returns a result that satisfies its invariants or raises one of the documented
error types (``DredconfError`` kinds; the manifest reader's ``ManifestError``).
Anything else (another exception, a broken invariant: ``ContractViolation``, a
disagreement between two implementations of the same rule, a hang, a crash of
the C core) is a bug. ``run`` applies the contract; the targets raise
``ContractViolation`` themselves for invariants and differential checks.

Each target is cheap to set up a second time (module-level caches) and takes
its choices from the front of the input (:class:`common.Input`), so atheris
and the random driver mutate the same bytes.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.errors import DredconfError, ExtensionError, LimitError, ModelError, PacketError, StreamError
from dredconf.reference import model as M
from dredconf.reference.model import load_model
from dredconf.spec import DRED_EXPERIMENTAL_PREFIX as PREFIX
from dredconf.spec import (
    DRED_EXTENSION_ID, build_extensions, build_packet, elements as X, find_dred, parse_extensions, parse_packet,
    read_stream,
)
from dredconf.spec.dred import dred_level
from dredconf.spec.elements import ExtensionElement, FrameSeparator, RepeatTheseExtensions
from dredconf.spec.extensions import build_elements
from dredconf.spec.packet import CONFIGS, MAX_FRAME_BYTES, MAX_PACKET_SAMPLES
from tests.helpers.shared import model_dir

from .common import ContractViolation, Input, check  # noqa: F401 - ContractViolation re-exported

_cache: dict[str, object] = {}


def _stats_model():
    """The real model (stats and decoder), loaded once per process."""
    if "stats" not in _cache:
        d = model_dir()
        if d is None:
            raise Unavailable("no model: set DREDCONF_MODEL or put ../shared beside the checkout")
        _cache["stats"] = load_model(d, parts=("stats", "decoder"))
    return _cache["stats"]


class Unavailable(RuntimeError):
    """A target cannot run here (no model, no module yet)."""


@dataclass
class Target:
    name: str
    doc: str
    fn: Callable[[bytes], None]
    allowed: tuple = ()  # documented exception types the code under test may raise
    c_core: bool = False  # reaches the C core: part of the sanitizer campaign
    max_len: int = 4096
    mutator: Callable[[bytes, int, random.Random], bytes] | None = None  # structure-aware mutation


TARGETS: dict[str, Target] = {}


def target(name: str, **kw):
    def deco(fn):
        TARGETS[name] = Target(name=name, doc=" ".join((fn.__doc__ or "").strip().split("\n\n")[0].split()),
                               fn=fn, **kw)
        return fn
    return deco


def _dredconf_errors() -> tuple:
    return (DredconfError,)


# ----------------------------------------------------------------------- shared checks

_RULE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


def check_error(e: BaseException, size: int | None = None) -> None:
    """A reported error: a stable rule id, an offset inside the input, a one-line message."""
    if not isinstance(e, DredconfError):
        check("\n" not in str(e).strip(), f"multi-line message from {type(e).__name__}: {str(e)[:200]!r}")
        return
    check(isinstance(e.rule, str) and bool(_RULE.match(e.rule)), f"bad rule {e.rule!r}")
    if e.offset is not None and size is not None:
        check(0 <= e.offset <= size, f"error offset {e.offset} outside 0..{size} ({e})")
    check("\n" not in str(e), f"multi-line error: {str(e)!r}")


def check_packet(p, data: bytes) -> None:
    n = len(data)
    check(p.data == data and p.toc == data[0], "packet data/TOC")
    check(p.config == data[0] >> 3 and p.code == data[0] & 3 and p.stereo == bool(data[0] & 4), "TOC fields")
    check(p.frame_samples == CONFIGS[p.config].frame_samples, "frame duration")
    want = {0: (1, 1), 1: (2, 2), 2: (2, 2), 3: (1, 48)}[p.code]
    check(want[0] <= p.frame_count <= want[1], f"code {p.code} with {p.frame_count} frames")
    check(p.duration_samples <= MAX_PACKET_SAMPLES or p.code != 3, "over 120 ms")
    at = p.frames[0].offset
    check(1 <= at <= n, "first frame offset")
    for f in p.frames:
        check(f.offset == at and 0 <= f.length <= MAX_FRAME_BYTES, f"frame span {f}")
        at += f.length
    check(p.padding.offset == at and p.padding.offset + p.padding.length == n, f"padding span {p.padding} of {n}")
    check(p.padding.length == 0 or p.padding_flag, "padding without the flag")
    check(not p.padding_flag or p.code == 3, "padding flag outside code 3")
    if p.code == 1:
        check(p.frames[0].length == p.frames[1].length, "code 1 frames differ")
    if p.code == 3 and not p.vbr:
        check(len({f.length for f in p.frames}) == 1, "CBR frames differ")


def check_extensions(found, padding: bytes, nb_frames: int) -> None:
    limit = getattr(X, "MAX_EXTENSIONS", None)
    if limit is not None:
        check(len(found) <= limit, f"{len(found)} extensions, over the limit {limit}")
    last_header = -1
    for e in found:
        check(X.FIRST_SHORT_ID <= e.id <= X.MAX_ID, f"extension id {e.id}")
        check(0 <= e.frame < nb_frames, f"extension frame {e.frame} of {nb_frames}")
        check(0 <= e.offset and e.offset + e.length <= len(padding), f"extension {e.id} bytes {e.offset}+{e.length} "
                                                                      f"outside the {len(padding)}-byte padding")
        check(e.data == padding[e.offset:e.offset + e.length], "extension data is not its padding bytes")
        check(e.id >= X.FIRST_LONG_ID or e.length <= 1, f"short extension {e.id} with {e.length} bytes")
        check(0 <= e.header_offset <= e.offset, f"extension header at {e.header_offset} after its payload {e.offset}")
        if not e.repeated:
            check(e.header_offset > last_header, "extension headers out of order")
            last_header = e.header_offset
    if found.error is not None:
        check(isinstance(found.error, (ExtensionError, LimitError)), f"error of type {type(found.error)}")
        check_error(found.error, len(padding))
    if nb_frames == 0:
        check(len(found) == 0 and found.error is None, "extensions in a packet without frames")


def check_location(loc, p, found) -> None:
    def is_dred(e):
        return e.id == DRED_EXTENSION_ID and len(e.data) > len(PREFIX) and e.data.startswith(PREFIX)

    first = next((i for i, e in enumerate(found) if is_dred(e)), None)
    if loc is None:
        check(first is None, f"DRED extension {first} not found")
        return
    check(loc.extension_index == first, f"DRED at extension {loc.extension_index}, the first is {first}")
    e = found[first]
    check(loc.payload == e.data[len(PREFIX):] and loc.frame == e.frame, "DRED payload/frame")
    check(loc.frame_offset == e.frame * p.frame_samples // 120, "frame_offset")
    start = loc.payload_offset
    check(p.padding.offset <= start <= p.padding.offset + p.padding.length, "DRED payload outside the padding")
    check(p.data[start:start + len(loc.payload)] == loc.payload, "DRED payload_offset does not point at it")


def roundtrip_extensions(found, nb_frames: int, variant: int) -> None:
    """Differential: libopus's generator (build_extensions) then the iterator (parse_extensions) give back
    the same (frame, id, payload) in frame order, under each generator option."""
    if nb_frames == 0 or len(found) > 512:
        return
    triples = found.triples()
    opts = [dict(), dict(repeat=False), dict(last_l0=False), dict(separator="long"),
            # room for each extension's ID byte, its length bytes (one per 255) and payload, and the suffix
            dict(pad_to=sum(3 + len(d) // 255 + len(d) for _, _, d in triples) + 40, pad_style="suffix")][variant % 5]
    built = build_extensions(triples, nb_frames, **opts)
    again = parse_extensions(built, nb_frames)
    check(again.error is None, f"generator output does not parse ({again.error}) for {opts}")
    want = sorted(triples, key=lambda t: t[0])
    check(again.in_frame_order() == want, f"extension round trip differs under {opts}")


def roundtrip_packet(p) -> None:
    """Differential: build_packet from the parsed fields parses to the same frames and padding."""
    frames = [p.frame_data(i) for i in range(p.frame_count)]
    data = build_packet(frames, config=p.config, stereo=p.stereo, code=p.code,
                        vbr=p.vbr if p.code == 3 else None,
                        padding=p.padding_bytes if p.padding_flag else None)
    q = parse_packet(data)
    check([q.frame_data(i) for i in range(q.frame_count)] == frames, "rebuilt packet's frames differ")
    check(q.padding_bytes == p.padding_bytes and q.toc == p.toc, "rebuilt packet's padding/TOC differ")


# ----------------------------------------------------------------------- parsers

@target("packet")
def t_packet(data: bytes) -> None:
    """Opus packet framing, then its padding's extensions and the DRED location (spec.parse_packet,
    parse_extensions, find_dred), with the packet and extension round trips."""
    try:
        p = parse_packet(data)
    except PacketError as e:
        check_error(e, len(data))
        return
    check_packet(p, data)
    found = parse_extensions(p.padding_bytes, p.frame_count)
    check_extensions(found, p.padding_bytes, p.frame_count)
    check_location(find_dred(p, found), p, found)
    roundtrip_packet(p)
    roundtrip_extensions(found, p.frame_count, len(data))
    return (p.code, p.vbr, min(p.frame_count, 3), found.error and found.error.rule, min(len(found), 4),
            any(e.repeated for e in found))


@target("extensions")
def t_extensions(data: bytes) -> None:
    """The padding extension iterator alone: first byte = frame count (0..48), the rest = padding;
    round trip through libopus's generator."""
    inp = Input(data)
    nb_frames = inp.int(49)
    padding = inp.rest()
    found = parse_extensions(padding, nb_frames)
    check_extensions(found, padding, nb_frames)
    again = parse_extensions(padding, nb_frames)
    check(again.triples() == found.triples() and str(again.error) == str(found.error), "parse is not deterministic")
    roundtrip_extensions(found, nb_frames, len(data))
    return (min(nb_frames, 3), found.error and found.error.rule, min(len(found), 4), any(e.repeated for e in found))


# ----------------------------------------------------------------------- DRED envelopes

CELT_2_5 = 16 << 3 | 3  # config 16: CELT NB 2.5 ms, code 3 (up to 48 frames)
SILK_20 = 9 << 3 | 3  # config 9: SILK WB 20 ms, code 3 (up to 6 frames)
SILK_60 = 11 << 3 | 3  # config 11: SILK WB 60 ms, code 3 (up to 2 frames)


@dataclass
class Envelope:
    packet: bytes
    payload: bytes  # the DRED bits
    expect_found: bool  # a valid 'D' 12 envelope on the first DRED extension
    frame: int
    frame_offset: int


def envelope(data: bytes) -> Envelope:
    """Wrap fuzz bytes as the payload of an ID-126 'D' 12 extension in a valid code-3 packet.

    Control byte 0: bits 0-2 envelope (0-4 valid, 5 other version, 6 prefix only, 7 other ID),
    bit 3 L=0 (payload to the end) vs length coded, bits 4-5 what precedes it (nothing, a short
    and a long extension, a decoy DRED with another version, an RTE group on frame 0),
    bits 6-7 configuration (CELT 2.5 ms, SILK 20 ms, SILK 60 ms, CELT with 48 frames).
    Control byte 1: frame count and the DRED's frame. The rest is the payload.
    """
    inp = Input(data)
    c0, c1 = inp.byte(), inp.byte()
    payload = inp.rest()
    kind, l0, before, conf = c0 & 7, bool(c0 & 8), (c0 >> 4) & 3, c0 >> 6
    toc, fs, max_m = [(CELT_2_5, 120, 48), (SILK_20, 960, 6), (SILK_60, 2880, 2), (CELT_2_5, 120, 48)][conf]
    m = max_m if conf == 3 else 1 + (c1 & 63) % max_m
    frame = (c1 >> 6) % m if conf != 3 else (c1 & 63) % m
    ext_id = DRED_EXTENSION_ID if kind != 7 else 125
    if kind <= 4 or kind == 7:
        body = PREFIX + payload
    elif kind == 5:
        body = b"D" + bytes([13]) + payload
    else:
        body = PREFIX
    elements = []
    if before == 1:
        elements += [ExtensionElement(5, b"\x01"), ExtensionElement(40, b"xy")]
    elif before == 2:
        elements += [ExtensionElement(DRED_EXTENSION_ID, b"D\x0b" + payload[:3])]
    elif before == 3 and m > 1 and frame == 0:
        elements += [ExtensionElement(7), RepeatTheseExtensions(L=1, payloads=((b"",),) * (m - 1))]
    if frame:
        elements.append(FrameSeparator(None if frame == 1 else frame))
    elements.append(ExtensionElement(ext_id, body, L=0 if l0 else 1))
    padding = build_elements(elements, m)
    frames = [bytes([0xF8 ^ i]) for i in range(m)]
    packet = build_packet(frames, config=toc >> 3, code=3, vbr=False, padding=padding)
    found = ext_id == DRED_EXTENSION_ID and kind <= 4 and len(payload) > 0
    return Envelope(packet, payload, found, frame, frame * fs // 120)


def py_decode_header(payload: bytes, frame_offset: int):
    """The DRED header read with the Python RangeDecoder wrapper following the draft text
    (draft-ietf-mlcodec-opus-dred; SPEC-NOTES §3 steps 1-5), with the bit position after each field."""
    from dredconf.reference.payload import RangeDecoder

    rd = RangeDecoder(payload)
    h, ends = {}, {}
    h["q0"] = rd.uint(16); ends["q0"] = rd.tell()
    h["dQ"] = rd.uint(8); ends["dQ"] = rd.tell()
    flag = rd.uint(2); ends["extra_flag"] = rd.tell()
    h["extra_flag"] = bool(flag)
    h["extra_offset"] = 0
    if flag:
        h["extra_offset"] = rd.uint(256); ends["extra_offset"] = rd.tell()
    h["offset"] = rd.uint(32); ends["offset"] = rd.tell()
    h["dred_offset"] = 16 - h["offset"] - 32 * h["extra_offset"] + frame_offset
    h["qmax"] = 15
    if h["q0"] < 14 and h["dQ"] > 0:
        n = 14 - h["q0"]
        s = rd.decode(2 * n)
        if s < n:
            rd.update(0, n, 2 * n)
        else:
            h["qmax"] = h["q0"] + 1 + (s - n)
            rd.update(s, s + 1, 2 * n)
        ends["qmax"] = rd.tell()
    return h, ends, rd


def py_decode_payload(payload: bytes, frame_offset: int, stats):
    """The whole payload in Python on the C primitives (uint, decode/update, Laplace-p0), as the draft reads."""
    h, ends, rd = py_decode_header(payload, frame_offset)

    def values(r, p0):
        return [0 if r[i] == 0 or p0[i] == 255 else rd.laplace_p0(int(p0[i]) << 7, int(r[i]) << 7)
                for i in range(len(r))]

    q0 = h["q0"]
    h["state"] = values(stats.state_r[q0], stats.state_p0[q0])
    h["levels"], h["latents"] = [], []
    for k in range(26):
        if 8 * len(payload) - rd.tell() <= 7:
            break
        q = dred_level(q0, h["dQ"], h["qmax"], k)
        h["levels"].append(q)
        h["latents"].append(values(stats.latent_r[q], stats.latent_p0[q]))
    h["latent_count"] = len(h["latents"])
    h["bits_total"] = rd.tell()
    return h, ends


def check_payload(d, payload: bytes, frame_offset: int, stats) -> None:
    """Invariants of a decoded DRED payload (reference.payload.DredPayload)."""
    check(0 <= d.q0 <= 15 and 0 <= d.dQ <= 7, f"q0 {d.q0} / dQ {d.dQ}")
    check(0 <= d.extra_offset <= 255 and (d.extra_flag or d.extra_offset == 0), f"extra_offset {d.extra_offset}")
    check(0 <= d.offset <= 31, f"offset {d.offset}")
    check(d.qmax == 15 or (d.q0 < d.qmax <= 14 and d.dQ > 0), f"qmax {d.qmax} with q0 {d.q0}")
    check(d.dred_offset == 16 - d.offset - 32 * d.extra_offset + frame_offset, "dred_offset")
    check(d.frame_offset == frame_offset, "frame_offset")
    check(0 <= d.latent_count <= 26, f"latent_count {d.latent_count}")
    check(len(d.levels) == d.latent_count == len(d.latents), "levels/latents lengths")
    check(len(d.state) == 50 and all(len(x) == 25 for x in d.latents), "state/latent sizes")
    for k, q in enumerate(d.levels):
        check(0 <= q <= 15 and q == dred_level(d.q0, d.dQ, d.qmax, k), f"level {k} = {q}")
        check(k == 0 or q >= d.levels[k - 1], "levels decrease")
    bits = 8 * len(payload)
    if d.latent_count < 26:
        check(bits - d.bits_total <= 7, f"stopped at {d.latent_count} latents with {bits - d.bits_total} bits left")
    prev = 0
    for name, (a, b) in d.fields.items():
        check(prev <= a <= b <= d.bits_total, f"field {name} at {a}..{b} (after {prev}, total {d.bits_total})")
        prev = b
    for k in range(d.latent_count):
        check(bits - d.fields[f"latent{k}"][0] > 7, f"latent {k} started with 7 bits or fewer left")
    q0 = d.q0
    for i, v in enumerate(d.state):
        if stats.state_r[q0][i] == 0 or stats.state_p0[q0][i] == 255:
            check(v == 0, f"uncoded state[{i}] = {v}")
    for k, x in enumerate(d.latents):
        q = d.levels[k]
        for i, v in enumerate(x):
            if stats.latent_r[q][i] == 0 or stats.latent_p0[q][i] == 255:
                check(v == 0, f"uncoded latents[{k}][{i}] = {v}")


def _ints(d) -> tuple:
    return (d.q0, d.dQ, d.extra_flag, d.extra_offset, d.offset, d.qmax, d.dred_offset, d.latent_count,
            list(d.levels), list(d.state), [list(x) for x in d.latents])


def c_decode_exact(payload: bytes, frame_offset: int, stats):
    """dc_dred_decode on an exact-size heap copy of the payload (so ASan sees a one-byte overread)."""
    from dredconf.reference._core import ffi, lib
    from dredconf.reference.payload import _c_stats, _from_c

    buf = ffi.new("unsigned char[]", len(payload))
    ffi.memmove(buf, payload, len(payload))
    out = ffi.new("dc_dred_payload *")
    rc = lib.dc_dred_decode(buf, len(payload), frame_offset, 26, _c_stats(stats), out)
    check(rc == 0, f"dc_dred_decode returned {rc}")
    return _from_c(out)


def check_dred_payload(payload: bytes, frame_offset: int, d, stats) -> None:
    """Invariants, then the differential checks: Python header/payload reading vs the C decoder,
    the exact-size C call, and decode(encode(decode(x))) == decode(x)."""
    from dredconf.reference.payload import decode_dred_payload, encode_dred_payload

    check_payload(d, payload, frame_offset, stats)
    h, ends = py_decode_payload(payload, frame_offset, stats)
    for k in ("q0", "dQ", "extra_flag", "extra_offset", "offset", "qmax", "dred_offset", "latent_count",
              "bits_total"):
        check(h[k] == getattr(d, k), f"{k}: Python reading {h[k]}, C core {getattr(d, k)}")
    check(h["levels"] == list(d.levels) and h["state"] == list(d.state)
          and h["latents"] == [list(x) for x in d.latents], "state/latents: Python reading and C core differ")
    for name, end in ends.items():
        check(d.fields.get(name, (None, None))[1] == end, f"field {name} ends at {d.fields.get(name)} in C, {end} in Python")
    check(_ints(c_decode_exact(payload, frame_offset, stats)) == _ints(d), "exact-size C decode differs")
    again = decode_dred_payload(encode_dred_payload(d, stats), frame_offset, stats)
    check(_ints(again) == _ints(d), "decode(encode(decode(x))) differs from decode(x)")


@target("dred_payload", c_core=True)
def t_dred_payload(data: bytes) -> None:
    """The DRED payload decoder through the reference decoder: fuzz bytes wrapped as an ID-126 'D' 12
    extension (valid and invalid envelopes) in a valid code-3 packet; header cross-checked with the
    Python RangeDecoder reading, re-encoding round trip."""
    from dredconf.reference.decoder import ReferenceDecoder

    model = _stats_model()
    dec = _cache.get("dec_ints") or _cache.setdefault("dec_ints", ReferenceDecoder(model))
    env = envelope(data)
    r = dec.decode_packet(env.packet, 0)
    check(not r.errors, f"valid envelope packet reported {r.errors}")
    check((r.location is not None) == env.expect_found, f"DRED found={r.location is not None}, "
                                                          f"expected {env.expect_found}")
    check(r.to_json(with_features=False) is not None, "to_json")
    if r.location is None:
        check(r.payload is None, "payload without location")
        return
    check(r.location.payload == env.payload and r.location.frame == env.frame
          and r.location.frame_offset == env.frame_offset, "DRED location differs from the envelope")
    check_dred_payload(env.payload, env.frame_offset, r.payload, model.stats)
    d = r.payload
    return (d.latent_count, d.qmax == 15, d.extra_flag, d.q0)


@target("standalone", c_core=True)
def t_standalone(data: bytes) -> None:
    """libopus's standalone feature-decoder records (dc_dred_decode_standalone): byte 0 = q0, byte 1 =
    latent count, rest = bits; round trip, and the overlap with the packet path (same integers coded
    with a header at dQ 0 decode the same)."""
    from dredconf.reference.payload import (decode_dred_payload, decode_dred_standalone, encode_dred_payload,
                                            encode_dred_standalone)

    stats = _stats_model().stats
    inp = Input(data)
    q0, n = inp.int(16), inp.int(27)
    rec = inp.rest()
    s = decode_dred_standalone(rec, q0, n, stats)
    check(s.q0 == q0 and s.latent_count == n and list(s.levels) == [q0] * n, "standalone header")
    check(len(s.state) == 50 and len(s.latents) == n and all(len(x) == 25 for x in s.latents), "sizes")
    check(not any(k in s.fields for k in ("q0", "dQ", "offset", "qmax")), "standalone record has header fields")
    again = decode_dred_standalone(encode_dred_standalone(s, stats), q0, n, stats)
    check(_ints(again) == _ints(s), "standalone decode(encode(decode(x))) differs")
    spec = dict(q0=q0, dQ=0, extra_offset=0, offset=inp.int(32), qmax=15, state=s.state, latents=s.latents)
    try:
        enc = encode_dred_payload(spec, stats)
    except ValueError as e:
        check(n < 26 and "stop before the last latent" in str(e), f"packet path cannot code standalone ints: {e}")
        return
    p = decode_dred_payload(enc, 0, stats)
    check(p.latent_count == n and list(p.state) == list(s.state)
          and [list(x) for x in p.latents] == [list(x) for x in s.latents]
          and list(p.levels) == [q0] * n, "packet path and standalone path disagree on the same integers")
    return n


@target("decode_full", c_core=True, max_len=2048)
def t_decode_full(data: bytes) -> None:
    """The full decode path with the real model: envelope as dred_payload, then the RDOVAE
    (ReferenceDecoder(model, features=True), exact arithmetic); features shaped 4·latent_count × 20, finite, deterministic."""
    dec = _cache.get("dec_feat")
    if dec is None:
        from dredconf.reference.decoder import ReferenceDecoder

        try:
            dec = ReferenceDecoder(_stats_model(), features=True)
        except ImportError as e:
            raise Unavailable(f"RDOVAE decoder not importable: {e}") from None
        _cache["dec_feat"] = dec
    env = envelope(data)
    r = dec.decode_packet(env.packet, 0)
    check((r.location is not None) == env.expect_found, "DRED found/not found")
    if r.payload is None:
        check(r.features is None, "features without a payload")
        return
    f = r.features
    check(f is not None and f.shape == (4 * r.payload.latent_count, 20) and f.dtype == np.float32,
          f"features {None if f is None else (f.shape, f.dtype)} for {r.payload.latent_count} latents")
    check(bool(np.all(np.isfinite(f))), "features not finite")
    check(np.array_equal(dec._rdovae.decode(r.payload), f), "RDOVAE not deterministic")
    json.dumps(r.to_json(with_features=True))
    return (r.payload.latent_count, r.payload.q0, bool(np.any(np.abs(f) > 8)))


# ----------------------------------------------------------------------- files

@target("stream")
def t_stream(data: bytes) -> None:
    """The stream-file reader (spec.read_stream) and the reference decoder over every record."""
    from dredconf.reference.decoder import ReferenceDecoder

    recs = list(read_stream(data))
    at = 0
    for i, r in enumerate(recs):
        if isinstance(r, StreamError):
            check(i == len(recs) - 1, "records after a stream error")
            check_error(r, len(data))
            check(r.packet == i and r.offset == at, f"stream error at packet {r.packet} byte {r.offset}, "
                                                    f"expected {i}, {at}")
            continue
        check(r.index == i and r.offset == at and r.packet_offset == at + 8, "record position")
        check(data[r.packet_offset:r.packet_offset + len(r.packet)] == r.packet, "record bytes")
        at = r.packet_offset + len(r.packet)
    if not recs or not isinstance(recs[-1], StreamError):
        check(at == len(data), "records do not cover the file")
    dec = _cache.get("dec_ints") or _cache.setdefault("dec_ints", ReferenceDecoder(_stats_model()))
    out = dec.decode_stream(data)
    check(len(out["packets"]) == sum(1 for r in recs if not isinstance(r, StreamError)), "decode_stream count")
    json.dumps(out)
    return tuple(sorted({e.rsplit("[", 1)[-1] for e in out["errors"]}))


@target("ogg", max_len=32768)
def t_ogg(data: bytes) -> None:
    """The Ogg Opus reader (spec.ogg.parse_ogg_opus): pages, CRCs, lacing, headers."""
    try:
        from dredconf.spec.ogg import parse_ogg_opus
    except ImportError as e:
        raise Unavailable(str(e)) from None
    s = parse_ogg_opus(data)
    for p in getattr(s, "packets", []):
        check(isinstance(p, (bytes, bytearray)) and len(p) <= len(data), "Ogg packet")


@target("inspect_cli", max_len=8192)
def t_inspect_cli(data: bytes) -> None:
    """``dredconf inspect`` on a stream file (text, --json, --packet 0): exit 0/1, one-line errors naming
    their rule, valid JSON, every error's rule visible in the text view."""

    d = _cache.get("cli_dir")
    if d is None:
        d = _cache["cli_dir"] = Path(tempfile.mkdtemp(prefix="dredconf-fuzz-cli-"))
    f = d / "s.bit"
    f.write_bytes(data)
    model = str(model_dir())
    runner = CliRunner()
    seen = []
    for args in (["--json"], [], ["--packet", "0"]):
        r = runner.invoke(main, ["inspect", *args, "--model", model, str(f)], catch_exceptions=True)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        check(r.exit_code in (0, 1), f"inspect {args} exit {r.exit_code}: {r.output[-300:]}")
        errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
        for line in errors:
            check(re.match(r"^error: (packet \d+, )?(byte \d+: )?.+ \[[a-z0-9.-]+\]$", line) is not None,
                  f"error line {line!r}")
        if not r.stdout.strip():  # nothing shown: the file is refused (an Ogg file that breaks, no packet N)
            # or it holds no packet at all
            check(r.exit_code == 1 and ("Error: " in r.stderr or "error: packet 0, byte 0: " in r.stderr)
                  or r.exit_code == 0 and not data and args == [], f"inspect {args}: no output, {r.output[-300:]!r}")
        elif args == ["--json"]:
            json.loads(r.stdout)
        elif args == []:
            for line in errors:  # the text view shows every packet's error as the stderr line does
                if not re.search(r"\[stream-[a-z0-9.-]+\]$", line):
                    check(line[len("error: "):] in r.stdout, f"text view does not show {line!r}")
        seen.append((r.exit_code, tuple(sorted({l.rsplit("[", 1)[-1] for l in errors}))))
    return tuple(seen)


@target("standalone_file", max_len=16384, c_core=True)
def t_standalone_file(data: bytes) -> None:
    """libopus's standalone record files (spec.standalone.read_standalone), then every record
    decoded by the C core as in the standalone target."""
    try:
        from dredconf.spec.standalone import read_standalone
    except ImportError as e:
        raise Unavailable(str(e)) from None
    from dredconf.reference.payload import decode_dred_standalone

    stats = _stats_model().stats
    recs = read_standalone(data)
    check(sum(12 + len(r.data) for r in recs) == len(data), "records do not cover the file")
    for r in recs:
        check(0 <= r.q0 <= 15 and r.nb_chunks % 2 == 0 and r.nb_latents <= 26, f"record {r}")
        s = decode_dred_standalone(r.data, r.q0, r.nb_latents, stats)
        check(s.latent_count == r.nb_latents, "latent count")
    return len(recs)


# ----------------------------------------------------------------------- manifest

def _manifest_mod():
    try:
        from dredconf.vectors import manifest
    except ImportError as e:
        raise Unavailable(f"dredconf.vectors.manifest: {e}") from None
    return manifest


def _allowed_manifest() -> tuple:
    m = _manifest_mod()
    return (m.ManifestError, DredconfError)


@target("manifest", max_len=65536)
def t_manifest(data: bytes) -> None:
    """The corpus manifest reader (vectors.manifest.load_manifest, verify_corpus) on manifest.json bytes;
    documented error: ManifestError."""
    m = _manifest_mod()
    d = _cache.get("manifest_dir")
    if d is None:
        d = _cache["manifest_dir"] = Path(tempfile.mkdtemp(prefix="dredconf-fuzz-manifest-"))
        (d / "a.bit").write_bytes(b"\x00\x00\x00\x01\x00\x00\x00\x00\x48")
    (d / m.MANIFEST_NAME).write_bytes(data)
    try:
        got = m.load_manifest(d)
    except m.ManifestError as e:
        check_error(e)
        rep = m.verify_corpus(d)
        check(not rep.ok and rep.problems, "verify_corpus accepted a manifest load_manifest rejects")
        return
    check(isinstance(got, dict), "manifest is not an object")
    m.validate_manifest(json.loads(m.dumps(got)))  # what the writer writes validates again
    rep = m.verify_corpus(d)
    rep.lines()


_JSON_VALUES = [None, True, False, 0, -1, 1, 255, 256, 2 ** 31, 2 ** 64, -(2 ** 63), 1.5, 1e308, "", "x",
                "valid", "invalid", "acceptable", "a.bit", "../a.bit", "/etc/passwd", "a\\b", "0" * 64, "f" * 64,
                [], {}, [[]], [{}], {"a": []}, "invalid packet", 126, "440c", "dredconf-vectors/1"]


def mutate_json(data: bytes, max_size: int, rng: random.Random) -> bytes:
    """Structure-aware mutation of a JSON document: replace, delete, duplicate or retype one node."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return bytes(data)
    nodes = []

    def walk(v, parent, key, depth):
        nodes.append((parent, key, v))
        if depth > 6:
            return
        if isinstance(v, dict):
            for k in list(v)[:64]:
                walk(v[k], v, k, depth + 1)
        elif isinstance(v, list):
            for i in range(min(len(v), 64)):
                walk(v[i], v, i, depth + 1)

    walk(doc, None, None, 0)
    for _ in range(1 + rng.randrange(3)):
        parent, key, v = rng.choice(nodes)
        op = rng.randrange(6)
        new = rng.choice(_JSON_VALUES)
        if parent is None:
            continue
        if op == 0 and isinstance(parent, dict):
            parent.pop(key, None)
        elif op == 0 and isinstance(parent, list) and key < len(parent):
            del parent[key]
        elif op == 1 and isinstance(v, list) and v:
            v.append(json.loads(json.dumps(rng.choice(v))))
        elif op == 2 and isinstance(v, dict):
            v[rng.choice(["extra", "alternatives", "packets", "frame", "id"])] = new
        elif op == 3 and isinstance(v, int) and not isinstance(v, bool):
            try:
                parent[key] = v + rng.choice([-1, 1, 2 ** 32, -v - 1])
            except (IndexError, KeyError):
                pass
        else:
            try:
                parent[key] = json.loads(json.dumps(new))
            except (IndexError, KeyError):
                pass
    out = json.dumps(doc, separators=(",", ":")).encode()
    return out[:max_size] if rng.randrange(16) else out[:rng.randrange(len(out) + 1)]


TARGETS["manifest"].mutator = mutate_json


# ----------------------------------------------------------------------- model directory

_MODEL_TOKENS = [b"}", b"};", b"{", b",", b";", b"[", b"]", b"[0]", b"[99999999]", b"-", b"0x10", b"1e999", b"nan",
                 b"inf", b"-1", b"256", b"-129", b"99999999999999999999", b"1.5", b"#ifdef WEIGHTS_x_DEFINED\n",
                 b"#endif\n", b"#else\n", b"#define WEIGHTS_dred_state_r_q8_TYPE WEIGHT_TYPE_float\n",
                 b"static const float x[2] = {1, 2};\n", b"NULL", b"\"dec_dense1_bias\"", b"/*", b"*/", b"\xff\xfe",
                 b"#define DRED_LATENT_DIM 24\n", b"#define X (1<<63)\n#define Y X*X*X*X\n",
                 b"-" * 3000, b"1+" * 3000 + b"1", b"(" * 300, b"\n", b"\x00", b"opus_int8", b"opus_uint8", b"float"]
_MODEL_NUMBERS = [b"0", b"-0", b"127", b"-128", b"128", b"-129", b"255", b"256", b"-1", b"3.4e38", b"-3.4e38",
                  b"1e-45", b"1e30", b"-1e30", b"2147483647", b"-2147483648", b"65535", b"4096", b"0.0", b"1e-30"]
_NUMBER = re.compile(rb"-?[0-9][0-9.eE+-]*")
_ANCHOR = re.compile(rb"#|\bconst\b|\{|\}|\[|\]|init_|linear_init|WEIGHTS_|NULL|\"|\n\}")


def _model_texts():
    if "model_texts" not in _cache:
        src = model_dir()
        if src is None or not src.is_dir():
            raise Unavailable("no model directory")
        names = [M.CONSTANTS_H, M.STATS_C, M.STATS_H, M.DEC_C, M.DEC_H]
        texts = {n: (src / n).read_bytes() for n in names}
        anchors = {n: [m.start() for m in _ANCHOR.finditer(t)][:200000] for n, t in texts.items()}
        work = Path(tempfile.mkdtemp(prefix="dredconf-fuzz-model-"))
        for n, t in texts.items():
            (work / n).write_bytes(t)
        _cache["model_texts"] = (texts, anchors, work, (src / M.SUMS).read_bytes())
    return _cache["model_texts"]


@target("model", max_len=256, c_core=True)
def t_model(data: bytes) -> None:
    """The model-directory loader on corrupted C-array text: edits of the real files (in a tmp dir)
    steered by the input, then load_model and, if it loads, the RDOVAE decoder on one payload;
    documented error: ModelError."""
    texts, anchors, work, sums = _model_texts()
    inp = Input(data)
    names = [M.STATS_C, M.STATS_C, M.CONSTANTS_H, M.DEC_C, M.DEC_C, M.DEC_H, M.STATS_C, M.DEC_C]
    name = names[inp.int(len(names))]
    text = bytearray(texts[name])
    for _ in range(1 + inp.int(3)):
        if inp.bool():
            a = anchors[name]
            pos = a[inp.int(len(a))] + inp.int(8) if a else 0
        else:
            pos = (inp.byte() << 16 | inp.byte() << 8 | inp.byte()) % (len(text) + 1)
        op = inp.int(9)
        if op >= 6:  # the number at or after pos becomes an extreme one (the values the decoder's checks bound)
            m = _NUMBER.search(text, pos)
            if m:
                text[m.start():m.end()] = _MODEL_NUMBERS[inp.int(len(_MODEL_NUMBERS))]
        elif op == 0:
            del text[pos:pos + 1 + inp.int(64)]
        elif op == 1:
            text[pos:pos] = _MODEL_TOKENS[inp.int(len(_MODEL_TOKENS))]
        elif op == 2:
            text[pos:pos + 1 + inp.int(8)] = _MODEL_TOKENS[inp.int(len(_MODEL_TOKENS))]
        elif op == 3:
            del text[pos:]
        elif op == 4:
            text[pos:pos] = inp.take(1 + inp.int(16))
        else:
            end = text.find(b"\n", pos)
            line = text[text.rfind(b"\n", 0, pos) + 1:end + 1 if end >= 0 else len(text)]
            text[pos:pos] = line
    with_sums = inp.byte() == 0x5A  # rarely: the SHA256SUMS check is one line, the parsers are the rest
    parts = ("stats",) if name in (M.STATS_C, M.CONSTANTS_H) and inp.byte() & 1 else ("stats", "decoder")
    target_file = work / name
    target_file.write_bytes(bytes(text))
    if with_sums:
        (work / M.SUMS).write_bytes(sums)
    try:
        model = M.load_model(work, parts=parts)
        check(model.stats.latent_r.shape == (16, 25) and model.stats.state_p0.shape == (16, 50), "stats shapes")
        if "decoder" in parts:
            _model_decode(model)
        return ("loaded", name, parts)
    except ModelError as e:
        check_error(e)
        return ("error", name, e.rule, " ".join(re.sub(r"[0-9]+", "N", e.message).split()[1:4]))
    finally:
        target_file.write_bytes(texts[name])
        if with_sums:
            (work / M.SUMS).unlink()


def _model_decode(model) -> None:
    """A (possibly corrupted, but accepted) model must decode a payload without crashing."""
    from dredconf.reference.payload import decode_dred_payload
    from dredconf.reference.rdovae import RdovaeDecoder

    dec = RdovaeDecoder(model)
    payload = bytes(range(7, 250, 3))
    p = decode_dred_payload(payload, 0, model.stats)
    f = dec.decode(p)
    check(f.shape == (4 * p.latent_count, 20), "features shape")
    check(bool(np.all(np.isfinite(f))), "features not finite with an accepted model")


def allowed_for(t: Target) -> tuple:
    if t.name == "manifest":
        return _allowed_manifest()
    return t.allowed or _dredconf_errors()


def run(t: Target, data: bytes):
    """Run a target on one input under the contract: its documented errors pass (after their own
    checks), anything else propagates. Returns the outcome: what the target returned (a small
    signature of the path taken) or the rule of the documented error."""
    try:
        return ("ok", t.fn(data))
    except allowed_for(t) as e:
        check_error(e)
        return ("error", type(e).__name__, getattr(e, "rule", None))


def available(t: Target) -> str | None:
    """None if the target can run here, else why not."""
    try:
        if t.name in ("dred_payload", "standalone", "standalone_file", "decode_full", "stream", "inspect_cli"):
            _stats_model()
        if t.name == "model":
            _model_texts()
        if t.name == "manifest":
            _manifest_mod()
        if t.name == "decode_full":
            from dredconf.reference.decoder import ReferenceDecoder  # noqa: F401
            import dredconf.reference.rdovae  # noqa: F401
        if t.name == "ogg":
            import dredconf.spec.ogg  # noqa: F401
        if t.name == "standalone_file":
            import dredconf.spec.standalone  # noqa: F401
    except (Unavailable, ImportError) as e:
        return str(e)
    return None


def cleanup() -> None:
    for key in ("cli_dir", "manifest_dir"):
        if key in _cache:
            shutil.rmtree(_cache.pop(key), ignore_errors=True)
    if "model_texts" in _cache:
        shutil.rmtree(_cache.pop("model_texts")[2], ignore_errors=True)


if os.environ.get("DREDCONF_FUZZ_SELFTEST") == "1":
    @target("selftest")
    def t_selftest(data: bytes) -> None:
        """Driver self-test (only with DREDCONF_FUZZ_SELFTEST=1): crashes on inputs starting with "CRASH",
        hangs on "HANG" and, in a sanitized campaign, overflows a C heap buffer on "ASAN", so a test can
        check that campaigns catch all three."""
        if data.startswith(b"CRASH"):
            raise KeyError("selftest crash")
        if data.startswith(b"ASAN"):
            import importlib
            import sys

            from .sanitizer import build_selftest_module

            sys.path.insert(0, str(build_selftest_module()))
            importlib.import_module("_dredconf_san_selftest").lib.overflow(16)
        if data.startswith(b"HANG"):
            while True:
                pass
        return len(data) % 3
