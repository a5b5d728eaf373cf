"""The RDOVAE decoder and the FARGAN vocoder give the same bits under any compiler, flags, arithmetic and kernels.

The C core is built again from the same sources with ``build_core.make_builder`` under
other flags (-O0; -O3 -march=native; without any x86 SIMD code, -DDC_NN_NO_SIMD, as on other
platforms; clang when it is installed).  In each build, each arithmetic (the hardware at every
kernel level the machine has, SIMD forced off included, and the soft-float) decodes the integer
payloads of the four shared vectors and a set of synthetic packets up to the int32 limits
(NaN activations inside them); the SHA-256 of all the feature bytes (float32 bit patterns,
little-endian) must be the same everywhere, and equal to the hashes recorded below (computed
on x86-64 with gcc; any platform must reproduce them).  The shared vectors' hash is libopus's:
the hash of the expected features in the shared vectors.  The same holds for the FARGAN synthesis
of the shared alsaA_16k features (its hash is libopus's: the shared X.expected.sw's) and of a
trajectory of extreme features (huge, infinite, NaN).
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

from dredconf.reference import fargan as F
from dredconf.reference import rdovae as R

from dredconf.vectors.setfiles import read_pcm
from tests.helpers.shared import STREAMS, pcm as pcm_path

pytestmark = [pytest.mark.shared, pytest.mark.slow]

REFERENCE_DIR = Path(R.__file__).resolve().parent
#: SHA-256 of the float32 features of every DRED packet with latents in S1, S2, S3, SYN (in that order)
#: (== libopus's expected features).
EXACT_FEATURES_SHA256 = "331152f203ac1c1764b14cdd8f05a62e0350092a2672226f0f1c606ac7486fa0"
#: The same for the synthetic packets of ``_synthetic`` (any value up to the int32 limits).
SYNTHETIC_SHA256 = "c0ffd39f69b8ad308911879493b6ae138426531efdb53b966b40a193917deaea"
#: SHA-256 of FARGAN's int16 output on the shared alsaA_16k features (== alsaA_16k.expected.sw, libopus's) and on
#: ``_extreme_features``.
FARGAN_SHA256 = ("cb7393a9b4a8f5bd6ffd88b13abe956a3e3e4a7b29e2956e1684dbbfdc586990",
                 "b78bbc29237db6e765e917f2e05b4694c21f8d80772222540eab5585ac3e3cda")

BUILDS = {
    "O0": ["-O0"],
    "O3_native": ["-O3", "-march=native"],
    "portable_O2": ["-O2", "-DDC_NN_NO_SIMD"],
    "portable_O3_native": ["-O3", "-march=native", "-funroll-loops", "-DDC_NN_NO_SIMD"],
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


def _synthetic():
    """Packets of every kind: small values at every level, values up to the int32 limits."""
    rng = np.random.default_rng(20261129)
    for k in range(24):
        n = k % 7
        hi = (40, 1 << 15, 1 << 31)[k % 3]
        yield (k % 16, rng.integers(-hi, hi, 50), rng.integers(-hi, hi, (n, 25)), rng.integers(0, 16, n))


def _features_sha256(decoder: R.RdovaeDecoder, packets) -> str:
    """The features' bit patterns over every packet (q0, state, latents, levels)."""
    h = hashlib.sha256()
    for q0, state, latents, levels in packets:
        h.update(decoder.decode_bits(q0, state, latents, levels).astype("<u4").tobytes())
    return h.hexdigest()


def _shared(ground_truth):
    return [(d["q0"], d["state"], d["latents"], d["levels"]) for d in _payloads(ground_truth)]


def _extreme_features() -> np.ndarray:
    """Speech-like frames, then huge, infinite and NaN values, pitch across and beyond its range."""
    rng = np.random.default_rng(20261130)
    f = rng.normal(0, 1, (12, 20)).astype(np.float32)
    f[4:8] *= np.float32(1e6)
    f[8, ::3], f[9, 1::4], f[10, 2::5] = np.inf, -np.inf, np.nan
    f[:, 18] = np.linspace(-40, 40, 12, dtype=np.float32)
    return f


def _fargan_sha256(vocoder: F.FarganSynthesizer, fargan_features) -> tuple[str, str]:
    return tuple(hashlib.sha256(vocoder.synthesize(f).astype("<i2").tobytes()).hexdigest()
                 for f in (fargan_features, _extreme_features()))


