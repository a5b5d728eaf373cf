"""Group ``dred-large``: DRED extensions from 1,001 bytes up to the largest a packet allows.

A public decoder refused DRED payloads over 1,000 bytes while libopus decodes them (libopus ground truth:
``../shared/vectors/libopus-1.6.1-edge/BIGP``). Each payload here is a real 26-latent payload followed by
arbitrary bytes: the decoder stops at 26 latents, and the range coder's end of stream makes the bytes after
it unable to change what it reads (RFC 6716 §4.1.5), so the expectation is still what was encoded."""
from __future__ import annotations

from dredconf.spec.packet import PaddingLength
from dredconf.spec.record import MAX_LATENTS
from dredconf.spec.stream import MAX_RECORD_LENGTH

from ..cases import junk
from ..corpus import Corpus
from ..dredpayload import DredBlob, blob, random_integers
from ..padding import PaddingWriter

GROUP = "dred-large"
#: DRED extension lengths ('D', 12 included): both sides of 1,000 for either reading of "payload", a frame's
#: most, an Ethernet MTU, 16-bit limits.
SIZES = (1001, 1002, 1003, 1275, 1276, 1500, 1501, 4096, 32767, 32768, 65535, 65536, 65537, 131072)
FLAGS = ("DredLargePayload",)


def build(c: Corpus) -> None:
    for n in SIZES:
        c.add(GROUP, f"dred-large-{n:06d}", f"a {n}-byte DRED extension (L = 0): 26 latents, then arbitrary bytes "
              "a decoder never reads", PaddingWriter(1).dred(_payload(c, n), last=True), flags=FLAGS)
    for n in (1001, 65536):
        w = PaddingWriter(1).dred(_payload(c, n)).short(5, b"e")
        c.add(GROUP, f"dred-large-{n:06d}-l1", f"a {n}-byte DRED extension coded with its length (L = 1, "
              f"{n // 255 + 1} length bytes), then another extension", w, flags=FLAGS)
    n = _largest()
    w = PaddingWriter(1).dred(_payload(c, n), last=True)
    c.add(GROUP, "dred-large-largest", f"the largest DRED extension a packet allows: {n} bytes (L = 0), the packet "
          f"{MAX_RECORD_LENGTH} bytes, the most a stream record holds", w, frames=[c.rng(GROUP).bytes(1)], flags=FLAGS)


def _payload(c: Corpus, n: int) -> DredBlob:
    """An ``n``-byte DRED extension payload: 26 latents (a decoder reads no more), then arbitrary bytes."""
    rng = c.rng(GROUP)
    ints = random_integers(rng, c.stats, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                           n_latents=MAX_LATENTS)
    b = blob(ints, c.stats)
    return DredBlob(b + junk(rng, n - len(b)), ints)


def _largest() -> int:
    """The longest L = 0 DRED extension in a one-frame packet (a 1-byte frame) of at most MAX_RECORD_LENGTH bytes:
    TOC, frame count byte, the padding length's bytes, the frame, the padding (the extension's ID byte and it)."""
    def size(n: int) -> int:
        padding = 1 + n
        return 2 + len(PaddingLength.build(padding)) + 1 + padding

    n = MAX_RECORD_LENGTH
    while size(n) > MAX_RECORD_LENGTH:
        n -= size(n) - MAX_RECORD_LENGTH
    while size(n + 1) <= MAX_RECORD_LENGTH:
        n += 1
    return n
