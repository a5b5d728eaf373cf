"""The corpus: every vector, by group, with its id, comment, flags, result and expectation.

Each group becomes one stream file (``GROUP.bit``, libopus test-tool format)
holding its vectors in order, one packet each. The randomness (dummy frame
bytes, state and latent values, random layouts) comes from one
:class:`~dredconf.vectors.rng.Rng` (PCG64 words) per group seeded with ``(seed, crc32(group))``,
so a group's bytes depend only on the seed and on that group's code.

Vector ids do not depend on the seed. Expectations are what was encoded (the
:class:`~dredconf.vectors.padding.PaddingWriter`'s account of the extensions,
the :class:`~dredconf.vectors.dredpayload.DredSpec` of the DRED used); the
generator checks each against the reference decoder before writing anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


from dredconf.spec import DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID, build_elements, build_packet
from dredconf.spec.dred import frame_offset, is_dred
from dredconf.spec.packet import frame_samples
from dredconf.spec.elements import ExtensionElement, FrameSeparator, RepeatTheseExtensions
from dredconf.spec.generator import plan_extensions

from .dredpayload import (
    DredBlob, DredSpec, Unrepresentable, blob, bits_left, encode_too_many, encode_trailing_partial, random_spec,
    representable, sample_values, strip_trailing_zeros, with_magnitude, dred_level,
)
from .flags import check_flags
from .padding import PaddingWriter
from .rng import Rng

DRED_ID = DRED_EXTENSION_ID
PREFIX = DRED_EXPERIMENTAL_PREFIX
INVALID_PACKET = "invalid packet"

# TOC configs (RFC 6716 §3.1 Table 2)
SILK_WB_20 = 9
SILK_WB_60 = 11
HYBRID_FB_20 = 15
CELT_FB_2_5 = 28
CELT_FB_20 = 31


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

    # -- packets ------------------------------------------------------------------------------
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

    def add(self, group: str, vid: str, comment: str, writer: PaddingWriter | None, *, config: int = SILK_WB_20,
            M: int | None = None, stereo: bool = False, vbr: bool = False, code: int = 3, flags=(),
            result: str | None = None, alternatives: list[tuple[str, Callable[[dict], dict]]] = (),
            frames: list[bytes] | None = None, padding_length_bytes: bytes | None = None,
            no_padding: bool = False) -> Vector:
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
        fs = frame_samples(data[0])
        exts = writer.extensions if writer is not None and padding is not None else []
        error = bool(writer is not None and padding is not None and writer.error)
        expected = {
            "index": 0,
            "length": len(data),
            "toc": data[0],
            "frame_count": M,
            "padding_length": len(padding) if padding is not None else 0,
            "extensions": [{"id": e.id, "frame": e.frame, "length": e.length} for e in exts],
            "extension_error": INVALID_PACKET if error else None,
            "dred": None,
        }
        all_flags = set(flags)
        if writer is not None and padding is not None:
            all_flags |= writer.flags
        all_flags |= _packet_flags(code, vbr, M, fs, stereo, padding, frames, padding_length_bytes)
        # DRED as the decoder must locate it: the first ID 126 payload longer than the prefix, starting with it
        used = next((e for e in exts if is_dred(e.id, e.data)), None)
        if used is not None:
            spec = getattr(used.data, "spec", None)
            if spec is None:
                raise CaseError(f"{vid}: the DRED used has no integers attached")
            expected["dred"] = spec.record(frame_offset(used.frame, fs))
            all_flags |= _dred_flags(spec, used.frame, expected["dred"])
            all_flags |= set(getattr(used.data, "notes", ()))
            all_flags.add("DredPresent")
            all_flags.add("DredViaRepeat" if used.repeated else "DredLongL1" if used.L else "DredLongL0")
            if used.frame > 0:
                all_flags.add("DredFrameOffset")
        if result is None:
            result = "invalid" if error else "valid"
        if result not in ("valid", "invalid", "acceptable"):
            raise CaseError(f"{vid}: result {result}")
        if (result == "acceptable") != bool(alternatives):
            raise CaseError(f"{vid}: acceptable vectors (and only they) list alternatives")
        if error and result == "valid":
            raise CaseError(f"{vid}: malformed padding cannot be valid")
        check_flags(all_flags, vid)
        alts = [{"behaviour": b, "expected": fn(dict(expected))} for b, fn in alternatives]
        v = Vector(vid, group, comment, sorted(all_flags), result, data, expected, alts)
        self.groups.setdefault(group, []).append(v)
        return v

    def vectors(self) -> list[Vector]:
        return [v for vs in self.groups.values() for v in vs]


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
    if M * fs == 5760:
        f.add("PacketMaxDuration")
    if stereo:
        f.add("PacketStereo")
    return f


def _dred_flags(spec: DredSpec, frame: int, rec: dict) -> set[str]:
    f = set()
    if spec.q0 < 14 and spec.dQ > 0:
        f.add("DredQmaxCoded")
        if spec.qmax < 15:
            f.add("DredQmaxLimited")
    else:
        f.add("DredQmaxImplicit")
    if spec.extra_flag or spec.extra_offset:
        f.add("DredExtraOffset")
        if spec.extra_offset == 0:
            f.add("DredExtraOffsetZero")
    f.add("DredOffsetNegative" if rec["dred_offset"] < 0 else "DredOffsetNonNegative")
    n = len(spec.latents)
    if n == 0:
        f.add("DredNoLatents")
    if n == 26:
        f.add("DredMaxLatents")
    values = list(spec.state) + [v for x in spec.latents for v in x]
    big = max((abs(v) for v in values), default=0)
    if big >= 8:
        f.add("DredLaplaceEscape")
    if big >= 22:
        f.add("DredLaplaceManyEscapes")
    return f


# --- helpers for cases -----------------------------------------------------------------------------

def to_frame(w: PaddingWriter, f: int, style: str = "auto") -> PaddingWriter:
    """Separators from the writer's frame to frame f: 0x02 for one step, else 0x03 n (or only 0x02s)."""
    step = f - w.frame
    if step <= 0:
        return w
    if style == "ones" or step == 1:
        for _ in range(step):
            w.sep()
    else:
        w.sep_n(step)
    return w


def no_dred(rec: dict) -> dict:
    rec["dred"] = None
    return rec


