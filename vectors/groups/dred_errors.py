"""Group ``dred-errors``: a DRED, then each kind of extension error spec/extensions.py raises, in the same padding.

libopus reports the error and keeps the DRED that came before it; a decoder that drops the DRED whenever the
padding is malformed passed every shipped libopus stream (libopus ground truth:
``../shared/vectors/libopus-1.6.1-edge/DERR``). The suite's own limit on listed extensions (limit-extensions)
is left out: libopus has none."""
from __future__ import annotations

from dredconf.spec.elements import ExtensionElement, FrameSeparator, RepeatTheseExtensions

from ..cases import CELT_FB_20
from ..corpus import Corpus
from ..dredpayload import blob, random_integers
from ..padding import PaddingWriter

GROUP = "dred-errors"
KEPT = ("DredBeforeError", "ErrorKeepsPrefix")


def build(c: Corpus) -> None:
    _in_the_bitstream(c)
    _in_repeats(c)


def _dred(c: Corpus, nb_frames: int) -> PaddingWriter:
    """A padding starting with a DRED (L = 1) on frame 0."""
    rng = c.rng(GROUP)
    ints = random_integers(rng, c.stats, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                           n_latents=int(rng.integers(1, 27)))
    return PaddingWriter(nb_frames).dred(blob(ints, c.stats))


def _in_the_bitstream(c: Corpus) -> None:
    c.add(GROUP, "dred-then-separator-02-past-end", "a DRED, then 0x02 on the only frame: "
          "ext-separator-past-last-frame, the DRED kept", _dred(c, 1).sep(), flags=KEPT)
    c.add(GROUP, "dred-then-separator-03-past-end", "a DRED, then 0x03 2 in a 2-frame packet: "
          "ext-separator-past-last-frame, the DRED kept", _dred(c, 2).sep_n(2), flags=KEPT)
    c.add(GROUP, "dred-then-increment-missing", "a DRED, then 0x03 as the last byte: "
          "ext-separator-increment-missing, the DRED kept", _dred(c, 2).cut(FrameSeparator(1), 1),
          flags=KEPT + ("SeparatorIncrementMissing",))
    c.add(GROUP, "dred-then-short-payload-missing", "a DRED, then a short extension with L = 1 as the last byte: "
          "ext-short-payload-missing, the DRED kept", _dred(c, 1).cut(ExtensionElement(7, b"x"), 1),
          flags=KEPT + ("ShortPayloadMissing",))
    c.add(GROUP, "dred-then-long-length-cut", "a DRED, then a long extension whose length bytes (255 255) are cut "
          "short: ext-long-length-truncated, the DRED kept", _dred(c, 1).cut(ExtensionElement(40, bytes(600)), 3),
          flags=KEPT + ("LongLengthTruncated",))
    c.add(GROUP, "dred-then-long-length-past-end", "a DRED, then a long extension of length 9 with 3 bytes left: "
          "ext-long-length-past-end, the DRED kept", _dred(c, 1).cut(ExtensionElement(40, b"abcdefghi"), 5),
          flags=KEPT + ("LongLengthPastEnd",))


def _in_repeats(c: Corpus) -> None:
    """A DRED on frame 0, then on frame 1 an RTE whose repeats break: the DRED and the repeats before are kept."""
    w = _dred(c, 3).sep().short(5, b"a")
    c.add(GROUP, "dred-then-repeat-short-missing", "a DRED, then an RTE repeating a one-byte short extension with "
          "no byte left: ext-rte-short-payload-missing, the DRED kept",
          w.cut(RepeatTheseExtensions(1, ((b"b",),)), 1), config=CELT_FB_20, flags=KEPT + ("RteShortPayloadMissing",))
    w = _dred(c, 3).sep().long(41, b"xy")
    c.add(GROUP, "dred-then-repeat-length-cut", "a DRED, then an RTE repeating a long extension whose length bytes "
          "(255) are cut short: ext-rte-long-length-truncated, the DRED kept",
          w.cut(RepeatTheseExtensions(1, ((bytes(300),),)), 2), config=CELT_FB_20,
          flags=KEPT + ("RteLongLengthTruncated",))
    w = _dred(c, 3).sep().long(41, b"xy")
    c.add(GROUP, "dred-then-repeat-length-past-end", "a DRED, then an RTE repeating a long extension with length 6 "
          "and 2 bytes left: ext-rte-long-length-past-end, the DRED kept",
          w.cut(RepeatTheseExtensions(1, ((b"abcdef",),)), 4), config=CELT_FB_20,
          flags=KEPT + ("RteLongLengthPastEnd",))
    w = _dred(c, 3).sep().long(41, b"xy").short(4, b"s")
    c.add(GROUP, "dred-then-repeat-no-room-for-shorts", "a DRED, then an L = 0 RTE whose last repeated long "
          "extension must leave 1 byte for a repeated short payload, with none left: "
          "ext-rte-trailing-shorts-missing, the DRED kept",
          w.cut(RepeatTheseExtensions(0, ((b"", b"t"),)), 1), config=CELT_FB_20,
          flags=KEPT + ("RteTrailingShortsMissing",))
