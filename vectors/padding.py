"""The corpus's padding writer: spec elements handed to the spec's builder, with the account of what they mean.

:class:`PaddingWriter` appends the elements of draft-ietf-mlcodec-opus-extension
one by one (padding bytes, separators, short and long extensions, Repeat These
Extensions, an element cut short) exactly as asked, so the corpus can hold forms
a real generator never writes (``0x03 0x00``, an RTE on the last frame, junk
after an L = 0 RTE) and malformed ones. The bytes are written by the spec's one
writer (``spec.extensions.PaddingBuilder``), which also says which extensions
each element codes and on which frame. The writer keeps the *encoder's* account
of the result: the extensions a decoder must list (in bitstream order with
repeats expanded, nothing after an error), whether an error follows, and which
rules were used (the ``flags`` of the vector). That account is the expectation;
the generator then checks it against the reference decoder.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dredconf.spec import DRED_EXTENSION_ID
from dredconf.spec.elements import (
    FIRST_LONG_ID, FIRST_SHORT_ID, MAX_ID, Element, Extension, ExtensionElement, FrameSeparator, PaddingByte,
    PaddingRest, RawBytes, RepeatTheseExtensions, Truncated,
)
from dredconf.spec.extensions import PaddingBuilder


class PaddingError(ValueError):
    """The case asked for something the writer cannot express (a bug in a case definition)."""


@dataclass
class PaddingWriter:
    nb_frames: int
    #: The extensions a decoder must list, as the builder coded them (``data`` keeps the payload object given).
    extensions: list[Extension] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    #: Set once the writer has put bytes a decoder must reject; nothing after is accounted.
    error: bool = False
    #: Set once the rest of the padding is ignored (0x00, L = 0 long, L = 0 RTE past the last frame).
    ended: bool = False
    builder: PaddingBuilder = field(init=False)
    _window_extras: set[str] = field(default_factory=set)  # padding / 0x03 0x00 seen since the last separator or RTE
    _rtes_in_frame: int = 0

    def __post_init__(self):
        self.builder = PaddingBuilder(self.nb_frames)

    @property
    def frame(self) -> int:
        return self.builder.frame

    # -- bookkeeping --------------------------------------------------------------------------
    def _check_open(self):
        if self.error or self.ended:
            raise PaddingError("nothing can be accounted after an error or the end of the extensions")

    def _put(self, el: Element) -> tuple[Extension, ...]:
        """Hand one element to the builder and account the extensions it codes."""
        try:
            coded = self.builder.add(el)
        except ValueError as e:
            raise PaddingError(str(e)) from None
        self.extensions += coded
        return coded

    def bytes(self) -> bytes:
        return self.builder.data

    def records(self) -> list[dict]:
        return [{"id": e.id, "frame": e.frame, "length": e.length} for e in self.extensions]

    def add(self, el: Element) -> "PaddingWriter":
        """Any spec element (e.g. ``plan_extensions`` output), accounted like the method that writes it."""
        if isinstance(el, PaddingByte):
            return self.pad()
        if isinstance(el, PaddingRest):
            return self.pad_rest(el.fill)
        if isinstance(el, FrameSeparator):
            return self.sep() if el.increment is None else self.sep_n(el.increment)
        if isinstance(el, ExtensionElement):
            if el.id < FIRST_LONG_ID:
                return self.short(el.id, el.payload if el.payload else None)
            return self.long(el.id, el.payload, last=el.L == 0)
        if isinstance(el, RepeatTheseExtensions):
            return self.rte(el.L, el.payloads)
        raise PaddingError(f"not a well-formed element: {el!r} (use raw or cut)")

    # -- padding ------------------------------------------------------------------------------
    def pad(self, n: int = 1) -> "PaddingWriter":
        """``n`` one-byte paddings (0x01)."""
        self._check_open()
        for _ in range(n):
            self._put(PaddingByte())
        if n:
            self.flags.add("PaddingByte")
            self._window_extras.add("RteWindowPadding")
        return self

    def pad_rest(self, rest: bytes = b"") -> "PaddingWriter":
        """0x00 then ``rest``: everything after a 0x00 is padding (legacy zero padding is this)."""
        self._check_open()
        self._put(PaddingRest(bytes(rest)))
        self.flags.add("PaddingRest")
        self.ended = True
        return self

    # -- separators ---------------------------------------------------------------------------
    def sep(self) -> "PaddingWriter":
        """0x02: next frame."""
        self._check_open()
        self._put(FrameSeparator())
        self.flags.add("Separator")
        return self._advanced()

    def sep_n(self, n: int) -> "PaddingWriter":
        """0x03 n: advance n frames (n = 0 changes nothing)."""
        self._check_open()
        self._put(FrameSeparator(n))
        if n == 0:
            self.flags.add("SeparatorIncrement0")
            self._window_extras.add("RteWindowIncrement0")
            return self  # libopus: a no-op, the repeat window is kept
        self.flags.add("SeparatorIncrementN")
        return self._advanced()

    def _advanced(self) -> "PaddingWriter":
        if self.frame >= self.nb_frames:
            self.flags.add("SeparatorPastEnd")
            self.error = True
            return self
        self._window_extras = set()
        self._rtes_in_frame = 0
        return self

    # -- extensions ---------------------------------------------------------------------------
    def short(self, ext_id: int, payload: bytes | None = None) -> "PaddingWriter":
        """IDs 3..31: L = 0 without payload, L = 1 with exactly one byte."""
        self._check_open()
        if not FIRST_SHORT_ID <= ext_id < FIRST_LONG_ID or (payload is not None and len(payload) != 1):
            raise PaddingError(f"short extension {ext_id} with payload {payload!r}")
        self._put(ExtensionElement(ext_id, payload or b"", int(payload is not None)))
        self.flags.add("ShortL1" if payload is not None else "ShortL0")
        self._unknown(ext_id)
        return self

    def long(self, ext_id: int, payload: bytes, *, last: bool = False) -> "PaddingWriter":
        """IDs 32..127: L = 1 with its length, or ``last``: L = 0, the payload runs to the end."""
        self._check_open()
        if not FIRST_LONG_ID <= ext_id <= MAX_ID:
            raise PaddingError(f"long extension id {ext_id}")
        if not isinstance(payload, bytes):
            payload = bytes(payload)
        (coded,) = self._put(ExtensionElement(ext_id, payload, 0 if last else 1))
        self._unknown(ext_id)
        if last:
            self.flags.add("LongL0Last")
            self.ended = True
            return self
        self.flags.add("LongL1")
        if not payload:
            self.flags.add("LongLength0")
        if coded.length_field.length > 1:
            self.flags.add("LongLengthMultiByte")
        return self

    def dred(self, payload: bytes, *, last: bool = False) -> "PaddingWriter":
        """The DRED extension (its ID, L = 1, or ``last``: L = 0) carrying ``payload`` as given."""
        return self.long(DRED_EXTENSION_ID, payload, last=last)

    def _unknown(self, ext_id: int) -> None:
        if ext_id != DRED_EXTENSION_ID:
            self.flags.add("UnknownExtension")

    def rte(self, L: int, payloads) -> "PaddingWriter":
        """Repeat These Extensions (0x04 | L): ``payloads[g][j]`` is the payload of the j-th extension of the
        repeat window in frame ``self.frame + 1 + g`` (None or b"" for an L = 0 short)."""
        self._check_open()
        window = list(self.builder.group)
        later = self.nb_frames - 1 - self.frame
        self._rte_flags(L, window, later)
        repeats = tuple(tuple(b"" if p is None else p if isinstance(p, bytes) else bytes(p) for p in frame_payloads)
                        for frame_payloads in payloads)
        for e in self._put(RepeatTheseExtensions(L, repeats)):
            if e.id < FIRST_LONG_ID:
                self.flags.add("RteShort")
            else:
                self.flags.add("RteLong")
                if e.L == 0:
                    self.flags.add("RteLongL0Last")
        self._window_extras = set()
        if L == 0:
            self._rtes_in_frame = 0
            last_long = any(ext_id >= FIRST_LONG_ID for ext_id, _ in window)
            if self.frame >= self.nb_frames or (last_long and later > 0):
                # past the last frame, or the last repeated long ran to the end: the rest is ignored
                self.ended = True
            else:
                self.flags.add("RteL0SkipsSeparator")
        return self

    def _rte_flags(self, L: int, window: list[tuple[int, int]], later: int) -> None:
        """The rules an RTE with this window uses, before it is written."""
        self.flags.add("RteL1" if L else "RteL0")
        if not window:
            self.flags.add("RteNothingToRepeat")
        self._rtes_in_frame += 1
        if self._rtes_in_frame > 1:
            self.flags.add("RteMultiplePerFrame")
        if window and later:
            self.flags.update(self._window_extras)
        longs = [j for j, (ext_id, _) in enumerate(window) if ext_id >= FIRST_LONG_ID]
        if L == 0 and later and longs and any(ext_id < FIRST_LONG_ID for ext_id, _ in window[longs[-1] + 1:]):
            self.flags.add("RteTrailingShorts")
        if later == 0:
            self.flags.add("RteLastFrame")

    # -- malformed padding and bytes past the end ---------------------------------------------
    def cut(self, element: Element, keep: int) -> "PaddingWriter":
        """``element`` cut after ``keep`` bytes, the end of the padding (invalid): the repeats a decoder lists
        before it fails are accounted, nothing after."""
        self._check_open()
        self._put(Truncated(element, keep))
        self.error = True
        return self

    def raw(self, data: bytes, *, error: bool = False, ignored: bool = False) -> "PaddingWriter":
        """Bytes written as given: ``error`` marks them malformed (nothing after is accounted),
        ``ignored`` marks them as bytes a decoder skips (after the end of the extensions)."""
        if not (self.error or self.ended) and not (error or ignored):
            raise PaddingError("raw bytes must be marked as an error or as ignored")
        try:
            self.builder.add(RawBytes(bytes(data)))
        except ValueError as e:
            raise PaddingError(str(e)) from None
        if error:
            self.error = True
        elif ignored and data:
            self.flags.add("TrailingBytesIgnored")
        return self
