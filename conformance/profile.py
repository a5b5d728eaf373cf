"""Conformance profiles: which layers a decoder claims to implement, and so must be tested on every vector.

A profile is a comma list of ``framing`` (packet framing, padding, the extension
list and ``extension_error``), ``dred`` (the DRED header and latent integers),
``features`` (the RDOVAE decoder's output), ``vocoder`` (features to speech) and
``integration`` (a whole decoder on a stream with losses). The default for packet
sets, ``framing,dred,features``, is a full DRED feature decoder; one that exposes
no extension list claims ``dred,features``; a ``libopus-features:`` decoder can
only claim ``features``; a vocoder set defaults to ``vocoder``, an integration
set to ``integration``.

A run conforms only if every layer of the profile was tested on every vector
that has it. Layers outside the profile are still judged where the decoder
outputs them, and a wrong value there still fails.
"""
from __future__ import annotations

from dataclasses import dataclass

from dredconf.conformance.verdicts import Layer
from dredconf.spec.record import FEATURE_KEYS, FRAMING_KEYS, HEADER_KEYS, LATENT_KEYS

#: Profile layers, in decoding order, and the judged layers each covers.
PROFILE_LAYERS: dict[str, tuple[Layer, ...]] = {
    "framing": (Layer.FRAMING,),
    "dred": (Layer.HEADER, Layer.LATENTS),
    "features": (Layer.FEATURES,),
    "vocoder": (Layer.VOCODER,),
    "integration": (Layer.INTEGRATION,),
}
#: The record fields of each judged layer, compared in this order (``dred``: the DRED object's presence).
LAYER_FIELDS: dict[Layer, tuple[str, ...]] = {
    Layer.FRAMING: FRAMING_KEYS,
    Layer.HEADER: ("dred",) + HEADER_KEYS,
    Layer.LATENTS: LATENT_KEYS,
    Layer.FEATURES: FEATURE_KEYS,
}
DEFAULT = ("framing", "dred", "features")


def default_profile(decoder_default: "Profile", set_kinds: list[str]) -> "Profile":
    """The profile when ``--profile`` is not given: the decoder's (packet sets), else the set's audio stage."""
    from dredconf.vectors.sets import INTEGRATION, PACKETS, STANDALONE, VOCODER

    if PACKETS in set_kinds or STANDALONE in set_kinds or decoder_default.layers == ("features",):
        return decoder_default
    return Profile(("vocoder",)) if VOCODER in set_kinds else Profile(("integration",)) if INTEGRATION in set_kinds \
        else decoder_default


class ProfileError(ValueError):
    """A ``--profile`` value that names no known layer."""


@dataclass(frozen=True)
class Profile:
    layers: tuple[str, ...] = DEFAULT

    @classmethod
    def parse(cls, text: str) -> "Profile":
        """``"dred,features"`` → Profile; unknown or empty names raise :class:`ProfileError`."""
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in PROFILE_LAYERS]
        if not names or unknown:
            raise ProfileError(f"{text!r}: want a comma list of {', '.join(PROFILE_LAYERS)}"
                               + (f" ({', '.join(unknown)} unknown)" if unknown else ""))
        return cls(tuple(n for n in PROFILE_LAYERS if n in names))

    def __str__(self) -> str:
        return ",".join(self.layers)

    def judged(self) -> tuple[Layer, ...]:
        """The judged layers the profile covers."""
        return tuple(l for n in self.layers for l in PROFILE_LAYERS[n])

    def required_fields(self, layer: Layer) -> tuple[str, ...]:
        """The record fields the profile needs tested in ``layer`` (empty when it does not claim the layer)."""
        return LAYER_FIELDS[layer] if layer in self.judged() else ()

    def claims(self, layer: Layer) -> bool:
        return layer in self.judged()

    def covers(self, vector_layers: tuple[str, ...]) -> bool:
        """Whether a vector that can test ``vector_layers`` has anything this profile claims."""
        return any(n in vector_layers for n in self.layers)
