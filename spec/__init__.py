"""dredconf.spec: declarative schemas for Opus stream records, packets (RFC 6716 §3), padding
extensions (draft-ietf-mlcodec-opus-extension) and the DRED envelope."""
from .dred import DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID, DredLocation, find_dred
from .extensions import (
    Extension,
    ExtensionElement,
    ExtensionList,
    FrameSeparator,
    PaddingByte,
    PaddingRest,
    RawBytes,
    RepeatTheseExtensions,
    build_elements,
    build_extensions,
    parse_extensions,
    plan_extensions,
)
from .packet import OpusPacket, Span, build_packet, parse_packet
from .stream import StreamRecord, read_stream, write_stream

__all__ = [
    "DRED_EXPERIMENTAL_PREFIX", "DRED_EXTENSION_ID", "DredLocation", "find_dred",
    "Extension", "ExtensionElement", "ExtensionList", "FrameSeparator", "PaddingByte", "PaddingRest",
    "RawBytes", "RepeatTheseExtensions", "build_elements", "build_extensions", "parse_extensions",
    "plan_extensions",
    "OpusPacket", "Span", "build_packet", "parse_packet",
    "StreamRecord", "read_stream", "write_stream",
]
