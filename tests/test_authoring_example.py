"""``dredconf spec example``: each worked example is decoded from its printed hex alone, and every value it prints
is the reference decoder's record of that packet; every line of the text form fits 72 columns; errors are one
line."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from dredconf.authoring.example import worked_example
from dredconf.authoring.examples import CURATED, write_examples
from dredconf.authoring.formats import WIDTH, render_doc
from dredconf.cli import main
from dredconf.reference.decoder import ReferenceDecoder
from dredconf.spec import read_stream
from tests.helpers.shared import EDGE_STREAMS, STREAMS

HEX_ROW = re.compile(r"^([0-9a-f]{4,})  ((?:[0-9a-f]{2} )*[0-9a-f]{2})$")
NAMED = re.compile(r"^(toc|frame_count|padding_length|extension_error|q0|dQ|extra_flag|extra_offset|offset|qmax|"
                   r"dred_offset|frame_offset|latent_count) = ")
EXTENSION = re.compile(r"^#(\d+): id = (\d+), frame = (\d+), length = (\d+)$")
VALUES = re.compile(r"^(state|latent0)\[(\d+)\.\.(\d+)\] = (.*)$")


def read_hex(text: str) -> bytes:
    """The packet, from the printed hex rows only (offsets checked to follow on)."""
    data = bytearray()
    for line in text.splitlines():
        m = HEX_ROW.match(line)
        if m is None:
            if data:
                break
            continue
        assert int(m.group(1), 16) == len(data)
        data += bytes.fromhex(m.group(2))
    return bytes(data)


def read_fields(text: str) -> dict:
    """Every value the example prints as 'name = value', its extensions, state, latent 0 and levels."""
    out: dict = {"extensions": [], "state": [], "latent0": []}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if NAMED.match(line):
            name = line.split(" = ", 1)[0]
            formula = name in ("dred_offset", "frame_offset")  # '<name> = <formula> = <value>'
            value = (line.rsplit(" = ", 1) if formula else line.split(" = ", 1))[1]
            value = value if name == "extension_error" else value.split()[0].rstrip(":,")
            out[name] = value if name in ("toc", "extension_error") else int(value)
        elif m := EXTENSION.match(line):
            assert int(m.group(1)) == len(out["extensions"])
            out["extensions"].append({"id": int(m.group(2)), "frame": int(m.group(3)), "length": int(m.group(4))})
        elif m := VALUES.match(line):
            values = [int(v) for v in m.group(4).split()]
            assert int(m.group(2)) == len(out[m.group(1)]) and len(values) == int(m.group(3)) - int(m.group(2)) + 1
            out[m.group(1)] += values
        elif line.startswith("levels = "):
            cont = [line[len("levels = "):]] + [ln.strip() for ln in lines[i + 1:] if ln.startswith(" " * 9)]
            out["levels"] = [] if cont == ["none"] else [int(v) for v in " ".join(cont).split()]
        elif m := re.search(r"\(length = (\d+)\)", line):
            out["length"] = int(m.group(1))
    return out


def check_example(text: str, decoder: ReferenceDecoder, *, width: bool = True) -> int:
    """Decode the printed hex with the reference and hold every printed value to its record; the count checked."""
    assert not width or (max(map(len, text.splitlines())) <= WIDTH and text.isascii())
    res = decoder.decode_packet(read_hex(text))
    rec, got = res.to_json(with_features=False), read_fields(text)
    d, p = rec["dred"], res.payload
    assert d is not None
    assert got["length"] == rec["length"] and int(got["toc"], 16) == rec["toc"]
    for k in ("frame_count", "padding_length", "extensions"):
        assert got[k] == rec[k], k
    assert got["extension_error"] == (rec["extension_error"] or "null")
    for k in ("q0", "dQ", "offset", "qmax", "dred_offset", "frame_offset", "latent_count", "levels", "state"):
        assert got[k] == d[k], k
    assert got["extra_flag"] == int(p.extra_flag) and got.get("extra_offset", 0) == d["extra_offset"]
    assert got["latent0"] == (d["latents"][0] if d["latents"] else [])
    return (6 + len(got["extensions"]) + 9 + len(got["levels"]) + len(got["state"]) + len(got["latent0"])
            + ("extra_offset" in got) + 1)


@pytest.fixture(scope="module")
def decoder(model_dir):
    return ReferenceDecoder(model_dir)


def _text(data: bytes, stats, title: str) -> str:
    return render_doc(worked_example(data, stats, title=title), "text")


def test_curated_examples_decode_from_their_hex(tmp_path, decoder, model):
    written = write_examples(tmp_path, model)
    assert [e["id"] for e in written] == [vid for vid, _, _ in CURATED]
    fields = sum(check_example((tmp_path / f"{vid}.txt").read_text(), decoder) for vid, _, _ in CURATED)
    assert fields > 5 * 80


def test_every_dred_vector_of_the_corpus_and_the_shared_streams(corpus, vectors_dir, edge_dir, decoder, stats):
    """Every packet with DRED of the generated corpus and of libopus's own streams, worked and read back."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    streams = {s["path"]: [r.packet for r in read_stream((corpus / s["path"]).read_bytes())] for s in manifest["streams"]}
    worked = fields = 0
    for v in manifest["vectors"]:
        if v["expected"]["dred"] is not None:
            fields += check_example(_text(streams[v["stream"]][v["packet"]], stats, v["id"]), decoder)
            worked += 1
    for path in [vectors_dir / f"{s}.bit" for s in STREAMS] + [edge_dir / f"{s}.bit" for s in EDGE_STREAMS]:
        for rec in read_stream(path.read_bytes()):
            if decoder.decode_packet(rec.packet).payload is not None and rec.index % 7 == 0:
                fields += check_example(_text(rec.packet, stats, f"{path.stem} {rec.index}"), decoder)
                worked += 1
    assert worked > 800, worked
    print(f"worked examples decoded from their hex: {worked}, printed values checked: {fields}")


