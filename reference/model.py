"""The DRED model (libopus 1.6.1): where it is, whether it is intact, and its tables and weights as numpy arrays.

Location (:func:`resolve_model_dir`), first match wins:
  1. ``--model PATH`` (the argument), 2. ``$DREDCONF_MODEL``,
  3. the user cache ``$XDG_CACHE_HOME/dredconf/models/opus-1.6.1`` (default
     ``~/.cache/...``) if it holds the extracted files or a model tarball
     (``dredconf model fetch`` puts them there),
  4. ``../shared/model/opus-1.6.1`` from the current directory, then from the
     repository checkout.
PATH is a directory of libopus's ``dnn/`` model files, or a ``.tar.gz``
(libopus's ``opus_data-<sha256>.tar.gz`` or a release tarball) read in memory.

Integrity: every file read is hashed (``Model.files``). A ``SHA256SUMS`` file
next to them (sha256sum format) is checked for each file it lists; a tarball
named ``opus_data-<sha256>.tar.gz`` is checked against its name.

``model_id`` is the SHA-256 of the text that
``sha256sum dred_rdovae_dec_data.c dred_rdovae_stats_data.c`` prints, i.e.
``sha256sum dred_rdovae_dec_data.c dred_rdovae_stats_data.c | sha256sum``:
those two files are the normative decoder weights and entropy tables. Both
are always read and hashed (cheap) so the id does not depend on ``parts``.

Parts (``load_model(parts=...)``): ``stats`` (the entropy tables), ``decoder`` (the RDOVAE decoder's
weights; with stats the default), ``fargan`` (the FARGAN vocoder's weights, ``fargan_data.c``, read only
when asked for).

Error rules (``ModelError.rule``): model-missing (no model found / path does
not exist), model-file-missing, model-hash-mismatch, model-parse (the text is
not what libopus's exporter writes: syntax, truncation, element count not the
declared [N], value out of type range), model-shape (well-formed arrays that
do not fit the model: stats table sizes, layer sizes, DRED constants),
model-fetch (download failed).
"""
from __future__ import annotations

import hashlib
import os
import re
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

import numpy as np

from dredconf.errors import ModelError
from dredconf.sums import SUMS_NAME, SumsError, format_sums, parse_sums, sha256_file
from dredconf.reference._core import ffi, lib

from .carray import CParseError, parse_arrays, parse_defines, parse_init, parse_weight_table

MODEL_VERSION = "opus-1.6.1"
MODEL_SHA256 = "a5177ec6fb7d15058e99e57029746100121f68e4890b1467d4094aa336b6013e"
MODEL_URL_TEMPLATE = "https://media.xiph.org/opus/models/opus_data-{sha256}.tar.gz"  # as dnn/download_model.sh
ENV_VAR = "DREDCONF_MODEL"

CONSTANTS_H = "dred_rdovae_constants.h"
STATS_C = "dred_rdovae_stats_data.c"
STATS_H = "dred_rdovae_stats_data.h"
DEC_C = "dred_rdovae_dec_data.c"
DEC_H = "dred_rdovae_dec_data.h"
FARGAN_C = "fargan_data.c"
MODEL_FILES = (CONSTANTS_H, STATS_C, STATS_H, DEC_C, DEC_H, FARGAN_C)  # what fetch_model extracts
PARTS = ("stats", "decoder", "fargan")
DEFAULT_PARTS = ("stats", "decoder")  # the vocoder's weights (3 MB of text) only when asked for
# The sizes DRED version 12 fixes (SPEC-NOTES §3, §4); a model with others is not this codec's.
EXPECTED_CONSTANTS = {"DRED_NUM_FEATURES": 20, "DRED_LATENT_DIM": 25, "DRED_STATE_DIM": 50,
                      "DRED_NUM_QUANTIZATION_LEVELS": 16}
