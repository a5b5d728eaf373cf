"""Group ``dred-envelope``: which extension is the DRED (duplicates, versions, prefixes, other IDs, large ones,
repeats) and DRED around extension errors."""
from __future__ import annotations

from dredconf.spec import DRED_EXTENSION_ID, build_elements
from dredconf.spec.elements import ExtensionElement

from ..cases import CELT_FB_20, SILK_WB_20, junk, no_dred
from ..corpus import Corpus
from ..dredpayload import DredBlob, DredIntegers, blob, random_integers, representable, with_magnitude
from ..padding import PaddingWriter

GROUP = "dred-envelope"
IGNORE_BROKEN = ("the packet's DRED is ignored (a decoder may reject a packet breaking the MUST NOT)", no_dred)


def build(c: Corpus) -> None:
    _duplicates(c)
    _not_dred(c)
    _large(c)
    _repeated(c)
    _errors(c)


def _any(c: Corpus, n: int = 3) -> DredIntegers:
    rng = c.rng(GROUP)
    return random_integers(rng, c.stats, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)), n_latents=n)


def _duplicates(c: Corpus) -> None:
    """Two DREDs on one frame (MUST NOT be sent), on a later frame, first in bitstream order on a later frame."""
    rng, st = c.rng(GROUP), c.stats
    a, b = blob(_any(c), st), blob(_any(c), st)
    w = PaddingWriter(2).dred(a).dred(b, last=True)
    c.add(GROUP, "dred-second-same-frame", "two DRED payloads on frame 0 (MUST NOT be sent): libopus uses the first",
          w, config=SILK_WB_20, flags=("DredSecondSameFrame",), result="acceptable", alternatives=[IGNORE_BROKEN])
    a, b = blob(_any(c), st), blob(_any(c), st)
    w = PaddingWriter(3).dred(a).sep().sep().dred(b, last=True)
    c.add(GROUP, "dred-second-later-frame", "DRED on frame 0 and another on frame 2: the first is used", w,
          flags=("DredSecondLaterFrame",))
    a, b = blob(_any(c), st), blob(_any(c), st)
    w = PaddingWriter(2).sep().dred(a).dred(b, last=True)
    c.add(GROUP, "dred-second-same-frame-1", "two DRED payloads on frame 1 of 2: libopus uses the first", w,
          flags=("DredSecondSameFrame",), result="acceptable", alternatives=[IGNORE_BROKEN])
    # first in bitstream order, on a later frame than a DRED coded after it (through RTE)
    first, frame0 = _any(c), _any(c)
    w = PaddingWriter(2).dred(junk(rng, 5, avoid_d=True))
    w.rte(1, [[blob(first, st)]]).dred(blob(frame0, st), last=True)

    def frame_order(rec):
        rec["dred"] = frame0.record(0)
        return rec
    c.add(GROUP, "dred-first-in-bitstream-on-later-frame",
          "frame 0: ID 126 without 'D', repeated (RTE) into frame 1 with a DRED payload; then a DRED on frame 0. "
          "libopus uses the first in bitstream order (frame 1)", w, config=CELT_FB_20,
          flags=("DredFirstInBitstreamOrder", "DredViaRepeat", "DredNoPrefix"),
          result="acceptable", alternatives=[("the DRED of the earliest frame is used (frame 0): the draft's "
                                              "'first one found' read in frame order", frame_order)])


def _not_dred(c: Corpus) -> None:
    """ID 126 with other versions, without the prefix, too short; DRED payloads under other IDs."""
    rng, st = c.rng(GROUP), c.stats
    for v in (0, 11, 13, 255):
        ext = DredBlob(b"D" + bytes([v]) + blob(_any(c), st)[2:], None)
        c.add(GROUP, f"dred-version-{v:03d}", f"ID 126 with 'D' and version byte {v}: not DRED version 12, ignored",
              PaddingWriter(1).dred(ext, last=True), flags=("DredOtherVersion",))
    w = PaddingWriter(1).dred(DredBlob(b"D\x0b" + blob(_any(c), st)[2:], None)).dred(blob(_any(c), st), last=True)
    c.add(GROUP, "dred-version-011-then-012", "ID 126 with version 11, then a version 12 DRED: the second is used",
          w, flags=("DredOtherVersion",))
    w = PaddingWriter(1).dred(junk(rng, 20, avoid_d=True), last=True)
    c.add(GROUP, "dred-no-prefix", "ID 126 whose payload does not start with 'D': ignored", w,
          flags=("DredNoPrefix",))
    raw = blob(_any(c), st)[2:]
    if raw[:1] == b"D":
        raw = b"E" + raw[1:]
    c.add(GROUP, "dred-bits-without-prefix", "ID 126 carrying DRED bits without the 'D', 12 prefix (the final "
          "standard's form): ignored by a version-12 decoder", PaddingWriter(1).dred(raw, last=True),
          flags=("DredNoPrefix",))
    w = PaddingWriter(2).dred(junk(rng, 9, avoid_d=True)).sep().dred(blob(_any(c), st), last=True)
    c.add(GROUP, "dred-no-prefix-then-dred", "ID 126 without 'D' on frame 0, DRED on frame 1: the DRED is used", w,
          flags=("DredNoPrefix",))
    for name, payload, L0 in (("prefix-only", b"D\x0c", False), ("prefix-only-last", b"D\x0c", True),
                              ("d-only", b"D", False), ("empty", b"", False), ("empty-last", b"", True)):
        w = PaddingWriter(1).dred(payload, last=L0)
        if not L0:
            w.short(3)
        c.add(GROUP, f"dred-{name}", f"ID 126 with payload {payload!r} ({len(payload)} bytes, "
              f"{'L = 0' if L0 else 'L = 1'}): no DRED bits, ignored", w, flags=("DredPrefixOnly",))
    w = PaddingWriter(1).dred(b"D\x0c").dred(blob(_any(c), st), last=True)
    c.add(GROUP, "dred-prefix-only-then-dred", "ID 126 with only 'D', 12, then a DRED: the second is used", w,
          flags=("DredPrefixOnly",))
    for other in (125, 127, 32):
        w = PaddingWriter(1).long(other, blob(_any(c), st), last=True)
        c.add(GROUP, f"dred-payload-under-id-{other}", f"a DRED payload under extension ID {other}: not DRED", w,
              flags=("DredPayloadOtherId",))


