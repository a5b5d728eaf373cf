"""Ogg Opus (RFC 7845 on RFC 3533 Ogg): reader and writer, beside the other container formats.

So that ``inspect`` reads real ``.opus`` files and the corpus opens in ordinary
Opus tools (``opusinfo``, ``opusdec``):

* :func:`write_ogg_opus` packs packets into one logical Ogg stream: an
  ``OpusHead`` page (beginning of stream), an ``OpusTags`` page, then audio
  pages, the last one flagged end of stream. Granule positions count 48 kHz
  samples including the pre-skip (RFC 7845 §4), from each packet's TOC.
* :func:`read_ogg_opus` returns the audio packets of the first Opus logical
  stream; :func:`parse_ogg_opus` also returns the header fields, the tags and
  the page granule positions. Both check every page's CRC, capture pattern,
  version and lacing, and report breakage as :class:`~dredconf.errors.StreamError`
  with a byte offset and a rule (``ogg-*``, ``opus-head``, ``opus-tags``).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import construct as cs

from dredconf.errors import StreamError

from .packet import frame_samples

CAPTURE = b"OggS"
FLAG_CONTINUED, FLAG_BOS, FLAG_EOS = 0x01, 0x02, 0x04
#: A page is closed after the packet that brings it to this many bytes (real muxers use 4-8 KiB) ...
PAGE_TARGET_BYTES = 4096
#: ... or before a packet that would take its audio past 1 s (opusenc's default maximum muxing delay).
PAGE_MAX_SAMPLES = 48000

PageHeader = cs.Struct(
    "capture_pattern" / cs.Bytes(4) * "RFC 3533 §6: 'OggS'",
    "stream_structure_version" / cs.Int8ul * "RFC 3533 §6: 0",
    "header_type_flag" / cs.Int8ul * "RFC 3533 §6: 0x01 continued packet, 0x02 first page, 0x04 last page",
    "granule_position" / cs.Int64sl * "RFC 7845 §4: 48 kHz samples (pre-skip included) up to the last "
                                      "packet completed on the page, -1 when none completes",
    "bitstream_serial_number" / cs.Int32ul * "RFC 3533 §6: the logical stream",
    "page_sequence_number" / cs.Int32ul * "RFC 3533 §6: 0, 1, 2... within the logical stream",
    "CRC_checksum" / cs.Int32ul * "RFC 3533 §6: CRC-32 of the page with this field 0",
    "number_page_segments" / cs.Int8ul * "RFC 3533 §6: entries in the segment table that follows",
)
"""RFC 3533 §6: the 27 bytes before a page's segment table (lacing values)."""
_PAGE_HEADER = PageHeader.compile()  # the same schema, compiled: a page header is parsed per page
_PAGE_HEADER_SIZE = PageHeader.sizeof()
_CRC_FIELD = slice(22, 26)  # where CRC_checksum lies in the page header

