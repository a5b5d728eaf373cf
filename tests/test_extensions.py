"""Padding extensions (spec/elements.py, spec/extensions.py, spec/generator.py) and the DRED envelope (spec/dred.py).

LIBOPUS_CASES re-expresses the worked cases of libopus 1.6.1 tests/test_opus_extensions.c
as a table: the padding bytes (what libopus's generator writes, and the test's hand edits
of them), the frame count, and what libopus's iterator returns. RULE_CASES adds one case
per rule and per form of the draft.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dredconf.errors import ExtensionError
from dredconf.spec import (
    DRED_EXPERIMENTAL_PREFIX,
    DRED_EXTENSION_ID,
    ExtensionElement,
    FrameSeparator,
    PaddingByte,
    PaddingRest,
    RawBytes,
    RepeatTheseExtensions,
    build_elements,
    build_extensions,
    build_packet,
    find_dred,
    parse_extensions,
    parse_packet,
    plan_extensions,
)
from dredconf.spec.elements import LongLength
from dredconf.spec.extensions import PaddingBuilder

# Payload hex of the strings libopus's test uses
A, B, C, D, E, F = "61", "62", "63", "64", "65", "66"
DRED, DRED2, DRED3, NOT_DRED = "44524544", "4452454432", "445245447468726565", "4e4f542044524544"

# (name, padding hex, nb_frames, [(id, frame, payload hex)] in iterator order, error rule, error offset)
LIBOPUS_CASES = [
    # test_extensions_generate_success / parse_success / generate_no_padding: 0x01 padding first
    ("generate_success", "01010101" "0761" "02" "4308" + NOT_DRED + "0303" "08" "0306" "40" + DRED, 11,
     [(3, 0, A), (33, 1, NOT_DRED), (4, 4, ""), (32, 10, DRED)], None, None),
    ("parse_success", "01" * 9 + "0761" "02" "4308" + NOT_DRED + "0303" "08" "0306" "40" + DRED, 11,
     [(3, 0, A), (33, 1, NOT_DRED), (4, 4, ""), (32, 10, DRED)], None, None),
    ("generate_no_padding", "0761" "02" "4308" + NOT_DRED + "0303" "08" "0306" "40" + DRED, 11,
     [(3, 0, A), (33, 1, NOT_DRED), (4, 4, ""), (32, 10, DRED)], None, None),
    # test_extensions_parse_fail
    ("fail_invalid_length", "0761" "02" "43ff" + NOT_DRED + "0303" "08" "0306" "40" + DRED, 11,
     [(3, 0, A)], "ext-long-length-past-end", 3),
    ("fail_fewer_frames", "0761" "02" "4308" + NOT_DRED + "0303" "08" "0306" "40" + DRED, 5,
     [(3, 0, A), (33, 1, NOT_DRED), (4, 4, "")], "ext-separator-past-last-frame", 16),
    ("fail_big_increment", "0761" "02" "4308" + NOT_DRED + "03ff" "08" "0306" "40" + DRED, 11,
     [(3, 0, A), (33, 1, NOT_DRED)], "ext-separator-past-last-frame", 13),
    ("fail_rte_l0_no_room_for_trailing_short",
     "0761" "02" "4308" + NOT_DRED + "0303" "08" "0305" "4104" + DRED + "0962" "04", 11,
     [(3, 0, A), (33, 1, NOT_DRED), (4, 4, ""), (32, 9, DRED), (4, 9, B)], "ext-rte-trailing-shorts-missing", 27),
    # libopus uses ~8 MB of 0xff to overflow a 32-bit sum; the same shape, smaller
    ("fail_length_overflow", "43" + "ff" * 1000 + "fe", 1, [], "ext-long-length-past-end", 0),
    # test_extensions_repeating: the generator's output for the first n of its 13 extensions
    ("rep_0", "", 3, [], None, None),
    ("rep_1", "0761", 3, [(3, 0, A)], None, None),
    ("rep_2_not_in_every_frame", "0761" "02" "0762", 3, [(3, 0, A), (3, 1, B)], None, None),
    ("rep_3_in_every_frame", "0761" "04" "6263", 3, [(3, 0, A), (3, 1, B), (3, 2, C)], None, None),
    ("rep_4", "0761" "05" "6263" "0964", 3, [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D)], None, None),
    ("rep_5", "0761" "05" "6263" "0964" "0208", 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, "")], None, None),
    ("rep_6_repeat_after_first_frame", "0761" "05" "6263" "0964" "0208" "04", 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (4, 2, "")], None, None),
    ("rep_7_l0_rte_skips_separator", "0761" "05" "6263" "0964" "0208" "04" "40" + DRED2, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (4, 2, ""), (32, 2, DRED2)], None, None),
    ("rep_8_last_long_l0", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "04" + DRED2, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (4, 2, ""), (32, 2, DRED2)],
     None, None),
    ("rep_9", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "05" "05" + DRED2 + "0a", 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (4, 2, ""), (32, 2, DRED2),
      (5, 1, "")], None, None),
    ("rep_10_l0_long_then_short_l0", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "0a" "04" + DRED2, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (5, 1, ""), (4, 2, ""),
      (32, 2, DRED2), (5, 2, "")], None, None),
    ("rep_11", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "0a" "05" "05" + DRED2 + "02" "0d" + F, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (5, 1, ""), (4, 2, ""),
      (32, 2, DRED2), (5, 2, ""), (6, 2, F)], None, None),
    ("rep_12_l0_long_then_short_l1", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "0a" "0d" + E + "04"
     + DRED2 + F, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (5, 1, ""), (6, 1, E), (4, 2, ""),
      (32, 2, DRED2), (5, 2, ""), (6, 2, F)], None, None),
    ("rep_13", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "0a" "0d" + E + "05" "05" + DRED2 + F + "02" "40"
     + DRED3, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (5, 1, ""), (6, 1, E), (4, 2, ""),
      (32, 2, DRED2), (5, 2, ""), (6, 2, F), (32, 2, DRED3)], None, None),
    # test_extensions_repeating's hand edits (forms libopus's generator never writes)
    ("edit_6_rte_in_last_frame_then_junk", "0761" "05" "6263" "0964" "0208" "04" "04" "06", 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (4, 2, "")], None, None),
    ("edit_8_padding_before_rte", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "01" "04" + DRED2, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (4, 2, ""), (32, 2, DRED2)],
     None, None),
    ("edit_8_more_rtes_in_a_frame", "0761" "05" "6263" "05" "0964" "0208" "05" "4104" + DRED + "01" "04" + DRED2, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (4, 2, ""), (32, 1, DRED), (32, 2, DRED2)],
     None, None),
    ("edit_10_zero_increment_keeps_group", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "0300" "0a" "04"
     + DRED2, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (5, 1, ""), (4, 2, ""),
      (32, 2, DRED2), (5, 2, "")], None, None),
    ("edit_13_empty_l0_rte_as_separator", "0761" "05" "6263" "0964" "0208" "4104" + DRED + "0a" "0d" + E + "05" "05"
     + DRED2 + F + "04" "40" + DRED3, 3,
     [(3, 0, A), (3, 1, B), (3, 2, C), (4, 0, D), (4, 1, ""), (32, 1, DRED), (5, 1, ""), (6, 1, E), (4, 2, ""),
      (32, 2, DRED2), (5, 2, ""), (6, 2, F), (32, 2, DRED3)], None, None),
]

RULE_CASES = [
    # padding (ID 0)
    ("empty_padding", "", 1, [], None, None),
    ("legacy_zero_padding", "000000000000", 2, [], None, None),
    ("rest_is_padding", "0761" "00" "0761", 1, [(3, 0, A)], None, None),
    ("padding_bytes", "01" "0761" "01", 1, [(3, 0, A)], None, None),
    # short extensions (ID 3..31)
    ("short_l0", "06", 1, [(3, 0, "")], None, None),
    ("short_l1", "0761", 1, [(3, 0, A)], None, None),
    ("short_payload_missing", "07", 1, [], "ext-short-payload-missing", 0),
    ("short_payload_missing_later", "0761" "07", 2, [(3, 0, A)], "ext-short-payload-missing", 2),
    # long extensions (ID 32..127)
    ("long_l0_runs_to_end", "40abcd", 1, [(32, 0, "abcd")], None, None),
    ("long_l0_empty", "40", 1, [(32, 0, "")], None, None),
    ("long_l0_swallows_the_rest", "40" "0761", 1, [(32, 0, "0761")], None, None),
    ("long_l1_length_0", "4100", 1, [(32, 0, "")], None, None),
    ("long_l1_length_255", "41ff00" + "ab" * 255, 1, [(32, 0, "ab" * 255)], None, None),
    ("long_length_truncated", "41", 1, [], "ext-long-length-truncated", 0),
    ("long_length_truncated_after_255", "41ff", 1, [], "ext-long-length-truncated", 0),
    ("long_length_past_end", "4105" "61", 1, [], "ext-long-length-past-end", 0),
    # frame separators (ID 1)
    ("separator_next_frame", "0761" "02" "0762", 2, [(3, 0, A), (3, 1, B)], None, None),
    ("separator_past_last_frame", "02", 1, [], "ext-separator-past-last-frame", 0),
    ("separator_increment", "0761" "0302" "0762" "0300" "0763", 3, [(3, 0, A), (3, 2, B), (3, 2, C)], None, None),
    ("separator_zero_increment", "0761" "0300" "0762", 1, [(3, 0, A), (3, 0, B)], None, None),
    ("separator_increment_past_last_frame", "0301", 1, [], "ext-separator-past-last-frame", 0),
    ("separator_increment_missing", "0761" "03", 2, [(3, 0, A)], "ext-separator-increment-missing", 2),
    # Repeat These Extensions (ID 2)
    ("rte_l1_in_last_frame_repeats_nothing", "0761" "05" "0762", 1, [(3, 0, A), (3, 0, B)], None, None),
    ("rte_l0_in_last_frame_rest_ignored", "0761" "04" "0762", 1, [(3, 0, A)], None, None),
    ("rte_l0_empty_group_advances_frame", "04" "0761", 2, [(3, 1, A)], None, None),
    ("rte_l0_advance_past_last_frame_stops", "04" "04" "0761", 2, [], None, None),
    ("rte_l1_stays_in_frame", "0761" "05" "62" "0963" "0a", 2, [(3, 0, A), (3, 1, B), (4, 0, C), (5, 0, "")],
     None, None),
    ("rte_l0_then_next_frame", "0761" "04" "6263" "0964", 3, [(3, 0, A), (3, 1, B), (3, 2, C), (4, 1, D)],
     None, None),
    ("rte_group_starts_after_separator", "0761" "02" "0962" "05" "63", 3, [(3, 0, A), (4, 1, B), (4, 2, C)],
     None, None),
    ("rte_group_starts_after_rte", "0761" "05" "62" "4101aa" "05" "01bb", 2,
     [(3, 0, A), (3, 1, B), (32, 0, "aa"), (32, 1, "bb")], None, None),
    ("rte_l0_long_then_trailing_short", "4101aa" "0761" "04" "bbbbbb" "62", 2,
     [(32, 0, "aa"), (3, 0, A), (32, 1, "bbbbbb"), (3, 1, B)], None, None),
    ("rte_l0_long_coded_before_last_frame", "4101aa" "04" "01bb" "cc", 3,
     [(32, 0, "aa"), (32, 1, "bb"), (32, 2, "cc")], None, None),
    ("rte_l1_long_coded_everywhere", "4101aa" "05" "01bb" "01cc", 3,
     [(32, 0, "aa"), (32, 1, "bb"), (32, 2, "cc")], None, None),
    ("rte_short_payload_missing", "0761" "05", 2, [(3, 0, A)], "ext-rte-short-payload-missing", 3),
    ("rte_long_length_truncated", "4101aa" "05", 2, [(32, 0, "aa")], "ext-rte-long-length-truncated", 4),
    ("rte_long_length_past_end", "4101aa" "05" "05bb", 2, [(32, 0, "aa")], "ext-rte-long-length-past-end", 4),
    ("rte_trailing_shorts_missing", "4101aa" "0761" "04", 2, [(32, 0, "aa"), (3, 0, A)],
     "ext-rte-trailing-shorts-missing", 6),
]


@pytest.mark.parametrize("name,padding,nb_frames,expected,rule,offset", LIBOPUS_CASES + RULE_CASES,
                         ids=[c[0] for c in LIBOPUS_CASES + RULE_CASES])
def test_parse(name, padding, nb_frames, expected, rule, offset):
    found = parse_extensions(bytes.fromhex(padding), nb_frames)
    assert [(e.id, e.frame, e.data.hex()) for e in found] == expected
    if rule is None:
        assert found.error is None
    else:
        assert isinstance(found.error, ExtensionError)
        assert (found.error.rule, found.error.offset) == (rule, offset)


@pytest.mark.parametrize("name,padding,nb_frames,expected,rule,offset", LIBOPUS_CASES + RULE_CASES,
                         ids=[c[0] for c in LIBOPUS_CASES + RULE_CASES])
def test_offsets_point_at_payloads(name, padding, nb_frames, expected, rule, offset):
    data = bytes.fromhex(padding)
    for e in parse_extensions(data, nb_frames):
        assert data[e.offset:e.offset + e.length] == e.data and e.length == len(e.data)
        assert e.header_offset <= e.offset
        if not e.repeated:
            assert data[e.header_offset] >> 1 == e.id


def test_repeated_flag():
    found = parse_extensions(bytes.fromhex("4101aa" "0761" "04" "bbbbbb" "62"), 2)
    assert [e.repeated for e in found] == [False, False, True, True]
    assert [e.header_offset for e in found] == [0, 3, 6, 9]


def test_nb_frames_zero_finds_nothing():
    assert list(parse_extensions(bytes.fromhex("0761"), 0)) == [] and parse_extensions(b"\x07a", 0).error is None


# --- libopus's generator ------------------------------------------------------------

GEN_4 = [(0, 3, b"a"), (10, 32, b"DRED"), (1, 33, b"NOT DRED"), (4, 4, b"")]
FAIL_7 = [(0, 3, b"a"), (1, 33, b"NOT DRED"), (4, 4, b""), (10, 32, b"DRED"), (9, 32, b"DRED"), (9, 4, b"b"),
          (10, 4, b"c")]
REP_13 = [(0, 3, b"a"), (1, 3, b"b"), (2, 3, b"c"), (0, 4, b"d"), (1, 4, b""), (2, 4, b""), (2, 32, b"DRED2"),
          (1, 32, b"DRED"), (1, 5, b""), (2, 5, b""), (2, 6, b"f"), (1, 6, b"e"), (2, 32, b"DREDthree")]
REP_LEN = [0, 2, 5, 5, 7, 9, 10, 16, 21, 23, 22, 26, 25, 37]  # libopus's encoded_len table
_BY_NAME = {c[0]: c[1] for c in LIBOPUS_CASES}


def test_generate_matches_libopus():
    assert build_extensions(GEN_4, 11, pad_to=27).hex() == _BY_NAME["generate_success"]
    assert build_extensions(GEN_4, 11, pad_to=32).hex() == _BY_NAME["parse_success"]
    assert build_extensions(GEN_4, 11).hex() == _BY_NAME["generate_no_padding"]
    assert build_extensions(FAIL_7[:4], 11).hex() == _BY_NAME["generate_no_padding"]


@pytest.mark.parametrize("n", range(len(REP_13) + 1))
def test_generate_repeating_matches_libopus(n):
    data = build_extensions(REP_13[:n], 3)
    assert len(data) == REP_LEN[n]
    (libopus_bytes,) = [v for k, v in _BY_NAME.items() if k == f"rep_{n}" or k.startswith(f"rep_{n}_")]
    assert data.hex() == libopus_bytes
    found = parse_extensions(data, 3)
    assert found.error is None
    assert found.in_frame_order() == sorted(REP_13[:n], key=lambda t: t[0])


def test_generate_rejects_what_libopus_rejects():
    with pytest.raises(ValueError):
        build_extensions(GEN_4, 11, pad_to=22)  # too small
    for bad in ([(0, 2, b"a")], [(0, 128, b"a")], [(11, 33, b"a")], [(-1, 33, b"a")], [(0, 3, b"abcd")]):
        with pytest.raises(ValueError):
            build_extensions(bad, 11)
    with pytest.raises(ValueError):
        build_extensions([(0, 33, b"a")], 49)
    assert build_extensions([], 0) == b""


def test_generate_options():
    exts = [(0, 3, b"a"), (2, 40, b"x" * 300)]
    assert build_extensions(exts, 3) == bytes.fromhex("0761" "0302" "50") + b"x" * 300
    assert build_extensions(exts, 3, separator="long", last_l0=False) == (
        bytes.fromhex("0761" "0302" "51ff2d") + b"x" * 300)
    suffix = build_extensions(exts, 3, pad_to=320, pad_style="suffix")
    assert len(suffix) == 320 and suffix.endswith(b"\x00" * 13) and suffix[-14] != 0
    assert parse_extensions(suffix, 3).triples() == exts
    same = [(f, 33, b"pp") for f in range(4)]
    assert RepeatTheseExtensions(L=0, payloads=((b"pp",),) * 3) in plan_extensions(same, 4)
    assert not any(isinstance(e, RepeatTheseExtensions) for e in plan_extensions(same, 4, repeat=False))


# --- raw elements: every form ----------------------------------------------------------


def test_long_length_coding():
    assert LongLength.build(0) == b"\x00"
    assert LongLength.build(254) == b"\xfe"
    assert LongLength.build(255) == b"\xff\x00"
    assert LongLength.build(256) == b"\xff\x01"
    assert LongLength.build(510) == b"\xff\xff\x00"


@pytest.mark.parametrize("length", [0, 1, 254, 255, 256, 510])
def test_long_lengths(length):
    payload = bytes(range(256)) * 2
    payload = payload[:length]
    coded = build_elements([ExtensionElement(33, payload), ExtensionElement(34, payload, L=0)])
    assert coded[1:1 + length // 255 + 1] == bytes([255] * (length // 255) + [length % 255])
    assert parse_extensions(coded, 1).triples() == [(0, 33, payload), (0, 34, payload)]


def test_every_element_form():
    elements = [
        PaddingByte(), ExtensionElement(3), ExtensionElement(4, b"s"), ExtensionElement(40, b"long"),
        RepeatTheseExtensions(L=1, payloads=((b"", b"t", b"L1"), (b"", b"u", b"L2"))),
        FrameSeparator(0), FrameSeparator(), ExtensionElement(5, b"v"), FrameSeparator(1),
        ExtensionElement(41, b"w" * 3), ExtensionElement(6), RepeatTheseExtensions(L=0, payloads=()),
        PaddingRest(b"\x07a"),
    ]
    data = build_elements(elements, 3)
    assert data.hex() == ("01" "06" "0973" "5104" + b"long".hex() + "05" "" "74" "02" + b"L1".hex() + "" "75" "02"
                          + b"L2".hex() + "0300" "02" "0b76" "0301" "5303" + b"www".hex() + "0c" "04" "00" "0761")
    assert parse_extensions(data, 3).triples() == [
        (0, 3, b""), (0, 4, b"s"), (0, 40, b"long"), (1, 3, b""), (1, 4, b"t"), (1, 40, b"L1"), (2, 3, b""),
        (2, 4, b"u"), (2, 40, b"L2"), (1, 5, b"v"), (2, 41, b"www"), (2, 6, b"")]


def test_rte_l0_last_long_carries_no_length():
    elements = [ExtensionElement(40, b"a"), ExtensionElement(4, b"s"),
                RepeatTheseExtensions(L=0, payloads=((b"bb", b"t"), (b"ccc", b"u")))]
    data = build_elements(elements, 3)
    assert data.hex() == "5101" "61" "0973" "04" "02" "6262" "74" "636363" "75"
    assert parse_extensions(data, 3).triples() == [(0, 40, b"a"), (0, 4, b"s"), (1, 40, b"bb"), (1, 4, b"t"),
                                                   (2, 40, b"ccc"), (2, 4, b"u")]


def test_raw_bytes_and_builder_checks():
    assert build_elements([RawBytes(b"\x07")]) == b"\x07"
    with pytest.raises(ValueError):
        build_elements([ExtensionElement(3, b"ab")])
    with pytest.raises(ValueError):
        build_elements([ExtensionElement(2)])
    with pytest.raises(ValueError):
        build_elements([ExtensionElement(3, b"a"), RepeatTheseExtensions(payloads=((b"",),))], 2)
    with pytest.raises(ValueError):
        build_elements([ExtensionElement(3, b"a"), RepeatTheseExtensions(payloads=())], 2)


# --- round trips (hypothesis) ----------------------------------------------------------

_IDS = st.sampled_from([3, 4, 17, 31, 32, 33, 100, 126, 127])


@st.composite
def generator_input(draw):
    nb_frames = draw(st.integers(1, 6) | st.just(48))
    ids = draw(st.lists(_IDS, min_size=1, max_size=4, unique=True))

    def payload(ext_id):
        if ext_id < 32:
            return draw(st.binary(max_size=1))
        return draw(st.binary(max_size=20) | st.sampled_from([bytes(254), bytes(255), bytes(256), bytes(510)]))

    if draw(st.booleans()):  # a pattern every frame repeats, so the generator uses RTE
        pattern = [(i, draw(st.integers(0, 1))) for i in ids]
        exts = [(f, i, bytes(n) if i < 32 else payload(i)) for f in range(nb_frames) for i, n in pattern
                if draw(st.integers(0, 9))]
    else:
        exts = draw(st.lists(st.tuples(st.integers(0, nb_frames - 1), st.sampled_from(ids)), max_size=12))
        exts = [(f, i, payload(i)) for f, i in exts]
    return nb_frames, exts


@settings(max_examples=300, deadline=None)
@given(generator_input(), st.booleans(), st.booleans(), st.sampled_from(["auto", "long"]),
       st.sampled_from([None, "prefix", "suffix"]), st.integers(0, 20))
def test_build_parse_round_trip(case, repeat, last_l0, separator, pad_style, extra):
    nb_frames, exts = case
    plain = build_extensions(exts, nb_frames, repeat=repeat, last_l0=last_l0 and pad_style != "suffix",
                             separator=separator)
    pad_to = None if pad_style is None else len(plain) + extra + 1
    data = build_extensions(exts, nb_frames, repeat=repeat, last_l0=last_l0, separator=separator, pad_to=pad_to,
                            pad_style=pad_style or "prefix")
    found = parse_extensions(data, nb_frames)
    assert found.error is None
    assert found.in_frame_order() == sorted(exts, key=lambda t: t[0])
    if not repeat:
        assert found.triples() == sorted(exts, key=lambda t: t[0])


@st.composite
def element_sequence(draw):
    """Valid elements in any order, with what parsing them must return (bitstream order)."""
    nb_frames = draw(st.integers(1, 5))
    frame, group, elements, expected = 0, [], [], []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["pad", "sep", "sep0", "short", "long", "rte"]))
        if kind == "pad":
            elements.append(PaddingByte())
        elif kind in ("sep", "sep0"):
            step = 0 if kind == "sep0" else draw(st.integers(1, 2))
            if frame + step >= nb_frames:
                continue
            elements.append(FrameSeparator(None if step == 1 and draw(st.booleans()) else step))
            if step:
                frame, group = frame + step, []
        elif kind in ("short", "long"):
            ext_id = draw(st.integers(3, 31) if kind == "short" else st.integers(32, 127))
            data = draw(st.binary(max_size=1 if kind == "short" else 300))
            elements.append(ExtensionElement(ext_id, data))
            group.append((ext_id, len(data) if kind == "short" else None))
            expected.append((frame, ext_id, data))
        else:
            rte_l = draw(st.integers(0, 1))
            payloads = []
            for rframe in range(frame + 1, nb_frames):
                row = tuple(bytes(n) if n is not None else draw(st.binary(max_size=300)) for _, n in group)
                payloads.append(row)
                expected += [(rframe, ext_id, p) for (ext_id, _), p in zip(group, row)]
            elements.append(RepeatTheseExtensions(L=rte_l, payloads=tuple(payloads)))
            if not rte_l and payloads and any(n is None for _, n in group):
                return nb_frames, elements, expected  # the last repeated long runs to the end
            group = []
            if not rte_l:
                frame += 1
                if frame >= nb_frames:
                    return nb_frames, elements, expected  # the rest would be ignored
    last = draw(st.sampled_from(["none", "rest", "long_l0"]))
    if last == "rest":
        elements.append(PaddingRest(draw(st.binary(max_size=4))))
    elif last == "long_l0" and frame < nb_frames:
        data = draw(st.binary(max_size=300))
        elements.append(ExtensionElement(99, data, L=0))
        expected.append((frame, 99, data))
    return nb_frames, elements, expected


@settings(max_examples=300, deadline=None)
@given(element_sequence())
def test_elements_round_trip(case):
    nb_frames, elements, expected = case
    found = parse_extensions(build_elements(elements, nb_frames), nb_frames)
    assert found.error is None
    assert found.triples() == expected


@settings(max_examples=300, deadline=None)
@given(element_sequence())
def test_one_writer_one_reader(case):
    """The builder's account of what it coded is what the parser lists, offsets included; the parser's element
    trace covers the padding byte for byte and builds it again."""
    nb_frames, elements, _ = case
    builder = PaddingBuilder(nb_frames)
    coded = [e for el in elements for e in builder.add(el)]
    found = parse_extensions(builder.data, nb_frames)
    assert list(found) == coded
    traced = found.elements()
    assert [t.span.offset for t in traced] == [0, *(t.span.offset + t.span.length for t in traced)][:len(traced)]
    assert sum(t.span.length for t in traced) == len(builder.data)
    assert build_elements([t.element for t in traced], nb_frames) == builder.data


@pytest.mark.parametrize("name,padding,nb_frames,expected,rule,offset", LIBOPUS_CASES + RULE_CASES,
                         ids=[c[0] for c in LIBOPUS_CASES + RULE_CASES])
def test_element_trace_stops_at_the_error(name, padding, nb_frames, expected, rule, offset):
    data = bytes.fromhex(padding)
    traced = parse_extensions(data, nb_frames).elements()
    end = sum(t.span.length for t in traced)
    assert [t.span.offset for t in traced] == [0, *(t.span.offset + t.span.length for t in traced)][:len(traced)]
    # the failing element is not in the trace (an RTE's error lies at the repeated payload that fails)
    assert end == (len(data) if rule is None else offset) or (rule.startswith("ext-rte-") and end < offset)
    assert build_elements([t.element for t in traced], nb_frames) == data[:end]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(1, 48))
def test_parse_never_crashes(data, nb_frames):
    found = parse_extensions(data, nb_frames)
    for e in found:
        assert 0 <= e.frame < nb_frames and 3 <= e.id <= 127
        assert 0 <= e.offset and e.offset + e.length <= len(data)
    if found.error is not None:
        assert 0 <= found.error.offset <= len(data)


# --- the DRED envelope ------------------------------------------------------------------


def _dred_packet(exts, nb_frames=2, config=9):
    padding = build_extensions(exts, nb_frames)
    return parse_packet(build_packet([b"\xaa" * 10] * nb_frames, config=config, code=3, padding=padding))


def test_dred_constants():
    assert DRED_EXTENSION_ID == 126 and DRED_EXPERIMENTAL_PREFIX == b"D\x0c"


def test_find_dred_first_valid_wins():
    packet = _dred_packet([(0, 126, b"D\x0b" + b"old"), (0, 126, b"D\x0c"), (1, 126, b"X\x0cnope"),
                           (1, 126, b"D\x0cbits"), (1, 126, b"D\x0cmore")])
    found = find_dred(packet)
    assert found.extension_index == 3 and found.frame == 1 and found.payload == b"bits"
    assert found.frame_offset == 960 // 120  # frame 1 of 20 ms frames: 8 units of 2.5 ms
    assert packet.data[found.payload_offset:found.payload_offset + 4] == b"bits"


def test_find_dred_frame_offset_and_none():
    assert find_dred(_dred_packet([(2, 126, b"D\x0cz")], nb_frames=3, config=16)).frame_offset == 2
    assert find_dred(_dred_packet([(0, 3, b"a")])) is None
    assert find_dred(parse_packet(b"\x48" + bytes(10))) is None


def test_find_dred_before_an_error_is_kept_after_is_lost():
    before = build_packet([b"\xaa"], code=3, padding=bytes.fromhex("fd03440c01" "07"))  # then a short missing its byte
    found = parse_extensions(parse_packet(before).padding_bytes, 1)
    assert found.error.rule == "ext-short-payload-missing"
    assert find_dred(parse_packet(before)).payload == b"\x01"
    after = build_packet([b"\xaa"], code=3, padding=bytes.fromhex("02" "fd03440c01"))  # separator past the last frame
    assert find_dred(parse_packet(after)) is None
