"""Group ``ext-repeat``: Repeat These Extensions in every form libopus's test_extensions_repeating() exercises,
and more."""
from __future__ import annotations

from dredconf.spec import build_elements
from dredconf.spec.elements import ExtensionElement

from ..cases import CELT_FB_2_5, CELT_FB_20, junk
from ..corpus import Corpus
from ..padding import PaddingWriter

GROUP = "ext-repeat"
LIBOPUS = ("LibopusTestCase", "LibopusGenerator")


def build(c: Corpus) -> None:
    for n in range(2, 14):
        c.add(GROUP, f"ext-repeat-libopus-{n:02d}", f"libopus test list, first {n} extensions (3 frames): {NOTES[n]}",
              _base(n), config=CELT_FB_20, M=3, flags=LIBOPUS)
    _hand_modified(c)
    _further(c)


def _base(n: int) -> PaddingWriter:
    """libopus's generator output for the first n of its 13-extension list (3 frames)."""
    w = PaddingWriter(3)
    if n >= 1:
        w.short(3, b"a")
    if n == 2:
        w.sep().short(3, b"b")
    if n == 3:
        w.rte(0, [[b"b"], [b"c"]])
    if n >= 4:
        w.rte(1, [[b"b"], [b"c"]]).short(4, b"d")
    if n >= 5:
        w.sep().short(4)
    if n in (6, 7):
        w.rte(0, [[None]])
        if n == 7:
            w.long(32, b"DRED2", last=True)
    if n >= 8:
        w.long(32, b"DRED")
    if n == 8:
        w.rte(0, [[None, b"DRED2"]])
    if n == 9:
        w.rte(1, [[None, b"DRED2"]]).short(5)
    if n >= 10:
        w.short(5)
    if n == 10:
        w.rte(0, [[None, b"DRED2", None]])
    if n == 11:
        w.rte(1, [[None, b"DRED2", None]]).sep().short(6, b"f")
    if n >= 12:
        w.short(6, b"e")
    if n == 12:
        w.rte(0, [[None, b"DRED2", None, b"f"]])
    if n == 13:
        w.rte(1, [[None, b"DRED2", None, b"f"]]).sep().long(32, b"DREDthree", last=True)
    return w


NOTES = {2: "no repeat when the extension is not in every frame",
         3: "an L = 0 RTE repeating a short extension into every later frame",
         4: "an L = 1 RTE, then another extension on frame 0",
         5: "repeats, then a separator",
         6: "an L = 0 RTE on frame 1 repeating an L = 0 short extension",
         7: "an L = 0 RTE used instead of a separator before the last extension",
         8: "repeating two extensions; the last repeated long one coded with L = 0",
         9: "an L = 1 RTE with a long extension, then an extension on frame 1",
         10: "the last repeated long extension L = 0 though L = 0 short repeats follow",
         11: "no L = 0 RTE to skip a separator when repeats end on a short one after a long one",
         12: "the last repeated long extension L = 0 though L = 1 short repeats follow",
         13: "an L = 1 RTE with long and short repeats, then a separator and an L = 0 long extension"}


def _hand_modified(c: Corpus) -> None:
    """libopus's hand modifications of its generator's output."""
    w = _base(6).rte(0, []).raw(build_elements([ExtensionElement(3)]), ignored=True)
    c.add(GROUP, "ext-repeat-last-frame-trailing", "an L = 0 RTE on the last frame, then a byte that MUST be ignored",
          w, config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).short(4, b"d").sep().short(4).long(32, b"DRED")
    w.pad().rte(0, [[None, b"DRED2"]])
    c.add(GROUP, "ext-repeat-padding-in-window", "a 0x01 padding byte before the RTE: not repeated", w,
          config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).rte(1, [[], []]).short(4, b"d").sep().short(4)
    w.rte(1, [[None]]).long(32, b"DRED").pad().rte(0, [[b"DRED2"]])
    c.add(GROUP, "ext-repeat-multiple-per-frame", "several RTEs in one frame, one with nothing new to repeat", w,
          config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).short(4, b"d").sep().short(4).long(32, b"DRED")
    w.sep_n(0).short(5).rte(0, [[None, b"DRED2", None]])
    c.add(GROUP, "ext-repeat-increment-0-in-window", "0x03 0 inside the repeat window: does not change what is "
          "repeated", w, config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).short(4, b"d").sep().short(4).long(32, b"DRED")
    w.short(5).short(6, b"e").rte(1, [[None, b"DRED2", None, b"f"]]).rte(0, [[]]).long(32, b"DREDthree", last=True)
    c.add(GROUP, "ext-repeat-empty-l0-skips-separator", "an L = 0 RTE with nothing to repeat used as a separator", w,
          config=CELT_FB_20, flags=("LibopusTestCase",))


def _further(c: Corpus) -> None:
    """Many frames, long payloads with multi-byte lengths, an L = 1 last long repeat."""
    rng = c.rng(GROUP)
    M = 48
    w = PaddingWriter(M).short(9, b"s").long(50, junk(rng, 3))
    w.rte(1, [[bytes([f]), junk(rng, f % 4)] for f in range(1, M)]).short(10)
    c.add(GROUP, "ext-repeat-48-frames", "a short and a long extension repeated into 47 more frames (L = 1 RTE)", w,
          config=CELT_FB_2_5)
    w = PaddingWriter(4).long(70, junk(rng, 300)).short(11, b"t")
    w.rte(0, [[junk(rng, 256), b"u"], [junk(rng, 2), b"v"], [junk(rng, 510), b"w"]])
    c.add(GROUP, "ext-repeat-long-lengths", "repeated long payloads of 256, 2 and (L = 0, last) 510 bytes with "
          "trailing short repeats", w, config=CELT_FB_20)
    w = PaddingWriter(2).long(71, junk(rng, 5)).rte(1, [[junk(rng, 6)]]).pad_rest(bytes(3))
    c.add(GROUP, "ext-repeat-l1-last-long", "an L = 1 RTE whose last repeated long extension keeps its length", w,
          config=CELT_FB_20)
    w = PaddingWriter(3).sep().short(12, b"r").rte(0, [[b"s"]]).short(13, b"z").pad_rest(bytes(2))
    c.add(GROUP, "ext-repeat-l0-then-next-frame", "an L = 0 RTE on frame 1 repeating into frame 2, then (no "
          "separator) an extension on frame 2", w, config=CELT_FB_20)


