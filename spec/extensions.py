"""Padding extensions (draft-ietf-mlcodec-opus-extension-05; SPEC-NOTES §2): reading and writing a padding.

Parsing returns what libopus 1.6.1's ``OpusExtensionIterator`` (src/extensions.c)
returns, in its order (bitstream order, Repeat These Extensions expanded), stopping at
the first error with what came before kept, and a trace of every element it went
through (``ExtensionList.elements``). The byte layout is the declarative pieces of
``spec.elements`` (``ExtensionHeader``, ``ShortPayload``, ``FrameIncrement``,
``LongLength``); ``PaddingExtensions`` is the state machine (current frame, repeat
group, last long extension, trailing short payload bytes) that applies them.

Building is the one writer of the syntax: ``PaddingBuilder`` takes elements in order
(every form the draft allows, and with ``Truncated`` the padding ending inside one) and
says which extensions each codes, where and on which frame. ``spec.generator`` lays out
``(frame, id, payload)`` triples the way libopus's ``opus_packet_extensions_generate`` does.
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Iterable

import construct as cs
from construct import this

from dredconf.errors import ExtensionError, LimitError

from .elements import (
    HEADER_OF_BYTE, FIRST_LONG_ID, FIRST_SHORT_ID, MAX_ID, PADDING_ID, REPEAT_ID, SEPARATOR_ID, Element, Extension,
    ExtensionElement, ExtensionHeader, Failed, FrameIncrement, FrameSeparator, LongLength, PaddingByte, PaddingRest,
    RawBytes, RepeatTheseExtensions, ShortPayload, Traced, Truncated,
)
from .derived import byte_table, maker
from .packet import Span

# The suite's limit on extensions listed for one packet. libopus has none (its iterator keeps no list),
# but Repeat These Extensions multiplies zero-length ones by up to 47 per padding byte: without a cap
# 20 kB of padding lists a million extensions (docs/ERRORS.md, limit-extensions).
MAX_EXTENSIONS = 1 << 16

@dataclass(frozen=True)
class ExtensionList(Sequence):
    """The extensions found, in libopus's order, and the error that stopped parsing, if any."""

    extensions: tuple[Extension, ...]
    error: ExtensionError | LimitError | None
    padding: bytes = b""
    #: each element coding no extension of its own: (start, end, kind, frame, first, last), in bitstream order;
    #: kind is _MARK_*, frame the frame it is read in, extensions[first:last] the repeats it codes
    marks: tuple[tuple[int, int, int, int, int, int], ...] = ()
    nb_frames: int = 0

    def __len__(self) -> int:
        return len(self.extensions)

    def __getitem__(self, index):
        return self.extensions[index]

    def __iter__(self):
        return iter(self.extensions)

    def triples(self) -> list[tuple[int, int, bytes]]:
        """(frame, id, payload) in bitstream order."""
        return [(e.frame, e.id, e.data) for e in self.extensions]

    def in_frame_order(self) -> list[tuple[int, int, bytes]]:
        """(frame, id, payload) sorted by frame, bitstream order kept within a frame."""
        return sorted(self.triples(), key=lambda t: t[0])

    def elements(self) -> list[Traced]:
        """Every element the parse went through, in bitstream order, up to the error: where its coding lies
        and the element itself (building these elements gives the padding back, up to the error)."""
        out = [Traced(Span(e.header_offset, e.offset + e.length - e.header_offset), ExtensionElement(e.id, e.data, e.L))
               for e in self.extensions if not e.repeated]
        for start, end, kind, frame, first, last in self.marks:
            if kind == _MARK_FAILED:
                continue
            if kind == _MARK_RUN:
                out += [Traced(Span(m.start(), m.end() - m.start()), self._no_op(m.group(), frame))
                        for m in _NO_OP.finditer(self.padding, start, end)]
            elif kind == _MARK_IGNORED:
                out.append(Traced(Span(start, end - start), RawBytes(self.padding[start:end])))
            else:
                repeats = self.extensions[first:last]
                out.append(Traced(Span(start, end - start), self._element(start, end, frame, repeats)))
        return sorted(out, key=lambda t: t.span.offset)

    @property
    def failure(self) -> Failed | None:
        """The element the error stopped the parse in: from its start to the error, and its header (None when the
        parse did not fail in an element)."""
        if not self.marks or self.marks[-1][2] != _MARK_FAILED:
            return None
        start, end = self.marks[-1][:2]
        head = HEADER_OF_BYTE[self.padding[start]]
        return Failed(Span(start, end - start), head.id, head.L)

    def _no_op(self, code: bytes, frame: int) -> Element:
        if code == b"\x01":
            return PaddingByte()
        if code == b"\x03\x00":
            return FrameSeparator(0)
        return RepeatTheseExtensions(L=1, payloads=((),) * (self.nb_frames - frame - 1))  # of an empty group

    def _element(self, start: int, end: int, frame: int, repeats) -> Element:
        head = HEADER_OF_BYTE[self.padding[start]]
        if head.id == PADDING_ID:
            return PaddingRest(self.padding[start + 1:end])
        if head.id == SEPARATOR_ID:
            return FrameSeparator(self.padding[start + 1] if head.L else None)
        payloads = tuple(tuple(e.data for e in repeats if e.frame == f) for f in range(frame + 1, self.nb_frames))
        return RepeatTheseExtensions(L=head.L, payloads=payloads)


