"""The RDOVAE decoder gives the same bits under any compiler flags, in both arithmetic modes.

The C core is built again from the same sources with ``build_core.make_builder`` under
other flags (-O0; -O3 -march=native; the portable int8 kernel instead of the SSE2 one;
clang when it is installed), each build decodes the integer payloads of the four shared
vectors, and the SHA-256 of all the feature bytes must be the same for every build, for
the installed module, and equal to the hash recorded below (computed on x86-64 with gcc;
any platform must reproduce it):

* fixed mode: int32 Q20 features, little-endian;
* exact mode: float32 features as little-endian bit patterns; these are libopus's own
  features, so the hash is also the hash of the expected features in the shared vectors.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from dredconf.reference import rdovae as R

from tests.helpers.shared import STREAMS

pytestmark = [pytest.mark.shared, pytest.mark.slow]

REFERENCE_DIR = Path(R.__file__).resolve().parent
#: SHA-256 of the Q20 features of every DRED packet with latents in S1, S2, S3, SYN (in that order).
FEATURES_SHA256 = "46a06ac545cbac5d87401078cb48b470c26c869568bfbbb3f4ff056697705e30"
#: The same for the exact mode's float32 bit patterns (== libopus's expected features).
EXACT_FEATURES_SHA256 = "331152f203ac1c1764b14cdd8f05a62e0350092a2672226f0f1c606ac7486fa0"

BUILDS = {
    "O0": ["-O0"],
    "O3_native": ["-O3", "-march=native"],
    "portable_O2": ["-O2", "-DDC_RDOVAE_NO_SIMD"],
    "portable_O3_native": ["-O3", "-march=native", "-funroll-loops", "-DDC_RDOVAE_NO_SIMD"],
}


def _build(name: str, flags: list[str], tmpdir: Path, cc: str | None = None):
    sys.path.insert(0, str(REFERENCE_DIR))
    try:
        import build_core
    finally:
        sys.path.remove(str(REFERENCE_DIR))
    module = f"_dredconf_det_{name}"
    # make_builder gives source paths relative to the working directory when it can;
    # cffi compiles from inside tmpdir, so build from there (the paths are then absolute)
    old_cwd = os.getcwd()
    os.chdir(tmpdir)
    try:
        builder = build_core.make_builder(module, flags)
    finally:
        os.chdir(old_cwd)
    old_cc = os.environ.get("CC")
    if cc:
        os.environ["CC"] = cc
    try:
        so = builder.compile(tmpdir=str(tmpdir), verbose=False)
    finally:
        if cc:
            if old_cc is None:
                os.environ.pop("CC", None)
            else:
                os.environ["CC"] = old_cc
    spec = importlib.util.spec_from_file_location(module, so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _payloads(ground_truth):
    for stream in STREAMS:
        for p in ground_truth[stream][1]:
            d = p["dred"]
            if d is not None and d["latent_count"] > 0:
                yield d


def _features_sha256(decoder: R.RdovaeDecoder, ground_truth) -> str:
    """The core's output words over every payload: Q20 int32 (fixed) or float32 bit patterns (exact)."""
    decode, word = (decoder.decode_exact, "<u4") if decoder.arith == "exact" else (decoder.decode_fixed, "<i4")
    h = hashlib.sha256()
    for d in _payloads(ground_truth):
        h.update(decode(d["q0"], d["state"], d["latents"], d["levels"]).astype(word).tobytes())
    return h.hexdigest()


def _expected_sha256(ground_truth) -> str:
    """libopus's features from the shared vectors (9 significant digits: the float32 exactly)."""
    h = hashlib.sha256()
    for d in _payloads(ground_truth):
        f = np.asarray(d["features"], dtype=np.float64).astype(np.float32)
        h.update(f.view(np.uint32).astype("<u4").tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def installed_hash(model, ground_truth):
    return _features_sha256(R.RdovaeDecoder(model, arith="fixed"), ground_truth)


@pytest.fixture(scope="module")
def installed_exact_hash(model, ground_truth):
    return _features_sha256(R.RdovaeDecoder(model, arith="exact"), ground_truth)


def test_installed_core_matches_recorded_hash(installed_hash):
    assert installed_hash == FEATURES_SHA256


def test_installed_exact_core_is_libopus(installed_exact_hash, ground_truth):
    assert installed_exact_hash == EXACT_FEATURES_SHA256
    assert _expected_sha256(ground_truth) == EXACT_FEATURES_SHA256


@pytest.mark.parametrize("name", list(BUILDS))
def test_same_bits_under_other_flags(name, model, ground_truth, installed_hash, installed_exact_hash, tmp_path):
    mod = _build(name, BUILDS[name], tmp_path)
    expect_simd = "-DDC_RDOVAE_NO_SIMD" not in BUILDS[name] and mod.lib.dc_rdovae_simd() == 1
    assert mod.lib.dc_rdovae_simd() == (1 if expect_simd else 0)
    assert mod.lib.dc_rdovae_exact_simd() == mod.lib.dc_rdovae_simd()
    assert _features_sha256(R.RdovaeDecoder(model, core=mod, arith="fixed"), ground_truth) == installed_hash
    assert _features_sha256(R.RdovaeDecoder(model, core=mod, arith="exact"), ground_truth) == installed_exact_hash


def _clang() -> str | None:
    for name in ["clang"] + [f"clang-{v}" for v in range(25, 10, -1)]:
        if shutil.which(name):
            return name
    return None


@pytest.mark.skipif(_clang() is None, reason="clang not installed")
@pytest.mark.skipif("-fsanitize" in os.environ.get("DREDCONF_CFLAGS", ""),
                    reason="a clang-sanitized module cannot load beside gcc's sanitizer runtime")
@pytest.mark.parametrize("flags", [["-O0"], ["-O3", "-march=native"], ["-O2", "-DDC_RDOVAE_NO_SIMD"]],
                         ids=["O0", "O3_native", "portable"])
def test_same_bits_with_clang(flags, model, ground_truth, installed_hash, installed_exact_hash, tmp_path):
    mod = _build("clang_" + "_".join(f.strip("-=").replace("=", "_") for f in flags), flags, tmp_path, cc=_clang())
    assert _features_sha256(R.RdovaeDecoder(model, core=mod, arith="fixed"), ground_truth) == installed_hash
    assert _features_sha256(R.RdovaeDecoder(model, core=mod, arith="exact"), ground_truth) == installed_exact_hash


def test_decoding_twice_gives_the_same_bits(model, ground_truth):
    dec = R.RdovaeDecoder(model, arith="fixed")
    d = next(p["dred"] for p in ground_truth["SYN"][1] if p["dred"] and p["dred"]["latent_count"] == 26)
    a = dec.decode_fixed(d["q0"], d["state"], d["latents"], d["levels"])
    dec.decode_fixed(0, [7] * 50, np.ones((3, 25), np.int32), [1, 2, 3])      # no state leaks between calls
    assert np.array_equal(a, dec.decode_fixed(d["q0"], d["state"], d["latents"], d["levels"]))
    assert np.array_equal(a, R.RdovaeDecoder(model, arith="fixed").decode_fixed(d["q0"], d["state"], d["latents"], d["levels"]))
    x = R.RdovaeDecoder(model, arith="exact")
    a = x.decode_exact(d["q0"], d["state"], d["latents"], d["levels"])
    x.decode_exact(0, [7] * 50, np.ones((3, 25), np.int32), [1, 2, 3])
    assert np.array_equal(a, x.decode_exact(d["q0"], d["state"], d["latents"], d["levels"]))
