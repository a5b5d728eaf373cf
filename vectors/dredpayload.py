"""DRED payloads for the corpus: integers chosen by the generator, bytes from the reference encoder.

Every payload is built from integers (:class:`DredIntegers`) and carries them
(:class:`DredBlob`, a ``bytes`` with ``.integers``), so the expectation a vector
states is what was encoded. Most payloads come from
``reference.payload.encode_dred_payload`` (the shortest payload libopus would
write). A few forms no encoder API writes are assembled here with the
reference range *encoder* (``reference.rangecoder.RangeEncoder``), symbol by
symbol, in the payload's coding order:

* more latents than a decoder reads (26): the extra ones must be ignored;
* a few symbols of a partial latent in the last byte's spare bits (the
  decoder stops with <= 7 bits left and never reads them);
* trailing zero bytes dropped: the range decoder reads zeros past the end,
  so a payload whose last latent encodes to zero bytes still decodes in full
  (the decoder finishes the latent past the end of the payload); with no
  latent at all this gives the 1-byte minimum payload.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from dredconf.reference.payload import encode_dred_payload
from dredconf.reference.rangecoder import RangeEncoder
from dredconf.spec import DRED_EXPERIMENTAL_PREFIX
from dredconf.spec.dred import dred_level
from dredconf.spec.record import LATENT_DIM, MAX_LATENTS, dred_object


@dataclass(frozen=True)
class DredIntegers:
    """The integers of one DRED payload, as the generator chose them."""

    q0: int
    dQ: int
    offset: int
    state: tuple[int, ...]
    latents: tuple[tuple[int, ...], ...]
    qmax: int = 15
    extra_offset: int = 0
    extra_flag: bool = False  # code the flag even when extra_offset is 0
    #: latents actually coded (>= len(latents) only for the "more than 26" form: the extra ones are not expected)
    coded_latents: tuple[tuple[int, ...], ...] | None = None

    def levels(self) -> list[int]:
        return [dred_level(self.q0, self.dQ, self.qmax, k) for k in range(len(self.latents))]

    def record(self, frame_offset: int) -> dict:
        """The ``dred`` object of the per-packet JSON record a decoder must produce."""
        return dred_object(frame_offset=frame_offset, q0=self.q0, dQ=self.dQ, extra_offset=self.extra_offset,
                           offset=self.offset, qmax=self.qmax, levels=self.levels(), state=self.state,
                           latents=self.latents)

    def as_payload(self) -> dict:
        return dict(q0=self.q0, dQ=self.dQ, offset=self.offset, qmax=self.qmax, extra_offset=self.extra_offset,
                    extra_flag=self.extra_flag, state=list(self.state), latents=[list(x) for x in self.latents])


class DredBlob(bytes):
    """Extension payload bytes (prefix included) that know the integers they encode (``integers``, or None)."""

    integers: DredIntegers | None
    #: what else a vector's flags should say about this payload (e.g. "DredTrailingPartialLatent")
    notes: tuple[str, ...]

    def __new__(cls, data: bytes, integers: DredIntegers | None, notes: tuple[str, ...] = ()):
        obj = super().__new__(cls, data)
        obj.integers = integers
        obj.notes = tuple(notes)
        return obj


# --- choosing integers ----------------------------------------------------------------------------

def coded_mask(r_row, p0_row) -> np.ndarray:
    """Dimensions a level codes (elsewhere the value is 0 and not coded)."""
    r = np.asarray(r_row, dtype=int)
    p0 = np.asarray(p0_row, dtype=int)
    return (r != 0) & (p0 != 255)


def sample_values(rng, r_row, p0_row, max_mag: int = 12) -> list[int]:
    """Values drawn roughly as the level's Laplace model makes them likely (0 where not coded)."""
    r = np.asarray(r_row, dtype=int)
    p0 = np.asarray(p0_row, dtype=int)
    out = []
    for ri, pi in zip(r, p0):
        if ri == 0 or pi == 255:
            out.append(0)
            continue
        if rng.random() < pi / 256.0:
            out.append(0)
            continue
        decay = min(ri / 256.0, 0.95)
        mag = 1 + int(rng.geometric(1.0 - decay)) - 1
        mag = min(mag, max_mag)
        out.append(int(mag if rng.random() < 0.5 else -mag))
    return out


