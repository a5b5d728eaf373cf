"""Opus packet framing (spec/packet.py): RFC 6716 §3.1–3.2 and the §3.4 rules, as libopus
1.6.1's opus_packet_parse_impl (self_delimited = 0) accepts them."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dredconf.errors import PacketError
from dredconf.spec import Span, build_packet, parse_packet
from dredconf.spec.packet import CONFIGS

SILK_WB_20 = 9 << 3  # config 9: SILK WB 20 ms, mono
SILK_NB_60 = 3 << 3  # config 3: SILK NB 60 ms
CELT_NB_2_5 = 16 << 3  # config 16: CELT NB 2.5 ms
X = b"\xaa"


def pkt(toc: int, *parts) -> bytes:
    return bytes([toc]) + b"".join(bytes(p) if not isinstance(p, int) else bytes([p]) for p in parts)


def test_toc_fields():
    p = parse_packet(pkt(SILK_WB_20 | 0x04, X * 10))
    assert (p.toc, p.config, p.mode, p.bandwidth, p.frame_samples, p.stereo, p.code) == (
        0x4c, 9, "SILK", "WB", 960, True, 0)
    assert [CONFIGS[c][:2] for c in (0, 4, 8, 12, 14, 16, 20, 24, 28)] == [
        ("SILK", "NB"), ("SILK", "MB"), ("SILK", "WB"), ("Hybrid", "SWB"), ("Hybrid", "FB"), ("CELT", "NB"),
        ("CELT", "WB"), ("CELT", "SWB"), ("CELT", "FB")]
    assert [CONFIGS[c].frame_samples for c in (0, 1, 2, 3, 12, 13, 16, 17, 18, 19)] == [
        480, 960, 1920, 2880, 480, 960, 120, 240, 480, 960]


# (name, packet, frames [(offset, length)], padding (offset, length), vbr, padding_flag)
VALID = [
    ("code0", pkt(SILK_WB_20, X * 10), [(1, 10)], (11, 0), False, False),
    ("code0_empty_frame", pkt(SILK_WB_20), [(1, 0)], (1, 0), False, False),
    ("code0_1275", pkt(SILK_WB_20, X * 1275), [(1, 1275)], (1276, 0), False, False),
    ("code1", pkt(SILK_WB_20 | 1, X * 10), [(1, 5), (6, 5)], (11, 0), False, False),
    ("code1_toc_only", pkt(SILK_WB_20 | 1), [(1, 0), (1, 0)], (1, 0), False, False),
    ("code2", pkt(SILK_WB_20 | 2, 3, X * 7), [(2, 3), (5, 4)], (9, 0), True, False),
    ("code2_first_empty", pkt(SILK_WB_20 | 2, 0, X * 5), [(2, 0), (2, 5)], (7, 0), True, False),
    ("code2_two_byte_length", pkt(SILK_WB_20 | 2, 252, 12, X * 301), [(3, 300), (303, 1)], (304, 0), True, False),
    ("code2_length_1275", pkt(SILK_WB_20 | 2, 255, 255, X * 1275), [(3, 1275), (1278, 0)], (1278, 0), True, False),
    ("code3_cbr", pkt(SILK_WB_20 | 3, 0x03, X * 9), [(2, 3), (5, 3), (8, 3)], (11, 0), False, False),
    ("code3_vbr", pkt(SILK_WB_20 | 3, 0x83, 2, 3, X * 9), [(4, 2), (6, 3), (9, 4)], (13, 0), True, False),
    ("code3_vbr_last_empty", pkt(SILK_WB_20 | 3, 0x82, 3, X * 3), [(3, 3), (6, 0)], (6, 0), True, False),
    ("code3_padding", pkt(SILK_WB_20 | 3, 0x41, 5, X * 10, b"\0" * 5), [(3, 10)], (13, 5), False, True),
    ("code3_padding_empty", pkt(SILK_WB_20 | 3, 0x41, 0, X * 10), [(3, 10)], (13, 0), False, True),
    ("code3_padding_255_continues", pkt(SILK_WB_20 | 3, 0x41, 255, 10, X * 3, b"\0" * 264), [(4, 3)], (7, 264),
     False, True),
    ("code3_padding_255_0_is_254", pkt(SILK_WB_20 | 3, 0x41, 255, 0, X * 3, b"\0" * 254), [(4, 3)], (7, 254),
     False, True),
    ("code3_vbr_padding", pkt(SILK_WB_20 | 3, 0xc2, 2, 1, X * 3, b"\0\0"), [(4, 1), (5, 2)], (7, 2), True, True),
    ("code3_only_padding", pkt(SILK_WB_20 | 3, 0x41, 3, b"\0" * 3), [(3, 0)], (3, 3), False, True),
    ("code3_48_frames_of_2_5ms", pkt(CELT_NB_2_5 | 3, 48), [(2, 0)] * 48, (2, 0), False, False),
    ("code3_2_frames_of_60ms", pkt(SILK_NB_60 | 3, 2, X * 4), [(2, 2), (4, 2)], (6, 0), False, False),
]


@pytest.mark.parametrize("name,data,frames,padding,vbr,padding_flag", VALID, ids=[v[0] for v in VALID])
def test_valid(name, data, frames, padding, vbr, padding_flag):
    p = parse_packet(data)
    assert list(p.frames) == [Span(*f) for f in frames]
    assert p.padding == Span(*padding)
    assert (p.frame_count, p.vbr, p.padding_flag) == (len(frames), vbr, padding_flag)
    assert p.padding.offset + p.padding.length == len(data)


# (name, packet, rule, offset)
INVALID = [
    ("empty_packet", b"", "rfc6716-r1", 0),
    ("code0_1276", pkt(SILK_WB_20, X * 1276), "rfc6716-r2", 1),
    ("code1_odd", pkt(SILK_WB_20 | 1, X * 3), "rfc6716-r3", 1),
    ("code1_frames_of_1276", pkt(SILK_WB_20 | 1, X * 2552), "rfc6716-r2", 1277),
    ("code2_no_length", pkt(SILK_WB_20 | 2), "rfc6716-r4", 1),
    ("code2_length_second_byte_missing", pkt(SILK_WB_20 | 2, 252), "rfc6716-r4", 1),
    ("code2_length_past_end", pkt(SILK_WB_20 | 2, 5, X * 3), "rfc6716-r4", 1),
    ("code2_second_frame_1276", pkt(SILK_WB_20 | 2, 0, X * 1276), "rfc6716-r2", 2),
    ("code3_no_count_byte", pkt(SILK_WB_20 | 3), "rfc6716-r6", 1),
    ("code3_m0", pkt(SILK_WB_20 | 3, 0x00), "rfc6716-r5", 1),
    ("code3_m0_vbr_padded", pkt(SILK_WB_20 | 3, 0xc0, 0), "rfc6716-r5", 1),
    ("code3_over_120ms", pkt(SILK_WB_20 | 3, 7, X * 7), "rfc6716-r5", 1),
    ("code3_3_frames_of_60ms", pkt(SILK_NB_60 | 3, 3, X * 3), "rfc6716-r5", 1),
    ("code3_49_frames", pkt(CELT_NB_2_5 | 3, 49), "rfc6716-r5", 1),
    ("code3_padding_length_missing", pkt(SILK_WB_20 | 3, 0x41), "rfc6716-r6", 2),
    ("code3_padding_length_continuation_missing", pkt(SILK_WB_20 | 3, 0x41, 255), "rfc6716-r6", 2),
    ("code3_padding_past_end", pkt(SILK_WB_20 | 3, 0x41, 10, X * 3), "rfc6716-r6", 2),
    ("code3_padding_255_past_end", pkt(SILK_WB_20 | 3, 0x41, 255, 0, b"\0" * 253), "rfc6716-r6", 2),
    ("code3_vbr_padding_past_end", pkt(SILK_WB_20 | 3, 0xc1, 10, X * 3), "rfc6716-r7", 2),
    ("code3_cbr_remainder", pkt(SILK_WB_20 | 3, 2, X * 3), "rfc6716-r6", 2),
    ("code3_cbr_frames_of_1276", pkt(SILK_WB_20 | 3, 2, X * 2552), "rfc6716-r2", 1278),
    ("code3_vbr_length_missing", pkt(SILK_WB_20 | 3, 0x83), "rfc6716-r7", 2),
    ("code3_vbr_second_length_missing", pkt(SILK_WB_20 | 3, 0x83, 0), "rfc6716-r7", 3),
    ("code3_vbr_length_in_padding", pkt(SILK_WB_20 | 3, 0xc2, 3, b"\0" * 3), "rfc6716-r7", 3),
    ("code3_vbr_length_past_end", pkt(SILK_WB_20 | 3, 0x82, 5, X * 3), "rfc6716-r7", 2),
    ("code3_vbr_lengths_sum_past_end", pkt(SILK_WB_20 | 3, 0x83, 2, 2, X * 3), "rfc6716-r7", 4),
    ("code3_vbr_last_frame_1276", pkt(SILK_WB_20 | 3, 0x82, 0, X * 1276), "rfc6716-r2", 3),
]


@pytest.mark.parametrize("name,data,rule,offset", INVALID, ids=[v[0] for v in INVALID])
def test_invalid(name, data, rule, offset):
    with pytest.raises(PacketError) as err:
        parse_packet(data)
    assert (err.value.rule, err.value.offset) == (rule, offset)
    assert f"[{rule}]" in str(err.value)


def test_build_forms():
    assert build_packet([X * 3]) == pkt(0, X * 3)
    assert build_packet([X, X], config=9) == pkt(SILK_WB_20 | 1, X * 2)
    assert build_packet([X, X * 300], config=9) == pkt(SILK_WB_20 | 2, 1, X * 301)
    assert build_packet([X * 2] * 3, config=9) == pkt(SILK_WB_20 | 3, 3, X * 6)
    assert build_packet([X * 2] * 3, config=9, vbr=True) == pkt(SILK_WB_20 | 3, 0x83, 2, 2, X * 6)
    assert build_packet([X], config=9, padding=b"") == pkt(SILK_WB_20 | 3, 0x41, 0, X)
    assert build_packet([X], config=9, padding=bytes(254)) == pkt(SILK_WB_20 | 3, 0x41, 255, 0, X, bytes(254))
    assert build_packet([X], config=9, padding=bytes(254), padding_length_bytes=b"\xfe") == pkt(
        SILK_WB_20 | 3, 0x41, 254, X, bytes(254))
    assert build_packet([X], config=9, stereo=True, code=3) == pkt(SILK_WB_20 | 4 | 3, 1, X)


def test_build_refuses_broken_packets():
    with pytest.raises(PacketError):
        build_packet([X * 1276])
    with pytest.raises(PacketError):
        build_packet([X] * 7, config=9)  # 140 ms
    assert build_packet([X * 1276], strict=False) == pkt(0, X * 1276)
    for bad in (dict(frames=[X, X * 2], code=1), dict(frames=[X], code=1), dict(frames=[X], padding=b"", code=0),
                dict(frames=[X, X * 2], code=3, vbr=False)):
        with pytest.raises(Exception):
            build_packet(**bad)


@st.composite
def packet_input(draw):
    config = draw(st.integers(0, 31))
    most = min(48, 5760 // CONFIGS[config].frame_samples)
    count = draw(st.integers(1, most))
    size = st.integers(0, 40) | st.sampled_from([251, 252, 255, 256, 1275])
    if draw(st.booleans()):
        frames = [draw(st.binary(min_size=n, max_size=n)) for n in draw(st.lists(size, min_size=count,
                                                                                 max_size=count))]
    else:
        n = draw(size)
        frames = [bytes([i]) * n for i in range(count)]
    padding = draw(st.none() | st.binary(max_size=20) | st.sampled_from([bytes(253), bytes(254), bytes(600)]))
    code = None if padding is not None or draw(st.booleans()) else 3
    vbr = None if len({len(f) for f in frames}) > 1 else draw(st.sampled_from([None, True, False]))
    return dict(frames=frames, config=config, stereo=draw(st.booleans()), code=code, vbr=vbr, padding=padding)


@settings(max_examples=300, deadline=None)
@given(packet_input())
def test_build_parse_round_trip(args):
    data = build_packet(**args)
    p = parse_packet(data)
    assert [p.frame_data(i) for i in range(p.frame_count)] == args["frames"]
    assert p.padding_bytes == (args["padding"] or b"")
    assert (p.config, p.stereo, p.padding_flag) == (args["config"], args["stereo"], args["padding"] is not None)
    if args["code"] == 3 or args["padding"] is not None or len(args["frames"]) > 2:
        assert p.code == 3
    if args["vbr"] is not None and p.code == 3:
        assert p.vbr == args["vbr"]


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=0, max_size=40))
def test_parse_is_total(data):
    try:
        p = parse_packet(data)
    except PacketError as err:
        assert err.rule.startswith("rfc6716-r") and 0 <= err.offset <= len(data)
        return
    assert sum(f.length for f in p.frames) + p.padding.length <= len(data)
    assert p.padding.offset + p.padding.length == len(data)
