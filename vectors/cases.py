"""What the groups' cases share: the TOC configs they use and small helpers."""
from __future__ import annotations

from dredconf.spec.packet import CONFIGS, MAX_PACKET_SAMPLES

from .padding import PaddingWriter
from .rng import Rng

# TOC configs (RFC 6716 §3.1 Table 2)
SILK_WB_20 = 9
SILK_WB_60 = 11
HYBRID_FB_20 = 15
CELT_FB_2_5 = 28
CELT_FB_20 = 31


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
    """An alternative record: the packet's DRED ignored."""
    rec["dred"] = None
    return rec


def junk(rng: Rng, n: int, *, avoid_d: bool = False) -> bytes:
    """``n`` random bytes; ``avoid_d``: not starting with 'D' (so never a DRED prefix)."""
    b = bytearray(rng.bytes(n))
    if avoid_d and b and b[0] == 0x44:
        b[0] = 0x45
    return bytes(b)


def max_frames(config: int) -> int:
    """The most frames a code 3 packet of this config holds (120 ms)."""
    return MAX_PACKET_SAMPLES // CONFIGS[config].frame_samples
