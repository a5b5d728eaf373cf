"""The arithmetics and kernel levels kernel tests run in, and how a test selects one."""
from __future__ import annotations

import pytest

#: (arithmetic, hardware kernel level) pairs to run a kernel test in: the soft-float (its integer
#: sums from the best level), and the hardware at every level (tests skip those the machine lacks).
ARITH_CASES = [("softfloat", "auto"), ("exact", "off"), ("exact", "sse2"), ("exact", "avx2")]


def select_arith(name: str, level: str):
    """Selects the kernel level for a test in arithmetic `name`; skips what this machine cannot run."""
    from dredconf.reference import rdovae as R
    from dredconf.reference._core import lib

    if name == "exact" and not lib.dc_nn_hw_exact():
        pytest.skip("the hardware failed the self-check: exact runs the soft-float here")
    if R.set_simd(level) != level and level != "auto":
        R.set_simd("auto")
        pytest.skip(f"no {level} kernels on this machine")


def in_arith(request, make):
    """For a fixture over ARITH_CASES: the network ``make(arithmetic)`` builds, in the case's arithmetic and
    kernel level (the hardware's levels restored after)."""
    from dredconf.reference import rdovae as R

    name, level = request.param
    select_arith(name, level)
    network = make(name)
    assert network.runs.startswith(name)
    yield network
    R.set_simd("auto")