def test_markdown_form(decoder, stats, vectors_dir):
    r = CliRunner().invoke(main, ["spec", "example", str(vectors_dir / "S1.bit"), "--packet", "5",
                                  "--format", "markdown"])
    assert r.exit_code == 0 and r.output.startswith("## S1.bit, packet 5") and "```" in r.output
    check_example(r.output.replace("```\n", ""), decoder, width=False)


def test_hex_on_the_command_line(decoder, vectors_dir):
    packet = list(read_stream((vectors_dir / "S2.bit").read_bytes()))[3].packet
    r = CliRunner().invoke(main, ["spec", "example", "--hex", packet.hex(" ")])
    assert r.exit_code == 0, r.output
    check_example(r.output, decoder)


@pytest.mark.parametrize("args, message", [
    (["--packet", "100000"], "no packet 100000 (the stream has 524, numbered from 0)"),
    (["--packet", "0"], "S1.bit, packet 0: no DRED extension"),
    ([], "give --packet N"),
])
def test_errors_are_one_line(vectors_dir, args, message):
    r = CliRunner().invoke(main, ["spec", "example", str(vectors_dir / "S1.bit")] + args)
    assert r.exit_code != 0 and message in r.output and "Traceback" not in r.output
    assert len([ln for ln in r.output.splitlines() if ln.startswith("Error")]) == 1


@pytest.mark.parametrize("hex_packet, message", [
    ("zz", "'z' is not a hex digit"), ("4b0", "odd number of hex digits"),
    ("4b00", "M=0 frames"), ("4b41", "padding length runs past the end"), ("0800", "no DRED extension"),
])
def test_bad_packets_are_one_line_errors(hex_packet, message):
    r = CliRunner().invoke(main, ["spec", "example", "--hex", hex_packet])
    assert r.exit_code != 0 and message in r.output and "Traceback" not in r.output


def test_large_values_still_fit_72_columns(decoder, stats):
    """Values with many Laplace escapes take fewer a row, never more than 72 columns."""
    import numpy as np

    from dredconf.reference.payload import encode_dred_payload
    from dredconf.spec import DRED_EXPERIMENTAL_PREFIX, build_extensions, build_packet
    from dredconf.vectors.dredpayload import coded_mask

    q0 = 3
    mask = coded_mask(stats.state_r[q0], stats.state_p0[q0])
    state = [-1500 - i if coded else 0 for i, coded in enumerate(mask)]
    bits = encode_dred_payload(dict(q0=q0, dQ=0, offset=4, state=state, latents=[]), stats)
    padding = build_extensions([(0, 126, DRED_EXPERIMENTAL_PREFIX + bits)], 1)
    packet = build_packet([b"\x00"], config=9, code=3, padding=padding)
    text = _text(packet, stats, "large values")
    rows = [ln for ln in text.splitlines() if ln.startswith("state[")]
    assert np.count_nonzero(mask) > 10 and min(len(ln.split(" = ")[1].split()) for ln in rows) < 10
    check_example(text, decoder)


def test_a_run_of_padding_bytes_is_drawn_once(decoder, stats):
    from dredconf.reference.payload import encode_dred_payload
    from dredconf.spec import DRED_EXPERIMENTAL_PREFIX, build_extensions, build_packet

    bits = encode_dred_payload(dict(q0=9, dQ=0, offset=4, state=[0] * 50, latents=[[0] * 25]), stats)
    padding = build_extensions([(0, 126, DRED_EXPERIMENTAL_PREFIX + bits)], 1, pad_to=40)  # 0x01s first, as libopus
    text = _text(build_packet([b"\x00"], config=9, code=3, padding=padding), stats, "padded")
    assert "bytes 4..31: 28 padding bytes 0x01" in text and text.count("ID = 0, L = 1") == 1
    check_example(text, decoder)
