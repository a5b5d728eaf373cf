"""The DRED envelope (draft-ietf-mlcodec-opus-dred-05; SPEC-NOTES §3): which padding
extension carries the DRED payload, found as libopus 1.6.1's ``dred_find_payload``
(src/opus_decoder.c) finds it."""
from __future__ import annotations

from dataclasses import dataclass

from .extensions import ExtensionList, parse_extensions
from .packet import OpusPacket

DRED_EXTENSION_ID = 126  # experimental extension ID (libopus dnn/dred_config.h); the standard assigns its own
DRED_EXPERIMENTAL_PREFIX = b"D" + bytes([12])  # 'D' + version 12; b"" once the standard drops it
FRAME_OFFSET_UNIT = 120  # 2.5 ms at 48 kHz: DRED offsets count in these units
#: Quantizer level slope per dQ, in 1/16 level per latent (SPEC-NOTES §3; libopus dnn/dred_coding.c).
DQ_TABLE = (0, 2, 3, 4, 6, 8, 12, 16)


def dred_level(q0: int, dQ: int, qmax: int, k: int) -> int:
    """Quantizer level of latent k (0 = newest): min(qmax, q0 + (DQ_TABLE[dQ]*k + 8) // 16).

    The draft's schedule in Python, for the generator and the mutants; the C core has its own
    (``reference.payload.dred_level``), and the tests hold the two to each other."""
    return min(qmax, q0 + (DQ_TABLE[dQ] * k + 8) // 16)


@dataclass(frozen=True)
class DredLocation:
    """Where a packet's DRED payload is."""

    extension_index: int  # index in the ExtensionList
    frame: int  # the Opus frame the extension belongs to
    frame_offset: int  # frame * frame duration / 2.5 ms
    payload: bytes  # the DRED bits, after the experimental prefix
    payload_offset: int  # byte offset of ``payload`` within the packet


def find_dred(packet: OpusPacket, extensions: ExtensionList | None = None) -> DredLocation | None:
    """The first extension with the DRED ID whose payload is longer than the prefix and starts
    with it (others are ignored); None if there is none before the padding's first error."""
    if extensions is None:
        extensions = parse_extensions(packet.padding_bytes, packet.frame_count)
    for index, ext in enumerate(extensions):
        if ext.id != DRED_EXTENSION_ID:
            continue
        if len(ext.data) > len(DRED_EXPERIMENTAL_PREFIX) and ext.data.startswith(DRED_EXPERIMENTAL_PREFIX):
            skip = len(DRED_EXPERIMENTAL_PREFIX)
            return DredLocation(extension_index=index, frame=ext.frame,
                                frame_offset=ext.frame * packet.frame_samples // FRAME_OFFSET_UNIT,
                                payload=ext.data[skip:],
                                payload_offset=packet.padding.offset + ext.offset + skip)
    return None
