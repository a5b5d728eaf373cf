"""The corpus: every vector, by group, with its id, comment, flags, result and expectation.

Each group (``vectors/groups/``) becomes one stream file (``GROUP.bit``,
libopus test-tool format) holding its vectors in order, one packet each. The
randomness (dummy frame bytes, state and latent values, random layouts) comes
from one :class:`~dredconf.vectors.rng.Rng` (PCG64 words) per group seeded
with ``(seed, crc32(group))``, so a group's bytes depend only on the seed and
on that group's code.

Vector ids do not depend on the seed. Expectations are what was encoded (the
:class:`~dredconf.vectors.padding.PaddingWriter`'s account of the extensions,
the :class:`~dredconf.vectors.dredpayload.DredIntegers` of the DRED used); the
generator checks each against the reference decoder before writing anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from dredconf.spec import build_packet
from dredconf.spec.dred import frame_offset, is_dred
from dredconf.spec.packet import MAX_PACKET_SAMPLES, frame_samples
from dredconf.spec.record import MAX_LATENTS, packet_record

from .dredpayload import DredIntegers
from .flags import RESULTS, check_flags
from .padding import PaddingWriter
from .rng import Rng

#: The TOC config of a packet when a case names none: SILK wideband, 20 ms (RFC 6716 §3.1 Table 2).
DEFAULT_CONFIG = 9


@dataclass
class Vector:
    """One test vector: one packet and what a decoder must make of it."""

    id: str
    group: str
    comment: str
    flags: list[str]
    result: str  # valid | invalid | acceptable
    packet: bytes
    expected: dict  # the per-packet JSON record without features ("index" set when written)
    alternatives: list[dict] = field(default_factory=list)  # [{"behaviour": str, "expected": record}]

    def record(self, index: int) -> dict:
        return {"index": index, **{k: v for k, v in self.expected.items() if k != "index"}}


class CaseError(ValueError):
    """A case definition is inconsistent (a generator bug, never a decoder's fault)."""


class Corpus:
    """Collects vectors group by group; ``groups`` keeps the order of first use."""

    def __init__(self, seed: int, stats):
        self.seed = int(seed)
        self.stats = stats
        self.groups: dict[str, list[Vector]] = {}
        self._rngs: dict[str, Rng] = {}
        self._ids: set[str] = set()

    def rng(self, group: str) -> Rng:
        if group not in self._rngs:
            self._rngs[group] = Rng(self.seed, group)
        return self._rngs[group]

    def frames(self, group: str, M: int, *, vbr: bool = False, size: int | None = None) -> list[bytes]:
        """Dummy audio frames (the suite never decodes audio): 1..3 bytes each, or ``size``."""
        rng = self.rng(group)
        if vbr:
            sizes = [int(rng.integers(0, 4)) for _ in range(M)]
            if len(set(sizes)) == 1:
                sizes[0] = (sizes[0] + 1) % 4
        else:
            n = int(rng.integers(1, 4)) if size is None else size
            sizes = [n] * M
        if size is not None and vbr:
            sizes[0] = size
        return [rng.bytes(s) for s in sizes]

    def add(self, group: str, vid: str, comment: str, writer: PaddingWriter | None, *, config: int = DEFAULT_CONFIG,
            M: int | None = None, stereo: bool = False, vbr: bool = False, code: int = 3, flags=(),
            result: str | None = None, alternatives: list[tuple[str, Callable[[dict], dict]]] = (),
            frames: list[bytes] | None = None, padding_length_bytes: bytes | None = None,
            no_padding: bool = False) -> Vector:
        """One packet: ``writer``'s padding in a code ``code`` packet; its expectation is the writer's account."""
        if vid in self._ids:
            raise CaseError(f"duplicate vector id {vid}")
        self._ids.add(vid)
        if M is None:
            M = writer.nb_frames if writer is not None else {0: 1, 1: 2, 2: 2, 3: 1}[code]
        if writer is not None and writer.nb_frames != M:
            raise CaseError(f"{vid}: padding written for {writer.nb_frames} frames, packet has {M}")
        if frames is None:
            frames = self.frames(group, M, vbr=vbr)
        padding = None if (writer is None or no_padding) else writer.bytes()
        if code != 3 and padding is not None:
            raise CaseError(f"{vid}: code {code} packets have no padding")
        data = build_packet(frames, config=config, stereo=stereo, code=code, vbr=vbr if code == 3 else None,
                            padding=padding, padding_length_bytes=padding_length_bytes)
        account = writer if padding is not None else None
        expected, all_flags = _expectation(vid, data, M, account)
        all_flags |= set(flags) | _packet_flags(code, vbr, M, frame_samples(data[0]), stereo, padding, frames,
                                                padding_length_bytes)
        result = _result(vid, result, bool(account and account.error), alternatives)
        check_flags(all_flags, vid)
        alts = [{"behaviour": b, "expected": fn(dict(expected))} for b, fn in alternatives]
        v = Vector(vid, group, comment, sorted(all_flags), result, data, expected, alts)
        self.groups.setdefault(group, []).append(v)
        return v

    def vectors(self) -> list[Vector]:
        return [v for vs in self.groups.values() for v in vs]


def _expectation(vid: str, data: bytes, M: int, account: PaddingWriter | None) -> tuple[dict, set[str]]:
    """The record a decoder must report for this packet, from the writer's account, and the flags it uses."""
    exts = account.extensions if account is not None else []
    expected = packet_record(index=0, length=len(data), toc=data[0], frame_count=M,
                             padding_length=len(account.bytes()) if account is not None else 0,
                             extensions=[(e.id, e.frame, e.length) for e in exts],
                             extension_error=bool(account and account.error), dred=None)
    flags = set(account.flags) if account is not None else set()
    used = next((e for e in exts if is_dred(e.id, e.data)), None)  # the first DRED a decoder finds
    if used is None:
        return expected, flags
    ints = getattr(used.data, "integers", None)
    if ints is None:
        raise CaseError(f"{vid}: the DRED used has no integers attached")
    expected["dred"] = ints.record(frame_offset(used.frame, frame_samples(data[0])))
    flags |= _dred_flags(ints, expected["dred"]) | set(getattr(used.data, "notes", ()))
    flags.add("DredPresent")
    flags.add("DredViaRepeat" if used.repeated else "DredLongL1" if used.L else "DredLongL0")
    if used.frame > 0:
        flags.add("DredFrameOffset")
    return expected, flags


def _result(vid: str, result: str | None, error: bool, alternatives) -> str:
    if result is None:
        result = "invalid" if error else "valid"
    if result not in RESULTS:
        raise CaseError(f"{vid}: result {result}")
    if (result == "acceptable") != bool(alternatives):
        raise CaseError(f"{vid}: acceptable vectors (and only they) list alternatives")
    if error and result == "valid":
        raise CaseError(f"{vid}: malformed padding cannot be valid")
    return result


def _packet_flags(code, vbr, M, fs, stereo, padding, frames, plb) -> set[str]:
    f = set()
    if code == 0:
        f.add("PacketCode0")
    elif code == 1:
        f.add("PacketCode1")
    elif code == 2:
        f.add("PacketCode2")
    else:
        f.add("PacketCode3Vbr" if vbr else "PacketCode3Cbr")
        if M == 1:
            f.add("PacketCode3OneFrame")
        if padding is None:
            f.add("PacketNoPadding")
        elif len(padding) == 0:
            f.add("PacketPaddingEmpty")
        elif (plb[0] == 255) if plb else len(padding) >= 254:
            f.add("PacketPaddingLengthChain")
        if vbr and any(len(fr) >= 252 for fr in frames[:-1]):
            f.add("PacketFrameLength2Bytes")
    if M >= 4:
        f.add("PacketManyFrames")
    if M * fs == MAX_PACKET_SAMPLES:
        f.add("PacketMaxDuration")
    if stereo:
        f.add("PacketStereo")
    return f


def _dred_flags(ints: DredIntegers, rec: dict) -> set[str]:
    f = set()
    if ints.q0 < 14 and ints.dQ > 0:
        f.add("DredQmaxCoded")
        if ints.qmax < 15:
            f.add("DredQmaxLimited")
    else:
        f.add("DredQmaxImplicit")
    if ints.extra_flag or ints.extra_offset:
        f.add("DredExtraOffset")
        if ints.extra_offset == 0:
            f.add("DredExtraOffsetZero")
    f.add("DredOffsetNegative" if rec["dred_offset"] < 0 else "DredOffsetNonNegative")
    n = len(ints.latents)
    if n == 0:
        f.add("DredNoLatents")
    if n == MAX_LATENTS:
        f.add("DredMaxLatents")
    values = list(ints.state) + [v for x in ints.latents for v in x]
    big = max((abs(v) for v in values), default=0)
    if big >= 8:
        f.add("DredLaplaceEscape")
    if big >= 22:
        f.add("DredLaplaceManyEscapes")
    return f
