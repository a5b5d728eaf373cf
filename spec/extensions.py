"""Padding extensions (draft-ietf-mlcodec-opus-extension-05; SPEC-NOTES §2).

Parsing returns what libopus 1.6.1's ``OpusExtensionIterator`` (src/extensions.c)
returns, in its order (bitstream order, Repeat These Extensions expanded), stopping at
the first error with what came before kept. The byte layout is the declarative pieces
(``ExtensionHeader``, ``ShortPayload``, ``FrameIncrement``, ``LongLength``);
``PaddingExtensions`` is the state machine (current frame, repeat group, last long
extension, trailing short payload bytes) that applies them.

Building takes raw elements in order (every form the draft allows, valid or not), or
plans them from ``(frame, id, payload)`` triples the way libopus's
``opus_packet_extensions_generate`` does (``plan_extensions`` / ``build_extensions``).
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Iterable, Union

import construct as cs
from construct import this

from dredconf.errors import ExtensionError, LimitError

DRAFT = "draft-ietf-mlcodec-opus-extension-05"
PADDING_ID = 0  # L=1: one padding byte; L=0: the rest is padding
SEPARATOR_ID = 1  # L=0: next frame; L=1: advance by the byte that follows
REPEAT_ID = 2  # Repeat These Extensions
FIRST_SHORT_ID = 3  # 3..31: L is the payload length (0 or 1)
FIRST_LONG_ID = 32  # 32..127: L=1 length coded, L=0 runs to the end
MAX_ID = 127
# The suite's limit on extensions listed for one packet. libopus has none (its iterator keeps no list),
# but Repeat These Extensions multiplies zero-length ones by up to 47 per padding byte: without a cap
# 20 kB of padding lists a million extensions (docs/ERRORS.md, limit-extensions).
MAX_EXTENSIONS = 1 << 16

ExtensionHeader = cs.BitStruct(
    "id" / cs.BitsInteger(7) * f"{DRAFT}: ID, 0 padding, 1 frame separator, 2 Repeat These Extensions, "
                                "3..31 short, 32..127 long",
    "L" / cs.BitsInteger(1) * f"{DRAFT}: L flag, meaning depends on the ID",
)
"""draft-ietf-mlcodec-opus-extension: the byte that starts every element of the padding."""

ShortPayload = cs.Bytes(1) * f"{DRAFT}: short extension (ID 3..31) with L=1, exactly one payload byte"
"""draft-ietf-mlcodec-opus-extension: the payload of a short extension with L=1."""

FrameIncrement = cs.Byte * f"{DRAFT}: frame separator with L=1, frames to advance (0 changes nothing)"
"""draft-ietf-mlcodec-opus-extension: the increment byte of a 0x03 frame separator."""


class _LongLengthAdapter(cs.Adapter):
    """The long extension length: the sum of the bytes, where a 255 byte adds 255 and
    another length byte follows (unlike RFC 6716 §3.2.5 padding, where 255 adds 254)."""

    def _decode(self, obj, context, path):
        return sum(obj)

    def _encode(self, obj, context, path):
        return [255] * (obj // 255) + [obj % 255]


LongLength = _LongLengthAdapter(
    cs.RepeatUntil(lambda b, lst, ctx: b != 255, cs.Byte) * f"{DRAFT}: long extension (ID 32..127) with L=1, "
                                                            "length bytes, 255 continues"
)
"""draft-ietf-mlcodec-opus-extension: the length of a long extension with L=1."""


@dataclass(frozen=True)
class Extension:
    """One extension as libopus's iterator returns it (IDs 3..127)."""

    id: int
    frame: int
    offset: int  # byte offset of the payload within the padding
    length: int
    data: bytes
    header_offset: int  # where its coding starts: its ID byte, or for a repeated one its length/payload bytes
    repeated: bool  # produced by Repeat These Extensions (no ID byte of its own)


@dataclass(frozen=True)
class ExtensionList(Sequence):
    """The extensions found, in libopus's order, and the error that stopped parsing, if any."""

    extensions: tuple[Extension, ...]
    error: ExtensionError | LimitError | None

    def __len__(self) -> int:
        return len(self.extensions)

    def __getitem__(self, index):
        return self.extensions[index]

    def triples(self) -> list[tuple[int, int, bytes]]:
        """(frame, id, payload) in bitstream order."""
        return [(e.frame, e.id, e.data) for e in self.extensions]

    def in_frame_order(self) -> list[tuple[int, int, bytes]]:
        """(frame, id, payload) sorted by frame, bitstream order kept within a frame."""
        return sorted(self.triples(), key=lambda t: t[0])


