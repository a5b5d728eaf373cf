"""A decoder for the audio stages' tests that replays a file beside its input.

    python replay_audio.py INPUT OUTPUT [MODE]

INPUT is X.bit (integration) or X.features.f32 (vocoder); OUTPUT gets, by MODE (X.NAME.sw or its FLAC, X.NAME.flac):
    expected   X.expected.sw (the honest decoder)
    plc-only   X.plc-only.sw (integration: a decoder without DRED)
    orig       X.orig.sw cut to the expected length (vocoder: the original speech)
    short      X.expected.sw without its last 10 samples (a wrong length)
    splice:F   X.expected.sw with the samples listed in file F (lines "start stop") taken from X.plc-only.sw
"""
import sys
from pathlib import Path

from dredconf.vectors.setfiles import pcm_file, read_pcm


def main(argv):
    inp, out = Path(argv[0]), Path(argv[1])
    mode = argv[2] if len(argv) > 2 else "expected"
    stem = inp.name.removesuffix(".bit").removesuffix(".features.f32")
    sibling = lambda what: read_pcm(pcm_file(inp.with_name(f"{stem}.{what}")))  # noqa: E731  (.sw or .flac)
    expected = sibling("expected")
    if mode == "expected":
        data = expected
    elif mode == "plc-only":
        data = sibling("plc-only")
    elif mode == "orig":
        data = sibling("orig")[:len(expected)]
    elif mode == "short":
        data = expected[:-20]
    elif mode.startswith("splice:"):
        data, plc = bytearray(expected), sibling("plc-only")
        for line in Path(mode[len("splice:"):]).read_text().split("\n"):
            if line.strip():
                a, b = (2 * int(x) for x in line.split())
                data[a:b] = plc[a:b]
        data = bytes(data)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    out.write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1:])
