"""Group ``random``: random layouts as libopus's extension generator (``spec.generator.plan_extensions``)
writes them, as real senders would."""
from __future__ import annotations

from dredconf.spec import DRED_EXTENSION_ID
from dredconf.spec.generator import plan_extensions

from ..cases import CELT_FB_2_5, CELT_FB_20, HYBRID_FB_20, SILK_WB_20, SILK_WB_60, max_frames
from ..corpus import Corpus
from ..dredpayload import blob, random_integers
from ..padding import PaddingWriter

GROUP = "random"


def build(c: Corpus, count: int = 64) -> None:
    rng = c.rng(GROUP)
    for i in range(count):
        config = rng.choice([SILK_WB_20, SILK_WB_60, HYBRID_FB_20, CELT_FB_20, CELT_FB_2_5, 20, 26])
        M = int(rng.integers(1, min(max_frames(config), 12) + 1))
        triples = _triples(c, M)
        # a repeatable pattern now and then: the same IDs on every frame
        if rng.random() < 0.3 and M > 1:
            eid = int(rng.integers(3, 32))
            triples += [(f, eid, b"") for f in range(M)]
            triples.sort(key=lambda t: t[0])
        w = PaddingWriter(M).pad(int(rng.integers(0, 3)))
        for el in plan_extensions(triples, M):
            w.add(el)
        c.add(GROUP, f"random-{i:03d}", f"random layout {i}: {len(triples)} extension(s) over {M} frame(s), "
              "written as libopus's generator would", w, config=config, flags=("LibopusGenerator",))


def _triples(c: Corpus, M: int) -> list[tuple[int, int, bytes]]:
    """(frame, id, payload): 0..2 other extensions per frame and one DRED with a random header."""
    rng, st = c.rng(GROUP), c.stats
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
            ints = random_integers(rng, st, q0=q0, dQ=dQ, n_latents=int(rng.integers(0, 27)), qmax=qmax,
                                   extra_offset=extra)
            triples.append((f, DRED_EXTENSION_ID, blob(ints, st)))
    return triples
