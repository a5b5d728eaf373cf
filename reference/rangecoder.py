"""The C core's range coder (RFC 6716 §4.1; ``csrc/entdec.c``, ``csrc/entenc.c``, ``csrc/laplace.c``) seen from
Python: ``RangeDecoder`` and ``RangeEncoder``, for tests, tools and the authoring kit's step-by-step decode. The DRED
payload itself is decoded in C in one call (``payload.decode_dred_payload``)."""
from __future__ import annotations

from typing import Sequence

from dredconf.reference._core import ffi, lib


def _icdf_array(table: Sequence[int], ftb: int, ctype: str, maxbits: int):
    """A C copy of an inverse CDF, checked so the C search stops inside it: non-increasing, <= 2^ftb, ending in 0."""
    t = [int(v) for v in table]
    if not 0 <= ftb <= maxbits:
        raise ValueError(f"ftb {ftb} out of range 0..{maxbits}")
    if not t or t[-1] != 0 or t[0] > 1 << ftb or any(a < b for a, b in zip(t, t[1:])):
        raise ValueError("icdf must be non-increasing, start <= 2^ftb and end with 0")
    return ffi.new(f"{ctype}[]", t)


class RangeDecoder:
    """Thin wrapper over the C range decoder (RFC 6716 section 4.1), for tests and tools."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self._buf = ffi.new("unsigned char[]", self.data or b"\0")  # keeps the bytes alive for the C side
        self._d = ffi.new("dc_dec *")
        lib.dc_dec_init(self._d, self._buf, len(self.data))

    def decode(self, ft: int) -> int:
        return lib.dc_decode(self._d, ft)

    def decode_bin(self, bits: int) -> int:
        return lib.dc_decode_bin(self._d, bits)

    def update(self, fl: int, fh: int, ft: int) -> None:
        lib.dc_dec_update(self._d, fl, fh, ft)

    def bit_logp(self, logp: int) -> int:
        return lib.dc_dec_bit_logp(self._d, logp)

    def icdf(self, table: Sequence[int], ftb: int) -> int:
        return lib.dc_dec_icdf(self._d, _icdf_array(table, ftb, "unsigned char", 8), ftb)

    def icdf16(self, table: Sequence[int], ftb: int) -> int:
        return lib.dc_dec_icdf16(self._d, _icdf_array(table, ftb, "uint16_t", 15), ftb)

    def uint(self, ft: int) -> int:
        return lib.dc_dec_uint(self._d, ft)

    def bits(self, n: int) -> int:
        return lib.dc_dec_bits(self._d, n)

    def laplace_p0(self, p0: int, decay: int) -> int:
        return lib.dc_laplace_decode_p0(self._d, p0, decay)

    def tell(self) -> int:
        return lib.dc_dec_tell(self._d)

    def tell_frac(self) -> int:
        return lib.dc_dec_tell_frac(self._d)

    @property
    def error(self) -> int:
        return self._d.error

    @property
    def rng(self) -> int:
        """The size of the current range (RFC 6716 §4.1: rng)."""
        return self._d.rng

    @property
    def val(self) -> int:
        """The top of the range minus the coded value, minus one (RFC 6716 §4.1: val)."""
        return self._d.val


class RangeEncoder:
    """Thin wrapper over the C range encoder; ``finish()`` returns the bytes as libopus's DRED encoder cuts them."""

    def __init__(self, cap: int = 4096):
        self.cap = cap
        self._buf = ffi.new("unsigned char[]", max(cap, 1))
        self._e = ffi.new("dc_enc *")
        lib.dc_enc_init(self._e, self._buf, cap)

    def encode(self, fl: int, fh: int, ft: int) -> None:
        lib.dc_encode(self._e, fl, fh, ft)

    def encode_bin(self, fl: int, fh: int, bits: int) -> None:
        lib.dc_encode_bin(self._e, fl, fh, bits)

    def bit_logp(self, val: int, logp: int) -> None:
        lib.dc_enc_bit_logp(self._e, val, logp)

    def icdf(self, s: int, table: Sequence[int], ftb: int) -> None:
        if not 0 <= s < len(table):
            raise ValueError(f"symbol {s} outside the table")
        lib.dc_enc_icdf(self._e, s, _icdf_array(table, ftb, "unsigned char", 8), ftb)

    def icdf16(self, s: int, table: Sequence[int], ftb: int) -> None:
        if not 0 <= s < len(table):
            raise ValueError(f"symbol {s} outside the table")
        lib.dc_enc_icdf16(self._e, s, _icdf_array(table, ftb, "uint16_t", 15), ftb)

    def uint(self, value: int, ft: int) -> None:
        lib.dc_enc_uint(self._e, value, ft)

    def bits(self, value: int, n: int) -> None:
        lib.dc_enc_bits(self._e, value, n)

    def laplace_p0(self, value: int, p0: int, decay: int) -> None:
        if lib.dc_laplace_encode_p0(self._e, value, p0, decay) < 0:
            raise ValueError(f"value {value} cannot be coded with p0 {p0}, decay {decay}")

    def tell(self) -> int:
        return lib.dc_enc_tell(self._e)

    def tell_frac(self) -> int:
        return lib.dc_enc_tell_frac(self._e)

    @property
    def error(self) -> int:
        return self._e.error

    def finish(self) -> bytes:
        """Shrink to ceil(tell/8) bytes, flush, and return them; ``ValueError`` if the buffer overflowed."""
        lib.dc_enc_shrink(self._e, min((self.tell() + 7) // 8, self.cap))
        lib.dc_enc_done(self._e)
        if self._e.error:
            raise ValueError("range encoder buffer overflow")
        return ffi.buffer(self._buf, self._e.storage)[:]

