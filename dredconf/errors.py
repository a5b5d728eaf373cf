"""Errors the suite reports: each names the packet, the byte offset and the rule broken."""
from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DredconfError(Exception):
    """Base of every error the suite reports on purpose (never a crash).

    ``rule`` is a stable identifier (e.g. ``"rfc6716-r7"``) listed in the error
    catalogue; ``offset`` is a byte offset into the file or packet named by
    ``packet``; both may be None when they do not apply.
    """

    def __init__(self, message: str, *, rule: str, packet: int | None = None, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.packet = packet
        self.offset = offset

    def at(self, *, packet: int | None = None, offset_base: int = 0) -> "DredconfError":
        """The same error placed in a larger context (packet index, offset of the enclosing buffer)."""
        off = None if self.offset is None else self.offset + offset_base
        return type(self)(self.message, rule=self.rule, packet=self.packet if packet is None else packet, offset=off)

    def __str__(self) -> str:
        where = []
        if self.packet is not None:
            where.append(f"packet {self.packet}")
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        prefix = ", ".join(where)
        # One line, always: a message quoting bytes of a broken input (a model file's text) shows control
        # characters escaped, as repr does.
        message = _CONTROL.sub(lambda m: repr(m.group())[1:-1], self.message)
        return f"{prefix + ': ' if prefix else ''}{message} [{self.rule}]"


class StreamError(DredconfError):
    """The stream file's framing (libopus test-tool format) is broken."""


class PacketError(DredconfError):
    """An Opus packet breaks RFC 6716 §3 framing."""


class ExtensionError(DredconfError):
    """The padding's extension syntax is malformed (libopus: OPUS_INVALID_PACKET)."""


class PayloadError(DredconfError):
    """A DRED payload cannot be decoded (e.g. shorter than its envelope)."""


class ModelError(DredconfError):
    """A model directory or tarball is missing a file, or a file is corrupt."""


class LimitError(DredconfError):
    """An input needs more than one of the suite's resource limits allows (not a bitstream rule:
    libopus may accept it); what came before the limit is kept. docs/ERRORS.md lists the limits."""