def junk(rng: Rng, n: int, *, avoid_d: bool = False) -> bytes:
    b = bytearray(rng.bytes(n))
    if avoid_d and b and b[0] == 0x44:
        b[0] = 0x45
    return bytes(b)


def max_frames(config: int) -> int:
    return 5760 // frame_samples(config << 3)


# --- the groups ------------------------------------------------------------------------------------

def dred_header(c: Corpus) -> None:
    g = "dred-header"
    rng = c.rng(g)
    st = c.stats
    for q0 in range(16):
        for dQ in range(8):
            n = int(rng.integers(1, 6))
            spec = random_spec(rng, st, q0=q0, dQ=dQ, n_latents=n)
            w = PaddingWriter(1).long(DRED_ID, blob(spec, st), last=bool((q0 + dQ) % 2))
            qm = "qmax coded as 15" if q0 < 14 and dQ > 0 else "qmax not coded"
            c.add(g, f"dred-q0-{q0:02d}-dq-{dQ}", f"q0 {q0}, dQ {dQ} ({qm}), {n} latents", w)
    # every qmax value that can be coded: q0 < 14, dQ > 0, qmax in q0+1..14 (15 is the grid's "not limited")
    for q0 in range(14):
        for qmax in range(q0 + 1, 15):
            dQ = 7 if (q0 + qmax) % 3 else int(rng.integers(1, 7))
            n = 26 if (q0 + qmax) % 2 else int(rng.integers(1, 26))
            spec = random_spec(rng, st, q0=q0, dQ=dQ, n_latents=n, qmax=qmax)
            w = PaddingWriter(1).long(DRED_ID, blob(spec, st), last=True)
            c.add(g, f"dred-qmax-q0-{q0:02d}-qmax-{qmax:02d}",
                  f"qmax {qmax} signalled with q0 {q0}, dQ {dQ}: latent levels capped at {qmax}", w)
    # the extra offset: absent, flag with 0, 1, 255 and a few between
    for name, flag, extra in (("absent", False, 0), ("flag-zero", True, 0), ("001", True, 1), ("002", True, 2),
                              ("031", True, 31), ("128", True, 128), ("254", True, 254), ("255", True, 255)):
        spec = random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)), n_latents=3,
                           extra_offset=extra, extra_flag=flag)
        w = PaddingWriter(1).long(DRED_ID, blob(spec, st), last=True)
        what = {"absent": "extra-offset flag 0 (field absent)",
                "flag-zero": "extra-offset flag 1 with extra_offset 0 (libopus never writes it; decoders must read it)"
                }.get(name, f"extra_offset {extra}: dred_offset moves back by {32 * extra}")
        c.add(g, f"dred-extra-offset-{name}", what, w)
    # the 5-bit offset, every value, at frame 0: dred_offset = 16 - offset, from 16 down to -15
    for off in range(32):
        spec = random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                           n_latents=int(rng.integers(1, 4)), offset=off)
        w = PaddingWriter(1).long(DRED_ID, blob(spec, st), last=bool(off % 2))
        c.add(g, f"dred-offset-{off:02d}", f"offset {off} on frame 0: dred_offset {16 - off}", w)
    # extremes of dred_offset
    spec = random_spec(rng, st, q0=6, dQ=3, n_latents=2, offset=31, extra_offset=255)
    c.add(g, "dred-offset-minimum", "offset 31 and extra_offset 255 on frame 0: dred_offset -8175, the lowest",
          PaddingWriter(1).long(DRED_ID, blob(spec, st), last=True))
    spec = random_spec(rng, st, q0=6, dQ=3, n_latents=2, offset=0)
    w = to_frame(PaddingWriter(48), 47).long(DRED_ID, blob(spec, st), last=True)
    c.add(g, "dred-offset-maximum", "offset 0 on frame 47 of 48 (2.5 ms): dred_offset 63, the highest",
          w, config=CELT_FB_2_5)
    spec = random_spec(rng, st, q0=3, dQ=2, n_latents=4, offset=30, extra_offset=1)
    w = to_frame(PaddingWriter(6), 5).long(DRED_ID, blob(spec, st), last=True)
    c.add(g, "dred-offset-extra-and-frame", "extra_offset 1, offset 30 on frame 5 of 6 (20 ms): "
          "dred_offset 16 - 30 - 32 + 40 = -6", w, config=CELT_FB_20)


