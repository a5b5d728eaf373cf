"""The fuzz targets on packet bytes: the packet and its extensions, the DRED payload behind every envelope (with
the schema / C core differential), libopus's standalone records, and the whole decode to features."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from dredconf.errors import PacketError
from dredconf.spec import DRED_EXPERIMENTAL_PREFIX as PREFIX
from dredconf.spec import DRED_EXTENSION_ID, build_packet, find_dred, parse_extensions, parse_packet
from dredconf.spec.dred import dred_level
from dredconf.spec.record import dred_offset
from dredconf.spec.elements import ExtensionElement, FrameSeparator, RepeatTheseExtensions
from dredconf.spec.extensions import build_elements

from .registry import (
    PACKET_READERS, PADDING_READERS, Input, Unavailable, _cache, _stats_model, check, check_derived_readers,
    check_error, check_extensions, check_location, check_packet, read_offsets, roundtrip_extensions,
    roundtrip_packet, target,
)

# ----------------------------------------------------------------------- parsers

@target("packet")
def t_packet(data: bytes) -> None:
    """Opus packet framing, then its padding's extensions and the DRED location (spec.parse_packet,
    parse_extensions, find_dred), with the packet and extension round trips and the fast readers of spec/derived.py
    against their schemas."""
    try:
        p = parse_packet(data)
    except PacketError as e:
        check_error(e, len(data))
        check_derived_readers(data, sorted({1, 2, 3, e.offset}), PACKET_READERS)
        return
    check_packet(p, data)
    lengths = [s.offset for s in p.frame_length_fields[:2]] + [p.padding_length_field.offset]
    check_derived_readers(data, sorted({1, 2, *lengths}), PACKET_READERS)
    found = parse_extensions(p.padding_bytes, p.frame_count)
    check_derived_readers(p.padding_bytes, read_offsets(found), PADDING_READERS)
    check_extensions(found, p.padding_bytes, p.frame_count)
    check_location(find_dred(p, found), p, found)
    roundtrip_packet(p)
    roundtrip_extensions(found, p.frame_count, len(data))
    return (p.code, p.vbr, min(p.frame_count, 3), found.error and found.error.rule, min(len(found), 4),
            any(e.repeated for e in found))


@target("extensions")
def t_extensions(data: bytes) -> None:
    """The padding extension iterator alone: first byte = frame count (0..48), the rest = padding;
    round trip through libopus's generator; the fast readers against their schemas."""
    inp = Input(data)
    nb_frames = inp.int(49)
    padding = inp.rest()
    found = parse_extensions(padding, nb_frames)
    check_derived_readers(padding, read_offsets(found), PADDING_READERS)
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
    from dredconf.reference.rangecoder import RangeDecoder

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
    check(d.dred_offset == dred_offset(d.offset, d.extra_offset, frame_offset), "dred_offset")
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


