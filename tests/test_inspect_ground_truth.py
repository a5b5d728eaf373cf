"""`dredconf inspect --json` equals libopus 1.6.1's decode on every field but features, every packet."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.reference.decoder import ReferenceDecoder

from tests.helpers.shared import STREAMS


def _strip_features(rec: dict) -> dict:
    rec = dict(rec)
    if rec.get("dred"):
        rec["dred"] = {k: v for k, v in rec["dred"].items() if k != "features"}
    return rec


def _first_difference(got: dict, want: dict, path: str = "") -> str | None:
    """The first departing field, named the way the runner names it."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k in want.keys() | got.keys():
            d = _first_difference(got.get(k), want.get(k), f"{path}.{k}" if path else k)
            if d:
                return d
        return None
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (g, w) in enumerate(zip(got, want)):
            d = _first_difference(g, w, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if got == want and type(got) is type(want) else f"{path} = {got!r}, expected {want!r}"


def test_every_packet_bit_exact(ground_truth, model_dir):
    decoder = ReferenceDecoder(model_dir)
    total = exact = 0
    failures = []
    for name in STREAMS:
        data, expected = ground_truth[name]
        got = decoder.decode_stream(data)
        assert got["errors"] == [], got["errors"][:3]
        assert len(got["packets"]) == len(expected), name
        for g, w in zip(got["packets"], expected):
            total += 1
            d = _first_difference(g, _strip_features(w))
            if d is None:
                exact += 1
            else:
                failures.append(f"{name} packet {w['index']}: {d}")
    assert failures == [], failures[:10]
    assert (exact, total) == (1241, 1241)


@pytest.mark.parametrize("name", ["S3", "SYN"])
def test_cli_json_matches(name, vectors_dir, ground_truth, model_dir):
    result = CliRunner().invoke(main, ["inspect", "--json", "--model", str(model_dir), str(vectors_dir / f"{name}.bit")])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert list(got) == ["packets"]
    assert got["packets"] == [_strip_features(w) for w in ground_truth[name][1]]
