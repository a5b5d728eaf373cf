"""The fast readers of spec/derived.py against the schemas they are made from: every table entry, every byte
position of every shared packet (libopus's four streams and the edge cases, whose long payloads take the
schemas' own parse), and random bytes. The fuzz targets ``packet`` and ``extensions`` run the same comparison
on every input where its parse read (``tests/fuzz/registry.py::check_derived_readers``)."""
from __future__ import annotations

import dataclasses
import io
import struct

import construct as cs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dredconf.errors import PacketError
from dredconf.reference.payload import DredPayload
from dredconf.spec import DredLocation, ExtensionList, OpusPacket, Span, StreamRecord, read_stream
from dredconf.spec import elements as E
from dredconf.spec import extensions as X
from dredconf.spec import packet as P
from dredconf.spec import stream as S
from dredconf.spec.derived import byte_table, maker, struct_of
from tests.fuzz.registry import DERIVED_READERS, check_derived_readers
from tests.helpers.shared import EDGE_STREAMS, STREAMS

#: Each table the hot paths read, and the schema piece it is made from.
TABLES = [
    (P._TOC_OF_BYTE, P.Toc, lambda t: dict(t._asdict())),
    (P._COUNT_OF_BYTE, P.FrameCountByte, lambda c: dict(c._asdict())),
    (P._FRAME_LENGTH_OF_BYTE, P.FrameLength, None),
    (P._PADDING_LENGTH_OF_BYTE, P.PaddingLength, None),
    (E.HEADER_OF_BYTE, E.ExtensionHeader, lambda h: dict(h._asdict())),
    (X._BYTE_TABLES[id(E.ShortPayload)], E.ShortPayload, None),
    (X._BYTE_TABLES[id(E.FrameIncrement)], E.FrameIncrement, None),
    (X._BYTE_TABLES[id(E.LongLength)], E.LongLength, None),
]


def _schema(piece, data: bytes):
    """The piece's own parse of a whole buffer: (value, bytes read), or None when it runs out of bytes."""
    stream = io.BytesIO(data)
    try:
        return piece.parse_stream(stream), stream.tell()
    except cs.StreamError:
        return None


@pytest.mark.parametrize("table, piece, view", TABLES, ids=lambda x: getattr(x, "name", None) or repr(x)[:20])
def test_each_table_entry_is_the_schema_parse_of_its_byte(table, piece, view):
    assert len(table) == 256
    for b in range(256):
        want = _schema(piece, bytes([b]))
        if want is None:
            assert table[b] is None, b
            continue
        value, read = want
        assert read == 1
        if view is None:
            assert table[b] == value, b
        else:
            assert view(table[b]) == {k: value[k] for k in view(table[b])}, b


def test_tables_cover_the_continuations():
    # the one-byte codings the hot path takes, and the ones it hands to the schema
    assert [b for b in range(256) if P._FRAME_LENGTH_OF_BYTE[b] is None] == [252, 253, 254, 255]
    assert [b for b in range(256) if P._PADDING_LENGTH_OF_BYTE[b] is None] == [255]
    assert [b for b in range(256) if X._BYTE_TABLES[id(E.LongLength)][b] is None] == [255]
    assert None not in P._TOC_OF_BYTE and None not in E.HEADER_OF_BYTE


def test_refuses_what_it_cannot_derive():
    assert byte_table(cs.Int16ub) == (None,) * 256  # never one byte: every coding goes to the schema
    with pytest.raises(TypeError):
        byte_table(cs.Pass)  # reads nothing
    with pytest.raises(TypeError):
        struct_of(cs.Struct("n" / cs.Int32ub, "data" / cs.Bytes(3)))
    with pytest.raises(TypeError):
        struct_of(cs.Struct("a" / cs.Int32ub, "b" / cs.Int32ul))
    assert struct_of(S.RecordHeader).format == ">LL"
    assert struct_of(S.RecordHeader).size == S.RecordHeader.sizeof()


def _shared_streams(shared) -> list[bytes]:
    base = shared / "vectors"
    return ([(base / "libopus-1.6.1" / f"{s}.bit").read_bytes() for s in STREAMS]
            + [(base / "libopus-1.6.1-edge" / f"{s}.bit").read_bytes() for s in EDGE_STREAMS])


@pytest.mark.shared
def test_stream_records_match_the_record_schema(shared):
    n = 0
    for data in _shared_streams(shared):
        for r in read_stream(data):
            assert isinstance(r, StreamRecord)
            rec = S.Record.parse(data[r.offset:])
            assert (rec.length, rec.final_range, rec.packet) == (len(r.packet), r.final_range, r.packet)
            assert r.packet_offset == r.offset + S.RecordHeader.sizeof()
            n += 1
    assert n >= 1241


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=8, max_size=8))
def test_record_header_format_is_the_schema(header):
    h = S.RecordHeader.parse(header)
    assert struct_of(S.RecordHeader).unpack(header) == (h.length, h.final_range)


