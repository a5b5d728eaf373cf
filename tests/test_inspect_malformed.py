"""Malformed input gives one-line errors naming packet, byte offset and rule; inspect goes on where it can."""
from __future__ import annotations

import io
import json
import re
import struct

import pytest
from click.testing import CliRunner
from rich.console import Console

from dredconf.cli import main
from dredconf.spec import read_stream, write_stream
from dredconf.spec.ogg import write_ogg_opus

GOOD = bytes([0x48, 0xAA, 0xBB])  # code 0, one 2-byte SILK frame
ONE_LINE = re.compile(r"^error: packet (\d+), byte (\d+): .+ \[[\w.-]+\]$")


def _inspect(tmp_path, data: bytes, *args: str):
    f = tmp_path / "s.bit"
    f.write_bytes(data)
    return CliRunner().invoke(main, ["inspect", *args, str(f)])


def _errors(result) -> list[str]:
    lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    for l in lines:
        assert ONE_LINE.match(l), l
    return lines


@pytest.mark.parametrize("cut", [1, 4, 7])
def test_truncated_record_header(tmp_path, model_dir, cut):
    data = write_stream([GOOD, GOOD]) + struct.pack(">I", 3)[:cut] if cut < 4 else write_stream([GOOD, GOOD]) + bytes(cut)
    r = _inspect(tmp_path, data, "--json", "--model", str(model_dir))
    assert r.exit_code == 1
    (err,) = _errors(r)
    assert err.startswith("error: packet 2, byte 22:")
    assert len(json.loads(r.stdout)["packets"]) == 2  # what came before is still reported


def test_record_length_past_end_of_file(tmp_path, model_dir):
    data = write_stream([GOOD]) + struct.pack(">II", 1000, 0) + b"\x48\x00"
    r = _inspect(tmp_path, data, "--json", "--model", str(model_dir))
    assert r.exit_code == 1
    (err,) = _errors(r)
    assert err.startswith("error: packet 1, byte 11:")


@pytest.mark.parametrize(
    "packet, offset",
    [
        (bytes([0x4B, 0x41, 0x10, 0xAA]), 2),  # code 3, padding flag, padding length 16 past the end
        (bytes([0x4B, 0x40]), 1),  # code 3, M = 0
        (bytes([0x4B, 0x07, 0xAA] + [0] * 6), 1),  # code 3, 7 × 20 ms = 140 ms > 120 ms
    ],
    ids=["padding-past-end", "m-zero", "over-120ms"],
)
def test_bad_packet_is_reported_and_inspect_continues(tmp_path, model_dir, packet, offset):
    r = _inspect(tmp_path, write_stream([GOOD, packet, GOOD]), "--json", "--model", str(model_dir))
    assert r.exit_code == 0, r.output  # a broken packet is a fact of the stream, not a broken file
    (err,) = _errors(r)
    m = ONE_LINE.match(err)
    assert (int(m.group(1)), int(m.group(2))) == (1, offset)
    packets = json.loads(r.stdout)["packets"]
    assert [p["index"] for p in packets] == [0, 1, 2]
    assert packets[1]["packet_error"] and packets[2]["frame_count"] == 1


def test_human_view_survives_everything(tmp_path, model_dir):
    bad = [bytes([0x4B, 0x41, 0x10]), b"", bytes([0x4B, 0x40]), GOOD]
    r = _inspect(tmp_path, write_stream(bad) + b"\x00\x00", "--model", str(model_dir))
    assert r.exit_code == 1 and r.exception is None or isinstance(r.exception, SystemExit)
    assert "packet 3" in r.stdout
    assert len(_errors(r)) == 4


def test_human_view_on_a_terminal_is_the_same_text_styled(tmp_path, model_dir, edge_dir, monkeypatch):
    """The summary view writes plain text where the output is not a terminal and styled text where it is: the same
    characters either way (extension errors, unparsable packets, DRED lines; more than one block of summaries)."""
    from dredconf import view
    from dredconf.reference.decoder import ReferenceDecoder

    data = (edge_dir / "DERR.bit").read_bytes()
    results = [r for r in ReferenceDecoder(model_dir).decode_records(data) if not isinstance(r, Exception)]
    results += [ReferenceDecoder(model_dir).decode_packet(bytes([0x4B, 0x40]), index=len(results))]
    monkeypatch.setattr(view, "SUMMARIES_PER_WRITE", 7)
    texts = {}
    for tty in (False, True):
        out = io.StringIO()
        monkeypatch.setattr(view, "_console", Console(file=out, force_terminal=tty, highlight=False, soft_wrap=True))
        view.render(iter(results), detail=False)
        texts[tty] = out.getvalue()
    assert "\x1b[" in texts[True] and "\x1b[" not in texts[False]
    assert re.sub(r"\x1b\[[0-9;]*m", "", texts[True]) == texts[False]
    assert texts[False].count("extension error:") > 10 and "unparsable: " in texts[False]
    assert texts[False].count("\npacket ") + 1 == len(results)


def test_hex_packet(model_dir):
    r = CliRunner().invoke(main, ["inspect", "--json", "--model", str(model_dir), "--hex", GOOD.hex()])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["packets"][0]["frame_count"] == 1
    r = CliRunner().invoke(main, ["inspect", "--hex", "zz"])
    assert r.exit_code == 2 and "'z' is not a hex digit" in r.output


def test_ogg_opus_file_is_inspected_packet_by_packet(tmp_path, model_dir, vectors_dir):
    packets = [r.packet for r in read_stream((vectors_dir / "S3.bit").read_bytes())]
    f = tmp_path / "s3.opus"
    f.write_bytes(write_ogg_opus(packets))
    r = CliRunner().invoke(main, ["inspect", "--json", "--model", str(model_dir), str(f)])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)["packets"]
    assert [p["length"] for p in got] == [len(p) for p in packets]
    f.with_name("cut.opus").write_bytes(f.read_bytes()[:-5])
    r = CliRunner().invoke(main, ["inspect", "--model", str(model_dir), str(f.with_name("cut.opus"))])
    assert r.exit_code == 1 and "ogg" in r.output.lower()
