"""Group ``dred-latents``: latent counts 0..26 and beyond, the stop rule, payload ends, the minimum payload,
Laplace escapes."""
from __future__ import annotations

from dredconf.spec import DRED_EXPERIMENTAL_PREFIX
from dredconf.spec.dred import dred_level
from dredconf.spec.record import MAX_LATENTS, STATE_DIM

from ..corpus import CaseError, Corpus
from ..dredpayload import (
    DredBlob, DredIntegers, Unrepresentable, bits_left, blob, encode_too_many, encode_trailing_partial,
    random_integers, representable, sample_values, strip_trailing_zeros, with_magnitude,
)
from ..padding import PaddingWriter

GROUP = "dred-latents"


def build(c: Corpus) -> None:
    rng, st = c.rng(GROUP), c.stats
    for n in range(MAX_LATENTS + 1):
        q0, dQ = int(rng.integers(0, 16)), int(rng.integers(0, 8))
        ints = random_integers(rng, st, q0=q0, dQ=dQ, n_latents=n)
        _put(c, f"dred-latents-{n:02d}", f"{n} latents (q0 {q0}, dQ {dQ})" + (": state only" if n == 0 else ""),
             blob(ints, st), last=bool(n % 2))
    for q0 in range(16):
        ints = random_integers(rng, st, q0=q0, dQ=int(rng.integers(0, 8)), n_latents=0)
        _put(c, f"dred-state-only-q0-{q0:02d}", f"state-only payload at q0 {q0}", blob(ints, st))
    _more_than_26(c)
    _stop_rule(c)
    _ends_mid_latent(c)
    _trailing_partial(c)
    _minimum_payload(c)
    _magnitudes(c)


def _put(c: Corpus, vid: str, comment: str, b: DredBlob, flags=(), last: bool = True) -> None:
    c.add(GROUP, vid, comment, PaddingWriter(1).dred(b, last=last), flags=flags)


def _more_than_26(c: Corpus) -> None:
    """More latents coded than a decoder reads: the extra ones cost enough bits that only the 26 cap stops it."""
    rng, st = c.rng(GROUP), c.stats
    for extra in (1, 4):
        while True:
            ints = random_integers(rng, st, q0=int(rng.integers(0, 8)), dQ=int(rng.integers(0, 3)),
                                   n_latents=MAX_LATENTS)
            more = []
            for k in range(extra):
                q = dred_level(ints.q0, ints.dQ, ints.qmax, MAX_LATENTS + k)
                more.append(sample_values(rng, st.latent_r[q], st.latent_p0[q]))
            b, bits_after = encode_too_many(ints, more, st)
            if bits_after >= 16:
                break
        _put(c, f"dred-latents-{26 + extra}-coded", f"{26 + extra} latents coded ({bits_after} bits "
             "after the 26th): a decoder reads 26 and ignores the rest", b)


def _stop_rule(c: Corpus) -> None:
    """Every count of bits left after the last latent, 0..7."""
    rng, st = c.rng(GROUP), c.stats
    found: dict[int, DredBlob] = {}
    for _ in range(400):
        if len(found) == 8:
            break
        n = int(rng.integers(1, 12))
        ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)), n_latents=n)
        b = blob(ints, st)
        left = bits_left(b[len(DRED_EXPERIMENTAL_PREFIX):], ints, st)
        found.setdefault(left, b)
    if len(found) != 8:
        raise CaseError(f"bits-left classes not all found: {sorted(found)}")
    for left in range(8):
        b = found[left]
        _put(c, f"dred-bits-left-{left}", f"{len(b.integers.latents)} latents; the payload ends {left} bit(s) after "
             "the last latent: the decoder stops there", b, flags=("DredStopRule",))


def _until(n: int, tries: int, attempt) -> bool:
    """Call ``attempt(made)`` (True when it added a vector) until ``n`` are made or ``tries`` run out."""
    made = 0
    for _ in range(tries):
        if made == n:
            break
        made += bool(attempt(made))
    return made == n


def _ends_mid_latent(c: Corpus) -> None:
    """Payloads ending inside a latent: trailing zero bytes dropped, the decoder reads zeros past the end."""
    rng, st = c.rng(GROUP), c.stats

    def attempt(made: int) -> bool:
        try:
            ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                                   n_latents=int(rng.integers(1, 8)), zero_last=True)
        except Unrepresentable:
            return False
        b = strip_trailing_zeros(ints, st)
        if b is None or "DredLatentPastEnd" not in b.notes:
            return False
        _put(c, f"dred-ends-mid-latent-{made}", f"{len(ints.latents)} latents, the last all zero; its trailing zero "
             "bytes are dropped so the payload ends inside that latent: the range decoder reads zeros past the end",
             b, flags=("DredStopRule",))
        return True

    if not _until(3, 200, attempt):
        raise CaseError("could not build the ends-mid-latent vectors")


def _trailing_partial(c: Corpus) -> None:
    """A partial latent in the last byte's spare bits."""
    rng, st = c.rng(GROUP), c.stats

    def attempt(made: int) -> bool:
        ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                               n_latents=int(rng.integers(0, 6)))
        b = encode_trailing_partial(ints, st)
        if b is None:
            return False
        _put(c, f"dred-trailing-partial-latent-{made}", f"{len(ints.latents)} latents, then symbols of one more in "
             "the last byte's spare bits: the decoder stops (<= 7 bits left) and never reads them", b,
             flags=("DredStopRule",))
        return True

    if not _until(2, 200, attempt):
        raise CaseError("could not build the trailing-partial-latent vectors")


def _minimum_payload(c: Corpus) -> None:
    """'D', 12, one byte: q0 in the top 4 bits, everything else 0, zeros read past the end."""
    for q0 in range(16):
        ints = DredIntegers(q0=q0, dQ=0, offset=0, state=(0,) * STATE_DIM, latents=())
        b = strip_trailing_zeros(ints, c.stats)
        if b is None or len(b) != len(DRED_EXPERIMENTAL_PREFIX) + 1:
            raise CaseError(f"minimum payload for q0 {q0} is not one byte")
        _put(c, f"dred-minimum-payload-q0-{q0:02d}", f"the shortest DRED payload, one byte (0x{b[-1]:02x}): q0 {q0}, "
             "all else 0, state read from zeros past the end, no latents", DredBlob(b, ints, b.notes),
             flags=("DredMinimumPayload",))


def _magnitudes(c: Corpus) -> None:
    """Laplace magnitudes that need the escape (symbol 7) once, several times, many times."""
    rng, st = c.rng(GROUP), c.stats
    for where in ("state", "latent"):
        for m in (7, 8, 14, 15, 22, 50, 100, 1000):
            for sign in (1, -1):
                while True:
                    ints = random_integers(rng, st, q0=int(rng.integers(0, 16)), dQ=int(rng.integers(0, 8)),
                                           n_latents=2)
                    ints = with_magnitude(ints, st, m, where=where, sign=sign)
                    if representable(ints, st):
                        break
                esc = (m - 1) // 7
                _put(c, f"dred-magnitude-{where}-{'p' if sign > 0 else 'm'}{m:04d}",
                     f"a {where} value of {sign * m}: {esc} escape symbol(s)", blob(ints, st))
