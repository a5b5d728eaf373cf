"""Python DUTs for the runner's tests (``python:pydut:NAME``, with this directory on PYTHONPATH)."""
import os


def framing_only(packet: bytes, index: int) -> dict:
    """Length and TOC only: judged on two framing fields."""
    return {"length": len(packet), "toc": packet[0]}


def raises_on_3(packet: bytes, index: int) -> dict:
    if index == 3:
        raise ValueError("cannot decode this one")
    return {"length": len(packet), "toc": packet[0]}


def exits_on_2(packet: bytes, index: int) -> dict:
    if index == 2:
        os._exit(7)
    return {"length": len(packet)}


class Counter:
    """A class DUT: instantiated once, ``decode_packet`` called per packet."""

    def __init__(self):
        self.seen = 0

    def decode_packet(self, packet: bytes, index: int) -> dict:
        self.seen += 1
        return {"length": len(packet), "toc": packet[0] if self.seen < 10 else 0}


def framing_without_error(packet: bytes, index: int) -> dict:
    """A framing decoder that lists the extensions but never reports extension_error (issue 9's false pass)."""
    from dredconf.spec import parse_extensions, parse_packet

    p = parse_packet(packet)
    exts = parse_extensions(p.padding_bytes, p.frame_count)
    return {"length": len(packet), "toc": packet[0], "frame_count": p.frame_count, "padding_length": p.padding.length,
            "extensions": [{"id": e.id, "frame": e.frame, "length": e.length} for e in exts.extensions]}
