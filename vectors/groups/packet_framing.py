"""Group ``packet-framing``: Opus packet codes 0..3 and configs around the padding."""
from __future__ import annotations

from ..cases import CELT_FB_20, max_frames, to_frame
from ..corpus import Corpus
from ..dredpayload import blob, random_integers
from ..padding import PaddingWriter

GROUP = "packet-framing"


def build(c: Corpus) -> None:
    rng, st = c.rng(GROUP), c.stats
    c.add(GROUP, "packet-code-0", "code 0: one frame, no padding, no extensions", None, code=0,
          frames=[rng.bytes(3)])
    c.add(GROUP, "packet-code-1", "code 1: two equal frames, no padding", None, code=1, frames=[rng.bytes(2)] * 2)
    c.add(GROUP, "packet-code-2", "code 2: two frames, 1-byte first length", None, code=2,
          frames=[rng.bytes(2), rng.bytes(5)])
    c.add(GROUP, "packet-code-2-long", "code 2: first frame of 300 bytes (2-byte length)", None, code=2,
          frames=[rng.bytes(300), rng.bytes(1)])
    ints = random_integers(rng, st, q0=4, dQ=2, n_latents=3)
    w = PaddingWriter(3).dred(blob(ints, st), last=True)
    c.add(GROUP, "packet-code-3-vbr-long-frame", "code 3 VBR with a 400-byte frame (2-byte length) and DRED", w,
          vbr=True, frames=[rng.bytes(400), rng.bytes(3), rng.bytes(0)], config=CELT_FB_20)
    w = PaddingWriter(2).dred(blob(random_integers(rng, st, q0=9, dQ=5, n_latents=4), st), last=True)
    c.add(GROUP, "packet-code-3-cbr-empty-frames", "code 3 CBR with two empty frames (DTX) and DRED", w,
          frames=[b"", b""])
    for cfg in (1, 5, 9, 13, 15, 17, 21, 25, 29, 31):
        M = max_frames(cfg)
        M = min(M, 3)
        w = PaddingWriter(M).short(5, b"c")
        ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)), n_latents=2)
        to_frame(w, M - 1).dred(blob(ints, st), last=True)
        c.add(GROUP, f"packet-config-{cfg:02d}", f"config {cfg}, {M} frame(s), DRED on the last", w, config=cfg)


