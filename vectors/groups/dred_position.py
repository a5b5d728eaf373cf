"""Group ``dred-position``: DRED on frame f of M (M up to 48), every TOC config's frame duration, stereo."""
from __future__ import annotations

from dredconf.spec.dred import frame_offset
from dredconf.spec.packet import CONFIGS

from ..cases import CELT_FB_2_5, CELT_FB_20, HYBRID_FB_20, SILK_WB_60, junk, max_frames, to_frame
from ..corpus import Corpus
from ..dredpayload import blob, random_integers
from ..padding import PaddingWriter

GROUP = "dred-position"


def build(c: Corpus) -> None:
    rng, st = c.rng(GROUP), c.stats

    def one(vid, comment, M, f, config, **kw):
        ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                               n_latents=int(rng.integers(1, 4)))
        w = PaddingWriter(M)
        to_frame(w, f, "ones" if f % 3 == 1 else "auto")
        w.dred(blob(ints, st), last=bool(f % 2))
        c.add(GROUP, vid, comment, w, config=config, M=M, **kw)

    # DRED on frame f of M for M up to 48, 2.5 ms CELT frames (frame_offset = f)
    for M in range(1, 49):
        fs = sorted({0, M - 1} | ({M // 2} if M % 8 == 0 else set()) | (set(range(M)) if M == 48 else set()))
        for f in fs:
            one(f"dred-frame-{f:02d}-of-{M:02d}", f"DRED on frame {f} of {M} (2.5 ms CELT): frame_offset {f}",
                M, f, CELT_FB_2_5, vbr=bool(M % 5 == 0))
    # every TOC config: the most frames it allows, DRED on the last one
    for config in range(32):
        M = max_frames(config)
        fs = CONFIGS[config].frame_samples
        one(f"dred-config-{config:02d}", f"config {config} ({fs / 48:g} ms frames), DRED on frame {M - 1} of "
            f"{M}: frame_offset {frame_offset(M - 1, fs)}", M, M - 1, config, flags=("TocConfig",))
    one("dred-stereo-frame-1-of-2", "stereo SILK 60 ms, DRED on frame 1 of 2: frame_offset 24", 2, 1, SILK_WB_60,
        stereo=True)
    one("dred-stereo-hybrid", "stereo hybrid 20 ms, DRED on frame 3 of 6", 6, 3, HYBRID_FB_20, stereo=True)
    # among other extensions on other frames
    ints = random_integers(rng, st, q0=5, dQ=4, n_latents=6)
    w = PaddingWriter(4).short(5, b"x").long(40, junk(rng, 7)).sep().short(6).sep()
    w.dred(blob(ints, st)).short(7, b"y").sep().long(90, junk(rng, 3), last=True)
    c.add(GROUP, "dred-frame-2-among-others", "DRED (L = 1) on frame 2 of 4 between other extensions", w,
          config=CELT_FB_20)
