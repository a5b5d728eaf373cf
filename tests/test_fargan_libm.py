"""FARGAN's exp and pitch period (csrc/fargan_libm.h): exact by construction, compared with this machine's libm.

1. The C tables are what reference/fargan_libm.py computes from first principles (integers, fractions, decimal).
2. exp: the correctly rounded float32 (an 80-digit value rounded) on edges and random inputs, and libm's
   (float)exp((double)x) on the same; never an input whose fixed-point value is too near a rounding boundary.
3. The period: libopus's expression with a correctly rounded pow and with libm's, on random features.
4. The shared items: every exp and pow call libopus makes on them, counted against libm (docs/FARGAN.md).
5. tests/tools/fargan_libm_scan.c (every float32 through both, in C): a slice here; the whole range with
   DREDCONF_EXHAUSTIVE=1 (a few minutes), the figures docs/FARGAN.md reports.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dredconf.reference import fargan_libm as L
from dredconf.reference._core import lib

ROOT = Path(__file__).resolve().parent.parent
EDGES = [0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x32800000, 0x327fffff, 0xb2800000,
         0xb27fffff, 0x33000000, 0x3f800000, 0xbf800000, 0x42b17217, 0x42b17218, 0x42b20000, 0xc2aeac4f, 0xc2aeac50,
         0xc2ce8ed0, 0xc2cff1b4, 0xc2cff1b5, 0xc2d00000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001,
         0x7f7fffff, 0xff7fffff, 0x41200000, 0xc1200000, 0x3c000000, 0xbc000000, 0x40000000, 0xc0000000]


def _random_bits(n: int, seed: int) -> list[int]:
    """Float32s where exp is neither 1 nor saturated: |x| in [2^-26, 104), every binade."""
    rng = np.random.default_rng(seed)
    mag = rng.uniform(-26, math.log2(104), n)
    x = (np.exp2(mag) * rng.choice([-1, 1], n)).astype(np.float32)
    return [int(b) for b in x.view(np.uint32)]


# ------------------------------------------------------------------ 1. the tables

def test_c_tables_are_the_recomputed_ones():
    assert [lib.dc_fargan_libm_table(0, j) for j in range(64)] == L.exp2_table()
    assert (lib.dc_fargan_libm_table(2, 0) << 64 | lib.dc_fargan_libm_table(2, 1)) == L.log2e_q127()
    assert lib.dc_fargan_libm_table(3, 0) == L.ln2_q64()
    steps = L.period_thresholds()
    assert len(steps) == lib.DC_FARGAN_PERIOD_MAX - lib.DC_FARGAN_PERIOD_MIN
    assert [lib.dc_fargan_libm_table(1, i) for i in range(len(steps))] == steps
    assert lib.dc_fargan_libm_table(1, len(steps)) == 0 and lib.dc_fargan_libm_table(4, 0) == 0


# ------------------------------------------------------------------ 2. exp

def test_exp_is_correctly_rounded():
    for b in EDGES + _random_bits(3000, 1):
        assert lib.dc_fargan_exp(b) == L.exp_f32(b), hex(b)
        assert not lib.dc_fargan_exp_unproven(b), hex(b)


def test_exp_equals_libm_on_a_sample():
    for b in EDGES + _random_bits(200000, 2):
        if lib.dc_fargan_exp(b) != L.libm_exp_f32(b):
            pytest.fail(f"exp of {L.f32(b)!r} (0x{b:08x}): libm 0x{L.libm_exp_f32(b):08x}, "
                        f"reference 0x{lib.dc_fargan_exp(b):08x}")


def test_exp_special_values():
    exp = lib.dc_fargan_exp
    assert exp(0x7f800000) == 0x7f800000 and exp(0xff800000) == 0 and exp(0x7f800001) == 0x7fc00001
    assert exp(0x80000000) == exp(0) == 0x3f800000
    assert exp(0xc2cff1b4) == 1 and exp(0xc2cff1b5) == 0          # the smallest subnormal, then 0
    assert exp(0xc2aeac4f) == 0x800026 and exp(0xc2aeac50) == 0x7fffe6   # the smallest normals, then subnormals
    assert exp(0x42b17217) == 0x7f7fff84 and exp(0x42b17218) == 0x7f800000   # the largest finite, then inf


# ------------------------------------------------------------------ 3. the period

def test_period_steps():
    """The step function, against libopus's expression (correctly rounded pow) at and around each step."""
    steps = L.period_thresholds()
    for n, b in zip(range(L.PERIOD_MIN, L.PERIOD_MAX), steps):
        below = L.from_key(L.key(b) - 1)
        assert lib.dc_fargan_period(b) == L.reference_period(b) <= n < lib.dc_fargan_period(below), n
        assert lib.dc_fargan_period(below) == L.reference_period(below)
    for f, p in ((0.0, 91), (-1.5, 256), (5.0, 3), (8.0, 1), (1e30, 1), (-30.0, 297), (-1e30, 297)):
        assert lib.dc_fargan_period(L.bits32(f)) == p, f
    for b in (0x7fc00000, 0xffc00000, 0x7f800000, 0xff800000):
        assert lib.dc_fargan_period(b) == (1 if b == 0x7f800000 else 297)