@pytest.mark.shared
def test_readers_match_the_schemas_wherever_a_shared_packet_codes_a_length(shared):
    """At each place a parse of a shared packet reads a length, increment or short payload, and the byte after
    it."""
    packets = [r.packet for data in _shared_streams(shared) for r in read_stream(data)]
    longer = 0
    for packet in packets:
        p = P.parse_packet(packet)
        spans = list(p.frame_length_fields) + [p.padding_length_field]
        longer += check_derived_readers(packet, offsets=sorted({s.offset + d for s in spans for d in (0, 1)}))
        ext = X.parse_extensions(p.padding_bytes, p.frame_count)
        starts = {t.span.offset for t in ext.elements()} | {e.header_offset for e in ext} | {e.offset for e in ext}
        longer += check_derived_readers(p.padding_bytes, offsets=sorted({s + d for s in starts for d in (0, 1)}))
    assert len(packets) >= 1241 and longer > 0  # the edge streams' long lengths took the schemas' own parse


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_readers_match_the_schemas_on_random_bytes(data):
    check_derived_readers(data, range(len(data) + 1))


def test_the_readers_are_the_ones_the_parsers_use():
    assert {piece for piece, _ in DERIVED_READERS} == {P.FrameLength, P.PaddingLength, E.ShortPayload,
                                                        E.FrameIncrement, E.LongLength}


@pytest.mark.shared
def test_construct_parse_and_direct_calls_agree(shared):
    for data in _shared_streams(shared):
        for r in read_stream(data):
            p = P.parse_packet(r.packet)
            assert P.Packet.parse(r.packet) == p
            ext = X.parse_extensions(p.padding_bytes, p.frame_count)
            again = X.Extensions.parse(p.padding_bytes, nb_frames=p.frame_count)
            assert (again.extensions, again.marks, again.padding, again.nb_frames) == \
                (ext.extensions, ext.marks, ext.padding, ext.nb_frames)
            assert (type(again.error), str(again.error)) == (type(ext.error), str(ext.error))
            assert list(ext) == list(ext.extensions)


def test_packet_errors_keep_their_offsets():
    with pytest.raises(PacketError, match=r"padding length runs past the end") as e:
        P.parse_packet(b"\x03\x41\xff")  # code 3, padded: 255 continues past the end
    assert (e.value.rule, e.value.offset) == ("rfc6716-r6", 2)
    with pytest.raises(PacketError, match=r"frame 0 length runs past the end") as e:
        P.parse_packet(b"\x03\x82\xfc")  # code 3 VBR, two frames: a two-byte length cut short
    assert (e.value.rule, e.value.offset) == ("rfc6716-r7", 2)


# ---------------------------------------------------------------------------------------------- maker

def _values(cls):
    return {
        OpusPacket: (b"\x4b\x01x", 0x4B, 9, "SILK", "WB", 960, False, 3, False, False, (Span(2, 1),), Span(3, 0),
                     (), Span(2, 0)),
        ExtensionList: ((), None, b"", (), 1),
        DredLocation: (0, 1, 8, b"\x01\x02", 7),
        DredPayload: (1, 2, 0, 3, 15, 13, 0, 1, [1], [0] * 50, [[0] * 25], {"q0": (0, 4)}, 40, False),
        StreamRecord: (0, 0, 7, b"x", 8),
    }[cls]


@pytest.mark.parametrize("cls", [OpusPacket, ExtensionList, DredLocation, DredPayload, StreamRecord],
                         ids=lambda c: c.__name__)
def test_maker_makes_the_same_frozen_record(cls):
    values = _values(cls)
    made, built = maker(cls)(*values), cls(*values)
    assert type(made) is cls and made == built and repr(made) == repr(built)
    assert vars(made) == vars(built)
    if cls.__hash__ is not None and cls is not DredPayload:  # DredPayload holds lists: not hashable
        assert hash(made) == hash(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.index = 1  # type: ignore[misc]
    names = [f.name for f in dataclasses.fields(cls)]
    assert maker(cls)(**dict(zip(names, values))) == built


def test_maker_refuses_what_it_cannot_make():
    @dataclasses.dataclass
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True)
    class Checked:
        a: int

        def __post_init__(self):
            pass

    for cls in (Mutable, Checked, tuple):
        with pytest.raises(TypeError):
            maker(cls)


def test_struct_of_reads_what_read_stream_reads():
    data = struct.pack(">LL", 3, 0xDEADBEEF) + b"abc"
    assert list(S.iter_records(data)) == [(0, 0, 0xDEADBEEF, b"abc", 8)]
    assert list(S.iter_records(bytearray(data))) == list(S.iter_records(memoryview(data)))
    assert isinstance(list(S.iter_records(bytearray(data)))[0][3], bytes)
    assert np.array_equal(np.frombuffer(data[:8], ">u4"), [3, 0xDEADBEEF])
