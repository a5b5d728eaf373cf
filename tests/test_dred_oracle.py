"""The corpus against an oracle independent of the code under test.

generate() checks every vector with the reference decoder, whose C core also wrote the payloads: that check
cannot see a rule the core gets wrong both ways. tests/helpers/dred_oracle.py reads DRED payloads in pure
Python from the draft's text; it is first held to libopus 1.6.1 itself (every DRED packet of the ground-truth
sets), then every generated vector's expected DRED must be what it reads.
"""
from __future__ import annotations

import pytest

from dredconf.spec import find_dred, parse_packet, read_stream
from dredconf.vectors.manifest import load_manifest
from tests.helpers.corpus import generated
from tests.helpers.dred_oracle import load_tables, read_dred
from tests.helpers.shared import STREAMS, expected_records

pytestmark = pytest.mark.shared
EDGE = ("BIGP", "DERR")


@pytest.fixture(scope="module")
def tables(model_dir):
    return load_tables(model_dir)


def _oracle_records(stream: bytes, tables) -> list[dict | None]:
    """Per packet: the oracle's reading of its DRED, None when it has none."""
    out = []
    for rec in read_stream(stream):
        loc = find_dred(parse_packet(rec.packet))
        out.append(None if loc is None else read_dred(loc.payload, loc.frame_offset, tables))
    return out


def _integers(dred: dict | None) -> dict | None:
    return None if dred is None else {k: v for k, v in dred.items() if k != "features"}


@pytest.mark.parametrize("name", STREAMS + EDGE)
def test_oracle_reads_what_libopus_reads(name, vectors_dir, edge_dir, tables):
    d = edge_dir if name in EDGE else vectors_dir
    want = [_integers(r["dred"]) for r in expected_records(d / f"{name}.expected.json.gz")]
    got = _oracle_records((d / f"{name}.bit").read_bytes(), tables)
    assert len(got) == len(want)
    assert sum(w is not None for w in want) > 0
    differ = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert differ == [], f"{len(differ)} packets differ from libopus; first {differ[0]}"


@pytest.mark.parametrize("seed", [1, 2])
def test_every_generated_expectation_is_what_the_oracle_reads(seed, tmp_path_factory, model_dir, tables):
    corpus = generated(tmp_path_factory.getbasetemp(), model_dir, seed)
    m = load_manifest(corpus)
    streams = {s["path"]: _oracle_records((corpus / s["path"]).read_bytes(), tables) for s in m["streams"]}
    wrong = [v["id"] for v in m["vectors"] if streams[v["stream"]][v["packet"]] != v["expected"]["dred"]]
    assert wrong == []
    assert sum(v["expected"]["dred"] is not None for v in m["vectors"]) > 500