_make_list = maker(ExtensionList)


class _Cursor:
    """A read position over the padding that applies the declarative pieces: a one-byte coding from the piece's
    ``byte_table`` (made once), a longer one parsed by the piece itself."""

    __slots__ = ("data", "pos", "end", "_stream")

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.end = len(data)
        self._stream = None  # a stream over the data, for the pieces' own parse

    @property
    def left(self) -> int:
        return self.end - self.pos

    def read(self, piece: cs.Construct):
        """The next ``piece`` (``cs.StreamError`` when it runs past the end)."""
        pos = self.pos
        if pos < self.end:
            value = _BYTE_TABLES[id(piece)][self.data[pos]]
            if value is not None:
                self.pos = pos + 1
                return value
        if self._stream is None:
            self._stream = io.BytesIO(self.data)
        self._stream.seek(pos)
        value = piece.parse_stream(self._stream)
        self.pos = self._stream.tell()
        return value

    def header(self):
        """The next ``ExtensionHeader`` (from the schema's parse of each byte value, made once)."""
        head = HEADER_OF_BYTE[self.data[self.pos]]
        self.pos += 1
        return head

    def skip_run(self, run: re.Pattern) -> None:
        """Skip the bytes ``run`` matches here (a run of no-op padding bytes) in one step."""
        self.pos = run.match(self.data, self.pos).end()

    def skip(self, n: int) -> None:
        self.pos += n


# The schema's parse of each one-byte coding of the pieces the cursor reads (by the piece's id).
_BYTE_TABLES = {id(piece): byte_table(piece) for piece in (ShortPayload, FrameIncrement, LongLength)}

