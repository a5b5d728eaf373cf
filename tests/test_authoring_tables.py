"""``dredconf spec tables``: every number, read back from the Markdown, CSV and RFC XML output, is the loader's and
the C core's (levels from dc_dred_level, stats as the C core holds them, r/p0 also as an independent regex reads
the C file); the RFC XML is well-formed."""
from __future__ import annotations

import csv
import hashlib
import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.reference._core import ffi, lib
from dredconf.reference.model import MODEL_SHA256
from dredconf.reference.payload import STATS_TABLES, _c_stats
from dredconf.spec.dred import DRED_HEADER, MAX_LEVEL
from dredconf.spec.record import LATENT_DIM, LEVELS, MAX_LATENTS, STATE_DIM
from tests.helpers.dred_oracle import load_tables

FORMATS = ("markdown", "csv", "rfcxml")


def _run(fmt: str, model_dir) -> str:
    r = CliRunner().invoke(main, ["spec", "tables", "--format", fmt, "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    return r.output


def read_markdown(text: str) -> dict[str, list[list[str]]]:
    """title -> rows (header first) of every table."""
    out, title = {}, None
    for line in text.splitlines():
        if line.startswith("### "):
            title = line[4:]
            out[title] = []
        elif line.startswith("| ") and title is not None:
            out[title].append([c.strip() for c in line.strip()[2:-2].split(" | ")])
    return out


def read_csv(text: str) -> dict[str, list[list[str]]]:
    out, title = {}, None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            title = None
        elif row[0] == "table" and title is None:
            title = row[2]
            out[title] = []
        elif row[0] != "note":
            out[title].append(row)
    return out


def read_rfcxml(text: str) -> dict[str, list[list[str]]]:
    root = ET.fromstring(text)
    return {t.find("name").text: [[c.text or "" for c in tr] for tr in t.iter("tr")] for t in root.iter("table")}


@pytest.fixture(scope="module")
def outputs(model_dir):
    """Each format's tables, read back by a reader of its own."""
    readers = {"markdown": read_markdown, "csv": read_csv, "rfcxml": read_rfcxml}
    return {fmt: readers[fmt](_run(fmt, model_dir)) for fmt in FORMATS}


def _table(tables: dict, start: str) -> list[list[str]]:
    (rows,) = [v for k, v in tables.items() if k.startswith(start)]
    return rows


def test_formats_agree_and_rfcxml_is_well_formed(outputs, model_dir):
    ET.fromstring(_run("rfcxml", model_dir))  # well-formed: parsed as a whole
    assert outputs["markdown"] == outputs["csv"] == outputs["rfcxml"]
    assert len(outputs["markdown"]) == 2 + 6 + 4  # header, schedule, 6 stats, files, ids, two layer tables


@pytest.mark.parametrize("fmt", FORMATS)
def test_schedule_levels_are_the_c_cores(outputs, fmt):
    rows = _table(outputs[fmt], "Quantizer level")
    head, body = rows[0], rows[1:]
    assert head[:4] == ["q0", "dQ", "dQ_table[dQ]", "qmax"] and head[4:] == [f"k={k}" for k in range(MAX_LATENTS)]
    assert [(int(r[0]), int(r[1])) for r in body] == [(q0, dQ) for q0 in range(LEVELS) for dQ in range(8)]
    checked = 0
    for r in body:
        q0, dQ = int(r[0]), int(r[1])
        coded = q0 < 14 and dQ > 0  # SPEC-NOTES §3 step 5, read here as the C core's decoder does
        assert r[3] == (f"{q0 + 1}..{MAX_LEVEL}" if coded else f"no ({MAX_LEVEL})")
        for k, cell in enumerate(r[4:]):
            level = int(cell)
            assert level == lib.dc_dred_level(q0, dQ, MAX_LEVEL, k)
            for qmax in range(LEVELS):  # a coded qmax caps the printed level
                assert min(qmax, level) == lib.dc_dred_level(q0, dQ, qmax, k)
            checked += 1
    assert checked == LEVELS * 8 * MAX_LATENTS == 3328


def _c_core_stats(stats) -> dict[str, np.ndarray]:
    """The stats tables as the C core holds them (the struct its decoder reads)."""
    c = _c_stats(stats)
    return {name: np.frombuffer(ffi.buffer(getattr(c, name)), np.uint8).reshape(shape).copy()  # before c is freed
            for name, shape in STATS_TABLES.items()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_stats_entries_are_the_loaders_and_the_c_cores(outputs, fmt, stats, model_dir):
    core, oracle = _c_core_stats(stats), load_tables(model_dir)
    checked = 0
    for kind, dim in (("latent", LATENT_DIM), ("state", STATE_DIM)):
        for param in ("quant_scale", "r", "p0"):
            rows = _table(outputs[fmt], f"{kind.capitalize()} {param} by dimension")
            assert rows[0] == ["dim"] + [f"q={q}" for q in range(LEVELS)] and len(rows) == dim + 1
            printed = np.array([[int(v) for v in r[1:]] for r in rows[1:]]).T  # back to [level][dim]
            name = f"{kind}_{param}"
            assert np.array_equal(printed, getattr(stats, name))
            assert np.array_equal(printed, core[name])
            if param != "quant_scale":
                assert printed.tolist() == oracle[name]
            checked += printed.size
    assert checked == 3 * LEVELS * (LATENT_DIM + STATE_DIM) == 3600


def test_header_table_is_the_spec_schema(outputs):
    rows = _table(outputs["markdown"], "The DRED payload")
    fields = rows[1:1 + len(DRED_HEADER)]
    assert [r[1] for r in fields] == [f.name for f in DRED_HEADER] == ["q0", "dQ", "extra_flag", "extra_offset",
                                                                      "offset", "qmax"]
    for r, f in zip(fields, DRED_HEADER):
        if f.ft is not None:
            assert r[2] == f"ec_dec_uint({f.ft})" and r[3] == f"0..{f.ft - 1}"
    assert fields[3][4] == "extra_flag = 1" and fields[5][4] == "(q0 < 14) and (dQ > 0)"
    assert [r[1] for r in rows[-3:]] == ["dred_offset", "state", "latent k"]


def test_model_tables_are_the_files_and_the_loader(outputs, model_dir, model):
    files = {r[0]: r for r in _table(outputs["csv"], "Model files")[1:]}
    sums = dict(reversed(line.split()) for line in (model_dir / "SHA256SUMS").read_text().splitlines())
    assert {"dred_rdovae_dec_data.c", "dred_rdovae_stats_data.c", "fargan_data.c"} <= set(files)
    for name, (_, size, sha) in files.items():
        data = (model_dir / name).read_bytes()
        assert int(size) == len(data) and sha == hashlib.sha256(data).hexdigest() == sums[name]
    ids = {r[0]: r[1] for r in _table(outputs["csv"], "Model identifiers")[1:]}
    assert ids["libopus model"] == MODEL_SHA256 and ids["libopus model"].startswith("a5177ec6")
    assert ids["dredconf model_id"] == model.model_id
    rdovae = _table(outputs["csv"], "RDOVAE decoder layers")[1:]
    assert [r[0] for r in rdovae[:-1]] == list(model.decoder_layers)
    for r in rdovae[:-1]:
        spec = model.decoder_layers[r[0]]
        assert r[2] == f"{spec['nb_inputs']} x {spec['nb_outputs']}"
        assert r[3] == ("int8" if spec["weights"] in model.decoder_arrays else "float")
        assert r[4].startswith("block-sparse") == (spec["weights_idx"] is not None)
    # every array of the decoder belongs to exactly one layer: the bytes add up to the file's arrays
    total = rdovae[-1]
    assert int(total[6]) == sum(a.nbytes for a in model.decoder_arrays.values())
    assert int(total[5]) == sum(int(r[5]) for r in rdovae[:-1]) and total[4] == f"{len(model.decoder_layers)} layers"
    fargan = _table(outputs["csv"], "FARGAN vocoder layers")[1:]
    assert len(fargan) - 1 == 20 and fargan[-1][4] == "20 layers"
    assert {r[0]: r[2] for r in fargan}["sig_net_skip_dense"] == "688 x 128"
