"""Group ``dred-header``: the DRED header fields (every q0 x dQ, every codable qmax, extra_offset, every offset)."""
from __future__ import annotations

from ..cases import CELT_FB_2_5, CELT_FB_20, to_frame
from ..corpus import Corpus
from ..dredpayload import blob, random_integers
from ..padding import PaddingWriter

GROUP = "dred-header"


def build(c: Corpus) -> None:
    rng, st = c.rng(GROUP), c.stats
    for q0 in range(16):
        for dQ in range(8):
            n = int(rng.integers(1, 6))
            ints = random_integers(rng, st, q0=q0, dQ=dQ, n_latents=n)
            w = PaddingWriter(1).dred(blob(ints, st), last=bool((q0 + dQ) % 2))
            qm = "qmax coded as 15" if q0 < 14 and dQ > 0 else "qmax not coded"
            c.add(GROUP, f"dred-q0-{q0:02d}-dq-{dQ}", f"q0 {q0}, dQ {dQ} ({qm}), {n} latents", w)
    # every qmax value that can be coded: q0 < 14, dQ > 0, qmax in q0+1..14 (15 is the grid's "not limited")
    for q0 in range(14):
        for qmax in range(q0 + 1, 15):
            dQ = 7 if (q0 + qmax) % 3 else int(rng.integers(1, 7))
            n = 26 if (q0 + qmax) % 2 else int(rng.integers(1, 26))
            ints = random_integers(rng, st, q0=q0, dQ=dQ, n_latents=n, qmax=qmax)
            w = PaddingWriter(1).dred(blob(ints, st), last=True)
            c.add(GROUP, f"dred-qmax-q0-{q0:02d}-qmax-{qmax:02d}",
                  f"qmax {qmax} signalled with q0 {q0}, dQ {dQ}: latent levels capped at {qmax}", w)
    _offsets(c)


def _offsets(c: Corpus) -> None:
    """extra_offset, the 5-bit offset, and the extreme dred_offsets."""
    rng, st = c.rng(GROUP), c.stats
    # the extra offset: absent, flag with 0, 1, 255 and a few between
    for name, flag, extra in (("absent", False, 0), ("flag-zero", True, 0), ("001", True, 1), ("002", True, 2),
                              ("031", True, 31), ("128", True, 128), ("254", True, 254), ("255", True, 255)):
        ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)), n_latents=3,
                               extra_offset=extra, extra_flag=flag)
        w = PaddingWriter(1).dred(blob(ints, st), last=True)
        what = {"absent": "extra-offset flag 0 (field absent)",
                "flag-zero": "extra-offset flag 1 with extra_offset 0 (libopus never writes it; decoders must read it)"
                }.get(name, f"extra_offset {extra}: dred_offset moves back by {32 * extra}")
        c.add(GROUP, f"dred-extra-offset-{name}", what, w)
    # the 5-bit offset, every value, at frame 0: dred_offset = 16 - offset, from 16 down to -15
    for off in range(32):
        ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                               n_latents=int(rng.integers(1, 4)), offset=off)
        w = PaddingWriter(1).dred(blob(ints, st), last=bool(off % 2))
        c.add(GROUP, f"dred-offset-{off:02d}", f"offset {off} on frame 0: dred_offset {16 - off}", w)
    # extremes of dred_offset
    ints = random_integers(rng, st, q0=6, dQ=3, n_latents=2, offset=31, extra_offset=255)
    c.add(GROUP, "dred-offset-minimum", "offset 31 and extra_offset 255 on frame 0: dred_offset -8175, the lowest",
          PaddingWriter(1).dred(blob(ints, st), last=True))
    ints = random_integers(rng, st, q0=6, dQ=3, n_latents=2, offset=0)
    w = to_frame(PaddingWriter(48), 47).dred(blob(ints, st), last=True)
    c.add(GROUP, "dred-offset-maximum", "offset 0 on frame 47 of 48 (2.5 ms): dred_offset 63, the highest",
          w, config=CELT_FB_2_5)
    ints = random_integers(rng, st, q0=3, dQ=2, n_latents=4, offset=30, extra_offset=1)
    w = to_frame(PaddingWriter(6), 5).dred(blob(ints, st), last=True)
    c.add(GROUP, "dred-offset-extra-and-frame", "extra_offset 1, offset 30 on frame 5 of 6 (20 ms): "
          "dred_offset 16 - 30 - 32 + 40 = -6", w, config=CELT_FB_20)
