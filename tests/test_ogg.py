"""Ogg Opus (RFC 7845) reader and writer: round trips, CRC, lacing, granules, real tools."""
from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave

import pytest

from dredconf.errors import StreamError
from dredconf.spec import read_stream
from dredconf.spec.ogg import (
    FLAG_BOS, FLAG_CONTINUED, FLAG_EOS, iter_pages, ogg_crc, packet_samples, parse_ogg_opus, read_ogg_opus,
    write_ogg_opus,
)



def _packets(n: int, size) -> list[bytes]:
    # code 3, CELT FB 20 ms, 1 frame (CBR, no padding): TOC 0xfb, count byte 0x01, then the frame
    return [bytes([0xFB, 0x01]) + bytes((i * 7 + j) & 0xFF for j in range(size(i))) for i in range(n)]


def test_crc_check_value():
    # CRC-32, poly 0x04C11DB7, init 0, unreflected, no final xor: check value of "123456789"
    assert ogg_crc(b"123456789") == 0x89A1897F
    assert ogg_crc(b"") == 0


def test_round_trip_and_headers():
    pk = _packets(40, lambda i: i * 37 % 700)
    data = write_ogg_opus(pk, comments=["TITLE=x", "DREDCONF=1"], pre_skip=312)
    s = parse_ogg_opus(data)
    assert s.packets == pk
    assert s.head.channels == 1 and s.head.pre_skip == 312 and s.head.input_sample_rate == 48000
    assert s.vendor == "dredconf" and s.comments == ["TITLE=x", "DREDCONF=1"]
    assert s.eos
    assert read_ogg_opus(data) == pk
    # deterministic
    assert write_ogg_opus(pk, comments=["TITLE=x", "DREDCONF=1"], pre_skip=312) == data


def test_page_structure_and_granules():
    pk = _packets(30, lambda i: 300)
    data = write_ogg_opus(pk, pre_skip=312, page_bytes=1000)
    pages = list(iter_pages(data))
    assert pages[0].flags == FLAG_BOS and pages[0].granule == 0 and pages[0].body.startswith(b"OpusHead")
    assert pages[1].body.startswith(b"OpusTags") and pages[1].granule == 0
    assert pages[-1].flags & FLAG_EOS
    assert [p.sequence for p in pages] == list(range(len(pages)))
    assert len({p.serial for p in pages}) == 1
    # granule = pre-skip + 48 kHz samples of every packet completed so far
    s = parse_ogg_opus(data)
    done = 0
    for (_, granule, completed) in s.pages:
        done += completed
        assert granule == 312 + 960 * done
    assert packet_samples(pk[0]) == 960


def test_lacing_edge_sizes_and_continued_pages():
    sizes = [0, 1, 253, 254, 255 - 2, 255, 510 - 2, 65025, 140000]
    pk = [bytes([0xFB, 0x01]) + bytes(n) for n in sizes]
    data = write_ogg_opus(pk)
    assert read_ogg_opus(data) == pk
    pages = list(iter_pages(data))
    assert any(p.flags & FLAG_CONTINUED for p in pages)  # the 140000-byte packet spans pages
    assert all(len(p.lacing) <= 255 for p in pages)
    # a page where no packet ends has granule -1
    assert any(p.granule == -1 for p in pages)


def test_corruption_is_reported():
    data = bytearray(write_ogg_opus(_packets(5, lambda i: 50)))
    data[-3] ^= 0x40
    with pytest.raises(StreamError) as e:
        read_ogg_opus(bytes(data))
    assert e.value.rule == "ogg-crc"
    with pytest.raises(StreamError) as e:
        read_ogg_opus(b"OggT" + bytes(data[4:]))
    assert e.value.rule == "ogg-capture"
    good = write_ogg_opus(_packets(5, lambda i: 50))
    with pytest.raises(StreamError) as e:
        read_ogg_opus(good[:-10])
    assert e.value.rule == "ogg-page"
    # a lost page (sequence gap)
    data = write_ogg_opus(_packets(40, lambda i: 400), page_bytes=1000)
    pages = list(iter_pages(data))
    joined = b"".join(data[p.offset:p.offset + 27 + len(p.lacing) + len(p.body)] for k, p in enumerate(pages) if k != 3)
    with pytest.raises(StreamError) as e:
        read_ogg_opus(joined)
    assert e.value.rule == "ogg-sequence"


def test_not_opus():
    with pytest.raises(StreamError):
        read_ogg_opus(b"")
    fake_head = b"OpusHeaX" + bytes(11)
    body = fake_head
    hdr = struct.pack("<4sBBqIIIB", b"OggS", 0, FLAG_BOS, 0, 1, 0, 0, 1) + bytes([len(body)])
    page = bytearray(hdr + body)
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    with pytest.raises(StreamError) as e:
        read_ogg_opus(bytes(page))
    assert e.value.rule == "opus-head"


@pytest.mark.skipif(shutil.which("opusinfo") is None or shutil.which("opusdec") is None,
                    reason="opus-tools (opusinfo, opusdec) not installed")
def test_corpus_opens_in_opus_tools(corpus, model_dir, tmp_path):
    for stream in sorted(corpus.glob("*.bit")):
        packets = [r.packet for r in read_stream(stream.read_bytes())]
        path = tmp_path / (stream.stem + ".opus")
        path.write_bytes(write_ogg_opus(packets))
        info = subprocess.run(["opusinfo", str(path)], capture_output=True, text=True, timeout=60)
        text = info.stdout + info.stderr
        assert info.returncode == 0 and "WARNING" not in text and "Opus stream 1" in text, text
        out = tmp_path / (stream.stem + ".wav")
        dec = subprocess.run(["opusdec", "--quiet", str(path), str(out)], capture_output=True, text=True,
                             timeout=120)
        assert dec.returncode == 0, dec.stderr
        with wave.open(str(out)) as w:
            assert w.getnframes() == sum(packet_samples(p) for p in packets) - 312  # pre-skip trimmed


@pytest.mark.skipif(shutil.which("opusenc") is None, reason="opusenc (opus-tools) not installed")
def test_reads_real_opusenc_output(tmp_path):
    src = tmp_path / "tone.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 0.05))) for i in range(48000)))
    enc = tmp_path / "tone.opus"
    r = subprocess.run(["opusenc", "--quiet", str(src), str(enc)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    s = parse_ogg_opus(enc.read_bytes())
    assert s.head.channels == 1 and s.head.pre_skip > 0
    assert s.vendor.startswith("libopus")
    assert sum(packet_samples(p) for p in s.packets) >= 48000
    last = max(g for _, g, n in s.pages if n)
    assert last - s.head.pre_skip == 48000  # end trimming exact
