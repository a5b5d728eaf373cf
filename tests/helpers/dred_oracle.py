"""A second, deliberately separate reader of the DRED payload, to check the corpus against something other than
the code under test: pure Python, written from SPEC-NOTES §3 and RFC 6716 §4.1 (the range decoder), importing
nothing of dredconf (not the C core, not its model loader: the tables are read from the C file here).

``read_dred(payload, frame_offset, tables)`` gives the integers of a record's ``dred`` object.
"""
from __future__ import annotations

import re
from pathlib import Path

STATE_DIM, LATENT_DIM, MAX_LATENTS = 50, 25, 26
DQ_TABLE = (0, 2, 3, 4, 6, 8, 12, 16)


class RangeDecoder:
    """RFC 6716 §4.1: 8-bit symbols, 32-bit state, a 7-bit carry; bytes past the end read as zeros."""

    def __init__(self, data: bytes):
        self.data, self.pos = bytes(data), 0
        self.total_bits = 9  # §4.1.1: 33 - 24 bits read ahead at the start
        self.rng = 128
        self.rem = self._byte()
        self.val = self.rng - 1 - (self.rem >> 1)
        self._normalize()

    def _byte(self) -> int:
        b = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return b

    def _normalize(self) -> None:  # §4.1.2.1
        while self.rng <= 1 << 23:
            self.total_bits += 8
            self.rng <<= 8
            sym, self.rem = self.rem, self._byte()
            sym = (sym << 8 | self.rem) >> 1
            self.val = ((self.val << 8) + (255 & ~sym)) & 0x7FFFFFFF

    def decode(self, ft: int) -> int:  # §4.1.2 ec_decode
        self.ext = self.rng // ft
        return ft - min(self.val // self.ext + 1, ft)

    def update(self, fl: int, fh: int, ft: int) -> None:  # §4.1.2 ec_dec_update
        s = self.ext * (ft - fh)
        self.val -= s
        self.rng = self.ext * (fh - fl) if fl > 0 else self.rng - s
        self._normalize()

    def uint(self, ft: int) -> int:  # §4.1.5, for ft <= 256 (no raw bits)
        s = self.decode(ft)
        self.update(s, s + 1, ft)
        return s

    def icdf16(self, icdf: list[int], ftb: int) -> int:  # ec_dec_icdf16: 15-bit inverse CDF
        s, r, k = self.rng, self.rng >> ftb, -1
        while True:
            t, k = s, k + 1
            s = r * icdf[k]
            if self.val >= s:
                break
        self.val -= s
        self.rng = t - s
        self._normalize()
        return k

    def tell(self) -> int:  # §4.1.6: bits used, rounded up
        return self.total_bits - self.rng.bit_length()


def _magnitude_icdf(decay: int) -> list[int]:
    """The 8-symbol inverse CDF of a magnitude step: each entry decays from the last, none below 7 - its index."""
    icdf = [max(7, decay)]
    while len(icdf) < 7:
        icdf.append(max(7 - len(icdf), icdf[-1] * decay >> 15))
    return icdf + [0]


def laplace_p0(dec: RangeDecoder, p0: int, decay: int) -> int:
    """SPEC-NOTES §3: zero / positive / negative from a 3-symbol ICDF, then 1 + 8-symbol draws, 7 escaping."""
    sign = dec.icdf16([32768 - p0, (32768 - p0) // 2, 0], 15)
    if not sign:
        return 0
    icdf, value, step = _magnitude_icdf(decay), 1, 7
    while step == 7:
        step = dec.icdf16(icdf, 15)
        value += step
    return value if sign == 1 else -value


def load_tables(model_dir: Path) -> dict[str, list[list[int]]]:
    """The r and p0 tables (16 levels) of dred_rdovae_stats_data.c, by a regex of their own."""
    text = (Path(model_dir) / "dred_rdovae_stats_data.c").read_text()
    tables = {}
    for kind, dim in (("state", STATE_DIM), ("latent", LATENT_DIM)):
        for what in ("r", "p0"):
            body = re.search(rf"dred_{kind}_{what}_q8\[\d+\]\s*=\s*\{{(.*?)\}}", text, re.S).group(1)
            values = [int(v) for v in re.findall(r"\d+", body)]
            tables[f"{kind}_{what}"] = [values[q * dim:(q + 1) * dim] for q in range(16)]
    return tables


def _values(dec: RangeDecoder, r: list[int], p0: list[int]) -> list[int]:
    return [0 if ri == 0 or pi == 255 else laplace_p0(dec, pi << 7, ri << 7) for ri, pi in zip(r, p0)]


def read_dred(payload: bytes, frame_offset: int, tables: dict) -> dict:
    """The integers of one DRED payload (the bits after the 'D', 12 prefix), as a record's ``dred`` object."""
    dec = RangeDecoder(payload)
    q0, dQ = dec.uint(16), dec.uint(8)
    extra = dec.uint(256) if dec.uint(2) else 0
    offset = dec.uint(32)
    qmax = 15
    if q0 < 14 and dQ > 0:
        n = 14 - q0
        s = dec.decode(2 * n)
        if s < n:
            dec.update(0, n, 2 * n)
        else:
            qmax = q0 + 1 + (s - n)
            dec.update(s, s + 1, 2 * n)
    state = _values(dec, tables["state_r"][q0], tables["state_p0"][q0])
    levels, latents = [], []
    while len(latents) < MAX_LATENTS and 8 * len(payload) - dec.tell() > 7:
        q = min(qmax, q0 + (DQ_TABLE[dQ] * len(latents) + 8) // 16)
        levels.append(q)
        latents.append(_values(dec, tables["latent_r"][q], tables["latent_p0"][q]))
    return {"frame_offset": frame_offset, "q0": q0, "dQ": dQ, "extra_offset": extra, "offset": offset,
            "qmax": qmax, "dred_offset": 16 - offset - 32 * extra + frame_offset, "latent_count": len(latents),
            "levels": levels, "state": state, "latents": latents}