OpusHeadFields = cs.Struct(
    "magic" / cs.Const(b"OpusHead") * "RFC 7845 §5.1: magic signature",
    "version" / cs.Int8ul * "RFC 7845 §5.1: version, major version (high nibble) 0",
    "channels" / cs.Int8ul * "RFC 7845 §5.1: output channel count",
    "pre_skip" / cs.Int16ul * "RFC 7845 §5.1: 48 kHz samples to discard at the start",
    "input_sample_rate" / cs.Int32ul * "RFC 7845 §5.1: informational",
    "output_gain" / cs.Int16sl * "RFC 7845 §5.1: Q7.8 dB",
    "mapping_family" / cs.Int8ul * "RFC 7845 §5.1.1: channel mapping family",
)
"""RFC 7845 §5.1: the identification header up to its channel mapping table."""


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum (RFC 3533 §6: CRC-32, polynomial 0x04C11DB7, init 0, unreflected, no final xor)."""
    crc = 0
    t = _CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ t[(crc >> 24) ^ b]
    return crc


def packet_samples(packet: bytes) -> int:
    """Duration of one Opus packet at 48 kHz (RFC 6716 §3.1-3.2; 0 when it is too short to tell)."""
    if not packet:
        return 0
    code = packet[0] & 3
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        if len(packet) < 2:
            return 0
        count = packet[1] & 0x3F
    return count * frame_samples(packet[0])


# --- headers --------------------------------------------------------------------------------------

@dataclass
class OpusHead:
    """The identification header (RFC 7845 §5.1)."""

    channels: int = 1
    pre_skip: int = 0
    input_sample_rate: int = 48000
    output_gain: int = 0
    mapping_family: int = 0
    version: int = 1
    stream_count: int | None = None
    coupled_count: int | None = None
    mapping: bytes = b""

    def to_bytes(self) -> bytes:
        out = OpusHeadFields.build(dict(version=self.version, channels=self.channels, pre_skip=self.pre_skip,
                                        input_sample_rate=self.input_sample_rate, output_gain=self.output_gain,
                                        mapping_family=self.mapping_family))
        if self.mapping_family != 0:
            out += struct.pack("<BB", self.stream_count or 1, self.coupled_count or 0) + self.mapping
        return out

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> "OpusHead":
        if len(data) < OpusHeadFields.sizeof() or not data.startswith(b"OpusHead"):
            raise StreamError("first packet is not an OpusHead identification header", rule="opus-head", offset=offset)
        f = OpusHeadFields.parse(data)
        if f.version >> 4 != 0:
            raise StreamError(f"OpusHead version {f.version}: major version not 0", rule="opus-head", offset=offset)
        if f.channels == 0:
            raise StreamError("OpusHead channel count 0", rule="opus-head", offset=offset)
        head = cls(f.channels, f.pre_skip, f.input_sample_rate, f.output_gain, f.mapping_family, f.version)
        if f.mapping_family != 0:
            if len(data) < 21 + f.channels:
                raise StreamError("OpusHead channel mapping table truncated", rule="opus-head", offset=offset)
            head.stream_count, head.coupled_count = data[19], data[20]
            head.mapping = bytes(data[21:21 + f.channels])
        elif f.channels > 2:
            raise StreamError(f"mapping family 0 with {f.channels} channels", rule="opus-head", offset=offset)
        return head


def opus_tags(vendor: str, comments: list[str] | tuple[str, ...] = ()) -> bytes:
    """The comment header (RFC 7845 §5.2)."""
    v = vendor.encode("utf-8")
    out = b"OpusTags" + struct.pack("<I", len(v)) + v + struct.pack("<I", len(comments))
    for c in comments:
        cb = c.encode("utf-8")
        out += struct.pack("<I", len(cb)) + cb
    return out


def parse_opus_tags(data: bytes, offset: int = 0) -> tuple[str, list[str]]:
    def fail(msg: str):
        raise StreamError(f"OpusTags: {msg}", rule="opus-tags", offset=offset)

    if not data.startswith(b"OpusTags"):
        fail("second packet is not an OpusTags comment header")
    pos = 8

    def string() -> str:
        nonlocal pos
        if pos + 4 > len(data):
            fail("truncated length")
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if pos + n > len(data):
            fail("string runs past the header")
        s = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    vendor = string()
    if pos + 4 > len(data):
        fail("truncated comment count")
    (count,) = struct.unpack_from("<I", data, pos)
    pos += 4
    return vendor, [string() for _ in range(count)]


# --- pages ----------------------------------------------------------------------------------------

@dataclass
class OggPage:
    offset: int
    flags: int
    granule: int
    serial: int
    sequence: int
    lacing: bytes
    body: bytes


def iter_pages(data: bytes):
    """Every page of an Ogg file, CRC checked; raises StreamError at the first broken page."""
    pos = 0
    n = len(data)
    while pos < n:
        if n - pos < _PAGE_HEADER_SIZE:
            raise StreamError(f"{n - pos} trailing bytes, too short for an Ogg page header", rule="ogg-page", offset=pos)
        h = _PAGE_HEADER.parse(data[pos:pos + _PAGE_HEADER_SIZE])
        if h.capture_pattern != CAPTURE:
            raise StreamError("no Ogg capture pattern 'OggS'", rule="ogg-capture", offset=pos)
        if h.stream_structure_version != 0:
            raise StreamError(f"Ogg stream structure version {h.stream_structure_version}, expected 0",
                              rule="ogg-version", offset=pos)
        nseg = h.number_page_segments
        seg_start = pos + _PAGE_HEADER_SIZE
        if seg_start + nseg > n:
            raise StreamError("segment table runs past the end of the file", rule="ogg-page", offset=pos)
        lacing = data[seg_start:seg_start + nseg]
        body_len = sum(lacing)
        end = seg_start + nseg + body_len
        if end > n:
            raise StreamError(f"page body of {body_len} bytes runs past the end of the file", rule="ogg-page", offset=pos)
        page = bytearray(data[pos:end])
        page[_CRC_FIELD] = b"\0\0\0\0"
        crc = ogg_crc(bytes(page))
        if crc != h.CRC_checksum:
            raise StreamError(f"page CRC {h.CRC_checksum:08x} does not match its contents ({crc:08x})",
                              rule="ogg-crc", offset=pos)
        yield OggPage(pos, h.header_type_flag, h.granule_position, h.bitstream_serial_number,
                      h.page_sequence_number, bytes(lacing), bytes(data[seg_start + nseg:end]))
        pos = end


def _page(flags: int, granule: int, serial: int, seq: int, segments: list[int], body: bytes) -> bytes:
    hdr = _PAGE_HEADER.build(dict(capture_pattern=CAPTURE, stream_structure_version=0, header_type_flag=flags,
                                  granule_position=granule, bitstream_serial_number=serial,
                                  page_sequence_number=seq, CRC_checksum=0, number_page_segments=len(segments)))
    page = bytearray(hdr + bytes(segments) + body)
    page[_CRC_FIELD] = struct.pack("<I", ogg_crc(bytes(page)))
    return bytes(page)


def _lacing(length: int) -> list[int]:
    return [255] * (length // 255) + [length % 255]


# --- the Opus stream ------------------------------------------------------------------------------

@dataclass
class OggOpusStream:
    """What :func:`parse_ogg_opus` found: headers, audio packets, and per-page granules."""

    serial: int
    head: OpusHead
    vendor: str
    comments: list[str]
    packets: list[bytes] = field(default_factory=list)
    #: (page offset, granule position, packets completed on that page) for every audio page.
    pages: list[tuple[int, int, int]] = field(default_factory=list)
    eos: bool = False


def parse_ogg_opus(data: bytes) -> OggOpusStream:
    """The first Opus logical stream of an Ogg file (other multiplexed streams are skipped)."""
    stream: OggOpusStream | None = None
    serial = None
    headers: list[bytes] = []
    partial = b""
    expect_seq = None
    for page in iter_pages(data):
        if serial is None:
            if not page.flags & FLAG_BOS:
                raise StreamError("first page is not a beginning-of-stream page", rule="ogg-bos", offset=page.offset)
            if not page.body.startswith(b"OpusHead"):
                continue  # another codec's stream: skip its pages
            serial = page.serial
        if page.serial != serial:
            continue
        if expect_seq is not None and page.sequence != expect_seq:
            raise StreamError(f"page sequence {page.sequence}, expected {expect_seq} (lost page)",
                              rule="ogg-sequence", offset=page.offset)
        expect_seq = page.sequence + 1
        if page.flags & FLAG_CONTINUED and not partial:
            raise StreamError("continued-packet flag without a packet to continue", rule="ogg-lacing", offset=page.offset)
        if not page.flags & FLAG_CONTINUED and partial:
            raise StreamError("previous page's last packet is not continued", rule="ogg-lacing", offset=page.offset)
        pos = 0
        completed = 0
        audio_page = stream is not None
        for lace in page.lacing:
            partial += page.body[pos:pos + lace]
            pos += lace
            if lace < 255:
                if stream is None:
                    headers.append(partial)
                    if len(headers) == 1:
                        head = OpusHead.from_bytes(headers[0], page.offset)
                    elif len(headers) == 2:
                        vendor, comments = parse_opus_tags(headers[1], page.offset)
                        stream = OggOpusStream(serial, head, vendor, comments)
                else:
                    stream.packets.append(partial)
                    completed += 1
                partial = b""
        if audio_page:
            stream.pages.append((page.offset, page.granule, completed))
        if page.flags & FLAG_EOS:
            if stream is not None:
                stream.eos = True
            break
    if serial is None:
        raise StreamError("no Opus logical stream (no OpusHead beginning-of-stream page)", rule="opus-head", offset=0)
    if stream is None:
        raise StreamError("the Opus stream ends before its OpusTags header", rule="opus-tags", offset=len(data))
    if partial:
        raise StreamError("the last packet is cut off (lacing never ends)", rule="ogg-lacing", offset=len(data))
    _check_granules(stream)
    return stream


def _check_granules(stream: OggOpusStream) -> None:
    """The header pages carry granule 0 and only headers; audio pages must not move their granules backwards."""
    last = 0
    for off, granule, completed in stream.pages:
        if completed and granule != -1:
            if granule < last:
                raise StreamError(f"granule position {granule} goes backwards (was {last})", rule="ogg-granule",
                                  offset=off)
            last = granule


def read_ogg_opus(data: bytes) -> list[bytes]:
    """The audio packets of the first Opus stream in an Ogg file (RFC 7845)."""
    return parse_ogg_opus(data).packets


def is_ogg(data: bytes) -> bool:
    return data[:4] == CAPTURE


def write_ogg_opus(
    packets: list[bytes],
    *,
    serial: int = 0x44524544,  # "DRED"
    channels: int = 1,
    pre_skip: int = 312,
    input_sample_rate: int = 48000,
    vendor: str = "dredconf",
    comments: tuple[str, ...] | list[str] = (),
    page_bytes: int = PAGE_TARGET_BYTES,
) -> bytes:
    """One Ogg Opus logical stream holding ``packets`` (deterministic: same input, same bytes).

    Granule positions follow RFC 7845 §4: a page's granule is the number of
    48 kHz samples (pre-skip included) up to the last packet completed on it,
    -1 on pages where no packet completes. Packets larger than a page are
    continued across pages. ``OpusHead`` has a page of its own, ``OpusTags``
    ends its page(s), the last page is flagged end of stream.
    """
    head = OpusHead(channels=channels, pre_skip=pre_skip, input_sample_rate=input_sample_rate).to_bytes()
    out = bytearray(_page(FLAG_BOS, 0, serial, 0, _lacing(len(head)), head))
    tags_pages = _paginate([opus_tags(vendor, list(comments))], [0], serial, 1, page_bytes, eos=not packets)
    out += b"".join(tags_pages)
    granules = []
    g = pre_skip
    for p in packets:
        g += packet_samples(p)
        granules.append(g)
    out += b"".join(_paginate(list(packets), granules, serial, 1 + len(tags_pages), page_bytes, eos=True))
    return bytes(out)


def _paginate(packets: list[bytes], granules: list[int], serial: int, seq: int, page_bytes: int, *, eos: bool) -> list[bytes]:
    """Lace packets into pages starting at sequence ``seq``; the last page ends the last packet."""
    if not packets:
        return []
    # (lacing value, bytes, granule if this segment ends a packet else None, first segment of a packet)
    segments = []
    prev = granules[0] - packet_samples(packets[0]) if packets else 0
    for p, g in zip(packets, granules):
        lace = _lacing(len(p))
        pos = 0
        for j, l in enumerate(lace):
            segments.append((l, p[pos:pos + l], g if j == len(lace) - 1 else None, g - prev if j == 0 else None))
            pos += l
        prev = g
    pages = []
    i = 0
    continued = False
    while i < len(segments):
        segs, body, granule, samples = [], bytearray(), -1, 0
        while i < len(segments) and len(segs) < 255:
            l, chunk, g, dur = segments[i]
            if dur is not None and segs and samples + dur > PAGE_MAX_SAMPLES:
                break  # this packet would make the page longer than 1 s: start a new page with it
            if dur is not None:
                samples += dur
            segs.append(l)
            body += chunk
            i += 1
            if g is not None:
                granule = g
                if len(body) >= page_bytes:
                    break
        last = i == len(segments)
        flags = (FLAG_CONTINUED if continued else 0) | (FLAG_EOS if last and eos else 0)
        pages.append(_page(flags, granule, serial, seq, segs, bytes(body)))
        seq += 1
        continued = segments[i - 1][2] is None
    return pages