def dred_position(c: Corpus) -> None:
    g = "dred-position"
    rng = c.rng(g)
    st = c.stats

    def one(vid, comment, M, f, config, **kw):
        spec = random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                           n_latents=int(rng.integers(1, 4)))
        w = PaddingWriter(M)
        to_frame(w, f, "ones" if f % 3 == 1 else "auto")
        w.long(DRED_ID, blob(spec, st), last=bool(f % 2))
        c.add(g, vid, comment, w, config=config, M=M, **kw)

    # DRED on frame f of M for M up to 48, 2.5 ms CELT frames (frame_offset = f)
    for M in range(1, 49):
        fs = sorted({0, M - 1} | ({M // 2} if M % 8 == 0 else set()) | (set(range(M)) if M == 48 else set()))
        for f in fs:
            one(f"dred-frame-{f:02d}-of-{M:02d}", f"DRED on frame {f} of {M} (2.5 ms CELT): frame_offset {f}",
                M, f, CELT_FB_2_5, vbr=bool(M % 5 == 0))
    # every TOC config: the most frames it allows, DRED on the last one
    for config in range(32):
        M = max_frames(config)
        fs = frame_samples(config << 3)
        one(f"dred-config-{config:02d}", f"config {config} ({fs / 48:g} ms frames), DRED on frame {M - 1} of "
                f"{M}: frame_offset {(M - 1) * fs // 120}", M, M - 1, config, flags=("TocConfig",))
    one("dred-stereo-frame-1-of-2", "stereo SILK 60 ms, DRED on frame 1 of 2: frame_offset 24", 2, 1, SILK_WB_60,
        stereo=True)
    one("dred-stereo-hybrid", "stereo hybrid 20 ms, DRED on frame 3 of 6", 6, 3, HYBRID_FB_20, stereo=True)
    # among other extensions on other frames
    spec = random_spec(rng, st, q0=5, dQ=4, n_latents=6)
    w = PaddingWriter(4).short(5, b"x").long(40, junk(rng, 7)).sep().short(6).sep()
    w.long(DRED_ID, blob(spec, st)).short(7, b"y").sep().long(90, junk(rng, 3), last=True)
    c.add(g, "dred-frame-2-among-others", "DRED (L = 1) on frame 2 of 4 between other extensions", w,
          config=CELT_FB_20)


def dred_latents(c: Corpus) -> None:
    g = "dred-latents"
    rng = c.rng(g)
    st = c.stats

    def put(vid, comment, b: DredBlob, flags=(), last=True):
        c.add(g, vid, comment, PaddingWriter(1).long(DRED_ID, b, last=last), flags=flags)

    for n in range(27):
        q0, dQ = int(rng.integers(0, 16)), int(rng.integers(0, 8))
        spec = random_spec(rng, st, q0=q0, dQ=dQ, n_latents=n)
        put(f"dred-latents-{n:02d}", f"{n} latents (q0 {q0}, dQ {dQ})" + (": state only" if n == 0 else ""),
            blob(spec, st), last=bool(n % 2))
    for q0 in range(16):
        spec = random_spec(rng, st, q0=q0, dQ=int(rng.integers(0, 8)), n_latents=0)
        put(f"dred-state-only-q0-{q0:02d}", f"state-only payload at q0 {q0}", blob(spec, st))
    # more latents coded than a decoder reads: the extra ones cost enough bits that only the 26 cap stops it
    for extra in (1, 4):
        while True:
            spec = random_spec(rng, st, q0=int(rng.integers(0, 8)), dQ=int(rng.integers(0, 3)), n_latents=26)
            more = []
            for k in range(extra):
                q = dred_level(spec.q0, spec.dQ, spec.qmax, 26 + k)
                more.append(sample_values(rng, st.latent_r[q], st.latent_p0[q]))
            b = encode_too_many(spec, more, st)
            if 8 * (len(b) - len(PREFIX)) - b.tell26 >= 16:
                break
        put(f"dred-latents-{26 + extra}-coded", f"{26 + extra} latents coded ({8 * (len(b) - 2) - b.tell26} bits "
            "after the 26th): a decoder reads 26 and ignores the rest", b)
    # the stop rule: every count of bits left after the last latent, 0..7
    found: dict[int, DredBlob] = {}
    for _ in range(400):
        if len(found) == 8:
            break
        n = int(rng.integers(1, 12))
        spec = random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)), n_latents=n)
        b = blob(spec, st)
        left = bits_left(b[len(PREFIX):], spec, st)
        found.setdefault(left, b)
    if len(found) != 8:
        raise CaseError(f"bits-left classes not all found: {sorted(found)}")
    for left in range(8):
        b = found[left]
        put(f"dred-bits-left-{left}", f"{len(b.spec.latents)} latents; the payload ends {left} bit(s) after the "
            "last latent: the decoder stops there", b, flags=("DredStopRule",))
    # payloads ending inside a latent: trailing zero bytes dropped, the decoder reads zeros past the end
    made = 0
    for _ in range(200):
        if made == 3:
            break
        try:
            spec = random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                               n_latents=int(rng.integers(1, 8)), zero_last=True)
        except Unrepresentable:
            continue
        b = strip_trailing_zeros(spec, st)
        if b is None or "DredLatentPastEnd" not in b.notes:
            continue
        put(f"dred-ends-mid-latent-{made}", f"{len(spec.latents)} latents, the last all zero; its trailing zero "
            "bytes are dropped so the payload ends inside that latent: the range decoder reads zeros past the end",
            b, flags=("DredStopRule",))
        made += 1
    if made != 3:
        raise CaseError("could not build the ends-mid-latent vectors")
    # a partial latent in the last byte's spare bits
    made = 0
    for _ in range(200):
        if made == 2:
            break
        spec = random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                           n_latents=int(rng.integers(0, 6)))
        b = encode_trailing_partial(spec, st)
        if b is None:
            continue
        put(f"dred-trailing-partial-latent-{made}", f"{len(spec.latents)} latents, then symbols of one more in the "
            "last byte's spare bits: the decoder stops (<= 7 bits left) and never reads them", b,
            flags=("DredStopRule",))
        made += 1
    if made != 2:
        raise CaseError("could not build the trailing-partial-latent vectors")
    # the minimum payload: 'D', 12, one byte (q0 in the top 4 bits, everything else 0, zeros past the end)
    for q0 in range(16):
        spec = DredSpec(q0=q0, dQ=0, offset=0, state=(0,) * 50, latents=())
        b = strip_trailing_zeros(spec, st)
        if b is None or len(b) != len(PREFIX) + 1:
            raise CaseError(f"minimum payload for q0 {q0} is not one byte")
        put(f"dred-minimum-payload-q0-{q0:02d}", f"the shortest DRED payload, one byte (0x{b[-1]:02x}): q0 {q0}, "
            "all else 0, state read from zeros past the end, no latents", DredBlob(b, spec, b.notes),
            flags=("DredMinimumPayload",))
    # Laplace magnitudes that need the escape (symbol 7) once, several times, many times
    for where in ("state", "latent"):
        for m in (7, 8, 14, 15, 22, 50, 100, 1000):
            for sign in (1, -1):
                while True:
                    spec = random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                                       n_latents=2)
                    spec = with_magnitude(spec, st, m, where=where, sign=sign)
                    if representable(spec, st):
                        break
                esc = (m - 1) // 7
                put(f"dred-magnitude-{where}-{'p' if sign > 0 else 'm'}{m:04d}",
                    f"a {where} value of {sign * m}: {esc} escape symbol(s)", blob(spec, st))


