"""The padding's elements (draft-ietf-mlcodec-opus-extension-05; SPEC-NOTES §2): the byte that starts each,
its declarative pieces, the element kinds a padding is made of, and the extensions they code.

``spec.extensions`` reads a padding into extensions and a trace of these elements, and writes elements
into a padding; ``spec.generator`` lays elements out as libopus's generator does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Union

import construct as cs

from .derived import byte_table
from .packet import Span

DRAFT = "draft-ietf-mlcodec-opus-extension-05"
PADDING_ID = 0  # L=1: one padding byte; L=0: the rest is padding
SEPARATOR_ID = 1  # L=0: next frame; L=1: advance by the byte that follows
REPEAT_ID = 2  # Repeat These Extensions
FIRST_SHORT_ID = 3  # 3..31: L is the payload length (0 or 1)
FIRST_LONG_ID = 32  # 32..127: L=1 length coded, L=0 runs to the end
MAX_ID = 127
ExtensionHeader = cs.BitStruct(
    "id" / cs.BitsInteger(7) * f"{DRAFT}: ID, 0 padding, 1 frame separator, 2 Repeat These Extensions, "
                                "3..31 short, 32..127 long",
    "L" / cs.BitsInteger(1) * f"{DRAFT}: L, a flag whose meaning depends on the ID",
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


class _Header(NamedTuple):
    id: int
    L: int


# The schema's parse of every byte value, made once, as plain tuples (a Container's attributes are slow to read).
HEADER_OF_BYTE = tuple(_Header(h.id, h.L) for h in byte_table(ExtensionHeader))


class Extension(NamedTuple):
    """One extension as libopus's iterator returns it (IDs 3..127); a tuple, being made once per extension parsed."""

    id: int
    frame: int
    offset: int  # byte offset of the payload within the padding
    length: int
    data: bytes
    header_offset: int  # where its coding starts: its ID byte, or for a repeated one its length/payload bytes
    repeated: bool  # produced by Repeat These Extensions (no ID byte of its own)

    @property
    def length_field(self) -> Span:
        """Where its length bytes lie (long with L=1, repeated long with an explicit length); empty otherwise."""
        start = self.header_offset + (0 if self.repeated else 1)
        return Span(start, self.offset - start if self.id >= FIRST_LONG_ID else 0)

    @property
    def L(self) -> int:
        """The L flag it was coded with (for a repeated one, its original's, or 0 for an L=0 RTE's last long one)."""
        if self.id < FIRST_LONG_ID:
            return self.length
        return int(self.length_field.length > 0)


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
    """Bytes written as they are (bytes a decoder never reads, or a literal malformed case)."""

    data: bytes


@dataclass(frozen=True)
class Truncated:
    """``element``'s coding cut after ``length`` bytes: the padding ends inside it, so the padding is invalid
    (its increment, short payload, length bytes, long payload or a repeated payload is missing); it is the
    last element."""

    element: FrameSeparator | ExtensionElement | RepeatTheseExtensions
    length: int


Element = Union[PaddingByte, PaddingRest, FrameSeparator, ExtensionElement, RepeatTheseExtensions, RawBytes,
                Truncated]


class Traced(NamedTuple):
    """One element of a padding and where its coding lies (an RTE's span holds its repeated payloads)."""

    span: Span
    element: Element


class Failed(NamedTuple):
    """The element a parse failed in: from its start to the error, and its header's ID and L."""

    span: Span
    id: int
    L: int


