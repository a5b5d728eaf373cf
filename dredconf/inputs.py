"""What the commands read: a stream file (libopus test-tool format, or Ogg Opus turned into it), standard input,
or one packet in hex; each problem a click error that says what is wrong. Shared by inspect, decode, synth and
``dredconf spec example``; with the options and checks every command group shares (``--model``'s help, an output
path checked before the work, positive thresholds, ``BadInput``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dredconf.errors import StreamError

MODEL_HELP = "Model directory or opus_data-*.tar.gz (else $DREDCONF_MODEL, the user cache, ../shared/model/opus-1.6.1)."
POSITIVE = click.FloatRange(min=0, min_open=True)


class BadInput(click.ClickException):
    """An input or output the command cannot use (exit status 2, like a usage error): the message says why."""

    exit_code = 2


def writable_path(path: str | None, option: str) -> None:
    """A report path that can be written (``-`` is standard output), checked before the run, not after it."""
    if path is None or path == "-":
        return
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise click.BadParameter(f"{path}: is a directory", param_hint=option)
    if not parent.is_dir():
        raise click.BadParameter(f"{path}: the directory {parent} does not exist", param_hint=option)
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise click.BadParameter(f"{path}: not writable", param_hint=option)



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