# Stats attribute -> (C array in dred_rdovae_stats_data.c, constant giving its row length).
STATS_ARRAYS = {
    "latent_quant_scale": ("dred_latent_quant_scales_q8", "DRED_LATENT_DIM"),
    "latent_dead_zone": ("dred_latent_dead_zone_q8", "DRED_LATENT_DIM"),
    "latent_r": ("dred_latent_r_q8", "DRED_LATENT_DIM"),
    "latent_p0": ("dred_latent_p0_q8", "DRED_LATENT_DIM"),
    "state_quant_scale": ("dred_state_quant_scales_q8", "DRED_STATE_DIM"),
    "state_dead_zone": ("dred_state_dead_zone_q8", "DRED_STATE_DIM"),
    "state_r": ("dred_state_r_q8", "DRED_STATE_DIM"),
    "state_p0": ("dred_state_p0_q8", "DRED_STATE_DIM"),
}
SPARSE_BLOCK_SIZE = 32  # int8 weights per block of a sparse layer (dnn/parse_lpcnet_weights.c)
_MAX_MEMBER = 64 << 20  # refuse absurd tarball members instead of reading them into memory
_TARBALL_NAME = re.compile(r"opus_data-([0-9a-f]{64})\.tar\.gz")


@dataclass(frozen=True)
class Stats:
    """Per-level quantizer tables, rows = 16 levels, uint8 (Q8): dequantisation scale, dead zone, Laplace r and p0."""
    latent_quant_scale: np.ndarray
    latent_dead_zone: np.ndarray
    latent_r: np.ndarray
    latent_p0: np.ndarray
    state_quant_scale: np.ndarray
    state_dead_zone: np.ndarray
    state_r: np.ndarray
    state_p0: np.ndarray


@dataclass
class Model:
    """A loaded model; ``path`` is the directory or tarball, ``source`` says which ("dir" or "tarball")."""
    path: Path
    source: str
    files: dict[str, str]  # file name -> SHA-256 of every file read
    verified: dict[str, bool]  # file name -> checked against SHA256SUMS or the tarball's name
    model_id: str
    constants: dict[str, int]
    stats: Stats | None = None
    decoder_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    decoder_layers: dict[str, dict] = field(default_factory=dict)
    decoder_declared: tuple[str, ...] = ()  # every entry of rdovaedec_arrays, defined or not
    fargan_arrays: dict[str, np.ndarray] = field(default_factory=dict)  # the FARGAN vocoder (part "fargan")
    fargan_layers: dict[str, dict] = field(default_factory=dict)

    def info(self) -> dict:
        """A JSON-ready summary for ``dredconf model info``."""
        layers = {}
        for name, spec in self.decoder_layers.items():
            if spec["kind"] == "linear":
                layers[name] = f"{spec['nb_inputs']}x{spec['nb_outputs']}"
            else:
                kernel = f"{spec['ktime']}x{spec['kheight']}"
                layers[name] = f"{spec['in_channels']}x{spec['out_channels']} (kernel {kernel})"
        return {
            "path": str(self.path),
            "source": self.source,
            "model_id": self.model_id,
            "files": {n: {"sha256": h, "verified": self.verified[n]} for n, h in self.files.items()},
            "stats": None if self.stats is None else {
                a: "x".join(map(str, getattr(self.stats, a).shape)) for a in STATS_ARRAYS},
            "decoder": None if not self.decoder_layers else {
                "arrays": len(self.decoder_arrays), "declared": len(self.decoder_declared), "layers": layers},
            "fargan": None if not self.fargan_layers else {
                "arrays": len(self.fargan_arrays),
                "layers": {n: f"{s['nb_inputs']}x{s['nb_outputs']}" for n, s in self.fargan_layers.items()}},
            "constants": dict(self.constants),
        }


# ---------------------------------------------------------------- location

