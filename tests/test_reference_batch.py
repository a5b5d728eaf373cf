"""The reference decoder's whole-stream path (reference/decoder.py, reference/payload.py ``DredBatch``): records
built from the C core's batch arrays are the records the one-payload path builds (``decode_dred_payload``, then
``spec.record.dred_object``), on every shared packet; payloads and features are made on demand and equal."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dredconf.errors import StreamError
from dredconf.reference.decoder import PacketResult, ReferenceDecoder
from dredconf.reference.payload import CStats, decode_dred_arrays, decode_dred_payload
from dredconf.spec import read_stream, write_stream
from tests.helpers.shared import STREAMS

pytestmark = pytest.mark.shared


def _one_by_one(dec: ReferenceDecoder, packet: bytes, index: int) -> PacketResult:
    """The packet through the one-payload path: its payload decoded alone and given to the result."""
    res = dec._parse(packet, index)
    if res.location is not None:
        res.payload = decode_dred_payload(res.location.payload, res.location.frame_offset, dec.model.stats)
        if dec.rdovae is not None:
            res.features = dec.rdovae.decode(res.payload)
    return res


@pytest.fixture(scope="module")
def decoder(model_dir):
    return ReferenceDecoder(model_dir)


@pytest.mark.parametrize("stream", STREAMS)
def test_stream_records_are_the_one_payload_records(decoder, ground_truth, stream):
    data, _ = ground_truth[stream]
    got = decoder.decode_stream(data)
    records = [r for r in read_stream(data)]
    want = [_one_by_one(decoder, r.packet, r.index).to_json(with_features=False) for r in records]
    assert got["packets"] == want
    assert [r.to_json(with_features=False) for r in decoder.decode_records(data)] == want


@pytest.mark.parametrize("stream", STREAMS)
def test_batch_payloads_are_the_one_payload_decodes(decoder, ground_truth, stream):
    data, _ = ground_truth[stream]
    results = [decoder._parse(r.packet, r.index) for r in read_stream(data)]
    items = [(r.location.payload, r.location.frame_offset) for r in results if r.location is not None]
    batch = decode_dred_arrays(items, decoder.model.stats)
    alone = [decode_dred_payload(p, f, decoder.model.stats) for p, f in items]
    assert len(batch) == len(items) and batch.payloads() == alone
    assert [batch.payload(i) for i in range(len(batch))] == alone
    assert batch.features(0) is None and batch.features_array is None
    with pytest.raises(IndexError):
        batch.payload(len(batch))


def test_features_come_from_the_batch(model_dir, ground_truth):
    dec = ReferenceDecoder(model_dir, features=True)
    data = ground_truth["S3"][0]
    got = dec.decode_stream(data)["packets"]
    results = list(dec.decode_records(data))
    for rec, res, r in zip(got, results, read_stream(data)):
        one = _one_by_one(dec, r.packet, r.index)
        assert rec == one.to_json(with_features=True)
        if res.location is not None:
            assert res.features.dtype == np.float32 and np.array_equal(res.features, one.features)
            assert res.payload == one.payload


def test_each_record_has_lists_of_its_own(decoder, ground_truth):
    data = ground_truth["S2"][0]
    res = next(r for r in decoder.decode_records(data) if r.location is not None)
    a, b = res.to_json(with_features=False), res.to_json(with_features=False)
    assert a == b
    a["dred"]["latents"][0][0] += 1000
    a["dred"]["state"][0] += 1000
    a["dred"]["levels"][0] += 1000
    assert b == res.to_json(with_features=False) != a
    assert res.payload.latents[0][0] == b["dred"]["latents"][0][0]


def test_setting_a_payload_or_features_keeps_the_other(model_dir, ground_truth):
    dec = ReferenceDecoder(model_dir, features=True)
    data = ground_truth["S3"][0]
    res = next(r for r in dec.decode_records(data) if r.location is not None)
    payload, features = res.payload, res.features
    res.payload = payload
    assert res.features is features and res.to_json(with_features=True)["dred"]["features"] == features.tolist()
    res = next(r for r in dec.decode_records(data) if r.location is not None)
    res.features = None
    assert res.payload == payload and "features" not in res.to_json(with_features=True)["dred"]
    assert PacketResult(0, b"").errors == [] and PacketResult(0, b"").payload is None


def test_a_stream_error_ends_the_records_after_the_last_batch(decoder, ground_truth):
    data = ground_truth["S1"][0]
    packets = [r.packet for r in read_stream(data)][:300]
    broken = write_stream(packets) + b"\x00\x00\x00\x09abc"  # a record running past the end of the file
    out = list(decoder.decode_records(broken))
    assert len(out) == 301 and isinstance(out[-1], StreamError)
    assert [r.index for r in out[:-1]] == list(range(300))
    got = decoder.decode_stream(broken)
    assert got["errors"][-1] == str(out[-1]) and len(got["packets"]) == 300


def test_the_c_stats_are_made_once_per_model(decoder, ground_truth):
    data = ground_truth["S3"][0]
    packet = next(r.data for r in decoder.decode_records(data) if r.location is not None)
    first = decoder.decode_packet(packet).to_json(with_features=False)
    made = decoder._stats.cdata()
    assert decoder.decode_packet(packet).to_json(with_features=False) == first
    assert decoder._stats.cdata() is made  # kept, not made again
    items = [(b"\x01\x02\x03", 0), (b"\xff" * 40, 8)]
    assert decode_dred_arrays(items, CStats(decoder.model.stats)).payloads() == \
        [decode_dred_payload(p, f, decoder.model.stats) for p, f in items]


def test_replaced_or_broken_stats_are_read_again(model_dir, ground_truth):
    dec = ReferenceDecoder(model_dir)
    packet = next(r.data for r in dec.decode_records(ground_truth["S3"][0]) if r.location is not None)
    want = dec.decode_packet(packet).to_json(with_features=False)
    stats = dec.model.stats
    dec.model.stats = dataclasses.replace(stats, latent_p0=stats.latent_p0[:15])
    with pytest.raises(ValueError, match=r"stats\.latent_p0 has 375 entries, expected 16x25"):
        dec.decode_packet(packet)
    dec.model.stats = stats
    assert dec.decode_packet(packet).to_json(with_features=False) == want
