"""The DRED envelope (draft-ietf-mlcodec-opus-dred-05; SPEC-NOTES §3): which padding
extension carries the DRED payload, found as libopus 1.6.1's ``dred_find_payload``
(src/opus_decoder.c) finds it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from construct import this

from .extensions import ExtensionList, parse_extensions
from .packet import OpusPacket

DRED_EXTENSION_ID = 126  # experimental extension ID (libopus dnn/dred_config.h); the standard assigns its own
DRED_EXPERIMENTAL_PREFIX = b"D" + bytes([12])  # 'D' + version 12; b"" once the standard drops it
FRAME_OFFSET_UNIT = 120  # 2.5 ms at 48 kHz: DRED offsets count in these units
#: Quantizer level slope per dQ, in 1/16 level per latent (SPEC-NOTES §3; libopus dnn/dred_coding.c).
DQ_TABLE = (0, 2, 3, 4, 6, 8, 12, 16)
DRAFT = "draft-ietf-mlcodec-opus-dred-05"
MAX_LEVEL = 15  # the last quantizer level: qmax when not coded
QMAX_CODED_BELOW = 14  # qmax is coded only when q0 < 14 (and dQ > 0): levels q0+1..14 share half the total
LATENT_MIN_BITS = 8  # a latent is decoded only while at least 8 bits are left (SPEC-NOTES §3, step 7)


class HeaderField(NamedTuple):
    """One range-coded field of the DRED header, in coding order: ``ft`` is the total of ``ec_dec_uint(ft)``
    (None: the qmax coding, ``qmax_total``); ``present`` is True or a construct ``this`` expression over the
    fields before it; ``docs`` names the draft's term and what the value means."""

    name: str
    ft: int | None
    present: Any
    docs: str


DRED_HEADER = (
    HeaderField("q0", 16, True, f"{DRAFT} (SPEC-NOTES §3 step 1): q0, the level of the initial state and latent 0"),
    HeaderField("dQ", 8, True, f"{DRAFT} (§3 step 2): dQ, the level slope, DQ_TABLE[dQ]/16 level per latent"),
    HeaderField("extra_flag", 2, True, f"{DRAFT} (§3 step 3): extra offset flag, 1: extra_offset follows"),
    HeaderField("extra_offset", 256, this.extra_flag == 1,
                f"{DRAFT} (§3 step 3): extra_offset, moves dred_offset back by 32 per unit"),
    HeaderField("offset", 32, True, f"{DRAFT} (§3 step 4): offset, dred_offset = 16 - offset - 32*extra_offset "
                                    "+ frame_offset (2.5 ms units)"),
    HeaderField("qmax", None, (this.q0 < QMAX_CODED_BELOW) & (this.dQ > 0),
                f"{DRAFT} (§3 step 5): qmax, the highest latent level (15 when not coded)"),
)
"""draft-ietf-mlcodec-opus-dred: the DRED header, field by field as the range decoder reads it (the C core's
``dc_dred_decode`` reads the same; a test holds the two equal)."""


def qmax_total(q0: int) -> int:
    """The qmax coding's total 2n, n = 14 - q0: a symbol below n means qmax 15 (update [0, n)); s >= n means
    qmax = q0 + 1 + (s - n) (update [s, s + 1))."""
    return 2 * (QMAX_CODED_BELOW - q0)


def uncapped_level(q0: int, dQ: int, k: int) -> int:
    """The quantizer schedule before the qmax cap: q0 + (DQ_TABLE[dQ]*k + 8) >> 4 for latent k (0 = newest)."""
    return q0 + (DQ_TABLE[dQ] * k + 8) // 16


def dred_level(q0: int, dQ: int, qmax: int, k: int) -> int:
    """Quantizer level of latent k (0 = newest): min(qmax, q0 + (DQ_TABLE[dQ]*k + 8) >> 4).

    The draft's schedule in Python, for everything but the C core, which keeps its own to decode
    (``dc_dred_level`` in reference/csrc/dred_payload.c); a test holds the two equal everywhere."""
    return min(qmax, uncapped_level(q0, dQ, k))


def is_dred(ext_id: int, payload: bytes) -> bool:
    """An extension a version-12 decoder takes as DRED: the DRED ID, the prefix, and at least one byte after it."""
    return (ext_id == DRED_EXTENSION_ID and len(payload) > len(DRED_EXPERIMENTAL_PREFIX)
            and payload.startswith(DRED_EXPERIMENTAL_PREFIX))


def frame_offset(frame: int, frame_samples: int) -> int:
    """Where the DRED's frame starts, in 2.5 ms units: frame × frame duration / 2.5 ms."""
    return frame * frame_samples // FRAME_OFFSET_UNIT


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
        if is_dred(ext.id, ext.data):
            skip = len(DRED_EXPERIMENTAL_PREFIX)
            return DredLocation(extension_index=index, frame=ext.frame,
                                frame_offset=frame_offset(ext.frame, packet.frame_samples),
                                payload=ext.data[skip:],
                                payload_offset=packet.padding.offset + ext.offset + skip)
    return None