def random_integers(rng, stats, *, q0: int, dQ: int, n_latents: int, qmax: int = 15,
                offset: int | None = None, extra_offset: int = 0, extra_flag: bool = False,
                zero_last: bool = False) -> DredIntegers:
    """Integers for a payload: random state and latents at the levels q0/dQ/qmax give.

    Redrawn until the payload is representable: a last latent costing so few
    bits that a decoder would stop before it cannot be sent (the encoder
    refuses it), so the draw is repeated.
    """
    if offset is None:
        offset = int(rng.integers(0, 32))
    for attempt in range(100):
        state = sample_values(rng, stats.state_r[q0], stats.state_p0[q0])
        latents = []
        for k in range(n_latents):
            q = dred_level(q0, dQ, qmax, k)
            if zero_last and k == n_latents - 1:
                latents.append([0] * LATENT_DIM)
            else:
                latents.append(sample_values(rng, stats.latent_r[q], stats.latent_p0[q]))
        if attempt >= 10 and n_latents and not zero_last:
            # at coarse levels a drawn latent is often all zero and too cheap to be sent last:
            # give it a value that costs bits
            q = dred_level(q0, dQ, qmax, n_latents - 1)
            coded = np.flatnonzero(coded_mask(stats.latent_r[q], stats.latent_p0[q]))
            if coded.size:
                latents[-1][int(coded[attempt % coded.size])] = attempt - 8
        ints = DredIntegers(q0=q0, dQ=dQ, offset=offset, qmax=qmax, extra_offset=extra_offset, extra_flag=extra_flag,
                        state=tuple(state), latents=tuple(tuple(x) for x in latents))
        if representable(ints, stats):
            return ints
    raise Unrepresentable(f"no representable payload drawn for q0 {q0}, dQ {dQ}, {n_latents} latents")


class Unrepresentable(ValueError):
    """No draw gave a payload whose every latent a decoder reads (e.g. a forced all-zero last latent)."""


def representable(ints: DredIntegers, stats) -> bool:
    """Whether a decoder reads every latent of the shortest payload for these integers."""
    enc = RangeEncoder(1 << 16)
    tells = _write_symbols(enc, ints, stats, ints.latents)
    n = (enc.tell() + 7) // 8
    return all(8 * n - t > 7 for t in tells)


def with_magnitude(ints: DredIntegers, stats, magnitude: int, *, where: str = "latent", sign: int = 1) -> DredIntegers:
    """The integers with one coded dimension set to ``sign * magnitude`` (state, or the newest latent)."""
    if where == "state":
        mask = coded_mask(stats.state_r[ints.q0], stats.state_p0[ints.q0])
        i = int(np.flatnonzero(mask)[0])
        state = list(ints.state)
        state[i] = sign * magnitude
        return replace(ints, state=tuple(state))
    q = dred_level(ints.q0, ints.dQ, ints.qmax, 0)
    mask = coded_mask(stats.latent_r[q], stats.latent_p0[q])
    i = int(np.flatnonzero(mask)[-1])
    lat = [list(x) for x in ints.latents]
    lat[0][i] = sign * magnitude
    return replace(ints, latents=tuple(tuple(x) for x in lat))


# --- bytes ---------------------------------------------------------------------------------------

def encode(ints: DredIntegers, stats) -> bytes:
    """The DRED bits for these integers (no prefix), via the reference encoder."""
    return encode_dred_payload(ints.as_payload(), stats)


def blob(ints: DredIntegers, stats, prefix: bytes = DRED_EXPERIMENTAL_PREFIX, notes: tuple[str, ...] = ()) -> DredBlob:
    return DredBlob(prefix + encode(ints, stats), ints, notes)


def bits_left(data: bytes, ints: DredIntegers, stats) -> int:
    """Bits left after the last latent (8 * length - ec_tell): the decoder stops when <= 7."""
    return 8 * len(data) - _tell_after(ints, stats)


def _write_symbols(enc: RangeEncoder, ints: DredIntegers, stats, latents) -> list[int]:
    """Header, state and the given latents with the reference range coder; returns ec_tell before each latent."""
    enc.uint(ints.q0, 16)
    enc.uint(ints.dQ, 8)
    if ints.extra_flag or ints.extra_offset:
        enc.uint(1, 2)
        enc.uint(ints.extra_offset, 256)
    else:
        enc.uint(0, 2)
    enc.uint(ints.offset, 32)
    if ints.q0 < 14 and ints.dQ > 0:
        n = 14 - ints.q0
        if ints.qmax == 15:
            enc.encode(0, n, 2 * n)
        else:
            s = n + ints.qmax - ints.q0 - 1
            enc.encode(s, s + 1, 2 * n)
    _values(enc, ints.state, stats.state_r[ints.q0], stats.state_p0[ints.q0])
    tells = []
    for k, lat in enumerate(latents):
        q = dred_level(ints.q0, ints.dQ, ints.qmax, k)
        tells.append(enc.tell())
        _values(enc, lat, stats.latent_r[q], stats.latent_p0[q])
    return tells