def user_cache_dir() -> Path:
    """Where ``fetch_model`` puts the model by default."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dredconf" / "models" / MODEL_VERSION


def _model_in(directory: Path) -> Path | None:
    """The directory if it holds extracted files, else a model tarball in it (pinned one first), else None."""
    if (directory / CONSTANTS_H).is_file():
        return directory
    pinned = f"opus_data-{MODEL_SHA256}.tar.gz"
    tars = sorted(directory.glob("opus_data-*.tar.gz"), key=lambda p: (p.name != pinned, p.name))
    return tars[0] if tars else None


def resolve_model_dir(cli_value: str | None) -> Path:
    """The model directory or tarball, by the rules in the module docstring; ModelError if none."""
    for value, origin in ((cli_value, "--model"), (os.environ.get(ENV_VAR) or None, f"${ENV_VAR}")):
        if value is not None:
            p = Path(value).expanduser()
            if not p.exists():
                raise ModelError(f"model {p} (from {origin}): no such file or directory", rule="model-missing")
            return (_model_in(p) or p) if p.is_dir() else p
    tried = [user_cache_dir()]
    found = _model_in(tried[0]) if tried[0].is_dir() else None
    if found is not None:
        return found
    repo = Path(__file__).resolve().parents[1]
    shared = [Path.cwd() / ".." / "shared" / "model" / MODEL_VERSION]
    if (repo / "pyproject.toml").is_file():  # a checkout, not an installed copy
        shared.append(repo / ".." / "shared" / "model" / MODEL_VERSION)
    for p in shared:
        p = Path(os.path.normpath(p.absolute()))
        tried.append(p)
        if p.is_dir():
            return p
    raise ModelError(f"no model found: no --model, no ${ENV_VAR}, nothing at {', '.join(map(str, tried))}; "
                     "run 'dredconf model fetch' or pass --model DIR", rule="model-missing")


# ---------------------------------------------------------------- reading

def _tar_members(tarball: Path, wanted: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(NAME, bytes) of regular files ``dnn/NAME`` or ``TOP/dnn/NAME`` with NAME in wanted; nothing else is read."""
    wanted = set(wanted)
    try:
        with tarfile.open(tarball, "r|gz") as tf:  # streaming: one pass, no seeking
            for member in tf:
                parts = PurePosixPath(member.name.removeprefix("./")).parts
                if (member.isreg() and 2 <= len(parts) <= 3 and parts[-2] == "dnn" and parts[-1] in wanted
                        and ".." not in parts and member.size <= _MAX_MEMBER):
                    wanted.discard(parts[-1])
                    yield parts[-1], tf.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ModelError(f"{tarball}: not a readable .tar.gz ({e})", rule="model-parse") from None


def _read_files(where: Path, names: list[str]) -> tuple[str, dict[str, bytes], bool]:
    """(source kind, name -> bytes of the names found, whether the tarball matched the hash in its name)."""
    if where.is_dir():
        return "dir", {n: (where / n).read_bytes() for n in names if (where / n).is_file()}, False
    if not where.name.endswith((".tar.gz", ".tgz")):
        raise ModelError(f"model {where}: neither a directory nor a .tar.gz", rule="model-missing")
    named = _TARBALL_NAME.fullmatch(where.name)
    if named:
        actual = sha256_file(where)
        if actual != named.group(1):
            raise ModelError(f"{where}: SHA-256 is {actual}, its name says {named.group(1)}",
                             rule="model-hash-mismatch")
    blobs = dict(_tar_members(where, names))
    return "tarball", blobs, bool(named)


def _parse_sums(where: Path, data: bytes | None) -> dict[str, str]:
    """A model's ``SHA256SUMS`` (the one reader, ``dredconf.sums``), by file name; its errors as ``model-parse``."""
    try:
        sums = parse_sums((data or b"").decode("utf-8", "replace"), f"{where}: {SUMS_NAME}")
    except SumsError as e:
        raise ModelError(str(e), rule="model-parse") from None
    return {PurePosixPath(name).name: h for name, h in sums.items()}