def _hashes(model, ground_truth, core=None, fargan=None) -> dict[str, tuple]:
    """(shared, synthetic) hashes per arithmetic and kernel level of one build of the core, and with ``fargan``
    ((model, alsaA features)) FARGAN's (alsaA, extremes) hashes."""
    out = {}
    check = R.platform_check(core)
    levels = [lv for lv in R.SIMD_LEVELS if R.SIMD_LEVELS[lv] <= R.SIMD_LEVELS[check["simd_available"]]]
    try:
        for arith, level in [("softfloat", check["simd_available"])] + [("exact", lv) for lv in levels]:
            assert R.set_simd(level, core) == level
            dec = R.RdovaeDecoder(model, core=core, arith=arith)
            out[f"{arith}-{level}"] = (_features_sha256(dec, _shared(ground_truth)), _features_sha256(dec, _synthetic()))
            if fargan is not None:
                out[f"{arith}-{level}"] += _fargan_sha256(F.FarganSynthesizer(fargan[0], core=core, arith=arith),
                                                          fargan[1])
    finally:
        R.set_simd("auto", core)
    return out


def _expected_sha256(ground_truth) -> str:
    """libopus's features from the shared vectors (9 significant digits: the float32 exactly)."""
    h = hashlib.sha256()
    for d in _payloads(ground_truth):
        f = np.asarray(d["features"], dtype=np.float64).astype(np.float32)
        h.update(f.view(np.uint32).astype("<u4").tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def fargan(fargan_model, vocoder_dir):
    return fargan_model, np.fromfile(vocoder_dir / "alsaA_16k.features.f32", dtype="<f4").reshape(-1, 20)


EXPECTED = (EXACT_FEATURES_SHA256, SYNTHETIC_SHA256) + FARGAN_SHA256


@pytest.fixture(scope="module")
def installed(model, ground_truth, fargan):
    return _hashes(model, ground_truth, fargan=fargan)


def test_installed_core_is_libopus_in_every_arithmetic(installed, ground_truth, vocoder_dir):
    assert _expected_sha256(ground_truth) == EXACT_FEATURES_SHA256
    assert hashlib.sha256(read_pcm(pcm_path(vocoder_dir / "alsaA_16k.expected"))).hexdigest() == FARGAN_SHA256[0]
    assert set(installed.values()) == {EXPECTED}, installed
    assert "exact-off" in installed                            # the hardware with SIMD forced off


@pytest.mark.parametrize("name", list(BUILDS))
def test_same_bits_under_other_flags(name, model, ground_truth, fargan, tmp_path):
    mod = _build(name, BUILDS[name], tmp_path)
    if "-DDC_NN_NO_SIMD" in BUILDS[name]:
        assert R.platform_check(mod)["simd_available"] == "off"
    hashes = _hashes(model, ground_truth, mod, fargan)
    assert set(hashes.values()) == {EXPECTED}, hashes


def _clang() -> str | None:
    for name in ["clang"] + [f"clang-{v}" for v in range(25, 10, -1)]:
        if shutil.which(name):
            return name
    return None


@pytest.mark.skipif(_clang() is None, reason="clang not installed")
@pytest.mark.skipif("-fsanitize" in os.environ.get("DREDCONF_CFLAGS", ""),
                    reason="a clang-sanitized module cannot load beside gcc's sanitizer runtime")
@pytest.mark.parametrize("flags", [["-O0"], ["-O3", "-march=native"], ["-O2", "-DDC_NN_NO_SIMD"]],
                         ids=["O0", "O3_native", "portable"])
def test_same_bits_with_clang(flags, model, ground_truth, fargan, tmp_path):
    mod = _build("clang_" + "_".join(f.strip("-=").replace("=", "_") for f in flags), flags, tmp_path, cc=_clang())
    hashes = _hashes(model, ground_truth, mod, fargan)
    assert set(hashes.values()) == {EXPECTED}, hashes


def test_decoding_twice_gives_the_same_bits(model, ground_truth):
    d = next(p["dred"] for p in ground_truth["SYN"][1] if p["dred"] and p["dred"]["latent_count"] == 26)
    x = R.RdovaeDecoder(model, arith="exact")
    a = x.decode_bits(d["q0"], d["state"], d["latents"], d["levels"])
    x.decode_bits(0, [7] * 50, np.ones((3, 25), np.int32), [1, 2, 3])      # no state leaks between calls
    assert np.array_equal(a, x.decode_bits(d["q0"], d["state"], d["latents"], d["levels"]))
