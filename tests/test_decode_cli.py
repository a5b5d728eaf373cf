"""`dredconf decode` and `dredconf compare`: features on the command line, against libopus's own."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.conformance import feature_metric as metrics
from dredconf.reference.decoder import ReferenceDecoder

from tests.helpers.shared import STREAMS


def _features(records) -> np.ndarray:
    rows = [r["dred"]["features"] for r in records if r.get("dred") and r["dred"]["features"]]
    return np.asarray(np.concatenate(rows), dtype=np.float32) if rows else np.zeros((0, 20), np.float32)


def test_exact_features_equal_libopus_bit_for_bit(ground_truth, model_dir):
    """The default arithmetic reproduces libopus 1.6.1's generic-C float32 features on every packet."""
    decoder = ReferenceDecoder(model_dir, features=True)
    exact = total = 0
    for name in STREAMS:
        data, expected = ground_truth[name]
        for got, want in zip(decoder.decode_stream(data)["packets"], expected):
            if want["dred"] is None:
                continue
            total += 1
            g = np.asarray(got["dred"]["features"], np.float32).reshape(-1, 20)
            w = np.asarray(want["dred"]["features"], np.float32).reshape(-1, 20)
            exact += g.shape == w.shape and np.array_equal(g.view(np.uint32), w.view(np.uint32))
    assert (exact, total) == (1237, 1237)


def test_decode_json_and_f32_agree(vectors_dir, ground_truth, model_dir, tmp_path):
    out = tmp_path / "s3.f32"
    r = CliRunner().invoke(main, ["decode", "--json", "-o", str(out), "--model", str(model_dir), str(vectors_dir / "S3.bit")])
    assert r.exit_code == 0, r.output
    records = json.loads(r.stdout)["packets"]
    assert len(records) == 73
    rows = metrics.read_f32_features(out)
    assert np.array_equal(rows, _features(records))
    assert np.array_equal(rows, _features(ground_truth["S3"][1]))


def test_decode_one_packet_softfloat_arith_is_libopus(vectors_dir, ground_truth, model_dir):
    r = CliRunner().invoke(main, ["decode", "--json", "--packet", "5", "--arith", "softfloat", "--model", str(model_dir),
                                  str(vectors_dir / "S2.bit")])
    assert r.exit_code == 0, r.output
    (rec,) = json.loads(r.stdout)["packets"]
    want = ground_truth["S2"][1][5]
    assert rec["index"] == 5 and rec["dred"]["latents"] == want["dred"]["latents"]
    assert np.array_equal(np.asarray(rec["dred"]["features"], np.float32), np.asarray(want["dred"]["features"], np.float32))


@pytest.mark.parametrize("scale, verdict", [(1.0, 0), (1.5, 1)])
def test_compare_features(tmp_path, ground_truth, scale, verdict):
    ref = _features(ground_truth["S3"][1])
    (tmp_path / "a.f32").write_bytes(ref.astype("<f4").tobytes())
    (tmp_path / "b.f32").write_bytes((ref * scale).astype("<f4").tobytes())
    r = CliRunner().invoke(main, ["compare", "--features", str(tmp_path / "a.f32"), str(tmp_path / "b.f32")])
    assert r.exit_code == verdict, r.output
    assert ("PASS" if verdict == 0 else "FAIL") in r.stdout


def test_compare_rejects_different_lengths(tmp_path):
    (tmp_path / "a.f32").write_bytes(np.zeros((4, 20), "<f4").tobytes())
    (tmp_path / "b.f32").write_bytes(np.zeros((8, 20), "<f4").tobytes())
    r = CliRunner().invoke(main, ["compare", "--features", str(tmp_path / "a.f32"), str(tmp_path / "b.f32")])
    assert r.exit_code == 2 and "8 rows, expected 4" in r.output
