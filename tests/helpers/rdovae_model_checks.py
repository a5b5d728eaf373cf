"""Corruptions both C cores' model checks must reject (their int8 layers share sparse8x4.h's rules)."""
from __future__ import annotations

from dredconf.reference._core import lib


def reject_int8_layer_corruptions(m, rejected) -> None:
    """Break one field of a model struct at a time, ask ``rejected(slot, reason)``, put it back."""
    m.glu[0].nb_inputs = 65
    rejected(lib.DC_RDOVAE_SLOT_GLU, lib.DC_RDOVAE_BAD_DIMS)
    m.glu[0].nb_inputs = 64
    m.conv_dense[2].nb_idx -= 1
    rejected(lib.DC_RDOVAE_SLOT_CONV_DENSE + 2, lib.DC_RDOVAE_BAD_INDEX)
    m.conv_dense[2].nb_idx += 1
    m.output.nb_weights -= 32
    rejected(lib.DC_RDOVAE_SLOT_OUTPUT, lib.DC_RDOVAE_BAD_WEIGHTS)
    m.output.nb_weights += 32
