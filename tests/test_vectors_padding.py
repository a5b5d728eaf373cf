"""The corpus's padding writer: byte-exact libopus layouts, and its account of what a decoder must report."""
from __future__ import annotations

import pytest

from dredconf.spec import build_extensions, parse_extensions
from dredconf.spec.elements import ExtensionElement, RepeatTheseExtensions
from dredconf.spec.generator import plan_extensions
from dredconf.vectors.padding import PaddingError, PaddingWriter

# libopus 1.6.1 opus_packet_extensions_generate(..., nb_frames=3, pad=0) on the first n extensions of
# tests/test_opus_extensions.c test_extensions_repeating()'s list (bytes as libopus writes them).
LIBOPUS_REPEATING = {
    1: "0761",
    2: "0761020762",
    3: "0761046263",
    4: "07610562630964",
    5: "076105626309640208",
    6: "07610562630964020804",
    7: "07610562630964020804404452454432",
    8: "076105626309640208410444524544044452454432",
    9: "076105626309640208410444524544050544524544320a",
    10: "0761056263096402084104445245440a044452454432",
    11: "0761056263096402084104445245440a05054452454432020d66",
    12: "0761056263096402084104445245440a0d6504445245443266",
    13: "0761056263096402084104445245440a0d6505054452454432660240445245447468726565",
}
EXTS = [(0, 3, b"a"), (1, 3, b"b"), (2, 3, b"c"), (0, 4, b"d"), (1, 4, b""), (2, 4, b""), (2, 32, b"DRED2"),
        (1, 32, b"DRED"), (1, 5, b""), (2, 5, b""), (2, 6, b"f"), (1, 6, b"e"), (2, 32, b"DREDthree")]


def _libopus_order(n):
    """libopus's list is not in frame order; its generator takes extensions per frame in list order."""
    items = EXTS[:n]
    return [t for f in range(3) for t in items if t[0] == f]


@pytest.mark.parametrize("n", range(1, 14))
def test_writer_matches_libopus_generator(n):
    want = bytes.fromhex(LIBOPUS_REPEATING[n])
    # the spec's port of libopus's generator writes libopus's bytes ...
    assert build_extensions(_libopus_order(n), 3) == want
    # ... and the writer, driven by its plan, writes them too and accounts every extension
    w = PaddingWriter(3)
    for el in plan_extensions(_libopus_order(n), 3):
        w.add(el)
    assert w.bytes() == want
    parsed = parse_extensions(want, 3)
    assert parsed.error is None
    assert [(e.id, e.frame, len(e.data)) for e in parsed] == [(e.id, e.frame, len(e.data)) for e in w.extensions]


def test_libopus_generate_success_layout():
    w = PaddingWriter(11).pad(4).short(3, b"a").sep().long(33, b"NOT DRED").sep_n(3).short(4).sep_n(6)
    w.long(32, b"DRED", last=True)
    assert w.bytes().hex() == "01010101" "0761" "02" "43084e4f542044524544" "0303" "08" "0306" "4044524544"
    assert w.records() == [{"id": 3, "frame": 0, "length": 1}, {"id": 33, "frame": 1, "length": 8},
                           {"id": 4, "frame": 4, "length": 0}, {"id": 32, "frame": 10, "length": 4}]
    assert w.ended and not w.error


def test_writer_accounts_errors_and_ends():
    w = PaddingWriter(2).short(5).sep().sep()
    assert w.error and "SeparatorPastEnd" in w.flags
    with pytest.raises(PaddingError):
        w.short(6)
    w = PaddingWriter(1).pad_rest(b"\x05\x07")
    assert w.ended and w.records() == []
    with pytest.raises(PaddingError):
        PaddingWriter(1).raw(b"\x02")  # raw bytes must say what they are
    with pytest.raises(PaddingError):
        PaddingWriter(3).short(3, b"a").rte(1, [[b"b"]])  # 2 later frames need 2 payload lists
    w = PaddingWriter(3).sep_n(0).short(3, b"a").rte(0, [[b"b"], [b"c"]])
    assert not w.ended and w.frame == 1 and "RteL0SkipsSeparator" in w.flags


def test_cut_elements_account_what_a_decoder_lists_before_failing():
    # an L = 1 RTE repeating two short extensions, cut after the first repeat: that one is listed
    w = PaddingWriter(3).short(3, b"a").short(4, b"b").cut(RepeatTheseExtensions(1, ((b"a", b"x"), (b"x", b"x"))), 2)
    assert w.error and w.bytes().hex() == "0761" "0962" "0561"
    assert w.records()[-1] == {"id": 3, "frame": 1, "length": 1}
    found = parse_extensions(w.bytes(), 3)
    assert [(e.id, e.frame, e.length) for e in found] == [(r["id"], r["frame"], r["length"]) for r in w.records()]
    assert found.error.rule == "ext-rte-short-payload-missing"
    # a long extension cut inside its length bytes lists nothing more
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, bytes(3 * 255)), 4)
    assert w.bytes().hex() == "06" "65ffffff" and w.records() == [{"id": 3, "frame": 0, "length": 0}]
    with pytest.raises(PaddingError):
        w.raw(b"")  # nothing follows a cut: the padding ends inside it