def test_period_with_libm_pow_on_a_sample():
    rng = np.random.default_rng(3)
    for f in np.concatenate([rng.uniform(-2, 6.5, 20000), rng.normal(0, .5, 20000)]).astype(np.float32):
        b = int(f.view(np.uint32))
        assert lib.dc_fargan_period(b) == L.reference_period(b, L.glibc_pow), float(f)


# ------------------------------------------------------------------ 4. the shared items

@pytest.mark.shared
@pytest.mark.parametrize("item, exp_calls, pow_calls, pow_doubles_differ",
                         [("slt_16k", 4196, 1053, 2), ("alsaA_16k", 1168, 296, 1)])
def test_every_call_on_the_shared_items(vocoder_dir, fargan_model, item, exp_calls, pow_calls, pow_doubles_differ):
    """libopus makes 4 exp calls per synthesised frame (frames + 2, the priming included) and one pow per frame
    (five for the priming, the last frame twice more); libm rounds every exp to our float32 and every period to
    ours, though its pow's double differs from the correctly rounded one in a few calls (by one ulp, never across
    a period step)."""
    from dredconf.reference.fargan import FarganSynthesizer

    f = np.fromfile(vocoder_dir / f"{item}.features.f32", dtype="<f4").reshape(-1, 20)
    _, gains = FarganSynthesizer(fargan_model).synthesize_traced(f)
    assert gains.size == exp_calls
    assert sum(lib.dc_fargan_exp(int(b)) != L.libm_exp_f32(int(b)) for b in gains.view(np.uint32)) == 0
    pitch = [f[0, 18]] * 5 + list(f[1:, 18]) + [f[-1, 18]] * 2
    assert len(pitch) == pow_calls
    ys = [(1. / 60.) * ((float(p) + 1.5) * 60) for p in pitch]
    assert sum(L.pow2_correct(y) != math.pow(2.0, y) for y in ys) == pow_doubles_differ
    bits = [int(np.float32(p).view(np.uint32)) for p in pitch]
    assert all(lib.dc_fargan_period(b) == L.reference_period(b, L.glibc_pow) for b in bits)


# ------------------------------------------------------------------ 5. every float32, in C

@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("scan") / "fargan_libm_scan"
    csrc = ROOT / "reference" / "csrc"
    subprocess.run([cc, "-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-I", str(csrc), "-o",
                    str(exe), str(ROOT / "tests" / "tools" / "fargan_libm_scan.c"), str(csrc / "fargan_libm.c"), "-lm"],
                   check=True)
    return exe


def _scan(exe: Path, what: str, first: int, last: int) -> str:
    out = subprocess.run([str(exe), what, hex(first), hex(last)], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


@pytest.mark.parametrize("what, first, last", [("exp", 0x3f000000, 0x3f0fffff), ("exp", 0xc2a00000, 0xc2d00000),
                                               ("period", 0x3e000000, 0x3e3fffff), ("period", 0xbfc00000, 0xbfdfffff)])
def test_scan_slices(scan, what, first, last):
    assert _scan(scan, what, first, last) == f"inputs {last - first + 1} unproven 0 differ 0"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DREDCONF_EXHAUSTIVE") != "1", reason="every float32: set DREDCONF_EXHAUSTIVE=1")
@pytest.mark.parametrize("what", ["exp", "period"])
def test_scan_every_float32(scan, what):
    assert _scan(scan, what, 0, 0xFFFFFFFF) == "inputs 4294967296 unproven 0 differ 0"