def _text(where: Path, name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelError(f"{where}: {name}: not UTF-8 text ({e})", rule="model-parse") from None


def _parsed(where: Path, name: str, fn, *args):
    """fn(*args), with a CParseError turned into a ModelError naming the file."""
    try:
        return fn(*args)
    except CParseError as e:
        raise ModelError(f"{where}: {name}: {e}", rule="model-parse") from None


# ---------------------------------------------------------------- loading

def load_model(path: str | Path | None = None, *, parts: Iterable[str] = DEFAULT_PARTS) -> Model:
    """Load the model's constants plus the asked parts ("stats": entropy tables, "decoder": RDOVAE weights,
    "fargan": the FARGAN vocoder's weights)."""
    parts = tuple(parts)
    if not set(parts) <= set(PARTS):
        raise ValueError(f"parts must be among {PARTS}, got {parts}")
    where = resolve_model_dir(None if path is None else str(path))
    names = [CONSTANTS_H, STATS_C, DEC_C] + ([DEC_H] if "decoder" in parts else []) + (
        [FARGAN_C] if "fargan" in parts else [])
    kind, blobs, tarball_ok = _read_files(where, names + [SUMS_NAME])
    sums = _parse_sums(where, blobs.pop(SUMS_NAME, None))
    files: dict[str, str] = {}
    verified: dict[str, bool] = {}
    for name in names:
        if name not in blobs:
            inside = f"dnn/{name}" if kind == "tarball" else name
            raise ModelError(f"{where}: {inside}: file missing", rule="model-file-missing")
        files[name] = hashlib.sha256(blobs[name]).hexdigest()
        if name in sums and sums[name] != files[name]:
            raise ModelError(f"{where}: {name}: SHA-256 is {files[name]}, {SUMS_NAME} says {sums[name]}",
                             rule="model-hash-mismatch")
        verified[name] = tarball_ok or name in sums
    model_id = hashlib.sha256(f"{files[DEC_C]}  {DEC_C}\n{files[STATS_C]}  {STATS_C}\n".encode()).hexdigest()

    constants = _parsed(where, CONSTANTS_H, parse_defines, _text(where, CONSTANTS_H, blobs.pop(CONSTANTS_H)))
    for key, value in EXPECTED_CONSTANTS.items():
        if constants.get(key) != value:
            raise ModelError(f"{where}: {CONSTANTS_H}: {key} is {constants.get(key)}, DRED needs {value}",
                             rule="model-shape")
    model = Model(where, kind, files, verified, model_id, constants)
    if "stats" in parts:
        model.stats = _load_stats(where, _text(where, STATS_C, blobs.pop(STATS_C)), constants)
    if "decoder" in parts:
        constants.update(_parsed(where, DEC_H, parse_defines, _text(where, DEC_H, blobs.pop(DEC_H)), constants))
        model.decoder_arrays, model.decoder_declared, model.decoder_layers = _load_layers(
            where, DEC_C, _text(where, DEC_C, blobs.pop(DEC_C)), model.constants)
    if "fargan" in parts:
        model.fargan_arrays, _, model.fargan_layers = _load_layers(
            where, FARGAN_C, _text(where, FARGAN_C, blobs.pop(FARGAN_C)), model.constants)
    return model


def _load_stats(where: Path, text: str, constants: dict[str, int]) -> Stats:
    arrays = _parsed(where, STATS_C, parse_arrays, text)
    levels = constants["DRED_NUM_QUANTIZATION_LEVELS"]
    tables = {}
    for attr, (cname, dim_name) in STATS_ARRAYS.items():
        a = arrays.get(cname)
        dim = constants[dim_name]
        if a is None or a.dtype != np.uint8 or a.size != levels * dim:
            got = "missing" if a is None else f"{a.size} {a.dtype} values"
            raise ModelError(f"{where}: {STATS_C}: table {cname} is {got}, needs {levels}x{dim} uint8",
                             rule="model-shape")
        tables[attr] = _frozen(a.reshape(levels, dim))
    return Stats(**tables)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # shared by every decoder using the model
    return a


def _load_layers(where: Path, fname: str, text: str,
                 constants: dict[str, int]) -> tuple[dict[str, np.ndarray], tuple[str, ...], dict[str, dict]]:
    """A network's weights file: (its defined arrays, every entry of its table, its layers), each layer's arrays
    checked against its shape."""
    arrays = _parsed(where, fname, parse_arrays, text)
    _, declared, present = _parsed(where, fname, parse_weight_table, text)
    for name in present:
        if name not in arrays:
            raise ModelError(f"{where}: {fname}: WEIGHTS_{name}_DEFINED but no array {name}", rule="model-parse")
    _, layers = _parsed(where, fname, parse_init, text, constants)
    if not layers:
        raise ModelError(f"{where}: {fname}: init function declares no layers", rule="model-parse")
    defined = {name: _frozen(arrays[name]) for name in present}
    for layer, spec in layers.items():
        _check_layer(where, fname, layer, spec, defined)
    return defined, tuple(declared), layers


# ---------------------------------------------------------------- validation (what dnn/nnet.c linear_init checks)

def _check_layer(where: Path, fname: str, layer: str, spec: dict, arrays: dict[str, np.ndarray]) -> None:
    """ModelError (model-shape) unless every array the layer names exists with the size its shape implies."""
    def fail(msg: str):
        raise ModelError(f"{where}: {fname}: layer {layer}: {msg}", rule="model-shape")

    def need(key: str, size: int, dtype, optional: bool = False) -> np.ndarray | None:
        name = spec[key]
        if name is None:
            return None
        a = arrays.get(name)
        if a is None:
            if optional:  # libopus: float weights may be absent when int8 ones exist
                return None
            fail(f"{key} array {name} missing")
        if a.dtype != dtype or a.size != size:
            fail(f"{key} array {name} has {a.size} {a.dtype} values, expected {size} {np.dtype(dtype).name}")
        return a

    if spec["kind"] == "conv2d":
        need("bias", spec["out_channels"], np.float32)
        size = spec["in_channels"] * spec["out_channels"] * spec["ktime"] * spec["kheight"]
        if need("float_weights", size, np.float32, optional=True) is None:
            fail(f"float_weights array {spec['float_weights']} missing")
        return
    nin, nout = spec["nb_inputs"], spec["nb_outputs"]
    need("bias", nout, np.float32)
    need("subias", nout, np.float32)
    nweights = nin * nout
    if spec["weights_idx"] is not None:
        idx = arrays.get(spec["weights_idx"])
        if idx is None or idx.dtype != np.int32:
            fail(f"weights_idx array {spec['weights_idx']} missing or not int")
        blocks = _sparse_blocks(idx, nin, nout)
        if blocks < 0:
            fail(f"weights_idx array {spec['weights_idx']}: not, per 8 outputs, a block count followed by that many "
                 f"input positions (each a multiple of 4 below {nin - 3}), covering the {nout} outputs")
        nweights = SPARSE_BLOCK_SIZE * blocks
    weights = need("weights", nweights, np.int8)
    float_weights = need("float_weights", nweights, np.float32, optional=True)
    need("diag", nout, np.float32)
    if spec["weights"] is not None:
        if spec["scale"] is None:
            fail("int8 weights without a scale array")
        need("scale", nout, np.float32)
    if weights is None and float_weights is None:
        fail("no weights at all")  # libopus would compute bias only; a normative layer never does


def _sparse_blocks(idx: np.ndarray, nin: int, nout: int) -> int:
    """Blocks of a sparse index (libopus find_idx_check), or -1: the C core's walk, the one the decoder's check uses."""
    a = np.ascontiguousarray(idx.reshape(-1), dtype=np.int32)
    bad = ffi.new("int32_t *")
    return lib.dc_sparse_blocks(ffi.from_buffer("int32_t[]", a), a.size, nin, nout, bad)


# ---------------------------------------------------------------- fetching

def fetch_model(url: str | None = None, cache_dir: Path | None = None, *, sha256: str = MODEL_SHA256) -> Path:
    """Download libopus's model tarball (checked against ``sha256`` before it enters the cache); extract the DRED files.

    Returns the cache directory, which then holds the tarball, the files and a SHA256SUMS of them.
    """
    cache = Path(cache_dir) if cache_dir is not None else user_cache_dir()
    url = url or MODEL_URL_TEMPLATE.format(sha256=sha256)
    tarball = cache / f"opus_data-{sha256}.tar.gz"
    created = [p for p in (cache, *cache.parents) if not p.exists()]
    cache.mkdir(parents=True, exist_ok=True)
    try:
        if not (tarball.is_file() and sha256_file(tarball) == sha256):
            _download(url, tarball, sha256)
        _extract(tarball, cache)
    except BaseException:
        for p in created:  # leave no trace of a failed fetch: remove the directories made for it
            try:
                p.rmdir()
            except OSError:
                break
        raise
    return cache


def _download(url: str, dest: Path, sha256: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".download-", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    for chunk in iter(lambda: response.read(1 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
            except (OSError, ValueError) as e:  # URLError is an OSError; a malformed URL a ValueError
                raise ModelError(f"cannot download {url}: {e}", rule="model-fetch") from None
        if h.hexdigest() != sha256:
            raise ModelError(f"{url}: SHA-256 is {h.hexdigest()}, expected {sha256}", rule="model-hash-mismatch")
        os.replace(tmp, dest)  # atomic: the cache only ever holds a verified tarball
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _extract(tarball: Path, cache: Path) -> None:
    """Write the DRED files of the tarball into the cache (atomically each) plus a SHA256SUMS for later loads."""
    sums = {}
    for name, data in _tar_members(tarball, MODEL_FILES):
        _write_atomic(cache / name, data)
        sums[name] = hashlib.sha256(data).hexdigest()
    missing = [n for n in MODEL_FILES if n not in sums]
    if missing:
        raise ModelError(f"{tarball}: dnn/{missing[0]}: file missing", rule="model-file-missing")
    _write_atomic(cache / SUMS_NAME, format_sums({n: sums[n] for n in MODEL_FILES}).encode())


def _write_atomic(dest: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