class _Cursor:
    """A read position over the padding that applies the declarative pieces."""

    def __init__(self, data: bytes):
        self.data = data
        self.stream = io.BytesIO(data)

    @property
    def pos(self) -> int:
        return self.stream.tell()

    @property
    def left(self) -> int:
        return len(self.data) - self.stream.tell()

    def read(self, piece: cs.Construct):
        return piece.parse_stream(self.stream)

    def header(self):
        """The next ``ExtensionHeader`` (from the schema's parse of each byte value, made once)."""
        return _HEADER_OF_BYTE[self.stream.read(1)[0]]

    def skip_run(self, run: re.Pattern) -> None:
        """Skip the bytes ``run`` matches here (a run of no-op padding bytes) in one step."""
        self.stream.seek(run.match(self.data, self.pos).end())

    def skip(self, n: int) -> None:
        self.stream.seek(n, io.SEEK_CUR)


_HEADER_OF_BYTE = tuple(ExtensionHeader.parse(bytes([b])) for b in range(256))
# Runs of elements that change nothing: 0x01 (a padding byte), 0x03 0x00 (advance by 0 frames) and, while the
# repeat group is empty, 0x05 (Repeat These Extensions, L=1, of nothing). Skipping a run in one step keeps a
# megabyte of them from costing a loop iteration each. Possessive (*+): a plain * keeps a backtracking mark
# per repetition, about 100 bytes per byte skipped.
_NO_OPS = re.compile(rb"(?:\x01|\x03\x00)*+")
_NO_OPS_NO_GROUP = re.compile(rb"(?:\x01|\x03\x00|\x05)*+")


def _add(found: list, ext: Extension) -> None:
    if len(found) >= MAX_EXTENSIONS:
        raise LimitError(f"more than {MAX_EXTENSIONS} extensions in one packet (the suite's limit; libopus has "
                         "none): the rest are not listed", rule="limit-extensions", offset=ext.header_offset)
    found.append(ext)


def _fail(message: str, rule: str, offset: int):
    raise ExtensionError(message, rule=rule, offset=offset)


def _payload(cur: _Cursor, ext_id: int, L: int, tail: int, at: int, prefix: str) -> tuple[int, int]:
    """libopus skip_extension_payload for IDs 3..127: read a payload, return (offset, length).

    ``tail`` is the trailing short payload bytes an L=0 long payload must leave
    (non-zero only for the last repeated long extension); ``prefix`` names the rule
    family ("ext" in the bitstream, "ext-rte" in repeated payloads); ``at`` is where
    the element's coding starts, for errors.
    """
    start = cur.pos
    if ext_id < FIRST_LONG_ID:
        if L:
            try:
                cur.read(ShortPayload)
            except cs.StreamError:
                _fail(f"short extension {ext_id} payload byte missing at the end",
                      f"{prefix}-short-payload-missing", at)
        return start, L
    if not L:  # runs to the end, less the trailing short payloads
        if cur.left < tail:
            _fail(f"L=0 extension {ext_id} leaves {cur.left} bytes for {tail} trailing short payload bytes",
                  f"{prefix}-trailing-shorts-missing", at)
        cur.skip(cur.left - tail)
        return start, cur.pos - start
    try:
        length = cur.read(LongLength)
    except cs.StreamError:
        _fail(f"long extension {ext_id} length bytes run out", f"{prefix}-long-length-truncated", at)
    if length > cur.left:
        _fail(f"long extension {ext_id} length {length} exceeds the {cur.left} bytes left",
              f"{prefix}-long-length-past-end", at)
    start = cur.pos
    cur.skip(length)
    return start, length


