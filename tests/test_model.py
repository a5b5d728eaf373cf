"""The model loader: location rules, hashes, C-array parsing, validation, tarballs, fetch.

The model files are read from ../shared by path (never copied into the repository);
corrupt variants are built in tmp_path at test time.
"""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from dredconf.errors import ModelError
from dredconf.reference import model as M
from dredconf.reference.carray import CParseError, eval_int, parse_defines
from tests.helpers.shared import ROOT, shared_dir

SHARED = ((shared_dir() or ROOT.parent / "shared") / "model" / "opus-1.6.1").resolve()


def needs_shared(f):
    """The test reads SHARED: the conftest fixture skips it, or fails it in CI, when the model is missing."""
    return pytest.mark.shared(pytest.mark.usefixtures("model_dir")(f))


FILES = (*M.MODEL_FILES, M.SUMS_NAME)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No user environment leaks in: empty cache, no $DREDCONF_MODEL."""
    monkeypatch.delenv(M.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def shared_model(model_dir):
    return M.load_model(SHARED)


@pytest.fixture
def copy(tmp_path, model_dir) -> Path:
    """A writable copy of the model files in tmp_path."""
    d = tmp_path / "model"
    d.mkdir()
    for name in FILES:
        shutil.copyfile(SHARED / name, d / name)
    return d


def edit(d: Path, name: str, fn, *, update_sums: bool = True) -> None:
    """Rewrite one file with fn(text); keep SHA256SUMS consistent so the parser, not the hash, sees the change."""
    p = d / name
    p.write_text(fn(p.read_text()))
    if update_sums:
        h = hashlib.sha256(p.read_bytes()).hexdigest()
        sums = d / M.SUMS_NAME
        sums.write_text(re.sub(rf"^[0-9a-f]{{64}}  {re.escape(name)}$", f"{h}  {name}", sums.read_text(), flags=re.M))


def array_body(text: str, name: str) -> re.Match:
    """One array's declaration: group 1 = declared count, group 2 = body (a different parse than the loader's)."""
    m = re.search(rf"const \w+ {name}\[(\d+)\] = \{{(.*?)\}};", text, re.S)
    assert m, name
    return m


def rewrite_array(text: str, name: str, count: int, values: list[str]) -> str:
    m = array_body(text, name)
    return text[:m.start(1)] + str(count) + "] = {\n" + ",".join(values) + "\n};" + text[m.end():]


def make_tarball(dest: Path, names=M.MODEL_FILES, extra=()) -> Path:
    """A libopus-style model tarball (files under dnn/) named opus_data-<its sha256>.tar.gz, in dest."""
    tmp = dest / "building.tar.gz"
    with tarfile.open(tmp, "w:gz") as tf:
        for name in names:
            tf.add(SHARED / name, arcname=f"dnn/{name}")
        for info, data in extra:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    final = dest / f"opus_data-{digest}.tar.gz"
    tmp.rename(final)
    return final


def expect_error(rule: str, *words: str, **kw) -> ModelError:
    with pytest.raises(ModelError) as e:
        M.load_model(**kw)
    assert e.value.rule == rule, str(e.value)
    for w in words:
        assert w in str(e.value), (w, str(e.value))
    return e.value


# ---------------------------------------------------------------- the shared model

@needs_shared
def test_shared_model_shapes_and_identity(shared_model):
    m = shared_model
    assert m.source == "dir" and m.path == SHARED
    for attr in M.STATS_ARRAYS:
        a = getattr(m.stats, attr)
        assert a.dtype == np.uint8 and a.shape == ((16, 25) if attr.startswith("latent") else (16, 50))
        assert not a.flags.writeable
    assert len(m.decoder_arrays) == 124 and len(m.decoder_declared) == 151
    dtypes = [str(a.dtype) for a in m.decoder_arrays.values()]
    assert (dtypes.count("float32"), dtypes.count("int8"), dtypes.count("int32")) == (85, 27, 12)
    assert len(m.decoder_layers) == 29
    assert m.decoder_layers["dec_dense1"] == {
        "kind": "linear", "bias": "dec_dense1_bias", "subias": None, "weights": None,
        "float_weights": "dec_dense1_weights_float", "weights_idx": None, "diag": None, "scale": None,
        "nb_inputs": 26, "nb_outputs": 96}
    assert m.decoder_arrays["dec_glu1_weights_int8"].size == 64 * 64
    assert m.constants["DEC_DENSE1_OUT_SIZE"] == 96 and m.constants["DEC_CONV1_STATE_SIZE"] == 32
    assert [m.constants[k] for k in ("DRED_LATENT_DIM", "DRED_STATE_DIM", "DRED_NUM_FEATURES")] == [25, 50, 20]
    assert set(m.files) == {M.CONSTANTS_H, M.STATS_C, M.DEC_C, M.DEC_H} and all(m.verified.values())
    assert m.files[M.DEC_C] == hashlib.sha256((SHARED / M.DEC_C).read_bytes()).hexdigest()
    ids = f"{m.files[M.DEC_C]}  {M.DEC_C}\n{m.files[M.STATS_C]}  {M.STATS_C}\n"
    assert m.model_id == hashlib.sha256(ids.encode()).hexdigest()
    info = m.info()
    assert info["decoder"]["layers"]["dec_output"] == "576x80" and info["decoder"]["arrays"] == 124
    assert info["files"][M.STATS_C]["verified"] is True and info["stats"]["state_p0"] == "16x50"


@needs_shared
def test_stats_match_a_regex_reparse(shared_model):
    text = (SHARED / M.STATS_C).read_text()
    for attr, (cname, _) in M.STATS_ARRAYS.items():
        values = [int(v) for v in re.findall(r"-?\d+", array_body(text, cname).group(2))]
        table = getattr(shared_model.stats, attr)
        dim = table.shape[1]
        for level, i in ((0, 0), (1, 0), (7, dim // 2), (15, dim - 1)):
            assert table[level, i] == values[level * dim + i], (attr, level, i)
        assert table.ravel().tolist() == values
    assert shared_model.stats.latent_quant_scale[0, 0] == 255 and shared_model.stats.latent_quant_scale[1, 0] == 219


@needs_shared
def test_decoder_arrays_match_a_regex_reparse(shared_model):
    text = (SHARED / M.DEC_C).read_text()
    for name in ("dec_dense1_bias", "dec_output_scale", "dec_glu1_weights_int8", "dec_output_weights_idx"):
        a = shared_model.decoder_arrays[name]
        tokens = re.findall(r"[-+0-9.eE]+", array_body(text, name).group(2))
        expected = np.array([float(t) for t in tokens]).astype(a.dtype)
        assert np.array_equal(a, expected), name


@needs_shared
def test_parts_load_only_what_is_asked():
    s = M.load_model(SHARED, parts=("stats",))
    assert s.stats is not None and s.decoder_arrays == {} and s.decoder_layers == {}
    assert "DEC_DENSE1_OUT_SIZE" not in s.constants and M.DEC_H not in s.files
    d = M.load_model(SHARED, parts=("decoder",))
    assert d.stats is None and len(d.decoder_arrays) == 124
    assert s.model_id == d.model_id  # the id does not depend on parts
    with pytest.raises(ValueError):
        M.load_model(SHARED, parts=("encoder",))


@needs_shared
def test_load_times(benchmark):
    def timed(parts):
        t = time.perf_counter()
        M.load_model(SHARED, parts=parts)
        return time.perf_counter() - t
    assert min(timed(("stats",)) for _ in range(3)) < 0.5
    assert min(timed(("stats", "decoder")) for _ in range(3)) < 0.5
    benchmark(M.load_model, SHARED)


# ---------------------------------------------------------------- error paths

def test_missing_dir(tmp_path):
    expect_error("model-missing", str(tmp_path / "nope"), path=tmp_path / "nope")


@needs_shared
@pytest.mark.parametrize("name", [M.STATS_C, M.DEC_C, M.CONSTANTS_H, M.DEC_H])
def test_missing_file(copy, name):
    (copy / name).unlink()
    expect_error("model-file-missing", str(copy), name, path=copy)


@needs_shared
def test_hash_mismatch(copy):
    edit(copy, M.STATS_C, lambda t: t.replace("255, 219", "255, 218", 1), update_sums=False)
    e = expect_error("model-hash-mismatch", M.STATS_C, path=copy)
    assert hashlib.sha256((copy / M.STATS_C).read_bytes()).hexdigest() in str(e)
    assert hashlib.sha256((SHARED / M.STATS_C).read_bytes()).hexdigest() in str(e)


@needs_shared
def test_without_sums_loads_unverified(copy):
    (copy / M.SUMS_NAME).unlink()
    m = M.load_model(copy)
    assert not any(m.verified.values()) and m.model_id == M.load_model(SHARED, parts=()).model_id


@needs_shared
def test_malformed_sums(copy):
    (copy / M.SUMS_NAME).write_text("not a checksum line\n")
    expect_error("model-parse", M.SUMS_NAME, path=copy)


@needs_shared
def test_wrong_element_count(copy):
    def drop_one(text):
        m = array_body(text, "dec_glu1_bias")
        return rewrite_array(text, "dec_glu1_bias", int(m.group(1)), m.group(2).split(",")[:-1])
    edit(copy, M.DEC_C, drop_one)
    expect_error("model-parse", M.DEC_C, "dec_glu1_bias", "63 values, declared [64]", path=copy)


@needs_shared
def test_not_a_number(copy):
    edit(copy, M.DEC_C, lambda t: t.replace("-1.4186356565915048e-05", "-1.41863x6565915048e-05", 1))
    expect_error("model-parse", M.DEC_C, "dec_dense1_weights_float", path=copy)


@needs_shared
def test_int8_out_of_range(copy):
    def big(text):
        m = array_body(text, "dec_glu1_weights_int8")
        values = m.group(2).split(",")
        return rewrite_array(text, "dec_glu1_weights_int8", len(values), ["300"] + values[1:])
    edit(copy, M.DEC_C, big)
    expect_error("model-parse", M.DEC_C, "dec_glu1_weights_int8", "range", path=copy)


@needs_shared
def test_declared_type_mismatch(copy):
    edit(copy, M.DEC_C, lambda t: t.replace("dec_glu1_bias_TYPE WEIGHT_TYPE_float", "dec_glu1_bias_TYPE WEIGHT_TYPE_int8"))
    expect_error("model-parse", M.DEC_C, "dec_glu1_bias", path=copy)


@needs_shared
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.99, 0.9995])
def test_truncated_decoder(copy, fraction):
    edit(copy, M.DEC_C, lambda t: t[:int(len(t) * fraction)])
    expect_error("model-parse", M.DEC_C, path=copy)


@needs_shared
def test_truncated_stats(copy):
    edit(copy, M.STATS_C, lambda t: t[:len(t) // 2])
    expect_error("model-parse", M.STATS_C, path=copy)


@needs_shared
def test_stats_table_wrong_size(copy):
    def shorter(text):
        m = array_body(text, "dred_latent_r_q8")
        return rewrite_array(text, "dred_latent_r_q8", 399, m.group(2).split(",")[:-1])
    edit(copy, M.STATS_C, shorter)
    expect_error("model-shape", M.STATS_C, "dred_latent_r_q8", path=copy)


@needs_shared
def test_stats_table_missing(copy):
    edit(copy, M.STATS_C, lambda t: t.replace("dred_state_p0_q8[", "dred_state_p1_q8["))
    expect_error("model-shape", M.STATS_C, "dred_state_p0_q8", path=copy)


@needs_shared
def test_layer_with_wrong_size_array(copy):
    def shorter(text):  # a well-formed C array, one value short for its layer
        m = array_body(text, "dec_glu1_weights_int8")
        return rewrite_array(text, "dec_glu1_weights_int8", 4095, m.group(2).split(",")[:-1])
    edit(copy, M.DEC_C, shorter)
    expect_error("model-shape", M.DEC_C, "layer dec_glu1", "dec_glu1_weights_int8", "4095", path=copy)


@needs_shared
def test_layer_with_missing_array(copy):
    edit(copy, M.DEC_C, lambda t: t.replace("#define WEIGHTS_dec_output_scale_DEFINED\n", ""))
    expect_error("model-shape", M.DEC_C, "layer dec_output", "dec_output_scale", path=copy)


@needs_shared
def test_layer_with_bad_sparse_index(copy):
    def bad(text):
        m = array_body(text, "dec_output_weights_idx")
        values = m.group(2).split(",")
        return rewrite_array(text, "dec_output_weights_idx", len(values), [values[0], "2"] + values[2:])
    edit(copy, M.DEC_C, bad)  # an input position not a multiple of 4
    expect_error("model-shape", M.DEC_C, "layer dec_output", "weights_idx", path=copy)


@needs_shared
def test_wrong_dred_constant(copy):
    edit(copy, M.CONSTANTS_H, lambda t: t.replace("DRED_LATENT_DIM 25", "DRED_LATENT_DIM 24"))
    expect_error("model-shape", M.CONSTANTS_H, "DRED_LATENT_DIM", path=copy)


# ---------------------------------------------------------------- tarballs

@needs_shared
def test_tarball_loads_like_the_directory(tmp_path, shared_model):
    tb = make_tarball(tmp_path)
    m = M.load_model(tb)
    assert m.source == "tarball" and m.path == tb and all(m.verified.values())
    assert m.model_id == shared_model.model_id and m.files == shared_model.files
    assert m.decoder_arrays.keys() == shared_model.decoder_arrays.keys()
    assert all(np.array_equal(a, shared_model.decoder_arrays[k]) for k, a in m.decoder_arrays.items())
    assert np.array_equal(m.stats.state_r, shared_model.stats.state_r)
    other = tb.with_name("model.tar.gz")  # a name without a hash: loads, unverified
    shutil.copyfile(tb, other)
    assert not any(M.load_model(other).verified.values())


@needs_shared
def test_tarball_not_matching_its_name(tmp_path):
    tb = make_tarball(tmp_path)
    wrong = tmp_path / f"opus_data-{'0' * 64}.tar.gz"
    tb.rename(wrong)
    expect_error("model-hash-mismatch", str(wrong), "0" * 64, path=wrong)


@needs_shared
def test_tarball_missing_file(tmp_path):
    tb = make_tarball(tmp_path, names=[n for n in M.MODEL_FILES if n != M.DEC_C])
    expect_error("model-file-missing", str(tb), f"dnn/{M.DEC_C}", path=tb)


@needs_shared
def test_truncated_tarball(tmp_path):
    tb = make_tarball(tmp_path)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(tb.read_bytes()[: tb.stat().st_size // 2])
    expect_error("model-parse", str(cut), path=cut)


def test_not_a_tarball(tmp_path):
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(b"not gzip")
    expect_error("model-parse", str(bad), path=bad)


# ---------------------------------------------------------------- location rules

@needs_shared
def test_model_argument_beats_env(monkeypatch, tmp_path, copy):
    monkeypatch.setenv(M.ENV_VAR, str(SHARED))
    assert M.resolve_model_dir(str(copy)) == copy
    assert M.resolve_model_dir(None) == SHARED
    monkeypatch.setenv(M.ENV_VAR, str(tmp_path / "gone"))
    with pytest.raises(ModelError, match="DREDCONF_MODEL") as e:
        M.resolve_model_dir(None)
    assert e.value.rule == "model-missing"
    assert M.load_model(copy).path == copy  # the argument wins over a broken env var


def _checkout_beside_shared(monkeypatch, where: Path) -> Path:
    """A checkout at WHERE/repo with WHERE/shared beside it (the model a link to the real one), as the loader's
    ``__file__`` sees it: the location rules hold wherever this clone itself sits. Returns the shared model path."""
    (where / "repo" / "reference").mkdir(parents=True)
    (where / "repo" / "pyproject.toml").write_text("")
    (where / "shared" / "model").mkdir(parents=True)
    (where / "shared" / "model" / "opus-1.6.1").symlink_to(SHARED)
    monkeypatch.setattr(M, "__file__", str(where / "repo" / "reference" / "model.py"))
    return where / "shared" / "model" / "opus-1.6.1"


@needs_shared
def test_env_beats_cache_and_cache_beats_shared(monkeypatch, tmp_path, copy):
    beside = _checkout_beside_shared(monkeypatch, tmp_path / "work")
    monkeypatch.chdir(tmp_path)
    assert M.resolve_model_dir(None) == beside  # nothing else: the shared model beside the checkout
    cache = tmp_path / "xdg" / "dredconf" / "models" / "opus-1.6.1"
    cache.mkdir(parents=True)
    assert M.resolve_model_dir(None) != cache  # empty cache is skipped
    tb = make_tarball(cache)
    assert M.resolve_model_dir(None) == tb  # a cache holding only the tarball
    for name in M.MODEL_FILES:
        shutil.copyfile(SHARED / name, cache / name)
    assert M.resolve_model_dir(None) == cache  # extracted files preferred
    monkeypatch.setenv(M.ENV_VAR, str(copy))
    assert M.resolve_model_dir(None) == copy


@needs_shared
def test_shared_relative_to_cwd_then_checkout(monkeypatch, tmp_path):
    (tmp_path / "shared" / "model").mkdir(parents=True)
    (tmp_path / "shared" / "model" / "opus-1.6.1").symlink_to(SHARED)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    assert M.resolve_model_dir(None) == tmp_path / "shared" / "model" / "opus-1.6.1"
    beside = _checkout_beside_shared(monkeypatch, tmp_path / "work")
    monkeypatch.chdir(tmp_path)
    assert M.resolve_model_dir(None) == beside and beside.resolve() == SHARED  # from the repository checkout


def test_nothing_found(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(M, "__file__", str(tmp_path / "elsewhere" / "reference" / "model.py"))
    with pytest.raises(ModelError) as e:
        M.resolve_model_dir(None)
    assert e.value.rule == "model-missing" and str(tmp_path / "xdg") in str(e.value)


# ---------------------------------------------------------------- fetch

def _unsafe_members():
    evil = tarfile.TarInfo("../escape.c")
    evil.size = 3
    deep = tarfile.TarInfo(f"dnn/../../{M.CONSTANTS_H}")
    deep.size = 3
    link = tarfile.TarInfo(f"x/dnn/{M.STATS_H}")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return [(evil, b"bad"), (deep, b"bad"), (link, None)]


@needs_shared
def test_fetch_from_file_url(tmp_path):
    src = tmp_path / "server"
    src.mkdir()
    tb = make_tarball(src, extra=_unsafe_members())
    digest = tb.name[len("opus_data-"):-len(".tar.gz")]
    cache = tmp_path / "cache" / "opus-1.6.1"
    assert M.fetch_model(tb.as_uri(), cache, sha256=digest) == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted([*M.MODEL_FILES, M.SUMS_NAME, tb.name])
    assert not (tmp_path / "cache" / "escape.c").exists() and not (tmp_path / "escape.c").exists()
    assert (cache / M.STATS_H).read_bytes() == (SHARED / M.STATS_H).read_bytes()  # the symlink was skipped
    m = M.load_model(cache)
    assert all(m.verified.values()) and m.model_id == M.load_model(SHARED, parts=()).model_id
    # a second fetch reuses the verified tarball without downloading
    assert M.fetch_model("file:///nonexistent.tar.gz", cache, sha256=digest) == cache


@needs_shared
def test_fetch_into_default_cache_is_found(tmp_path):
    tb = make_tarball(tmp_path)
    digest = tb.name[len("opus_data-"):-len(".tar.gz")]
    cache = M.fetch_model(tb.as_uri(), sha256=digest)
    assert cache == tmp_path / "xdg" / "dredconf" / "models" / "opus-1.6.1"
    assert M.resolve_model_dir(None) == cache


@needs_shared
def test_fetch_wrong_hash_leaves_nothing(tmp_path):
    tb = make_tarball(tmp_path)
    cache = tmp_path / "cache" / "models" / "opus-1.6.1"
    with pytest.raises(ModelError) as e:
        M.fetch_model(tb.as_uri(), cache, sha256="1" * 64)
    assert e.value.rule == "model-hash-mismatch" and "1" * 64 in str(e.value)
    assert not (tmp_path / "cache").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(ModelError):
        M.fetch_model(tb.as_uri(), existing, sha256="1" * 64)
    assert list(existing.iterdir()) == []


def test_fetch_unreachable(tmp_path):
    with pytest.raises(ModelError) as e:
        M.fetch_model((tmp_path / "missing.tar.gz").as_uri(), tmp_path / "c", sha256="2" * 64)
    assert e.value.rule == "model-fetch" and not (tmp_path / "c").exists()


def test_default_url_is_libopus_pinned_model():
    assert M.MODEL_URL_TEMPLATE.format(sha256=M.MODEL_SHA256) == (
        "https://media.xiph.org/opus/models/opus_data-"
        "a5177ec6fb7d15058e99e57029746100121f68e4890b1467d4094aa336b6013e.tar.gz")


# ---------------------------------------------------------------- C helpers

def test_defines_and_int_expressions():
    text = ("#define A 32\n#define B (A * (1))\n#define C (B/3 - -1) /* c */\n"
            "#define GUARD_H\n#define F(x) x\n#define T WEIGHT_TYPE_float\n")
    assert parse_defines(text) == {"A": 32, "B": 32, "C": 11}
    assert eval_int("-7 / 2", {}) == -3 and eval_int("-7 % 2", {}) == -1 and eval_int("1u << 4", {}) == 16
    for bad in ("__import__('os')", "2 ** 8", "1 / 0", "x", "1.5", "1 << 999"):
        with pytest.raises(CParseError):
            eval_int(bad, {})
