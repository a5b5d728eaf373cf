"""dredconf.spec: declarative schemas for Opus packets (RFC 6716 §3), padding extensions
(draft-ietf-mlcodec-opus-extension), the DRED envelope and the per-packet record, and the
container formats: libopus test-tool streams (``stream``), Ogg Opus (``ogg``) and libopus's
standalone feature-decoder records (``standalone``)."""
from .dred import DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID, DredLocation, find_dred
from .elements import (
    Extension, ExtensionElement, FrameSeparator, PaddingByte, PaddingRest, RawBytes, RepeatTheseExtensions, Truncated,
)
from .extensions import ExtensionList, PaddingBuilder, build_elements, parse_extensions
from .generator import build_extensions, plan_extensions
from .packet import OpusPacket, Span, build_packet, parse_packet
from .stream import StreamRecord, read_stream, write_stream

__all__ = [
    "DRED_EXPERIMENTAL_PREFIX", "DRED_EXTENSION_ID", "DredLocation", "find_dred",
    "Extension", "ExtensionElement", "FrameSeparator", "PaddingByte", "PaddingRest", "RawBytes",
    "RepeatTheseExtensions", "Truncated", "ExtensionList", "PaddingBuilder", "build_elements", "parse_extensions",
    "build_extensions", "plan_extensions",
    "OpusPacket", "Span", "build_packet", "parse_packet",
    "StreamRecord", "read_stream", "write_stream",
]