def dred_envelope(c: Corpus) -> None:
    g = "dred-envelope"
    rng = c.rng(g)
    st = c.stats

    def spec(n=3):
        return random_spec(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)), n_latents=n)

    a, b = blob(spec(), st), blob(spec(), st)
    w = PaddingWriter(2).long(DRED_ID, a).long(DRED_ID, b, last=True)
    c.add(g, "dred-second-same-frame", "two DRED payloads on frame 0 (MUST NOT be sent): libopus uses the first",
          w, config=SILK_WB_20, flags=("DredSecondSameFrame",), result="acceptable",
          alternatives=[("the packet's DRED is ignored (a decoder may reject a packet breaking the MUST NOT)",
                         no_dred)])
    a, b = blob(spec(), st), blob(spec(), st)
    w = PaddingWriter(3).long(DRED_ID, a).sep().sep().long(DRED_ID, b, last=True)
    c.add(g, "dred-second-later-frame", "DRED on frame 0 and another on frame 2: the first is used", w,
          flags=("DredSecondLaterFrame",))
    a, b = blob(spec(), st), blob(spec(), st)
    w = PaddingWriter(2).sep().long(DRED_ID, a).long(DRED_ID, b, last=True)
    c.add(g, "dred-second-same-frame-1", "two DRED payloads on frame 1 of 2: libopus uses the first", w,
          flags=("DredSecondSameFrame",), result="acceptable",
          alternatives=[("the packet's DRED is ignored (a decoder may reject a packet breaking the MUST NOT)",
                         no_dred)])
    # first in bitstream order, on a later frame than a DRED coded after it (through RTE)
    first_spec, later_spec = spec(), spec()
    w = PaddingWriter(2).long(DRED_ID, junk(rng, 5, avoid_d=True))
    w.rte(1, [[blob(first_spec, st)]]).long(DRED_ID, blob(later_spec, st), last=True)
    frame0 = later_spec

    def frame_order(rec, s=frame0):
        rec["dred"] = s.record(0)
        return rec
    c.add(g, "dred-first-in-bitstream-on-later-frame",
          "frame 0: ID 126 without 'D', repeated (RTE) into frame 1 with a DRED payload; then a DRED on frame 0. "
          "libopus uses the first in bitstream order (frame 1)", w, config=CELT_FB_20,
          flags=("DredFirstInBitstreamOrder", "DredViaRepeat", "DredNoPrefix"),
          result="acceptable", alternatives=[("the DRED of the earliest frame is used (frame 0): the draft's "
                                              "'first one found' read in frame order", frame_order)])
    # other versions, no prefix, too short
    for v in (0, 11, 13, 255):
        s = spec()
        ext = DredBlob(b"D" + bytes([v]) + blob(s, st)[2:], None)
        w = PaddingWriter(1).long(DRED_ID, ext, last=True)
        c.add(g, f"dred-version-{v:03d}", f"ID 126 with 'D' and version byte {v}: not DRED version 12, ignored",
              w, flags=("DredOtherVersion",))
    s = spec()
    w = PaddingWriter(1).long(DRED_ID, DredBlob(b"D\x0b" + blob(s, st)[2:], None)).long(DRED_ID, blob(spec(), st),
                                                                                       last=True)
    c.add(g, "dred-version-011-then-012", "ID 126 with version 11, then a version 12 DRED: the second is used",
          w, flags=("DredOtherVersion",))
    w = PaddingWriter(1).long(DRED_ID, junk(rng, 20, avoid_d=True), last=True)
    c.add(g, "dred-no-prefix", "ID 126 whose payload does not start with 'D': ignored", w, flags=("DredNoPrefix",))
    raw = blob(spec(), st)[2:]
    if raw[:1] == b"D":
        raw = b"E" + raw[1:]
    w = PaddingWriter(1).long(DRED_ID, raw, last=True)
    c.add(g, "dred-bits-without-prefix", "ID 126 carrying DRED bits without the 'D', 12 prefix (the final "
          "standard's form): ignored by a version-12 decoder", w, flags=("DredNoPrefix",))
    w = PaddingWriter(2).long(DRED_ID, junk(rng, 9, avoid_d=True)).sep().long(DRED_ID, blob(spec(), st), last=True)
    c.add(g, "dred-no-prefix-then-dred", "ID 126 without 'D' on frame 0, DRED on frame 1: the DRED is used", w,
          flags=("DredNoPrefix",))
    for name, payload, L0 in (("prefix-only", b"D\x0c", False), ("prefix-only-last", b"D\x0c", True),
                              ("d-only", b"D", False), ("empty", b"", False), ("empty-last", b"", True)):
        w = PaddingWriter(1).long(DRED_ID, payload, last=L0)
        if not L0:
            w.short(3)
        c.add(g, f"dred-{name}", f"ID 126 with payload {payload!r} ({len(payload)} bytes, "
              f"{'L = 0' if L0 else 'L = 1'}): no DRED bits, ignored", w, flags=("DredPrefixOnly",))
    w = PaddingWriter(1).long(DRED_ID, b"D\x0c").long(DRED_ID, blob(spec(), st), last=True)
    c.add(g, "dred-prefix-only-then-dred", "ID 126 with only 'D', 12, then a DRED: the second is used", w,
          flags=("DredPrefixOnly",))
    for other in (125, 127, 32):
        w = PaddingWriter(1).long(other, blob(spec(), st), last=True)
        c.add(g, f"dred-payload-under-id-{other}", f"a DRED payload under extension ID {other}: not DRED", w,
              flags=("DredPayloadOtherId",))
    # coding forms of the DRED extension itself
    big = random_spec(rng, st, q0=0, dQ=0, n_latents=26)
    bb = blob(big, st)
    m = 16
    while len(bb) < 300 and m < 1 << 20:  # a large state value (many escapes) takes the payload past 255 bytes
        big = with_magnitude(big, st, m, where="state")
        bb = blob(big, st) if representable(big, st) else bb
        m *= 2
    w = PaddingWriter(1).long(DRED_ID, bb).short(4, b"z")
    c.add(g, "dred-long-length-chain", f"a {len(bb)}-byte DRED extension (L = 1, length bytes "
          f"{' '.join(str(x) for x in (255,) * (len(bb) // 255) + (len(bb) % 255,))}) followed by another extension",
          w, flags=("DredLongL1",))
    w = PaddingWriter(1).long(DRED_ID, bb, last=True)
    c.add(g, "dred-long-l0-large", f"a {len(bb)}-byte DRED extension with L = 0", w, flags=("DredLongL0",))
    # DRED through Repeat These Extensions
    s1, s2 = spec(), spec()
    w = PaddingWriter(3).long(DRED_ID, junk(rng, 4, avoid_d=True))
    w.rte(0, [[blob(s1, st)], [blob(s2, st)]])
    c.add(g, "dred-via-repeat", "frame 0: ID 126 without 'D'; an L = 0 RTE repeats it into frames 1 and 2 with "
          "DRED payloads: the frame-1 one is used", w, config=CELT_FB_20, flags=("DredViaRepeat", "DredNoPrefix"))
    s0, s1, s2 = spec(), spec(), spec()
    w = PaddingWriter(3).long(DRED_ID, blob(s0, st)).rte(1, [[blob(s1, st)], [blob(s2, st)]])
    w.short(8, b"q")
    c.add(g, "dred-repeated-every-frame", "a DRED on frame 0 repeated (RTE) with a DRED on each later frame: "
          "the frame-0 one is used", w, config=CELT_FB_20, flags=("DredSecondLaterFrame",))
    # DRED and extension errors
    s = spec()
    w = PaddingWriter(2).long(DRED_ID, blob(s, st)).sep().sep()
    c.add(g, "dred-before-error", "a DRED, then a separator past the last frame: the padding is invalid; the "
          "DRED before the error is kept", w, flags=("DredBeforeError", "ErrorKeepsPrefix"))
    w = PaddingWriter(2).short(5).sep_n(5).raw(build_elements([ExtensionElement(DRED_ID, blob(spec(), st), L=0)]))
    c.add(g, "dred-after-error", "a separator past the last frame, then a DRED: the padding is invalid and the "
          "DRED after the error is not found", w, flags=("DredAfterError", "SeparatorPastEnd", "ErrorKeepsPrefix"))
    s = spec()
    d = blob(s, st)
    w = PaddingWriter(1).long(DRED_ID, d).cut(ExtensionElement(40, b"ab" + bytes(198)), 4)
    c.add(g, "dred-before-length-error", "a DRED, then a long extension whose length exceeds the padding: "
          "invalid, the DRED is kept", w, flags=("DredBeforeError", "LongLengthPastEnd", "ErrorKeepsPrefix"))


