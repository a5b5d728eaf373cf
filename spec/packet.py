"""Opus packet framing (RFC 6716 §3.1–3.2), accepting exactly what libopus 1.6.1's
``opus_packet_parse_impl`` (self_delimited = 0) accepts, with the RFC 6716 §3.4 rule
(R1–R7) each rejection breaks.

The byte layout is the declarative schemas below (``Toc``, ``FrameLength``,
``FrameCountByte``, ``PaddingLength``); ``OpusFraming`` is the small state machine
that picks them by frame count code and checks the rules.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import construct as cs
from construct import this

from dredconf.errors import PacketError

from .derived import byte_table, maker

MAX_FRAME_BYTES = 1275  # RFC 6716 §3.4 R2: no frame is longer
MAX_PACKET_SAMPLES = 5760  # RFC 6716 §3.4 R5: 120 ms at 48 kHz
MAX_FRAMES = 48  # RFC 6716 §3.2.5: M is at most 48 (120 ms of 2.5 ms frames)


class ConfigInfo(NamedTuple):
    """One row of RFC 6716 §3.1 Table 2."""

    mode: str  # "SILK", "Hybrid" or "CELT"
    bandwidth: str  # "NB", "MB", "WB", "SWB" or "FB"
    frame_samples: int  # frame duration in samples at 48 kHz


def _config_table() -> tuple[ConfigInfo, ...]:
    rows = []
    for bw in ("NB", "MB", "WB"):  # configs 0..11: SILK-only, 10/20/40/60 ms
        rows += [ConfigInfo("SILK", bw, n) for n in (480, 960, 1920, 2880)]
    for bw in ("SWB", "FB"):  # configs 12..15: Hybrid, 10/20 ms
        rows += [ConfigInfo("Hybrid", bw, n) for n in (480, 960)]
    for bw in ("NB", "WB", "SWB", "FB"):  # configs 16..31: CELT-only, 2.5/5/10/20 ms
        rows += [ConfigInfo("CELT", bw, n) for n in (120, 240, 480, 960)]
    return tuple(rows)


CONFIGS = _config_table()  # RFC 6716 §3.1 Table 2, indexed by config


def frame_samples(toc: int) -> int:
    """RFC 6716 §3.1 Table 2: samples per frame at 48 kHz for a TOC byte (its top 5 bits are the config)."""
    return CONFIGS[toc >> 3].frame_samples

Toc = cs.BitStruct(
    "config" / cs.BitsInteger(5) * "RFC 6716 §3.1: config, mode/bandwidth/frame size (Table 2)",
    "stereo" / cs.Flag * "RFC 6716 §3.1: s, 0 mono, 1 stereo",
    "code" / cs.BitsInteger(2) * "RFC 6716 §3.1: c, frame count code 0..3 (§3.2)",
    "mode" / cs.Computed(lambda c: CONFIGS[c.config].mode) * "RFC 6716 §3.1 Table 2",
    "bandwidth" / cs.Computed(lambda c: CONFIGS[c.config].bandwidth) * "RFC 6716 §3.1 Table 2",
    "frame_samples" / cs.Computed(lambda c: CONFIGS[c.config].frame_samples) * "RFC 6716 §3.1 Table 2, at 48 kHz",
)
"""RFC 6716 §3.1: the table-of-contents byte."""


class _FrameLengthAdapter(cs.Adapter):
    """RFC 6716 §3.2.1: one byte below 252, else two bytes worth first + 4 * second."""

    def _decode(self, obj, context, path):
        return obj.first if obj.second is None else obj.first + 4 * obj.second

    def _encode(self, obj, context, path):
        if not 0 <= obj <= MAX_FRAME_BYTES:
            raise cs.ExplicitError(f"frame length {obj} cannot be coded (RFC 6716 §3.2.1)", path=path)
        if obj < 252:
            return dict(first=obj, second=None)
        first = 252 + (obj & 3)
        return dict(first=first, second=(obj - first) >> 2)


FrameLength = _FrameLengthAdapter(cs.Struct(
    "first" / cs.Byte * "RFC 6716 §3.2.1: 0..251 is the length, 252..255 needs a second byte",
    "second" / cs.If(this.first >= 252, cs.Byte) * "RFC 6716 §3.2.1: length = first + 4 * second",
))
"""RFC 6716 §3.2.1: a frame length, 0..1275, in 1 or 2 bytes."""

FrameCountByte = cs.BitStruct(
    "vbr" / cs.Flag * "RFC 6716 §3.2.5: v, 1 = VBR (explicit lengths), 0 = CBR",
    "padded" / cs.Flag * "RFC 6716 §3.2.5: p, padding length bytes follow",
    "count" / cs.BitsInteger(6) * "RFC 6716 §3.2.5: M, number of frames (1..48)",
)
"""RFC 6716 §3.2.5: the frame count byte of a code 3 packet."""


class _PaddingLengthAdapter(cs.Adapter):
    """RFC 6716 §3.2.5: each 255 byte adds 254 and another length byte follows."""

    def _decode(self, obj, context, path):
        return sum(254 if b == 255 else b for b in obj)

    def _encode(self, obj, context, path):
        return [255] * (obj // 254) + [obj % 254]


PaddingLength = _PaddingLengthAdapter(
    cs.RepeatUntil(lambda b, lst, ctx: b != 255, cs.Byte) * "RFC 6716 §3.2.5: padding length bytes"
)
"""RFC 6716 §3.2.5: the padding length (bytes of padding at the end of the packet)."""


# The schemas' parse of every byte value, made once: a packet's first two bytes are looked up, not re-parsed,
# as plain tuples (a Container's attributes are slow to read); so are one-byte lengths (None: a longer coding,
# which the schema parses).
_TocFields = NamedTuple("_TocFields", [(k, object) for k in ("config", "stereo", "code", "mode", "bandwidth",
                                                              "frame_samples")])
_CountFields = NamedTuple("_CountFields", [("vbr", bool), ("padded", bool), ("count", int)])
_TOC_OF_BYTE = tuple(_TocFields(*(t[k] for k in _TocFields._fields)) for t in byte_table(Toc))
_COUNT_OF_BYTE = tuple(_CountFields(c.vbr, c.padded, c.count) for c in byte_table(FrameCountByte))
_FRAME_LENGTH_OF_BYTE = byte_table(FrameLength)
_PADDING_LENGTH_OF_BYTE = byte_table(PaddingLength)


class Span(NamedTuple):
    """A byte range of the packet."""

    offset: int
    length: int


@dataclass(frozen=True)
class OpusPacket:
    """A framed Opus packet: TOC fields, where each frame and the padding lie (RFC 6716 §3)."""

    data: bytes
    toc: int  # the TOC byte
    config: int
    mode: str
    bandwidth: str
    frame_samples: int  # duration of one frame, in samples at 48 kHz
    stereo: bool
    code: int  # frame count code c
    vbr: bool  # code 2, or code 3 with v set
    padding_flag: bool  # code 3 with p set (the padding may still be empty)
    frames: tuple[Span, ...]
    padding: Span  # trailing padding (RFC 6716 §3.2.5); length 0 when none
    frame_length_fields: tuple[Span, ...] = ()  # the coded frame lengths (code 2, code 3 VBR), 1 or 2 bytes each
    padding_length_field: Span = Span(0, 0)  # the padding length bytes (code 3 with p set)

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def duration_samples(self) -> int:
        return self.frame_count * self.frame_samples

    @property
    def padding_bytes(self) -> bytes:
        return self.data[self.padding.offset:self.padding.offset + self.padding.length]

    def frame_data(self, index: int) -> bytes:
        span = self.frames[index]
        return self.data[span.offset:span.offset + span.length]


_make_packet = maker(OpusPacket)


def _read(piece: cs.Construct, table: tuple, data: bytes, offset: int, end: int, rule: str, what: str):
    """Parse one declarative piece from data[offset:end]: a one-byte coding from the piece's ``table``
    (``byte_table``), a longer one by the piece itself; running out of bytes breaks ``rule``."""
    if offset < end:
        value = table[data[offset]]
        if value is not None:
            return value, offset + 1
    stream = io.BytesIO(data[offset:end])
    try:
        value = piece.parse_stream(stream)
    except cs.StreamError:
        raise PacketError(f"{what} runs past the end", rule=rule, offset=offset) from None
    return value, offset + stream.tell()


class OpusFraming(cs.Construct):
    """RFC 6716 §3.2 framing: the state machine over frame count codes 0..3.

    Parses the whole buffer to an ``OpusPacket`` (raises ``PacketError``); builds from
    a dict of ``build_packet``'s arguments.
    """

    def _parse(self, stream, context, path):
        return self.frame(cs.stream_read_entire(stream, path))

    @staticmethod
    def frame(data: bytes) -> OpusPacket:
        """The framing of a whole packet (bytes); ``parse_packet`` calls it directly (construct's parse adds
        only a stream around the same bytes)."""
        n = len(data)
        if n == 0:
            raise PacketError("empty packet: no TOC byte", rule="rfc6716-r1", offset=0)
        toc = _TOC_OF_BYTE[data[0]]
        vbr = toc.code == 2
        padding_flag = False
        pad = 0
        fields = ((), Span(0, 0))  # (frame length fields, padding length field)
        if toc.code == 0:
            start, sizes = 1, [n - 1]
        elif toc.code == 1:
            if (n - 1) % 2:
                raise PacketError(f"code 1 packet with an odd number of frame bytes ({n - 1})",
                                  rule="rfc6716-r3", offset=1)
            start, sizes = 1, [(n - 1) // 2] * 2
        elif toc.code == 2:
            first, start = _read(FrameLength, _FRAME_LENGTH_OF_BYTE, data, 1, n, "rfc6716-r4",
                                 "code 2 first frame length")
            if first > n - start:
                raise PacketError(f"code 2 first frame length {first} exceeds the {n - start} bytes left",
                                  rule="rfc6716-r4", offset=1)
            sizes = [first, n - start - first]
            fields = ((Span(1, start - 1),), Span(0, 0))
        else:
            start, sizes, pad, vbr, padding_flag, fields = OpusFraming._code3(data, toc.frame_samples)
        # libopus checks only the implicit (last) length; explicit ones cannot exceed 1275
        if sizes[-1] > MAX_FRAME_BYTES:
            raise PacketError(f"frame {len(sizes) - 1} is {sizes[-1]} bytes, over {MAX_FRAME_BYTES}",
                              rule="rfc6716-r2", offset=start + sum(sizes[:-1]))
        frames, at = [], start
        for size in sizes:
            frames.append(Span(at, size))
            at += size
        return _make_packet(data=data, toc=data[0], config=toc.config, mode=toc.mode, bandwidth=toc.bandwidth,
                            frame_samples=toc.frame_samples, stereo=toc.stereo, code=toc.code, vbr=vbr,
                            padding_flag=padding_flag, frames=tuple(frames), padding=Span(at, pad),
                            frame_length_fields=fields[0], padding_length_field=fields[1])

    @staticmethod
    def _code3(data: bytes, frame_samples: int):
        """RFC 6716 §3.2.5: frame count byte, padding length, VBR lengths or CBR division."""
        n = len(data)
        if n < 2:
            raise PacketError("code 3 packet without its frame count byte", rule="rfc6716-r6", offset=1)
        fc = _COUNT_OF_BYTE[data[1]]
        if fc.count == 0 or fc.count * frame_samples > MAX_PACKET_SAMPLES:
            raise PacketError(f"code 3 packet with M={fc.count} frames of {frame_samples} samples "
                              f"(1..{MAX_PACKET_SAMPLES // frame_samples} allowed, at most 120 ms)",
                              rule="rfc6716-r5", offset=1)
        rule = "rfc6716-r7" if fc.vbr else "rfc6716-r6"
        pad, pos = 0, 2
        if fc.padded:
            pad, pos = _read(PaddingLength, _PADDING_LENGTH_OF_BYTE, data, 2, n, rule, "padding length")
            if pad > n - pos:
                raise PacketError(f"padding of {pad} bytes exceeds the {n - pos} bytes left",
                                  rule=rule, offset=2)
        pad_field = Span(2, pos - 2)
        end = n - pad  # frames lie in data[pos:end]; padding is the rest
        if not fc.vbr:
            if (end - pos) % fc.count:
                raise PacketError(f"CBR code 3: {end - pos} frame bytes do not split into {fc.count} frames",
                                  rule="rfc6716-r6", offset=pos)
            return pos, [(end - pos) // fc.count] * fc.count, pad, False, fc.padded, ((), pad_field)
        sizes, last, length_fields = [], end - pos, []
        for i in range(fc.count - 1):
            at = pos
            size, pos = _read(FrameLength, _FRAME_LENGTH_OF_BYTE, data, at, end, "rfc6716-r7", f"frame {i} length")
            # libopus compares each length with the bytes left after the length bytes only
            if size > end - pos:
                raise PacketError(f"frame {i} length {size} exceeds the {end - pos} bytes left",
                                  rule="rfc6716-r7", offset=at)
            last -= (pos - at) + size
            sizes.append(size)
            length_fields.append(Span(at, pos - at))
        if last < 0:
            raise PacketError(f"VBR frame lengths exceed the packet by {-last} bytes",
                              rule="rfc6716-r7", offset=pos)
        return pos, sizes + [last], pad, True, fc.padded, (tuple(length_fields), pad_field)

    def _build(self, obj, stream, context, path):
        frames = [bytes(f) for f in obj["frames"]]
        padding = obj.get("padding")
        code = obj.get("code")
        if code is None:
            code = _auto_code(frames, padding)
        out = Toc.build(dict(config=obj.get("config", 0), stereo=obj.get("stereo", False), code=code))
        if code in (0, 1, 2):
            if padding is not None:
                raise cs.ExplicitError("only code 3 packets carry padding (RFC 6716 §3.2.5)", path=path)
            if len(frames) != (1 if code == 0 else 2):
                raise cs.ExplicitError(f"code {code} carries {1 if code == 0 else 2} frame(s)", path=path)
            if code == 1 and len(frames[0]) != len(frames[1]):
                raise cs.ExplicitError("code 1 frames have equal lengths (RFC 6716 §3.2.3)", path=path)
            if code == 2:
                out += FrameLength.build(len(frames[0]))
        else:
            vbr = obj.get("vbr")
            if vbr is None:
                vbr = len({len(f) for f in frames}) > 1
            if not vbr and len({len(f) for f in frames}) > 1:
                raise cs.ExplicitError("CBR code 3 frames have equal lengths (RFC 6716 §3.2.5)", path=path)
            out += FrameCountByte.build(dict(vbr=vbr, padded=padding is not None, count=len(frames)))
            if padding is not None:
                raw = obj.get("padding_length_bytes")
                out += PaddingLength.build(len(padding)) if raw is None else bytes(raw)
            if vbr:
                out += b"".join(FrameLength.build(len(f)) for f in frames[:-1])
        out += b"".join(frames) + (padding or b"")
        cs.stream_write(stream, out, len(out), path)
        return obj


def _auto_code(frames: Sequence[bytes], padding: bytes | None) -> int:
    """The smallest frame count code that can carry these frames (RFC 6716 §3.2)."""
    if padding is None and len(frames) == 1:
        return 0
    if padding is None and len(frames) == 2:
        return 1 if len(frames[0]) == len(frames[1]) else 2
    return 3


Packet = OpusFraming()
"""RFC 6716 §3: a whole Opus packet (undelimited framing)."""


def parse_packet(data: bytes) -> OpusPacket:
    """Frame an Opus packet as libopus does; raises ``PacketError`` naming the RFC 6716 §3.4 rule."""
    return OpusFraming.frame(bytes(data))


def build_packet(frames: Sequence[bytes], *, config: int = 0, stereo: bool = False, code: int | None = None,
                 vbr: bool | None = None, padding: bytes | None = None,
                 padding_length_bytes: bytes | None = None, strict: bool = True) -> bytes:
    """Build an Opus packet for generators.

    ``code`` None picks the smallest code (padding forces code 3); ``vbr`` None picks VBR
    when the frames differ in length; ``padding`` None means no padding flag, ``b""`` a
    flagged empty padding; ``padding_length_bytes`` overrides the canonical length coding
    (e.g. ``b"\\xff\\x00"`` for 254). ``strict`` re-parses the result, so a packet breaking
    RFC 6716 §3.4 raises ``PacketError``.
    """
    data = Packet.build(dict(frames=frames, config=config, stereo=stereo, code=code, vbr=vbr,
                             padding=None if padding is None else bytes(padding),
                             padding_length_bytes=padding_length_bytes))
    if strict:
        parse_packet(data)
    return data