def _large(c: Corpus) -> None:
    """A DRED extension past 255 bytes: chained length bytes (L = 1), and L = 0."""
    rng, st = c.rng(GROUP), c.stats
    big = random_integers(rng, st, q0=0, dQ=0, n_latents=26)
    bb = blob(big, st)
    m = 16
    while len(bb) < 300 and m < 1 << 20:  # a large state value (many escapes) takes the payload past 255 bytes
        big = with_magnitude(big, st, m, where="state")
        bb = blob(big, st) if representable(big, st) else bb
        m *= 2
    w = PaddingWriter(1).dred(bb).short(4, b"z")
    c.add(GROUP, "dred-long-length-chain", f"a {len(bb)}-byte DRED extension (L = 1, length bytes "
          f"{' '.join(str(x) for x in (255,) * (len(bb) // 255) + (len(bb) % 255,))}) followed by another extension",
          w, flags=("DredLongL1",))
    c.add(GROUP, "dred-long-l0-large", f"a {len(bb)}-byte DRED extension with L = 0",
          PaddingWriter(1).dred(bb, last=True), flags=("DredLongL0",))


def _repeated(c: Corpus) -> None:
    """DRED through Repeat These Extensions."""
    rng, st = c.rng(GROUP), c.stats
    s1, s2 = _any(c), _any(c)
    w = PaddingWriter(3).dred(junk(rng, 4, avoid_d=True))
    w.rte(0, [[blob(s1, st)], [blob(s2, st)]])
    c.add(GROUP, "dred-via-repeat", "frame 0: ID 126 without 'D'; an L = 0 RTE repeats it into frames 1 and 2 with "
          "DRED payloads: the frame-1 one is used", w, config=CELT_FB_20, flags=("DredViaRepeat", "DredNoPrefix"))
    s0, s1, s2 = _any(c), _any(c), _any(c)
    w = PaddingWriter(3).dred(blob(s0, st)).rte(1, [[blob(s1, st)], [blob(s2, st)]])
    w.short(8, b"q")
    c.add(GROUP, "dred-repeated-every-frame", "a DRED on frame 0 repeated (RTE) with a DRED on each later frame: "
          "the frame-0 one is used", w, config=CELT_FB_20, flags=("DredSecondLaterFrame",))


def _errors(c: Corpus) -> None:
    """A DRED before an extension error is kept, one after it is not found."""
    st = c.stats
    w = PaddingWriter(2).dred(blob(_any(c), st)).sep().sep()
    c.add(GROUP, "dred-before-error", "a DRED, then a separator past the last frame: the padding is invalid; the "
          "DRED before the error is kept", w, flags=("DredBeforeError", "ErrorKeepsPrefix"))
    after = build_elements([ExtensionElement(DRED_EXTENSION_ID, blob(_any(c), st), L=0)])
    w = PaddingWriter(2).short(5).sep_n(5).raw(after)
    c.add(GROUP, "dred-after-error", "a separator past the last frame, then a DRED: the padding is invalid and the "
          "DRED after the error is not found", w, flags=("DredAfterError", "SeparatorPastEnd", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).dred(blob(_any(c), st)).cut(ExtensionElement(40, b"ab" + bytes(198)), 4)
    c.add(GROUP, "dred-before-length-error", "a DRED, then a long extension whose length exceeds the padding: "
          "invalid, the DRED is kept", w, flags=("DredBeforeError", "LongLengthPastEnd", "ErrorKeepsPrefix"))