class PaddingExtensions(cs.Construct):
    """The padding as a sequence of extensions: libopus's OpusExtensionIterator state machine.

    Parses to an ``ExtensionList``; builds from a list of elements (``PaddingByte``,
    ``PaddingRest``, ``FrameSeparator``, ``ExtensionElement``, ``RepeatTheseExtensions``,
    ``RawBytes``). ``nb_frames`` (the packet's frame count) may be a context lambda.
    """

    def __init__(self, nb_frames):
        super().__init__()
        self.nb_frames = nb_frames

    def _parse(self, stream, context, path):
        nb_frames = cs.evaluate(self.nb_frames, context)
        data = cs.stream_read_entire(stream, path)
        found: list[Extension] = []
        try:
            self._walk(_Cursor(data), nb_frames, found)
        except (ExtensionError, LimitError) as err:
            return ExtensionList(tuple(found), err)
        return ExtensionList(tuple(found), None)

    @staticmethod
    def _walk(cur: _Cursor, nb_frames: int, found: list[Extension]) -> None:
        frame = 0
        group: list[tuple[int, int]] = []  # (id, L) coded in this frame since the last separator or RTE
        last_long = None  # index in group of the last long extension
        tail = 0  # short payload bytes since the last long extension (libopus trailing_short_len)
        if frame >= nb_frames:
            return
        while cur.left > 0:
            cur.skip_run(_NO_OPS if group else _NO_OPS_NO_GROUP)  # elements that change nothing, in one step
            if cur.left == 0:
                break
            at = cur.pos
            head = cur.header()
            if head.id == SEPARATOR_ID:
                step = 1
                if head.L:
                    try:
                        step = cur.read(FrameIncrement)
                    except cs.StreamError:
                        _fail("frame separator 0x03 without its increment byte",
                              "ext-separator-increment-missing", at)
                    if step == 0:
                        continue  # an increment of 0 is a no-op: the repeat group is kept too
                frame += step
                if frame >= nb_frames:
                    _fail(f"frame separator moves to frame {frame} of a {nb_frames}-frame packet",
                          "ext-separator-past-last-frame", at)
                group, last_long, tail = [], None, 0
            elif head.id == REPEAT_ID:
                PaddingExtensions._repeat(cur, found, group, last_long, tail, frame, nb_frames, head.L)
                group, last_long = [], None  # libopus keeps trailing_short_len here; unused until reset
                if not head.L:
                    frame += 1
                    if frame >= nb_frames:
                        return  # bytes after an L=0 RTE on the last frame are ignored
            elif head.id == PADDING_ID:
                if not head.L:
                    return  # 0x00: the rest is padding
            else:
                start, length = _payload(cur, head.id, head.L, 0, at, "ext")
                group.append((head.id, head.L))
                if head.id >= FIRST_LONG_ID:
                    last_long, tail = len(group) - 1, 0
                else:
                    tail += head.L
                _add(found, Extension(head.id, frame, start, length, cur.data[start:start + length], at, False))

    @staticmethod
    def _repeat(cur, found, group, last_long, tail, frame, nb_frames, rte_l) -> None:
        """libopus next_repeat: the group's payloads again for every later frame."""
        for rframe in range(frame + 1, nb_frames):
            for k, (ext_id, L) in enumerate(group):
                if not rte_l and rframe + 1 >= nb_frames and k == last_long:
                    L = 0  # L=0 RTE: the last repeated long extension of the last frame runs to the end
                at = cur.pos
                start, length = _payload(cur, ext_id, L, tail, at, "ext-rte")
                _add(found, Extension(ext_id, rframe, start, length, cur.data[start:start + length], at, True))

    def _build(self, obj, stream, context, path):
        nb_frames = cs.evaluate(self.nb_frames, context)
        out = _serialize(obj, nb_frames)
        cs.stream_write(stream, out, len(out), path)
        return obj


# --- building: raw elements ---------------------------------------------------------


@dataclass(frozen=True)
class PaddingByte:
    """ID 0, L=1 (0x01): one byte of padding."""


@dataclass(frozen=True)
class PaddingRest:
    """ID 0, L=0 (0x00): the rest of the padding is padding; ``fill`` follows it."""

    fill: bytes = b""


@dataclass(frozen=True)
class FrameSeparator:
    """ID 1: ``increment`` None is 0x02 (next frame); an int n is 0x03 n (n=0 changes nothing)."""

    increment: int | None = None


@dataclass(frozen=True)
class ExtensionElement:
    """A short (ID 3..31) or long (ID 32..127) extension.

    ``L`` None: a short one's L is its payload length; a long one is length coded (L=1).
    A long one with L=0 runs to the end of the padding.
    """

    id: int
    payload: bytes = b""
    L: int | None = None


@dataclass(frozen=True)
class RepeatTheseExtensions:
    """ID 2: repeat the extensions coded since the last separator or RTE for every later frame.

    ``payloads[i][k]`` is the payload of the group's k-th extension for frame
    current + 1 + i. With ``L=0`` the last long one of the last frame carries no length
    and the frame advances by one afterwards.
    """

    L: int = 1
    payloads: tuple[tuple[bytes, ...], ...] = ()


