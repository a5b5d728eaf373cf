"""Exact comparison of the integer layers (framing, DRED header, latents): the first departing field.

Fields are compared in bitstream order, so the first departure is where a
decoder first went wrong (a desynchronised range decoder shows at the first
value it misread, not at a later count). Each comparer yields departures for
the claimed fields only.
"""
from __future__ import annotations

from typing import Any, Iterator

from dredconf.conformance.verdicts import MISSING, NOTHING, Departure, Layer, show
from dredconf.spec.record import FRAMING_KEYS, HEADER_KEYS, LATENT_KEYS


def get(d: Any, key: str) -> Any:
    return d.get(key, MISSING) if isinstance(d, dict) else MISSING


def compare_value(name: str, a: Any, e: Any, layer: Layer) -> Iterator[Departure]:
    """Exact comparison of two JSON values, naming the first differing leaf (``name[3][12]``, ``name[1].frame``)."""
    if a is MISSING:
        yield Departure(layer, name, MISSING, e)
        return
    if type(a) is type(e) and a == e:  # the common case, at C speed (types were checked on input)
        return
    if isinstance(e, list) and isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, e)):
            yield from compare_value(f"{name}[{i}]", x, y, layer)
        if len(a) != len(e):
            note = f"{len(a)} entries, expected {len(e)}"
            if len(a) > len(e):
                yield Departure(layer, f"{name}[{len(e)}]", a[len(e)], NOTHING, note=note)
            else:
                yield Departure(layer, f"{name}[{len(a)}]", MISSING, e[len(a)], note=note)
        return
    if isinstance(e, dict) and isinstance(a, dict):
        for k in e:
            yield from compare_value(f"{name}.{k}", a.get(k, MISSING), e[k], layer)
        return
    both_numbers = isinstance(a, (int, float)) and isinstance(e, (int, float))
    if a != e or (type(a) is not type(e) and not both_numbers):
        yield Departure(layer, name, a, e)


def compare_framing(a: dict, e: dict, claimed: frozenset[str]) -> Iterator[Departure]:
    for f in FRAMING_KEYS:
        if f not in claimed:
            continue
        av, ev = get(a, f), get(e, f)
        if f == "extension_error":
            # null or not: libopus has one error ("invalid packet") and its wording is not normative.
            if av is MISSING or (av is None) != (ev is None):
                note = None
                if av is None and isinstance(ev, str):
                    note = "no extension error reported: the padding is malformed, a conforming decoder reports the error"
                yield Departure(Layer.FRAMING, f, av, ev, note=note)
            continue
        if ev is MISSING:  # the expected record does not know (broken framing)
            continue
        yield from compare_value(f, av, ev, Layer.FRAMING)


def presence(d: Any) -> str:
    return "(missing)" if d is MISSING else ("null" if d is None else "present")


def compare_header(a: dict, e: dict, claimed: frozenset[str]) -> Iterator[Departure]:
    ad, ed = get(a, "dred"), get(e, "dred")
    if ed is MISSING:
        return
    if not isinstance(ad, dict) or ed is None:
        if (ad is None) != (ed is None) or ad is MISSING:
            shown = {k: ed[k] for k in HEADER_KEYS if k in ed} if isinstance(ed, dict) else ed
            yield Departure(Layer.HEADER, "dred", None if ad is None else ad, ed,
                            text=f"{presence(ad)}, expected {'null' if ed is None else 'present ' + show(shown)}")
        return
    for f in HEADER_KEYS:
        if f in claimed:
            yield from compare_value(f, get(ad, f), get(ed, f), Layer.HEADER)


def dred_mismatch(layer: Layer, field: str, ad: Any, ed: Any) -> Departure:
    """A layer's field present where no DRED is expected, or missing where one is."""
    if ed is None:
        return Departure(layer, field, text="present, expected no DRED (dred null)")
    return Departure(layer, field, text=f"missing (dred {presence(ad)}), expected a DRED")


def compare_latents(a: dict, e: dict, claimed: frozenset[str]) -> Iterator[Departure]:
    """state, then for each latent k (newest first) levels[k] and latents[k], then latent_count."""
    ad, ed = get(a, "dred"), get(e, "dred")
    if ed is MISSING:
        return
    a_has = isinstance(ad, dict) and any(f in ad for f in LATENT_KEYS)
    if ed is None:
        if a_has:
            yield dred_mismatch(Layer.LATENTS, next(f for f in LATENT_KEYS if f in ad), ad, ed)
        return
    if not isinstance(ad, dict):
        yield dred_mismatch(Layer.LATENTS, next(f for f in LATENT_KEYS if f in claimed), ad, ed)
        return
    L = Layer.LATENTS
    if "state" in claimed:
        yield from compare_value("state", get(ad, "state"), ed["state"], L)
    lev_a, lat_a = get(ad, "levels"), get(ad, "latents")
    lev_e, lat_e = ed["levels"], ed["latents"]
    for f, v in (("levels", lev_a), ("latents", lat_a)):
        if f in claimed and v is MISSING:
            yield Departure(L, f, MISSING, ed[f])
            return
    n = min(len(lev_e), len(lat_e))
    if "levels" in claimed:
        n = min(n, len(lev_a))
    if "latents" in claimed:
        n = min(n, len(lat_a))
    for k in range(n):
        if "levels" in claimed:
            yield from compare_value(f"levels[{k}]", lev_a[k], lev_e[k], L)
        if "latents" in claimed:
            yield from compare_value(f"latents[{k}]", lat_a[k], lat_e[k], L)
    if "latent_count" in claimed:
        yield from compare_value("latent_count", get(ad, "latent_count"), ed["latent_count"], L)
    for f in ("levels", "latents"):
        if f in claimed:
            yield from compare_value(f, get(ad, f), ed[f], L)


COMPARE = {Layer.FRAMING: compare_framing, Layer.HEADER: compare_header, Layer.LATENTS: compare_latents}
