"""The corpus's groups, one module each, in stream order: ``GROUPS[name](corpus)`` adds that group's vectors."""
from __future__ import annotations

from typing import Callable

from ..corpus import Corpus
from . import (
    dred_envelope, dred_errors, dred_header, dred_large, dred_latents, dred_position, ext_basic, ext_malformed,
    ext_repeat, packet_framing, random_layouts,
)

GROUPS: dict[str, Callable[[Corpus], None]] = {
    m.GROUP: m.build for m in (dred_header, dred_position, dred_latents, dred_envelope, ext_basic, ext_repeat,
                               ext_malformed, packet_framing, random_layouts, dred_large, dred_errors)
}


def build_corpus(seed: int, stats, groups: list[str] | None = None) -> Corpus:
    c = Corpus(seed, stats)
    for name in groups or GROUPS:
        GROUPS[name](c)
    return c