# Runs of elements that change nothing: 0x01 (a padding byte), 0x03 0x00 (advance by 0 frames) and, while the
# repeat group is empty, 0x05 (Repeat These Extensions, L=1, of nothing). Skipping a run in one step keeps a
# megabyte of them from costing a loop iteration each. Possessive (*+): a plain * keeps a backtracking mark
# per repetition, about 100 bytes per byte skipped.
_NO_OPS = re.compile(rb"(?:\x01|\x03\x00)*+")
_NO_OPS_NO_GROUP = re.compile(rb"(?:\x01|\x03\x00|\x05)*+")
_NO_OP = re.compile(rb"\x01|\x03\x00|\x05")  # one element of such a run, for the trace
# Kinds of ExtensionList.marks: a run of no-op elements, one element coding no extension of its own, ignored bytes,
# the element an error stopped the parse in.
_MARK_RUN, _MARK_ELEMENT, _MARK_IGNORED, _MARK_FAILED = 0, 1, 2, 3


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
        return self.walk(cs.stream_read_entire(stream, path), cs.evaluate(self.nb_frames, context))

    @staticmethod
    def walk(data: bytes, nb_frames: int) -> ExtensionList:
        """The ``ExtensionList`` of a whole padding (bytes); ``parse_extensions`` calls it directly (construct's
        parse adds only a stream around the same bytes and a context for ``nb_frames``)."""
        found: list[Extension] = []
        marks: list[tuple[int, int, int, int, int, int]] = []
        try:
            PaddingExtensions._walk(_Cursor(data), nb_frames, found, marks)
        except (ExtensionError, LimitError) as err:
            return _make_list(tuple(found), err, data, tuple(marks), nb_frames)
        return _make_list(tuple(found), None, data, tuple(marks), nb_frames)

    @staticmethod
    def _walk(cur: _Cursor, nb_frames: int, found: list[Extension], marks: list) -> None:
        frame = 0
        group: list[tuple[int, int]] = []  # (id, L) coded in this frame since the last separator or RTE
        last_long = None  # index in group of the last long extension
        tail = 0  # short payload bytes since the last long extension (libopus trailing_short_len)
        if frame >= nb_frames:
            return
        while cur.pos < cur.end:
            at = cur.pos
            cur.skip_run(_NO_OPS if group else _NO_OPS_NO_GROUP)  # elements that change nothing, in one step
            if cur.pos != at:
                marks.append((at, cur.pos, _MARK_RUN, frame, 0, 0))
            if cur.pos == cur.end:
                break
            at = cur.pos
            head_id, head_l = cur.header()
            try:  # free until raised: on an error, the trace notes where the failing element starts
                if head_id == SEPARATOR_ID:
                    step = 1
                    if head_l:
                        try:
                            step = cur.read(FrameIncrement)
                        except cs.StreamError:
                            _fail("frame separator 0x03 without its increment byte",
                                  "ext-separator-increment-missing", at)
                        if step == 0:
                            marks.append((at, cur.pos, _MARK_ELEMENT, frame, 0, 0))
                            continue  # an increment of 0 is a no-op: the repeat group is kept too
                    frame += step
                    if frame >= nb_frames:
                        _fail(f"frame separator moves to frame {frame} of a {nb_frames}-frame packet",
                              "ext-separator-past-last-frame", at)
                    marks.append((at, cur.pos, _MARK_ELEMENT, frame - step, 0, 0))
                    group, last_long, tail = [], None, 0
                elif head_id == REPEAT_ID:
                    first = len(found)
                    PaddingExtensions._repeat(cur, found, group, last_long, tail, frame, nb_frames, head_l)
                    marks.append((at, cur.pos, _MARK_ELEMENT, frame, first, len(found)))
                    group, last_long = [], None  # libopus keeps trailing_short_len here; unused until reset
                    if not head_l:
                        frame += 1
                        if frame >= nb_frames:
                            if cur.left:
                                marks.append((cur.pos, len(cur.data), _MARK_IGNORED, frame, 0, 0))
                            return  # bytes after an L=0 RTE on the last frame are ignored
                elif head_id == PADDING_ID:
                    if not head_l:
                        marks.append((at, len(cur.data), _MARK_ELEMENT, frame, 0, 0))
                        return  # 0x00: the rest is padding
                else:
                    start, length = _payload(cur, head_id, head_l, 0, at, "ext")
                    group.append((head_id, head_l))
                    if head_id >= FIRST_LONG_ID:
                        last_long, tail = len(group) - 1, 0
                    else:
                        tail += head_l
                    _add(found, Extension(head_id, frame, start, length, cur.data[start:start + length], at, False))
            except ExtensionError as err:
                marks.append((at, err.offset, _MARK_FAILED, frame, 0, 0))
                raise

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


def _element_l(el: ExtensionElement) -> int:
    if el.L is not None:
        return el.L
    return len(el.payload) if el.id < FIRST_LONG_ID else 1


