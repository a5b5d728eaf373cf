"""Group ``ext-basic``: padding, separators, short and long extensions of every length class, libopus's
generator layouts."""
from __future__ import annotations

from dredconf.spec import DRED_EXTENSION_ID

from ..cases import CELT_FB_2_5, CELT_FB_20, junk, to_frame
from ..corpus import Corpus
from ..padding import PaddingWriter

GROUP = "ext-basic"
LIBOPUS = ("LibopusTestCase", "LibopusGenerator")


def build(c: Corpus) -> None:
    _padding(c)
    _separators(c)
    _extensions(c)
    _libopus(c)


def _padding(c: Corpus) -> None:
    """Padding forms and the RFC 6716 §3.2.5 padding length coding."""
    rng = c.rng(GROUP)
    c.add(GROUP, "ext-padding-empty", "padding flag set, padding length 0", PaddingWriter(1))
    for n in (1, 2, 17, 254, 300):
        c.add(GROUP, f"ext-legacy-zero-padding-{n:03d}", f"{n} zero bytes of padding (0x00: the rest is padding)",
              PaddingWriter(1).pad_rest(bytes(n - 1)), flags=("LegacyZeroPadding",))
    c.add(GROUP, "ext-padding-rest-junk", "0x00 then 40 arbitrary bytes: all padding, nothing listed",
          PaddingWriter(1).pad_rest(junk(rng, 40)))
    for n in (1, 5, 254, 255):
        c.add(GROUP, f"ext-padding-01-x{n:03d}", f"{n} one-byte paddings (0x01)", PaddingWriter(1).pad(n))
    w = PaddingWriter(2).pad(3).short(4, b"a").pad(2).sep().pad(1).long(33, b"abc").pad_rest(bytes(5))
    c.add(GROUP, "ext-padding-mixed", "0x01 paddings between extensions, 0x00 rest at the end", w)
    c.add(GROUP, "ext-padding-length-254-as-255-0", "254 bytes of padding coded as 255, 0",
          PaddingWriter(1).short(5).pad_rest(bytes(252)), padding_length_bytes=b"\xff\x00")
    c.add(GROUP, "ext-padding-length-254-as-254", "254 bytes of padding coded as 254",
          PaddingWriter(1).short(5).pad_rest(bytes(252)), padding_length_bytes=b"\xfe")
    c.add(GROUP, "ext-padding-length-chain", "602 bytes of padding: length coded 255, 255, 94",
          PaddingWriter(1).long(60, junk(rng, 600), last=True))


def _separators(c: Corpus) -> None:
    c.add(GROUP, "ext-separator-02", "0x02 between frames", PaddingWriter(3).short(3).sep().short(3).sep().short(3))
    c.add(GROUP, "ext-separator-03-n1", "0x03 1 between frames",
          PaddingWriter(3).short(3).sep_n(1).short(3).sep_n(1).short(3))
    c.add(GROUP, "ext-separator-03-n0", "0x03 0 changes nothing (twice), then 0x03 2",
          PaddingWriter(3).sep_n(0).short(3).sep_n(0).sep_n(2).short(9, b"k"))
    w = PaddingWriter(48).short(3)
    to_frame(w, 47).short(4)
    c.add(GROUP, "ext-separator-03-n47", "0x03 47: from frame 0 to the last of 48", w, config=CELT_FB_2_5)
    w = PaddingWriter(48)
    for f in range(48):
        if f:
            w.sep()
        w.short(3 + f % 29, bytes([f]) if f % 2 else None)
    c.add(GROUP, "ext-every-frame-of-48", "an extension on each of 48 frames, 0x02 separators", w,
          config=CELT_FB_2_5)
    c.add(GROUP, "ext-separators-only", "three 0x02 to the last frame, no extension",
          PaddingWriter(4).sep().sep().sep(), config=CELT_FB_20)


def _extensions(c: Corpus) -> None:
    """Short extensions, every ID, both L; long extensions of every length class."""
    rng = c.rng(GROUP)
    w = PaddingWriter(1)
    for i in range(3, 32):
        w.short(i)
    c.add(GROUP, "ext-short-l0-all-ids", "IDs 3..31 with L = 0 (no payload)", w)
    w = PaddingWriter(1)
    for i in range(3, 32):
        w.short(i, bytes([i ^ 0x5a]))
    c.add(GROUP, "ext-short-l1-all-ids", "IDs 3..31 with L = 1 (one payload byte)", w)
    w = PaddingWriter(1)
    for i in range(3, 128):
        if i < 32:
            w.short(i, bytes([i]) if i % 2 else None)
        elif i != DRED_EXTENSION_ID:
            w.long(i, junk(rng, i % 5))
    w.dred(junk(rng, 3, avoid_d=True), last=True)
    c.add(GROUP, "ext-all-ids", "every extension ID 3..127 once (126 without 'D', last with L = 0)", w,
          flags=("AllExtensionIds", "DredNoPrefix"))
    for n in (0, 1, 2, 253, 254, 255, 256, 509, 510, 511, 765):
        w = PaddingWriter(1).long(32 + n % 90, junk(rng, n)).short(3, b"e")
        c.add(GROUP, f"ext-long-length-{n:03d}", f"a long extension of {n} bytes (L = 1), then a short one", w)
    for n in (0, 1, 254, 255, 256, 510):
        w = PaddingWriter(1).short(3).long(100, junk(rng, n), last=True)
        c.add(GROUP, f"ext-long-last-{n:03d}", f"a long extension with L = 0 holding the last {n} bytes", w)
    c.add(GROUP, "ext-long-last-empty-frame-1", "an L = 0 long extension with nothing left, on frame 1",
          PaddingWriter(2).long(33, b"x").sep().long(34, b"", last=True))


def _libopus_success(w: PaddingWriter) -> PaddingWriter:
    """libopus tests/test_opus_extensions.c: the test_extensions_generate_success / parse_success layout."""
    return w.short(3, b"a").sep().long(33, b"NOT DRED").sep_n(3).short(4).sep_n(6).long(32, b"DRED", last=True)


def _libopus(c: Corpus) -> None:
    c.add(GROUP, "ext-libopus-generate-no-padding", "libopus's generator on its test list (11 frames): 3@0 'a', "
          "33@1 'NOT DRED', 4@4, 32@10 'DRED' (L = 0)", _libopus_success(PaddingWriter(11)),
          config=CELT_FB_2_5, flags=LIBOPUS)
    c.add(GROUP, "ext-libopus-generate-padded", "the same padded to 27 bytes with leading 0x01 (libopus pad=1)",
          _libopus_success(PaddingWriter(11).pad(4)), config=CELT_FB_2_5, flags=LIBOPUS)
    # frames of other packet forms carry no extensions
    c.add(GROUP, "ext-code3-no-padding", "code 3 without the padding flag: no extensions", PaddingWriter(2),
          no_padding=True)
