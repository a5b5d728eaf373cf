"""libopus test-tool stream records (spec/stream.py)."""
from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from dredconf.errors import StreamError
from dredconf.spec import StreamRecord, read_stream, write_stream
from dredconf.spec.stream import MAX_RECORD_LENGTH


def test_write_layout():
    assert write_stream([b"\x48ab"], [0x01020304]) == bytes.fromhex("00000003" "01020304") + b"\x48ab"
    assert write_stream([b"", b"x"]) == bytes.fromhex("00000000" "00000000" "00000001" "00000000") + b"x"


def test_read_records():
    data = write_stream([b"\x48ab", b"", b"\x4bzz"], [7, 8, 9])
    assert list(read_stream(data)) == [
        StreamRecord(index=0, offset=0, final_range=7, packet=b"\x48ab", packet_offset=8),
        StreamRecord(index=1, offset=11, final_range=8, packet=b"", packet_offset=19),
        StreamRecord(index=2, offset=19, final_range=9, packet=b"\x4bzz", packet_offset=27),
    ]
    assert list(read_stream(b"")) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=300), st.integers(0, 2**32 - 1)), max_size=20))
def test_round_trip(records):
    data = write_stream([p for p, _ in records], [r for _, r in records])
    got = list(read_stream(data))
    assert [(g.packet, g.final_range) for g in got] == records
    assert all(data[g.packet_offset:g.packet_offset + len(g.packet)] == g.packet for g in got)


def _only_error(data):
    got = list(read_stream(data))
    assert isinstance(got[-1], StreamError) and not any(isinstance(g, StreamError) for g in got[:-1])
    return got[:-1], got[-1]


def test_truncated_header():
    good = write_stream([b"\x48ab"])
    records, err = _only_error(good + b"\x00\x00\x00")
    assert len(records) == 1
    assert (err.rule, err.packet, err.offset) == ("stream-header-truncated", 1, len(good))
    assert str(err).startswith(f"packet 1, byte {len(good)}: ")


def test_length_past_end_of_file():
    good = write_stream([b"\x48ab", b"\x48c"])
    records, err = _only_error(good + struct.pack(">II", 10, 0) + b"short")
    assert [r.packet for r in records] == [b"\x48ab", b"\x48c"]
    assert (err.rule, err.packet, err.offset) == ("stream-length-past-end", 2, len(good))


def test_absurd_length():
    records, err = _only_error(struct.pack(">II", MAX_RECORD_LENGTH + 1, 0) + bytes(100))
    assert records == [] and (err.rule, err.packet, err.offset) == ("stream-length-absurd", 0, 0)