def _values(enc: RangeEncoder, values, r_row, p0_row, count: int | None = None) -> None:
    for i, (v, r, p0) in enumerate(zip(values, r_row, p0_row)):
        if count is not None and i >= count:
            return
        if int(r) == 0 or int(p0) == 255:
            if v:
                raise ValueError("a value in a dimension its level does not code")
            continue
        enc.laplace_p0(int(v), int(p0) << 7, int(r) << 7)


def _tell_after(ints: DredIntegers, stats) -> int:
    enc = RangeEncoder(1 << 16)
    _write_symbols(enc, ints, stats, ints.latents)
    return enc.tell()


def encode_too_many(ints: DredIntegers, extra: list[list[int]], stats) -> tuple[DredBlob, int]:
    """A payload coding ``ints.latents`` (26 of them) and then ``extra`` latents a decoder must not read, and the
    bits coded after the 26th latent."""
    if len(ints.latents) != MAX_LATENTS:
        raise ValueError("the 'more than 26 latents' form starts from 26 expected latents")
    enc = RangeEncoder(1 << 16)
    coded = list(ints.latents) + [list(x) for x in extra]
    # levels past 26 continue the same formula
    tells = _write_symbols(enc, ints, stats, coded)
    data = enc.finish()
    b = DredBlob(DRED_EXPERIMENTAL_PREFIX + data, replace(ints, coded_latents=tuple(tuple(x) for x in coded)),
                 ("DredMoreThan26Latents",))
    return b, 8 * len(data) - tells[MAX_LATENTS]  # ec_tell after the 26th latent is where the 27th starts


def encode_trailing_partial(ints: DredIntegers, stats) -> DredBlob | None:
    """``ints`` followed by a few zero symbols of one more latent that fit in the last byte's spare bits.

    The decoder stops before that latent (<= 7 bits left), so it must not be read.
    None when no symbol fits.
    """
    enc0 = RangeEncoder(1 << 16)
    _write_symbols(enc0, ints, stats, ints.latents)
    tell = enc0.tell()
    nbytes = (tell + 7) // 8
    k = len(ints.latents)
    q = dred_level(ints.q0, ints.dQ, ints.qmax, k)
    zeros = [0] * LATENT_DIM
    best = 0
    for count in range(1, LATENT_DIM + 1):
        enc = RangeEncoder(1 << 16)
        _write_symbols(enc, ints, stats, ints.latents)
        _values(enc, zeros, stats.latent_r[q], stats.latent_p0[q], count)
        if (enc.tell() + 7) // 8 != nbytes:
            break
        if enc.tell() > tell:
            best = count
    if not best:
        return None
    enc = RangeEncoder(1 << 16)
    _write_symbols(enc, ints, stats, ints.latents)
    _values(enc, zeros, stats.latent_r[q], stats.latent_p0[q], best)
    data = enc.finish()
    assert len(data) == nbytes
    return DredBlob(DRED_EXPERIMENTAL_PREFIX + data, ints, ("DredTrailingPartialLatent",))


def strip_trailing_zeros(ints: DredIntegers, stats, *, keep_latents: bool = True) -> DredBlob | None:
    """The payload with its trailing zero bytes dropped, when that decodes to the same integers.

    The range decoder reads zeros past the end, so only the stop rule can
    change: every latent must still start with more than 7 bits left. None
    when no byte can be dropped that way.
    """
    full = encode(ints, stats)
    enc = RangeEncoder(1 << 16)
    tells = _write_symbols(enc, ints, stats, ints.latents)
    n = len(full)
    while n > 1 and full[n - 1] == 0:
        if keep_latents and any(8 * (n - 1) - t <= 7 for t in tells):
            break
        n -= 1
    if n == len(full):
        return None
    data = full[:n]
    notes = ["DredTrailingZerosDropped"]
    if tells and 8 * n < enc.tell():
        notes.append("DredLatentPastEnd")
    return DredBlob(DRED_EXPERIMENTAL_PREFIX + data, ints, tuple(notes))