@dataclass(frozen=True)
class RawBytes:
    """Bytes written as they are (for malformed vectors)."""

    data: bytes


Element = Union[PaddingByte, PaddingRest, FrameSeparator, ExtensionElement, RepeatTheseExtensions, RawBytes]


def _element_l(el: ExtensionElement) -> int:
    if el.L is not None:
        return el.L
    return len(el.payload) if el.id < FIRST_LONG_ID else 1


def _serialize(elements: Iterable[Element], nb_frames: int) -> bytes:
    """Write elements in order with the declarative pieces, tracking the repeat group."""
    out = bytearray()
    frame = 0
    group: list[tuple[int, int]] = []
    for el in elements:
        if isinstance(el, PaddingByte):
            out += ExtensionHeader.build(dict(id=PADDING_ID, L=1))
        elif isinstance(el, PaddingRest):
            out += ExtensionHeader.build(dict(id=PADDING_ID, L=0)) + bytes(el.fill)
        elif isinstance(el, FrameSeparator):
            if el.increment is None:
                out += ExtensionHeader.build(dict(id=SEPARATOR_ID, L=0))
                frame, group = frame + 1, []
            else:
                out += ExtensionHeader.build(dict(id=SEPARATOR_ID, L=1)) + FrameIncrement.build(el.increment)
                if el.increment:
                    frame, group = frame + el.increment, []
        elif isinstance(el, ExtensionElement):
            if not FIRST_SHORT_ID <= el.id <= MAX_ID:
                raise ValueError(f"extension ID {el.id} is not 3..127")
            L = _element_l(el)
            if L not in (0, 1) or (el.id < FIRST_LONG_ID and len(el.payload) != L):
                raise ValueError(f"extension {el.id}: L={L} with {len(el.payload)} payload byte(s)")
            out += ExtensionHeader.build(dict(id=el.id, L=L))
            if el.id >= FIRST_LONG_ID and L:
                out += LongLength.build(len(el.payload))
            out += bytes(el.payload)
            group.append((el.id, L))
        elif isinstance(el, RepeatTheseExtensions):
            out += ExtensionHeader.build(dict(id=REPEAT_ID, L=el.L)) + _repeated(el, group, frame, nb_frames)
            group = []
            if not el.L:
                frame += 1
        elif isinstance(el, RawBytes):
            out += bytes(el.data)
        else:
            raise TypeError(f"not a padding element: {el!r}")
    return bytes(out)


def _repeated(el: RepeatTheseExtensions, group, frame: int, nb_frames: int) -> bytes:
    """The payloads after an RTE: each group member coded as its original would be."""
    later = range(frame + 1, nb_frames)
    if len(el.payloads) != len(later) or any(len(p) != len(group) for p in el.payloads):
        raise ValueError(f"RTE on frame {frame} of {nb_frames} repeats {len(group)} extension(s) "
                         f"for {len(later)} frame(s)")
    longs = [k for k, (ext_id, _) in enumerate(group) if ext_id >= FIRST_LONG_ID]
    last_long = longs[-1] if longs else None
    out = bytearray()
    for rframe, payloads in zip(later, el.payloads):
        for k, ((ext_id, L), payload) in enumerate(zip(group, payloads)):
            if ext_id < FIRST_LONG_ID:
                if len(payload) != L:
                    raise ValueError(f"repeated short extension {ext_id} carries {L} payload byte(s)")
            elif el.L or rframe + 1 < nb_frames or k != last_long:
                out += LongLength.build(len(payload))
            out += bytes(payload)
    return bytes(out)


def build_elements(elements: Iterable[Element], nb_frames: int = 1) -> bytes:
    """Padding bytes for these elements, in order (``nb_frames`` matters only for RTE)."""
    return PaddingExtensions(nb_frames).build(list(elements))


# --- building: libopus's generator ----------------------------------------------------


