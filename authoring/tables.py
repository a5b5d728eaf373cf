"""``spec tables``: the quantizer schedule, the per-level entropy parameters and the DRED header syntax, every
number read from ``spec.dred`` or the loaded model (the model's own table is ``authoring.modeltable``)."""
from __future__ import annotations

import re

from dredconf.reference.model import STATS_ARRAYS
from dredconf.spec.dred import (
    DQ_TABLE, DRED_HEADER, LATENT_MIN_BITS, MAX_LEVEL, QMAX_CODED_BELOW, dred_level,
)
from dredconf.spec.record import LATENT_DIM, LEVELS, MAX_LATENTS, STATE_DIM

from .formats import Table

#: What each stats table is, for its notes (the arrays are libopus's, Q8, uint8).
STATS_MEANING = {
    "quant_scale": "quantizer scale: a value q dequantizes to q * 256 / scale (a scale of 0 counts as 1)",
    "r": "Laplace decay: the decoder uses r << 7 (Q15)",
    "p0": "zero probability: the decoder uses p0 << 7 (Q15); where r = 0 or p0 = 255 the dimension is not coded "
          "(its value is 0)",
}
KINDS = (("latent", LATENT_DIM), ("state", STATE_DIM))


def schedule_table() -> Table:
    """For every q0 and dQ, the level of each latent k (qmax 15; a coded qmax caps these)."""
    rows = []
    for q0 in range(LEVELS):
        for dQ in range(len(DQ_TABLE)):
            coded = f"{q0 + 1}..{MAX_LEVEL}" if _qmax_coded(q0, dQ) else f"no ({MAX_LEVEL})"
            rows.append([q0, dQ, DQ_TABLE[dQ], coded] + [dred_level(q0, dQ, MAX_LEVEL, k) for k in range(MAX_LATENTS)])
    return Table(
        "dred-quantizer-schedule", "Quantizer level of latent k for each q0 and dQ",
        ["q0", "dQ", "dQ_table[dQ]", "qmax"] + [f"k={k}" for k in range(MAX_LATENTS)], rows,
        [f"q_k = min(qmax, q0 + ((dQ_table[dQ] * k + 8) >> 4)), dQ_table = {{{', '.join(map(str, DQ_TABLE))}}}, "
         f"k = 0 (the newest latent) .. {MAX_LATENTS - 1}.",
         f"The levels shown are for qmax = {MAX_LEVEL}. Column qmax: the values a payload can code (q0 < "
         f"{QMAX_CODED_BELOW} and dQ > 0), else the implicit {MAX_LEVEL}; a coded qmax caps every level at it."])


def _qmax_coded(q0: int, dQ: int) -> bool:
    qmax = DRED_HEADER[-1]
    return bool(qmax.present(dict(q0=q0, dQ=dQ)))


def stats_tables(stats) -> list[Table]:
    """Per kind (latent, state) and parameter (scale, r, p0): one row a dimension, one column a level."""
    tables = []
    for kind, dim in KINDS:
        for param, meaning in STATS_MEANING.items():
            attr = f"{kind}_{param}"
            values = getattr(stats, attr)
            cname = STATS_ARRAYS[attr][0]
            tables.append(Table(
                f"dred-{kind}-{param.replace('_', '-')}", f"{kind.capitalize()} {param} by dimension and level "
                f"({cname}, Q8)", ["dim"] + [f"q={q}" for q in range(LEVELS)],
                [[i] + [int(values[q][i]) for q in range(LEVELS)] for i in range(dim)],
                [f"{cname}[{LEVELS}][{dim}] of dred_rdovae_stats_data.c as libopus stores it: {meaning}."]))
    return tables


def _condition(expr) -> str:
    """A construct ``this`` expression as the draft would write it."""
    if expr is True:
        return "always"
    text = re.sub(r"this\['(\w+)'\]", r"\1", repr(expr)).replace(" & ", " and ").replace("==", "=")
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def header_table() -> Table:
    """The DRED header in coding order, with each field's range-coder call, then what follows it."""
    rows = []
    for i, f in enumerate(DRED_HEADER, 1):
        meaning = f.docs.split(": ", 1)[1].split(", ", 1)[1]
        if f.ft is None:
            call = (f"s = ec_decode(2n), n = {QMAX_CODED_BELOW} - q0; s < n: "
                    f"qmax = {MAX_LEVEL}, ec_dec_update(0, n, 2n); else qmax = q0 + 1 + (s - n), "
                    "ec_dec_update(s, s + 1, 2n)")
            values = f"q0 + 1 .. {MAX_LEVEL}"
        else:
            call, values = f"ec_dec_uint({f.ft})", f"0..{f.ft - 1}"
        rows.append([i, f.name, call, values, _condition(f.present), meaning])
    n = len(rows)
    rows += [
        [n + 1, "dred_offset", "derived", "any integer", "always",
         "16 - offset - 32 * extra_offset + frame_offset, in 2.5 ms units (frame_offset = DRED frame * frame "
         "duration / 2.5 ms)"],
        [n + 2, "state", f"{STATE_DIM} x Laplace-p0 at level q0", "integers", "always",
         "the initial state; a dimension whose r = 0 or p0 = 255 at that level is 0 and not coded"],
        [n + 3, "latent k", f"{LATENT_DIM} x Laplace-p0 at level q_k", "integers",
         f"k < {MAX_LATENTS} and 8 * length - ec_tell >= {LATENT_MIN_BITS}",
         "latents newest first; the stop rule is checked before each"],
    ]
    return Table("dred-header-syntax", "The DRED payload in coding order (after 'D' and the version byte)",
                 ["#", "field", "range-coder call", "values", "present when", "meaning"], rows,
                 ["Every call is libopus's celt/entdec.c (RFC 6716 §4.1): ec_dec_uint(ft) reads a value 0..ft-1."])


def syntax_tables(stats) -> list[Table]:
    return [header_table(), schedule_table()] + stats_tables(stats)
