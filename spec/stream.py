"""libopus test-tool stream records: the ``opus_demo -e`` output format, also used by
the RFC 6716 / RFC 8251 test vectors. Each record is a 4-byte big-endian length N, a
4-byte big-endian encoder final range, then the N packet bytes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import construct as cs
from construct import this

from dredconf.errors import StreamError

from .derived import struct_of

# No Opus packet comes near this (48 frames of 1275 bytes plus padding is under 64 KiB)
MAX_RECORD_LENGTH = 1 << 20

RecordHeader = cs.Struct(
    "length" / cs.Int32ub * "opus_demo: packet length N in bytes",
    "final_range" / cs.Int32ub * "opus_demo: encoder final range (RFC 6716 §4.1, rng after encoding)",
)
"""opus_demo: the 8-byte header before each packet."""

Record = cs.Struct(
    "length" / cs.Rebuild(cs.Int32ub, cs.len_(this.packet)) * "opus_demo: packet length N in bytes",
    "final_range" / cs.Default(cs.Int32ub, 0) * "opus_demo: encoder final range",
    "packet" / cs.Bytes(this.length) * "the Opus packet (RFC 6716 §3)",
)
"""opus_demo: one stream record."""


@dataclass(frozen=True)
class StreamRecord:
    """One packet of a stream file."""

    index: int  # packet number, from 0
    offset: int  # byte offset of the record (its length field) in the file
    final_range: int
    packet: bytes
    packet_offset: int  # byte offset of the packet bytes in the file


_HEADER = struct_of(RecordHeader)  # RecordHeader as one struct unpack: (length, final_range)


def iter_records(data: bytes) -> Iterator[tuple[int, int, int, bytes, int] | StreamError]:
    """``read_stream``'s records as plain ``(index, offset, final_range, packet, packet_offset)`` tuples (a
    whole-stream reader makes no object per packet), then, on broken framing, one ``StreamError``.

    Each header is read once, by ``RecordHeader``'s format; the packet is the ``length`` bytes after it
    (``Record``'s ``packet`` field)."""
    if type(data) is not bytes:
        data = bytes(data)
    offset, index = 0, 0
    size = len(data)
    header_size = _HEADER.size
    unpack = _HEADER.unpack_from
    while offset < size:
        if size - offset < header_size:
            yield StreamError(f"record header truncated: {size - offset} of {header_size} bytes",
                              rule="stream-header-truncated", packet=index, offset=offset)
            return
        length, final_range = unpack(data, offset)
        if length > MAX_RECORD_LENGTH:
            yield StreamError(f"absurd packet length {length} (over {MAX_RECORD_LENGTH})",
                              rule="stream-length-absurd", packet=index, offset=offset)
            return
        start = offset + header_size
        if length > size - start:
            yield StreamError(f"packet length {length} runs past the end of the file "
                              f"({size - start} bytes left)",
                              rule="stream-length-past-end", packet=index, offset=offset)
            return
        yield index, offset, final_range, data[start:start + length], start
        offset, index = start + length, index + 1


def read_stream(data: bytes) -> Iterator[StreamRecord | StreamError]:
    """Yield each record; on broken framing yield one ``StreamError`` and stop."""
    for r in iter_records(data):
        yield StreamRecord(*r) if type(r) is tuple else r


def write_stream(packets: Iterable[bytes], final_ranges: Sequence[int] | None = None) -> bytes:
    """Write packets as stream records; final ranges default to 0."""
    packets = list(packets)
    if final_ranges is None:
        final_ranges = [0] * len(packets)
    if len(final_ranges) != len(packets):
        raise ValueError("one final range per packet")
    return b"".join(Record.build(dict(packet=bytes(p), final_range=r)) for p, r in zip(packets, final_ranges))
