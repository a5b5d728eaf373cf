"""Byte-exact padding writer for the corpus: every extension form, with what a decoder must report.

:class:`PaddingWriter` appends the extension-layer elements of
draft-ietf-mlcodec-opus-extension one by one (padding bytes, separators,
short and long extensions, Repeat These Extensions) exactly as asked, so the
corpus can hold forms a real generator never writes (``0x03 0x00``, an RTE on
the last frame, junk after an L = 0 RTE, non-minimal length coding) and
malformed ones. While writing it keeps the *encoder's* account of the result:
the extensions a decoder must list (id, frame, payload length, in bitstream
order with repeats expanded), whether an error follows, and which rules were
used (the ``flags`` of the vector). That account is the expectation; the
generator then checks it against the reference decoder.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ext:
    """One extension as a decoder must report it."""

    id: int
    frame: int
    payload: bytes
    coding: str = ""  # "short", "L1", "L0" (long extensions), "repeat" (from Repeat These Extensions)

    def record(self) -> dict:
        return {"id": self.id, "frame": self.frame, "length": len(self.payload)}


def long_length_bytes(n: int) -> bytes:
    """Extension length coding (L = 1, IDs 32..127): each 255 adds 255 and another byte follows."""
    return b"\xff" * (n // 255) + bytes([n % 255])


class PaddingError(ValueError):
    """The case asked for something the writer cannot express (a bug in a case definition)."""


@dataclass
class PaddingWriter:
    nb_frames: int
    buf: bytearray = field(default_factory=bytearray)
    frame: int = 0
    extensions: list[Ext] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    #: Set once the writer has put bytes a decoder must reject; nothing after is accounted.
    error: bool = False
    #: Set once the rest of the padding is ignored (0x00, L = 0 long, L = 0 RTE past the last frame).
    ended: bool = False
    # extensions (id, is_long) coded in the current frame since the last separator or RTE
    _window: list[tuple[int, bool, int]] = field(default_factory=list)
    _window_extras: set[str] = field(default_factory=set)  # padding / 0x03 0x00 seen inside the window
    _rtes_in_frame: int = 0

    # -- bookkeeping --------------------------------------------------------------------------
    def _check_open(self):
        if self.error or self.ended:
            raise PaddingError("nothing can be accounted after an error or the end of the extensions")

    def _add(self, ext_id: int, payload: bytes, is_long: bool, coding: str):
        self.extensions.append(Ext(ext_id, self.frame, payload, coding))
        if ext_id != 126:
            self.flags.add("UnknownExtension")
        self._window.append((ext_id, is_long, len(payload)))

    def bytes(self) -> bytes:
        return bytes(self.buf)

    def records(self) -> list[dict]:
        return [e.record() for e in self.extensions]

    # -- padding ------------------------------------------------------------------------------
    def pad(self, n: int = 1) -> "PaddingWriter":
        """``n`` one-byte paddings (0x01)."""
        self._check_open()
        self.buf += b"\x01" * n
        if n:
            self.flags.add("PaddingByte")
            self._window_extras.add("RteWindowPadding")
        return self

    def pad_rest(self, rest: bytes = b"") -> "PaddingWriter":
        """0x00 then ``rest``: everything after a 0x00 is padding (legacy zero padding is this)."""
        self._check_open()
        self.buf += b"\x00" + bytes(rest)
        self.flags.add("PaddingRest")
        self.ended = True
        return self

    # -- separators ---------------------------------------------------------------------------
    def sep(self) -> "PaddingWriter":
        """0x02: next frame."""
        self._check_open()
        self.buf += b"\x02"
        self.flags.add("Separator")
        return self._advance(1)

    def sep_n(self, n: int) -> "PaddingWriter":
        """0x03 n: advance n frames (n = 0 changes nothing)."""
        self._check_open()
        self.buf += bytes([0x03, n])
        if n == 0:
            self.flags.add("SeparatorIncrement0")
            self._window_extras.add("RteWindowIncrement0")
            return self  # libopus: a no-op, the repeat window is kept
        self.flags.add("SeparatorIncrementN")
        return self._advance(n)

    def _advance(self, n: int) -> "PaddingWriter":
        self.frame += n
        if self.frame >= self.nb_frames:
            self.flags.add("SeparatorPastEnd")
            self.error = True
            return self
        self._window = []
        self._window_extras = set()
        self._rtes_in_frame = 0
        return self

    # -- extensions ---------------------------------------------------------------------------
    def short(self, ext_id: int, payload: bytes | None = None) -> "PaddingWriter":
        """IDs 3..31: L = 0 without payload, L = 1 with exactly one byte."""
        self._check_open()
        if not 3 <= ext_id <= 31 or (payload is not None and len(payload) != 1):
            raise PaddingError(f"short extension {ext_id} with payload {payload!r}")
        self.buf += bytes([ext_id << 1 | (payload is not None)]) + (payload or b"")
        self.flags.add("ShortL1" if payload is not None else "ShortL0")
        self._add(ext_id, payload or b"", False, "short")
        return self

    def long(self, ext_id: int, payload: bytes, *, last: bool = False, length_bytes: bytes | None = None) -> "PaddingWriter":
        """IDs 32..127: L = 1 with length bytes (canonical unless given), or ``last``: L = 0, runs to the end."""
        self._check_open()
        if not 32 <= ext_id <= 127:
            raise PaddingError(f"long extension id {ext_id}")
        if not isinstance(payload, bytes):
            payload = bytes(payload)
        if last:
            self.buf += bytes([ext_id << 1]) + payload
            self.flags.add("LongL0Last")
            self._add(ext_id, payload, True, "L0")
            self.ended = True
            return self
        lb = long_length_bytes(len(payload)) if length_bytes is None else bytes(length_bytes)
        self.buf += bytes([ext_id << 1 | 1]) + lb + payload
        self.flags.add("LongL1")
        if not payload:
            self.flags.add("LongLength0")
        if len(lb) > 1:
            self.flags.add("LongLengthMultiByte")
        self._add(ext_id, payload, True, "L1")
        return self

    def rte(self, L: int, payloads: list[list[bytes | None]]) -> "PaddingWriter":
        """Repeat These Extensions (0x04 | L): ``payloads[g][j]`` is the payload of the j-th
        extension of the repeat window in frame ``self.frame + 1 + g`` (None for an L = 0 short).

        Short payloads keep their original size; long ones get explicit lengths
        except, when L = 0, the last long one of the window in the last frame,
        which runs to the end (less the repeated short payloads after it). After
        an L = 0 RTE the frame advances by one; past the last frame the rest of
        the padding is ignored.
        """
        self._check_open()
        window = [w for w in self._window]
        later = self.nb_frames - 1 - self.frame
        if len(payloads) != later or any(len(p) != len(window) for p in payloads):
            raise PaddingError(f"RTE on frame {self.frame} of {self.nb_frames}: need {later} frames of "
                               f"{len(window)} payloads, got {[len(p) for p in payloads]}")
        self.buf += bytes([0x04 | L])
        self.flags.add("RteL1" if L else "RteL0")
        if not window:
            self.flags.add("RteNothingToRepeat")
        self._rtes_in_frame += 1
        if self._rtes_in_frame > 1:
            self.flags.add("RteMultiplePerFrame")
        if window and later:
            self.flags.update(self._window_extras)
        last_long = max((j for j, w in enumerate(window) if w[1]), default=None)
        if L == 0 and later and last_long is not None and any(not w[1] for w in window[last_long + 1:]):
            self.flags.add("RteTrailingShorts")
        for g, frame_payloads in enumerate(payloads):
            frame = self.frame + 1 + g
            for j, ((ext_id, is_long, orig_len), p) in enumerate(zip(window, frame_payloads)):
                if not is_long:
                    if (p is None) != (orig_len == 0) or (p is not None and len(p) != 1):
                        raise PaddingError(f"repeated short extension {ext_id} changes its size")
                    self.buf += p or b""
                    self.extensions.append(Ext(ext_id, frame, p if p is not None else b"", "repeat"))
                    self.flags.add("RteShort")
                    continue
                if not isinstance(p, bytes):
                    p = bytes(p)
                if L == 0 and frame == self.nb_frames - 1 and j == last_long:
                    # Runs to the end less the trailing short payloads: write those after it.
                    self.buf += p
                    self.flags.add("RteLongL0Last")
                else:
                    self.buf += long_length_bytes(len(p)) + p
                self.extensions.append(Ext(ext_id, frame, p, "repeat"))
                self.flags.add("RteLong")
        if later == 0:
            self.flags.add("RteLastFrame")
        self._window = []
        self._window_extras = set()
        if L == 0:
            self.frame += 1
            self._rtes_in_frame = 0
            if self.frame >= self.nb_frames or (last_long is not None and later > 0):
                # past the last frame, or the last repeated long ran to the end: the rest is ignored
                self.ended = True
            else:
                self.flags.add("RteL0SkipsSeparator")
        return self

    # -- raw bytes ----------------------------------------------------------------------------
    def raw(self, data: bytes, *, error: bool = False, ignored: bool = False) -> "PaddingWriter":
        """Bytes written as given: ``error`` marks them malformed (nothing after is accounted),
        ``ignored`` marks them as bytes a decoder skips (after the end of the extensions)."""
        if not (self.error or self.ended) and not (error or ignored):
            raise PaddingError("raw bytes must be marked as an error or as ignored")
        self.buf += bytes(data)
        if error:
            self.error = True
        elif ignored and data:
            self.flags.add("TrailingBytesIgnored")
        return self

    def expect(self, ext_id: int, frame: int, payload_len: int) -> "PaddingWriter":
        """Account an extension a decoder reports before failing inside raw bytes (e.g. during a repeat)."""
        self.extensions.append(Ext(ext_id, frame, b"\0" * payload_len, "expected"))
        return self
