"""libopus standalone feature-decoder records: the shared file, round trips, export from the corpus."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.errors import StreamError
from dredconf.reference.model import load_model
from dredconf.spec.standalone import StandaloneRecord, check_record, read_standalone, write_standalone
from dredconf.vectors.standalone import decode_record, encode_record, export_standalone
from tests.helpers.corpus import stats_model


@pytest.fixture(scope="session")
def shared_standalone(standalone_dir):
    return standalone_dir / "vector_dred.bit"


def test_shared_file_parses(shared_standalone, model_dir):
    data = shared_standalone.read_bytes()
    recs = read_standalone(data)
    assert len(recs) == 174
    assert write_standalone(recs) == data
    stats = stats_model(model_dir).stats
    for r in recs:
        assert not check_record(r)
        p = decode_record(r, stats)
        assert p.q0 == r.q0 and p.latent_count == r.nb_chunks // 2
        assert p.bits_total <= 8 * len(r.data)
        # our encoder writes libopus's bytes back for these integers
        assert encode_record(r.q0, p.state, p.latents, stats) == r


def test_round_trip_and_framing_errors(model_dir):
    stats = stats_model(model_dir).stats
    rng = np.random.default_rng(3)
    recs = []
    for q0 in (0, 7, 15):
        state = [0] * 50
        lat = [[0] * 25 for _ in range(3)]
        for i in range(50):
            if stats.state_r[q0][i] and stats.state_p0[q0][i] != 255:
                state[i] = int(rng.integers(-3, 4))
        recs.append(encode_record(q0, state, lat, stats))
        back = decode_record(recs[-1], stats)
        assert back.state == state and back.latents == lat
    data = write_standalone(recs)
    assert read_standalone(data) == recs
    with pytest.raises(StreamError) as e:
        read_standalone(data[:-1])
    assert e.value.rule == "standalone-length-past-end"
    with pytest.raises(StreamError) as e:
        read_standalone(data[:5])
    assert e.value.rule == "standalone-header-truncated"
    with pytest.raises(StreamError) as e:
        read_standalone(StandaloneRecord(16, 2, b"").to_bytes())
    assert e.value.rule == "standalone-q0"
    with pytest.raises(StreamError) as e:
        read_standalone(StandaloneRecord(1, 3, b"").to_bytes())
    assert e.value.rule == "standalone-chunks"
    assert check_record(StandaloneRecord(1, 52, b""))  # libopus's tool holds 50 chunks


def test_export_from_corpus(corpus, model_dir, tmp_path):
    out = tmp_path / "vector_dred.bit"
    r = CliRunner().invoke(main, ["vectors", "export-standalone", str(corpus), str(out), "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    recs = read_standalone(out.read_bytes())
    side = json.loads((tmp_path / "vector_dred.bit.json").read_text())["records"]
    assert len(recs) == len(side) > 500
    stats = stats_model(model_dir).stats
    for rec, s in zip(recs, side):
        assert not check_record(rec)
        p = decode_record(rec, stats)
        assert (rec.q0, p.state, p.latents) == (s["q0"], s["state"], s["latents"])
    # vectors coded at q0 throughout (dQ = 0) keep every value
    m = json.loads((corpus / "manifest.json").read_text())
    by_id = {v["id"]: v for v in m["vectors"]}
    flat = [s for s in side if by_id[s["vector"]]["expected"]["dred"]["dQ"] == 0 and s["truncated_latents"] == 0]
    assert flat and all(s["zeroed_values"] == 0 for s in flat)
    for s in flat:
        d = by_id[s["vector"]]["expected"]["dred"]
        assert s["latents"] == d["latents"] and s["state"] == d["state"]


def test_export_features_layout(corpus, model_dir, tmp_path):
    out = tmp_path / "v.bit"
    info = export_standalone(corpus, out, model=load_model(model_dir, parts=("stats", "decoder")), features=True)
    feats = np.frombuffer((tmp_path / "v_dec.f32").read_bytes(), "<f4")
    chunks = sum(r.nb_chunks for r in read_standalone(out.read_bytes()))
    assert feats.size == 2 * chunks * 20 and info["count"] > 0
    assert np.isfinite(feats).all()


def test_read_standalone_cli(shared_standalone, model_dir):
    r = CliRunner().invoke(main, ["vectors", "read-standalone", str(shared_standalone)])
    assert r.exit_code == 0 and r.output.strip().endswith("174 records")
    r = CliRunner().invoke(main, ["vectors", "read-standalone", "--json", "--model", str(model_dir),
                                  str(shared_standalone)])
    assert r.exit_code == 0
    assert len(json.loads(r.stdout)["records"]) == 174
