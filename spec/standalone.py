"""libopus's standalone feature-decoder records (``fargan_demo -dred-decoding``; SPEC-NOTES §5).

A file is a sequence of records (``RecordHeader`` then the bytes): the range-coded
50 state values, then nb_chunks/2 latents (newest first), every value at level
q0's tables; no header fields, no stop rule. libopus's tool reads at most 50
chunks (25 latents, its ``DRED_CHUNKS``) and 100000 bytes (``MAX_DRED_PACKET``)
per record; :func:`check_record` says so. Its output, for each record, is
``2 * nb_chunks`` rows of 20 little-endian float32, oldest row first.

The integers inside a record are the reference's business
(``dredconf.vectors.standalone.decode_record``); this module only frames records.
"""
from __future__ import annotations

from dataclasses import dataclass

import construct as cs

from dredconf.errors import StreamError

from .record import LEVELS, MAX_LATENTS

#: libopus dnn/fargan_demo.c limits.
LIBOPUS_MAX_CHUNKS = 50
LIBOPUS_MAX_BYTES = 100000

RecordHeader = cs.Struct(
    "q0" / cs.Int32ub * "fargan_demo -dred-decoding: the quantizer level of every value, 0..15",
    "nb_chunks" / cs.Int32ub * "fargan_demo -dred-decoding: 2 per latent, even",
    "nb_bytes" / cs.Int32ub * "fargan_demo -dred-decoding: range-coded bytes that follow",
)
"""fargan_demo -dred-decoding: the 12 bytes before each record's bytes."""
_HEADER_SIZE = RecordHeader.sizeof()


@dataclass(frozen=True)
class StandaloneRecord:
    q0: int
    nb_chunks: int
    data: bytes

    @property
    def nb_latents(self) -> int:
        return self.nb_chunks // 2

    def to_bytes(self) -> bytes:
        header = RecordHeader.build(dict(q0=self.q0, nb_chunks=self.nb_chunks, nb_bytes=len(self.data)))
        return header + bytes(self.data)


def read_standalone(data: bytes) -> list[StandaloneRecord]:
    """Every record of a standalone file; StreamError (rule ``standalone-*``) on broken framing."""
    out = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < _HEADER_SIZE:
            raise StreamError(f"record header truncated: {len(data) - pos} of {_HEADER_SIZE} bytes",
                              rule="standalone-header-truncated", packet=len(out), offset=pos)
        h = RecordHeader.parse(data[pos:pos + _HEADER_SIZE])
        if h.q0 >= LEVELS:
            raise StreamError(f"q0 {h.q0} outside 0..{LEVELS - 1}", rule="standalone-q0", packet=len(out), offset=pos)
        if h.nb_chunks % 2 or h.nb_chunks > 2 * MAX_LATENTS:
            raise StreamError(f"nb_chunks {h.nb_chunks}: must be even and at most {2 * MAX_LATENTS} "
                              f"({MAX_LATENTS} latents)", rule="standalone-chunks", packet=len(out), offset=pos + 4)
        start = pos + _HEADER_SIZE
        if h.nb_bytes > len(data) - start:
            raise StreamError(f"nb_bytes {h.nb_bytes} runs past the end of the file ({len(data) - start} left)",
                              rule="standalone-length-past-end", packet=len(out), offset=pos + 8)
        out.append(StandaloneRecord(h.q0, h.nb_chunks, bytes(data[start:start + h.nb_bytes])))
        pos = start + h.nb_bytes
    return out


def write_standalone(records) -> bytes:
    return b"".join(r.to_bytes() for r in records)


def check_record(rec: StandaloneRecord) -> list[str]:
    """What libopus's fargan_demo would refuse or mishandle in this record (empty when fine)."""
    out = []
    if rec.nb_chunks > LIBOPUS_MAX_CHUNKS:
        out.append(f"{rec.nb_chunks} chunks: fargan_demo holds at most {LIBOPUS_MAX_CHUNKS}")
    if len(rec.data) > LIBOPUS_MAX_BYTES:
        out.append(f"{len(rec.data)} bytes: fargan_demo reads at most {LIBOPUS_MAX_BYTES}")
    return out
