"""What the fuzz targets share: the registry (``target``, ``TARGETS``), the model cache, and the checks every
target applies to a packet, its extensions and its DRED location (docs/ERRORS.md is the contract)."""
from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass
from typing import Callable, Iterable

import construct as cs

from dredconf.errors import DredconfError, ExtensionError, LimitError, PacketError
from dredconf.reference.model import load_model
from dredconf.spec import DRED_EXPERIMENTAL_PREFIX as PREFIX
from dredconf.spec import (
    DRED_EXTENSION_ID, build_extensions, build_packet, elements as X, parse_extensions, parse_packet,
)
from dredconf.spec import extensions as _extensions
from dredconf.spec import packet as _packet
from dredconf.spec.packet import CONFIGS, MAX_FRAME_BYTES, MAX_PACKET_SAMPLES
from tests.helpers.shared import model_dir

from .common import ContractViolation, Input, check  # noqa: F401 - the targets' modules take them from here

_cache: dict[str, object] = {}


def _stats_model():
    """The real model (stats and decoder), loaded once per process."""
    if "stats" not in _cache:
        d = model_dir()
        if d is None:
            raise Unavailable("no model: set DREDCONF_MODEL or put ../shared beside the checkout")
        _cache["stats"] = load_model(d, parts=("stats", "decoder"))
    return _cache["stats"]


class Unavailable(RuntimeError):
    """A target cannot run here (no model, no module yet)."""


@dataclass
class Target:
    name: str
    doc: str
    fn: Callable[[bytes], None]
    allowed: tuple = ()  # documented exception types the code under test may raise
    c_core: bool = False  # reaches the C core: part of the sanitizer campaign
    max_len: int = 4096
    mutator: Callable[[bytes, int, random.Random], bytes] | None = None  # structure-aware mutation


TARGETS: dict[str, Target] = {}


def target(name: str, **kw):
    def deco(fn):
        TARGETS[name] = Target(name=name, doc=" ".join((fn.__doc__ or "").strip().split("\n\n")[0].split()),
                               fn=fn, **kw)
        return fn
    return deco


def _dredconf_errors() -> tuple:
    return (DredconfError,)


# ----------------------------------------------------------------------- shared checks

_RULE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


def check_error(e: BaseException, size: int | None = None) -> None:
    """A reported error: a stable rule id, an offset inside the input, a one-line message."""
    if not isinstance(e, DredconfError):
        check("\n" not in str(e).strip(), f"multi-line message from {type(e).__name__}: {str(e)[:200]!r}")
        return
    check(isinstance(e.rule, str) and bool(_RULE.match(e.rule)), f"bad rule {e.rule!r}")
    if e.offset is not None and size is not None:
        check(0 <= e.offset <= size, f"error offset {e.offset} outside 0..{size} ({e})")
    check("\n" not in str(e), f"multi-line error: {str(e)!r}")


def check_packet(p, data: bytes) -> None:
    n = len(data)
    check(p.data == data and p.toc == data[0], "packet data/TOC")
    check(p.config == data[0] >> 3 and p.code == data[0] & 3 and p.stereo == bool(data[0] & 4), "TOC fields")
    check(p.frame_samples == CONFIGS[p.config].frame_samples, "frame duration")
    want = {0: (1, 1), 1: (2, 2), 2: (2, 2), 3: (1, 48)}[p.code]
    check(want[0] <= p.frame_count <= want[1], f"code {p.code} with {p.frame_count} frames")
    check(p.duration_samples <= MAX_PACKET_SAMPLES or p.code != 3, "over 120 ms")
    at = p.frames[0].offset
    check(1 <= at <= n, "first frame offset")
    for f in p.frames:
        check(f.offset == at and 0 <= f.length <= MAX_FRAME_BYTES, f"frame span {f}")
        at += f.length
    check(p.padding.offset == at and p.padding.offset + p.padding.length == n, f"padding span {p.padding} of {n}")
    check(p.padding.length == 0 or p.padding_flag, "padding without the flag")
    check(not p.padding_flag or p.code == 3, "padding flag outside code 3")
    if p.code == 1:
        check(p.frames[0].length == p.frames[1].length, "code 1 frames differ")
    if p.code == 3 and not p.vbr:
        check(len({f.length for f in p.frames}) == 1, "CBR frames differ")


def check_extensions(found, padding: bytes, nb_frames: int) -> None:
    limit = getattr(X, "MAX_EXTENSIONS", None)
    if limit is not None:
        check(len(found) <= limit, f"{len(found)} extensions, over the limit {limit}")
    last_header = -1
    for e in found:
        check(X.FIRST_SHORT_ID <= e.id <= X.MAX_ID, f"extension id {e.id}")
        check(0 <= e.frame < nb_frames, f"extension frame {e.frame} of {nb_frames}")
        check(0 <= e.offset and e.offset + e.length <= len(padding), f"extension {e.id} bytes {e.offset}+{e.length} "
                                                                      f"outside the {len(padding)}-byte padding")
        check(e.data == padding[e.offset:e.offset + e.length], "extension data is not its padding bytes")
        check(e.id >= X.FIRST_LONG_ID or e.length <= 1, f"short extension {e.id} with {e.length} bytes")
        check(0 <= e.header_offset <= e.offset, f"extension header at {e.header_offset} after its payload {e.offset}")
        if not e.repeated:
            check(e.header_offset > last_header, "extension headers out of order")
            last_header = e.header_offset
    if found.error is not None:
        check(isinstance(found.error, (ExtensionError, LimitError)), f"error of type {type(found.error)}")
        check_error(found.error, len(padding))
    if nb_frames == 0:
        check(len(found) == 0 and found.error is None, "extensions in a packet without frames")