class PaddingBuilder:
    """The writing state machine, the one writer of the padding syntax: elements in, bytes out, and for each
    element the extensions it codes, as a parser lists them (frame, offsets, repeats expanded).

    ``frame`` and ``group`` (the (id, L) of the extensions coded since the last separator or RTE, what an
    RTE repeats) are the state after the elements so far.
    """

    def __init__(self, nb_frames: int):
        self.nb_frames = nb_frames
        self.out = bytearray()
        self.frame = 0
        self.group: list[tuple[int, int]] = []
        self._cut = False

    @property
    def data(self) -> bytes:
        return bytes(self.out)

    def add(self, el: Element) -> tuple[Extension, ...]:
        """Write one element; the extensions it codes (for ``Truncated``, those a decoder lists before failing)."""
        if self._cut:
            raise ValueError(f"nothing can follow a truncated element (the padding ends inside it): {el!r}")
        if isinstance(el, PaddingByte):
            self.out += ExtensionHeader.build(dict(id=PADDING_ID, L=1))
        elif isinstance(el, PaddingRest):
            self.out += ExtensionHeader.build(dict(id=PADDING_ID, L=0)) + bytes(el.fill)
        elif isinstance(el, FrameSeparator):
            self._separator(el)
        elif isinstance(el, ExtensionElement):
            return (self._extension(el),)
        elif isinstance(el, RepeatTheseExtensions):
            return self._repeat(el)
        elif isinstance(el, RawBytes):
            self.out += bytes(el.data)
        elif isinstance(el, Truncated):
            return self._truncated(el)
        else:
            raise TypeError(f"not a padding element: {el!r}")
        return ()

    def _separator(self, el: FrameSeparator) -> None:
        if el.increment is None:
            self.out += ExtensionHeader.build(dict(id=SEPARATOR_ID, L=0))
            self.frame, self.group = self.frame + 1, []
            return
        self.out += ExtensionHeader.build(dict(id=SEPARATOR_ID, L=1)) + FrameIncrement.build(el.increment)
        if el.increment:  # an increment of 0 changes nothing, not even the repeat group
            self.frame, self.group = self.frame + el.increment, []

    def _extension(self, el: ExtensionElement) -> Extension:
        if not FIRST_SHORT_ID <= el.id <= MAX_ID:
            raise ValueError(f"extension ID {el.id} is not 3..127")
        L = _element_l(el)
        if L not in (0, 1) or (el.id < FIRST_LONG_ID and len(el.payload) != L):
            raise ValueError(f"extension {el.id}: L={L} with {len(el.payload)} payload byte(s)")
        at = len(self.out)
        self.out += ExtensionHeader.build(dict(id=el.id, L=L))
        if el.id >= FIRST_LONG_ID and L:
            self.out += LongLength.build(len(el.payload))
        start = len(self.out)
        self.out += bytes(el.payload)
        self.group.append((el.id, L))
        return Extension(el.id, self.frame, start, len(el.payload), el.payload, at, False)

    def _repeat(self, el: RepeatTheseExtensions) -> tuple[Extension, ...]:
        """The RTE byte, then each group member's payload again for every later frame, coded as its original
        (short ones keep their size; long ones carry a length, but with L=0 the last long one of the last frame)."""
        later = range(self.frame + 1, self.nb_frames)
        group = self.group
        if len(el.payloads) != len(later) or any(len(p) != len(group) for p in el.payloads):
            raise ValueError(f"RTE on frame {self.frame} of {self.nb_frames} repeats {len(group)} extension(s) "
                             f"for {len(later)} frame(s)")
        longs = [k for k, (ext_id, _) in enumerate(group) if ext_id >= FIRST_LONG_ID]
        last_long = longs[-1] if longs else None
        self.out += ExtensionHeader.build(dict(id=REPEAT_ID, L=el.L))
        coded = []
        for rframe, payloads in zip(later, el.payloads):
            for k, ((ext_id, L), payload) in enumerate(zip(group, payloads)):
                at = len(self.out)
                if ext_id < FIRST_LONG_ID:
                    if len(payload) != L:
                        raise ValueError(f"repeated short extension {ext_id} carries {L} payload byte(s)")
                elif el.L or rframe + 1 < self.nb_frames or k != last_long:
                    self.out += LongLength.build(len(payload))
                coded.append(Extension(ext_id, rframe, len(self.out), len(payload), payload, at, True))
                self.out += bytes(payload)
        self.group = []
        if not el.L:
            self.frame += 1
        return tuple(coded)

    def _truncated(self, el: Truncated) -> tuple[Extension, ...]:
        """The element cut short; a decoder lists the extensions whose coding ends before the cut, up to the
        first that does not or that runs to the end (L=0: with the padding cut, it is what fails)."""
        if not isinstance(el.element, (FrameSeparator, ExtensionElement, RepeatTheseExtensions)) or (
                isinstance(el.element, ExtensionElement) and el.element.id >= FIRST_LONG_ID
                and _element_l(el.element) == 0):
            raise ValueError(f"cutting {el.element!r} short is not an error: it runs to the end or is not read")
        start = len(self.out)
        coded = self.add(el.element)
        cut = start + el.length
        if not start < cut < len(self.out):
            raise ValueError(f"{el.element!r} codes {len(self.out) - start} bytes: cannot keep {el.length}")
        del self.out[cut:]
        self._cut = True
        listed = []
        for e in coded:
            if e.offset + e.length > cut or (e.id >= FIRST_LONG_ID and e.L == 0):
                break
            listed.append(e)
        return tuple(listed)


def _serialize(elements: Iterable[Element], nb_frames: int) -> bytes:
    """Write elements in order with the one writer."""
    builder = PaddingBuilder(nb_frames)
    for el in elements:
        builder.add(el)
    return builder.data


def build_elements(elements: Iterable[Element], nb_frames: int = 1) -> bytes:
    """Padding bytes for these elements, in order (``nb_frames`` matters only for RTE)."""
    return PaddingExtensions(nb_frames).build(list(elements))


Extensions = PaddingExtensions(this.nb_frames)
"""draft-ietf-mlcodec-opus-extension: a code 3 packet's padding; parse/build with nb_frames=M."""


def parse_extensions(padding: bytes, nb_frames: int) -> ExtensionList:
    """The extensions in the padding of an ``nb_frames``-frame packet, as libopus iterates them."""
    return PaddingExtensions.walk(bytes(padding), nb_frames)
