"""Group ``ext-malformed``: malformed padding, each an invalid vector keeping the extensions before the error.

Every malformed form is a well-formed element the padding's end cuts short (``PaddingWriter.cut``), a separator
past the last frame, or (libopus's own cases) its test's bytes as they are."""
from __future__ import annotations

from dredconf.spec import build_elements
from dredconf.spec.elements import ExtensionElement, FrameSeparator, RepeatTheseExtensions

from ..cases import CELT_FB_2_5, CELT_FB_20, junk
from ..corpus import Corpus
from ..padding import PaddingWriter

GROUP = "ext-malformed"


def build(c: Corpus) -> None:
    _separators_and_lengths(c)
    _libopus(c)
    _in_repeats(c)


def _separators_and_lengths(c: Corpus) -> None:
    rng = c.rng(GROUP)
    w = PaddingWriter(1).short(3, b"a").sep()
    c.add(GROUP, "ext-bad-separator-02-past-end", "0x02 on the only frame", w, flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(3).short(3).sep().sep().short(4).sep()
    c.add(GROUP, "ext-bad-separator-02-past-last", "0x02 on the last of 3 frames", w, config=CELT_FB_20,
          flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(3).short(3).sep_n(3)
    c.add(GROUP, "ext-bad-separator-03-past-end", "0x03 3 from frame 0 of 3", w, config=CELT_FB_20,
          flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(48).short(5).sep_n(255)
    c.add(GROUP, "ext-bad-separator-03-255", "0x03 255 in a 48-frame packet", w, config=CELT_FB_2_5,
          flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(2).short(5, b"x").cut(FrameSeparator(1), 1)
    c.add(GROUP, "ext-bad-separator-increment-missing", "0x03 as the last byte", w,
          flags=("SeparatorIncrementMissing", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).long(40, b"abc").cut(ExtensionElement(7, b"\0"), 1)
    c.add(GROUP, "ext-bad-short-payload-missing", "a short extension with L = 1 as the last byte", w,
          flags=("ShortPayloadMissing", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, b""), 1)
    c.add(GROUP, "ext-bad-long-length-missing", "a long extension with L = 1 as the last byte (no length byte)", w,
          flags=("LongLengthTruncated", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, bytes(3 * 255)), 4)
    c.add(GROUP, "ext-bad-long-length-runs-out", "long extension length bytes 255 255 255 to the end", w,
          flags=("LongLengthTruncated", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, junk(rng, 9) + bytes(1)), 11)
    c.add(GROUP, "ext-bad-long-length-past-end", "long extension length 10 with 9 bytes left", w,
          flags=("LongLengthPastEnd", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, junk(rng, 200) + bytes(65)), 203)
    c.add(GROUP, "ext-bad-long-length-chain-past-end", "long extension length 255 + 10 with 200 bytes left", w,
          flags=("LongLengthPastEnd", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).cut(ExtensionElement(50, b"\0"), 2)
    c.add(GROUP, "ext-bad-first-extension", "the first extension already malformed (length 1, nothing left): "
          "nothing listed", w, flags=("LongLengthPastEnd",))


def _libopus(c: Corpus) -> None:
    """libopus tests/test_opus_extensions.c test_extensions_parse_fail."""
    w = PaddingWriter(11).short(3, b"a").raw(b"\x02\x43\xff" + b"NOT DRED" + b"\x03\x03\x08\x03\x06\x40DRED",
                                             error=True)
    c.add(GROUP, "ext-libopus-invalid-length", "libopus: the length byte of 33@1 changed to 255 (255 + 'N' = 333 "
          "bytes, past the end): 1 extension before the error", w, config=CELT_FB_2_5,
          flags=("LibopusTestCase", "LongLengthPastEnd", "ErrorKeepsPrefix"))
    w = PaddingWriter(5).short(3, b"a").sep().long(33, b"NOT DRED").sep_n(3).short(4)
    w.sep_n(6).raw(build_elements([ExtensionElement(32, b"DRED", L=0)]))
    c.add(GROUP, "ext-libopus-too-few-frames", "libopus: its 11-frame layout in a 5-frame packet: 0x03 6 from frame 4 "
          "fails after 3 extensions", w, config=CELT_FB_20,
          flags=("LibopusTestCase", "ErrorKeepsPrefix"))
    w = PaddingWriter(11).short(3, b"a").sep().long(33, b"NOT DRED").sep_n(255)
    w.raw(build_elements([ExtensionElement(4), FrameSeparator(6), ExtensionElement(32, b"DRED", L=0)]))
    c.add(GROUP, "ext-libopus-increment-255", "libopus: the first 0x03 increment changed to 255: 2 extensions before "
          "the error", w, config=CELT_FB_2_5, flags=("LibopusTestCase", "ErrorKeepsPrefix"))
    w = PaddingWriter(11).short(3, b"a").sep().long(33, b"NOT DRED").sep_n(3).short(4).sep_n(5)
    w.long(32, b"DRED").short(4, b"b").cut(RepeatTheseExtensions(0, ((b"", b"b"),)), 1)
    c.add(GROUP, "ext-libopus-rte-no-room-for-shorts", "libopus: an L = 0 RTE on frame 9 whose last repeated long "
          "extension must leave 1 byte for a repeated short payload, with 0 bytes left: 5 extensions before the "
          "error", w, config=CELT_FB_2_5,
          flags=("LibopusTestCase", "RteTrailingShortsMissing", "ErrorKeepsPrefix"))


def _in_repeats(c: Corpus) -> None:
    """Errors inside repeats: the repeated extensions before the failing one are listed."""
    w = PaddingWriter(3).short(3, b"a").short(4, b"b")
    w.cut(RepeatTheseExtensions(1, ((b"a", b"x"), (b"x", b"x"))), 2)
    c.add(GROUP, "ext-bad-repeat-short-missing", "an L = 1 RTE repeating two one-byte short extensions into 2 frames "
          "with 1 byte left: the first repeat is listed, then the error", w, config=CELT_FB_20,
          flags=("RteShortPayloadMissing", "ErrorKeepsPrefix"))
    w = PaddingWriter(3).long(41, b"xyz").short(3).cut(RepeatTheseExtensions(1, ((bytes(510), b""),) * 2), 3)
    c.add(GROUP, "ext-bad-repeat-long-length-runs-out", "an L = 1 RTE repeating a long extension whose repeated "
          "length bytes (255 255) run out", w, config=CELT_FB_20,
          flags=("RteLongLengthTruncated", "ErrorKeepsPrefix"))
    w = PaddingWriter(3).long(40, b"xy").cut(RepeatTheseExtensions(1, ((b"pq",), (b"abc" + bytes(6),))), 8)
    c.add(GROUP, "ext-bad-repeat-long-past-end", "an L = 1 RTE repeating a long extension: frame 1 fine, frame 2's "
          "length 9 exceeds the 3 bytes left", w, config=CELT_FB_20,
          flags=("RteLongLengthPastEnd", "ErrorKeepsPrefix"))