def ext_basic(c: Corpus) -> None:
    g = "ext-basic"
    rng = c.rng(g)
    # padding forms
    c.add(g, "ext-padding-empty", "padding flag set, padding length 0", PaddingWriter(1))
    for n in (1, 2, 17, 254, 300):
        w = PaddingWriter(1).pad_rest(bytes(n - 1))
        c.add(g, f"ext-legacy-zero-padding-{n:03d}", f"{n} zero bytes of padding (0x00: the rest is padding)",
              w, flags=("LegacyZeroPadding",))
    w = PaddingWriter(1).pad_rest(junk(rng, 40))
    c.add(g, "ext-padding-rest-junk", "0x00 then 40 arbitrary bytes: all padding, nothing listed", w)
    for n in (1, 5, 254, 255):
        w = PaddingWriter(1).pad(n)
        c.add(g, f"ext-padding-01-x{n:03d}", f"{n} one-byte paddings (0x01)", w)
    w = PaddingWriter(2).pad(3).short(4, b"a").pad(2).sep().pad(1).long(33, b"abc").pad_rest(bytes(5))
    c.add(g, "ext-padding-mixed", "0x01 paddings between extensions, 0x00 rest at the end", w)
    # padding length coding (RFC 6716 §3.2.5)
    w = PaddingWriter(1).short(5).pad_rest(bytes(252))
    c.add(g, "ext-padding-length-254-as-255-0", "254 bytes of padding coded as 255, 0", w,
          padding_length_bytes=b"\xff\x00")
    w = PaddingWriter(1).short(5).pad_rest(bytes(252))
    c.add(g, "ext-padding-length-254-as-254", "254 bytes of padding coded as 254", w,
          padding_length_bytes=b"\xfe")
    w = PaddingWriter(1).long(60, junk(rng, 600), last=True)
    c.add(g, "ext-padding-length-chain", "602 bytes of padding: length coded 255, 255, 94", w)
    # separators
    w = PaddingWriter(3).short(3).sep().short(3).sep().short(3)
    c.add(g, "ext-separator-02", "0x02 between frames", w)
    w = PaddingWriter(3).short(3).sep_n(1).short(3).sep_n(1).short(3)
    c.add(g, "ext-separator-03-n1", "0x03 1 between frames", w)
    w = PaddingWriter(3).sep_n(0).short(3).sep_n(0).sep_n(2).short(9, b"k")
    c.add(g, "ext-separator-03-n0", "0x03 0 changes nothing (twice), then 0x03 2", w)
    w = PaddingWriter(48).short(3)
    to_frame(w, 47).short(4)
    c.add(g, "ext-separator-03-n47", "0x03 47: from frame 0 to the last of 48", w, config=CELT_FB_2_5)
    w = PaddingWriter(48)
    for f in range(48):
        if f:
            w.sep()
        w.short(3 + f % 29, bytes([f]) if f % 2 else None)
    c.add(g, "ext-every-frame-of-48", "an extension on each of 48 frames, 0x02 separators", w, config=CELT_FB_2_5)
    w = PaddingWriter(4).sep().sep().sep()
    c.add(g, "ext-separators-only", "three 0x02 to the last frame, no extension", w, config=CELT_FB_20)
    # short extensions, every ID, both L
    w = PaddingWriter(1)
    for i in range(3, 32):
        w.short(i)
    c.add(g, "ext-short-l0-all-ids", "IDs 3..31 with L = 0 (no payload)", w)
    w = PaddingWriter(1)
    for i in range(3, 32):
        w.short(i, bytes([i ^ 0x5a]))
    c.add(g, "ext-short-l1-all-ids", "IDs 3..31 with L = 1 (one payload byte)", w)
    w = PaddingWriter(1)
    for i in range(3, 128):
        if i < 32:
            w.short(i, bytes([i]) if i % 2 else None)
        elif i != DRED_ID:
            w.long(i, junk(rng, i % 5))
    w.long(DRED_ID, junk(rng, 3, avoid_d=True), last=True)
    c.add(g, "ext-all-ids", "every extension ID 3..127 once (126 without 'D', last with L = 0)", w,
          flags=("AllExtensionIds", "DredNoPrefix"))
    # long extensions: every length class
    for n in (0, 1, 2, 253, 254, 255, 256, 509, 510, 511, 765):
        w = PaddingWriter(1).long(32 + n % 90, junk(rng, n)).short(3, b"e")
        c.add(g, f"ext-long-length-{n:03d}", f"a long extension of {n} bytes (L = 1), then a short one", w)
    for n in (0, 1, 254, 255, 256, 510):
        w = PaddingWriter(1).short(3).long(100, junk(rng, n), last=True)
        c.add(g, f"ext-long-last-{n:03d}", f"a long extension with L = 0 holding the last {n} bytes", w)
    w = PaddingWriter(2).long(33, b"x").sep().long(34, b"", last=True)
    c.add(g, "ext-long-last-empty-frame-1", "an L = 0 long extension with nothing left, on frame 1", w)
    # libopus tests/test_opus_extensions.c: test_extensions_generate_success / parse_success layouts
    def libopus_success(w):
        w.short(3, b"a").sep().long(33, b"NOT DRED").sep_n(3).short(4).sep_n(6).long(32, b"DRED", last=True)
        return w
    c.add(g, "ext-libopus-generate-no-padding", "libopus's generator on its test list (11 frames): 3@0 'a', "
          "33@1 'NOT DRED', 4@4, 32@10 'DRED' (L = 0)", libopus_success(PaddingWriter(11)),
          config=CELT_FB_2_5, flags=("LibopusTestCase", "LibopusGenerator"))
    c.add(g, "ext-libopus-generate-padded", "the same padded to 27 bytes with leading 0x01 (libopus pad=1)",
          libopus_success(PaddingWriter(11).pad(4)), config=CELT_FB_2_5, flags=("LibopusTestCase", "LibopusGenerator"))
    # frames of other packet forms carry no extensions
    c.add(g, "ext-code3-no-padding", "code 3 without the padding flag: no extensions", PaddingWriter(2),
          no_padding=True)


