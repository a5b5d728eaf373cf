"""The model's table for ``spec tables``: each file's SHA-256, the ids libopus pins, and a layer table of the
RDOVAE decoder (from the loader) and of FARGAN (``fargan_data.c`` read with the same C-array parsing)."""
from __future__ import annotations

import hashlib

import numpy as np

from dredconf.errors import ModelError
from dredconf.reference.carray import CParseError, parse_arrays, parse_defines, parse_init, parse_weight_table
from dredconf.reference.model import MODEL_FILES, MODEL_SHA256, SPARSE_BLOCK_SIZE, Model, _read_files

from .formats import Table

FARGAN_C, FARGAN_H = "fargan_data.c", "fargan_data.h"
LAYER_COLUMNS = ["layer", "kind", "inputs x outputs", "weights", "structure", "parameters", "bytes"]


def _files(model: Model) -> dict[str, bytes]:
    """Every model file the kit names, as bytes (a directory or a tarball alike); FARGAN's are optional."""
    _, blobs, _ = _read_files(model.path, list(MODEL_FILES) + [FARGAN_C, FARGAN_H])
    return blobs


def _layer_row(name: str, spec: dict, arrays: dict[str, np.ndarray]) -> list:
    """One layer: what it computes with (libopus's generic C: float weights when present, else int8 with a
    per-output scale), and every array it names as stored."""
    def size(key):
        a = arrays.get(spec.get(key)) if spec.get(key) else None
        return 0 if a is None else a.size

    stored = sum(arrays[spec[k]].nbytes for k in spec if isinstance(spec[k], str) and spec[k] in arrays)
    if spec["kind"] == "conv2d":
        shape = f"{spec['in_channels']} x {spec['out_channels']} (kernel {spec['ktime']} x {spec['kheight']})"
        return [name, "conv2d", shape, "float", "dense", size("float_weights") + size("bias"), stored]
    floats = size("float_weights") > 0
    weights = size("float_weights") if floats else size("weights") + size("scale")
    return [name, "linear", f"{spec['nb_inputs']} x {spec['nb_outputs']}", "float" if floats else "int8",
            f"block-sparse ({SPARSE_BLOCK_SIZE})" if spec.get("weights_idx") else "dense",
            weights + size("bias") + size("diag"), stored]


def layer_table(anchor: str, title: str, layers: dict[str, dict], arrays: dict[str, np.ndarray]) -> Table:
    rows = [_layer_row(n, s, arrays) for n, s in layers.items()]
    rows.append(["total", "", "", "", f"{len(rows)} layers", sum(r[5] for r in rows), sum(r[6] for r in rows)])
    return Table(anchor, title, LAYER_COLUMNS, rows, [
        "parameters: the weights a layer multiplies by (float where the file has them, else int8 plus one float "
        "scale per output; block-sparse: the stored blocks only), its bias and, for GRU recurrent layers, its diagonal; "
        "bytes: every array the layer names, as stored (int8 1 byte, float and index 4)."])


def fargan_layers(c_text: str, h_text: str) -> tuple[dict[str, dict], dict[str, np.ndarray]]:
    """FARGAN's layers and the arrays a default build defines, by the generic C-array parsing."""
    try:
        constants = parse_defines(h_text)
        _, declared, present = parse_weight_table(c_text)
        arrays = parse_arrays(c_text)
        _, layers = parse_init(c_text, constants)
    except CParseError as e:
        raise ModelError(f"{FARGAN_C}: {e}", rule="model-parse") from None
    return layers, {n: arrays[n] for n in present if n in arrays}


def model_tables(model: Model) -> list[Table]:
    blobs = _files(model)
    files = Table("model-files", "Model files (libopus 1.6.1 dnn/)", ["file", "bytes", "SHA-256"],
                  [[n, len(b), hashlib.sha256(b).hexdigest()] for n, b in sorted(blobs.items())],
                  [f"read from {model.path}"])
    ids = Table("model-ids", "Model identifiers", ["id", "value", "what"], [
        ["libopus model", MODEL_SHA256, "SHA-256 of the tarball libopus 1.6.1 pins (dnn/download_model.sh, "
                                        "opus_data-<sha256>.tar.gz)"],
        ["dredconf model_id", model.model_id, "SHA-256 of what sha256sum dred_rdovae_dec_data.c "
                                              "dred_rdovae_stats_data.c prints (the normative weights and tables)"]])
    tables = [files, ids, layer_table("model-rdovae-decoder", "RDOVAE decoder layers (dred_rdovae_dec_data.c)",
                                      model.decoder_layers, model.decoder_arrays)]
    if FARGAN_C in blobs and FARGAN_H in blobs:
        layers, arrays = fargan_layers(blobs[FARGAN_C].decode(), blobs[FARGAN_H].decode())
        tables.append(layer_table("model-fargan", "FARGAN vocoder layers (fargan_data.c)", layers, arrays))
    return tables