def plan_extensions(extensions: Iterable[tuple[int, int, bytes]], nb_frames: int, *, repeat: bool = True,
                    last_l0: bool = True, separator: str = "auto") -> list[Element]:
    """The elements libopus's opus_packet_extensions_generate writes for (frame, id, payload).

    ``repeat`` False never uses Repeat These Extensions; ``last_l0`` False codes every
    length (no L=0 last long extension, no L=0 RTE); ``separator`` "auto" uses 0x02 for
    the next frame and 0x03 n otherwise, "long" always 0x03 n.
    """
    items = [(int(f), int(i), bytes(p)) for f, i, p in extensions]
    if not 0 <= nb_frames <= 48:
        raise ValueError(f"{nb_frames} frames: 0..48 allowed")
    for f, i, p in items:
        if not 0 <= f < nb_frames:
            raise ValueError(f"frame {f} outside 0..{nb_frames - 1}")
        if not FIRST_SHORT_ID <= i <= MAX_ID:
            raise ValueError(f"extension ID {i} is not 3..127")
        if i < FIRST_LONG_ID and len(p) > 1:
            raise ValueError(f"short extension {i} carries at most one byte")
    per_frame = [[(i, p) for f, i, p in items if f == g] for g in range(nb_frames)]
    start = [0] * nb_frames  # per frame: how many of its extensions earlier RTEs already carried
    total, written, current = len(items), 0, 0
    elements: list[Element] = []
    for f in range(nb_frames):
        mine = per_frame[f][start[f]:]
        later = range(f + 1, nb_frames)
        count = _repeatable_prefix(per_frame, start, mine, later) if repeat else 0
        longs = [k for k in range(count) if mine[k][0] >= FIRST_LONG_ID]
        for k, (ext_id, payload) in enumerate(mine):
            if f != current:
                step = f - current
                elements.append(FrameSeparator(None if step == 1 and separator == "auto" else step))
                current = f
            last = last_l0 and written == total - 1
            L = len(payload) if ext_id < FIRST_LONG_ID else int(not last)
            elements.append(ExtensionElement(ext_id, payload, L))
            written += 1
            if count and k == count - 1:
                # L=0 when nothing follows the repeats, or (no long repeated) to skip a separator
                rte_last = last_l0 and (written + count * len(later) == total
                                        or (not longs and k + 1 >= len(mine)))
                payloads = tuple(tuple(per_frame[g][start[g] + j][1] for j in range(count)) for g in later)
                elements.append(RepeatTheseExtensions(L=int(not rte_last), payloads=payloads))
                written += count * len(later)
                for g in later:
                    start[g] += count
                if rte_last:
                    current += 1
    return elements


def _repeatable_prefix(per_frame, start, mine, later) -> int:
    """How many of this frame's first extensions every later frame starts with (same ID, and
    same length for short ones): those are coded once and repeated."""
    if not later:
        return 0
    count = 0
    for k, (ext_id, payload) in enumerate(mine):
        for g in later:
            pos = start[g] + k
            if pos >= len(per_frame[g]):
                return count
            other_id, other = per_frame[g][pos]
            if other_id != ext_id or (ext_id < FIRST_LONG_ID and len(other) != len(payload)):
                return count
        count += 1
    return count


def build_extensions(extensions: Iterable[tuple[int, int, bytes]], nb_frames: int, *, repeat: bool = True,
                     last_l0: bool = True, separator: str = "auto", pad_to: int | None = None,
                     pad_style: str = "prefix") -> bytes:
    """Padding carrying (frame, id, payload) extensions, as libopus's generator writes it.

    ``pad_to`` fills up to that many bytes: "prefix" puts 0x01 bytes first (libopus),
    "suffix" ends with 0x00 and zeros (then no L=0 last long extension). Parsing the
    result gives the same extensions in frame order (``ExtensionList.in_frame_order``).
    """
    items = list(extensions)
    if pad_style not in ("prefix", "suffix"):
        raise ValueError(f"pad_style {pad_style!r}: 'prefix' or 'suffix'")
    if separator not in ("auto", "long"):
        raise ValueError(f"separator {separator!r}: 'auto' or 'long'")
    suffix = pad_to is not None and pad_style == "suffix"
    elements = plan_extensions(items, nb_frames, repeat=repeat, last_l0=last_l0 and not suffix,
                               separator=separator)
    data = build_elements(elements, nb_frames)
    if pad_to is None or pad_to == len(data):
        return data
    if pad_to < len(data):
        raise ValueError(f"{len(data)} bytes of extensions do not fit in {pad_to}")
    fill = pad_to - len(data)
    if suffix:
        return data + build_elements([PaddingRest(bytes(fill - 1))])
    return build_elements([PaddingByte()] * fill) + data


Extensions = PaddingExtensions(this.nb_frames)
"""draft-ietf-mlcodec-opus-extension: a code 3 packet's padding; parse/build with nb_frames=M."""


def parse_extensions(padding: bytes, nb_frames: int) -> ExtensionList:
    """The extensions in the padding of an ``nb_frames``-frame packet, as libopus iterates them."""
    return Extensions.parse(bytes(padding), nb_frames=nb_frames)