def ext_repeat(c: Corpus) -> None:
    """Repeat These Extensions in every form libopus's test_extensions_repeating() exercises."""
    g = "ext-repeat"
    rng = c.rng(g)
    L = ("LibopusTestCase", "LibopusGenerator")

    def base(n: int) -> PaddingWriter:
        """libopus's generator output for the first n of its 13-extension list (3 frames)."""
        w = PaddingWriter(3)
        if n >= 1:
            w.short(3, b"a")
        if n == 2:
            w.sep().short(3, b"b")
        if n == 3:
            w.rte(0, [[b"b"], [b"c"]])
        if n >= 4:
            w.rte(1, [[b"b"], [b"c"]]).short(4, b"d")
        if n >= 5:
            w.sep().short(4)
        if n in (6, 7):
            w.rte(0, [[None]])
            if n == 7:
                w.long(32, b"DRED2", last=True)
        if n >= 8:
            w.long(32, b"DRED")
        if n == 8:
            w.rte(0, [[None, b"DRED2"]])
        if n == 9:
            w.rte(1, [[None, b"DRED2"]]).short(5)
        if n >= 10:
            w.short(5)
        if n == 10:
            w.rte(0, [[None, b"DRED2", None]])
        if n == 11:
            w.rte(1, [[None, b"DRED2", None]]).sep().short(6, b"f")
        if n >= 12:
            w.short(6, b"e")
        if n == 12:
            w.rte(0, [[None, b"DRED2", None, b"f"]])
        if n == 13:
            w.rte(1, [[None, b"DRED2", None, b"f"]]).sep().long(32, b"DREDthree", last=True)
        return w

    notes = {2: "no repeat when the extension is not in every frame",
             3: "an L = 0 RTE repeating a short extension into every later frame",
             4: "an L = 1 RTE, then another extension on frame 0",
             5: "repeats, then a separator",
             6: "an L = 0 RTE on frame 1 repeating an L = 0 short extension",
             7: "an L = 0 RTE used instead of a separator before the last extension",
             8: "repeating two extensions; the last repeated long one coded with L = 0",
             9: "an L = 1 RTE with a long extension, then an extension on frame 1",
             10: "the last repeated long extension L = 0 though L = 0 short repeats follow",
             11: "no L = 0 RTE to skip a separator when repeats end on a short one after a long one",
             12: "the last repeated long extension L = 0 though L = 1 short repeats follow",
             13: "an L = 1 RTE with long and short repeats, then a separator and an L = 0 long extension"}
    for n in range(2, 14):
        c.add(g, f"ext-repeat-libopus-{n:02d}", f"libopus test list, first {n} extensions (3 frames): {notes[n]}",
              base(n), config=CELT_FB_20, M=3, flags=L)
    # libopus's hand modifications
    w = base(6).rte(0, []).raw(build_elements([ExtensionElement(3)]), ignored=True)
    c.add(g, "ext-repeat-last-frame-trailing", "an L = 0 RTE on the last frame, then a byte that MUST be ignored",
          w, config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).short(4, b"d").sep().short(4).long(32, b"DRED")
    w.pad().rte(0, [[None, b"DRED2"]])
    c.add(g, "ext-repeat-padding-in-window", "a 0x01 padding byte before the RTE: not repeated", w,
          config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).rte(1, [[], []]).short(4, b"d").sep().short(4)
    w.rte(1, [[None]]).long(32, b"DRED").pad().rte(0, [[b"DRED2"]])
    c.add(g, "ext-repeat-multiple-per-frame", "several RTEs in one frame, one with nothing new to repeat", w,
          config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).short(4, b"d").sep().short(4).long(32, b"DRED")
    w.sep_n(0).short(5).rte(0, [[None, b"DRED2", None]])
    c.add(g, "ext-repeat-increment-0-in-window", "0x03 0 inside the repeat window: does not change what is "
          "repeated", w, config=CELT_FB_20, flags=("LibopusTestCase",))
    w = PaddingWriter(3).short(3, b"a").rte(1, [[b"b"], [b"c"]]).short(4, b"d").sep().short(4).long(32, b"DRED")
    w.short(5).short(6, b"e").rte(1, [[None, b"DRED2", None, b"f"]]).rte(0, [[]]).long(32, b"DREDthree", last=True)
    c.add(g, "ext-repeat-empty-l0-skips-separator", "an L = 0 RTE with nothing to repeat used as a separator", w,
          config=CELT_FB_20, flags=("LibopusTestCase",))
    # further forms: many frames, long payloads with multi-byte lengths, L = 1 last long repeat
    M = 48
    w = PaddingWriter(M).short(9, b"s").long(50, junk(rng, 3))
    w.rte(1, [[bytes([f]), junk(rng, f % 4)] for f in range(1, M)]).short(10)
    c.add(g, "ext-repeat-48-frames", "a short and a long extension repeated into 47 more frames (L = 1 RTE)", w,
          config=CELT_FB_2_5)
    w = PaddingWriter(4).long(70, junk(rng, 300)).short(11, b"t")
    w.rte(0, [[junk(rng, 256), b"u"], [junk(rng, 2), b"v"], [junk(rng, 510), b"w"]])
    c.add(g, "ext-repeat-long-lengths", "repeated long payloads of 256, 2 and (L = 0, last) 510 bytes with "
          "trailing short repeats", w, config=CELT_FB_20)
    w = PaddingWriter(2).long(71, junk(rng, 5)).rte(1, [[junk(rng, 6)]]).pad_rest(bytes(3))
    c.add(g, "ext-repeat-l1-last-long", "an L = 1 RTE whose last repeated long extension keeps its length", w,
          config=CELT_FB_20)
    w = PaddingWriter(3).sep().short(12, b"r").rte(0, [[b"s"]]).short(13, b"z").pad_rest(bytes(2))
    c.add(g, "ext-repeat-l0-then-next-frame", "an L = 0 RTE on frame 1 repeating into frame 2, then (no "
          "separator) an extension on frame 2", w, config=CELT_FB_20)


