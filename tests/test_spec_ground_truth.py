"""Every packet of libopus 1.6.1's DRED streams, framed by spec/ and compared with what libopus
itself reports (../shared/vectors/libopus-1.6.1/*.expected.json.gz): framing, extensions,
extension error, DRED presence and frame offset."""
from __future__ import annotations

import pytest

from dredconf.spec import find_dred, parse_extensions, parse_packet, read_stream
from tests.helpers.shared import STREAMS

PACKETS = {"S1": 524, "S2": 524, "S3": 73, "SYN": 120}  # 1,241 in all

pytestmark = pytest.mark.shared


def spec_view(index: int, packet: bytes) -> dict:
    """What spec/ says about one packet, in the expected JSON's terms."""
    p = parse_packet(packet)
    found = parse_extensions(p.padding_bytes, p.frame_count)
    dred = find_dred(p, found)
    return dict(index=index, length=len(packet), toc=p.toc, frame_count=p.frame_count,
                padding_length=p.padding.length,
                extensions=[dict(id=e.id, frame=e.frame, length=e.length) for e in found],
                extension_error=None if found.error is None else "invalid packet",
                dred=None if dred is None else dict(frame_offset=dred.frame_offset))


def expected_view(record: dict) -> dict:
    keys = ("index", "length", "toc", "frame_count", "padding_length", "extensions", "extension_error")
    view = {k: record[k] for k in keys}
    view["dred"] = None if record["dred"] is None else dict(frame_offset=record["dred"]["frame_offset"])
    return view


@pytest.mark.parametrize("stream", STREAMS)
def test_stream_matches_libopus(ground_truth, stream):
    data, expected = ground_truth[stream]
    records = list(read_stream(data))
    assert all(not isinstance(r, Exception) for r in records)
    assert len(records) == len(expected) == PACKETS[stream]
    views = [(spec_view(r.index, r.packet), expected_view(e)) for r, e in zip(records, expected)]
    mismatches = [(got, want) for got, want in views if got != want]
    assert mismatches == [], f"{len(mismatches)} of {len(records)} packets differ; first: {mismatches[0]}"
