"""What the commands read: a stream file (libopus test-tool format, or Ogg Opus turned into it), standard input,
or one packet in hex; each problem a click error that says what is wrong. Shared by inspect, decode, synth and
``dredconf spec example``."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from dredconf.errors import StreamError


def parse_hex(text: str) -> bytes:
    """A packet given in hex: spaces, colons and a leading 0x allowed; a usage error says what is wrong."""
    digits = "".join(text.split()).replace(":", "")
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    if not digits:
        raise click.BadParameter("no hex digits: an empty packet", param_hint="--hex")
    bad = next((c for c in digits if c not in "0123456789abcdefABCDEF"), None)
    if bad is not None:
        raise click.BadParameter(f"{bad!r} is not a hex digit", param_hint="--hex")
    if len(digits) % 2:
        raise click.BadParameter(f"odd number of hex digits ({len(digits)})", param_hint="--hex")
    return bytes.fromhex(digits)


def read_input(file: str | None, hex_packet: str | None) -> tuple[bytes, bool]:
    """The bytes to read and whether they are one raw packet (``--hex``) rather than a stream file."""
    if hex_packet is not None:
        return parse_hex(hex_packet), True
    if file is None:
        raise click.UsageError("give a stream FILE or --hex PACKET")
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as e:
        raise click.FileError(file, hint=e.strerror) from None
    if not data:
        raise click.ClickException(f"{file}: empty (no packet records) [stream-empty]")
    from dredconf.spec.ogg import is_ogg, read_ogg_opus

    if is_ogg(data):  # an Ogg Opus file: its packets, numbered from 0 (byte offsets then refer to the packets)
        from dredconf.spec import write_stream

        try:
            data = write_stream(read_ogg_opus(data))
        except StreamError as e:
            raise click.ClickException(f"{file}: {e}") from None
    return data, False