def ext_malformed(c: Corpus) -> None:
    """Malformed padding: each an invalid vector keeping the extensions before the error."""
    g = "ext-malformed"
    rng = c.rng(g)
    w = PaddingWriter(1).short(3, b"a").sep()
    c.add(g, "ext-bad-separator-02-past-end", "0x02 on the only frame", w, flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(3).short(3).sep().sep().short(4).sep()
    c.add(g, "ext-bad-separator-02-past-last", "0x02 on the last of 3 frames", w, config=CELT_FB_20,
          flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(3).short(3).sep_n(3)
    c.add(g, "ext-bad-separator-03-past-end", "0x03 3 from frame 0 of 3", w, config=CELT_FB_20,
          flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(48).short(5).sep_n(255)
    c.add(g, "ext-bad-separator-03-255", "0x03 255 in a 48-frame packet", w, config=CELT_FB_2_5,
          flags=("ErrorKeepsPrefix",))
    w = PaddingWriter(2).short(5, b"x").cut(FrameSeparator(1), 1)
    c.add(g, "ext-bad-separator-increment-missing", "0x03 as the last byte", w,
          flags=("SeparatorIncrementMissing", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).long(40, b"abc").cut(ExtensionElement(7, b"\0"), 1)
    c.add(g, "ext-bad-short-payload-missing", "a short extension with L = 1 as the last byte", w,
          flags=("ShortPayloadMissing", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, b""), 1)
    c.add(g, "ext-bad-long-length-missing", "a long extension with L = 1 as the last byte (no length byte)", w,
          flags=("LongLengthTruncated", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, bytes(3 * 255)), 4)
    c.add(g, "ext-bad-long-length-runs-out", "long extension length bytes 255 255 255 to the end", w,
          flags=("LongLengthTruncated", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, junk(rng, 9) + bytes(1)), 11)
    c.add(g, "ext-bad-long-length-past-end", "long extension length 10 with 9 bytes left", w,
          flags=("LongLengthPastEnd", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).short(3).cut(ExtensionElement(50, junk(rng, 200) + bytes(65)), 203)
    c.add(g, "ext-bad-long-length-chain-past-end", "long extension length 255 + 10 with 200 bytes left", w,
          flags=("LongLengthPastEnd", "ErrorKeepsPrefix"))
    w = PaddingWriter(1).cut(ExtensionElement(50, b"\0"), 2)
    c.add(g, "ext-bad-first-extension", "the first extension already malformed (length 1, nothing left): "
          "nothing listed", w, flags=("LongLengthPastEnd",))
    # libopus tests/test_opus_extensions.c test_extensions_parse_fail
    w = PaddingWriter(11).short(3, b"a").raw(b"\x02\x43\xff" + b"NOT DRED" + b"\x03\x03\x08\x03\x06\x40DRED",
                                             error=True)
    c.add(g, "ext-libopus-invalid-length", "libopus: the length byte of 33@1 changed to 255 (255 + 'N' = 333 "
          "bytes, past the end): 1 extension before the error", w, config=CELT_FB_2_5,
          flags=("LibopusTestCase", "LongLengthPastEnd", "ErrorKeepsPrefix"))
    w = PaddingWriter(5).short(3, b"a").sep().long(33, b"NOT DRED").sep_n(3).short(4)
    w.sep_n(6).raw(build_elements([ExtensionElement(32, b"DRED", L=0)]))
    c.add(g, "ext-libopus-too-few-frames", "libopus: its 11-frame layout in a 5-frame packet: 0x03 6 from frame 4 "
          "fails after 3 extensions", w, config=CELT_FB_20,
          flags=("LibopusTestCase", "ErrorKeepsPrefix"))
    w = PaddingWriter(11).short(3, b"a").sep().long(33, b"NOT DRED").sep_n(255)
    w.raw(build_elements([ExtensionElement(4), FrameSeparator(6), ExtensionElement(32, b"DRED", L=0)]))
    c.add(g, "ext-libopus-increment-255", "libopus: the first 0x03 increment changed to 255: 2 extensions before "
          "the error", w, config=CELT_FB_2_5, flags=("LibopusTestCase", "ErrorKeepsPrefix"))
    w = PaddingWriter(11).short(3, b"a").sep().long(33, b"NOT DRED").sep_n(3).short(4).sep_n(5)
    w.long(32, b"DRED").short(4, b"b").cut(RepeatTheseExtensions(0, ((b"", b"b"),)), 1)
    c.add(g, "ext-libopus-rte-no-room-for-shorts", "libopus: an L = 0 RTE on frame 9 whose last repeated long "
          "extension must leave 1 byte for a repeated short payload, with 0 bytes left: 5 extensions before the "
          "error", w, config=CELT_FB_2_5,
          flags=("LibopusTestCase", "RteTrailingShortsMissing", "ErrorKeepsPrefix"))
    # errors inside repeats: the repeated extensions before the failing one are listed
    w = PaddingWriter(3).short(3, b"a").short(4, b"b").cut(RepeatTheseExtensions(1, ((b"a", b"x"), (b"x", b"x"))), 2)
    c.add(g, "ext-bad-repeat-short-missing", "an L = 1 RTE repeating two one-byte short extensions into 2 frames "
          "with 1 byte left: the first repeat is listed, then the error", w, config=CELT_FB_20,
          flags=("RteShortPayloadMissing", "ErrorKeepsPrefix"))
    w = PaddingWriter(3).long(41, b"xyz").short(3).cut(RepeatTheseExtensions(1, ((bytes(510), b""),) * 2), 3)
    c.add(g, "ext-bad-repeat-long-length-runs-out", "an L = 1 RTE repeating a long extension whose repeated "
          "length bytes (255 255) run out", w, config=CELT_FB_20,
          flags=("RteLongLengthTruncated", "ErrorKeepsPrefix"))
    w = PaddingWriter(3).long(40, b"xy").cut(RepeatTheseExtensions(1, ((b"pq",), (b"abc" + bytes(6),))), 8)
    c.add(g, "ext-bad-repeat-long-past-end", "an L = 1 RTE repeating a long extension: frame 1 fine, frame 2's "
          "length 9 exceeds the 3 bytes left", w, config=CELT_FB_20,
          flags=("RteLongLengthPastEnd", "ErrorKeepsPrefix"))


def packet_framing(c: Corpus) -> None:
    g = "packet-framing"
    rng = c.rng(g)
    st = c.stats
    c.add(g, "packet-code-0", "code 0: one frame, no padding, no extensions", None, code=0,
          frames=[rng.bytes(3)])
    c.add(g, "packet-code-1", "code 1: two equal frames, no padding", None, code=1, frames=[rng.bytes(2)] * 2)
    c.add(g, "packet-code-2", "code 2: two frames, 1-byte first length", None, code=2,
          frames=[rng.bytes(2), rng.bytes(5)])
    c.add(g, "packet-code-2-long", "code 2: first frame of 300 bytes (2-byte length)", None, code=2,
          frames=[rng.bytes(300), rng.bytes(1)])
    spec = random_spec(rng, st, q0=4, dQ=2, n_latents=3)
    w = PaddingWriter(3).long(DRED_ID, blob(spec, st), last=True)
    c.add(g, "packet-code-3-vbr-long-frame", "code 3 VBR with a 400-byte frame (2-byte length) and DRED", w,
          vbr=True, frames=[rng.bytes(400), rng.bytes(3), rng.bytes(0)], config=CELT_FB_20)
    w = PaddingWriter(2).long(DRED_ID, blob(random_spec(rng, st, q0=9, dQ=5, n_latents=4), st), last=True)
    c.add(g, "packet-code-3-cbr-empty-frames", "code 3 CBR with two empty frames (DTX) and DRED", w,
          frames=[b"", b""])
    for cfg in (1, 5, 9, 13, 15, 17, 21, 25, 29, 31):
        M = max_frames(cfg)
        M = min(M, 3)
        w = PaddingWriter(M).short(5, b"c")
        to_frame(w, M - 1).long(DRED_ID, blob(random_spec(rng, st, q0=int(rng.integers(0, 16)),
                                                          dQ=int(rng.integers(0, 8)), n_latents=2), st), last=True)
        c.add(g, f"packet-config-{cfg:02d}", f"config {cfg}, {M} frame(s), DRED on the last", w, config=cfg)


def random_layouts(c: Corpus, count: int = 64) -> None:
    """Random packets laid out by libopus's generator (spec.plan_extensions), as real senders would."""
    g = "random"
    rng = c.rng(g)
    st = c.stats
    for i in range(count):
        config = rng.choice([SILK_WB_20, SILK_WB_60, HYBRID_FB_20, CELT_FB_20, CELT_FB_2_5, 20, 26])
        M = int(rng.integers(1, min(max_frames(config), 12) + 1))
        triples = []
        dred_frame = int(rng.integers(0, M))
        for f in range(M):
            for _ in range(int(rng.integers(0, 3))):
                if rng.random() < 0.5:
                    eid = int(rng.integers(3, 32))
                    triples.append((f, eid, rng.bytes(int(rng.integers(0, 2)))))
                else:
                    eid = int(rng.integers(32, 126))
                    triples.append((f, eid, rng.bytes(int(rng.integers(0, 40)))))
            if f == dred_frame:
                q0, dQ = int(rng.integers(0, 16)), int(rng.integers(0, 8))
                qmax = 15 if q0 >= 14 or dQ == 0 or rng.random() < 0.5 else int(rng.integers(q0 + 1, 16))
                extra = int(rng.integers(1, 256)) if rng.random() < 0.2 else 0
                spec = random_spec(rng, st, q0=q0, dQ=dQ, n_latents=int(rng.integers(0, 27)), qmax=qmax,
                                   extra_offset=extra)
                triples.append((f, DRED_ID, blob(spec, st)))
        # a repeatable pattern now and then: the same IDs on every frame
        if rng.random() < 0.3 and M > 1:
            eid = int(rng.integers(3, 32))
            triples += [(f, eid, b"") for f in range(M)]
            triples.sort(key=lambda t: t[0])
        w = PaddingWriter(M).pad(int(rng.integers(0, 3)))
        apply_elements(w, plan_extensions(triples, M))
        c.add(g, f"random-{i:03d}", f"random layout {i}: {len(triples)} extension(s) over {M} frame(s), "
              "written as libopus's generator would", w, config=config, flags=("LibopusGenerator",))


def apply_elements(w: PaddingWriter, elements) -> None:
    """Write spec elements (``plan_extensions`` output) with the writer, accounting each."""
    for el in elements:
        w.add(el)


GROUPS: dict[str, Callable[[Corpus], None]] = {
    "dred-header": dred_header,
    "dred-position": dred_position,
    "dred-latents": dred_latents,
    "dred-envelope": dred_envelope,
    "ext-basic": ext_basic,
    "ext-repeat": ext_repeat,
    "ext-malformed": ext_malformed,
    "packet-framing": packet_framing,
    "random": random_layouts,
}


def build_corpus(seed: int, stats, groups: list[str] | None = None) -> Corpus:
    c = Corpus(seed, stats)
    for name in groups or GROUPS:
        GROUPS[name](c)
    return c