def check_location(loc, p, found) -> None:
    def is_dred(e):
        return e.id == DRED_EXTENSION_ID and len(e.data) > len(PREFIX) and e.data.startswith(PREFIX)

    first = next((i for i, e in enumerate(found) if is_dred(e)), None)
    if loc is None:
        check(first is None, f"DRED extension {first} not found")
        return
    check(loc.extension_index == first, f"DRED at extension {loc.extension_index}, the first is {first}")
    e = found[first]
    check(loc.payload == e.data[len(PREFIX):] and loc.frame == e.frame, "DRED payload/frame")
    check(loc.frame_offset == e.frame * p.frame_samples // 120, "frame_offset")
    start = loc.payload_offset
    check(p.padding.offset <= start <= p.padding.offset + p.padding.length, "DRED payload outside the padding")
    check(p.data[start:start + len(loc.payload)] == loc.payload, "DRED payload_offset does not point at it")


def roundtrip_extensions(found, nb_frames: int, variant: int) -> None:
    """Differential: libopus's generator (build_extensions) then the iterator (parse_extensions) give back
    the same (frame, id, payload) in frame order, under each generator option."""
    if nb_frames == 0 or len(found) > 512:
        return
    triples = found.triples()
    opts = [dict(), dict(repeat=False), dict(last_l0=False), dict(separator="long"),
            # room for each extension's ID byte, its length bytes (one per 255) and payload, and the suffix
            dict(pad_to=sum(3 + len(d) // 255 + len(d) for _, _, d in triples) + 40, pad_style="suffix")][variant % 5]
    built = build_extensions(triples, nb_frames, **opts)
    again = parse_extensions(built, nb_frames)
    check(again.error is None, f"generator output does not parse ({again.error}) for {opts}")
    want = sorted(triples, key=lambda t: t[0])
    check(again.in_frame_order() == want, f"extension round trip differs under {opts}")


def roundtrip_packet(p) -> None:
    """Differential: build_packet from the parsed fields parses to the same frames and padding."""
    frames = [p.frame_data(i) for i in range(p.frame_count)]
    data = build_packet(frames, config=p.config, stereo=p.stereo, code=p.code,
                        vbr=p.vbr if p.code == 3 else None,
                        padding=p.padding_bytes if p.padding_flag else None)
    q = parse_packet(data)
    check([q.frame_data(i) for i in range(q.frame_count)] == frames, "rebuilt packet's frames differ")
    check(q.padding_bytes == p.padding_bytes and q.toc == p.toc, "rebuilt packet's padding/TOC differ")




# ----------------------------------------------------------------------- derived readers


def _packet_reader(piece, table):
    def read(data: bytes, at: int):
        try:
            return _packet._read(piece, table, data, at, len(data), "rfc6716-r7", "piece")
        except PacketError:
            return None
    return read


def _cursor_reader(piece):
    def read(data: bytes, at: int):
        cur = _extensions._Cursor(data)
        cur.pos = at
        try:
            return cur.read(piece), cur.pos
        except cs.StreamError:
            return None
    return read


#: The fast readers of spec/ (a one-byte coding looked up in a table made from the schema, a longer one parsed
#: by the schema piece itself), each with the piece it reads: the framing's, then the padding's.
PACKET_READERS = [
    (_packet.FrameLength, _packet_reader(_packet.FrameLength, _packet._FRAME_LENGTH_OF_BYTE)),
    (_packet.PaddingLength, _packet_reader(_packet.PaddingLength, _packet._PADDING_LENGTH_OF_BYTE)),
]
PADDING_READERS = [
    (X.ShortPayload, _cursor_reader(X.ShortPayload)),
    (X.FrameIncrement, _cursor_reader(X.FrameIncrement)),
    (X.LongLength, _cursor_reader(X.LongLength)),
]
DERIVED_READERS = PACKET_READERS + PADDING_READERS


def check_derived_readers(data: bytes, offsets: Iterable[int], readers=DERIVED_READERS) -> int:
    """Differential: at each offset, each fast reader of spec/ reads what its schema piece's own parse of the
    rest of the bytes reads (the value and where it ends, or running out of bytes). Returns how many readings
    were longer than one byte (the schema's own parse behind the table)."""
    longer = 0
    for at in offsets:
        for piece, read in readers:
            stream = io.BytesIO(data[at:])
            try:
                want = piece.parse_stream(stream), at + stream.tell()
            except cs.StreamError:
                want = None
            got = read(data, at)
            check(got == want, f"{piece!r} at byte {at}: the fast reader gives {got}, the schema {want}")
            longer += want is not None and want[1] - at > 1
    return longer


def read_offsets(found) -> list[int]:
    """Where a padding's parse read its first elements (their starts and the byte after each): the offsets a
    fuzz input's padding is checked at, a few so that the target keeps its speed."""
    starts = sorted({t.span.offset for t in found.elements()} | {e.offset for e in found})[:4]
    return sorted({s + d for s in starts for d in (0, 1)})
